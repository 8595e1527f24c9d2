import { setTimeout as delay } from 'node:timers/promises'
import { backoffMs, type ShopClient } from './admin-client.ts'
import {
  BULK_CANCEL,
  BULK_QUERIES,
  BULK_RUN,
  BULK_STATUS,
  COUNT_QUERIES,
  type GqlBulkOperation,
} from './documents.ts'
import { ShopifyQueryError, ShopifyTransientError } from './errors.ts'

export type BulkResource = keyof typeof BULK_QUERIES

/** Starts a bulk query for a resource; returns the operation (its id must be persisted). */
export async function runBulkQuery(
  client: ShopClient,
  resource: BulkResource,
  signal?: AbortSignal,
): Promise<{ id: string; createdAt: string }> {
  const data = await client.request<{
    bulkOperationRunQuery: {
      bulkOperation: { id: string; status: string; createdAt: string } | null
      userErrors: { field: string[] | null; message: string; code: string | null }[]
    }
  }>(BULK_RUN, { query: BULK_QUERIES[resource] }, signal)
  const r = data.bulkOperationRunQuery
  if (!r.bulkOperation) {
    const e = r.userErrors[0]
    // Five running operations per shop (2026-01+): wait for one to finish, then retry.
    if (e?.code === 'OPERATION_IN_PROGRESS') throw new ShopifyTransientError(e.message)
    throw new ShopifyQueryError(e?.message ?? 'bulk operation not created', e?.code ?? undefined)
  }
  return { id: r.bulkOperation.id, createdAt: r.bulkOperation.createdAt }
}

/**
 * How many roots (customers, products or orders) the resource's bulk query will visit: the
 * denominator of the bulk progress percentage. Null when Shopify only gives an estimate.
 */
export async function countBulkRoots(
  client: ShopClient,
  resource: BulkResource,
  signal?: AbortSignal,
): Promise<number | null> {
  const data = await client.request<
    Record<string, { count: number; precision: 'EXACT' | 'AT_LEAST' } | null>
  >(COUNT_QUERIES[resource], {}, signal)
  const c = data[`${resource}Count`]
  return c && c.precision === 'EXACT' ? c.count : null
}

/** Percent of a bulk operation's roots processed (one decimal), or null without a total. */
export function bulkPercent(rootObjectCount: number, expected: number | null): number | null {
  if (expected === null) return null
  if (expected <= 0) return 100
  return Math.min(100, Math.floor((rootObjectCount / expected) * 1000) / 10)
}

export async function getBulkOperation(
  client: ShopClient,
  id: string,
  signal?: AbortSignal,
): Promise<GqlBulkOperation | null> {
  const data = await client.request<{ bulkOperation: GqlBulkOperation | null }>(
    BULK_STATUS,
    { id },
    signal,
  )
  return data.bulkOperation
}

export async function cancelBulkOperation(client: ShopClient, id: string): Promise<void> {
  await client.request(BULK_CANCEL, { id })
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED'])

/**
 * Waits for a bulk operation to end: polls with growing intervals, and returns early when
 * `wake` resolves (the bulk_operations/finish webhook). `onProgress` sees objectCount.
 */
export async function waitForBulkOperation(
  client: ShopClient,
  id: string,
  opts: {
    signal?: AbortSignal
    pollMs?: number
    maxPollMs?: number
    wake?: () => Promise<void>
    onProgress?: (op: GqlBulkOperation) => Promise<void> | void
  } = {},
): Promise<GqlBulkOperation> {
  let interval = opts.pollMs ?? 500
  for (;;) {
    const op = await getBulkOperation(client, id, opts.signal)
    if (!op) throw new ShopifyQueryError(`bulk operation ${id} not found`)
    await opts.onProgress?.(op)
    if (TERMINAL.has(op.status)) return op
    // Aborting (a worker shutting down) ends the wait at once, not at the next poll.
    const timer = delay(interval, undefined, { signal: opts.signal })
    timer.catch(() => {}) // aborted after wake() won the race: nobody waits on it any more
    await (opts.wake ? Promise.race([timer, opts.wake()]) : timer)
    interval = Math.min(opts.maxPollMs ?? 5_000, Math.round(interval * 1.5))
  }
}

/**
 * Streams a JSONL result line by line (never the whole file in memory). A dropped download is
 * resumed by re-fetching and skipping the lines already yielded.
 */
export async function* streamJsonl(
  url: string,
  opts: { fetch?: typeof fetch; signal?: AbortSignal; maxAttempts?: number } = {},
): AsyncGenerator<Record<string, unknown>> {
  const f = opts.fetch ?? globalThis.fetch
  let done = 0
  for (let attempt = 0; ; attempt++) {
    let seen = 0
    try {
      const res = await f(url, { signal: opts.signal })
      if (!res.ok || !res.body) {
        if (res.status >= 500 || res.status === 429)
          throw new ShopifyTransientError(`bulk download ${res.status}`)
        throw new ShopifyQueryError(`bulk download failed with ${res.status}`)
      }
      // Pull-based reading: the next chunk is fetched only when the caller asks for more lines,
      // so a slow consumer (the database) holds back the download instead of buffering it.
      const decoder = new TextDecoder()
      let carry = ''
      const emit = function* (text: string): Generator<string> {
        let start = 0
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
          yield text.slice(start, nl)
          start = nl + 1
        }
        carry = text.slice(start)
      }
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const line of emit(carry + decoder.decode(chunk, { stream: true }))) {
          if (!line) continue
          seen++
          if (seen <= done) continue
          const obj = JSON.parse(line) as Record<string, unknown>
          done++
          yield obj
        }
      }
      const tail = carry + decoder.decode()
      if (tail.trim()) {
        seen++
        if (seen > done) {
          const obj = JSON.parse(tail) as Record<string, unknown>
          done++
          yield obj
        }
      }
      return
    } catch (err) {
      if (err instanceof ShopifyQueryError || opts.signal?.aborted) throw err
      if (attempt + 1 >= (opts.maxAttempts ?? 8))
        throw new ShopifyTransientError(`bulk download: ${(err as Error).message}`)
      await new Promise((r) => setTimeout(r, backoffMs(attempt, 250, 10_000)))
    }
  }
}
