// Customer analytics (cohorts, repeat purchase, RFM, lifetime value), defined once here in SQL
// over the per-customer rollups the writers keep (customer_daily_metrics: one row per customer
// and local day with counted orders, their gross and the neighbouring order days;
// customer_refund_metrics: refunds of counted orders per customer, order day and refund day).
// Read at request time: no rollup of their own, so no writer has anything more to keep.
//
// A customer's first counted order day is their customer_daily_metrics row without prev_day.
import { sql, type Tx } from '@xeno/db'

export type CohortGranularity = 'week' | 'month'

/** A range of inclusive local dates of one tenant (the zone was applied by the rollups). */
export type CustomerRange = { tenantId: string; from: string; to: string }

export type BucketRow = { bucket: string; start: string; end: string }

/** The buckets of a range: first day of the period, and its first and last dates inside it. */
export function bucketsOf(r: { from: string; to: string }, g: CohortGranularity): BucketRow[] {
  const out: BucketRow[] = []
  const day = 86_400_000
  for (let t = Date.parse(`${r.from}T00:00:00Z`); t <= Date.parse(`${r.to}T00:00:00Z`); t += day) {
    const d = new Date(t)
    const bucket = new Date(
      g === 'month'
        ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
        : t - ((d.getUTCDay() + 6) % 7) * day,
    )
      .toISOString()
      .slice(0, 10)
    const date = d.toISOString().slice(0, 10)
    const last = out.at(-1)
    if (last?.bucket === bucket) last.end = date
    else out.push({ bucket, start: date, end: date })
  }
  return out
}

// Customers whose first counted order ever is on a local day of the range, with that day's row.
const firstsCte = (r: CustomerRange) => sql`
  firsts AS MATERIALIZED (
    SELECT customer_id, day AS first_day, next_day, orders
    FROM customer_daily_metrics
    WHERE tenant_id = ${r.tenantId} AND prev_day IS NULL
      AND day BETWEEN ${r.from}::date AND ${r.to}::date
  )`

export type CohortCell = {
  cohort: string
  period: string
  customers: number
  orders: number
  gross: string
  refunds: string
}

/**
 * Per cohort (bucket of the first counted order) and period (bucket of the activity): customers
 * of the cohort with a counted order in the period, their orders and gross, and the refunds of
 * their counted orders created in the period (through `to`). Only non-empty cells.
 */
export async function cohortCells(
  trx: Tx,
  r: CustomerRange,
  g: CohortGranularity,
): Promise<{ sizes: Map<string, number>; cells: CohortCell[] }> {
  const { rows } = await sql<CohortCell & { kind: 'size' | 'cell' }>`
    WITH ${firstsCte(r)},
    cohorts AS (
      SELECT customer_id, date_trunc(${g}, first_day)::date AS cohort FROM firsts
    ),
    sales AS (
      -- A customer's first row inside a period is the one whose previous order day is before
      -- the period: counting those rows counts distinct customers without a DISTINCT.
      SELECT c.cohort, date_trunc(${g}, m.day)::date AS period,
        count(*) FILTER (WHERE m.prev_day IS NULL
          OR m.prev_day < date_trunc(${g}, m.day)::date)::int AS customers,
        sum(m.orders)::int AS orders, sum(m.gross_sales) AS gross
      FROM customer_daily_metrics m JOIN cohorts c ON c.customer_id = m.customer_id
      WHERE m.tenant_id = ${r.tenantId} AND m.day BETWEEN ${r.from}::date AND ${r.to}::date
      GROUP BY 1, 2
    ),
    refunds AS (
      SELECT c.cohort, date_trunc(${g}, x.refund_day)::date AS period, sum(x.refunds) AS refunds
      FROM customer_refund_metrics x JOIN cohorts c ON c.customer_id = x.customer_id
      WHERE x.tenant_id = ${r.tenantId} AND x.order_day >= ${r.from}::date
        AND x.refund_day BETWEEN ${r.from}::date AND ${r.to}::date
      GROUP BY 1, 2
    )
    SELECT 'cell' AS kind, coalesce(s.cohort, f.cohort)::text AS cohort,
      coalesce(s.period, f.period)::text AS period, coalesce(s.customers, 0) AS customers,
      coalesce(s.orders, 0) AS orders, coalesce(s.gross, 0)::text AS gross,
      coalesce(f.refunds, 0)::text AS refunds
    FROM sales s FULL JOIN refunds f ON f.cohort = s.cohort AND f.period = s.period
    UNION ALL
    SELECT 'size', cohort::text, NULL, count(*)::int, 0, '0', '0' FROM cohorts GROUP BY cohort`.execute(
    trx,
  )
  const sizes = new Map<string, number>()
  const cells: CohortCell[] = []
  for (const row of rows) {
    if (row.kind === 'size') sizes.set(row.cohort, row.customers)
    else
      cells.push({
        cohort: row.cohort,
        period: row.period,
        customers: row.customers,
        orders: row.orders,
        gross: row.gross,
        refunds: row.refunds,
      })
  }
  return { sizes, cells }
}

export type RepeatFigures = {
  /** Days from the first to the second counted order → customers (repeat buyers only). */
  gaps: { days: number; customers: number }[]
  /** Counted orders from the first through `to` → customers (every new buyer). */
  orderCounts: { orders: number; customers: number }[]
}

/** Second-order gaps and order counts of the customers whose first counted order is in range. */
export async function repeatFigures(trx: Tx, r: CustomerRange): Promise<RepeatFigures> {
  // Two orders on the first day: the second came the same day. Otherwise the next order day.
  const { rows: gaps } = await sql<{ days: number; customers: number }>`
    WITH ${firstsCte(r)}
    SELECT CASE WHEN orders >= 2 THEN 0 ELSE next_day - first_day END AS days,
      count(*)::int AS customers
    FROM firsts
    WHERE orders >= 2 OR next_day <= ${r.to}::date
    GROUP BY 1 ORDER BY 1`.execute(trx)
  const { rows: orderCounts } = await sql<{ orders: number; customers: number }>`
    WITH ${firstsCte(r)},
    per AS (
      SELECT m.customer_id, sum(m.orders)::int AS orders
      FROM customer_daily_metrics m JOIN firsts f ON f.customer_id = m.customer_id
      WHERE m.tenant_id = ${r.tenantId} AND m.day BETWEEN ${r.from}::date AND ${r.to}::date
      GROUP BY 1
    )
    SELECT orders, count(*)::int AS customers FROM per GROUP BY 1 ORDER BY 1`.execute(trx)
  return { gaps, orderCounts }
}

export type LtvCohortRow = {
  cohort: string
  customers: number
  net: string
  /** Per horizon (days): customers whose horizon ends by `to`, and their net within it. */
  horizons: { days: number; eligible: number; net: string }[]
}

export const LTV_HORIZONS = [30, 90, 180, 365] as const

/**
 * Lifetime value per cohort month: net sales of the cohort's customers through `to` (counted
 * orders processed, less their refunds created, through `to`), and for each horizon N the net
 * sales of the local days first_day … first_day + N − 1 of the customers whose horizon ends by `to`.
 */
export async function ltvCohorts(trx: Tx, r: CustomerRange): Promise<LtvCohortRow[]> {
  const h = LTV_HORIZONS
  const within = (dayCol: string, n: number) =>
    sql`${sql.ref(dayCol)} - f.first_day < ${n}::int AND f.first_day + ${n - 1}::int <= ${r.to}::date`
  const { rows } = await sql<{
    cohort: string
    customers: number
    net: string
    e0: number
    e1: number
    e2: number
    e3: number
    n0: string
    n1: string
    n2: string
    n3: string
  }>`
    WITH ${firstsCte(r)},
    sizes AS (
      SELECT date_trunc('month', first_day)::date AS cohort, count(*)::int AS customers,
        ${sql.join(
          h.map(
            (n, i) =>
              sql`(count(*) FILTER (WHERE first_day + ${n - 1}::int <= ${r.to}::date))::int AS ${sql.ref(`e${i}`)}`,
          ),
        )}
      FROM firsts GROUP BY 1
    ),
    sales AS (
      SELECT date_trunc('month', f.first_day)::date AS cohort, sum(m.gross_sales) AS net,
        ${sql.join(
          h.map(
            (n, i) =>
              sql`coalesce(sum(m.gross_sales) FILTER (WHERE ${within('m.day', n)}), 0) AS ${sql.ref(`n${i}`)}`,
          ),
        )}
      FROM customer_daily_metrics m JOIN firsts f ON f.customer_id = m.customer_id
      WHERE m.tenant_id = ${r.tenantId} AND m.day BETWEEN ${r.from}::date AND ${r.to}::date
      GROUP BY 1
    ),
    refunds AS (
      SELECT date_trunc('month', f.first_day)::date AS cohort, sum(x.refunds) AS net,
        ${sql.join(
          h.map(
            (n, i) =>
              sql`coalesce(sum(x.refunds) FILTER (WHERE ${within('x.refund_day', n)}), 0) AS ${sql.ref(`n${i}`)}`,
          ),
        )}
      FROM customer_refund_metrics x JOIN firsts f ON f.customer_id = x.customer_id
      WHERE x.tenant_id = ${r.tenantId} AND x.order_day BETWEEN ${r.from}::date AND ${r.to}::date
        AND x.refund_day <= ${r.to}::date
      GROUP BY 1
    )
    SELECT z.cohort::text AS cohort, z.customers, z.e0, z.e1, z.e2, z.e3,
      (coalesce(s.net, 0) - coalesce(f.net, 0))::text AS net,
      ${sql.join(
        h.map(
          (_, i) =>
            sql`(coalesce(${sql.ref(`s.n${i}`)}, 0) - coalesce(${sql.ref(`f.n${i}`)}, 0))::text AS ${sql.ref(`n${i}`)}`,
        ),
      )}
    FROM sizes z
    LEFT JOIN sales s ON s.cohort = z.cohort
    LEFT JOIN refunds f ON f.cohort = z.cohort
    ORDER BY z.cohort`.execute(trx)
  return rows.map((row) => ({
    cohort: row.cohort,
    customers: row.customers,
    net: row.net,
    horizons: [
      { days: h[0], eligible: row.e0, net: row.n0 },
      { days: h[1], eligible: row.e1, net: row.n1 },
      { days: h[2], eligible: row.e2, net: row.n2 },
      { days: h[3], eligible: row.e3, net: row.n3 },
    ],
  }))
}

export const RFM_SEGMENTS = [
  'champions',
  'loyal',
  'promising',
  'new',
  'need_attention',
  'at_risk',
  'hibernating',
] as const
export type RfmSegment = (typeof RFM_SEGMENTS)[number]

// The segment of an (R, F) pair; the service documents the same grid.
const segmentSql = sql`CASE
    WHEN r_score >= 4 AND f_score >= 4 THEN 'champions'
    WHEN r_score >= 3 AND f_score >= 3 THEN 'loyal'
    WHEN r_score >= 4 AND f_score = 2 THEN 'promising'
    WHEN r_score >= 4 THEN 'new'
    WHEN r_score = 3 THEN 'need_attention'
    WHEN f_score >= 3 THEN 'at_risk'
    ELSE 'hibernating' END`

// Every customer with a counted order in the window, with recency, frequency, monetary value,
// their quintile scores and segment. A score is 1 + ⌊5 · (rank − 1) / n⌋ where rank is 1 + the
// number of customers with a strictly worse value, so equal values always share a score.
const windowCte = (r: CustomerRange) => sql`
  w AS (
    SELECT customer_id, max(day) AS last_day, sum(orders)::int AS frequency,
      sum(gross_sales) AS gross
    FROM customer_daily_metrics
    WHERE tenant_id = ${r.tenantId} AND day BETWEEN ${r.from}::date AND ${r.to}::date
    GROUP BY customer_id
  ),
  rf AS (
    SELECT customer_id, sum(refunds) AS refunds FROM customer_refund_metrics
    WHERE tenant_id = ${r.tenantId} AND order_day BETWEEN ${r.from}::date AND ${r.to}::date
      AND refund_day <= ${r.to}::date
    GROUP BY customer_id
  ),
  v AS (
    SELECT w.customer_id, w.last_day, ${r.to}::date - w.last_day AS recency_days, w.frequency,
      w.gross - coalesce(rf.refunds, 0) AS monetary
    FROM w LEFT JOIN rf ON rf.customer_id = w.customer_id
  )`
const scoredCte = (r: CustomerRange) => sql`
  ${windowCte(r)},
  ranked AS (
    SELECT v.*, count(*) OVER () AS n,
      rank() OVER (ORDER BY recency_days DESC) AS r_rank,
      rank() OVER (ORDER BY frequency) AS f_rank,
      rank() OVER (ORDER BY monetary) AS m_rank
    FROM v
  ),
  scored AS (
    SELECT customer_id, last_day, recency_days, frequency, monetary,
      (1 + 5 * (r_rank - 1) / n)::int AS r_score, (1 + 5 * (f_rank - 1) / n)::int AS f_score,
      (1 + 5 * (m_rank - 1) / n)::int AS m_score
    FROM ranked
  ),
  segmented AS (SELECT scored.*, ${segmentSql} AS segment FROM scored)`

export type RfmSegmentRow = { segment: RfmSegment; customers: number; net: string }
export type RfmGridRow = { r: number; f: number; customers: number; net: string }

/** Customers and net sales per segment and per (R, F) cell of the window. */
export async function rfmSummary(
  trx: Tx,
  r: CustomerRange,
): Promise<{ segments: RfmSegmentRow[]; grid: RfmGridRow[] }> {
  const { rows } = await sql<{
    segment: RfmSegment
    r: number
    f: number
    customers: number
    net: string
  }>`
    WITH ${windowCte(r)},
    -- Scores depend on a customer's recency and frequency only through their ranks, so the
    -- customers are counted per (recency, frequency) once and ranked from those counts: no sort
    -- of every customer (the same scores as scoredCte).
    cells AS (
      SELECT recency_days, frequency, count(*) AS customers, sum(monetary) AS net FROM v
      GROUP BY 1, 2
    ),
    n AS (SELECT sum(customers)::bigint AS n FROM cells),
    rr AS (
      SELECT recency_days, 1 + coalesce(sum(sum(customers)) OVER (ORDER BY recency_days DESC
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::bigint AS r_rank
      FROM cells GROUP BY 1
    ),
    fr AS (
      SELECT frequency, 1 + coalesce(sum(sum(customers)) OVER (ORDER BY frequency
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::bigint AS f_rank
      FROM cells GROUP BY 1
    ),
    scored AS (
      SELECT (1 + 5 * (rr.r_rank - 1) / n.n)::int AS r_score,
        (1 + 5 * (fr.f_rank - 1) / n.n)::int AS f_score, c.customers, c.net
      FROM cells c JOIN rr ON rr.recency_days = c.recency_days
      JOIN fr ON fr.frequency = c.frequency CROSS JOIN n
    )
    SELECT ${segmentSql} AS segment, r_score AS r, f_score AS f, sum(customers)::int AS customers,
      sum(net)::text AS net
    FROM scored GROUP BY 1, 2, 3`.execute(trx)
  const segments = new Map<RfmSegment, { customers: number; net: bigint }>()
  const grid: RfmGridRow[] = []
  for (const row of rows) {
    const s = segments.get(row.segment) ?? { customers: 0, net: 0n }
    s.customers += row.customers
    s.net += toUnits(row.net)
    segments.set(row.segment, s)
    grid.push({ r: row.r, f: row.f, customers: row.customers, net: row.net })
  }
  return {
    segments: RFM_SEGMENTS.map((segment) => {
      const s = segments.get(segment)
      return { segment, customers: s?.customers ?? 0, net: fromUnits(s?.net ?? 0n) }
    }),
    grid,
  }
}

export type RfmCustomerRow = {
  customerId: string
  email: string | null
  firstName: string | null
  lastName: string | null
  lastOrderDate: string
  recencyDays: number
  frequency: number
  monetary: string
  r: number
  f: number
  m: number
  segment: RfmSegment
}

/** One page of scored customers (of one segment, or all), by monetary value then id. */
export async function rfmCustomers(
  trx: Tx,
  r: CustomerRange,
  opts: { segment?: RfmSegment; limit: number; offset: number },
): Promise<{ total: number; rows: RfmCustomerRow[] }> {
  const only = opts.segment ? sql`segment = ${opts.segment}` : sql`TRUE`
  const { rows } = await sql<RfmCustomerRow & { total: number }>`
    WITH ${scoredCte(r)},
    page AS (
      SELECT s.*, count(*) OVER () AS total FROM segmented s WHERE ${only}
      ORDER BY monetary DESC, customer_id
      LIMIT ${opts.limit} OFFSET ${opts.offset}
    )
    SELECT p.customer_id::text AS customer_id, c.email, c.first_name, c.last_name,
      p.last_day::text AS last_order_date, p.recency_days, p.frequency,
      p.monetary::text AS monetary, p.r_score AS r, p.f_score AS f, p.m_score AS m, p.segment,
      p.total::int AS total
    FROM page p
    LEFT JOIN customers c ON c.tenant_id = ${r.tenantId} AND c.id = p.customer_id
    ORDER BY p.monetary DESC, p.customer_id`.execute(trx)
  let total = rows[0]?.total ?? 0
  if (rows.length === 0 && opts.offset > 0) {
    // Past the last page: the count still says how many there are.
    const { rows: n } = await sql<{ n: number }>`
      WITH ${scoredCte(r)} SELECT count(*)::int AS n FROM segmented WHERE ${only}`.execute(trx)
    total = n[0]?.n ?? 0
  }
  return { total, rows: rows.map(({ total: _t, ...row }) => row) }
}

// numeric(20,4) text as exact 10⁻⁴ units and back.
export function toUnits(v: string): bigint {
  const neg = v.startsWith('-')
  const [i = '0', f = ''] = v.replace('-', '').split('.')
  const n = BigInt(i) * 10_000n + BigInt((f + '0000').slice(0, 4))
  return neg ? -n : n
}
export function fromUnits(u: bigint): string {
  const neg = u < 0n
  const a = neg ? -u : u
  return `${neg ? '-' : ''}${a / 10_000n}.${String(a % 10_000n).padStart(4, '0')}`
}

// ---------------------------------------------------------------- cohort_metrics (writers)

// Per granularity, cohort and period: the cells some customers (or all) contribute, from their
// per-customer rollups. A refund lands in the period it was created, never before the cohort.
const cohortContributions = (tenantId: string, customerIds: string[] | 'all') => {
  const only = (alias: string) =>
    customerIds === 'all'
      ? sql`TRUE`
      : sql`${sql.ref(`${alias}.customer_id`)} = ANY(${customerIds}::bigint[])`
  return sql`
    WITH f AS MATERIALIZED (
      SELECT customer_id, day AS first_day FROM customer_daily_metrics d
      WHERE tenant_id = ${tenantId} AND prev_day IS NULL AND ${only('d')}
    ),
    g AS (SELECT unnest(ARRAY['week', 'month']) AS g),
    cells AS (
      SELECT g.g, date_trunc(g.g, f.first_day)::date AS cohort,
        date_trunc(g.g, m.day)::date AS period, m.customer_id, m.orders, m.gross_sales AS gross,
        0::numeric AS refunds
      FROM customer_daily_metrics m JOIN f ON f.customer_id = m.customer_id CROSS JOIN g
      WHERE m.tenant_id = ${tenantId} AND ${only('m')}
      UNION ALL
      SELECT g.g, date_trunc(g.g, f.first_day)::date, date_trunc(g.g, x.refund_day)::date,
        x.customer_id, 0, 0, x.refunds
      FROM customer_refund_metrics x JOIN f ON f.customer_id = x.customer_id CROSS JOIN g
      WHERE x.tenant_id = ${tenantId} AND ${only('x')}
        AND date_trunc(g.g, x.refund_day) >= date_trunc(g.g, f.first_day)
    ),
    per_customer AS (
      SELECT g, cohort, period, customer_id, sum(orders) AS orders, sum(gross) AS gross,
        sum(refunds) AS refunds
      FROM cells GROUP BY 1, 2, 3, 4
    )
    SELECT ${tenantId}::uuid AS tenant_id, g AS granularity, cohort, period,
      (count(*) FILTER (WHERE orders > 0))::int AS customers, sum(orders)::int AS orders,
      sum(gross) AS gross_sales, sum(refunds) AS refunds, count(*)::int AS contributors
    FROM per_customer GROUP BY 2, 3, 4`
}

/**
 * Adds (+1) or removes (−1) some customers' cells of cohort_metrics, from their per-customer
 * rollups as they are now: the refresh removes them before recomputing those rollups and adds
 * them after, so the matrix follows every write without a rebuild; a cell no customer
 * contributes to any more is deleted.
 */
export async function applyCohortCells(
  trx: Tx,
  tenantId: string,
  customerIds: string[],
  sign: 1 | -1,
): Promise<void> {
  if (customerIds.length === 0) return
  const { rows } = await sql<{ granularity: string; cohort: string; period: string }>`
    INSERT INTO cohort_metrics (tenant_id, granularity, cohort, period, customers, orders,
      gross_sales, refunds, contributors)
    SELECT tenant_id, granularity, cohort, period, ${sign} * customers, ${sign} * orders,
      ${sign} * gross_sales, ${sign} * refunds, ${sign} * contributors
    FROM (${cohortContributions(tenantId, customerIds)}) c
    ON CONFLICT (tenant_id, granularity, cohort, period) DO UPDATE SET
      customers = cohort_metrics.customers + excluded.customers,
      orders = cohort_metrics.orders + excluded.orders,
      gross_sales = cohort_metrics.gross_sales + excluded.gross_sales,
      refunds = cohort_metrics.refunds + excluded.refunds,
      contributors = cohort_metrics.contributors + excluded.contributors
    RETURNING granularity, cohort::text AS cohort, period::text AS period`.execute(trx)
  if (sign === -1 && rows.length)
    await sql`
      DELETE FROM cohort_metrics
      WHERE tenant_id = ${tenantId} AND contributors = 0
        AND (granularity, cohort, period) IN (
          SELECT * FROM unnest(${rows.map((r) => r.granularity)}::text[],
            ${rows.map((r) => r.cohort)}::date[], ${rows.map((r) => r.period)}::date[]))`.execute(
      trx,
    )
}

/** Rebuilds a tenant's cohort_metrics from its per-customer rollups. */
export async function rebuildCohortCells(trx: Tx, tenantId: string): Promise<void> {
  await sql`DELETE FROM cohort_metrics WHERE tenant_id = ${tenantId}`.execute(trx)
  await sql`
    INSERT INTO cohort_metrics (tenant_id, granularity, cohort, period, customers, orders,
      gross_sales, refunds, contributors)
    ${cohortContributions(tenantId, 'all')}`.execute(trx)
}

/** The stored cells of the cohorts and periods inside [from, to] (whole buckets). */
export async function storedCohortCells(
  trx: Tx,
  r: CustomerRange,
  g: CohortGranularity,
): Promise<{ sizes: Map<string, number>; cells: CohortCell[] }> {
  const { rows } = await sql<CohortCell>`
    SELECT cohort::text AS cohort, period::text AS period, customers, orders,
      gross_sales::text AS gross, refunds::text AS refunds
    FROM cohort_metrics
    WHERE tenant_id = ${r.tenantId} AND granularity = ${g}
      AND cohort BETWEEN ${r.from}::date AND ${r.to}::date AND period <= ${r.to}::date`.execute(trx)
  // Period 0 holds the first order of every customer of the cohort.
  const sizes = new Map(
    rows.filter((c) => c.cohort === c.period).map((c) => [c.cohort, c.customers]),
  )
  return { sizes, cells: rows }
}
