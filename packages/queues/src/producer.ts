import { Queue, type JobsOptions } from 'bullmq'
import {
  JOBS,
  QUEUE_NAMES,
  parseJobPayload,
  physicalQueueNames,
  physicalQueueOf,
  type JobInput,
  type JobName,
  type QueueName,
} from './catalog.ts'
import { isCluster, queueKeyPrefix, type RedisConnection } from './connection.ts'

export type ProducerDeps = {
  connection: RedisConnection
  /** The key prefix (`queuePrefix(QUEUE_PREFIX)`, e.g. `{xeno}`). */
  prefix: string
  /** WEBHOOK_QUEUE_SHARDS: webhook jobs spread over this many queues by tenant (default 1). */
  webhookShards?: number
}

/** Typed producer: validates each payload against the catalog, then adds it to its queue. */
export function createProducer(deps: ProducerDeps) {
  const webhookShards = deps.webhookShards ?? 1
  const cluster = isCluster(deps.connection)
  const queues = new Map<string, Queue>()
  /** A BullMQ queue by its own name (a catalog queue, or a webhook shard like `webhooks-2`). */
  const queue = (name: string): Queue => {
    let q = queues.get(name)
    if (!q) {
      q = new Queue(name, {
        connection: deps.connection,
        prefix: queueKeyPrefix(deps.prefix, name, cluster),
        skipWaitingForReady: true,
      })
      q.on('error', () => {}) // the shared connection's own listener reports errors
      queues.set(name, q)
    }
    return q
  }
  const policy = (name: JobName) => ({
    attempts: JOBS[name].attempts,
    backoff: JOBS[name].backoff,
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  })

  return {
    webhookShards,
    /** Adds a job; `opts.jobId` makes it idempotent (a second add with the same id is absorbed). */
    async enqueue<N extends JobName>(
      name: N,
      payload: JobInput<N>,
      opts: Omit<JobsOptions, 'attempts' | 'backoff'> = {},
    ): Promise<string> {
      const data = parseJobPayload(name, payload)
      const job = await queue(physicalQueueOf(name, data, webhookShards)).add(name, data, {
        ...policy(name),
        ...opts,
      })
      return job.id ?? ''
    },
    /**
     * Adds many jobs of one name with one BullMQ addBulk (one MULTI) per queue they go to; each
     * job keeps its own `jobId`, so a repeated id is absorbed as with `enqueue`.
     */
    async enqueueBulk<N extends JobName>(
      name: N,
      jobs: readonly { payload: JobInput<N>; jobId: string }[],
    ): Promise<void> {
      if (jobs.length === 0) return
      const byQueue = new Map<string, { name: N; data: unknown; opts: JobsOptions }[]>()
      for (const j of jobs) {
        const data = parseJobPayload(name, j.payload)
        const target = physicalQueueOf(name, data, webhookShards)
        let list = byQueue.get(target)
        if (!list) byQueue.set(target, (list = []))
        list.push({ name, data, opts: { ...policy(name), jobId: j.jobId } })
      }
      await Promise.all([...byQueue].map(([target, list]) => queue(target).addBulk(list)))
    },
    queue,
    /** The queue a job of `name` with this payload goes to (a webhook: its tenant's shard). */
    queueFor<N extends JobName>(name: N, payload: JobInput<N>): Queue {
      return queue(physicalQueueOf(name, payload, webhookShards))
    },
    /** Every BullMQ queue behind one catalog queue (the webhook shards). */
    queuesOf: (name: QueueName): Queue[] => physicalQueueNames(name, webhookShards).map(queue),
    /** Every BullMQ queue (for Bull Board, metrics): each catalog queue, each webhook shard. */
    allQueues: () => QUEUE_NAMES.flatMap((n) => physicalQueueNames(n, webhookShards)).map(queue),
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()))
    },
  }
}

export type Producer = ReturnType<typeof createProducer>
