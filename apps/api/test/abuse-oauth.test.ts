// OAuth callback forgery and replay against the fake Shopify over real HTTP: the callback's
// timestamp is honoured to ±90 s (±89 s accepted, ±91 s refused, both directions, on a clock we
// control), a state works once, only for its shop and only before it expires, and a refused
// callback never reaches the token exchange.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createFakeShopify } from '@xeno/shopify-fake'
import { createLogger } from '@xeno/logger'
import {
  createInstallRepository,
  createInstallService,
  createShopAccessService,
  createTokenCipher,
  type InstallConfig,
} from '@xeno/core'
import {
  createAdminFetch,
  createShopifyAdmin,
  exchangeAuthorizationCode,
  oauthQueryHmac,
} from '@xeno/shopify'
import type { Database } from '@xeno/db'
import { buildTestApp } from './support/app.ts'

const BROWSER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36'
const CLIENT_ID = 'oauth-abuse-client'
const SECRET = 'oauth-abuse-secret'

t.test(
  'OAuth callbacks: timestamp window, single-use state, no exchange when refused',
  async (t) => {
    const fake = await createFakeShopify({ apps: [{ clientId: CLIENT_ID, clientSecret: SECRET }] })
    t.teardown(() => fake.close())
    fake.createShop({
      domain: 'oauth-abuse',
      name: 'OAuth Abuse',
      orders: 2,
      customers: 1,
      products: 1,
    })
    fake.createShop({
      domain: 'oauth-other',
      name: 'OAuth Other',
      orders: 2,
      customers: 1,
      products: 1,
    })

    // Our clock, frozen on a whole second so offsets are exact.
    let nowMs = Math.floor(Date.now() / 1000) * 1000
    let exchanges = 0
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
      scopes: 'read_orders,read_customers,read_products',
      redirectUri: 'http://127.0.0.1:3000/api/shopify/callback',
      appUrl: 'http://127.0.0.1:3000',
    }
    const h = await buildTestApp(t, {
      deps: ({ db }: { db: Database }) => {
        const access = createShopAccessService({ db, cipher, refresh: admin.refreshAccessToken })
        return {
          shopify: {
            install: createInstallService({
              repo: createInstallRepository(db),
              config,
              exchangeCode: (s, code) => {
                exchanges++
                return exchangeAuthorizationCode({
                  shop: s,
                  code,
                  clientId: CLIENT_ID,
                  clientSecret: SECRET,
                  fetch: createAdminFetch(fake.origin),
                })
              },
              storeGrant: (tenantId, grant) => access.storeGrant(tenantId, grant),
              shopClient: (s, token) => admin.forShop(s, token),
              startSync: () => Promise.resolve(),
              logger: createLogger({ level: 'silent' }),
              now: () => new Date(nowMs),
            }),
            oauthConfig: {
              clientId: CLIENT_ID,
              clientSecretSet: true,
              scopes: config.scopes,
              redirectUri: config.redirectUri,
              appUrl: config.appUrl,
              apiVersion: '2026-10',
              adminOrigin: fake.origin,
            },
          },
        }
      },
    })

    /** Starts an install and lets the fake approve it; returns the callback's query. */
    async function authorize(shop = 'oauth-abuse'): Promise<Record<string, string>> {
      const begin = await h.app.inject({
        method: 'GET',
        url: `/api/shopify/install?shop=${shop}`,
        headers: { 'user-agent': BROWSER_UA },
      })
      if (begin.statusCode !== 302) throw new Error(`install: ${begin.statusCode} ${begin.body}`)
      const url = new URL(String(begin.headers.location))
      const approve = await fetch(`${fake.origin}${url.pathname}${url.search}`, {
        redirect: 'manual',
        headers: { 'x-fake-shop': url.host, 'user-agent': BROWSER_UA },
      })
      return Object.fromEntries(new URL(approve.headers.get('location')!).searchParams)
    }
    /** The callback query with fields changed, signed again with the app secret as Shopify would. */
    const resigned = (q: Record<string, string>, change: Record<string, string>) => {
      const rest = Object.fromEntries(
        Object.entries({ ...q, ...change }).filter(([k]) => k !== 'hmac'),
      )
      return { ...rest, hmac: oauthQueryHmac(rest, SECRET) }
    }
    const callback = (q: Record<string, string>) =>
      h.app.inject({
        method: 'GET',
        url: `/api/shopify/callback?${new URLSearchParams(q).toString()}`,
        headers: { 'user-agent': BROWSER_UA },
      })
    const at = (offsetS: number) => String(nowMs / 1000 + offsetS)

    // ±91 s: refused before the state is used or a code exchanged.
    const q1 = await authorize()
    for (const offset of [-91, 91, -3600, 86_400]) {
      const res = await callback(resigned(q1, { timestamp: at(offset) }))
      t.equal(res.statusCode, 401, `timestamp ${offset > 0 ? '+' : ''}${offset} s is refused`)
      t.equal(res.json().error.code, 'INVALID_OAUTH_CALLBACK')
    }
    for (const bad of ['', 'NaN', '1e999', '-1', '0x10', '١٧٠٠٠٠٠٠٠٠']) {
      const res = await callback(resigned(q1, { timestamp: bad }))
      t.ok(
        [400, 401].includes(res.statusCode),
        `timestamp ${JSON.stringify(bad)}: ${res.statusCode}`,
      )
    }
    t.equal(exchanges, 0, 'no code exchanged for a refused callback')

    // −89 s with the same (still unused) state: accepted.
    const ok1 = await callback(resigned(q1, { timestamp: at(-89) }))
    t.equal(ok1.statusCode, 302, '−89 s is accepted')
    t.match(
      String(ok1.headers.location),
      /^\/api\/shopify\/installed\?shop=oauth-abuse\.myshopify\.com$/,
    )
    t.equal(exchanges, 1)

    // +89 s (Shopify's clock ahead of ours): accepted.
    const q2 = await authorize()
    const ok2 = await callback(resigned(q2, { timestamp: at(89) }))
    t.equal(ok2.statusCode, 302, '+89 s is accepted')
    t.equal(exchanges, 2)

    // Reused state: the exact callback again, and re-signed with a fresh timestamp.
    const replay = await callback(resigned(q2, { timestamp: at(89) }))
    t.equal(replay.statusCode, 401, 'the same callback twice')
    t.equal(replay.json().error.code, 'INVALID_OAUTH_STATE')
    const refreshed = await callback(resigned(q2, { timestamp: at(0) }))
    t.equal(refreshed.statusCode, 401, 'a used state stays used with a new timestamp')
    t.equal(refreshed.json().error.code, 'INVALID_OAUTH_STATE')
    // A used state with a new, valid code of the same shop.
    const q3 = await authorize()
    const swapped = await callback(resigned(q3, { state: q2.state!, timestamp: at(0) }))
    t.equal(swapped.statusCode, 401, "another install's code cannot revive a used state")
    t.equal(exchanges, 2, 'none of the replays exchanged a code')

    // A state issued for one shop cannot complete another shop's install.
    const qOther = await authorize('oauth-other')
    const crossShop = await callback(resigned(q3, { state: qOther.state!, timestamp: at(0) }))
    t.equal(crossShop.statusCode, 401, "a state of oauth-other for oauth-abuse's callback")
    t.equal(crossShop.json().error.code, 'INVALID_OAUTH_STATE')

    // An expired state (10 minutes): our clock moves on, Shopify's timestamp with it.
    nowMs += 11 * 60_000
    const expired = await callback(resigned(qOther, { timestamp: at(0) }))
    t.equal(expired.statusCode, 401, 'a state older than its lifetime')
    t.equal(expired.json().error.code, 'INVALID_OAUTH_STATE')
    t.equal(exchanges, 2, 'still only the two accepted installs exchanged codes')

    // A code Shopify rejects (expired, used, or never issued): a 4xx page saying what to do in a
    // browser, the envelope naming the field elsewhere; never a 500.
    const qBad = await authorize()
    const page = await h.app.inject({
      method: 'GET',
      url: `/api/shopify/callback?${new URLSearchParams(resigned(qBad, { code: 'not-a-real-code', timestamp: at(0) })).toString()}`,
      headers: { 'user-agent': BROWSER_UA, accept: 'text/html,application/xhtml+xml' },
    })
    t.equal(page.statusCode, 400, 'a rejected code is a 400')
    t.match(page.headers['content-type'], /^text\/html/)
    t.match(page.body, /Shopify refused the authorization code/)
    t.match(page.body, /href="\/api\/shopify\/install\?shop=oauth-abuse\.myshopify\.com"/)
    const qBad2 = await authorize()
    const json = await callback(resigned(qBad2, { code: 'not-a-real-code', timestamp: at(0) }))
    t.equal(json.statusCode, 400)
    t.match(json.json().error, { code: 'VALIDATION_ERROR', fields: [{ field: 'query.code' }] })
    t.equal(exchanges, 4, 'both codes went to Shopify')

    const tenants = await h.ownerQuery<{ shop_domain: string; status: string }>(
      'SELECT shop_domain, status FROM tenants ORDER BY shop_domain',
    )
    t.same(tenants, [{ shop_domain: 'oauth-abuse.myshopify.com', status: 'active' }])
  },
)
