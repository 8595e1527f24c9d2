import type { Clock } from './clock.ts'
import {
  ID_BASE,
  generateCustomer,
  generateOrder,
  generateProduct,
  orderCreatedAt,
  orderId,
  orderIndexOf,
  totalRefunded,
} from './generator.ts'
import type { GenSpec } from './generator.ts'
import type {
  CancelReason,
  FakeCustomer,
  FakeLineItem,
  FakeOrder,
  FakeProduct,
  FakeRefund,
} from './types.ts'

/** An immutable view of a shop's rows at one moment (bulk operations read one of these). */
export type ShopData = {
  readonly spec: GenSpec
  readonly customers: readonly (FakeCustomer | null)[]
  readonly products: readonly (FakeProduct | null)[]
  readonly orderCount: number
  readonly orderOverrides: ReadonlyMap<number, FakeOrder | null>
  readonly baseProduct: (j: number) => FakeProduct
  readonly baseCustomer: (j: number) => FakeCustomer
}

/** Order at index i (null when deleted or out of range). */
export function orderAt(d: ShopData, i: number): FakeOrder | null {
  const o = d.orderOverrides.get(i)
  if (o !== undefined) return o
  if (i < 0 || i >= d.spec.orders || i >= d.orderCount) return null
  return generateOrder(d.spec, i, d.baseProduct, d.baseCustomer)
}

export function orderById(d: ShopData, id: number): FakeOrder | null {
  const o = orderAt(d, orderIndexOf(id))
  return o && o.id === id ? o : null
}

function byId<T extends { id: number }>(rows: readonly (T | null)[], id: number): T | null {
  let lo = 0
  let hi = rows.length - 1
  // Ids grow with the index; deleted slots are skipped by probing neighbours.
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    let m = mid
    while (m <= hi && rows[m] === null) m++
    const r = rows[m]
    if (m > hi || !r) {
      hi = mid - 1
      continue
    }
    if (r.id === id) return r
    if (r.id < id) lo = m + 1
    else hi = mid - 1
  }
  return null
}

export const customerById = (d: ShopData, id: number): FakeCustomer | null => byId(d.customers, id)
export const productById = (d: ShopData, id: number): FakeProduct | null => byId(d.products, id)

export type Resource = 'orders' | 'customers' | 'products'
type Key = number | string

/** Rows in sort order (ascending) as positions → entity index, sort key and id. */
export type SortedView = {
  length: number
  idxAt(p: number): number
  keyAt(p: number): Key
  idAt(p: number): number
}

/** A data-changing event; the webhook emitter turns it into REST payloads. */
export type StoreEvent =
  | {
      topic: 'orders/create' | 'orders/updated' | 'orders/cancelled' | 'orders/paid'
      order: FakeOrder
    }
  | { topic: 'orders/delete'; order: FakeOrder }
  | { topic: 'refunds/create'; order: FakeOrder; refund: FakeRefund }
  | { topic: 'customers/create' | 'customers/update' | 'customers/delete'; customer: FakeCustomer }
  | { topic: 'products/create' | 'products/update' | 'products/delete'; product: FakeProduct }

export type OrderInput = {
  customerId?: number | null
  email?: string | null
  lineItems?: { variantId?: number; productId?: number; quantity?: number }[]
  test?: boolean
  financialStatus?: 'PAID' | 'PENDING' | 'AUTHORIZED'
  tags?: string[]
}

export type RefundInput = {
  lineItems?: { lineItemId: number; quantity: number }[]
  shipping?: boolean
  note?: string | null
}

type Built = { idx: number[]; key: Key[]; id: number[] }

/** The mutable state of one shop: generated base rows plus overrides from the control API. */
export function createShopStore(spec: GenSpec, clock: Clock) {
  const baseProducts = Array.from({ length: spec.products }, (_, j) => generateProduct(spec, j))
  const baseCustomers = Array.from({ length: spec.customers }, (_, j) => generateCustomer(spec, j))
  let customers: (FakeCustomer | null)[] = baseCustomers.slice()
  let products: (FakeProduct | null)[] = baseProducts.slice()
  let orderOverrides = new Map<number, FakeOrder | null>()
  let orderCount = spec.orders
  let maxOrderCreated = spec.orders > 0 ? orderCreatedAt(spec, spec.orders - 1) : spec.from
  let version = 0
  let stats: { version: number; map: Map<number, { count: number; spent: number }> } | null = null
  const listeners: ((e: StoreEvent) => void)[] = []
  const built = new Map<string, Built>()

  const baseProduct = (j: number): FakeProduct => {
    const p = baseProducts[j]
    if (!p) throw new Error(`no product ${j}`)
    return p
  }
  const baseCustomer = (j: number): FakeCustomer => {
    const c = baseCustomers[j]
    if (!c) throw new Error(`no customer ${j}`)
    return c
  }
  const data = (): ShopData => ({
    spec,
    customers,
    products,
    orderCount,
    orderOverrides,
    baseProduct,
    baseCustomer,
  })

  const stamp = (): number => clock.now()

  const emit = (e: StoreEvent): void => {
    for (const l of listeners) l(e)
  }

  const orderKey = (o: FakeOrder, sortKey: string): Key => {
    switch (sortKey) {
      case 'UPDATED_AT':
        return o.updatedAt
      case 'TOTAL_PRICE':
        return o.total
      case 'CURRENT_TOTAL_PRICE':
        return o.total - totalRefunded(o)
      case 'FINANCIAL_STATUS':
        return o.financialStatus
      case 'FULFILLMENT_STATUS':
        return o.fulfillmentStatus
      case 'TOTAL_ITEMS_QUANTITY':
        return o.lineItems.reduce((a, l) => a + l.quantity, 0)
      default:
        throw new Error(`unsupported order sort key ${sortKey}`)
    }
  }
  const customerKey = (c: FakeCustomer, sortKey: string): Key => {
    switch (sortKey) {
      case 'ID':
      case 'RELEVANCE':
        return c.id
      case 'CREATED_AT':
        return c.createdAt
      case 'UPDATED_AT':
        return c.updatedAt
      case 'NAME':
        return `${c.firstName} ${c.lastName}`.toLowerCase()
      default:
        throw new Error(`unsupported customer sort key ${sortKey}`)
    }
  }
  const productKey = (p: FakeProduct, sortKey: string): Key => {
    switch (sortKey) {
      case 'ID':
      case 'RELEVANCE':
        return p.id
      case 'CREATED_AT':
        return p.createdAt
      case 'UPDATED_AT':
        return p.updatedAt
      case 'TITLE':
        return p.title.toLowerCase()
      case 'VENDOR':
        return p.vendor.toLowerCase()
      case 'PRODUCT_TYPE':
        return p.productType.toLowerCase()
      case 'PUBLISHED_AT':
        return p.publishedAt ?? 0
      case 'INVENTORY_TOTAL':
        return p.variants.reduce((a, v) => a + v.inventoryQuantity, 0)
      default:
        throw new Error(`unsupported product sort key ${sortKey}`)
    }
  }

  const cmp = (ka: Key, ia: number, kb: Key, ib: number): number =>
    ka < kb ? -1 : ka > kb ? 1 : ia - ib

  const keyFor = (
    resource: Resource,
    sortKey: string,
    i: number,
  ): { key: Key; id: number } | null => {
    if (resource === 'orders') {
      const o = orderAt(data(), i)
      return o ? { key: orderKey(o, sortKey), id: o.id } : null
    }
    if (resource === 'customers') {
      const c = customers[i]
      return c ? { key: customerKey(c, sortKey), id: c.id } : null
    }
    const p = products[i]
    return p ? { key: productKey(p, sortKey), id: p.id } : null
  }

  const build = (resource: Resource, sortKey: string): Built => {
    const n =
      resource === 'orders'
        ? orderCount
        : resource === 'customers'
          ? customers.length
          : products.length
    const rows: { idx: number; key: Key; id: number }[] = []
    for (let i = 0; i < n; i++) {
      const k = keyFor(resource, sortKey, i)
      if (k) rows.push({ idx: i, ...k })
    }
    rows.sort((a, b) => cmp(a.key, a.id, b.key, b.id))
    return { idx: rows.map((r) => r.idx), key: rows.map((r) => r.key), id: rows.map((r) => r.id) }
  }

  // Keeps built indexes current on each change: remove the row, re-insert at its new position.
  const touch = (resource: Resource, i: number): void => {
    version++
    for (const [name, b] of built) {
      if (!name.startsWith(`${resource}:`)) continue
      const sortKey = name.slice(resource.length + 1)
      const at = b.idx.indexOf(i)
      if (at >= 0) {
        b.idx.splice(at, 1)
        b.key.splice(at, 1)
        b.id.splice(at, 1)
      }
      const k = keyFor(resource, sortKey, i)
      if (!k) continue
      let lo = 0
      let hi = b.idx.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (cmp(b.key[mid] ?? 0, b.id[mid] ?? 0, k.key, k.id) < 0) lo = mid + 1
        else hi = mid
      }
      b.idx.splice(lo, 0, i)
      b.key.splice(lo, 0, k.key)
      b.id.splice(lo, 0, k.id)
    }
  }

  const MONOTONIC_ORDER_KEYS = new Set([
    'ID',
    'CREATED_AT',
    'PROCESSED_AT',
    'ORDER_NUMBER',
    'RELEVANCE',
  ])

  /** Rows of a resource in ascending sort order. */
  const view = (resource: Resource, sortKey: string): SortedView => {
    if (resource === 'orders' && MONOTONIC_ORDER_KEYS.has(sortKey)) {
      // Order ids, numbers and creation times all grow with the index: no index needed.
      const createdAt = (p: number): number => {
        if (p < spec.orders) return orderCreatedAt(spec, p)
        return orderOverrides.get(p)?.createdAt ?? extraCreated.get(p) ?? 0
      }
      return {
        length: orderCount,
        idxAt: (p) => p,
        idAt: (p) => orderId(spec, p),
        keyAt: (p) =>
          sortKey === 'CREATED_AT' || sortKey === 'PROCESSED_AT'
            ? createdAt(p)
            : sortKey === 'ORDER_NUMBER'
              ? 1001 + p
              : orderId(spec, p),
      }
    }
    const name = `${resource}:${sortKey}`
    let b = built.get(name)
    if (!b) {
      b = build(resource, sortKey)
      built.set(name, b)
    }
    const bb = b
    return {
      get length() {
        return bb.idx.length
      },
      idxAt: (p) => bb.idx[p] ?? -1,
      keyAt: (p) => bb.key[p] ?? 0,
      idAt: (p) => bb.id[p] ?? 0,
    }
  }
  const extraCreated = new Map<number, number>()

  const setOrder = (i: number, o: FakeOrder | null): void => {
    orderOverrides = new Map(orderOverrides)
    orderOverrides.set(i, o)
    touch('orders', i)
  }

  const requireOrder = (id: number): { i: number; o: FakeOrder } => {
    const i = orderIndexOf(id)
    const o = orderAt(data(), i)
    if (!o || o.id !== id) throw new NotFound(`order ${id}`)
    return { i, o }
  }

  /** Lifetime order count and amount spent per customer id (non-test, not voided). */
  const customerStats = (customerId: number): { count: number; spent: number } => {
    if (!stats || stats.version !== version) {
      const map = new Map<number, { count: number; spent: number }>()
      const d = data()
      for (let i = 0; i < orderCount; i++) {
        const o = orderAt(d, i)
        if (!o || o.customerId === null || o.test) continue
        let s = map.get(o.customerId)
        if (!s) {
          s = { count: 0, spent: 0 }
          map.set(o.customerId, s)
        }
        s.count++
        if (
          o.financialStatus !== 'VOIDED' &&
          o.financialStatus !== 'PENDING' &&
          o.financialStatus !== 'AUTHORIZED'
        )
          s.spent += o.total - totalRefunded(o)
      }
      stats = { version, map }
    }
    return stats.map.get(customerId) ?? { count: 0, spent: 0 }
  }

  const lineFrom = (
    i: number,
    k: number,
    input: { variantId?: number; productId?: number; quantity?: number },
  ): FakeLineItem => {
    const p =
      (input.productId !== undefined ? productById(data(), input.productId) : null) ??
      (input.variantId !== undefined
        ? (products.find((x) => x?.variants.some((v) => v.id === input.variantId)) ?? null)
        : (products.find((x) => x !== null) ?? null))
    if (!p) throw new BadRequest('no product for line item')
    const v = p.variants.find((x) => x.id === input.variantId) ?? p.variants[0]
    if (!v) throw new BadRequest('product has no variants')
    const quantity = input.quantity ?? 1
    return {
      id: ID_BASE.lineItem + i * 8 + k,
      productId: p.id,
      variantId: v.id,
      title: p.title,
      variantTitle: v.title === 'Default Title' ? null : v.title,
      sku: v.sku,
      quantity,
      unitPrice: v.price,
      totalDiscount: 0,
      tax: Math.round((v.price * quantity * 800) / 10_000),
    }
  }

  return {
    spec,
    data,
    view,
    customerStats,
    onEvent(l: (e: StoreEvent) => void): void {
      listeners.push(l)
    },
    counts(): { orders: number; customers: number; products: number } {
      let deleted = 0
      for (const [i, o] of orderOverrides) if (o === null && i < orderCount) deleted++
      return {
        orders: orderCount - deleted,
        customers: customers.filter((c) => c !== null).length,
        products: products.filter((p) => p !== null).length,
      }
    },

    createOrder(input: OrderInput = {}): FakeOrder {
      const i = orderCount
      const createdAt = Math.max(stamp(), maxOrderCreated + 1000)
      maxOrderCreated = createdAt
      const lines = (input.lineItems ?? [{}]).slice(0, 8).map((l, k) => lineFrom(i, k, l))
      const cust = input.customerId ? customerById(data(), input.customerId) : null
      if (input.customerId && !cust) throw new NotFound(`customer ${input.customerId}`)
      const subtotal = lines.reduce((a, l) => a + l.unitPrice * l.quantity, 0)
      const tax = lines.reduce((a, l) => a + l.tax, 0)
      const shipping = subtotal >= 10_000 ? 0 : 599
      const number = 1001 + i
      const o: FakeOrder = {
        id: orderId(spec, i),
        number,
        name: `#${number}`,
        email: input.email !== undefined ? input.email : (cust?.email ?? null),
        customerId: cust?.id ?? null,
        createdAt,
        processedAt: createdAt,
        updatedAt: createdAt,
        cancelledAt: null,
        cancelReason: null,
        closedAt: null,
        test: input.test ?? false,
        currency: spec.info.currency,
        financialStatus: input.financialStatus ?? 'PAID',
        fulfillmentStatus: 'UNFULFILLED',
        sourceName: 'web',
        tags: input.tags ?? [],
        discountCodes: [],
        lineItems: lines,
        subtotal,
        totalDiscounts: 0,
        shipping,
        tax,
        total: subtotal + shipping + tax,
        refunds: [],
      }
      orderCount++
      extraCreated.set(i, createdAt)
      setOrder(i, o)
      emit({ topic: 'orders/create', order: o })
      if (o.financialStatus === 'PAID') emit({ topic: 'orders/paid', order: o })
      return o
    },

    updateOrder(
      id: number,
      patch: {
        email?: string | null
        tags?: string[]
        fulfillmentStatus?: FakeOrder['fulfillmentStatus']
      },
    ): FakeOrder {
      const { i, o } = requireOrder(id)
      const n: FakeOrder = { ...o, ...patch, updatedAt: Math.max(stamp(), o.updatedAt) }
      setOrder(i, n)
      emit({ topic: 'orders/updated', order: n })
      return n
    },

    markPaid(id: number): FakeOrder {
      const { i, o } = requireOrder(id)
      if (o.financialStatus !== 'PENDING' && o.financialStatus !== 'AUTHORIZED')
        throw new BadRequest(`order ${id} is ${o.financialStatus}`)
      const n: FakeOrder = {
        ...o,
        financialStatus: 'PAID',
        updatedAt: Math.max(stamp(), o.updatedAt),
      }
      setOrder(i, n)
      emit({ topic: 'orders/paid', order: n })
      emit({ topic: 'orders/updated', order: n })
      return n
    },

    cancelOrder(id: number, opts: { reason?: CancelReason; refund?: boolean } = {}): FakeOrder {
      const { i, o } = requireOrder(id)
      if (o.cancelledAt !== null) throw new BadRequest(`order ${id} is already cancelled`)
      const at = Math.max(stamp(), o.updatedAt)
      let n: FakeOrder = {
        ...o,
        cancelledAt: at,
        cancelReason: opts.reason ?? 'CUSTOMER',
        closedAt: at,
        updatedAt: at,
      }
      let refund: FakeRefund | null = null
      if (
        opts.refund !== false &&
        (o.financialStatus === 'PAID' || o.financialStatus === 'PARTIALLY_REFUNDED')
      ) {
        refund = makeRefund(n, {}, at)
        n = { ...n, refunds: [...n.refunds, refund], financialStatus: 'REFUNDED' }
      } else if (o.financialStatus === 'PENDING' || o.financialStatus === 'AUTHORIZED') {
        n = { ...n, financialStatus: 'VOIDED' }
      }
      setOrder(i, n)
      if (refund) emit({ topic: 'refunds/create', order: n, refund })
      emit({ topic: 'orders/cancelled', order: n })
      emit({ topic: 'orders/updated', order: n })
      return n
    },

    refundOrder(id: number, input: RefundInput = {}): { order: FakeOrder; refund: FakeRefund } {
      const { i, o } = requireOrder(id)
      const at = Math.max(stamp(), o.updatedAt)
      const refund = makeRefund(o, input, at)
      const refunds = [...o.refunds, refund]
      const refunded = refunds.reduce((a, r) => a + r.amount, 0)
      const n: FakeOrder = {
        ...o,
        refunds,
        updatedAt: at,
        financialStatus: refunded >= o.total ? 'REFUNDED' : 'PARTIALLY_REFUNDED',
      }
      setOrder(i, n)
      emit({ topic: 'refunds/create', order: n, refund })
      emit({ topic: 'orders/updated', order: n })
      return { order: n, refund }
    },

    deleteOrder(id: number): void {
      const { i, o } = requireOrder(id)
      setOrder(i, null)
      emit({ topic: 'orders/delete', order: o })
    },

    createCustomer(
      input: Partial<
        Pick<FakeCustomer, 'firstName' | 'lastName' | 'email' | 'phone' | 'tags' | 'state'>
      > = {},
    ): FakeCustomer {
      const j = customers.length
      const at = stamp()
      const c: FakeCustomer = {
        id: ID_BASE.customer + j * 1000,
        firstName: input.firstName ?? 'New',
        lastName: input.lastName ?? `Customer ${j}`,
        email: input.email !== undefined ? input.email : `new${j}@example.com`,
        phone: input.phone ?? null,
        state: input.state ?? 'ENABLED',
        verifiedEmail: false,
        tags: input.tags ?? [],
        createdAt: at,
        updatedAt: at,
      }
      customers = [...customers, c]
      touch('customers', j)
      emit({ topic: 'customers/create', customer: c })
      return c
    },

    updateCustomer(
      id: number,
      patch: Partial<
        Pick<FakeCustomer, 'firstName' | 'lastName' | 'email' | 'phone' | 'tags' | 'state'>
      >,
    ): FakeCustomer {
      const j = customers.findIndex((c) => c?.id === id)
      const c = customers[j]
      if (!c) throw new NotFound(`customer ${id}`)
      const n = { ...c, ...patch, updatedAt: Math.max(stamp(), c.updatedAt) }
      customers = customers.slice()
      customers[j] = n
      touch('customers', j)
      emit({ topic: 'customers/update', customer: n })
      return n
    },

    deleteCustomer(id: number): void {
      const j = customers.findIndex((c) => c?.id === id)
      const c = customers[j]
      if (!c) throw new NotFound(`customer ${id}`)
      customers = customers.slice()
      customers[j] = null
      touch('customers', j)
      emit({ topic: 'customers/delete', customer: c })
    },

    createProduct(
      input: Partial<Pick<FakeProduct, 'title' | 'productType' | 'vendor' | 'status' | 'tags'>> & {
        price?: number
      } = {},
    ): FakeProduct {
      const j = products.length
      const at = stamp()
      const title = input.title ?? `New Product ${j + 1}`
      const p: FakeProduct = {
        id: ID_BASE.product + j * 1000,
        title,
        handle: title.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
        productType: input.productType ?? 'Home',
        vendor: input.vendor ?? 'Acme Co',
        status: input.status ?? 'ACTIVE',
        tags: input.tags ?? [],
        createdAt: at,
        updatedAt: at,
        publishedAt: (input.status ?? 'ACTIVE') === 'ACTIVE' ? at : null,
        variants: [
          {
            id: ID_BASE.variant + j * 10,
            title: 'Default Title',
            sku: `SKU-${j + 1}-1`,
            price: input.price ?? 2500,
            inventoryQuantity: 10,
          },
        ],
      }
      products = [...products, p]
      touch('products', j)
      emit({ topic: 'products/create', product: p })
      return p
    },

    updateProduct(
      id: number,
      patch: Partial<Pick<FakeProduct, 'title' | 'productType' | 'vendor' | 'status' | 'tags'>>,
    ): FakeProduct {
      const j = products.findIndex((p) => p?.id === id)
      const p = products[j]
      if (!p) throw new NotFound(`product ${id}`)
      const n = { ...p, ...patch, updatedAt: Math.max(stamp(), p.updatedAt) }
      products = products.slice()
      products[j] = n
      touch('products', j)
      emit({ topic: 'products/update', product: n })
      return n
    },

    deleteProduct(id: number): void {
      const j = products.findIndex((p) => p?.id === id)
      const p = products[j]
      if (!p) throw new NotFound(`product ${id}`)
      products = products.slice()
      products[j] = null
      touch('products', j)
      emit({ topic: 'products/delete', product: p })
    },
  }

  function makeRefund(o: FakeOrder, input: RefundInput, at: number): FakeRefund {
    const k = o.refunds.length
    const already = new Map<number, number>()
    for (const r of o.refunds)
      for (const l of r.lineItems)
        already.set(l.lineItemId, (already.get(l.lineItemId) ?? 0) + l.quantity)
    const wanted =
      input.lineItems ??
      o.lineItems
        .map((li) => ({ lineItemId: li.id, quantity: li.quantity - (already.get(li.id) ?? 0) }))
        .filter((x) => x.quantity > 0)
    const lineItems = wanted.map((w, n) => {
      const li = o.lineItems.find((l) => l.id === w.lineItemId)
      if (!li) throw new BadRequest(`line item ${w.lineItemId} is not on order ${o.id}`)
      const left = li.quantity - (already.get(li.id) ?? 0)
      if (w.quantity < 1 || w.quantity > left)
        throw new BadRequest(`cannot refund ${w.quantity} of line item ${li.id}`)
      return {
        id: ID_BASE.refundLineItem + orderIndexOf(o.id) * 16 + k * 5 + n,
        lineItemId: li.id,
        quantity: w.quantity,
        subtotal: Math.round(
          ((li.unitPrice * li.quantity - li.totalDiscount) * w.quantity) / li.quantity,
        ),
        totalTax: Math.round((li.tax * w.quantity) / li.quantity),
      }
    })
    const shipping =
      (input.shipping ?? input.lineItems === undefined) &&
      !o.refunds.some(
        (r) => r.amount > r.lineItems.reduce((a, l) => a + l.subtotal + l.totalTax, 0),
      )
        ? o.shipping
        : 0
    const amount = Math.min(
      lineItems.reduce((a, l) => a + l.subtotal + l.totalTax, 0) + shipping,
      o.total - totalRefunded(o),
    )
    return {
      id: ID_BASE.refund + orderIndexOf(o.id) * 4 + k,
      createdAt: at,
      processedAt: at,
      note: input.note ?? null,
      amount,
      lineItems,
    }
  }
}

export type ShopStore = ReturnType<typeof createShopStore>

/** A control-API error that maps to 404. */
export class NotFound extends Error {}
/** A control-API error that maps to 400. */
export class BadRequest extends Error {}
