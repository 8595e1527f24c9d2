// Admission control under a burst: one tenant's API key fires 2,000 concurrent 2-year analytics
// requests (8 endpoints in turn, one request per connection) while another tenant reads its own
// analytics, Shopify delivers webhooks and an orchestrator probes readiness. Wired as
// apps/api/src/main.ts wires the API: the main pool with a bounded checkout wait, readiness and
// the webhook inbox on pools of their own, the admission limits' defaults.
//
// Target: 0 burst answers ≥ 500, readiness 200 throughout, the other tenant's analytics p99 < 1 s
// and webhook intake p99 < 500 ms during the burst.
//
//   pnpm exec node bench/admission.bench.ts [--rounds 3] [--burst 2000] [--no-admission] [--reseed]
//
// `--no-admission` wires the API as it was before (one pool for everything, no gate) for
// comparison. The database `xeno_bench_admission` (a 300k-order tenant over two years and a
// 20k-order one) is generated once and kept. Prints JSON; figures are medians over rounds.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { createDb, migrateToLatest, pingDb, withTenant } from '../packages/db/src/index.ts'
import {
  createAdminAuthService,
  createAnalyticsService,
  createApiKeyService,
  createBasicAuthCache,
  createEventsService,
  createHealthService,
  createPasswordHasher,
  createShopTokenChecker,
  createTenantService,
  createTenantUserService,
  createTokenCipher,
  createWebhookApi,
  rebuildAnalyticsRollups,
} from '../packages/core/src/index.ts'
import { createLogger } from '../packages/logger/src/index.ts'
import { createProducer, createRedis } from '../packages/queues/src/index.ts'
import { dropQueueKeys, testQueuePrefix, testRedisUrl } from '../packages/queues/src/testing.ts'
import { webhookHmac } from '../packages/shopify/src/index.ts'
import { WEBHOOK_SAMPLES_DIR } from '../packages/shopify-reference/src/index.ts'
import { buildApp } from '../apps/api/src/app.ts'
import { DEFAULT_ADMISSION_LIMITS } from '../apps/api/src/plugins/admission.ts'
import { median, runLoad, type LoadResult } from './support/load.ts'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    burst: { type: 'string', default: '2000' },
    'no-admission': { type: 'boolean', default: false },
    reseed: { type: 'boolean', default: false },
  },
})
const ROUNDS = Number(args.rounds)
const BURST = Number(args.burst)
const ADMISSION = !args['no-admission']
const DB_NAME = 'xeno_bench_admission'
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const RUNTIME_ROLE = 'xeno_app'
const POOL_MAX = 10 // DATABASE_POOL_MAX's default
const SECRET = 'bench-admission-secret'
// The tenant-context key the bench's pools sign with (the migration stores its hash).
const CONTEXT_KEY = Buffer.alloc(32, 9)

const urlFor = (database: string, user?: string) => {
  const u = new URL(ADMIN_URL)
  u.pathname = `/${database}`
  if (user) {
    u.username = user
    u.password = user
  }
  return u.toString()
}
const ownerUrl = urlFor(DB_NAME)
const runtimeUrl = urlFor(DB_NAME, RUNTIME_ROLE)
const BIG = '00000000-0000-4000-8000-00000000a000'
const OTHER = '00000000-0000-4000-8000-00000000b000'
const OTHER_SHOP = 'bench-admission-other.myshopify.com'
const log = (msg: string, extra: object = {}) =>
  process.stderr.write(`${new Date().toISOString()} ${msg} ${JSON.stringify(extra)}\n`)

async function ownerQuery(url: string, text: string) {
  const { db, pool } = createDb({
    url,
    applicationName: 'bench-owner',
    poolMax: 1,
    statementTimeoutMs: 3_600_000,
  })
  try {
    return await pool.query(text)
  } finally {
    await db.destroy()
  }
}

async function seeded(): Promise<boolean> {
  const { rowCount } = await ownerQuery(
    ADMIN_URL,
    `SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}'`,
  )
  if (!rowCount) return false
  const { rows } = await ownerQuery(ownerUrl, `SELECT to_regclass('bench_meta') IS NOT NULL AS ok`)
  return rows[0].ok === true
}

// Two years of orders (with line items, 5 % refunded), customers, products and custom events,
// set-based as bench/analytics.bench.ts seeds its tenants.
async function seed() {
  await ownerQuery(
    ADMIN_URL,
    `DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${RUNTIME_ROLE}') THEN
        CREATE ROLE ${RUNTIME_ROLE} LOGIN PASSWORD '${RUNTIME_ROLE}';
      END IF; END $$`,
  )
  await ownerQuery(ADMIN_URL, `DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`)
  await ownerQuery(ADMIN_URL, `CREATE DATABASE ${DB_NAME}`)
  await migrateToLatest({ ownerUrl, runtimeUrl, tenantContextKey: CONTEXT_KEY })
  const span = 730 * 86_400
  const steps = [
    `CREATE TABLE bench_tenants AS SELECT * FROM (VALUES
       ('${BIG}'::uuid, 'bench-admission-big.myshopify.com', 'America/New_York', 300000, 30000, 300, 100000),
       ('${OTHER}'::uuid, '${OTHER_SHOP}', 'Europe/Berlin', 20000, 2000, 50, 2000))
       AS t(id, shop, zone, orders, customers, products, events)`,
    `INSERT INTO tenants (id, shop_domain, status, iana_timezone, currency)
     SELECT id, shop, 'active', zone, 'USD' FROM bench_tenants`,
    `INSERT INTO customers (tenant_id, id, email, first_name, last_name, created_at, updated_at)
     SELECT t.id, n, 'c' || n || '@example.com', 'First', 'Last', ts, ts
     FROM bench_tenants t, generate_series(1, t.customers) n,
       LATERAL (SELECT timestamptz '2024-06-01' + make_interval(secs => ${span + 180 * 86_400}::float8 * n / t.customers) AS ts) x`,
    `INSERT INTO products (tenant_id, id, title, status, created_at, updated_at)
     SELECT t.id, n, 'Product ' || n, 'ACTIVE', ts, ts
     FROM bench_tenants t, generate_series(1, t.products) n,
       LATERAL (SELECT timestamptz '2024-01-01' + make_interval(days => n % 1000) AS ts) x`,
    `INSERT INTO orders (tenant_id, id, name, customer_id, currency, total_price, subtotal_price,
       financial_status, fulfillment_status, cancelled_at, processed_at, test, created_at, updated_at)
     SELECT t.id, n, '#' || n,
       CASE WHEN h % 100 < 12 THEN NULL ELSE 1 + (h / 100) % t.customers END,
       'USD', ((h % 30000) + 500) / 100.0, ((h % 30000) + 500) / 100.0,
       (ARRAY['paid','paid','paid','pending','partially_refunded','refunded'])[1 + h % 6],
       CASE WHEN h % 4 = 0 THEN NULL ELSE 'fulfilled' END,
       CASE WHEN n % 50 = 1 THEN ts + interval '2 hours' END, ts, n % 100 = 0, ts, ts
     FROM bench_tenants t, generate_series(1, t.orders) n,
       LATERAL (SELECT abs(hashint8(n::bigint * 7 + length(t.shop))) AS h) hh,
       LATERAL (SELECT timestamptz '2024-11-27' + make_interval(secs => ${span}::float8 * (n - 1) / t.orders) AS ts) x`,
    `INSERT INTO order_line_items (tenant_id, id, order_id, product_id, title, quantity,
       unit_price, discounted_total)
     SELECT o.tenant_id, o.id, o.id, 1 + o.id % t.products, 'Product', 1, o.total_price, o.total_price
     FROM orders o JOIN bench_tenants t ON t.id = o.tenant_id`,
    `INSERT INTO refunds (tenant_id, id, order_id, amount, created_at, processed_at)
     SELECT tenant_id, id, id, round(total_price * 0.3, 2), processed_at + interval '3 days',
       processed_at + interval '3 days'
     FROM orders WHERE id % 20 = 3`,
    `INSERT INTO custom_events (tenant_id, event_type, occurred_at, customer_id, properties)
     SELECT t.id, (ARRAY['checkout_started','page_view','add_to_cart'])[1 + n % 3],
       timestamptz '2024-11-27' + make_interval(secs => ${span}::float8 * n / t.events),
       CASE WHEN n % 2 = 0 THEN 1 + n % t.customers END, '{}'::jsonb
     FROM bench_tenants t, generate_series(1, t.events) n`,
    'VACUUM ANALYZE',
  ]
  for (const text of steps) {
    const t0 = performance.now()
    const r = await ownerQuery(ownerUrl, text)
    log('seed', { rows: r.rowCount, s: Math.round(performance.now() - t0) / 1000 })
  }
  const { db } = createDb({
    url: runtimeUrl,
    applicationName: 'bench-seed',
    poolMax: 1,
    statementTimeoutMs: 3_600_000,
    tenantContextKey: CONTEXT_KEY,
  })
  for (const id of [BIG, OTHER]) await withTenant(db, id, (trx) => rebuildAnalyticsRollups(trx, id))
  await db.destroy()
  await ownerQuery(ownerUrl, 'VACUUM ANALYZE')
  await ownerQuery(ownerUrl, 'CREATE TABLE bench_meta (done boolean)')
}

if (args.reseed || !(await seeded())) {
  log('seeding', { db: DB_NAME })
  await seed()
} else {
  await migrateToLatest({ ownerUrl, runtimeUrl, tenantContextKey: CONTEXT_KEY })
}

// ------------------------------------------------------------ the API, wired as main.ts does

const logger = createLogger({ level: 'silent' })
const main = createDb({
  url: runtimeUrl,
  applicationName: 'bench-api',
  poolMax: POOL_MAX,
  acquireTimeoutMs: ADMISSION ? 2_000 : 5_000,
  tenantContextKey: CONTEXT_KEY,
})
const healthPool = ADMISSION
  ? createDb({ url: runtimeUrl, applicationName: 'bench-health', poolMax: 1 })
  : main
const inboxPool = ADMISSION
  ? createDb({
      url: runtimeUrl,
      applicationName: 'bench-inbox',
      poolMax: 3,
      tenantContextKey: CONTEXT_KEY,
    })
  : main
const redis = createRedis(testRedisUrl(), 'producer', () => {})
await new Promise((r) => redis.once('ready', r))
const prefix = testQueuePrefix()
const producer = createProducer({ connection: redis, prefix })
const webhooks = createWebhookApi({ db: inboxPool.db, producer, secrets: [SECRET], logger })
const db = main.db
const hasher = createPasswordHasher()
const apiKeys = createApiKeyService({ db, pepper: randomBytes(32).toString('hex') })
const app = await buildApp({
  logger,
  health: createHealthService({
    pingDb: () => pingDb(healthPool.db),
    pingRedis: async () => (await redis.ping()) === 'PONG',
  }),
  auth: {
    admins: createAdminAuthService({ db, hasher }),
    tenantUsers: createTenantUserService({ db, hasher, basicCache: createBasicAuthCache() }),
    apiKeys,
    tenants: createTenantService({
      db,
      cipher: createTokenCipher({ current: randomBytes(32) }),
      checkShopToken: createShopTokenChecker({
        apiVersion: '2026-10',
        adminOrigin: 'http://127.0.0.1:1',
      }),
    }),
    appUrl: 'http://127.0.0.1',
    cookieSecure: false,
  },
  analytics: createAnalyticsService({ db }),
  events: createEventsService({ db }),
  webhooks,
  admission: ADMISSION ? { ...DEFAULT_ADMISSION_LIMITS, total: POOL_MAX - 2 } : false,
})
await app.listen({ port: 0, host: '127.0.0.1', backlog: 4096 })
const addr = app.server.address()
const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`
const bigKey = (await apiKeys.create(BIG, 'bench')).key
const otherKey = (await apiKeys.create(OTHER, 'bench')).key

const ENDPOINTS = [
  'analytics',
  'metrics/revenue',
  'metrics/orders',
  'metrics/customers',
  'metrics/events',
  'metrics/customer-growth',
  'metrics/product-growth',
  'metrics/products',
]
const urls = (tenant: string) =>
  ENDPOINTS.map((e) => `${base}/api/tenants/${tenant}/${e}?from=2024-11-27&to=2026-11-26`)
// Shopify's own products/update sample.
const webhookBody = readFileSync(`${WEBHOOK_SAMPLES_DIR}products__update.json`, 'utf8')
const SIDE_MS = 3_000

// Warm-up: plans, JIT, pool connections.
await runLoad({
  url: '',
  urls: urls(OTHER),
  headers: { 'x-api-key': otherKey },
  concurrency: 2,
  durationMs: 1_000,
})

type Round = {
  burst?: LoadResult
  other: LoadResult
  webhooks: LoadResult
  health: LoadResult
}
// One round: the side loads for SIDE_MS, with the burst fired 0.2 s in (or none: the quiet
// figures the burst's are compared with).
async function round(withBurst: boolean): Promise<Round> {
  const side = Promise.all([
    runLoad({
      url: '',
      urls: urls(OTHER),
      headers: { 'x-api-key': otherKey },
      concurrency: 2,
      durationMs: SIDE_MS,
    }),
    runLoad({
      url: `${base}/api/webhooks/products/update`,
      method: 'POST',
      body: webhookBody,
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'products/update',
        'x-shopify-hmac-sha256': webhookHmac(webhookBody, SECRET),
        'x-shopify-shop-domain': OTHER_SHOP,
        'x-shopify-api-version': '2026-10',
        'x-shopify-triggered-at': new Date().toISOString(),
      },
      uniqueHeader: 'x-shopify-webhook-id',
      concurrency: 5,
      durationMs: SIDE_MS,
    }),
    runLoad({ url: `${base}/api/health`, concurrency: 1, durationMs: SIDE_MS }),
  ])
  let burst: LoadResult | undefined
  if (withBurst) {
    await new Promise((res) => setTimeout(res, 200))
    burst = await runLoad({
      url: '',
      urls: urls(BIG),
      headers: { 'x-api-key': bigKey },
      concurrency: BURST,
      durationMs: 0,
      requestsPerConnection: 1,
    })
  }
  const [other, hooks, health] = await side
  await new Promise((res) => setTimeout(res, 1_000)) // let the inbox and the gate drain
  return { burst, other, webhooks: hooks, health }
}

const loadBefore = os.loadavg()
const quiet = await round(false)
log('quiet', { other: quiet.other.p99Ms, webhooks: quiet.webhooks.p99Ms })
const rounds: Round[] = []
for (let r = 0; r < ROUNDS; r++) {
  const x = await round(true)
  rounds.push(x)
  log('round', { r, burst: x.burst?.statuses, other: x.other.statuses, health: x.health.statuses })
}
const loadAfter = os.loadavg()

const ge500 = (s: Record<string, number>) =>
  Object.entries(s).reduce((n, [k, v]) => n + (k === 'error' || Number(k) >= 500 ? v : 0), 0)
const med = (f: (r: Round) => number) => Number(median(rounds.map(f)).toFixed(1))
const sumStatuses = (f: (r: Round) => Record<string, number>) => {
  const out: Record<string, number> = {}
  for (const r of rounds) for (const [k, v] of Object.entries(f(r))) out[k] = (out[k] ?? 0) + v
  return out
}
const result = {
  benchmark: 'admission control under one tenant’s analytics burst',
  admission: ADMISSION,
  target: {
    burstResponsesGe500: 0,
    readiness: 'always 200',
    otherTenantP99Ms: '< 1000',
    webhookP99Ms: '< 500',
  },
  burst: {
    requests: BURST,
    statuses: sumStatuses((r) => r.burst!.statuses),
    responsesGe500: rounds.reduce((n, r) => n + ge500(r.burst!.statuses), 0),
    p50Ms: med((r) => r.burst!.p50Ms),
    p99Ms: med((r) => r.burst!.p99Ms),
  },
  readiness: {
    statuses: sumStatuses((r) => r.health.statuses),
    p99Ms: med((r) => r.health.p99Ms),
  },
  otherTenant: {
    statuses: sumStatuses((r) => r.other.statuses),
    p50Ms: med((r) => r.other.p50Ms),
    p99Ms: med((r) => r.other.p99Ms),
  },
  webhooks: {
    statuses: sumStatuses((r) => r.webhooks.statuses),
    p50Ms: med((r) => r.webhooks.p50Ms),
    p99Ms: med((r) => r.webhooks.p99Ms),
  },
  quiet: {
    otherTenantP50Ms: Number(quiet.other.p50Ms.toFixed(1)),
    otherTenantP99Ms: Number(quiet.other.p99Ms.toFixed(1)),
    webhookP50Ms: Number(quiet.webhooks.p50Ms.toFixed(1)),
    webhookP99Ms: Number(quiet.webhooks.p99Ms.toFixed(1)),
  },
  met: false,
  rounds: ROUNDS,
  method: `per round: for ${SIDE_MS / 1000} s the other tenant reads its 2-year analytics at 2 connections, webhooks arrive at 5 connections and readiness is probed at 1; 0.2 s in, ${BURST} one-shot connections of one API key ask for 2-year analytics (8 endpoints in turn); medians over rounds`,
  machine: {
    cpus: os.cpus().length,
    node: process.version,
    loadavg: {
      before: loadBefore.map((x) => x.toFixed(2)),
      after: loadAfter.map((x) => x.toFixed(2)),
    },
  },
}
result.met =
  result.burst.responsesGe500 === 0 &&
  Object.keys(result.readiness.statuses).every((k) => k === '200') &&
  result.otherTenant.p99Ms < 1000 &&
  result.webhooks.p99Ms < 500 &&
  ge500(result.otherTenant.statuses) === 0 &&
  ge500(result.webhooks.statuses) === 0
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)

await app.close()
await webhooks.close()
await producer.close()
await dropQueueKeys(redis, prefix)
redis.disconnect()
for (const p of new Set([main, healthPool, inboxPool])) await p.db.destroy()
