import t from 'tap'
import { PASSWORD_PARAMS, createPasswordHasher } from '@xeno/core'
import { ADMIN_COOKIE } from '../src/plugins/auth.ts'
import { APP_URL, SAME_ORIGIN, buildTestApp, cookieFrom } from './support/app.ts'

const creds = { username: 'root', password: 'correct horse battery' }

t.test('bootstrap race: 20 concurrent calls create exactly one admin', async (t) => {
  const h = await buildTestApp(t)
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      h.app.inject({
        method: 'POST',
        url: '/api/admin/bootstrap',
        payload: { username: `admin${i}`, password: 'a-long-password' },
      }),
    ),
  )
  const codes = results.map((r) => r.statusCode).sort()
  t.equal(codes.filter((c) => c === 201).length, 1, 'one winner')
  t.equal(codes.filter((c) => c === 409).length, 19, 'everyone else: 409')
  for (const r of results.filter((r) => r.statusCode === 409))
    t.equal(r.json().error.code, 'ADMIN_EXISTS')
  const rows = await h.ownerQuery('SELECT count(*)::int AS n FROM admin_users')
  t.equal(rows[0]!.n, 1, 'exactly one admin row')
})

t.test('ADMIN_BOOTSTRAP_TOKEN must be presented when configured', async (t) => {
  const h = await buildTestApp(t, { bootstrapToken: 'bootstrap-secret-123456' })
  const none = await h.app.inject({ method: 'POST', url: '/api/admin/bootstrap', payload: creds })
  t.equal(none.statusCode, 403)
  t.equal(none.json().error.code, 'BOOTSTRAP_TOKEN_INVALID')
  const wrong = await h.app.inject({
    method: 'POST',
    url: '/api/admin/bootstrap',
    payload: { ...creds, token: 'bootstrap-secret-000000' },
  })
  t.equal(wrong.statusCode, 403)
  const ok = await h.app.inject({
    method: 'POST',
    url: '/api/admin/bootstrap',
    payload: { ...creds, token: 'bootstrap-secret-123456' },
  })
  t.equal(ok.statusCode, 201)
  t.equal(ok.json().data.username, 'root')
  t.notOk(JSON.stringify(ok.json()).includes('password'), 'no hash in the answer')
})

t.test('login sets a hardened cookie; me; logout revokes the session', async (t) => {
  const h = await buildTestApp(t)
  await h.app.inject({ method: 'POST', url: '/api/admin/bootstrap', payload: creds })
  const bad = await h.app.inject({
    method: 'POST',
    url: '/api/admin/login',
    payload: { ...creds, password: 'wrong password!' },
  })
  t.equal(bad.statusCode, 401)
  t.equal(bad.json().error.code, 'INVALID_CREDENTIALS')

  const res = await h.app.inject({ method: 'POST', url: '/api/admin/login', payload: creds })
  t.equal(res.statusCode, 200)
  const c = res.cookies.find((x) => x.name === ADMIN_COOKIE)!
  t.match(c.value, /^[A-Za-z0-9_-]{43}$/, '256-bit token')
  t.equal(c.httpOnly, true)
  t.equal(c.secure, true)
  t.equal(c.sameSite, 'Lax')
  t.equal(c.path, '/')
  t.ok(c.expires, 'expires at the absolute limit')

  const stored = await h.ownerQuery<{ token_hash: Buffer }>('SELECT token_hash FROM admin_sessions')
  const { createHash } = await import('node:crypto')
  t.same(stored[0]!.token_hash, createHash('sha256').update(c.value).digest(), 'SHA-256 stored')
  t.notOk(
    stored.some((r) => r.token_hash.toString('utf8').includes(c.value)),
    'never the token',
  )

  const cookie = `${ADMIN_COOKIE}=${c.value}`
  const me = await h.app.inject({ method: 'GET', url: '/api/admin/me', headers: { cookie } })
  t.equal(me.statusCode, 200)
  t.equal(me.json().data.username, 'root')

  const out = await h.app.inject({
    method: 'POST',
    url: '/api/admin/logout',
    headers: { cookie, ...SAME_ORIGIN },
    payload: {},
  })
  t.equal(out.statusCode, 200)
  const after = await h.app.inject({ method: 'GET', url: '/api/admin/me', headers: { cookie } })
  t.equal(after.statusCode, 401, 'the revoked token no longer works')
  t.equal(
    (await h.app.inject({ method: 'GET', url: '/api/admin/me' })).statusCode,
    401,
    'no cookie: 401',
  )
})

t.test('COOKIE_SECURE=false drops Secure for local HTTP', async (t) => {
  const h = await buildTestApp(t, { cookieSecure: false })
  await h.app.inject({ method: 'POST', url: '/api/admin/bootstrap', payload: creds })
  const res = await h.app.inject({ method: 'POST', url: '/api/admin/login', payload: creds })
  const c = res.cookies.find((x) => x.name === ADMIN_COOKIE)!
  t.notOk(c.secure)
  t.equal(c.httpOnly, true)
})

t.test('a new token on every login; the previous session ends', async (t) => {
  const h = await buildTestApp(t)
  const admin = await h.admin()
  const again = await h.app.inject({
    method: 'POST',
    url: '/api/admin/login',
    headers: admin.headers,
    payload: { username: admin.username, password: admin.password },
  })
  const fresh = cookieFrom(again, ADMIN_COOKIE)!
  t.not(`${ADMIN_COOKIE}=${fresh}`, admin.headers.cookie, 'new token')
  const old = await h.app.inject({ method: 'GET', url: '/api/admin/me', headers: admin.headers })
  t.equal(old.statusCode, 401, 'old token revoked')
  const cur = await h.app.inject({
    method: 'GET',
    url: '/api/admin/me',
    headers: { cookie: `${ADMIN_COOKIE}=${fresh}` },
  })
  t.equal(cur.statusCode, 200)
})

t.test('idle and absolute expiry', async (t) => {
  let now = Date.parse('2026-11-26T10:00:00Z')
  const h = await buildTestApp(t, {
    now: () => new Date(now),
    sessionPolicy: { idleMs: 30 * 60_000, absoluteMs: 2 * 3_600_000 },
  })
  const admin = await h.admin()
  const me = () => h.app.inject({ method: 'GET', url: '/api/admin/me', headers: admin.headers })
  // Used every 20 minutes: never idle, but the absolute limit still ends it.
  for (let i = 0; i < 5; i++) {
    now += 20 * 60_000
    t.equal((await me()).statusCode, 200, `alive at +${(i + 1) * 20} min`)
  }
  now += 20 * 60_000 // +120 min
  t.equal((await me()).statusCode, 401, 'absolute expiry')

  const second = await h.admin()
  const me2 = () => h.app.inject({ method: 'GET', url: '/api/admin/me', headers: second.headers })
  now += 29 * 60_000
  t.equal((await me2()).statusCode, 200, 'within idle window')
  now += 31 * 60_000
  t.equal((await me2()).statusCode, 401, 'idle expiry')
})

t.test('CSRF: cookie-authenticated state changes need JSON and the same origin', async (t) => {
  const h = await buildTestApp(t)
  const admin = await h.admin()
  const cookie = admin.headers.cookie
  const post = (headers: Record<string, string>, payload?: string) =>
    h.app.inject({ method: 'POST', url: '/api/tenants', headers: { cookie, ...headers }, payload })
  const json = { 'content-type': 'application/json' }
  const body = JSON.stringify({ shop_domain: 'csrf-shop' })

  const cases: [string, Record<string, string>, string | undefined][] = [
    ['no Origin', json, body],
    ['foreign Origin', { ...json, origin: 'https://evil.example' }, body],
    ['cross-site fetch metadata', { ...json, 'sec-fetch-site': 'cross-site' }, body],
    [
      'same-site is not same-origin',
      { ...json, 'sec-fetch-site': 'same-site', origin: APP_URL },
      body,
    ],
    [
      'form post',
      { 'content-type': 'application/x-www-form-urlencoded', origin: APP_URL },
      'shop_domain=x',
    ],
    ['text/plain', { 'content-type': 'text/plain', origin: APP_URL }, body],
  ]
  for (const [name, headers, payload] of cases) {
    const res = await post(headers, payload)
    t.equal(res.statusCode, 403, name)
    t.equal(res.json().error.code, 'CSRF_REJECTED', name)
  }
  const tenants = await h.ownerQuery('SELECT count(*)::int AS n FROM tenants')
  t.equal(tenants[0]!.n, 0, 'nothing was created')

  t.equal((await post({ ...json, origin: APP_URL }, body)).statusCode, 201, 'same origin')
  t.equal(
    (await post({ ...json, 'sec-fetch-site': 'same-origin' }, JSON.stringify({ shop_domain: 'b' })))
      .statusCode,
    201,
    'same-origin fetch metadata',
  )
  const read = await h.app.inject({ method: 'GET', url: '/api/tenants', headers: { cookie } })
  t.equal(read.statusCode, 200, 'safe methods need no Origin')
})

t.test(
  'login failures slow one (account, address), login and bootstrap are limited per IP',
  async (t) => {
    const h = await buildTestApp(t, {
      limits: {
        loginPerIp: { max: 6, windowMs: 60_000 },
        bootstrapPerIp: { max: 2, windowMs: 60_000 },
      },
      failures: { free: 2, baseDelayMs: 60_000 },
    })
    const admin = await h.admin('victim', 'victim-password-1') // 1 login from 127.0.0.1
    const attempt = (username: string, ip: string) =>
      h.app.inject({
        method: 'POST',
        url: '/api/admin/login',
        remoteAddress: ip,
        payload: { username, password: 'wrong password!' },
      })
    // Per (account, address): 3 wrong passwords on "victim" from one address, then it waits.
    for (let i = 0; i < 3; i++) t.equal((await attempt('victim', '10.0.0.1')).statusCode, 401)
    const limited = await attempt('victim', '10.0.0.1')
    t.equal(limited.statusCode, 429, 'that address waits')
    t.equal(limited.json().error.code, 'RATE_LIMITED')
    t.ok(Number(limited.headers['retry-after']) >= 1, 'Retry-After in seconds')
    const right = await h.app.inject({
      method: 'POST',
      url: '/api/admin/login',
      remoteAddress: '10.0.0.4',
      payload: { username: admin.username, password: admin.password },
    })
    t.equal(right.statusCode, 200, 'the admin from another address is not locked out')

    // Per IP: one address guessing many accounts.
    const codes: number[] = []
    for (let i = 0; i < 7; i++) codes.push((await attempt(`guess${i}`, '10.9.9.9')).statusCode)
    t.same(codes, [401, 401, 401, 401, 401, 401, 429], 'IP limit after 6')

    const boot = (ip: string, username: string) =>
      h.app.inject({
        method: 'POST',
        url: '/api/admin/bootstrap',
        remoteAddress: ip,
        payload: { username, password: 'a-long-password' },
      })
    t.equal((await boot('10.1.1.1', 'a')).statusCode, 409)
    t.equal((await boot('10.1.1.1', 'b')).statusCode, 409)
    const b3 = await boot('10.1.1.1', 'c')
    t.equal(b3.statusCode, 429, 'bootstrap limited per IP')
    t.ok(b3.headers['retry-after'])
  },
)

t.test('argon2id at the OWASP floor; weaker hashes are upgraded at login', async (t) => {
  const h = await buildTestApp(t)
  const admin = await h.admin('upgrader', 'upgrade-password-1')
  const [row] = await h.ownerQuery<{ password_hash: string }>(
    'SELECT password_hash FROM admin_users WHERE id = $1',
    [admin.id],
  )
  t.match(row!.password_hash, /^\$argon2id\$v=19\$/)
  const m = /m=(\d+)/.exec(row!.password_hash)![1]
  const tc = /t=(\d+)/.exec(row!.password_hash)![1]
  t.ok(Number(m) >= 19_456, 'at least 19 MiB')
  t.ok(Number(tc) >= 2, 'at least 2 passes')

  const weak = await createPasswordHasher({
    ...PASSWORD_PARAMS,
    memoryCost: 8192,
    timeCost: 1,
  }).hash('upgrade-password-1')
  await h.ownerQuery('UPDATE admin_users SET password_hash = $1 WHERE id = $2', [weak, admin.id])
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/admin/login',
    payload: { username: 'upgrader', password: 'upgrade-password-1' },
  })
  t.equal(res.statusCode, 200, 'the old hash still verifies')
  const [after] = await h.ownerQuery<{ password_hash: string }>(
    'SELECT password_hash FROM admin_users WHERE id = $1',
    [admin.id],
  )
  t.not(after!.password_hash, weak)
  t.match(after!.password_hash, /m=19456,p=1,t=2/, 'rehashed with current parameters')
})

t.test('unknown users cost the same hash as wrong passwords', async (t) => {
  const h = await buildTestApp(t)
  await h.admin('known', 'known-password-1')
  const time = async (username: string) => {
    const start = process.hrtime.bigint()
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/admin/login',
      payload: { username, password: 'wrong password!' },
    })
    t.equal(res.statusCode, 401)
    t.same(res.json(), {
      error: { code: 'INVALID_CREDENTIALS', message: 'invalid username or password' },
    })
    return Number(process.hrtime.bigint() - start) / 1e6
  }
  await time('warmup-unknown')
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const known: number[] = []
  const unknown: number[] = []
  for (let i = 0; i < 5; i++) {
    known.push(await time('known'))
    unknown.push(await time(`nobody${i}`))
  }
  const ratio = median(unknown) / median(known)
  t.ok(ratio > 0.5 && ratio < 2, `unknown/known time ratio ${ratio.toFixed(2)} is near 1`)
})
