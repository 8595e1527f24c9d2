// Every GraphQL document the client sends, in one module so one test validates all of them
// against Shopify's saved 2026-10 schema. Only fields that exist in that schema (FACTS §2.5):
// no `financialStatus`, no `ordersCount`/`totalSpent`; money from `shopMoney`.

/** The Admin API version every document is written for. */
export const ADMIN_API_VERSION = '2026-10'

const MONEY = 'shopMoney { amount }'

const CUSTOMER_FIELDS = `
  id firstName lastName phone state tags numberOfOrders createdAt updatedAt
  defaultEmailAddress { emailAddress }
  amountSpent { amount }`

const PRODUCT_FIELDS = `id title handle productType vendor status createdAt updatedAt publishedAt`

const ORDER_FIELDS = `
  id name email createdAt updatedAt processedAt cancelledAt cancelReason closedAt test
  currencyCode displayFinancialStatus displayFulfillmentStatus
  customer { id }
  totalPriceSet { ${MONEY} } subtotalPriceSet { ${MONEY} } totalTaxSet { ${MONEY} }
  totalDiscountsSet { ${MONEY} } totalShippingPriceSet { ${MONEY} } totalRefundedSet { ${MONEY} }
  refunds { id createdAt processedAt totalRefundedSet { ${MONEY} } }`

const LINE_ITEM_FIELDS = `
  id title sku quantity
  product { id } variant { id }
  originalUnitPriceSet { ${MONEY} } discountedTotalSet { ${MONEY} }`

/** Line items fetched inline per order in paged sync; more are paged with ORDER_LINE_ITEMS. */
export const LINE_ITEMS_PER_ORDER = 10

export const SHOP_QUERY = `query XenoShop {
  shop { id name myshopifyDomain ianaTimezone currencyCode plan { publicDisplayName shopifyPlus } }
}`

export const CUSTOMERS_PAGE = `query XenoCustomersPage($first: Int!, $after: String, $query: String) {
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { ${CUSTOMER_FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`

export const PRODUCTS_PAGE = `query XenoProductsPage($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { ${PRODUCT_FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`

export const ORDERS_PAGE = `query XenoOrdersPage($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {
      ${ORDER_FIELDS}
      lineItems(first: ${LINE_ITEMS_PER_ORDER}) {
        nodes { ${LINE_ITEM_FIELDS} }
        pageInfo { hasNextPage endCursor }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`

/** The rest of an order's line items when it has more than LINE_ITEMS_PER_ORDER. */
export const ORDER_LINE_ITEMS = `query XenoOrderLineItems($id: ID!, $after: String) {
  order(id: $id) {
    lineItems(first: 100, after: $after) {
      nodes { ${LINE_ITEM_FIELDS} }
      pageInfo { hasNextPage endCursor }
    }
  }
}`

/**
 * The objects a batch of webhook deliveries names, read back from the shop the delivery claims
 * to come from (one query per resource kind, so each node costs only its own fields). An id of
 * another shop comes back as null.
 */
export const ORDER_NODES = `query XenoOrderNodes($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    ... on Order {
      ${ORDER_FIELDS}
      lineItems(first: ${LINE_ITEMS_PER_ORDER}) {
        nodes { ${LINE_ITEM_FIELDS} }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`
export const CUSTOMER_NODES = `query XenoCustomerNodes($ids: [ID!]!) {
  nodes(ids: $ids) { __typename ... on Customer { ${CUSTOMER_FIELDS} } }
}`
export const PRODUCT_NODES = `query XenoProductNodes($ids: [ID!]!) {
  nodes(ids: $ids) { __typename ... on Product { ${PRODUCT_FIELDS} } }
}`

/** Bulk query bodies (no `first:`; line items become child lines with __parentId). */
export const BULK_QUERIES = {
  customers: `{ customers { edges { node { ${CUSTOMER_FIELDS} } } } }`,
  products: `{ products { edges { node { ${PRODUCT_FIELDS} } } } }`,
  orders: `{ orders { edges { node { ${ORDER_FIELDS}
    lineItems { edges { node { ${LINE_ITEM_FIELDS} } } } } } } }`,
} as const

/** How many roots a bulk query will return (its progress denominator); `limit: null` = exact. */
export const COUNT_QUERIES = {
  customers: `query XenoCustomersCount { customersCount(limit: null) { count precision } }`,
  products: `query XenoProductsCount { productsCount(limit: null) { count precision } }`,
  orders: `query XenoOrdersCount { ordersCount(limit: null) { count precision } }`,
} as const

export const BULK_RUN = `mutation XenoBulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status createdAt }
    userErrors { field message code }
  }
}`

export const BULK_STATUS = `query XenoBulkStatus($id: ID!) {
  bulkOperation(id: $id) {
    id status errorCode createdAt completedAt objectCount rootObjectCount fileSize url partialDataUrl
  }
}`

export const BULK_CANCEL = `mutation XenoBulkCancel($id: ID!) {
  bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } }
}`

/** The app's webhook subscriptions on a shop (to register idempotently after install). */
export const WEBHOOK_SUBSCRIPTIONS = `query XenoWebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}`

export const WEBHOOK_SUBSCRIPTION_CREATE = `mutation XenoWebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: { uri: $uri, format: JSON }) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}`

/** Every operation document, for the schema-validation test. */
export const ALL_DOCUMENTS: Record<string, string> = {
  WEBHOOK_SUBSCRIPTIONS,
  WEBHOOK_SUBSCRIPTION_CREATE,
  SHOP_QUERY,
  CUSTOMERS_PAGE,
  PRODUCTS_PAGE,
  ORDERS_PAGE,
  ORDER_LINE_ITEMS,
  ORDER_NODES,
  CUSTOMER_NODES,
  PRODUCT_NODES,
  BULK_RUN,
  BULK_STATUS,
  BULK_CANCEL,
  BULK_CUSTOMERS: BULK_QUERIES.customers,
  BULK_PRODUCTS: BULK_QUERIES.products,
  BULK_ORDERS: BULK_QUERIES.orders,
  CUSTOMERS_COUNT: COUNT_QUERIES.customers,
  PRODUCTS_COUNT: COUNT_QUERIES.products,
  ORDERS_COUNT: COUNT_QUERIES.orders,
}

// ---- response node shapes (what the documents above select) ----

type Money = { shopMoney: { amount: string } }
export type GqlCustomer = {
  id: string
  firstName: string | null
  lastName: string | null
  phone: string | null
  state: string
  tags: string[]
  numberOfOrders: string
  createdAt: string
  updatedAt: string
  defaultEmailAddress: { emailAddress: string | null } | null
  amountSpent: { amount: string }
}
export type GqlProduct = {
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
export type GqlLineItem = {
  id: string
  title: string
  sku: string | null
  quantity: number
  product: { id: string } | null
  variant: { id: string } | null
  originalUnitPriceSet: Money
  discountedTotalSet: Money
  __parentId?: string
}
export type GqlRefund = {
  id: string
  createdAt: string
  processedAt: string | null
  totalRefundedSet: Money
}
export type GqlOrder = {
  id: string
  name: string
  email: string | null
  createdAt: string
  updatedAt: string
  processedAt: string
  cancelledAt: string | null
  cancelReason: string | null
  closedAt: string | null
  test: boolean
  currencyCode: string
  displayFinancialStatus: string | null
  displayFulfillmentStatus: string | null
  customer: { id: string } | null
  totalPriceSet: Money
  subtotalPriceSet: Money | null
  totalTaxSet: Money | null
  totalDiscountsSet: Money | null
  totalShippingPriceSet: Money | null
  totalRefundedSet: Money | null
  refunds: GqlRefund[]
  lineItems?: {
    nodes: GqlLineItem[]
    pageInfo: { hasNextPage: boolean; endCursor: string | null }
  }
}
export type GqlShop = {
  id: string
  name: string
  myshopifyDomain: string
  ianaTimezone: string
  currencyCode: string
  plan: { publicDisplayName: string; shopifyPlus: boolean }
}
export type GqlBulkOperation = {
  id: string
  status: 'CREATED' | 'RUNNING' | 'COMPLETED' | 'CANCELING' | 'CANCELED' | 'FAILED' | 'EXPIRED'
  errorCode: string | null
  createdAt: string
  completedAt: string | null
  objectCount: string
  rootObjectCount: string
  fileSize: string | null
  url: string | null
  partialDataUrl: string | null
}
export type PageInfo = { hasNextPage: boolean; endCursor: string | null }
export type Connection<T> = { nodes: T[]; pageInfo: PageInfo }
