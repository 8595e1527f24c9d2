// The dashboard's only way to the server: the documented HTTP API on the same origin. Cookies
// travel by themselves (same origin); state-changing requests are JSON, as the CSRF rule wants.

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields?: { field: string; message: string }[]
  constructor(
    status: number,
    code: string,
    message: string,
    fields?: { field: string; message: string }[],
  ) {
    super(message)
    this.status = status
    this.code = code
    this.fields = fields
  }
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

export async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  let res: Response
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(method === 'GET' ? {} : { 'content-type': 'application/json' }),
      },
      body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
    })
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached. Check your connection.')
  }
  const text = await res.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : {}
  } catch {
    json = {}
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; fields?: [] } }).error
    const retry = res.headers.get('retry-after')
    const message =
      e?.message ??
      (res.status === 429 ? 'Too many attempts.' : `The server answered ${res.status}.`)
    throw new ApiError(
      res.status,
      e?.code ?? `HTTP_${res.status}`,
      retry ? `${message} Try again in ${retry} s.` : message,
      e?.fields,
    )
  }
  return (json as { data: T }).data
}

export const get = <T>(path: string) => request<T>('GET', path)
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body)
export const del = <T>(path: string) => request<T>('DELETE', path)
export const patch = <T>(path: string, body?: unknown) => request<T>('PATCH', path, body)

// Shapes of the answers the dashboard reads (snake_case, as the API sends them).

export type Tenant = {
  id: string
  shop_domain: string
  status: string
  shop_name: string | null
  iana_timezone: string
  currency: string
  plan: string | null
  installed_at: string | null
  created_at: string
}
export type Me = {
  tenant: Tenant
  user: { id: string; username: string; role: 'owner' | 'viewer' } | null
  api_key_id: string | null
}
export type Granularity = 'day' | 'week' | 'month'
export type RangeEcho = {
  from: string
  to: string
  granularity: Granularity
  zone: string
  currency: string
}
export type Totals = {
  gross_sales: string
  refunds: string
  net_sales: string
  orders: number
  aov: string | null
  customers_ordered: number
  new_customers: number
  returning_customers: number
  returning_customer_rate: number | null
  new_products: number
  events: number
}
export type Summary = {
  range: RangeEcho
  current: Totals
  previous: Totals & { from: string; to: string }
}
type Span = { start: string; end: string }
export type RevenueBucket = Span & {
  orders: number
  gross_sales: string
  refunds: string
  net_sales: string
  aov: string | null
  cumulative: { orders: number; gross_sales: string; refunds: string; net_sales: string }
}
export type Revenue = { range: RangeEcho; series: RevenueBucket[] }
export type OrdersBucket = Span & {
  orders: number
  by_financial_status: Record<string, number>
  by_fulfillment_status: Record<string, number>
}
export type Orders = { range: RangeEcho; series: OrdersBucket[] }
export type Growth = {
  range: RangeEcho
  series: (Span & { added: number; running_total: number })[]
}
export type Events = {
  range: RangeEcho
  totals: { total: number; by_type: Record<string, number> }
  series: (Span & { total: number; by_type: Record<string, number> })[]
  funnel: {
    checkout_event_type: string
    checkouts_started: number
    orders: number
    rate: number | null
  }
}
export type TopCustomers = {
  range: RangeEcho
  customers: {
    customer_id: string
    email: string | null
    first_name: string | null
    last_name: string | null
    orders: number
    gross_sales: string
    refunds: string
    net_spend: string
    lifetime_amount_spent: string | null
  }[]
}
export type TopProducts = {
  range: RangeEcho
  products: { product_id: string; title: string | null; units: number; revenue: string }[]
}
export type SyncRow = {
  resource: 'shop' | 'customers' | 'products' | 'orders'
  state: string
  rows_synced: number
  pages: number
  bulk: {
    operation_id: string | null
    running: boolean
    mode: string | null
    object_count: number
    root_object_count: number
    expected_count: number | null
    percent: number | null
  } | null
  last_success_at: string | null
  lag_seconds: number | null
  throttled_ms: number
  last_error: string | null
  last_error_at: string | null
  next_run_at: string | null
}
export type User = {
  id: string
  username: string
  role: 'owner' | 'viewer'
  created_at: string
  password_changed_at: string
}
export type ApiKey = {
  id: string
  prefix: string
  label: string
  created_at: string
  last_used_at: string | null
  revoked_at: string | null
}
export type Receipt = {
  id: string
  tenant_id: string
  shop_domain: string
  topic: string
  webhook_id: string
  status: string
  attempts: number
  last_error: string | null
  received_at: string
  processed_at: string | null
}
export type OAuthConfig = {
  config: Record<string, string | null>
  checks: { check: string; ok: boolean; detail: string }[]
}
