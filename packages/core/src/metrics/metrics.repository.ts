import { sql, withSystem, type Database } from '@xeno/db'

/** Upper bounds (seconds) of the sync lag histogram's buckets. */
export const SYNC_LAG_BUCKETS = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400]

/**
 * The fleet's sync state for one resource, aggregated over tenants: the exporter turns it into
 * series whose number does not grow with tenants (per-tenant lag is the API's sync-status).
 */
export type SyncLagAggregate = {
  resource: string
  /** Checkpoints per state (idle, queued, running, bulk_running, failed, stopped). */
  states: Record<string, number>
  /** Lag (now − newest synced updated_at) of every checkpoint that has one: count, sum, buckets. */
  lag: { count: number; sum: number; max: number; buckets: number[] }
  /** Checkpoints not stopped whose last success is older than the threshold (never: last changed before it). */
  stale: number
}

/**
 * Reads for the Prometheus exporter. They span every tenant by design (operators watch the whole
 * fleet), so they run in withSystem; they return aggregates only, never tenant ids or data.
 */
export function createMetricsRepository(db: Database) {
  return {
    /**
     * Sync checkpoints aggregated per resource at `now`: states, the lag histogram (cumulative
     * counts per SYNC_LAG_BUCKETS bound) and the checkpoints stale for more than `staleAfterS`.
     * One pass over sync_checkpoints (a few rows per tenant).
     */
    async syncLag(now: Date, staleAfterS: number): Promise<SyncLagAggregate[]> {
      const lag = sql<number>`extract(epoch from (${now}::timestamptz - coalesce(cursor_updated_at, CASE WHEN resource = 'shop' THEN last_success_at END)))`
      const cutoff = sql`${now}::timestamptz - make_interval(secs => ${staleAfterS})`
      const buckets = sql.join(
        SYNC_LAG_BUCKETS.map((b) => sql`count(*) FILTER (WHERE l <= ${sql.lit(b)})`),
      )
      const rows = await withSystem(db, (trx) =>
        sql<{
          resource: string
          states: Record<string, number> | null
          count: string
          sum: number | null
          max: number | null
          buckets: string[]
          stale: string
        }>`
          SELECT resource,
            (SELECT jsonb_object_agg(state, n) FROM (
               SELECT state, count(*) AS n FROM sync_checkpoints s
               WHERE s.resource = r.resource GROUP BY state) x) AS states,
            count(l) AS count, sum(greatest(l, 0)) AS sum, max(greatest(l, 0)) AS max,
            ARRAY[${buckets}] AS buckets,
            count(*) FILTER (WHERE state <> 'stopped'
              AND coalesce(last_success_at, updated_at) < ${cutoff}) AS stale
          FROM (SELECT resource, state, last_success_at, updated_at, ${lag} AS l
                FROM sync_checkpoints) r
          GROUP BY resource ORDER BY resource`.execute(trx),
      )
      return rows.rows.map((r) => ({
        resource: r.resource,
        states: r.states ?? {},
        lag: {
          count: Number(r.count),
          sum: Number(r.sum ?? 0),
          max: Number(r.max ?? 0),
          buckets: r.buckets.map(Number),
        },
        stale: Number(r.stale),
      }))
    },

    /**
     * Webhook inbox rows per status (received, processed, skipped, failed), from the counter
     * table the inbox's triggers keep (a few rows, whatever the inbox's size).
     */
    async webhookReceiptsByStatus(): Promise<{ status: string; count: number }[]> {
      const rows = await withSystem(db, (trx) =>
        trx
          .selectFrom('webhookReceiptCounts')
          .select(['status', sql<string>`sum(count)`.as('count')])
          .groupBy('status')
          .orderBy('status')
          .execute(),
      )
      return rows.map((r) => ({ status: r.status, count: Number(r.count) }))
    },
  }
}

export type MetricsRepository = ReturnType<typeof createMetricsRepository>
