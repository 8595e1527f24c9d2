import t from 'tap'
import { PASSWORD_PARAMS, createPasswordHasher } from './password.ts'

t.test('argon2id at or above the OWASP floor, rehash detection, bad hashes', async (t) => {
  t.ok(PASSWORD_PARAMS.memoryCost >= 19_456, '≥ 19 MiB')
  t.ok(PASSWORD_PARAMS.timeCost >= 2, 't ≥ 2')
  const hasher = createPasswordHasher()
  const hash = await hasher.hash('correct horse')
  t.match(hash, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/)
  t.equal(await hasher.verify(hash, 'correct horse'), true)
  t.equal(await hasher.verify(hash, 'correct horsE'), false)
  t.equal(await hasher.verify('not-a-hash', 'x'), false, 'malformed hash: false, no throw')
  t.equal(hasher.needsRehash(hash), false)
  const weak = await createPasswordHasher({
    ...PASSWORD_PARAMS,
    memoryCost: 4096,
    timeCost: 1,
  }).hash('correct horse')
  t.equal(hasher.needsRehash(weak), true, 'weaker parameters are upgraded')
  t.equal(await hasher.verify(weak, 'correct horse'), true)
  await hasher.burn('anything') // spends a verification without a user
})
