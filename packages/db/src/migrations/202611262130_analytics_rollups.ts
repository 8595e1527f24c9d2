import { sql, type Kysely } from 'kysely'

// Analytics rollups (DESIGN.md §6), kept by refreshDailyMetrics* in @xeno/core, which the sync
// and webhook writers call in the transaction that writes orders and refunds. Days are calendar
// days in the shop's zone recorded in analytics_rollup_state; a zone change rebuilds them.
const ROLLUP_TABLES = [
  'analytics_rollup_state',
  'daily_metrics',
  'daily_product_metrics',
  'daily_event_metrics',
  'customer_order_stats',
] as const

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('analytics_rollup_state')
    .addColumn('tenant_id', 'uuid', (c) =>
      c.primaryKey().references('tenants.id').onDelete('cascade'),
    )
    .addColumn('iana_timezone', 'text', (c) => c.notNull())
    .addColumn('rebuilt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()

  // One row per local day and order status pair: counted orders and their gross by processed_at
  // day, refunds of counted orders by the refund's created_at day.
  await db.schema
    .createTable('daily_metrics')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('financial_status', 'text', (c) => c.notNull())
    .addColumn('fulfillment_status', 'text', (c) => c.notNull())
    .addColumn('orders', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('gross_sales', sql`numeric(20,4)`, (c) => c.notNull().defaultTo(0))
    .addColumn('refunds', sql`numeric(20,4)`, (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('daily_metrics_pk', [
      'tenant_id',
      'day',
      'financial_status',
      'fulfillment_status',
    ])
    .execute()

  await db.schema
    .createTable('daily_product_metrics')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('product_id', 'bigint', (c) => c.notNull())
    .addColumn('units', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('revenue', sql`numeric(20,4)`, (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('daily_product_metrics_pk', ['tenant_id', 'day', 'product_id'])
    .execute()

  await db.schema
    .createTable('daily_event_metrics')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('events', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('daily_event_metrics_pk', ['tenant_id', 'day', 'event_type'])
    .execute()

  // Counted orders per customer, ever: the "returning customer" test without scanning history.
  await db.schema
    .createTable('customer_order_stats')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('customer_id', 'bigint', (c) => c.notNull())
    .addColumn('counted_orders', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_order_stats_pk', ['tenant_id', 'customer_id'])
    .execute()

  // Counted orders only, covering what the per-customer figures read.
  await sql`CREATE INDEX orders_counted_processed_idx ON orders (tenant_id, processed_at)
    INCLUDE (customer_id, total_price)
    WHERE NOT test AND deleted_at IS NULL AND cancelled_at IS NULL`.execute(db)
  await sql`CREATE INDEX customers_live_created_idx ON customers (tenant_id, created_at)
    WHERE deleted_at IS NULL`.execute(db)
  await sql`CREATE INDEX products_live_created_idx ON products (tenant_id, created_at)
    WHERE deleted_at IS NULL`.execute(db)

  for (const table of ROLLUP_TABLES) {
    await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db)
    await sql`ALTER TABLE ${sql.table(table)} FORCE ROW LEVEL SECURITY`.execute(db)
    await sql`CREATE POLICY tenant_isolation ON ${sql.table(table)}
      USING (tenant_id = app_current_tenant() OR app_is_system())
      WITH CHECK (tenant_id = app_current_tenant() OR app_is_system())`.execute(db)
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS products_live_created_idx`.execute(db)
  await sql`DROP INDEX IF EXISTS customers_live_created_idx`.execute(db)
  await sql`DROP INDEX IF EXISTS orders_counted_processed_idx`.execute(db)
  for (const table of [...ROLLUP_TABLES].reverse()) await db.schema.dropTable(table).execute()
}
