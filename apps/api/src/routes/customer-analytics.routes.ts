import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { RFM_SEGMENTS, ValidationError, type CustomerAnalyticsService } from '@xeno/core'
import { authErrors, localRangeQuery } from '../http/schemas.ts'

const errors = authErrors

const params = z.object({ id: z.guid() })
const rangeQuery = localRangeQuery
const rfmQuery = rangeQuery.extend({
  from: z
    .string()
    .optional()
    .describe('first local date of the RFM window (default: 364 days before `to`)'),
})
const cohortQuery = rangeQuery.extend({
  granularity: z
    .enum(['week', 'month'])
    .optional()
    .describe('cohort and period size: ISO week (Monday) or calendar month; default month'),
})

const money = z.string().describe('decimal string in the shop currency, never a float')
const rate = z.number().nullable().describe('a share from 0 to 1, 4 decimals; null when 0/0')
const range = z.object({
  from: z.string(),
  to: z.string(),
  granularity: z.enum(['week', 'month']).optional(),
  zone: z.string().describe('the shop IANA time zone days were cut in'),
  currency: z.string(),
})

const COMMON = `All figures are in the shop's currency; days are calendar days in the shop's
IANA time zone. \`from\`/\`to\` are inclusive local dates (default: the last 30 days); \`to\`
before \`from\`, a range of 5 years or more, or a malformed date is a 400 naming the field. Money
is a decimal string. Every response echoes the range, zone and currency used. \`?format=csv\` (or
\`Accept: text/csv\`) streams the same figures as CSV.

A **counted order** is not a test, not deleted and not cancelled; it is dated by its
\`processed_at\`. Only orders with a customer count here (guest orders have none). Deleted and
redacted customers keep their orders: those are still counted orders, in revenue as here.
A customer's **first order** is their first counted order ever (a cancelled, test or deleted
first order is skipped; the next counted one is the first). **New customers** of the range are
those whose first order falls inside it. Orders and refunds after \`to\` never count; refunds
count on their own \`created_at\` day, for the customers' counted orders (processed in the
range, or for cohorts any of the cohort's counted orders).
**Per customer** amounts are rounded half away from zero to the cent (null with no customers).`

const COHORT_DEFS = `- A **cohort** is the new customers of one bucket (month, or ISO week from Monday) of the range,
  by their first order's day. Buckets are those of the range: the first and last may be partial
  (\`start\`/\`end\` are the dates inside the range).
- **period** k of a cohort is the k-th bucket after the cohort's own (0 = the cohort's bucket).
  The matrix is triangular: a cohort has one period per bucket from its own through the range's
  last, every one present (zero-filled).
- **customers** = customers of the cohort with a counted order processed in the period (period 0:
  the whole cohort; later: those who ordered again). **share** = customers / cohort size.
- **orders** = their counted orders in the period. **net_sales** = Σ total_price of those orders
  − refunds of the cohort's counted orders created in the period.
- **cumulative_net_sales** = net_sales of periods 0…k; **cumulative_net_sales_per_customer** =
  that / cohort size.`

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

/** Cohorts, repeat purchase, RFM and lifetime value under /api/tenants/:id/metrics/…. */
export function customerAnalyticsRoutes(deps: {
  customerAnalytics: CustomerAnalyticsService
}): FastifyPluginCallbackZod {
  const a = deps.customerAnalytics
  return (app, _opts, done) => {
    const route = { config: { auth: 'tenant' as const } }

    app.get(
      '/api/tenants/:id/metrics/cohorts',
      {
        ...route,
        schema: {
          tags: ['analytics'],
          summary: 'Cohort matrix: customers by month (or week) of first order, and their return',
          description: `${COMMON}

${COHORT_DEFS}`,
          params,
          querystring: cohortQuery,
          response: {
            200: z.object({
              data: z.object({
                range,
                cohorts: z.array(
                  z.object({
                    cohort: z.string().describe("first day of the cohort's week or month"),
                    start: z.string(),
                    end: z.string(),
                    customers: z.number().int().describe('cohort size'),
                    periods: z.array(
                      z.object({
                        period: z.number().int(),
                        start: z.string(),
                        end: z.string(),
                        customers: z.number().int(),
                        share: rate,
                        orders: z.number().int(),
                        net_sales: money,
                        cumulative_net_sales: money,
                        cumulative_net_sales_per_customer: money.nullable(),
                      }),
                    ),
                  }),
                ),
              }),
            }),
            ...errors,
          },
        },
      },
      async (request) => answer(() => a.cohorts(request.params.id, request.query)),
    )

    app.get(
      '/api/tenants/:id/metrics/repeat-purchase',
      {
        ...route,
        schema: {
          tags: ['analytics'],
          summary: 'Repeat purchase rate, days to the second order, orders per customer',
          description: `${COMMON}

- **new_customers** = customers whose first order is in the range.
- **repeat_customers** = those of them with a second counted order processed by \`to\` (two
  orders on the first day count: 0 days). **repeat_purchase_rate** = repeat / new.
- **days_to_second_order**: local days from the first to the second order's day, over the repeat
  customers: **mean** (2 decimals), **p25**, **median**, **p75**, **p90** (nearest rank: the
  smallest value with at least p% of customers at or below it; null with none), and a
  **histogram** (0, 1–7, 8–30, 31–60, 61–90, 91–180, 181–365, 366+ days; \`to_days\` null = open).
- **orders_per_customer**: new customers by their counted orders from the first through \`to\`
  (1, 2, 3, 4, 5+).`,
          params,
          querystring: rangeQuery,
          response: {
            200: z.object({
              data: z.object({
                range,
                new_customers: z.number().int(),
                repeat_customers: z.number().int(),
                repeat_purchase_rate: rate,
                days_to_second_order: z.object({
                  customers: z.number().int(),
                  mean: z.number().nullable(),
                  p25: z.number().int().nullable(),
                  median: z.number().int().nullable(),
                  p75: z.number().int().nullable(),
                  p90: z.number().int().nullable(),
                  histogram: z.array(
                    z.object({
                      from_days: z.number().int(),
                      to_days: z.number().int().nullable(),
                      customers: z.number().int(),
                    }),
                  ),
                }),
                orders_per_customer: z.array(
                  z.object({ orders: z.string(), customers: z.number().int() }),
                ),
              }),
            }),
            ...errors,
          },
        },
      },
      async (request) => answer(() => a.repeatPurchase(request.params.id, request.query)),
    )

    const RFM_DEFS = `The **window** is [from, to] (default: the 365 days ending at \`to\`). Scored
customers: every customer with a counted order processed in the window.
- **recency_days** = \`to\` − the day of their last counted order in the window.
- **frequency** = their counted orders in the window.
- **monetary** = Σ total_price of those orders − those orders' refunds created by \`to\`.
- Scores **r**, **f**, **m** are quintiles 1–5 (5 = best: most recent, most orders, most spent):
  score = 1 + ⌊5 · (rank − 1) / n⌋, where n = scored customers and rank = 1 + the number of
  customers with a strictly worse value; equal values always share a score.
- **Segments** by (r, f), first match: **champions** r ≥ 4 and f ≥ 4; **loyal** r ≥ 3 and f ≥ 3;
  **promising** r ≥ 4 and f = 2; **new** r ≥ 4 and f = 1; **need_attention** r = 3 (f ≤ 2);
  **at_risk** r ≤ 2 and f ≥ 3; **hibernating** r ≤ 2 and f ≤ 2.`

    app.get(
      '/api/tenants/:id/metrics/rfm',
      {
        ...route,
        schema: {
          tags: ['analytics'],
          summary: 'RFM segments: customers and net sales per segment and per (R, F) cell',
          description: `${COMMON}

${RFM_DEFS}
- Per segment: **customers**, **share** of scored customers and **net_sales** (Σ monetary);
  **grid**: the same per (r, f), all 25 cells. CSV: the segments.`,
          params,
          querystring: rfmQuery,
          response: {
            200: z.object({
              data: z.object({
                range,
                customers: z.number().int().describe('scored customers'),
                segments: z.array(
                  z.object({
                    segment: z.enum(RFM_SEGMENTS),
                    customers: z.number().int(),
                    share: rate,
                    net_sales: money,
                  }),
                ),
                grid: z.array(
                  z.object({
                    r: z.number().int(),
                    f: z.number().int(),
                    customers: z.number().int(),
                    net_sales: money,
                  }),
                ),
              }),
            }),
            ...errors,
          },
        },
      },
      async (request) => answer(() => a.rfm(request.params.id, request.query)),
    )

    app.get(
      '/api/tenants/:id/metrics/rfm/customers',
      {
        ...route,
        schema: {
          tags: ['analytics'],
          summary: "Scored customers of one RFM segment (or all), paged, with each one's scores",
          description: `${COMMON}

${RFM_DEFS}
- Sorted by monetary descending, then customer id; \`limit\` 1–1000 (default 50), \`offset\` ≥ 0;
  **total** = customers of the segment (or all scored customers without \`segment\`).
  Redacted customers have null email and names.`,
          params,
          querystring: rfmQuery.extend({
            segment: z.enum(RFM_SEGMENTS).optional().describe('one segment; default every one'),
            limit: z.coerce
              .number()
              .int()
              .min(1)
              .max(1000)
              .optional()
              .describe('1–1000, default 50'),
            offset: z.coerce.number().int().min(0).max(10_000_000).optional().describe('default 0'),
          }),
          response: {
            200: z.object({
              data: z.object({
                range,
                segment: z.enum(RFM_SEGMENTS).nullable(),
                total: z.number().int(),
                limit: z.number().int(),
                offset: z.number().int(),
                customers: z.array(
                  z.object({
                    customer_id: z.string(),
                    email: z.string().nullable(),
                    first_name: z.string().nullable(),
                    last_name: z.string().nullable(),
                    last_order_date: z.string(),
                    recency_days: z.number().int(),
                    frequency: z.number().int(),
                    monetary: money,
                    r: z.number().int(),
                    f: z.number().int(),
                    m: z.number().int(),
                    segment: z.enum(RFM_SEGMENTS),
                  }),
                ),
              }),
            }),
            ...errors,
          },
        },
      },
      async (request) => answer(() => a.rfmCustomers(request.params.id, request.query)),
    )

    const horizon = z.object({
      days: z.number().int(),
      customers: z.number().int().describe('customers whose horizon ends by `to`'),
      net_sales: money,
      average: money.nullable(),
    })
    app.get(
      '/api/tenants/:id/metrics/lifetime-value',
      {
        ...route,
        schema: {
          tags: ['analytics'],
          summary:
            'Customer lifetime value: net sales per customer by cohort month, LTV at 30–365 days',
          description: `${COMMON}

- **cohorts**: the new customers of each calendar month of the range (by first order), every
  month present. **net_sales** = Σ total_price of their counted orders processed through \`to\`
  − those orders' refunds created through \`to\`; **net_sales_per_customer** = that / customers.
- **ltv** (overall and per cohort), for N = 30, 90, 180, 365: over the new customers whose first
  order day + N − 1 ≤ \`to\` (the whole horizon is known), **net_sales** of their counted orders
  processed on the N local days from the first order's day (first day included) less those
  orders' refunds created in the same N days; **average** = net_sales / customers. CSV: the
  cohorts, with \`ltv_Nd.*\` columns.`,
          params,
          querystring: rangeQuery,
          response: {
            200: z.object({
              data: z.object({
                range,
                ltv: z.array(horizon),
                cohorts: z.array(
                  z.object({
                    cohort: z.string(),
                    start: z.string(),
                    end: z.string(),
                    customers: z.number().int(),
                    net_sales: money,
                    net_sales_per_customer: money.nullable(),
                    ltv: z.array(horizon),
                  }),
                ),
              }),
            }),
            ...errors,
          },
        },
      },
      async (request) => answer(() => a.lifetimeValue(request.params.id, request.query)),
    )
    done()
  }
}
