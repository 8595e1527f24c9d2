import t from 'tap'
import { createClock, createFakeShopify } from '@xeno/shopify-fake'
import { TENANT_COOKIE } from '../src/plugins/auth.ts'
import { SAME_ORIGIN, buildTestApp, cookieFrom } from './support/app.ts'

t.test('tenant login, me, rotation and logout', async (t) => {
  const h = await buildTestApp(t)
  const tenant = await h.tenant('Login-Shop')
  const user = await h.user(tenant.id, {
    username: 'olivia',
    password: 'olivia-password',
    role: 'owner',
  })
  const login = (payload: Record<string, string>, headers: Record<string, string> = {}) =>
    h.app.inject({ method: 'POST', url: '/api/tenant/login', payload, headers })

  for (const bad of [
    { shop: 'login-shop', username: 'olivia', password: 'wrong-password' },
    { shop: 'no-such-shop', username: 'olivia', password: 'olivia-password' },
    { shop: 'login-shop', username: 'nobody', password: 'olivia-password' },
  ]) {
    const r = await login(bad)
    t.equal(r.statusCode, 401)
    t.same(r.json().error, {
      code: 'INVALID_CREDENTIALS',
      message: 'invalid shop, username or password',
    })
  }
  // The shop may be given as typed by a person.
  const ok = await login({ shop: 'LOGIN-SHOP', username: 'olivia', password: 'olivia-password' })
  t.equal(ok.statusCode, 200)
  t.match(ok.json().data, { tenant_id: tenant.id, user_id: user.id, role: 'owner' })
  const c = ok.cookies.find((x) => x.name === TENANT_COOKIE)!
  t.equal(c.httpOnly, true)
  t.equal(c.sameSite, 'Lax')
  t.equal(c.secure, true)
  const headers = { cookie: `${TENANT_COOKIE}=${c.value}`, ...SAME_ORIGIN }

  const me = await h.app.inject({ method: 'GET', url: '/api/tenant/me', headers })
  t.equal(me.statusCode, 200)
  t.match(me.json().data, {
    tenant: { id: tenant.id, shop_domain: 'login-shop.myshopify.com' },
    user: { id: user.id, username: 'olivia', role: 'owner' },
    api_key_id: null,
  })
  const own = await h.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers })
  t.equal(own.statusCode, 200, 'the session works on /api/tenants/:id')

  // Logging in again with the old cookie: a new token, the old one ends.
  const again = await login(
    { shop: 'login-shop', username: 'olivia', password: 'olivia-password' },
    headers,
  )
  const fresh = { cookie: `${TENANT_COOKIE}=${cookieFrom(again, TENANT_COOKIE)}`, ...SAME_ORIGIN }
  t.not(fresh.cookie, headers.cookie)
  t.equal((await h.app.inject({ method: 'GET', url: '/api/tenant/me', headers })).statusCode, 401)
  t.equal(
    (await h.app.inject({ method: 'GET', url: '/api/tenant/me', headers: fresh })).statusCode,
    200,
  )

  const csrf = await h.app.inject({
    method: 'POST',
    url: '/api/tenant/logout',
    headers: { cookie: fresh.cookie, origin: 'https://evil.example' },
    payload: {},
  })
  t.equal(csrf.statusCode, 403, 'CSRF applies to tenant sessions too')
  const out = await h.app.inject({
    method: 'POST',
    url: '/api/tenant/logout',
    headers: fresh,
    payload: {},
  })
  t.equal(out.statusCode, 200)
  t.equal(
    (await h.app.inject({ method: 'GET', url: '/api/tenant/me', headers: fresh })).statusCode,
    401,
    'logout revokes',
  )
  const rows = await h.ownerQuery(
    'SELECT count(*)::int AS n FROM tenant_sessions WHERE revoked_at IS NULL',
  )
  t.equal(rows[0]!.n, 0, 'no live session left')

  const key = await h.apiKey(tenant.id)
  const keyMe = await h.app.inject({ method: 'GET', url: '/api/tenant/me', headers: key.headers })
  t.match(keyMe.json().data, { user: null, api_key_id: key.id })
})

t.test('tenant sessions expire when idle and at the absolute limit', async (t) => {
  let now = Date.parse('2026-11-26T10:00:00Z')
  const h = await buildTestApp(t, {
    now: () => new Date(now),
    sessionPolicy: { idleMs: 10 * 60_000, absoluteMs: 30 * 60_000 },
  })
  const tenant = await h.tenant()
  const user = await h.user(tenant.id)
  const headers = await h.session(user)
  const me = async () =>
    (await h.app.inject({ method: 'GET', url: '/api/tenant/me', headers })).statusCode
  now += 9 * 60_000
  t.equal(await me(), 200)
  now += 9 * 60_000
  t.equal(await me(), 200, 'each use extends the idle window')
  now += 11 * 60_000
  t.equal(await me(), 401, 'idle too long')
  const second = await h.session(user)
  for (let i = 0; i < 3; i++) {
    now += 9 * 60_000
    t.equal(
      (await h.app.inject({ method: 'GET', url: '/api/tenant/me', headers: second })).statusCode,
      200,
    )
  }
  now += 9 * 60_000
  t.equal(
    (await h.app.inject({ method: 'GET', url: '/api/tenant/me', headers: second })).statusCode,
    401,
    'absolute limit',
  )
})

t.test('set-token: checked against Shopify, encrypted at rest, tenant activated', async (t) => {
  const fake = await createFakeShopify({
    clock: createClock({ start: Date.parse('2026-11-01T12:00:00Z'), auto: false }),
  })
  t.teardown(() => fake.close())
  const shop = fake.createShop({
    domain: 'token-shop',
    name: 'Token Shop',
    timezone: 'Europe/Berlin',
    currency: 'EUR',
    orders: 0,
    customers: 0,
    products: 0,
  })
  const h = await buildTestApp(t, { shopifyAdminOrigin: fake.origin })
  const tenant = await h.tenant('token-shop')
  const owner = await h.user(tenant.id, { role: 'owner' })
  const viewer = await h.user(tenant.id)
  const ownerSession = await h.session(owner)
  const setToken = (headers: Record<string, string>, payload: Record<string, unknown>) =>
    h.app.inject({ method: 'POST', url: '/api/tenant/set-token', headers, payload })

  const asViewer = await setToken(await h.session(viewer), { access_token: shop.accessToken })
  t.equal(asViewer.statusCode, 403, 'viewers may not set tokens')

  const wrong = await setToken(ownerSession, { access_token: 'shpat_not_a_real_token' })
  t.equal(wrong.statusCode, 400)
  t.equal(wrong.json().error.code, 'SHOPIFY_TOKEN_REJECTED')
  t.equal(wrong.json().error.fields[0].field, 'access_token')
  t.equal((await h.services.tenants.get(tenant.id)).status, 'pending', 'still pending')

  const ok = await setToken(ownerSession, { access_token: shop.accessToken })
  t.equal(ok.statusCode, 200)
  t.match(ok.json().data, {
    id: tenant.id,
    status: 'active',
    shop_name: 'Token Shop',
    iana_timezone: 'Europe/Berlin',
    currency: 'EUR',
  })
  t.ok(ok.json().data.installed_at)

  const [row] = await h.ownerQuery<{ access_token_enc: string; source: string }>(
    'SELECT access_token_enc, source FROM shopify_credentials WHERE tenant_id = $1',
    [tenant.id],
  )
  t.equal(row!.source, 'manual')
  t.notMatch(row!.access_token_enc, shop.accessToken, 'the column never holds the token')
  t.match(row!.access_token_enc, /^v1:[0-9a-f]{8}:/, 'key-id-prefixed ciphertext')
  t.equal(await h.services.tenants.accessToken(tenant.id), shop.accessToken, 'round trip')

  // Admins name the tenant; tenant users cannot name another one.
  const admin = await h.admin()
  const missing = await setToken(admin.headers, { access_token: shop.accessToken })
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().error.fields[0].field, 'body.tenant_id')
  const byAdmin = await setToken(admin.headers, {
    access_token: shop.accessToken,
    tenant_id: tenant.id,
  })
  t.equal(byAdmin.statusCode, 200)
  const other = await h.tenant()
  const foreign = await setToken(ownerSession, {
    access_token: shop.accessToken,
    tenant_id: other.id,
  })
  t.equal(foreign.statusCode, 404, 'another tenant: 404')

  // Shopify unreachable: 503, nothing stored.
  const down = await buildTestApp(t, { shopifyAdminOrigin: 'http://127.0.0.1:1' })
  const t2 = await down.tenant('token-shop')
  const o2 = await down.user(t2.id, { role: 'owner' })
  const res = await down.app.inject({
    method: 'POST',
    url: '/api/tenant/set-token',
    headers: await down.session(o2),
    payload: { access_token: shop.accessToken },
  })
  t.equal(res.statusCode, 503)
  t.equal((await down.services.tenants.get(t2.id)).status, 'pending')
})

t.test('lookup never reveals a tenant to an anonymous caller', async (t) => {
  const h = await buildTestApp(t)
  const tenant = await h.tenant('known-shop')
  const lookup = (shop: string, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'GET',
      url: `/api/tenant/lookup?shop=${encodeURIComponent(shop)}`,
      headers,
    })

  const known = await lookup('Known-Shop')
  const unknown = await lookup('unknown-shop')
  t.equal(known.statusCode, 200)
  t.same(known.json(), { data: { shop_domain: 'known-shop.myshopify.com' } })
  t.same(unknown.json(), { data: { shop_domain: 'unknown-shop.myshopify.com' } })
  t.same(Object.keys(known.json().data), Object.keys(unknown.json().data), 'same shape')
  t.notOk(known.body.includes(tenant.id))
  const bad = await lookup('not a shop!')
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error.fields[0].field, 'query.shop')

  const admin = await h.admin()
  t.same((await lookup('known-shop', admin.headers)).json().data.tenant, {
    id: tenant.id,
    status: 'pending',
  })
  t.same((await lookup('unknown-shop', admin.headers)).json().data.tenant, null)
  const user = await h.user(tenant.id)
  t.same((await lookup('known-shop', await h.session(user))).json().data.tenant.id, tenant.id)
  const other = await h.tenant()
  const stranger = await h.user(other.id)
  t.same(
    (await lookup('known-shop', await h.session(stranger))).json().data.tenant,
    null,
    "another tenant's user learns nothing",
  )
})
