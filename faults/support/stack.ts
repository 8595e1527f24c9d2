// One fault run's world: a private Postgres and Redis, the fake Shopify (behind an HTTP recorder),
// our TCP proxies in front of each, and real API and worker processes (apps/*/src/main.ts spawned
// with Node, as in production). Tenants are installed through the real OAuth flow. finish() heals
// every fault, flushes webhook retries, drains the queues, reconciles once and runs the checker.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { createProducer, createRedis } from '../../packages/queues/src/index.ts'
import { createFakeShopify, type FakeShopify } from '../../packages/shopify-fake/src/index.ts'
import { dbSnapshot, diffSnapshots, truthSnapshot } from '../../packages/core/test/support/truth.ts'
import { setUpDemo } from '../../scripts/demo.ts'
import { checkHistory } from './checker.ts'
import {
  freePort,
  registerExitCleanup,
  sleep,
  startPostgres,
  startRedis,
  waitFor,
  type PrivatePostgres,
  type PrivateRedis,
} from './cluster.ts'
import { createHistory } from './history.ts'
import { startHttpRecorder, startTcpProxy, type HttpRecorder } from './proxy.ts'

const API_MAIN = fileURLToPath(new URL('../../apps/api/src/main.ts', import.meta.url))
const WORKER_MAIN = fileURLToPath(new URL('../../apps/worker/src/main.ts', import.meta.url))
const CLIENT_ID = 'fault-client-id'
const CLIENT_SECRET = 'fault-client-secret'
/** BullMQ defaults the worker uses: lock 30 s, stalled check every 30 s. */
export const LOCK_PLUS_STALL_MS = 60_000
const ADMIN = { username: 'faultadmin', password: 'fault-admin-password-1' }

/** A small seeded PRNG (mulberry32), so a run is reproducible from FAULT_SEED. */
export function createRng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  }
}

export type Proc = {
  label: string
  port: number
  role: 'api' | 'worker'
  child: ChildProcess | undefined
  alive(): boolean
  start(): Promise<void>
  /** Sends a signal and records it in the history. */
  signal(sig: NodeJS.Signals): void
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>
  /** SIGTERM and wait for the exit; returns the exit code. */
  terminate(): Promise<number | null>
  exited(): Promise<number | null>
  rss(): number
  output(): string
}

export type Tenant = {
  shop: string
  id: string
  basic: Record<string, string>
  apiKey: string
}

export type StackOptions = {
  name: string
  shops?: number
  size?: { orders: number; customers: number; products: number }
  workers?: number
  apis?: number
  concurrency?: number
  bulkMinDurationMs?: number
  /** Extra environment for the API and worker processes. */
  env?: Record<string, string>
}

export type Stack = Awaited<ReturnType<typeof createStack>>

/** Builds the stack, installs the tenants (OAuth) and waits for their backfill. */
export async function createStack(t: Test, o: StackOptions) {
  const seed = process.env.FAULT_SEED
    ? Number(process.env.FAULT_SEED)
    : randomBytes(4).readUInt32BE()
  const rng = createRng(seed)
  const log = (line: string) => t.comment(line)
  log(`FAULT_SEED=${seed} (set it to reproduce this run)`)
  const history = createHistory(o.name, log)
  history.record({ type: 'seed', seed, test: o.name })

  const cleanups: (() => Promise<unknown>)[] = []
  t.teardown(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {})
  })

  const pg: PrivatePostgres = await startPostgres()
  cleanups.push(() => pg.stop())
  const redis: PrivateRedis = await startRedis()
  cleanups.push(() => redis.stop())
  const fake: FakeShopify = await createFakeShopify({
    apps: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
    seed,
    bulkMinDurationMs: o.bulkMinDurationMs ?? 1_500,
  })
  cleanups.push(() => fake.close())
  const recorder: HttpRecorder = await startHttpRecorder(fake.origin)
  cleanups.push(() => recorder.close())
  const recorderPort = Number(new URL(recorder.origin).port)

  const proxies = {
    pg: await startTcpProxy([pg.port]),
    redis: await startTcpProxy([redis.port]),
    shopify: await startTcpProxy([recorderPort]),
    api: await startTcpProxy([]),
  }
  for (const p of Object.values(proxies)) cleanups.push(() => p.close())

  const prefix = `xeno-fault-${randomBytes(3).toString('hex')}`
  const bootstrapToken = randomBytes(24).toString('hex')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: pg.appUrl.replace(`:${pg.port}/`, `:${proxies.pg.port}/`),
    DATABASE_SYSTEM_URL: pg.systemUrl.replace(`:${pg.port}/`, `:${proxies.pg.port}/`),
    TENANT_CONTEXT_KEY: pg.tenantContextKey,
    // Production refuses to start with no admin and no bootstrap token (whoever came first
    // would become admin); the suite creates no admin.
    ADMIN_BOOTSTRAP_TOKEN: bootstrapToken,
    DATABASE_POOL_MAX: '6',
    REDIS_URL: `redis://${proxies.redis.address}`,
    QUEUE_PREFIX: prefix,
    API_PEPPER: randomBytes(32).toString('hex'),
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    SHOPIFY_CLIENT_ID: CLIENT_ID,
    SHOPIFY_CLIENT_SECRET: CLIENT_SECRET,
    SHOPIFY_ADMIN_ORIGIN: `http://${proxies.shopify.address}`,
    APP_URL: `http://${proxies.api.address}`,
    // Production refuses cookies without Secure; the suite's clients keep no cookie jar (they
    // send the admin cookie by hand), so Secure over the loopback HTTP changes nothing for them.
    COOKIE_SECURE: 'true',
    HOST: '127.0.0.1',
    SYNC_INTERVAL_MINUTES: '60',
    SHUTDOWN_GRACE_MS: '20000',
    ...o.env,
  }

  const procs: Proc[] = []
  const expected = new WeakSet<ChildProcess>()
  const makeProc = async (role: 'api' | 'worker', label: string): Promise<Proc> => {
    const port = await freePort()
    let child: ChildProcess | undefined
    let out = ''
    let exit: Promise<number | null> = Promise.resolve(null)
    const unhook = registerExitCleanup(() => child?.kill('SIGKILL'))
    cleanups.push(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        expected.add(child)
        child.kill('SIGCONT')
        child.kill('SIGKILL')
        await exit
      }
      unhook()
    })
    const p: Proc = {
      label,
      port,
      role,
      get child() {
        return child
      },
      alive: () => !!child && child.exitCode === null && child.signalCode === null,
      async start() {
        const args =
          role === 'api' ? [API_MAIN] : [WORKER_MAIN, '--concurrency', String(o.concurrency ?? 4)]
        child = spawn(process.execPath, args, {
          env: {
            ...env,
            PORT: String(port),
            ...(role === 'worker' ? { WORKER_METRICS_PORT: String(port) } : {}),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        const c = child
        const keep = (d: Buffer) => {
          out = (out + d.toString()).slice(-200_000)
        }
        c.stdout?.on('data', keep)
        c.stderr?.on('data', keep)
        exit = new Promise((r) =>
          c.once('exit', (code, sig) => {
            // An exit nobody asked for is a finding: keep what the process said.
            if (!expected.has(c)) {
              history.record({ type: 'crash', process: label, code, signal: sig })
              log(`${label} died unexpectedly (${sig ?? code}):\n${out.slice(-4000)}`)
            }
            r(code)
          }),
        )
        history.record({ type: 'note', text: `${label} started (pid ${c.pid})` })
        const url =
          role === 'api'
            ? `http://127.0.0.1:${port}/api/health`
            : `http://127.0.0.1:${port}/metrics`
        await waitFor(
          `${label} ready`,
          async () => {
            if (c.exitCode !== null) throw new Error(`${label} exited: ${out.slice(-2000)}`)
            return (await fetch(url)).status === 200
          },
          120_000,
          250,
        )
        if (role === 'api') proxies.api.setUpstreams(apiPorts())
      },
      signal(sig) {
        history.record({ type: 'note', text: `${label} ${sig}` })
        if (child && (sig === 'SIGKILL' || sig === 'SIGTERM')) expected.add(child)
        child?.kill(sig)
      },
      async kill() {
        if (!p.alive()) return
        p.signal('SIGKILL')
        await exit
      },
      async terminate() {
        if (!p.alive()) return exit
        p.signal('SIGTERM')
        const code = await exit
        if (code !== 0) log(`${label} exited ${code} after SIGTERM:\n${out.slice(-3000)}`)
        return code
      },
      exited: () => exit,
      rss() {
        if (!p.alive() || !child?.pid) return 0
        try {
          const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
          return m ? Number(m[1]) * 1024 : 0
        } catch {
          return 0
        }
      },
      output: () => out,
    }
    return p
  }
  const apiPorts = () => procs.filter((p) => p.role === 'api').map((p) => p.port)

  for (let i = 0; i < (o.apis ?? 1); i++) procs.push(await makeProc('api', `api-${i + 1}`))
  for (let i = 0; i < (o.workers ?? 1); i++) procs.push(await makeProc('worker', `worker-${i + 1}`))
  await Promise.all(procs.map((p) => p.start()))
  const apis = procs.filter((p) => p.role === 'api')
  const workers = procs.filter((p) => p.role === 'worker')
  const apiOrigin = `http://${proxies.api.address}`

  // Queue observation straight to Redis (not through the proxy).
  const obsRedis = createRedis(redis.url, 'producer', () => {}, { enableOfflineQueue: true })
  const queues = createProducer({ connection: obsRedis, prefix: `{${prefix}}` })
  cleanups.push(async () => {
    await queues.close()
    obsRedis.disconnect()
  })

  // Tenants, installed through the API with the real OAuth flow (scripts/demo.ts, as `pnpm dev`).
  const size = o.size ?? { orders: 200, customers: 40, products: 15 }
  const tenants: Tenant[] = []
  let adminCookie = ''
  for (let i = 0; i < (o.shops ?? 2); i++) {
    const shop = `fault${i}-${randomBytes(3).toString('hex')}.myshopify.com`
    fake.createShop({ domain: shop, seed: seed + i, ...size })
    const user = { username: `owner${i}`, password: `fault-owner-password-${i}` }
    const r = await setUpDemo({
      api: apiOrigin,
      fake: fake.origin,
      shop,
      admin: { ...ADMIN, bootstrapToken },
      user,
      backfillTimeoutMs: 240_000,
      log: (line) => log(`[${shop}] ${line}`),
    })
    adminCookie = r.adminCookie
    const keyRes = await fetch(`${apiOrigin}/api/tenants/${r.tenantId}/api-keys`, {
      method: 'POST',
      headers: { cookie: adminCookie, 'content-type': 'application/json', origin: apiOrigin },
      body: JSON.stringify({ label: 'fault probe' }),
    })
    if (keyRes.status !== 201) throw new Error(`api key: ${keyRes.status} ${await keyRes.text()}`)
    const key = ((await keyRes.json()) as { data: { key: string } }).data.key
    tenants.push({
      shop,
      id: r.tenantId,
      basic: {
        authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`,
      },
      apiKey: key,
    })
  }

  // Ids that exist in each fake shop, for random changes.
  const pools = new Map<string, { orders: number[]; customers: number[]; products: number[] }>()
  for (const tn of tenants) {
    const text = await (await fetch(`${fake.origin}/_fake/shops/${tn.shop}/truth`)).text()
    const p = { orders: [] as number[], customers: [] as number[], products: [] as number[] }
    for (const line of text.split('\n')) {
      if (!line) continue
      const row = JSON.parse(line) as { kind: string; row: { id: number } }
      if (row.kind === 'order') p.orders.push(row.row.id)
      else if (row.kind === 'customer') p.customers.push(row.row.id)
      else if (row.kind === 'product') p.products.push(row.row.id)
    }
    pools.set(tn.shop, p)
  }

  const stack = {
    seed,
    rng,
    log,
    history,
    pg,
    redis,
    fake,
    recorder,
    proxies,
    env,
    apis,
    workers,
    procs,
    tenants,
    apiOrigin,
    adminCookie: () => adminCookie,
    queues,
    prefix,

    /** Records a fault being injected (or healed). */
    fault(name: string, phase: 'inject' | 'heal', detail?: unknown) {
      history.record({ type: 'fault', name, phase, detail })
      log(`fault ${phase}: ${name}${detail === undefined ? '' : ` ${JSON.stringify(detail)}`}`)
    },

    /** `n` random changes in the fake store of `shop` (each sends its webhooks). */
    change(shop: string, n: number) {
      const store = fake.shop(shop)
      const pool = pools.get(shop)!
      for (let k = 0; k < n; k++) {
        const r = rng.next()
        let op = ''
        let id: number | undefined
        try {
          if (r < 0.3) {
            op = 'createOrder'
            const c = rng.next() < 0.8 ? rng.pick(pool.customers) : null
            const created = store.createOrder({
              customerId: c ?? null,
              lineItems: [{ productId: rng.pick(pool.products), quantity: 1 + rng.int(3) }],
            })
            id = created.id
            pool.orders.push(id)
          } else if (r < 0.55) {
            op = 'updateOrder'
            id = rng.pick(pool.orders)
            store.updateOrder(id, { tags: [`t${rng.int(1000)}`] })
          } else if (r < 0.65) {
            op = 'refundOrder'
            id = rng.pick(pool.orders)
            store.refundOrder(id, {})
          } else if (r < 0.7) {
            op = 'cancelOrder'
            id = rng.pick(pool.orders)
            store.cancelOrder(id, { reason: 'CUSTOMER', refund: rng.next() < 0.5 })
          } else if (r < 0.8) {
            op = 'updateCustomer'
            id = rng.pick(pool.customers)
            store.updateCustomer(id, { lastName: `L${rng.int(1000)}` })
          } else if (r < 0.88) {
            op = 'createCustomer'
            const c = store.createCustomer({ firstName: `F${rng.int(1000)}` })
            id = c.id
            pool.customers.push(id)
          } else if (r < 0.95) {
            op = 'updateProduct'
            id = rng.pick(pool.products)
            store.updateProduct(id, { title: `P${rng.int(1000)}` })
          } else {
            op = 'deleteOrder'
            id = rng.pick(pool.orders)
            store.deleteOrder(id)
            pool.orders.splice(pool.orders.indexOf(id), 1)
          }
          history.record({ type: 'store', shop, op, id })
        } catch {
          // Refunding a fully refunded or cancelling a cancelled order: the fake refuses; skip.
        }
      }
    },

    /** Updates `n` existing orders of `shop` (tags), each sending orders/updated. */
    touchOrders(shop: string, n: number) {
      const store = fake.shop(shop)
      const pool = pools.get(shop)!
      for (let k = 0; k < n; k++) {
        const id = rng.pick(pool.orders)
        store.updateOrder(id, { tags: [`touch${rng.int(10_000)}`] })
        history.record({ type: 'store', shop, op: 'updateOrder', id })
      }
    },

    /** Reads each tenant's own data and another tenant's with its credentials (isolation). */
    async probeTenants() {
      for (const a of tenants) {
        const me = await call(`${apiOrigin}/api/tenant/me`, { 'x-api-key': a.apiKey })
        history.record({
          type: 'response',
          asTenant: a.id,
          route: '/api/tenant/me',
          status: me.status,
          tenantInBody:
            (me.json as { data?: { tenant?: { id?: string } } })?.data?.tenant?.id ?? null,
        })
        for (const b of tenants) {
          const r = await call(`${apiOrigin}/api/tenants/${b.id}`, { 'x-api-key': a.apiKey })
          history.record({
            type: 'response',
            asTenant: a.id,
            route: `/api/tenants/${b.id === a.id ? 'own' : 'other'}`,
            status: r.status,
            tenantInBody: (r.json as { data?: { id?: string } })?.data?.id ?? null,
          })
        }
      }
    },

    /** POST /ingest for a tenant; returns the time it was asked. */
    async ingest(tn: Tenant, body: Record<string, unknown>) {
      const at = Date.now()
      const r = await call(`${apiOrigin}/api/tenants/${tn.id}/ingest`, tn.basic, 'POST', body)
      if (r.status !== 202)
        throw new Error(`ingest ${tn.shop}: ${r.status} ${JSON.stringify(r.json)}`)
      return at
    },

    /** Waits until each resource of the tenant last succeeded after `since` and is idle. */
    async waitSynced(
      tn: Tenant,
      since: number,
      resources = ['shop', 'customers', 'products', 'orders'],
      timeoutMs = 240_000,
    ) {
      await waitFor(
        `${tn.shop} synced (${resources.join(',')})`,
        async () => {
          const r = await call(`${apiOrigin}/api/tenants/${tn.id}/sync-status`, tn.basic)
          if (r.status !== 200) return false
          const rows = (
            r.json as {
              data: { resource: string; state: string; last_success_at: string | null }[]
            }
          ).data
          return resources.every((res) => {
            const x = rows.find((y) => y.resource === res)
            return (
              x &&
              x.state === 'idle' &&
              x.last_success_at &&
              Date.parse(x.last_success_at) >= since - 1000
            )
          })
        },
        timeoutMs,
        500,
      )
    },

    /** Job counts per queue, and the age of the oldest active job. */
    async sampleQueues(record = true) {
      const out: Record<
        string,
        { waiting: number; active: number; delayed: number; failed: number; oldestActiveMs: number }
      > = {}
      for (const name of ['sync', 'webhooks', 'maintenance'] as const) {
        const q = queues.queue(name)
        const c = await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized')
        const active = await q.getActive()
        const now = Date.now()
        const oldestActiveMs = Math.max(
          0,
          ...active.map((j) => (j.processedOn ? now - j.processedOn : 0)),
        )
        out[name] = {
          waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
          active: c.active ?? 0,
          delayed: c.delayed ?? 0,
          failed: c.failed ?? 0,
          oldestActiveMs,
        }
        if (record) history.record({ type: 'queue', queue: name, ...out[name] })
      }
      return out
    },

    /** Waits until no queue has waiting or active jobs (scheduled, delayed ones may remain). */
    async waitQueuesIdle(timeoutMs = 180_000) {
      await waitFor(
        'queues idle',
        async () => {
          const s = await stack.sampleQueues(false)
          return Object.values(s).every((x) => x.waiting === 0 && x.active === 0)
        },
        timeoutMs,
        500,
      )
    },

    /** Receipts still waiting to be applied. */
    async inboxPending() {
      const [r] = await pg.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM webhook_receipts WHERE status = 'received'`,
      )
      return r!.n
    },

    async resources(label: 'baseline' | 'final') {
      const rss: Record<string, number> = {}
      for (const p of procs) if (p.alive()) rss[p.label] = p.rss()
      const rows = await pg.query<{ app: string; n: number }>(
        `SELECT application_name AS app, count(*)::int AS n FROM pg_stat_activity
          WHERE datname = 'xeno' AND application_name LIKE 'xeno-%' GROUP BY 1`,
      )
      const pgConnections = Object.fromEntries(rows.map((r) => [r.app, r.n]))
      const redisClients = await redis.clientCount()
      const sample = { rss, pgConnections, redisClients }
      history.record({ type: 'resources', label, ...sample })
      return sample
    },

    /**
     * Delivers every webhook the fake still owes: waits for attempts in flight, then moves the
     * fake clock past the next retry while any delivery is pending (at most `maxSteps` minutes,
     * well inside the fake tokens' hour).
     */
    async flushWebhooks(maxSteps = 8) {
      for (let step = 0; ; step++) {
        await fake.webhooks.idle()
        await sleep(200)
        await fake.webhooks.idle()
        const pending = fake.webhooks.records().filter((r) => r.state === 'pending')
        if (pending.length === 0) return
        if (step >= maxSteps) throw new Error(`${pending.length} webhooks still pending`)
        // Pending with an attempt in a timer (retry or delay): move fake time on by a minute.
        fake.clock.advance(61_000)
      }
    },

    /** Heals, flushes, drains, reconciles once, then checks every invariant of the history. */
    async finish(t: Test) {
      for (const p of Object.values(proxies)) p.setMode({ kind: 'pass' })
      for (const tn of tenants) {
        fake.setFaults(tn.shop, [])
        fake.setWebhookKnobs(tn.shop, {})
      }
      for (const p of procs) if (p.alive()) p.signal('SIGCONT')
      if (!apis.some((p) => p.alive())) await apis[0]!.start()
      if (!workers.some((p) => p.alive())) await workers[0]!.start()
      await waitFor(
        'API healthy',
        async () => (await fetch(`${apiOrigin}/api/health`)).status === 200,
        120_000,
      )
      await stack.flushWebhooks()
      // The inbox: every stored receipt applied (the sweeper re-enqueues after 30 s if needed).
      await waitFor(
        'webhook inbox drained',
        async () => (await stack.inboxPending()) === 0,
        180_000,
        500,
      )
      await stack.waitQueuesIdle()
      // One reconciliation per tenant still installed.
      const installed: Tenant[] = []
      for (const tn of tenants) {
        const [row] = await pg.query<{ status: string }>(
          `SELECT status FROM tenants WHERE id = $1`,
          [tn.id],
        )
        if (row?.status === 'active') installed.push(tn)
      }
      const since = new Map<string, number>()
      for (const tn of installed) since.set(tn.id, await stack.ingest(tn, { mode: 'full' }))
      for (const tn of installed) await stack.waitSynced(tn, since.get(tn.id)!)
      await stack.flushWebhooks()
      await waitFor(
        'webhook inbox drained',
        async () => (await stack.inboxPending()) === 0,
        120_000,
        500,
      )
      await stack.waitQueuesIdle()
      await stack.probeTenants()
      for (let i = 0; i < 3; i++) {
        await stack.sampleQueues()
        await sleep(300)
      }
      // Pools release idle connections after their idle timeout: give them that long.
      await waitFor(
        'pools back near baseline',
        async () => {
          const rows = await pg.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'xeno' AND application_name LIKE 'xeno-%'`,
          )
          return rows[0]!.n <= baselineConnections + 4
        },
        30_000,
        1000,
      ).catch(() => undefined)
      await stack.resources('final')

      // Webhooks the fake sent, each attempt with the status Xeno answered.
      const shops = new Set(tenants.map((x) => x.shop))
      for (const r of fake.webhooks.records()) {
        if (!shops.has(r.shop)) continue
        if (r.state === 'dropped')
          history.record({
            type: 'webhook-dropped',
            shop: r.shop,
            topic: r.topic,
            webhookId: r.webhookId,
          })
        for (const a of r.attempts)
          history.record({
            type: 'webhook',
            at: a.at,
            shop: r.shop,
            topic: r.topic,
            webhookId: r.webhookId,
            status: a.status,
            ...(a.error ? { error: a.error } : {}),
            via: 'fake',
          })
      }

      const tenantsByShop = Object.fromEntries(tenants.map((x) => [x.shop, x.id]))
      const receipts = await pg.query<{ shop: string; webhookId: string; status: string }>(
        `SELECT t.shop_domain AS shop, r.webhook_id AS "webhookId", r.status
           FROM webhook_receipts r JOIN tenants t ON t.id = r.tenant_id`,
      )
      const dup = await pg.query<{ d: string }>(
        `SELECT 'receipt ' || webhook_id || ' x' || count(*) AS d FROM webhook_receipts
          GROUP BY tenant_id, webhook_id HAVING count(*) > 1`,
      )
      const truthDiffs: Record<string, string[]> = {}
      const duplicateRows = dup.map((r) => r.d)
      for (const tn of installed) {
        const db = await dbSnapshot(pg.ownerUrl, tn.id)
        for (const [table, m] of Object.entries(db))
          for (const k of m.keys()) if (k.endsWith('#dup')) duplicateRows.push(`${table} ${k}`)
        truthDiffs[tn.shop] = diffSnapshots(await truthSnapshot(fake.origin, tn.shop), db)
      }
      const violations = checkHistory(history.events(), {
        tenants: tenantsByShop,
        reconciled: installed.map((x) => x.shop),
        receipts,
        duplicateRows,
        truthDiffs,
        lockPlusStallMs: LOCK_PLUS_STALL_MS,
      })
      const sent = history.events().filter((e) => e.type === 'webhook').length
      log(
        `checked ${sent} webhook posts, ${receipts.length} receipts, ${installed.length} tenants reconciled`,
      )
      t.same(violations, [], `invariants hold (history ${history.path}, FAULT_SEED=${seed})`)
      if (violations.length)
        for (const p of procs) log(`--- ${p.label} output ---\n${p.output().slice(-4000)}`)
    },
  }

  await stack.waitQueuesIdle()
  await stack.probeTenants()
  const base = await stack.resources('baseline')
  const baselineConnections = Object.values(base.pgConnections).reduce((a, b) => a + b, 0)
  return stack
}

async function call(
  url: string,
  headers: Record<string, string>,
  method = 'GET',
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  // One retry, as a client or load balancer does, when a stopping API answers 503 with
  // `Connection: close` or the connection drops: rolling restarts must not need more.
  try {
    const first = await once(url, headers, method, body)
    if (first.status !== 503) return first
  } catch {
    /* retried below */
  }
  await sleep(200)
  return once(url, headers, method, body)
}

async function once(
  url: string,
  headers: Record<string, string>,
  method: string,
  body: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let json: unknown = null
  try {
    json = JSON.parse(text)
  } catch {
    json = { text }
  }
  return { status: res.status, json }
}
