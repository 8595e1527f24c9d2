import t from 'tap'
import { createBasicAuthCache } from './basic-auth-cache.ts'

const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'

t.test('keys are keyed hashes that separate tenant, username and password', async (t) => {
  const cache = createBasicAuthCache()
  const k = cache.key(A, 'ann', 'secret-password')
  t.notMatch(k, 'secret')
  t.not(k, cache.key(B, 'ann', 'secret-password'), 'tenant is part of the key')
  t.not(cache.key(A, 'an', 'nsecret-password'), k, 'no ambiguity between fields')
  t.not(createBasicAuthCache().key(A, 'ann', 'secret-password'), k, 'per-process secret')
})

t.test('entries expire, are evicted oldest-first and invalidated per user', async (t) => {
  let now = 0
  const cache = createBasicAuthCache({ ttlMs: 1000, maxEntries: 2, now: () => now })
  cache.set('k1', { tenantId: A, userId: 'u1', passwordHash: 'h1' })
  t.equal(cache.get('k1')?.userId, 'u1')
  now = 999
  t.ok(cache.get('k1'))
  now = 1000
  t.equal(cache.get('k1'), undefined, 'expired at the TTL')

  cache.set('a', { tenantId: A, userId: 'u1', passwordHash: 'h' })
  cache.set('b', { tenantId: A, userId: 'u2', passwordHash: 'h' })
  cache.set('c', { tenantId: B, userId: 'u1', passwordHash: 'h' })
  t.equal(cache.size, 2)
  t.equal(cache.get('a'), undefined, 'oldest evicted')
  cache.invalidateUser(A, 'u2')
  t.equal(cache.get('b'), undefined, 'invalidated')
  t.ok(cache.get('c'), 'same user id in another tenant untouched')
})
