// Every registered route, called with tenant B's credentials against tenant A's ids, reveals and
// changes nothing of A. The table lives in support/cross-tenant-routes.ts (how to add an entry
// is written at its top); a route without an entry fails this suite.
import t from 'tap'
import { fullApp } from './support/full-app.ts'
import { CROSS_TENANT_ROUTES, type TenantA, type TenantB } from './support/cross-tenant-routes.ts'

const methodsOf = (m: string | string[]) => (Array.isArray(m) ? m : [m])

t.test('every route declares config.auth and has a cross-tenant entry', async (t) => {
  const h = await fullApp(t)
  await h.app.ready()
  const keys = new Set<string>()
  for (const route of h.routes)
    for (const method of methodsOf(route.method)) {
      const hasGet = h.routes.some(
        (r) => r.url === route.url && methodsOf(r.method).includes('GET'),
      )
      if (method === 'HEAD' && hasGet) continue // Fastify's HEAD twin of a GET route
      const key = `${method} ${route.url}`
      keys.add(key)
      t.ok(route.config?.auth, `${key} declares config.auth`)
      t.ok(CROSS_TENANT_ROUTES[key], `${key} has an entry in CROSS_TENANT_ROUTES`)
    }
  for (const key of Object.keys(CROSS_TENANT_ROUTES))
    t.ok(keys.has(key), `table entry ${key} is a registered route (remove stale entries)`)
  t.ok(keys.size >= 33, `found ${keys.size} routes`)
})

t.test("tenant B's credentials never reach tenant A", async (t) => {
  const h = await fullApp(t)
  await h.admin() // so bootstrap is closed, as in any running deployment

  const tenantA = await h.tenant('victim-store')
  const ownerA = await h.user(tenantA.id, { username: 'alice-of-a', role: 'owner' })
  const viewerA = await h.user(tenantA.id, { username: 'victor-of-a' })
  const keyA = await h.apiKey(tenantA.id, 'a-key')
  const keyARow = (await h.services.apiKeys.list(tenantA.id))[0]!
  const a: TenantA = {
    tenantId: tenantA.id,
    shopDomain: tenantA.shopDomain,
    ownerId: ownerA.id,
    ownerUsername: ownerA.username,
    viewerId: viewerA.id,
    keyId: keyA.id,
    keyPrefix: keyARow.prefix,
  }
  // Same username in both tenants: Basic must resolve it in the path's tenant only.
  const tenantB = await h.tenant('caller-store')
  const ownerB = await h.user(tenantB.id, {
    username: 'alice-of-a',
    role: 'owner',
    password: 'b-owner-password',
  })
  const keyB = await h.apiKey(tenantB.id, 'b-key')
  const b: TenantB = {
    tenantId: tenantB.id,
    ownerUsername: ownerB.username,
    ownerPassword: ownerB.password,
  }

  // Data of A with recognisable values: an order, a refund-free day, a custom event.
  await h.ownerQuery(
    `INSERT INTO orders (tenant_id, id, name, currency, total_price, processed_at, created_at, updated_at)
     VALUES ($1, 4242424242, '#A-SECRET', 'USD', 98765.4321, '2026-06-01T12:00:00Z',
       '2026-06-01T12:00:00Z', '2026-06-01T12:00:00Z')`,
    [tenantA.id],
  )
  await h.ownerQuery(
    `INSERT INTO custom_events (tenant_id, event_type, occurred_at, idempotency_key)
     VALUES ($1, 'a_secret_event', '2026-06-01T12:00:00Z', 'a-key-1')`,
    [tenantA.id],
  )

  const snapshot = async () => ({
    tenant: await h.ownerQuery('SELECT * FROM tenants WHERE id = $1', [a.tenantId]),
    users: await h.ownerQuery(
      'SELECT id, username, password_hash, role FROM tenant_users WHERE tenant_id = $1 ORDER BY id',
      [a.tenantId],
    ),
    keys: await h.ownerQuery(
      'SELECT id, revoked_at FROM api_keys WHERE tenant_id = $1 ORDER BY id',
      [a.tenantId],
    ),
    events: await h.ownerQuery(
      'SELECT id, event_type FROM custom_events WHERE tenant_id = $1 ORDER BY id',
      [a.tenantId],
    ),
    credentials: await h.ownerQuery('SELECT * FROM shopify_credentials WHERE tenant_id = $1', [
      a.tenantId,
    ]),
  })
  const before = await snapshot()
  // Everything of A that must never appear in B's responses (B's own username is the same
  // string as A's owner's, so it is checked through the ids instead).
  const secretsOfA = [
    a.tenantId,
    a.shopDomain,
    a.ownerId,
    a.viewerId,
    'victor-of-a',
    a.keyId,
    a.keyPrefix,
    '98765.4321',
    '98765.43',
    '4242424242',
    'a_secret_event',
  ]

  await h.app.ready()
  // Control: the markers are visible to A itself, so the leak check below can fail.
  const own = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${a.tenantId}/analytics?from=2026-01-01&to=2026-12-31`,
    headers: ownerA.basic,
  })
  t.equal(own.statusCode, 200)
  t.match(own.body, /98765\.43/, "A sees its own order's revenue")
  const credentials: [string, () => Promise<Record<string, string>>][] = [
    ['basic', async () => ownerB.basic],
    ['session', () => h.session(ownerB)],
    ['api-key', async () => keyB.headers],
  ]
  let calls = 0
  for (const route of h.routes)
    for (const method of methodsOf(route.method)) {
      if (method === 'HEAD') continue
      const key = `${method} ${route.url}`
      const entry = CROSS_TENANT_ROUTES[key]
      if (!entry) continue // reported by the first test
      for (const [kind, headersOf] of credentials) {
        const { url, payload } = entry.build(a, b)
        const res = await h.app.inject({
          method: method as 'GET',
          url,
          headers: await headersOf(),
          ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
        })
        calls++
        t.ok(res.statusCode < 500, `${key} as B/${kind}: ${res.statusCode}`)
        // A refused page may send the browser to the admin sign-in page instead of a 4xx.
        const toSignIn =
          res.statusCode === 302 && String(res.headers.location).startsWith('/admin/login?')
        if (entry.denied !== false)
          t.ok(
            res.statusCode >= 400 || toSignIn,
            `${key} as B/${kind} is refused (${res.statusCode})`,
          )
        // What B itself sent (an id in the path, a shop in the query) may be echoed back.
        const sent = url + JSON.stringify(payload ?? '')
        const leaked = secretsOfA.filter((s) => !sent.includes(s) && res.body.includes(s))
        t.same(leaked, [], `${key} as B/${kind} reveals nothing of A`)
        for (const v of Object.values(res.headers))
          t.notOk(
            secretsOfA.some((s) => !sent.includes(s) && String(v).includes(s)),
            `${key} headers clean`,
          )
      }
    }
  t.ok(calls >= 33 * 3, `${calls} cross-tenant calls`)
  t.same(await snapshot(), before, "tenant A's rows are unchanged")
  const stillWorks = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${a.tenantId}`,
    headers: keyA.headers,
  })
  t.equal(stillWorks.statusCode, 200, "A's key still works")
})
