import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'

/** A unique BullMQ prefix per test file, so parallel files never share queues. */
export function testQueuePrefix(): string {
  return `{xeno-test-${randomBytes(5).toString('hex')}}`
}

/** Redis the tests use. */
export function testRedisUrl(): string {
  return process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
}

/**
 * Deletes every key under a test prefix (queues, jobs, events, schedulers), so test and benchmark
 * runs leave nothing behind on a shared Redis. Keys are found with SCAN, removed with UNLINK.
 */
export async function dropQueueKeys(
  redis: { scan: Redis['scan']; unlink: Redis['unlink'] },
  prefix: string,
): Promise<number> {
  let cursor = '0'
  let dropped = 0
  // MATCH is a glob: escape the glob characters (* ? [ ] \) a prefix may hold.
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    if (keys.length) dropped += await redis.unlink(...keys)
  } while (cursor !== '0')
  return dropped
}
