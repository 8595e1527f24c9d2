// Input that Postgres or Node cannot take is a 4xx naming the field, never a 500: NUL and lone
// surrogates in custom events, a shop time zone no one here knows, a body nested too deep for
// Postgres in a group-commit batch, a body that trickles in.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { fullApp, FULL_APP_WEBHOOK_SECRET } from './support/full-app.ts'
import { buildTestApp } from './support/app.ts'
import { signedHeaders } from './support/webhooks.ts'

t.test('NUL and lone surrogates anywhere in an event are a 400 naming the field', async (t) => {
  const h = await fullApp(t)
  const tenant = await h.tenant()
  const key = await h.apiKey(tenant.id)
  const post = (raw: string) =>
    h.app.inject({
      method: 'POST',
      url: '/api/events',
      headers: { 'content-type': 'application/json', ...key.headers },
      payload: raw,
    })
  const base = '"event_type":"page_view","occurred_at":"2026-03-02T05:00:00Z"'
  // Raw JSON text: \u0000 and \ud800 escapes reach the server as such.
  for (const bad of ['\\u0000', '\\ud800', 'a\\udc00b', 'x\\u0000y']) {
    const cases: [string, string][] = [
      [`{${base},"idempotency_key":"${bad}"}`, 'body.idempotency_key'],
      [`{${base},"session_id":"${bad}"}`, 'body.session_id'],
      [`{${base},"properties":{"ok":"${bad}"}}`, 'body.properties.ok'],
      [`{${base},"properties":{"deep":{"list":["fine","${bad}"]}}}`, 'body.properties.deep.list.1'],
      [`{"events":[{${base}},{${base},"session_id":"${bad}"}]}`, 'body.events.1.session_id'],
    ]
    for (const [raw, field] of cases) {
      const res = await post(raw)
      t.equal(res.statusCode, 400, `${bad} in ${field}`)
      t.equal(res.json().error.fields?.[0]?.field, field)
    }
    const keyCase = await post(`{${base},"properties":{"k${bad}":"v"}}`)
    t.equal(keyCase.statusCode, 400, `${bad} in a property key`)
    t.match(keyCase.json().error.fields?.[0]?.field, /^body\.properties\./)
  }
  // A paired surrogate (an emoji) is fine.
  const emoji = await post(`{${base},"session_id":"\\ud83d\\ude00","properties":{"e":"😀"}}`)
  t.equal(emoji.statusCode, 202)
  const rows = await h.ownerQuery('SELECT 1 FROM custom_events WHERE tenant_id = $1', [tenant.id])
  t.equal(rows.length, 1, 'only the valid event was stored')
})

t.test('a shop time zone Postgres does not know: analytics in UTC, a warning', async (t) => {
  const h = await fullApp(t)
  const tenant = await h.tenant()
  const owner = await h.user(tenant.id, { role: 'owner' })
  await h.ownerQuery(
    `UPDATE tenants SET iana_timezone = 'Mars/Olympus_Mons', status = 'active' WHERE id = $1`,
    [tenant.id],
  )
  await h.ownerQuery(
    `INSERT INTO orders (tenant_id, id, name, currency, total_price, processed_at, created_at, updated_at)
     VALUES ($1, 77, '#77', 'USD', 12.5, '2026-03-02T05:00:00Z', now(), now())`,
    [tenant.id],
  )
  const q = 'from=2026-03-01&to=2026-03-31&granularity=week'
  for (const route of [
    'analytics',
    'metrics/revenue',
    'metrics/orders',
    'metrics/customers',
    'metrics/events',
    'metrics/customer-growth',
    'metrics/product-growth',
    'metrics/products',
  ]) {
    const res = await h.app.inject({
      method: 'GET',
      url: `/api/tenants/${tenant.id}/${route}?${q}`,
      headers: owner.basic,
    })
    t.equal(res.statusCode, 200, `${route}: ${res.statusCode}`)
    t.equal(res.json().data.range.zone, 'UTC', `${route} answers in UTC`)
  }
  const status = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}/sync-status`,
    headers: owner.basic,
  })
  t.equal(status.statusCode, 200)
  const shop = (status.json().data as { resource: string; warning: string | null }[]).find(
    (r) => r.resource === 'shop',
  )
  t.match(shop?.warning, /Mars\/Olympus_Mons.*UTC/)
  // A zone everyone knows: no warning, answers in it.
  await h.ownerQuery(`UPDATE tenants SET iana_timezone = 'Asia/Kolkata' WHERE id = $1`, [tenant.id])
  const fine = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}/metrics/revenue?${q}`,
    headers: owner.basic,
  })
  t.equal(fine.json().data.range.zone, 'Asia/Kolkata')
  const status2 = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}/sync-status`,
    headers: owner.basic,
  })
  t.ok(
    (status2.json().data as { warning: string | null }[]).every((r) => r.warning === null),
    'no warning',
  )
})

t.test('a delivery nested too deep is a 400 for itself; its batch is stored', async (t) => {
  const h = await fullApp(t)
  const tenant = await h.tenant('deep-nesting')
  const deep = '['.repeat(100_000)
  const good = (i: number) => JSON.stringify({ id: 1000 + i, updated_at: 'x', line_items: [] })
  const send = (body: string) =>
    h.app.inject({
      method: 'POST',
      url: '/api/webhooks/orders/create',
      headers: signedHeaders(
        'orders/create',
        body,
        FULL_APP_WEBHOOK_SECRET,
        tenant.shopDomain,
        randomUUID(),
      ),
      payload: body,
    })
  // Sent together, so they share group-commit transactions with the deep one.
  const bodies = Array.from({ length: 90 }, (_, i) => good(i))
  bodies.splice(45, 0, deep)
  const answers = await Promise.all(bodies.map(send))
  const deepAnswer = answers[45]!
  t.equal(deepAnswer.statusCode, 400, 'the deep body')
  t.equal(deepAnswer.json().error.fields[0].field, 'body')
  const others = answers.filter((_, i) => i !== 45)
  t.same(
    new Set(others.map((r) => r.statusCode)),
    new Set([200]),
    'every other delivery of the batch is acknowledged',
  )
  const [stored] = await h.ownerQuery<{ n: number }>(
    'SELECT count(*)::int AS n FROM webhook_receipts WHERE tenant_id = $1',
    [tenant.id],
  )
  t.equal(stored?.n, 90, 'and stored')
})

t.test('a body that trickles in is cut with 408', async (t) => {
  const h = await buildTestApp(t, { deps: { bodyTimeoutMs: 400 } })
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (h.app.server.address() as AddressInfo).port
  const started = Date.now()
  const answer = await new Promise<string>((resolve, reject) => {
    const sock = connect(port, '127.0.0.1')
    let data = ''
    sock.on('data', (d) => (data += d.toString()))
    sock.on('close', () => resolve(data))
    sock.on('error', reject)
    sock.write(
      'POST /api/admin/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user',
    )
    // One byte a while, never the whole body.
    const drip = setInterval(() => sock.write(' '), 100)
    sock.on('close', () => clearInterval(drip))
    setTimeout(() => sock.destroy(), 10_000)
  })
  t.match(answer, /^HTTP\/1\.1 408 /, 'answered 408')
  t.match(answer, /"code":"REQUEST_TIMEOUT"/)
  t.ok(Date.now() - started < 5_000, 'within the body timeout, not the header timeout')
  // A body that arrives in time is unaffected.
  const ok = await fetch(`http://127.0.0.1:${port}/api/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'nobody', password: 'wrong-password-1' }),
  })
  t.equal(ok.status, 401)
})
