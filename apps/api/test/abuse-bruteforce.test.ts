// Brute force: password guessing is throttled (429 with Retry-After) per IP and per account, for
// the tenant and admin logins and HTTP Basic; once a limit trips, further attempts are refused
// before any argon2 work, so one client cannot turn guessing into CPU exhaustion.
import t from 'tap'
import { createPasswordHasher, type PasswordHasher } from '@xeno/core'
import { buildTestApp } from './support/app.ts'

/** A real argon2 hasher that counts every hash, verify and burn (the CPU-heavy calls). */
function countingHasher() {
  const base = createPasswordHasher()
  const counts = { argon2: 0 }
  const hasher: PasswordHasher = {
    ...base,
    hash: (pw) => {
      counts.argon2++
      return base.hash(pw)
    },
    verify: (hash, pw) => {
      counts.argon2++
      return base.verify(hash, pw)
    },
    burn: (pw) => {
      counts.argon2++
      return base.burn(pw)
    },
  }
  return { hasher, counts }
}

const basic = (u: string, p: string) => ({
  authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`,
})

t.test('tenant login: throttled per account, then refused without hashing', async (t) => {
  const { hasher, counts } = countingHasher()
  const h = await buildTestApp(t, {
    hasher,
    limits: {
      loginPerAccount: { max: 5, windowMs: 60_000 },
      loginPerIp: { max: 1_000, windowMs: 60_000 },
    },
  })
  const tenant = await h.tenant('brute-store')
  const user = await h.user(tenant.id, { username: 'victim' })
  const login = (password: string, ip = '10.1.0.1') =>
    h.app.inject({
      method: 'POST',
      url: '/api/tenant/login',
      remoteAddress: ip,
      payload: { shop: tenant.shopDomain, username: user.username, password },
    })
  const before = counts.argon2
  for (let i = 0; i < 5; i++)
    t.equal((await login(`guess-number-${i}`)).statusCode, 401, `guess ${i} is checked`)
  t.equal(counts.argon2 - before, 5, 'each allowed guess costs one argon2 verification')

  const tripped = await login('guess-number-5')
  t.equal(tripped.statusCode, 429, 'the sixth guess is throttled')
  t.ok(Number(tripped.headers['retry-after']) >= 1, 'with Retry-After')
  t.equal(tripped.json().error.code, 'RATE_LIMITED')

  const afterTrip = counts.argon2
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      login(`flood-guess-number-${i}`, `10.2.${i >> 8}.${i & 255}`),
    ),
  )
  t.same(new Set(results.map((r) => r.statusCode)), new Set([429]), '200 more guesses: all 429')
  t.equal(counts.argon2, afterTrip, 'and not one of them reached argon2')
  t.equal(
    (await login(user.password)).statusCode,
    429,
    'the right password is refused too while the account is throttled',
  )
  t.equal(counts.argon2, afterTrip)
})

t.test('tenant login: throttled per IP across accounts, unknown users included', async (t) => {
  const { hasher, counts } = countingHasher()
  const h = await buildTestApp(t, {
    hasher,
    limits: {
      loginPerIp: { max: 10, windowMs: 60_000 },
      loginPerAccount: { max: 1_000, windowMs: 60_000 },
    },
  })
  const tenant = await h.tenant('spray-store')
  const spray = (i: number) =>
    h.app.inject({
      method: 'POST',
      url: '/api/tenant/login',
      remoteAddress: '10.9.9.9',
      payload: { shop: tenant.shopDomain, username: `nobody-${i}`, password: 'some-password-1' },
    })
  const codes: number[] = []
  for (let i = 0; i < 10; i++) codes.push((await spray(i)).statusCode)
  t.same(new Set(codes), new Set([401]), 'unknown users answer like wrong passwords')
  const spent = counts.argon2
  t.equal(spent, 10, 'unknown users cost a dummy verification (no timing oracle)')
  const more = await Promise.all(Array.from({ length: 100 }, (_, i) => spray(100 + i)))
  t.same(new Set(more.map((r) => r.statusCode)), new Set([429]))
  t.ok(
    more.every((r) => Number(r.headers['retry-after']) >= 1),
    'every 429 has Retry-After',
  )
  t.equal(counts.argon2, spent, 'no argon2 work once the IP is throttled')

  const elsewhere = await h.app.inject({
    method: 'POST',
    url: '/api/tenant/login',
    remoteAddress: '10.9.9.10',
    payload: { shop: tenant.shopDomain, username: 'nobody-x', password: 'some-password-1' },
  })
  t.equal(elsewhere.statusCode, 401, 'another client is not affected')
})

t.test('admin login is throttled the same way', async (t) => {
  const { hasher, counts } = countingHasher()
  const h = await buildTestApp(t, {
    hasher,
    limits: {
      loginPerAccount: { max: 3, windowMs: 60_000 },
      loginPerIp: { max: 1_000, windowMs: 60_000 },
    },
  })
  await h.services.admins.createAdmin('root-admin', 'admin-password-1')
  const login = (password: string) =>
    h.app.inject({
      method: 'POST',
      url: '/api/admin/login',
      payload: { username: 'root-admin', password },
    })
  for (let i = 0; i < 3; i++) t.equal((await login(`wrong-password-${i}`)).statusCode, 401)
  const spent = counts.argon2
  const flood = await Promise.all(
    Array.from({ length: 50 }, (_, i) => login(`flood-guess-number-${i}`)),
  )
  t.same(new Set(flood.map((r) => r.statusCode)), new Set([429]))
  t.ok(Number(flood[0]!.headers['retry-after']) >= 1)
  t.equal(counts.argon2, spent, 'no argon2 work after the limit')
})

t.test('HTTP Basic: throttled per account and per IP, without hashing once tripped', async (t) => {
  const { hasher, counts } = countingHasher()
  const h = await buildTestApp(t, {
    hasher,
    limits: {
      basicPerAccount: { max: 4, windowMs: 60_000 },
      basicPerIp: { max: 8, windowMs: 60_000 },
    },
  })
  const tenant = await h.tenant('basic-store')
  const user = await h.user(tenant.id, { username: 'basic-victim' })
  const get = (headers: Record<string, string>, ip: string) =>
    h.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers, remoteAddress: ip })

  for (let i = 0; i < 4; i++)
    t.equal((await get(basic(user.username, `wrong-${i}`), `10.3.0.${i}`)).statusCode, 401)
  const spent = counts.argon2
  const flood = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      get(basic(user.username, `flood-guess-number-${i}`), `10.4.0.${i}`),
    ),
  )
  t.same(new Set(flood.map((r) => r.statusCode)), new Set([429]), 'per account, from any IP')
  t.ok(Number(flood[0]!.headers['retry-after']) >= 1, 'with Retry-After')
  t.equal(counts.argon2, spent, 'no argon2 work for throttled Basic attempts')

  // Per IP: many accounts from one address.
  const ipCodes: number[] = []
  for (let i = 0; i < 8; i++)
    ipCodes.push((await get(basic(`sprayed-${i}`, 'whatever-pw'), '10.5.5.5')).statusCode)
  t.same(new Set(ipCodes), new Set([401]))
  const spentIp = counts.argon2
  const sprayed = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      get(basic(`sprayed-${100 + i}`, 'whatever-pw'), '10.5.5.5'),
    ),
  )
  t.same(new Set(sprayed.map((r) => r.statusCode)), new Set([429]), 'per IP')
  t.equal(counts.argon2, spentIp, 'no argon2 work once the IP is throttled')
})

t.test('concurrent identical Basic guesses share one argon2 verification', async (t) => {
  const { hasher, counts } = countingHasher()
  const h = await buildTestApp(t, { hasher })
  const tenant = await h.tenant('burst-store')
  const user = await h.user(tenant.id)
  const before = counts.argon2
  const burst = await Promise.all(
    Array.from({ length: 50 }, () =>
      h.app.inject({
        method: 'GET',
        url: `/api/tenants/${tenant.id}`,
        headers: basic(user.username, 'the-same-wrong-password'),
      }),
    ),
  )
  t.same(new Set(burst.map((r) => r.statusCode)), new Set([401]))
  // Single-flight: copies arriving while a verification runs wait for it; only a copy arriving
  // after it finished (a failure is never cached) starts another.
  t.ok(
    counts.argon2 - before <= 3,
    `50 concurrent copies cost ${counts.argon2 - before} argon2 verifications`,
  )
})
