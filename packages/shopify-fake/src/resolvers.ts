import { GraphQLError } from 'graphql'
import type { GraphQLFieldResolver, GraphQLResolveInfo, GraphQLTypeResolver } from 'graphql'
import { decimal, gid, isoSeconds, parseGid } from './format.ts'
import { orderIndexOf, totalRefunded } from './generator.ts'
import { paginate, paginateList } from './paging.ts'
import type { PageArgs } from './paging.ts'
import { compileSearch, parseSearch, rangeOf } from './search.ts'
import type { FieldTable, SearchWarning } from './search.ts'
import { customerById, orderAt, orderById, productById } from './store.ts'
import type { ShopData, ShopStore } from './store.ts'
import type {
  FakeCustomer,
  FakeLineItem,
  FakeOrder,
  FakeProduct,
  FakeRefund,
  FakeVariant,
  ShopInfo,
} from './types.ts'

/** A bulk operation as the fake keeps it. */
export type BulkOp = {
  id: number
  appClientId: string
  status: 'CREATED' | 'RUNNING' | 'COMPLETED' | 'CANCELING' | 'CANCELED' | 'FAILED' | 'EXPIRED'
  type: 'QUERY'
  errorCode: 'ACCESS_DENIED' | 'INTERNAL_SERVER_ERROR' | 'TIMEOUT' | null
  query: string
  groupObjects: boolean
  createdAt: number
  completedAt: number | null
  objectCount: number
  rootObjectCount: number
  fileSize: number | null
  url: string | null
  partialDataUrl: string | null
}

/** A webhook subscription created through GraphQL. */
export type Subscription = {
  id: number
  appClientId: string
  topic: string
  uri: string
  format: 'JSON' | 'XML'
  includeFields: string[]
  filter: string | null
  name: string | null
  apiVersion: string
  createdAt: number
  updatedAt: number
}

/** What resolvers need from the shop runtime. */
export type ResolverShop = {
  info: ShopInfo
  store: ShopStore
  bulkOps(appClientId: string): BulkOp[]
  runBulk(
    appClientId: string,
    query: string,
    groupObjects: boolean,
  ): { op: BulkOp | null; userErrors: { field: string[] | null; message: string; code: string }[] }
  cancelBulk(
    appClientId: string,
    id: number,
  ): { op: BulkOp | null; userErrors: { field: string[] | null; message: string }[] }
  subscriptions(appClientId: string): Subscription[]
  subscribe(
    appClientId: string,
    topic: string,
    input: Record<string, unknown>,
    apiVersion: string,
  ): { sub: Subscription | null; userErrors: { field: string[]; message: string }[] }
  unsubscribe(appClientId: string, id: number): boolean
}

export type GqlContext = {
  shop: ResolverShop
  data: ShopData
  now: number
  scopes: ReadonlySet<string>
  appClientId: string
  apiVersion: string
  search: { path: (string | number)[]; query: string; parsed: unknown; warnings: SearchWarning[] }[]
}

type Src<T extends string, V> = { __typename: T; v: V; data: ShopData }
type OrderSrc = Src<'Order', FakeOrder>
type CustomerSrc = Src<'Customer', FakeCustomer>
type ProductSrc = Src<'Product', FakeProduct>
type LineSrc = Src<'LineItem', FakeLineItem> & { order: FakeOrder }
type RefundSrc = Src<'Refund', FakeRefund> & { order: FakeOrder }
type VariantSrc = Src<'ProductVariant', FakeVariant> & { product: FakeProduct }

const money = (cents: number, currency: string) => ({
  amount: decimal(cents),
  currencyCode: currency,
})
const bag = (cents: number, currency: string) => ({
  shopMoney: money(cents, currency),
  presentmentMoney: money(cents, currency),
})

const wrapOrder = (data: ShopData, v: FakeOrder): OrderSrc => ({ __typename: 'Order', v, data })
const wrapCustomer = (data: ShopData, v: FakeCustomer): CustomerSrc => ({
  __typename: 'Customer',
  v,
  data,
})
const wrapProduct = (data: ShopData, v: FakeProduct): ProductSrc => ({
  __typename: 'Product',
  v,
  data,
})

const DAY = 86_400_000

/** Search fields per resource (FACTS §2.3); anything else yields an `invalid_field` warning. */
export const ORDER_FIELDS: FieldTable<FakeOrder> = {
  updated_at: { type: 'date', get: (o) => o.updatedAt },
  created_at: { type: 'date', get: (o) => o.createdAt },
  processed_at: { type: 'date', get: (o) => o.processedAt },
  id: { type: 'number', get: (o) => o.id },
  test: { type: 'boolean', get: (o) => o.test },
  financial_status: { type: 'string', get: (o) => o.financialStatus.toLowerCase() },
  fulfillment_status: {
    type: 'string',
    get: (o) =>
      o.fulfillmentStatus === 'FULFILLED'
        ? 'shipped'
        : o.fulfillmentStatus === 'PARTIALLY_FULFILLED'
          ? 'partial'
          : 'unshipped',
  },
  customer_id: { type: 'number', get: (o) => o.customerId },
  name: { type: 'string', get: (o) => o.name },
  email: { type: 'string', get: (o) => o.email },
  tag: { type: 'list', get: (o) => o.tags },
  tag_not: { type: 'list', get: (o) => o.tags },
  sku: { type: 'list', get: (o) => o.lineItems.map((l) => l.sku ?? '') },
  source_name: { type: 'string', get: (o) => o.sourceName },
  status: {
    type: 'string',
    get: (o) => (o.cancelledAt !== null ? 'cancelled' : o.closedAt !== null ? 'closed' : 'open'),
  },
}
export const CUSTOMER_FIELDS: FieldTable<FakeCustomer> = {
  // Documented as "matching a whole day".
  updated_at: { type: 'date', get: (c) => c.updatedAt, granularity: 'day' },
  customer_date: { type: 'date', get: (c) => c.createdAt },
  created_at: { type: 'date', get: (c) => c.createdAt },
  id: { type: 'number', get: (c) => c.id },
  email: { type: 'string', get: (c) => c.email },
  state: { type: 'string', get: (c) => c.state.toLowerCase() },
  tag: { type: 'list', get: (c) => c.tags },
  first_name: { type: 'string', get: (c) => c.firstName },
  last_name: { type: 'string', get: (c) => c.lastName },
}
export const PRODUCT_FIELDS: FieldTable<FakeProduct> = {
  updated_at: { type: 'date', get: (p) => p.updatedAt },
  created_at: { type: 'date', get: (p) => p.createdAt },
  published_at: { type: 'date', get: (p) => p.publishedAt },
  id: { type: 'number', get: (p) => p.id },
  status: { type: 'string', get: (p) => p.status.toLowerCase() },
  product_type: { type: 'string', get: (p) => p.productType },
  vendor: { type: 'string', get: (p) => p.vendor },
  handle: { type: 'string', get: (p) => p.handle },
  title: { type: 'string', get: (p) => p.title },
  tag: { type: 'list', get: (p) => p.tags },
  sku: { type: 'list', get: (p) => p.variants.map((v) => v.sku) },
}

// `tag_not` is a negated list match.
const ORDER_FIELDS_COMPILED: FieldTable<FakeOrder> = ORDER_FIELDS

const SORT_FIELD: Record<string, string> = {
  UPDATED_AT: 'updated_at',
  CREATED_AT: 'created_at',
  PROCESSED_AT: 'processed_at',
  ID: 'id',
}

function orderSortValue(sortKey: string): (o: FakeOrder) => number | string {
  switch (sortKey) {
    case 'ID':
    case 'RELEVANCE':
      return (o) => o.id
    case 'CREATED_AT':
    case 'PROCESSED_AT':
      return (o) => o.createdAt
    case 'ORDER_NUMBER':
      return (o) => o.number
    case 'UPDATED_AT':
      return (o) => o.updatedAt
    case 'TOTAL_PRICE':
      return (o) => o.total
    case 'CURRENT_TOTAL_PRICE':
      return (o) => o.total - totalRefunded(o)
    case 'FINANCIAL_STATUS':
      return (o) => o.financialStatus
    case 'FULFILLMENT_STATUS':
      return (o) => o.fulfillmentStatus
    case 'TOTAL_ITEMS_QUANTITY':
      return (o) => o.lineItems.reduce((a, l) => a + l.quantity, 0)
    default:
      throw new GraphQLError(`Sort key ${sortKey} is not supported by the fake.`)
  }
}
const customerSortValue =
  (sortKey: string) =>
  (c: FakeCustomer): number | string =>
    sortKey === 'CREATED_AT'
      ? c.createdAt
      : sortKey === 'UPDATED_AT'
        ? c.updatedAt
        : sortKey === 'NAME'
          ? `${c.firstName} ${c.lastName}`.toLowerCase()
          : c.id
const productSortValue =
  (sortKey: string) =>
  (p: FakeProduct): number | string => {
    switch (sortKey) {
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
        return p.id
    }
  }
const SUPPORTED_CUSTOMER_SORT = new Set(['ID', 'RELEVANCE', 'CREATED_AT', 'UPDATED_AT', 'NAME'])
const SUPPORTED_PRODUCT_SORT = new Set([
  'ID',
  'RELEVANCE',
  'CREATED_AT',
  'UPDATED_AT',
  'TITLE',
  'VENDOR',
  'PRODUCT_TYPE',
  'PUBLISHED_AT',
  'INVENTORY_TOTAL',
])

function searchFor<T>(
  ctx: GqlContext,
  info: GraphQLResolveInfo | null,
  query: string | null | undefined,
  fields: FieldTable<T>,
) {
  const node = parseSearch(query)
  const compiled = compileSearch(node, fields, ctx.now)
  if (compiled.warnings.length > 0 && info && query) {
    const w = compiled.warnings[0]
    ctx.search.push({
      path: pathOf(info),
      query,
      parsed: parsedSummary(node),
      warnings: compiled.warnings,
    })
    void w
  }
  return { node, test: compiled.test }
}

function parsedSummary(node: ReturnType<typeof parseSearch>): unknown {
  if (!node) return null
  if (node.kind === 'term')
    return node.field ? { field: node.field, match_all: node.value } : { match_all: node.value }
  if (node.kind === 'not') return { not: parsedSummary(node.item) }
  return { [node.kind]: node.items.map(parsedSummary) }
}

function pathOf(info: GraphQLResolveInfo): (string | number)[] {
  const out: (string | number)[] = []
  for (let p: GraphQLResolveInfo['path'] | undefined = info.path; p; p = p.prev) out.unshift(p.key)
  return out
}

/** The 60-day window: without read_all_orders only recent orders are visible. */
const orderWindow = (ctx: GqlContext): number =>
  ctx.scopes.has('read_all_orders') ? -Infinity : ctx.now - 60 * DAY

/** Orders visible to this request, matching `query`. */
export function orderFilter(
  ctx: GqlContext,
  info: GraphQLResolveInfo | null,
  query: string | null | undefined,
) {
  const s = searchFor(ctx, info, query, ORDER_FIELDS_COMPILED)
  const tagNot = (s.node ? collectTerms(s.node) : []).filter((t) => t.field === 'tag_not')
  const windowStart = orderWindow(ctx)
  const test = (o: FakeOrder): boolean =>
    o.createdAt >= windowStart &&
    s.test(o) &&
    tagNot.every((t) => !o.tags.some((x) => x.toLowerCase() === t.value.toLowerCase()))
  return { node: s.node, test }
}

function collectTerms(
  node: NonNullable<ReturnType<typeof parseSearch>>,
): { field: string | null; value: string }[] {
  if (node.kind === 'term') return [node]
  if (node.kind === 'not') return collectTerms(node.item)
  return node.items.flatMap(collectTerms)
}

type Args = Record<string, unknown>
const pageArgs = (a: Args): PageArgs => a

function ordersConnection(ctx: GqlContext, info: GraphQLResolveInfo, a: Args) {
  const sortKey = (a.sortKey as string | undefined) ?? 'PROCESSED_AT'
  const sortValue = orderSortValue(sortKey)
  const f = orderFilter(ctx, info, a.query as string | undefined)
  const field = SORT_FIELD[sortKey]
  let bounds = field
    ? rangeOf(f.node, field, field === 'id' ? 'number' : 'date', ctx.now)
    : undefined
  if (sortKey === 'CREATED_AT' || sortKey === 'PROCESSED_AT') {
    const w = orderWindow(ctx)
    bounds = { lo: Math.max(bounds?.lo ?? -Infinity, w), hi: bounds?.hi ?? Infinity }
  }
  const view = ctx.shop.store.view('orders', sortKey)
  const conn = paginate(view, (i) => orderAt(ctx.data, i), f.test, sortValue, pageArgs(a), bounds)
  return mapConn(conn, (o) => wrapOrder(ctx.data, o))
}

function mapConn<T, U>(
  c: ReturnType<typeof paginate<T & { id: number }>>,
  f: (x: T & { id: number }) => U,
) {
  const edges = c.edges.map((e) => ({
    get cursor() {
      return e.cursor
    },
    node: f(e.node),
  }))
  return { edges, nodes: edges.map((e) => e.node), pageInfo: c.pageInfo }
}

function count(n: number, limit: unknown) {
  const lim = limit === undefined ? 10000 : (limit as number | null)
  if (lim !== null && n > lim) return { count: lim, precision: 'AT_LEAST' }
  return { count: n, precision: 'EXACT' }
}

function nodeById(ctx: GqlContext, id: string): unknown {
  const g = parseGid(id)
  if (!g)
    throw new GraphQLError(`Invalid global id '${id}'`, {
      extensions: { code: 'argumentLiteralsIncompatible' },
    })
  const d = ctx.data
  switch (g.type) {
    case 'Order': {
      const o = orderById(d, g.id)
      return o && orderFilter(ctx, null, null).test(o) ? wrapOrder(d, o) : null
    }
    case 'Customer': {
      const c = customerById(d, g.id)
      return c ? wrapCustomer(d, c) : null
    }
    case 'Product': {
      const p = productById(d, g.id)
      return p ? wrapProduct(d, p) : null
    }
    case 'BulkOperation':
      return ctx.shop.bulkOps(ctx.appClientId).find((b) => b.id === g.id) ?? null
    case 'WebhookSubscription': {
      const s = ctx.shop.subscriptions(ctx.appClientId).find((x) => x.id === g.id)
      return s ? { __typename: 'WebhookSubscription', ...s } : null
    }
    case 'LineItem': {
      const i = Math.floor((g.id - 14_100_000_000_000) / 8)
      const o = orderAt(d, i)
      const li = o?.lineItems.find((l) => l.id === g.id)
      return o && li
        ? ({ __typename: 'LineItem', v: li, data: d, order: o } satisfies LineSrc)
        : null
    }
    case 'Refund': {
      const i = Math.floor((g.id - 9_300_000_000_000) / 4)
      const o = orderAt(d, i)
      const r = o?.refunds.find((x) => x.id === g.id)
      return o && r ? ({ __typename: 'Refund', v: r, data: d, order: o } satisfies RefundSrc) : null
    }
    default:
      return null
  }
}

const bulkObj = (b: BulkOp) => ({ __typename: 'BulkOperation', ...b })

type Resolver = (src: never, args: Args, ctx: GqlContext, info: GraphQLResolveInfo) => unknown
type ResolverMap = Record<string, Record<string, Resolver>>

/** Field resolvers by type; fields not listed read a same-named property or resolve to null. */
export const resolvers: ResolverMap = {
  QueryRoot: {
    shop: (_s, _a, ctx) => ({ __typename: 'Shop', v: ctx.shop.info }),
    orders: (_s, a, ctx, info) => ordersConnection(ctx, info, a),
    order: (_s, a, ctx) => {
      const n = nodeById(ctx, a.id as string) as { __typename?: string } | null
      return n?.__typename === 'Order' ? n : null
    },
    customers: (_s, a, ctx, info) => {
      const sortKey = (a.sortKey as string | undefined) ?? 'ID'
      if (!SUPPORTED_CUSTOMER_SORT.has(sortKey))
        throw new GraphQLError(`Sort key ${sortKey} is not supported by the fake.`)
      const s = searchFor(ctx, info, a.query as string | undefined, CUSTOMER_FIELDS)
      const view = ctx.shop.store.view('customers', sortKey)
      const conn = paginate(
        view,
        (i) => ctx.data.customers[i] ?? null,
        s.test,
        customerSortValue(sortKey),
        pageArgs(a),
      )
      return mapConn(conn, (c) => wrapCustomer(ctx.data, c))
    },
    customer: (_s, a, ctx) => {
      const n = nodeById(ctx, a.id as string) as { __typename?: string } | null
      return n?.__typename === 'Customer' ? n : null
    },
    products: (_s, a, ctx, info) => {
      const sortKey = (a.sortKey as string | undefined) ?? 'ID'
      if (!SUPPORTED_PRODUCT_SORT.has(sortKey))
        throw new GraphQLError(`Sort key ${sortKey} is not supported by the fake.`)
      const s = searchFor(ctx, info, a.query as string | undefined, PRODUCT_FIELDS)
      const view = ctx.shop.store.view('products', sortKey)
      const conn = paginate(
        view,
        (i) => ctx.data.products[i] ?? null,
        s.test,
        productSortValue(sortKey),
        pageArgs(a),
      )
      return mapConn(conn, (p) => wrapProduct(ctx.data, p))
    },
    product: (_s, a, ctx) => {
      const n = nodeById(ctx, a.id as string) as { __typename?: string } | null
      return n?.__typename === 'Product' ? n : null
    },
    ordersCount: (_s, a, ctx, info) => {
      const f = orderFilter(ctx, info, a.query as string | undefined)
      let n = 0
      for (let i = 0; i < ctx.data.orderCount; i++) {
        const o = orderAt(ctx.data, i)
        if (o && f.test(o)) n++
      }
      return count(n, a.limit)
    },
    customersCount: (_s, a, ctx, info) => {
      const s = searchFor(ctx, info, a.query as string | undefined, CUSTOMER_FIELDS)
      return count(ctx.data.customers.filter((c) => c !== null && s.test(c)).length, a.limit)
    },
    productsCount: (_s, a, ctx, info) => {
      const s = searchFor(ctx, info, a.query as string | undefined, PRODUCT_FIELDS)
      return count(ctx.data.products.filter((p) => p !== null && s.test(p)).length, a.limit)
    },
    node: (_s, a, ctx) => nodeById(ctx, a.id as string),
    nodes: (_s, a, ctx) => {
      const ids = a.ids as string[]
      // Shopify's input-array limit (FACTS §2.2): 250 ids at most.
      if (ids.length > 250)
        throw new GraphQLError(
          `The input array size of ${ids.length} is greater than the maximum allowed of 250.`,
          { extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' } },
        )
      return ids.map((id) => nodeById(ctx, id))
    },
    bulkOperation: (_s, a, ctx) => {
      const g = parseGid(a.id as string)
      const b =
        g?.type === 'BulkOperation'
          ? ctx.shop.bulkOps(ctx.appClientId).find((x) => x.id === g.id)
          : undefined
      return b ? bulkObj(b) : null
    },
    bulkOperations: (_s, a, ctx, info) => {
      const ops = ctx.shop.bulkOps(ctx.appClientId)
      const fields: FieldTable<BulkOp> = {
        status: { type: 'string', get: (b) => b.status.toLowerCase() },
        operation_type: { type: 'string', get: (b) => b.type.toLowerCase() },
        created_at: { type: 'date', get: (b) => b.createdAt },
        id: { type: 'number', get: (b) => b.id },
      }
      const s = searchFor(ctx, info, a.query as string | undefined, fields)
      const sortKey = (a.sortKey as string | undefined) ?? 'CREATED_AT'
      const conn = paginateList(
        ops.filter(s.test),
        pageArgs(a),
        sortKey === 'COMPLETED_AT'
          ? (b) => b.completedAt ?? 0
          : sortKey === 'ID'
            ? (b) => b.id
            : (b) => b.createdAt,
      )
      return mapConn(conn, bulkObj)
    },
    currentBulkOperation: (_s, a, ctx) => {
      if (((a.type as string | undefined) ?? 'QUERY') !== 'QUERY') return null
      const ops = ctx.shop.bulkOps(ctx.appClientId)
      const last = ops.reduce<BulkOp | null>((m, b) => (!m || b.id > m.id ? b : m), null)
      return last ? bulkObj(last) : null
    },
    webhookSubscriptions: (_s, a, ctx) => {
      const topics = a.topics as string[] | undefined
      const uri = (a.uri ?? a.callbackUrl) as string | undefined
      const subs = ctx.shop
        .subscriptions(ctx.appClientId)
        .filter(
          (s) =>
            (!topics || topics.includes(s.topic)) &&
            (!uri || s.uri === uri) &&
            (!a.format || s.format === a.format),
        )
      const conn = paginateList(
        subs,
        pageArgs(a),
        a.sortKey === 'CREATED_AT' ? (s) => s.createdAt : (s) => s.id,
      )
      return mapConn(conn, (s) => ({ __typename: 'WebhookSubscription', ...s }))
    },
    webhookSubscription: (_s, a, ctx) => nodeById(ctx, a.id as string),
  },
  Mutation: {
    bulkOperationRunQuery: (_s, a, ctx) => {
      const r = ctx.shop.runBulk(
        ctx.appClientId,
        a.query as string,
        (a.groupObjects as boolean | undefined) ?? false,
      )
      return { bulkOperation: r.op ? bulkObj(r.op) : null, userErrors: r.userErrors }
    },
    bulkOperationCancel: (_s, a, ctx) => {
      const g = parseGid(a.id as string)
      const r = ctx.shop.cancelBulk(ctx.appClientId, g?.type === 'BulkOperation' ? g.id : -1)
      return { bulkOperation: r.op ? bulkObj(r.op) : null, userErrors: r.userErrors }
    },
    webhookSubscriptionCreate: (_s, a, ctx) => {
      const r = ctx.shop.subscribe(
        ctx.appClientId,
        a.topic as string,
        (a.webhookSubscription ?? {}) as Record<string, unknown>,
        ctx.apiVersion,
      )
      return {
        webhookSubscription: r.sub ? { __typename: 'WebhookSubscription', ...r.sub } : null,
        userErrors: r.userErrors,
      }
    },
    webhookSubscriptionDelete: (_s, a, ctx) => {
      const g = parseGid(a.id as string)
      const ok = g?.type === 'WebhookSubscription' && ctx.shop.unsubscribe(ctx.appClientId, g.id)
      return ok
        ? { deletedWebhookSubscriptionId: a.id, userErrors: [] }
        : {
            deletedWebhookSubscriptionId: null,
            userErrors: [{ field: ['id'], message: 'Webhook subscription does not exist' }],
          }
    },
  },
  Shop: {
    id: (s: { v: ShopInfo }) => gid('Shop', s.v.id),
    name: (s: { v: ShopInfo }) => s.v.name,
    email: (s: { v: ShopInfo }) => s.v.email,
    contactEmail: (s: { v: ShopInfo }) => s.v.email,
    myshopifyDomain: (s: { v: ShopInfo }) => s.v.domain,
    ianaTimezone: (s: { v: ShopInfo }) => s.v.timezone,
    currencyCode: (s: { v: ShopInfo }) => s.v.currency,
    createdAt: (s: { v: ShopInfo }) => isoSeconds(s.v.createdAt),
    plan: (s: { v: ShopInfo }) => ({
      publicDisplayName: PLAN_DISPLAY[s.v.plan],
      displayName: PLAN_DISPLAY[s.v.plan],
      partnerDevelopment: false,
      shopifyPlus: s.v.plan === 'plus' || s.v.plan === 'enterprise',
    }),
  },
  Order: {
    id: (s: OrderSrc) => gid('Order', s.v.id),
    legacyResourceId: (s: OrderSrc) => String(s.v.id),
    name: (s: OrderSrc) => s.v.name,
    number: (s: OrderSrc) => s.v.number,
    email: (s: OrderSrc) => s.v.email,
    createdAt: (s: OrderSrc) => isoSeconds(s.v.createdAt),
    updatedAt: (s: OrderSrc) => isoSeconds(s.v.updatedAt),
    processedAt: (s: OrderSrc) => isoSeconds(s.v.processedAt),
    cancelledAt: (s: OrderSrc) => (s.v.cancelledAt === null ? null : isoSeconds(s.v.cancelledAt)),
    closedAt: (s: OrderSrc) => (s.v.closedAt === null ? null : isoSeconds(s.v.closedAt)),
    closed: (s: OrderSrc) => s.v.closedAt !== null,
    cancelReason: (s: OrderSrc) => s.v.cancelReason,
    test: (s: OrderSrc) => s.v.test,
    currencyCode: (s: OrderSrc) => s.v.currency,
    presentmentCurrencyCode: (s: OrderSrc) => s.v.currency,
    displayFinancialStatus: (s: OrderSrc) => s.v.financialStatus,
    displayFulfillmentStatus: (s: OrderSrc) => s.v.fulfillmentStatus,
    sourceName: (s: OrderSrc) => s.v.sourceName,
    tags: (s: OrderSrc) => s.v.tags,
    discountCodes: (s: OrderSrc) => s.v.discountCodes,
    discountCode: (s: OrderSrc) => s.v.discountCodes[0] ?? null,
    totalPriceSet: (s: OrderSrc) => bag(s.v.total, s.v.currency),
    subtotalPriceSet: (s: OrderSrc) => bag(s.v.subtotal, s.v.currency),
    totalTaxSet: (s: OrderSrc) => bag(s.v.tax, s.v.currency),
    totalDiscountsSet: (s: OrderSrc) => bag(s.v.totalDiscounts, s.v.currency),
    totalShippingPriceSet: (s: OrderSrc) => bag(s.v.shipping, s.v.currency),
    totalRefundedSet: (s: OrderSrc) => bag(totalRefunded(s.v), s.v.currency),
    currentTotalPriceSet: (s: OrderSrc) => bag(s.v.total - totalRefunded(s.v), s.v.currency),
    currentSubtotalPriceSet: (s: OrderSrc) =>
      bag(
        s.v.subtotal -
          s.v.refunds.reduce((a, r) => a + r.lineItems.reduce((b, l) => b + l.subtotal, 0), 0),
        s.v.currency,
      ),
    totalPrice: (s: OrderSrc) => decimal(s.v.total),
    subtotalPrice: (s: OrderSrc) => decimal(s.v.subtotal),
    customer: (s: OrderSrc) => {
      if (s.v.customerId === null) return null
      const c = customerById(s.data, s.v.customerId)
      return c ? wrapCustomer(s.data, c) : null
    },
    lineItems: (s: OrderSrc, a) =>
      mapConn(paginateList(s.v.lineItems, pageArgs(a)), (li) => ({
        __typename: 'LineItem',
        v: li,
        data: s.data,
        order: s.v,
      })),
    refunds: (s: OrderSrc, a) =>
      s.v.refunds
        .slice(0, (a.first as number | undefined) ?? undefined)
        .map((r) => ({ __typename: 'Refund', v: r, data: s.data, order: s.v })),
  },
  LineItem: {
    id: (s: LineSrc) => gid('LineItem', s.v.id),
    name: (s: LineSrc) => (s.v.variantTitle ? `${s.v.title} - ${s.v.variantTitle}` : s.v.title),
    title: (s: LineSrc) => s.v.title,
    variantTitle: (s: LineSrc) => s.v.variantTitle,
    sku: (s: LineSrc) => s.v.sku,
    quantity: (s: LineSrc) => s.v.quantity,
    currentQuantity: (s: LineSrc) => s.v.quantity - refundedQty(s.order, s.v.id),
    refundableQuantity: (s: LineSrc) => s.v.quantity - refundedQty(s.order, s.v.id),
    originalUnitPriceSet: (s: LineSrc) => bag(s.v.unitPrice, s.order.currency),
    discountedUnitPriceSet: (s: LineSrc) =>
      bag(
        Math.round((s.v.unitPrice * s.v.quantity - s.v.totalDiscount) / s.v.quantity),
        s.order.currency,
      ),
    originalTotalSet: (s: LineSrc) => bag(s.v.unitPrice * s.v.quantity, s.order.currency),
    discountedTotalSet: (s: LineSrc) =>
      bag(s.v.unitPrice * s.v.quantity - s.v.totalDiscount, s.order.currency),
    totalDiscountSet: (s: LineSrc) => bag(s.v.totalDiscount, s.order.currency),
    taxable: () => true,
    requiresShipping: () => true,
    product: (s: LineSrc) => {
      if (s.v.productId === null) return null
      const p = productById(s.data, s.v.productId)
      return p ? wrapProduct(s.data, p) : null
    },
    variant: (s: LineSrc) => {
      if (s.v.productId === null) return null
      const p = productById(s.data, s.v.productId)
      const v = p?.variants.find((x) => x.id === s.v.variantId)
      return p && v
        ? ({ __typename: 'ProductVariant', v, data: s.data, product: p } satisfies VariantSrc)
        : null
    },
  },
  Refund: {
    id: (s: RefundSrc) => gid('Refund', s.v.id),
    legacyResourceId: (s: RefundSrc) => String(s.v.id),
    createdAt: (s: RefundSrc) => isoSeconds(s.v.createdAt),
    updatedAt: (s: RefundSrc) => isoSeconds(s.v.createdAt),
    processedAt: (s: RefundSrc) => isoSeconds(s.v.processedAt),
    note: (s: RefundSrc) => s.v.note,
    totalRefundedSet: (s: RefundSrc) => bag(s.v.amount, s.order.currency),
    totalRefunded: (s: RefundSrc) => money(s.v.amount, s.order.currency),
    order: (s: RefundSrc) => wrapOrder(s.data, s.order),
    refundLineItems: (s: RefundSrc, a) =>
      mapConn(paginateList(s.v.lineItems, pageArgs(a)), (rl) => ({
        __typename: 'RefundLineItem',
        v: rl,
        order: s.order,
        data: s.data,
      })),
  },
  RefundLineItem: {
    id: (s: { v: { id: number } }) => gid('RefundLineItem', s.v.id),
    quantity: (s: { v: { quantity: number } }) => s.v.quantity,
    restocked: () => false,
    restockType: () => 'NO_RESTOCK',
    subtotalSet: (s: { v: { subtotal: number }; order: FakeOrder }) =>
      bag(s.v.subtotal, s.order.currency),
    totalTaxSet: (s: { v: { totalTax: number }; order: FakeOrder }) =>
      bag(s.v.totalTax, s.order.currency),
    priceSet: (s: { v: { subtotal: number; quantity: number }; order: FakeOrder }) =>
      bag(Math.round(s.v.subtotal / s.v.quantity), s.order.currency),
    lineItem: (s: { v: { lineItemId: number }; order: FakeOrder; data: ShopData }) => {
      const li = s.order.lineItems.find((l) => l.id === s.v.lineItemId)
      return li ? { __typename: 'LineItem', v: li, data: s.data, order: s.order } : null
    },
  },
  Customer: {
    id: (s: CustomerSrc) => gid('Customer', s.v.id),
    legacyResourceId: (s: CustomerSrc) => String(s.v.id),
    firstName: (s: CustomerSrc) => s.v.firstName,
    lastName: (s: CustomerSrc) => s.v.lastName,
    displayName: (s: CustomerSrc) => `${s.v.firstName} ${s.v.lastName}`,
    email: (s: CustomerSrc) => s.v.email,
    phone: (s: CustomerSrc) => s.v.phone,
    defaultEmailAddress: (s: CustomerSrc) =>
      s.v.email === null
        ? null
        : { emailAddress: s.v.email, marketingState: 'NOT_SUBSCRIBED', validFormat: true },
    state: (s: CustomerSrc) => s.v.state,
    verifiedEmail: (s: CustomerSrc) => s.v.verifiedEmail,
    tags: (s: CustomerSrc) => s.v.tags,
    createdAt: (s: CustomerSrc) => isoSeconds(s.v.createdAt),
    updatedAt: (s: CustomerSrc) => isoSeconds(s.v.updatedAt),
    numberOfOrders: (s: CustomerSrc, _a, ctx) => String(ctx.shop.store.customerStats(s.v.id).count),
    amountSpent: (s: CustomerSrc, _a, ctx) =>
      money(ctx.shop.store.customerStats(s.v.id).spent, ctx.shop.info.currency),
  },
  Product: {
    id: (s: ProductSrc) => gid('Product', s.v.id),
    legacyResourceId: (s: ProductSrc) => String(s.v.id),
    title: (s: ProductSrc) => s.v.title,
    handle: (s: ProductSrc) => s.v.handle,
    status: (s: ProductSrc) => s.v.status,
    vendor: (s: ProductSrc) => s.v.vendor,
    productType: (s: ProductSrc) => s.v.productType,
    tags: (s: ProductSrc) => s.v.tags,
    createdAt: (s: ProductSrc) => isoSeconds(s.v.createdAt),
    updatedAt: (s: ProductSrc) => isoSeconds(s.v.updatedAt),
    publishedAt: (s: ProductSrc) => (s.v.publishedAt === null ? null : isoSeconds(s.v.publishedAt)),
    totalInventory: (s: ProductSrc) => s.v.variants.reduce((a, v) => a + v.inventoryQuantity, 0),
    hasOnlyDefaultVariant: (s: ProductSrc) =>
      s.v.variants.length === 1 && s.v.variants[0]?.title === 'Default Title',
    variants: (s: ProductSrc, a) =>
      mapConn(paginateList(s.v.variants, pageArgs(a)), (v) => ({
        __typename: 'ProductVariant',
        v,
        data: s.data,
        product: s.v,
      })),
  },
  ProductVariant: {
    id: (s: VariantSrc) => gid('ProductVariant', s.v.id),
    legacyResourceId: (s: VariantSrc) => String(s.v.id),
    title: (s: VariantSrc) => s.v.title,
    displayName: (s: VariantSrc) => `${s.product.title} - ${s.v.title}`,
    sku: (s: VariantSrc) => s.v.sku,
    price: (s: VariantSrc) => decimal(s.v.price),
    inventoryQuantity: (s: VariantSrc) => s.v.inventoryQuantity,
    createdAt: (s: VariantSrc) => isoSeconds(s.product.createdAt),
    updatedAt: (s: VariantSrc) => isoSeconds(s.product.updatedAt),
    product: (s: VariantSrc) => wrapProduct(s.data, s.product),
  },
  BulkOperation: {
    id: (b: BulkOp) => gid('BulkOperation', b.id),
    createdAt: (b: BulkOp) => isoSeconds(b.createdAt),
    completedAt: (b: BulkOp) => (b.completedAt === null ? null : isoSeconds(b.completedAt)),
    objectCount: (b: BulkOp) => String(b.objectCount),
    rootObjectCount: (b: BulkOp) => String(b.rootObjectCount),
    fileSize: (b: BulkOp) => (b.fileSize === null ? null : String(b.fileSize)),
  },
  WebhookSubscription: {
    id: (s: Subscription) => gid('WebhookSubscription', s.id),
    legacyResourceId: (s: Subscription) => String(s.id),
    callbackUrl: (s: Subscription) => s.uri,
    endpoint: (s: Subscription) => ({ __typename: 'WebhookHttpEndpoint', callbackUrl: s.uri }),
    createdAt: (s: Subscription) => isoSeconds(s.createdAt),
    updatedAt: (s: Subscription) => isoSeconds(s.updatedAt),
    metafieldNamespaces: () => [],
    metafields: () => [],
  },
}

const PLAN_DISPLAY: Record<ShopInfo['plan'], string> = {
  basic: 'Basic',
  shopify: 'Shopify',
  advanced: 'Advanced',
  plus: 'Shopify Plus',
  enterprise: 'Enterprise',
}

function refundedQty(o: FakeOrder, lineItemId: number): number {
  let n = 0
  for (const r of o.refunds)
    for (const l of r.lineItems) if (l.lineItemId === lineItemId) n += l.quantity
  return n
}

/** Dispatches to `resolvers`, else a same-named own property, else null (never invented data). */
export const fieldResolver: GraphQLFieldResolver<unknown, GqlContext> = (
  source,
  args,
  ctx,
  info,
) => {
  const fn = resolvers[info.parentType.name]?.[info.fieldName]
  if (fn)
    return (fn as (s: unknown, a: Args, c: GqlContext, i: GraphQLResolveInfo) => unknown)(
      source,
      args as Args,
      ctx,
      info,
    )
  if (source && typeof source === 'object' && Object.hasOwn(source, info.fieldName))
    return (source as Record<string, unknown>)[info.fieldName]
  return null
}

/** Abstract types (Node, unions) resolve by the source's __typename. */
export const typeResolver: GraphQLTypeResolver<unknown, GqlContext> = (value) =>
  value && typeof value === 'object' && '__typename' in value ? String(value.__typename) : undefined

export { orderIndexOf }
