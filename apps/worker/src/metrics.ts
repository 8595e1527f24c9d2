// Job metrics of a worker process, observed where jobs run: durations and outcomes per queue and
// job name, plus process metrics. Served by an optional listener (WORKER_METRICS_PORT) that
// Prometheus scrapes per worker; the one worker started as the exporter adds the fleet-wide
// gauges (fleet-metrics.ts).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Job, Worker } from 'bullmq'
import { Counter, Histogram, Registry } from 'prom-client'
import { bearerMatches, collectProcessMetrics } from '@xeno/core'
import type { Logger } from '@xeno/logger'

/** Prometheus registry of one worker process and the hook that feeds it from BullMQ workers. */
export function createWorkerMetrics(options: { registry?: Registry } = {}) {
  const registry = options.registry ?? new Registry()
  collectProcessMetrics(registry)
  const jobs = new Counter({
    name: 'xeno_jobs_total',
    help: 'Jobs finished by this worker, by queue, job name and status (completed or failed)',
    labelNames: ['queue', 'job', 'status'] as const,
    registers: [registry],
  })
  const failures = new Counter({
    name: 'xeno_job_failures_total',
    help: 'Failed job attempts, by queue and job name; final=true when no retry is left',
    labelNames: ['queue', 'job', 'final'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'xeno_job_duration_seconds',
    help: 'Job processing time in seconds (one attempt), by queue, job name and status',
    labelNames: ['queue', 'job', 'status'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [registry],
  })
  const observe = (job: Job, status: 'completed' | 'failed') => {
    const labels = { queue: job.queueName, job: job.name, status }
    jobs.inc(labels)
    if (job.processedOn && job.finishedOn)
      duration.observe(labels, Math.max(0, job.finishedOn - job.processedOn) / 1000)
  }
  return {
    registry,
    /** Observes every job a BullMQ worker finishes. */
    attach(worker: Worker) {
      worker.on('completed', (job) => observe(job, 'completed'))
      worker.on('failed', (job) => {
        if (!job) return
        observe(job, 'failed')
        const final = job.attemptsMade >= (job.opts.attempts ?? 1) || job.finishedOn !== undefined
        failures.inc({ queue: job.queueName, job: job.name, final: String(final) })
      })
    },
  }
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>

/**
 * Serves GET /metrics of the registry on host:port (port 0: any free port). With a token,
 * requests need `Authorization: Bearer <token>`. Resolves once listening.
 */
export async function startMetricsServer(options: {
  registry: Registry
  port: number
  host: string
  token?: string | undefined
  logger: Logger
}): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'only GET /metrics' } }))
      return
    }
    if (options.token && !bearerMatches(req.headers.authorization, options.token)) {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          error: { code: 'UNAUTHORIZED', message: 'metrics bearer token required' },
        }),
      )
      return
    }
    options.registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': options.registry.contentType })
        res.end(body)
      },
      (err: Error) => {
        options.logger.warn({ err: { message: err.message } }, 'metrics collection failed')
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { code: 'INTERNAL_ERROR', message: 'internal error' } }))
      },
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  options.logger.info({ port, host: options.host }, 'worker metrics listening')
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
