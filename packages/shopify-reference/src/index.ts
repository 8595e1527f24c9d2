import { fileURLToPath } from 'node:url'

/** The Admin API version whose published GraphQL schema is kept in `schema/`. */
export const ADMIN_API_VERSION = '2026-10'

/** The webhook API version whose published sample payloads are kept in `webhooks/`. */
export const WEBHOOK_SAMPLES_VERSION = '2026-07'

/** Shopify's Admin GraphQL schema (SDL) of the pinned version. */
export const ADMIN_SCHEMA_PATH = fileURLToPath(
  new URL(`../schema/admin_${ADMIN_API_VERSION}.graphql`, import.meta.url),
)

/**
 * Shopify's sample webhook payloads (`<topic with / as __>.json`), the example delivery headers
 * with real HMAC signatures (`_headers.json`) and the topic index (`_index.json`).
 */
export const WEBHOOK_SAMPLES_DIR = fileURLToPath(
  new URL(`../webhooks/${WEBHOOK_SAMPLES_VERSION}/`, import.meta.url),
)
