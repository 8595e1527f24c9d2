import t from 'tap'
import pg from 'pg'
import { sql } from 'kysely'
import { rlsBypassReason, withSystem, withTenant } from '../src/create-db.ts'
import { createTestDatabase } from '../src/testing.ts'

t.test('row-level security is the second wall', async (t) => {
  const tdb = await createTestDatabase()
  t.teardown(tdb.close)
  const owner = new pg.Client({ connectionString: tdb.ownerUrl })
  await owner.connect()
  t.teardown(() => owner.end())

  const { rows } = await owner.query<{ id: string; shop_domain: string }>(
    `INSERT INTO tenants (shop_domain) VALUES ('a-shop.myshopify.com'), ('b-shop.myshopify.com') RETURNING id, shop_domain`,
  )
  const a = rows[0]!
  const b = rows[1]!
  await owner.query(
    `INSERT INTO customers (tenant_id, id, email, created_at, updated_at)
     VALUES ($1, 1, 'a@example.com', now(), now()), ($2, 2, 'b@example.com', now(), now())`,
    [a.id, b.id],
  )
  const db = tdb.db

  t.equal(await rlsBypassReason(db), null, 'runtime role does not bypass RLS')
  const { rows: owned } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user`.execute(
    db,
  )
  t.equal(owned[0]?.n, 0, 'runtime role owns no table')

  // A query that forgets the tenant filter still sees only its tenant's rows.
  const seenByA = await withTenant(db, a.id, (trx) =>
    trx.selectFrom('customers').select(['id', 'email']).execute(),
  )
  t.same(seenByA, [{ id: '1', email: 'a@example.com' }])
  const tenantsSeenByA = await withTenant(db, a.id, (trx) =>
    trx.selectFrom('tenants').select('id').execute(),
  )
  t.same(
    tenantsSeenByA.map((r) => r.id),
    [a.id],
    'only its own tenant row',
  )

  // Without a tenant, nothing at all.
  t.same(await db.selectFrom('customers').select('id').execute(), [])

  // Writing a row for another tenant is refused.
  await t.rejects(
    withTenant(db, a.id, (trx) =>
      trx
        .insertInto('customers')
        .values({ tenantId: b.id, id: '3', createdAt: new Date(), updatedAt: new Date() })
        .execute(),
    ),
    /row-level security/,
  )
  // Updating another tenant's row affects nothing.
  const upd = await withTenant(db, a.id, (trx) =>
    trx.updateTable('customers').set({ email: 'x' }).where('id', '=', '2').executeTakeFirst(),
  )
  t.equal(upd.numUpdatedRows, 0n)

  // Explicit system mode sees across tenants (schedulers, sweepers): only as the system role.
  const all = await withSystem(tdb.systemDb, (trx) =>
    trx.selectFrom('customers').select('id').execute(),
  )
  t.equal(all.length, 2)
  await t.rejects(
    withSystem(db, (trx) => trx.selectFrom('customers').select('id').execute()),
    /may not act across tenants/,
  )

  // The setting is transaction-local: it does not leak to the next user of the connection.
  t.same(await db.selectFrom('customers').select('id').execute(), [])
})
