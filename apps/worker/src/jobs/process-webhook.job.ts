import { UnrecoverableError } from 'bullmq'
import { JOBS } from '@xeno/queues'
import { RetryLaterError, type WebhookProcessor } from '@xeno/core'
import type { JobHandler } from '../worker.ts'

/** Applies one webhook receipt; the last failed attempt leaves it `failed` for an admin replay. */
export function processWebhookJob(deps: {
  processor: WebhookProcessor
}): JobHandler<'process-webhook'> {
  return async (payload, { job, log }) => {
    try {
      const outcome = await deps.processor.process(payload.tenantId, payload.receiptId)
      log.info({ receiptId: payload.receiptId, outcome }, 'webhook receipt applied')
      return { outcome }
    } catch (err) {
      const attempts = job.opts.attempts ?? JOBS['process-webhook'].attempts
      const final = err instanceof UnrecoverableError || job.attemptsMade + 1 >= attempts
      await deps.processor.recordFailure(payload.tenantId, payload.receiptId, err, final)
      if (err instanceof RetryLaterError) log.info({ reason: err.message }, 'webhook deferred')
      throw err
    }
  }
}
