// The dashboard (apps/web, built by Vite into apps/web/dist) under /app/: hashed assets with a
// year of caching, and index.html for /app and every other /app/… path, so the app's own router
// takes a shared link to the page it names. The app talks only to the public HTTP API; these
// routes are public (the page holds no data) and listed in the OpenAPI document under `web`.
import { z } from 'zod'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyReply } from 'fastify'
import fastifyStatic from '@fastify/static'

export const WEB_PREFIX = '/app'

export type WebDeps = {
  /** The built app (apps/web/dist): index.html and assets/. */
  root: string
}

/**
 * What the page may load: only this origin, no inline script, no eval, no other host. The app
 * needs nothing more (system fonts, canvas charts, same-origin fetches); a stricter header set
 * by a security plugin for every route is kept.
 */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const NOT_BUILT = {
  error: {
    code: 'WEB_NOT_BUILT',
    message: 'the dashboard is not built: run `pnpm --filter @xeno/web build` (pnpm dev does)',
  },
}

export async function registerWeb(app: FastifyInstance, deps: WebDeps) {
  const index = join(deps.root, 'index.html')
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, auth: 'public' }
      // The document lists the page once; its client-side paths and hashed assets (wildcards,
      // which OpenAPI cannot name) stay out of it, as Bull Board's internals do.
      route.schema =
        route.url === WEB_PREFIX
          ? {
              ...route.schema,
              tags: ['web'],
              summary:
                'The dashboard web app (the same page serves every /app/… path; it routes itself)',
              response: {
                200: {
                  description: 'The dashboard page',
                  content: { 'text/html': { schema: z.string() } },
                },
                503: {
                  description: 'The dashboard is not built (`pnpm build:web`)',
                  content: { 'text/plain': { schema: z.string() } },
                },
              },
            }
          : { ...route.schema, hide: true }
    })
    // serve: false: only reply.sendFile, in this scope; the routes below decide what is served.
    await scope.register(fastifyStatic, { root: deps.root, serve: false })

    const page = async (_request: unknown, reply: FastifyReply) => {
      if (!existsSync(index)) return reply.code(503).header('retry-after', '60').send(NOT_BUILT)
      // The dashboard needs none of the inline-style hashes Swagger UI and Bull Board need: its
      // page gets the strictest policy, in place of the app-wide one.
      void reply.header('content-security-policy', WEB_CSP)
      return reply
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'same-origin')
        .sendFile('index.html', { cacheControl: false })
    }
    scope.get(WEB_PREFIX, page)
    scope.get(`${WEB_PREFIX}/*`, page)
    scope.get(`${WEB_PREFIX}/assets/*`, async (request, reply) => {
      const file = (request.params as { '*': string })['*']
      return reply
        .header('x-content-type-options', 'nosniff')
        .sendFile(join('assets', file), { immutable: true, maxAge: '365d' })
    })
  })
}
