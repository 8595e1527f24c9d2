// What the images hold, proven without Docker: the Dockerfiles' own install step
// (scripts/image-install.ts) into temporary folders, then the migrator, the API and a worker
// started from there against the test Postgres and Redis. A package missing from an image (an
// undeclared dependency, a source left out, a .ts under node_modules) fails here.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createEmptyDatabase } from '../packages/db/src/testing.ts'
import { createProducer, createRedis, queuePrefix } from '../packages/queues/src/index.ts'
import { dropQueueKeys, testRedisUrl } from '../packages/queues/src/testing.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const script = path.join(root, 'scripts', 'image-install.ts')

function start(cwd: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => out, exited }
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net')
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const a = srv.address()
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0))
    })
  })
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 150))
  }
}

t.test('the image install runs the migrator, the API and a worker from its folder', async (t) => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'xeno-image-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  for (const app of ['api', 'worker']) {
    const r = spawnSync(process.execPath, [script, path.join(tmp, app), `@xeno/${app}`], {
      cwd: root,
      encoding: 'utf8',
    })
    if (!t.equal(r.status, 0, `install of @xeno/${app} succeeds`)) t.comment(r.stdout + r.stderr)
  }
  const api = path.join(tmp, 'api')
  const worker = path.join(tmp, 'worker')

  // Only what runs: no tests, no test helpers, no dev-only packages' sources.
  t.notOk(existsSync(path.join(api, 'packages/shopify-fake/src')), 'the fake Shopify is left out')
  t.notOk(existsSync(path.join(api, 'packages/db/src/testing.ts')), 'test helpers left out')
  t.notOk(existsSync(path.join(worker, 'apps/api/src')), 'the worker image holds no API')
  const tests = spawnSync(
    'find',
    [tmp, '-name', '*.test.ts', '-not', '-path', '*/node_modules/*'],
    {
      encoding: 'utf8',
    },
  )
  t.equal(tests.stdout.trim(), '', 'no test files outside node_modules')
  t.notOk(
    readdirSync(path.join(api, 'node_modules/.pnpm')).some((d) => d.startsWith('tap@')),
    'dev dependencies are not installed',
  )

  const tdb = await createEmptyDatabase()
  t.teardown(tdb.close)
  const prefixName = `xeno-image-${randomBytes(4).toString('hex')}`
  const redis = createRedis(testRedisUrl(), 'producer', () => {}, { enableOfflineQueue: true })
  t.teardown(async () => {
    await dropQueueKeys(redis, queuePrefix(prefixName))
    redis.disconnect()
  })
  const port = await freePort()
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: tdb.appUrl,
    DATABASE_SYSTEM_URL: tdb.systemUrl,
    REDIS_URL: testRedisUrl(),
    QUEUE_PREFIX: prefixName,
    API_PEPPER: randomBytes(32).toString('hex'),
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    SHOPIFY_CLIENT_ID: 'image-client',
    SHOPIFY_CLIENT_SECRET: 'image-secret',
    HOST: '127.0.0.1',
    PORT: String(port),
  }

  // Started before any migration: both wait for the schema instead of failing on it.
  const heartbeat = path.join(tmp, 'worker.heartbeat')
  const w = start(worker, ['--max-semi-space-size=4', 'apps/worker/src/main.ts'], {
    ...env,
    WORKER_HEARTBEAT_FILE: heartbeat,
  })
  t.teardown(() => w.child.kill('SIGKILL'))
  const a = start(api, ['apps/api/src/main.ts'], env)
  t.teardown(() => a.child.kill('SIGKILL'))
  const ready = `http://127.0.0.1:${port}/api/health/ready`
  const pending = await until('the API answers', async () => {
    const res = await fetch(ready)
    return { status: res.status, body: (await res.json()) as { data: { checks: object } } }
  })
  t.equal(pending.status, 503, 'not ready before the migrations')
  t.match(pending.body.data.checks, { schema: 'pending' })
  t.equal((await fetch(`http://127.0.0.1:${port}/api/health/live`)).status, 200, 'but alive')
  await until('the worker waits for the schema', async () =>
    /schema not migrated yet/.test(w.output()) ? true : undefined,
  )

  // The compose `migrate` service: the migrator from the API image, as the owner.
  const m = spawnSync(process.execPath, ['packages/db/src/cli/main.ts', 'migrate'], {
    cwd: api,
    env: { ...env, DATABASE_OWNER_URL: tdb.ownerUrl },
    encoding: 'utf8',
  })
  if (!t.equal(m.status, 0, 'migrations run from the image')) t.comment(m.stdout + m.stderr)

  const res = await until('ready', async () => {
    const r = await fetch(ready)
    return r.status === 200 ? r : undefined
  })
  t.same(await res.json(), {
    data: { status: 'ok', checks: { database: 'up', redis: 'up', schema: 'current' } },
  })

  const producer = createProducer({ connection: redis, prefix: queuePrefix(prefixName) })
  t.teardown(() => producer.close())
  const id = await producer.enqueue(
    'sweep-webhook-receipts',
    { olderThanMs: 30_000 },
    { jobId: 'image-probe' },
  )
  const state = await until(
    'the job is done',
    async () => {
      const s = await producer.queue('maintenance').getJobState(id)
      return s === 'completed' || s === 'failed' ? s : undefined
    },
    60_000,
  )
  if (!t.equal(state, 'completed', 'the worker from the image ran a job')) t.comment(w.output())
  t.notMatch(w.output(), /does not exist/, 'the worker never touched a missing relation')
  t.notMatch(w.output() + a.output(), /ERR_|Cannot find/, 'no module failed to load')

  // The worker image's HEALTHCHECK command, from the worker folder.
  const check = (file: string) =>
    spawnSync(process.execPath, ['apps/worker/src/healthcheck.ts'], {
      cwd: worker,
      env: { WORKER_HEARTBEAT_FILE: file },
    }).status
  t.equal(check(heartbeat), 0, 'the worker HEALTHCHECK passes while it runs')
  t.equal(check(path.join(tmp, 'none')), 1, 'and fails without a heartbeat')

  a.child.kill('SIGTERM')
  w.child.kill('SIGTERM')
  t.equal(await a.exited, 0, 'the API stops cleanly')
  t.equal(await w.exited, 0, 'the worker stops cleanly')
})
