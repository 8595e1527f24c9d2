// text/csv for every analytics series and table: a request with `?format=csv` or an Accept
// header naming text/csv gets the same figures the JSON answer holds, one CSV row per bucket
// (or customer, product, cohort cell, segment), streamed row by row. The JSON answer is built
// and validated by the route as usual; this hook only re-shapes a 200 answer, so a CSV export can
// never show a figure the JSON does not.
import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
type Obj = { [k: string]: Json }
type Row = Record<string, Json>

/** Nested objects as dotted columns (`cumulative.net_sales`, `by_financial_status.paid`). */
export function flatten(o: Obj, prefix = '', out: Row = {}): Row {
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out)
    else if (!Array.isArray(v)) out[key] = v
  }
  return out
}

const arr = (v: Json | undefined): Obj[] => (Array.isArray(v) ? (v as Obj[]) : [])
/** A JSON value as text (objects never reach a cell; JSON keeps them readable if one did). */
const text = (v: Json | undefined): string =>
  v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)

/** Series rows, with the comparison's bucket i beside bucket i (`comparison.*` columns). */
function seriesRows(data: Obj, extra?: (i: number) => Row): Row[] {
  const cmp = (data.comparison ?? null) as Obj | null
  const cmpSeries = cmp ? arr(cmp.series) : []
  return arr(data.series).map((b, i) => ({
    ...flatten(b),
    ...(extra ? extra(i) : {}),
    ...(cmp ? { compare: cmp.compare ?? null, ...flatten(cmpSeries[i] ?? {}, 'comparison') } : {}),
  }))
}

/** Route → its rows. Routes absent here answer JSON whatever the request asks. */
export const CSV_TABLES: Record<string, { file: string; rows: (data: Obj) => Row[] }> = {
  '/api/tenants/:id/analytics': {
    file: 'summary',
    rows: (d) => {
      const range = d.range as Obj
      const { from, to, ...previous } = d.previous as Obj
      return [
        { period: 'current', from: range.from!, to: range.to!, ...flatten(d.current as Obj) },
        { period: 'previous', from: from!, to: to!, ...flatten(previous) },
      ]
    },
  },
  '/api/tenants/:id/metrics/revenue': { file: 'revenue', rows: (d) => seriesRows(d) },
  '/api/tenants/:id/metrics/orders': { file: 'orders', rows: (d) => seriesRows(d) },
  '/api/tenants/:id/metrics/customer-growth': {
    file: 'customer-growth',
    rows: (d) => seriesRows(d),
  },
  '/api/tenants/:id/metrics/product-growth': {
    file: 'product-growth',
    rows: (d) => seriesRows(d),
  },
  '/api/tenants/:id/metrics/events': {
    file: 'events',
    rows: (d) => {
      const funnel = arr((d.funnel as Obj).series)
      return seriesRows(d, (i) => {
        const { start: _s, end: _e, ...f } = funnel[i] ?? {}
        return flatten(f, 'funnel')
      })
    },
  },
  '/api/tenants/:id/metrics/customers': {
    file: 'top-customers',
    rows: (d) => arr(d.customers).map((c) => flatten(c)),
  },
  '/api/tenants/:id/metrics/products': {
    file: 'top-products',
    rows: (d) => arr(d.products).map((p) => flatten(p)),
  },
  '/api/tenants/:id/metrics/cohorts': {
    file: 'cohorts',
    rows: (d) =>
      arr(d.cohorts).flatMap((c) =>
        arr(c.periods).map((p) => ({
          cohort: c.cohort!,
          cohort_start: c.start!,
          cohort_end: c.end!,
          cohort_customers: c.customers!,
          ...flatten(p),
        })),
      ),
  },
  '/api/tenants/:id/metrics/repeat-purchase': {
    file: 'repeat-purchase',
    rows: (d) => {
      const { range: _r, days_to_second_order: gap, orders_per_customer: per, ...top } = d
      const { histogram, ...stats } = gap as Obj
      const out: Row[] = Object.entries(top).map(([figure, value]) => ({ figure, value }))
      for (const [k, v] of Object.entries(stats))
        out.push({ figure: `days_to_second_order.${k}`, value: v })
      for (const h of arr(histogram))
        out.push({
          figure: `days_to_second_order.histogram.${text(h.from_days)}-${text(h.to_days)}`,
          value: h.customers!,
        })
      for (const o of arr(per))
        out.push({ figure: `orders_per_customer.${text(o.orders)}`, value: o.customers! })
      return out
    },
  },
  '/api/tenants/:id/metrics/rfm': {
    file: 'rfm-segments',
    rows: (d) => arr(d.segments).map((s) => flatten(s)),
  },
  '/api/tenants/:id/metrics/rfm/customers': {
    file: 'rfm-customers',
    rows: (d) => arr(d.customers).map((c) => flatten(c)),
  },
  '/api/tenants/:id/metrics/lifetime-value': {
    file: 'lifetime-value',
    rows: (d) =>
      arr(d.cohorts).map((c) => {
        const { ltv, ...rest } = c
        const row: Row = flatten(rest)
        for (const h of arr(ltv))
          for (const k of ['customers', 'net_sales', 'average'])
            row[`ltv_${text(h.days)}d.${k}`] = h[k] ?? null
        return row
      }),
  },
}

const NUMBER = /^-?\d+(\.\d+)?$/

/** One CSV field (RFC 4180); text that a spreadsheet would run as a formula is quoted with '. */
export function csvField(v: Json | undefined): string {
  if (v === null || v === undefined) return ''
  let s = text(v)
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s) && !NUMBER.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replaceAll('"', '""')}"` : s
}

/** The CSV lines of some rows: a header of every column seen (first-seen order), then the rows. */
export function* csvLines(rows: Row[]): Generator<string> {
  const columns: string[] = []
  const seen = new Set<string>()
  for (const r of rows)
    for (const k of Object.keys(r))
      if (!seen.has(k)) {
        seen.add(k)
        columns.push(k)
      }
  yield `${columns.map(csvField).join(',')}\r\n`
  for (const r of rows) yield `${columns.map((c) => csvField(r[c])).join(',')}\r\n`
}

/** `?format=csv`, or an Accept header that names text/csv (and `format` does not say json). */
export function wantsCsv(request: FastifyRequest): boolean {
  const format = (request.query as { format?: string } | undefined)?.format
  if (format) return format === 'csv'
  return /(^|,)\s*text\/csv\s*(;|,|$)/i.test(request.headers.accept ?? '')
}

/** Registers the CSV re-shaping of the analytics routes (before they are registered). */
export function registerCsvExport(app: FastifyInstance): void {
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload) => {
    const table = CSV_TABLES[request.routeOptions.url ?? '']
    if (!table) return payload
    void reply.header('vary', 'accept')
    if (reply.statusCode !== 200 || typeof payload !== 'string' || !wantsCsv(request))
      return payload
    const { data } = JSON.parse(payload) as { data: Obj }
    void reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${table.file}.csv"`)
    return Readable.from(csvLines(table.rows(data)))
  })
}
