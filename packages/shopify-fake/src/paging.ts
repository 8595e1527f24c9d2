import { GraphQLError } from 'graphql'
import type { SortedView } from './store.ts'

export type PageArgs = {
  first?: number | null
  last?: number | null
  after?: string | null
  before?: string | null
  reverse?: boolean | null
}

export type Connection<T> = {
  edges: { cursor: string; node: T }[]
  nodes: T[]
  pageInfo: {
    hasNextPage: boolean
    hasPreviousPage: boolean
    startCursor: string | null
    endCursor: string | null
  }
}

export const MAX_PAGE = 250

type CursorValue = { last_id: number; last_value: number | string }

// Shaped like real cursors (base64 of {"last_id":…,"last_value":…}); clients must treat them as opaque.
export const encodeCursor = (id: number, value: number | string): string =>
  Buffer.from(JSON.stringify({ last_id: id, last_value: value })).toString('base64')

function decodeCursor(c: string): CursorValue {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64').toString('utf8')) as Partial<CursorValue>
    if (
      typeof v.last_id === 'number' &&
      (typeof v.last_value === 'number' || typeof v.last_value === 'string')
    )
      return { last_id: v.last_id, last_value: v.last_value }
  } catch {
    // fall through
  }
  throw new GraphQLError(`Invalid cursor for current pagination sort.`)
}

/** Checks first/last as Shopify does before any data is read. */
export function checkPageArgs(args: PageArgs): void {
  if (args.first == null && args.last == null)
    throw new GraphQLError('you must provide one of first or last')
  for (const k of ['first', 'last'] as const) {
    const v = args[k]
    if (v != null && (v < 0 || v > MAX_PAGE))
      throw new GraphQLError(`The \`${k}\` argument must be between 0 and ${MAX_PAGE}.`)
  }
}

const cmp = (ka: number | string, ia: number, kb: number | string, ib: number): number =>
  ka < kb ? -1 : ka > kb ? 1 : ia - ib

/** First ascending position whose (key, id) is > (or >= when `orEqual`) the given pair. */
function seek(view: SortedView, key: number | string, id: number, orEqual: boolean): number {
  let lo = 0
  let hi = view.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    const c = cmp(view.keyAt(mid), view.idAt(mid), key, id)
    if (c < 0 || (c === 0 && !orEqual)) lo = mid + 1
    else hi = mid
  }
  return lo
}

function seekKey(view: SortedView, key: number): number {
  let lo = 0
  let hi = view.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((view.keyAt(mid) as number) < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Keyset paging over a sorted view: a row is never skipped or repeated while others change,
 * because a cursor names a (sort value, id) pair, not an offset. */
export function paginate<T extends { id: number }>(
  view: SortedView,
  fetch: (idx: number) => T | null,
  test: (row: T) => boolean,
  sortValue: (row: T) => number | string,
  args: PageArgs,
  bounds: { lo: number; hi: number } = { lo: -Infinity, hi: Infinity },
): Connection<T> {
  checkPageArgs(args)
  const reverse = args.reverse === true
  // Window of ascending positions [a, b).
  let a = Number.isFinite(bounds.lo) ? seekKey(view, bounds.lo) : 0
  let b = Number.isFinite(bounds.hi) ? seekKey(view, bounds.hi) : view.length
  const after = args.after ? decodeCursor(args.after) : null
  const before = args.before ? decodeCursor(args.before) : null
  const outerA = a
  const outerB = b
  if (after) {
    if (!reverse) a = Math.max(a, seek(view, after.last_value, after.last_id, false))
    else b = Math.min(b, seek(view, after.last_value, after.last_id, true))
  }
  if (before) {
    if (!reverse) b = Math.min(b, seek(view, before.last_value, before.last_id, true))
    else a = Math.max(a, seek(view, before.last_value, before.last_id, false))
  }
  const rowAt = (p: number): T | null => {
    const r = fetch(view.idxAt(p))
    return r && test(r) ? r : null
  }
  // Collects up to `n` rows walking the window from its start (dir 1) or end (dir -1) in
  // ascending positions; returns rows and whether more existed.
  const collect = (
    from: number,
    to: number,
    dir: 1 | -1,
    n: number,
  ): { rows: T[]; more: boolean } => {
    const rows: T[] = []
    for (let p = dir === 1 ? from : to - 1; dir === 1 ? p < to : p >= from; p += dir) {
      const r = rowAt(p)
      if (!r) continue
      if (rows.length === n) return { rows, more: true }
      rows.push(r)
    }
    return { rows, more: false }
  }
  const anyIn = (from: number, to: number): boolean => collect(from, to, 1, 0).more
  let rows: T[]
  let hasNext = false
  let hasPrev = false
  // In iteration order "forward" is ascending unless reversed.
  const fwd: 1 | -1 = reverse ? -1 : 1
  if (args.first != null) {
    const r = collect(a, b, fwd, args.first)
    rows = r.rows
    hasNext = r.more
    if (args.last != null && rows.length > args.last) {
      rows = rows.slice(rows.length - args.last)
      hasPrev = true
    }
    if (after) hasPrev = hasPrev || (reverse ? anyIn(b, outerB) : anyIn(outerA, a))
  } else {
    const r = collect(a, b, fwd === 1 ? -1 : 1, args.last ?? 0)
    rows = r.rows.reverse()
    hasPrev = r.more
    if (before) hasNext = reverse ? anyIn(outerA, a) : anyIn(b, outerB)
  }
  // Cursors are built only when read (bulk output never reads them).
  const edges = rows.map((node) => ({
    get cursor() {
      return encodeCursor(node.id, sortValue(node))
    },
    node,
  }))
  return {
    edges,
    nodes: rows,
    pageInfo: {
      hasNextPage: hasNext,
      hasPreviousPage: hasPrev,
      get startCursor() {
        return edges[0]?.cursor ?? null
      },
      get endCursor() {
        return edges[edges.length - 1]?.cursor ?? null
      },
    },
  }
}

/** Pages a small in-memory list (bulk operations, subscriptions, line items). */
export function paginateList<T extends { id: number }>(
  rows: readonly T[],
  args: PageArgs,
  sortValue: (row: T) => number | string = (r) => r.id,
): Connection<T> {
  const sorted = [...rows].sort((x, y) => cmp(sortValue(x), x.id, sortValue(y), y.id))
  const view: SortedView = {
    length: sorted.length,
    idxAt: (p) => p,
    keyAt: (p) => {
      const r = sorted[p]
      return r ? sortValue(r) : 0
    },
    idAt: (p) => sorted[p]?.id ?? 0,
  }
  return paginate(
    view,
    (i) => sorted[i] ?? null,
    () => true,
    sortValue,
    args,
  )
}
