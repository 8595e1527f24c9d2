/** Shop domain validation and normalisation. */
export { normalizeShopDomain } from './shop-domain.ts'
/** The Admin API client: per-shop GraphQL with throttle budget, retries, paging; token refresh. */
export { createShopifyAdmin, backoffMs } from './admin-client.ts'
export type {
  ShopifyAdmin,
  ShopifyAdminOptions,
  ShopClient,
  TokenGrant,
  RequestStats,
} from './admin-client.ts'
/** The per-shop throttle budget fed by extensions.cost.throttleStatus. */
export { createThrottleBudget } from './throttle.ts'
export type { ThrottleBudget, ThrottleStatus } from './throttle.ts'
/** Errors the client throws, by whether a retry can help. */
export {
  ShopifyError,
  ShopifyAuthError,
  ShopifyShopUnavailableError,
  ShopifyTransientError,
  ShopifyQueryError,
} from './errors.ts'
/** Every GraphQL document the client sends, and the node shapes they return. */
export * from './documents.ts'
/** Bulk operations: run, poll or be woken, stream the JSONL result. */
export {
  runBulkQuery,
  getBulkOperation,
  cancelBulkOperation,
  waitForBulkOperation,
  streamJsonl,
  countBulkRoots,
  bulkPercent,
} from './bulk.ts'
export type { BulkResource } from './bulk.ts'
/** Normalisers from GraphQL nodes and REST webhook payloads to the same row types. */
export * from './normalise.ts'
/** Webhook HMAC (base64 HMAC-SHA256 of the raw body) and topics. */
export { webhookHmac, verifyWebhookHmac } from './webhooks/hmac.ts'
export * from './webhooks/topics.ts'
export * from './webhooks/payloads.ts'
/** REST JSON parsing that keeps 64-bit ids exact. */
export { parseShopifyJson } from './json.ts'
/** OAuth: authorize URL, callback HMAC, code exchange, scope check; the admin-origin fetch. */
export {
  authorizeUrl,
  oauthQueryHmac,
  verifyOAuthQuery,
  exchangeAuthorizationCode,
  createAdminFetch,
  missingScopes,
  OAUTH_TIMESTAMP_TOLERANCE_SEC,
} from './oauth.ts'
/** Idempotent webhook subscription registration after install. */
export { registerWebhooks, webhookUri } from './webhooks/subscriptions.ts'
