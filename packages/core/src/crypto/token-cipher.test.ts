import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createTokenCipher } from './token-cipher.ts'

const tenantA = '11111111-1111-4111-8111-111111111111'
const tenantB = '22222222-2222-4222-8222-222222222222'

t.test('round trip, random IV, tenant binding and tamper detection', async (t) => {
  const cipher = createTokenCipher({ current: randomBytes(32) })
  const a = cipher.encrypt('shpat_secret', tenantA)
  const b = cipher.encrypt('shpat_secret', tenantA)
  t.not(a, b, 'a fresh IV every time')
  t.notMatch(a, 'shpat_secret')
  t.equal(cipher.decrypt(a, tenantA), 'shpat_secret')
  t.throws(() => cipher.decrypt(a, tenantB), /authentication failed/, 'bound to its tenant')
  const parts = a.split(':')
  const ct = Buffer.from(parts[4]!, 'base64url')
  ct[0] = ct[0]! ^ 1
  parts[4] = ct.toString('base64url')
  t.throws(
    () => cipher.decrypt(parts.join(':'), tenantA),
    /authentication failed/,
    'tamper detected',
  )
  t.throws(
    () => cipher.decrypt('plaintext-token', tenantA),
    /unknown format/,
    'no plaintext fallback',
  )
})

t.test('key rotation', async (t) => {
  const oldKey = randomBytes(32)
  const oldCipher = createTokenCipher({ current: oldKey })
  const value = oldCipher.encrypt('shpat_x', tenantA)
  const rotated = createTokenCipher({ current: randomBytes(32), previous: [oldKey] })
  t.equal(rotated.decrypt(value, tenantA), 'shpat_x', 'old values still decrypt')
  t.ok(rotated.needsReencrypt(value))
  t.notOk(rotated.needsReencrypt(rotated.encrypt('shpat_x', tenantA)))
  const withoutOld = createTokenCipher({ current: randomBytes(32) })
  t.throws(() => withoutOld.decrypt(value, tenantA), /unknown key id/)
  t.throws(() => createTokenCipher({ current: Buffer.alloc(16) }), /32 bytes/)
})
