import { sql, type Database, type Tx } from '@xeno/db'
import type {
  CustomerRow,
  LineItemRow,
  OrderBundle,
  OrderRow,
  ProductRow,
  RefundRow,
} from '@xeno/shopify'

// Upserts of Shopify data, shared by the GraphQL sync and the webhook processor. Every write is
// guarded by updated_at (an older payload never overwrites a newer row, whatever the arrival
// order) and never resurrects a row deleted after the payload was produced. Rows go in as
// columnar arrays through unnest: one statement per batch, whatever its size.

type Db = Database | Tx

const col = <T, K extends keyof T>(rows: T[], k: K): T[K][] => rows.map((r) => r[k])

/** Keeps the newest version of each id (ON CONFLICT cannot touch a row twice in one statement). */
function newestById<T extends { id: string; updatedAt: string }>(rows: T[]): T[] {
  const m = new Map<string, T>()
  for (const r of rows) {
    const cur = m.get(r.id)
    if (!cur || Date.parse(r.updatedAt) >= Date.parse(cur.updatedAt)) m.set(r.id, r)
  }
  return [...m.values()]
}

export const GUARD = (table: string) =>
  sql.raw(`excluded.updated_at >= ${table}.updated_at
    AND (${table}.deleted_at IS NULL OR excluded.updated_at > ${table}.deleted_at)`)

/** Upserts customers; rows without lifetime stats (REST payloads) keep the stored stats. */
export async function upsertCustomers(
  db: Db,
  tenantId: string,
  input: CustomerRow[],
): Promise<string[]> {
  const rows = newestById(input)
  if (!rows.length) return []
  // REST payloads carry neither lifetime stats nor (2026-07) tags: those columns are kept.
  const groups = new Map<string, { stats: boolean; tags: boolean; rows: CustomerRow[] }>()
  for (const r of rows) {
    const stats = r.numberOfOrders !== null && r.amountSpent !== null
    const tags = r.tags !== null
    const key = `${stats}:${tags}`
    let g = groups.get(key)
    if (!g) groups.set(key, (g = { stats, tags, rows: [] }))
    g.rows.push(r)
  }
  const out: string[] = []
  for (const { stats, tags, rows: group } of groups.values()) {
    const res = await sql<{ id: string }>`
      INSERT INTO customers AS c (tenant_id, id, email, first_name, last_name, phone, state, tags,
        number_of_orders, amount_spent, created_at, updated_at, synced_at)
      SELECT ${tenantId}::uuid, u.id, u.email, u.first_name, u.last_name, u.phone, u.state,
        ARRAY(SELECT jsonb_array_elements_text(u.tags::jsonb)), coalesce(u.n, 0), coalesce(u.spent, 0),
        u.created_at, u.updated_at, now()
      FROM unnest(${col(group, 'id')}::bigint[], ${col(group, 'email')}::text[],
        ${col(group, 'firstName')}::text[], ${col(group, 'lastName')}::text[],
        ${col(group, 'phone')}::text[], ${col(group, 'state')}::text[],
        ${group.map((r) => JSON.stringify(r.tags ?? []))}::text[],
        ${col(group, 'numberOfOrders')}::bigint[], ${col(group, 'amountSpent')}::numeric[],
        ${col(group, 'createdAt')}::timestamptz[], ${col(group, 'updatedAt')}::timestamptz[])
        AS u(id, email, first_name, last_name, phone, state, tags, n, spent, created_at, updated_at)
      ON CONFLICT (tenant_id, id) DO UPDATE SET
        email = excluded.email, first_name = excluded.first_name, last_name = excluded.last_name,
        phone = excluded.phone, state = excluded.state, ${tags ? sql`tags = excluded.tags,` : sql``}
        ${
          stats
            ? sql`number_of_orders = excluded.number_of_orders, amount_spent = excluded.amount_spent,`
            : sql``
        }
        created_at = excluded.created_at, updated_at = excluded.updated_at, synced_at = excluded.synced_at
      WHERE ${GUARD('c')}
      RETURNING id`.execute(db)
    out.push(...res.rows.map((r) => String(r.id)))
  }
  return out
}

export const CUSTOMER_COLUMNS = sql.raw(`id, email, first_name, last_name, phone, state, tags,
  number_of_orders, amount_spent, created_at, updated_at`)
export const CUSTOMER_UPDATE = sql.raw(`email = excluded.email, first_name = excluded.first_name,
  last_name = excluded.last_name, phone = excluded.phone, state = excluded.state,
  tags = excluded.tags, number_of_orders = excluded.number_of_orders,
  amount_spent = excluded.amount_spent, created_at = excluded.created_at,
  updated_at = excluded.updated_at, synced_at = excluded.synced_at`)

export const PRODUCT_COLUMNS = sql.raw(
  `id, title, handle, product_type, vendor, status, created_at, updated_at, published_at`,
)
export const PRODUCT_UPDATE = sql.raw(`title = excluded.title, handle = excluded.handle,
  product_type = excluded.product_type, vendor = excluded.vendor, status = excluded.status,
  created_at = excluded.created_at, updated_at = excluded.updated_at,
  published_at = excluded.published_at, synced_at = excluded.synced_at`)

/** Upserts products (updated_at guard). */
export async function upsertProducts(
  db: Db,
  tenantId: string,
  input: ProductRow[],
): Promise<string[]> {
  const rows = newestById(input)
  if (!rows.length) return []
  const res = await sql<{ id: string }>`
    INSERT INTO products AS p (tenant_id, id, title, handle, product_type, vendor, status,
      created_at, updated_at, published_at, synced_at)
    SELECT ${tenantId}::uuid, u.*, now()
    FROM unnest(${col(rows, 'id')}::bigint[], ${col(rows, 'title')}::text[],
      ${col(rows, 'handle')}::text[], ${col(rows, 'productType')}::text[],
      ${col(rows, 'vendor')}::text[], ${col(rows, 'status')}::text[],
      ${col(rows, 'createdAt')}::timestamptz[], ${col(rows, 'updatedAt')}::timestamptz[],
      ${col(rows, 'publishedAt')}::timestamptz[]) AS u
    ON CONFLICT (tenant_id, id) DO UPDATE SET
      title = excluded.title, handle = excluded.handle, product_type = excluded.product_type,
      vendor = excluded.vendor, status = excluded.status, created_at = excluded.created_at,
      updated_at = excluded.updated_at, published_at = excluded.published_at, synced_at = excluded.synced_at
    WHERE ${GUARD('p')}
    RETURNING id`.execute(db)
  return res.rows.map((r) => String(r.id))
}

/** The column list and unnest of order rows, shared by the direct and the staged paths. */
export function orderValues(rows: OrderRow[]) {
  return sql`unnest(${col(rows, 'id')}::bigint[], ${col(rows, 'name')}::text[],
      ${col(rows, 'email')}::text[], ${col(rows, 'customerId')}::bigint[],
      ${col(rows, 'currency')}::text[], ${col(rows, 'totalPrice')}::numeric[],
      ${col(rows, 'subtotalPrice')}::numeric[], ${col(rows, 'totalTax')}::numeric[],
      ${col(rows, 'totalDiscounts')}::numeric[], ${col(rows, 'totalShipping')}::numeric[],
      ${col(rows, 'totalRefunded')}::numeric[], ${col(rows, 'financialStatus')}::text[],
      ${col(rows, 'fulfillmentStatus')}::text[], ${col(rows, 'cancelledAt')}::timestamptz[],
      ${col(rows, 'cancelReason')}::text[], ${col(rows, 'closedAt')}::timestamptz[],
      ${col(rows, 'processedAt')}::timestamptz[], ${col(rows, 'test')}::boolean[],
      ${col(rows, 'createdAt')}::timestamptz[], ${col(rows, 'updatedAt')}::timestamptz[])`
}
export const ORDER_COLUMNS = sql.raw(`id, name, email, customer_id, currency, total_price,
  subtotal_price, total_tax, total_discounts, total_shipping, total_refunded, financial_status,
  fulfillment_status, cancelled_at, cancel_reason, closed_at, processed_at, test, created_at,
  updated_at`)
export const ORDER_UPDATE = sql.raw(`name = excluded.name, email = excluded.email,
  customer_id = excluded.customer_id, currency = excluded.currency,
  total_price = excluded.total_price, subtotal_price = excluded.subtotal_price,
  total_tax = excluded.total_tax, total_discounts = excluded.total_discounts,
  total_shipping = excluded.total_shipping, total_refunded = excluded.total_refunded,
  financial_status = excluded.financial_status, fulfillment_status = excluded.fulfillment_status,
  cancelled_at = excluded.cancelled_at, cancel_reason = excluded.cancel_reason,
  closed_at = excluded.closed_at, processed_at = excluded.processed_at, test = excluded.test,
  created_at = excluded.created_at, updated_at = excluded.updated_at, synced_at = excluded.synced_at`)

export function lineItemValues(rows: LineItemRow[]) {
  return sql`unnest(${col(rows, 'id')}::bigint[], ${col(rows, 'orderId')}::bigint[],
      ${col(rows, 'productId')}::bigint[], ${col(rows, 'variantId')}::bigint[],
      ${col(rows, 'title')}::text[], ${col(rows, 'sku')}::text[],
      ${col(rows, 'quantity')}::int[], ${col(rows, 'unitPrice')}::numeric[],
      ${col(rows, 'discountedTotal')}::numeric[])`
}
export const LINE_ITEM_COLUMNS = sql.raw(
  `id, order_id, product_id, variant_id, title, sku, quantity, unit_price, discounted_total`,
)
export function refundValues(rows: RefundRow[]) {
  return sql`unnest(${col(rows, 'id')}::bigint[], ${col(rows, 'orderId')}::bigint[],
      ${col(rows, 'amount')}::numeric[], ${col(rows, 'createdAt')}::timestamptz[],
      ${col(rows, 'processedAt')}::timestamptz[])`
}
export const REFUND_COLUMNS = sql.raw(`id, order_id, amount, created_at, processed_at`)

/**
 * Upserts orders and, for each order whose row was written (not older than the stored one),
 * replaces its line items and refunds when the bundle carries them. Call inside a transaction
 * (withTenant) so an order and its children change together.
 */
export async function upsertOrders(
  db: Db,
  tenantId: string,
  bundles: OrderBundle[],
): Promise<string[]> {
  const byId = new Map<string, OrderBundle>()
  for (const b of bundles) {
    const cur = byId.get(b.order.id)
    if (!cur || Date.parse(b.order.updatedAt) >= Date.parse(cur.order.updatedAt))
      byId.set(b.order.id, b)
  }
  const list = [...byId.values()]
  if (!list.length) return []
  const res = await sql<{ id: string }>`
    INSERT INTO orders AS o (tenant_id, ${ORDER_COLUMNS}, synced_at)
    SELECT ${tenantId}::uuid, u.*, now() FROM ${orderValues(list.map((b) => b.order))} AS u
    ON CONFLICT (tenant_id, id) DO UPDATE SET ${ORDER_UPDATE}
    WHERE ${GUARD('o')}
    RETURNING id`.execute(db)
  const applied = new Set(res.rows.map((r) => String(r.id)))
  const withLines = list.filter((b) => applied.has(b.order.id) && b.lineItems !== null)
  const withRefunds = list.filter((b) => applied.has(b.order.id) && b.refunds !== null)
  if (withLines.length) {
    await sql`DELETE FROM order_line_items WHERE tenant_id = ${tenantId}
      AND order_id = ANY(${withLines.map((b) => b.order.id)}::bigint[])`.execute(db)
    const lines = withLines.flatMap((b) => b.lineItems ?? [])
    if (lines.length)
      await sql`INSERT INTO order_line_items (tenant_id, ${LINE_ITEM_COLUMNS})
        SELECT ${tenantId}::uuid, u.* FROM ${lineItemValues(lines)} AS u
        ON CONFLICT (tenant_id, id) DO UPDATE SET order_id = excluded.order_id,
          product_id = excluded.product_id, variant_id = excluded.variant_id,
          title = excluded.title, sku = excluded.sku, quantity = excluded.quantity,
          unit_price = excluded.unit_price, discounted_total = excluded.discounted_total,
          synced_at = excluded.synced_at`.execute(db)
  }
  if (withRefunds.length) {
    await sql`DELETE FROM refunds WHERE tenant_id = ${tenantId}
      AND order_id = ANY(${withRefunds.map((b) => b.order.id)}::bigint[])`.execute(db)
    const refunds = withRefunds.flatMap((b) => b.refunds ?? [])
    if (refunds.length) await upsertRefunds(db, tenantId, refunds)
  }
  return [...applied]
}

/** Upserts refunds one by one id (refunds/create webhooks carry a single refund). */
export async function upsertRefunds(db: Db, tenantId: string, rows: RefundRow[]): Promise<void> {
  if (!rows.length) return
  await sql`INSERT INTO refunds (tenant_id, ${REFUND_COLUMNS})
    SELECT ${tenantId}::uuid, u.* FROM ${refundValues(rows)} AS u
    ON CONFLICT (tenant_id, id) DO UPDATE SET order_id = excluded.order_id,
      amount = excluded.amount, created_at = excluded.created_at,
      processed_at = excluded.processed_at, synced_at = excluded.synced_at`.execute(db)
}

const DELETABLE = { customers: 'customers', products: 'products', orders: 'orders' } as const

/** Marks rows deleted (webhook deletes); a later, older update does not bring them back. */
export async function markDeleted(
  db: Db,
  tenantId: string,
  resource: keyof typeof DELETABLE,
  ids: string[],
  at: Date = new Date(),
): Promise<number> {
  if (!ids.length) return 0
  const res =
    await sql`UPDATE ${sql.table(DELETABLE[resource])} SET deleted_at = ${at}, synced_at = now()
    WHERE tenant_id = ${tenantId} AND id = ANY(${ids}::bigint[]) AND deleted_at IS NULL`.execute(db)
  // No tombstone for an id the tenant has no row of: the webhook processor applies a delete only
  // after the shop's Admin API said the object is gone, and a create or update delivered late
  // reads it back as gone too, so nothing resurrects it; and a row for an id the shop never had
  // (a replayed delete of another shop) would be a change to this tenant made by a foreign body.
  return Number(res.numAffectedRows ?? 0)
}
