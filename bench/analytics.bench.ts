// Analytics latency at the HTTP level on a large database: 5M orders over 200 tenants, one
// tenant holding 1M orders over two years (with line items, refunds, customers, products and
// custom events in proportion). The database `xeno_bench_analytics` is generated once with
// set-based SQL as the owner and kept between runs (pass --reseed to rebuild it).
//
//   pnpm exec node bench/analytics.bench.ts [--rounds 5] [--requests 30] [--reseed] [--scale 1]
//
// --scale s (0 < s ≤ 1) seeds s × every count (orders, customers, events, tenants) into its own
// database `xeno_bench_analytics_s<s>`, to check the benchmark on a small machine; the targets
// are for --scale 1.
// --only REGEX measures only the scenarios whose name matches (e.g. --only 'cohort|RFM').
//
// Prints JSON: p50/p95 per endpoint and scenario (median over rounds of each round's figure),
// the target, and the ratio p95 / target.
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { createDb, migrateToLatest, withTenant } from '../packages/db/src/index.ts'
import {
  createAdminAuthService,
  createAnalyticsService,
  createApiKeyService,
  createBasicAuthCache,
  createCustomerAnalyticsService,
  createEventsService,
  createHealthService,
  createPasswordHasher,
  createShopTokenChecker,
  createTenantService,
  createTenantUserService,
  createTokenCipher,
  rebuildAnalyticsRollups,
} from '../packages/core/src/index.ts'
import { createLogger } from '../packages/logger/src/index.ts'
import { buildApp } from '../apps/api/src/app.ts'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    requests: { type: 'string', default: '30' },
    reseed: { type: 'boolean', default: false },
    scale: { type: 'string', default: '1' },
    only: { type: 'string', default: '' },
  },
})
const SCALE = Number(args.scale)
if (!(SCALE > 0 && SCALE <= 1)) throw new Error('--scale must be in (0, 1]')
const scaled = (n: number) => Math.max(1, Math.round(n * SCALE))
const ROUNDS = Number(args.rounds)
const REQUESTS = Number(args.requests)
// BENCH_ANALYTICS_DB: another database name, so branches measured side by side don't share one.
const DB_NAME =
  process.env.BENCH_ANALYTICS_DB ??
  (SCALE === 1
    ? 'xeno_bench_analytics'
    : `xeno_bench_analytics_s${String(SCALE).replace('.', '_')}`)
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const RUNTIME_ROLE = 'xeno_app'

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

// The key tenant contexts are signed with (the migrator stores it for the database's check).
const CONTEXT_KEY = Buffer.alloc(32, 7)

const BIG_TENANT = '00000000-0000-4000-8000-000000000000'
const TENANTS = Math.max(8, scaled(200))
const BIG_ORDERS = scaled(1_000_000)
const SMALL_ORDERS = scaled(20_101) // 199 × 20,101 + 1M ≈ 5.0M
const START = '2024-11-27T00:00:00Z' // two years of orders, ending 2026-11-26
const SPAN_SECONDS = 730 * 86_400

const log = (msg: string, extra: object = {}) =>
  process.stderr.write(`${new Date().toISOString()} ${msg} ${JSON.stringify(extra)}\n`)

// Raw connections through @xeno/db's pool (the root package has no pg of its own).
async function connect(url: string) {
  const { db, pool } = createDb({
    url,
    applicationName: 'bench-owner',
    poolMax: 1,
    statementTimeoutMs: 3_600_000,
  })
  const client = await pool.connect()
  return {
    query: (text: string) => client.query(text),
    end: async () => {
      client.release()
      await db.destroy()
    },
  }
}

async function adminQuery(text: string) {
  const c = await connect(ADMIN_URL)
  try {
    return await c.query(text)
  } finally {
    await c.end()
  }
}

async function ensureRole() {
  await adminQuery(`DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${RUNTIME_ROLE}') THEN
      CREATE ROLE ${RUNTIME_ROLE} LOGIN PASSWORD '${RUNTIME_ROLE}';
    END IF; END $$`)
}

async function seeded(): Promise<boolean> {
  const { rowCount } = await adminQuery(`SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}'`)
  if (!rowCount) return false
  const c = await connect(ownerUrl)
  try {
    const { rows } = await c.query(`SELECT to_regclass('bench_meta') IS NOT NULL AS ok`)
    if (!rows[0].ok) return false
    const meta = await c.query(`SELECT done FROM bench_meta`)
    return meta.rows[0]?.done === true
  } finally {
    await c.end()
  }
}

async function seed() {
  await adminQuery(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`)
  await adminQuery(`CREATE DATABASE ${DB_NAME}`)
  await migrateToLatest({ ownerUrl, runtimeUrl, tenantContextKey: CONTEXT_KEY })
  const c = await connect(ownerUrl)
  const step = async (name: string, text: string) => {
    const t0 = performance.now()
    const r = await c.query(text)
    log(name, { rows: r.rowCount, s: Math.round((performance.now() - t0) / 100) / 10 })
  }
  try {
    await c.query(`SET maintenance_work_mem = '512MB'; SET work_mem = '256MB'`)
    await step(
      'bench tenants',
      `CREATE TABLE bench_tenants AS
       SELECT g AS seq,
         ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid AS id,
         (ARRAY['America/New_York','Asia/Kolkata','Australia/Sydney','Europe/Berlin','UTC'])[1 + g % 5] AS zone,
         CASE WHEN g = 0 THEN ${BIG_ORDERS} ELSE ${SMALL_ORDERS} END AS orders,
         CASE WHEN g = 0 THEN ${scaled(100_000)} ELSE ${scaled(2000)} END AS customers,
         CASE WHEN g = 0 THEN 500 ELSE 50 END AS products,
         CASE WHEN g = 0 THEN ${scaled(500_000)} ELSE ${scaled(2000)} END AS events
       FROM generate_series(0, ${TENANTS - 1}) g`,
    )
    await c.query(`CREATE TABLE bench_meta (done boolean NOT NULL)`)
    await step(
      'tenants',
      `INSERT INTO tenants (id, shop_domain, status, iana_timezone, currency)
       SELECT id, 'bench-' || seq || '.myshopify.com', 'active', zone, 'USD' FROM bench_tenants`,
    )
    // Customers over [start − 180 d, end], products over [start − 400 d, end].
    await step(
      'customers',
      `INSERT INTO customers (tenant_id, id, email, first_name, last_name, amount_spent,
         number_of_orders, created_at, updated_at)
       SELECT t.id, n, 'c' || n || '@example.com', 'First', 'Last', (n % 5000)::numeric / 7, n % 9,
         ts, ts
       FROM bench_tenants t, generate_series(1, t.customers) n,
         LATERAL (SELECT timestamptz '${START}' - interval '180 days'
           + make_interval(secs => (${SPAN_SECONDS} + 180 * 86400)::float8 * n / t.customers) AS ts) x`,
    )
    await step(
      'products',
      `INSERT INTO products (tenant_id, id, title, status, created_at, updated_at)
       SELECT t.id, n, 'Product ' || n, 'ACTIVE', ts, ts
       FROM bench_tenants t, generate_series(1, t.products) n,
         LATERAL (SELECT timestamptz '${START}' - interval '400 days'
           + make_interval(secs => (${SPAN_SECONDS} + 400 * 86400)::float8 * n / t.products) AS ts) x`,
    )
    // Orders in time order per tenant; 12% guests, 1% test, 2% cancelled, prices $5–$305.
    await step(
      'orders',
      `INSERT INTO orders (tenant_id, id, name, customer_id, currency, total_price, subtotal_price,
         financial_status, fulfillment_status, cancelled_at, processed_at, test, created_at,
         updated_at)
       SELECT t.id, n, '#' || n,
         CASE WHEN h % 100 < 12 THEN NULL ELSE 1 + (h / 100) % t.customers END,
         'USD', ((h % 30000) + 500) / 100.0, ((h % 30000) + 500) / 100.0,
         (ARRAY['paid','paid','paid','paid','pending','authorized','partially_refunded','refunded'])[1 + h % 8],
         CASE WHEN h % 4 = 0 THEN NULL ELSE 'fulfilled' END,
         CASE WHEN n % 50 = 1 THEN ts + interval '2 hours' END,
         ts, n % 100 = 0, ts, ts
       FROM bench_tenants t, generate_series(1, t.orders) n,
         LATERAL (SELECT abs(hashint8(n * 1000 + t.seq)::bigint) AS h) hh,
         LATERAL (SELECT timestamptz '${START}'
           + make_interval(secs => ${SPAN_SECONDS}::float8 * (n - 1 + (h % 997) / 997.0) / t.orders) AS ts) x`,
    )
    // One line item per order, a second on every third.
    await step(
      'line items',
      `INSERT INTO order_line_items (tenant_id, id, order_id, product_id, title, quantity,
         unit_price, discounted_total)
       SELECT o.tenant_id, o.id * 2 + k, o.id, 1 + abs(hashint8(o.id * 2 + k)) % t.products,
         'Product', 1 + (o.id + k) % 3, round(o.total_price / 2, 2),
         round(o.total_price / 2, 2) * (1 + (o.id + k) % 3)
       FROM orders o JOIN bench_tenants t ON t.id = o.tenant_id,
         generate_series(0, CASE WHEN o.id % 3 = 0 THEN 1 ELSE 0 END) k`,
    )
    // 5% of orders refunded 30%, 0–29 days later (capped at the end of the data).
    await step(
      'refunds',
      `INSERT INTO refunds (tenant_id, id, order_id, amount, created_at, processed_at)
       SELECT o.tenant_id, o.id, o.id, round(o.total_price * 0.3, 2), ts, ts
       FROM orders o,
         LATERAL (SELECT least(o.processed_at + make_interval(days => (o.id % 30)::int),
           timestamptz '${START}' + interval '730 days' - interval '1 second') AS ts) x
       WHERE o.id % 20 = 3`,
    )
    await step(
      'custom events',
      `INSERT INTO custom_events (tenant_id, event_type, occurred_at, customer_id, properties)
       SELECT t.id,
         (ARRAY['checkout_started','page_view','page_view','add_to_cart'])[1 + n % 4],
         timestamptz '${START}' + make_interval(secs => ${SPAN_SECONDS}::float8 * n / t.events),
         CASE WHEN n % 2 = 0 THEN 1 + n % t.customers END, '{}'::jsonb
       FROM bench_tenants t, generate_series(1, t.events) n`,
    )
    await step('vacuum analyze', 'VACUUM ANALYZE')
  } finally {
    await c.end()
  }
  // The rollups, built by the same function the writers call.
  const { db } = createDb({
    url: runtimeUrl,
    applicationName: 'bench-seed',
    poolMax: 2,
    statementTimeoutMs: 3_600_000,
    tenantContextKey: CONTEXT_KEY,
  })
  const t0 = performance.now()
  for (let g = 0; g < TENANTS; g++) {
    const id = `00000000-0000-4000-8000-${g.toString(16).padStart(12, '0')}`
    await withTenant(db, id, (trx) => rebuildAnalyticsRollups(trx, id))
  }
  log('rollups', { s: Math.round((performance.now() - t0) / 1000) })
  await db.destroy()
  const c2 = await connect(ownerUrl)
  await c2.query('VACUUM ANALYZE')
  await c2.query('INSERT INTO bench_meta VALUES (true)')
  await c2.end()
}

await ensureRole()
if (args.reseed || !(await seeded())) {
  log('seeding', { db: DB_NAME })
  await seed()
} else {
  // New migrations (indexes, rollups) apply to the kept database.
  await migrateToLatest({ ownerUrl, runtimeUrl, tenantContextKey: CONTEXT_KEY })
  const c = await connect(ownerUrl)
  await c.query('VACUUM ANALYZE')
  await c.end()
}

const counts = await (async () => {
  const c = await connect(ownerUrl)
  try {
    const q = async (sqlText: string) => Number((await c.query(sqlText)).rows[0].n)
    return {
      tenants: await q('SELECT count(*) AS n FROM tenants'),
      orders: await q('SELECT count(*) AS n FROM orders'),
      big_tenant_orders: await q(
        `SELECT count(*) AS n FROM orders WHERE tenant_id = '${BIG_TENANT}'`,
      ),
      line_items: await q('SELECT count(*) AS n FROM order_line_items'),
      refunds: await q('SELECT count(*) AS n FROM refunds'),
      customers: await q('SELECT count(*) AS n FROM customers'),
      custom_events: await q('SELECT count(*) AS n FROM custom_events'),
    }
  } finally {
    await c.end()
  }
})()
log('database', counts)

// ---------------------------------------------------------------- the app, over real HTTP

const { db } = createDb({
  url: runtimeUrl,
  applicationName: 'bench-api',
  poolMax: 10,
  tenantContextKey: CONTEXT_KEY,
})
const hasher = createPasswordHasher()
const pepper = randomBytes(32).toString('hex')
const apiKeys = createApiKeyService({ db, pepper })
const app = await buildApp({
  logger: createLogger({ level: 'silent' }),
  health: createHealthService({ pingDb: async () => true, pingRedis: async () => true }),
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
  customerAnalytics: createCustomerAnalyticsService({ db }),
  events: createEventsService({ db }),
})
await app.listen({ port: 0, host: '127.0.0.1' })
const addr = app.server.address()
const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`
const SMALL_TENANT = '00000000-0000-4000-8000-000000000007'
const keys: Record<string, string> = {
  [BIG_TENANT]: (await apiKeys.create(BIG_TENANT, 'bench')).key,
  [SMALL_TENANT]: (await apiKeys.create(SMALL_TENANT, 'bench')).key,
}

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
type Scenario = {
  name: string
  tenant: string
  from: string
  to: string
  targetMs: number
  endpoints?: string[]
  query?: string
}
const SCENARIOS: Scenario[] = [
  {
    name: 'big tenant, 90 days',
    tenant: BIG_TENANT,
    from: '2026-08-29',
    to: '2026-11-26',
    targetMs: 50,
  },
  {
    name: 'big tenant, 2 years',
    tenant: BIG_TENANT,
    from: '2024-11-27',
    to: '2026-11-26',
    targetMs: 200,
  },
  {
    name: 'small tenant, 90 days',
    tenant: SMALL_TENANT,
    from: '2026-08-29',
    to: '2026-11-26',
    targetMs: 50,
  },
  // Customer analytics: the first year holds every customer's first order (the bench's
  // customers all start buying in its first weeks), so its cohort matrix reads every order of
  // the year; the RFM window is the last year (every customer, ~440k orders).
  {
    name: 'big tenant, 12-month cohort matrix',
    tenant: BIG_TENANT,
    from: '2024-12-01',
    to: '2025-11-30',
    targetMs: 100,
    endpoints: ['metrics/cohorts'],
    query: 'granularity=month',
  },
  {
    name: 'big tenant, RFM over 12 months',
    tenant: BIG_TENANT,
    from: '2025-11-27',
    to: '2026-11-26',
    targetMs: 100,
    endpoints: ['metrics/rfm', 'metrics/rfm/customers'],
    query: 'segment=champions&limit=50',
  },
  {
    name: 'big tenant, 12 months of new customers',
    tenant: BIG_TENANT,
    from: '2024-12-01',
    to: '2025-11-30',
    targetMs: 200,
    endpoints: ['metrics/repeat-purchase', 'metrics/lifetime-value'],
  },
  {
    name: 'small tenant, 12-month cohort matrix and RFM',
    tenant: SMALL_TENANT,
    from: '2025-11-27',
    to: '2026-11-26',
    targetMs: 100,
    endpoints: ['metrics/cohorts', 'metrics/rfm', 'metrics/rfm/customers'],
    query: 'granularity=month',
  },
]

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? 0
}
const median = (xs: number[]) => pct(xs, 50)
const round1 = (x: number) => Math.round(x * 10) / 10

async function hit(url: string, key: string): Promise<number> {
  const t0 = performance.now()
  const res = await fetch(url, { headers: { 'x-api-key': key } })
  const body = await res.text()
  const ms = performance.now() - t0
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body.slice(0, 300)}`)
  return ms
}

const results: object[] = []
for (const s of SCENARIOS) {
  if (args.only && !new RegExp(args.only).test(s.name)) continue
  for (const e of s.endpoints ?? ENDPOINTS) {
    const url = `${base}/api/tenants/${s.tenant}/${e}?from=${s.from}&to=${s.to}&${s.query ?? 'granularity=day'}`
    for (let i = 0; i < 5; i++) await hit(url, keys[s.tenant]!)
    const p50s: number[] = []
    const p95s: number[] = []
    const all: number[] = []
    for (let r = 0; r < ROUNDS; r++) {
      const times: number[] = []
      for (let i = 0; i < REQUESTS; i++) times.push(await hit(url, keys[s.tenant]!))
      p50s.push(pct(times, 50))
      p95s.push(pct(times, 95))
      all.push(...times)
    }
    const p95 = median(p95s)
    const row = {
      scenario: s.name,
      endpoint: `/api/tenants/:id/${e}`,
      p50_ms: round1(median(p50s)),
      p95_ms: round1(p95),
      max_ms: round1(Math.max(...all)),
      target_p95_ms: s.targetMs,
      ratio: Math.round((p95 / s.targetMs) * 100) / 100,
      round_p95s_ms: p95s.map(round1),
    }
    results.push(row)
    log('measured', row)
  }
}

await app.close()
await db.destroy()
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'analytics endpoints over HTTP',
      scale: SCALE,
      load_average: (await import('node:os')).loadavg(),
      method: `sequential GETs with an X-API-Key over keep-alive HTTP to a listening app; per endpoint and scenario 5 warm-up requests, then ${ROUNDS} rounds of ${REQUESTS}; p50/p95 are medians over rounds of each round's percentile; granularity=day unless the scenario names another`,
      database: counts,
      all_within_target: results.every((r) => (r as { ratio: number }).ratio <= 1),
      results,
    },
    null,
    2,
  )}\n`,
)
