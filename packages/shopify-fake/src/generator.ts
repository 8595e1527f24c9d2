import { createRng } from './prng.ts'
import type { Rng } from './prng.ts'
import type {
  CancelReason,
  FakeCustomer,
  FakeLineItem,
  FakeOrder,
  FakeProduct,
  FakeRefund,
  FinancialStatus,
  PlanName,
  ShopInfo,
  ShopParams,
} from './types.ts'

const DAY = 86_400_000

// Real ids are 13–14 digits today; each kind gets its own block and a fixed stride per index,
// so ids grow with creation order like Shopify's and an order's index is recoverable from its id.
export const ID_BASE = {
  order: 5_600_000_000_000,
  lineItem: 14_100_000_000_000,
  refund: 9_300_000_000_000,
  refundLineItem: 8_200_000_000_000,
  customer: 7_100_000_000_000,
  product: 8_800_000_000_000,
  variant: 4_500_000_000_000,
} as const
export const ORDER_STRIDE = 1000
const CUSTOMER_STRIDE = 1000
const PRODUCT_STRIDE = 1000

/** Resolved generator parameters (every default filled in). */
export type GenSpec = {
  seed: number
  info: ShopInfo
  customers: number
  products: number
  orders: number
  from: number
  to: number
  throttle: { maximumAvailable: number; restoreRate: number }
}

/** Shopify's published restore rates per plan; the bucket size defaults to 20 s of restore. */
export const PLAN_THROTTLE: Record<PlanName, { maximumAvailable: number; restoreRate: number }> = {
  basic: { maximumAvailable: 2000, restoreRate: 100 },
  shopify: { maximumAvailable: 2000, restoreRate: 100 },
  advanced: { maximumAvailable: 4000, restoreRate: 200 },
  plus: { maximumAvailable: 20000, restoreRate: 1000 },
  enterprise: { maximumAvailable: 40000, restoreRate: 2000 },
}

const toMs = (v: string | number): number => {
  const ms = typeof v === 'number' ? v : Date.parse(v)
  if (!Number.isFinite(ms)) throw new Error(`invalid date: ${String(v)}`)
  return ms
}

/** Completes `acme` to `acme.myshopify.com` and lower-cases it. */
export function normaliseDomain(domain: string): string {
  const d = domain.trim().toLowerCase()
  return d.endsWith('.myshopify.com') ? d : `${d}.myshopify.com`
}

/** Fills defaults; `now` is only used when from/to are absent. */
export function resolveSpec(params: ShopParams, now: number): GenSpec {
  const domain = normaliseDomain(params.domain)
  const seed = params.seed ?? 1
  const to = params.to !== undefined ? toMs(params.to) : Math.floor(now / DAY) * DAY
  const from = params.from !== undefined ? toMs(params.from) : to - 365 * DAY
  if (!(from < to)) throw new Error('from must be before to')
  const plan = params.plan ?? 'shopify'
  const handle = domain.replace('.myshopify.com', '')
  // Shop ids are unique across Shopify: two shops of one seed must still differ.
  const rng = createRng(seed, `shop:${domain}`)
  return {
    seed,
    customers: params.customers ?? 200,
    products: params.products ?? 40,
    orders: params.orders ?? 1000,
    from,
    to,
    throttle: params.throttle ?? PLAN_THROTTLE[plan],
    info: {
      id: 60_000_000_000 + rng.int(0, 9_999_999) * 100,
      domain,
      name:
        params.name ??
        handle
          .split('-')
          .map((w) => (w[0] ?? '').toUpperCase() + w.slice(1))
          .join(' '),
      email: `owner@${handle}.example.com`,
      timezone: params.timezone ?? 'America/New_York',
      currency: params.currency ?? 'USD',
      plan,
      createdAt: from - 400 * DAY,
    },
  }
}

const FIRST = [
  'Ava',
  'Liam',
  'Maya',
  'Noah',
  'Zoe',
  'Ethan',
  'Ines',
  'Omar',
  'Priya',
  'Lucas',
  'Mei',
  'Jonas',
  'Sara',
  'Diego',
  'Hana',
  'Arjun',
  'Chloe',
  'Felix',
  'Nora',
  'Yusuf',
]
const LAST = [
  'Smith',
  'Garcia',
  'Chen',
  'Patel',
  'Müller',
  'Okafor',
  'Rossi',
  'Kim',
  'Silva',
  'Novak',
  'Dubois',
  'Khan',
  "O'Brien",
  'Tanaka',
  'Larsen',
  'Haddad',
]
const ADJ = [
  'Classic',
  'Organic',
  'Vintage',
  'Ultra',
  'Compact',
  'Deluxe',
  'Everyday',
  'Rugged',
  'Silk',
  'Nordic',
]
const NOUN = [
  'Snowboard',
  'Mug',
  'Backpack',
  'Candle',
  'Hoodie',
  'Sneaker',
  'Notebook',
  'Lamp',
  'Scarf',
  'Bottle',
  'Tee',
  'Wallet',
]
const TYPES = ['Apparel', 'Home', 'Outdoor', 'Accessories', 'Stationery']
const VENDORS = ['Acme Co', 'Northwind', 'Globex', 'Initech', 'Umbrella Goods']
const SIZES = ['S', 'M', 'L', 'XL']

/** Customer j, derived from (seed, j) alone. Customers are created over [from-180d, to]. */
export function generateCustomer(spec: GenSpec, j: number): FakeCustomer {
  const r = createRng(spec.seed, 'customer', j)
  const c0 = spec.from - 180 * DAY
  const span = spec.to - c0
  const createdAt = Math.floor(c0 + ((j + r.next()) / Math.max(1, spec.customers)) * span)
  const firstName = r.pick(FIRST)
  const lastName = r.pick(LAST)
  const hasEmail = r.chance(0.96)
  return {
    id: ID_BASE.customer + j * CUSTOMER_STRIDE + r.int(0, CUSTOMER_STRIDE - 1),
    firstName,
    lastName,
    email: hasEmail
      ? `${firstName.toLowerCase()}.${lastName.toLowerCase().replace(/[^a-z]/g, '')}${j}@example.com`
      : null,
    phone: r.chance(0.4) ? `+1555${String(r.int(0, 9_999_999)).padStart(7, '0')}` : null,
    state: r.chance(0.7) ? 'ENABLED' : r.chance(0.8) ? 'DISABLED' : 'INVITED',
    verifiedEmail: hasEmail && r.chance(0.9),
    tags: r.chance(0.2) ? ['vip'] : [],
    createdAt,
    updatedAt: Math.min(
      createdAt + r.int(0, 30) * DAY + r.int(0, 86_399) * 1000,
      Math.max(createdAt, spec.to),
    ),
  }
}

/** Product j with 1–3 variants; products exist before the first order. */
export function generateProduct(spec: GenSpec, j: number): FakeProduct {
  const r = createRng(spec.seed, 'product', j)
  const title = `${r.pick(ADJ)} ${r.pick(NOUN)} ${j + 1}`
  const createdAt = spec.from - r.int(30, 400) * DAY - r.int(0, 86_399) * 1000
  const nVar = r.int(1, 3)
  const base = r.int(5, 300) * 100 - (r.chance(0.5) ? 1 : 0)
  const status = r.chance(0.9) ? 'ACTIVE' : r.chance(0.5) ? 'ARCHIVED' : 'DRAFT'
  const variants = Array.from({ length: nVar }, (_, k) => ({
    id: ID_BASE.variant + j * 10 + k,
    title: nVar === 1 ? 'Default Title' : (SIZES[k] ?? 'M'),
    sku: `SKU-${j + 1}-${k + 1}`,
    price: base + k * 500,
    inventoryQuantity: r.int(0, 500),
  }))
  return {
    id: ID_BASE.product + j * PRODUCT_STRIDE + r.int(0, PRODUCT_STRIDE - 1),
    title,
    handle: title.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
    productType: r.pick(TYPES),
    vendor: r.pick(VENDORS),
    status,
    tags: r.chance(0.3) ? ['sale'] : [],
    createdAt,
    updatedAt: createdAt + r.int(0, 20) * DAY,
    publishedAt: status === 'ACTIVE' ? createdAt + 3_600_000 : null,
    variants,
  }
}

/** Order creation time for index i: spread evenly with jitter, so it grows with i (cheap). */
export function orderCreatedAt(spec: GenSpec, i: number): number {
  const step = (spec.to - spec.from) / Math.max(1, spec.orders)
  const jitter = createRng(spec.seed, 'order-t', i).next() * 0.98
  return Math.floor((spec.from + (i + jitter) * step) / 1000) * 1000
}

/** Order id for index i (cheap); new orders continue the sequence. */
export function orderId(spec: GenSpec, i: number): number {
  return (
    ID_BASE.order + i * ORDER_STRIDE + createRng(spec.seed, 'order-id', i).int(0, ORDER_STRIDE - 1)
  )
}

/** The order index an id belongs to, or -1. */
export function orderIndexOf(id: number): number {
  const i = Math.floor((id - ID_BASE.order) / ORDER_STRIDE)
  return i >= 0 ? i : -1
}

const CANCEL_REASONS: CancelReason[] = [
  'CUSTOMER',
  'DECLINED',
  'FRAUD',
  'INVENTORY',
  'OTHER',
  'STAFF',
]
const TAX_BP = 800 // 8 %

/** Customer index for an order at time t: only customers that already exist, biased to repeats. */
function pickCustomer(spec: GenSpec, r: Rng, t: number): number | null {
  const c0 = spec.from - 180 * DAY
  const existing = Math.floor(((t - c0) / (spec.to - c0)) * spec.customers)
  if (existing <= 0) return null
  return Math.min(existing - 1, Math.floor(existing * r.next() ** 0.7))
}

/** Order i, derived from (seed, i) alone: line items, discounts, tax, shipping, refunds. */
export function generateOrder(
  spec: GenSpec,
  i: number,
  product: (j: number) => FakeProduct,
  customer: (j: number) => FakeCustomer,
): FakeOrder {
  const r = createRng(spec.seed, 'order', i)
  const createdAt = orderCreatedAt(spec, i)
  const id = orderId(spec, i)
  const guest = spec.customers === 0 || r.chance(0.12)
  const ci = guest ? null : pickCustomer(spec, r, createdAt)
  const cust = ci === null ? null : customer(ci)
  const email = cust ? cust.email : r.chance(0.8) ? `guest${i}@example.net` : null

  const nLines = spec.products === 0 ? 0 : r.int(1, 5) > 4 ? r.int(4, 5) : r.int(1, 3)
  const discounted = r.chance(0.2)
  const discountPct = discounted ? r.pick([5, 10, 15, 20]) : 0
  const lineItems: FakeLineItem[] = []
  for (let k = 0; k < nLines; k++) {
    const p = product(r.int(0, spec.products - 1))
    const v = r.pick(p.variants)
    const quantity = r.chance(0.75) ? 1 : r.int(2, 4)
    const gross = v.price * quantity
    const totalDiscount = Math.round((gross * discountPct) / 100)
    lineItems.push({
      id: ID_BASE.lineItem + i * 8 + k,
      productId: p.id,
      variantId: v.id,
      title: p.title,
      variantTitle: v.title === 'Default Title' ? null : v.title,
      sku: v.sku,
      quantity,
      unitPrice: v.price,
      totalDiscount,
      tax: Math.round(((gross - totalDiscount) * TAX_BP) / 10_000),
    })
  }
  const subtotal = lineItems.reduce((a, l) => a + l.unitPrice * l.quantity - l.totalDiscount, 0)
  const totalDiscounts = lineItems.reduce((a, l) => a + l.totalDiscount, 0)
  const shipping = subtotal >= 10_000 || nLines === 0 ? 0 : r.pick([599, 999])
  const tax = lineItems.reduce((a, l) => a + l.tax, 0)
  const total = subtotal + shipping + tax

  const last = spec.to
  const later = (minH: number, maxH: number): number =>
    Math.min(createdAt + r.int(minH * 3600, maxH * 3600) * 1000, Math.max(createdAt, last))
  let updatedAt = createdAt + r.int(0, 120) * 1000
  let financialStatus: FinancialStatus = 'PAID'
  let cancelledAt: number | null = null
  let cancelReason: CancelReason | null = null
  const refunds: FakeRefund[] = []
  const roll = r.next()
  const refund = (
    at: number,
    lines: { li: FakeLineItem; qty: number }[],
    withShipping: boolean,
    k: number,
  ): FakeRefund => {
    const rl = lines.map((x, n) => {
      const perUnitNet = (x.li.unitPrice * x.li.quantity - x.li.totalDiscount) / x.li.quantity
      const sub = Math.round(perUnitNet * x.qty)
      return {
        id: ID_BASE.refundLineItem + i * 16 + k * 5 + n,
        lineItemId: x.li.id,
        quantity: x.qty,
        subtotal: sub,
        totalTax: Math.round((x.li.tax * x.qty) / x.li.quantity),
      }
    })
    const amount =
      rl.reduce((a, x) => a + x.subtotal + x.totalTax, 0) + (withShipping ? shipping : 0)
    return {
      id: ID_BASE.refund + i * 4 + k,
      createdAt: at,
      processedAt: at,
      note: r.chance(0.5)
        ? r.pick(['Damaged in transit', 'Wrong size', 'Customer changed mind'])
        : null,
      amount,
      lineItems: rl,
    }
  }
  if (roll < 0.02 && nLines > 0) {
    cancelledAt = later(1, 48)
    cancelReason = r.pick(CANCEL_REASONS)
    if (r.chance(0.5)) {
      financialStatus = 'VOIDED'
    } else {
      financialStatus = 'REFUNDED'
      refunds.push(
        refund(
          cancelledAt,
          lineItems.map((li) => ({ li, qty: li.quantity })),
          true,
          0,
        ),
      )
    }
    updatedAt = cancelledAt
  } else if (roll < 0.07 && nLines > 0) {
    const at = later(24, 24 * 30)
    if (r.chance(0.4)) {
      refunds.push(
        refund(
          at,
          lineItems.map((li) => ({ li, qty: li.quantity })),
          true,
          0,
        ),
      )
      financialStatus = 'REFUNDED'
    } else {
      const li = r.pick(lineItems)
      refunds.push(refund(at, [{ li, qty: 1 }], false, 0))
      financialStatus = 'PARTIALLY_REFUNDED'
      if (li.quantity > 1 && r.chance(0.3)) {
        const at2 = Math.min(at + r.int(1, 72) * 3_600_000, Math.max(at, last))
        refunds.push(refund(at2, [{ li, qty: 1 }], false, 1))
      }
    }
    updatedAt = Math.max(...refunds.map((x) => x.createdAt))
  } else if (roll < 0.1) {
    financialStatus = 'PENDING'
  } else if (roll < 0.12) {
    financialStatus = 'AUTHORIZED'
  }
  const age = last - createdAt
  const fulfilled =
    cancelledAt === null && financialStatus !== 'PENDING' && (age > 3 * DAY || r.chance(0.3))
  const fulfillmentStatus = fulfilled ? 'FULFILLED' : 'UNFULFILLED'
  let closedAt: number | null = null
  if (cancelledAt !== null) closedAt = cancelledAt
  else if (fulfilled && financialStatus !== 'AUTHORIZED') {
    closedAt = later(2, 72)
    if (refunds.length === 0) updatedAt = Math.max(updatedAt, closedAt)
  }
  if (refunds.length > 0) updatedAt = Math.max(updatedAt, ...refunds.map((x) => x.createdAt))
  const number = 1001 + i
  return {
    id,
    number,
    name: `#${number}`,
    email,
    customerId: cust ? cust.id : null,
    createdAt,
    processedAt: createdAt,
    updatedAt,
    cancelledAt,
    cancelReason,
    closedAt,
    test: r.chance(0.01),
    currency: spec.info.currency,
    financialStatus,
    fulfillmentStatus,
    sourceName: r.pick(['web', 'web', 'web', 'pos', 'shopify_draft_order']),
    tags: discounted ? ['promo'] : [],
    discountCodes: discounted ? [`SAVE${discountPct}`] : [],
    lineItems,
    subtotal,
    totalDiscounts,
    shipping,
    tax,
    total,
    refunds,
  }
}

/** Sum of successful refunds. */
export const totalRefunded = (o: FakeOrder): number => o.refunds.reduce((a, x) => a + x.amount, 0)
