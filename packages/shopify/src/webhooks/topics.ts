/** Data topics Xeno subscribes to through webhookSubscriptionCreate (FACTS.md §4.2). */
export const DATA_TOPICS = [
  'orders/create',
  'orders/updated',
  'orders/cancelled',
  'orders/paid',
  'orders/delete',
  'refunds/create',
  'customers/create',
  'customers/update',
  'customers/delete',
  'products/create',
  'products/update',
  'products/delete',
  'app/uninstalled',
  'bulk_operations/finish',
] as const

/** Mandatory compliance topics: configured in the Partner Dashboard, never through the API. */
export const COMPLIANCE_TOPICS = [
  'customers/data_request',
  'customers/redact',
  'shop/redact',
] as const

export const WEBHOOK_TOPICS = [...DATA_TOPICS, ...COMPLIANCE_TOPICS] as const
export type WebhookTopic = (typeof WEBHOOK_TOPICS)[number]

export function isWebhookTopic(t: string): t is WebhookTopic {
  return (WEBHOOK_TOPICS as readonly string[]).includes(t)
}

/** `orders/create` → `ORDERS_CREATE` (the GraphQL WebhookSubscriptionTopic value). */
export function graphqlTopic(topic: string): string {
  return topic.replace('/', '_').toUpperCase()
}
