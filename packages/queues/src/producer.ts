import { Queue, type JobsOptions } from 'bullmq'
import type { Redis } from 'ioredis'
import {
  JOBS,
  QUEUE_NAMES,
  parseJobPayload,
  type JobInput,
  type JobName,
  type QueueName,
} from './catalog.ts'

export type ProducerDeps = { connection: Redis; prefix: string }

/** Typed producer: validates each payload against the catalog, then adds it to its queue. */
export function createProducer(deps: ProducerDeps) {
  const queues = new Map<QueueName, Queue>()
  const queue = (name: QueueName): Queue => {
    let q = queues.get(name)
    if (!q) {
      q = new Queue(name, {
        connection: deps.connection,
        prefix: deps.prefix,
        skipWaitingForReady: true,
      })
      q.on('error', () => {}) // the shared connection's own listener reports errors
      queues.set(name, q)
    }
    return q
  }

  return {
    /** Adds a job; `opts.jobId` makes it idempotent (a second add with the same id is absorbed). */
    async enqueue<N extends JobName>(
      name: N,
      payload: JobInput<N>,
      opts: Omit<JobsOptions, 'attempts' | 'backoff'> = {},
    ): Promise<string> {
      const data = parseJobPayload(name, payload)
      const def = JOBS[name]
      const job = await queue(def.queue).add(name, data, {
        attempts: def.attempts,
        backoff: def.backoff,
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
        ...opts,
      })
      return job.id ?? ''
    },
    /**
     * Adds many jobs of one name in a single Redis round trip (BullMQ addBulk, one MULTI);
     * each job keeps its own `jobId`, so a repeated id is absorbed as with `enqueue`.
     */
    async enqueueBulk<N extends JobName>(
      name: N,
      jobs: readonly { payload: JobInput<N>; jobId: string }[],
    ): Promise<void> {
      if (jobs.length === 0) return
      const def = JOBS[name]
      await queue(def.queue).addBulk(
        jobs.map((j) => ({
          name,
          data: parseJobPayload(name, j.payload),
          opts: {
            attempts: def.attempts,
            backoff: def.backoff,
            removeOnComplete: { age: 24 * 3600, count: 10_000 },
            removeOnFail: { age: 7 * 24 * 3600 },
            jobId: j.jobId,
          },
        })),
      )
    },
    /** The BullMQ Queue objects (for Bull Board, metrics, schedulers). */
    queue,
    allQueues: () => QUEUE_NAMES.map(queue),
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()))
    },
  }
}

export type Producer = ReturnType<typeof createProducer>
