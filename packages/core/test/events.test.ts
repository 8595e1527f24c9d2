// Custom events: validation, batches, idempotency keys, and what analytics then sees.
import t from 'tap'
import { withTenant } from '@xeno/db'
import { createTestDatabase } from '@xeno/db/testing'
import {
  ConflictError,
  createAnalyticsService,
  createEventsService,
  customEventsBody,
  recordCustomEvents,
  refreshAnalyticsRollups,
  ValidationError,
} from '@xeno/core'
import { insertTenant, withOwner } from './analytics-fixtures.ts'

const tdb = await createTestDatabase()
t.teardown(tdb.close)
const NOW = new Date('2026-06-01T12:00:00Z')
const events = createEventsService({ db: tdb.db, now: () => NOW })
const analytics = createAnalyticsService({ db: tdb.db, now: () => NOW })

const newTenant = (zone = 'UTC') => withOwner(tdb.ownerUrl, (c) => insertTenant(c, { zone }))
const stored = async (tenantId: string) =>
  withOwner(tdb.ownerUrl, async (c) => {
    const { rows } = await c.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM custom_events WHERE tenant_id = $1',
      [tenantId],
    )
    return rows[0]!.n
  })
const fieldsOf = async (p: Promise<unknown>) => {
  try {
    await p
  } catch (err) {
    if (err instanceof ValidationError) return err.fields?.map((f) => f.field)
    throw err
  }
  return undefined
}

t.test('the body schema: a single event or a batch of 1–500', async (t) => {
  const ev = { event_type: 'page_view', occurred_at: '2026-06-01T10:00:00Z' }
  t.ok(customEventsBody.safeParse(ev).success)
  t.ok(customEventsBody.safeParse({ events: Array(500).fill(ev) }).success, '500 is fine')
  t.notOk(customEventsBody.safeParse({ events: Array(501).fill(ev) }).success, '501 is not')
  t.notOk(customEventsBody.safeParse({ events: [] }).success, 'an empty batch is not')
  for (const bad of ['Page_View', 'a b', '', 'x'.repeat(65), 'é'])
    t.notOk(customEventsBody.safeParse({ ...ev, event_type: bad }).success, `type ${bad}`)
  t.ok(customEventsBody.safeParse({ ...ev, event_type: 'a.b:c-d_1' }).success)
  t.ok(customEventsBody.safeParse({ ...ev, event_type: 'x'.repeat(64) }).success)
  t.notOk(customEventsBody.safeParse({ ...ev, occurred_at: '2026-06-01' }).success)
  t.notOk(customEventsBody.safeParse({ ...ev, properties: [1, 2] }).success, 'array properties')
  t.notOk(customEventsBody.safeParse({ ...ev, customer_id: -3 }).success)
  t.ok(customEventsBody.safeParse({ ...ev, customer_id: '7100000185037' }).success)
})

t.test('stores events; future and oversized ones are 400s naming the field', async (t) => {
  const tenantId = await newTenant()
  const one = await events.record(tenantId, {
    event_type: 'checkout_started',
    occurred_at: '2026-06-01T11:59:00Z',
    customer_id: 42,
    session_id: 's-1',
    properties: { cart: { items: 3 } },
  })
  t.equal(one.stored, 1)
  t.equal(one.events[0]?.status, 'stored')
  t.equal(await stored(tenantId), 1)

  t.same(
    await fieldsOf(
      events.record(tenantId, { event_type: 'x', occurred_at: '2026-06-01T12:05:01Z' }),
    ),
    ['occurred_at'],
    'more than 5 minutes ahead',
  )
  const ok = await events.record(tenantId, {
    event_type: 'x',
    occurred_at: '2026-06-01T12:04:59Z',
  })
  t.equal(ok.stored, 1, 'just under 5 minutes ahead is clock skew, accepted')
  t.same(
    await fieldsOf(
      events.record(tenantId, {
        events: [
          { event_type: 'x', occurred_at: '2026-06-01T10:00:00Z' },
          {
            event_type: 'x',
            occurred_at: '2026-06-01T10:00:00Z',
            properties: { blob: 'y'.repeat(16 * 1024) },
          },
        ],
      }),
    ),
    ['events.1.properties'],
  )
  t.equal(await stored(tenantId), 2, 'a rejected batch stores nothing')
})

t.test('idempotency keys: same body is a duplicate, another body a 409', async (t) => {
  const tenantId = await newTenant()
  const ev = {
    event_type: 'add_to_cart',
    occurred_at: '2026-06-01T10:00:00Z',
    properties: { sku: 'A', qty: 1 },
    idempotency_key: 'k-1',
  }
  const first = await events.record(tenantId, ev)
  // The same content spelled differently: other key order, the same instant with an offset.
  const again = await events.record(tenantId, {
    ...ev,
    occurred_at: '2026-06-01T12:00:00+02:00',
    properties: { qty: 1, sku: 'A' },
  })
  t.equal(again.stored, 0)
  t.equal(again.events[0]?.status, 'duplicate')
  t.equal(again.events[0]?.id, first.events[0]?.id, 'the duplicate answers the stored id')
  t.equal(await stored(tenantId), 1)

  await t.rejects(
    events.record(tenantId, { ...ev, properties: { sku: 'B', qty: 1 } }),
    ConflictError,
  )
  // A batch carrying a conflicting key stores none of its events.
  await t.rejects(
    events.record(tenantId, {
      events: [
        { event_type: 'page_view', occurred_at: '2026-06-01T10:00:00Z', idempotency_key: 'k-2' },
        { ...ev, event_type: 'other' },
      ],
    }),
    ConflictError,
  )
  t.equal(await stored(tenantId), 1)

  // Within one batch: the same key twice with the same body is one event; with another, a 409.
  const batch = await events.record(tenantId, {
    events: [
      { event_type: 'page_view', occurred_at: '2026-06-01T10:00:00Z', idempotency_key: 'k-3' },
      { event_type: 'page_view', occurred_at: '2026-06-01T10:00:00Z', idempotency_key: 'k-3' },
      { event_type: 'page_view', occurred_at: '2026-06-01T10:00:00Z' },
      { event_type: 'page_view', occurred_at: '2026-06-01T10:00:00Z' },
    ],
  })
  t.same(
    batch.events.map((e) => e.status),
    ['stored', 'duplicate', 'stored', 'stored'],
    'events without a key are never deduplicated',
  )
  t.equal(batch.events[0]?.id, batch.events[1]?.id)
  await t.rejects(
    events.record(tenantId, {
      events: [
        { event_type: 'a', occurred_at: '2026-06-01T10:00:00Z', idempotency_key: 'k-4' },
        { event_type: 'b', occurred_at: '2026-06-01T10:00:00Z', idempotency_key: 'k-4' },
      ],
    }),
    ConflictError,
  )
  t.equal(await stored(tenantId), 4)

  // Keys are per tenant.
  const other = await newTenant()
  t.equal((await events.record(other, ev)).stored, 1)
})

t.test('concurrent repeats of one key store it once', async (t) => {
  const tenantId = await newTenant()
  const ev = { event_type: 'signup', occurred_at: '2026-06-01T10:00:00Z', idempotency_key: 'c' }
  const results = await Promise.all(Array.from({ length: 5 }, () => events.record(tenantId, ev)))
  t.equal(
    results.reduce((a, r) => a + r.stored, 0),
    1,
  )
  t.equal(await stored(tenantId), 1)
  t.equal(new Set(results.map((r) => r.events[0]?.id)).size, 1)
})

t.test('analytics sees events in the shop zone; the funnel caps and nulls', async (t) => {
  const tenantId = await newTenant('Asia/Kolkata')
  // 19:00 UTC on 30 May is 00:30 on 31 May in Kolkata.
  await events.record(tenantId, {
    events: [
      { event_type: 'checkout_started', occurred_at: '2026-05-30T19:00:00Z' },
      { event_type: 'checkout_started', occurred_at: '2026-05-30T18:00:00Z' },
      { event_type: 'page_view', occurred_at: '2026-05-30T18:00:00Z' },
    ],
  })
  await withOwner(tdb.ownerUrl, (c) =>
    c.query(
      `INSERT INTO orders (tenant_id, id, name, currency, total_price, processed_at, created_at,
         updated_at)
       SELECT $1, g, '#' || g, 'USD', 10, '2026-05-31T06:00:00Z', now(), now()
       FROM generate_series(1, 3) g`,
      [tenantId],
    ),
  )
  await withTenant(tdb.db, tenantId, (trx) =>
    refreshAnalyticsRollups(trx, tenantId, { orderIds: ['1', '2', '3'] }),
  )
  const res = await analytics.events(tenantId, { from: '2026-05-30', to: '2026-05-31' })
  t.same(res.series, [
    {
      start: '2026-05-30',
      end: '2026-05-30',
      total: 2,
      by_type: { checkout_started: 1, page_view: 1 },
    },
    {
      start: '2026-05-31',
      end: '2026-05-31',
      total: 1,
      by_type: { checkout_started: 1, page_view: 0 },
    },
  ])
  t.same(
    res.funnel.series.map((b) => [b.checkouts_started, b.orders, b.rate]),
    [
      [1, 0, 0],
      [1, 3, 1],
    ],
    'three orders after one checkout: the rate is capped at 1',
  )
  t.same([res.funnel.checkouts_started, res.funnel.orders, res.funnel.rate], [2, 3, 1])
  const s = await analytics.summary(tenantId, { from: '2026-05-30', to: '2026-05-31' })
  t.equal(s.current.events, 3)
})

t.test('recordCustomEvents joins a caller transaction (webhook checkouts)', async (t) => {
  const tenantId = await newTenant()
  await t.rejects(
    withTenant(tdb.db, tenantId, async (trx) => {
      await recordCustomEvents(trx, tenantId, [
        { event_type: 'checkout_started', occurred_at: '2026-06-01T10:00:00Z' },
      ])
      throw new Error('the webhook job failed later')
    }),
  )
  t.equal(await stored(tenantId), 0, 'rolled back with the caller')
})
