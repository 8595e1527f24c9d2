/** Shopify's throttle status, as every GraphQL response reports it. */
export type ThrottleStatus = {
  maximumAvailable: number
  currentlyAvailable: number
  restoreRate: number
}

/**
 * A per-shop cost budget mirroring Shopify's leaky bucket from `extensions.cost.throttleStatus`
 * (FACTS §2.4). Callers ask how long to wait before spending a cost; requests in flight reserve
 * their cost so concurrent jobs of one process do not overbook the same bucket.
 */
export function createThrottleBudget(now: () => number = () => performance.now()) {
  let state: { max: number; available: number; rate: number; at: number } | null = null
  let reserved = 0
  let throttledMs = 0
  let throttledCount = 0
  let pointsUsed = 0

  const estimate = (t: number): number =>
    state ? Math.min(state.max, state.available + (state.rate * (t - state.at)) / 1000) : Infinity

  return {
    /** Milliseconds to wait before a request of `cost` points would not be throttled. */
    waitMs(cost: number): number {
      if (!state) return 0
      const need = Math.min(cost, state.max) + reserved
      const avail = estimate(now())
      return avail >= need ? 0 : Math.ceil(((need - avail) / state.rate) * 1000)
    },
    reserve(cost: number): () => void {
      reserved += cost
      let done = false
      return () => {
        if (!done) reserved -= cost
        done = true
      }
    },
    update(s: ThrottleStatus): void {
      state = {
        max: Number(s.maximumAvailable),
        available: Number(s.currentlyAvailable),
        rate: Number(s.restoreRate) || 1,
        at: now(),
      }
    },
    /** On THROTTLED: exactly (requested − available) / restoreRate seconds. */
    throttled(requested: number, s: ThrottleStatus): number {
      this.update(s)
      throttledCount++
      const ms = Math.max(
        0,
        Math.ceil(
          ((requested - Number(s.currentlyAvailable)) / (Number(s.restoreRate) || 1)) * 1000,
        ),
      )
      return ms
    },
    /** Records a response's actual cost. */
    spent(points: number): void {
      pointsUsed += points
    },
    addWaited(ms: number): void {
      throttledMs += ms
    },
    stats: () => ({
      throttledMs,
      throttledCount,
      pointsUsed,
      available: state ? estimate(now()) : null,
    }),
    status: () => state,
  }
}

export type ThrottleBudget = ReturnType<typeof createThrottleBudget>
