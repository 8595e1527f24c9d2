import { MetricsTime, UnrecoverableError, Worker, type Job } from 'bullmq'
import type { Logger } from '@xeno/logger'
import {
  JOBS,
  isCluster,
  parseJobPayload,
  physicalQueueNames,
  queueKeyPrefix,
  type JobName,
  type JobPayload,
  type QueueName,
  type RedisConnection,
} from '@xeno/queues'

/** Context a job handler gets besides its validated payload. */
export type JobContext = { job: Job; log: Logger; signal: AbortSignal }
export type JobHandler<N extends JobName> = (
  payload: JobPayload<N>,
  ctx: JobContext,
) => Promise<unknown>
export type JobHandlers = { [N in JobName]?: JobHandler<N> }

export type WorkerDeps = {
  logger: Logger
  /** Opens a blocking connection per queue (BullMQ workers each need their own). */
  connect: () => RedisConnection
  prefix: string
  /** Catalog queues to take; `webhooks` means every webhook shard. */
  queues: QueueName[]
  /** WEBHOOK_QUEUE_SHARDS (default 1). */
  webhookShards?: number
  concurrency: number
  handlers: JobHandlers
}

/** Runs BullMQ workers for the chosen queues, dispatching each job to its catalog handler. */
export function createWorker(deps: WorkerDeps) {
  const workers: Worker[] = []
  const connections: RedisConnection[] = []

  async function process(job: Job, signal?: AbortSignal): Promise<unknown> {
    const name = job.name as JobName
    const log = deps.logger.child({
      queue: job.queueName,
      jobId: job.id,
      job: name,
      requestId: (job.data as { requestId?: string }).requestId,
      tenantId: (job.data as { tenantId?: string }).tenantId,
    })
    if (!(name in JOBS)) throw new UnrecoverableError(`unknown job ${job.name}`)
    const handler = deps.handlers[name] as
      ((p: unknown, c: JobContext) => Promise<unknown>) | undefined
    if (!handler) throw new UnrecoverableError(`no handler for job ${job.name} in this worker`)
    let payload
    try {
      payload = parseJobPayload(name, job.data)
    } catch (err) {
      // A malformed payload will never become valid: do not retry it.
      throw new UnrecoverableError(`invalid payload: ${(err as Error).message}`)
    }
    const started = Date.now()
    const result = await handler(payload, {
      job,
      log,
      signal: signal ?? new AbortController().signal,
    })
    log.info({ ms: Date.now() - started }, 'job done')
    return result
  }

  return {
    start() {
      const names = deps.queues.flatMap((q) => physicalQueueNames(q, deps.webhookShards ?? 1))
      for (const queue of names) {
        const connection = deps.connect()
        connections.push(connection)
        const worker = new Worker(queue, (job, _token, signal) => process(job, signal), {
          connection,
          prefix: queueKeyPrefix(deps.prefix, queue, isCluster(connection)),
          concurrency: deps.concurrency,
          autorun: true,
          // BullMQ's own per-minute completed/failed counts (Bull Board's charts), two weeks kept:
          // a few KB of Redis per queue.
          metrics: { maxDataPoints: MetricsTime.TWO_WEEKS },
        })
        worker.on('failed', (job, err) =>
          deps.logger.warn(
            {
              queue,
              jobId: job?.id,
              job: job?.name,
              attempts: job?.attemptsMade,
              err: { message: err.message },
            },
            'job failed',
          ),
        )
        worker.on('error', (err) =>
          deps.logger.warn({ queue, err: { message: err.message } }, 'worker error'),
        )
        workers.push(worker)
      }
      deps.logger.info({ queues: deps.queues, concurrency: deps.concurrency }, 'worker started')
    },
    /** Stops taking jobs and waits for active ones to finish. */
    async stop() {
      await Promise.all(workers.map((w) => w.close()))
      for (const c of connections) c.disconnect()
      deps.logger.info('worker stopped')
    },
    workers: () => workers,
  }
}

export type XenoWorker = ReturnType<typeof createWorker>
