import type { CustomerRow, LineItemRow, OrderRow, ProductRow, RefundRow } from '@xeno/shopify'

// Rows as lines of Postgres COPY text format (tab-separated, `\N` for NULL, backslash escapes),
// for staging bulk results with COPY FROM STDIN. Each encoder's columns are listed beside it, in
// its order; the staging tables take them by name.

const SPECIAL = /[\\\t\n\r]/
const SPECIAL_G = /[\\\t\n\r]/g
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }
const escape = (c: string): string => ESCAPES[c]!

/** One field: NULL as `\N`; backslash, tab, newline and carriage return escaped. */
export function copyField(v: string | null): string {
  if (v === null) return '\\N'
  return SPECIAL.test(v) ? v.replace(SPECIAL_G, escape) : v
}

/** A text[] field: an array literal with every element quoted, then escaped as a field. */
export function copyTextArray(xs: readonly string[]): string {
  let s = '{'
  for (let i = 0; i < xs.length; i++) {
    if (i) s += ','
    s += `"${xs[i]!.replace(/["\\]/g, '\\$&')}"`
  }
  return copyField(`${s}}`)
}

const f = copyField

export const CUSTOMER_COPY_COLUMNS = `id, email, first_name, last_name, phone, state, tags,
  number_of_orders, amount_spent, created_at, updated_at`
/** Missing tags or lifetime stats stage as empty and zero, like the unnest path. */
export const customerLine = (r: CustomerRow): string =>
  `${f(r.id)}\t${f(r.email)}\t${f(r.firstName)}\t${f(r.lastName)}\t${f(r.phone)}\t${f(r.state)}\t${copyTextArray(r.tags ?? [])}\t${f(r.numberOfOrders ?? '0')}\t${f(r.amountSpent ?? '0')}\t${f(r.createdAt)}\t${f(r.updatedAt)}\n`

export const PRODUCT_COPY_COLUMNS = `id, title, handle, product_type, vendor, status, created_at,
  updated_at, published_at`
export const productLine = (r: ProductRow): string =>
  `${f(r.id)}\t${f(r.title)}\t${f(r.handle)}\t${f(r.productType)}\t${f(r.vendor)}\t${f(r.status)}\t${f(r.createdAt)}\t${f(r.updatedAt)}\t${f(r.publishedAt)}\n`

export const ORDER_COPY_COLUMNS = `id, name, email, customer_id, currency, total_price,
  subtotal_price, total_tax, total_discounts, total_shipping, total_refunded, financial_status,
  fulfillment_status, cancelled_at, cancel_reason, closed_at, processed_at, test, created_at,
  updated_at`
export const orderLine = (r: OrderRow): string =>
  `${f(r.id)}\t${f(r.name)}\t${f(r.email)}\t${f(r.customerId)}\t${f(r.currency)}\t${f(r.totalPrice)}\t${f(r.subtotalPrice)}\t${f(r.totalTax)}\t${f(r.totalDiscounts)}\t${f(r.totalShipping)}\t${f(r.totalRefunded)}\t${f(r.financialStatus)}\t${f(r.fulfillmentStatus)}\t${f(r.cancelledAt)}\t${f(r.cancelReason)}\t${f(r.closedAt)}\t${f(r.processedAt)}\t${r.test ? 't' : 'f'}\t${f(r.createdAt)}\t${f(r.updatedAt)}\n`

export const LINE_ITEM_COPY_COLUMNS = `id, order_id, product_id, variant_id, title, sku, quantity,
  unit_price, discounted_total`
export const lineItemLine = (r: LineItemRow): string =>
  `${f(r.id)}\t${f(r.orderId)}\t${f(r.productId)}\t${f(r.variantId)}\t${f(r.title)}\t${f(r.sku)}\t${r.quantity}\t${f(r.unitPrice)}\t${f(r.discountedTotal)}\n`

export const REFUND_COPY_COLUMNS = `id, order_id, amount, created_at, processed_at`
export const refundLine = (r: RefundRow): string =>
  `${f(r.id)}\t${f(r.orderId)}\t${f(r.amount)}\t${f(r.createdAt)}\t${f(r.processedAt)}\n`
