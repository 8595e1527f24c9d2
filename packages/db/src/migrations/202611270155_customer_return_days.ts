import { sql, type Kysely } from 'kysely'

// customer_return_days: how many customer_daily_metrics rows have each (day, prev_day) pair, i.e.
// how many customers ordered on `day` after their previous order day `prev_day` (shop zone).
// The summary's repeat buyers of a range [F, T] (rows of the range whose previous order day is
// before F) are then a sum over the range's pairs with prev_day < F: about a quarter of the
// per-customer rows on the bench's big tenant. Kept by refreshAnalyticsRollups with
// customer_daily_metrics (counts adjusted by the rows a refresh removes and adds).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('customer_return_days')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('prev_day', 'date', (c) => c.notNull())
    .addColumn('customers', 'integer', (c) => c.notNull())
    .execute()
  await sql`ALTER TABLE customer_return_days ADD CONSTRAINT customer_return_days_pk
    PRIMARY KEY (tenant_id, day, prev_day) INCLUDE (customers)`.execute(db)
  await sql`ALTER TABLE customer_return_days ENABLE ROW LEVEL SECURITY`.execute(db)
  await sql`ALTER TABLE customer_return_days FORCE ROW LEVEL SECURITY`.execute(db)
  await sql`CREATE POLICY tenant_isolation ON customer_return_days
    USING (tenant_id = (SELECT app_current_tenant()) OR (SELECT app_is_system()))
    WITH CHECK (tenant_id = (SELECT app_current_tenant()) OR (SELECT app_is_system()))`.execute(db)
  await sql`SELECT set_config('app.system', 'on', false)`.execute(db)
  await sql`SELECT set_config('work_mem', '256MB', false)`.execute(db)
  await sql`
    INSERT INTO customer_return_days (tenant_id, day, prev_day, customers)
    SELECT tenant_id, day, prev_day, count(*) FROM customer_daily_metrics
    WHERE prev_day IS NOT NULL
    GROUP BY 1, 2, 3`.execute(db)
  await sql`SELECT set_config('app.system', '', false)`.execute(db)
  await sql`RESET work_mem`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('customer_return_days').execute()
}
