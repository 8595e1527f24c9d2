import { sql, type Kysely } from 'kysely'

// cohort_metrics: the cohort matrix of a tenant, per granularity ('week' | 'month', shop zone):
// per cohort (the bucket of a customer's first counted order) and period (a bucket at or after
// it), the cohort's customers with a counted order in the period, their orders and gross, the
// refunds of their counted orders created in the period, and `contributors` (customers with any
// of those in the cell; the row goes when it reaches 0). A matrix of whole buckets then reads a
// few dozen rows instead of every order of the range. Kept by refreshAnalyticsRollups, which
// subtracts the customers' cells before recomputing their per-customer rollups and adds them
// after; built here for existing tenants from those rollups.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('cohort_metrics')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('granularity', 'text', (c) =>
      c.notNull().check(sql`granularity IN ('week', 'month')`),
    )
    .addColumn('cohort', 'date', (c) => c.notNull())
    .addColumn('period', 'date', (c) => c.notNull())
    .addColumn('customers', 'integer', (c) => c.notNull())
    .addColumn('orders', 'integer', (c) => c.notNull())
    .addColumn('gross_sales', sql`numeric(20,4)`, (c) => c.notNull())
    .addColumn('refunds', sql`numeric(20,4)`, (c) => c.notNull())
    .addColumn('contributors', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('cohort_metrics_pk', ['tenant_id', 'granularity', 'cohort', 'period'])
    .execute()
  await sql`ALTER TABLE cohort_metrics ENABLE ROW LEVEL SECURITY`.execute(db)
  await sql`ALTER TABLE cohort_metrics FORCE ROW LEVEL SECURITY`.execute(db)
  await sql`CREATE POLICY tenant_isolation ON cohort_metrics
    USING (tenant_id = (SELECT app_current_tenant()) OR (SELECT app_is_system()))
    WITH CHECK (tenant_id = (SELECT app_current_tenant()) OR (SELECT app_is_system()))`.execute(db)
  // Existing tenants, from their per-customer rollups (already in the shop's zone), as
  // rebuildCohortCells (packages/core customer-analytics.repository.ts) builds one tenant.
  await sql`SELECT set_config('app.system', 'on', false)`.execute(db)
  await sql`SELECT set_config('work_mem', '256MB', false)`.execute(db)
  await sql`
    WITH f AS MATERIALIZED (
      SELECT tenant_id, customer_id, day AS first_day FROM customer_daily_metrics
      WHERE prev_day IS NULL
    ),
    g AS (SELECT unnest(ARRAY['week', 'month']) AS g),
    cells AS (
      SELECT m.tenant_id, g.g, date_trunc(g.g, f.first_day)::date AS cohort,
        date_trunc(g.g, m.day)::date AS period, m.customer_id, m.orders, m.gross_sales AS gross,
        0::numeric AS refunds
      FROM customer_daily_metrics m
      JOIN f ON f.tenant_id = m.tenant_id AND f.customer_id = m.customer_id CROSS JOIN g
      UNION ALL
      SELECT x.tenant_id, g.g, date_trunc(g.g, f.first_day)::date,
        date_trunc(g.g, x.refund_day)::date, x.customer_id, 0, 0, x.refunds
      FROM customer_refund_metrics x
      JOIN f ON f.tenant_id = x.tenant_id AND f.customer_id = x.customer_id CROSS JOIN g
      WHERE date_trunc(g.g, x.refund_day) >= date_trunc(g.g, f.first_day)
    ),
    per_customer AS (
      SELECT tenant_id, g, cohort, period, customer_id, sum(orders) AS orders,
        sum(gross) AS gross, sum(refunds) AS refunds
      FROM cells GROUP BY 1, 2, 3, 4, 5
    )
    INSERT INTO cohort_metrics (tenant_id, granularity, cohort, period, customers, orders,
      gross_sales, refunds, contributors)
    SELECT tenant_id, g, cohort, period, (count(*) FILTER (WHERE orders > 0))::int,
      sum(orders)::int, sum(gross), sum(refunds), count(*)::int
    FROM per_customer GROUP BY 1, 2, 3, 4`.execute(db)
  await sql`SELECT set_config('app.system', '', false)`.execute(db)
  await sql`RESET work_mem`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('cohort_metrics').execute()
}
