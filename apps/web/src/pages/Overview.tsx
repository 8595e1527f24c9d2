import type {
  Events,
  Granularity,
  Growth,
  Orders,
  Revenue,
  Summary,
  Tenant,
  TopCustomers,
  TopProducts,
  Totals,
} from '../api.ts'
import { Chart, DataTable, Panel, categoryAxis, preloadCharts, valueAxis } from '../components.tsx'
import { defaultGranularity, isDate, presetRange, todayIn, type DateRange } from '../dates.ts'
import { change, changeText, count, customerName, money, percent } from '../format.ts'
import { useApi } from '../hooks.ts'
import { useEffect } from 'preact/hooks'
import { setQuery, type Location } from '../router.ts'
import { RangePicker } from './RangePicker.tsx'

const GRANS = new Set(['day', 'week', 'month'])
const labels = new Map<string, Intl.DateTimeFormat>()

/** A bucket's label from its first date (formatted as that calendar date, whatever the zone). */
export function bucketLabel(start: string, g: Granularity): string {
  const key = g
  let f = labels.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, {
      timeZone: 'UTC',
      ...(g === 'month' ? { month: 'short', year: 'numeric' } : { month: 'short', day: 'numeric' }),
    })
    labels.set(key, f)
  }
  return f.format(new Date(`${start}T00:00:00Z`))
}

/** The view's range and granularity from the URL, or the defaults (last 30 days, by day). */
export function viewOf(loc: Location, zone: string) {
  const today = todayIn(zone)
  const q = loc.query
  const from = q.get('from')
  const to = q.get('to')
  const range: DateRange =
    isDate(from) && isDate(to) && from <= to ? { from, to } : presetRange('last30', today)
  const g = q.get('granularity')
  const granularity: Granularity =
    g && GRANS.has(g) ? (g as Granularity) : defaultGranularity(range)
  return {
    today,
    range,
    granularity,
    complete: from === range.from && to === range.to && g === granularity,
  }
}

type KpiDef = {
  key: keyof Totals
  label: string
  kind: 'money' | 'count' | 'rate'
  /** Lower is better (refunds). */
  inverse?: boolean
}
const KPIS: KpiDef[] = [
  { key: 'gross_sales', label: 'Gross sales', kind: 'money' },
  { key: 'refunds', label: 'Refunds', kind: 'money', inverse: true },
  { key: 'net_sales', label: 'Net sales', kind: 'money' },
  { key: 'orders', label: 'Orders', kind: 'count' },
  { key: 'aov', label: 'Average order value', kind: 'money' },
  { key: 'customers_ordered', label: 'Customers', kind: 'count' },
  { key: 'returning_customer_rate', label: 'Returning rate', kind: 'rate' },
  { key: 'new_customers', label: 'New customers', kind: 'count' },
  { key: 'new_products', label: 'New products', kind: 'count' },
  { key: 'events', label: 'Custom events', kind: 'count' },
]

function Kpis(props: { summary: Summary; currency: string }) {
  const { current, previous } = props.summary
  const show = (d: KpiDef, v: string | number | null) =>
    d.kind === 'money'
      ? money(v as string | null, props.currency)
      : d.kind === 'rate'
        ? percent(v as number | null)
        : count(v as number)
  return (
    <ul class="kpis" aria-label="Key figures against the previous period">
      {KPIS.map((d) => {
        const cur = current[d.key]
        const prev = previous[d.key]
        const c = cur === null || prev === null ? null : change(Number(cur), Number(prev))
        const good = c === null || c === 0 ? 'flat' : c > 0 !== !!d.inverse ? 'up' : 'down'
        return (
          <li
            class="kpi"
            key={d.key}
            data-kpi={d.key}
            data-value={String(cur)}
            data-previous={String(prev)}
          >
            <span class="kpi-label">{d.label}</span>
            <strong class="kpi-value">{show(d, cur)}</strong>
            <span class={`kpi-change ${good}`}>
              <span aria-hidden="true">{c === null || c === 0 ? '' : c > 0 ? '▲ ' : '▼ '}</span>
              {changeText(c)}
              <span class="muted"> vs {show(d, prev)}</span>
            </span>
          </li>
        )
      })}
    </ul>
  )
}

const num = (s: string) => Number(s)

export function Overview(props: { tenant: Tenant; loc: Location }) {
  const zone = props.tenant.iana_timezone
  const view = viewOf(props.loc, zone)
  const { range, granularity } = view
  // Keep the URL complete (the range and granularity in use), so it can be shared as it is.
  useEffect(() => {
    if (!view.complete) setQuery({ from: range.from, to: range.to, granularity }, true)
  }, [view.complete, range.from, range.to, granularity])

  const base = `/api/tenants/${props.tenant.id}`
  const qs = `from=${range.from}&to=${range.to}&granularity=${granularity}`
  const summary = useApi<Summary>(`${base}/analytics?${qs}`)
  const revenue = useApi<Revenue>(`${base}/metrics/revenue?${qs}`)
  const orders = useApi<Orders>(`${base}/metrics/orders?${qs}`)
  const customerGrowth = useApi<Growth>(`${base}/metrics/customer-growth?${qs}`)
  const productGrowth = useApi<Growth>(`${base}/metrics/product-growth?${qs}`)
  const events = useApi<Events>(`${base}/metrics/events?${qs}`)
  const customers = useApi<TopCustomers>(`${base}/metrics/customers?${qs}&limit=10`)
  const products = useApi<TopProducts>(`${base}/metrics/products?${qs}&limit=10`)
  // Declared after the requests, so it runs after them: the chart library downloads and
  // compiles while the API answers, without delaying the requests themselves.
  useEffect(preloadCharts, [])
  const cur = props.tenant.currency
  const m = (v: string | null) => money(v, cur)

  return (
    <>
      <div class="page-head">
        <h1>Overview</h1>
        <RangePicker range={range} granularity={granularity} today={view.today} zone={zone} />
      </div>

      <Panel
        id="summary"
        title="This period"
        subtitle={
          summary.data
            ? `against ${summary.data.previous.from} → ${summary.data.previous.to}`
            : undefined
        }
        load={summary}
        wide
      >
        {(s) => <Kpis summary={s} currency={cur} />}
      </Panel>

      <div class="grid">
        <Panel
          id="revenue"
          title="Revenue"
          subtitle="Gross sales, refunds and net sales; the line on the right axis is the running net total"
          load={revenue}
          isEmpty={(r) => r.series.every((b) => b.orders === 0 && num(b.refunds) === 0)}
          empty="No sales or refunds in this range."
          wide
        >
          {(r) => {
            const x = r.series.map((b) => bucketLabel(b.start, granularity))
            const series = {
              gross_sales: r.series.map((b) => b.gross_sales),
              refunds: r.series.map((b) => b.refunds),
              net_sales: r.series.map((b) => b.net_sales),
              cumulative_net_sales: r.series.map((b) => b.cumulative.net_sales),
            }
            const fmt = (v: number) => money(String(v), cur, true)
            return (
              <>
                <Chart
                  name="revenue"
                  label={`Revenue per ${granularity}`}
                  series={series}
                  height={300}
                  option={{
                    xAxis: categoryAxis(x),
                    yAxis: [
                      valueAxis({ axisLabel: { formatter: fmt, color: '#5b6472' } }),
                      valueAxis({
                        axisLabel: { formatter: fmt, color: '#5b6472' },
                        splitLine: { show: false },
                      }),
                    ],
                    tooltip: {
                      trigger: 'axis',
                      confine: true,
                      valueFormatter: (v: number) => money(String(v), cur),
                    },
                    series: [
                      { name: 'Gross sales', type: 'bar', data: series.gross_sales.map(num) },
                      { name: 'Refunds', type: 'bar', data: series.refunds.map(num) },
                      {
                        name: 'Net sales',
                        type: 'line',
                        data: series.net_sales.map(num),
                        symbol: 'none',
                      },
                      {
                        name: 'Running net total',
                        type: 'line',
                        yAxisIndex: 1,
                        data: series.cumulative_net_sales.map(num),
                        symbol: 'none',
                        lineStyle: { type: 'dashed' },
                      },
                    ],
                  }}
                />
                <DataTable
                  name="revenue"
                  caption="Revenue per bucket"
                  columns={[
                    'Period',
                    'Orders',
                    'Gross sales',
                    'Refunds',
                    'Net sales',
                    'AOV',
                    'Running net',
                  ]}
                  rows={r.series.map((b) => ({
                    key: b.start,
                    cells: [
                      { text: `${b.start} → ${b.end}`, value: b.start },
                      { text: count(b.orders), value: b.orders },
                      { text: m(b.gross_sales), value: b.gross_sales },
                      { text: m(b.refunds), value: b.refunds },
                      { text: m(b.net_sales), value: b.net_sales },
                      { text: m(b.aov), value: b.aov ?? '' },
                      { text: m(b.cumulative.net_sales), value: b.cumulative.net_sales },
                    ],
                  }))}
                />
              </>
            )
          }}
        </Panel>

        <Panel
          id="orders"
          title="Orders"
          subtitle="Orders per period; the line is the running total"
          load={revenue}
          isEmpty={(r) => r.series.every((b) => b.orders === 0)}
          empty="No orders in this range."
        >
          {(r) => {
            const series = {
              orders: r.series.map((b) => b.orders),
              cumulative_orders: r.series.map((b) => b.cumulative.orders),
            }
            return (
              <>
                <Chart
                  name="orders"
                  label={`Orders per ${granularity} and running total`}
                  series={series}
                  option={{
                    xAxis: categoryAxis(r.series.map((b) => bucketLabel(b.start, granularity))),
                    yAxis: [
                      valueAxis({ minInterval: 1 }),
                      valueAxis({ minInterval: 1, splitLine: { show: false } }),
                    ],
                    series: [
                      { name: 'Orders', type: 'bar', data: series.orders },
                      {
                        name: 'Running total',
                        type: 'line',
                        yAxisIndex: 1,
                        data: series.cumulative_orders,
                        symbol: 'none',
                      },
                    ],
                  }}
                />
                <DataTable
                  name="orders"
                  caption="Orders per bucket"
                  columns={['Period', 'Orders', 'Running total']}
                  rows={r.series.map((b) => ({
                    key: b.start,
                    cells: [
                      { text: b.start, value: b.start },
                      { text: count(b.orders), value: b.orders },
                      { text: count(b.cumulative.orders), value: b.cumulative.orders },
                    ],
                  }))}
                />
              </>
            )
          }}
        </Panel>

        {(['financial', 'fulfillment'] as const).map((kind) => (
          <Panel
            key={kind}
            id={`status-${kind}`}
            title={
              kind === 'financial' ? 'Orders by payment status' : 'Orders by fulfilment status'
            }
            subtitle="Current status of the orders of each period"
            load={orders}
            isEmpty={(o) => o.series.every((b) => b.orders === 0)}
            empty="No orders in this range."
          >
            {(o) => {
              const pick = (b: Orders['series'][number]) =>
                kind === 'financial' ? b.by_financial_status : b.by_fulfillment_status
              const statuses = [...new Set(o.series.flatMap((b) => Object.keys(pick(b))))].sort()
              const series = Object.fromEntries(
                statuses.map((s) => [s, o.series.map((b) => pick(b)[s] ?? 0)]),
              )
              const totals = statuses.map(
                (s) => [s, series[s]!.reduce((a, n) => a + n, 0)] as const,
              )
              return (
                <>
                  <Chart
                    name={`status-${kind}`}
                    label={`Orders by ${kind} status per ${granularity}`}
                    series={series}
                    option={{
                      xAxis: categoryAxis(o.series.map((b) => bucketLabel(b.start, granularity))),
                      yAxis: valueAxis({ minInterval: 1 }),
                      series: statuses.map((s) => ({
                        name: s.replace(/_/g, ' '),
                        type: 'bar',
                        stack: 'all',
                        data: series[s],
                      })),
                    }}
                  />
                  <DataTable
                    name={`status-${kind}`}
                    caption={`Orders by ${kind} status in the range`}
                    columns={['Status', 'Orders']}
                    rows={totals.map(([s, n]) => ({
                      key: s,
                      cells: [
                        { text: s.replace(/_/g, ' '), value: s },
                        { text: count(n), value: n },
                      ],
                    }))}
                  />
                </>
              )
            }}
          </Panel>
        ))}

        {(
          [
            ['customer-growth', 'Customer growth', 'New customers', customerGrowth],
            ['product-growth', 'Product growth', 'New products', productGrowth],
          ] as const
        ).map(([id, title, added, load]) => (
          <Panel
            key={id}
            id={id}
            title={title}
            subtitle={`${added} per period; the line is the catalogue's running total`}
            load={load}
          >
            {(g) => {
              const series = {
                added: g.series.map((b) => b.added),
                running_total: g.series.map((b) => b.running_total),
              }
              return (
                <>
                  <Chart
                    name={id}
                    label={`${title} per ${granularity}`}
                    series={series}
                    option={{
                      xAxis: categoryAxis(g.series.map((b) => bucketLabel(b.start, granularity))),
                      yAxis: [
                        valueAxis({ minInterval: 1 }),
                        valueAxis({ minInterval: 1, splitLine: { show: false } }),
                      ],
                      series: [
                        { name: added, type: 'bar', data: series.added },
                        {
                          name: 'Running total',
                          type: 'line',
                          yAxisIndex: 1,
                          data: series.running_total,
                          symbol: 'none',
                        },
                      ],
                    }}
                  />
                  <DataTable
                    name={id}
                    caption={`${title} per bucket`}
                    columns={['Period', added, 'Running total']}
                    rows={g.series.map((b) => ({
                      key: b.start,
                      cells: [
                        { text: b.start, value: b.start },
                        { text: count(b.added), value: b.added },
                        { text: count(b.running_total), value: b.running_total },
                      ],
                    }))}
                  />
                </>
              )
            }}
          </Panel>
        ))}

        <Panel
          id="events"
          title="Custom events"
          subtitle="Events sent to POST /api/events, by type"
          load={events}
          isEmpty={(e) => e.totals.total === 0}
          empty="No custom events in this range. Send them with an API key to POST /api/events."
        >
          {(e) => {
            const types = Object.keys(e.totals.by_type).sort()
            const series = Object.fromEntries(
              types.map((t) => [t, e.series.map((b) => b.by_type[t] ?? 0)]),
            )
            return (
              <>
                <Chart
                  name="events"
                  label={`Custom events by type per ${granularity}`}
                  series={series}
                  option={{
                    xAxis: categoryAxis(e.series.map((b) => bucketLabel(b.start, granularity))),
                    yAxis: valueAxis({ minInterval: 1 }),
                    series: types.map((t) => ({
                      name: t,
                      type: 'bar',
                      stack: 'events',
                      data: series[t],
                    })),
                  }}
                />
                <DataTable
                  name="events"
                  caption="Custom events by type in the range"
                  columns={['Event type', 'Events']}
                  rows={types.map((t) => ({
                    key: t,
                    cells: [
                      { text: t },
                      { text: count(e.totals.by_type[t]), value: e.totals.by_type[t] ?? 0 },
                    ],
                  }))}
                />
              </>
            )
          }}
        </Panel>

        <Panel
          id="funnel"
          title="Checkout → order"
          subtitle="Checkouts started and orders placed in the range"
          load={events}
          isEmpty={(e) => e.funnel.checkouts_started === 0 && e.funnel.orders === 0}
          empty="No checkouts or orders in this range."
        >
          {(e) => {
            const f = e.funnel
            const series = {
              checkouts_started: f.checkouts_started,
              orders: f.orders,
              rate: f.rate,
            }
            return (
              <>
                <Chart
                  name="funnel"
                  label="Checkout to order funnel"
                  series={series}
                  option={{
                    tooltip: { trigger: 'item', confine: true },
                    series: [
                      {
                        name: 'Funnel',
                        type: 'funnel',
                        left: '10%',
                        width: '80%',
                        top: 36,
                        bottom: 8,
                        sort: 'none',
                        minSize: '20%',
                        label: {
                          show: true,
                          position: 'inside',
                          color: '#fff',
                          formatter: '{b}: {c}',
                        },
                        data: [
                          { name: 'Checkouts started', value: f.checkouts_started },
                          { name: 'Orders', value: f.orders },
                        ],
                      },
                    ],
                  }}
                />
                <p class="funnel-rate" data-rate={f.rate ?? ''}>
                  Conversion: <strong>{percent(f.rate)}</strong>
                  {f.rate === null && <span class="muted"> (no checkout events recorded)</span>}
                </p>
              </>
            )
          }}
        </Panel>

        <Panel
          id="top-customers"
          title="Top customers"
          subtitle="By net spend in the range"
          load={customers}
          isEmpty={(c) => c.customers.length === 0}
          empty="No customer ordered in this range."
        >
          {(c) => (
            <div class="table-scroll" tabIndex={0}>
              <table data-table="top-customers" class="list">
                <caption class="sr-only">Top customers by net spend</caption>
                <thead>
                  <tr>
                    <th scope="col">Customer</th>
                    <th scope="col" class="num">
                      Orders
                    </th>
                    <th scope="col" class="num">
                      Net spend
                    </th>
                    <th scope="col" class="num">
                      Lifetime
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {c.customers.map((x) => (
                    <tr key={x.customer_id} data-id={x.customer_id}>
                      <th scope="row">{customerName(x)}</th>
                      <td class="num" data-value={x.orders}>
                        {count(x.orders)}
                      </td>
                      <td class="num" data-value={x.net_spend}>
                        {m(x.net_spend)}
                      </td>
                      <td class="num" data-value={x.lifetime_amount_spent ?? ''}>
                        {m(x.lifetime_amount_spent)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Panel>

        <Panel
          id="top-products"
          title="Top products"
          subtitle="By line-item revenue in the range"
          load={products}
          isEmpty={(p) => p.products.length === 0}
          empty="No product sold in this range."
        >
          {(p) => (
            <div class="table-scroll" tabIndex={0}>
              <table data-table="top-products" class="list">
                <caption class="sr-only">Top products by revenue</caption>
                <thead>
                  <tr>
                    <th scope="col">Product</th>
                    <th scope="col" class="num">
                      Units
                    </th>
                    <th scope="col" class="num">
                      Revenue
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {p.products.map((x) => (
                    <tr key={x.product_id} data-id={x.product_id}>
                      <th scope="row">{x.title ?? `#${x.product_id}`}</th>
                      <td class="num" data-value={x.units}>
                        {count(x.units)}
                      </td>
                      <td class="num" data-value={x.revenue}>
                        {m(x.revenue)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Panel>
      </div>
    </>
  )
}
