// Analytics routes over real HTTP: auth (viewer suffices, other tenants 404), query validation
// naming the field, the envelope, and figures as decimal strings in the shop's zone.
import t, { type Test } from 'tap'
import { createAnalyticsService, createEventsService } from '@xeno/core'
import { buildTestApp } from './support/app.ts'

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

async function setup(t: Test) {
  const h = await buildTestApp(t, {
    deps: ({ db }) => ({
      analytics: createAnalyticsService({ db }),
      events: createEventsService({ db }),
    }),
  })
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const address = h.app.server.address()
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers })
    return { status: res.status, body: (await res.json()) as any }
  }
  const tenant = await h.tenant()
  await h.ownerQuery(
    `UPDATE tenants SET iana_timezone = 'Asia/Kolkata', currency = 'INR'
    WHERE id = $1`,
    [tenant.id],
  )
  // 20:00 UTC on 1 March is 01:30 on 2 March in Kolkata; the refund lands on 3 March local.
  await h.ownerQuery(
    `INSERT INTO orders (tenant_id, id, name, customer_id, currency, total_price, processed_at,
       created_at, updated_at, financial_status)
     VALUES ($1, 1, '#1001', 77, 'INR', 1999.99, '2026-03-01T20:00:00Z', now(), now(), 'paid'),
            ($1, 2, '#1002', 77, 'INR', 0.01, '2026-03-02T10:00:00Z', now(), now(), 'paid'),
            ($1, 3, '#1003', NULL, 'INR', 500, '2026-03-02T10:00:00Z', now(), now(), 'paid')`,
    [tenant.id],
  )
  await h.ownerQuery(`UPDATE orders SET test = true WHERE tenant_id = $1 AND id = 3`, [tenant.id])
  await h.ownerQuery(
    `INSERT INTO refunds (tenant_id, id, order_id, amount, created_at)
     VALUES ($1, 10, 1, 999.99, '2026-03-02T19:00:00Z')`,
    [tenant.id],
  )
  const viewer = await h.user(tenant.id)
  return { h, base, get, tenant, viewer }
}

t.test('every endpoint answers a viewer with the range, zone and currency', async (t) => {
  const { get, tenant, viewer } = await setup(t)
  for (const e of ENDPOINTS) {
    const res = await get(
      `/api/tenants/${tenant.id}/${e}?from=2026-03-01&to=2026-03-03&granularity=day`,
      viewer.basic,
    )
    t.equal(res.status, 200, e)
    t.same(
      res.body.data.range,
      {
        from: '2026-03-01',
        to: '2026-03-03',
        granularity: 'day',
        zone: 'Asia/Kolkata',
        currency: 'INR',
      },
      `${e} echoes the range`,
    )
  }
  const rev = await get(
    `/api/tenants/${tenant.id}/metrics/revenue?from=2026-03-01&to=2026-03-03`,
    viewer.basic,
  )
  t.same(
    rev.body.data.series.map((b: any) => [
      b.start,
      b.orders,
      b.gross_sales,
      b.refunds,
      b.net_sales,
    ]),
    [
      ['2026-03-01', 0, '0.00', '0.00', '0.00'],
      ['2026-03-02', 2, '2000.00', '0.00', '2000.00'],
      ['2026-03-03', 0, '0.00', '999.99', '-999.99'],
    ],
    'money as decimal strings, bucketed in Kolkata, the test order left out',
  )
  const top = await get(
    `/api/tenants/${tenant.id}/metrics/customers?from=2026-03-01&to=2026-03-03&limit=1`,
    viewer.basic,
  )
  t.same(
    top.body.data.customers.map((c: any) => [c.customer_id, c.orders, c.net_spend]),
    [['77', 2, '1000.01']],
  )
  const summary = await get(
    `/api/tenants/${tenant.id}/analytics?from=2026-03-02&to=2026-03-03`,
    viewer.basic,
  )
  t.equal(summary.body.data.current.aov, '1000.00')
  t.equal(summary.body.data.previous.from, '2026-02-28')
  t.equal(summary.body.data.current.returning_customer_rate, 1)
})

t.test('auth: no credentials 401, another tenant 404', async (t) => {
  const { h, get, tenant } = await setup(t)
  const other = await h.tenant()
  const strangerSession = await h.session(await h.user(other.id, { role: 'owner' }))
  const strangerKey = await h.apiKey(other.id)
  for (const e of ENDPOINTS) {
    const url = `/api/tenants/${tenant.id}/${e}`
    t.equal((await get(url)).status, 401, `${e} without credentials`)
    t.equal((await get(url, strangerSession)).status, 404, `${e}: another tenant's session`)
    t.equal((await get(url, strangerKey.headers)).status, 404, `${e}: another tenant's key`)
  }
  const key = await h.apiKey(tenant.id)
  t.equal((await get(`/api/tenants/${tenant.id}/metrics/revenue`, key.headers)).status, 200)
  const admin = await h.admin()
  t.equal((await get(`/api/tenants/${tenant.id}/analytics`, admin.headers)).status, 200, 'admin')
})

t.test('bad queries are 400s naming the field', async (t) => {
  const { get, tenant, viewer } = await setup(t)
  const field = async (query: string) => {
    const res = await get(`/api/tenants/${tenant.id}/metrics/revenue?${query}`, viewer.basic)
    t.equal(res.status, 400, query)
    t.equal(res.body.error.code, 'VALIDATION_ERROR')
    return res.body.error.fields.map((f: any) => f.field)
  }
  t.same(await field('from=2026-02-30&to=2026-03-03'), ['query.from'])
  t.same(await field('from=03/01/2026'), ['query.from'])
  t.same(await field('from=2026-03-04&to=2026-03-03'), ['query.to'])
  t.same(await field('from=2020-01-01&to=2025-01-01'), ['query.to'])
  t.same(await field('granularity=year'), ['querystring.granularity'])
  const limit = await get(`/api/tenants/${tenant.id}/metrics/products?limit=101`, viewer.basic)
  t.equal(limit.status, 400)
  t.match(limit.body.error.fields[0].field, /limit/)
  const ok = await get(`/api/tenants/${tenant.id}/metrics/revenue`, viewer.basic)
  t.equal(ok.status, 200, 'defaults: the last 30 days')
  t.equal(ok.body.data.series.length, 30)
})

t.test('POST /api/events with an API key; idempotency over HTTP', async (t) => {
  const { h, base, get, tenant, viewer } = await setup(t)
  const key = await h.apiKey(tenant.id)
  const post = async (body: unknown, headers: Record<string, string> = key.headers) => {
    const res = await fetch(`${base}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
    return { status: res.status, body: (await res.json()) as any }
  }
  const ev = {
    event_type: 'checkout_started',
    occurred_at: '2026-03-02T05:00:00Z',
    session_id: 'sess-1',
    properties: { cart_total: '12.50' },
    idempotency_key: 'evt-1',
  }
  const first = await post(ev)
  t.equal(first.status, 202)
  t.same([first.body.data.stored, first.body.data.duplicates], [1, 0])
  const again = await post(ev)
  t.equal(again.status, 202)
  t.same([again.body.data.stored, again.body.data.duplicates], [0, 1])
  const conflict = await post({ ...ev, properties: { cart_total: '13.00' } })
  t.equal(conflict.status, 409)
  t.equal(conflict.body.error.code, 'IDEMPOTENCY_CONFLICT')

  t.equal((await post(ev, {})).status, 401, 'no key')
  t.equal((await post(ev, viewer.basic)).status, 401, 'a user is not an API key')
  const future = await post({
    ...ev,
    idempotency_key: 'evt-2',
    occurred_at: '2099-01-01T00:00:00Z',
  })
  t.equal(future.status, 400)
  t.same(
    future.body.error.fields.map((f: any) => f.field),
    ['body.occurred_at'],
  )
  const badType = await post({ ...ev, event_type: 'Checkout Started' })
  t.equal(badType.status, 400)
  const tooMany = await post({
    events: Array.from({ length: 501 }, () => ({ event_type: 'x', occurred_at: ev.occurred_at })),
  })
  t.equal(tooMany.status, 400, '501 events')
  const batch = await post({
    events: Array.from({ length: 500 }, (_, i) => ({
      event_type: i % 2 ? 'page_view' : 'checkout_started',
      occurred_at: ev.occurred_at,
    })),
  })
  t.equal(batch.status, 202, '500 events')
  t.equal(batch.body.data.stored, 500)

  const metrics = await get(
    `/api/tenants/${tenant.id}/metrics/events?from=2026-03-02&to=2026-03-02`,
    viewer.basic,
  )
  t.same(metrics.body.data.totals, {
    total: 501,
    by_type: { checkout_started: 251, page_view: 250 },
  })
  t.same([metrics.body.data.funnel.checkouts_started, metrics.body.data.funnel.orders], [251, 2])
})
