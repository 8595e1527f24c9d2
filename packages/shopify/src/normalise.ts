import type { GqlCustomer, GqlLineItem, GqlOrder, GqlProduct, GqlRefund } from './documents.ts'

// One row shape per table, whatever the source (GraphQL node, bulk JSONL line, REST webhook):
// ids are decimal strings of the gid's numeric part (bigint columns; Kysely returns int8 as a
// string), money is a decimal string in the shop's currency, timestamps are ISO-8601 UTC.

export type CustomerRow = {
  id: string
  email: string | null
  firstName: string | null
  lastName: string | null
  phone: string | null
  state: string | null
  /** Null when the payload does not carry tags (REST webhooks of 2026-07): stored tags are kept. */
  tags: string[] | null
  /** Null when the source does not carry it (REST webhooks): the stored value is kept. */
  numberOfOrders: string | null
  amountSpent: string | null
  createdAt: string
  updatedAt: string
}
export type ProductRow = {
  id: string
  title: string
  handle: string | null
  productType: string | null
  vendor: string | null
  status: string | null
  createdAt: string
  updatedAt: string
  publishedAt: string | null
}
export type OrderRow = {
  id: string
  name: string
  email: string | null
  customerId: string | null
  currency: string
  totalPrice: string
  subtotalPrice: string
  totalTax: string
  totalDiscounts: string
  totalShipping: string
  totalRefunded: string
  financialStatus: string | null
  fulfillmentStatus: string | null
  cancelledAt: string | null
  cancelReason: string | null
  closedAt: string | null
  processedAt: string
  test: boolean
  createdAt: string
  updatedAt: string
}
export type LineItemRow = {
  id: string
  orderId: string
  productId: string | null
  variantId: string | null
  title: string
  sku: string | null
  quantity: number
  unitPrice: string
  discountedTotal: string
}
export type RefundRow = {
  id: string
  orderId: string
  amount: string
  createdAt: string
  processedAt: string | null
}
/** An order with its children; null children mean "not in this payload, keep what is stored". */
export type OrderBundle = {
  order: OrderRow
  lineItems: LineItemRow[] | null
  refunds: RefundRow[] | null
}

const GID_RE = /^gid:\/\/shopify\/[A-Za-z]+\/(\d+)(?:\?.*)?$/

/** `gid://shopify/Order/123` → `"123"`; a bare numeric id (REST) passes through. */
export function gidToId(value: string | number): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`unsafe numeric id ${value}`)
    return String(value)
  }
  if (/^\d+$/.test(value)) return value
  const m = GID_RE.exec(value)
  if (!m?.[1]) throw new Error(`not a Shopify id: ${value}`)
  return m[1]
}

const optId = (v: string | number | null | undefined): string | null =>
  v === null || v === undefined ? null : gidToId(v)

/** Any ISO-8601 time (Shopify's UTC `Z` or REST's shop-local offsets) → UTC ISO string. */
export function utc(value: string): string {
  const ms = Date.parse(value)
  if (!Number.isFinite(ms)) throw new Error(`bad timestamp ${value}`)
  return new Date(ms).toISOString()
}
const optUtc = (v: string | null | undefined): string | null => (v ? utc(v) : null)
const lower = (v: string | null | undefined): string | null => (v ? v.toLowerCase() : null)
const money = (m: { shopMoney: { amount: string } } | null | undefined): string =>
  m?.shopMoney.amount ?? '0'

// ---------- GraphQL ----------

export function customerFromGraphql(n: GqlCustomer): CustomerRow {
  return {
    id: gidToId(n.id),
    email: n.defaultEmailAddress?.emailAddress ?? null,
    firstName: n.firstName,
    lastName: n.lastName,
    phone: n.phone,
    state: lower(n.state),
    tags: n.tags,
    numberOfOrders: n.numberOfOrders,
    amountSpent: n.amountSpent.amount,
    createdAt: utc(n.createdAt),
    updatedAt: utc(n.updatedAt),
  }
}

export function productFromGraphql(n: GqlProduct): ProductRow {
  return {
    id: gidToId(n.id),
    title: n.title,
    handle: n.handle,
    productType: n.productType,
    vendor: n.vendor,
    status: lower(n.status),
    createdAt: utc(n.createdAt),
    updatedAt: utc(n.updatedAt),
    publishedAt: optUtc(n.publishedAt),
  }
}

export function lineItemFromGraphql(n: GqlLineItem, orderId: string): LineItemRow {
  return {
    id: gidToId(n.id),
    orderId,
    productId: optId(n.product?.id),
    variantId: optId(n.variant?.id),
    title: n.title,
    sku: n.sku,
    quantity: n.quantity,
    unitPrice: money(n.originalUnitPriceSet),
    discountedTotal: money(n.discountedTotalSet),
  }
}

export function refundFromGraphql(n: GqlRefund, orderId: string): RefundRow {
  return {
    id: gidToId(n.id),
    orderId,
    amount: money(n.totalRefundedSet),
    createdAt: utc(n.createdAt),
    processedAt: optUtc(n.processedAt),
  }
}

/** An order node; line items are included when the node carries them (paged sync). */
export function orderFromGraphql(n: GqlOrder): OrderBundle {
  const id = gidToId(n.id)
  return {
    order: {
      id,
      name: n.name,
      email: n.email,
      customerId: optId(n.customer?.id),
      currency: n.currencyCode,
      totalPrice: money(n.totalPriceSet),
      subtotalPrice: money(n.subtotalPriceSet),
      totalTax: money(n.totalTaxSet),
      totalDiscounts: money(n.totalDiscountsSet),
      totalShipping: money(n.totalShippingPriceSet),
      totalRefunded: money(n.totalRefundedSet),
      financialStatus: lower(n.displayFinancialStatus),
      fulfillmentStatus: lower(n.displayFulfillmentStatus),
      cancelledAt: optUtc(n.cancelledAt),
      cancelReason: lower(n.cancelReason),
      closedAt: optUtc(n.closedAt),
      processedAt: utc(n.processedAt),
      test: n.test,
      createdAt: utc(n.createdAt),
      updatedAt: utc(n.updatedAt),
    },
    lineItems: n.lineItems ? n.lineItems.nodes.map((li) => lineItemFromGraphql(li, id)) : null,
    refunds: n.refunds.map((r) => refundFromGraphql(r, id)),
  }
}

// ---------- REST (webhook payloads, 2026-07 shapes) ----------

type RestMoneySet = { shop_money?: { amount?: string | number } } | null | undefined
const restSet = (s: RestMoneySet, fallback?: string | number | null): string =>
  String(s?.shop_money?.amount ?? fallback ?? '0')
type Json = Record<string, unknown>
const str = (v: unknown): string | null => {
  if (v === null || v === undefined) return null
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  return JSON.stringify(v)
}
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : [])
const restTags = (v: unknown): string[] =>
  Array.isArray(v)
    ? (v as string[])
    : typeof v === 'string' && v.trim()
      ? v.split(',').map((s) => s.trim())
      : []

// REST fulfillment_status is null | "fulfilled" | "partial"; GraphQL's enum is the reference.
const REST_FULFILLMENT: Record<string, string> = {
  fulfilled: 'fulfilled',
  partial: 'partially_fulfilled',
  restocked: 'restocked',
}

/** The resource id of a REST payload, preferring the gid (REST numbers may exceed 2^53). */
const restId = (p: Json): string =>
  gidToId((p.admin_graphql_api_id as string | undefined) ?? (p.id as number | string))

export function customerFromRest(p: Json): CustomerRow {
  const spent = p.amount_spent ?? p.total_spent
  const count = p.orders_count ?? p.number_of_orders
  return {
    id: restId(p),
    email: str(p.email),
    firstName: str(p.first_name),
    lastName: str(p.last_name),
    phone: str(p.phone),
    state: lower(str(p.state)),
    tags: p.tags === undefined ? null : restTags(p.tags),
    numberOfOrders: str(count),
    amountSpent:
      spent === undefined || spent === null
        ? null
        : typeof spent === 'object'
          ? String((spent as { amount: string }).amount)
          : str(spent),
    createdAt: utc(String(p.created_at)),
    updatedAt: utc(String(p.updated_at)),
  }
}

export function productFromRest(p: Json): ProductRow {
  return {
    id: restId(p),
    title: String(p.title),
    handle: str(p.handle),
    productType: str(p.product_type),
    vendor: str(p.vendor),
    status: lower(str(p.status)),
    // Shopify's own products/create sample carries created_at: null.
    createdAt: utc(String(p.created_at ?? p.published_at ?? p.updated_at)),
    updatedAt: utc(String(p.updated_at)),
    publishedAt: optUtc(str(p.published_at)),
  }
}

export function lineItemFromRest(li: Json, orderId: string): LineItemRow {
  const quantity = Number(li.quantity)
  const unit = restSet(li.price_set as RestMoneySet, li.price as string)
  const discount = arr(li.discount_allocations).length
    ? arr(li.discount_allocations).reduce(
        (a, d) => a + cents(restSet(d.amount_set as RestMoneySet, d.amount as string)),
        0,
      )
    : cents(restSet(li.total_discount_set as RestMoneySet, li.total_discount as string))
  return {
    id: restId(li),
    orderId,
    productId: optId(li.product_id as number | null),
    variantId: optId(li.variant_id as number | null),
    title: String(li.title),
    sku: str(li.sku) || null,
    quantity,
    unitPrice: unit,
    discountedTotal: fromCents(cents(unit) * quantity - discount),
  }
}

/** A refund's amount is its successful refund transactions. */
export function refundFromRest(r: Json, orderId?: string): RefundRow {
  const amount = arr(r.transactions)
    .filter((x) => x.kind === 'refund' && x.status === 'success')
    .reduce((a, x) => a + cents(String(x.amount)), 0)
  return {
    id: restId(r),
    orderId: orderId ?? gidToId(r.order_id as number | string),
    amount: fromCents(amount),
    createdAt: utc(String(r.created_at)),
    processedAt: optUtc(str(r.processed_at)),
  }
}

export function orderFromRest(p: Json): OrderBundle {
  const id = restId(p)
  const refunds = Array.isArray(p.refunds) ? arr(p.refunds).map((r) => refundFromRest(r, id)) : null
  const customer = p.customer as Json | null | undefined
  const fin = str(p.financial_status)
  const ful = str(p.fulfillment_status)
  return {
    order: {
      id,
      name: String(p.name),
      email: str(p.email),
      customerId: customer?.id ? restId(customer) : null,
      currency: String(p.currency),
      totalPrice: restSet(p.total_price_set as RestMoneySet, p.total_price as string),
      subtotalPrice: restSet(p.subtotal_price_set as RestMoneySet, p.subtotal_price as string),
      totalTax: restSet(p.total_tax_set as RestMoneySet, p.total_tax as string),
      totalDiscounts: restSet(p.total_discounts_set as RestMoneySet, p.total_discounts as string),
      totalShipping: restSet(p.total_shipping_price_set as RestMoneySet),
      totalRefunded: fromCents((refunds ?? []).reduce((a, r) => a + cents(r.amount), 0)),
      financialStatus: fin ? fin.toLowerCase() : null,
      fulfillmentStatus: ful ? (REST_FULFILLMENT[ful] ?? ful.toLowerCase()) : 'unfulfilled',
      cancelledAt: optUtc(str(p.cancelled_at)),
      cancelReason: lower(str(p.cancel_reason)),
      closedAt: optUtc(str(p.closed_at)),
      processedAt: utc(String(p.processed_at ?? p.created_at)),
      test: Boolean(p.test),
      createdAt: utc(String(p.created_at)),
      updatedAt: utc(String(p.updated_at)),
    },
    lineItems: Array.isArray(p.line_items)
      ? arr(p.line_items).map((li) => lineItemFromRest(li, id))
      : null,
    refunds,
  }
}

// Money arithmetic in integer ten-thousandths (numeric(20,4)), never in floats.
function cents(v: string): number {
  const m = /^(-)?(\d+)(?:\.(\d{0,4}))?/.exec(v.trim())
  if (!m) throw new Error(`bad money ${v}`)
  const units = Number(m[2]) * 10_000 + Number((m[3] ?? '').padEnd(4, '0'))
  return m[1] ? -units : units
}
function fromCents(units: number): string {
  const neg = units < 0
  const a = Math.abs(units)
  const s = `${Math.floor(a / 10_000)}.${String(a % 10_000).padStart(4, '0')}`
  return neg ? `-${s}` : s
}
