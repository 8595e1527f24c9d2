// `pnpm dev`: the whole first run on a machine with Postgres and Redis on loopback. Runs the
// migrations, then the fake Shopify (its seeded demo store xeno-demo.myshopify.com), the API and
// one worker as child processes, each with .env (--env-file); sets up an admin and the demo tenant
// through the API (real OAuth flow, real queue and worker for the backfill; scripts/demo.ts) and
// prints the URLs and credentials. The dashboard (apps/web) is built by Vite meanwhile and served
// by the API under /app/. Ctrl-C stops everything.
//
//   pnpm dev                 everything above
//   pnpm dev --no-demo       migrations, API and worker only (e.g. against a real Shopify app)
//
// Variables (besides the API's and worker's): FAKE_SHOPIFY_PORT (4010), DEV_ADMIN_USERNAME
// (admin), DEV_ADMIN_PASSWORD (xeno-dev-admin-password), DEV_DEMO_USERNAME (demo),
// DEV_DEMO_PASSWORD (xeno-demo-password). SHOPIFY_ADMIN_ORIGIN is pointed at the fake.
import { spawn, type ChildProcess } from 'node:child_process'
import pretty from 'pino-pretty'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { WORKER_NODE_FLAGS } from '../apps/worker/src/node-flags.ts'
import { setUpDemo } from './demo.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const entry = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url))
const envPath = `${root}.env`
const envFile = existsSync(envPath) ? [`--env-file=${envPath}`] : []
if (envFile.length) process.loadEnvFile(envPath)
else process.stderr.write('no .env found: using the environment as it is (see .env.example)\n')

const demo = !process.argv.includes('--no-demo')
const env = process.env
const port = Number(env.PORT ?? 3000)
const apiOrigin = `http://127.0.0.1:${port}`
const fakePort = Number(env.FAKE_SHOPIFY_PORT ?? 4010)
const fakeOrigin = `http://127.0.0.1:${fakePort}`
const shop = 'xeno-demo.myshopify.com'
const admin = {
  username: env.DEV_ADMIN_USERNAME ?? 'admin',
  password: env.DEV_ADMIN_PASSWORD ?? 'xeno-dev-admin-password',
  bootstrapToken: env.ADMIN_BOOTSTRAP_TOKEN || undefined,
}
const user = {
  username: env.DEV_DEMO_USERNAME ?? 'demo',
  password: env.DEV_DEMO_PASSWORD ?? 'xeno-demo-password',
}
// The children get .env through --env-file; these win over it (the environment takes precedence).
// The worker's cross-tenant role: on a development machine, when unset, `xeno_system` beside
// DATABASE_URL's role (the migrations create it).
const systemUrl = (() => {
  if (env.DATABASE_SYSTEM_URL || !env.DATABASE_URL) return env.DATABASE_SYSTEM_URL
  const u = new URL(env.DATABASE_URL)
  u.username = 'xeno_system'
  u.password = 'xeno_system'
  return u.toString()
})()
const childEnv: NodeJS.ProcessEnv = {
  ...env,
  ...(systemUrl ? { DATABASE_SYSTEM_URL: systemUrl } : {}),
  ...(demo
    ? {
        SHOPIFY_ADMIN_ORIGIN: fakeOrigin,
        FAKE_SHOPIFY_PORT: String(fakePort),
        FAKE_SHOPIFY_CLIENT_ID: env.SHOPIFY_CLIENT_ID,
        FAKE_SHOPIFY_CLIENT_SECRET: env.SHOPIFY_CLIENT_SECRET,
        // Local HTTP: session cookies without Secure, unless the environment says otherwise.
        COOKIE_SECURE: env.COOKIE_SECURE ?? 'false',
      }
    : {}),
}

const log = (line: string) => process.stdout.write(`[dev] ${line}\n`)
const children: ChildProcess[] = []
let stopping = false

// The processes log JSON lines (production's format, for log shippers); here a person reads
// them, so pino-pretty turns each line into a coloured one (lines that are not JSON pass as-is).
function prettyTo(fd: 1 | 2) {
  return pretty({
    colorize: fd === 1 ? process.stdout.isTTY : process.stderr.isTTY,
    destination: fd,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    messageFormat: '{service} {msg}',
  })
}

function run(name: string, file: string, args: string[] = [], flags: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...flags, ...envFile, entry(file), ...args], {
    env: childEnv,
    stdio: ['inherit', 'pipe', 'pipe'],
  })
  child.stdout?.pipe(prettyTo(1))
  child.stderr?.pipe(prettyTo(2))
  child.on('exit', (code, signal) => {
    if (stopping) return
    process.stderr.write(`[dev] ${name} exited (${signal ?? code})\n`)
    stop(code ?? 1)
  })
  children.push(child)
  return child
}

function stop(code: number) {
  if (stopping) return
  stopping = true
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM')
  process.exitCode = code
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => stop(0))

async function waitFor(url: string, ok: (status: number) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (ok((await fetch(url)).status)) return
    } catch {
      // not listening yet
    }
    if (stopping) throw new Error('stopped')
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${url}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

async function migrate() {
  const child = spawn(
    process.execPath,
    [...envFile, entry('packages/db/src/cli/main.ts'), 'migrate'],
    {
      env: childEnv,
      stdio: 'inherit',
    },
  )
  const code = await new Promise<number | null>((r) => child.on('exit', r))
  if (code !== 0) throw new Error(`migrations failed (exit ${code})`)
}

/** Newest modification time under a path (files and folders, recursively). */
function newest(p: string): number {
  const st = statSync(p)
  if (!st.isDirectory()) return st.mtimeMs
  return readdirSync(p).reduce((m, f) => Math.max(m, newest(`${p}/${f}`)), st.mtimeMs)
}

/** apps/web/dist is newer than every source of the dashboard (no build needed). */
function webBuildIsFresh(): boolean {
  const index = entry('apps/web/dist/index.html')
  if (!existsSync(index)) return false
  const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((f) =>
    newest(entry(`apps/web/${f}`)),
  )
  return statSync(index).mtimeMs > Math.max(...sources)
}

// The dashboard's production build (apps/web/dist, served by the API under /app/), made while the
// rest starts, unless it is up to date. A failed build leaves the API up (its /app/ answers 503
// saying so).
function buildWeb(): Promise<boolean> {
  if (webBuildIsFresh()) {
    log('dashboard build is up to date (apps/web/dist)')
    return Promise.resolve(true)
  }
  log('dashboard build (apps/web → apps/web/dist, served at /app/)')
  const vite = entry('apps/web/node_modules/vite/bin/vite.js')
  const child = spawn(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
    cwd: entry('apps/web'),
    // A production bundle whatever NODE_ENV the shell has (libraries drop their debug code).
    env: { ...childEnv, NODE_ENV: 'production' },
    stdio: 'inherit',
  })
  children.push(child)
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0 && !stopping) log(`dashboard build failed (exit ${code})`)
      resolve(code === 0)
    }),
  )
}

async function main() {
  const web = buildWeb()
  log('migrations')
  await migrate()
  if (demo) {
    log(`fake Shopify on ${fakeOrigin} (demo store ${shop})`)
    run('fake-shopify', 'packages/shopify-fake/src/main.ts')
    await waitFor(`${fakeOrigin}/`, (s) => s === 200)
  }
  log(`API on ${apiOrigin}`)
  run('api', 'apps/api/src/main.ts')
  await waitFor(`${apiOrigin}/api/health`, (s) => s === 200)
  log('worker (all queues)')
  run('worker', 'apps/worker/src/main.ts', [], [...WORKER_NODE_FLAGS])
  const webBuilt = await web
  if (!demo) {
    if (webBuilt) log(`dashboard on ${apiOrigin}/app/`)
    return
  }

  const result = await setUpDemo({
    api: apiOrigin,
    fake: fakeOrigin,
    shop,
    admin,
    user,
    log,
  })
  const today = new Date().toISOString().slice(0, 10)
  const monthsAgo = new Date(Date.now() - 180 * 86_400_000).toISOString().slice(0, 10)
  const t = `${apiOrigin}/api/tenants/${result.tenantId}`
  process.stdout.write(`
Xeno is running with a demo store.

  Dashboard        ${apiOrigin}/app/${webBuilt ? '' : '   (build failed: pnpm build:web)'}
                   merchant: shop ${shop}, ${user.username} / ${user.password}
                   admin console: ${apiOrigin}/app/admin, ${admin.username} / ${admin.password}
  API              ${apiOrigin}
  API docs         ${apiOrigin}/docs          (OpenAPI: ${apiOrigin}/docs/json)
  Bull Board       ${apiOrigin}/admin/queues  (log in first: /docs → POST /api/admin/login → Try it out)
  Metrics          ${apiOrigin}/metrics
  Fake Shopify     ${fakeOrigin}              (store ${shop})

  Admin            ${admin.username} / ${admin.password}
  Demo tenant      ${result.tenantId} (${shop})
  Demo owner       ${user.username} / ${user.password}   (HTTP Basic on ${t}/…)

  Dashboard endpoints (tenant ${result.tenantId}):
    ${t}/analytics            summary with the previous period
    ${t}/metrics/revenue      revenue chart: gross, refunds, net, orders, AOV per bucket
    ${t}/metrics/orders       ${t}/metrics/customers    ${t}/metrics/products
    ${t}/sync-status          ingestion state per resource

  A revenue chart:
    curl -u ${user.username}:${user.password} '${t}/metrics/revenue?from=${monthsAgo}&to=${today}&granularity=month'

  Log in for Bull Board in a browser session or with curl:
    curl -c jar -H 'content-type: application/json' -d '{"username":"${admin.username}","password":"${admin.password}"}' ${apiOrigin}/api/admin/login
    curl -b jar ${apiOrigin}/admin/queues/api/queues

Ctrl-C stops everything.
`)
  log(`ready ${JSON.stringify({ tenantId: result.tenantId, api: apiOrigin, fake: fakeOrigin })}`)
}

main().catch((err: Error) => {
  process.stderr.write(`[dev] ${err.message}\n`)
  stop(1)
})
