// The API's role is a wall even for an attacker who runs arbitrary SQL as it (an injection, a
// leaked DATABASE_URL): no setting, role switch or function call shows another tenant's rows or
// any password hash. Each trick runs on a raw connection as that role, holding a genuine
// context for tenant A (the attacker's own shop), and then reads everything it can of tenant B.
import t from 'tap'
import pg from 'pg'
import { sql } from 'kysely'
import {
  rlsBypassReason,
  signContext,
  tenantContext,
  withAdmin,
  withSystem,
  withTenant,
} from '../src/create-db.ts'
import { migrateToLatest } from '../src/migrator.ts'
import { createTestDatabase, TEST_SYSTEM_ROLE } from '../src/testing.ts'

const FORGED = `${Math.floor(Date.now() / 1000) + 600}.${'0'.repeat(64)}`
const HASH_A = '$argon2id$v=19$m=65536,t=3,p=4$tenant-a-hash'
const HASH_B = '$argon2id$v=19$m=65536,t=3,p=4$tenant-b-hash'
const ADMIN_HASH = '$argon2id$v=19$m=65536,t=3,p=4$admin-hash'

t.test('connected as the API role, no trick reads a foreign row or a password hash', async (t) => {
  const tdb = await createTestDatabase()
  t.teardown(tdb.close)
  const [a, b] = await tdb.ownerQuery<{ id: string }>(
    `INSERT INTO tenants (shop_domain) VALUES ('a-shop.myshopify.com'), ('b-shop.myshopify.com')
     RETURNING id`,
  )
  const A = a!.id
  const B = b!.id
  await tdb.ownerQuery(
    `INSERT INTO customers (tenant_id, id, email, created_at, updated_at)
     VALUES ($1, 1, 'a@example.com', now(), now()), ($2, 2, 'b@example.com', now(), now())`,
    [A, B],
  )
  await tdb.ownerQuery(
    `INSERT INTO tenant_users (tenant_id, id, username, password_hash, role) VALUES
       ($1, gen_random_uuid(), 'alice', $3, 'owner'), ($2, gen_random_uuid(), 'bob', $4, 'owner')`,
    [A, B, HASH_A, HASH_B],
  )
  await tdb.ownerQuery(
    `INSERT INTO tenant_sessions (tenant_id, user_id, token_hash, expires_at)
       SELECT tenant_id, id, sha256(convert_to(username, 'UTF8')), now() + interval '1 day'
       FROM tenant_users`,
  )
  await tdb.ownerQuery(
    `INSERT INTO api_keys (tenant_id, prefix, key_hash)
       SELECT id, 'k', sha256(convert_to(shop_domain, 'UTF8')) FROM tenants`,
  )
  await tdb.ownerQuery(`INSERT INTO admin_users (username, password_hash) VALUES ('root', $1)`, [
    ADMIN_HASH,
  ])
  await tdb.ownerQuery(
    `INSERT INTO admin_sessions (admin_id, token_hash, expires_at)
       SELECT id, sha256('admin-token'), now() + interval '1 day' FROM admin_users`,
  )
  await tdb.ownerQuery(
    `INSERT INTO oauth_states (state_hash, shop_domain, expires_at)
       VALUES (sha256('live-state'), 'b-shop.myshopify.com', now() + interval '10 minutes')`,
  )
  await tdb.ownerQuery(
    `INSERT INTO sync_checkpoints (tenant_id, resource) VALUES ($1, 'orders'), ($2, 'orders')`,
    [A, B],
  )
  await tdb.ownerQuery(
    `INSERT INTO webhook_receipts (tenant_id, webhook_id, topic, payload, status)
       VALUES ($1, 'w-b', 'orders/create', '{}', 'failed')`,
    [B],
  )

  t.equal(await rlsBypassReason(tdb.db), null, 'the API role passes the start-up check')
  t.match(
    await rlsBypassReason(tdb.db, { system: true }),
    /not a member of xeno_cross_tenant/,
    'and is not a system role',
  )

  // The attacker's own, genuine context: what an injection inside tenant A's request holds.
  const aContext = tenantContext(tdb.db, A).compile(tdb.db)
  const aMac = aContext.parameters[1] as string

  const attacker = new pg.Client({ connectionString: tdb.appUrl })
  await attacker.connect()
  t.teardown(() => attacker.end())

  /** Everything of B (and every hash) the connection can read now; an error reads nothing. */
  const loot = async (): Promise<string[]> => {
    const found: string[] = []
    const probes = [
      [`SELECT email AS v FROM customers WHERE tenant_id = '${B}'`],
      [`SELECT id::text AS v FROM tenants WHERE id = '${B}'`],
      [`SELECT password_hash AS v FROM tenant_users`],
      [`SELECT token_hash::text AS v FROM tenant_sessions WHERE tenant_id = '${B}'`],
      [`SELECT key_hash::text AS v FROM api_keys WHERE tenant_id = '${B}'`],
      [`SELECT password_hash AS v FROM admin_users`],
      [`SELECT token_hash::text AS v FROM admin_sessions`],
      [`SELECT shop_domain AS v FROM oauth_states`],
      [`SELECT key::text AS v FROM app_private.tenant_context_key`],
      [`SELECT tenant_id::text AS v FROM sync_checkpoints WHERE tenant_id = '${B}'`],
      [`SELECT tenant_id::text AS v FROM webhook_receipts WHERE tenant_id = '${B}'`],
    ]
    for (const [q] of probes) {
      await attacker.query('SAVEPOINT probe')
      try {
        const { rows } = await attacker.query<{ v: string }>(q!)
        for (const r of rows) if (r.v !== HASH_A) found.push(`${q} → ${r.v}`)
        await attacker.query('RELEASE SAVEPOINT probe')
      } catch {
        await attacker.query('ROLLBACK TO SAVEPOINT probe')
      }
    }
    return found
  }

  /** Runs a trick inside a transaction that already acts (genuinely) for tenant A. */
  const tryTrick = async (name: string, statements: string[], params: unknown[][] = []) => {
    await attacker.query('BEGIN')
    try {
      await attacker.query(aContext.sql, aContext.parameters as unknown[])
      for (const [i, s] of statements.entries()) {
        await attacker.query('SAVEPOINT trick')
        try {
          await attacker.query(s, params[i] ?? [])
          await attacker.query('RELEASE SAVEPOINT trick')
        } catch {
          await attacker.query('ROLLBACK TO SAVEPOINT trick')
        }
      }
      t.same(await loot(), [], name)
    } finally {
      await attacker.query('ROLLBACK')
    }
  }

  // Control: the probes do find B's rows and the hashes when the reader may see them (as the
  // system role in system mode), so an empty loot below means the wall, not a broken probe.
  const sys = new pg.Client({
    connectionString: tdb.systemUrl,
  })
  await sys.connect()
  await sys.query(`BEGIN; SET LOCAL app.system = 'on'`)
  const { rows: seen } = await sys.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM customers WHERE tenant_id = $1)::int
          + (SELECT count(*) FROM admin_users)::int + (SELECT count(*) FROM tenant_users)::int AS n`,
    [B],
  )
  await sys.query('ROLLBACK')
  await sys.end()
  t.equal(seen[0]?.n, 4, 'control: the system role in system mode sees B and every user')
  // And the attacker's own context works: it sees A's customer.
  await attacker.query('BEGIN')
  await attacker.query(aContext.sql, aContext.parameters as unknown[])
  const own = await attacker.query(`SELECT id FROM customers`)
  await attacker.query('ROLLBACK')
  t.equal(own.rowCount, 1, "control: a genuine context sees its own tenant's row")

  await tryTrick('SET app.system', [`SET app.system = 'on'`])
  await tryTrick('SET LOCAL app.system', [`SET LOCAL app.system = 'on'`])
  await tryTrick('set_config app.system', [`SELECT set_config('app.system', 'on', false)`])
  await tryTrick('SET LOCAL app.tenant_id, no MAC', [
    `RESET app.tenant_mac`,
    `SET LOCAL app.tenant_id = '${B}'`,
  ])
  await tryTrick("set_config app.tenant_id with A's MAC", [
    `SELECT set_config('app.tenant_id', '${B}', true)`,
  ])
  await tryTrick('SET LOCAL app.tenant_id with a forged MAC', [
    `SET LOCAL app.tenant_id = '${B}'`,
    `SET LOCAL app.tenant_mac = '${FORGED}'`,
  ])
  await tryTrick(
    "A's MAC with its expiry pushed out",
    [`SELECT set_config('app.tenant_mac', $1, true)`],
    [[`9999999999.${aMac.split('.')[1]}`]],
  )
  await tryTrick('RESET and RESET ALL', [`RESET app.tenant_id`, `RESET ALL`])
  await tryTrick('a forged admin MAC', [`SET LOCAL app.admin_mac = '${FORGED}'`])
  await tryTrick(
    "A's tenant MAC as an admin MAC",
    [`SELECT set_config('app.admin_mac', $1, true)`],
    [[aMac]],
  )
  await tryTrick('SET ROLE to the other roles', [
    `SET ROLE xeno_definer`,
    `SET ROLE xeno_cross_tenant`,
    `SET ROLE ${TEST_SYSTEM_ROLE}`,
    `SET ROLE postgres`,
    `SET SESSION AUTHORIZATION postgres`,
  ])
  await tryTrick('a temp table shadowing the key', [
    `CREATE TEMP TABLE tenant_context_key (id int, key bytea)`,
    `INSERT INTO pg_temp.tenant_context_key VALUES (1, '\\x00')`,
    `SET search_path = pg_temp, public`,
    `SET LOCAL app.tenant_id = '${B}'`,
  ])
  await tryTrick('writing the key', [
    `UPDATE app_private.tenant_context_key SET key = sha256('x')`,
    `ALTER FUNCTION app_current_tenant() OWNER TO CURRENT_USER`,
    `CREATE OR REPLACE FUNCTION app_is_system() RETURNS boolean LANGUAGE sql AS 'SELECT true'`,
    `ALTER TABLE customers DISABLE ROW LEVEL SECURITY`,
  ])

  // The narrow functions, called with guessed values (right values, wrong or no MAC).
  const calls: [string, unknown[]][] = [
    [`SELECT * FROM app_tenant_by_shop('b-shop.myshopify.com', $1)`, [FORGED]],
    [`SELECT * FROM app_tenant_by_shop('b-shop.myshopify.com', $1)`, [aMac]],
    [`SELECT * FROM app_list_tenants(NULL, 100, $1)`, [FORGED]],
    [`SELECT * FROM app_fleet_sync_checkpoints($1)`, [FORGED]],
    [`SELECT * FROM app_fleet_webhook_receipts($1)`, [FORGED]],
    [`SELECT * FROM app_reset_receipt_for_replay(gen_random_uuid(), $1)`, [FORGED]],
    [`SELECT * FROM app_admin_list_receipts('failed', 100, NULL, $1)`, [FORGED]],
    [`SELECT * FROM app_admin_list_receipts('failed', 100, NULL, $1)`, [aMac]],
    [`SELECT * FROM app_admin_receipt(gen_random_uuid(), $1)`, [FORGED]],
    [`SELECT * FROM app_api_key_by_hash(sha256('guess'))`, []],
    [`SELECT * FROM app_tenant_session_by_hash(sha256('guess'))`, []],
    [`SELECT app_consume_oauth_state(sha256('guess'), 'b-shop.myshopify.com', now())`, []],
    [`SELECT app_private.mac_ok('tenant:${B}', $1)`, [FORGED]],
  ]
  for (const [q, params] of calls) {
    const rows = await attacker.query(q, params).then(
      (r) => r.rows.filter((row) => Object.values(row).some((v) => v !== null && v !== false)),
      () => [],
    )
    t.same(rows, [], `no row from ${q}`)
  }
  // The replay function changed nothing either.
  const [receipt] = await tdb.ownerQuery<{ status: string }>(`SELECT status FROM webhook_receipts`)
  t.equal(receipt?.status, 'failed')

  // Another session's signed context never shows in pg_stat_activity (bind parameters, not a
  // SET LOCAL literal): hold B's genuine transaction open while the attacker looks.
  const holding = withTenant(tdb.db, B, async (trx) => {
    await sql`SELECT pg_sleep(0.5)`.execute(trx)
  })
  await new Promise((r) => setTimeout(r, 150))
  const { rows: activity } = await attacker.query<{ query: string }>(
    `SELECT query FROM pg_stat_activity WHERE datname = current_database()`,
  )
  await holding
  t.ok(activity.length > 1, 'the attacker sees the other session')
  t.notOk(
    activity.some((r) => /\d{10}\.[0-9a-f]{64}/.test(r.query)),
    'and no signed context in any query text',
  )

  // The system role cannot do more than system work either: it cannot read the key.
  const sysAttacker = new pg.Client({ connectionString: tdb.systemUrl })
  await sysAttacker.connect()
  await t.rejects(
    sysAttacker.query(`SELECT key FROM app_private.tenant_context_key`),
    /permission denied/,
    'the system role cannot read the key',
  )
  await sysAttacker.end()
})

t.test('the legitimate paths still work', async (t) => {
  const tdb = await createTestDatabase()
  t.teardown(tdb.close)
  const [a] = await tdb.ownerQuery<{ id: string }>(
    `INSERT INTO tenants (shop_domain) VALUES ('a-shop.myshopify.com') RETURNING id`,
  )
  const { db, systemDb } = tdb
  const shop = await sql<{ id: string }>`
    SELECT * FROM app_tenant_by_shop('a-shop.myshopify.com', ${signContext(db, 'shop:a-shop.myshopify.com')})`.execute(
    db,
  )
  t.same(
    shop.rows.map((r) => r.id),
    [a!.id],
    'a signed shop lookup resolves the tenant',
  )
  const listed = await sql<{ id: string }>`
    SELECT * FROM app_list_tenants(NULL, 10, ${signContext(db, 'tenants')})`.execute(db)
  t.equal(listed.rows.length, 1, 'the signed admin listing lists')
  await withAdmin(db, (trx) =>
    trx.insertInto('adminUsers').values({ username: 'root', passwordHash: 'h' }).execute(),
  )
  t.equal(
    (await withAdmin(db, (trx) => trx.selectFrom('adminUsers').select('id').execute())).length,
    1,
    'admin mode reads admins',
  )
  t.same(await db.selectFrom('adminUsers').select('id').execute(), [], 'and nothing else does')
  await t.rejects(
    withSystem(db, (trx) => trx.selectFrom('tenants').select('id').execute()),
    /may not act across tenants/,
    'the API role is told it may not use system mode',
  )
  t.equal(
    (await withSystem(systemDb, (trx) => trx.selectFrom('tenants').select('id').execute())).length,
    1,
    'the system role may',
  )
  t.same(
    await withTenant(systemDb, a!.id, (trx) =>
      trx.selectFrom('customers').select('id').where('tenantId', '!=', a!.id).execute(),
    ),
    [],
    "the system role's tenant transactions are confined like the API's",
  )
  t.equal(await rlsBypassReason(systemDb, { system: true }), null)
  t.match(await rlsBypassReason(systemDb), /member of xeno_cross_tenant/)
  // The migrator refuses to make the API's role the system role.
  await t.rejects(
    migrateToLatest({ ownerUrl: tdb.ownerUrl, runtimeUrl: tdb.appUrl, systemUrl: tdb.appUrl }),
    /DATABASE_SYSTEM_URL must use another role/,
  )
})
