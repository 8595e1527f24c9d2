// Structured logs: every request log line carries the request id, the id travels into the jobs a
// request enqueues, and no secret reaches the log output. Canary secrets go through every path
// that carries one (login passwords, HTTP Basic, API keys, Shopify tokens, OAuth code/hmac in a
// callback URL, webhook HMAC headers, cookies), at trace level; then the output is grepped.
import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '@xeno/logger'
import {
  createComplianceRepository,
  createTenantRepository,
  createWebhookIntakeService,
  createWebhookReceiptRepository,
  createWebhookSweeper,
  createInstallRepository,
  createInstallService,
} from '@xeno/core'
import { buildTestApp, cookieFrom, SAME_ORIGIN } from './support/app.ts'
import { ADMIN_COOKIE, TENANT_COOKIE } from '../src/plugins/auth.ts'

const CANARY = {
  adminPassword: 'canary-admin-password-7d1f',
  userPassword: 'canary-user-password-93ab',
  basicPassword: 'canary-basic-password-51c0',
  apiKey: 'xeno_canaryapikey0000000000000000000000000000000',
  shopToken: 'shpat_canary_shop_token_4e2a',
  oauthCode: 'canary-oauth-code-8f3b',
  oauthHmac: 'c4a7a7c4a7a7c4a7a7c4a7a7c4a7a7c4a7a7c4a7a7c4a7a7c4a7a7c4a7a7c4a7',
  webhookHmac: 'Y2FuYXJ5LXdlYmhvb2staG1hYw==',
  cookie: 'canaryCookieValue0000000000000000000000000AB',
  bootstrapToken: 'canary-bootstrap-token-0c9e',
}

t.test('request ids on every request log, into jobs; no secret in any log line', async (t) => {
  let output = ''
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      output += chunk.toString()
      cb()
    },
  })
  const logger = createLogger({ level: 'trace', destination })
  const h = await buildTestApp(t, {
    bootstrapToken: CANARY.bootstrapToken,
    deps: ({ db, producer }) => {
      const receipts = createWebhookReceiptRepository(db)
      const tenants = createTenantRepository(db)
      return {
        logger,
        webhooks: {
          intake: createWebhookIntakeService({
            receipts,
            producer,
            secrets: ['logs-test-secret'],
            findTenantByShop: (shop) => tenants.findTenantByShopDomain(shop),
            logger,
          }),
          sweeper: createWebhookSweeper({ receipts, producer, logger }),
          compliance: createComplianceRepository(db),
        },
        shopify: {
          install: createInstallService({
            repo: createInstallRepository(db),
            config: {
              clientId: 'logs-client',
              secrets: ['logs-test-secret'],
              scopes: 'read_orders',
              redirectUri: 'http://127.0.0.1:3000/api/shopify/callback',
              appUrl: 'http://127.0.0.1:3000',
            },
            exchangeCode: () => Promise.reject(new Error('no exchange here')),
            storeGrant: () => Promise.reject(new Error('unused')),
            shopClient: () => ({ request: () => Promise.reject(new Error('unused')) }),
            startSync: () => Promise.resolve(),
            logger,
          }),
          oauthConfig: {
            clientId: 'logs-client',
            clientSecretSet: true,
            scopes: 'read_orders',
            redirectUri: 'http://127.0.0.1:3000/api/shopify/callback',
            appUrl: 'http://127.0.0.1:3000',
            apiVersion: '2026-10',
            adminOrigin: null,
          },
        },
      }
    },
  })
  const inject = h.app.inject.bind(h.app)

  // Admin: bootstrap (token + password), login (right and wrong password).
  const boot = await inject({
    method: 'POST',
    url: '/api/admin/bootstrap',
    headers: { 'x-bootstrap-token': CANARY.bootstrapToken },
    payload: { username: 'root', password: CANARY.adminPassword, token: CANARY.bootstrapToken },
  })
  t.ok(boot.statusCode < 500, `bootstrap answered ${boot.statusCode}`)
  await h.services.admins.createAdmin('ops', CANARY.adminPassword).catch(() => {})
  const login = await inject({
    method: 'POST',
    url: '/api/admin/login',
    payload: { username: 'ops', password: CANARY.adminPassword },
  })
  t.equal(login.statusCode, 200)
  const adminToken = cookieFrom(login, ADMIN_COOKIE)!
  await inject({
    method: 'POST',
    url: '/api/admin/login',
    payload: { username: 'ops', password: `${CANARY.adminPassword}-wrong` },
  })
  const adminHeaders = { cookie: `${ADMIN_COOKIE}=${adminToken}`, ...SAME_ORIGIN }

  // Tenant users: login, Basic (right and wrong), sessions, set-token, API keys.
  const tenant = await h.tenant('canary-store')
  const user = await h.user(tenant.id, { role: 'owner', password: CANARY.userPassword })
  const userLogin = await inject({
    method: 'POST',
    url: '/api/tenant/login',
    payload: { shop: tenant.shopDomain, username: user.username, password: CANARY.userPassword },
  })
  t.equal(userLogin.statusCode, 200)
  const sessionToken = cookieFrom(userLogin, TENANT_COOKIE)!
  const basic = (password: string) => ({
    authorization: `Basic ${Buffer.from(`${user.username}:${password}`).toString('base64')}`,
  })
  await inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}`,
    headers: basic(CANARY.userPassword),
  })
  await inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}`,
    headers: basic(CANARY.basicPassword),
  })
  await inject({
    method: 'POST',
    url: '/api/tenant/set-token',
    headers: { cookie: `${TENANT_COOKIE}=${sessionToken}`, ...SAME_ORIGIN },
    payload: { access_token: CANARY.shopToken },
  })
  const created = await inject({
    method: 'POST',
    url: `/api/tenants/${tenant.id}/api-keys`,
    headers: adminHeaders,
    payload: { label: 'canary' },
  })
  t.equal(created.statusCode, 201)
  const realKey = created.json<{ data: { key: string } }>().data.key
  await inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}`,
    headers: { 'x-api-key': realKey },
  })
  await inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}`,
    headers: { 'x-api-key': CANARY.apiKey },
  })
  await inject({
    method: 'GET',
    url: '/api/admin/me',
    headers: { cookie: `${ADMIN_COOKIE}=${CANARY.cookie}; ${TENANT_COOKIE}=${CANARY.cookie}` },
  })

  // Shopify: an OAuth callback with code and hmac in the query, a webhook with an HMAC header.
  await inject({
    method: 'GET',
    url: `/api/shopify/callback?code=${CANARY.oauthCode}&hmac=${CANARY.oauthHmac}&shop=${tenant.shopDomain}&state=${'1'.repeat(64)}&timestamp=${Math.floor(Date.now() / 1000)}`,
  })
  await inject({
    method: 'POST',
    url: '/api/webhooks/orders/create',
    headers: {
      'content-type': 'application/json',
      'x-shopify-hmac-sha256': CANARY.webhookHmac,
      'x-shopify-shop-domain': tenant.shopDomain,
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': 'canary-webhook',
    },
    payload: JSON.stringify({ id: 1 }),
  })

  // A request id chosen by the caller is kept, answered, and carried into the jobs it enqueues.
  const ingest = await inject({
    method: 'POST',
    url: `/api/tenants/${tenant.id}/ingest`,
    headers: { ...adminHeaders, 'x-request-id': 'req-canary-trace-1' },
    payload: { mode: 'full', resources: ['orders'] },
  })
  t.equal(ingest.statusCode, 202)
  t.equal(ingest.headers['x-request-id'], 'req-canary-trace-1')
  const jobId = ingest.json<{ data: { jobs: { job_id: string }[] } }>().data.jobs[0]!.job_id
  const job = await h.producer.queue('sync').getJob(jobId)
  t.equal(
    (job?.data as { requestId?: string } | undefined)?.requestId,
    'req-canary-trace-1',
    'the job payload carries the request id',
  )

  await new Promise((r) => setImmediate(r))
  const lines = output
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  const requestLines = lines.filter(
    (l) => l.msg === 'incoming request' || l.msg === 'request completed',
  )
  t.ok(requestLines.length >= 20, `${requestLines.length} request log lines`)
  t.ok(
    requestLines.every((l) => typeof l.reqId === 'string' && l.reqId !== ''),
    'every request log line has a reqId',
  )
  t.ok(
    lines.some((l) => l.reqId === 'req-canary-trace-1' && l.msg === 'request completed'),
    'the caller-chosen id is logged',
  )

  const secrets = {
    ...CANARY,
    adminSession: adminToken,
    userSession: sessionToken,
    realApiKey: realKey,
    // Base64 forms of the Basic credentials, as they travel in the header.
    basicHeader: Buffer.from(`${user.username}:${CANARY.basicPassword}`).toString('base64'),
    basicHeaderRight: Buffer.from(`${user.username}:${CANARY.userPassword}`).toString('base64'),
  }
  for (const [name, secret] of Object.entries(secrets))
    t.notOk(output.includes(secret), `${name} never appears in the logs`)
  t.ok(
    output.includes('canary-store'),
    'the log output is the one the app wrote (positive control)',
  )
})
