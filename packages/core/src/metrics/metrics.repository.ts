import { sql, withSystem, type Database } from '@xeno/db'

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
 * fleet), so they run in withSystem; they return aggregates and ids only, never tenant data.
 */
export function createMetricsRepository(db: Database) {
  return {
    /** Every sync checkpoint: per tenant and resource, state, cursor and last success. */
    async syncCheckpoints(): Promise<SyncLagRow[]> {
      const rows = await withSystem(db, (trx) =>
        trx
          .selectFrom('syncCheckpoints')
          .select(['tenantId', 'resource', 'state', 'cursorUpdatedAt', 'lastSuccessAt'])
          .orderBy('tenantId')
          .orderBy('resource')
          .execute(),
      )
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
      const rows = await withSystem(db, (trx) =>
        trx
          .selectFrom('webhookReceipts')
          .select(['status', sql<string>`count(*)`.as('count')])
          .groupBy('status')
          .orderBy('status')
          .execute(),
      )
      return rows.map((r) => ({ status: r.status, count: Number(r.count) }))
    },
  }
}

export type MetricsRepository = ReturnType<typeof createMetricsRepository>
