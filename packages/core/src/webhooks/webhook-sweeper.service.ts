import type { Logger } from '@xeno/logger'
import type { Producer } from '@xeno/queues'
import type {
  AdminReceipt,
  ReceiptStatus,
  WebhookReceiptRepository,
} from './webhook-receipt.repository.ts'

export type WebhookSweeperDeps = {
  receipts: WebhookReceiptRepository
  producer: Pick<Producer, 'enqueue' | 'queueFor'>
  logger: Logger
  now?: () => Date
}

/**
 * Re-enqueues inbox receipts that were acknowledged but never reached a worker (Redis was
 * down at intake, or the job was lost). Job ids are receipt ids, so a receipt whose job still
 * waits is left alone and a failed job is retried rather than duplicated.
 */
export function createWebhookSweeper(deps: WebhookSweeperDeps) {
  const now = deps.now ?? (() => new Date())
  return {
    async sweep(olderThanMs: number, limit = 500): Promise<{ enqueued: number; retried: number }> {
      const cutoff = new Date(now().getTime() - olderThanMs)
      const stale = await deps.receipts.findUnqueued(cutoff, limit)
      let enqueued = 0
      let retried = 0
      for (const r of stale) {
        // The receipt's job waits in its tenant's webhook shard.
        const queue = deps.producer.queueFor('process-webhook', {
          tenantId: r.tenantId,
          receiptId: r.id,
        })
        const job = await queue.getJob(r.id)
        const state = job ? await job.getState() : 'missing'
        if (state === 'failed' && job) {
          await job.retry('failed')
          retried++
        } else if (state === 'missing' || state === 'completed' || state === 'unknown') {
          await deps.producer.enqueue(
            'process-webhook',
            { tenantId: r.tenantId, receiptId: r.id },
            { jobId: state === 'missing' ? r.id : `${r.id}-s${Date.now()}` },
          )
          enqueued++
        }
        await deps.receipts.markEnqueued(r.tenantId, r.id, now())
      }
      if (enqueued || retried) deps.logger.info({ enqueued, retried }, 'webhook receipts swept')
      return { enqueued, retried }
    },

    /** Admin inbox: receipts of a status across tenants, newest first (what replay picks from). */
    list(filter: { status: ReceiptStatus; limit: number; before?: Date }): Promise<AdminReceipt[]> {
      return deps.receipts.listForAdmin(filter)
    },

    /** Admin inbox: one receipt, e.g. to follow a replay to its end. */
    get(id: string): Promise<AdminReceipt | undefined> {
      return deps.receipts.getForAdmin(id)
    },

    /**
     * Retention: deletes processed and skipped receipts older than `retentionDays`, in batches
     * of `batchSize` (each its own transaction), at most `maxBatches` per run (the next run
     * goes on). A receipt's row is also what deduplicates Shopify's redeliveries, which stop
     * after 48 hours, so the retention stays above that (WEBHOOK_RETENTION_DAYS ≥ 3).
     */
    async prune(
      retentionDays: number,
      batchSize = 1000,
      maxBatches = 100,
    ): Promise<{ deleted: number; more: boolean }> {
      const cutoff = new Date(now().getTime() - retentionDays * 86_400_000)
      let deleted = 0
      for (let i = 0; i < maxBatches; i++) {
        const n = await deps.receipts.deleteFinishedBefore(cutoff, batchSize)
        deleted += n
        if (n < batchSize) {
          if (deleted) deps.logger.info({ deleted, retentionDays }, 'webhook receipts pruned')
          return { deleted, more: false }
        }
      }
      deps.logger.info({ deleted, retentionDays, more: true }, 'webhook receipts pruned')
      return { deleted, more: true }
    },

    /** Admin replay of a failed (or stuck) receipt: back to `received`, and a fresh job. */
    async replay(receiptId: string): Promise<{ tenantId: string; id: string } | undefined> {
      const r = await deps.receipts.resetForReplay(receiptId)
      if (!r) return undefined
      await deps.producer.enqueue(
        'process-webhook',
        { tenantId: r.tenantId, receiptId: r.id },
        { jobId: `${r.id}-r${Date.now()}` },
      )
      await deps.receipts.markEnqueued(r.tenantId, r.id, now())
      return r
    },
  }
}

export type WebhookSweeper = ReturnType<typeof createWebhookSweeper>
