// Compares what Xeno stored for a tenant with the fake shop's ground truth, row for row and
// column for column. Money compares in cents, times in whole seconds (Shopify's precision).
import pg from 'pg'
import type { TruthRow } from '@xeno/shopify-fake'

const sec = (ms: number | null): string => (ms === null ? 'null' : String(Math.floor(ms / 1000)))

export type Snapshot = Record<
  'customers' | 'products' | 'orders' | 'line_items' | 'refunds',
  Map<string, string>
>

export async function truthSnapshot(origin: string, domain: string): Promise<Snapshot> {
  const res = await fetch(`${origin}/_fake/shops/${domain}/truth`)
  const text = await res.text()
  const s: Snapshot = {
    customers: new Map(),
    products: new Map(),
    orders: new Map(),
    line_items: new Map(),
    refunds: new Map(),
  }
  for (const line of text.split('\n')) {
    if (!line) continue
    const t = JSON.parse(line) as TruthRow
    if (t.kind === 'customer') {
      const c = t.row
      s.customers.set(
        String(c.id),
        JSON.stringify([
          c.email,
          c.firstName,
          c.lastName,
          c.phone,
          c.state.toLowerCase(),
          c.tags,
          String(c.numberOfOrders),
          String(c.amountSpent),
          sec(c.createdAt),
          sec(c.updatedAt),
        ]),
      )
    } else if (t.kind === 'product') {
      const p = t.row
      s.products.set(
        String(p.id),
        JSON.stringify([
          p.title,
          p.handle,
          p.productType,
          p.vendor,
          p.status.toLowerCase(),
          sec(p.createdAt),
          sec(p.updatedAt),
          sec(p.publishedAt),
        ]),
      )
    } else if (t.kind === 'order') {
      const o = t.row
      const refunded = o.refunds.reduce((a, r) => a + r.amount, 0)
      s.orders.set(
        String(o.id),
        JSON.stringify([
          o.name,
          o.email,
          o.customerId === null ? null : String(o.customerId),
          o.currency,
          String(o.total),
          String(o.subtotal),
          String(o.tax),
          String(o.totalDiscounts),
          String(o.shipping),
          String(refunded),
          o.financialStatus.toLowerCase(),
          o.fulfillmentStatus.toLowerCase(),
          sec(o.cancelledAt),
          o.cancelReason?.toLowerCase() ?? null,
          sec(o.closedAt),
          sec(o.processedAt),
          o.test,
          sec(o.createdAt),
          sec(o.updatedAt),
        ]),
      )
      for (const li of o.lineItems)
        s.line_items.set(
          String(li.id),
          JSON.stringify([
            String(o.id),
            li.productId === null ? null : String(li.productId),
            li.variantId === null ? null : String(li.variantId),
            li.title,
            li.sku,
            li.quantity,
            String(li.unitPrice),
            String(li.unitPrice * li.quantity - li.totalDiscount),
          ]),
        )
      for (const r of o.refunds)
        s.refunds.set(
          String(r.id),
          JSON.stringify([String(o.id), String(r.amount), sec(r.createdAt), sec(r.processedAt)]),
        )
    }
  }
  return s
}

const c = (col: string) => `((${col}) * 100)::bigint::text`
const e = (col: string) => `(floor(extract(epoch from ${col})))::bigint::text`

export async function dbSnapshot(ownerUrl: string, tenantId: string): Promise<Snapshot> {
  const client = new pg.Client({ connectionString: ownerUrl })
  await client.connect()
  try {
    const q = async (text: string): Promise<Map<string, string>> => {
      const r = await client.query<{ id: string; v: unknown[] }>(text, [tenantId])
      const m = new Map<string, string>()
      for (const row of r.rows) {
        if (m.has(row.id)) m.set(`${row.id}#dup`, 'duplicate')
        m.set(row.id, JSON.stringify(row.v.map((x) => (x === null ? null : x))))
      }
      return m
    }
    return {
      customers:
        await q(`SELECT id::text, json_build_array(email, first_name, last_name, phone, state, tags,
          number_of_orders::text, ${c('amount_spent')}, ${e('created_at')}, ${e('updated_at')}) AS v
        FROM customers WHERE tenant_id = $1 AND deleted_at IS NULL`),
      products:
        await q(`SELECT id::text, json_build_array(title, handle, product_type, vendor, status,
          ${e('created_at')}, ${e('updated_at')}, coalesce(${e('published_at')}, 'null')) AS v
        FROM products WHERE tenant_id = $1 AND deleted_at IS NULL`),
      orders: await q(`SELECT id::text, json_build_array(name, email, customer_id::text, currency,
          ${c('total_price')}, ${c('subtotal_price')}, ${c('total_tax')}, ${c('total_discounts')},
          ${c('total_shipping')}, ${c('total_refunded')}, financial_status, fulfillment_status,
          coalesce(${e('cancelled_at')}, 'null'), cancel_reason, coalesce(${e('closed_at')}, 'null'),
          ${e('processed_at')}, test, ${e('created_at')}, ${e('updated_at')}) AS v
        FROM orders WHERE tenant_id = $1 AND deleted_at IS NULL`),
      line_items:
        await q(`SELECT li.id::text, json_build_array(li.order_id::text, li.product_id::text,
          li.variant_id::text, li.title, li.sku, li.quantity, ${c('li.unit_price')}, ${c('li.discounted_total')}) AS v
        FROM order_line_items li JOIN orders o ON o.tenant_id = li.tenant_id AND o.id = li.order_id
        WHERE li.tenant_id = $1 AND o.deleted_at IS NULL`),
      refunds: await q(`SELECT r.id::text, json_build_array(r.order_id::text, ${c('r.amount')},
          ${e('r.created_at')}, coalesce(${e('r.processed_at')}, 'null')) AS v
        FROM refunds r JOIN orders o ON o.tenant_id = r.tenant_id AND o.id = r.order_id
        WHERE r.tenant_id = $1 AND o.deleted_at IS NULL`),
    }
  } finally {
    await client.end()
  }
}

/** Differences (at most `limit` per table); an empty list means the data equals the truth. */
export function diffSnapshots(truth: Snapshot, db: Snapshot, limit = 3): string[] {
  const out: string[] = []
  for (const table of Object.keys(truth) as (keyof Snapshot)[]) {
    const a = truth[table]
    const b = db[table]
    let n = 0
    for (const [id, v] of a) {
      const w = b.get(id)
      if (w !== v && n++ < limit) out.push(`${table} ${id}: truth ${v} db ${w ?? 'MISSING'}`)
    }
    for (const [id, w] of b)
      if (!a.has(id) && n++ < limit) out.push(`${table} ${id}: extra in db ${w}`)
    if (n > limit) out.push(`${table}: ${n - limit} more differences`)
    if (a.size !== b.size) out.push(`${table}: truth ${a.size} rows, db ${b.size} rows`)
  }
  return out
}
