import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import { parseRedisTarget } from '@xeno/config'

export type RedisRole = 'producer' | 'worker'
/** One Redis server or a Redis Cluster: BullMQ takes either as its connection. */
export type RedisConnection = Redis | Cluster

/**
 * Opens a Redis connection for BullMQ. Producers fail fast (no offline queue) so an HTTP request
 * never hangs on a dead Redis; workers retry forever, as BullMQ requires. `url` is REDIS_URL:
 * `redis://…` opens one server, `redis+cluster://host:port,host:port,…` an ioredis Cluster seeded
 * with those nodes (it discovers the rest of the cluster itself).
 */
export function createRedis(
  url: string,
  role: RedisRole,
  onError: (err: Error) => void,
  extra: RedisOptions = {},
): RedisConnection {
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
  const target = parseRedisTarget(url)
  if (target.kind === 'single') {
    const redis = new Redis(url, options)
    redis.on('error', onError)
    return redis
  }
  const { retryStrategy, enableOfflineQueue, ...nodeOptions } = options
  const clusterOptions: ClusterOptions = {
    // The cluster object owns reconnection and queueing; each node connection only connects.
    clusterRetryStrategy: retryStrategy,
    enableOfflineQueue: enableOfflineQueue ?? true,
    // While a failed master is replaced (or restarted), CLUSTERDOWN answers are retried.
    retryDelayOnClusterDown: 300,
    retryDelayOnFailover: 200,
    redisOptions: {
      ...nodeOptions,
      username: target.username,
      password: target.password,
      ...(target.tls ? { tls: {} } : {}),
    },
  }
  const cluster = new Cluster(target.nodes, clusterOptions)
  cluster.on('error', onError)
  return cluster
}

/** True when the connection is a Redis Cluster (BullMQ keys must then keep a queue in one slot). */
export function isCluster(connection: RedisConnection): connection is Cluster {
  return (connection as { isCluster?: boolean }).isCluster === true
}

/** Redis key prefix for BullMQ, as a hash tag so every key of a queue lands in one cluster slot. */
export function queuePrefix(prefix: string): string {
  return `{${prefix}}`
}

/**
 * The key prefix of one queue. On one Redis every queue keeps the shared prefix (`{xeno}`), so an
 * upgrade finds its queued jobs and schedules where they were. On a cluster each queue gets its
 * own hash tag (`{xeno:webhooks}`): all keys of a queue stay in one slot, as BullMQ's Lua scripts
 * need, while different queues land on different masters.
 */
export function queueKeyPrefix(prefix: string, queue: string, cluster: boolean): string {
  if (!cluster) return prefix
  const inner = /^\{(.*)\}$/.exec(prefix)?.[1] ?? prefix
  return `{${inner}:${queue}}`
}

/** True when Redis answers PING within timeoutMs. */
export async function pingRedis(redis: RedisConnection, timeoutMs = 1000): Promise<boolean> {
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
