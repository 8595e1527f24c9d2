import type { Database } from '@xeno/db'
import { RESOURCES, type Resource } from '@xeno/queues'
import { bulkPercent } from '@xeno/shopify'
import { ConflictError, NotFoundError } from '../errors.ts'
import type { SyncScheduler } from './sync-scheduler.ts'
import { createSyncRepository, type Checkpoint } from './sync.repository.ts'

export type ResourceStatus = {
  resource: Resource
  state: string
  rowsSynced: number
  pages: number
  /** The running bulk operation, or the last one (`running` false), or null when none ran. */
  bulk: {
    operationId: string | null
    running: boolean
    mode: string | null
    objectCount: number
    rootObjectCount: number
    expectedCount: number | null
    /** rootObjectCount of expectedCount (one decimal); null when Shopify gave no exact count. */
    percent: number | null
  } | null
  lastSuccessAt: Date | null
  /** How far the synced data trails now (null before the first sync). */
  lagSeconds: number | null
  throttledMs: number
  lastError: string | null
  lastErrorAt: Date | null
  nextRunAt: Date | null
  /** Something the operator should know (the shop's time zone unknown here), or null. */
  warning: string | null
}

/** True when Node's ICU can format dates in the zone. */
function intlKnows(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

function bulkStatus(cp: Checkpoint): NonNullable<ResourceStatus['bulk']> {
  const roots = Number(cp.bulkRootObjectCount ?? 0)
  const expected = cp.bulkExpectedCount === null ? null : Number(cp.bulkExpectedCount)
  return {
    operationId: cp.bulkOperationId,
    running: cp.bulkOperationId !== null,
    mode: cp.bulkMode,
    objectCount: Number(cp.bulkObjectCount ?? 0),
    rootObjectCount: roots,
    expectedCount: expected,
    percent: bulkPercent(roots, expected),
  }
}

/** What the API needs of ingestion: trigger (enqueue only) and per-resource status. */
export function createIngestService(deps: {
  db: Database
  scheduler: SyncScheduler
  now?: () => Date
}) {
  const repo = createSyncRepository(deps.db)
  const now = deps.now ?? (() => new Date())

  async function requireTenant(tenantId: string): Promise<string> {
    const status = await repo.tenantStatus(tenantId)
    if (status === undefined) throw new NotFoundError('tenant not found')
    return status
  }

  return {
    /** Enqueues and returns at once; a resource already queued or running absorbs the trigger. */
    async trigger(
      tenantId: string,
      input: { resources?: Resource[]; mode?: 'incremental' | 'full' },
      requestId?: string,
    ) {
      const status = await requireTenant(tenantId)
      if (status === 'uninstalled' || status === 'disabled')
        throw new ConflictError(`tenant is ${status}; reconnect the shop first`, 'TENANT_STOPPED')
      const mode = input.mode ?? 'incremental'
      const resources = input.resources?.length ? [...new Set(input.resources)] : [...RESOURCES]
      const jobs = await deps.scheduler.enqueueTenant(tenantId, mode, resources, requestId)
      return { mode, jobs }
    },

    async status(tenantId: string): Promise<ResourceStatus[]> {
      await requireTenant(tenantId)
      const [cps, next, zone] = await Promise.all([
        repo.checkpoints(tenantId),
        deps.scheduler.next(tenantId).catch(() => ({ incremental: null, reconcile: null })),
        repo.shopZone(tenantId),
      ])
      const zoneWarning =
        zone && !(zone.known && intlKnows(zone.zone))
          ? `the shop's time zone ${JSON.stringify(zone.zone)} is unknown to this server's time zone database; analytics are computed in UTC`
          : null
      const nextRun =
        [next.incremental, next.reconcile]
          .filter((d): d is Date => d !== null)
          .sort((a, b) => a.getTime() - b.getTime())[0] ?? null
      return RESOURCES.map((resource) => {
        const cp = cps.find((c) => c.resource === resource)
        const cursor = cp?.cursorUpdatedAt ?? (resource === 'shop' ? cp?.lastSuccessAt : null)
        return {
          resource,
          state: cp?.state ?? 'never',
          rowsSynced: Number(cp?.rowsSynced ?? 0),
          pages: cp?.pages ?? 0,
          bulk: cp && (cp.bulkOperationId || cp.bulkObjectCount !== null) ? bulkStatus(cp) : null,
          lastSuccessAt: cp?.lastSuccessAt ?? null,
          lagSeconds: cursor
            ? Math.max(0, Math.round((now().getTime() - cursor.getTime()) / 1000))
            : null,
          throttledMs: Number(cp?.throttledMs ?? 0),
          lastError: cp?.lastError ?? null,
          lastErrorAt: cp?.lastErrorAt ?? null,
          nextRunAt: nextRun,
          warning: resource === 'shop' ? zoneWarning : null,
        }
      })
    },
  }
}

export type IngestService = ReturnType<typeof createIngestService>
