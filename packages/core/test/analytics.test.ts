// Every analytics endpoint's figures equal an independent TypeScript computation over the fake
// Shopify's ground truth, to the cent, in three shop zones (one with a DST change in range, two
// east of UTC), for day, week and month buckets.
import t from 'tap'
import { withTenant } from '@xeno/db'
import { createTestDatabase } from '@xeno/db/testing'
import {
  createAnalyticsService,
  createEventsService,
  rebuildAnalyticsRollups,
  refreshAnalyticsRollups,
} from '@xeno/core'
import {
  addDays,
  aovOf,
  buckets,
  bucketOf,
  generateShop,
  insertOrders,
  insertShopRows,
  insertTenant,
  isCounted,
  localDate,
  money,
  setAmountSpent,
  withOwner,
  type Gran,
  type Seeded,
  FEWEST_SEEDS,
} from './analytics-fixtures.ts'

const tdb = await createTestDatabase()
t.teardown(tdb.close)
const analytics = createAnalyticsService({ db: tdb.db })
// The bounded top-customer search, forced on every range and in small steps.
const bounded = createAnalyticsService({
  db: tdb.db,
  ranking: { scanMaxOrders: 0, candidateBatch: 7, windowSeeds: 0, windowMaxCandidates: 0 },
})
// The spend-window ranking with as few seeds as the limit.
const windowed = createAnalyticsService({ db: tdb.db, ranking: FEWEST_SEEDS })
const events = createEventsService({ db: tdb.db, now: () => new Date('2030-01-01T00:00:00Z') })

const SHOPS = [
  // New York springs forward on 2026-03-08 (a 23-hour local day inside the range).
  {
    seed: 11,
    zone: 'America/New_York',
    gen: { from: '2026-01-10T00:00:00Z', to: '2026-04-15T00:00:00Z' },
    query: { from: '2026-02-04', to: '2026-03-31' },
  },
  // India: +05:30, east of UTC, no DST.
  {
    seed: 22,
    zone: 'Asia/Kolkata',
    gen: { from: '2026-04-20T00:00:00Z', to: '2026-08-01T00:00:00Z' },
    query: { from: '2026-05-13', to: '2026-07-20' },
  },
  // Sydney: +11:00 → +10:00 on 2026-04-05 (a 25-hour local day inside the range).
  {
    seed: 33,
    zone: 'Australia/Sydney',
    gen: { from: '2026-02-20T00:00:00Z', to: '2026-05-20T00:00:00Z' },
    query: { from: '2026-03-09', to: '2026-04-30' },
  },
] as const

async function seed(shop: (typeof SHOPS)[number]): Promise<Seeded> {
  const data = generateShop({
    seed: shop.seed,
    zone: shop.zone,
    from: shop.gen.from,
    to: shop.gen.to,
    orders: 1500,
    customers: 300,
    products: 40,
    events: 1200,
  })
  const tenantId = await withOwner(tdb.ownerUrl, async (c) => {
    const id = await insertTenant(c, { zone: shop.zone })
    await insertShopRows(c, id, { ...data, orders: [] })
    return id
  })
  // The writers' path: rollups exist before the data, then orders arrive in batches and each
  // batch refreshes the days it touches.
  await withTenant(tdb.db, tenantId, (trx) => rebuildAnalyticsRollups(trx, tenantId))
  for (let i = 0; i < data.orders.length; i += 250) {
    const batch = data.orders.slice(i, i + 250)
    await withOwner(tdb.ownerUrl, (c) => insertOrders(c, tenantId, batch))
    await withTenant(tdb.db, tenantId, (trx) =>
      refreshAnalyticsRollups(trx, tenantId, { orderIds: batch.map((o) => o.id) }),
    )
  }
  await withOwner(tdb.ownerUrl, (c) => setAmountSpent(c, tenantId, data.orders))
  for (let i = 0; i < data.events.length; i += 500)
    await events.record(tenantId, {
      events: data.events.slice(i, i + 500).map((e) => ({
        event_type: e.eventType,
        occurred_at: new Date(e.occurredAt).toISOString(),
        customer_id: e.customerId,
      })),
    })
  return { ...data, tenantId }
}

// ------------------------------------------------------------ expected figures

function expectedRevenue(s: Seeded, from: string, to: string, g: Gran) {
  const per = new Map<string, { orders: number; gross: bigint; refunds: bigint }>()
  const bs = buckets(from, to, g)
  for (const b of bs.keys()) per.set(b, { orders: 0, gross: 0n, refunds: 0n })
  const inRange = (d: string) => d >= from && d <= to
  for (const o of s.orders) {
    if (!isCounted(o)) continue
    const d = localDate(o.processedAt, s.zone)
    if (inRange(d)) {
      const p = per.get(bucketOf(d, g))!
      p.orders++
      p.gross += BigInt(o.total)
    }
    for (const r of o.refunds) {
      const rd = localDate(r.createdAt, s.zone)
      if (inRange(rd)) per.get(bucketOf(rd, g))!.refunds += BigInt(r.amount)
    }
  }
  let co = 0
  let cg = 0n
  let cr = 0n
  return [...bs].map(([b, span]) => {
    const p = per.get(b)!
    co += p.orders
    cg += p.gross
    cr += p.refunds
    return {
      start: span.start,
      end: span.end,
      orders: p.orders,
      gross_sales: money(p.gross),
      refunds: money(p.refunds),
      net_sales: money(p.gross - p.refunds),
      aov: aovOf(p.gross, p.orders),
      cumulative: {
        orders: co,
        gross_sales: money(cg),
        refunds: money(cr),
        net_sales: money(cg - cr),
      },
    }
  })
}

function expectedOrders(s: Seeded, from: string, to: string, g: Gran) {
  const bs = buckets(from, to, g)
  const fin = new Set<string>()
  const ful = new Set<string>()
  const counted = s.orders
    .filter(isCounted)
    .map((o) => ({ o, d: localDate(o.processedAt, s.zone) }))
    .filter((x) => x.d >= from && x.d <= to)
  for (const { o } of counted) {
    fin.add(o.financialStatus.toLowerCase())
    ful.add(o.fulfillmentStatus.toLowerCase())
  }
  const zeros = (k: Set<string>) =>
    Object.fromEntries([...k].sort().map((x) => [x, 0])) as Record<string, number>
  const out = new Map(
    [...bs].map(([b, span]) => [
      b,
      {
        start: span.start,
        end: span.end,
        orders: 0,
        by_financial_status: zeros(fin),
        by_fulfillment_status: zeros(ful),
      },
    ]),
  )
  for (const { o, d } of counted) {
    const x = out.get(bucketOf(d, g))!
    x.orders++
    x.by_financial_status[o.financialStatus.toLowerCase()]!++
    x.by_fulfillment_status[o.fulfillmentStatus.toLowerCase()]!++
  }
  return [...out.values()]
}

function expectedTotals(s: Seeded, from: string, to: string) {
  const rev = expectedRevenue(s, from, to, 'month')
  const last = rev.at(-1)!.cumulative
  const inRange = (ms: number) => {
    const d = localDate(ms, s.zone)
    return d >= from && d <= to
  }
  const ever = new Map<number, number>()
  for (const o of s.orders)
    if (isCounted(o) && o.customerId !== null)
      ever.set(o.customerId, (ever.get(o.customerId) ?? 0) + 1)
  const buyers = new Set<number>()
  for (const o of s.orders)
    if (isCounted(o) && o.customerId !== null && inRange(o.processedAt)) buyers.add(o.customerId)
  const returning = [...buyers].filter((c) => (ever.get(c) ?? 0) >= 2).length
  const gross = BigInt(Math.round(Number(last.gross_sales) * 100))
  return {
    gross_sales: last.gross_sales,
    refunds: last.refunds,
    net_sales: last.net_sales,
    orders: last.orders,
    aov: aovOf(gross, last.orders),
    customers_ordered: buyers.size,
    new_customers: s.customers.filter((c) => c.deletedAt === null && inRange(c.createdAt)).length,
    returning_customers: returning,
    returning_customer_rate:
      buyers.size === 0 ? null : Math.round((returning / buyers.size) * 10_000) / 10_000,
    new_products: s.products.filter((p) => p.deletedAt === null && inRange(p.createdAt)).length,
    events: s.events.filter((e) => inRange(e.occurredAt)).length,
  }
}

function expectedTopCustomers(s: Seeded, from: string, to: string, limit: number) {
  const per = new Map<number, { orders: number; gross: bigint; refunds: bigint }>()
  for (const o of s.orders) {
    if (!isCounted(o) || o.customerId === null) continue
    const d = localDate(o.processedAt, s.zone)
    if (d < from || d > to) continue
    const p = per.get(o.customerId) ?? { orders: 0, gross: 0n, refunds: 0n }
    p.orders++
    p.gross += BigInt(o.total)
    for (const r of o.refunds) {
      const rd = localDate(r.createdAt, s.zone)
      if (rd >= from && rd <= to) p.refunds += BigInt(r.amount)
    }
    per.set(o.customerId, p)
  }
  const byId = new Map(s.customers.map((c) => [c.id, c]))
  const lifetime = new Map<number, bigint>()
  for (const o of s.orders)
    if (o.customerId !== null && !o.test && o.cancelledAt === null)
      lifetime.set(
        o.customerId,
        (lifetime.get(o.customerId) ?? 0n) +
          BigInt(o.total - o.refunds.reduce((a, x) => a + x.amount, 0)),
      )
  return [...per]
    .sort(([a, x], [b, y]) => {
      const nx = x.gross - x.refunds
      const ny = y.gross - y.refunds
      return nx === ny ? a - b : nx > ny ? -1 : 1
    })
    .slice(0, limit)
    .map(([id, p]) => {
      const c = byId.get(id)
      return {
        customer_id: String(id),
        email: c?.email ?? null,
        first_name: c?.firstName ?? null,
        last_name: c?.lastName ?? null,
        orders: p.orders,
        gross_sales: money(p.gross),
        refunds: money(p.refunds),
        net_spend: money(p.gross - p.refunds),
        lifetime_amount_spent: c ? money(lifetime.get(id) ?? 0n) : null,
      }
    })
}

function expectedTopProducts(s: Seeded, from: string, to: string, limit: number) {
  const per = new Map<number, { units: number; revenue: bigint }>()
  for (const o of s.orders) {
    if (!isCounted(o)) continue
    const d = localDate(o.processedAt, s.zone)
    if (d < from || d > to) continue
    for (const li of o.lineItems) {
      if (li.productId === null) continue
      const p = per.get(li.productId) ?? { units: 0, revenue: 0n }
      p.units += li.quantity
      p.revenue += BigInt(li.unitPrice * li.quantity - li.totalDiscount)
      per.set(li.productId, p)
    }
  }
  const titles = new Map(s.products.map((p) => [p.id, p.title]))
  return [...per]
    .sort(([a, x], [b, y]) =>
      x.revenue !== y.revenue ? (x.revenue > y.revenue ? -1 : 1) : y.units - x.units || a - b,
    )
    .slice(0, limit)
    .map(([id, p]) => ({
      product_id: String(id),
      title: titles.get(id) ?? null,
      units: p.units,
      revenue: money(p.revenue),
    }))
}

function expectedGrowth(
  rows: { createdAt: number; deletedAt: number | null }[],
  zone: string,
  from: string,
  to: string,
  g: Gran,
) {
  const live = rows.filter((r) => r.deletedAt === null)
  let total = live.filter((r) => localDate(r.createdAt, zone) < from).length
  const added = new Map<string, number>()
  for (const r of live) {
    const d = localDate(r.createdAt, zone)
    if (d >= from && d <= to) added.set(bucketOf(d, g), (added.get(bucketOf(d, g)) ?? 0) + 1)
  }
  return [...buckets(from, to, g)].map(([b, span]) => {
    const n = added.get(b) ?? 0
    total += n
    return { start: span.start, end: span.end, added: n, running_total: total }
  })
}

function expectedEvents(s: Seeded, from: string, to: string, g: Gran) {
  const bs = buckets(from, to, g)
  const inRange = s.events
    .map((e) => ({ e, d: localDate(e.occurredAt, s.zone) }))
    .filter((x) => x.d >= from && x.d <= to)
  const types = [...new Set(inRange.map((x) => x.e.eventType))].sort()
  const zero = () => Object.fromEntries(types.map((x) => [x, 0])) as Record<string, number>
  const series = new Map(
    [...bs].map(([b, span]) => [
      b,
      { start: span.start, end: span.end, total: 0, by_type: zero() },
    ]),
  )
  const totals = zero()
  for (const { e, d } of inRange) {
    const x = series.get(bucketOf(d, g))!
    x.total++
    x.by_type[e.eventType]!++
    totals[e.eventType]!++
  }
  const revenue = expectedRevenue(s, from, to, g)
  const rate = (orders: number, checkouts: number) =>
    checkouts === 0 ? null : Math.min(1, Math.round((orders / checkouts) * 10_000) / 10_000)
  const funnel = [...series.values()].map((x, i) => ({
    start: x.start,
    end: x.end,
    checkouts_started: x.by_type.checkout_started ?? 0,
    orders: revenue[i]!.orders,
    rate: rate(revenue[i]!.orders, x.by_type.checkout_started ?? 0),
  }))
  const checkouts = totals.checkout_started ?? 0
  const orders = revenue.at(-1)!.cumulative.orders
  return {
    totals: { total: inRange.length, by_type: totals },
    series: [...series.values()],
    funnel: {
      checkout_event_type: 'checkout_started',
      checkouts_started: checkouts,
      orders,
      rate: rate(orders, checkouts),
      series: funnel,
    },
  }
}

// ------------------------------------------------------------ the comparisons

for (const shop of SHOPS) {
  t.test(`${shop.zone}: every endpoint equals the independent computation`, async (t) => {
    const s = await seed(shop)
    const { from, to } = shop.query
    const sanity = s.orders.filter((o) => !isCounted(o))
    t.ok(
      sanity.some((o) => o.cancelledAt !== null),
      'the data has cancelled orders',
    )
    t.ok(
      sanity.some((o) => o.test),
      'the data has test orders',
    )
    t.ok(
      s.orders.some((o) => o.customerId === null),
      'the data has guest orders',
    )
    t.ok(
      s.orders.some((o) =>
        o.refunds.some((r) => localDate(r.createdAt, s.zone) !== localDate(o.processedAt, s.zone)),
      ),
      'the data has refunds on later days',
    )

    for (const g of ['day', 'week', 'month'] as const) {
      const q = { from, to, granularity: g }
      const echo = { from, to, granularity: g, zone: shop.zone, currency: 'USD' }

      const revenue = await analytics.revenue(s.tenantId, q)
      t.same(revenue.range, echo, `${g}: revenue echoes range, zone, currency`)
      t.strictSame(revenue.series, expectedRevenue(s, from, to, g), `${g}: revenue`)

      const orders = await analytics.orders(s.tenantId, q)
      t.strictSame(orders.series, expectedOrders(s, from, to, g), `${g}: orders by status`)

      const cg = await analytics.customerGrowth(s.tenantId, q)
      t.strictSame(cg.series, expectedGrowth(s.customers, s.zone, from, to, g), `${g}: customers`)

      // Products are all created before the first order: look back far enough to see them.
      const wide = { from: addDays(from, -420), to, granularity: g }
      const pg = await analytics.productGrowth(s.tenantId, wide)
      t.strictSame(
        pg.series,
        expectedGrowth(s.products, s.zone, wide.from, to, g),
        `${g}: product growth`,
      )

      const ev = await analytics.events(s.tenantId, q)
      const exp = expectedEvents(s, from, to, g)
      t.strictSame(ev.totals, exp.totals, `${g}: event totals`)
      t.strictSame(ev.series, exp.series, `${g}: events by type`)
      t.strictSame(ev.funnel, exp.funnel, `${g}: checkout → order funnel`)
    }

    const summary = await analytics.summary(s.tenantId, { from, to })
    t.strictSame(summary.current, expectedTotals(s, from, to), 'summary: current period')
    const days = Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000) + 1
    const prevFrom = addDays(from, -days)
    const prevTo = addDays(from, -1)
    t.strictSame(
      summary.previous,
      { from: prevFrom, to: prevTo, ...expectedTotals(s, prevFrom, prevTo) },
      'summary: previous period of equal length',
    )
    t.ok(summary.current.returning_customers > 0, 'some customers are returning')

    const top = await analytics.topCustomers(s.tenantId, { from, to, limit: 10 })
    t.strictSame(top.customers, expectedTopCustomers(s, from, to, 10), 'top customers')
    for (const limit of [1, 10, 100]) {
      const viaBound = await bounded.topCustomers(s.tenantId, { from, to, limit })
      t.strictSame(
        viaBound.customers,
        expectedTopCustomers(s, from, to, limit),
        `top ${limit} customers by bounded search`,
      )
      t.strictSame(
        (await windowed.topCustomers(s.tenantId, { from, to, limit })).customers,
        expectedTopCustomers(s, from, to, limit),
        `top ${limit} customers from spend windows`,
      )
    }
    const whole = { from: addDays(from, -200), to: addDays(to, 200), limit: 7 }
    t.strictSame(
      (await bounded.topCustomers(s.tenantId, whole)).customers,
      expectedTopCustomers(s, whole.from, whole.to, 7),
      'top customers over all history, bounded',
    )
    const products = await analytics.topProducts(s.tenantId, { from, to, limit: 10 })
    t.strictSame(products.products, expectedTopProducts(s, from, to, 10), 'top products')
  })
}
