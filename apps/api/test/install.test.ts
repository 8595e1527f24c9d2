import t from 'tap'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Queue } from 'bullmq'
import { createFakeShopify } from '@xeno/shopify-fake'
import { createLogger } from '@xeno/logger'
import { createProducer, createRedis } from '@xeno/queues'
import { testQueuePrefix, testRedisUrl } from '@xeno/queues/testing'
import {
  createInstallRepository,
  createInstallService,
  createShopAccessService,
  createSyncScheduler,
  createTokenCipher,
  type InstallConfig,
} from '@xeno/core'
import {
  WEBHOOK_SUBSCRIPTIONS,
  createAdminFetch,
  createShopifyAdmin,
  exchangeAuthorizationCode,
  oauthQueryHmac,
} from '@xeno/shopify'
import type { Database } from '@xeno/db'
import { buildTestApp } from './support/app.ts'

const BROWSER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36'
const CLIENT_ID = 'install-test-client'
const SECRET = 'install-test-secret'

t.test('OAuth install against the fake Shopify over real HTTP', async (t) => {
  const fake = await createFakeShopify({ apps: [{ clientId: CLIENT_ID, clientSecret: SECRET }] })
  t.teardown(() => fake.close())
  const shop = fake.createShop({
    domain: 'install-test',
    name: 'Install Test',
    orders: 20,
    customers: 8,
    products: 4,
    timezone: 'Asia/Kolkata',
    currency: 'INR',
  })

  const prefix = testQueuePrefix()
  const redis = createRedis(testRedisUrl(), 'producer', () => {})
  const producer = createProducer({ connection: redis, prefix })
  t.teardown(async () => {
    await producer.close()
    redis.disconnect()
  })
  const cipher = createTokenCipher({ current: randomBytes(32) })
  const admin = createShopifyAdmin({
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    adminOrigin: fake.origin,
    maxAttempts: 2,
  })
  const config: InstallConfig = {
    clientId: CLIENT_ID,
    secrets: [SECRET],
    scopes: 'read_orders,read_all_orders,read_customers,read_products',
    redirectUri: '', // set once the API listens
    appUrl: '',
  }
  const h = await buildTestApp(t, {
    deps: ({ db }: { db: Database }) => {
      const scheduler = createSyncScheduler({ producer })
      const access = createShopAccessService({ db, cipher, refresh: admin.refreshAccessToken })
      return {
        shopify: {
          install: createInstallService({
            repo: createInstallRepository(db),
            config,
            exchangeCode: (s, code) =>
              exchangeAuthorizationCode({
                shop: s,
                code,
                clientId: CLIENT_ID,
                clientSecret: SECRET,
                fetch: createAdminFetch(fake.origin),
              }),
            storeGrant: (tenantId, grant) => access.storeGrant(tenantId, grant),
            shopClient: (s, token) => admin.forShop(s, token),
            startSync: async (tenantId) => {
              await scheduler.ensure(tenantId)
              await scheduler.enqueueTenant(tenantId, 'full')
            },
            logger: createLogger({ level: 'silent' }),
          }),
          oauthConfig: {
            clientId: CLIENT_ID,
            clientSecretSet: true,
            scopes: config.scopes,
            redirectUri: '',
            appUrl: '',
            apiVersion: '2026-10',
            adminOrigin: fake.origin,
          },
        },
      }
    },
  })
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const origin = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`
  config.redirectUri = `${origin}/api/shopify/callback`
  config.appUrl = origin

  const get = (url: string, headers: Record<string, string> = {}) =>
    fetch(url, { redirect: 'manual', headers: { 'user-agent': BROWSER_UA, ...headers } })

  /** Follows the install like a browser; returns the callback URL Shopify sent us to. */
  async function authorize(): Promise<string> {
    const begin = await get(`${origin}/api/shopify/install?shop=Install-Test`)
    t.equal(begin.status, 302, 'install redirects to Shopify')
    const authorizeUrl = new URL(begin.headers.get('location')!)
    t.equal(authorizeUrl.host, shop.domain)
    t.equal(authorizeUrl.pathname, '/admin/oauth/authorize')
    t.equal(authorizeUrl.searchParams.get('client_id'), CLIENT_ID)
    // The browser goes to https://{shop}/admin/oauth/authorize; here that host is the fake.
    const approve = await get(`${fake.origin}${authorizeUrl.pathname}${authorizeUrl.search}`, {
      'x-fake-shop': authorizeUrl.host,
    })
    t.equal(approve.status, 302, 'the merchant approves')
    const callback = approve.headers.get('location')!
    t.ok(callback.startsWith(config.redirectUri), 'back to our callback')
    return callback
  }

  const callback = await authorize()
  const done = await get(callback)
  t.equal(done.status, 302, await done.clone().text())
  t.match(
    done.headers.get('location'),
    /^\/api\/shopify\/installed\?shop=install-test\.myshopify\.com$/,
  )
  const page = await get(`${origin}${done.headers.get('location')}`)
  t.equal(page.status, 200)
  t.match(await page.text(), /Xeno is connected/)

  const [tenant] = await h.ownerQuery<{
    id: string
    status: string
    iana_timezone: string
    currency: string
    shop_name: string
    granted_scopes: string[]
    shopify_shop_id: string
  }>(
    `SELECT id, status, iana_timezone, currency, shop_name, granted_scopes, shopify_shop_id FROM tenants WHERE shop_domain = 'install-test.myshopify.com'`,
  )
  t.match(tenant, {
    // The shop id its compliance and app/uninstalled webhooks must name.
    shopify_shop_id: String(shop.shopId),
    status: 'active',
    iana_timezone: 'Asia/Kolkata',
    currency: 'INR',
    shop_name: 'Install Test',
  })
  t.ok(tenant!.granted_scopes.includes('read_all_orders'))

  // Token encrypted at rest, expiring, with a refresh token.
  const [cred] = await h.ownerQuery<{
    access_token_enc: string
    refresh_token_enc: string
    expires_at: Date
    source: string
  }>(
    'SELECT access_token_enc, refresh_token_enc, expires_at, source FROM shopify_credentials WHERE tenant_id = $1',
    [tenant!.id],
  )
  t.equal(cred?.source, 'oauth')
  const token = cipher.decrypt(cred!.access_token_enc, tenant!.id)
  t.match(token, /^shpat_/)
  t.notMatch(cred!.access_token_enc, token, 'no plaintext token in the row')
  t.match(cipher.decrypt(cred!.refresh_token_enc, tenant!.id), /^shprt_/)
  t.ok(cred!.expires_at.getTime() > Date.now() + 50 * 60_000, 'about an hour of validity')

  // Webhooks registered at our URL.
  type Subs = { webhookSubscriptions: { nodes: { topic: string; uri: string }[] } }
  const subs = async () =>
    (await admin.forShop(shop.domain, token).request<Subs>(WEBHOOK_SUBSCRIPTIONS, { after: null }))
      .webhookSubscriptions.nodes
  const first = await subs()
  t.equal(first.length, 14, 'every data topic')
  t.ok(
    first.some(
      (s) => s.topic === 'ORDERS_CREATE' && s.uri === `${origin}/api/webhooks/orders/create`,
    ),
  )

  // Backfill enqueued (full mode for every resource) and schedules created.
  const q = new Queue('sync', { connection: redis, prefix })
  t.teardown(() => q.close())
  const jobs = await q.getJobs(['waiting', 'delayed', 'prioritized'])
  const full = jobs.filter(
    (j) => j.name === 'sync-resource' && j.data.tenantId === tenant!.id && j.data.mode === 'full',
  )
  t.same(full.map((j) => j.data.resource).sort(), ['customers', 'orders', 'products', 'shop'])
  t.equal((await q.getJobSchedulers()).length, 2, 'incremental and reconciliation schedules')

  // The same callback again: the state was single-use.
  const replay = await get(callback)
  t.equal(replay.status, 401, 'state is single-use')
  t.equal(((await replay.json()) as { error: { code: string } }).error.code, 'INVALID_OAUTH_STATE')

  // Reinstall: same tenant, no duplicate subscriptions.
  const again = await get(await authorize())
  t.equal(again.status, 302)
  const tenants = await h.ownerQuery('SELECT id FROM tenants')
  t.equal(tenants.length, 1, 'reactivated, not duplicated')
  t.equal((await subs()).length, 14, 'subscriptions registered idempotently')

  // Tampered callbacks, each rejected before any token exchange.
  const signed = (q: Record<string, string>) => ({ ...q, hmac: oauthQueryHmac(q, SECRET) })
  const fresh = new URL(await authorize())
  const params = Object.fromEntries(fresh.searchParams) as Record<string, string>
  const tampered: [string, Record<string, string>, number][] = [
    [
      'altered hmac',
      { ...params, hmac: params.hmac!.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) },
      401,
    ],
    ['altered shop', { ...params, shop: 'other-shop.myshopify.com' }, 401],
    [
      'stale timestamp',
      signed({
        ...Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'hmac')),
        timestamp: String(Math.floor(Date.now() / 1000) - 91),
      }),
      401,
    ],
    [
      'state for another shop',
      signed({
        ...Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'hmac')),
        shop: 'other-shop.myshopify.com',
      }),
      401,
    ],
    [
      'unknown state',
      signed({
        ...Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'hmac')),
        state: 'f'.repeat(64),
      }),
      401,
    ],
    ['missing code', Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'code')), 400],
  ]
  for (const [name, q, status] of tampered) {
    const res = await get(`${config.redirectUri}?${new URLSearchParams(q).toString()}`)
    t.equal(res.status, status, name)
  }
  // Within the tolerance (89 s) a correctly signed callback still works.
  const ok = signed({
    ...Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'hmac')),
    timestamp: String(Math.floor(Date.now() / 1000) - 89),
  })
  const accepted = await get(`${config.redirectUri}?${new URLSearchParams(ok).toString()}`)
  t.equal(accepted.status, 302, '89 s old is accepted')

  // Bad shop input at install.
  const bad = await get(`${origin}/api/shopify/install?shop=evil.com`)
  t.equal(bad.status, 400)
})

t.test(
  'GET /api/debug/oauth-config: admin only, secrets redacted, misconfiguration flagged',
  async (t) => {
    const h = await buildTestApp(t, {
      deps: ({ db }) => ({
        shopify: {
          install: createInstallService({
            repo: createInstallRepository(db),
            config: {
              clientId: CLIENT_ID,
              secrets: [SECRET],
              scopes: 'read_orders',
              redirectUri: 'http://wrong-host.example/cb',
              appUrl: 'https://xeno.example',
            },
            exchangeCode: () => Promise.reject(new Error('unused')),
            storeGrant: () => Promise.reject(new Error('unused')),
            shopClient: () => ({ request: () => Promise.reject(new Error('unused')) }),
            startSync: () => Promise.resolve(),
            logger: createLogger({ level: 'silent' }),
          }),
          oauthConfig: {
            clientId: CLIENT_ID,
            clientSecretSet: true,
            scopes: 'read_orders',
            redirectUri: 'http://wrong-host.example/cb',
            appUrl: 'https://xeno.example',
            apiVersion: '2026-10',
            adminOrigin: null,
          },
        },
      }),
    })
    const anon = await h.app.inject({ method: 'GET', url: '/api/debug/oauth-config' })
    t.equal(anon.statusCode, 401)
    const tenant = await h.tenant()
    const owner = await h.user(tenant.id, { role: 'owner' })
    const asTenant = await h.app.inject({
      method: 'GET',
      url: '/api/debug/oauth-config',
      headers: owner.basic,
    })
    t.ok(asTenant.statusCode === 401 || asTenant.statusCode === 403, 'tenant users are refused')
    const admin = await h.admin()
    const res = await h.app.inject({
      method: 'GET',
      url: '/api/debug/oauth-config',
      headers: admin.headers,
    })
    t.equal(res.statusCode, 200)
    t.notMatch(res.body, SECRET, 'the client secret never appears')
    const body = res.json<{
      data: { config: { client_secret: string }; checks: { check: string; ok: boolean }[] }
    }>()
    t.equal(body.data.config.client_secret, '[redacted]')
    const failed = body.data.checks.filter((c) => !c.ok).map((c) => c.check)
    t.ok(
      failed.some((c) => c.includes('host matches APP_URL')),
      'redirect host mismatch flagged',
    )
    t.ok(
      failed.some((c) => c.includes('/api/shopify/callback')),
      'wrong callback path flagged',
    )
    t.ok(
      failed.some((c) => c.includes('scopes cover')),
      'missing scopes flagged',
    )
    t.ok(
      failed.some((c) => c.includes('read_all_orders')),
      'missing read_all_orders flagged',
    )
  },
)
