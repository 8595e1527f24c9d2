import { DelayedError, MetricsTime, UnrecoverableError, Worker, type Job } from 'bullmq'
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

/**
 * How fast a job whose worker died (kill -9, a lost node) goes to another worker. BullMQ's
 * defaults (30 s lock, 30 s stalled check, two checks needed) left such a job 35–95 s before a
 * new worker resumed it. A lock of 8 s (renewed every 4 s by a live worker) expires soon after
 * the death; a stalled check every 4 s (and one as each worker starts) marks active jobs, and the
 * next check moves those whose lock has expired back to wait: a new worker takes over at most
 * about lock + interval (12 s) after the death, so within 15 s of its own start. Cost: a Redis
 * call per queue every 4 s, and a worker whose event loop blocks past 8 s may see its job taken
 * over; every job is idempotent (guarded applies, sync checkpoints and single flight), so that
 * costs work, not data.
 */
export const LOCK_DURATION_MS = 8_000
export const STALLED_INTERVAL_MS = 4_000
/** Recoveries from a stall before a job fails: rolling restarts may interrupt a job a few times. */
export const MAX_STALLED_COUNT = 5

/** Runs BullMQ workers for the chosen queues, dispatching each job to its catalog handler. */
export function createWorker(deps: WorkerDeps) {
  const workers: Worker[] = []
  const connections: RedisConnection[] = []
  // Aborted by stop(): every job's signal follows it, so Shopify backoffs, throttle waits and
  // bulk polling end at once instead of outliving the shutdown grace.
  const stopping = new AbortController()

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
    let result
    try {
      result = await handler(payload, {
        job,
        log,
        signal: signal ? AbortSignal.any([signal, stopping.signal]) : stopping.signal,
      })
    } catch (err) {
      if (!stopping.signal.aborted || err instanceof DelayedError) throw err
      // Cut short by the shutdown: back to the queue at once, without spending an attempt,
      // for the next worker (what it had stored is kept; a sync resumes from its checkpoint).
      log.info({ ms: Date.now() - started }, 'job interrupted by shutdown; requeued')
      await job.moveToDelayed(Date.now(), job.token)
      throw new DelayedError()
    }
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
          lockDuration: LOCK_DURATION_MS,
          stalledInterval: STALLED_INTERVAL_MS,
          maxStalledCount: MAX_STALLED_COUNT,
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
    /**
     * Stops taking jobs, aborts the waits of active ones (their database work finishes: a job
     * checks its signal between steps) and waits for them to hand back.
     */
    async stop() {
      stopping.abort(new Error('worker shutting down'))
      await Promise.all(workers.map((w) => w.close()))
      for (const c of connections) c.disconnect()
      deps.logger.info('worker stopped')
    },
    workers: () => workers,
  }
}

export type XenoWorker = ReturnType<typeof createWorker>
