/** Error kinds the API maps to status codes. */
export * from './errors.ts'
/** Dependency readiness. */
export { createHealthService } from './health/health.service.ts'
export type { HealthService, HealthReport } from './health/health.service.ts'
/** Backoff helper for start-up connections. */
export { retryForever, abortableSleep } from './retry.ts'
/** AES-256-GCM for Shopify tokens at rest, tenant-bound, with key rotation. */
export { createTokenCipher } from './crypto/token-cipher.ts'
export { bearerMatches } from './crypto/bearer.ts'
export { onShutdownSignals } from './process/shutdown.ts'
export type { TokenCipher, TokenCipherKeys } from './crypto/token-cipher.ts'
/** argon2id password hashing (OWASP floor or above) with rehash-on-login. */
export { createPasswordHasher, PASSWORD_PARAMS } from './identity/password.ts'
export type { PasswordHasher } from './identity/password.ts'
/** Session lifetimes (idle + absolute). */
export { DEFAULT_SESSION_POLICY } from './identity/session-policy.ts'
export type { SessionPolicy } from './identity/session-policy.ts'
/** API key format (`xeno_` + 256 random bits). */
export { API_KEY_PREFIX, API_KEY_RE } from './identity/secrets.ts'
/** Admins: bootstrap, CLI creation, login, sessions. */
export { createAdminAuthService } from './identity/admin-auth.service.ts'
export type { AdminAuthService } from './identity/admin-auth.service.ts'
/** Tenant users: accounts, roles, sessions, HTTP Basic with a verified-credentials cache. */
export { createTenantUserService } from './identity/tenant-user.service.ts'
export type {
  TenantUserService,
  TenantRole,
  TenantUserIdentity,
} from './identity/tenant-user.service.ts'
export { createBasicAuthCache } from './identity/basic-auth-cache.ts'
export type { BasicAuthCache } from './identity/basic-auth-cache.ts'
/** API keys: shown once, stored as HMAC-SHA256(pepper, key), revocable. */
export { createApiKeyService } from './identity/api-key.service.ts'
export type { ApiKeyService } from './identity/api-key.service.ts'
/** Tenants: creation, listing, shop lookup, the manual Admin API token. */
export { createTenantService } from './tenancy/tenant.service.ts'
export type { TenantService, TenantRow } from './tenancy/tenant.service.ts'
export { createTenantRepository } from './tenancy/tenant.repository.ts'
export type { TenantRepository } from './tenancy/tenant.repository.ts'
/** The manual-token check against Shopify (injected; production does one GraphQL call). */
export { createShopTokenChecker } from './tenancy/shop-token-check.ts'
export type { CheckShopToken, ShopDetails } from './tenancy/shop-token-check.ts'
/** Analytics of DESIGN.md §6 (shop zone, decimal money) and the rollups writers keep current. */
export {
  createAnalyticsService,
  refreshAnalyticsRollups,
  rebuildAnalyticsRollups,
  writeWithRollups,
  resolveRange,
  formatMoney,
  CHECKOUT_STARTED_EVENT,
} from './analytics/analytics.service.ts'
export type { AnalyticsService, Granularity, RangeInput } from './analytics/analytics.service.ts'
/** Series comparison: the previous period or year, aligned bucket by bucket. */
export {
  COMPARE_MODES,
  comparisonRange,
  withComparison,
  addMonths,
  bucketCount,
} from './analytics/compare.ts'
export type { CompareMode } from './analytics/compare.ts'
/** Customer analytics: cohorts, repeat purchase, RFM segments, lifetime value. */
export {
  createCustomerAnalyticsService,
  RFM_SEGMENTS,
  LTV_HORIZONS,
} from './analytics/customer-analytics.service.ts'
export type {
  CustomerAnalyticsService,
  CohortGranularity,
  RfmSegment,
} from './analytics/customer-analytics.service.ts'
/** Custom events (POST /api/events): validation schema, idempotent batch recording. */
export {
  createEventsService,
  recordCustomEvents,
  customEventInput,
  customEventsBody,
  MAX_EVENTS_PER_BATCH,
} from './events/events.service.ts'
export type { EventsService, CustomEventInput, CustomEventsBody } from './events/events.service.ts'
/** Webhooks: intake (HMAC → inbox → enqueue), processing, sweeper/replay, compliance. */
export { createWebhookReceiptRepository } from './webhooks/webhook-receipt.repository.ts'
export type {
  AdminReceipt,
  ReceiptStatus,
  WebhookReceiptRepository,
} from './webhooks/webhook-receipt.repository.ts'
export { createWebhookIntakeService } from './webhooks/webhook-intake.service.ts'
export { createWebhookInbox } from './webhooks/webhook-inbox.service.ts'
export type { WebhookInbox } from './webhooks/webhook-inbox.service.ts'
export type {
  WebhookIntakeService,
  WebhookHeaders,
  IntakeResult,
} from './webhooks/webhook-intake.service.ts'
export { createWebhookProcessor, RetryLaterError } from './webhooks/webhook-processor.service.ts'
export type { WebhookProcessor } from './webhooks/webhook-processor.service.ts'
export { createShopReadback } from './webhooks/shop-readback.service.ts'
export type { ShopReadback } from './webhooks/shop-readback.service.ts'
export { createWebhookSweeper } from './webhooks/webhook-sweeper.service.ts'
export type { WebhookSweeper } from './webhooks/webhook-sweeper.service.ts'
export { createComplianceRepository } from './webhooks/compliance.repository.ts'
export type { ComplianceRepository } from './webhooks/compliance.repository.ts'
/** Upserts of Shopify rows (updated_at-guarded, batched), shared by sync and webhooks. */
export {
  upsertCustomers,
  upsertProducts,
  upsertOrders,
  upsertRefunds,
  markDeleted,
} from './store/store.repository.ts'
/** A valid Admin API token per tenant, refreshing expiring tokens once under a row lock. */
export {
  createShopAccessService,
  MissingCredentialsError,
} from './credentials/shop-access.service.ts'
export type { ShopAccessService, ShopAccess } from './credentials/shop-access.service.ts'
/** Ingestion: bulk backfill/reconcile and paged incremental sync, single-flight per resource. */
export { createSyncService, SyncStoppedError, DEFAULT_SYNC_OPTIONS } from './sync/sync.service.ts'
export type { SyncService, SyncOptions, SyncOutcome } from './sync/sync.service.ts'
export type { Checkpoint, SyncResource, SyncMode } from './sync/sync.repository.ts'
/** Sync schedules (the only place that creates them) and the per-resource enqueue. */
export { createSyncScheduler, syncDedupId } from './sync/sync-scheduler.ts'
export type { SyncScheduler } from './sync/sync-scheduler.ts'
/** The API side of ingestion: trigger (enqueue only) and per-resource sync status. */
export { createIngestService } from './sync/sync-status.service.ts'
export type { IngestService, ResourceStatus } from './sync/sync-status.service.ts'
/** Shopify install (OAuth authorization code grant). */
export { createInstallService } from './install/install.service.ts'
export type { InstallService, InstallConfig } from './install/install.service.ts'
export { createInstallRepository } from './install/install.repository.ts'
export { createBulkFinishSignal } from './webhooks/bulk-finish-signal.ts'
export type { BulkFinishSignal } from './webhooks/bulk-finish-signal.ts'
export { removeQueuedTenantJobs } from './webhooks/tenant-jobs.ts'
/** Fleet-wide reads for the metrics exporter (sync lag aggregates, webhook inbox by status). */
export { createMetricsRepository } from './metrics/metrics.repository.ts'
export { SYNC_LAG_BUCKETS } from './metrics/metrics.repository.ts'
export { collectProcessMetrics } from './metrics/process-metrics.ts'
export type { MetricsRepository, SyncLagAggregate } from './metrics/metrics.repository.ts'
export { createWebhookApi } from './webhooks/webhook-routes.deps.ts'
export type { WebhookApi } from './webhooks/webhook-routes.deps.ts'
