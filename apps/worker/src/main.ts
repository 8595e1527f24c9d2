// Composition root of a worker process: `node apps/worker/src/main.ts [--queues sync,webhooks] [--concurrency N]`.
import { once } from 'node:events'
import { ConfigError, tenantContextKey, tokenKeys } from '@xeno/config'
import { createLogger } from '@xeno/logger'
import { createDb, latestMigrationName, rlsBypassReason, schemaStatus } from '@xeno/db'
import { createProducer, createRedis, isCluster, queuePrefix } from '@xeno/queues'
import {
  createShopAccessService,
  createSyncScheduler,
  createSyncService,
  createTokenCipher,
  onShutdownSignals,
  createComplianceRepository,
  createWebhookProcessor,
  createShopReadback,
  createWebhookReceiptRepository,
  createWebhookSweeper,
  createInstallRepository,
  createMetricsRepository,
  createBulkFinishSignal,
  removeQueuedTenantJobs,
  retryForever,
} from '@xeno/core'
import { createShopifyAdmin } from '@xeno/shopify'
import { processWebhookJob } from './jobs/process-webhook.job.ts'
import { syncResourceJob } from './jobs/sync-resource.job.ts'
import { syncTenantJob } from './jobs/sync-tenant.job.ts'
import { sweepWebhookReceiptsJob } from './jobs/sweep-webhook-receipts.job.ts'
import { sweepOAuthStatesJob } from './jobs/sweep-oauth-states.job.ts'
import { pruneWebhookReceiptsJob } from './jobs/prune-webhook-receipts.job.ts'
import { registerFleetMetrics } from './fleet-metrics.ts'
import { createWorker } from './worker.ts'
import { createWorkerMetrics, startMetricsServer } from './metrics.ts'
import { loadWorkerConfig, parseWorkerArgs } from './config.ts'
import { startHeartbeat } from './heartbeat.ts'

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
  // The worker's cross-tenant role (schedulers, sweepers): system mode only inside withSystem;
  // its tenant transactions are signed and confined by RLS like the API's.
  const { db, pool } = createDb({
    url: config.DATABASE_SYSTEM_URL,
    applicationName: 'xeno-worker',
    poolMax: config.DATABASE_POOL_MAX,
    onError: (err) => logger.warn({ err: { message: err.message } }, 'postgres pool error'),
    tenantContextKey: tenantContextKey(config),
  })
  const shutdown = new AbortController()
  // Registered first, so a SIGTERM while still waiting for the database exits 0 at once.
  const running: { stop?: () => Promise<void> } = {}
  onShutdownSignals({
    logger,
    graceMs: config.SHUTDOWN_GRACE_MS,
    abort: shutdown,
    stop: async () => {
      if (running.stop) await running.stop()
      else await db.destroy()
    },
  })
  // Jobs touch every table: wait until the schema is at this build's latest migration (a
  // worker started before the migrator would otherwise fail its jobs on missing relations).
  const latestMigration = await latestMigrationName()
  let reason: string | null
  try {
    reason = await retryForever(
      async () => {
        const bypass = await rlsBypassReason(db, { system: true })
        if (bypass) return bypass
        const schema = await schemaStatus(db, latestMigration)
        if (!schema.current)
          throw new Error(
            `schema not migrated yet (applied ${schema.applied ?? 'none'}, this build needs ${schema.latest})`,
          )
        return null
      },
      {
        signal: shutdown.signal,
        onError: (err, attempt, delayMs) =>
          logger.warn(
            { err: { message: (err as Error).message }, attempt, delayMs },
            'database not ready, retrying',
          ),
      },
    )
  } catch (err) {
    if (shutdown.signal.aborted) return // the shutdown handler exits
    throw err
  }
  if (reason) {
    logger.fatal(
      { reason },
      'DATABASE_SYSTEM_URL must connect as the non-owner system role (a member of xeno_cross_tenant)',
    )
    process.exit(1)
  }

  // Producer side (fail-fast connection): the sweeper and follow-up jobs enqueue from here.
  const producerRedis = createRedis(config.REDIS_URL, 'producer', (err) =>
    logger.warn({ err: { message: err.message } }, 'redis connection error'),
  )
  const producer = createProducer({
    connection: producerRedis,
    prefix: queuePrefix(config.QUEUE_PREFIX),
    webhookShards: config.WEBHOOK_QUEUE_SHARDS,
  })

  // Ingestion (issue 5).
  const cipher = createTokenCipher(tokenKeys(config))
  const shopifyAdmin = createShopifyAdmin({
    clientId: config.SHOPIFY_CLIENT_ID,
    clientSecret: config.SHOPIFY_CLIENT_SECRET,
    apiVersion: config.SHOPIFY_API_VERSION,
    adminOrigin: config.SHOPIFY_ADMIN_ORIGIN,
    onRetry: (info) => logger.info(info, 'shopify request retried'),
  })
  const bulkSignal = createBulkFinishSignal({ databaseUrl: config.DATABASE_URL, logger })
  const syncScheduler = createSyncScheduler({
    producer,
    intervalMinutes: config.SYNC_INTERVAL_MINUTES,
  })
  const shopAccess = createShopAccessService({
    db,
    cipher,
    refresh: shopifyAdmin.refreshAccessToken,
  })
  const sync = createSyncService({
    db,
    admin: shopifyAdmin,
    access: shopAccess,
    log: logger,
    onTenantStopped: (tenantId) => syncScheduler.remove(tenantId),
    bulkFinished: (operationId) => bulkSignal.waitFor(operationId),
  })

  // Webhook processing (issue 6).
  const receipts = createWebhookReceiptRepository(db)
  const webhookProcessor = createWebhookProcessor({
    db,
    receipts,
    compliance: createComplianceRepository(db),
    readback: createShopReadback({ admin: shopifyAdmin, access: shopAccess, logger }),
    logger,
    afterUninstall: async (tenantId) => {
      await syncScheduler.remove(tenantId)
      const dropped = await removeQueuedTenantJobs(producer, tenantId)
      logger.info(
        { tenantId, dropped },
        'tenant uninstalled: schedules removed, queued work dropped',
      )
    },
    onBulkFinished: (_tenantId, gid) => bulkSignal.notify(gid, pool),
  })
  const webhookSweeper = createWebhookSweeper({ receipts, producer, logger })
  const installRepo = createInstallRepository(db)

  // The producer connection fails fast (no offline queue): a Queue first used before it is ready
  // fails (the sweeper's schedule was lost that way on a fresh start). Workers need Redis anyway.
  if (producerRedis.status !== 'ready') await once(producerRedis, 'ready')

  const worker = createWorker({
    logger,
    connect: () =>
      createRedis(config.REDIS_URL, 'worker', (err) =>
        logger.warn({ err: { message: err.message } }, 'redis connection error'),
      ),
    prefix: queuePrefix(config.QUEUE_PREFIX),
    webhookShards: config.WEBHOOK_QUEUE_SHARDS,
    queues: args.queues,
    concurrency: args.concurrency,
    handlers: {
      'sync-resource': syncResourceJob({ sync, scheduler: syncScheduler }),
      'sync-tenant': syncTenantJob({ scheduler: syncScheduler }),
      'process-webhook': processWebhookJob({ processor: webhookProcessor }),
      'sweep-webhook-receipts': sweepWebhookReceiptsJob({ sweeper: webhookSweeper }),
      'sweep-oauth-states': sweepOAuthStatesJob({
        // An hour past expiry: a late callback still finds its state (and says it expired).
        sweep: () => installRepo.deleteExpiredStates(new Date(), 60 * 60_000),
      }),
      'prune-webhook-receipts': pruneWebhookReceiptsJob({ sweeper: webhookSweeper }),
    },
  })
  worker.start()
  // Job durations and failures (issue 8), served on WORKER_METRICS_PORT when set.
  const metrics = createWorkerMetrics()
  for (const w of worker.workers()) metrics.attach(w)
  // The fleet-wide gauges, from this worker only when it is the exporter (one per fleet).
  if (args.exporter)
    registerFleetMetrics({
      registry: metrics.registry,
      queues: producer.allQueues,
      repository: createMetricsRepository(db),
      logger,
      staleAfterSeconds: config.SYNC_STALE_AFTER_SECONDS,
    })
  const metricsServer =
    config.WORKER_METRICS_PORT === undefined
      ? undefined
      : await startMetricsServer({
          registry: metrics.registry,
          port: config.WORKER_METRICS_PORT,
          host: config.WORKER_METRICS_HOST,
          token: config.METRICS_TOKEN,
          logger,
        })
  const assertSchedules = async () => {
    // Schedules come from one place (the sync scheduler); re-assert them for every active tenant.
    if (args.queues.includes('sync'))
      void sync
        .schedulableTenants()
        .then((ids) => Promise.all(ids.map((id) => syncScheduler.ensure(id))))
        .catch((err: Error) =>
          logger.warn({ err: { message: err.message } }, 'schedules not ensured'),
        )
    // The inbox sweeper runs every 30 s on whichever worker takes the maintenance queue.
    await producer
      .queue('maintenance')
      .upsertJobScheduler(
        'sweep-webhook-receipts',
        { every: 30_000 },
        { name: 'sweep-webhook-receipts', data: { olderThanMs: 30_000 } },
      )
      .catch((err: Error) =>
        logger.warn({ err: { message: err.message } }, 'cannot schedule the sweeper'),
      )
    await producer
      .queue('maintenance')
      .upsertJobScheduler(
        'sweep-oauth-states',
        { every: 5 * 60_000 },
        { name: 'sweep-oauth-states', data: {} },
      )
      .catch((err: Error) =>
        logger.warn({ err: { message: err.message } }, 'cannot schedule the OAuth state sweep'),
      )
    // Inbox retention, hourly: processed receipts older than WEBHOOK_RETENTION_DAYS go.
    await producer
      .queue('maintenance')
      .upsertJobScheduler(
        'prune-webhook-receipts',
        { every: 3_600_000 },
        {
          name: 'prune-webhook-receipts',
          data: { retentionDays: config.WEBHOOK_RETENTION_DAYS, batchSize: 1000 },
        },
      )
      .catch((err: Error) =>
        logger.warn({ err: { message: err.message } }, 'cannot schedule the inbox retention'),
      )
  }
  await assertSchedules()
  // Again after every reconnect: a Redis restarted without its data lost every repeatable job,
  // and without the sweeper the receipts whose jobs were lost would never be applied.
  producerRedis.on('ready', () => void assertSchedules())
  // On a Redis Cluster the connection stays ready while one master restarts empty: the node
  // rejoining the connection pool is the sign that the keys it held (a schedule) may be gone.
  let rejoined: NodeJS.Timeout | undefined
  if (isCluster(producerRedis))
    producerRedis.on('+node', () => {
      clearTimeout(rejoined)
      rejoined = setTimeout(() => void assertSchedules(), 1_000)
    })

  const heartbeat =
    config.WORKER_HEARTBEAT_FILE === undefined
      ? undefined
      : startHeartbeat({
          file: config.WORKER_HEARTBEAT_FILE,
          alive: () =>
            producerRedis.status === 'ready' && worker.workers().every((w) => w.isRunning()),
        })

  running.stop = async () => {
    heartbeat?.stop()
    clearTimeout(rejoined)
    await worker.stop() // lets active jobs finish; they are not left stalled
    await metricsServer?.close()
    await producer.close()
    producerRedis.disconnect()
    await bulkSignal.close()
    await db.destroy()
  }
}

await main()
