/** Error kinds the API maps to status codes. */
export * from './errors.ts'
/** Dependency readiness. */
export { createHealthService } from './health/health.service.ts'
export type { HealthService, HealthReport } from './health/health.service.ts'
/** Backoff helper for start-up connections. */
export { retryForever } from './retry.ts'
/** AES-256-GCM for Shopify tokens at rest, tenant-bound, with key rotation. */
export { createTokenCipher } from './crypto/token-cipher.ts'
export type { TokenCipher, TokenCipherKeys } from './crypto/token-cipher.ts'
/** Analytics of DESIGN.md §6 (shop zone, decimal money) and the rollups writers keep current. */
export {
  createAnalyticsService,
  refreshAnalyticsRollups,
  rebuildAnalyticsRollups,
  resolveRange,
  formatMoney,
  CHECKOUT_STARTED_EVENT,
} from './analytics/analytics.service.ts'
export type { AnalyticsService, Granularity, RangeInput } from './analytics/analytics.service.ts'
/** Custom events (POST /api/events): validation schema, idempotent batch recording. */
export {
  createEventsService,
  recordCustomEvents,
  customEventInput,
  customEventsBody,
  MAX_EVENTS_PER_BATCH,
} from './events/events.service.ts'
export type { EventsService, CustomEventInput, CustomEventsBody } from './events/events.service.ts'
