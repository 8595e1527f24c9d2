import { withTenant, type Database, type Tx } from '@xeno/db'
import { NotFoundError, ValidationError } from '../errors.ts'
import * as base from './analytics.repository.ts'
import * as repo from './customer-analytics.repository.ts'
import {
  ensureRollups,
  formatMoney,
  resolveRange,
  todayIn,
  type RangeInput,
} from './analytics.service.ts'
import type { CohortGranularity, RfmSegment } from './customer-analytics.repository.ts'

export { RFM_SEGMENTS, LTV_HORIZONS } from './customer-analytics.repository.ts'
export type { CohortGranularity, RfmSegment } from './customer-analytics.repository.ts'

const DAY_MS = 86_400_000
/** RFM looks at a year by default: a month is too short to tell loyal from new. */
const RFM_DEFAULT_DAYS = 365

/** Histogram edges of days between a first and a second order (inclusive bounds). */
export const GAP_BUCKETS: [number, number | null][] = [
  [0, 0],
  [1, 7],
  [8, 30],
  [31, 60],
  [61, 90],
  [91, 180],
  [181, 365],
  [366, null],
]
/** Orders per customer are reported as 1, 2, 3, 4 and "5+". */
export const ORDERS_CAP = 5

// ---------------------------------------------------------------- exact arithmetic

/** a / b rounded half away from zero (BigInt). */
function divRound(a: bigint, b: bigint): bigint {
  const neg = a < 0n !== b < 0n
  const x = a < 0n ? -a : a
  const y = b < 0n ? -b : b
  const q = (2n * x + y) / (2n * y)
  return neg ? -q : q
}
/** A 10⁻⁴-unit amount per customer, as a decimal string to the cent; null without customers. */
function perCustomer(units: bigint, customers: number): string | null {
  if (customers === 0) return null
  const cents = divRound(units, 100n * BigInt(customers))
  return formatMoney(repo.fromUnits(cents * 100n))
}
const ratio = (n: number, d: number) => (d === 0 ? null : Math.round((n * 10_000) / d) / 10_000)
const money = (units: bigint) => formatMoney(repo.fromUnits(units))

/** The p-th percentile (0–100, nearest rank) of values given as value → count, ascending. */
function percentile(counts: { days: number; customers: number }[], n: number, p: number) {
  if (n === 0) return null
  const rank = Math.max(1, Math.floor((p * n + 99) / 100))
  let seen = 0
  for (const c of counts) {
    seen += c.customers
    if (seen >= rank) return c.days
  }
  return null
}

/** The last day of the week or month that starts on `bucket`. */
function lastDayOf(bucket: string, g: CohortGranularity): string {
  const d = new Date(`${bucket}T00:00:00Z`)
  const end =
    g === 'week'
      ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 6)
      : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)
  return new Date(end).toISOString().slice(0, 10)
}

export type CustomerAnalyticsDeps = { db: Database; now?: () => Date }

type Window = { from: string; to: string; zone: string; currency: string }

/** Cohorts, repeat purchase, RFM segments and lifetime value of one tenant's customers. */
export function createCustomerAnalyticsService(deps: CustomerAnalyticsDeps) {
  const now = deps.now ?? (() => new Date())

  async function run<T>(
    tenantId: string,
    input: RangeInput & { defaultDays?: number },
    fn: (trx: Tx, r: repo.CustomerRange, w: Window) => Promise<T>,
  ): Promise<T> {
    return withTenant(deps.db, tenantId, async (trx) => {
      const shop = await base.findShop(trx, tenantId)
      if (!shop) throw new NotFoundError('tenant not found')
      const asked: RangeInput = { from: input.from, to: input.to }
      if (input.from === undefined && input.defaultDays) {
        const to = input.to ?? todayIn(shop.zone, now())
        resolveRange({ to }, shop.zone, now()) // validates `to` before arithmetic on it
        asked.from = new Date(Date.parse(`${to}T00:00:00Z`) - (input.defaultDays - 1) * DAY_MS)
          .toISOString()
          .slice(0, 10)
      }
      const r = resolveRange(asked, shop.zone, now())
      await ensureRollups(trx, tenantId, shop.zone)
      await base.tuneReadTransaction(trx)
      return fn(
        trx,
        { tenantId, from: r.from, to: r.to },
        { from: r.from, to: r.to, zone: shop.zone, currency: shop.currency },
      )
    })
  }

  const echo = (w: Window, granularity?: CohortGranularity) => ({
    from: w.from,
    to: w.to,
    ...(granularity ? { granularity } : {}),
    zone: w.zone,
    currency: w.currency,
  })

  return {
    /** The triangular cohort matrix: cohorts by first counted order, periods after it. */
    async cohorts(tenantId: string, input: RangeInput & { granularity?: CohortGranularity }) {
      const g = input.granularity ?? 'month'
      if ((g as string) === 'day')
        throw new ValidationError('granularity must be week or month', [
          { field: 'granularity', message: 'must be week or month' },
        ])
      return run(tenantId, input, async (trx, r, w) => {
        const buckets = repo.bucketsOf(r, g)
        // Whole buckets read the stored matrix; a range cut inside a bucket reads the days.
        const first = buckets[0]!
        const last = buckets.at(-1)!
        const whole = first.start === first.bucket && last.end === lastDayOf(last.bucket, g)
        const { sizes, cells } = whole
          ? await repo.storedCohortCells(trx, r, g)
          : await repo.cohortCells(trx, r, g)
        const byKey = new Map(cells.map((c) => [`${c.cohort}/${c.period}`, c]))
        return {
          range: echo(w, g),
          cohorts: buckets.map((cb, i) => {
            const size = sizes.get(cb.bucket) ?? 0
            let cumulative = 0n
            return {
              cohort: cb.bucket,
              start: cb.start,
              end: cb.end,
              customers: size,
              periods: buckets.slice(i).map((pb, k) => {
                const c = byKey.get(`${cb.bucket}/${pb.bucket}`)
                const net = c ? repo.toUnits(c.gross) - repo.toUnits(c.refunds) : 0n
                cumulative += net
                return {
                  period: k,
                  start: pb.start,
                  end: pb.end,
                  customers: c?.customers ?? 0,
                  share: ratio(c?.customers ?? 0, size),
                  orders: c?.orders ?? 0,
                  net_sales: money(net),
                  cumulative_net_sales: money(cumulative),
                  cumulative_net_sales_per_customer: perCustomer(cumulative, size),
                }
              }),
            }
          }),
        }
      })
    },

    /** Repeat purchase rate, days to the second order, orders per customer (new buyers). */
    async repeatPurchase(tenantId: string, input: RangeInput) {
      return run(tenantId, input, async (trx, r, w) => {
        const { gaps, orderCounts } = await repo.repeatFigures(trx, r)
        const newCustomers = orderCounts.reduce((a, c) => a + c.customers, 0)
        const repeat = gaps.reduce((a, c) => a + c.customers, 0)
        const totalDays = gaps.reduce((a, c) => a + c.days * c.customers, 0)
        const perOrders = Array.from({ length: ORDERS_CAP }, (_, i) => ({
          orders: i + 1 === ORDERS_CAP ? `${ORDERS_CAP}+` : String(i + 1),
          customers: 0,
        }))
        for (const c of orderCounts)
          perOrders[Math.min(c.orders, ORDERS_CAP) - 1]!.customers += c.customers
        return {
          range: echo(w),
          new_customers: newCustomers,
          repeat_customers: repeat,
          repeat_purchase_rate: ratio(repeat, newCustomers),
          days_to_second_order: {
            customers: repeat,
            mean: repeat === 0 ? null : Math.round((totalDays * 100) / repeat) / 100,
            p25: percentile(gaps, repeat, 25),
            median: percentile(gaps, repeat, 50),
            p75: percentile(gaps, repeat, 75),
            p90: percentile(gaps, repeat, 90),
            histogram: GAP_BUCKETS.map(([lo, hi]) => ({
              from_days: lo,
              to_days: hi,
              customers: gaps
                .filter((g) => g.days >= lo && (hi === null || g.days <= hi))
                .reduce((a, g) => a + g.customers, 0),
            })),
          },
          orders_per_customer: perOrders,
        }
      })
    },

    /** RFM segments of the customers who ordered in the window (default: the last 365 days). */
    async rfm(tenantId: string, input: RangeInput) {
      return run(tenantId, { ...input, defaultDays: RFM_DEFAULT_DAYS }, async (trx, r, w) => {
        const { segments, grid } = await repo.rfmSummary(trx, r)
        const customers = segments.reduce((a, s) => a + s.customers, 0)
        const cell = new Map(grid.map((c) => [`${c.r}/${c.f}`, c]))
        const cells = []
        for (let rs = 5; rs >= 1; rs--)
          for (let fs = 5; fs >= 1; fs--) {
            const c = cell.get(`${rs}/${fs}`)
            cells.push({
              r: rs,
              f: fs,
              customers: c?.customers ?? 0,
              net_sales: formatMoney(c?.net ?? '0'),
            })
          }
        return {
          range: echo(w),
          customers,
          segments: segments.map((s) => ({
            segment: s.segment,
            customers: s.customers,
            share: ratio(s.customers, customers),
            net_sales: formatMoney(s.net),
          })),
          grid: cells,
        }
      })
    },

    /** A page of scored customers, of one segment or all, by monetary value then id. */
    async rfmCustomers(
      tenantId: string,
      input: RangeInput & { segment?: RfmSegment; limit?: number; offset?: number },
    ) {
      const limit = input.limit ?? 50
      const offset = input.offset ?? 0
      return run(tenantId, { ...input, defaultDays: RFM_DEFAULT_DAYS }, async (trx, r, w) => {
        const page = await repo.rfmCustomers(trx, r, {
          ...(input.segment ? { segment: input.segment } : {}),
          limit,
          offset,
        })
        return {
          range: echo(w),
          segment: input.segment ?? null,
          total: page.total,
          limit,
          offset,
          customers: page.rows.map((c) => ({
            customer_id: c.customerId,
            email: c.email,
            first_name: c.firstName,
            last_name: c.lastName,
            last_order_date: c.lastOrderDate,
            recency_days: c.recencyDays,
            frequency: c.frequency,
            monetary: formatMoney(c.monetary),
            r: c.r,
            f: c.f,
            m: c.m,
            segment: c.segment,
          })),
        }
      })
    },

    /** Net sales per customer by cohort month, and average LTV 30/90/180/365 days on. */
    async lifetimeValue(tenantId: string, input: RangeInput) {
      return run(tenantId, input, async (trx, r, w) => {
        const buckets = repo.bucketsOf(r, 'month')
        const rows = new Map((await repo.ltvCohorts(trx, r)).map((c) => [c.cohort, c]))
        const overall = repo.LTV_HORIZONS.map((days) => ({ days, customers: 0, net: 0n }))
        const cohorts = buckets.map((b) => {
          const c = rows.get(b.bucket)
          const customers = c?.customers ?? 0
          const net = repo.toUnits(c?.net ?? '0')
          return {
            cohort: b.bucket,
            start: b.start,
            end: b.end,
            customers,
            net_sales: money(net),
            net_sales_per_customer: perCustomer(net, customers),
            ltv: repo.LTV_HORIZONS.map((days, i) => {
              const hz = c?.horizons[i]
              const eligible = hz?.eligible ?? 0
              const hNet = repo.toUnits(hz?.net ?? '0')
              overall[i]!.customers += eligible
              overall[i]!.net += hNet
              return {
                days,
                customers: eligible,
                net_sales: money(hNet),
                average: perCustomer(hNet, eligible),
              }
            }),
          }
        })
        return {
          range: echo(w, 'month'),
          ltv: overall.map((o) => ({
            days: o.days,
            customers: o.customers,
            net_sales: money(o.net),
            average: perCustomer(o.net, o.customers),
          })),
          cohorts,
        }
      })
    },
  }
}

export type CustomerAnalyticsService = ReturnType<typeof createCustomerAnalyticsService>
