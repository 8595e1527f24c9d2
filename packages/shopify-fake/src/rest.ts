import { gid, localIso, restMoney } from './format.ts'
import { totalRefunded } from './generator.ts'
import type {
  FakeCustomer,
  FakeLineItem,
  FakeOrder,
  FakeProduct,
  FakeRefund,
  ShopInfo,
} from './types.ts'

// REST-shaped webhook payloads, modelled on Shopify's 2026-07 samples (@xeno/shopify-reference):
// snake_case, numeric ids plus admin_graphql_api_id, money as "0.00" strings, shop-local times.

const set = (cents: number, cur: string) => ({
  shop_money: { amount: restMoney(cents), currency_code: cur },
  presentment_money: { amount: restMoney(cents), currency_code: cur },
})
const t = (ms: number | null, tz: string): string | null => (ms === null ? null : localIso(ms, tz))

export function restCustomer(c: FakeCustomer, shop: ShopInfo) {
  return {
    id: c.id,
    created_at: t(c.createdAt, shop.timezone),
    updated_at: t(c.updatedAt, shop.timezone),
    first_name: c.firstName,
    last_name: c.lastName,
    state: c.state.toLowerCase(),
    note: null,
    verified_email: c.verifiedEmail,
    multipass_identifier: null,
    tax_exempt: false,
    email: c.email,
    phone: c.phone,
    currency: shop.currency,
    addresses: [],
    tax_exemptions: [],
    admin_graphql_api_id: gid('Customer', c.id),
    default_address: null,
  }
}

export const restCustomerDelete = (c: FakeCustomer) => ({
  id: c.id,
  tax_exemptions: [],
  admin_graphql_api_id: gid('Customer', c.id),
})

export function restProduct(p: FakeProduct, shop: ShopInfo) {
  return {
    admin_graphql_api_id: gid('Product', p.id),
    body_html: null,
    created_at: t(p.createdAt, shop.timezone),
    handle: p.handle,
    id: p.id,
    product_type: p.productType,
    published_at: t(p.publishedAt, shop.timezone),
    template_suffix: null,
    title: p.title,
    updated_at: t(p.updatedAt, shop.timezone),
    vendor: p.vendor,
    status: p.status.toLowerCase(),
    published_scope: 'web',
    tags: p.tags.join(', '),
    variants: p.variants.map((v, k) => ({
      admin_graphql_api_id: gid('ProductVariant', v.id),
      barcode: null,
      compare_at_price: null,
      created_at: t(p.createdAt, shop.timezone),
      id: v.id,
      inventory_policy: 'deny',
      position: k + 1,
      price: restMoney(v.price),
      product_id: p.id,
      sku: v.sku,
      taxable: true,
      title: v.title,
      updated_at: t(p.updatedAt, shop.timezone),
      option1: v.title,
      option2: null,
      option3: null,
      image_id: null,
      inventory_item_id: null,
      inventory_quantity: v.inventoryQuantity,
    })),
    options: [],
    images: [],
    image: null,
  }
}

function restLineItem(li: FakeLineItem, o: FakeOrder, vendor: string | null) {
  const refunded = o.refunds.reduce(
    (a, r) =>
      a + r.lineItems.filter((x) => x.lineItemId === li.id).reduce((b, x) => b + x.quantity, 0),
    0,
  )
  return {
    id: li.id,
    admin_graphql_api_id: gid('LineItem', li.id),
    current_quantity: li.quantity - refunded,
    fulfillable_quantity: o.fulfillmentStatus === 'FULFILLED' ? 0 : li.quantity - refunded,
    fulfillment_service: 'manual',
    fulfillment_status: o.fulfillmentStatus === 'FULFILLED' ? 'fulfilled' : null,
    gift_card: false,
    grams: 0,
    name: li.variantTitle ? `${li.title} - ${li.variantTitle}` : li.title,
    price: restMoney(li.unitPrice),
    price_set: set(li.unitPrice, o.currency),
    product_exists: li.productId !== null,
    product_id: li.productId,
    properties: [],
    quantity: li.quantity,
    requires_shipping: true,
    sku: li.sku,
    taxable: true,
    title: li.title,
    total_discount: restMoney(li.totalDiscount),
    total_discount_set: set(li.totalDiscount, o.currency),
    variant_id: li.variantId,
    variant_inventory_management: null,
    variant_title: li.variantTitle,
    vendor,
    tax_lines:
      li.tax > 0
        ? [
            {
              price: restMoney(li.tax),
              rate: 0.08,
              title: 'Sales Tax',
              price_set: set(li.tax, o.currency),
            },
          ]
        : [],
    duties: [],
    discount_allocations:
      li.totalDiscount > 0
        ? [
            {
              amount: restMoney(li.totalDiscount),
              amount_set: set(li.totalDiscount, o.currency),
              discount_application_index: 0,
            },
          ]
        : [],
  }
}

export function restRefund(r: FakeRefund, o: FakeOrder, shop: ShopInfo) {
  return {
    id: r.id,
    order_id: o.id,
    created_at: t(r.createdAt, shop.timezone),
    note: r.note,
    user_id: null,
    processed_at: t(r.processedAt, shop.timezone),
    duties: [],
    total_duties_set: set(0, o.currency),
    return: null,
    refund_shipping_lines: [],
    restock: false,
    admin_graphql_api_id: gid('Refund', r.id),
    order_adjustments: [],
    refund_line_items: r.lineItems.map((rl) => {
      const li = o.lineItems.find((l) => l.id === rl.lineItemId)
      return {
        id: rl.id,
        quantity: rl.quantity,
        line_item_id: rl.lineItemId,
        location_id: null,
        restock_type: 'no_restock',
        subtotal: rl.subtotal / 100,
        total_tax: rl.totalTax / 100,
        subtotal_set: set(rl.subtotal, o.currency),
        total_tax_set: set(rl.totalTax, o.currency),
        line_item: li ? restLineItem(li, o, null) : null,
      }
    }),
    transactions: [
      {
        id: r.id + 1,
        admin_graphql_api_id: gid('OrderTransaction', r.id + 1),
        amount: restMoney(r.amount),
        authorization: null,
        created_at: t(r.createdAt, shop.timezone),
        currency: o.currency,
        gateway: 'bogus',
        kind: 'refund',
        order_id: o.id,
        processed_at: t(r.processedAt, shop.timezone),
        status: 'success',
        test: o.test,
      },
    ],
  }
}

export function restOrder(o: FakeOrder, shop: ShopInfo, customer: FakeCustomer | null) {
  const refunded = totalRefunded(o)
  const refundedSub = o.refunds.reduce(
    (a, r) => a + r.lineItems.reduce((b, l) => b + l.subtotal, 0),
    0,
  )
  const refundedTax = o.refunds.reduce(
    (a, r) => a + r.lineItems.reduce((b, l) => b + l.totalTax, 0),
    0,
  )
  const lineTotal = o.lineItems.reduce((a, l) => a + l.unitPrice * l.quantity, 0)
  return {
    id: o.id,
    admin_graphql_api_id: gid('Order', o.id),
    app_id: null,
    browser_ip: null,
    buyer_accepts_marketing: false,
    cancel_reason: o.cancelReason?.toLowerCase() ?? null,
    cancelled_at: t(o.cancelledAt, shop.timezone),
    cart_token: null,
    checkout_token: null,
    client_details: null,
    closed_at: t(o.closedAt, shop.timezone),
    confirmation_number: null,
    confirmed: true,
    contact_email: o.email,
    created_at: t(o.createdAt, shop.timezone),
    currency: o.currency,
    current_subtotal_price: restMoney(o.subtotal - refundedSub),
    current_subtotal_price_set: set(o.subtotal - refundedSub, o.currency),
    current_total_discounts: restMoney(o.totalDiscounts),
    current_total_discounts_set: set(o.totalDiscounts, o.currency),
    current_total_price: restMoney(o.total - refunded),
    current_total_price_set: set(o.total - refunded, o.currency),
    current_total_tax: restMoney(o.tax - refundedTax),
    current_total_tax_set: set(o.tax - refundedTax, o.currency),
    customer_locale: 'en',
    discount_codes: o.discountCodes.map((code) => ({
      code,
      amount: restMoney(o.totalDiscounts),
      type: 'percentage',
    })),
    email: o.email,
    estimated_taxes: false,
    financial_status: o.financialStatus.toLowerCase(),
    fulfillment_status:
      o.fulfillmentStatus === 'FULFILLED'
        ? 'fulfilled'
        : o.fulfillmentStatus === 'PARTIALLY_FULFILLED'
          ? 'partial'
          : null,
    name: o.name,
    note: null,
    note_attributes: [],
    number: o.number - 1000,
    order_number: o.number,
    payment_gateway_names: ['bogus'],
    phone: null,
    po_number: null,
    presentment_currency: o.currency,
    processed_at: t(o.processedAt, shop.timezone),
    source_name: o.sourceName,
    subtotal_price: restMoney(o.subtotal),
    subtotal_price_set: set(o.subtotal, o.currency),
    tags: o.tags.join(', '),
    tax_exempt: false,
    tax_lines:
      o.tax > 0
        ? [
            {
              price: restMoney(o.tax),
              rate: 0.08,
              title: 'Sales Tax',
              price_set: set(o.tax, o.currency),
            },
          ]
        : [],
    taxes_included: false,
    test: o.test,
    total_discounts: restMoney(o.totalDiscounts),
    total_discounts_set: set(o.totalDiscounts, o.currency),
    total_line_items_price: restMoney(lineTotal),
    total_line_items_price_set: set(lineTotal, o.currency),
    total_outstanding: restMoney(
      o.financialStatus === 'PENDING' || o.financialStatus === 'AUTHORIZED' ? o.total : 0,
    ),
    total_price: restMoney(o.total),
    total_price_set: set(o.total, o.currency),
    total_shipping_price_set: set(o.shipping, o.currency),
    total_tax: restMoney(o.tax),
    total_tax_set: set(o.tax, o.currency),
    total_tip_received: '0.00',
    total_weight: 0,
    updated_at: t(o.updatedAt, shop.timezone),
    user_id: null,
    billing_address: null,
    customer: customer
      ? (({ addresses: _a, ...rest }) => rest)(restCustomer(customer, shop))
      : null,
    discount_applications: o.discountCodes.map((code) => ({
      target_type: 'line_item',
      type: 'discount_code',
      value: code.replace(/\D/g, '') + '.0',
      value_type: 'percentage',
      allocation_method: 'across',
      target_selection: 'all',
      code,
    })),
    fulfillments: [],
    line_items: o.lineItems.map((li) => restLineItem(li, o, null)),
    payment_terms: null,
    refunds: o.refunds.map((r) => restRefund(r, o, shop)),
    shipping_address: null,
    shipping_lines:
      o.shipping > 0
        ? [
            {
              id: o.id + 1,
              code: 'Standard',
              price: restMoney(o.shipping),
              price_set: set(o.shipping, o.currency),
              title: 'Standard',
              source: 'shopify',
            },
          ]
        : [],
    returns: [],
  }
}

/** orders/delete carries only the id. */
export const restOrderDelete = (o: FakeOrder) => ({ id: o.id })
export const restProductDelete = (p: FakeProduct) => ({ id: p.id })

export function restShop(shop: ShopInfo) {
  return {
    id: shop.id,
    name: shop.name,
    email: shop.email,
    domain: shop.domain,
    country: 'US',
    created_at: t(shop.createdAt, shop.timezone),
    currency: shop.currency,
    customer_email: shop.email,
    iana_timezone: shop.timezone,
    plan_name: shop.plan,
    myshopify_domain: shop.domain,
    shop_owner: 'Fake Owner',
  }
}
