import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  customEventsBody,
  UnauthorizedError,
  ValidationError,
  type EventsService,
} from '@xeno/core'
import { errorBody } from '../http/schemas.ts'

// 500 events of up to 16 KB of properties each, plus their envelopes.
const BODY_LIMIT = 10 * 1024 * 1024

/** POST /api/events: custom events of the API key's tenant. */
export function eventsRoutes(deps: { events: EventsService }): FastifyPluginCallbackZod {
  return (app, _opts, done) => {
    app.post(
      '/api/events',
      {
        bodyLimit: BODY_LIMIT,
        config: { auth: 'api-key', admission: 'ingest' },
        schema: {
          tags: ['events'],
          summary: 'Record custom events (one, or a batch of up to 500) with an X-API-Key',
          description: `Body: one event, or \`{ "events": [ … ] }\` with 1–500 events. Each event has
\`event_type\` (\`[a-z0-9_.:-]{1,64}\`), \`occurred_at\` (ISO 8601 with offset, at most 5
minutes in the future), and optionally \`customer_id\` (Shopify customer id), \`session_id\`,
\`properties\` (a JSON object of at most 16 KB) and \`idempotency_key\`.

Idempotency: a repeat of a key with the same body (same type, instant, customer, session and
properties, whatever the key order or offset spelling) is accepted as a duplicate and not stored
again; the same key with a different body is a 409 and nothing of the batch is stored. Events
without a key are always stored. A batch is atomic: any invalid event (400 naming
\`events.N.field\`) or conflict stores none. Events count in analytics by \`occurred_at\` in the
shop's zone; \`checkout_started\` opens the checkout → order funnel.`,
          body: customEventsBody,
          response: {
            202: z.object({
              data: z.object({
                received: z.number().int(),
                stored: z.number().int(),
                duplicates: z.number().int(),
                events: z.array(
                  z.object({
                    id: z.string(),
                    idempotency_key: z.string().nullable(),
                    status: z.enum(['stored', 'duplicate']),
                  }),
                ),
              }),
            }),
            400: errorBody,
            401: errorBody,
            409: errorBody,
            413: errorBody,
          },
        },
      },
      async (request, reply) => {
        const principal = request.principal
        if (principal?.kind !== 'api-key') throw new UnauthorizedError()
        try {
          const result = await deps.events.record(principal.tenantId, request.body)
          return reply.code(202).send({ data: result })
        } catch (err) {
          if (err instanceof ValidationError && err.fields)
            throw new ValidationError(
              err.message,
              err.fields.map((f) => ({ ...f, field: `body.${f.field}` })),
            )
          throw err
        }
      },
    )
    done()
  }
}
