import type { WebhookSweeper } from '@xeno/core'
import type { JobHandler } from '../worker.ts'

/** Enqueues acknowledged receipts that never reached a worker (Redis was down at intake). */
export function sweepWebhookReceiptsJob(deps: {
  sweeper: WebhookSweeper
}): JobHandler<'sweep-webhook-receipts'> {
  return async (payload) => deps.sweeper.sweep(payload.olderThanMs)
}
