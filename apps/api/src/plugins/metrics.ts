// Prometheus metrics of the API process: HTTP requests by route pattern, this replica's readiness
// and the standard process metrics. Nothing fleet-wide: queue depths, sync lag and the webhook
// inbox come from the one worker started as the exporter (apps/worker/src/fleet-metrics.ts), so
// a sum over API replicas stays right; job durations and failures from every worker's /metrics.
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Logger } from '@xeno/logger'
import {
  UnauthorizedError,
  bearerMatches,
  collectProcessMetrics,
  type HealthService,
} from '@xeno/core'

export type MetricsDeps = {
  /** METRICS_TOKEN: when set, GET /metrics needs `Authorization: Bearer <token>`. */
  token?: string | undefined
  /** Readiness probe of this replica (the health service); absent → no dependency gauge. */
  health?: Pick<HealthService, 'check'>
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
  collectProcessMetrics(registry)

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

  if (deps.health) {
    const health = deps.health
    // Readiness of this replica, as GET /api/health sees it (alerts: a replica that cannot reach
    // Postgres or Redis). Per replica by nature, unlike the fleet gauges of the exporter.
    new Gauge({
      name: 'xeno_api_dependency_up',
      help: '1 when this API process reaches the dependency (database, redis), as /api/health reports',
      labelNames: ['dependency'] as const,
      registers: [registry],
      async collect() {
        const report = await health.check().catch(() => undefined)
        this.set({ dependency: 'database' }, report?.checks.database === 'up' ? 1 : 0)
        this.set({ dependency: 'redis' }, report?.checks.redis === 'up' ? 1 : 0)
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
