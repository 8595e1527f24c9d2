import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { COMPARE_MODES, ValidationError, withComparison, type AnalyticsService } from '@xeno/core'
import { authErrors, localRangeQuery } from '../http/schemas.ts'

const errors = authErrors

const params = z.object({ id: z.guid() })
const rangeQuery = localRangeQuery.extend({
  granularity: z
    .enum(['day', 'week', 'month'])
    .optional()
    .describe('bucket size: day, ISO week (Monday) or calendar month; default day'),
})
const limitQuery = rangeQuery.extend({
  limit: z.coerce.number().int().min(1).max(100).optional().describe('1–100, default 5'),
})

const seriesQuery = rangeQuery.extend({
  compare: z
    .enum(COMPARE_MODES)
    .optional()
    .describe('also answer `comparison`: the previous period or year, aligned bucket by bucket'),
})

const money = z.string().describe('decimal string in the shop currency, never a float')
const range = z.object({
  from: z.string(),
  to: z.string(),
  granularity: z.enum(['day', 'week', 'month']),
  zone: z.string().describe('the shop IANA time zone buckets were cut in'),
  currency: z.string(),
})
const span = { start: z.string(), end: z.string() }
const counts = z.record(z.string(), z.number().int())

const totals = z.object({
  gross_sales: money,
  refunds: money,
  net_sales: money,
  orders: z.number().int(),
  aov: money.nullable(),
  customers_ordered: z.number().int(),
  new_customers: z.number().int(),
  returning_customers: z.number().int(),
  returning_customer_rate: z.number().nullable(),
  new_products: z.number().int(),
  events: z.number().int(),
})

const COMMON = `All figures are in the shop's currency and bucketed in the shop's IANA time zone.
\`from\`/\`to\` are calendar dates in that zone, inclusive (default: the last 30 days); \`to\`
before \`from\`, a range of 5 years or more, or a malformed date is a 400 naming the field.
Series are contiguous: every bucket of the range is present, empty ones are zero; \`start\`/\`end\`
are the bucket's first and last dates inside the range. Money is a decimal string. Every response
echoes the range, zone and currency used. \`?format=csv\` (or \`Accept: text/csv\`) streams the
same figures as CSV, one row per bucket (or customer, product).

A **counted order** is not a test, not deleted and not cancelled; it is bucketed by its
\`processed_at\`.`

const REVENUE_DEFS = `- **gross_sales** = Σ total_price of counted orders in the bucket.
- **refunds** = Σ successful refund amounts by the refund's own \`created_at\` bucket (a refund
  lowers the day it happened, as Shopify's reports do). Refunds of an order that is cancelled,
  test or deleted never count: its sale never entered gross_sales, so its refunds never leave
  it; if an order is cancelled after a refund, both its sale and the refund drop out.
- **net_sales** = gross_sales − refunds (negative on a day with more refunds than sales).
- **orders** = count of counted orders. **aov** = gross_sales / orders, rounded half away from
  zero to 2 decimals; null when orders = 0.`

const COMPARE_DEFS = `- **compare** = \`previous_period\`: the same number of buckets (days, weeks, months) just
  before the range; \`previous_year\`: 52 weeks (364 days, the same weekdays) earlier for day
  and week buckets, 12 months earlier for month buckets. Moved by months, a date keeps its day
  (clamped to the month's length) and a month's last day stays its month's last day. The answer
  gains **comparison** (that range, its series, the same figures): as many buckets as the
  range's, bucket i compared with bucket i, each cut in the shop's zone as usual (DST included).`

/** A series answer's schema, with its optional comparison (the same shape, plus the mode). */
function compared<T extends z.ZodRawShape>(data: z.ZodObject<T>) {
  return z.object({
    data: data.extend({
      comparison: data.extend({ compare: z.enum(COMPARE_MODES) }).optional(),
    }),
  })
}

/** Service validation errors name query fields the way the API reports them. */
async function answer<T>(fn: () => Promise<T>): Promise<{ data: T }> {
  try {
    return { data: await fn() }
  } catch (err) {
    if (err instanceof ValidationError && err.fields)
      throw new ValidationError(
        err.message,
        err.fields.map((f) => ({ ...f, field: `query.${f.field}` })),
      )
    throw err
  }
}

/** GET /api/tenants/:id/analytics and /metrics/*: DESIGN.md §6, viewer role suffices. */
export function analyticsRoutes(deps: { analytics: AnalyticsService }): FastifyPluginCallbackZod {
  const a = deps.analytics
  return (app, _opts, done) => {
    const route = { config: { auth: 'tenant' as const, admission: 'analytics' as const } }

    app.get(
      '/api/tenants/:id/analytics',
      {
        ...route,
        schema: {
          tags: ['analytics'],
          summary: 'Summary of a range and of the previous period of equal length',
          description: `${COMMON}

${REVENUE_DEFS}
- **customers_ordered** = distinct customers with a counted order in the range (guest orders
  have no customer). **returning_customers** = those of them with ≥ 2 counted orders ever;
  **returning_customer_rate** = returning_customers / customers_ordered (4 decimals, null when
  no customer ordered).
- **new_customers** / **new_products** = customers / products by Shopify \`created_at\` in the
  range (deleted ones are left out).
- **events** = custom events by \`occurred_at\` in the range.
- **previous** = the same figures for the period of equal length ending the day before \`from\`.`,
          params,
          querystring: rangeQuery,
          response: {
            200: z.object({
              data: z.object({
                range,
                current: totals,
                previous: totals.extend({ from: z.string(), to: z.string() }),
              }),
            }),
            ...errors,
          },
        },
      },
      async (request) => answer(() => a.summary(request.params.id, request.query)),
    )

    app.get(
      '/api/tenants/:id/metrics/revenue',
      {
        ...route,
        schema: {
          tags: ['analytics'],
          summary:
            'Gross sales, refunds, net sales, orders and AOV per bucket, with running totals',
          description: `${COMMON}

${REVENUE_DEFS}
- **cumulative** = running totals from the start of the range through the bucket.
${COMPARE_DEFS}`,
          params,
          querystring: seriesQuery,
          response: {
            200: compared(
              z.object({
                range,
                series: z.array(
                  z.object({
                    ...span,
                    orders: z.number().int(),
                    gross_sales: money,
                    refunds: money,
                    net_sales: money,
                    aov: money.nullable(),
                    cumulative: z.object({
                      orders: z.number().int(),
                      gross_sales: money,
                      refunds: money,
                      net_sales: money,
                    }),
                  }),
                ),
              }),
            ),
            ...errors,
          },
        },
      },
      async (request) =>
        answer(() => withComparison(request.query, (q) => a.revenue(request.params.id, q))),
    )

    app.get(
      '/api/tenants/:id/metrics/orders',
      {
        ...route,
        schema: {
          tags: ['analytics'],
          summary: 'Counted orders per bucket by financial and fulfilment status',
          description: `${COMMON}

- **orders** = counted orders per bucket; **by_financial_status** and
  **by_fulfillment_status** split them by the order's current status, lower-cased (a missing
  financial status is \`unknown\`, a missing fulfilment status \`unfulfilled\`). Every status
  seen in the range appears in every bucket (0 where absent).
${COMPARE_DEFS}`,
          params,
          querystring: seriesQuery,
          response: {
            200: compared(
              z.object({
                range,
                series: z.array(
                  z.object({
                    ...span,
                    orders: z.number().int(),
                    by_financial_status: counts,
                    by_fulfillment_status: counts,
                  }),
                ),
              }),
            ),
            ...errors,
          },
        },
      },
      async (request) =>
        answer(() => withComparison(request.query, (q) => a.orders(request.params.id, q))),
    )

    app.get(
      '/api/tenants/:id/metrics/customers',
      {
        ...route,
        schema: {
          tags: ['analytics'],
          summary: 'Top customers by net spend in the range',
          description: `${COMMON}

- **net_spend** = Σ total_price of the customer's counted orders processed in the range, less
  the refunds of those orders created in the range (as net_sales counts refunds by their own
  date; a range in the past keeps its answer). Sorted by net_spend descending, ties by customer
  id ascending; \`limit\` 1–100, default 5.
- **lifetime_amount_spent** = Shopify's \`amount_spent\` of the customer (null when the customer
  is not synced).`,
          params,
          querystring: limitQuery,
          response: {
            200: z.object({
              data: z.object({
                range,
                customers: z.array(
                  z.object({
                    customer_id: z.string(),
                    email: z.string().nullable(),
                    first_name: z.string().nullable(),
                    last_name: z.string().nullable(),
                    orders: z.number().int(),
                    gross_sales: money,
                    refunds: money,
                    net_spend: money,
                    lifetime_amount_spent: money.nullable(),
                  }),
                ),
              }),
            }),
            ...errors,
          },
        },
      },
      async (request) => answer(() => a.topCustomers(request.params.id, request.query)),
    )

    app.get(
      '/api/tenants/:id/metrics/events',
      {
        ...route,
        schema: {
          tags: ['analytics'],
          summary: 'Custom events by type per bucket, and the checkout-started → order funnel',
          description: `${COMMON}

- **by_type** = custom events by \`event_type\` and \`occurred_at\` bucket; every type seen in
  the range appears in every bucket.
- **funnel**: checkouts_started = \`checkout_started\` events (the type webhooks record Shopify
  checkouts as); orders = counted orders; **rate** = orders / checkouts_started, rounded to 4
  decimals and capped to [0, 1]; null when no checkout started. Given per bucket and for the
  whole range.
${COMPARE_DEFS}`,
          params,
          querystring: seriesQuery,
          response: {
            200: compared(
              z.object({
                range,
                totals: z.object({ total: z.number().int(), by_type: counts }),
                series: z.array(z.object({ ...span, total: z.number().int(), by_type: counts })),
                funnel: z.object({
                  checkout_event_type: z.string(),
                  checkouts_started: z.number().int(),
                  orders: z.number().int(),
                  rate: z.number().nullable(),
                  series: z.array(
                    z.object({
                      start: z.string().nullable(),
                      end: z.string().nullable(),
                      checkouts_started: z.number().int(),
                      orders: z.number().int(),
                      rate: z.number().nullable(),
                    }),
                  ),
                }),
              }),
            ),
            ...errors,
          },
        },
      },
      async (request) =>
        answer(() => withComparison(request.query, (q) => a.events(request.params.id, q))),
    )

    const growth = compared(
      z.object({
        range,
        series: z.array(
          z.object({ ...span, added: z.number().int(), running_total: z.number().int() }),
        ),
      }),
    )

    app.get(
      '/api/tenants/:id/metrics/customer-growth',
      {
        ...route,
        schema: {
          tags: ['analytics'],
          summary: 'New customers per bucket and the running total',
          description: `${COMMON}

- **added** = customers by Shopify \`created_at\` in the bucket (deleted customers left out).
- **running_total** = every such customer created before the range, plus those added through
  the bucket.
${COMPARE_DEFS}`,
          params,
          querystring: seriesQuery,
          response: { 200: growth, ...errors },
        },
      },
      async (request) =>
        answer(() => withComparison(request.query, (q) => a.customerGrowth(request.params.id, q))),
    )

    app.get(
      '/api/tenants/:id/metrics/product-growth',
      {
        ...route,
        schema: {
          tags: ['analytics'],
          summary: 'New products per bucket and the running total',
          description: `${COMMON}

- **added** = products by Shopify \`created_at\` in the bucket (deleted products left out).
- **running_total** = every such product created before the range, plus those added through
  the bucket.
${COMPARE_DEFS}`,
          params,
          querystring: seriesQuery,
          response: { 200: growth, ...errors },
        },
      },
      async (request) =>
        answer(() => withComparison(request.query, (q) => a.productGrowth(request.params.id, q))),
    )

    app.get(
      '/api/tenants/:id/metrics/products',
      {
        ...route,
        schema: {
          tags: ['analytics'],
          summary: 'Top products by line-item revenue and units',
          description: `${COMMON}

- **revenue** = Σ line-item \`discounted_total\` (after line discounts, before tax and shipping)
  of counted orders processed in the range; refunds do not lower it. **units** = Σ quantity.
  Line items without a product (custom items) are left out. Sorted by revenue, then units,
  descending, then product id; \`limit\` 1–100, default 5.`,
          params,
          querystring: limitQuery,
          response: {
            200: z.object({
              data: z.object({
                range,
                products: z.array(
                  z.object({
                    product_id: z.string(),
                    title: z.string().nullable(),
                    units: z.number().int(),
                    revenue: money,
                  }),
                ),
              }),
            }),
            ...errors,
          },
        },
      },
      async (request) => answer(() => a.topProducts(request.params.id, request.query)),
    )
    done()
  }
}
