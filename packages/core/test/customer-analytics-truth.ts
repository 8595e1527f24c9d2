// The customer analytics (cohorts, repeat purchase, RFM, lifetime value) computed independently
// in plain TypeScript from a seeded shop's rows: Intl for local dates, BigInt cents for money,
// instants (not days) to order a customer's orders. Nothing here shares SQL or code with
// packages/core/src/analytics.
import {
  addDays,
  bucketOf,
  buckets,
  isCounted,
  localDate,
  money,
  type Gran,
  type Seeded,
} from './analytics-fixtures.ts'

type Order = { id: number; customer: number; at: number; day: string; cents: bigint }
type Refund = { customer: number; orderDay: string; day: string; cents: bigint }

const dayDiff = (a: string, b: string) => Math.round((Date.parse(a) - Date.parse(b)) / 86_400_000)

/** a / b rounded half away from zero, as cents → decimal string; null when b = 0. */
function avg(cents: bigint, n: number): string | null {
  if (n === 0) return null
  const d = BigInt(n)
  const abs = cents < 0n ? -cents : cents
  const q = (abs * 2n + d) / (2n * d)
  return money(cents < 0n ? -q : q)
}
const share = (n: number, d: number) => (d === 0 ? null : Math.round((n * 10_000) / d) / 10_000)

/** Counted orders with a customer, and the refunds of those orders, in local days of the zone. */
export function customerFacts(s: Seeded) {
  const orders: Order[] = []
  const refunds: Refund[] = []
  for (const o of s.orders) {
    if (!isCounted(o) || o.customerId === null) continue
    const day = localDate(o.processedAt, s.zone)
    orders.push({
      id: o.id,
      customer: o.customerId,
      at: o.processedAt,
      day,
      cents: BigInt(o.total),
    })
    for (const r of o.refunds)
      refunds.push({
        customer: o.customerId,
        orderDay: day,
        day: localDate(r.createdAt, s.zone),
        cents: BigInt(r.amount),
      })
  }
  const byCustomer = new Map<number, Order[]>()
  for (const o of orders) {
    const list = byCustomer.get(o.customer) ?? []
    list.push(o)
    byCustomer.set(o.customer, list)
  }
  for (const list of byCustomer.values()) list.sort((a, b) => a.at - b.at || a.id - b.id)
  const first = new Map([...byCustomer].map(([c, list]) => [c, list[0]!.day]))
  return { orders, refunds, byCustomer, first }
}
type Facts = ReturnType<typeof customerFacts>

const within = (d: string, from: string, to: string) => d >= from && d <= to

export function expectedCohorts(f: Facts, from: string, to: string, g: Gran) {
  const bs = [...buckets(from, to, g)]
  const members = new Map<number, string>() // customer → cohort label
  for (const [c, day] of f.first) if (within(day, from, to)) members.set(c, bucketOf(day, g))
  const cells = new Map<string, { customers: Set<number>; orders: number; net: bigint }>()
  const cell = (k: string) => {
    let x = cells.get(k)
    if (!x) cells.set(k, (x = { customers: new Set(), orders: 0, net: 0n }))
    return x
  }
  for (const o of f.orders) {
    const cohort = members.get(o.customer)
    if (cohort === undefined || !within(o.day, from, to)) continue
    const x = cell(`${cohort}/${bucketOf(o.day, g)}`)
    x.customers.add(o.customer)
    x.orders++
    x.net += o.cents
  }
  for (const r of f.refunds) {
    const cohort = members.get(r.customer)
    if (cohort === undefined || !within(r.day, from, to)) continue
    cell(`${cohort}/${bucketOf(r.day, g)}`).net -= r.cents
  }
  return bs.map(([label, span], i) => {
    const size = [...members.values()].filter((m) => m === label).length
    let cum = 0n
    return {
      cohort: label,
      start: span.start,
      end: span.end,
      customers: size,
      periods: bs.slice(i).map(([p, ps], k) => {
        const x = cells.get(`${label}/${p}`)
        cum += x?.net ?? 0n
        return {
          period: k,
          start: ps.start,
          end: ps.end,
          customers: x?.customers.size ?? 0,
          share: share(x?.customers.size ?? 0, size),
          orders: x?.orders ?? 0,
          net_sales: money(x?.net ?? 0n),
          cumulative_net_sales: money(cum),
          cumulative_net_sales_per_customer: avg(cum, size),
        }
      }),
    }
  })
}

function nearestRank(sorted: number[], p: number) {
  if (sorted.length === 0) return null
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1]!
}

export function expectedRepeat(f: Facts, from: string, to: string) {
  const newBuyers = [...f.first].filter(([, d]) => within(d, from, to)).map(([c]) => c)
  const gaps: number[] = []
  const perOrders = [0, 0, 0, 0, 0]
  for (const c of newBuyers) {
    const list = f.byCustomer.get(c)!
    const second = list[1]
    if (second && second.day <= to) gaps.push(dayDiff(second.day, list[0]!.day))
    const n = list.filter((o) => o.day <= to).length
    perOrders[Math.min(n, 5) - 1]!++
  }
  gaps.sort((a, b) => a - b)
  const edges: [number, number | null][] = [
    [0, 0],
    [1, 7],
    [8, 30],
    [31, 60],
    [61, 90],
    [91, 180],
    [181, 365],
    [366, null],
  ]
  const total = gaps.reduce((a, b) => a + b, 0)
  return {
    new_customers: newBuyers.length,
    repeat_customers: gaps.length,
    repeat_purchase_rate: share(gaps.length, newBuyers.length),
    days_to_second_order: {
      customers: gaps.length,
      mean: gaps.length === 0 ? null : Math.round((total * 100) / gaps.length) / 100,
      p25: nearestRank(gaps, 25),
      median: nearestRank(gaps, 50),
      p75: nearestRank(gaps, 75),
      p90: nearestRank(gaps, 90),
      histogram: edges.map(([lo, hi]) => ({
        from_days: lo,
        to_days: hi,
        customers: gaps.filter((g) => g >= lo && (hi === null || g <= hi)).length,
      })),
    },
    orders_per_customer: perOrders.map((n, i) => ({
      orders: i === 4 ? '5+' : String(i + 1),
      customers: n,
    })),
  }
}

export type RfmTruth = {
  customer: number
  last: string
  recency: number
  frequency: number
  monetary: bigint
  r: number
  f: number
  m: number
  segment: string
}

function segmentOf(r: number, f: number): string {
  if (r >= 4) return f >= 4 ? 'champions' : f === 3 ? 'loyal' : f === 2 ? 'promising' : 'new'
  if (r === 3) return f >= 3 ? 'loyal' : 'need_attention'
  return f >= 3 ? 'at_risk' : 'hibernating'
}

export function expectedRfm(f: Facts, from: string, to: string): RfmTruth[] {
  const per = new Map<number, { last: string; frequency: number; monetary: bigint }>()
  for (const o of f.orders) {
    if (!within(o.day, from, to)) continue
    const x = per.get(o.customer) ?? { last: o.day, frequency: 0, monetary: 0n }
    if (o.day > x.last) x.last = o.day
    x.frequency++
    x.monetary += o.cents
    per.set(o.customer, x)
  }
  for (const r of f.refunds)
    if (within(r.orderDay, from, to) && r.day <= to) per.get(r.customer)!.monetary -= r.cents
  const all = [...per].map(([customer, x]) => ({
    customer,
    ...x,
    recency: dayDiff(to, x.last),
  }))
  const n = all.length
  // Rank: 1 + the number of customers with a strictly worse value.
  return all.map((c) => {
    const rRank = 1 + all.filter((o) => o.recency > c.recency).length
    const fRank = 1 + all.filter((o) => o.frequency < c.frequency).length
    const mRank = 1 + all.filter((o) => o.monetary < c.monetary).length
    const q = (rank: number) => 1 + Math.floor((5 * (rank - 1)) / n)
    const r = q(rRank)
    const fs = q(fRank)
    return { ...c, r, f: fs, m: q(mRank), segment: segmentOf(r, fs) }
  })
}

export function expectedLtv(f: Facts, from: string, to: string) {
  const horizons = [30, 90, 180, 365]
  const members = [...f.first].filter(([, d]) => within(d, from, to))
  const cohorts = [...buckets(from, to, 'month')].map(([label, span]) => {
    const mine = members.filter(([, d]) => bucketOf(d, 'month') === label)
    let net = 0n
    const hz = horizons.map(() => ({ customers: 0, net: 0n }))
    for (const [c, first] of mine) {
      for (const o of f.byCustomer.get(c)!)
        if (o.day <= to) {
          net += o.cents
          horizons.forEach((n, i) => {
            if (addDays(first, n - 1) <= to && o.day < addDays(first, n)) hz[i]!.net += o.cents
          })
        }
      for (const r of f.refunds)
        if (r.customer === c && within(r.orderDay, from, to) && r.day <= to) {
          net -= r.cents
          horizons.forEach((n, i) => {
            if (addDays(first, n - 1) <= to && r.day < addDays(first, n)) hz[i]!.net -= r.cents
          })
        }
      horizons.forEach((n, i) => {
        if (addDays(first, n - 1) <= to) hz[i]!.customers++
      })
    }
    return {
      cohort: label,
      start: span.start,
      end: span.end,
      customers: mine.length,
      net_sales: money(net),
      net_sales_per_customer: avg(net, mine.length),
      ltv: horizons.map((days, i) => ({
        days,
        customers: hz[i]!.customers,
        net_sales: money(hz[i]!.net),
        average: avg(hz[i]!.net, hz[i]!.customers),
        _net: hz[i]!.net,
      })),
    }
  })
  const ltv = horizons.map((days, i) => {
    const customers = cohorts.reduce((a, c) => a + c.ltv[i]!.customers, 0)
    const net = cohorts.reduce((a, c) => a + c.ltv[i]!._net, 0n)
    return { days, customers, net_sales: money(net), average: avg(net, customers) }
  })
  return {
    ltv,
    cohorts: cohorts.map((c) => ({ ...c, ltv: c.ltv.map(({ _net, ...x }) => x) })),
  }
}
