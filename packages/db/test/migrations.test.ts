import t from 'tap'
import pg from 'pg'
import { migrateToLatest, rollback, type MigrationStep } from '../src/migrator.ts'
import { createEmptyDatabase } from '../src/testing.ts'

async function tables(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    const { rows } = await c.query<{ t: string }>(
      `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'kysely_%' ORDER BY 1`,
    )
    return rows.map((r) => r.t)
  } finally {
    await c.end()
  }
}

t.test('latest → down to zero → latest on a fresh database', async (t) => {
  const tmp = await createEmptyDatabase()
  t.teardown(tmp.close)
  const opts = { ownerUrl: tmp.ownerUrl, runtimeUrl: tmp.appUrl }
  const first = await migrateToLatest(opts)
  t.ok(first.length >= 1, 'applied migrations')
  const afterUp = await tables(tmp.ownerUrl)
  for (const expected of [
    'tenants',
    'shopify_credentials',
    'admin_users',
    'admin_sessions',
    'tenant_users',
    'tenant_sessions',
    'api_keys',
    'oauth_states',
    'customers',
    'products',
    'orders',
    'order_line_items',
    'refunds',
    'custom_events',
    'webhook_receipts',
    'sync_checkpoints',
    'sync_runs',
  ])
    t.ok(afterUp.includes(expected), `table ${expected} exists`)

  const down = await rollback({ ...opts, all: true })
  t.equal(down.length, first.length, 'every migration rolled back')
  t.same(await tables(tmp.ownerUrl), [], 'nothing left after rolling back to zero')

  const again = await migrateToLatest(opts)
  t.equal(again.length, first.length, 'all re-applied')
  t.same(await tables(tmp.ownerUrl), afterUp, 'same tables as the first time')
  t.same(await migrateToLatest(opts), [], 'idempotent when at latest')
})

t.test('each migration announces itself as it starts (the CLI progress bar)', async (t) => {
  const tmp = await createEmptyDatabase()
  t.teardown(tmp.close)
  const steps: MigrationStep[] = []
  const opts = { ownerUrl: tmp.ownerUrl, onStep: (s: MigrationStep) => steps.push(s) }
  const ran = (await migrateToLatest(opts)).map((r) => r.replace(/^Up /, ''))
  const total = ran.length
  t.same(
    steps,
    [{ index: 0, total, name: ran[0] }, ...ran.map((name, index) => ({ index, total, name }))],
    'the plan first, then every migration in order',
  )
  steps.length = 0
  await rollback({ ...opts })
  t.same(steps, [
    { index: 0, total: 1, name: ran.at(-1) },
    { index: 0, total: 1, name: ran.at(-1) },
  ])
  steps.length = 0
  await migrateToLatest(opts)
  t.same(steps.at(0), { index: 0, total: 1, name: ran.at(-1) }, 'only what is pending')
  steps.length = 0
  await migrateToLatest(opts)
  t.same(steps, [{ index: 0, total: 0, name: null }], 'nothing pending: an empty plan')
})
