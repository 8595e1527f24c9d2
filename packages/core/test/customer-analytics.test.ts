// Cohorts, repeat purchase, RFM segments and lifetime value equal an independent TypeScript
// computation (customer-analytics-truth.ts) over the seeded rows, to the cent, in three shop
// zones whose ranges cross DST changes (New York, Sydney) or none (Kolkata). Each shop also has
// customers whose first order was cancelled, refunded or a test order, a deleted and a redacted
// customer, two orders on one local day, and orders and refunds outside the window.
import t from 'tap'
import { withTenant } from '@xeno/db'
import { createTestDatabase } from '@xeno/db/testing'
import {
  createCustomerAnalyticsService,
  rebuildAnalyticsRollups,
  refreshAnalyticsRollups,
  RFM_SEGMENTS,
} from '@xeno/core'
import {
  addDays,
  generateShop,
  insertOrders,
  insertShopRows,
  insertTenant,
  money,
  withOwner,
  type Seeded,
} from './analytics-fixtures.ts'
import {
  customerFacts,
  expectedCohorts,
  expectedLtv,
  expectedRepeat,
  expectedRfm,
} from './customer-analytics-truth.ts'

const tdb = await createTestDatabase()
t.teardown(tdb.close)
const service = createCustomerAnalyticsService({ db: tdb.db })

const SHOPS = [
  // New York: falls back 2025-11-02, springs forward 2026-03-08, both inside the range.
  {
    seed: 41,
    zone: 'America/New_York',
    gen: { from: '2025-09-01T00:00:00Z', to: '2026-04-15T00:00:00Z' },
    query: { from: '2025-10-05', to: '2026-04-10' },
  },
  // Kolkata: +05:30, no DST.
  {
    seed: 42,
    zone: 'Asia/Kolkata',
    gen: { from: '2026-01-01T00:00:00Z', to: '2026-08-01T00:00:00Z' },
    query: { from: '2026-01-10', to: '2026-07-20' },
  },
  // Sydney: springs forward 2025-10-05, falls back 2026-04-05, both inside the range.
  {
    seed: 43,
    zone: 'Australia/Sydney',
    gen: { from: '2025-09-15T00:00:00Z', to: '2026-05-20T00:00:00Z' },
    query: { from: '2025-10-01', to: '2026-04-30' },
  },
] as const

/** About local noon of a date in a zone, as an instant (noon keeps DST shifts off the date). */
const noonIn = (date: string, zone: string) => {
  const guess = Date.parse(`${date}T12:00:00Z`)
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(guess))
      .map((p) => [p.type, p.value]),
  )
  const local = Date.parse(
    `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:00Z`,
  )
  return guess - (local - guess)
}

type Special = {
  id: number
  /** [local date offset from `from` (or absolute), cents, flags] */
  orders: {
    on: string
    cents: number
    test?: boolean
    cancelled?: boolean
    refund?: [string, number]
  }[]
  deleted?: boolean
  redacted?: boolean
}

function specials(q: { from: string; to: string }): Special[] {
  const d = (n: number) => addDays(q.from, n)
  return [
    // First order cancelled: the customer's cohort is the second order's.
    {
      id: 9_000_001,
      orders: [
        { on: d(3), cents: 5000, cancelled: true },
        { on: d(20), cents: 4200 },
      ],
    },
    // First order refunded in full the next day: counted, net 0.
    {
      id: 9_000_002,
      orders: [
        { on: d(4), cents: 7000, refund: [d(5), 7000] },
        { on: d(40), cents: 1000 },
      ],
    },
    // First order a test order.
    {
      id: 9_000_003,
      orders: [
        { on: d(2), cents: 9900, test: true },
        { on: d(11), cents: 2500 },
      ],
    },
    // Deleted customer: their counted orders still count.
    {
      id: 9_000_004,
      deleted: true,
      orders: [
        { on: d(6), cents: 3100 },
        { on: d(50), cents: 1700 },
      ],
    },
    // Redacted customer, two orders on the same local day (0 days to the second order).
    {
      id: 9_000_005,
      redacted: true,
      orders: [
        { on: d(9), cents: 1200 },
        { on: d(9), cents: 800 },
        { on: d(31), cents: 600 },
      ],
    },
    // First order before the window: in no cohort, but in the RFM window.
    {
      id: 9_000_006,
      orders: [
        { on: d(-10), cents: 4000 },
        { on: d(15), cents: 4500 },
      ],
    },
    // Only an order after the window.
    { id: 9_000_007, orders: [{ on: addDays(q.to, 2), cents: 8000 }] },
    // A refund after the window does not count; one inside it does.
    {
      id: 9_000_008,
      orders: [
        { on: d(1), cents: 6000, refund: [addDays(q.to, 1), 6000] },
        { on: addDays(q.to, -3), cents: 3000, refund: [q.to, 500] },
      ],
    },
  ]
}

async function seed(shop: (typeof SHOPS)[number]): Promise<Seeded> {
  const data = generateShop({
    seed: shop.seed,
    zone: shop.zone,
    from: shop.gen.from,
    to: shop.gen.to,
    orders: 1800,
    customers: 300,
    products: 30,
    events: 0,
  })
  const template = data.orders[0]!
  let nextId = 8_000_000_000
  for (const sp of specials(shop.query)) {
    data.customers.push({
      ...data.customers[0]!,
      id: sp.id,
      email: `special-${sp.id}@example.com`,
      deletedAt: sp.deleted ? Date.parse(shop.gen.to) : null,
    })
    for (const o of sp.orders) {
      const at = noonIn(o.on, shop.zone)
      const id = nextId++
      data.orders.push({
        ...template,
        id,
        name: `#S${id}`,
        customerId: sp.id,
        processedAt: at,
        createdAt: at,
        updatedAt: at,
        total: o.cents,
        test: o.test ?? false,
        cancelledAt: o.cancelled ? at + 3_600_000 : null,
        deletedAt: null,
        lineItems: template.lineItems.map((li, k) => ({ ...li, id: id * 10 + k })),
        refunds: o.refund
          ? [
              {
                ...(template.refunds[0] ?? { processedAt: at }),
                id: id * 10,
                amount: o.refund[1],
                createdAt: noonIn(o.refund[0], shop.zone),
                processedAt: noonIn(o.refund[0], shop.zone),
              } as (typeof template.refunds)[number],
            ]
          : [],
      })
    }
  }
  const tenantId = await withOwner(tdb.ownerUrl, async (c) => {
    const id = await insertTenant(c, { zone: shop.zone })
    await insertShopRows(c, id, { ...data, orders: [] })
    // customers/redact erases the person, keeps the amounts.
    await c.query(
      `UPDATE customers SET email = NULL, first_name = NULL, last_name = NULL, phone = NULL
       WHERE tenant_id = $1 AND id = 9000005`,
      [id],
    )
    return id
  })
  await withTenant(tdb.db, tenantId, (trx) => rebuildAnalyticsRollups(trx, tenantId))
  // The writers' path: orders arrive in batches, each refreshing what it touches.
  for (let i = 0; i < data.orders.length; i += 400) {
    const batch = data.orders.slice(i, i + 400)
    await withOwner(tdb.ownerUrl, (c) => insertOrders(c, tenantId, batch))
    await withTenant(tdb.db, tenantId, (trx) =>
      refreshAnalyticsRollups(trx, tenantId, { orderIds: batch.map((o) => o.id) }),
    )
  }
  return { ...data, tenantId }
}

for (const shop of SHOPS) {
  t.test(`${shop.zone}: every customer figure equals the recomputation`, async (t) => {
    const s = await seed(shop)
    const facts = customerFacts(s)
    const { from, to } = shop.query
    const special = specials(shop.query)

    // The fixture holds what the test claims to cover.
    const counted = (id: number) => facts.first.get(id)
    t.equal(counted(9_000_001), addDays(from, 20), 'cancelled first order skipped')
    t.equal(counted(9_000_003), addDays(from, 11), 'test first order skipped')
    t.ok(s.orders.some((o) => o.cancelledAt !== null && o.customerId !== null))
    t.ok(s.customers.some((c) => c.deletedAt !== null))
    t.ok(special.length > 0)

    for (const g of ['month', 'week'] as const) {
      const got = await service.cohorts(s.tenantId, { from, to, granularity: g })
      t.same(got.range, { from, to, granularity: g, zone: shop.zone, currency: 'USD' })
      const want = expectedCohorts(facts, from, to, g)
      t.same(got.cohorts, want, `${g} cohorts`)
      t.ok(
        want.some((c) => c.periods.some((p) => p.period > 0 && p.customers > 0)),
        `${g}: some cohort came back`,
      )
      // Triangular: cohort i has one period per bucket from its own through the last.
      t.same(
        got.cohorts.map((c) => c.periods.length),
        got.cohorts.map((_, i) => got.cohorts.length - i),
      )
    }
    // Whole months and whole weeks read the stored matrix (cohort_metrics, kept by the writers
    // batch by batch above): the same figures.
    const monthFrom = from.endsWith('-01')
      ? from
      : `${addDays(`${from.slice(0, 8)}28`, 7).slice(0, 8)}01`
    const monthTo = addDays(`${to.slice(0, 8)}01`, -1)
    const dow = (d: string) => new Date(`${d}T00:00:00Z`).getUTCDay()
    const weekFrom = addDays(from, (8 - dow(from)) % 7)
    const weekTo = addDays(to, -dow(to))
    for (const [g, f, l] of [
      ['month', monthFrom, monthTo],
      ['week', weekFrom, weekTo],
    ] as const) {
      const stored = await service.cohorts(s.tenantId, { from: f, to: l, granularity: g })
      t.same(stored.cohorts, expectedCohorts(facts, f, l, g), `stored ${g} cohorts ${f}…${l}`)
      t.ok(stored.cohorts.length >= 3)
    }
    // A shorter window inside the data: customers whose first order is before it are in no cohort.
    const mid = { from: addDays(from, 35), to: addDays(from, 120) }
    t.same(
      (await service.cohorts(s.tenantId, { ...mid, granularity: 'month' })).cohorts,
      expectedCohorts(facts, mid.from, mid.to, 'month'),
      'cohorts of an inner window',
    )

    const repeat = await service.repeatPurchase(s.tenantId, { from, to })
    const { range: _r, ...repeatFigures } = repeat
    t.same(repeatFigures, expectedRepeat(facts, from, to), 'repeat purchase')
    t.ok(repeat.days_to_second_order.histogram[0]!.customers >= 1, 'a same-day second order')

    const rfmWant = expectedRfm(facts, from, to)
    const rfm = await service.rfm(s.tenantId, { from, to })
    t.equal(rfm.customers, rfmWant.length)
    t.same(
      rfm.segments,
      RFM_SEGMENTS.map((segment) => {
        const mine = rfmWant.filter((c) => c.segment === segment)
        return {
          segment,
          customers: mine.length,
          share: Math.round((mine.length * 10_000) / rfmWant.length) / 10_000,
          net_sales: money(mine.reduce((a, c) => a + c.monetary, 0n)),
        }
      }),
      'RFM segments',
    )
    for (const cell of rfm.grid)
      t.equal(
        cell.customers,
        rfmWant.filter((c) => c.r === cell.r && c.f === cell.f).length,
        `grid R${cell.r} F${cell.f}`,
      )
    t.ok(rfm.segments.filter((x) => x.customers > 0).length >= 4, 'several segments populated')

    // Every customer's scores, paging through all of them and through one segment.
    const sorted = [...rfmWant].sort((a, b) =>
      a.monetary === b.monetary ? a.customer - b.customer : a.monetary > b.monetary ? -1 : 1,
    )
    const seen: unknown[] = []
    for (let offset = 0; ; offset += 97) {
      const page = await service.rfmCustomers(s.tenantId, { from, to, limit: 97, offset })
      t.equal(page.total, rfmWant.length)
      if (page.customers.length === 0) break
      seen.push(...page.customers)
    }
    t.same(
      seen,
      sorted.map((c) => {
        const cu = s.customers.find((x) => x.id === c.customer)
        const redacted = c.customer === 9_000_005
        return {
          customer_id: String(c.customer),
          email: redacted ? null : (cu?.email ?? null),
          first_name: redacted ? null : (cu?.firstName ?? null),
          last_name: redacted ? null : (cu?.lastName ?? null),
          last_order_date: c.last,
          recency_days: c.recency,
          frequency: c.frequency,
          monetary: money(c.monetary),
          r: c.r,
          f: c.f,
          m: c.m,
          segment: c.segment,
        }
      }),
      'every customer, scored and paged',
    )
    const busiest = rfm.segments.reduce((a, b) => (b.customers > a.customers ? b : a))
    const page = await service.rfmCustomers(s.tenantId, {
      from,
      to,
      segment: busiest.segment,
      limit: 5,
      offset: 2,
    })
    t.equal(page.total, busiest.customers)
    t.same(
      page.customers.map((c) => c.customer_id),
      sorted
        .filter((c) => c.segment === busiest.segment)
        .slice(2, 7)
        .map((c) => String(c.customer)),
      `page of ${busiest.segment}`,
    )

    const ltv = await service.lifetimeValue(s.tenantId, { from, to })
    const { range: _l, ...ltvFigures } = ltv
    t.same(ltvFigures, expectedLtv(facts, from, to), 'lifetime value')
    t.ok(ltv.ltv[2]!.customers > 0, '180-day horizon has customers')
  })
}

t.test('bad input names the field; an empty tenant is zero-filled', async (t) => {
  const tenantId = await withOwner(tdb.ownerUrl, (c) => insertTenant(c, { zone: 'UTC' }))
  t.match(await service.cohorts(tenantId, { from: '2026-02-30' }).catch((e: unknown) => e), {
    fields: [{ field: 'from' }],
  })
  t.match(
    await service.cohorts(tenantId, { granularity: 'day' as 'week' }).catch((e: unknown) => e),
    {
      fields: [{ field: 'granularity' }],
    },
  )
  const c = await service.cohorts(tenantId, { from: '2026-01-01', to: '2026-03-31' })
  t.same(
    c.cohorts.map((x) => [x.customers, x.periods.map((p) => [p.customers, p.share, p.net_sales])]),
    [
      [
        0,
        [
          [0, null, '0.00'],
          [0, null, '0.00'],
          [0, null, '0.00'],
        ],
      ],
      [
        0,
        [
          [0, null, '0.00'],
          [0, null, '0.00'],
        ],
      ],
      [0, [[0, null, '0.00']]],
    ],
  )
  const rfm = await service.rfm(tenantId, { to: '2026-03-31' })
  t.equal(rfm.range.from, '2025-04-01', 'RFM defaults to the 365 days ending at `to`')
  t.equal(rfm.customers, 0)
  const l = await service.lifetimeValue(tenantId, { from: '2026-01-01', to: '2026-01-31' })
  t.same(l.ltv[0], { days: 30, customers: 0, net_sales: '0.00', average: null })
})
