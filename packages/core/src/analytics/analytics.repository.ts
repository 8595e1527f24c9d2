// Every analytics figure of DESIGN.md §6 is defined here, once, in SQL. Days are calendar days
// in the shop's IANA zone: `(ts AT TIME ZONE zone)::date`, and a day D covers the instants
// [D 00:00, D+1 00:00) local, which is 23 or 25 hours long across a DST change.
import { sql, type Tx } from '@xeno/db'

type RawBuilder<T> = ReturnType<typeof sql.raw<T>>

export type Granularity = 'day' | 'week' | 'month'

/** The range a query covers: inclusive local calendar dates (YYYY-MM-DD) in `zone`. */
export type RangeQuery = {
  tenantId: string
  zone: string
  from: string
  to: string
  granularity: Granularity
  /** First instant of `from` and of the day after `to` in the zone (see rangeInstants). */
  start: string
  end: string
}

// A counted order: not a test, not deleted, not cancelled (DESIGN.md §6).
const counted = (alias: string) =>
  sql`(NOT ${sql.ref(`${alias}.test`)} AND ${sql.ref(`${alias}.deleted_at`)} IS NULL
    AND ${sql.ref(`${alias}.cancelled_at`)} IS NULL)`

const localDay = (col: RawBuilder<unknown>, zone: string) =>
  sql`(${col} AT TIME ZONE ${zone})::date`

// The first instant of a local date.
const dayStart = (date: RawBuilder<unknown> | string, zone: string) =>
  sql`((${date})::date::timestamp AT TIME ZONE ${zone})`

// Rows per bucket: every local day of the range, labelled with its bucket's first day.
// Materialised, so joins see plain date columns: under row-level security only leakproof
// conditions become index conditions, and a timestamp→date cast is not one.
const bucketsCte = (q: RangeQuery) => sql`
  days AS MATERIALIZED (
    SELECT d::date AS day, date_trunc(${q.granularity}, d)::date AS bucket
    FROM generate_series(${q.from}::date::timestamp, ${q.to}::date::timestamp, interval '1 day') AS d
  )`

/** How the timestamp columns of a rollup refresh are restricted: all days, or some days. */
type DayFilter = { kind: 'all' } | { kind: 'days'; days: string[] }

function dayFilter(col: RawBuilder<unknown>, zone: string, f: DayFilter) {
  if (f.kind === 'all') return sql`TRUE`
  // The range test lets the index do the work; the day test keeps only the listed days.
  return sql`(${col} >= ${dayStart(sql`(SELECT min(d) FROM unnest(${f.days}::date[]) d)`, zone)}
    AND ${col} < ${dayStart(sql`(SELECT max(d) + 1 FROM unnest(${f.days}::date[]) d)`, zone)}
    AND ${localDay(col, zone)} = ANY(${f.days}::date[]))`
}

const col = (name: string) => sql.ref<unknown>(name)

/** Calendar months a customer_spend_windows row covers (its migration builds the same). */
const WINDOW_MONTHS = 4

/** Serialises rollup maintenance per tenant, so two writers never rebuild the same day at once. */
export async function lockTenantRollups(trx: Tx, tenantId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${'analytics:' + tenantId}, 0))`.execute(
    trx,
  )
}

/**
 * Room for the range aggregations of one analytics request (hash aggregates stay in memory), and
 * no JIT: a big tenant's range aggregates cost enough to trigger it, and compiling them takes
 * 40–50 ms of a request that runs in less.
 */
export async function tuneReadTransaction(trx: Tx): Promise<void> {
  await sql`SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`.execute(
    trx,
  )
}

/** Lets a background rebuild outlive the pool's per-statement limit (this transaction only). */
export async function allowLongStatements(trx: Tx, ms: number): Promise<void> {
  await sql`SELECT set_config('statement_timeout', ${String(Math.round(ms))}, true)`.execute(trx)
  await sql`SELECT set_config('work_mem', '64MB', true)`.execute(trx)
}

/** A zone Node's ICU knows (todayIn formats dates in it). */
function intlKnows(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

/**
 * The shop's zone and currency, or undefined for an unknown (or other) tenant. A zone that
 * Postgres or Node does not know is replaced by UTC (`storedZone` keeps the shop's own), so
 * analytics answer in UTC instead of failing.
 */
export async function findShop(
  trx: Tx,
  tenantId: string,
): Promise<{ zone: string; currency: string; storedZone: string } | undefined> {
  const row = await trx
    .selectFrom('tenants')
    .select([
      'ianaTimezone',
      'currency',
      sql<boolean>`app_known_time_zone(iana_timezone)`.as('known'),
    ])
    .where('id', '=', tenantId)
    .executeTakeFirst()
  if (!row) return undefined
  const usable = row.known && intlKnows(row.ianaTimezone)
  return {
    zone: usable ? row.ianaTimezone : 'UTC',
    currency: row.currency,
    storedZone: row.ianaTimezone,
  }
}

/** The zone the tenant's rollups were built in, if they were. */
export async function rollupZone(trx: Tx, tenantId: string): Promise<string | undefined> {
  const row = await trx
    .selectFrom('analyticsRollupState')
    .select('ianaTimezone')
    .where('tenantId', '=', tenantId)
    .executeTakeFirst()
  return row?.ianaTimezone
}

export async function setRollupZone(trx: Tx, tenantId: string, zone: string): Promise<void> {
  await sql`
    INSERT INTO analytics_rollup_state (tenant_id, iana_timezone, rebuilt_at)
    VALUES (${tenantId}, ${zone}, now())
    ON CONFLICT (tenant_id) DO UPDATE SET iana_timezone = excluded.iana_timezone,
      rebuilt_at = excluded.rebuilt_at`.execute(trx)
}

/** Local days and customers an order set touches now: processed_at days and refund days. */
export async function orderFootprint(
  trx: Tx,
  tenantId: string,
  zone: string,
  orderIds: string[],
): Promise<{ days: string[]; customerIds: string[] }> {
  if (orderIds.length === 0) return { days: [], customerIds: [] }
  const { rows } = await sql<{ day: string | null; customerId: string | null }>`
    SELECT ${localDay(col('o.processed_at'), zone)}::text AS day, o.customer_id::text AS customer_id
    FROM orders o WHERE o.tenant_id = ${tenantId} AND o.id = ANY(${orderIds}::bigint[])
    UNION
    SELECT ${localDay(col('r.created_at'), zone)}::text, NULL
    FROM refunds r WHERE r.tenant_id = ${tenantId} AND r.order_id = ANY(${orderIds}::bigint[])`.execute(
    trx,
  )
  const days = new Set<string>()
  const customers = new Set<string>()
  for (const r of rows) {
    if (r.day) days.add(r.day)
    if (r.customerId) customers.add(r.customerId)
  }
  return { days: [...days], customerIds: [...customers] }
}

// Every rollup INSERT … SELECT takes tenant_id from the source rows (and groups or partitions by
// it) rather than writing the tenant as a constant: a distributed engine (Citus) then sees source
// and target colocated by tenant and runs the statement on the tenant's shard, where with a
// constant it would pull the rows to the coordinator and COPY them back (refused under forced RLS).
/**
 * Recomputes daily_metrics and daily_product_metrics for some (or all) local days from the
 * orders, refunds and line items: the definitions of orders, gross_sales, refunds and line-item
 * revenue live here.
 */
export async function rebuildOrderDays(
  trx: Tx,
  tenantId: string,
  zone: string,
  f: DayFilter,
): Promise<void> {
  if (f.kind === 'days' && f.days.length === 0) return
  const onlyDays = f.kind === 'all' ? sql`TRUE` : sql`day = ANY(${f.days}::date[])`
  await sql`DELETE FROM daily_metrics WHERE tenant_id = ${tenantId} AND ${onlyDays}`.execute(trx)
  await sql`DELETE FROM daily_product_metrics WHERE tenant_id = ${tenantId} AND ${onlyDays}`.execute(
    trx,
  )
  // Shopify's REST payloads leave fulfillment_status null until something ships.
  const fs = sql`lower(coalesce(o.financial_status, 'unknown'))`
  const ff = sql`lower(coalesce(o.fulfillment_status, 'unfulfilled'))`
  await sql`
    INSERT INTO daily_metrics (tenant_id, day, financial_status, fulfillment_status, orders,
      gross_sales, refunds)
    SELECT tenant_id, day, fs, ff, sum(orders), sum(gross), sum(refunds)
    FROM (
      -- gross_sales and orders: counted orders by processed_at day
      SELECT o.tenant_id, ${localDay(col('o.processed_at'), zone)} AS day, ${fs} AS fs, ${ff} AS ff,
        1 AS orders, o.total_price AS gross, 0 AS refunds
      FROM orders o
      WHERE o.tenant_id = ${tenantId} AND ${counted('o')}
        AND ${dayFilter(col('o.processed_at'), zone, f)}
      UNION ALL
      -- refunds: by the refund's created_at day, only for counted orders (a cancelled, test or
      -- deleted order's sale never entered gross_sales, so its refunds never leave it)
      SELECT r.tenant_id, ${localDay(col('r.created_at'), zone)}, ${fs}, ${ff}, 0, 0, r.amount
      FROM refunds r
      JOIN orders o ON o.tenant_id = r.tenant_id AND o.id = r.order_id
      WHERE r.tenant_id = ${tenantId} AND ${counted('o')}
        AND ${dayFilter(col('r.created_at'), zone, f)}
    ) x
    GROUP BY tenant_id, day, fs, ff`.execute(trx)
  // Line-item revenue: discounted_total (after line discounts, before tax and shipping) of
  // counted orders, by the order's processed_at day; custom items without a product are left out.
  await sql`
    INSERT INTO daily_product_metrics (tenant_id, day, product_id, units, revenue)
    SELECT o.tenant_id, ${localDay(col('o.processed_at'), zone)} AS day, li.product_id,
      sum(li.quantity), sum(li.discounted_total)
    FROM orders o
    JOIN order_line_items li ON li.tenant_id = o.tenant_id AND li.order_id = o.id
    WHERE o.tenant_id = ${tenantId} AND ${counted('o')} AND li.product_id IS NOT NULL
      AND ${dayFilter(col('o.processed_at'), zone, f)}
    GROUP BY 1, 2, 3`.execute(trx)
  // The months those days belong to, summed again from the days.
  const months =
    f.kind === 'all'
      ? sql`TRUE`
      : sql`month IN (SELECT DISTINCT date_trunc('month', d)::date
          FROM unnest(${f.days}::date[]) d)`
  await sql`DELETE FROM monthly_product_metrics WHERE tenant_id = ${tenantId} AND ${months}`.execute(
    trx,
  )
  await sql`
    INSERT INTO monthly_product_metrics (tenant_id, month, product_id, units, revenue)
    SELECT tenant_id, month, product_id, sum(units), sum(revenue)
    FROM (
      SELECT tenant_id, date_trunc('month', day)::date AS month, product_id, units, revenue
      FROM daily_product_metrics WHERE tenant_id = ${tenantId}
    ) x
    WHERE ${months}
    GROUP BY 1, 2, 3`.execute(trx)
}

/**
 * Recomputes customer_order_stats for some or all customers: counted orders ever, their gross,
 * and the local days they were processed on.
 */
export async function rebuildCustomerStats(
  trx: Tx,
  tenantId: string,
  zone: string,
  customerIds: string[] | 'all',
): Promise<void> {
  if (customerIds !== 'all' && customerIds.length === 0) return
  const only = customerIds === 'all' ? sql`TRUE` : sql`customer_id = ANY(${customerIds}::bigint[])`
  await sql`DELETE FROM customer_order_stats WHERE tenant_id = ${tenantId} AND ${only}`.execute(trx)
  await sql`
    INSERT INTO customer_order_stats (tenant_id, customer_id, counted_orders, counted_gross,
      order_days)
    SELECT o.tenant_id, o.customer_id, count(*), sum(o.total_price),
      range_agg(daterange(${localDay(col('o.processed_at'), zone)},
        ${localDay(col('o.processed_at'), zone)}, '[]'))
    FROM orders o
    WHERE o.tenant_id = ${tenantId} AND o.customer_id IS NOT NULL AND ${counted('o')} AND ${only}
    GROUP BY o.tenant_id, o.customer_id`.execute(trx)
  // Per customer and local day: counted orders, their gross, the neighbouring order days; and
  // customer_return_days, the number of those rows per (day, prev_day), adjusted by the rows
  // removed here and by the rows added (pairs whose count drops to zero are removed).
  const returns = (sign: 1 | -1, rows: ReturnType<typeof sql>) => sql`
    INSERT INTO customer_return_days (tenant_id, day, prev_day, customers)
    SELECT tenant_id, day, prev_day, ${sign} * count(*)::int FROM ${rows} r
    WHERE prev_day IS NOT NULL
    GROUP BY 1, 2, 3
    ON CONFLICT (tenant_id, day, prev_day)
      DO UPDATE SET customers = customer_return_days.customers + excluded.customers
    RETURNING day::text AS day, prev_day::text AS prev_day`
  let removed: { day: string; prevDay: string }[] = []
  if (customerIds === 'all') {
    await sql`DELETE FROM customer_return_days WHERE tenant_id = ${tenantId}`.execute(trx)
    await sql`DELETE FROM customer_daily_metrics WHERE tenant_id = ${tenantId}`.execute(trx)
  } else
    removed = (
      await sql<{ day: string; prevDay: string }>`
        WITH gone AS (
          DELETE FROM customer_daily_metrics WHERE tenant_id = ${tenantId} AND ${only}
          RETURNING tenant_id, day, prev_day
        )
        ${returns(-1, sql`gone`)}`.execute(trx)
    ).rows
  await sql`
    INSERT INTO customer_daily_metrics (tenant_id, customer_id, day, orders, gross_sales,
      prev_day, next_day)
    SELECT tenant_id, customer_id, day, orders, gross, lag(day) OVER w, lead(day) OVER w
    FROM (
      SELECT o.tenant_id, o.customer_id, ${localDay(col('o.processed_at'), zone)} AS day,
        count(*)::int AS orders, sum(o.total_price) AS gross
      FROM orders o
      WHERE o.tenant_id = ${tenantId} AND o.customer_id IS NOT NULL AND ${counted('o')}
        AND ${only}
      GROUP BY 1, 2, 3
    ) x
    WINDOW w AS (PARTITION BY tenant_id, customer_id ORDER BY day)`.execute(trx)
  await sql`${returns(
    1,
    sql`(SELECT tenant_id, day, prev_day FROM customer_daily_metrics
      WHERE tenant_id = ${tenantId} AND ${only})`,
  )}`.execute(trx)
  if (removed.length)
    await sql`
      DELETE FROM customer_return_days
      WHERE tenant_id = ${tenantId} AND customers = 0
        AND (day, prev_day) IN (
          SELECT * FROM unnest(${removed.map((r) => r.day)}::date[],
            ${removed.map((r) => r.prevDay)}::date[]))`.execute(trx)
  // Refunds of counted orders per customer, order day and refund day.
  await sql`DELETE FROM customer_refund_metrics WHERE tenant_id = ${tenantId} AND ${only}`.execute(
    trx,
  )
  await sql`
    INSERT INTO customer_refund_metrics (tenant_id, customer_id, order_day, refund_day, refunds)
    SELECT o.tenant_id, o.customer_id, ${localDay(col('o.processed_at'), zone)},
      ${localDay(col('r.created_at'), zone)}, sum(r.amount)
    FROM orders o
    JOIN refunds r ON r.tenant_id = o.tenant_id AND r.order_id = o.id
    WHERE o.tenant_id = ${tenantId} AND o.customer_id IS NOT NULL AND ${counted('o')} AND ${only}
    GROUP BY 1, 2, 3, 4`.execute(trx)
  // Per customer and local month M: a bound of net spend in any range inside [M, M + 4 months)
  // (see rankByWindow): each counted order's total_price, at least 0, plus the negative parts
  // of its refunds, summed over the four months, in 1/10000 of the currency unit rounded up.
  await sql`DELETE FROM customer_spend_windows WHERE tenant_id = ${tenantId} AND ${only}`.execute(
    trx,
  )
  await sql`
    INSERT INTO customer_spend_windows (tenant_id, customer_id, start_month, cap_units)
    SELECT tenant_id, customer_id, (month - k * interval '1 month')::date,
      ceil(sum(cap) * 10000)::bigint
    FROM (
      SELECT o.tenant_id, o.customer_id, date_trunc('month', ${localDay(col('o.processed_at'), zone)})::date
          AS month,
        greatest(o.total_price, 0) + coalesce(sum(-r.amount), 0) AS cap
      FROM orders o
      LEFT JOIN refunds r ON r.tenant_id = o.tenant_id AND r.order_id = o.id AND r.amount < 0
      WHERE o.tenant_id = ${tenantId} AND o.customer_id IS NOT NULL AND ${counted('o')}
        AND ${only}
      GROUP BY o.tenant_id, o.id, o.customer_id, o.processed_at, o.total_price
    ) m, generate_series(0, ${WINDOW_MONTHS - 1}) k
    GROUP BY 1, 2, 3`.execute(trx)
}

/** The customers some orders belong to now (a write may move an order to another customer). */
export async function orderCustomers(
  trx: Tx,
  tenantId: string,
  orderIds: string[],
): Promise<string[]> {
  if (!orderIds.length) return []
  const { rows } = await sql<{ id: string }>`
    SELECT DISTINCT customer_id::text AS id FROM orders
    WHERE tenant_id = ${tenantId} AND id = ANY(${orderIds}::bigint[])
      AND customer_id IS NOT NULL`.execute(trx)
  return rows.map((r) => r.id)
}

/** Local days some customers' Shopify created_at falls on now. */
export async function customerDays(
  trx: Tx,
  tenantId: string,
  zone: string,
  customerIds: string[],
): Promise<string[]> {
  if (customerIds.length === 0) return []
  const { rows } = await sql<{ day: string }>`
    SELECT DISTINCT ${localDay(col('c.created_at'), zone)}::text AS day FROM customers c
    WHERE c.tenant_id = ${tenantId} AND c.id = ANY(${customerIds}::bigint[])`.execute(trx)
  return rows.map((r) => r.day)
}

/** Recomputes daily_customer_metrics: new customers by local created_at day, deleted left out. */
export async function rebuildCustomerDays(
  trx: Tx,
  tenantId: string,
  zone: string,
  f: DayFilter,
): Promise<void> {
  if (f.kind === 'days' && f.days.length === 0) return
  const onlyDays = f.kind === 'all' ? sql`TRUE` : sql`day = ANY(${f.days}::date[])`
  await sql`DELETE FROM daily_customer_metrics WHERE tenant_id = ${tenantId} AND ${onlyDays}`.execute(
    trx,
  )
  await sql`
    INSERT INTO daily_customer_metrics (tenant_id, day, new_customers)
    SELECT c.tenant_id, ${localDay(col('c.created_at'), zone)}, count(*)
    FROM customers c
    WHERE c.tenant_id = ${tenantId} AND c.deleted_at IS NULL
      AND ${dayFilter(col('c.created_at'), zone, f)}
    GROUP BY 1, 2`.execute(trx)
}

/** Recomputes daily_event_metrics (custom events by local day and type). */
export async function rebuildEventDays(
  trx: Tx,
  tenantId: string,
  zone: string,
  f: DayFilter,
): Promise<void> {
  if (f.kind === 'days' && f.days.length === 0) return
  const onlyDays = f.kind === 'all' ? sql`TRUE` : sql`day = ANY(${f.days}::date[])`
  await sql`DELETE FROM daily_event_metrics WHERE tenant_id = ${tenantId} AND ${onlyDays}`.execute(
    trx,
  )
  await sql`
    INSERT INTO daily_event_metrics (tenant_id, day, event_type, events)
    SELECT e.tenant_id, ${localDay(col('e.occurred_at'), zone)}, e.event_type, count(*)
    FROM custom_events e
    WHERE e.tenant_id = ${tenantId} AND ${dayFilter(col('e.occurred_at'), zone, f)}
    GROUP BY 1, 2, 3`.execute(trx)
}

/** The local days some instants fall on. */
export async function localDays(trx: Tx, zone: string, instants: Date[]): Promise<string[]> {
  if (instants.length === 0) return []
  const { rows } = await sql<{ day: string }>`
    SELECT DISTINCT ${localDay(sql`t`, zone)}::text AS day
    FROM unnest(${instants.map((d) => d.toISOString())}::timestamptz[]) AS t`.execute(trx)
  return rows.map((r) => r.day)
}

// ---------------------------------------------------------------- read side

/** The first instant of `from` and of the day after `to`, in the zone. */
export async function rangeInstants(
  trx: Tx,
  zone: string,
  from: string,
  to: string,
): Promise<{ start: string; end: string }> {
  const { rows } = await sql<{ start: string; end: string }>`
    SELECT to_json(${dayStart(from, zone)})#>>'{}' AS start,
      to_json(${dayStart(sql`${to}::date + 1`, zone)})#>>'{}' AS end`.execute(trx)
  return rows[0]!
}

// Rollup rows of the range, filtered by plain parameters (index conditions under RLS).
const dailyIn = (q: RangeQuery) => sql`
  dm AS (
    SELECT day, financial_status, fulfillment_status, orders, gross_sales, refunds
    FROM daily_metrics
    WHERE tenant_id = ${q.tenantId} AND day BETWEEN ${q.from}::date AND ${q.to}::date
  )`

export type RevenueRow = {
  start: string
  end: string
  orders: number
  grossSales: string
  refunds: string
  netSales: string
  aov: string | null
  cumulativeOrders: number
  cumulativeGrossSales: string
  cumulativeRefunds: string
  cumulativeNetSales: string
}

/** gross_sales, refunds, net_sales, orders, aov per bucket, with running totals in the range. */
export async function revenueSeries(trx: Tx, q: RangeQuery): Promise<RevenueRow[]> {
  const { rows } = await sql<RevenueRow>`
    WITH ${bucketsCte(q)}, ${dailyIn(q)},
    per_day AS (
      SELECT day, sum(orders) AS orders, sum(gross_sales) AS gross, sum(refunds) AS refunds
      FROM dm GROUP BY day
    ),
    per_bucket AS (
      SELECT d.bucket, min(d.day) AS first_day, max(d.day) AS last_day,
        coalesce(sum(m.orders), 0)::int AS orders,
        coalesce(sum(m.gross), 0) AS gross, coalesce(sum(m.refunds), 0) AS refunds
      FROM days d LEFT JOIN per_day m ON m.day = d.day
      GROUP BY d.bucket
    )
    SELECT first_day::text AS start, last_day::text AS end, orders,
      gross::text AS gross_sales, refunds::text AS refunds, (gross - refunds)::text AS net_sales,
      CASE WHEN orders = 0 THEN NULL ELSE round(gross / orders, 2)::text END AS aov,
      (sum(orders) OVER w)::int AS cumulative_orders,
      (sum(gross) OVER w)::text AS cumulative_gross_sales,
      (sum(refunds) OVER w)::text AS cumulative_refunds,
      (sum(gross - refunds) OVER w)::text AS cumulative_net_sales
    FROM per_bucket
    WINDOW w AS (ORDER BY bucket)
    ORDER BY bucket`.execute(trx)
  return rows
}

export type StatusRow = {
  start: string
  end: string
  financialStatus: string | null
  fulfillmentStatus: string | null
  orders: number
}

/** Counted orders per bucket and (financial, fulfilment) status; one null row for empty buckets. */
export async function orderStatusSeries(trx: Tx, q: RangeQuery): Promise<StatusRow[]> {
  const { rows } = await sql<StatusRow>`
    WITH ${bucketsCte(q)}, ${dailyIn(q)},
    spans AS (SELECT bucket, min(day) AS first_day, max(day) AS last_day FROM days GROUP BY bucket),
    per_bucket AS (
      SELECT d.bucket, m.financial_status, m.fulfillment_status, sum(m.orders)::int AS orders
      FROM dm m JOIN days d ON d.day = m.day
      WHERE m.orders > 0
      GROUP BY 1, 2, 3
    )
    SELECT s.first_day::text AS start, s.last_day::text AS end,
      p.financial_status, p.fulfillment_status, coalesce(p.orders, 0) AS orders
    FROM spans s LEFT JOIN per_bucket p ON p.bucket = s.bucket
    ORDER BY s.bucket, p.financial_status, p.fulfillment_status`.execute(trx)
  return rows
}

export type Totals = {
  orders: number
  grossSales: string
  refunds: string
  netSales: string
  aov: string | null
  customersOrdered: number
  returningCustomers: number
  returningCustomerRate: number | null
  newCustomers: number
  newProducts: number
  events: number
}

type Period = Pick<RangeQuery, 'from' | 'to' | 'start' | 'end'>

/**
 * Summary figures of a range and of the previous period, from the rollups only.
 * customers_ordered: distinct customers with a counted order processed in the range (guest
 * orders have none), counted as the customer_daily_metrics rows of the range whose previous
 * order day is before the range (or absent): every such customer has exactly one. returning:
 * those of them with ≥ 2 counted orders ever, i.e. all but the customers whose only counted
 * order (a row without neighbours and orders = 1) is in the range.
 */
export async function summaryTotals(
  trx: Tx,
  tenantId: string,
  cur: Period,
  prev: Period,
): Promise<[Totals, Totals]> {
  const inRange = (p: Period) => sql`day BETWEEN ${p.from}::date AND ${p.to}::date`
  const figures = (p: Period, k: 'c' | 'p') => sql`
    SELECT ${k} AS k, m.orders, m.gross::text AS gross_sales, m.refunds::text AS refunds,
      (m.gross - m.refunds)::text AS net_sales,
      CASE WHEN m.orders = 0 THEN NULL ELSE round(m.gross / m.orders, 2)::text END AS aov,
      f.firsts + rp.repeats AS customers_ordered,
      f.firsts + rp.repeats - f.singles AS returning_customers,
      CASE WHEN f.firsts + rp.repeats = 0 THEN NULL
        ELSE round((f.firsts + rp.repeats - f.singles)::numeric / (f.firsts + rp.repeats), 4)::float8
      END AS returning_customer_rate,
      (SELECT coalesce(sum(new_customers), 0)::int FROM daily_customer_metrics
        WHERE tenant_id = ${tenantId} AND ${inRange(p)}) AS new_customers,
      (SELECT count(*)::int FROM products x WHERE x.tenant_id = ${tenantId}
        AND x.deleted_at IS NULL AND x.created_at >= ${p.start}::timestamptz
        AND x.created_at < ${p.end}::timestamptz) AS new_products,
      (SELECT coalesce(sum(events), 0)::int FROM daily_event_metrics
        WHERE tenant_id = ${tenantId} AND ${inRange(p)}) AS events
    FROM (
      SELECT coalesce(sum(orders), 0)::int AS orders, coalesce(sum(gross_sales), 0) AS gross,
        coalesce(sum(refunds), 0) AS refunds
      FROM daily_metrics
      WHERE tenant_id = ${tenantId} AND ${inRange(p)}
    ) m,
    -- first counted orders ever in the range; singles: the customer's only counted order
    (
      SELECT count(*)::int AS firsts,
        (count(*) FILTER (WHERE next_day IS NULL AND orders = 1))::int AS singles
      FROM customer_daily_metrics
      WHERE tenant_id = ${tenantId} AND prev_day IS NULL AND ${inRange(p)}
    ) f,
    -- a customer's first order day in the range after earlier orders (customer_return_days
    -- counts the customer_daily_metrics rows per day and previous order day)
    (
      SELECT coalesce(sum(customers), 0)::int AS repeats FROM customer_return_days
      WHERE tenant_id = ${tenantId} AND prev_day < ${p.from}::date AND ${inRange(p)}
    ) rp`
  const { rows } = await sql<Totals & { k: string }>`
    ${figures(cur, 'c')}
    UNION ALL
    ${figures(prev, 'p')}`.execute(trx)
  const pick = (k: string) => {
    const row = rows.find((r) => r.k === k)!
    const { k: _k, ...t } = row
    return t
  }
  return [pick('c'), pick('p')]
}

// Net spend per customer in the range, written once: Σ total_price of counted orders processed
// in the range, less the refunds of those orders created in the range; read from the
// per-customer rollups (customer_daily_metrics by the order's day, customer_refund_metrics by
// the order's and the refund's day). Only the top rows are formatted as text.
async function rankCustomers(trx: Tx, q: RangeQuery, only: string[] | null, limit: number) {
  const who = only === null ? sql`TRUE` : sql`customer_id = ANY(${only}::bigint[])`
  const { rows } = await sql<Ranked>`
    WITH g AS (
      SELECT customer_id, sum(orders) AS orders, sum(gross_sales) AS gross
      FROM customer_daily_metrics
      WHERE tenant_id = ${q.tenantId} AND day BETWEEN ${q.from}::date AND ${q.to}::date AND ${who}
      GROUP BY customer_id
    ),
    r AS (
      SELECT customer_id, sum(refunds) AS refunds
      FROM customer_refund_metrics
      WHERE tenant_id = ${q.tenantId}
        AND order_day BETWEEN ${q.from}::date AND ${q.to}::date
        AND refund_day BETWEEN ${q.from}::date AND ${q.to}::date AND ${who}
      GROUP BY customer_id
    ),
    top AS (
      SELECT g.customer_id, g.orders, g.gross, coalesce(r.refunds, 0) AS refunds
      FROM g LEFT JOIN r ON r.customer_id = g.customer_id
      ORDER BY g.gross - coalesce(r.refunds, 0) DESC, g.customer_id
      LIMIT ${limit}
    )
    SELECT customer_id::text AS customer_id, orders::int AS orders, gross::text AS gross,
      refunds::text AS refunds, (gross - refunds)::text AS net
    FROM top
    ORDER BY gross - refunds DESC, top.customer_id`.execute(trx)
  return rows
}

type Ranked = { customerId: string; orders: number; gross: string; refunds: string; net: string }

// 10⁻⁴ units as BigInt: numeric(20,4) compared exactly.
const units = (v: string) => {
  const [i = '0', f = ''] = v.split('.')
  const neg = i.startsWith('-')
  const n = BigInt(i.replace('-', '')) * 10_000n + BigInt((f + '0000').slice(0, 4))
  return neg ? -n : n
}
const byNet = (a: Ranked, b: Ranked) => {
  const d = units(b.net) - units(a.net)
  return d !== 0n ? (d > 0n ? 1 : -1) : BigInt(a.customerId) < BigInt(b.customerId) ? -1 : 1
}

/** How top customers are found; the answer is the same either way. */
export type RankingOptions = {
  /** Ranges with more counted orders than this rank by bound instead of a full scan. */
  scanMaxOrders: number
  /** Candidates examined per step of the bounded ranking. */
  candidateBatch: number
  /** Seeds of the windowed ranking (highest window bounds first); 0 turns it off. */
  windowSeeds: number
  /** Candidates past which the windowed ranking gives way to the other two. */
  windowMaxCandidates: number
}
export const DEFAULT_RANKING: RankingOptions = {
  scanMaxOrders: 150_000,
  candidateBatch: 200,
  windowSeeds: 100,
  windowMaxCandidates: 20_000,
}

export type TopCustomerRow = Ranked & {
  email: string | null
  firstName: string | null
  lastName: string | null
  amountSpent: string | null
}

// The first day of the month of a date, and that month moved by n months (YYYY-MM-DD).
const monthOf = (date: string, n = 0) => {
  const d = new Date(`${date}T00:00:00Z`)
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1)).toISOString().slice(0, 10)
}

/** The full scan for ranges with few orders, else candidates by counted_gross (topCustomers). */
async function rankByLifetime(
  trx: Tx,
  q: RangeQuery,
  limit: number,
  ranking: RankingOptions,
): Promise<Ranked[]> {
  const { rows: est } = await sql<{ n: number }>`
    SELECT coalesce(sum(orders), 0)::int AS n FROM daily_metrics
    WHERE tenant_id = ${q.tenantId} AND day BETWEEN ${q.from}::date AND ${q.to}::date`.execute(trx)
  if ((est[0]?.n ?? 0) <= ranking.scanMaxOrders) return rankCustomers(trx, q, null, limit)
  let best: Ranked[] = []
  let after: { gross: string; id: string } | null = null
  for (;;) {
    const cursor: ReturnType<typeof sql> =
      after === null
        ? sql`TRUE`
        : sql`(counted_gross, customer_id) < (${after.gross}::numeric, ${after.id}::bigint)`
    // Aliases differ from the columns: ORDER BY must sort the numbers, not their text.
    const { rows: batch } = await sql<{ id: string; bound: string }>`
      SELECT s.customer_id::text AS id, s.counted_gross::text AS bound
      FROM customer_order_stats s
      WHERE s.tenant_id = ${q.tenantId} AND ${cursor}
      ORDER BY s.counted_gross DESC, s.customer_id DESC
      LIMIT ${ranking.candidateBatch}`.execute(trx)
    if (batch.length === 0) break
    const found = await rankCustomers(
      trx,
      q,
      batch.map((c) => c.id),
      limit,
    )
    best = [...best, ...found].sort(byNet).slice(0, limit)
    const last = batch.at(-1)!
    after = { gross: last.bound, id: last.id }
    const kth = best[limit - 1]
    if (kth && units(kth.net) > units(last.bound)) break
  }
  return best
}

/**
 * Top customers of a range inside the spend window starting at its first month, or null when the
 * window cannot settle it. A customer's net spend in the range is at most their cap for the
 * window (customer_spend_windows, in the 1/10000 units of `units`). The seeds, the customers with the highest caps, give T, the
 * limit-th best net spend among them; every customer with a cap below T has a net spend below T
 * and cannot enter the top (nor tie with it), so the customers with a cap ≥ T, seeds included,
 * hold the same top as the full scan.
 */
async function rankByWindow(
  trx: Tx,
  q: RangeQuery,
  limit: number,
  ranking: RankingOptions,
): Promise<Ranked[] | null> {
  const window = monthOf(q.from)
  const { rows: seeds } = await sql<{ id: string }>`
    SELECT customer_id::text AS id FROM customer_spend_windows
    WHERE tenant_id = ${q.tenantId} AND start_month = ${window}::date
    ORDER BY cap_units DESC, customer_id
    LIMIT ${Math.max(limit, ranking.windowSeeds)}`.execute(trx)
  const seeded = await rankCustomers(
    trx,
    q,
    seeds.map((s) => s.id),
    limit,
  )
  const kth = seeded[limit - 1]
  if (!kth || units(kth.net) <= 0n) return null
  const { rows: candidates } = await sql<{ id: string }>`
    SELECT customer_id::text AS id FROM customer_spend_windows
    WHERE tenant_id = ${q.tenantId} AND start_month = ${window}::date
      AND cap_units >= ${String(units(kth.net))}::bigint
    LIMIT ${ranking.windowMaxCandidates + 1}`.execute(trx)
  if (candidates.length > ranking.windowMaxCandidates) return null
  return rankCustomers(
    trx,
    q,
    candidates.map((c) => c.id),
    limit,
  )
}

/**
 * Top customers by net spend in the range (see rankCustomers), ties by id. A range inside four
 * calendar months is ranked from the spend windows (rankByWindow). Otherwise a range with many
 * orders is ranked without aggregating all of them: candidates come in order of counted_gross
 * (every counted order ever, an upper bound of any range's net spend) until the limit-th best net
 * spend found beats the next candidate's bound. Every way gives the same answer as the full scan.
 */
export async function topCustomers(
  trx: Tx,
  q: RangeQuery,
  limit: number,
  ranking: RankingOptions = DEFAULT_RANKING,
): Promise<TopCustomerRow[]> {
  let best: Ranked[] | null = null
  if (ranking.windowSeeds > 0 && q.to < monthOf(q.from, WINDOW_MONTHS))
    best = await rankByWindow(trx, q, limit, ranking)
  if (best === null) best = await rankByLifetime(trx, q, limit, ranking)
  if (best.length === 0) return []
  const { rows: people } = await sql<{
    id: string
    email: string | null
    firstName: string | null
    lastName: string | null
    amountSpent: string | null
  }>`
    SELECT id::text AS id, email, first_name, last_name, amount_spent::text AS amount_spent
    FROM customers
    WHERE tenant_id = ${q.tenantId} AND id = ANY(${best.map((b) => b.customerId)}::bigint[])`.execute(
    trx,
  )
  const byId = new Map(people.map((p) => [p.id, p]))
  return best.map((b) => {
    const p = byId.get(b.customerId)
    return {
      ...b,
      email: p?.email ?? null,
      firstName: p?.firstName ?? null,
      lastName: p?.lastName ?? null,
      amountSpent: p?.amountSpent ?? null,
    }
  })
}

/**
 * The whole calendar months inside [from, to]: [fullFrom, fullTo) as first days of months;
 * empty (fullFrom = fullTo) when none.
 */
export function wholeMonths(from: string, to: string): { fullFrom: string; fullTo: string } {
  const first = (y: number, m0: number) => new Date(Date.UTC(y, m0, 1)).toISOString().slice(0, 10)
  const f = new Date(`${from}T00:00:00Z`)
  const fullFrom = f.getUTCDate() === 1 ? from : first(f.getUTCFullYear(), f.getUTCMonth() + 1)
  // The month of the day after `to`: `to`'s own month when `to` is not its last day.
  const n = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000)
  const fullTo = first(n.getUTCFullYear(), n.getUTCMonth())
  return fullFrom < fullTo ? { fullFrom, fullTo } : { fullFrom: from, fullTo: from }
}

export type TopProductRow = {
  productId: string
  title: string | null
  units: string
  revenue: string
}

/** Top products by line-item revenue, then units, then id. */
export async function topProducts(trx: Tx, q: RangeQuery, limit: number): Promise<TopProductRow[]> {
  const m = wholeMonths(q.from, q.to)
  const { rows } = await sql<TopProductRow>`
    WITH parts AS (
      SELECT product_id, units, revenue FROM monthly_product_metrics
      WHERE tenant_id = ${q.tenantId} AND month >= ${m.fullFrom}::date AND month < ${m.fullTo}::date
      UNION ALL
      SELECT product_id, units, revenue FROM daily_product_metrics
      WHERE tenant_id = ${q.tenantId} AND day BETWEEN ${q.from}::date AND ${q.to}::date
        AND (day < ${m.fullFrom}::date OR day >= ${m.fullTo}::date)
    ),
    per_product AS (
      SELECT product_id, sum(units) AS units, sum(revenue) AS revenue
      FROM parts
      GROUP BY product_id
      ORDER BY sum(revenue) DESC, sum(units) DESC, product_id
      LIMIT ${limit}
    )
    SELECT pp.product_id::text AS product_id, p.title, pp.units::text AS units,
      pp.revenue::text AS revenue
    FROM per_product pp
    LEFT JOIN products p ON p.tenant_id = ${q.tenantId} AND p.id = pp.product_id
    ORDER BY pp.revenue DESC, pp.units DESC, pp.product_id`.execute(trx)
  return rows
}

export type GrowthRow = { start: string; end: string; added: number; runningTotal: number }

const growthFrom = (
  q: RangeQuery,
  beforeSql: ReturnType<typeof sql>,
  addedSql: ReturnType<typeof sql>,
) => sql`
    WITH ${bucketsCte(q)},
    before AS (${beforeSql}),
    added AS (${addedSql}),
    per_bucket AS (
      SELECT d.bucket, min(d.day) AS first_day, max(d.day) AS last_day,
        coalesce(sum(a.n), 0)::int AS added
      FROM days d LEFT JOIN added a ON a.day = d.day
      GROUP BY d.bucket
    )
    SELECT first_day::text AS start, last_day::text AS end, added,
      ((SELECT n FROM before) + sum(added) OVER (ORDER BY bucket))::int AS running_total
    FROM per_bucket ORDER BY bucket`

/**
 * New customers per bucket (daily_customer_metrics: Shopify created_at, deleted ones left out),
 * and the running total including every customer created before the range.
 */
export async function customerGrowthSeries(trx: Tx, q: RangeQuery): Promise<GrowthRow[]> {
  const { rows } = await sql<GrowthRow>`${growthFrom(
    q,
    sql`SELECT coalesce(sum(new_customers), 0)::int AS n FROM daily_customer_metrics
      WHERE tenant_id = ${q.tenantId} AND day < ${q.from}::date`,
    sql`SELECT day, new_customers AS n FROM daily_customer_metrics
      WHERE tenant_id = ${q.tenantId} AND day BETWEEN ${q.from}::date AND ${q.to}::date`,
  )}`.execute(trx)
  return rows
}

/**
 * New products per bucket by Shopify created_at (deleted ones left out), and the running total
 * including every product created before the range.
 */
export async function productGrowthSeries(trx: Tx, q: RangeQuery): Promise<GrowthRow[]> {
  const { rows } = await sql<GrowthRow>`${growthFrom(
    q,
    sql`SELECT count(*)::int AS n FROM products x
      WHERE x.tenant_id = ${q.tenantId} AND x.deleted_at IS NULL
        AND x.created_at < ${q.start}::timestamptz`,
    sql`SELECT ${localDay(col('x.created_at'), q.zone)} AS day, count(*)::int AS n FROM products x
      WHERE x.tenant_id = ${q.tenantId} AND x.deleted_at IS NULL
        AND x.created_at >= ${q.start}::timestamptz AND x.created_at < ${q.end}::timestamptz
      GROUP BY 1`,
  )}`.execute(trx)
  return rows
}

export type EventRow = { start: string; end: string; eventType: string | null; events: number }

/** Custom events per bucket and event_type; one null row for empty buckets. */
export async function eventSeries(trx: Tx, q: RangeQuery): Promise<EventRow[]> {
  const { rows } = await sql<EventRow>`
    WITH ${bucketsCte(q)},
    spans AS (SELECT bucket, min(day) AS first_day, max(day) AS last_day FROM days GROUP BY bucket),
    per_bucket AS (
      SELECT d.bucket, e.event_type, sum(e.events)::int AS events
      FROM daily_event_metrics e JOIN days d ON d.day = e.day
      WHERE e.tenant_id = ${q.tenantId} AND e.day BETWEEN ${q.from}::date AND ${q.to}::date
      GROUP BY 1, 2
    )
    SELECT s.first_day::text AS start, s.last_day::text AS end, p.event_type,
      coalesce(p.events, 0) AS events
    FROM spans s LEFT JOIN per_bucket p ON p.bucket = s.bucket
    ORDER BY s.bucket, p.event_type`.execute(trx)
  return rows
}

export type FunnelRow = {
  start: string | null
  end: string | null
  checkoutsStarted: number
  orders: number
  rate: number | null
}

/**
 * Checkout started → order per bucket: counted orders / checkout-started events, capped to
 * [0, 1], null when no checkout started. The last row (start null) is the whole range.
 */
export async function funnelSeries(
  trx: Tx,
  q: RangeQuery,
  checkoutEventType: string,
): Promise<FunnelRow[]> {
  const { rows } = await sql<FunnelRow>`
    WITH ${bucketsCte(q)},
    checkouts AS (
      SELECT day, sum(events) AS n FROM daily_event_metrics
      WHERE tenant_id = ${q.tenantId} AND day BETWEEN ${q.from}::date AND ${q.to}::date
        AND event_type = ${checkoutEventType}
      GROUP BY day
    ),
    orders AS (
      SELECT day, sum(orders) AS n FROM daily_metrics
      WHERE tenant_id = ${q.tenantId} AND day BETWEEN ${q.from}::date AND ${q.to}::date
      GROUP BY day
    ),
    per_bucket AS (
      SELECT d.bucket, min(d.day)::text AS first_day, max(d.day)::text AS last_day,
        coalesce(sum(c.n), 0)::int AS checkouts, coalesce(sum(o.n), 0)::int AS orders
      FROM days d
      LEFT JOIN checkouts c ON c.day = d.day
      LEFT JOIN orders o ON o.day = d.day
      GROUP BY ROLLUP (d.bucket)
    )
    SELECT CASE WHEN bucket IS NULL THEN NULL ELSE first_day END AS start,
      CASE WHEN bucket IS NULL THEN NULL ELSE last_day END AS end,
      checkouts AS checkouts_started, orders,
      CASE WHEN checkouts = 0 THEN NULL
        ELSE least(1, greatest(0, round(orders::numeric / checkouts, 4)))::float8 END AS rate
    FROM per_bucket ORDER BY bucket NULLS LAST`.execute(trx)
  return rows
}

/**
 * The instants an order's figures sit on now (processed_at, its refunds' created_at): passed to
 * the rollup refresh so days a write moves the order away from are recomputed too.
 */
export async function orderInstants(
  trx: Tx,
  tenantId: string,
  orderIds: string[],
): Promise<Date[]> {
  if (!orderIds.length) return []
  const { rows } = await sql<{ at: Date }>`
    SELECT processed_at AS at FROM orders WHERE tenant_id = ${tenantId} AND id = ANY(${orderIds}::bigint[])
    UNION ALL
    SELECT created_at FROM refunds WHERE tenant_id = ${tenantId} AND order_id = ANY(${orderIds}::bigint[])`.execute(
    trx,
  )
  return rows.map((r) => r.at)
}

/** A customer's stored created_at (the day it counts as new), for the rollup refresh. */
export async function customerInstants(
  trx: Tx,
  tenantId: string,
  customerIds: string[],
): Promise<Date[]> {
  if (!customerIds.length) return []
  const { rows } = await sql<{ at: Date }>`
    SELECT created_at AS at FROM customers WHERE tenant_id = ${tenantId} AND id = ANY(${customerIds}::bigint[])`.execute(
    trx,
  )
  return rows.map((r) => r.at)
}
