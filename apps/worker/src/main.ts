// Composition root of a worker process: `node apps/worker/src/main.ts [--queues sync,webhooks] [--concurrency N]`.
import { ConfigError } from '@xeno/config'
import { createLogger } from '@xeno/logger'
import { createDb, rlsBypassReason } from '@xeno/db'
import { createRedis, queuePrefix } from '@xeno/queues'
import { retryForever } from '@xeno/core'
import { createWorker } from './worker.ts'
import { loadWorkerConfig, parseWorkerArgs } from './config.ts'

async function main() {
  let config, args
  try {
    config = loadWorkerConfig(process.env)
    args = parseWorkerArgs(process.argv.slice(2), config)
  } catch (err) {
    process.stderr.write(
      `${err instanceof ConfigError ? err.message : `error: ${(err as Error).message}`}\n`,
    )
    process.exit(1)
  }
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'xeno-worker' })
  const { db } = createDb({
    url: config.DATABASE_URL,
    applicationName: 'xeno-worker',
    poolMax: config.DATABASE_POOL_MAX,
    onError: (err) => logger.warn({ err: { message: err.message } }, 'postgres pool error'),
  })
  const shutdown = new AbortController()
  const reason = await retryForever(() => rlsBypassReason(db), {
    signal: shutdown.signal,
    onError: (err, attempt, delayMs) =>
      logger.warn(
        { err: { message: (err as Error).message }, attempt, delayMs },
        'database not ready, retrying',
      ),
  })
  if (reason) {
    logger.fatal({ reason }, 'DATABASE_URL must connect as the non-owner runtime role')
    process.exit(1)
  }

  const worker = createWorker({
    logger,
    connect: () =>
      createRedis(config.REDIS_URL, 'worker', (err) =>
        logger.warn({ err: { message: err.message } }, 'redis connection error'),
      ),
    prefix: queuePrefix(config.QUEUE_PREFIX),
    queues: args.queues,
    concurrency: args.concurrency,
    handlers: {},
  })
  worker.start()

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    shutdown.abort()
    logger.info({ signal, graceMs: config.SHUTDOWN_GRACE_MS }, 'shutting down')
    const force = setTimeout(() => {
      logger.error('grace period over, exiting')
      process.exit(1)
    }, config.SHUTDOWN_GRACE_MS)
    force.unref()
    await worker.stop() // lets active jobs finish; they are not left stalled
    await db.destroy()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

await main()
