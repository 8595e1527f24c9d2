import t from 'tap'
import { createHmac, randomUUID } from 'node:crypto'
import { createPasswordHasher, type PasswordHasher } from '@xeno/core'
import { SAME_ORIGIN, buildTestApp } from './support/app.ts'

const basicHeader = (username: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
})

t.test('tenants: shop domains are normalised and validated; duplicates conflict', async (t) => {
  const h = await buildTestApp(t)
  const admin = await h.admin()
  const create = (shop_domain: unknown) =>
    h.app.inject({
      method: 'POST',
      url: '/api/tenants',
      headers: admin.headers,
      payload: { shop_domain },
    })
  const a = await create('My-Store')
  t.equal(a.statusCode, 201)
  t.match(a.json().data, {
    shop_domain: 'my-store.myshopify.com',
    status: 'pending',
    iana_timezone: 'UTC',
  })
  t.equal(
    (await create('https://Other-Store.myshopify.com/')).json().data.shop_domain,
    'other-store.myshopify.com',
  )
  for (const bad of ['bad_shop!', 'shop.example.com', '-dash', 'a.myshopify.com.evil.com']) {
    const r = await create(bad)
    t.equal(r.statusCode, 400, bad)
    t.equal(r.json().error.fields[0].field, 'body.shop_domain', bad)
  }
  const dup = await create('MY-STORE.myshopify.com')
  t.equal(dup.statusCode, 409)
  t.equal(dup.json().error.code, 'SHOP_EXISTS')

  const get = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${a.json().data.id}`,
    headers: admin.headers,
  })
  t.equal(get.statusCode, 200)
  t.same(get.json().data, a.json().data)
  const unknown = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${randomUUID()}`,
    headers: admin.headers,
  })
  t.equal(unknown.statusCode, 404, 'unknown tenant: 404')
})

t.test('tenant listing is paginated and admin-only', async (t) => {
  const h = await buildTestApp(t)
  const admin = await h.admin()
  const ids = new Set<string>()
  for (let i = 0; i < 5; i++) ids.add((await h.tenant(`page-shop-${i}`)).id)
  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const url: string = `/api/tenants?limit=2${cursor ? `&cursor=${cursor}` : ''}`
    const res = await h.app.inject({ method: 'GET', url, headers: admin.headers })
    t.equal(res.statusCode, 200)
    const body = res.json()
    t.ok(body.data.length <= 2)
    seen.push(...body.data.map((x: { id: string }) => x.id))
    cursor = body.page.next_cursor
    pages++
  } while (cursor && pages < 10)
  t.equal(pages, 3)
  t.same(new Set(seen), ids, 'every tenant exactly once')
  t.equal(seen.length, 5)
  const bad = await h.app.inject({
    method: 'GET',
    url: '/api/tenants?limit=1000',
    headers: admin.headers,
  })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error.fields[0].field, 'querystring.limit')

  const tenant = await h.tenant()
  const owner = await h.user(tenant.id, { role: 'owner' })
  const asUser = await h.app.inject({ method: 'GET', url: '/api/tenants', headers: owner.basic })
  t.equal(asUser.statusCode, 401, 'tenant users cannot list tenants')
})

t.test('roles: owners manage users and keys; viewers and API keys only read', async (t) => {
  const h = await buildTestApp(t)
  const tenant = await h.tenant()
  const owner = await h.user(tenant.id, { role: 'owner' })
  const made = await h.app.inject({
    method: 'POST',
    url: `/api/tenants/${tenant.id}/users`,
    headers: owner.basic,
    payload: { username: 'vera', password: 'viewer-password-1' },
  })
  t.equal(made.statusCode, 201)
  t.match(made.json().data, { username: 'vera', role: 'viewer' })
  t.notOk(JSON.stringify(made.json()).includes('argon2'), 'no hash in the answer')
  const dup = await h.app.inject({
    method: 'POST',
    url: `/api/tenants/${tenant.id}/users`,
    headers: owner.basic,
    payload: { username: 'vera', password: 'viewer-password-1' },
  })
  t.equal(dup.statusCode, 409)

  const viewer = basicHeader('vera', 'viewer-password-1')
  const key = await h.apiKey(tenant.id)
  for (const [who, headers] of [
    ['viewer', viewer],
    ['api key', key.headers],
  ] as const) {
    const read = await h.app.inject({
      method: 'GET',
      url: `/api/tenants/${tenant.id}`,
      headers,
    })
    t.equal(read.statusCode, 200, `${who} reads the tenant`)
    for (const [method, url, payload] of [
      ['POST', `/api/tenants/${tenant.id}/users`, { username: 'x', password: 'xxxxxxxxxxxx' }],
      ['GET', `/api/tenants/${tenant.id}/users`, undefined],
      ['POST', `/api/tenants/${tenant.id}/api-keys`, { label: 'x' }],
      ['GET', `/api/tenants/${tenant.id}/api-keys`, undefined],
      ['DELETE', `/api/tenants/${tenant.id}/api-keys/${key.id}`, undefined],
    ] as const) {
      const res = await h.app.inject({ method, url, headers, payload })
      t.equal(res.statusCode, 403, `${who}: ${method} ${url}`)
      t.equal(res.json().error.code, 'OWNER_REQUIRED')
    }
  }
  const users = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}/users`,
    headers: owner.basic,
  })
  t.same(
    users
      .json()
      .data.map((u: { username: string; role: string }) => [u.username, u.role])
      .sort(),
    [
      [owner.username, 'owner'],
      ['vera', 'viewer'],
    ].sort(),
  )
  const admin = await h.admin()
  const byAdmin = await h.app.inject({
    method: 'POST',
    url: `/api/tenants/${tenant.id}/users`,
    headers: admin.headers,
    payload: { username: 'olga', password: 'owner-password-2', role: 'owner' },
  })
  t.equal(byAdmin.statusCode, 201, 'admins pass owner checks')

  // A viewer may change their own password, not their role or anyone else's password.
  const vera = made.json().data.id
  const selfRole = await h.app.inject({
    method: 'PATCH',
    url: `/api/tenants/${tenant.id}/users/${vera}`,
    headers: viewer,
    payload: { role: 'owner' },
  })
  t.equal(selfRole.statusCode, 403, 'no self-promotion')
  const other = await h.app.inject({
    method: 'PATCH',
    url: `/api/tenants/${tenant.id}/users/${owner.id}`,
    headers: viewer,
    payload: { password: 'hijacked-password' },
  })
  t.equal(other.statusCode, 403)
  const self = await h.app.inject({
    method: 'PATCH',
    url: `/api/tenants/${tenant.id}/users/${vera}`,
    headers: viewer,
    payload: { password: 'viewer-password-2', current_password: 'viewer-password-1' },
  })
  t.equal(self.statusCode, 200)
})

t.test('API keys: shown once, HMAC at rest, last_used_at, immediate revocation', async (t) => {
  const h = await buildTestApp(t)
  const tenant = await h.tenant()
  const owner = await h.user(tenant.id, { role: 'owner' })
  const res = await h.app.inject({
    method: 'POST',
    url: `/api/tenants/${tenant.id}/api-keys`,
    headers: owner.basic,
    payload: { label: 'events' },
  })
  t.equal(res.statusCode, 201)
  const created = res.json().data
  t.match(created.key, /^xeno_[A-Za-z0-9_-]{43}$/, 'xeno_ + 256 bits')
  t.ok(created.key.startsWith(created.prefix))
  t.equal(created.last_used_at, null)

  const list = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}/api-keys`,
    headers: owner.basic,
  })
  t.notOk(list.body.includes(created.key), 'the key is never shown again')
  t.equal(list.json().data[0].label, 'events')

  const rows = await h.ownerQuery<{ key_hash: Buffer }>('SELECT * FROM api_keys')
  t.same(rows[0]!.key_hash, createHmac('sha256', h.pepper).update(created.key).digest())
  t.notOk(JSON.stringify(rows).includes(created.key.slice(5)), 'no column holds the key')

  const use = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}`,
    headers: { 'x-api-key': created.key },
  })
  t.equal(use.statusCode, 200)
  const after = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}/api-keys`,
    headers: owner.basic,
  })
  t.ok(after.json().data[0].last_used_at, 'last_used_at recorded')

  const revoke = await h.app.inject({
    method: 'DELETE',
    url: `/api/tenants/${tenant.id}/api-keys/${created.id}`,
    headers: owner.basic,
  })
  t.equal(revoke.statusCode, 200)
  t.ok(revoke.json().data.revoked_at)
  const denied = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}`,
    headers: { 'x-api-key': created.key },
  })
  t.equal(denied.statusCode, 401, 'revoked at once')
  const again = await h.app.inject({
    method: 'DELETE',
    url: `/api/tenants/${tenant.id}/api-keys/${created.id}`,
    headers: owner.basic,
  })
  t.equal(again.statusCode, 200, 'revoking twice is harmless')
  const unknown = await h.app.inject({
    method: 'DELETE',
    url: `/api/tenants/${tenant.id}/api-keys/${randomUUID()}`,
    headers: owner.basic,
  })
  t.equal(unknown.statusCode, 404)
  for (const bad of ['xeno_short', 'sk_live_whatever', created.key.replace(/.$/, 'A')]) {
    const r = await h.app.inject({
      method: 'GET',
      url: `/api/tenants/${tenant.id}`,
      headers: { 'x-api-key': bad },
    })
    t.equal(r.statusCode, 401, bad)
  }
})

t.test('HTTP Basic: verified once, then cached; a password change invalidates', async (t) => {
  const base = createPasswordHasher()
  let verifies = 0
  const counting: PasswordHasher = {
    ...base,
    verify: (hash, pw) => {
      verifies++
      return base.verify(hash, pw)
    },
  }
  const h = await buildTestApp(t, { hasher: counting })
  const tenant = await h.tenant()
  const owner = await h.user(tenant.id, { role: 'owner' })
  const viewer = await h.user(tenant.id)
  const get = (headers: Record<string, string>) =>
    h.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers })

  t.equal((await get(viewer.basic)).statusCode, 200)
  t.equal(verifies, 1, 'first request verifies the password')
  for (let i = 0; i < 5; i++) t.equal((await get(viewer.basic)).statusCode, 200)
  t.equal(verifies, 1, 'repeats come from the cache')
  t.equal((await get(basicHeader(viewer.username, 'wrong-password-x'))).statusCode, 401)
  t.equal(verifies, 2, 'a different password is never a cache hit')

  const session = await h.session(viewer)
  const change = await h.app.inject({
    method: 'PATCH',
    url: `/api/tenants/${tenant.id}/users/${viewer.id}`,
    headers: owner.basic,
    payload: { password: 'brand-new-password' },
  })
  t.equal(change.statusCode, 200)
  t.equal((await get(viewer.basic)).statusCode, 401, 'the old password stops at once')
  t.equal((await get(basicHeader(viewer.username, 'brand-new-password'))).statusCode, 200)
  t.equal((await get(session)).statusCode, 401, 'a new password ends existing sessions')

  // Concurrent first requests with the same credentials share one verification.
  const burst = await h.user(tenant.id)
  const before = verifies
  const codes = await Promise.all(Array.from({ length: 10 }, () => get(burst.basic)))
  t.same(new Set(codes.map((r) => r.statusCode)), new Set([200]))
  t.equal(verifies - before, 1, 'one hash for ten concurrent misses')

  // Another process changing the password (same database, its own cache) is seen at once too.
  await h.services.tenantUsers.update(tenant.id, viewer.id, { password: 'third-password-123' })
  t.equal((await get(basicHeader(viewer.username, 'brand-new-password'))).statusCode, 401)
})

t.test('HTTP Basic failures are slowed per (account, address) and limited per IP', async (t) => {
  const h = await buildTestApp(t, {
    limits: { basicPerIp: { max: 5, windowMs: 60_000 } },
    failures: { free: 3, baseDelayMs: 60_000 },
  })
  const tenant = await h.tenant()
  const user = await h.user(tenant.id)
  const get = (headers: Record<string, string>, ip: string) =>
    h.app.inject({
      method: 'GET',
      url: `/api/tenants/${tenant.id}`,
      headers,
      remoteAddress: ip,
    })
  const wrong = basicHeader(user.username, 'wrong-password-x')
  for (let i = 0; i < 4; i++) t.equal((await get(wrong, '10.0.0.1')).statusCode, 401)
  const limited = await get(wrong, '10.0.0.1')
  t.equal(limited.statusCode, 429, 'that address waits after its free failures')
  t.ok(Number(limited.headers['retry-after']) >= 1)
  t.equal(
    (await get(user.basic, '10.0.0.2')).statusCode,
    200,
    'the user elsewhere is not locked out',
  )

  const codes: number[] = []
  for (let i = 0; i < 6; i++)
    codes.push((await get(basicHeader(`nobody${i}`, 'wrong-password-x'), '10.7.7.7')).statusCode)
  t.same(codes, [401, 401, 401, 401, 401, 429], 'per IP')
})

t.test('bad input is a 4xx naming the field, never a 500', async (t) => {
  const h = await buildTestApp(t, { deps: { bodyLimit: 64 * 1024 } })
  const admin = await h.admin()
  const tenant = await h.tenant()
  const owner = await h.user(tenant.id, { role: 'owner' })
  const post = (url: string, payload: string, headers: Record<string, string> = owner.basic) =>
    h.app.inject({
      method: 'POST',
      url,
      headers: { ...headers, 'content-type': 'application/json' },
      payload,
    })
  const users = `/api/tenants/${tenant.id}/users`

  const cases: [string, Promise<{ statusCode: number; json: () => any }>, number, string][] = [
    ['malformed JSON', post(users, '{"username": "a",'), 400, 'body'],
    [
      'wrong type',
      post(users, JSON.stringify({ username: 7, password: 'x'.repeat(12) })),
      400,
      'body.username',
    ],
    [
      'NUL in password',
      post(users, JSON.stringify({ username: 'nul', password: 'abc\u0000defghijkl' })),
      400,
      'body.password',
    ],
    [
      'NUL in username',
      post(users, JSON.stringify({ username: 'a\u0000b', password: 'x'.repeat(12) })),
      400,
      'body.username',
    ],
    [
      'over-long username',
      post(users, JSON.stringify({ username: 'u'.repeat(65), password: 'x'.repeat(12) })),
      400,
      'body.username',
    ],
    [
      'over-long password',
      post(users, JSON.stringify({ username: 'long', password: 'p'.repeat(257) })),
      400,
      'body.password',
    ],
    [
      'unknown role',
      post(users, JSON.stringify({ username: 'r', password: 'x'.repeat(12), role: 'root' })),
      400,
      'body.role',
    ],
    [
      'NUL in shop',
      post('/api/tenants', JSON.stringify({ shop_domain: 'shop\u0000' }), admin.headers),
      400,
      'body.shop_domain',
    ],
    [
      'over-long shop',
      post('/api/tenants', JSON.stringify({ shop_domain: 's'.repeat(300) }), admin.headers),
      400,
      'body.shop_domain',
    ],
    ['non-UUID tenant id', post('/api/tenants/not-a-uuid/users', '{}'), 400, 'params.id'],
    [
      'non-UUID key id',
      h.app.inject({
        method: 'DELETE',
        url: `/api/tenants/${tenant.id}/api-keys/123`,
        headers: owner.basic,
      }),
      400,
      'params.keyId',
    ],
    [
      'non-UUID user id',
      h.app.inject({
        method: 'PATCH',
        url: `/api/tenants/${tenant.id}/users/x`,
        headers: owner.basic,
        payload: { role: 'owner' },
      }),
      400,
      'params.userId',
    ],
    [
      'empty patch',
      h.app.inject({
        method: 'PATCH',
        url: `/api/tenants/${tenant.id}/users/${owner.id}`,
        headers: owner.basic,
        payload: {},
      }),
      400,
      'body.password',
    ],
  ]
  for (const [name, p, status, field] of cases) {
    const res = await p
    t.equal(res.statusCode, status, name)
    t.ok(
      res.json().error.fields?.some((f: { field: string }) => f.field === field),
      `${name} names ${field}`,
    )
  }
  const huge = await post(users, JSON.stringify({ username: 'big', password: 'x'.repeat(100_000) }))
  t.equal(huge.statusCode, 413)
  t.equal(huge.json().error.code, 'PAYLOAD_TOO_LARGE')

  const anon = await h.app.inject({ method: 'GET', url: '/api/tenants/not-a-uuid' })
  t.equal(anon.statusCode, 400, 'a bad id is a 400 for anyone (reveals nothing)')
  const unknownAsBasic = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${randomUUID()}`,
    headers: owner.basic,
  })
  t.equal(unknownAsBasic.statusCode, 401, 'Basic credentials do not exist in another tenant')
  const session = await h.session(owner)
  const unknownAsSession = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${randomUUID()}`,
    headers: session,
  })
  t.equal(unknownAsSession.statusCode, 404, 'unknown tenant for a session: 404')
  const malformedBasic = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}`,
    headers: { authorization: 'Basic !!!notbase64' },
  })
  t.equal(malformedBasic.statusCode, 401)
  t.equal(
    (
      await h.app.inject({
        method: 'POST',
        url: '/api/tenant/login',
        headers: SAME_ORIGIN,
        payload: { shop: 'x', username: 'y' },
      })
    ).json().error.fields[0].field,
    'body.password',
  )
})
