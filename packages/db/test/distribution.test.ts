// Citus readiness on plain PostgreSQL: the distribution plan derived from the migrated schema's
// catalog, checked against its foreign-key graph, and the lint rules a distributed engine imposes
// on the schema and on the SQL source. Citus itself is not installable here (not in Debian's
// packages), so nothing below runs on a real Citus: the plan is what `pnpm db:distribute` executes.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import {
  applyDistribution,
  distributionStatements,
  planDistribution,
  readCatalog,
  type CatalogTable,
  type DistributionStep,
} from '../src/distribution.ts'
import { createOwnerDb } from '../src/migrator.ts'
import { createTestDatabase } from '../src/testing.ts'
import {
  foreignKeysAcrossTenants,
  keysWithoutTenant,
  unnamedConstraints,
  volatileInWrites,
} from './support/distribution-lint.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

async function sources(dirs: string[]): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = []
  const walk = async (dir: string) => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
        out.push({ file: path.relative(root, p), text: await fs.readFile(p, 'utf8') })
    }
  }
  for (const d of dirs) await walk(path.join(root, d))
  return out
}

async function migratedCatalog(t: Test) {
  const tdb = await createTestDatabase()
  const owner = createOwnerDb(tdb.ownerUrl)
  t.teardown(async () => {
    await owner.destroy()
    await tdb.close()
  })
  return { tdb, owner, catalog: await readCatalog(owner) }
}

/** Asserts the plan's order against the catalog's foreign keys; returns the positions. */
function checkOrder(t: Test, catalog: CatalogTable[], plan: DistributionStep[]) {
  const pos = new Map(plan.map((s, i) => [s.table, i]))
  t.same([...pos.keys()].sort(), catalog.map((c) => c.name).sort(), 'every table exactly once')
  t.equal(pos.size, plan.length)
  for (const table of catalog)
    for (const fk of table.foreignKeys)
      if (fk.references !== table.name)
        t.ok(
          pos.get(fk.references)! < pos.get(table.name)!,
          `${fk.references} before ${table.name} (${fk.name})`,
        )
  const kinds = plan.map((s) => s.kind)
  t.ok(
    kinds.lastIndexOf('reference') < kinds.indexOf('distributed'),
    'reference tables before every distributed table',
  )
  const refs = new Set(plan.filter((s) => s.kind === 'reference').map((s) => s.table))
  for (const table of catalog.filter((c) => refs.has(c.name)))
    for (const fk of table.foreignKeys)
      t.ok(refs.has(fk.references), `reference ${table.name} references only reference tables`)
  return pos
}

t.test('the plan of the migrated schema', async (t) => {
  const { catalog } = await migratedCatalog(t)
  const plan = planDistribution(catalog)
  checkOrder(t, catalog, plan)
  const reference = plan.filter((s) => s.kind === 'reference').map((s) => s.table)
  t.same(
    reference.sort(),
    ['admin_sessions', 'admin_users', 'oauth_states', 'tenants', 'webhook_receipt_counts'],
    'the reference tables: those without tenant_id',
  )
  const tenantTables = catalog.filter((c) => c.hasTenantId).map((c) => c.name)
  const distributed = plan.filter((s) => s.kind === 'distributed')
  t.same(distributed.map((s) => s.table).sort(), tenantTables.sort(), 'every tenant table')
  t.ok(distributed.length >= 20, `${distributed.length} distributed tables`)
  t.match(distributed[0], { table: 'orders', column: 'tenant_id', colocateWith: null })
  for (const s of distributed.slice(1))
    t.match(s, { column: 'tenant_id', colocateWith: 'orders' }, `${s.table} colocated with orders`)
  const lines = catalog.find((c) => c.name === 'order_line_items')!
  t.ok(
    lines.foreignKeys.some((f) => f.references === 'orders'),
    'the graph has tenant-to-tenant foreign keys (order_line_items → orders)',
  )
})

t.test('tables a later migration adds join the plan after their parents', async (t) => {
  const { tdb, owner } = await migratedCatalog(t)
  // Named so that the name order alone would put the child first.
  await tdb.ownerQuery(`CREATE TABLE b_shipments (tenant_id uuid NOT NULL REFERENCES tenants(id),
      id bigint NOT NULL, order_id bigint NOT NULL,
      CONSTRAINT b_shipments_pk PRIMARY KEY (tenant_id, id),
      CONSTRAINT b_shipments_order_fk FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id))`)
  await tdb.ownerQuery(`CREATE TABLE a_parcels (tenant_id uuid NOT NULL, id bigint NOT NULL,
      shipment_id bigint NOT NULL, CONSTRAINT a_parcels_pk PRIMARY KEY (tenant_id, id),
      CONSTRAINT a_parcels_shipment_fk FOREIGN KEY (tenant_id, shipment_id)
        REFERENCES b_shipments (tenant_id, id))`)
  await tdb.ownerQuery(`CREATE TABLE currencies (code text CONSTRAINT currencies_pk PRIMARY KEY)`)
  const catalog = await readCatalog(owner)
  const plan = planDistribution(catalog)
  const pos = checkOrder(t, catalog, plan)
  t.ok(pos.get('orders')! < pos.get('b_shipments')!)
  t.ok(pos.get('b_shipments')! < pos.get('a_parcels')!, 'the child after its parent')
  t.match(plan[pos.get('a_parcels')!], { kind: 'distributed', colocateWith: 'orders' })
  t.match(plan[pos.get('currencies')!], { kind: 'reference', reason: 'no tenant_id column' })
})

t.test('plan rules on synthetic catalogs', async (t) => {
  const table = (name: string, extra: Partial<CatalogTable> = {}): CatalogTable => ({
    name,
    hasTenantId: true,
    uniqueKeys: [{ name: `${name}_pk`, columns: ['tenant_id', 'id'] }],
    foreignKeys: [],
    ...extra,
  })
  const fk = (references: string) => ({
    name: `to_${references}`,
    columns: ['tenant_id', 'x'],
    references,
    refColumns: ['tenant_id', 'id'],
  })
  // A table with tenant_id but a key without it cannot be distributed: reference (and the lint
  // below flags it).
  const plan = planDistribution([
    table('tenants', { hasTenantId: false }),
    table('orders', { foreignKeys: [fk('accounts')] }),
    table('accounts'),
    table('coupons', { uniqueKeys: [{ name: 'coupons_code_key', columns: ['code'] }] }),
  ])
  t.same(
    plan.map((s) => [s.table, s.kind, s.kind === 'distributed' ? s.colocateWith : s.reason]),
    [
      ['coupons', 'reference', 'unique key coupons_code_key (code) lacks tenant_id'],
      ['tenants', 'reference', 'no tenant_id column'],
      ['accounts', 'distributed', null],
      ['orders', 'distributed', 'accounts'],
    ],
    'a parent of orders anchors the colocation group; orders follows it',
  )
  t.throws(
    () =>
      planDistribution([
        table('a', { foreignKeys: [fk('b')] }),
        table('b', { foreignKeys: [fk('a')] }),
      ]),
    /foreign-key cycle among a, b/,
  )
})

t.test('the Citus statements, idempotent', async (t) => {
  const plan: DistributionStep[] = [
    { table: 'tenants', kind: 'reference', reason: 'no tenant_id column' },
    { table: 'orders', kind: 'distributed', column: 'tenant_id', colocateWith: null },
    { table: 'refunds', kind: 'distributed', column: 'tenant_id', colocateWith: 'orders' },
  ]
  t.same(distributionStatements(plan, new Map()), [
    "SELECT create_reference_table('tenants')",
    "SELECT create_distributed_table('orders', 'tenant_id')",
    "SELECT create_distributed_table('refunds', 'tenant_id', colocate_with => 'orders')",
  ])
  t.same(
    distributionStatements(
      plan,
      new Map([
        ['tenants', 'reference'],
        ['orders', 'distributed'],
        ['refunds', 'local'],
      ]),
    ),
    ["SELECT create_distributed_table('refunds', 'tenant_id', colocate_with => 'orders')"],
    'done tables are skipped; a Citus local table is distributed again',
  )
  t.same(
    distributionStatements(
      plan,
      new Map([
        ['tenants', 'reference'],
        ['orders', 'distributed'],
        ['refunds', 'distributed'],
      ]),
    ),
    [],
    'nothing to do once distributed',
  )
  const { owner } = await migratedCatalog(t)
  await t.rejects(applyDistribution(owner), /citus extension is not installed/)
})

t.test('schema lint: keys and foreign keys of tenant tables include tenant_id', async (t) => {
  const { catalog } = await migratedCatalog(t)
  t.same(keysWithoutTenant(catalog), [], 'every unique and primary key includes tenant_id')
  t.same(foreignKeysAcrossTenants(catalog), [], 'tenant-to-tenant foreign keys join tenant_id')
  // The rules catch what they are for.
  const bad: CatalogTable[] = [
    {
      name: 'orders',
      hasTenantId: true,
      uniqueKeys: [{ name: 'orders_pk', columns: ['tenant_id', 'id'] }],
      foreignKeys: [],
    },
    {
      name: 'notes',
      hasTenantId: true,
      uniqueKeys: [{ name: 'notes_pk', columns: ['id'] }],
      foreignKeys: [
        { name: 'notes_order_fk', columns: ['order_id'], references: 'orders', refColumns: ['id'] },
        {
          name: 'notes_swapped_fk',
          columns: ['tenant_id', 'order_id'],
          references: 'orders',
          refColumns: ['id', 'tenant_id'],
        },
      ],
    },
  ]
  t.same(keysWithoutTenant(bad), ['notes: unique key notes_pk (id) lacks tenant_id'])
  t.equal(foreignKeysAcrossTenants(bad).length, 2)
})

t.test(
  'SQL lint: no non-immutable function in DO UPDATE SET, or in CASE/COALESCE of a write',
  async (t) => {
    const files = await sources([
      'packages/core/src',
      'packages/db/src',
      'apps/api/src',
      'apps/worker/src',
    ])
    t.ok(files.length > 50, `${files.length} source files`)
    t.ok(
      files.some((f) => /ON CONFLICT[\s\S]*DO UPDATE SET/.test(f.text)),
      'the sources hold upserts to check',
    )
    t.same(
      files.flatMap((f) => volatileInWrites(f.text, f.file)),
      [],
    )
    // The rule catches what it is for, in a statement or in a spliced update-list fragment.
    const bad = [
      'await sql`INSERT INTO t (a) VALUES (now()) ON CONFLICT (a) DO UPDATE SET b = now()`',
      'const U = sql.raw(`a = excluded.a, synced_at = now()`)',
      'await sql`UPDATE customers SET redacted_at = coalesce(redacted_at, now()) WHERE id = ${id}`',
      'await sql`UPDATE t SET s = CASE WHEN ${x} THEN clock_timestamp() ELSE s END`',
      'await sql`INSERT INTO t SELECT ${id}, ${tags ? sql`x = random()` : sql``}`',
    ]
    t.same(
      bad.map((b) => volatileInWrites(b, 'x.ts').length),
      [1, 1, 1, 1, 0],
      'each bad write caught (a fragment without excluded. is not an update list)',
    )
    t.same(
      volatileInWrites(
        'await sql`INSERT INTO t (a, s) SELECT 1, now() ON CONFLICT (a) DO UPDATE SET s = excluded.s`',
        'x.ts',
      ),
      [],
      'now() in the inserted values and excluded.s in the update are fine',
    )
  },
)

t.test('migration lint: constraints added to existing tables are named', async (t) => {
  const files = await sources(['packages/db/src/migrations'])
  t.ok(files.length >= 10, `${files.length} migrations`)
  t.same(
    files.flatMap((f) => unnamedConstraints(f.text, f.file)),
    [],
  )
  const bad = [
    "await db.schema.alterTable('t').addColumn('m', 'text', (c) => c.check(sql`m IN ('a')`)).execute()",
    "await db.schema.alterTable('t').addColumn('u', 'text', (c) => c.unique()).execute()",
    'await sql`ALTER TABLE t ADD COLUMN k text UNIQUE`.execute(db)',
    "await sql`ALTER TABLE t ADD CHECK (k <> '')`.execute(db)",
    'await sql`ALTER TABLE t ADD FOREIGN KEY (tenant_id, o) REFERENCES orders (tenant_id, id)`.execute(db)',
  ]
  t.same(
    bad.map((b) => unnamedConstraints(b, 'm.ts').length),
    [1, 1, 1, 1, 1],
    'each unnamed constraint caught',
  )
  const good = [
    "await db.schema.alterTable('t').addColumn('m', 'text').execute()",
    'await sql`ALTER TABLE t ADD COLUMN k text CONSTRAINT t_k_key UNIQUE`.execute(db)',
    'await sql`ALTER TABLE t ADD CONSTRAINT t_pk PRIMARY KEY (tenant_id, id) INCLUDE (n)`.execute(db)',
    "await db.schema.createTable('t').addColumn('id', 'uuid', (c) => c.primaryKey()).execute()",
  ]
  t.same(
    good.map((b) => unnamedConstraints(b, 'm.ts')),
    [[], [], [], []],
    'named constraints, and constraints of a table being created, pass',
  )
})
