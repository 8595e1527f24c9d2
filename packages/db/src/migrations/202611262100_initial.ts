import { sql, type Kysely } from 'kysely'

// Tenant-owned tables: RLS on tenant_id. Order matters for `down` (reverse).
const TENANT_TABLES = [
  'shopify_credentials',
  'tenant_users',
  'tenant_sessions',
  'api_keys',
  'customers',
  'products',
  'orders',
  'order_line_items',
  'refunds',
  'custom_events',
  'webhook_receipts',
  'sync_checkpoints',
  'sync_runs',
] as const

const now = sql`now()`

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS pgcrypto`.execute(db)

  // The tenant the current transaction acts for, set with set_config('app.tenant_id', id, true).
  await sql`
    CREATE FUNCTION app_current_tenant() RETURNS uuid LANGUAGE sql STABLE AS
    $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$`.execute(db)
  // Cross-tenant system work (schedulers, sweepers, admin listings) opts in explicitly.
  await sql`
    CREATE FUNCTION app_is_system() RETURNS boolean LANGUAGE sql STABLE AS
    $$ SELECT coalesce(current_setting('app.system', true), '') = 'on' $$`.execute(db)

  await db.schema
    .createTable('tenants')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('shop_domain', 'text', (c) =>
      c
        .notNull()
        .unique()
        .check(sql`shop_domain ~ '^[a-z0-9][a-z0-9-]*\\.myshopify\\.com$'`),
    )
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status IN ('pending','active','uninstalled','disabled')`),
    )
    .addColumn('shop_name', 'text')
    .addColumn('iana_timezone', 'text', (c) => c.notNull().defaultTo('UTC'))
    .addColumn('currency', 'text', (c) => c.notNull().defaultTo('USD'))
    .addColumn('plan', 'text')
    .addColumn('granted_scopes', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('installed_at', 'timestamptz')
    .addColumn('uninstalled_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute()

  await db.schema
    .createTable('shopify_credentials')
    .addColumn('tenant_id', 'uuid', (c) =>
      c.primaryKey().references('tenants.id').onDelete('cascade'),
    )
    .addColumn('access_token_enc', 'text', (c) => c.notNull())
    .addColumn('refresh_token_enc', 'text')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('refresh_expires_at', 'timestamptz')
    .addColumn('scope', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source IN ('oauth','manual')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute()

  await db.schema
    .createTable('admin_users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute()

  await db.schema
    .createTable('admin_sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('admin_id', 'uuid', (c) =>
      c.notNull().references('admin_users.id').onDelete('cascade'),
    )
    .addColumn('token_hash', 'bytea', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .execute()
  await db.schema
    .createIndex('admin_sessions_admin_idx')
    .on('admin_sessions')
    .column('admin_id')
    .execute()

  await db.schema
    .createTable('tenant_users')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role IN ('owner','viewer')`))
    .addColumn('password_changed_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('tenant_users_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('tenant_users_username_key', ['tenant_id', 'username'])
    .execute()

  await db.schema
    .createTable('tenant_sessions')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull())
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('token_hash', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addPrimaryKeyConstraint('tenant_sessions_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('tenant_sessions_token_key', ['tenant_id', 'token_hash'])
    .addForeignKeyConstraint(
      'tenant_sessions_user_fk',
      ['tenant_id', 'user_id'],
      'tenant_users',
      ['tenant_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute()
  // Session lookup happens before the tenant is known (the cookie carries only the token).
  await db.schema
    .createIndex('tenant_sessions_token_idx')
    .on('tenant_sessions')
    .column('token_hash')
    .execute()

  await db.schema
    .createTable('api_keys')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'bytea', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addPrimaryKeyConstraint('api_keys_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('api_keys_hash_key', ['tenant_id', 'key_hash'])
    .execute()
  await db.schema.createIndex('api_keys_hash_idx').on('api_keys').column('key_hash').execute()

  await db.schema
    .createTable('oauth_states')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('state_hash', 'bytea', (c) => c.notNull().unique())
    .addColumn('shop_domain', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute()

  await db.schema
    .createTable('customers')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'bigint', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('first_name', 'text')
    .addColumn('last_name', 'text')
    .addColumn('phone', 'text')
    .addColumn('state', 'text')
    .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('number_of_orders', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('amount_spent', sql`numeric(20,4)`, (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('redacted_at', 'timestamptz')
    .addColumn('synced_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('customers_pk', ['tenant_id', 'id'])
    .execute()

  await db.schema
    .createTable('products')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'bigint', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('handle', 'text')
    .addColumn('product_type', 'text')
    .addColumn('vendor', 'text')
    .addColumn('status', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('published_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('synced_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('products_pk', ['tenant_id', 'id'])
    .execute()

  // customer_id carries no foreign key: Shopify delivers orders before their customers often
  // (webhooks are unordered, bulk JSONL is ungrouped), and a missing customer is not an error.
  await db.schema
    .createTable('orders')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'bigint', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('customer_id', 'bigint')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('total_price', sql`numeric(20,4)`, (c) => c.notNull())
    .addColumn('subtotal_price', sql`numeric(20,4)`, (c) => c.notNull().defaultTo(0))
    .addColumn('total_tax', sql`numeric(20,4)`, (c) => c.notNull().defaultTo(0))
    .addColumn('total_discounts', sql`numeric(20,4)`, (c) => c.notNull().defaultTo(0))
    .addColumn('total_shipping', sql`numeric(20,4)`, (c) => c.notNull().defaultTo(0))
    .addColumn('total_refunded', sql`numeric(20,4)`, (c) => c.notNull().defaultTo(0))
    .addColumn('financial_status', 'text')
    .addColumn('fulfillment_status', 'text')
    .addColumn('cancelled_at', 'timestamptz')
    .addColumn('cancel_reason', 'text')
    .addColumn('closed_at', 'timestamptz')
    .addColumn('processed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('test', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('synced_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('orders_pk', ['tenant_id', 'id'])
    .execute()
  await db.schema
    .createIndex('orders_processed_idx')
    .on('orders')
    .columns(['tenant_id', 'processed_at'])
    .execute()
  await db.schema
    .createIndex('orders_customer_idx')
    .on('orders')
    .columns(['tenant_id', 'customer_id'])
    .execute()
  await db.schema
    .createIndex('orders_updated_idx')
    .on('orders')
    .columns(['tenant_id', 'updated_at', 'id'])
    .execute()
  await db.schema
    .createIndex('customers_updated_idx')
    .on('customers')
    .columns(['tenant_id', 'updated_at', 'id'])
    .execute()
  await db.schema
    .createIndex('customers_created_idx')
    .on('customers')
    .columns(['tenant_id', 'created_at'])
    .execute()
  await db.schema
    .createIndex('products_updated_idx')
    .on('products')
    .columns(['tenant_id', 'updated_at', 'id'])
    .execute()
  await db.schema
    .createIndex('products_created_idx')
    .on('products')
    .columns(['tenant_id', 'created_at'])
    .execute()

  // Line items and refunds are replaced per order atomically; the deferrable key lets a batch
  // write children before their parent inside one transaction.
  await db.schema
    .createTable('order_line_items')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull())
    .addColumn('id', 'bigint', (c) => c.notNull())
    .addColumn('order_id', 'bigint', (c) => c.notNull())
    .addColumn('product_id', 'bigint')
    .addColumn('variant_id', 'bigint')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('sku', 'text')
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('unit_price', sql`numeric(20,4)`, (c) => c.notNull())
    .addColumn('discounted_total', sql`numeric(20,4)`, (c) => c.notNull())
    .addColumn('synced_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('order_line_items_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint(
      'order_line_items_order_fk',
      ['tenant_id', 'order_id'],
      'orders',
      ['tenant_id', 'id'],
      (fk) => fk.onDelete('cascade').deferrable().initiallyDeferred(),
    )
    .execute()
  await db.schema
    .createIndex('order_line_items_order_idx')
    .on('order_line_items')
    .columns(['tenant_id', 'order_id'])
    .execute()
  await db.schema
    .createIndex('order_line_items_product_idx')
    .on('order_line_items')
    .columns(['tenant_id', 'product_id'])
    .execute()

  await db.schema
    .createTable('refunds')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull())
    .addColumn('id', 'bigint', (c) => c.notNull())
    .addColumn('order_id', 'bigint', (c) => c.notNull())
    .addColumn('amount', sql`numeric(20,4)`, (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('processed_at', 'timestamptz')
    .addColumn('synced_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('refunds_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint(
      'refunds_order_fk',
      ['tenant_id', 'order_id'],
      'orders',
      ['tenant_id', 'id'],
      (fk) => fk.onDelete('cascade').deferrable().initiallyDeferred(),
    )
    .execute()
  await db.schema
    .createIndex('refunds_order_idx')
    .on('refunds')
    .columns(['tenant_id', 'order_id'])
    .execute()
  await db.schema
    .createIndex('refunds_created_idx')
    .on('refunds')
    .columns(['tenant_id', 'created_at'])
    .execute()

  await db.schema
    .createTable('custom_events')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('customer_id', 'bigint')
    .addColumn('session_id', 'text')
    .addColumn('properties', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('idempotency_key', 'text')
    .addColumn('body_hash', 'text')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('custom_events_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('custom_events_idempotency_key', ['tenant_id', 'idempotency_key'])
    .execute()
  await db.schema
    .createIndex('custom_events_occurred_idx')
    .on('custom_events')
    .columns(['tenant_id', 'occurred_at', 'event_type'])
    .execute()
  await db.schema
    .createIndex('custom_events_customer_idx')
    .on('custom_events')
    .columns(['tenant_id', 'customer_id'])
    .execute()

  await db.schema
    .createTable('webhook_receipts')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text')
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('api_version', 'text')
    .addColumn('triggered_at', 'timestamptz')
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('received')
        .check(sql`status IN ('received','processed','skipped','failed')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('enqueued_at', 'timestamptz')
    .addColumn('processed_at', 'timestamptz')
    .addPrimaryKeyConstraint('webhook_receipts_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('webhook_receipts_webhook_key', ['tenant_id', 'webhook_id'])
    .execute()
  await db.schema
    .createIndex('webhook_receipts_status_idx')
    .on('webhook_receipts')
    .columns(['tenant_id', 'status', 'received_at'])
    .execute()
  // The sweeper looks across tenants for receipts never enqueued; keep that index tiny.
  await sql`CREATE INDEX webhook_receipts_unqueued_idx ON webhook_receipts (received_at) WHERE status = 'received'`.execute(
    db,
  )

  await db.schema
    .createTable('sync_checkpoints')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('resource', 'text', (c) =>
      c.notNull().check(sql`resource IN ('shop','customers','products','orders')`),
    )
    .addColumn('cursor_updated_at', 'timestamptz')
    .addColumn('cursor_id', 'bigint')
    .addColumn('bulk_operation_id', 'text')
    .addColumn('bulk_object_count', 'bigint')
    .addColumn('state', 'text', (c) =>
      c
        .notNull()
        .defaultTo('idle')
        .check(sql`state IN ('idle','queued','running','bulk_running','failed','stopped')`),
    )
    .addColumn('rows_synced', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('pages', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('throttled_ms', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_success_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('last_error_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('sync_checkpoints_pk', ['tenant_id', 'resource'])
    .execute()

  await db.schema
    .createTable('sync_runs')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) =>
      c.notNull().check(sql`mode IN ('full','incremental','reconcile')`),
    )
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('running')
        .check(sql`status IN ('running','succeeded','failed','stopped')`),
    )
    .addColumn('job_id', 'text')
    .addColumn('rows', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('pages', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('throttled_ms', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('sync_runs_pk', ['tenant_id', 'id'])
    .execute()
  await db.schema
    .createIndex('sync_runs_started_idx')
    .on('sync_runs')
    .columns(['tenant_id', 'resource', 'started_at'])
    .execute()

  // Row-level security: the second wall behind the application's tenant filters.
  await sql`ALTER TABLE tenants ENABLE ROW LEVEL SECURITY`.execute(db)
  await sql`ALTER TABLE tenants FORCE ROW LEVEL SECURITY`.execute(db)
  await sql`CREATE POLICY tenant_isolation ON tenants
    USING (id = app_current_tenant() OR app_is_system())
    WITH CHECK (id = app_current_tenant() OR app_is_system())`.execute(db)
  for (const table of TENANT_TABLES) {
    await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db)
    await sql`ALTER TABLE ${sql.table(table)} FORCE ROW LEVEL SECURITY`.execute(db)
    await sql`CREATE POLICY tenant_isolation ON ${sql.table(table)}
      USING (tenant_id = app_current_tenant() OR app_is_system())
      WITH CHECK (tenant_id = app_current_tenant() OR app_is_system())`.execute(db)
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [...TENANT_TABLES].reverse()) await db.schema.dropTable(table).execute()
  await db.schema.dropTable('oauth_states').execute()
  await db.schema.dropTable('admin_sessions').execute()
  await db.schema.dropTable('admin_users').execute()
  await db.schema.dropTable('tenants').execute()
  await sql`DROP FUNCTION app_is_system()`.execute(db)
  await sql`DROP FUNCTION app_current_tenant()`.execute(db)
}
