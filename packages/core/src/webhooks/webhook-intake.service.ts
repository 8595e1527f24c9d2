import type { Logger } from '@xeno/logger'
import { isWebhookTopic, normalizeShopDomain, verifyWebhookHmac } from '@xeno/shopify'
import type { Producer } from '@xeno/queues'
import { ExternalServiceError, UnauthorizedError, ValidationError } from '../errors.ts'
import { createWebhookInbox, isDataError, type WebhookInbox } from './webhook-inbox.service.ts'
import type { WebhookReceiptRepository } from './webhook-receipt.repository.ts'

export type WebhookHeaders = {
  hmac: string | undefined
  topic: string | undefined
  shopDomain: string | undefined
  webhookId: string | undefined
  apiVersion: string | undefined
  eventId: string | undefined
  triggeredAt: string | undefined
}

export type IntakeResult =
  | { outcome: 'accepted'; receiptId: string; enqueued: boolean }
  | { outcome: 'duplicate'; receiptId: string }
  | { outcome: 'unknown-shop' }

export type WebhookIntakeDeps = {
  receipts: Pick<WebhookReceiptRepository, 'insertMany'>
  producer: Pick<Producer, 'enqueueBulk'>
  /**
   * The group-commit inbox receipts go through; the composition root passes its own (to close
   * it on shutdown). Built from receipts and producer when absent.
   */
  inbox?: WebhookInbox
  /** The app's client secret, then any previous one still accepted during rotation. */
  secrets: readonly string[]
  findTenantByShop: (shopDomain: string) => Promise<{ id: string; status: string } | undefined>
  logger: Logger
  /** How long a shop → tenant answer is reused (default 30 s; unknown shops 5 s). */
  tenantCacheMs?: number
}

const REQUIRED = ['hmac', 'topic', 'shopDomain', 'webhookId'] as const

// Shopify's HMAC covers the body only: the topic, shop and webhook id headers are not signed. A
// captured compliance body could be re-sent under another topic (a customers/redact body on
// shop/redact) or another shop's header; for the destructive compliance topics the signed body
// must therefore agree with the headers; so must app/uninstalled (it destroys the credentials),
// whose body names the shop in myshopify_domain. Other topics are not parsed here (Postgres
// does it).
const COMPLIANCE_SHAPE: Record<string, { needs: string[]; forbids: string[] }> = {
  'app/uninstalled': { needs: [], forbids: [] },
  'shop/redact': {
    needs: [],
    forbids: ['customer', 'orders_to_redact', 'orders_requested', 'data_request'],
  },
  'customers/redact': { needs: ['customer'], forbids: ['data_request', 'orders_requested'] },
  'customers/data_request': { needs: ['customer', 'data_request'], forbids: ['orders_to_redact'] },
}

/** Why a signed compliance body contradicts its headers, or null when it does not. */
function complianceMismatch(topic: string, body: Buffer, shop: string | null): string | null {
  const shape = COMPLIANCE_SHAPE[topic]
  if (!shape) return null
  let p: unknown
  try {
    p = JSON.parse(body.toString('utf8'))
  } catch {
    return 'body is not valid JSON'
  }
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'body is not an object'
  const o = p as Record<string, unknown>
  for (const k of shape.needs) if (!(k in o)) return `${k} missing for ${topic}`
  for (const k of shape.forbids) if (k in o) return `${k} is not part of ${topic}`
  // Documentation samples carry a "{shop}" placeholder; a real delivery names a real shop.
  const key = topic === 'app/uninstalled' ? 'myshopify_domain' : 'shop_domain'
  const value = o[key]
  const named = typeof value === 'string' ? normalizeShopDomain(value) : null
  if (named && named !== shop) return `${key} of the body is not X-Shopify-Shop-Domain`
  return null
}

/**
 * Webhook intake, kept fast: verify the HMAC over the raw bytes → resolve the tenant → insert
 * into the inbox (duplicates do nothing more) → enqueue a job carrying the receipt id. Once the
 * receipt is committed the webhook is acknowledged even when Redis is down: the sweeper enqueues
 * receipts left unqueued. Concurrent deliveries share one transaction and one enqueue
 * (webhook-inbox.service.ts).
 */
export function createWebhookIntakeService(deps: WebhookIntakeDeps) {
  const inbox =
    deps.inbox ??
    createWebhookInbox({ receipts: deps.receipts, producer: deps.producer, logger: deps.logger })
  const ttl = deps.tenantCacheMs ?? 30_000
  // Shopify sends bursts per shop; the tenant of a shop changes only at install/uninstall, and
  // a stale answer only means a receipt lands for a tenant that is just being uninstalled.
  const tenants = new Map<string, { value: { id: string } | undefined; until: number }>()
  async function tenantOf(shop: string): Promise<{ id: string } | undefined> {
    const hit = tenants.get(shop)
    if (hit && hit.until > Date.now()) return hit.value
    let value
    try {
      value = await deps.findTenantByShop(shop)
    } catch (err) {
      // Postgres down: 503, so Shopify retries the delivery later.
      deps.logger.error(
        { err: { message: (err as Error).message } },
        'webhook tenant lookup failed',
      )
      throw new ExternalServiceError('postgres', 'cannot store the webhook now; retry later')
    }
    if (tenants.size > 10_000) tenants.clear()
    tenants.set(shop, { value, until: Date.now() + (value ? ttl : Math.min(ttl, 5_000)) })
    return value
  }
  return {
    async receive(
      pathTopic: string,
      headers: WebhookHeaders,
      body: Buffer,
      requestId?: string,
    ): Promise<IntakeResult> {
      const missing = REQUIRED.filter((h) => !headers[h])
      if (missing.length)
        throw new UnauthorizedError(
          `missing webhook headers: ${missing.join(', ')}`,
          'INVALID_WEBHOOK',
        )
      if (body.length === 0) throw new UnauthorizedError('empty webhook body', 'INVALID_WEBHOOK')
      if (!verifyWebhookHmac(body, headers.hmac, deps.secrets))
        throw new UnauthorizedError('webhook signature does not match', 'INVALID_WEBHOOK')
      // Signed by Shopify from here on.
      if (headers.topic !== pathTopic)
        throw new ValidationError('X-Shopify-Topic does not match the path', [
          { field: 'headers.x-shopify-topic', message: `expected ${pathTopic}` },
        ])
      if (!isWebhookTopic(pathTopic))
        throw new ValidationError(`unsupported topic ${pathTopic}`, [
          { field: 'topic', message: 'unsupported' },
        ])
      const shop = normalizeShopDomain(headers.shopDomain ?? '')
      const mismatch = complianceMismatch(pathTopic, body, shop)
      if (mismatch)
        throw new ValidationError(`webhook body does not match its headers: ${mismatch}`, [
          { field: 'body', message: mismatch },
        ])
      const tenant = shop ? await tenantOf(shop) : undefined
      if (!tenant) {
        deps.logger.warn(
          { shop: headers.shopDomain, topic: pathTopic, webhookId: headers.webhookId },
          'webhook for unknown shop ignored',
        )
        return { outcome: 'unknown-shop' }
      }
      const text = body.toString('utf8')
      const triggered = headers.triggeredAt ? new Date(headers.triggeredAt) : null
      let receipt
      try {
        receipt = await inbox.submit(
          {
            tenantId: tenant.id,
            webhookId: headers.webhookId!.slice(0, 255),
            eventId: headers.eventId?.slice(0, 255) ?? null,
            topic: pathTopic,
            apiVersion: headers.apiVersion?.slice(0, 32) ?? null,
            triggeredAt: triggered && !Number.isNaN(triggered.getTime()) ? triggered : null,
            payloadText: text,
          },
          requestId,
        )
      } catch (err) {
        // A value Postgres refuses in this delivery's own row (a body that is not JSON, a raw NUL
        // byte no text can hold) is the sender's fault, not an outage: the inbox refused only
        // this delivery. The one non-body value that can overflow is the triggered-at time.
        if (isDataError(err)) {
          const field =
            (err as { code?: string }).code === '22008' ? 'headers.x-shopify-triggered-at' : 'body'
          throw new ValidationError(
            field === 'body'
              ? 'webhook body is not valid JSON'
              : 'X-Shopify-Triggered-At is out of range',
            [{ field, message: field === 'body' ? 'invalid JSON' : 'out of range' }],
          )
        }
        deps.logger.error(
          { err: { message: (err as Error).message } },
          'webhook inbox insert failed',
        )
        throw new ExternalServiceError('postgres', 'cannot store the webhook now; retry later')
      }
      if (!receipt.created) return { outcome: 'duplicate', receiptId: receipt.id }
      return { outcome: 'accepted', receiptId: receipt.id, enqueued: receipt.enqueued }
    },
  }
}

export type WebhookIntakeService = ReturnType<typeof createWebhookIntakeService>
