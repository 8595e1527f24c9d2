import { createHash } from 'node:crypto'
import type { RedisConnection } from '@xeno/queues'

/**
 * Failed password attempts, counted per (account, client address). The first `free` failures
 * cost nothing; each further one blocks that pair for `baseDelayMs`, then twice as long, and so
 * on up to `maxDelayMs`. A success clears the pair. Counting per pair (not per account) means a
 * third party guessing from its own addresses slows only itself: the user, from theirs, still
 * signs in. Per-address request limits bound how many accounts one address may try.
 */
export type FailurePolicy = {
  free: number
  baseDelayMs: number
  maxDelayMs: number
  /** A pair's count is forgotten this long after its last failure. */
  windowMs: number
}

export const DEFAULT_FAILURE_POLICY: FailurePolicy = {
  free: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  windowMs: 60 * 60_000,
}

export type FailureCounter = {
  /** Milliseconds until the pair may try again (0: now). */
  blockedFor(scope: string, account: string, address: string): Promise<number>
  /** Records a failure; resolves to the block it now carries in ms (0: none yet). */
  fail(scope: string, account: string, address: string): Promise<number>
  reset(scope: string, account: string, address: string): Promise<void>
}

/** The delay after the n-th failure (1-based). */
export function delayAfter(policy: FailurePolicy, n: number): number {
  if (n <= policy.free) return 0
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - policy.free - 1))
}

// Neither usernames nor addresses are stored in Redis as such.
const pairId = (scope: string, account: string, address: string) =>
  createHash('sha256').update(`${scope}\0${account}\0${address}`).digest('base64url').slice(0, 32)

// One round trip: count the failure, refresh the window, set the block when past the free ones.
const FAIL_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local free = tonumber(ARGV[2])
if n <= free then return 0 end
local d = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ (n - free - 1))
d = math.floor(d)
redis.call('SET', KEYS[2], '1', 'PX', d)
return d`

/**
 * The counter in Redis, shared by every API replica. `prefix` is the deployment's key prefix
 * (its hash tag keeps both keys of a pair in one cluster slot).
 */
export function createRedisFailureCounter(
  redis: RedisConnection,
  prefix: string,
  policy: FailurePolicy = DEFAULT_FAILURE_POLICY,
): FailureCounter {
  const keys = (scope: string, account: string, address: string) => {
    const id = pairId(scope, account, address)
    return [`${prefix}:limits:fail:${id}:n`, `${prefix}:limits:fail:${id}:block`] as const
  }
  return {
    async blockedFor(scope, account, address) {
      const ttl = await redis.pttl(keys(scope, account, address)[1])
      return ttl > 0 ? ttl : 0
    },
    async fail(scope, account, address) {
      const [n, block] = keys(scope, account, address)
      const d = await redis.eval(
        FAIL_SCRIPT,
        2,
        n,
        block,
        policy.windowMs,
        policy.free,
        policy.baseDelayMs,
        policy.maxDelayMs,
      )
      return Number(d)
    },
    async reset(scope, account, address) {
      await redis.unlink(...keys(scope, account, address))
    },
  }
}

/** The same counter in this process only (apps built without Redis: tests, benchmarks). */
export function createMemoryFailureCounter(
  policy: FailurePolicy = DEFAULT_FAILURE_POLICY,
  now = () => Date.now(),
): FailureCounter {
  const pairs = new Map<string, { n: number; until: number; expires: number }>()
  // Many addresses must not grow the map without end: the oldest pair goes first.
  const MAX_PAIRS = 100_000
  const get = (id: string) => {
    const p = pairs.get(id)
    if (p && p.expires <= now()) {
      pairs.delete(id)
      return undefined
    }
    return p
  }
  return {
    async blockedFor(scope, account, address) {
      const p = get(pairId(scope, account, address))
      return p ? Math.max(0, p.until - now()) : 0
    },
    async fail(scope, account, address) {
      const id = pairId(scope, account, address)
      const p = get(id) ?? { n: 0, until: 0, expires: 0 }
      p.n++
      p.expires = now() + policy.windowMs
      const d = delayAfter(policy, p.n)
      if (d > 0) p.until = now() + d
      pairs.delete(id)
      pairs.set(id, p)
      if (pairs.size > MAX_PAIRS) pairs.delete(pairs.keys().next().value!)
      return d
    },
    async reset(scope, account, address) {
      pairs.delete(pairId(scope, account, address))
    },
  }
}
