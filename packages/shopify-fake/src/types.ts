/** Ground-truth rows of a fake shop. Money is in minor units (cents), times are epoch ms. */

export type PlanName = 'basic' | 'shopify' | 'advanced' | 'plus' | 'enterprise'

/** Generator parameters: the same parameters (with explicit from/to) give the same shop. */
export type ShopParams = {
  /** `acme.myshopify.com` (a bare `acme` is completed). */
  domain: string
  seed?: number
  name?: string
  customers?: number
  products?: number
  orders?: number
  /** Order date range (ISO string or epoch ms). Default: the 365 days before the clock's now. */
  from?: string | number
  to?: string | number
  timezone?: string
  currency?: string
  plan?: PlanName
  /** Overrides the plan's throttle bucket. */
  throttle?: { maximumAvailable: number; restoreRate: number }
}

export type ShopInfo = {
  id: number
  domain: string
  name: string
  email: string
  timezone: string
  currency: string
  plan: PlanName
  createdAt: number
}

export type FakeCustomer = {
  id: number
  firstName: string
  lastName: string
  email: string | null
  phone: string | null
  state: 'ENABLED' | 'DISABLED' | 'INVITED' | 'DECLINED'
  verifiedEmail: boolean
  tags: string[]
  createdAt: number
  updatedAt: number
}

export type FakeVariant = {
  id: number
  title: string
  sku: string
  price: number
  inventoryQuantity: number
}

export type FakeProduct = {
  id: number
  title: string
  handle: string
  productType: string
  vendor: string
  status: 'ACTIVE' | 'ARCHIVED' | 'DRAFT'
  tags: string[]
  createdAt: number
  updatedAt: number
  publishedAt: number | null
  variants: FakeVariant[]
}

export type FakeLineItem = {
  id: number
  productId: number | null
  variantId: number | null
  title: string
  variantTitle: string | null
  sku: string | null
  quantity: number
  /** Unit price before discounts. */
  unitPrice: number
  /** Discount allocated to the whole line. */
  totalDiscount: number
  /** Tax on the whole line. */
  tax: number
}

export type FakeRefundLineItem = {
  id: number
  lineItemId: number
  quantity: number
  subtotal: number
  totalTax: number
}

export type FakeRefund = {
  id: number
  createdAt: number
  processedAt: number
  note: string | null
  /** Successful refund transactions. */
  amount: number
  lineItems: FakeRefundLineItem[]
}

export type FinancialStatus =
  | 'AUTHORIZED'
  | 'PAID'
  | 'PARTIALLY_PAID'
  | 'PARTIALLY_REFUNDED'
  | 'PENDING'
  | 'REFUNDED'
  | 'VOIDED'

export type FulfillmentStatus = 'FULFILLED' | 'UNFULFILLED' | 'PARTIALLY_FULFILLED'

export type CancelReason = 'CUSTOMER' | 'DECLINED' | 'FRAUD' | 'INVENTORY' | 'OTHER' | 'STAFF'

/** An order with its line items and refunds, in normalised form. */
export type FakeOrder = {
  id: number
  number: number
  name: string
  email: string | null
  customerId: number | null
  createdAt: number
  processedAt: number
  updatedAt: number
  cancelledAt: number | null
  cancelReason: CancelReason | null
  closedAt: number | null
  test: boolean
  currency: string
  financialStatus: FinancialStatus
  fulfillmentStatus: FulfillmentStatus
  sourceName: string
  tags: string[]
  discountCodes: string[]
  lineItems: FakeLineItem[]
  /** Line totals after discounts, before tax and shipping. */
  subtotal: number
  totalDiscounts: number
  shipping: number
  tax: number
  /** subtotal + shipping + tax: the price before refunds. */
  total: number
  refunds: FakeRefund[]
}

/** One line of the ground-truth JSONL (`GET /_fake/shops/:shop/truth`). */
export type TruthRow =
  | { kind: 'shop'; row: ShopInfo }
  | { kind: 'customer'; row: FakeCustomer & { numberOfOrders: number; amountSpent: number } }
  | { kind: 'product'; row: FakeProduct }
  | { kind: 'order'; row: FakeOrder }
