import type { Database } from '@xeno/db'
import type { Logger } from '@xeno/logger'
import {
  CUSTOMERS_PAGE,
  ORDERS_PAGE,
  ORDER_LINE_ITEMS,
  PRODUCTS_PAGE,
  SHOP_QUERY,
  ShopifyAuthError,
  ShopifyTransientError,
  customerFromGraphql,
  gidToId,
  lineItemFromGraphql,
  orderFromGraphql,
  productFromGraphql,
  refundFromGraphql,
  runBulkQuery,
  countBulkRoots,
  streamJsonl,
  waitForBulkOperation,
  type Connection,
  type CustomerRow,
  type GqlCustomer,
  type GqlLineItem,
  type GqlOrder,
  type GqlProduct,
  type GqlShop,
  type LineItemRow,
  type OrderBundle,
  type OrderRow,
  type ProductRow,
  type RefundRow,
  type ShopClient,
  type ShopifyAdmin,
} from '@xeno/shopify'
import { withTenant } from '@xeno/db'
import { upsertCustomers, upsertOrders, upsertProducts } from '../store/store.repository.ts'
import { rebuildAnalyticsRollups, writeWithRollups } from '../analytics/analytics.service.ts'
import type { ShopAccessService } from '../credentials/shop-access.service.ts'
import { MissingCredentialsError } from '../credentials/shop-access.service.ts'
import {
  createSyncRepository,
  type DataResource,
  type HeldConnection,
  type SyncMode,
  type SyncResource,
} from './sync.repository.ts'

export type SyncOptions = {
  /** Re-read this much before the checkpoint (Shopify timestamps are whole seconds). */
  overlapMs: number
  /** Do not read rows newer than now − lag (writes still settling). */
  lagMs: number
  /** Page sizes of the incremental queries (orders carry line items, so fewer per page). */
  pageSize: { customers: number; products: number; orders: number }
  /** Objects per staging insert while streaming a bulk result. */
  stageBatch: number
  bulkPollMs: number
  bulkMaxPollMs: number
  /** Jobs one tenant may run at once across all workers. */
  tenantSlots: number
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = {
  overlapMs: 60_000,
  lagMs: 2_000,
  pageSize: { customers: 250, products: 250, orders: 10 },
  stageBatch: 2_000,
  bulkPollMs: 500,
  bulkMaxPollMs: 5_000,
  tenantSlots: 2,
}

export type SyncServiceDeps = {
  db: Database
  admin: ShopifyAdmin
  access: ShopAccessService
  log: Logger
  options?: Partial<SyncOptions>
  /** Resolves when a bulk_operations/finish webhook for this operation arrives (optional). */
  bulkFinished?: (operationId: string) => Promise<void>
  /** Called once when a tenant's access is revoked (remove its schedules, etc.). */
  onTenantStopped?: (tenantId: string, reason: string) => Promise<void>
  now?: () => Date
}

export type SyncOutcome =
  | {
      status: 'done'
      mode: SyncMode
      rows: number
      pages: number
      throttledMs: number
      deleted?: number
    }
  | { status: 'busy' }
  | { status: 'no-slot' }

/** The tenant cannot be synced now or later without someone acting (401, uninstalled). */
export class SyncStoppedError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SyncStoppedError'
  }
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

/**
 * Ingestion (DESIGN.md §4): bulk backfill/reconciliation and paged incremental sync per
 * (tenant, resource), single-flight and bounded per tenant, resumable at every step.
 */
export function createSyncService(deps: SyncServiceDeps) {
  const o: SyncOptions = {
    ...DEFAULT_SYNC_OPTIONS,
    ...deps.options,
    pageSize: { ...DEFAULT_SYNC_OPTIONS.pageSize, ...deps.options?.pageSize },
  }
  const repo = createSyncRepository(deps.db)
  const now = deps.now ?? (() => new Date())

  async function clientFor(tenantId: string): Promise<ShopClient> {
    const a = await deps.access.accessFor(tenantId)
    if (a.status === 'uninstalled' || a.status === 'disabled')
      throw new SyncStoppedError(`tenant is ${a.status}`)
    return deps.admin.forShop(a.shopDomain, a.accessToken)
  }

  /**
   * Runs one sync. Returns busy when the same (tenant, resource) runs elsewhere, no-slot when
   * the tenant already uses its slots (the caller re-queues later).
   */
  async function run(
    tenantId: string,
    resource: SyncResource,
    requested: SyncMode,
    ctx: { jobId?: string; signal?: AbortSignal; log?: Logger } = {},
  ): Promise<SyncOutcome> {
    const log = (ctx.log ?? deps.log).child({ tenantId, resource })
    const status = await repo.tenantStatus(tenantId)
    if (status === undefined) throw new SyncStoppedError('tenant does not exist')
    if (status === 'uninstalled' || status === 'disabled')
      throw new SyncStoppedError(`tenant is ${status}`)
    return deps.db.connection().execute(async (conn) => {
      if (!(await repo.trySingleFlight(conn, tenantId, resource)))
        return { status: 'busy' as const }
      try {
        const slot = await repo.tryTenantSlot(conn, tenantId, o.tenantSlots)
        if (slot === null) return { status: 'no-slot' as const }
        try {
          return await runLocked(
            conn,
            tenantId,
            resource,
            requested,
            ctx.jobId ?? null,
            ctx.signal,
            log,
          )
        } finally {
          await repo.releaseTenantSlot(conn, tenantId, slot).catch(() => {})
        }
      } finally {
        await repo.releaseSingleFlight(conn, tenantId, resource).catch(() => {})
      }
    })
  }

  async function runLocked(
    conn: HeldConnection,
    tenantId: string,
    resource: SyncResource,
    requested: SyncMode,
    jobId: string | null,
    signal: AbortSignal | undefined,
    log: Logger,
  ): Promise<SyncOutcome> {
    const cp = await repo.checkpoint(tenantId, resource)
    // A bulk operation in flight is resumed whatever was asked: it is the same work.
    let mode: SyncMode = requested
    if (cp.bulkOperationId && cp.bulkMode) mode = cp.bulkMode
    else if (resource !== 'shop' && mode === 'incremental' && !cp.cursorUpdatedAt) mode = 'full'
    const runId = await repo.startRun(tenantId, resource, mode, jobId)
    try {
      const client = await clientFor(tenantId)
      let out: SyncOutcome
      if (resource === 'shop') out = await syncShop(client, tenantId, runId, signal)
      else if (mode === 'incremental')
        out = await incremental(client, tenantId, resource, runId, signal, log)
      else out = await backfill(conn, client, tenantId, resource, mode, runId, signal, log)
      await repo.finishRun(tenantId, resource, runId, { status: 'succeeded' })
      log.info({ ...out }, 'sync finished')
      return out
    } catch (err) {
      const e = err as Error
      const stopped =
        err instanceof SyncStoppedError ||
        (err instanceof ShopifyAuthError && !(err instanceof MissingCredentialsError))
      await repo
        .finishRun(tenantId, resource, runId, {
          status: stopped ? 'stopped' : 'failed',
          error: e.message,
        })
        .catch(() => {})
      if (err instanceof ShopifyAuthError && !(err instanceof MissingCredentialsError)) {
        await repo.stopTenant(tenantId, `shopify access revoked: ${e.message}`)
        await deps.onTenantStopped?.(tenantId, e.message)
        throw new SyncStoppedError(`shopify access revoked: ${e.message}`)
      }
      throw err
    }
  }

  async function syncShop(
    client: ShopClient,
    tenantId: string,
    runId: string,
    signal: AbortSignal | undefined,
  ): Promise<SyncOutcome> {
    const { shop } = await client.request<{ shop: GqlShop }>(SHOP_QUERY, {}, signal)
    await repo.saveShopInfo(tenantId, {
      shopifyShopId: gidToId(shop.id),
      shopName: shop.name,
      ianaTimezone: shop.ianaTimezone,
      currency: shop.currencyCode,
      plan: shop.plan.publicDisplayName,
    })
    await withTenant(deps.db, tenantId, (trx) =>
      repo.advance(trx, tenantId, 'shop', {
        cursorUpdatedAt: null,
        cursorId: null,
        rows: 1,
        pages: 1,
        throttledMs: 0,
        runId,
      }),
    )
    return { status: 'done', mode: 'incremental', rows: 1, pages: 1, throttledMs: 0 }
  }

  async function incremental(
    client: ShopClient,
    tenantId: string,
    resource: DataResource,
    runId: string,
    signal: AbortSignal | undefined,
    log: Logger,
  ): Promise<SyncOutcome> {
    const cp = await repo.checkpoint(tenantId, resource)
    const since = new Date((cp.cursorUpdatedAt ?? new Date(0)).getTime() - o.overlapMs)
    const until = new Date(now().getTime() - o.lagMs)
    const query = `updated_at:>='${iso(since)}' AND updated_at:<='${iso(until)}'`
    const doc =
      resource === 'orders'
        ? ORDERS_PAGE
        : resource === 'customers'
          ? CUSTOMERS_PAGE
          : PRODUCTS_PAGE
    let rows = 0
    let pages = 0
    const t0 = client.stats.throttledMs
    let lastThrottled = t0
    for await (const page of client.paginate<unknown>(
      doc,
      (d) => (d as Record<string, Connection<unknown>>)[resource]!,
      { first: o.pageSize[resource], query },
      signal,
    )) {
      const nodes = page.nodes
      const last = nodes.at(-1) as { id: string; updatedAt: string } | undefined
      let written = 0
      if (resource === 'orders') {
        const bundles: OrderBundle[] = []
        for (const n of nodes as GqlOrder[]) {
          const b = orderFromGraphql(n)
          let info = n.lineItems?.pageInfo
          while (info?.hasNextPage) {
            const more = await client.request<{
              order: { lineItems: Connection<GqlLineItem> } | null
            }>(ORDER_LINE_ITEMS, { id: n.id, after: info.endCursor }, signal)
            if (!more.order) break
            b.lineItems?.push(
              ...more.order.lineItems.nodes.map((li) => lineItemFromGraphql(li, b.order.id)),
            )
            info = more.order.lineItems.pageInfo
          }
          bundles.push(b)
        }
        await withTenant(deps.db, tenantId, async (trx) => {
          const orderIds = bundles.map((b) => b.order.id)
          written = (
            await writeWithRollups(trx, tenantId, { orderIds }, () =>
              upsertOrders(trx, tenantId, bundles),
            )
          ).length
          await advance(trx)
        })
      } else {
        await withTenant(deps.db, tenantId, async (trx) => {
          written =
            resource === 'customers'
              ? await (async () => {
                  const rows = (nodes as GqlCustomer[]).map(customerFromGraphql)
                  const customerIds = rows.map((r) => r.id)
                  return (
                    await writeWithRollups(trx, tenantId, { customerIds }, () =>
                      upsertCustomers(trx, tenantId, rows),
                    )
                  ).length
                })()
              : (
                  await upsertProducts(
                    trx,
                    tenantId,
                    (nodes as GqlProduct[]).map(productFromGraphql),
                  )
                ).length
          await advance(trx)
        })
      }
      // Each page's rows and its advanced cursor commit together (above).
      async function advance(trx: Parameters<typeof repo.advance>[0]) {
        const throttled = client.stats.throttledMs - lastThrottled
        lastThrottled = client.stats.throttledMs
        await repo.advance(trx, tenantId, resource, {
          cursorUpdatedAt: last ? last.updatedAt : null,
          cursorId: last ? gidToId(last.id) : null,
          rows: written,
          pages: 1,
          throttledMs: throttled,
          runId,
        })
      }
      rows += written
      pages++
      log.debug({ pages, rows }, 'page stored')
    }
    return {
      status: 'done',
      mode: 'incremental',
      rows,
      pages,
      throttledMs: client.stats.throttledMs - t0,
    }
  }

  async function backfill(
    conn: HeldConnection,
    client: ShopClient,
    tenantId: string,
    resource: DataResource,
    mode: 'full' | 'reconcile',
    runId: string,
    signal: AbortSignal | undefined,
    log: Logger,
  ): Promise<SyncOutcome> {
    let cp = await repo.checkpoint(tenantId, resource)
    if (!cp.bulkOperationId) {
      const startedAt = now()
      // The progress denominator; a failed count only costs the percentage, not the backfill.
      const expected = await countBulkRoots(client, resource, signal).catch((err: unknown) => {
        if (signal?.aborted) throw err
        log.warn({ err }, 'could not count the roots of the bulk query')
        return null
      })
      const op = await runBulkQuery(client, resource, signal)
      // Persisted before waiting: a restarted worker resumes this very operation.
      await repo.patchCheckpoint(tenantId, resource, {
        bulkOperationId: op.id,
        bulkMode: mode,
        bulkStartedAt: startedAt,
        bulkObjectCount: '0',
        bulkRootObjectCount: '0',
        bulkExpectedCount: expected === null ? null : String(expected),
        state: 'bulk_running',
      })
      cp = await repo.checkpoint(tenantId, resource)
      log.info({ operationId: op.id }, 'bulk operation started')
    } else {
      await repo.patchCheckpoint(tenantId, resource, { state: 'bulk_running' })
      log.info({ operationId: cp.bulkOperationId }, 'bulk operation resumed')
    }
    const opId = cp.bulkOperationId!
    // Our clock: rows written before it and absent from the snapshot are deletions.
    const snapshotAt = cp.bulkStartedAt ?? now()
    const op = await waitForBulkOperation(client, opId, {
      signal,
      pollMs: o.bulkPollMs,
      maxPollMs: o.bulkMaxPollMs,
      wake: deps.bulkFinished ? () => deps.bulkFinished!(opId) : undefined,
      onProgress: async (p) => {
        if (p.objectCount !== cp.bulkObjectCount || p.rootObjectCount !== cp.bulkRootObjectCount) {
          cp.bulkObjectCount = p.objectCount
          cp.bulkRootObjectCount = p.rootObjectCount
          await repo.patchCheckpoint(tenantId, resource, {
            bulkObjectCount: p.objectCount,
            bulkRootObjectCount: p.rootObjectCount,
          })
        }
      },
    })
    if (op.status !== 'COMPLETED') {
      // A failed/expired operation is forgotten so the retry starts a fresh one.
      await repo.patchCheckpoint(tenantId, resource, {
        bulkOperationId: null,
        bulkMode: null,
        bulkStartedAt: null,
      })
      throw new ShopifyTransientError(
        `bulk operation ${op.status.toLowerCase()} (${op.errorCode ?? 'no code'})`,
      )
    }
    await repo.createStage(conn, resource)
    let staged = 0
    try {
      const t0 = performance.now()
      if (op.url) staged = await stream(conn, resource, op.url, signal)
      const t1 = performance.now()
      const merged = await repo.mergeStage(conn, tenantId, resource, {
        snapshotAt,
        // Shopify's clock: the incremental sync continues from when the snapshot was taken.
        cursorAt: new Date(Date.parse(op.createdAt)),
        runId,
        deleteMissing: true,
      })
      const t2 = performance.now()
      // A merge rewrites up to every order or customer: rebuild the analytics rollups once
      // rather than refreshing them row by row.
      if (resource === 'orders' || resource === 'customers')
        await withTenant(deps.db, tenantId, (trx) =>
          rebuildAnalyticsRollups(trx, tenantId, { statementTimeoutMs: 3_600_000 }),
        )
      const ms = (a: number, b: number) => Math.round(b - a)
      log.info(
        {
          lines: staged,
          ...merged,
          streamMs: ms(t0, t1),
          mergeMs: ms(t1, t2),
          rollupsMs: ms(t2, performance.now()),
        },
        'bulk result merged',
      )
      return {
        status: 'done',
        mode,
        rows: merged.written,
        pages: 1,
        throttledMs: client.stats.throttledMs,
        deleted: merged.deleted,
      }
    } finally {
      await repo.dropStage(conn).catch(() => {})
    }
  }

  /** Streams the JSONL into staging tables in batches; memory stays one batch large. */
  async function stream(
    conn: HeldConnection,
    resource: DataResource,
    url: string,
    signal?: AbortSignal,
  ): Promise<number> {
    let n = 0
    let customers: CustomerRow[] = []
    let products: ProductRow[] = []
    let orders: OrderRow[] = []
    let lines: LineItemRow[] = []
    let refunds: RefundRow[] = []
    // Double buffering: the next batch is parsed while Postgres stores the previous one (one
    // statement at a time on the held connection; at most two batches in memory).
    let inflight: Promise<void> = Promise.resolve()
    const flush = async () => {
      const batch = { customers, products, orders, lines, refunds }
      customers = []
      products = []
      orders = []
      lines = []
      refunds = []
      await inflight
      inflight =
        resource === 'customers'
          ? repo.stageCustomers(conn, batch.customers)
          : resource === 'products'
            ? repo.stageProducts(conn, batch.products)
            : repo.stageOrders(conn, batch.orders, batch.lines, batch.refunds)
      // Awaited by the next flush or at the end; never an unhandled rejection meanwhile.
      inflight.catch(() => {})
    }
    let pending = 0
    for await (const obj of streamJsonl(url, { signal })) {
      n++
      const parent = obj.__parentId as string | undefined
      if (resource === 'customers')
        customers.push(customerFromGraphql(obj as unknown as GqlCustomer))
      else if (resource === 'products')
        products.push(productFromGraphql(obj as unknown as GqlProduct))
      else if (parent)
        lines.push(lineItemFromGraphql(obj as unknown as GqlLineItem, gidToId(parent)))
      else {
        const node = obj as unknown as GqlOrder
        const b = orderFromGraphql(node)
        orders.push(b.order)
        refunds.push(...node.refunds.map((r) => refundFromGraphql(r, b.order.id)))
      }
      if (++pending >= o.stageBatch) {
        pending = 0
        await flush()
      }
    }
    await flush()
    await inflight
    return n
  }

  return {
    run,
    /** Per-resource state for the sync-status endpoint. */
    checkpoints: (tenantId: string) => repo.checkpoints(tenantId),
    schedulableTenants: () => repo.schedulableTenants(),
    options: o,
  }
}

export type SyncService = ReturnType<typeof createSyncService>
