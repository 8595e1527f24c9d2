/** Fake Shopify for tests, the demo and benchmarks. Never imported by production code. */
export { createFakeShopify } from './server.ts'
export type {
  CreatedShop,
  Fault,
  FakeApp,
  FakeShopify,
  FakeShopifyOptions,
  IssuedToken,
} from './server.ts'
/** Injectable clock (manual or real-time, optionally sped up). */
export { createClock } from './clock.ts'
export type { Clock, ClockOptions } from './clock.ts'
/** Deterministic store generation. */
export {
  generateCustomer,
  generateOrder,
  generateProduct,
  resolveSpec,
  totalRefunded,
  PLAN_THROTTLE,
} from './generator.ts'
export type { GenSpec } from './generator.ts'
export type {
  FakeCustomer,
  FakeLineItem,
  FakeOrder,
  FakeProduct,
  FakeRefund,
  FakeRefundLineItem,
  FakeVariant,
  PlanName,
  ShopInfo,
  ShopParams,
  TruthRow,
} from './types.ts'
export type { OrderInput, RefundInput, ShopStore, StoreEvent } from './store.ts'
/** Shopify's signatures, for tests that sign or verify by hand. */
export { oauthHmac } from './oauth.ts'
export { webhookHmac, RETRY_SCHEDULE_MS } from './webhooks.ts'
export type { DeliveryKnobs, DeliveryRecord } from './webhooks.ts'
/** Shopify's scalar formats. */
export { decimal, gid, isoSeconds, parseGid } from './format.ts'
/** Path of the saved 2026-10 schema the fake executes against. */
export { DEFAULT_SCHEMA_PATH, loadSchema } from './schema.ts'
