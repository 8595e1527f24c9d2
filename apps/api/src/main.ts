// Composition root of the API process: reads config, opens pools, builds services, serves,
// and shuts down gracefully on SIGTERM/SIGINT.
import { ConfigError, tenantContextKey, tokenKeys } from '@xeno/config'
import { createLogger } from '@xeno/logger'
import {
  createDb,
  latestMigrationName,
  migrateToLatest,
  pingDb,
  rlsBypassReason,
  schemaStatus,
} from '@xeno/db'
import { createProducer, createRedis, pingRedis, queuePrefix } from '@xeno/queues'
import {
  createApiKeyService,
  createAdminAuthService,
  createHealthService,
  createPasswordHasher,
  createShopTokenChecker,
  createTenantService,
  createTenantUserService,
  createTokenCipher,
  onShutdownSignals,
  retryForever,
  createWebhookApi,
  createAnalyticsService,
  createCustomerAnalyticsService,
  createEventsService,
  createIngestService,
  createSyncScheduler,
  createInstallService,
  createInstallRepository,
  createShopAccessService,
} from '@xeno/core'
import { createAdminFetch, createShopifyAdmin, exchangeAuthorizationCode } from '@xeno/shopify'
import { fileURLToPath } from 'node:url'
import { buildApp } from './app.ts'
import { admissionLimits, loadApiConfig } from './config.ts'

async function main() {
  let config
  try {
    config = loadApiConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'xeno-api' })
  // The API's only role: tenant transactions signed with the tenant-context key, no system mode.
  const contextKey = tenantContextKey(config)
  const { db } = createDb({
    url: config.DATABASE_URL,
    applicationName: 'xeno-api',
    poolMax: config.DATABASE_POOL_MAX,
    acquireTimeoutMs: config.DATABASE_ACQUIRE_TIMEOUT_MS,
    onError: (err) => logger.warn({ err }, 'postgres pool error'),
    tenantContextKey: contextKey,
  })
  // Readiness and webhook intake get pools of their own: a burst of analytics that fills the
  // main pool must neither fail the health check (an orchestrator would restart the API) nor
  // slow Shopify's deliveries toward their 5 s timeout.
  const { db: healthDb } = createDb({
    url: config.DATABASE_URL,
    applicationName: 'xeno-api-health',
    poolMax: 1,
    acquireTimeoutMs: config.DATABASE_ACQUIRE_TIMEOUT_MS,
    onError: (err) => logger.warn({ err }, 'postgres pool error (health)'),
    tenantContextKey: contextKey,
  })
  const { db: webhookDb } = createDb({
    url: config.DATABASE_URL,
    applicationName: 'xeno-api-webhooks',
    poolMax: config.DATABASE_WEBHOOK_POOL_MAX,
    acquireTimeoutMs: config.DATABASE_ACQUIRE_TIMEOUT_MS,
    onError: (err) => logger.warn({ err }, 'postgres pool error (webhooks)'),
    tenantContextKey: contextKey,
  })
  const redis = createRedis(config.REDIS_URL, 'producer', (err) =>
    logger.warn({ err: { message: err.message } }, 'redis connection error'),
  )
  const producer = createProducer({
    connection: redis,
    prefix: queuePrefix(config.QUEUE_PREFIX),
    webhookShards: config.WEBHOOK_QUEUE_SHARDS,
  })
  // Bull Board and /metrics hold their Queue objects from the start, before Redis may be ready:
  // their own connection queues commands while it connects (the producer's fails fast).
  const opsRedis = createRedis(
    config.REDIS_URL,
    'producer',
    (err) => logger.warn({ err: { message: err.message } }, 'redis connection error (ops)'),
    { enableOfflineQueue: true },
  )
  const opsQueues = createProducer({
    connection: opsRedis,
    prefix: queuePrefix(config.QUEUE_PREFIX),
    webhookShards: config.WEBHOOK_QUEUE_SHARDS,
  })
  // Readiness waits for the schema this build ships: with AUTO_MIGRATE, for our own migration.
  const latestMigration = await latestMigrationName()
  const health = createHealthService({
    pingDb: () => pingDb(healthDb),
    pingRedis: () => pingRedis(redis),
    schemaCurrent: async () => (await schemaStatus(db, latestMigration)).current,
  })

  // Identity and tenancy (issue 4).
  const hasher = createPasswordHasher()
  const cipher = createTokenCipher(tokenKeys(config))
  const auth = {
    admins: createAdminAuthService({ db, hasher, bootstrapToken: config.ADMIN_BOOTSTRAP_TOKEN }),
    tenantUsers: createTenantUserService({ db, hasher }),
    apiKeys: createApiKeyService({ db, pepper: config.API_PEPPER }),
    tenants: createTenantService({
      db,
      cipher,
      checkShopToken: createShopTokenChecker({
        apiVersion: config.SHOPIFY_API_VERSION,
        adminOrigin: config.SHOPIFY_ADMIN_ORIGIN,
      }),
    }),
    appUrl: config.APP_URL,
    cookieSecure: config.COOKIE_SECURE,
    // Limiter state shared by every API replica.
    limiterStore: { redis, prefix: queuePrefix(config.QUEUE_PREFIX) },
  }

  // Shopify signatures: the client secret, then the previous one while rotating.
  const secrets = [config.SHOPIFY_CLIENT_SECRET, config.SHOPIFY_CLIENT_SECRET_PREVIOUS].filter(
    (s): s is string => !!s,
  )
  // Shopify webhooks (issue 6): intake stays fast — HMAC, inbox row, enqueue.
  const webhooks = createWebhookApi({ db: webhookDb, producer, secrets, logger })

  // Analytics and custom events (issue 7).
  const analytics = createAnalyticsService({ db })
  const customerAnalytics = createCustomerAnalyticsService({ db })
  const events = createEventsService({ db })

  // Ingestion trigger and status (issue 5): enqueue only; workers own schedules and Shopify calls.
  const scheduler = createSyncScheduler({ producer, intervalMinutes: config.SYNC_INTERVAL_MINUTES })
  const ingest = createIngestService({ db, scheduler })

  // Shopify install (issue 6): OAuth code grant → encrypted expiring token → webhooks → backfill.
  const shopifyAdmin = createShopifyAdmin({
    clientId: config.SHOPIFY_CLIENT_ID,
    clientSecret: config.SHOPIFY_CLIENT_SECRET,
    apiVersion: config.SHOPIFY_API_VERSION,
    adminOrigin: config.SHOPIFY_ADMIN_ORIGIN,
    maxAttempts: 3,
  })
  const adminFetch = createAdminFetch(config.SHOPIFY_ADMIN_ORIGIN)
  const shopAccess = createShopAccessService({
    db,
    cipher,
    refresh: shopifyAdmin.refreshAccessToken,
  })
  const redirectUri = config.SHOPIFY_REDIRECT_URI ?? `${config.APP_URL}/api/shopify/callback`
  const shopify = {
    install: createInstallService({
      repo: createInstallRepository(db),
      config: {
        clientId: config.SHOPIFY_CLIENT_ID,
        secrets,
        scopes: config.SHOPIFY_SCOPES,
        redirectUri,
        appUrl: config.APP_URL,
      },
      exchangeCode: (shop, code) =>
        exchangeAuthorizationCode({
          shop,
          code,
          clientId: config.SHOPIFY_CLIENT_ID,
          clientSecret: config.SHOPIFY_CLIENT_SECRET,
          fetch: adminFetch,
        }),
      storeGrant: (tenantId, grant) => shopAccess.storeGrant(tenantId, grant),
      shopClient: (shop, token) => shopifyAdmin.forShop(shop, token),
      startSync: async (tenantId, requestId) => {
        await scheduler.ensure(tenantId)
        await scheduler.enqueueTenant(tenantId, 'full', undefined, requestId)
      },
      logger,
    }),
    oauthConfig: {
      clientId: config.SHOPIFY_CLIENT_ID,
      clientSecretSet: config.SHOPIFY_CLIENT_SECRET.length > 0,
      scopes: config.SHOPIFY_SCOPES,
      redirectUri,
      appUrl: config.APP_URL,
      apiVersion: config.SHOPIFY_API_VERSION,
      adminOrigin: config.SHOPIFY_ADMIN_ORIGIN ?? null,
    },
  }

  const app = await buildApp({
    logger,
    health,
    bodyTimeoutMs: config.REQUEST_BODY_TIMEOUT_MS,
    auth,
    webhooks,
    analytics,
    customerAnalytics,
    events,
    ingest,
    shopify,
    // Operator surfaces (issue 8): /metrics and Bull Board over every queue of the catalog.
    metrics: { token: config.METRICS_TOKEN },
    bullBoard: { queues: opsQueues.allQueues(), readOnly: config.BULL_BOARD_READ_ONLY },
    admission: admissionLimits(config),
    trustProxy: config.TRUST_PROXY,
    // The dashboard under /app/ (built by `pnpm --filter @xeno/web build`; the images ship it).
    web: { root: fileURLToPath(new URL('../../web/dist', import.meta.url)) },
  })
  const shutdown = new AbortController()

  // Postgres may be down at start: keep serving /api/health (503) and retry with backoff.
  const ready = retryForever(
    async () => {
      if (config.AUTO_MIGRATE) {
        await migrateToLatest({
          ownerUrl: config.DATABASE_OWNER_URL ?? config.DATABASE_URL,
          runtimeUrl: config.DATABASE_URL,
          // Only to create the worker's role; the API never connects with it.
          systemUrl: config.DATABASE_SYSTEM_URL,
          tenantContextKey: contextKey,
          onProgress: (m) => logger.info({ migration: m }, 'migration'),
        })
      }
      return rlsBypassReason(db)
    },
    {
      signal: shutdown.signal,
      onError: (err, attempt, delayMs) =>
        logger.warn(
          { err: { message: (err as Error).message }, attempt, delayMs },
          'database not ready, retrying',
        ),
    },
  ).then(async (reason) => {
    if (reason) {
      logger.fatal(
        { reason },
        'DATABASE_URL must connect as the non-owner runtime role; refusing to run without row-level security',
      )
      process.exit(1)
    }
    // In production a deployment nobody has claimed yet must not be claimable by whoever
    // reaches it first: without ADMIN_BOOTSTRAP_TOKEN, an admin must already exist.
    if (config.NODE_ENV === 'production' && config.ADMIN_BOOTSTRAP_TOKEN === undefined) {
      const exists = await retryForever(() => auth.admins.exists(), {
        signal: shutdown.signal,
        onError: (err, attempt, delayMs) =>
          logger.warn(
            { err: { message: (err as Error).message }, attempt, delayMs },
            'database not ready, retrying',
          ),
      })
      if (!exists) {
        const err = new ConfigError(
          [
            {
              variable: 'ADMIN_BOOTSTRAP_TOKEN',
              message:
                'is required while no admin exists (or create the first admin: node apps/api/src/cli/main.ts admin-create --username NAME)',
            },
          ],
          'refused in production (NODE_ENV=production)',
        )
        process.stderr.write(`${err.message}\n`)
        process.exit(1)
      }
    }
    logger.info('database ready')
  })
  ready.catch(() => {})

  // Node's default accept backlog (511) resets connections of a burst larger than it before
  // admission control can answer them 429; the kernel caps this at net.core.somaxconn.
  await app.listen({ port: config.PORT, host: config.HOST, backlog: 4096 })

  onShutdownSignals({
    logger,
    graceMs: config.SHUTDOWN_GRACE_MS,
    abort: shutdown,
    stop: async () => {
      await app.close() // stops accepting, lets in-flight requests finish
      await webhooks.close() // receipts still committing (their requests have finished already)
      await producer.close()
      await opsQueues.close()
      redis.disconnect()
      opsRedis.disconnect()
      await db.destroy()
      await webhookDb.destroy()
      await healthDb.destroy()
    },
  })
}

await main()
