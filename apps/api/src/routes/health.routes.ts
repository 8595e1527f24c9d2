import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HealthService } from '@xeno/core'

const check = z.enum(['up', 'down'])
const healthBody = z.object({
  data: z.object({
    status: z.enum(['ok', 'degraded']),
    checks: z.object({ database: check, redis: check }),
  }),
})

/** GET /api/health: 200 when Postgres and Redis answer, 503 when either is down. */
export function healthRoutes(deps: { health: HealthService }): FastifyPluginCallbackZod {
  return (app, _opts, done) => {
    app.get(
      '/api/health',
      {
        schema: {
          tags: ['ops'],
          summary: 'Database and Redis readiness',
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
