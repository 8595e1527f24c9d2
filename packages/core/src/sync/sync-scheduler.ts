import { JOBS, RESOURCES, parseJobPayload, type Producer, type Resource } from '@xeno/queues'

export type SyncSchedulerDeps = {
  producer: Producer
  /** Incremental period (SYNC_INTERVAL_MINUTES); only ensure() uses it (default 15). */
  intervalMinutes?: number
  /** Daily reconciliation period (default 24 h). */
  reconcileEveryMs?: number
}

/** The deduplication id of a (tenant, resource) sync: one queued or running job at a time. */
export const syncDedupId = (tenantId: string, resource: Resource): string =>
  `sync:${tenantId}:${resource}`

/**
 * Where in its period a tenant's schedule fires: a stable hash of the tenant (and the kind) over
 * the period. BullMQ aligns `every` schedules to multiples of the period; without an offset each
 * one fires at the instant it was registered, so the schedules a worker re-asserts at start for
 * every tenant (or a mass install) would all fire in the same few seconds of every period.
 */
export function scheduleOffsetMs(tenantId: string, kind: string, everyMs: number): number {
  let h = 0x811c9dc5
  for (const ch of `${kind}:${tenantId}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0
  return h % everyMs
}

/**
 * The only place that creates sync schedules (BullMQ job schedulers, idempotent upserts) and
 * enqueues per-resource sync jobs.
 */
export function createSyncScheduler(deps: SyncSchedulerDeps) {
  const queue = () => deps.producer.queue(JOBS['sync-tenant'].queue)
  const ids = (tenantId: string) => ({
    incremental: `sync-schedule:${tenantId}:incremental`,
    reconcile: `sync-schedule:${tenantId}:reconcile`,
  })

  return {
    /**
     * Enqueues one job per resource. A resource already queued or running absorbs the trigger
     * (BullMQ deduplication): the returned id is the job that will do the work.
     */
    async enqueueTenant(
      tenantId: string,
      mode: 'incremental' | 'full' | 'reconcile',
      resources: readonly Resource[] = RESOURCES,
      requestId?: string,
    ): Promise<{ resource: Resource; jobId: string }[]> {
      const out: { resource: Resource; jobId: string }[] = []
      for (const resource of resources) {
        const jobId = await deps.producer.enqueue(
          'sync-resource',
          { tenantId, resource, mode, ...(requestId ? { requestId } : {}) },
          { deduplication: { id: syncDedupId(tenantId, resource) } },
        )
        out.push({ resource, jobId })
      }
      return out
    },

    /** Creates or updates the tenant's incremental and daily reconciliation schedules. */
    async ensure(tenantId: string): Promise<void> {
      const q = queue()
      const every = (deps.intervalMinutes ?? 15) * 60_000
      const id = ids(tenantId)
      const inc = parseJobPayload('sync-tenant', { tenantId, mode: 'incremental' })
      const rec = parseJobPayload('sync-tenant', { tenantId, mode: 'reconcile' })
      const opts = {
        attempts: JOBS['sync-tenant'].attempts,
        backoff: JOBS['sync-tenant'].backoff,
        removeOnComplete: { age: 3600, count: 1000 },
        removeOnFail: { age: 24 * 3600 },
      }
      const reconcileEvery = deps.reconcileEveryMs ?? 24 * 3600_000
      // Spread over the period (a new tenant's first incremental waits up to one period: its
      // install runs a full sync at once anyway).
      await q.upsertJobScheduler(
        id.incremental,
        { every, offset: scheduleOffsetMs(tenantId, 'incremental', every) },
        { name: 'sync-tenant', data: inc, opts },
      )
      await q.upsertJobScheduler(
        id.reconcile,
        { every: reconcileEvery, offset: scheduleOffsetMs(tenantId, 'reconcile', reconcileEvery) },
        { name: 'sync-tenant', data: rec, opts },
      )
    },

    async remove(tenantId: string): Promise<void> {
      const q = queue()
      const id = ids(tenantId)
      await q.removeJobScheduler(id.incremental)
      await q.removeJobScheduler(id.reconcile)
    },

    /** When the next scheduled runs are due, per kind (null when not scheduled). */
    async next(tenantId: string): Promise<{ incremental: Date | null; reconcile: Date | null }> {
      const q = queue()
      const id = ids(tenantId)
      const [a, b] = await Promise.all([
        q.getJobScheduler(id.incremental),
        q.getJobScheduler(id.reconcile),
      ])
      return {
        incremental: a?.next ? new Date(a.next) : null,
        reconcile: b?.next ? new Date(b.next) : null,
      }
    },
  }
}

export type SyncScheduler = ReturnType<typeof createSyncScheduler>
