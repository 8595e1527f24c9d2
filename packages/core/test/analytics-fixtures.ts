// Seeds a tenant from the fake Shopify's deterministic generator (as the table owner), and
// computes every analytics figure independently in plain TypeScript: Intl for local dates,
// BigInt cents for money. Nothing here shares SQL with packages/core/src/analytics.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { DEFAULT_RANKING, type RankingOptions } from '../src/analytics/analytics.repository.ts'
import {
  generateCustomer,
  generateOrder,
  generateProduct,
  resolveSpec,
  type FakeCustomer,
  type FakeOrder,
  type FakeProduct,
} from '@xeno/shopify-fake'

export type Seeded = {
  tenantId: string
  zone: string
  customers: (FakeCustomer & { deletedAt: number | null })[]
  products: (FakeProduct & { deletedAt: number | null })[]
  orders: (FakeOrder & { deletedAt: number | null })[]
  events: { eventType: string; occurredAt: number; customerId: number | null }[]
}

/** mulberry32: deterministic, independent of the fake's own streams. */
export function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const cents = (n: number) => (n / 100).toFixed(2)

/** The spend-window ranking of top customers with as few seeds as the limit (the hardest case). */
export const FEWEST_SEEDS: RankingOptions = { ...DEFAULT_RANKING, windowSeeds: 1 }
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export async function withOwner<T>(ownerUrl: string, fn: (c: pg.Client) => Promise<T>) {
  const c = new pg.Client({ connectionString: ownerUrl })
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

export async function insertTenant(
  c: pg.Client,
  opts: { zone: string; currency?: string; domain?: string },
): Promise<string> {
  const id = randomUUID()
  await c.query(
    `INSERT INTO tenants (id, shop_domain, status, iana_timezone, currency)
     VALUES ($1, $2, 'active', $3, $4)`,
    [id, opts.domain ?? `shop-${id.slice(0, 8)}.myshopify.com`, opts.zone, opts.currency ?? 'USD'],
  )
  return id
}

async function insertRecords(c: pg.Client, table: string, rows: object[]) {
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500)
    await c.query(
      `INSERT INTO ${table} SELECT * FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb)`,
      [JSON.stringify(chunk)],
    )
  }
}

/** Rows of a fake shop; some customers, products and orders are marked deleted. */
export function generateShop(opts: {
  seed: number
  zone: string
  from: string
  to: string
  orders: number
  customers: number
  products: number
  events: number
}): Omit<Seeded, 'tenantId'> {
  const spec = resolveSpec(
    {
      domain: `seed${opts.seed}`,
      seed: opts.seed,
      timezone: opts.zone,
      from: opts.from,
      to: opts.to,
      orders: opts.orders,
      customers: opts.customers,
      products: opts.products,
    },
    Date.parse(opts.to),
  )
  const r = rng(opts.seed * 7919)
  const productCache = new Map<number, FakeProduct>()
  const customerCache = new Map<number, FakeCustomer>()
  const product = (j: number) => {
    let p = productCache.get(j)
    if (!p) productCache.set(j, (p = generateProduct(spec, j)))
    return p
  }
  const customer = (j: number) => {
    let cu = customerCache.get(j)
    if (!cu) customerCache.set(j, (cu = generateCustomer(spec, j)))
    return cu
  }
  const customers = Array.from({ length: opts.customers }, (_, j) => ({
    ...customer(j),
    deletedAt: r() < 0.03 ? Date.parse(opts.to) : null,
  }))
  const products = Array.from({ length: opts.products }, (_, j) => ({
    ...product(j),
    deletedAt: r() < 0.05 ? Date.parse(opts.to) : null,
  }))
  const orders = Array.from({ length: opts.orders }, (_, i) => ({
    ...generateOrder(spec, i, product, customer),
    deletedAt: r() < 0.01 ? Date.parse(opts.to) : null,
  }))
  const types = ['checkout_started', 'page_view', 'add_to_cart', 'newsletter.signup']
  const f = Date.parse(opts.from)
  const span = Date.parse(opts.to) - f
  const events = Array.from({ length: opts.events }, () => ({
    eventType: types[Math.floor(r() * types.length)]!,
    occurredAt: Math.floor(f + r() * span),
    customerId: r() < 0.5 ? (customers[Math.floor(r() * customers.length)]?.id ?? null) : null,
  }))
  return { zone: opts.zone, customers, products, orders, events }
}

/** Inserts a generated shop's rows for a tenant, as the owner (no rollups touched). */
export async function insertShopRows(c: pg.Client, tenantId: string, s: Omit<Seeded, 'tenantId'>) {
  await insertRecords(
    c,
    'customers',
    s.customers.map((cu) => ({
      tenant_id: tenantId,
      id: cu.id,
      email: cu.email,
      first_name: cu.firstName,
      last_name: cu.lastName,
      state: cu.state,
      tags: cu.tags,
      number_of_orders: 0,
      amount_spent: 0,
      created_at: iso(cu.createdAt),
      updated_at: iso(cu.updatedAt),
      deleted_at: iso(cu.deletedAt),
      synced_at: iso(Date.now()),
    })),
  )
  await insertRecords(
    c,
    'products',
    s.products.map((p) => ({
      tenant_id: tenantId,
      id: p.id,
      title: p.title,
      handle: p.handle,
      product_type: p.productType,
      vendor: p.vendor,
      status: p.status,
      created_at: iso(p.createdAt),
      updated_at: iso(p.updatedAt),
      published_at: iso(p.publishedAt),
      deleted_at: iso(p.deletedAt),
      synced_at: iso(Date.now()),
    })),
  )
  await insertOrders(c, tenantId, s.orders)
  await setAmountSpent(c, tenantId, s.orders)
}

/** Lifetime amount_spent as Shopify keeps it: orders not cancelled or test, less refunds. */
export async function setAmountSpent(c: pg.Client, tenantId: string, orders: FakeOrder[]) {
  const spent = new Map<number, number>()
  for (const o of orders)
    if (o.customerId !== null && !o.test && o.cancelledAt === null)
      spent.set(
        o.customerId,
        (spent.get(o.customerId) ?? 0) + o.total - o.refunds.reduce((a, x) => a + x.amount, 0),
      )
  for (const [id, v] of spent)
    await c.query('UPDATE customers SET amount_spent = $3 WHERE tenant_id = $1 AND id = $2', [
      tenantId,
      id,
      cents(v),
    ])
}

export async function insertOrders(
  c: pg.Client,
  tenantId: string,
  orders: (FakeOrder & { deletedAt: number | null })[],
) {
  await c.query('BEGIN')
  await insertRecords(
    c,
    'orders',
    orders.map((o) => ({
      tenant_id: tenantId,
      id: o.id,
      name: o.name,
      email: o.email,
      customer_id: o.customerId,
      currency: o.currency,
      total_price: cents(o.total),
      subtotal_price: cents(o.subtotal),
      total_tax: cents(o.tax),
      total_discounts: cents(o.totalDiscounts),
      total_shipping: cents(o.shipping),
      total_refunded: cents(o.refunds.reduce((a, x) => a + x.amount, 0)),
      financial_status: o.financialStatus,
      fulfillment_status: o.fulfillmentStatus,
      cancelled_at: iso(o.cancelledAt),
      cancel_reason: o.cancelReason,
      closed_at: iso(o.closedAt),
      processed_at: iso(o.processedAt),
      test: o.test,
      created_at: iso(o.createdAt),
      updated_at: iso(o.updatedAt),
      deleted_at: iso(o.deletedAt),
      synced_at: iso(Date.now()),
    })),
  )
  await insertRecords(
    c,
    'order_line_items',
    orders.flatMap((o) =>
      o.lineItems.map((li) => ({
        tenant_id: tenantId,
        id: li.id,
        order_id: o.id,
        product_id: li.productId,
        variant_id: li.variantId,
        title: li.title,
        sku: li.sku,
        quantity: li.quantity,
        unit_price: cents(li.unitPrice),
        discounted_total: cents(li.unitPrice * li.quantity - li.totalDiscount),
        synced_at: iso(Date.now()),
      })),
    ),
  )
  await insertRecords(
    c,
    'refunds',
    orders.flatMap((o) =>
      o.refunds.map((rf) => ({
        tenant_id: tenantId,
        id: rf.id,
        order_id: o.id,
        amount: cents(rf.amount),
        created_at: iso(rf.createdAt),
        processed_at: iso(rf.processedAt),
        synced_at: iso(Date.now()),
      })),
    ),
  )
  await c.query('COMMIT')
}

// ------------------------------------------------------------ independent computation

export type Gran = 'day' | 'week' | 'month'

const formats = new Map<string, Intl.DateTimeFormat>()
export function localDate(ms: number, zone: string): string {
  let f = formats.get(zone)
  if (!f)
    formats.set(
      zone,
      (f = new Intl.DateTimeFormat('en-CA', {
        timeZone: zone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      })),
    )
  return f.format(new Date(ms))
}

const DAY = 86_400_000
export const addDays = (d: string, n: number) =>
  new Date(Date.parse(`${d}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10)

export function bucketOf(day: string, g: Gran): string {
  if (g === 'day') return day
  if (g === 'month') return `${day.slice(0, 8)}01`
  const dow = new Date(`${day}T00:00:00Z`).getUTCDay() // 0 = Sunday
  return addDays(day, -((dow + 6) % 7))
}

/** Days from..to inclusive grouped into buckets: label → { start, end } within the range. */
export function buckets(from: string, to: string, g: Gran) {
  const out = new Map<string, { start: string; end: string }>()
  for (let d = from; d <= to; d = addDays(d, 1)) {
    const b = bucketOf(d, g)
    const cur = out.get(b)
    if (cur) cur.end = d
    else out.set(b, { start: d, end: d })
  }
  return out
}

/** Integer cents as the API's decimal string. */
export const money = (c: bigint) => {
  const neg = c < 0n
  const a = neg ? -c : c
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`
}

export const isCounted = (o: FakeOrder & { deletedAt: number | null }) =>
  !o.test && o.deletedAt === null && o.cancelledAt === null

/** AOV as the API rounds it: half away from zero, to the cent. */
export const aovOf = (gross: bigint, orders: number) =>
  orders === 0 ? null : money((gross * 2n + BigInt(orders)) / (2n * BigInt(orders)))
