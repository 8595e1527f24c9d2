import { sql, type Kysely } from 'kysely'

// New customers per local day (shop zone, Shopify created_at, deleted customers left out), kept
// by refreshAnalyticsRollups: customer growth over two years reads 730 rows, not every customer.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('daily_customer_metrics')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('new_customers', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('daily_customer_metrics_pk', ['tenant_id', 'day'])
    .execute()
  await sql`ALTER TABLE daily_customer_metrics ENABLE ROW LEVEL SECURITY`.execute(db)
  await sql`ALTER TABLE daily_customer_metrics FORCE ROW LEVEL SECURITY`.execute(db)
  await sql`CREATE POLICY tenant_isolation ON daily_customer_metrics
    USING (tenant_id = (SELECT app_current_tenant()) OR (SELECT app_is_system()))
    WITH CHECK (tenant_id = (SELECT app_current_tenant()) OR (SELECT app_is_system()))`.execute(db)
  await sql`SELECT set_config('app.system', 'on', false)`.execute(db)
  await sql`
    INSERT INTO daily_customer_metrics (tenant_id, day, new_customers)
    SELECT c.tenant_id, (c.created_at AT TIME ZONE st.iana_timezone)::date, count(*)
    FROM customers c JOIN analytics_rollup_state st ON st.tenant_id = c.tenant_id
    WHERE c.deleted_at IS NULL
    GROUP BY 1, 2`.execute(db)
  await sql`SELECT set_config('app.system', '', false)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('daily_customer_metrics').execute()
}
