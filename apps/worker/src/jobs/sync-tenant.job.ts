import type { SyncScheduler } from '@xeno/core'
import type { JobHandler } from '../worker.ts'

/** A schedule tick or trigger for a whole tenant: one deduplicated job per resource. */
export function syncTenantJob(deps: { scheduler: SyncScheduler }): JobHandler<'sync-tenant'> {
  return async (payload) => {
    const jobs = await deps.scheduler.enqueueTenant(
      payload.tenantId,
      payload.mode,
      payload.resources,
      payload.requestId,
    )
    return { jobs }
  }
}
