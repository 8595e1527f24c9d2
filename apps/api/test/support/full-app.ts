// The test app with every optional feature wired (analytics, events, webhooks, Shopify install,
// ingest), so every route the product serves is registered. The cross-tenant suite and the
// fuzzer both build it; a feature whose routes need a service: add it here.
import type { Test } from 'tap'
import { createLogger } from '@xeno/logger'
import { createProducer, createRedis } from '@xeno/queues'
import { dropQueueKeys, testQueuePrefix, testRedisUrl } from '@xeno/queues/testing'
import {
  createAnalyticsService,
  createCustomerAnalyticsService,
  createComplianceRepository,
  createEventsService,
  createTenantRepository,
  createWebhookIntakeService,
  createWebhookReceiptRepository,
  createWebhookSweeper,
  createInstallRepository,
  createInstallService,
} from '@xeno/core'
import { buildTestApp, type TestAppOptions } from './app.ts'

/** The webhook secret of the full app's intake (sign deliveries with it). */
export const FULL_APP_WEBHOOK_SECRET = 'cross-tenant-webhook-secret'

/** buildTestApp with every feature; `options` are passed through (except `deps`). */
export async function fullApp(t: Test, options: Omit<TestAppOptions, 'deps'> = {}) {
  const logger = createLogger({ level: 'silent' })
  const redis = createRedis(testRedisUrl(), 'producer', () => {})
  const prefix = testQueuePrefix()
  const producer = createProducer({ connection: redis, prefix })
  t.teardown(async () => {
    await producer.close()
    await dropQueueKeys(redis, prefix)
    redis.disconnect()
  })
  return buildTestApp(t, {
    ...options,
    deps: ({ db }) => {
      const receipts = createWebhookReceiptRepository(db)
      const tenants = createTenantRepository(db)
      return {
        analytics: createAnalyticsService({ db }),
        customerAnalytics: createCustomerAnalyticsService({ db }),
        events: createEventsService({ db }),
        webhooks: {
          intake: createWebhookIntakeService({
            receipts,
            producer,
            secrets: [FULL_APP_WEBHOOK_SECRET],
            findTenantByShop: (shop) => tenants.findTenantByShopDomain(shop),
            logger,
          }),
          sweeper: createWebhookSweeper({ receipts, producer, logger }),
          compliance: createComplianceRepository(db),
        },
        shopify: {
          install: createInstallService({
            repo: createInstallRepository(db),
            config: {
              clientId: 'cross-tenant-client',
              secrets: [FULL_APP_WEBHOOK_SECRET],
              scopes: 'read_orders',
              redirectUri: 'http://127.0.0.1:3000/api/shopify/callback',
              appUrl: 'http://127.0.0.1:3000',
            },
            exchangeCode: () => Promise.reject(new Error('no token exchange in this suite')),
            storeGrant: () => Promise.reject(new Error('unused')),
            shopClient: () => ({ request: () => Promise.reject(new Error('unused')) }),
            startSync: () => Promise.resolve(),
            logger,
          }),
          oauthConfig: {
            clientId: 'cross-tenant-client',
            clientSecretSet: true,
            scopes: 'read_orders',
            redirectUri: 'http://127.0.0.1:3000/api/shopify/callback',
            appUrl: 'http://127.0.0.1:3000',
            apiVersion: '2026-10',
            adminOrigin: null,
          },
        },
      }
    },
  })
}
