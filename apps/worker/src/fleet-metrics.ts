// Fleet-wide gauges, exported by one process (the worker started with --exporter /
// WORKER_EXPORTER) so that a sum over processes counts each job, checkpoint and receipt once:
// BullMQ queue depths, sync checkpoints aggregated over tenants (bounded series: no tenant
// label) and the webhook inbox per status from its trigger-kept counter table.
import type { Queue } from 'bullmq'
import { Gauge, type Registry } from 'prom-client'
import { SYNC_LAG_BUCKETS, type MetricsRepository, type SyncLagAggregate } from '@xeno/core'
import type { Logger } from '@xeno/logger'

/** Job states reported per queue by `xeno_queue_jobs`. */
export const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
  'completed',
] as const

/** Sync checkpoint states, each always exported (0 when none) so alerts see a series. */
const SYNC_STATES = ['idle', 'queued', 'running', 'bulk_running', 'failed', 'stopped'] as const
const RESOURCES = ['shop', 'customers', 'products', 'orders'] as const
const RECEIPT_STATUSES = ['received', 'processed', 'skipped', 'failed'] as const

export type FleetMetricsDeps = {
  registry: Registry
  /** Every queue of the catalog (the producer's `allQueues()`). */
  queues: () => Queue[]
  repository: MetricsRepository
  logger: Logger
  /** Checkpoints without a success for this long count as stale. */
  staleAfterSeconds: number
  now?: () => Date
}

/** Registers the fleet-wide gauges on the registry; each scrape reads every source once. */
export function registerFleetMetrics(deps: FleetMetricsDeps): void {
  const { registry } = deps
  const now = deps.now ?? (() => new Date())

  // One read of every source per scrape, shared by the gauges below (prom-client collects them
  // concurrently); a source that fails is reported by xeno_metrics_source_up, not a failed scrape.
  type Snapshot = {
    queues: { queue: string; counts: Record<string, number> }[]
    sync: SyncLagAggregate[]
    receipts: { status: string; count: number }[]
    up: Record<string, number>
  }
  const read = async (): Promise<Snapshot> => {
    const snap: Snapshot = { queues: [], sync: [], receipts: [], up: {} }
    const guarded = async (source: string, fn: () => Promise<void>) => {
      try {
        await fn()
        snap.up[source] = 1
      } catch (err) {
        snap.up[source] = 0
        deps.logger.warn(
          { source, err: { message: (err as Error).message } },
          'metrics source down',
        )
      }
    }
    await Promise.all([
      guarded('queues', async () => {
        for (const q of deps.queues())
          snap.queues.push({ queue: q.name, counts: await q.getJobCounts(...QUEUE_STATES) })
      }),
      guarded('sync_checkpoints', async () => {
        snap.sync = await deps.repository.syncLag(now(), deps.staleAfterSeconds)
      }),
      guarded('webhook_receipts', async () => {
        snap.receipts = await deps.repository.webhookReceiptsByStatus()
      }),
    ])
    return snap
  }
  let current: Promise<Snapshot> | undefined
  const snapshot = () => {
    current ??= read().finally(() => setImmediate(() => (current = undefined)))
    return current
  }

  new Gauge({
    name: 'xeno_metrics_source_up',
    help: '1 when this scrape could read the source (queues, sync_checkpoints, webhook_receipts), else 0',
    labelNames: ['source'] as const,
    registers: [registry],
    async collect() {
      const snap = await snapshot()
      this.reset()
      for (const [source, up] of Object.entries(snap.up)) this.set({ source }, up)
    },
  })
  new Gauge({
    name: 'xeno_queue_jobs',
    help: 'Jobs per BullMQ queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const snap = await snapshot()
      this.reset()
      for (const { queue, counts } of snap.queues)
        for (const state of QUEUE_STATES) this.set({ queue, state }, counts[state] ?? 0)
    },
  })
  const byResource = (snap: Snapshot) =>
    RESOURCES.map((resource) => ({
      resource,
      row: snap.sync.find((r) => r.resource === resource),
    }))
  // The current distribution of lag over checkpoints: a histogram rebuilt from the database's
  // aggregate on every scrape (a "gauge histogram": read it with histogram_quantile over the
  // raw buckets, not rate()). prom-client's Histogram only accumulates observations, so this
  // metric renders its own samples through the registry's `get()` contract.
  const lagName = 'xeno_sync_lag_seconds'
  const lagHistogram = {
    name: lagName,
    help: 'Sync checkpoints by lag (now minus the newest synced updated_at), per resource; a snapshot each scrape',
    type: 'histogram',
    aggregator: 'sum',
    reset() {},
    async get() {
      const snap = await snapshot()
      const values: {
        labels: Record<string, string | number>
        value: number
        metricName: string
      }[] = []
      for (const { resource, row } of byResource(snap)) {
        SYNC_LAG_BUCKETS.forEach((le, i) =>
          values.push({
            labels: { le, resource },
            value: row?.lag.buckets[i] ?? 0,
            metricName: `${lagName}_bucket`,
          }),
        )
        const count = row?.lag.count ?? 0
        values.push({
          labels: { le: '+Inf', resource },
          value: count,
          metricName: `${lagName}_bucket`,
        })
        values.push({
          labels: { resource },
          value: row?.lag.sum ?? 0,
          metricName: `${lagName}_sum`,
        })
        values.push({ labels: { resource }, value: count, metricName: `${lagName}_count` })
      }
      return { name: lagName, help: this.help, type: 'histogram', values, aggregator: 'sum' }
    },
  }
  registry.registerMetric(lagHistogram as unknown as Parameters<Registry['registerMetric']>[0])
  new Gauge({
    name: 'xeno_sync_lag_max_seconds',
    help: 'The largest sync lag over tenants, per resource',
    labelNames: ['resource'] as const,
    registers: [registry],
    async collect() {
      const snap = await snapshot()
      this.reset()
      for (const { resource, row } of byResource(snap)) this.set({ resource }, row?.lag.max ?? 0)
    },
  })
  new Gauge({
    name: 'xeno_sync_stale_checkpoints',
    help: 'Sync checkpoints (one per tenant and resource) not stopped and without a success for SYNC_STALE_AFTER_SECONDS',
    labelNames: ['resource'] as const,
    registers: [registry],
    async collect() {
      const snap = await snapshot()
      this.reset()
      for (const { resource, row } of byResource(snap)) this.set({ resource }, row?.stale ?? 0)
    },
  })
  new Gauge({
    name: 'xeno_sync_checkpoints',
    help: 'Sync checkpoints (one per tenant and resource) by resource and state',
    labelNames: ['resource', 'state'] as const,
    registers: [registry],
    async collect() {
      const snap = await snapshot()
      this.reset()
      for (const { resource, row } of byResource(snap))
        for (const state of SYNC_STATES) this.set({ resource, state }, row?.states[state] ?? 0)
    },
  })
  new Gauge({
    name: 'xeno_webhook_receipts',
    help: 'Webhook deliveries in the inbox, by status (processed ones leave after WEBHOOK_RETENTION_DAYS)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const snap = await snapshot()
      this.reset()
      for (const status of RECEIPT_STATUSES)
        this.set({ status }, snap.receipts.find((r) => r.status === status)?.count ?? 0)
    },
  })
}
