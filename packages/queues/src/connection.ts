import { Redis, type RedisOptions } from 'ioredis'

export type RedisRole = 'producer' | 'worker'

/**
 * Opens a Redis connection for BullMQ. Producers fail fast (no offline queue) so an HTTP request
 * never hangs on a dead Redis; workers retry forever, as BullMQ requires.
 */
export function createRedis(
  url: string,
  role: RedisRole,
  onError: (err: Error) => void,
  extra: RedisOptions = {},
): Redis {
  const options: RedisOptions =
    role === 'producer'
      ? {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          connectTimeout: 2_000,
          retryStrategy: (times) => Math.min(times * 200, 2_000),
          ...extra,
        }
      : {
          maxRetriesPerRequest: null,
          retryStrategy: (times) => Math.min(times * 200, 5_000),
          ...extra,
        }
  const redis = new Redis(url, options)
  redis.on('error', onError)
  return redis
}

/** Redis key prefix for BullMQ, as a hash tag so every key of a queue lands in one cluster slot. */
export function queuePrefix(prefix: string): string {
  return `{${prefix}}`
}

/** True when Redis answers PING within timeoutMs. */
export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<boolean> {
  if (redis.status !== 'ready') return false
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      redis.ping().then((r) => r === 'PONG'),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs)
      }),
    ])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}
