import type { WebhookSweeper } from '@xeno/core'
import type { JobHandler } from '../worker.ts'

/** Deletes processed inbox receipts older than the retention (WEBHOOK_RETENTION_DAYS). */
export function pruneWebhookReceiptsJob(deps: {
  sweeper: WebhookSweeper
}): JobHandler<'prune-webhook-receipts'> {
  return async (payload) => deps.sweeper.prune(payload.retentionDays, payload.batchSize)
}
