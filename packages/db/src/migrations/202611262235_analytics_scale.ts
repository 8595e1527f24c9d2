import { sql, type Kysely } from 'kysely'

// 1. The bounded top-customer search reads a few hundred customers' counted orders in a range:
//    covering them in one index keeps that an index-only scan instead of thousands of heap
//    visits (a customer's orders are spread over the whole table, which is in time order).
// 2. monthly_product_metrics: daily_product_metrics summed per calendar month (shop zone), so a
//    two-year top-products query reads 24 rows per product instead of 730. Kept by the same
//    refresh as the daily rows; whole months of a range read it, partial months the days.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX orders_counted_customer_idx ON orders (tenant_id, customer_id, processed_at)
    INCLUDE (total_price)
    WHERE NOT test AND deleted_at IS NULL AND cancelled_at IS NULL AND customer_id IS NOT NULL`.execute(
    db,
  )
  await db.schema
    .createTable('monthly_product_metrics')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('month', 'date', (c) => c.notNull())
    .addColumn('product_id', 'bigint', (c) => c.notNull())
    .addColumn('units', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('revenue', sql`numeric(20,4)`, (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('monthly_product_metrics_pk', ['tenant_id', 'month', 'product_id'])
    .execute()
  await sql`ALTER TABLE monthly_product_metrics ENABLE ROW LEVEL SECURITY`.execute(db)
  await sql`ALTER TABLE monthly_product_metrics FORCE ROW LEVEL SECURITY`.execute(db)
  await sql`CREATE POLICY tenant_isolation ON monthly_product_metrics
    USING (tenant_id = (SELECT app_current_tenant()) OR (SELECT app_is_system()))
    WITH CHECK (tenant_id = (SELECT app_current_tenant()) OR (SELECT app_is_system()))`.execute(db)
  await sql`SELECT set_config('app.system', 'on', false)`.execute(db)
  await sql`
    INSERT INTO monthly_product_metrics (tenant_id, month, product_id, units, revenue)
    SELECT tenant_id, date_trunc('month', day)::date, product_id, sum(units), sum(revenue)
    FROM daily_product_metrics GROUP BY 1, 2, 3`.execute(db)
  await sql`SELECT set_config('app.system', '', false)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('monthly_product_metrics').execute()
  await sql`DROP INDEX orders_counted_customer_idx`.execute(db)
}
