import { sql, type Tx } from '@xeno/db'

/** app/uninstalled: the tenant stops, and its Shopify credentials are destroyed. */
export async function markTenantUninstalled(trx: Tx, tenantId: string, at: Date): Promise<void> {
  await sql`UPDATE tenants SET status = 'uninstalled', uninstalled_at = ${at}, updated_at = now()
    WHERE id = ${tenantId}`.execute(trx)
  await sql`DELETE FROM shopify_credentials WHERE tenant_id = ${tenantId}`.execute(trx)
}

/** True when the order is stored (a refund webhook may overtake its order's). */
export async function orderExists(trx: Tx, tenantId: string, orderId: string): Promise<boolean> {
  const { rows } =
    await sql`SELECT 1 FROM orders WHERE tenant_id = ${tenantId} AND id = ${orderId}`.execute(trx)
  return rows.length > 0
}
