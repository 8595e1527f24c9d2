// Accounts: changing one's own password needs the current one (a stolen session cookie must
// not become a permanent takeover), an owner or admin resetting another user does not; the
// client address that per-IP limits count comes from X-Forwarded-For only through the proxies
// TRUST_PROXY names; an API key in a query string never reaches the logs.
import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '@xeno/logger'
import { createAnalyticsService, createEventsService } from '@xeno/core'
import { buildTestApp } from './support/app.ts'
import { trustProxyEnv } from '../src/config.ts'

t.test("one's own password: the current one is required, checked and slowed", async (t) => {
  const h = await buildTestApp(t, { failures: { free: 2, baseDelayMs: 60_000 } })
  const tenant = await h.tenant()
  const owner = await h.user(tenant.id, { role: 'owner', password: 'owner-password-1' })
  const viewer = await h.user(tenant.id, { password: 'viewer-password-1' })
  const stolen = await h.session(viewer) // what a thief holding the cookie sends
  const patch = (userId: string, headers: Record<string, string>, payload: object) =>
    h.app.inject({
      method: 'PATCH',
      url: `/api/tenants/${tenant.id}/users/${userId}`,
      headers,
      payload,
    })

  const missing = await patch(viewer.id, stolen, { password: 'thief-password-1' })
  t.equal(missing.statusCode, 400, 'without the current password: 400')
  t.same(
    missing.json().error.fields.map((f: { field: string }) => f.field),
    ['body.current_password'],
    'naming the field',
  )
  const wrong = await patch(viewer.id, stolen, {
    password: 'thief-password-1',
    current_password: 'not-the-password',
  })
  t.equal(wrong.statusCode, 403)
  t.equal(wrong.json().error.code, 'CURRENT_PASSWORD_INVALID')
  t.equal(
    (await h.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: viewer.basic }))
      .statusCode,
    200,
    'the password did not change',
  )
  // Guessing the current password through the session is slowed like a login.
  for (const guess of ['guess-two', 'guess-three'])
    await patch(viewer.id, stolen, { password: 'thief-password-1', current_password: guess })
  const slowed = await patch(viewer.id, stolen, {
    password: 'thief-password-1',
    current_password: 'guess-four',
  })
  t.equal(slowed.statusCode, 429, 'past the free failures: 429')
  t.ok(Number(slowed.headers['retry-after']) >= 1, 'with Retry-After')

  // Basic from another address (the user themself): the right current password changes it.
  const mine = await h.app.inject({
    method: 'PATCH',
    url: `/api/tenants/${tenant.id}/users/${viewer.id}`,
    headers: viewer.basic,
    remoteAddress: '10.20.0.1',
    payload: { password: 'viewer-password-2', current_password: 'viewer-password-1' },
  })
  t.equal(mine.statusCode, 200, 'with the current password: 200')

  // An owner's own password needs it too; an owner resetting another user does not.
  const ownSelf = await patch(owner.id, owner.basic, { password: 'owner-password-2' })
  t.equal(ownSelf.statusCode, 400, "an owner's own password needs the current one too")
  const reset = await patch(viewer.id, owner.basic, { password: 'reset-by-owner-1' })
  t.equal(reset.statusCode, 200, 'an owner resets another user without it')
  const admin = await h.admin()
  const byAdmin = await patch(viewer.id, admin.headers, { password: 'reset-by-admin-1' })
  t.equal(byAdmin.statusCode, 200, 'so does an admin')
})

t.test('TRUST_PROXY parses to a hop count, a list of proxies, or none', async (t) => {
  t.equal(trustProxyEnv.parse(undefined), false)
  t.equal(trustProxyEnv.parse(''), false)
  t.equal(trustProxyEnv.parse('false'), false)
  t.equal(trustProxyEnv.parse('2'), 2)
  t.same(trustProxyEnv.parse('10.0.0.0/8, 127.0.0.1,::1,fd00::/8,loopback'), [
    '10.0.0.0/8',
    '127.0.0.1',
    '::1',
    'fd00::/8',
    'loopback',
  ])
  for (const bad of ['true', '10.0.0.0/33', 'proxy.example.com', '10.0.0.1/8/1'])
    t.notOk(trustProxyEnv.safeParse(bad).success, `${bad} is refused`)
})

t.test('per-IP limits count X-Forwarded-For only from trusted proxies', async (t) => {
  const login = (app: Awaited<ReturnType<typeof buildTestApp>>['app'], xff: string) =>
    app.inject({
      method: 'POST',
      url: '/api/admin/login',
      remoteAddress: '10.50.0.1',
      headers: { 'x-forwarded-for': xff },
      payload: { username: 'nobody-here', password: 'some-password-1' },
    })
  const limits = { loginPerIp: { max: 2, windowMs: 60_000 } }
  const behind = await buildTestApp(t, { limits, deps: { trustProxy: ['10.50.0.0/16'] } })
  const codes = []
  for (const client of ['1.1.1.1', '1.1.1.1', '1.1.1.1', '2.2.2.2'])
    codes.push((await login(behind.app, client)).statusCode)
  t.same(codes, [401, 401, 429, 401], 'each client behind the proxy has its own budget')

  const direct = await buildTestApp(t, { limits })
  const spoofed = []
  for (const client of ['3.3.3.3', '4.4.4.4', '5.5.5.5'])
    spoofed.push((await login(direct.app, client)).statusCode)
  t.same(spoofed, [401, 401, 429], 'an untrusted sender cannot choose its address')
})

t.test('an API key in the query string is never logged', async (t) => {
  let output = ''
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      output += chunk.toString()
      cb()
    },
  })
  const canary = 'xeno_querycanary000000000000000000000000000000000'
  const h = await buildTestApp(t, {
    deps: ({ db }) => ({
      logger: createLogger({ level: 'trace', destination }),
      analytics: createAnalyticsService({ db }),
      events: createEventsService({ db }),
    }),
  })
  const tenant = await h.tenant()
  for (const name of ['x-api-key', 'X-Api-Key', 'x_api_key', 'apiKey', 'client_secret'])
    await h.app.inject({
      method: 'GET',
      url: `/api/tenants/${tenant.id}/analytics?${encodeURIComponent(name)}=${canary}&granularity=day`,
    })
  t.match(output, /granularity=day/, 'the URL is logged')
  t.notOk(output.includes('querycanary'), 'but not the key in it')
})
