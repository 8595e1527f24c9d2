// Admission control: a burst of one tenant's analytics never answers ≥ 500, every refusal is a
// 429 or 503 with Retry-After, readiness stays 200, another tenant and the webhook intake keep
// being served; a pool checkout that times out is a 503, never a 500. Timings are the bench's
// (bench/admission.bench.ts); this file asserts behaviour only.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { createDb, pingDb, withTenant } from '@xeno/db'
import { TEST_TENANT_CONTEXT_KEY } from '@xeno/db/testing'
import { createLogger } from '@xeno/logger'
import {
  createAnalyticsService,
  createEventsService,
  createHealthService,
  createWebhookApi,
  ExternalServiceError,
  RateLimitedError,
  rebuildAnalyticsRollups,
} from '@xeno/core'
import { buildTestApp } from './support/app.ts'
import { signedHeaders } from './support/webhooks.ts'
import { createAdmissionGate } from '../src/plugins/admission.ts'

const SECRET = 'admission-webhook-secret'
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
const TWO_YEARS = 'from=2024-11-27&to=2026-11-26&granularity=day'

t.test('the gate: shares per credential and tenant, a bounded queue, a deadline', async (t) => {
  const gate = createAdmissionGate({
    perCredential: 2,
    perTenant: 3,
    total: 4,
    queue: 1,
    maxWaitMs: 100,
  })
  const a1 = await gate.admit('A', 'k1')
  const a2 = await gate.admit('A', 'k1')
  // k1 holds its two: a third waits (the queue has one place), a fourth is refused at once.
  const waiting = gate.admit('A', 'k1')
  const t0 = Date.now()
  await t.rejects(gate.admit('A', 'k1'), RateLimitedError, 'queue full: 429 at once')
  t.ok(Date.now() - t0 < 50, 'refused without waiting')
  a1()
  const a3 = await waiting
  t.pass('a released slot goes to the waiter')
  // Another key of A takes A's third slot; a fourth request of A waits out the deadline.
  const b1 = await gate.admit('A', 'k2')
  await t.rejects(gate.admit('A', 'k3'), RateLimitedError, "the tenant's share is full: 429")
  // Tenant B gets the process's last slot; then the process is full: 503, not the caller's fault.
  const c1 = await gate.admit('B', 'k9')
  const busy = await gate.admit('C', 'k8').catch((e: unknown) => e)
  t.ok(busy instanceof ExternalServiceError, 'no process slot in time: 503')
  t.equal((busy as { retryAfterSeconds?: number }).retryAfterSeconds, 1, 'with Retry-After')
  for (const r of [a2, a3, b1, c1]) r()
  t.same(gate.stats(), { running: 0, waiting: 0, tenants: 0, credentials: 0 }, 'all released')
  const again = await gate.admit('A', 'k1')
  again()
  again() // releasing twice gives back one slot only
  t.same(gate.stats().running, 0)
})

t.test('2,000 concurrent 2-year analytics requests of one tenant', async (t) => {
  const logger = createLogger({ level: 'silent' })
  let closeExtra: (() => Promise<void>) | undefined
  const h = await buildTestApp(t, {
    pool: { max: 6, acquireTimeoutMs: 2_000 },
    deps: ({ db, producer, appUrl }) => {
      // As in main.ts: readiness and the webhook inbox on pools of their own.
      const key = { tenantContextKey: TEST_TENANT_CONTEXT_KEY }
      const health = createDb({ url: appUrl, applicationName: 'xeno-test-health', poolMax: 1 })
      const inbox = createDb({
        url: appUrl,
        applicationName: 'xeno-test-inbox',
        poolMax: 3,
        ...key,
      })
      const webhooks = createWebhookApi({ db: inbox.db, producer, secrets: [SECRET], logger })
      closeExtra = async () => {
        await webhooks.close()
        await health.db.destroy()
        await inbox.db.destroy()
      }
      return {
        analytics: createAnalyticsService({ db }),
        events: createEventsService({ db }),
        webhooks,
        health: createHealthService({
          pingDb: () => pingDb(health.db),
          pingRedis: async () => true,
        }),
        // As admissionLimits() derives them: the process share (pool − 2) above a tenant's.
        admission: { perCredential: 2, perTenant: 3, total: 4, queue: 32, maxWaitMs: 1_000 },
      }
    },
  })
  t.teardown(async () => {
    await h.app.close()
    await closeExtra?.()
  })
  await h.app.listen({ port: 0, host: '127.0.0.1', backlog: 4096 })
  const addr = h.app.server.address()
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`

  const big = await h.tenant()
  const other = await h.tenant()
  await h.ownerQuery(
    `UPDATE tenants SET status = 'active', iana_timezone = 'UTC' WHERE id = ANY($1)`,
    [[big.id, other.id]],
  )
  // Two years of a busy shop: 30,000 orders with line items and refunds, customers, products.
  await h.ownerQuery(
    `INSERT INTO customers (tenant_id, id, email, created_at, updated_at)
     SELECT $1, n, 'c' || n || '@example.com', ts, ts FROM generate_series(1, 3000) n,
       LATERAL (SELECT timestamptz '2024-06-01' + make_interval(days => n % 900) AS ts) x`,
    [big.id],
  )
  await h.ownerQuery(
    `INSERT INTO products (tenant_id, id, title, status, created_at, updated_at)
     SELECT $1, n, 'P' || n, 'ACTIVE', now() - make_interval(days => n), now()
     FROM generate_series(1, 100) n`,
    [big.id],
  )
  await h.ownerQuery(
    `INSERT INTO orders (tenant_id, id, name, customer_id, currency, total_price, processed_at,
       created_at, updated_at, financial_status)
     SELECT $1, n, '#' || n, 1 + n % 3000, 'USD', 5 + n % 300, ts, ts, ts, 'paid'
     FROM generate_series(1, 30000) n,
       LATERAL (SELECT timestamptz '2024-11-27' + make_interval(secs => n * 2100.0) AS ts) x`,
    [big.id],
  )
  await h.ownerQuery(
    `INSERT INTO order_line_items (tenant_id, id, order_id, product_id, title, quantity,
       unit_price, discounted_total)
     SELECT tenant_id, id, id, 1 + id % 100, 'P', 1, total_price, total_price
     FROM orders WHERE tenant_id = $1`,
    [big.id],
  )
  await h.ownerQuery(
    `INSERT INTO refunds (tenant_id, id, order_id, amount, created_at)
     SELECT tenant_id, id, id, 1, processed_at + interval '1 day'
     FROM orders WHERE tenant_id = $1 AND id % 20 = 0`,
    [big.id],
  )
  await withTenant(h.db, big.id, (trx) => rebuildAnalyticsRollups(trx, big.id))
  await withTenant(h.db, other.id, (trx) => rebuildAnalyticsRollups(trx, other.id))
  const bigKey = await h.apiKey(big.id)
  const otherKey = await h.apiKey(other.id)

  type Answer = { status: number; retryAfter: string | null; code?: string }
  const get = async (path: string, headers: Record<string, string> = {}): Promise<Answer> => {
    try {
      const res = await fetch(`${base}${path}`, { headers })
      const body = (await res.json()) as { error?: { code: string } }
      return {
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        code: body.error?.code,
      }
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      return { status: -1, retryAfter: null, code: cause?.code ?? cause?.message ?? String(err) }
    }
  }

  let bursting = true
  const health: Answer[] = []
  const others: Answer[] = []
  const webhooks: number[] = []
  const sideLoads = [
    (async () => {
      while (bursting) {
        health.push(await get('/api/health'))
        await new Promise((r) => setTimeout(r, 20))
      }
    })(),
    (async () => {
      for (let i = 0; bursting; i++)
        others.push(
          await get(
            `/api/tenants/${other.id}/${ENDPOINTS[i % ENDPOINTS.length]}?${TWO_YEARS}`,
            otherKey.headers,
          ),
        )
    })(),
    ...Array.from({ length: 3 }, async () => {
      while (bursting) {
        const body = JSON.stringify({ id: 1, title: 'p', updated_at: new Date().toISOString() })
        const res = await fetch(`${base}/api/webhooks/products/update`, {
          method: 'POST',
          headers: signedHeaders('products/update', body, SECRET, other.shopDomain, randomUUID()),
          body,
        }).catch(() => undefined)
        await res?.arrayBuffer()
        webhooks.push(res?.status ?? -1)
      }
    }),
  ]

  const burst = await Promise.all(
    Array.from({ length: 2000 }, (_, i) =>
      get(`/api/tenants/${big.id}/${ENDPOINTS[i % ENDPOINTS.length]}?${TWO_YEARS}`, bigKey.headers),
    ),
  )
  bursting = false
  await Promise.all(sideLoads)

  const tally = (xs: { status: number }[]) =>
    xs.reduce<Record<number, number>>((m, x) => ({ ...m, [x.status]: (m[x.status] ?? 0) + 1 }), {})
  t.comment(JSON.stringify([...new Set(burst.filter((a) => a.status < 0).map((a) => a.code))]))
  t.comment(`burst ${JSON.stringify(tally(burst))}; other tenant ${JSON.stringify(tally(others))}`)
  t.equal(burst.filter((a) => a.status >= 500 || a.status < 0).length, 0, 'no burst answer ≥ 500')
  t.ok(
    burst.every((a) => [200, 429].includes(a.status)),
    "every burst answer is 200 or 429 (the tenant's own share, not the server, is exhausted)",
  )
  t.ok(
    burst.some((a) => a.status === 200),
    'the tenant is still served (its share)',
  )
  t.ok(
    burst.some((a) => a.status === 429),
    'and the rest refused',
  )
  const refused = burst.filter((a) => a.status === 429 || a.status === 503)
  t.ok(
    refused.every((a) => Number(a.retryAfter) >= 1),
    'every refusal carries Retry-After',
  )
  t.ok(
    refused.every((a) => ['RATE_LIMITED', 'SERVER_BUSY', 'DATABASE_BUSY'].includes(a.code ?? '')),
    'every refusal names why',
  )
  t.ok(health.length > 0, 'readiness was probed during the burst')
  t.same(
    health.filter((a) => a.status !== 200),
    [],
    'readiness answered 200 throughout',
  )
  t.ok(others.length > 0, 'the other tenant asked during the burst')
  t.same(
    others.filter((a) => a.status !== 200),
    [],
    "the other tenant's analytics were all served",
  )
  t.ok(webhooks.length > 0, 'webhooks were delivered during the burst')
  t.same(
    webhooks.filter((s) => s !== 200),
    [],
    'every webhook delivery was accepted',
  )
})

t.test('a pool checkout that times out is 503 with Retry-After, never 500', async (t) => {
  const h = await buildTestApp(t, { pool: { max: 2, acquireTimeoutMs: 300 } })
  const tenant = await h.tenant()
  const key = await h.apiKey(tenant.id)
  // Hold every connection of the pool, as a saturated pool would.
  let release!: () => void
  const held = new Promise<void>((r) => (release = r))
  const holders = [1, 2].map(() => h.db.connection().execute(() => held))
  await new Promise((r) => setTimeout(r, 100))
  const res = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}`,
    headers: key.headers,
  })
  release()
  await Promise.all(holders)
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '1')
  t.equal(res.json().error.code, 'DATABASE_BUSY')
  const after = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}`,
    headers: key.headers,
  })
  t.equal(after.statusCode, 200, 'served again once connections are free')
})
