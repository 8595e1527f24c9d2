import {
  databaseEnv,
  logEnv,
  assertProductionSafe,
  parseEnv,
  redisEnv,
  secretsEnv,
  shopifyEnv,
  workerEnv,
  httpEnv,
  opsEnv,
  z,
} from '@xeno/config'
import { QUEUE_NAMES, type QueueName } from '@xeno/queues'

/** The worker process's configuration schema. */
export const workerProcessEnv = z.object({
  ...databaseEnv.shape,
  // The worker acts across tenants (schedulers, sweepers) as this role, never as the API's.
  DATABASE_SYSTEM_URL: databaseEnv.shape.DATABASE_SYSTEM_URL.unwrap(),
  ...redisEnv.shape,
  ...secretsEnv.shape,
  ...shopifyEnv.shape,
  ...logEnv.shape,
  ...workerEnv.shape,
  METRICS_TOKEN: opsEnv.shape.METRICS_TOKEN,
  WORKER_METRICS_PORT: opsEnv.shape.WORKER_METRICS_PORT,
  WORKER_METRICS_HOST: opsEnv.shape.WORKER_METRICS_HOST,
  WORKER_HEARTBEAT_FILE: opsEnv.shape.WORKER_HEARTBEAT_FILE,
  WORKER_EXPORTER: opsEnv.shape.WORKER_EXPORTER,
  SYNC_STALE_AFTER_SECONDS: opsEnv.shape.SYNC_STALE_AFTER_SECONDS,
  SHUTDOWN_GRACE_MS: httpEnv.shape.SHUTDOWN_GRACE_MS,
})
export type WorkerConfig = z.output<typeof workerProcessEnv>

/**
 * Parses `--queues a,b`, `--concurrency N` and `--exporter` (flags win over WORKER_QUEUES,
 * WORKER_CONCURRENCY and WORKER_EXPORTER).
 */
export function parseWorkerArgs(
  argv: string[],
  config: WorkerConfig,
): { queues: QueueName[]; concurrency: number; exporter: boolean } {
  let queuesArg = config.WORKER_QUEUES
  let concurrency = config.WORKER_CONCURRENCY
  let exporter = config.WORKER_EXPORTER
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--exporter') {
      exporter = true
      continue
    }
    const [flag, inline] = a.split('=', 2) as [string, string | undefined]
    const value = inline ?? argv[i + 1]
    if (flag === '--queues' || flag === '--concurrency') {
      if (value === undefined) throw new Error(`${flag} needs a value`)
      if (inline === undefined) i++
      if (flag === '--queues') queuesArg = value
      else {
        concurrency = Number(value)
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
          throw new Error('--concurrency must be an integer from 1 to 256')
      }
    } else throw new Error(`unknown option ${a}`)
  }
  const queues = queuesArg ? queuesArg.split(',').map((q) => q.trim()) : QUEUE_NAMES
  const unknown = queues.filter((q) => !QUEUE_NAMES.includes(q as QueueName))
  if (unknown.length)
    throw new Error(
      `--queues: unknown queue ${unknown.join(', ')} (known: ${QUEUE_NAMES.join(', ')})`,
    )
  // The fleet-wide gauges are served on the worker's metrics listener: without one, nothing would.
  if (exporter && config.WORKER_METRICS_PORT === undefined)
    throw new Error('--exporter (WORKER_EXPORTER) needs WORKER_METRICS_PORT')
  return { queues: queues as QueueName[], concurrency, exporter }
}

export function loadWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  return assertProductionSafe(parseEnv(workerProcessEnv, env))
}
