import { signContext, sql, type Database } from '@xeno/db'

/** One tenant's sync state for one resource, as /metrics exports it. */
export type SyncLagRow = {
  tenantId: string
  resource: string
  state: string
  /** Newest synced `updated_at` (the shop resource has none: its last success stands in). */
  cursorAt: Date | null
  lastSuccessAt: Date | null
}

/**
 * Reads for the Prometheus endpoint. They span every tenant by design (operators watch the whole
 * fleet), so they call the database's signed fleet functions (the API's role has no system
 * mode); those return aggregates, ids and states only, never tenant data.
 */
export function createMetricsRepository(db: Database) {
  return {
    /** Every sync checkpoint: per tenant and resource, state, cursor and last success. */
    async syncCheckpoints(): Promise<SyncLagRow[]> {
      const { rows } = await sql<{
        tenantId: string
        resource: string
        state: string
        cursorUpdatedAt: Date | null
        lastSuccessAt: Date | null
      }>`SELECT * FROM app_fleet_sync_checkpoints(${signContext(db, 'metrics')})`.execute(db)
      return rows.map((r) => ({
        tenantId: r.tenantId,
        resource: r.resource,
        state: r.state,
        cursorAt: r.cursorUpdatedAt ?? (r.resource === 'shop' ? r.lastSuccessAt : null),
        lastSuccessAt: r.lastSuccessAt,
      }))
    },

    /** Webhook inbox rows per status (received, enqueued, processed, failed, …). */
    async webhookReceiptsByStatus(): Promise<{ status: string; count: number }[]> {
      const { rows } = await sql<{ status: string; count: string }>`
        SELECT * FROM app_fleet_webhook_receipts(${signContext(db, 'metrics')})`.execute(db)
      return rows.map((r) => ({ status: r.status, count: Number(r.count) }))
    },
  }
}

export type MetricsRepository = ReturnType<typeof createMetricsRepository>
