import { QUEUES, type Producer } from '@xeno/queues'

/** Removes a tenant's not-yet-started sync jobs (app/uninstalled): nothing more calls Shopify. */
export async function removeQueuedTenantJobs(
  producer: Pick<Producer, 'queue'>,
  tenantId: string,
): Promise<number> {
  const queue = producer.queue(QUEUES.sync)
  const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized', 'waiting-children'])
  let removed = 0
  for (const job of jobs) {
    if ((job.data as { tenantId?: string } | undefined)?.tenantId !== tenantId) continue
    // A job that became active meanwhile keeps its lock; it stops on its own (no credentials).
    await job.remove().then(
      () => removed++,
      () => undefined,
    )
  }
  return removed
}
