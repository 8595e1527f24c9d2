import type { Logger } from '@xeno/logger'
import {
  checkWebhookPayload,
  isWebhookTopic,
  normalizeShopDomain,
  parseShopifyJson,
  verifyWebhookHmac,
  type WebhookTopic,
} from '@xeno/shopify'
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
  findTenantByShop: (
    shopDomain: string,
  ) => Promise<{ id: string; status: string; shopifyShopId?: string | null } | undefined>
  logger: Logger
  /** How long a shop → tenant answer is reused (default 30 s; unknown shops 5 s). */
  tenantCacheMs?: number
}

const REQUIRED = ['hmac', 'topic', 'shopDomain', 'webhookId'] as const

type Tenant = { id: string; shopifyShopId?: string | null }

// Shopify's HMAC covers the body only: the topic, shop and webhook id headers are not signed, so
// a captured body of one shop can be re-sent with any installed shop's headers. The topics that
// destroy (app/uninstalled, shop/redact, customers/redact) or export (customers/data_request)
// act on what the body names, so their body must prove it is the header shop's own: it must
// have its topic's shape and name that shop by domain *and* by Shopify shop id. These bodies are
// small and rare, so they are checked here and refused with a 400 before anything is stored.
// Data topics are not parsed on this hot path: their body is only a signal, and the worker
// stores what the header shop's own Admin API returns for its ids (shop-readback.service.ts).
const OWNERSHIP: Partial<Record<WebhookTopic, { domain: string; shopId: string }>> = {
  'app/uninstalled': { domain: 'myshopify_domain', shopId: 'id' },
  'shop/redact': { domain: 'shop_domain', shopId: 'shop_id' },
  'customers/redact': { domain: 'shop_domain', shopId: 'shop_id' },
  'customers/data_request': { domain: 'shop_domain', shopId: 'shop_id' },
}

/** Why a destructive topic's body is not the header shop's own, or null when it is. */
function ownershipProblem(
  topic: WebhookTopic,
  body: Buffer,
  shop: string | null,
  tenant: Tenant | undefined,
): { field: string; message: string } | null {
  const keys = OWNERSHIP[topic]
  if (!keys) return null
  let parsed: unknown
  try {
    parsed = parseShopifyJson(body.toString('utf8'))
  } catch {
    return { field: 'body', message: 'invalid JSON' }
  }
  const check = checkWebhookPayload(topic, parsed)
  if (!check.ok) return { field: check.field, message: check.message }
  const o = check.payload as Record<string, unknown>
  const named =
    typeof o[keys.domain] === 'string' ? normalizeShopDomain(o[keys.domain] as string) : null
  if (!named || named !== shop)
    return { field: `body.${keys.domain}`, message: 'must name X-Shopify-Shop-Domain' }
  // Unknown shops are acknowledged and dropped below; the shop id of a known one must match.
  // A tenant whose shop id is not stored yet (installed before it was recorded; the next shop
  // sync records it) is held to the domain alone.
  if (tenant?.shopifyShopId && String(o[keys.shopId]) !== tenant.shopifyShopId)
    return { field: `body.${keys.shopId}`, message: "is not the shop's Shopify id" }
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
  const tenants = new Map<string, { value: Tenant | undefined; until: number }>()
  async function tenantOf(shop: string): Promise<Tenant | undefined> {
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
      const tenant = shop ? await tenantOf(shop) : undefined
      const problem = ownershipProblem(pathTopic, body, shop, tenant)
      if (problem)
        throw new ValidationError(
          `webhook body is not a ${pathTopic} of X-Shopify-Shop-Domain: ${problem.field} ${problem.message}`,
          [problem],
        )
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
