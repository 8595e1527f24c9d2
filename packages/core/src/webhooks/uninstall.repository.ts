import { sql, type Tx } from '@xeno/db'

/** app/uninstalled: the tenant stops, and its Shopify credentials are destroyed. */
export async function markTenantUninstalled(trx: Tx, tenantId: string, at: Date): Promise<void> {
  await sql`UPDATE tenants SET status = 'uninstalled', uninstalled_at = ${at}, updated_at = now()
    WHERE id = ${tenantId}`.execute(trx)
  await sql`DELETE FROM shopify_credentials WHERE tenant_id = ${tenantId}`.execute(trx)
}

/** True when the tenant holds a live (not deleted) row of this id: a webhook delete has work. */
export async function liveRowExists(
  trx: Tx,
  tenantId: string,
  table: 'orders' | 'customers' | 'products',
  id: string,
): Promise<boolean> {
  const { rows } = await sql`SELECT 1 FROM ${sql.table(table)}
    WHERE tenant_id = ${tenantId} AND id = ${id} AND deleted_at IS NULL`.execute(trx)
  return rows.length > 0
}

/** The tenant's status, or null when it is gone (shop/redact only ever follows an uninstall). */
export async function tenantStatus(trx: Tx, tenantId: string): Promise<string | null> {
  const { rows } = await sql<{
    status: string
  }>`SELECT status FROM tenants WHERE id = ${tenantId}`.execute(trx)
  return rows[0]?.status ?? null
}
