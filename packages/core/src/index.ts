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
