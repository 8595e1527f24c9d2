import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod'
import type { Registry } from 'prom-client'
import { z } from 'zod'
import { checkMetricsToken } from '../plugins/metrics.ts'

/** GET /metrics: Prometheus text format; a bearer token when METRICS_TOKEN is set. */
export function metricsRoutes(deps: {
  registry: Registry
  token?: string | undefined
}): FastifyPluginCallbackZod {
  return (app, _opts, done) => {
    app.get(
      '/metrics',
      {
        // 'public' for the auth plugin: this route checks its own bearer token (METRICS_TOKEN).
        config: { auth: 'public' },
        schema: {
          tags: ['ops'],
          summary: 'Prometheus metrics',
          description: `Prometheus text exposition format (0.0.4) of this API process:
\`xeno_http_requests_total\` and \`xeno_http_request_duration_seconds\` by method, route pattern
and status; \`xeno_api_dependency_up\` (this replica's readiness); the standard process metrics
(\`process_*\`, \`nodejs_*\`). Fleet-wide gauges (queues, sync lag, webhook inbox) come from the
worker started with --exporter, job durations and failures from every worker's own /metrics
(WORKER_METRICS_PORT). When METRICS_TOKEN is set, send \`Authorization: Bearer <token>\`.`,
          security: deps.token ? [{ metricsBearer: [] }] : [],
          response: {
            200: {
              description: 'Prometheus text format',
              content: { 'text/plain': { schema: z.string() } },
            },
          },
        },
        onRequest: async (request) => checkMetricsToken(deps.token, request.headers.authorization),
      },
      async (_request, reply) => {
        const body = await deps.registry.metrics()
        return reply.type(deps.registry.contentType).send(body)
      },
    )
    done()
  }
}
