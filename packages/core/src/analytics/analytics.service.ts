import { withTenant, type Database, type Tx } from '@xeno/db'
import { NotFoundError, ValidationError } from '../errors.ts'
import * as repo from './analytics.repository.ts'
import * as cohorts from './customer-analytics.repository.ts'
import type { Granularity, RangeQuery } from './analytics.repository.ts'

export type { Granularity } from './analytics.repository.ts'

/** The custom event type that opens the checkout → order funnel (webhooks record checkouts so). */
export const CHECKOUT_STARTED_EVENT = 'checkout_started'

const DAY_MS = 86_400_000
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const DEFAULT_DAYS = 30
const MAX_YEARS = 5

/** What a caller may ask for; absent dates default to the last 30 days in the shop's zone. */
export type RangeInput = { from?: string; to?: string; granularity?: Granularity }

/** The range, zone and currency a response used (echoed in every response). */
export type ResolvedRange = {
  from: string
  to: string
  granularity: Granularity
  zone: string
  currency: string
}

function parseDate(value: string, field: string): number {
  const m = DATE.exec(value)
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value)
    throw new ValidationError(`${field} must be a calendar date YYYY-MM-DD`, [
      { field, message: 'must be a calendar date YYYY-MM-DD' },
    ])
  return ms
}

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** Today's calendar date in an IANA zone. */
export function todayIn(zone: string, now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now)
}

/**
 * Validates and completes a range: `to` defaults to today in the zone, `from` to 29 days before
 * `to`; `to` before `from` or a range of 5 years or more is rejected, naming the field.
 */
export function resolveRange(input: RangeInput, zone: string, now: Date = new Date()) {
  const to =
    input.to !== undefined ? parseDate(input.to, 'to') : parseDate(todayIn(zone, now), 'to')
  const from =
    input.from !== undefined ? parseDate(input.from, 'from') : to - (DEFAULT_DAYS - 1) * DAY_MS
  if (to < from)
    throw new ValidationError('to must not be before from', [
      { field: 'to', message: 'must not be before from' },
    ])
  const limit = new Date(from)
  limit.setUTCFullYear(limit.getUTCFullYear() + MAX_YEARS)
  if (to >= limit.getTime())
    throw new ValidationError(`the range must be shorter than ${MAX_YEARS} years`, [
      { field: 'to', message: `must be less than ${MAX_YEARS} years after from` },
    ])
  return {
    from: isoDate(from),
    to: isoDate(to),
    days: Math.round((to - from) / DAY_MS) + 1,
    granularity: input.granularity ?? 'day',
  }
}

/** Numeric text from Postgres as a decimal string with at least two decimals ("12.5000" → "12.50"). */
export function formatMoney(value: string): string {
  const [int = '0', frac = ''] = value.split('.')
  const trimmed = frac.replace(/0+$/, '')
  return `${int}.${trimmed.padEnd(2, '0')}`
}

const money = (v: string | null) => (v === null ? null : formatMoney(v))

/** Rollups were built in another zone (or never): rebuild them all, under the tenant's lock. */
export async function ensureRollups(trx: Tx, tenantId: string, zone: string): Promise<void> {
  if ((await repo.rollupZone(trx, tenantId)) === zone) return
  await repo.lockTenantRollups(trx, tenantId)
  if ((await repo.rollupZone(trx, tenantId)) === zone) return
  await rebuildAll(trx, tenantId, zone)
}

async function rebuildAll(trx: Tx, tenantId: string, zone: string): Promise<void> {
  await repo.rebuildOrderDays(trx, tenantId, zone, { kind: 'all' })
  await repo.rebuildEventDays(trx, tenantId, zone, { kind: 'all' })
  await repo.rebuildCustomerStats(trx, tenantId, zone, 'all')
  await cohorts.rebuildCohortCells(trx, tenantId)
  await repo.rebuildCustomerDays(trx, tenantId, zone, { kind: 'all' })
  await repo.setRollupZone(trx, tenantId, zone)
}

async function shopOf(trx: Tx, tenantId: string) {
  const shop = await repo.findShop(trx, tenantId)
  if (!shop) throw new NotFoundError('tenant not found')
  return shop
}

/**
 * Keeps the analytics rollups (daily_metrics, daily_product_metrics, monthly_product_metrics,
 * customer_order_stats, customer_daily_metrics, customer_refund_metrics, daily_customer_metrics)
 * equal to a recomputation. The sync and webhook
 * writers call it inside the `withTenant` transaction that upserted or deleted orders, line
 * items, refunds or customers, with the ids written. It recomputes every local day those orders,
 * their refunds and those customers touch now; pass `instants` for days a write moved away from
 * (an old processed_at, refund created_at or customer created_at).
 */
export async function refreshAnalyticsRollups(
  trx: Tx,
  tenantId: string,
  changes: {
    orderIds?: (string | number | bigint)[]
    customerIds?: (string | number | bigint)[]
    instants?: Date[]
    /** Customers whose per-customer rollups to recompute too (an order's former customer). */
    orderCustomerIds?: (string | number | bigint)[]
  },
): Promise<void> {
  const shop = await shopOf(trx, tenantId)
  await repo.lockTenantRollups(trx, tenantId)
  if ((await repo.rollupZone(trx, tenantId)) !== shop.zone)
    return rebuildAll(trx, tenantId, shop.zone)
  const orderIds = (changes.orderIds ?? []).map(String)
  const fp = await repo.orderFootprint(trx, tenantId, shop.zone, orderIds)
  const extra = await repo.localDays(trx, shop.zone, changes.instants ?? [])
  const days = [...new Set([...fp.days, ...extra])]
  await repo.rebuildOrderDays(trx, tenantId, shop.zone, { kind: 'days', days })
  const buyers = new Set([...fp.customerIds, ...(changes.orderCustomerIds ?? []).map(String)])
  // cohort_metrics follows the buyers' per-customer rollups: out before, back in after.
  await cohorts.applyCohortCells(trx, tenantId, [...buyers], -1)
  await repo.rebuildCustomerStats(trx, tenantId, shop.zone, [...buyers])
  await cohorts.applyCohortCells(trx, tenantId, [...buyers], 1)
  const customerDays = await repo.customerDays(
    trx,
    tenantId,
    shop.zone,
    (changes.customerIds ?? []).map(String),
  )
  await repo.rebuildCustomerDays(trx, tenantId, shop.zone, {
    kind: 'days',
    days: [...new Set([...customerDays, ...extra])],
  })
}

/**
 * Runs a write of orders, refunds or customers and keeps the rollups equal to a recomputation:
 * the local days those rows sat on before the write and the days they sit on after it are
 * recomputed, and the per-customer rollups of the orders' customers before and after it. Call inside the writer's `withTenant` transaction.
 */
export async function writeWithRollups<T>(
  trx: Tx,
  tenantId: string,
  ids: { orderIds?: string[]; customerIds?: string[] },
  write: () => Promise<T>,
): Promise<T> {
  const orderIds = ids.orderIds ?? []
  const customerIds = ids.customerIds ?? []
  const before = [
    ...(await repo.orderInstants(trx, tenantId, orderIds)),
    ...(await repo.customerInstants(trx, tenantId, customerIds)),
  ]
  const orderCustomerIds = await repo.orderCustomers(trx, tenantId, orderIds)
  const result = await write()
  await refreshAnalyticsRollups(trx, tenantId, {
    orderIds,
    customerIds,
    instants: before,
    orderCustomerIds,
  })
  return result
}

/**
 * Rebuilds every analytics rollup of a tenant from the stored rows: after the shop's time zone
 * changes (the shop sync), after a reconciliation or a shop/redact.
 */
export async function rebuildAnalyticsRollups(
  trx: Tx,
  tenantId: string,
  opts: { statementTimeoutMs?: number } = {},
): Promise<void> {
  // Background callers (a finished backfill) pass a long limit: a million-order shop's rebuild
  // takes longer than a request's statement timeout.
  if (opts.statementTimeoutMs) await repo.allowLongStatements(trx, opts.statementTimeoutMs)
  const shop = await shopOf(trx, tenantId)
  await repo.lockTenantRollups(trx, tenantId)
  await rebuildAll(trx, tenantId, shop.zone)
}

/** Recomputes the custom-event rollup for the local days of some event instants. */
export async function refreshEventRollups(
  trx: Tx,
  tenantId: string,
  occurredAt: Date[],
): Promise<void> {
  const shop = await shopOf(trx, tenantId)
  await repo.lockTenantRollups(trx, tenantId)
  if ((await repo.rollupZone(trx, tenantId)) !== shop.zone)
    return rebuildAll(trx, tenantId, shop.zone)
  const days = await repo.localDays(trx, shop.zone, occurredAt)
  await repo.rebuildEventDays(trx, tenantId, shop.zone, { kind: 'days', days })
}

export type AnalyticsDeps = {
  db: Database
  now?: () => Date
  /** How top customers are searched (tests force the bounded path); same answers either way. */
  ranking?: repo.RankingOptions
}

/** Analytics of DESIGN.md §6 for one tenant: every figure in the shop's zone and currency. */
export function createAnalyticsService(deps: AnalyticsDeps) {
  const now = deps.now ?? (() => new Date())

  async function run<T>(
    tenantId: string,
    input: RangeInput,
    fn: (trx: Tx, q: RangeQuery, range: ResolvedRange, days: number) => Promise<T>,
  ): Promise<T> {
    return withTenant(deps.db, tenantId, async (trx) => {
      const shop = await shopOf(trx, tenantId)
      const r = resolveRange(input, shop.zone, now())
      await ensureRollups(trx, tenantId, shop.zone)
      await repo.tuneReadTransaction(trx)
      const q: RangeQuery = {
        tenantId,
        zone: shop.zone,
        from: r.from,
        to: r.to,
        granularity: r.granularity,
        ...(await repo.rangeInstants(trx, shop.zone, r.from, r.to)),
      }
      const range: ResolvedRange = {
        from: r.from,
        to: r.to,
        granularity: r.granularity,
        zone: shop.zone,
        currency: shop.currency,
      }
      return fn(trx, q, range, r.days)
    })
  }

  const shapeTotals = (t: repo.Totals) => ({
    gross_sales: formatMoney(t.grossSales),
    refunds: formatMoney(t.refunds),
    net_sales: formatMoney(t.netSales),
    orders: t.orders,
    aov: money(t.aov),
    customers_ordered: t.customersOrdered,
    new_customers: t.newCustomers,
    returning_customers: t.returningCustomers,
    returning_customer_rate: t.returningCustomerRate,
    new_products: t.newProducts,
    events: t.events,
  })

  return {
    /** Summary of the range and of the previous period of equal length. */
    async summary(tenantId: string, input: RangeInput) {
      return run(tenantId, input, async (trx, q, range, days) => {
        const prevTo = isoDate(Date.parse(q.from) - DAY_MS)
        const prevFrom = isoDate(Date.parse(q.from) - days * DAY_MS)
        const [current, previous] = await repo.summaryTotals(trx, tenantId, q, {
          from: prevFrom,
          to: prevTo,
          ...(await repo.rangeInstants(trx, q.zone, prevFrom, prevTo)),
        })
        return {
          range: echo(range),
          current: shapeTotals(current),
          previous: { from: prevFrom, to: prevTo, ...shapeTotals(previous) },
        }
      })
    },

    /** gross, refunds, net, orders, aov per bucket with running totals. */
    async revenue(tenantId: string, input: RangeInput) {
      return run(tenantId, input, async (trx, q, range) => {
        const rows = await repo.revenueSeries(trx, q)
        return {
          range: echo(range),
          series: rows.map((r) => ({
            start: r.start,
            end: r.end,
            orders: r.orders,
            gross_sales: formatMoney(r.grossSales),
            refunds: formatMoney(r.refunds),
            net_sales: formatMoney(r.netSales),
            aov: money(r.aov),
            cumulative: {
              orders: r.cumulativeOrders,
              gross_sales: formatMoney(r.cumulativeGrossSales),
              refunds: formatMoney(r.cumulativeRefunds),
              net_sales: formatMoney(r.cumulativeNetSales),
            },
          })),
        }
      })
    },

    /** Counted orders per bucket by financial and fulfilment status (every status seen, 0-filled). */
    async orders(tenantId: string, input: RangeInput) {
      return run(tenantId, input, async (trx, q, range) => {
        const rows = await repo.orderStatusSeries(trx, q)
        const financial = new Set<string>()
        const fulfillment = new Set<string>()
        for (const r of rows) {
          if (r.financialStatus !== null) financial.add(r.financialStatus)
          if (r.fulfillmentStatus !== null) fulfillment.add(r.fulfillmentStatus)
        }
        const zeros = (keys: Set<string>) =>
          Object.fromEntries([...keys].sort().map((k) => [k, 0])) as Record<string, number>
        const series: {
          start: string
          end: string
          orders: number
          by_financial_status: Record<string, number>
          by_fulfillment_status: Record<string, number>
        }[] = []
        for (const r of rows) {
          let b = series.at(-1)
          if (!b || b.start !== r.start) {
            b = {
              start: r.start,
              end: r.end,
              orders: 0,
              by_financial_status: zeros(financial),
              by_fulfillment_status: zeros(fulfillment),
            }
            series.push(b)
          }
          if (r.financialStatus === null || r.fulfillmentStatus === null) continue
          b.orders += r.orders
          b.by_financial_status[r.financialStatus] =
            (b.by_financial_status[r.financialStatus] ?? 0) + r.orders
          b.by_fulfillment_status[r.fulfillmentStatus] =
            (b.by_fulfillment_status[r.fulfillmentStatus] ?? 0) + r.orders
        }
        return { range: echo(range), series }
      })
    },

    /** Top customers by net spend in the range, with lifetime amount_spent. */
    async topCustomers(tenantId: string, input: RangeInput & { limit?: number }) {
      return run(tenantId, input, async (trx, q, range) => {
        const rows = await repo.topCustomers(trx, q, limitOf(input.limit), deps.ranking)
        return {
          range: echo(range),
          customers: rows.map((r) => ({
            customer_id: r.customerId,
            email: r.email,
            first_name: r.firstName,
            last_name: r.lastName,
            orders: r.orders,
            gross_sales: formatMoney(r.gross),
            refunds: formatMoney(r.refunds),
            net_spend: formatMoney(r.net),
            lifetime_amount_spent: money(r.amountSpent),
          })),
        }
      })
    },

    /** Top products by line-item revenue and units. */
    async topProducts(tenantId: string, input: RangeInput & { limit?: number }) {
      return run(tenantId, input, async (trx, q, range) => {
        const rows = await repo.topProducts(trx, q, limitOf(input.limit))
        return {
          range: echo(range),
          products: rows.map((r) => ({
            product_id: r.productId,
            title: r.title,
            units: Number(r.units),
            revenue: formatMoney(r.revenue),
          })),
        }
      })
    },

    /** New customers per bucket and the running total including earlier customers. */
    async customerGrowth(tenantId: string, input: RangeInput) {
      return run(tenantId, input, async (trx, q, range) => ({
        range: echo(range),
        series: (await repo.customerGrowthSeries(trx, q)).map(growth),
      }))
    },

    /** New products per bucket and the running total including earlier products. */
    async productGrowth(tenantId: string, input: RangeInput) {
      return run(tenantId, input, async (trx, q, range) => ({
        range: echo(range),
        series: (await repo.productGrowthSeries(trx, q)).map(growth),
      }))
    },

    /** Custom events by type per bucket, and the checkout-started → order funnel. */
    async events(tenantId: string, input: RangeInput) {
      return run(tenantId, input, async (trx, q, range) => {
        const rows = await repo.eventSeries(trx, q)
        const types = [...new Set(rows.flatMap((r) => (r.eventType === null ? [] : [r.eventType])))]
        types.sort()
        const series: {
          start: string
          end: string
          total: number
          by_type: Record<string, number>
        }[] = []
        const totals: Record<string, number> = Object.fromEntries(types.map((t) => [t, 0]))
        for (const r of rows) {
          let b = series.at(-1)
          if (!b || b.start !== r.start) {
            b = {
              start: r.start,
              end: r.end,
              total: 0,
              by_type: Object.fromEntries(types.map((t) => [t, 0])),
            }
            series.push(b)
          }
          if (r.eventType === null) continue
          b.total += r.events
          b.by_type[r.eventType] = (b.by_type[r.eventType] ?? 0) + r.events
          totals[r.eventType] = (totals[r.eventType] ?? 0) + r.events
        }
        const funnelRows = await repo.funnelSeries(trx, q, CHECKOUT_STARTED_EVENT)
        const whole = funnelRows.find((r) => r.start === null)
        const step = (r: repo.FunnelRow) => ({
          checkouts_started: r.checkoutsStarted,
          orders: r.orders,
          rate: r.rate,
        })
        return {
          range: echo(range),
          totals: { total: Object.values(totals).reduce((a, b) => a + b, 0), by_type: totals },
          series,
          funnel: {
            checkout_event_type: CHECKOUT_STARTED_EVENT,
            ...(whole ? step(whole) : { checkouts_started: 0, orders: 0, rate: null }),
            series: funnelRows
              .filter((r) => r.start !== null)
              .map((r) => ({ start: r.start, end: r.end, ...step(r) })),
          },
        }
      })
    },
  }
}

function limitOf(limit: number | undefined): number {
  const n = limit ?? 5
  if (!Number.isInteger(n) || n < 1 || n > 100)
    throw new ValidationError('limit must be an integer from 1 to 100', [
      { field: 'limit', message: 'must be an integer from 1 to 100' },
    ])
  return n
}

const growth = (r: repo.GrowthRow) => ({
  start: r.start,
  end: r.end,
  added: r.added,
  running_total: r.runningTotal,
})

const echo = (r: ResolvedRange) => ({
  from: r.from,
  to: r.to,
  granularity: r.granularity,
  zone: r.zone,
  currency: r.currency,
})

export type AnalyticsService = ReturnType<typeof createAnalyticsService>
