import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { from as copyFrom } from 'pg-copy-streams'
import {
  rawClientOf,
  sql,
  tenantContext,
  withSystem,
  withTenant,
  type Database,
  type RawClient,
  type Tx,
} from '@xeno/db'
import type { CustomerRow, LineItemRow, OrderRow, ProductRow, RefundRow } from '@xeno/shopify'
import {
  CUSTOMER_COLUMNS,
  CUSTOMER_UPDATE,
  GUARD,
  LINE_ITEM_COLUMNS,
  ORDER_COLUMNS,
  ORDER_UPDATE,
  PRODUCT_COLUMNS,
  PRODUCT_UPDATE,
  REFUND_COLUMNS,
} from '../store/store.repository.ts'
import {
  CUSTOMER_COPY_COLUMNS,
  LINE_ITEM_COPY_COLUMNS,
  ORDER_COPY_COLUMNS,
  PRODUCT_COPY_COLUMNS,
  REFUND_COPY_COLUMNS,
  customerLine,
  lineItemLine,
  orderLine,
  productLine,
  refundLine,
} from './copy-text.ts'

export type SyncResource = 'shop' | 'customers' | 'products' | 'orders'
export type DataResource = Exclude<SyncResource, 'shop'>
export type SyncMode = 'incremental' | 'full' | 'reconcile'

export type Checkpoint = {
  resource: SyncResource
  cursorUpdatedAt: Date | null
  cursorId: string | null
  bulkOperationId: string | null
  bulkObjectCount: string | null
  bulkRootObjectCount: string | null
  bulkExpectedCount: string | null
  bulkMode: 'full' | 'reconcile' | null
  bulkStartedAt: Date | null
  state: string
  rowsSynced: string
  pages: number
  throttledMs: string
  lastSuccessAt: Date | null
  lastError: string | null
  lastErrorAt: Date | null
  runId: string | null
}

/** A connection held for the length of a job (advisory locks, temp staging tables). */
export type HeldConnection = Database

// Advisory-lock namespaces (first key); the second key is hashtext of the identity.
const LOCK_SINGLE_FLIGHT = 727_101
const LOCK_TENANT_SLOT = 727_102

// COPY data goes out in chunks of about this many characters (backpressure per chunk).
const COPY_CHUNK = 64 * 1024

/** All SQL on sync_checkpoints, sync_runs, the bulk staging tables and the sync locks. */
export function createSyncRepository(db: Database) {
  const clients = new WeakMap<HeldConnection, RawClient>()
  /** COPY FROM STDIN of rows (text format) into a staging table on the held connection. */
  async function copyIn<R>(
    conn: HeldConnection,
    table: string,
    columns: string,
    rows: readonly R[],
    line: (r: R) => string,
  ): Promise<void> {
    if (!rows.length) return
    let client = clients.get(conn)
    if (!client) clients.set(conn, (client = await rawClientOf(db, conn)))
    function* chunks() {
      let s = ''
      for (const r of rows) {
        s += line(r)
        if (s.length >= COPY_CHUNK) {
          yield s
          s = ''
        }
      }
      if (s) yield s
    }
    await pipeline(
      Readable.from(chunks(), { objectMode: false }),
      client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)),
    )
  }

  const T =
    (tenantId: string) =>
    <R>(fn: (trx: Tx) => Promise<R>) =>
      withTenant(db, tenantId, fn)

  return {
    async checkpoint(tenantId: string, resource: SyncResource): Promise<Checkpoint> {
      return T(tenantId)(async (trx) => {
        await trx
          .insertInto('syncCheckpoints')
          .values({ tenantId, resource })
          .onConflict((oc) => oc.columns(['tenantId', 'resource']).doNothing())
          .execute()
        return (await trx
          .selectFrom('syncCheckpoints')
          .selectAll()
          .where('tenantId', '=', tenantId)
          .where('resource', '=', resource)
          .executeTakeFirstOrThrow()) as unknown as Checkpoint
      })
    },

    /** The shop's stored zone and whether Postgres knows it (analytics fall back to UTC). */
    async shopZone(tenantId: string): Promise<{ zone: string; known: boolean } | undefined> {
      return T(tenantId)(async (trx) => {
        const row = await trx
          .selectFrom('tenants')
          .select(['ianaTimezone', sql<boolean>`app_known_time_zone(iana_timezone)`.as('known')])
          .where('id', '=', tenantId)
          .executeTakeFirst()
        return row ? { zone: row.ianaTimezone, known: row.known } : undefined
      })
    },

    async checkpoints(tenantId: string): Promise<Checkpoint[]> {
      return T(tenantId)(
        async (trx) =>
          (await trx
            .selectFrom('syncCheckpoints')
            .selectAll()
            .where('tenantId', '=', tenantId)
            .execute()) as unknown as Checkpoint[],
      )
    },

    async patchCheckpoint(
      tenantId: string,
      resource: SyncResource,
      patch: Partial<{
        state: string
        bulkOperationId: string | null
        bulkObjectCount: string | null
        bulkRootObjectCount: string | null
        bulkExpectedCount: string | null
        bulkMode: 'full' | 'reconcile' | null
        bulkStartedAt: Date | null
        lastError: string | null
        lastErrorAt: Date | null
        runId: string | null
      }>,
      trx?: Tx,
    ): Promise<void> {
      const run = (t: Tx) =>
        t
          .updateTable('syncCheckpoints')
          .set({ ...patch, updatedAt: new Date() })
          .where('tenantId', '=', tenantId)
          .where('resource', '=', resource)
          .execute()
      await (trx ? run(trx) : T(tenantId)(run))
    },

    /** Advances the cursor (never backwards) and the counters, inside the page's transaction. */
    async advance(
      trx: Tx,
      tenantId: string,
      resource: SyncResource,
      v: {
        cursorUpdatedAt: string | Date | null
        cursorId: string | null
        rows: number
        pages: number
        throttledMs: number
        runId: string | null
      },
    ): Promise<void> {
      await sql`UPDATE sync_checkpoints SET
          cursor_updated_at = CASE WHEN ${v.cursorUpdatedAt}::timestamptz IS NOT NULL AND
            (cursor_updated_at IS NULL OR (cursor_updated_at, coalesce(cursor_id, 0)) <
              (${v.cursorUpdatedAt}::timestamptz, coalesce(${v.cursorId}::bigint, 0)))
            THEN ${v.cursorUpdatedAt}::timestamptz ELSE cursor_updated_at END,
          cursor_id = CASE WHEN ${v.cursorUpdatedAt}::timestamptz IS NOT NULL AND
            (cursor_updated_at IS NULL OR (cursor_updated_at, coalesce(cursor_id, 0)) <
              (${v.cursorUpdatedAt}::timestamptz, coalesce(${v.cursorId}::bigint, 0)))
            THEN ${v.cursorId}::bigint ELSE cursor_id END,
          rows_synced = rows_synced + ${v.rows}, pages = pages + ${v.pages},
          throttled_ms = throttled_ms + ${Math.round(v.throttledMs)}, updated_at = now()
        WHERE tenant_id = ${tenantId} AND resource = ${resource}`.execute(trx)
      if (v.runId)
        await sql`UPDATE sync_runs SET rows = rows + ${v.rows}, pages = pages + ${v.pages},
            throttled_ms = throttled_ms + ${Math.round(v.throttledMs)}
          WHERE tenant_id = ${tenantId} AND id = ${v.runId}`.execute(trx)
    },

    /** A new sync_runs row; runs left 'running' by a killed worker are closed as failed. */
    async startRun(
      tenantId: string,
      resource: SyncResource,
      mode: SyncMode,
      jobId: string | null,
    ): Promise<string> {
      return T(tenantId)(async (trx) => {
        await trx
          .updateTable('syncRuns')
          .set({ status: 'failed', finishedAt: new Date(), error: 'worker lost before finishing' })
          .where('tenantId', '=', tenantId)
          .where('resource', '=', resource)
          .where('status', '=', 'running')
          .execute()
        const r = await trx
          .insertInto('syncRuns')
          .values({ tenantId, resource, mode, jobId })
          .returning('id')
          .executeTakeFirstOrThrow()
        await trx
          .updateTable('syncCheckpoints')
          .set({ runId: r.id, state: 'running', updatedAt: new Date() })
          .where('tenantId', '=', tenantId)
          .where('resource', '=', resource)
          .execute()
        return r.id
      })
    },

    async finishRun(
      tenantId: string,
      resource: SyncResource,
      runId: string,
      outcome: { status: 'succeeded' | 'failed' | 'stopped'; error?: string },
    ): Promise<void> {
      await T(tenantId)(async (trx) => {
        const now = new Date()
        await trx
          .updateTable('syncRuns')
          .set({ status: outcome.status, finishedAt: now, error: outcome.error ?? null })
          .where('tenantId', '=', tenantId)
          .where('id', '=', runId)
          .execute()
        await trx
          .updateTable('syncCheckpoints')
          .set(
            outcome.status === 'succeeded'
              ? { state: 'idle', lastSuccessAt: now, lastError: null, updatedAt: now }
              : {
                  state: outcome.status === 'stopped' ? 'stopped' : 'failed',
                  lastError: outcome.error ?? null,
                  lastErrorAt: now,
                  updatedAt: now,
                },
          )
          .where('tenantId', '=', tenantId)
          .where('resource', '=', resource)
          .execute()
      })
    },

    async tenantStatus(tenantId: string): Promise<string | undefined> {
      return T(tenantId)(
        async (trx) =>
          (
            await trx
              .selectFrom('tenants')
              .select('status')
              .where('id', '=', tenantId)
              .executeTakeFirst()
          )?.status,
      )
    },

    /** Shopify refused the token (401): the tenant stops until it is reconnected. */
    async stopTenant(tenantId: string, reason: string): Promise<void> {
      await T(tenantId)(async (trx) => {
        const now = new Date()
        await trx
          .updateTable('tenants')
          .set({ status: 'disabled', updatedAt: now })
          .where('id', '=', tenantId)
          .where('status', 'in', ['active', 'pending'])
          .execute()
        await trx
          .updateTable('syncCheckpoints')
          .set({ state: 'stopped', lastError: reason, lastErrorAt: now, updatedAt: now })
          .where('tenantId', '=', tenantId)
          .execute()
      })
    },

    async saveShopInfo(
      tenantId: string,
      v: {
        shopifyShopId: string
        shopName: string
        ianaTimezone: string
        currency: string
        plan: string
      },
    ): Promise<void> {
      await T(tenantId)((trx) =>
        trx
          .updateTable('tenants')
          .set({ ...v, updatedAt: new Date() })
          .where('id', '=', tenantId)
          .execute(),
      )
    },

    /** Tenants that get schedules (the scheduler's cross-tenant listing). */
    async schedulableTenants(): Promise<string[]> {
      return withSystem(db, async (trx) =>
        (
          await trx
            .selectFrom('tenants')
            .innerJoin('shopifyCredentials', 'shopifyCredentials.tenantId', 'tenants.id')
            .select('tenants.id')
            .where('tenants.status', '=', 'active')
            .execute()
        ).map((r) => r.id),
      )
    },

    // ---------- locks (on a held connection) ----------

    /** Single flight per (tenant, resource): a session lock on the checkpoint's identity. */
    async trySingleFlight(
      conn: HeldConnection,
      tenantId: string,
      resource: SyncResource,
    ): Promise<boolean> {
      const r = await sql<{
        ok: boolean
      }>`SELECT pg_try_advisory_lock(${LOCK_SINGLE_FLIGHT}, hashtext(${`${tenantId}:${resource}`})) AS ok`.execute(
        conn,
      )
      return r.rows[0]?.ok === true
    },
    async releaseSingleFlight(
      conn: HeldConnection,
      tenantId: string,
      resource: SyncResource,
    ): Promise<void> {
      await sql`SELECT pg_advisory_unlock(${LOCK_SINGLE_FLIGHT}, hashtext(${`${tenantId}:${resource}`}))`.execute(
        conn,
      )
    },
    /** One of `slots` per-tenant slots, or null when the tenant already runs that many jobs. */
    async tryTenantSlot(
      conn: HeldConnection,
      tenantId: string,
      slots: number,
    ): Promise<number | null> {
      for (let s = 0; s < slots; s++) {
        const r = await sql<{
          ok: boolean
        }>`SELECT pg_try_advisory_lock(${LOCK_TENANT_SLOT}, hashtext(${`${tenantId}:${s}`})) AS ok`.execute(
          conn,
        )
        if (r.rows[0]?.ok) return s
      }
      return null
    },
    async releaseTenantSlot(conn: HeldConnection, tenantId: string, slot: number): Promise<void> {
      await sql`SELECT pg_advisory_unlock(${LOCK_TENANT_SLOT}, hashtext(${`${tenantId}:${slot}`}))`.execute(
        conn,
      )
    },

    // ---------- bulk staging (temp tables on the held connection) ----------

    async createStage(conn: HeldConnection, resource: DataResource): Promise<void> {
      await sql`DROP TABLE IF EXISTS s_rows, s_lines, s_refunds`.execute(conn)
      const like = resource === 'orders' ? 'orders' : resource
      await sql`CREATE TEMP TABLE s_rows (LIKE ${sql.table(like)}) ON COMMIT PRESERVE ROWS`.execute(
        conn,
      )
      await sql`ALTER TABLE s_rows DROP COLUMN tenant_id, DROP COLUMN deleted_at, DROP COLUMN synced_at`.execute(
        conn,
      )
      if (resource === 'customers')
        await sql`ALTER TABLE s_rows DROP COLUMN redacted_at`.execute(conn)
      if (resource === 'orders') {
        await sql`CREATE TEMP TABLE s_lines (LIKE order_line_items)`.execute(conn)
        await sql`ALTER TABLE s_lines DROP COLUMN tenant_id, DROP COLUMN synced_at`.execute(conn)
        await sql`CREATE TEMP TABLE s_refunds (LIKE refunds)`.execute(conn)
        await sql`ALTER TABLE s_refunds DROP COLUMN tenant_id, DROP COLUMN synced_at`.execute(conn)
      }
    },

    // Staged with COPY FROM STDIN, one batch at a time (the caller bounds the batch).
    async stageCustomers(conn: HeldConnection, rows: CustomerRow[]): Promise<void> {
      await copyIn(conn, 's_rows', CUSTOMER_COPY_COLUMNS, rows, customerLine)
    },
    async stageProducts(conn: HeldConnection, rows: ProductRow[]): Promise<void> {
      await copyIn(conn, 's_rows', PRODUCT_COPY_COLUMNS, rows, productLine)
    },
    async stageOrders(
      conn: HeldConnection,
      orders: OrderRow[],
      lines: LineItemRow[],
      refunds: RefundRow[],
    ): Promise<void> {
      await copyIn(conn, 's_rows', ORDER_COPY_COLUMNS, orders, orderLine)
      await copyIn(conn, 's_lines', LINE_ITEM_COPY_COLUMNS, lines, lineItemLine)
      await copyIn(conn, 's_refunds', REFUND_COPY_COLUMNS, refunds, refundLine)
    },

    /**
     * Merges the staged snapshot in one transaction: guarded upsert, children replaced for every
     * order written, rows absent from the snapshot and not written since it began marked deleted,
     * and the checkpoint moved to the snapshot's start. Children may have been staged before
     * their parent: the merge joins them after the whole file is in.
     */
    async mergeStage(
      conn: HeldConnection,
      tenantId: string,
      resource: DataResource,
      v: { snapshotAt: Date; cursorAt: Date; runId: string; deleteMissing: boolean },
    ): Promise<{ written: number; deleted: number; staged: number }> {
      return conn.transaction().execute(async (trx) => {
        await tenantContext(db, tenantId).execute(trx)
        // A million-row merge outlives the pool's per-statement limit; this one is bounded by
        // the snapshot's size, not by a runaway plan.
        await sql`SET LOCAL statement_timeout = '1h'`.execute(trx)
        // The DISTINCT ON sorts of a 100k-order snapshot (tens of MB) otherwise spill to disk.
        await sql`SET LOCAL work_mem = '64MB'`.execute(trx)
        await sql`CREATE INDEX ON s_rows (id)`.execute(trx)
        await sql`ANALYZE s_rows`.execute(trx)
        const table = sql.table(resource)
        const cols =
          resource === 'orders'
            ? ORDER_COLUMNS
            : resource === 'customers'
              ? CUSTOMER_COLUMNS
              : PRODUCT_COLUMNS
        const upd =
          resource === 'orders'
            ? ORDER_UPDATE
            : resource === 'customers'
              ? CUSTOMER_UPDATE
              : PRODUCT_UPDATE
        await sql`DROP TABLE IF EXISTS s_applied`.execute(trx)
        await sql`CREATE TEMP TABLE s_applied (id bigint PRIMARY KEY) ON COMMIT DROP`.execute(trx)
        const written = await sql`WITH up AS (
            INSERT INTO ${table} AS t (tenant_id, ${cols}, synced_at)
            SELECT DISTINCT ON (id) ${tenantId}::uuid, ${cols}, now() FROM s_rows ORDER BY id, updated_at DESC
            ON CONFLICT (tenant_id, id) DO UPDATE SET ${upd}
            WHERE ${GUARD('t')}
            RETURNING id)
          INSERT INTO s_applied SELECT id FROM up`.execute(trx)
        if (resource === 'orders') {
          await sql`DELETE FROM order_line_items li USING s_applied a
            WHERE li.tenant_id = ${tenantId} AND li.order_id = a.id`.execute(trx)
          await sql`INSERT INTO order_line_items (tenant_id, ${LINE_ITEM_COLUMNS})
            SELECT DISTINCT ON (l.id) ${tenantId}::uuid, l.id, l.order_id, l.product_id, l.variant_id,
              l.title, l.sku, l.quantity, l.unit_price, l.discounted_total
            FROM s_lines l JOIN s_applied a ON a.id = l.order_id ORDER BY l.id
            ON CONFLICT (tenant_id, id) DO UPDATE SET order_id = excluded.order_id,
              product_id = excluded.product_id, variant_id = excluded.variant_id,
              title = excluded.title, sku = excluded.sku, quantity = excluded.quantity,
              unit_price = excluded.unit_price, discounted_total = excluded.discounted_total,
              synced_at = excluded.synced_at`.execute(trx)
          await sql`DELETE FROM refunds r USING s_applied a
            WHERE r.tenant_id = ${tenantId} AND r.order_id = a.id`.execute(trx)
          await sql`INSERT INTO refunds (tenant_id, ${REFUND_COLUMNS})
            SELECT DISTINCT ON (r.id) ${tenantId}::uuid, r.id, r.order_id, r.amount, r.created_at, r.processed_at
            FROM s_refunds r JOIN s_applied a ON a.id = r.order_id ORDER BY r.id
            ON CONFLICT (tenant_id, id) DO UPDATE SET order_id = excluded.order_id,
              amount = excluded.amount, created_at = excluded.created_at,
              processed_at = excluded.processed_at, synced_at = excluded.synced_at`.execute(trx)
        }
        let deleted = 0
        if (v.deleteMissing) {
          // Absent from the snapshot and either written before it began (our clock) or last
          // changed in Shopify before Shopify started it (Shopify's clock): a row another writer
          // stored during the snapshot, but that Shopify deleted before it, goes too. NOT IN
          // rather than a correlated NOT EXISTS: Citus plans NOT IN against the local temp table
          // (s_rows) as one subplan, and refuses the correlated form ("relation s_rows is not
          // distributed"); the IS NOT NULL keeps NOT IN from matching nothing on a NULL id.
          // Postgres runs NOT IN as a hashed subplan (as fast as the anti-join) only while the
          // ids fit in hash memory, else it rescans s_rows per row (quadratic): the cap is raised
          // for this transaction; the hash holds what s_rows holds (~60 bytes an id).
          await sql`SET LOCAL hash_mem_multiplier = 1000`.execute(trx)
          const d = await sql`UPDATE ${table} t SET deleted_at = ${v.snapshotAt}, synced_at = now()
            WHERE t.tenant_id = ${tenantId} AND t.deleted_at IS NULL
              AND (t.synced_at < ${v.snapshotAt} OR t.updated_at < ${v.cursorAt})
              AND t.id NOT IN (SELECT s.id FROM s_rows s WHERE s.id IS NOT NULL)`.execute(trx)
          deleted = Number(d.numAffectedRows ?? 0)
        }
        const staged = await sql<{ n: string }>`SELECT count(*) AS n FROM s_rows`.execute(trx)
        const n = Number(written.numAffectedRows ?? 0)
        await sql`UPDATE sync_checkpoints SET
            cursor_updated_at = GREATEST(coalesce(cursor_updated_at, '-infinity'), ${v.cursorAt}::timestamptz),
            cursor_id = 0, bulk_operation_id = NULL, bulk_mode = NULL, bulk_started_at = NULL,
            rows_synced = rows_synced + ${n}, pages = pages + 1, updated_at = now()
          WHERE tenant_id = ${tenantId} AND resource = ${resource}`.execute(trx)
        await sql`UPDATE sync_runs SET rows = rows + ${n}, pages = pages + 1
          WHERE tenant_id = ${tenantId} AND id = ${v.runId}`.execute(trx)
        return { written: n, deleted, staged: Number(staged.rows[0]?.n ?? 0) }
      })
    },

    async dropStage(conn: HeldConnection): Promise<void> {
      await sql`DROP TABLE IF EXISTS s_rows, s_lines, s_refunds`.execute(conn)
    },
  }
}

export type SyncRepository = ReturnType<typeof createSyncRepository>
