// Prometheus metrics of the API process: HTTP requests by route pattern, queue depths read through
// the producer's queues, per-tenant sync lag and last success, webhook inbox by status, and the
// process metrics of prom-client. Job durations and failures are observed where jobs run: each
// worker serves its own /metrics (apps/worker/src/metrics.ts).
import type { FastifyInstance } from 'fastify'
import type { Queue } from 'bullmq'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Logger } from '@xeno/logger'
import {
  UnauthorizedError,
  bearerMatches,
  type MetricsRepository,
  type SyncLagRow,
} from '@xeno/core'

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

export type MetricsDeps = {
  /** METRICS_TOKEN: when set, GET /metrics needs `Authorization: Bearer <token>`. */
  token?: string | undefined
  /** The BullMQ queues whose depths are reported (the producer's `allQueues()`). */
  queues?: () => Queue[]
  /** Fleet-wide reads (sync checkpoints, webhook inbox); absent → those series are absent. */
  repository?: MetricsRepository
  /** Clock for sync lag (tests). */
  now?: () => Date
  /** Registry to fill (default: a new one per app; process metrics are added to it). */
  registry?: Registry
}

/**
 * Creates the API's registry and installs the HTTP request hook at the root (call it before
 * routes are registered). Returns the registry that GET /metrics renders.
 */
export function registerMetrics(
  app: FastifyInstance,
  deps: MetricsDeps & { logger: Logger },
): Registry {
  const registry = deps.registry ?? new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'xeno_api_' })
  const now = deps.now ?? (() => new Date())

  const requests = new Counter({
    name: 'xeno_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'xeno_http_request_duration_seconds',
    help: 'HTTP request latency in seconds, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern (`/api/tenants/:id`), never the raw URL: label values stay bounded.
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    }
    requests.inc(labels)
    duration.observe(labels, reply.elapsedTime / 1000)
    done()
  })

  // One read of every source per scrape, shared by the gauges below (prom-client collects them
  // concurrently); a source that fails is reported by xeno_metrics_source_up, not a failed scrape.
  type Snapshot = {
    queues: { queue: string; counts: Record<string, number> }[]
    checkpoints: SyncLagRow[]
    receipts: { status: string; count: number }[]
    up: Record<string, number>
  }
  const read = async (): Promise<Snapshot> => {
    const snap: Snapshot = { queues: [], checkpoints: [], receipts: [], up: {} }
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
    const queues = deps.queues
    const repo = deps.repository
    await Promise.all([
      queues &&
        guarded('queues', async () => {
          for (const q of queues())
            snap.queues.push({ queue: q.name, counts: await q.getJobCounts(...QUEUE_STATES) })
        }),
      repo &&
        guarded('sync_checkpoints', async () => {
          snap.checkpoints = await repo.syncCheckpoints()
        }),
      repo &&
        guarded('webhook_receipts', async () => {
          snap.receipts = await repo.webhookReceiptsByStatus()
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
    help: '1 when this scrape could read the source (queues, database), else 0',
    labelNames: ['source'] as const,
    registers: [registry],
    async collect() {
      const snap = await snapshot()
      this.reset()
      for (const [source, up] of Object.entries(snap.up)) this.set({ source }, up)
    },
  })
  if (deps.queues)
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
  if (deps.repository) {
    new Gauge({
      name: 'xeno_sync_lag_seconds',
      help: 'Now minus the newest synced updated_at, per tenant and resource',
      labelNames: ['tenant_id', 'resource'] as const,
      registers: [registry],
      async collect() {
        const snap = await snapshot()
        this.reset()
        const t = now().getTime()
        for (const r of snap.checkpoints)
          if (r.cursorAt)
            this.set(
              { tenant_id: r.tenantId, resource: r.resource },
              Math.max(0, (t - r.cursorAt.getTime()) / 1000),
            )
      },
    })
    new Gauge({
      name: 'xeno_sync_last_success_timestamp_seconds',
      help: 'Unix time of the last successful sync, per tenant and resource',
      labelNames: ['tenant_id', 'resource'] as const,
      registers: [registry],
      async collect() {
        const snap = await snapshot()
        this.reset()
        for (const r of snap.checkpoints)
          if (r.lastSuccessAt)
            this.set(
              { tenant_id: r.tenantId, resource: r.resource },
              r.lastSuccessAt.getTime() / 1000,
            )
      },
    })
    new Gauge({
      name: 'xeno_webhook_receipts',
      help: 'Webhook deliveries in the inbox, by status',
      labelNames: ['status'] as const,
      registers: [registry],
      async collect() {
        const snap = await snapshot()
        this.reset()
        for (const r of snap.receipts) this.set({ status: r.status }, r.count)
      },
    })
  }

  return registry
}

/** Throws UnauthorizedError unless the request carries the metrics bearer token (when set). */
export function checkMetricsToken(token: string | undefined, authorization: string | undefined) {
  if (token && !bearerMatches(authorization, token))
    throw new UnauthorizedError('metrics bearer token required')
}
