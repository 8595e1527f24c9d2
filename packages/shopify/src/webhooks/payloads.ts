import { z } from 'zod'
import type { WebhookTopic } from './topics.ts'

// The shape of each topic's body, as far as Xeno relies on it. Shopify adds fields between API
// versions, so unknown keys pass; but every key Xeno reads must be there with the right type,
// and the keys that identify *another* topic's body are refused, so a captured body of one
// topic cannot be re-sent under another (the topic header is not signed, only the body is).
// Ids arrive as decimal strings from parseShopifyJson (they exceed 2^53) or as numbers from a
// plain JSON.parse; both are accepted.

const id = z.union([
  z.string().regex(/^[1-9]\d{0,19}$/, 'expected a Shopify numeric id'),
  z.number().int().positive(),
])
const gid = (type: string) =>
  z.string().regex(new RegExp(`^gid://shopify/${type}/\\d{1,20}$`), `expected a ${type} gid`)
/** A key of another topic's body. */
const absent = z.never({ error: 'not part of this topic' }).optional()
const shopNaming = { shop_id: id, shop_domain: z.string().min(1).max(255) }

const order = z.looseObject({
  id,
  updated_at: z.string().min(1),
  line_items: z.array(z.unknown()),
  order_id: absent,
  variants: absent,
})
const onlyId = z.looseObject({ id, line_items: absent, variants: absent, order_id: absent })

export const WEBHOOK_PAYLOADS = {
  'orders/create': order,
  'orders/updated': order,
  'orders/cancelled': order,
  'orders/paid': order,
  'orders/delete': onlyId,
  'refunds/create': z.looseObject({
    id,
    order_id: id,
    refund_line_items: z.array(z.unknown()),
    line_items: absent,
  }),
  'customers/create': z.looseObject({
    id,
    updated_at: z.string().min(1),
    line_items: absent,
    variants: absent,
    order_id: absent,
    shop_id: absent,
  }),
  'customers/update': z.looseObject({
    id,
    updated_at: z.string().min(1),
    line_items: absent,
    variants: absent,
    order_id: absent,
    shop_id: absent,
  }),
  'customers/delete': onlyId,
  'products/create': z.looseObject({
    id,
    title: z.string(),
    variants: z.array(z.unknown()),
    line_items: absent,
  }),
  'products/update': z.looseObject({
    id,
    title: z.string(),
    variants: z.array(z.unknown()),
    line_items: absent,
  }),
  'products/delete': onlyId,
  // The body is the shop itself: its id and its myshopify domain (null in Shopify's published
  // sample; the intake refuses a body that does not name the header's shop).
  'app/uninstalled': z.looseObject({
    id,
    myshopify_domain: z.string().min(1).max(255).nullable(),
    line_items: absent,
    variants: absent,
  }),
  'bulk_operations/finish': z.looseObject({
    admin_graphql_api_id: gid('BulkOperation'),
    status: z.string().min(1),
  }),
  'customers/data_request': z.looseObject({
    ...shopNaming,
    customer: z.looseObject({ id }),
    orders_requested: z.array(id).optional(),
    data_request: z.looseObject({ id }),
    orders_to_redact: absent,
  }),
  'customers/redact': z.looseObject({
    ...shopNaming,
    customer: z.looseObject({ id }),
    orders_to_redact: z.array(id).optional(),
    orders_requested: absent,
    data_request: absent,
  }),
  'shop/redact': z.looseObject({
    ...shopNaming,
    customer: absent,
    orders_to_redact: absent,
    orders_requested: absent,
    data_request: absent,
  }),
} as const satisfies Record<WebhookTopic, z.ZodType>

export type WebhookPayload<T extends WebhookTopic> = z.infer<(typeof WEBHOOK_PAYLOADS)[T]>

export type PayloadCheck<T extends WebhookTopic> =
  { ok: true; payload: WebhookPayload<T> } | { ok: false; field: string; message: string }

/**
 * Checks a parsed body against its topic's shape; on failure names the first field at fault
 * (`body.customer.id`, `body` for the root).
 */
export function checkWebhookPayload<T extends WebhookTopic>(
  topic: T,
  value: unknown,
): PayloadCheck<T> {
  const r = WEBHOOK_PAYLOADS[topic].safeParse(value)
  if (r.success) return { ok: true, payload: r.data as WebhookPayload<T> }
  const issue = r.error.issues[0]!
  const field = ['body', ...issue.path.map(String)].join('.')
  return { ok: false, field, message: issue.message }
}
