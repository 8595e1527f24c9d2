// The customer analytics routes over real HTTP (auth, validation naming the field, the range
// echo), the CSV export of every analytics series and table (the same figures as the JSON, cell
// by cell, streamed), and compare=previous_period|previous_year aligned bucket by bucket across
// month lengths and DST changes (New York).
import t, { type Test } from 'tap'
import {
  createAnalyticsService,
  createCustomerAnalyticsService,
  createEventsService,
} from '@xeno/core'
import { buildTestApp } from './support/app.ts'

const NEW = [
  'metrics/cohorts',
  'metrics/repeat-purchase',
  'metrics/rfm',
  'metrics/rfm/customers',
  'metrics/lifetime-value',
]
const SERIES = [
  'metrics/revenue',
  'metrics/orders',
  'metrics/events',
  'metrics/customer-growth',
  'metrics/product-growth',
]
const TABLES = ['analytics', 'metrics/customers', 'metrics/products', ...SERIES, ...NEW]

async function setup(t: Test) {
  const h = await buildTestApp(t, {
    deps: ({ db }) => ({
      analytics: createAnalyticsService({ db }),
      customerAnalytics: createCustomerAnalyticsService({ db }),
      events: createEventsService({ db }),
    }),
  })
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const address = h.app.server.address()
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const tenant = await h.tenant()
  await h.ownerQuery(
    `UPDATE tenants SET iana_timezone = 'America/New_York', currency = 'USD' WHERE id = $1`,
    [tenant.id],
  )
  await h.ownerQuery(
    `INSERT INTO customers (tenant_id, id, email, first_name, last_name, created_at, updated_at)
     VALUES ($1, 1, '=cmd@example.com', 'Ann, "the first"', 'A', '2025-01-01', now()),
            ($1, 2, 'b@example.com', 'Bo', 'B', '2025-01-01', now()),
            ($1, 3, NULL, NULL, NULL, '2025-01-01', now())`,
    [tenant.id],
  )
  // New York: 2025-03-09 and 2026-03-08 are the spring-forward days (23 hours); 05:30 UTC is
  // 00:30 local on both, 04:30 UTC the evening before.
  const orders: [number, number, string, string][] = [
    [1, 1, '2025-03-09T05:30:00Z', '10.00'],
    [2, 1, '2025-03-09T04:30:00Z', '20.00'],
    [3, 2, '2025-11-30T18:00:00Z', '30.00'],
    [4, 1, '2026-01-15T18:00:00Z', '40.00'],
    [5, 2, '2026-02-28T18:00:00Z', '50.00'],
    [6, 3, '2026-03-08T05:30:00Z', '60.00'],
    [7, 3, '2026-03-08T04:30:00Z', '70.00'],
    [8, 2, '2026-03-31T18:00:00Z', '80.50'],
    [9, 1, '2026-04-01T03:30:00Z', '90.00'],
  ]
  for (const [id, customer, at, total] of orders)
    await h.ownerQuery(
      `INSERT INTO orders (tenant_id, id, name, customer_id, currency, total_price, processed_at,
         created_at, updated_at, financial_status, fulfillment_status)
       VALUES ($1, $2, $3, $4, 'USD', $5, $6, $6, $6, 'paid', 'fulfilled')`,
      [tenant.id, id, `#${id}`, customer, total, at],
    )
  await h.ownerQuery(
    `INSERT INTO products (tenant_id, id, title, status, created_at, updated_at)
     VALUES ($1, 1, '+Plus "one"', 'active', '2025-01-01', now()),
            ($1, 2, 'Two', 'active', '2026-03-02', now())`,
    [tenant.id],
  )
  await h.ownerQuery(
    `INSERT INTO order_line_items (tenant_id, id, order_id, product_id, title, quantity,
       unit_price, discounted_total)
     VALUES ($1, 1, 4, 1, 'One', 2, 20, 40), ($1, 2, 6, 2, 'Two', 1, 60, 60),
            ($1, 3, 8, 1, 'One', 1, 80.5, 80.5), ($1, 4, 3, 2, 'Two', 3, 10, 30)`,
    [tenant.id],
  )
  await h.ownerQuery(
    `INSERT INTO refunds (tenant_id, id, order_id, amount, created_at)
     VALUES ($1, 1, 8, 5.25, '2026-04-02T12:00:00Z')`,
    [tenant.id],
  )
  const viewer = await h.user(tenant.id)
  const get = async (path: string, headers: Record<string, string> = viewer.basic) => {
    const res = await fetch(`${base}/api/tenants/${tenant.id}/${path}`, { headers })
    const text = await res.text()
    return { res, status: res.status, text, body: text.startsWith('{') ? JSON.parse(text) : null }
  }
  return { h, tenant, viewer, get }
}

/** RFC 4180 records (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      row.push(field)
      field = ''
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i++
    } else field += ch
  }
  return rows
}

/** What a JSON value looks like in a CSV cell. */
const cell = (v: string | number | boolean | object | null | undefined) =>
  v === null || v === undefined
    ? ''
    : typeof v === 'string' && /^[=+@-]/.test(v) && !/^-?\d+(\.\d+)?$/.test(v)
      ? `'${v}`
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v)

const at = (o: any, path: string) => path.split('.').reduce((x, k) => x?.[k], o)

/** The JSON rows a route's CSV must hold, built here from the JSON answer independently. */
function expectedRows(path: string, data: any): Record<string, unknown>[] {
  const series = (extra?: (i: number) => Record<string, unknown>) =>
    data.series.map((b: any, i: number) => ({ b, extra: extra?.(i), c: data.comparison }))
  switch (path) {
    case 'analytics':
      return [
        { period: 'current', from: data.range.from, to: data.range.to, ...data.current },
        { period: 'previous', ...data.previous },
      ]
    case 'metrics/customers':
      return data.customers
    case 'metrics/products':
      return data.products
    case 'metrics/rfm':
      return data.segments
    case 'metrics/rfm/customers':
      return data.customers
    case 'metrics/cohorts':
      return data.cohorts.flatMap((c: any) =>
        c.periods.map((p: any) => ({
          cohort: c.cohort,
          cohort_start: c.start,
          cohort_end: c.end,
          cohort_customers: c.customers,
          ...p,
        })),
      )
    case 'metrics/lifetime-value':
      return data.cohorts.map((c: any) => {
        const { ltv, ...rest } = c
        const row: Record<string, unknown> = { ...rest }
        for (const h of ltv)
          row[`ltv_${h.days}d`] = {
            customers: h.customers,
            net_sales: h.net_sales,
            average: h.average,
          }
        return row
      })
    case 'metrics/repeat-purchase': {
      const g = data.days_to_second_order
      return [
        { figure: 'new_customers', value: data.new_customers },
        { figure: 'repeat_customers', value: data.repeat_customers },
        { figure: 'repeat_purchase_rate', value: data.repeat_purchase_rate },
        ...['customers', 'mean', 'p25', 'median', 'p75', 'p90'].map((k) => ({
          figure: `days_to_second_order.${k}`,
          value: g[k],
        })),
        ...g.histogram.map((x: any) => ({
          figure: `days_to_second_order.histogram.${x.from_days}-${x.to_days ?? ''}`,
          value: x.customers,
        })),
        ...data.orders_per_customer.map((x: any) => ({
          figure: `orders_per_customer.${x.orders}`,
          value: x.customers,
        })),
      ]
    }
    default:
      return series().map(({ b, c }: any, i: number) => {
        const row: Record<string, unknown> = { ...b }
        if (path === 'metrics/events') {
          const { start: _s, end: _e, ...f } = data.funnel.series[i]
          row.funnel = f
        }
        if (c) {
          row.compare = c.compare
          row.comparison = c.series[i]
        }
        return row
      })
  }
}

function checkCsv(t: Test, path: string, text: string, data: any) {
  const [header, ...rows] = parseCsv(text)
  const want = expectedRows(path, data)
  t.equal(rows.length, want.length, `${path}: one CSV row per JSON row`)
  t.ok(header!.length > 1, `${path}: columns`)
  let cells = 0
  for (const [i, row] of rows.entries())
    for (const [j, column] of header!.entries()) {
      const v = at(want[i], column)
      if (cell(v) !== row[j]) t.fail(`${path} row ${i} ${column}: csv ${row[j]} json ${v}`)
      cells++
    }
  // Every leaf of the JSON rows has its column.
  const leaves = (o: any, p = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? leaves(v, `${p}${k}.`)
        : Array.isArray(v)
          ? []
          : [`${p}${k}`],
    )
  for (const w of want)
    for (const leaf of leaves(w)) if (!header!.includes(leaf)) t.fail(`${path}: no ${leaf}`)
  t.ok(cells > 0, `${path}: ${cells} cells equal the JSON`)
}

t.test('the new endpoints answer a viewer, echo the range and name bad fields', async (t) => {
  const { h, get, tenant } = await setup(t)
  for (const e of NEW) {
    const res = await get(`${e}?from=2026-01-01&to=2026-04-30`)
    t.equal(res.status, 200, e)
    t.match(res.body.data.range, { from: '2026-01-01', to: '2026-04-30', zone: 'America/New_York' })
  }
  const cohorts = (await get('metrics/cohorts?from=2026-01-01&to=2026-04-30')).body.data
  t.same(
    cohorts.cohorts.map((c: any) => [c.cohort, c.customers, c.periods.length]),
    [
      ['2026-01-01', 0, 4],
      ['2026-02-01', 0, 3],
      ['2026-03-01', 1, 2],
      ['2026-04-01', 0, 1],
    ],
    'customers 1 and 2 first ordered in 2025: only customer 3 is new',
  )
  t.same(cohorts.cohorts[2].periods[0], {
    period: 0,
    start: '2026-03-01',
    end: '2026-03-31',
    customers: 1,
    share: 1,
    orders: 2,
    net_sales: '130.00',
    cumulative_net_sales: '130.00',
    cumulative_net_sales_per_customer: '130.00',
  })
  const seg = await get('metrics/rfm/customers?from=2026-01-01&to=2026-04-30&limit=2')
  t.same(
    seg.body.data.customers.map((c: any) => [c.customer_id, c.monetary, c.email]),
    [
      ['1', '130.00', '=cmd@example.com'],
      ['3', '130.00', null],
    ],
  )
  t.equal(seg.body.data.total, 3)

  const field = async (path: string) => {
    const res = await get(path)
    t.equal(res.status, 400, path)
    return res.body.error.fields.map((f: any) => f.field)
  }
  t.same(await field('metrics/cohorts?granularity=day'), ['querystring.granularity'])
  t.same(await field('metrics/cohorts?from=2026-13-01'), ['query.from'])
  t.same(await field('metrics/rfm/customers?segment=vip'), ['querystring.segment'])
  t.same(await field('metrics/rfm/customers?limit=0'), ['querystring.limit'])
  t.same(await field('metrics/revenue?format=xml'), ['querystring.format'])
  t.same(await field('metrics/revenue?compare=last_week'), ['querystring.compare'])

  const other = await h.tenant()
  const stranger = await h.apiKey(other.id)
  for (const e of NEW) {
    t.equal((await get(e, {})).status, 401, `${e} without credentials`)
    t.equal((await get(e, stranger.headers)).status, 404, `${e}: another tenant's key`)
  }
  t.ok(tenant.id)
})

t.test('every analytics series and table answers text/csv with the JSON figures', async (t) => {
  const { get, viewer } = await setup(t)
  const queries = [
    'from=2025-03-01&to=2026-04-30&granularity=month',
    'from=2026-03-01&to=2026-04-05&granularity=week&compare=previous_year',
  ]
  for (const path of TABLES)
    for (const q of queries) {
      const json = await get(`${path}?${q}`)
      t.equal(json.status, 200, `${path} json`)
      t.match(json.res.headers.get('content-type'), /application\/json/)
      for (const how of ['format', 'accept'] as const) {
        const csv =
          how === 'format'
            ? await get(`${path}?${q}&format=csv`)
            : await get(`${path}?${q}`, { ...viewer.basic, accept: 'text/csv' })
        t.equal(csv.status, 200, `${path} csv by ${how}`)
        t.match(csv.res.headers.get('content-type'), /^text\/csv; charset=utf-8/)
        t.equal(csv.res.headers.get('transfer-encoding'), 'chunked', `${path}: streamed`)
        t.match(csv.res.headers.get('content-disposition'), /^attachment; filename=".+\.csv"$/)
        checkCsv(t, path, csv.text, json.body.data)
      }
    }
  const bad = await get('metrics/cohorts?granularity=day&format=csv')
  t.equal(bad.status, 400, 'errors stay JSON')
  t.equal(bad.body.error.code, 'VALIDATION_ERROR')
  const rows = parseCsv(
    (await get('metrics/rfm/customers?from=2025-01-01&to=2026-04-30&format=csv')).text,
  )
  t.ok(
    rows.some((r) => r.includes("'=cmd@example.com") && r.includes('Ann, "the first"')),
    'a formula-like email is defused, quotes and commas survive',
  )
})

t.test('compare: aligned bucket by bucket, month lengths and DST', async (t) => {
  const { get } = await setup(t)
  const direct = async (path: string, from: string, to: string, g: string) =>
    (await get(`${path}?from=${from}&to=${to}&granularity=${g}`)).body.data
  const cases: [string, string, string, string, string, string][] = [
    // [granularity, compare, from, to, comparison from, comparison to]
    ['month', 'previous_period', '2026-01-31', '2026-03-31', '2025-10-31', '2025-12-31'],
    ['month', 'previous_period', '2026-03-01', '2026-03-31', '2026-02-01', '2026-02-28'],
    ['month', 'previous_year', '2026-02-01', '2026-04-30', '2025-02-01', '2025-04-30'],
    ['week', 'previous_period', '2026-03-04', '2026-03-20', '2026-02-11', '2026-02-27'],
    ['day', 'previous_year', '2026-03-07', '2026-03-09', '2025-03-08', '2025-03-10'],
    ['day', 'previous_period', '2026-03-08', '2026-03-09', '2026-03-06', '2026-03-07'],
  ]
  for (const [g, mode, from, to, cFrom, cTo] of cases)
    for (const path of SERIES) {
      const res = await get(`${path}?from=${from}&to=${to}&granularity=${g}&compare=${mode}`)
      t.equal(res.status, 200)
      const data = res.body.data
      t.equal(data.comparison.compare, mode)
      t.same(
        [data.comparison.range.from, data.comparison.range.to],
        [cFrom, cTo],
        `${path} ${g} ${mode}`,
      )
      t.equal(data.comparison.series.length, data.series.length, 'as many buckets')
      const alone = await direct(path, cFrom, cTo, g)
      t.same(data.comparison.series, alone.series, 'the comparison is the series of its range')
      const { comparison: _c, ...rest } = data
      t.same(rest, await direct(path, from, to, g), 'the range itself is unchanged')
    }
  // The DST days pair with each other: 2026-03-08 with 2025-03-09 (364 days, both Sundays).
  const rev = (
    await get('metrics/revenue?from=2026-03-07&to=2026-03-09&granularity=day&compare=previous_year')
  ).body.data
  t.same(
    rev.series.map((b: any) => [b.start, b.gross_sales]),
    [
      ['2026-03-07', '70.00'],
      ['2026-03-08', '60.00'],
      ['2026-03-09', '0.00'],
    ],
  )
  t.same(
    rev.comparison.series.map((b: any) => [b.start, b.gross_sales]),
    [
      ['2025-03-08', '20.00'],
      ['2025-03-09', '10.00'],
      ['2025-03-10', '0.00'],
    ],
  )
  const month = (
    await get(
      'metrics/revenue?from=2026-03-01&to=2026-04-30&granularity=month&compare=previous_period',
    )
  ).body.data
  t.same(
    month.comparison.series.map((b: any) => [b.start, b.end, b.net_sales]),
    [
      ['2026-01-01', '2026-01-31', '40.00'],
      ['2026-02-01', '2026-02-28', '50.00'],
    ],
  )
  t.same(
    month.series.map((b: any) => [b.start, b.end, b.net_sales]),
    [
      ['2026-03-01', '2026-03-31', '300.50'],
      ['2026-04-01', '2026-04-30', '-5.25'],
    ],
  )
})
