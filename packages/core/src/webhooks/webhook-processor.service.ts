import { withTenant, type Database, type Tx } from '@xeno/db'
import type { Logger } from '@xeno/logger'
import {
  ShopifyAuthError,
  ShopifyShopUnavailableError,
  checkWebhookPayload,
  customerFromGraphql,
  gidToId,
  isWebhookTopic,
  parseShopifyJson,
  productFromGraphql,
} from '@xeno/shopify'
import {
  markDeleted,
  upsertCustomers,
  upsertOrders,
  upsertProducts,
} from '../store/store.repository.ts'
import type { ReadbackKind, ShopReadback } from './shop-readback.service.ts'
import type { ComplianceRepository, ComplianceTopic } from './compliance.repository.ts'
import type { GqlCustomer, GqlProduct, OrderBundle } from '@xeno/shopify'
import type { Receipt, WebhookReceiptRepository } from './webhook-receipt.repository.ts'
import { liveRowExists, markTenantUninstalled, tenantStatus } from './uninstall.repository.ts'
import { writeWithRollups } from '../analytics/analytics.service.ts'

type Json = Record<string, unknown>

/** A scalar payload field as text (ids arrive as strings from parseShopifyJson). */
const text = (v: unknown): string | null =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? String(v) : null

export type ProcessOutcome = 'processed' | 'skipped' | 'already-done' | 'missing' | 'rejected'

/**
 * Data topics: which object the body names (its kind and numeric id). The body itself is never
 * stored: it is a signal to read that object back from the header shop (shop-readback).
 */
const SIGNAL: Record<string, { kind: ReadbackKind; idOf: (p: Json) => unknown }> = {
  'orders/create': { kind: 'Order', idOf: (p) => p.id },
  'orders/updated': { kind: 'Order', idOf: (p) => p.id },
  'orders/cancelled': { kind: 'Order', idOf: (p) => p.id },
  'orders/paid': { kind: 'Order', idOf: (p) => p.id },
  'orders/delete': { kind: 'Order', idOf: (p) => p.id },
  // A refund is part of its order: the order read back carries every refund.
  'refunds/create': { kind: 'Order', idOf: (p) => p.order_id },
  'customers/create': { kind: 'Customer', idOf: (p) => p.id },
  'customers/update': { kind: 'Customer', idOf: (p) => p.id },
  'customers/delete': { kind: 'Customer', idOf: (p) => p.id },
  'products/create': { kind: 'Product', idOf: (p) => p.id },
  'products/update': { kind: 'Product', idOf: (p) => p.id },
  'products/delete': { kind: 'Product', idOf: (p) => p.id },
}
const DELETE_TABLE: Record<string, 'orders' | 'customers' | 'products'> = {
  'orders/delete': 'orders',
  'customers/delete': 'customers',
  'products/delete': 'products',
}
const gidOf = (kind: ReadbackKind, id: unknown) => `gid://shopify/${kind}/${String(id)}`

/** A failure that retrying later can fix (e.g. a refund that overtook its order). */
export class RetryLaterError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RetryLaterError'
  }
}

export type WebhookProcessorDeps = {
  db: Database
  receipts: WebhookReceiptRepository
  compliance: ComplianceRepository
  /** Reads a data topic's object back from the header shop's Admin API. */
  readback: Pick<ShopReadback, 'read'>
  logger: Logger
  /** After app/uninstalled committed: remove the tenant's schedules and queued work. */
  afterUninstall?: (tenantId: string) => Promise<void>
  /** bulk_operations/finish: wake the backfill waiting on this operation. */
  onBulkFinished?: (tenantId: string, bulkOperationGid: string, status: string) => Promise<void>
}

/**
 * Applies one inbox receipt: normalises the REST-shaped payload with the same code as the sync,
 * upserts with the updated_at guard, and marks the receipt processed — one transaction, so a
 * receipt's effect is applied exactly once however often its job runs.
 */
export function createWebhookProcessor(deps: WebhookProcessorDeps) {
  async function apply(
    trx: Tx,
    r: Receipt,
    p: Json,
    current: unknown,
  ): Promise<{ status: 'processed' | 'skipped'; after?: () => Promise<void> }> {
    const tenantId = r.tenantId
    const at = r.triggeredAt ?? new Date()
    switch (r.topic) {
      case 'orders/create':
      case 'orders/updated':
      case 'orders/cancelled':
      case 'orders/paid':
      case 'refunds/create': {
        // Not an order of this shop (a replayed body of another shop), or deleted since.
        if (!current) return { status: 'skipped' }
        const bundle = current as OrderBundle
        await writeWithRollups(trx, tenantId, { orderIds: [bundle.order.id] }, () =>
          upsertOrders(trx, tenantId, [bundle]),
        )
        return { status: 'processed' }
      }
      case 'customers/create':
      case 'customers/update': {
        if (!current) return { status: 'skipped' }
        const customer = customerFromGraphql(current as GqlCustomer)
        await writeWithRollups(trx, tenantId, { customerIds: [customer.id] }, () =>
          upsertCustomers(trx, tenantId, [customer]),
        )
        return { status: 'processed' }
      }
      case 'products/create':
      case 'products/update':
        if (!current) return { status: 'skipped' }
        await upsertProducts(trx, tenantId, [productFromGraphql(current as GqlProduct)])
        return { status: 'processed' }
      // A delete is applied only when the shop no longer has the object (a replayed delete of an
      // object the shop still has changes nothing) and to a row the tenant holds (an id of
      // another shop leaves no trace).
      case 'orders/delete':
      case 'customers/delete':
      case 'products/delete': {
        const table = DELETE_TABLE[r.topic]!
        const id = gidToId(p.id as string)
        if (current || !(await liveRowExists(trx, tenantId, table, id)))
          return { status: 'skipped' }
        if (table === 'products') await markDeleted(trx, tenantId, table, [id], at)
        else
          await writeWithRollups(
            trx,
            tenantId,
            table === 'orders' ? { orderIds: [id] } : { customerIds: [id] },
            () => markDeleted(trx, tenantId, table, [id], at),
          )
        return { status: 'processed' }
      }
      case 'app/uninstalled':
        await markTenantUninstalled(trx, tenantId, at)
        return {
          status: 'processed',
          after: () => deps.afterUninstall?.(tenantId) ?? Promise.resolve(),
        }
      case 'bulk_operations/finish': {
        const gid = text(p.admin_graphql_api_id) ?? ''
        const status = text(p.status) ?? ''
        return {
          status: deps.onBulkFinished ? 'processed' : 'skipped',
          after: () => deps.onBulkFinished?.(tenantId, gid, status) ?? Promise.resolve(),
        }
      }
      case 'customers/data_request':
      case 'customers/redact':
      case 'shop/redact':
        // Shopify sends shop/redact 48 h after an uninstall and never after a reinstall (FACTS.md
        // §4): one for a tenant that is not uninstalled is a replay (the webhook id is not
        // signed) of an old delivery, and must not delete a live shop.
        if (r.topic === 'shop/redact' && (await tenantStatus(trx, tenantId)) !== 'uninstalled') {
          deps.logger.warn(
            { tenantId, receiptId: r.id },
            'shop/redact for a tenant that is not uninstalled ignored',
          )
          return { status: 'skipped' }
        }
        await applyCompliance(trx, r, r.topic, p)
        return { status: 'processed' }
      default:
        return { status: 'skipped' }
    }
  }

  async function applyCompliance(trx: Tx, r: Receipt, topic: ComplianceTopic, p: Json) {
    const customer = (p.customer ?? null) as Json | null
    const customerId = text(customer?.id)
    const orderIds = ((p.orders_requested ?? p.orders_to_redact ?? []) as unknown[])
      .map(text)
      .filter((v): v is string => v !== null)
    const request = (p.data_request ?? null) as Json | null
    const rec = await deps.compliance.record(trx, {
      tenantId: r.tenantId,
      webhookId: r.webhookId,
      topic,
      shopDomain: text(p.shop_domain) ?? '',
      customerId,
      shopifyRequestId: text(request?.id),
    })
    if (!rec.created) return
    if (topic === 'customers/data_request') {
      const exported = customerId
        ? await deps.compliance.exportCustomer(trx, r.tenantId, customerId, orderIds)
        : { customer: null, orders: [], events: [] }
      await deps.compliance.complete(
        trx,
        r.tenantId,
        rec.id,
        { orders: exported.orders.length, events: exported.events.length },
        exported,
      )
    } else if (topic === 'customers/redact') {
      const counts = customerId
        ? await deps.compliance.redactCustomer(trx, r.tenantId, customerId, orderIds, new Date())
        : { customers: 0, orders: 0, events: 0 }
      await deps.compliance.complete(trx, r.tenantId, rec.id, counts)
    } else {
      const tenants = await deps.compliance.deleteTenantData(trx, r.tenantId)
      await deps.compliance.complete(trx, r.tenantId, rec.id, { tenantsDeleted: tenants })
    }
  }

  /** The header shop's current version of a data topic's object (undefined: not a data topic). */
  async function readBack(r: Receipt, p: Json): Promise<{ current: unknown } | 'no-access'> {
    const signal = SIGNAL[r.topic]
    if (!signal) return { current: undefined }
    const gid = gidOf(signal.kind, signal.idOf(p))
    try {
      const m = await deps.readback.read(r.tenantId, signal.kind, [gid])
      return { current: m.get(gid) ?? null }
    } catch (err) {
      // No token any more (uninstalled, or the shop closed): nothing of this shop can be read,
      // and nothing it sends can be verified; later syncs start from a full read anyway.
      if (err instanceof ShopifyAuthError || err instanceof ShopifyShopUnavailableError)
        return 'no-access'
      throw err
    }
  }

  return {
    async process(tenantId: string, receiptId: string): Promise<ProcessOutcome> {
      // Read the receipt and the shop's objects before the transaction: no row lock is held
      // across an Admin API call. The transaction re-checks the status under its lock.
      const seen = await deps.receipts.peek(tenantId, receiptId)
      if (!seen) return 'missing'
      if (seen.status !== 'received') return 'already-done'
      const payload = parseShopifyJson(seen.payloadText) as Json
      const check = isWebhookTopic(seen.topic)
        ? checkWebhookPayload(seen.topic, payload)
        : { ok: false as const, field: 'topic', message: `unsupported topic ${seen.topic}` }
      const read = check.ok ? await readBack(seen, payload) : undefined

      let after: (() => Promise<void>) | undefined
      const outcome = await withTenant(deps.db, tenantId, async (trx): Promise<ProcessOutcome> => {
        const r = await deps.receipts.lockForProcessing(trx, tenantId, receiptId)
        if (!r) return 'missing'
        if (r.status !== 'received') return 'already-done'
        const now = new Date()
        if (!check.ok) {
          // A body that is not its topic's shape never becomes one: failed at once, naming the
          // field, for an admin to look at (a replay would fail the same way).
          await deps.receipts.finish(
            trx,
            tenantId,
            receiptId,
            'failed',
            now,
            `${check.field}: ${check.message}`,
          )
          return 'rejected'
        }
        if (read === 'no-access') {
          await deps.receipts.finish(
            trx,
            tenantId,
            receiptId,
            'skipped',
            now,
            'no Admin API access to read the object back',
          )
          return 'skipped'
        }
        const result = await apply(trx, r, payload, read?.current)
        after = result.after
        await deps.receipts.finish(trx, tenantId, receiptId, result.status, now)
        return result.status
      })
      if (outcome === 'rejected')
        deps.logger.warn(
          { tenantId, receiptId, topic: seen.topic, field: check.ok ? undefined : check.field },
          "webhook body is not its topic's shape",
        )
      if (after) await after()
      return outcome
    },
    /** Records a failed attempt; the last one leaves the receipt `failed`, replayable by an admin. */
    async recordFailure(tenantId: string, receiptId: string, err: unknown, final: boolean) {
      await deps.receipts.recordAttemptError(
        tenantId,
        receiptId,
        (err as Error).message ?? String(err),
        final,
      )
      deps.logger.warn(
        { tenantId, receiptId, final, err: { message: (err as Error).message } },
        'webhook processing failed',
      )
    },
  }
}

export type WebhookProcessor = ReturnType<typeof createWebhookProcessor>
