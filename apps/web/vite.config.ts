/// <reference types="node" />
// Vite builds the dashboard into dist/, served by the API under /app/ (apps/api/src/plugins/web.ts).
// Preact's JSX through esbuild's automatic runtime (no Babel plugin needed). `pnpm --filter
// @xeno/web dev` serves it with hot reload on WEB_DEV_PORT (5173), proxying /api and /admin to the
// API at WEB_DEV_API (http://127.0.0.1:3000), so the app still talks to the same origin.
import { defineConfig } from 'vite'

const api = process.env.WEB_DEV_API ?? 'http://127.0.0.1:3000'

export default defineConfig({
  base: '/app/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // ECharts is one lazily loaded chunk of about 560 kB (190 kB gzipped), loaded after the app.
    chunkSizeWarningLimit: 700,
    // One entry chunk and ECharts in its own file: the charts load in parallel with the app.
    rollupOptions: {
      output: {
        manualChunks: (id) =>
          id.includes('node_modules/echarts') || id.includes('node_modules/zrender')
            ? 'charts'
            : undefined,
      },
    },
  },
  server: {
    port: Number(process.env.WEB_DEV_PORT ?? 5173),
    strictPort: true,
    host: '127.0.0.1',
    proxy: { '/api': { target: api, changeOrigin: false }, '/admin/queues': { target: api } },
  },
})
