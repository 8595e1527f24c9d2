// The demo set-up `pnpm dev` runs once the API and worker are up, through the API over HTTP only:
// the first admin (bootstrap, or login when one exists), the demo store connected with the real
// OAuth flow (the redirects followed like a browser, Shopify's side served by the fake), a demo
// owner for HTTP Basic, then the backfill awaited through sync-status.

import { createProgressBar } from '../packages/logger/src/index.ts'

/** What the set-up needs to know. */
export type DemoOptions = {
  /** The API's origin, e.g. http://127.0.0.1:3000. */
  api: string
  /** The fake Shopify's origin (where https://{shop}/admin/oauth/authorize really goes). */
  fake: string
  shop: string
  admin: { username: string; password: string; bootstrapToken?: string | undefined }
  user: { username: string; password: string }
  /** Longest wait for the backfill (ms). */
  backfillTimeoutMs?: number
  log: (line: string) => void
}

export type DemoResult = { tenantId: string; shop: string; adminCookie: string }

const BROWSER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36'

type Json = Record<string, unknown>

async function call(
  method: string,
  url: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(url, {
    method,
    redirect: 'manual',
    headers: {
      'user-agent': BROWSER_UA,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  const text = await res.text()
  let json: Json = {}
  try {
    json = text ? (JSON.parse(text) as Json) : {}
  } catch {
    json = { text }
  }
  return { status: res.status, json, headers: res.headers }
}

function fail(step: string, res: { status: number; json: Json }): never {
  throw new Error(`${step}: HTTP ${res.status} ${JSON.stringify(res.json).slice(0, 500)}`)
}

/** Sets up the admin, the demo tenant and its owner; waits for the backfill. */
export async function setUpDemo(o: DemoOptions): Promise<DemoResult> {
  // 1. The first admin: bootstrap on a fresh database, otherwise log in with the same password.
  const boot = await call('POST', `${o.api}/api/admin/bootstrap`, {
    body: {
      username: o.admin.username,
      password: o.admin.password,
      ...(o.admin.bootstrapToken ? { token: o.admin.bootstrapToken } : {}),
    },
  })
  if (boot.status === 201) o.log(`admin "${o.admin.username}" created (bootstrap)`)
  else if (boot.status !== 409) fail('admin bootstrap', boot)
  const login = await call('POST', `${o.api}/api/admin/login`, {
    body: { username: o.admin.username, password: o.admin.password },
  })
  if (login.status !== 200)
    fail(
      'admin login (an admin exists with another password: set DEV_ADMIN_USERNAME/DEV_ADMIN_PASSWORD, or pnpm admin:create)',
      login,
    )
  const adminCookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!
  const admin = { cookie: adminCookie, origin: o.api }

  // 2. Install the app on the demo store through the real OAuth flow.
  const begin = await fetch(`${o.api}/api/shopify/install?shop=${encodeURIComponent(o.shop)}`, {
    redirect: 'manual',
    headers: { 'user-agent': BROWSER_UA },
  })
  if (begin.status !== 302) fail('install', { status: begin.status, json: {} })
  const authorize = new URL(begin.headers.get('location') ?? '')
  const approve = await fetch(`${o.fake}${authorize.pathname}${authorize.search}`, {
    redirect: 'manual',
    headers: { 'user-agent': BROWSER_UA, 'x-fake-shop': authorize.host },
  })
  if (approve.status !== 302)
    fail('authorize at the fake store', {
      status: approve.status,
      json: { text: await approve.text() },
    })
  // Back to our callback; through `api` (the same path: APP_URL may not resolve from here).
  const back = new URL(approve.headers.get('location') ?? '')
  const callback = await fetch(`${o.api}${back.pathname}${back.search}`, {
    redirect: 'manual',
    headers: { 'user-agent': BROWSER_UA },
  })
  if (callback.status !== 302)
    fail('OAuth callback', { status: callback.status, json: { text: await callback.text() } })
  o.log(`app installed on ${o.shop} (OAuth code grant, expiring token)`)

  // 3. The tenant and a demo owner for HTTP Basic.
  const tenants = await call('GET', `${o.api}/api/tenants`, { headers: admin })
  if (tenants.status !== 200) fail('list tenants', tenants)
  const list = (tenants.json.data ?? []) as { id: string; shop_domain: string }[]
  const tenant = list.find((x) => x.shop_domain === o.shop)
  if (!tenant) throw new Error(`tenant ${o.shop} not found after install`)
  const user = await call('POST', `${o.api}/api/tenants/${tenant.id}/users`, {
    headers: admin,
    body: { username: o.user.username, password: o.user.password, role: 'owner' },
  })
  if (user.status !== 201 && user.status !== 409) fail('create demo user', user)

  // 4. The install queued a full backfill; wait for every resource's first success.
  const basic = {
    authorization: `Basic ${Buffer.from(`${o.user.username}:${o.user.password}`).toString('base64')}`,
  }
  const deadline = Date.now() + (o.backfillTimeoutMs ?? 300_000)
  // A bar over the objects the bulk operations will read (Shopify's counts), on stderr.
  const bar = createProgressBar({ label: '[dev] backfill', total: null, unit: 'objects' })
  for (;;) {
    const s = await call('GET', `${o.api}/api/tenants/${tenant.id}/sync-status`, {
      headers: basic,
    })
    if (s.status !== 200) fail('sync-status (demo user)', s)
    const rows = s.json.data as {
      resource: string
      state: string
      rows_synced: number
      last_success_at: string | null
      bulk: { root_object_count: number; expected_count: number | null } | null
    }[]
    const line = rows.map((r) => `${r.resource} ${r.state} ${r.rows_synced}`).join(', ')
    const expected = rows.reduce((a, r) => a + (r.bulk?.expected_count ?? 0), 0)
    const seen = rows.reduce(
      (a, r) => a + Math.min(r.bulk?.root_object_count ?? 0, r.bulk?.expected_count ?? 0),
      0,
    )
    if (expected > 0) bar.setTotal(expected)
    bar.update(seen, line)
    if (rows.every((r) => r.last_success_at !== null && r.state === 'idle')) {
      bar.finish(line)
      break
    }
    if (Date.now() > deadline) {
      bar.fail(line)
      throw new Error(`backfill did not finish: ${line}`)
    }
    await new Promise((r) => setTimeout(r, 1000))
  }
  return { tenantId: tenant.id, shop: o.shop, adminCookie }
}
