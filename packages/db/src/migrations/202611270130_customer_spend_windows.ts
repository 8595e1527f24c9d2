import { sql, type Kysely } from 'kysely'

// customer_spend_windows: per customer and calendar month M (shop zone), an upper bound of the
// customer's net spend in any range inside the four months [M, M + 4 months): the sum over the
// counted orders processed in those months of greatest(total_price, 0) plus the negative parts of
// their refunds (so the bound holds whatever the amounts). Kept by refreshAnalyticsRollups with
// the other per-customer rollups. Top customers of a range that fits four months read the
// customers whose bound reaches the limit-th best net spend of a few seeds (index range scan),
// instead of aggregating every customer who ordered in the range. The bound is a bigint in
// 1/10000 of the currency unit (rounded up): under row-level security only leakproof comparisons
// become index conditions, and bigint's are, numeric's are not.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('customer_spend_windows')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('customer_id', 'bigint', (c) => c.notNull())
    .addColumn('start_month', 'date', (c) => c.notNull())
    .addColumn('cap_units', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_spend_windows_pk', [
      'tenant_id',
      'customer_id',
      'start_month',
    ])
    .execute()
  await sql`CREATE INDEX customer_spend_windows_cap_idx ON customer_spend_windows
    (tenant_id, start_month, cap_units DESC, customer_id)`.execute(db)
  await sql`ALTER TABLE customer_spend_windows ENABLE ROW LEVEL SECURITY`.execute(db)
  await sql`ALTER TABLE customer_spend_windows FORCE ROW LEVEL SECURITY`.execute(db)
  await sql`CREATE POLICY tenant_isolation ON customer_spend_windows
    USING (tenant_id = (SELECT app_current_tenant()) OR (SELECT app_is_system()))
    WITH CHECK (tenant_id = (SELECT app_current_tenant()) OR (SELECT app_is_system()))`.execute(db)

  // Backfill in each tenant's rollup zone (FORCE RLS applies to the owner too: act as system).
  await sql`SELECT set_config('app.system', 'on', false)`.execute(db)
  await sql`SELECT set_config('work_mem', '256MB', false)`.execute(db)
  await sql`
    INSERT INTO customer_spend_windows (tenant_id, customer_id, start_month, cap_units)
    SELECT tenant_id, customer_id, (month - k * interval '1 month')::date,
      ceil(sum(cap) * 10000)::bigint
    FROM (
      SELECT o.tenant_id, o.customer_id,
        date_trunc('month', (o.processed_at AT TIME ZONE st.iana_timezone)::date)::date AS month,
        sum(greatest(o.total_price, 0) + coalesce(nr.neg, 0)) AS cap
      FROM orders o
      JOIN analytics_rollup_state st ON st.tenant_id = o.tenant_id
      LEFT JOIN (
        SELECT tenant_id, order_id, sum(-amount) AS neg FROM refunds WHERE amount < 0
        GROUP BY 1, 2
      ) nr ON nr.tenant_id = o.tenant_id AND nr.order_id = o.id
      WHERE o.customer_id IS NOT NULL AND NOT o.test AND o.deleted_at IS NULL
        AND o.cancelled_at IS NULL
      GROUP BY 1, 2, 3
    ) m, generate_series(0, 3) k
    GROUP BY 1, 2, 3`.execute(db)
  await sql`SELECT set_config('app.system', '', false)`.execute(db)
  await sql`RESET work_mem`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('customer_spend_windows').execute()
}
