import type { FastifyPluginAsyncZod, FastifyPluginCallbackZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  NotFoundError,
  type AdminReceipt,
  type ComplianceRepository,
  type WebhookIntakeService,
  type WebhookSweeper,
} from '@xeno/core'
import { WEBHOOK_TOPICS } from '@xeno/shopify'

/** Orders with hundreds of line items run to a few hundred KB; 5 MiB leaves ample room. */
export const WEBHOOK_BODY_LIMIT = 5 * 1024 * 1024

export type WebhookRoutesDeps = {
  intake: WebhookIntakeService
  sweeper: WebhookSweeper
  compliance: ComplianceRepository
}

const header = (v: string | string[] | undefined): string | undefined =>
  Array.isArray(v) ? v[0] : v

const INTAKE_DESCRIPTION: string = `Topics: ${WEBHOOK_TOPICS.join(', ')}. Verified by X-Shopify-Hmac-Sha256 over the raw body (401 when missing or wrong); stored once per X-Shopify-Webhook-Id in the inbox and processed asynchronously. 200 means stored (or an unknown shop, ignored); 400 when the topic header disagrees with the path, the body is not JSON, or an app/uninstalled or compliance body does not have its topic's shape or does not name X-Shopify-Shop-Domain by domain and Shopify shop id (the field named); 503 means retry later. Data-topic bodies are only a signal: the worker stores what the header shop's Admin API returns for the ids they name.`

const ack = z.object({ data: z.object({ status: z.enum(['accepted', 'duplicate', 'ignored']) }) })

/**
 * Shopify webhook intake — `POST /api/webhooks/{resource}/{event}` for every subscribed and
 * compliance topic. The raw body is verified before anything is parsed or stored; 401 on a bad
 * or missing signature (required for compliance topics).
 */
export function webhookRoutes(deps: WebhookRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(intakeRoute(deps))
    adminAndComplianceRoutes(app, deps)
  }
}

function intakeRoute(deps: WebhookRoutesDeps): FastifyPluginCallbackZod {
  return (app, _opts, done) => {
    // The HMAC covers the exact bytes, so this scope (only) keeps the body as a Buffer.
    app.removeContentTypeParser('application/json')
    app.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT },
      (_req, body, done) => done(null, body),
    )

    app.post(
      '/api/webhooks/:resource/:event',
      {
        bodyLimit: WEBHOOK_BODY_LIMIT,
        config: { auth: 'shopify-webhook' },
        schema: {
          tags: ['webhooks'],
          summary: 'Shopify webhook delivery',
          description: INTAKE_DESCRIPTION,
          params: z.object({
            resource: z.string().regex(/^[a-z_]{1,40}$/),
            event: z.string().regex(/^[a-z_]{1,40}$/),
          }),
          response: { 200: ack },
        },
      },
      async (request) => {
        const h = request.headers
        const result = await deps.intake.receive(
          `${request.params.resource}/${request.params.event}`,
          {
            hmac: header(h['x-shopify-hmac-sha256']),
            topic: header(h['x-shopify-topic']),
            shopDomain: header(h['x-shopify-shop-domain']),
            webhookId: header(h['x-shopify-webhook-id']),
            apiVersion: header(h['x-shopify-api-version']),
            eventId: header(h['x-shopify-event-id']),
            triggeredAt: header(h['x-shopify-triggered-at']),
          },
          Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
          request.id,
        )
        const status: 'accepted' | 'duplicate' | 'ignored' =
          result.outcome === 'unknown-shop' ? 'ignored' : result.outcome
        return { data: { status } }
      },
    )
    done()
  }
}

function adminAndComplianceRoutes(
  app: Parameters<FastifyPluginAsyncZod>[0],
  deps: WebhookRoutesDeps,
) {
  const adminReceipt = z.object({
    id: z.uuid(),
    tenant_id: z.uuid(),
    shop_domain: z.string(),
    topic: z.string(),
    webhook_id: z.string(),
    status: z.enum(['received', 'processed', 'skipped', 'failed']),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    received_at: z.iso.datetime(),
    processed_at: z.iso.datetime().nullable(),
  })
  const receiptOut = (r: AdminReceipt): z.infer<typeof adminReceipt> => ({
    id: r.id,
    tenant_id: r.tenantId,
    shop_domain: r.shopDomain,
    topic: r.topic,
    webhook_id: r.webhookId,
    status: r.status,
    attempts: r.attempts,
    last_error: r.lastError,
    received_at: r.receivedAt.toISOString(),
    processed_at: r.processedAt?.toISOString() ?? null,
  })

  app.get(
    '/api/admin/webhooks',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['webhooks'],
        summary: 'Webhook inbox receipts of one status across tenants (default: failed)',
        description:
          'Newest first, without payloads. `before` (a `received_at` of the last row) pages back. Failed receipts are the ones to replay.',
        querystring: z.object({
          status: z.enum(['received', 'processed', 'skipped', 'failed']).default('failed'),
          limit: z.coerce.number().int().min(1).max(100).default(50),
          before: z.iso.datetime().optional(),
        }),
        response: { 200: z.object({ data: z.array(adminReceipt) }) },
      },
    },
    async (request) => {
      const { status, limit, before } = request.query
      const rows = await deps.sweeper.list({
        status,
        limit,
        before: before ? new Date(before) : undefined,
      })
      return { data: rows.map(receiptOut) }
    },
  )

  app.get(
    '/api/admin/webhooks/:receiptId',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['webhooks'],
        summary: 'One webhook receipt (status, attempts, last error), without its payload',
        params: z.object({ receiptId: z.uuid() }),
        response: { 200: z.object({ data: adminReceipt }) },
      },
    },
    async (request) => {
      const r = await deps.sweeper.get(request.params.receiptId)
      if (!r) throw new NotFoundError('no receipt with this id')
      return { data: receiptOut(r) }
    },
  )

  app.post(
    '/api/admin/webhooks/:receiptId/replay',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['webhooks'],
        summary: 'Replay a failed webhook receipt',
        description:
          'Puts a `failed` (or stuck `received`) receipt back to `received` and enqueues it again.',
        params: z.object({ receiptId: z.uuid() }),
        response: {
          202: z.object({ data: z.object({ receipt_id: z.uuid(), tenant_id: z.uuid() }) }),
        },
      },
    },
    async (request, reply) => {
      const r = await deps.sweeper.replay(request.params.receiptId)
      if (!r) throw new NotFoundError('no failed receipt with this id')
      return reply.code(202).send({ data: { receipt_id: r.id, tenant_id: r.tenantId } })
    },
  )

  const requestSummary = z.object({
    id: z.uuid(),
    topic: z.string(),
    customer_id: z.string().nullable(),
    shopify_request_id: z.string().nullable(),
    summary: z.unknown(),
    created_at: z.iso.datetime(),
    completed_at: z.iso.datetime().nullable(),
  })

  app.get(
    '/api/tenants/:id/compliance/requests',
    {
      config: { auth: 'tenant', role: 'owner' },
      schema: {
        tags: ['compliance'],
        summary: "The shop's compliance requests (data requests, redactions)",
        params: z.object({ id: z.uuid() }),
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) }),
        response: { 200: z.object({ data: z.array(requestSummary) }) },
      },
    },
    async (request) => {
      const rows = await deps.compliance.list(request.params.id, request.query.limit)
      return {
        data: rows.map((r) => ({
          id: r.id,
          topic: r.topic,
          customer_id: r.customerId,
          shopify_request_id: r.shopifyRequestId,
          summary: r.summary,
          created_at: r.createdAt.toISOString(),
          completed_at: r.completedAt?.toISOString() ?? null,
        })),
      }
    },
  )

  app.get(
    '/api/tenants/:id/compliance/requests/:requestId',
    {
      config: { auth: 'tenant', role: 'owner' },
      schema: {
        tags: ['compliance'],
        summary: 'One compliance request, with the customer data export for data requests',
        params: z.object({ id: z.uuid(), requestId: z.uuid() }),
        response: {
          200: z.object({ data: requestSummary.extend({ export: z.unknown().nullable() }) }),
        },
      },
    },
    async (request) => {
      const r = await deps.compliance.get(request.params.id, request.params.requestId)
      if (!r) throw new NotFoundError('no such compliance request')
      return {
        data: {
          id: r.id,
          topic: r.topic,
          customer_id: r.customerId,
          shopify_request_id: r.shopifyRequestId,
          summary: r.summary,
          created_at: r.createdAt.toISOString(),
          completed_at: r.completedAt?.toISOString() ?? null,
          export: r.export ?? null,
        },
      }
    },
  )
}
