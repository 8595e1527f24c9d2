// Manual Admin API tokens at rest: encrypted, bound to the tenant, tamper-evident.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createDb } from '@xeno/db'
import { createTestDatabase } from '@xeno/db/testing'
import { createTenantService, createTokenCipher, type CheckShopToken } from '../src/index.ts'

const TOKEN = 'shpat_0123456789abcdef0123456789abcdef'

t.test('round trip at rest, tamper detection, tenant binding, no plaintext fallback', async (t) => {
  const tdb = await createTestDatabase()
  t.teardown(tdb.close)
  const owner = createDb({ url: tdb.ownerUrl, applicationName: 'test-owner', poolMax: 1 })
  t.teardown(() => owner.db.destroy())
  const checked: string[] = []
  // The injected Shopify check (production: one GraphQL call); here it accepts one token.
  const checkShopToken: CheckShopToken = async (shop, token) => {
    checked.push(shop)
    if (token !== TOKEN) throw new Error('rejected')
    return { name: 'Shop', ianaTimezone: 'Asia/Tokyo', currencyCode: 'JPY' }
  }
  const key = randomBytes(32)
  const tenants = createTenantService({
    db: tdb.db,
    cipher: createTokenCipher({ current: key }),
    checkShopToken,
  })
  const a = await tenants.create({ shopDomain: 'cipher-a' })
  const b = await tenants.create({ shopDomain: 'cipher-b' })
  const saved = await tenants.setManualToken(a.id, TOKEN)
  t.same(checked, ['cipher-a.myshopify.com'], 'checked against the tenant’s own shop')
  t.match(saved, { status: 'active', ianaTimezone: 'Asia/Tokyo', currency: 'JPY' })

  const column = async (id: string) =>
    (
      await owner.pool.query<{ access_token_enc: string }>(
        'SELECT access_token_enc FROM shopify_credentials WHERE tenant_id = $1',
        [id],
      )
    ).rows[0]?.access_token_enc
  const stored = (await column(a.id))!
  t.notMatch(stored, TOKEN)
  t.notMatch(stored, Buffer.from(TOKEN).toString('base64'))
  t.equal(await tenants.accessToken(a.id), TOKEN, 'decrypts')
  t.equal(await tenants.accessToken(b.id), undefined, 'no token for b')

  // Flip one bit of the ciphertext in the database: decryption must fail, never return junk.
  const parts = stored.split(':')
  const ct = Buffer.from(parts[4]!, 'base64url')
  ct[0] = ct[0]! ^ 1
  parts[4] = ct.toString('base64url')
  await owner.pool.query(
    'UPDATE shopify_credentials SET access_token_enc = $1 WHERE tenant_id = $2',
    [parts.join(':'), a.id],
  )
  await t.rejects(tenants.accessToken(a.id), /authentication failed/, 'tamper detected')

  // A ciphertext copied into another tenant's row does not decrypt there.
  await owner.pool.query(
    `INSERT INTO shopify_credentials (tenant_id, access_token_enc, source) VALUES ($1, $2, 'manual')`,
    [b.id, stored],
  )
  await t.rejects(tenants.accessToken(b.id), /authentication failed/, 'bound to its tenant')

  // A plaintext value in the column is refused, not used.
  await owner.pool.query(
    'UPDATE shopify_credentials SET access_token_enc = $1 WHERE tenant_id = $2',
    [TOKEN, a.id],
  )
  await t.rejects(tenants.accessToken(a.id), /unknown format/, 'no plaintext fallback')

  // A rejected token stores nothing and leaves the tenant as it was.
  const c = await tenants.create({ shopDomain: 'cipher-c' })
  await t.rejects(tenants.setManualToken(c.id, 'shpat_wrong'))
  t.equal(await column(c.id), undefined)
  t.equal((await tenants.get(c.id)).status, 'pending')
})
