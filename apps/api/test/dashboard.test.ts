// The dashboard (apps/web under /app/) in Debian's headless Chromium against the real API, a
// worker process and the fake Shopify: the demo owner signs in, starts the backfill with "sync
// now" and watches its progress bar reach 100 %, then every chart is drawn with the figures the
// API returns for the same range (read from the page's data attributes and tables, compared with
// the API's JSON), range and granularity change through the picker (and the URL), an API key is
// created (shown once, works) and revoked (refused); an admin replays a failed webhook receipt
// and sees it processed. axe-core finds no serious or critical violation on any page, no page
// breaks the strict CSP, and every page is screenshotted under .tmp/dashboard/ (also at 375 px).
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import t from 'tap'
import type { Page } from 'playwright-core'
import { WEB_DIST } from './support/app.ts'
import {
  CSP_RECORDER,
  axeViolations,
  dashboardHarness,
  ensureWebBuilt,
  launchBrowser,
  merchantLogin,
  screenshot,
} from './support/dashboard.ts'
import { WEB_CSP } from '../src/plugins/web.ts'

// In-page callbacks (page.evaluate) run in the browser; this Node program has no DOM types (a
// `lib: dom` reference would change every other file's globals).
declare const document: any
declare const window: any
declare const MutationObserver: any

type Rev = {
  series: {
    start: string
    orders: number
    gross_sales: string
    refunds: string
    net_sales: string
    cumulative: { orders: number; net_sales: string }
  }[]
}
type OrdersRes = {
  series: {
    by_financial_status: Record<string, number>
    by_fulfillment_status: Record<string, number>
  }[]
}
type GrowthRes = { series: { added: number; running_total: number }[] }
type EventsRes = {
  totals: { total: number; by_type: Record<string, number> }
  series: { by_type: Record<string, number> }[]
  funnel: { checkouts_started: number; orders: number; rate: number | null }
}

/** The numbers a chart was drawn with, once ECharts has finished drawing them. */
async function drawn(page: Page, name: string): Promise<any> {
  const el = page.locator(`[data-chart="${name}"]`)
  await el.waitFor({ timeout: 30_000 })
  await page.waitForFunction(
    (n) => document.querySelector(`[data-chart="${n}"]`)?.getAttribute('data-rendered') === 'true',
    name,
    { timeout: 30_000 },
  )
  const canvas = await el.locator('canvas').count()
  if (canvas === 0) throw new Error(`chart ${name} has no canvas`)
  return JSON.parse((await el.getAttribute('data-series')) ?? 'null')
}

/** Every panel of the overview settled (no skeleton left). */
async function settled(page: Page) {
  await page.waitForFunction(
    () =>
      document.querySelectorAll('[data-panel]').length > 0 &&
      [...document.querySelectorAll('[data-panel]')].every(
        (p) => p.getAttribute('data-state') !== 'loading' && p.getAttribute('aria-busy') !== 'true',
      ),
    undefined,
    { timeout: 30_000 },
  )
}

const statuses = (
  series: OrdersRes['series'],
  key: 'by_financial_status' | 'by_fulfillment_status',
) => {
  const names = [...new Set(series.flatMap((b) => Object.keys(b[key])))].sort()
  return Object.fromEntries(names.map((s) => [s, series.map((b) => b[key][s] ?? 0)]))
}

t.test('the page JavaScript stays within 250 kB gzipped', async (t) => {
  ensureWebBuilt()
  const dir = `${WEB_DIST}/assets`
  const js = readdirSync(dir).filter((f) => f.endsWith('.js'))
  t.ok(js.length > 0, 'the build wrote JavaScript')
  const gz = js.reduce((n, f) => n + gzipSync(readFileSync(`${dir}/${f}`), { level: 9 }).length, 0)
  const raw = js.reduce((n, f) => n + statSync(`${dir}/${f}`).size, 0)
  t.comment(
    `JavaScript: ${js.length} files, ${(raw / 1024).toFixed(1)} kB, ${(gz / 1024).toFixed(1)} kB gzipped`,
  )
  t.ok(gz <= 250 * 1024, `${(gz / 1024).toFixed(1)} kB gzipped ≤ 250 kB`)
  const html = readFileSync(`${WEB_DIST}/index.html`, 'utf8')
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script in index.html')
  t.notMatch(html, /https?:\/\//, 'index.html loads nothing from another host')
})

t.test('merchant and admin dashboards in Chromium', async (t) => {
  const d = await dashboardHarness(t, {
    orders: 500,
    customers: 90,
    products: 24,
    bulkMinDurationMs: 1000,
    bulkObjectsPerSecond: 400,
  })
  const { h, tenant, owner, base, api } = d
  const browser = await launchBrowser(t)
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  await context.addInitScript(CSP_RECORDER)
  const page = await context.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', (e) => pageErrors.push(e.message))
  const a11y = async (name: string) => {
    const v = await axeViolations(page)
    const bad = v.filter((x) => x.impact === 'serious' || x.impact === 'critical')
    t.same(bad, [], `${name}: no serious or critical accessibility violation`)
    const csp = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)
    t.same(csp, [], `${name}: nothing broke the content security policy`)
  }

  // Served as the API serves it: HTML under a strict CSP, SPA fallback, hashed assets cached.
  const html = await fetch(`${base}/app/overview?from=2026-01-01`)
  t.equal(html.status, 200)
  t.match(html.headers.get('content-type'), /text\/html/)
  t.equal(html.headers.get('content-security-policy'), WEB_CSP)
  const missing = await fetch(`${base}/app/assets/nothing-here.js`)
  t.equal(missing.status, 404, 'a missing asset is a 404, not the page')

  // 1. Sign-in page, wrong password then the demo owner.
  await page.goto(`${base}/app/`)
  await page.getByRole('heading', { name: 'Sign in to your shop' }).waitFor()
  await screenshot(page, 'login')
  await a11y('login')
  await page.getByLabel('Shop').fill(d.domain)
  await page.getByLabel('Username').fill(owner.username)
  await page.getByLabel('Password').fill('wrong-password-1')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('alert').filter({ hasText: 'Wrong shop, username or password' }).waitFor()
  await merchantLogin(page, base, {
    shop: d.domain,
    username: owner.username,
    password: owner.password,
  })
  t.match(
    page.url(),
    /\/app\/overview\?from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d&granularity=day/,
    'the range is in the URL',
  )

  // 2. Nothing synced yet: the panels say so instead of drawing empty charts.
  await settled(page)
  t.equal(
    await page.locator('[data-panel="revenue"]').getAttribute('data-state'),
    'empty',
    'revenue: empty state',
  )
  t.match(
    await page.locator('[data-panel="revenue"]').innerText(),
    /No sales or refunds in this range/,
  )
  await screenshot(page, 'overview-empty')

  // 3. Sync now (owner) and watch the backfill's progress bar to 100 %.
  await page.getByRole('link', { name: 'Sync' }).click()
  await page.getByRole('heading', { name: 'Sync', exact: true }).waitFor()
  await page.locator('[data-panel="sync"][data-state]:not([data-state="loading"])').waitFor()
  await page.evaluate(() => {
    const w = window as unknown as { __progress: string[] }
    w.__progress = []
    const seen = () => {
      const bar = document.querySelector('#backfill-progress')
      const state = document.querySelector('[data-backfill]')?.getAttribute('data-backfill')
      const v = bar ? `${state}:${bar.getAttribute('data-percent')}` : null
      if (v && w.__progress[w.__progress.length - 1] !== v) w.__progress.push(v)
    }
    new MutationObserver(seen).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
    })
  })
  await page.getByRole('button', { name: 'Sync now' }).click()
  await page.locator('[data-backfill="running"]').waitFor({ timeout: 240_000 })
  await screenshot(page, 'sync-running')
  await page.waitForFunction(
    () =>
      document.querySelector('[data-backfill]')?.getAttribute('data-backfill') === 'done' &&
      document.querySelector('#backfill-progress')?.getAttribute('data-percent') === '100' &&
      [...document.querySelectorAll('[data-resource]')].every(
        (r) => r.getAttribute('data-state') === 'idle',
      ),
    undefined,
    { timeout: 180_000, polling: 200 },
  )
  const progress = await page.evaluate(
    () => (window as unknown as { __progress: string[] }).__progress,
  )
  t.comment(`progress bar: ${progress.join(' → ')}`)
  const pcts = progress.map((p) => Number(p.split(':')[1]))
  t.ok(
    progress.some((p) => p.startsWith('running:')),
    'the bar showed a running backfill',
  )
  t.ok(
    pcts.every((p, i) => i === 0 || p >= pcts[i - 1]!),
    'the bar never went back',
  )
  t.equal(progress[progress.length - 1], 'done:100', 'the bar ends at 100 %')
  await d.waitSynced()
  const rows = await page.locator('[data-resource]').count()
  t.equal(rows, 4, 'one row per resource')
  await screenshot(page, 'sync-done')
  await a11y('sync')

  // Custom events (an API key of the tenant), so the events chart and the funnel have data.
  const key = await h.apiKey(tenant.id, 'events')
  const now = Date.now()
  const events = Array.from({ length: 90 }, (_, i) => ({
    event_type: i % 4 === 0 ? 'newsletter_signup' : 'checkout_started',
    occurred_at: new Date(now - (i % 28) * 86_400_000 - 3_600_000).toISOString(),
    idempotency_key: `web-${i}`,
  }))
  const sent = await h.app.inject({
    method: 'POST',
    url: '/api/events',
    headers: key.headers,
    payload: { events },
  })
  t.equal(sent.statusCode, 202, sent.body)

  // 4. The overview: each chart drawn with the API's figures for the URL's range.
  const compare = async (label: string) => {
    await settled(page)
    const q = new URL(page.url()).searchParams
    const qs = `from=${q.get('from')}&to=${q.get('to')}&granularity=${q.get('granularity')}`
    const base2 = `/api/tenants/${tenant.id}`
    const [summary, rev, ord, cg, pg, ev, cust, prod] = await Promise.all([
      api<{ current: Record<string, unknown> }>(`${base2}/analytics?${qs}`),
      api<Rev>(`${base2}/metrics/revenue?${qs}`),
      api<OrdersRes>(`${base2}/metrics/orders?${qs}`),
      api<GrowthRes>(`${base2}/metrics/customer-growth?${qs}`),
      api<GrowthRes>(`${base2}/metrics/product-growth?${qs}`),
      api<EventsRes>(`${base2}/metrics/events?${qs}`),
      api<{ customers: { customer_id: string; net_spend: string; orders: number }[] }>(
        `${base2}/metrics/customers?${qs}&limit=10`,
      ),
      api<{ products: { product_id: string; revenue: string; units: number }[] }>(
        `${base2}/metrics/products?${qs}&limit=10`,
      ),
    ])
    t.ok(
      rev.series.some((b) => b.orders > 0),
      `${label}: the range has orders`,
    )
    t.same(
      await drawn(page, 'revenue'),
      {
        gross_sales: rev.series.map((b) => b.gross_sales),
        refunds: rev.series.map((b) => b.refunds),
        net_sales: rev.series.map((b) => b.net_sales),
        cumulative_net_sales: rev.series.map((b) => b.cumulative.net_sales),
      },
      `${label}: revenue chart = /metrics/revenue`,
    )
    t.same(
      await drawn(page, 'orders'),
      {
        orders: rev.series.map((b) => b.orders),
        cumulative_orders: rev.series.map((b) => b.cumulative.orders),
      },
      `${label}: orders chart = /metrics/revenue orders and running total`,
    )
    t.same(
      await drawn(page, 'status-financial'),
      statuses(ord.series, 'by_financial_status'),
      `${label}: payment status chart`,
    )
    t.same(
      await drawn(page, 'status-fulfillment'),
      statuses(ord.series, 'by_fulfillment_status'),
      `${label}: fulfilment status chart`,
    )
    for (const [name, g] of [
      ['customer-growth', cg],
      ['product-growth', pg],
    ] as const)
      t.same(
        await drawn(page, name),
        {
          added: g.series.map((b) => b.added),
          running_total: g.series.map((b) => b.running_total),
        },
        `${label}: ${name} chart`,
      )
    const types = Object.keys(ev.totals.by_type).sort()
    t.same(
      await drawn(page, 'events'),
      Object.fromEntries(types.map((x) => [x, ev.series.map((b) => b.by_type[x] ?? 0)])),
      `${label}: events chart = /metrics/events`,
    )
    t.same(
      await drawn(page, 'funnel'),
      {
        checkouts_started: ev.funnel.checkouts_started,
        orders: ev.funnel.orders,
        rate: ev.funnel.rate,
      },
      `${label}: funnel = /metrics/events funnel`,
    )
    // The visible table under the revenue chart holds the same figures.
    const tableNet = await page
      .locator('table[data-table="revenue"] tbody tr td:nth-child(5)')
      .evaluateAll((cells) => cells.map((c) => c.getAttribute('data-value')))
    t.same(
      tableNet,
      rev.series.map((b) => b.net_sales),
      `${label}: revenue table net sales`,
    )
    const kpis = await page
      .locator('[data-kpi]')
      .evaluateAll((els) =>
        Object.fromEntries(
          els.map((e) => [e.getAttribute('data-kpi'), e.getAttribute('data-value')]),
        ),
      )
    for (const k of [
      'gross_sales',
      'refunds',
      'net_sales',
      'orders',
      'aov',
      'customers_ordered',
      'returning_customer_rate',
      'new_customers',
      'new_products',
      'events',
    ])
      t.equal(kpis[k], String(summary.current[k]), `${label}: KPI ${k}`)
    const topC = await page
      .locator('table[data-table="top-customers"] tbody tr')
      .evaluateAll((trs) =>
        trs.map((r) => [
          r.getAttribute('data-id'),
          r.querySelector('td:nth-of-type(2)')?.getAttribute('data-value'),
        ]),
      )
    t.same(
      topC,
      cust.customers.map((c) => [c.customer_id, c.net_spend]),
      `${label}: top customers table`,
    )
    const topP = await page
      .locator('table[data-table="top-products"] tbody tr')
      .evaluateAll((trs) =>
        trs.map((r) => [
          r.getAttribute('data-id'),
          r.querySelector('td:nth-of-type(2)')?.getAttribute('data-value'),
        ]),
      )
    t.same(
      topP,
      prod.products.map((p) => [p.product_id, p.revenue]),
      `${label}: top products table`,
    )
    return rev
  }

  await page.getByRole('link', { name: 'Overview' }).click()
  const r30 = await compare('last 30 days by day')
  t.equal(r30.series.length, 30, 'a bucket per day')
  t.match(
    await page.locator('[data-kpi="gross_sales"] .kpi-value').innerText(),
    /\d/,
    'gross sales shown as money',
  )
  await screenshot(page, 'overview')
  await a11y('overview')

  // 5. Range and granularity: preset through the picker, then week buckets, then a custom range.
  const today = new URL(page.url()).searchParams.get('to')!
  const daysBefore = (n: number) =>
    new Date(Date.parse(`${today}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10)
  await page.getByLabel('Range', { exact: true }).selectOption('last90')
  await page.waitForURL((u) => new URL(u).searchParams.get('from') === daysBefore(89))
  const r90 = await compare('last 90 days by day')
  t.equal(r90.series.length, 90, '90 day buckets')
  await page.getByLabel('Week').check()
  await page.waitForURL(/granularity=week/)
  const rw = await compare('last 90 days by week')
  t.ok(rw.series.length >= 13 && rw.series.length <= 14, `week buckets (${rw.series.length})`)
  await page.getByLabel('Range', { exact: true }).selectOption('custom')
  const from = daysBefore(200)
  await page.getByLabel('Month').check()
  await page.waitForURL(/granularity=month/)
  await page.getByLabel('From').fill(from)
  await page.getByRole('button', { name: 'Apply' }).click()
  await page.waitForURL((u) => new URL(u).searchParams.get('from') === from)
  const rm = await compare('custom range by month')
  t.equal(rm.series[0]!.start, from, 'the custom range starts where asked')

  // The URL is the view: a fresh page on it shows the same range and figures.
  const shared = page.url()
  const page2 = await context.newPage()
  await page2.goto(shared)
  await settled(page2)
  t.same(
    await drawn(page2, 'revenue'),
    await drawn(page, 'revenue'),
    'a shared URL opens the same view',
  )
  await page2.close()

  // 6. At 375 px: no horizontal scroll of the page, every panel visible.
  await page.setViewportSize({ width: 375, height: 812 })
  await page.getByLabel('Range', { exact: true }).selectOption('last30')
  await settled(page)
  await drawn(page, 'revenue')
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - window.innerWidth,
  )
  t.ok(overflow <= 0, `no horizontal overflow at 375 px (${overflow})`)
  await screenshot(page, 'overview-375')
  await screenshot(page, 'overview-375-top', false)
  await a11y('overview at 375 px')
  await page.setViewportSize({ width: 1280, height: 900 })

  // 7. Keyboard: the skip link first, then the nav reaches the team page.
  await page.reload()
  await settled(page)
  await page.keyboard.press('Tab')
  t.equal(
    await page.evaluate(() => document.activeElement?.textContent),
    'Skip to content',
    'first Tab: skip link',
  )
  let tabs = 0
  while ((await page.evaluate(() => document.activeElement?.textContent)) !== 'Team & keys') {
    if (++tabs > 15) throw new Error('Tab never reached the Team & keys link')
    await page.keyboard.press('Tab')
  }
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { name: 'Team and API keys' }).waitFor()
  t.match(page.url(), /\/app\/team$/, 'the keyboard reached the team page')
  await page.locator('[data-panel="api-keys"]:not([data-state="loading"])').waitFor()

  // 8. API keys: create (shown once, works), revoke (refused at once).
  await page.getByLabel('Label').fill('storefront')
  await page.getByLabel('Label').press('Enter')
  await page.locator('[data-new-key]').waitFor()
  const newKey = await page.locator('#new-key').inputValue()
  t.match(newKey, /^xeno_[A-Za-z0-9_-]{43}$/, 'the new key is shown')
  const me = await h.app.inject({
    method: 'GET',
    url: '/api/tenant/me',
    headers: { 'x-api-key': newKey },
  })
  t.equal(me.statusCode, 200, 'the new key authenticates')
  await screenshot(page, 'team')
  await a11y('team')
  await page.getByRole('button', { name: 'Done' }).click()
  t.equal(await page.locator('#new-key').count(), 0, 'the key is not shown again')
  const row = page.locator('tr', { hasText: 'storefront' })
  await row.getByRole('button', { name: /Revoke key/ }).click()
  await row.getByRole('button', { name: 'Revoke now' }).click()
  await page.locator('tr[data-revoked="true"]', { hasText: 'storefront' }).waitFor()
  const after = await h.app.inject({
    method: 'GET',
    url: '/api/tenant/me',
    headers: { 'x-api-key': newKey },
  })
  t.equal(after.statusCode, 401, 'the revoked key is refused')

  // 9. Admin: a failed receipt in the inbox, replayed from the console, processed by the worker.
  const sample = readFileSync(
    new URL(
      '../../../packages/shopify-reference/webhooks/2026-07/customers__update.json',
      import.meta.url,
    ),
    'utf8',
  )
  // A customer the shop has: the worker applies what the shop's Admin API returns for the id
  // the delivery names (an id the shop does not know is skipped, not processed).
  const [customer] = await h.ownerQuery<{ id: string }>(
    `SELECT id::text FROM customers WHERE tenant_id = $1 ORDER BY id LIMIT 1`,
    [tenant.id],
  )
  const payload = sample.replaceAll('706405506930370084', customer!.id)
  const [receipt] = await h.ownerQuery<{ id: string }>(
    `INSERT INTO webhook_receipts (tenant_id, webhook_id, topic, payload, status, attempts, last_error)
     VALUES ($1, 'web-test-failed-1', 'customers/update', $2::json, 'failed', 5, 'connection terminated unexpectedly')
     RETURNING id`,
    [tenant.id, payload],
  )
  const admin = await h.admin('console-admin', 'console-admin-password')
  const adminPage = await context.newPage()
  await adminPage.goto(`${base}/app/admin/login`)
  await adminPage.getByLabel('Username').fill(admin.username)
  await adminPage.getByLabel('Password').fill(admin.password)
  await adminPage.getByRole('button', { name: 'Sign in' }).click()
  await adminPage.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor()
  await adminPage.locator(`tr[data-tenant-id="${tenant.id}"]`).waitFor()
  await adminPage.getByRole('button', { name: `Sync state of ${d.domain}` }).click()
  await adminPage.locator('[data-panel="sync"][data-state="ready"]').waitFor()
  await adminPage.getByLabel('Shop', { exact: true }).fill('new-merchant')
  t.equal(
    await adminPage.locator('[data-install-link]').getAttribute('href'),
    `${base}/api/shopify/install?shop=new-merchant`,
    'install link for a shop',
  )
  await screenshot(adminPage, 'admin-tenants')
  const adminA11y = async (name: string) => {
    const v = await axeViolations(adminPage)
    t.same(
      v.filter((x) => x.impact === 'serious' || x.impact === 'critical'),
      [],
      `${name}: no serious or critical accessibility violation`,
    )
    t.same(
      await adminPage.evaluate(() => (window as unknown as { __csp: string[] }).__csp),
      [],
      `${name}: CSP kept`,
    )
  }
  await adminA11y('admin tenants')
  t.equal(
    await adminPage.getByRole('link', { name: 'Queues (Bull Board)' }).getAttribute('href'),
    '/admin/queues',
  )

  await adminPage.getByRole('link', { name: 'Webhooks' }).click()
  const rowR = adminPage.locator(`tr[data-receipt-id="${receipt!.id}"]`)
  await rowR.waitFor()
  t.equal(await rowR.getAttribute('data-status'), 'failed')
  t.match(await rowR.innerText(), /connection terminated/)
  await screenshot(adminPage, 'admin-webhooks')
  await adminA11y('admin webhooks')
  await rowR.getByRole('button', { name: /Replay/ }).click()
  await adminPage
    .locator(`tr[data-receipt-id="${receipt!.id}"][data-status="processed"]`)
    .waitFor({ timeout: 60_000 })
  const [stored] = await h.ownerQuery<{ status: string }>(
    `SELECT status FROM webhook_receipts WHERE id = $1`,
    [receipt!.id],
  )
  t.equal(stored!.status, 'processed', 'the worker applied the replayed receipt')
  await screenshot(adminPage, 'admin-webhooks-replayed')

  await adminPage.getByRole('link', { name: 'OAuth' }).click()
  await adminPage.locator('[data-panel="oauth-checks"][data-state="ready"]').waitFor()
  t.ok((await adminPage.locator('[data-check]').count()) > 0, 'the OAuth checks are listed')
  await screenshot(adminPage, 'admin-oauth')
  await adminA11y('admin oauth')

  t.same(pageErrors, [], 'no uncaught error in the page')
})
