import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { IngestService } from '@xeno/core'
import { RESOURCES } from '@xeno/queues'
import { errorBody } from '../http/schemas.ts'

const params = z.object({ id: z.uuid() })
const iso = (d: Date | null) => (d ? d.toISOString() : null)

/** POST /api/tenants/:id/ingest and GET /api/tenants/:id/sync-status. */
export function ingestRoutes(deps: { ingest: IngestService }): FastifyPluginCallbackZod {
  return (app, _opts, done) => {
    app.post(
      '/api/tenants/:id/ingest',
      {
        config: { auth: 'tenant', role: 'owner', admission: 'ingest' },
        schema: {
          tags: ['ingest'],
          summary: "Queue a sync of the tenant's Shopify data",
          description: `Enqueues one job per resource and answers at once (202): nothing waits for
Shopify. \`mode\` is \`incremental\` (default; a resource never synced gets a bulk backfill) or
\`full\` (bulk re-read of everything, also marking rows deleted in Shopify). A resource already
queued or running absorbs the trigger: its job id is returned. Owners only.`,
          params,
          body: z
            .object({
              resources: z.array(z.enum(RESOURCES)).min(1).max(4).optional(),
              mode: z.enum(['incremental', 'full']).optional(),
            })
            .strict()
            .default({}),
          response: {
            202: z.object({
              data: z.object({
                mode: z.enum(['incremental', 'full']),
                jobs: z.array(z.object({ resource: z.enum(RESOURCES), job_id: z.string() })),
              }),
            }),
            400: errorBody,
            401: errorBody,
            403: errorBody,
            404: errorBody,
            409: errorBody,
          },
        },
      },
      async (request, reply) => {
        const out = await deps.ingest.trigger(request.params.id, request.body ?? {}, request.id)
        return reply.code(202).send({
          data: {
            mode: out.mode,
            jobs: out.jobs.map((j) => ({ resource: j.resource, job_id: j.jobId })),
          },
        })
      },
    )

    app.get(
      '/api/tenants/:id/sync-status',
      {
        config: { auth: 'tenant' },
        schema: {
          tags: ['ingest'],
          summary: 'Sync state per resource',
          description: `Per resource: \`state\` (never, idle, running, bulk_running, failed,
stopped), rows and pages synced (paged syncs), bulk progress (the running bulk operation, or the
last one with \`running: false\`: \`root_object_count\` of \`expected_count\` roots as \`percent\`,
\`object_count\` also counting line items; \`percent\` is null when Shopify gave no exact count),
last success, \`lag_seconds\` (now minus the newest synced \`updated_at\`), time spent waiting on
Shopify's throttle, the last error, the next scheduled run, and a \`warning\` (on \`shop\`: its time
zone is unknown to this server, so analytics use UTC).`,
          params,
          response: {
            200: z.object({
              data: z.array(
                z.object({
                  resource: z.enum(RESOURCES),
                  state: z.string(),
                  rows_synced: z.number().int(),
                  pages: z.number().int(),
                  bulk: z
                    .object({
                      operation_id: z.string().nullable(),
                      running: z.boolean(),
                      mode: z.string().nullable(),
                      object_count: z.number().int(),
                      root_object_count: z.number().int(),
                      expected_count: z.number().int().nullable(),
                      percent: z.number().nullable(),
                    })
                    .nullable(),
                  last_success_at: z.string().nullable(),
                  lag_seconds: z.number().int().nullable(),
                  throttled_ms: z.number().int(),
                  last_error: z.string().nullable(),
                  last_error_at: z.string().nullable(),
                  next_run_at: z.string().nullable(),
                  warning: z.string().nullable(),
                }),
              ),
            }),
            401: errorBody,
            404: errorBody,
          },
        },
      },
      async (request) => {
        const rows = await deps.ingest.status(request.params.id)
        return {
          data: rows.map((r) => ({
            resource: r.resource,
            state: r.state,
            rows_synced: r.rowsSynced,
            pages: r.pages,
            bulk: r.bulk
              ? {
                  operation_id: r.bulk.operationId,
                  running: r.bulk.running,
                  mode: r.bulk.mode,
                  object_count: r.bulk.objectCount,
                  root_object_count: r.bulk.rootObjectCount,
                  expected_count: r.bulk.expectedCount,
                  percent: r.bulk.percent,
                }
              : null,
            last_success_at: iso(r.lastSuccessAt),
            lag_seconds: r.lagSeconds,
            throttled_ms: r.throttledMs,
            last_error: r.lastError,
            last_error_at: iso(r.lastErrorAt),
            next_run_at: iso(r.nextRunAt),
            warning: r.warning,
          })),
        }
      },
    )
    done()
  }
}
