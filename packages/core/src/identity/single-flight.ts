/**
 * Concurrent calls with the same key share one in-flight promise; the next call after it
 * settles starts afresh (nothing is cached). A burst of requests with one credential then costs
 * one credential lookup instead of one database query each — under a flood those queries would
 * otherwise queue for the pool ahead of every other tenant's — with no staleness: a revocation
 * committed before a call starts is seen by it.
 */
export function singleFlight<A extends unknown[], K, V>(
  keyOf: (...args: A) => K,
  fn: (...args: A) => Promise<V>,
): (...args: A) => Promise<V> {
  const inflight = new Map<K, Promise<V>>()
  return (...args: A) => {
    const key = keyOf(...args)
    const pending = inflight.get(key)
    if (pending) return pending
    const p = fn(...args).finally(() => inflight.delete(key))
    inflight.set(key, p)
    return p
  }
}
