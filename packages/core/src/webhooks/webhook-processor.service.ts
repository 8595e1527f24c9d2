import { withTenant, type Database, type Tx } from '@xeno/db'
import type { Logger } from '@xeno/logger'
import {
  customerFromRest,
  gidToId,
  orderFromRest,
  parseShopifyJson,
  productFromRest,
  refundFromRest,
} from '@xeno/shopify'
import {
  markDeleted,
  upsertCustomers,
  upsertOrders,
  upsertProducts,
  upsertRefunds,
} from '../store/store.repository.ts'
import type { ComplianceRepository, ComplianceTopic } from './compliance.repository.ts'
import type { Receipt, WebhookReceiptRepository } from './webhook-receipt.repository.ts'
import { markTenantUninstalled, orderExists, tenantStatus } from './uninstall.repository.ts'
import { writeWithRollups } from '../analytics/analytics.service.ts'

type Json = Record<string, unknown>

/** A scalar payload field as text (ids arrive as strings from parseShopifyJson). */
const text = (v: unknown): string | null =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? String(v) : null

export type ProcessOutcome = 'processed' | 'skipped' | 'already-done' | 'missing'

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
  ): Promise<{ status: 'processed' | 'skipped'; after?: () => Promise<void> }> {
    const tenantId = r.tenantId
    const at = r.triggeredAt ?? new Date()
    switch (r.topic) {
      case 'orders/create':
      case 'orders/updated':
      case 'orders/cancelled':
      case 'orders/paid': {
        const bundle = orderFromRest(p)
        await writeWithRollups(trx, tenantId, { orderIds: [bundle.order.id] }, () =>
          upsertOrders(trx, tenantId, [bundle]),
        )
        return { status: 'processed' }
      }
      case 'orders/delete': {
        const id = gidToId(p.id as string)
        await writeWithRollups(trx, tenantId, { orderIds: [id] }, () =>
          markDeleted(trx, tenantId, 'orders', [id], at),
        )
        return { status: 'processed' }
      }
      case 'refunds/create': {
        const refund = refundFromRest(p)
        if (!(await orderExists(trx, tenantId, refund.orderId)))
          throw new RetryLaterError(
            `order ${refund.orderId} of refund ${refund.id} is not stored yet`,
          )
        await writeWithRollups(trx, tenantId, { orderIds: [refund.orderId] }, () =>
          upsertRefunds(trx, tenantId, [refund]),
        )
        return { status: 'processed' }
      }
      case 'customers/create':
      case 'customers/update': {
        const customer = customerFromRest(p)
        await writeWithRollups(trx, tenantId, { customerIds: [customer.id] }, () =>
          upsertCustomers(trx, tenantId, [customer]),
        )
        return { status: 'processed' }
      }
      case 'customers/delete': {
        const id = gidToId(p.id as string)
        await writeWithRollups(trx, tenantId, { customerIds: [id] }, () =>
          markDeleted(trx, tenantId, 'customers', [id], at),
        )
        return { status: 'processed' }
      }
      case 'products/create':
      case 'products/update':
        await upsertProducts(trx, tenantId, [productFromRest(p)])
        return { status: 'processed' }
      case 'products/delete':
        await markDeleted(trx, tenantId, 'products', [gidToId(p.id as string)], at)
        return { status: 'processed' }
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

  return {
    async process(tenantId: string, receiptId: string): Promise<ProcessOutcome> {
      let after: (() => Promise<void>) | undefined
      const outcome = await withTenant(deps.db, tenantId, async (trx): Promise<ProcessOutcome> => {
        const r = await deps.receipts.lockForProcessing(trx, tenantId, receiptId)
        if (!r) return 'missing'
        if (r.status !== 'received') return 'already-done'
        const payload = parseShopifyJson(r.payloadText) as Json
        const result = await apply(trx, r, payload)
        after = result.after
        await deps.receipts.finish(trx, tenantId, receiptId, result.status, new Date())
        return result.status
      })
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
