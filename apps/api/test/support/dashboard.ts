// What the dashboard's browser tests and benchmark run against: the API (every feature, the
// dashboard under /app/) listening on a port, a worker process on the sync and webhooks queues,
// the fake Shopify with a seeded store, a tenant connected to it (token stored encrypted, as an
// install leaves it) with an owner, and Debian's Chromium driven by playwright-core.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { chromium, type Browser, type Page } from 'playwright-core'
import {
  createAnalyticsService,
  createEventsService,
  createInstallRepository,
  createInstallService,
  createShopAccessService,
  createTokenCipher,
  createWebhookApi,
} from '@xeno/core'
import { TEST_RUNTIME_ROLE, TEST_SYSTEM_ROLE } from '@xeno/db/testing'
import { createLogger } from '@xeno/logger'
import { createFakeShopify } from '@xeno/shopify-fake'
import { buildTestApp, WEB_DIST } from './app.ts'
import { testEnv } from './env.ts'
import { startProcess, type Spawned } from './process.ts'

// In-page callbacks (page.evaluate) run in the browser; this Node program has no DOM types (a
// `lib: dom` reference would change every other file's globals).
declare const document: any
declare const window: any

const WORKER = fileURLToPath(new URL('../../../worker/src/main.ts', import.meta.url))
const WEB = fileURLToPath(new URL('../../../web', import.meta.url))
/** Screenshots of every page go here (not committed; the README's are copied to docs/). */
export const SHOTS = fileURLToPath(new URL('../../../../.tmp/dashboard/', import.meta.url))

/** Builds apps/web once when dist/ is missing (CI builds it before the tests). */
export function ensureWebBuilt() {
  if (existsSync(`${WEB_DIST}/index.html`)) return
  const r = spawnSync(
    process.execPath,
    [`${WEB}/node_modules/vite/bin/vite.js`, 'build', '--logLevel', 'warn'],
    {
      cwd: WEB,
      // The production bundle (tap runs tests with NODE_ENV=test, which Vite would keep).
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: 'inherit',
    },
  )
  if (r.status !== 0) throw new Error('the dashboard build failed')
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

export async function launchBrowser(t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  })
  t.teardown(() => browser.close())
  return browser
}

export type DashboardOptions = {
  orders?: number
  customers?: number
  products?: number
  /** Shortest run of a fake bulk operation, so a backfill's progress can be watched. */
  bulkMinDurationMs?: number
  /** Pace of the fake's bulk results (objects a second), so the progress moves. */
  bulkObjectsPerSecond?: number
  /** Start the worker (default true). */
  worker?: boolean
}

export async function dashboardHarness(t: Test, o: DashboardOptions = {}) {
  ensureWebBuilt()
  const fake = await createFakeShopify({
    bulkMinDurationMs: o.bulkMinDurationMs ?? 0,
    bulkObjectsPerSecond: o.bulkObjectsPerSecond,
  })
  t.teardown(() => fake.close())
  const prefixName = `xeno-web-${randomBytes(4).toString('hex')}`
  const logger = createLogger({ level: 'silent' })
  const secret = 'dashboard-test-secret'
  const h = await buildTestApp(t, {
    cookieSecure: false,
    queuePrefix: `{${prefixName}}`,
    deps: ({ db, producer }) => ({
      analytics: createAnalyticsService({ db }),
      events: createEventsService({ db }),
      webhooks: createWebhookApi({ db, producer, secrets: [secret], logger }),
      shopify: {
        install: createInstallService({
          repo: createInstallRepository(db),
          config: {
            clientId: 'dashboard-client',
            secrets: [secret],
            scopes: 'read_orders',
            redirectUri: 'http://127.0.0.1:3000/api/shopify/callback',
            appUrl: 'http://127.0.0.1:3000',
          },
          exchangeCode: () => Promise.reject(new Error('no install in this suite')),
          storeGrant: () => Promise.reject(new Error('unused')),
          shopClient: () => ({ request: () => Promise.reject(new Error('unused')) }),
          startSync: () => Promise.resolve(),
          logger,
        }),
        oauthConfig: {
          clientId: 'dashboard-client',
          clientSecretSet: true,
          scopes: 'read_orders,read_all_orders,read_customers,read_products',
          redirectUri: 'http://127.0.0.1:3000/api/shopify/callback',
          appUrl: 'http://127.0.0.1:3000',
          apiVersion: '2026-10',
          adminOrigin: fake.origin,
        },
      },
    }),
  })

  const domain = `web${randomBytes(3).toString('hex')}.myshopify.com`
  const shop = fake.createShop({
    domain,
    seed: 7,
    orders: o.orders ?? 400,
    customers: o.customers ?? 80,
    products: o.products ?? 20,
  })
  const tenant = await h.tenant(domain)
  const owner = await h.user(tenant.id, { role: 'owner', username: 'demo' })
  await h.ownerQuery(`UPDATE tenants SET status = 'active' WHERE id = $1`, [tenant.id])
  const keyHex = randomBytes(32).toString('hex')
  await createShopAccessService({
    db: h.db,
    cipher: createTokenCipher({ current: Buffer.from(keyHex, 'hex') }),
    refresh: () => Promise.reject(new Error('not used')),
  }).storeGrant(tenant.id, {
    accessToken: shop.accessToken,
    scope: shop.scope,
    expiresAt: null,
    refreshToken: null,
    refreshExpiresAt: null,
  })

  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`

  const runtimeUrl = new URL(h.ownerUrl)
  runtimeUrl.username = TEST_RUNTIME_ROLE
  runtimeUrl.password = TEST_RUNTIME_ROLE
  const systemUrl = new URL(h.ownerUrl)
  systemUrl.username = TEST_SYSTEM_ROLE
  systemUrl.password = TEST_SYSTEM_ROLE
  let worker: Spawned | undefined
  const startWorker = () => {
    worker = startProcess(
      WORKER,
      testEnv({
        DATABASE_URL: runtimeUrl.toString(),
        DATABASE_SYSTEM_URL: systemUrl.toString(),
        QUEUE_PREFIX: prefixName,
        TOKEN_ENCRYPTION_KEY: keyHex,
        SHOPIFY_CLIENT_ID: 'dashboard-client',
        SHOPIFY_CLIENT_SECRET: secret,
        SHOPIFY_ADMIN_ORIGIN: fake.origin,
        SYNC_INTERVAL_MINUTES: '60',
        LOG_LEVEL: 'warn',
      }),
      ['--queues', 'sync,webhooks', '--concurrency', '4'],
    )
  }
  if (o.worker !== false) startWorker()
  t.teardown(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGTERM')
      await worker.exited
    }
  })

  /** GET as the owner (HTTP Basic), the same API the page reads. */
  const api = async <T>(path: string): Promise<T> => {
    const res = await h.app.inject({ method: 'GET', url: path, headers: owner.basic })
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${res.body}`)
    return res.json<{ data: T }>().data
  }

  /** Waits until every resource has succeeded once (the backfill is over). */
  const waitSynced = async (timeoutMs = 180_000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const rows = await api<{ state: string; last_success_at: string | null }[]>(
        `/api/tenants/${tenant.id}/sync-status`,
      )
      if (rows.length && rows.every((r) => r.state === 'idle' && r.last_success_at)) return
      if (Date.now() > deadline)
        throw new Error(`backfill did not finish: ${JSON.stringify(rows)}\n${worker?.output()}`)
      await new Promise((r) => setTimeout(r, 250))
    }
  }

  return { h, fake, domain, tenant, owner, base, api, waitSynced, worker: () => worker }
}

/** Signs in on the merchant login page and waits for the overview. */
export async function merchantLogin(
  page: Page,
  base: string,
  u: { shop: string; username: string; password: string },
) {
  await page.goto(`${base}/app/login`)
  await page.getByLabel('Shop').fill(u.shop)
  await page.getByLabel('Username').fill(u.username)
  await page.getByLabel('Password').fill(u.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(/\/app\/overview\?/)
}

const AXE = readFileSync(fileURLToPath(import.meta.resolve('axe-core/axe.min.js')), 'utf8')

/** axe-core in the page (evaluated through DevTools, so the page's CSP stays as it is). */
export async function axeViolations(page: Page) {
  await page.evaluate(`${AXE}\n;0`)
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<any> } })
      .axe
    const r = await axe.run(document, { resultTypes: ['violations'] })
    return (
      r.violations as {
        id: string
        impact: string | null
        help: string
        nodes: { target: string[] }[]
      }[]
    ).map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }))
  })
}

/** Saves a screenshot (the full page, or the viewport) under .tmp/dashboard/. */
export async function screenshot(page: Page, name: string, fullPage = true) {
  mkdirSync(SHOTS, { recursive: true })
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage })
}

/** Records CSP violations of every page of the context (an init script, not page code). */
export const CSP_RECORDER = () => {
  const w = window as unknown as { __csp: string[] }
  w.__csp = []
  document.addEventListener('securitypolicyviolation', (e: any) => {
    w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`)
  })
}
