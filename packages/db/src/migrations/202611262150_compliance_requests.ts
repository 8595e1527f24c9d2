import { sql, type Kysely } from 'kysely'

// Compliance requests outlive shop/redact (which deletes the tenant row and everything
// hanging off it), so tenant_id carries no foreign key here: the record that a redaction
// happened must remain, without any personal data.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('compliance_requests')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull())
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('topic', 'text', (c) =>
      c.notNull().check(sql`topic IN ('customers/data_request','customers/redact','shop/redact')`),
    )
    .addColumn('shop_domain', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'bigint')
    .addColumn('shopify_request_id', 'text')
    .addColumn('export', 'jsonb')
    .addColumn('summary', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .addPrimaryKeyConstraint('compliance_requests_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('compliance_requests_webhook_key', ['tenant_id', 'webhook_id'])
    .execute()
  await sql`ALTER TABLE compliance_requests ENABLE ROW LEVEL SECURITY`.execute(db)
  await sql`ALTER TABLE compliance_requests FORCE ROW LEVEL SECURITY`.execute(db)
  await sql`CREATE POLICY tenant_isolation ON compliance_requests
    USING (tenant_id = app_current_tenant() OR app_is_system())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_system())`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('compliance_requests').execute()
}
