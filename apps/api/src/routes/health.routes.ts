import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HealthService } from '@xeno/core'

const check = z.enum(['up', 'down'])
const healthBody = z.object({
  data: z.object({
    status: z.enum(['ok', 'degraded']),
    checks: z.object({
      database: check,
      redis: check,
      schema: z.enum(['current', 'pending']).optional(),
    }),
  }),
})
const liveBody = z.object({ data: z.object({ status: z.literal('ok') }) })

/**
 * GET /api/health/live: the process answers (restart it when this fails).
 * GET /api/health/ready and GET /api/health: 200 when Postgres and Redis answer and the schema is
 * at the latest migration, 503 otherwise (send no traffic yet).
 */
export function healthRoutes(deps: { health: HealthService }): FastifyPluginCallbackZod {
  return (app, _opts, done) => {
    app.get(
      '/api/health/live',
      {
        schema: {
          tags: ['ops'],
          summary: 'Liveness: the process answers',
          response: { 200: liveBody },
        },
        config: { auth: 'public' },
      },
      async () => ({ data: { status: 'ok' as const } }),
    )
    for (const url of ['/api/health', '/api/health/ready'])
      app.get(
        url,
        {
          schema: {
            tags: ['ops'],
            summary: 'Readiness: Postgres, Redis and the schema at the latest migration',
            response: { 200: healthBody, 503: healthBody },
          },
          config: { auth: 'public' },
        },
        async (_request, reply) => {
          const report = await deps.health.check()
          return reply.code(report.status === 'ok' ? 200 : 503).send({ data: report })
        },
      )
    done()
  }
}
