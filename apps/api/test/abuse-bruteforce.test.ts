// Brute force: password guessing is slowed per (account, address) with growing delays and
// limited per IP (429 with Retry-After), for the tenant and admin logins and HTTP Basic; once a
// pair waits or an IP is limited, further attempts are refused before any argon2 work, so one
// client cannot turn guessing into CPU exhaustion — and a third party guessing from its own
// addresses never locks the real user out.
import t from 'tap'
import { createHealthService, createPasswordHasher, type PasswordHasher } from '@xeno/core'
import { createLogger } from '@xeno/logger'
import { createRedis } from '@xeno/queues'
import { testRedisUrl } from '@xeno/queues/testing'
import { buildApp } from '../src/app.ts'
import { APP_URL, buildTestApp } from './support/app.ts'

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

t.test('tenant login: slowed per (account, address), the user elsewhere unaffected', async (t) => {
  const { hasher, counts } = countingHasher()
  const h = await buildTestApp(t, {
    hasher,
    limits: { loginPerIp: { max: 1_000, windowMs: 60_000 } },
    failures: { free: 5, baseDelayMs: 2_000, maxDelayMs: 60_000 },
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
  for (let i = 0; i < 6; i++)
    t.equal((await login(`guess-number-${i}`)).statusCode, 401, `guess ${i} is checked`)
  t.equal(counts.argon2 - before, 6, 'each allowed guess costs one argon2 verification')

  const tripped = await login('guess-number-6')
  t.equal(tripped.statusCode, 429, 'past the free failures the pair waits')
  t.ok(Number(tripped.headers['retry-after']) >= 1, 'with Retry-After')
  t.equal(tripped.json().error.code, 'RATE_LIMITED')

  const afterTrip = counts.argon2
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) => login(`flood-guess-number-${i}`)),
  )
  t.same(new Set(results.map((r) => r.statusCode)), new Set([429]), '200 more guesses: all 429')
  t.equal(counts.argon2, afterTrip, 'and not one of them reached argon2')
  t.equal((await login(user.password)).statusCode, 429, 'that address waits even when right')

  // Ten wrong passwords from ten other addresses: the user, from their own, still signs in.
  for (let i = 0; i < 10; i++)
    t.equal((await login('wrong-password-elsewhere', `10.2.0.${i}`)).statusCode, 401)
  t.equal((await login(user.password, '10.3.0.1')).statusCode, 200, 'not locked out')

  // Delays grow: a pair past its free failures waits longer after each further one.
  const waits: number[] = []
  for (let i = 0; i < 6; i++) await login('wrong-password-x', '10.4.0.1')
  waits.push(Number((await login('wrong-password-x', '10.4.0.1')).headers['retry-after']))
  t.ok(waits[0]! >= 1 && waits[0]! <= 2, `the first delay is the base (${waits[0]} s)`)
  await new Promise((r) => setTimeout(r, 2_100))
  t.equal((await login('wrong-password-x', '10.4.0.1')).statusCode, 401, 'checked once it passed')
  waits.push(Number((await login('wrong-password-x', '10.4.0.1')).headers['retry-after']))
  t.ok(waits[1]! > waits[0]!, `then it doubles (${waits[1]} s)`)
})

t.test('a success clears the pair; failures are shared by every replica (Redis)', async (t) => {
  const h = await buildTestApp(t, {
    limits: { loginPerIp: { max: 1_000, windowMs: 60_000 } },
    failures: { free: 3, baseDelayMs: 60_000 },
  })
  const tenant = await h.tenant('replica-store')
  const user = await h.user(tenant.id, { username: 'shared' })
  const login = (password: string, ip: string) =>
    h.app.inject({
      method: 'POST',
      url: '/api/tenant/login',
      remoteAddress: ip,
      payload: { shop: tenant.shopDomain, username: user.username, password },
    })
  for (let i = 0; i < 3; i++) await login('wrong-password', '10.6.0.1')
  t.equal((await login(user.password, '10.6.0.1')).statusCode, 200, 'within the free failures')
  for (let i = 0; i < 3; i++)
    t.equal((await login('wrong-password', '10.6.0.1')).statusCode, 401, 'the count started over')
  t.equal((await login('wrong-password', '10.6.0.1')).statusCode, 401, 'past the free ones')

  // A second API replica on the same Redis and prefix sees the same counts.
  const redis = createRedis(testRedisUrl(), 'producer', () => {})
  t.teardown(() => redis.disconnect())
  // A producer connection refuses commands until ready (the limits would fail open).
  if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r))
  const replica = await buildApp({
    logger: createLogger({ level: 'silent' }),
    health: createHealthService({ pingDb: async () => true, pingRedis: async () => true }),
    auth: {
      ...h.services,
      appUrl: APP_URL,
      cookieSecure: true,
      limits: { loginPerIp: { max: 1_000, windowMs: 60_000 } },
      failures: { free: 3, baseDelayMs: 60_000 },
      limiterStore: { redis, prefix: h.queuePrefix },
    },
  })
  t.teardown(() => replica.close())
  const onReplica = await replica.inject({
    method: 'POST',
    url: '/api/tenant/login',
    remoteAddress: '10.6.0.1',
    payload: { shop: tenant.shopDomain, username: user.username, password: 'wrong-password' },
  })
  t.equal(onReplica.statusCode, 429, "the other replica counts this replica's failures")
  const stored = await redis.keys(`${h.queuePrefix}:limits:fail:*`)
  t.ok(stored.length > 0, 'the counts live in Redis under the deployment prefix')
  t.notOk(
    stored.some((k) => k.includes('shared') || k.includes('10.6.0.1')),
    'keyed by a hash, not the username or address',
  )
})

t.test('tenant login: throttled per IP across accounts, unknown users included', async (t) => {
  const { hasher, counts } = countingHasher()
  const h = await buildTestApp(t, {
    hasher,
    limits: {
      loginPerIp: { max: 10, windowMs: 60_000 },
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

t.test('admin login is slowed the same way', async (t) => {
  const { hasher, counts } = countingHasher()
  const h = await buildTestApp(t, {
    hasher,
    limits: { loginPerIp: { max: 1_000, windowMs: 60_000 } },
    failures: { free: 3, baseDelayMs: 60_000 },
  })
  await h.services.admins.createAdmin('root-admin', 'admin-password-1')
  const login = (password: string, ip = '10.8.0.1') =>
    h.app.inject({
      method: 'POST',
      url: '/api/admin/login',
      remoteAddress: ip,
      payload: { username: 'root-admin', password },
    })
  for (let i = 0; i < 4; i++) t.equal((await login(`wrong-password-${i}`)).statusCode, 401)
  const spent = counts.argon2
  const flood = await Promise.all(
    Array.from({ length: 50 }, (_, i) => login(`flood-guess-number-${i}`)),
  )
  t.same(new Set(flood.map((r) => r.statusCode)), new Set([429]))
  t.ok(Number(flood[0]!.headers['retry-after']) >= 1)
  t.equal(counts.argon2, spent, 'no argon2 work after the limit')
  t.equal((await login('admin-password-1', '10.8.0.2')).statusCode, 200, 'elsewhere: signs in')
})

t.test(
  'HTTP Basic: slowed per (account, address), limited per IP, no hashing once tripped',
  async (t) => {
    const { hasher, counts } = countingHasher()
    const h = await buildTestApp(t, {
      hasher,
      limits: { basicPerIp: { max: 8, windowMs: 60_000 } },
      failures: { free: 4, baseDelayMs: 60_000 },
    })
    const tenant = await h.tenant('basic-store')
    const user = await h.user(tenant.id, { username: 'basic-victim' })
    const get = (headers: Record<string, string>, ip: string) =>
      h.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers, remoteAddress: ip })

    for (let i = 0; i < 5; i++)
      t.equal((await get(basic(user.username, `wrong-${i}`), '10.3.0.1')).statusCode, 401)
    const spent = counts.argon2
    const flood = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        get(basic(user.username, `flood-guess-number-${i}`), '10.3.0.1'),
      ),
    )
    t.same(new Set(flood.map((r) => r.statusCode)), new Set([429]), 'that address waits')
    t.ok(Number(flood[0]!.headers['retry-after']) >= 1, 'with Retry-After')
    t.equal(counts.argon2, spent, 'no argon2 work for throttled Basic attempts')
    t.equal((await get(user.basic, '10.3.0.2')).statusCode, 200, 'the user elsewhere is served')

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
  },
)

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
