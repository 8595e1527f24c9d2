import http from 'node:http'
import type { AddressInfo } from 'node:net'
import '@shopify/shopify-api/adapters/node'
import { shopifyApi } from '@shopify/shopify-api'
import type { ApiVersion } from '@shopify/shopify-api'
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime'
import t from 'tap'
import { createFakeShopify } from '../src/index.ts'

const BROWSER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36'

t.test(
  '@shopify/shopify-api accepts the fake webhooks and OAuth callbacks as they are',
  async (t) => {
    const app = { clientId: 'lib-client', clientSecret: 'lib-secret-123' }
    const fake = await createFakeShopify({ apps: [app] })
    t.teardown(() => fake.close())
    const shop = fake.createShop({ domain: 'libshop', orders: 20, customers: 5, products: 3 })
    const realFetch = globalThis.fetch
    // FACTS §6.4 A: the library's fetch goes to the fake, the shop travels in x-fake-shop.
    setAbstractFetchFunc(async (input, init) => {
      const u = new URL(
        typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
      )
      const h = new Headers(init?.headers)
      h.set('x-fake-shop', u.host)
      return realFetch(`${fake.origin}${u.pathname}${u.search}`, { ...init, headers: h })
    })
    t.teardown(() => setAbstractFetchFunc(realFetch))
    const shopify = shopifyApi({
      apiKey: app.clientId,
      apiSecretKey: app.clientSecret,
      scopes: ['read_orders', 'read_customers', 'read_products'],
      hostName: 'app.example.com',
      hostScheme: 'https',
      apiVersion: '2026-10' as ApiVersion,
      isEmbeddedApp: false,
      logger: { level: 0 },
    })

    const validations: unknown[] = []
    const sessions: unknown[] = []
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      if (url.pathname === '/auth') {
        void shopify.auth.begin({
          shop: shopify.utils.sanitizeShop(url.searchParams.get('shop') ?? '', true)!,
          callbackPath: '/auth/callback',
          isOnline: false,
          rawRequest: req,
          rawResponse: res,
        })
        return
      }
      if (url.pathname === '/auth/callback') {
        shopify.auth.callback({ rawRequest: req, rawResponse: res, expiring: true }).then(
          ({ session }) => {
            sessions.push(session)
            res.end('ok')
          },
          (e: Error) => {
            sessions.push(e)
            res.statusCode = 400
            res.end(e.message)
          },
        )
        return
      }
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        void shopify.webhooks
          .validate({
            rawBody: Buffer.concat(chunks).toString('utf8'),
            rawRequest: req,
            rawResponse: res,
          })
          .then((v) => {
            validations.push(v)
            res.statusCode = v.valid ? 200 : 401
            res.end()
          })
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    t.teardown(() => new Promise<void>((r) => server.close(() => r())))
    const appOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

    // OAuth: begin → authorize at the fake → callback → token exchange at the fake.
    const begin = await realFetch(`${appOrigin}/auth?shop=${shop.domain}`, {
      headers: { 'user-agent': BROWSER_UA },
      redirect: 'manual',
    })
    t.equal(begin.status, 302)
    const cookies = begin.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    const authorize = new URL(begin.headers.get('location')!)
    t.equal(authorize.host, shop.domain)
    const approved = await realFetch(`${fake.origin}${authorize.pathname}${authorize.search}`, {
      headers: { 'x-fake-shop': authorize.host, 'user-agent': BROWSER_UA },
      redirect: 'manual',
    })
    t.equal(approved.status, 302)
    const callback = new URL(approved.headers.get('location')!)
    t.equal(callback.origin + callback.pathname, 'https://app.example.com/auth/callback')
    t.same([...callback.searchParams.keys()].sort(), [
      'code',
      'hmac',
      'host',
      'shop',
      'state',
      'timestamp',
    ])
    const cb = await realFetch(`${appOrigin}/auth/callback${callback.search}`, {
      headers: { 'user-agent': BROWSER_UA, cookie: cookies },
    })
    t.equal(cb.status, 200, await cb.clone().text())
    const session = sessions[0] as {
      id: string
      shop: string
      accessToken: string
      refreshToken?: string
      expires?: Date
    }
    t.equal(session.id, `offline_${shop.domain}`)
    t.match(session.accessToken, /^shpat_/)
    t.match(session.refreshToken, /^shprt_/)
    t.ok(session.expires instanceof Date)

    // A tampered HMAC is refused by the library.
    const tampered = new URL(callback)
    tampered.searchParams.set('state', 'x' + (tampered.searchParams.get('state') ?? ''))
    const bad = await realFetch(`${appOrigin}/auth/callback${tampered.search}`, {
      headers: { 'user-agent': BROWSER_UA, cookie: cookies },
    })
    t.equal(bad.status, 400)

    // The library's GraphQL client works against the fake with the new session.
    const client = new shopify.clients.Graphql({ session: session as never })
    const res = await client.request('{ shop { myshopifyDomain } }')
    t.equal((res.data as { shop: { myshopifyDomain: string } }).shop.myshopifyDomain, shop.domain)

    // Webhooks: subscribe through the library's client, trigger changes through the control API.
    const sub = await client.request(
      'mutation($u: String!) { a: webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: { uri: $u }) { userErrors { message } } b: webhookSubscriptionCreate(topic: CUSTOMERS_UPDATE, webhookSubscription: { uri: $u }) { userErrors { message } } }',
      { variables: { u: `${appOrigin}/webhooks` } },
    )
    t.same(sub.data.a.userErrors, [])
    const store = fake.shop(shop.domain)
    store.createOrder({})
    const c = store.data().customers[0]!
    store.updateCustomer(c.id, { firstName: 'Émilie' })
    const end = Date.now() + 3000
    while (validations.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
    t.equal(validations.length, 2)
    for (const v of validations)
      t.match(v, { valid: true, domain: shop.domain, apiVersion: '2026-10' })
    t.same((validations as { topic: string }[]).map((v) => v.topic).sort(), [
      'CUSTOMERS_UPDATE',
      'ORDERS_CREATE',
    ])
  },
)
