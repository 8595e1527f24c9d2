import { DelayedError, UnrecoverableError } from 'bullmq'
import { ShopifyError } from '@xeno/shopify'
import { SyncStoppedError, type SyncScheduler, type SyncService } from '@xeno/core'
import type { JobHandler } from '../worker.ts'

/**
 * Runs one (tenant, resource) sync. When the same pair already runs (single flight) an
 * incremental request is absorbed; a full/reconcile request, or any job of a tenant that
 * already uses its slots, goes back to the delayed set for a few seconds without spending an
 * attempt, so the worker slot serves other tenants meanwhile.
 */
export function syncResourceJob(deps: {
  sync: SyncService
  scheduler: SyncScheduler
}): JobHandler<'sync-resource'> {
  return async (payload, { job, log, signal }) => {
    let out
    try {
      out = await deps.sync.run(payload.tenantId, payload.resource, payload.mode, {
        jobId: job.id,
        signal,
        log,
      })
    } catch (err) {
      if (err instanceof SyncStoppedError || (err instanceof ShopifyError && !err.retryable))
        throw new UnrecoverableError(err.message)
      throw err
    }
    if (out.status === 'busy' && payload.mode === 'incremental') {
      log.info('same resource already syncing; absorbed')
      return { absorbed: true }
    }
    if (out.status === 'busy' || out.status === 'no-slot') {
      await job.moveToDelayed(Date.now() + 1_000 + Math.floor(Math.random() * 2_000), job.token)
      throw new DelayedError()
    }
    await deps.scheduler
      .ensure(payload.tenantId)
      .catch((err: Error) =>
        log.warn({ err: { message: err.message } }, 'could not ensure schedules'),
      )
    return out
  }
}
