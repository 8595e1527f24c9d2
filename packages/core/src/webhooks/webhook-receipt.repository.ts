import {
  pipelinedTransaction,
  signContext,
  sql,
  tenantContext,
  withSystem,
  withTenant,
  type Database,
  type Tx,
} from '@xeno/db'

export type NewReceipt = {
  tenantId: string
  webhookId: string
  eventId: string | null
  topic: string
  apiVersion: string | null
  triggeredAt: Date | null
  /** The exact body text; stored as json (the exact text, so numbers keep full precision). */
  payloadText: string
}

export type ReceiptStatus = 'received' | 'processed' | 'skipped' | 'failed'

export type Receipt = {
  tenantId: string
  id: string
  webhookId: string
  topic: string
  triggeredAt: Date | null
  status: ReceiptStatus
  attempts: number
  /** The payload as JSON text (parse with parseShopifyJson to keep ids exact). */
  payloadText: string
}

/** A receipt as the admin inbox lists it (no payload: it may hold customer data). */
export type AdminReceipt = {
  id: string
  tenantId: string
  shopDomain: string
  topic: string
  webhookId: string
  status: ReceiptStatus
  attempts: number
  lastError: string | null
  receivedAt: Date
  processedAt: Date | null
}

/** A receipt as the processor reads it: its row and the payload's exact text. */
const RECEIPT_COLUMNS = [
  'tenantId',
  'id',
  'webhookId',
  'topic',
  'triggeredAt',
  'status',
  'attempts',
  sql<string>`payload::text`.as('payloadText'),
] as const

/** All SQL on webhook_receipts, the webhook inbox. */
export function createWebhookReceiptRepository(db: Database) {
  return {
    /**
     * Group commit of the intake: inserts many receipts (of any tenants) in ONE transaction, each
     * unless its webhook id was seen for its tenant already. Rows are written per tenant with
     * app.tenant_id set to that tenant, so RLS checks every row as for a single insert; no
     * system scope is needed. The whole transaction is one round trip (pipelinedTransaction);
     * only receipts already stored take a second one, after the commit, to read their ids.
     * Input must hold each (tenant, webhook id) once. Resolves after the commit, with one answer
     * per input row, in input order; throws (nothing stored) otherwise.
     */
    async insertMany(rows: readonly NewReceipt[]): Promise<{ id: string; created: boolean }[]> {
      const byTenant = new Map<string, number[]>()
      rows.forEach((r, i) => {
        const group = byTenant.get(r.tenantId)
        if (group) group.push(i)
        else byTenant.set(r.tenantId, [i])
      })
      const out = new Array<{ id: string; created: boolean }>(rows.length)
      if (rows.length === 0) return out
      const groups = [...byTenant]
      const statements = groups.flatMap(([tenantId, indexes]) => {
        // One lock order for every writer (webhook id), so two API processes inserting the
        // same redeliveries cannot deadlock on the unique index.
        const group = indexes
          .map((i) => rows[i]!)
          .sort((a, b) => (a.webhookId < b.webhookId ? -1 : a.webhookId > b.webhookId ? 1 : 0))
        return [
          tenantContext(db, tenantId).compile(db),
          db
            .insertInto('webhookReceipts')
            .values(
              group.map((r) => ({
                tenantId,
                webhookId: r.webhookId,
                eventId: r.eventId,
                topic: r.topic,
                apiVersion: r.apiVersion,
                triggeredAt: r.triggeredAt,
                payload: sql`${r.payloadText}::json`,
                enqueuedAt: sql`now()`,
              })),
            )
            .onConflict((oc) => oc.columns(['tenantId', 'webhookId']).doNothing())
            .returning(['id', 'webhookId'])
            .compile(),
        ]
      })
      // A batch has at most the inbox's maxBatch rows: few statement texts, worth preparing.
      const results = await pipelinedTransaction(db, statements, { prepare: true })
      for (const [g, [tenantId, indexes]] of groups.entries()) {
        const found = new Map<string, { id: string; created: boolean }>()
        // Two statements a group (set_config, INSERT): the group's INSERT answers at 2g + 1.
        for (const r of results[2 * g + 1] as { id: string; webhookId: string }[])
          found.set(r.webhookId, { id: r.id, created: true })
        const seen = indexes.map((i) => rows[i]!.webhookId).filter((w) => !found.has(w))
        if (seen.length) {
          // Stored before (a redelivery); committed, so a fresh read finds it.
          const existing = await withTenant(db, tenantId, (trx) =>
            trx
              .selectFrom('webhookReceipts')
              .select(['id', 'webhookId'])
              .where('tenantId', '=', tenantId)
              .where('webhookId', 'in', seen)
              .execute(),
          )
          for (const r of existing) found.set(r.webhookId, { id: r.id, created: false })
        }
        for (const i of indexes) {
          const hit = found.get(rows[i]!.webhookId)
          if (!hit) throw new Error('webhook receipt neither inserted nor found')
          out[i] = hit
        }
      }
      return out
    },

    async markEnqueued(tenantId: string, id: string, at: Date): Promise<void> {
      await withTenant(db, tenantId, (trx) =>
        trx
          .updateTable('webhookReceipts')
          .set({ enqueuedAt: at })
          .where('tenantId', '=', tenantId)
          .where('id', '=', id)
          .execute(),
      )
    },

    /** Receipts still `received` and not enqueued recently, across tenants (the sweeper). */
    async findUnqueued(
      olderThan: Date,
      limit: number,
    ): Promise<{ tenantId: string; id: string }[]> {
      return withSystem(db, (trx) =>
        trx
          .selectFrom('webhookReceipts')
          .select(['tenantId', 'id'])
          .where('status', '=', 'received')
          .where('receivedAt', '<', olderThan)
          .where((eb) => eb.or([eb('enqueuedAt', 'is', null), eb('enqueuedAt', '<', olderThan)]))
          .orderBy('receivedAt')
          .limit(limit)
          .execute(),
      )
    },

    /**
     * Deletes up to `limit` processed or skipped receipts finished before `olderThan`, across
     * tenants (the retention job); returns how many went. Failed and unprocessed receipts stay.
     * Each batch is its own short transaction, so the intake never waits behind a long delete.
     */
    async deleteFinishedBefore(olderThan: Date, limit: number): Promise<number> {
      return withSystem(db, async (trx) => {
        const victims = trx
          .selectFrom('webhookReceipts')
          .select(['tenantId', 'id'])
          .where('status', 'in', ['processed', 'skipped'])
          .where('processedAt', '<', olderThan)
          .orderBy('processedAt')
          .limit(limit)
        const result = await trx
          .deleteFrom('webhookReceipts')
          .where((eb) =>
            eb(eb.refTuple('tenantId', 'id'), 'in', victims.$asTuple('tenantId', 'id')),
          )
          .executeTakeFirst()
        return Number(result.numDeletedRows)
      })
    },

    /** Loads a receipt and locks it for the rest of trx (one processor at a time). */
    /** The receipt as it is now, without a lock (read before slow work outside a transaction). */
    async peek(tenantId: string, id: string): Promise<Receipt | undefined> {
      return withTenant(
        db,
        tenantId,
        (trx) =>
          trx
            .selectFrom('webhookReceipts')
            .select(RECEIPT_COLUMNS)
            .where('tenantId', '=', tenantId)
            .where('id', '=', id)
            .executeTakeFirst() as Promise<Receipt | undefined>,
      )
    },

    async lockForProcessing(trx: Tx, tenantId: string, id: string): Promise<Receipt | undefined> {
      return trx
        .selectFrom('webhookReceipts')
        .select(RECEIPT_COLUMNS)
        .where('tenantId', '=', tenantId)
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst() as Promise<Receipt | undefined>
    },

    async finish(
      trx: Tx,
      tenantId: string,
      id: string,
      status: ReceiptStatus,
      at: Date,
      error?: string,
    ) {
      await trx
        .updateTable('webhookReceipts')
        .set((eb) => ({
          status,
          processedAt: status === 'processed' || status === 'skipped' ? at : null,
          lastError: error ?? null,
          attempts: eb('attempts', '+', 1),
        }))
        .where('tenantId', '=', tenantId)
        .where('id', '=', id)
        .execute()
    },

    /** Records a failed attempt without changing the status (it will be retried). */
    async recordAttemptError(
      tenantId: string,
      id: string,
      error: string,
      final: boolean,
    ): Promise<void> {
      await withTenant(db, tenantId, (trx) =>
        trx
          .updateTable('webhookReceipts')
          .set((eb) => ({
            attempts: eb('attempts', '+', 1),
            lastError: error.slice(0, 2000),
            ...(final ? { status: 'failed' as const } : {}),
          }))
          .where('tenantId', '=', tenantId)
          .where('id', '=', id)
          .where('status', '=', 'received')
          .execute(),
      )
    },

    async get(tenantId: string, id: string) {
      return withTenant(db, tenantId, (trx) =>
        trx
          .selectFrom('webhookReceipts')
          .select([
            'id',
            'webhookId',
            'topic',
            'status',
            'attempts',
            'lastError',
            'receivedAt',
            'processedAt',
          ])
          .where('tenantId', '=', tenantId)
          .where('id', '=', id)
          .executeTakeFirst(),
      )
    },

    /**
     * Admin replay: find a receipt by id across tenants, and put a failed one back to received.
     * The API has no system mode: the database's replay function, signed for this id (callers
     * have checked the admin).
     */
    async resetForReplay(id: string): Promise<{ tenantId: string; id: string } | undefined> {
      const { rows } = await sql<{ tenantId: string; id: string }>`
        SELECT tenant_id, id FROM app_reset_receipt_for_replay(${id}::uuid, ${signContext(db, `replay:${id}`)})`.execute(
        db,
      )
      return rows[0]
    },

    /**
     * Admin view of the inbox across tenants: receipts of one status, newest first, with their
     * shop (no payloads). `before` (a received_at, exclusive) pages back.
     */
    async listForAdmin(filter: {
      status: ReceiptStatus
      limit: number
      before?: Date
    }): Promise<AdminReceipt[]> {
      // The API has no system mode: the database's listing function, signed for it (callers
      // have checked the admin).
      const { rows } = await sql<AdminReceipt>`
        SELECT * FROM app_admin_list_receipts(${filter.status}, ${filter.limit},
          ${filter.before ?? null}::timestamptz, ${signContext(db, 'admin-receipts')})`.execute(db)
      return rows
    },

    /** One receipt by id across tenants (admin), without its payload. */
    async getForAdmin(id: string): Promise<AdminReceipt | undefined> {
      const { rows } = await sql<AdminReceipt>`
        SELECT * FROM app_admin_receipt(${id}::uuid, ${signContext(db, `admin-receipt:${id}`)})`.execute(
        db,
      )
      return rows[0]
    },

    async findById(id: string): Promise<{ tenantId: string; status: string } | undefined> {
      return withSystem(db, (trx) =>
        trx
          .selectFrom('webhookReceipts')
          .select(['tenantId', 'status'])
          .where('id', '=', id)
          .executeTakeFirst(),
      )
    },
  }
}

export type WebhookReceiptRepository = ReturnType<typeof createWebhookReceiptRepository>
