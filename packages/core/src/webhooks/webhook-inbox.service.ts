import type { Logger } from '@xeno/logger'
import type { Producer } from '@xeno/queues'
import type { NewReceipt, WebhookReceiptRepository } from './webhook-receipt.repository.ts'

export type InboxResult = { id: string; created: boolean; enqueued: boolean }

export type WebhookInboxDeps = {
  receipts: Pick<WebhookReceiptRepository, 'insertMany'>
  producer: Pick<Producer, 'enqueueBulk'>
  logger: Logger
  /** Most receipts in one transaction (default 64). */
  maxBatch?: number
  /** Most transactions at once (default 4). */
  maxInFlight?: number
  /**
   * How many waiting deliveries start another transaction while one is open (default 8, at
   * most maxBatch); fewer wait for the open one to commit and then go together.
   */
  parallelAt?: number
}

type Waiting = {
  receipt: NewReceipt
  requestId: string | undefined
  resolve: (r: InboxResult) => void
  reject: (err: unknown) => void
}

/**
 * A fault of one row, not of the database: a data exception (class 22), or a body nested so deep
 * that Postgres' JSON parser runs out of stack (54001, statement_too_complex's stack depth).
 */
export const isDataError = (err: unknown): boolean => {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && (code.startsWith('22') || code === '54001')
}

/**
 * Group commit for the webhook inbox. A commit (its WAL flush) costs the same for one receipt
 * as for fifty, and one BullMQ addBulk costs about what one add does, so concurrent deliveries
 * share both: while a transaction is in flight the next deliveries wait, and go together as
 * soon as it commits (or at once when a full batch is waiting). The next transaction does not
 * wait for the previous batch's enqueue: Postgres stores one batch while Redis takes the jobs
 * of the one before. Nothing waits on a timer, so an idle server stores a lone delivery
 * immediately. Each caller's promise settles after the transaction holding its receipt
 * committed and its enqueue was attempted (or the transaction failed: then nothing of the
 * batch is stored).
 */
export function createWebhookInbox(deps: WebhookInboxDeps) {
  const maxBatch = deps.maxBatch ?? 64
  const maxInFlight = deps.maxInFlight ?? 4
  const parallelAt = Math.min(deps.parallelAt ?? 8, maxBatch)
  const waiting: Waiting[] = []
  /** Transactions open (the pump's limit). */
  let inFlight = 0
  /** Batches not settled yet: open transactions and the enqueues after their commits. */
  let unsettled = 0
  let scheduled = false
  let closed = false
  let onIdle: (() => void)[] = []

  function pump() {
    while (
      waiting.length > 0 &&
      (inFlight === 0 || (waiting.length >= parallelAt && inFlight < maxInFlight))
    ) {
      inFlight++
      unsettled++
      const batch = waiting.splice(0, maxBatch)
      let open = true
      // Called by flush once its transaction ended, and again (harmlessly) when flush ends.
      const committed = () => {
        if (!open) return
        open = false
        inFlight--
        pump()
      }
      // flush settles every waiter itself; this only guards against a bug leaving one hanging.
      void flush(batch, committed)
        .catch((err: unknown) => {
          for (const w of batch) w.reject(err)
        })
        .finally(() => {
          committed()
          unsettled--
          if (unsettled === 0 && waiting.length === 0) {
            for (const f of onIdle) f()
            onIdle = []
          }
        })
    }
  }

  async function store(batch: Waiting[]): Promise<({ id: string; created: boolean } | Error)[]> {
    try {
      return await deps.receipts.insertMany(batch.map((w) => w.receipt))
    } catch (err) {
      if (batch.length === 1 || !isDataError(err)) return batch.map(() => err as Error)
      // A body Postgres cannot store as json fails the whole statement: store the rest of the
      // batch one by one so only that delivery is refused.
      const out: ({ id: string; created: boolean } | Error)[] = []
      for (const w of batch) {
        try {
          const [r] = await deps.receipts.insertMany([w.receipt])
          out.push(r!)
        } catch (e) {
          out.push(e as Error)
        }
      }
      return out
    }
  }

  async function flush(batch: Waiting[], committed: () => void) {
    // Redeliveries of one webhook within the batch: the first is stored, the rest share its row.
    const first = new Map<string, number>()
    const unique: Waiting[] = []
    const slot = batch.map((w) => {
      const key = `${w.receipt.tenantId}\u0000${w.receipt.webhookId}`
      let i = first.get(key)
      if (i === undefined) {
        i = unique.push(w) - 1
        first.set(key, i)
      }
      return i
    })
    const stored = await store(unique)
    // The transaction is over: the next batch may start while this one is enqueued.
    committed()

    const created = unique.flatMap((w, i) => {
      const r = stored[i]!
      return r instanceof Error || !r.created ? [] : [{ w, id: r.id }]
    })
    let enqueued = false
    try {
      await deps.producer.enqueueBulk(
        'process-webhook',
        created.map(({ w, id }) => ({
          payload: { tenantId: w.receipt.tenantId, receiptId: id, requestId: w.requestId },
          jobId: id,
        })),
      )
      enqueued = created.length > 0
    } catch (err) {
      // Committed already: acknowledged anyway, the sweeper enqueues receipts left `received`.
      deps.logger.warn(
        { err: { message: (err as Error).message }, receipts: created.length },
        'enqueue failed; the sweeper will retry',
      )
    }

    batch.forEach((w, n) => {
      const i = slot[n]!
      const r = stored[i]!
      if (r instanceof Error) w.reject(r)
      else if (unique[i] === w) w.resolve({ id: r.id, created: r.created, enqueued })
      else w.resolve({ id: r.id, created: false, enqueued: false })
    })
  }

  return {
    /** Stores the receipt (once per tenant and webhook id) and enqueues it if new. */
    submit(receipt: NewReceipt, requestId?: string): Promise<InboxResult> {
      if (closed) return Promise.reject(new Error('webhook inbox is closed'))
      return new Promise<InboxResult>((resolve, reject) => {
        waiting.push({ receipt, requestId, resolve, reject })
        if (waiting.length >= maxBatch || (inFlight > 0 && waiting.length >= parallelAt)) pump()
        else if (!scheduled) {
          // Deliveries read in the same turn of the event loop join the same batch.
          scheduled = true
          setImmediate(() => {
            scheduled = false
            pump()
          })
        }
      })
    },

    /** Refuses new receipts and resolves once every waiting one is committed (or failed). */
    async close(): Promise<void> {
      closed = true
      pump()
      if (unsettled === 0 && waiting.length === 0) return
      await new Promise<void>((resolve) => onIdle.push(resolve))
    },
  }
}

export type WebhookInbox = ReturnType<typeof createWebhookInbox>
