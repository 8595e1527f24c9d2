import { randomBytes, randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import { createTestDatabase, type TestDatabase } from '@xeno/db/testing'
import { createLogger } from '@xeno/logger'
import { createShopifyAdmin } from '@xeno/shopify'
import {
  createFakeShopify,
  type FakeShopify,
  type FakeShopifyOptions,
  type ShopParams,
} from '@xeno/shopify-fake'
import { createTokenCipher } from '../../src/crypto/token-cipher.ts'
import { createShopAccessService } from '../../src/credentials/shop-access.service.ts'
import { createSyncService, type SyncOptions } from '../../src/sync/sync.service.ts'
import { dbSnapshot, diffSnapshots, truthSnapshot } from './truth.ts'

/** A test database, a fake Shopify over HTTP and the sync service wired to both. */
export async function syncHarness(
  t: Test,
  o: {
    fake?: FakeShopifyOptions
    sync?: Partial<SyncOptions>
    fakeInstance?: FakeShopify
    tdb?: TestDatabase
  } = {},
) {
  const tdb = o.tdb ?? (await createTestDatabase())
  const fake = o.fakeInstance ?? (await createFakeShopify(o.fake))
  t.teardown(async () => {
    if (!o.fakeInstance) await fake.close()
    if (!o.tdb) await tdb.close()
  })
  const cipher = createTokenCipher({ current: randomBytes(32) })
  const admin = createShopifyAdmin({
    clientId: 'fake-client-id',
    clientSecret: 'fake-client-secret',
    adminOrigin: fake.origin,
    backoffBaseMs: 20,
    backoffMaxMs: 300,
    maxAttempts: 12,
  })
  const refreshes: string[] = []
  const access = createShopAccessService({
    db: tdb.db,
    cipher,
    refresh: async (shop, token) => {
      refreshes.push(shop)
      return admin.refreshAccessToken(shop, token)
    },
  })
  const stopped: string[] = []
  const sync = createSyncService({
    db: tdb.db,
    admin,
    access,
    log: createLogger({ level: 'silent' }),
    options: { lagMs: 0, bulkPollMs: 20, ...o.sync },
    onTenantStopped: async (id) => {
      stopped.push(id)
    },
  })

  /** A tenant connected to a new fake shop (non-expiring token unless `expiring`). */
  async function tenant(params: Omit<ShopParams, 'domain'> & { expiring?: boolean }) {
    const domain = `s${randomBytes(4).toString('hex')}.myshopify.com`
    const shop = fake.createShop({ domain, seed: 7, ...params })
    const tenantId = randomUUID()
    await tdb.ownerQuery(
      `INSERT INTO tenants (id, shop_domain, status) VALUES ($1, $2, 'active')`,
      [tenantId, domain],
    )
    await access.storeGrant(tenantId, {
      accessToken: shop.accessToken,
      scope: shop.scope,
      expiresAt: shop.expiresIn ? new Date(Date.now() + shop.expiresIn * 1000) : null,
      refreshToken: shop.refreshToken ?? null,
      refreshExpiresAt: null,
    })
    const check = async () =>
      diffSnapshots(
        await truthSnapshot(fake.origin, domain),
        await dbSnapshot(tdb.ownerUrl, tenantId),
      )
    return { domain, shop, tenantId, check, store: fake.shop(domain) }
  }

  const ownerQuery = tdb.ownerQuery

  return { tdb, fake, admin, access, sync, tenant, refreshes, stopped, ownerQuery }
}
