// A held (checked-out) connection whose backend dies between queries must not crash the process
// with an unhandled 'error' event (found by the fault suite: `pg_ctl stop -m immediate` killed
// every worker holding its single-flight connection); its next query fails, the pool recovers.
import type { Socket } from 'node:net'
import t, { type Test } from 'tap'
import pg from 'pg'
import { sql } from 'kysely'
import { createDb, pipelinedTransaction, rawClientOf, tenantContext } from '../src/index.ts'
import { createTestDatabase, TEST_TENANT_CONTEXT_KEY } from '../src/testing.ts'

/** A fresh test database and a pool of its own on it (the runtime role), closed with the test. */
async function testDb(t: Test, applicationName: string, poolMax: number) {
  const tdb = await createTestDatabase()
  t.teardown(() => tdb.close())
  const { db } = createDb({
    url: tdb.appUrl,
    applicationName,
    poolMax,
    tenantContextKey: TEST_TENANT_CONTEXT_KEY,
  })
  t.teardown(() => db.destroy())
  return { tdb, db }
}

t.test(
  'a held connection killed between queries fails its next query, not the process',
  async (t) => {
    const { tdb, db } = await testDb(t, 'xeno-held-test', 2)
    const unhandled: unknown[] = []
    const onUncaught = (err: unknown) => unhandled.push(err)
    process.on('uncaughtException', onUncaught)
    t.teardown(() => process.off('uncaughtException', onUncaught))

    const outcome = await db.connection().execute(async (conn) => {
      const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(conn)
      const admin = new pg.Client({ connectionString: tdb.ownerUrl })
      await admin.connect()
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid])
      await admin.end()
      // Nothing runs on the held connection while the server closes it.
      await new Promise((r) => setTimeout(r, 300))
      return sql`SELECT 1`.execute(conn).then(
        () => 'answered',
        (err: Error) => `failed: ${err.message}`,
      )
    })
    t.match(outcome, /^failed/, 'the next query on the dead connection fails')
    t.same(unhandled, [], 'no uncaught error')
    const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(db)
    t.equal(rows[0]!.one, 1, 'the pool hands out a fresh connection afterwards')
  },
)

t.test(
  'pipelinedTransaction: one transaction, one round trip, rolled back as a whole',
  async (t) => {
    // One connection: every call below reuses the same client, so its mode and state carry over.
    const { tdb, db } = await testDb(t, 'xeno-pipeline-test', 1)
    const [tenant] = await tdb.ownerQuery<{ id: string }>(
      `INSERT INTO tenants (shop_domain, status) VALUES ('pipe.myshopify.com', 'active') RETURNING id`,
    )
    const tenantId = tenant!.id
    const setTenant = tenantContext(db, tenantId).compile(db)
    const insertEvent = (name: string) =>
      db
        .insertInto('customEvents')
        .values({ tenantId, eventType: name, occurredAt: new Date() })
        .returning(['eventType', 'tenantId'])
        .compile()

    // Every statement is written before the first answer is read: one round trip.
    const events: string[] = []
    const socket = await db.connection().execute(async (conn) => {
      const raw = await rawClientOf(db, conn)
      return (raw as unknown as { connection: { stream: Socket } }).connection.stream
    })
    const write = socket.write.bind(socket)
    socket.write = ((...a: Parameters<typeof write>) => (
      events.push('write'),
      write(...a)
    )) as typeof socket.write
    const onData = () => events.push('read')
    socket.on('data', onData)
    t.teardown(() => socket.off('data', onData))
    const results = await pipelinedTransaction(db, [
      setTenant,
      insertEvent('first'),
      insertEvent('second'),
      sql`SELECT current_setting('app.tenant_id') AS tenant_id`.compile(db),
    ])
    t.same(
      results[1],
      [{ eventType: 'first', tenantId }],
      "each statement's rows, camelCased like Kysely's",
    )
    t.same(results[3], [{ tenantId }], 'statements run in order inside the transaction')
    const firstRead = events.indexOf('read')
    t.ok(firstRead > 0, 'the server answered')
    t.notOk(events.slice(firstRead).includes('write'), 'nothing was written after the first answer')
    const names = async () =>
      (
        await tdb.ownerQuery<{ event_type: string }>(
          'SELECT event_type FROM custom_events ORDER BY event_type',
        )
      ).map((r) => r.event_type)
    t.same(await names(), ['first', 'second'], 'committed')

    // A failing statement in the middle: nothing of the transaction stays, and the error is the
    // statement's own, not the "transaction is aborted" answers of the ones after it.
    const err = await pipelinedTransaction(db, [
      setTenant,
      insertEvent('third'),
      sql`SELECT 'not json'::json`.compile(db),
      insertEvent('fourth'),
    ]).then(
      () => ({ code: 'committed' }),
      (e: unknown) => e as { code?: string },
    )
    t.equal(err.code, '22P02', 'rejects with the failing statement error')
    t.same(await names(), ['first', 'second'], 'rolled back as a whole')

    // Without a tenant context, RLS refuses the row: set_config was local to the transaction.
    const refused = await pipelinedTransaction(db, [insertEvent('fifth')]).then(
      () => ({ code: 'committed' }),
      (e: unknown) => e as { code?: string },
    )
    t.equal(refused.code, '42501', 'the tenant setting did not outlive its transaction')

    // The same client afterwards: ordinary mode, no transaction left open.
    const { rows } = await sql<{
      open: boolean
    }>`SELECT now() <> statement_timestamp() AS open`.execute(db)
    t.equal(rows[0]!.open, false, 'the next query runs outside any transaction')
    const out = await db.connection().execute(async (conn) => {
      const raw = await rawClientOf(db, conn)
      return (raw as unknown as { pipeline: boolean }).pipeline
    })
    t.equal(out, false, 'the client went back to the pool out of pipeline mode')
  },
)

t.test('pipelinedTransaction: a connection lost mid-way is not reused', async (t) => {
  const { tdb, db } = await testDb(t, 'xeno-pipeline-kill', 1)
  const err = await pipelinedTransaction(db, [
    sql`SELECT pg_sleep(0.2)`.compile(db),
    sql`SELECT 1`.compile(db),
  ]).catch((e: unknown) => e as Error)
  t.notOk(err instanceof Error, 'a healthy pipeline commits')
  const killed = pipelinedTransaction(db, [
    sql`SELECT pg_sleep(2)`.compile(db),
    sql`SELECT 1`.compile(db),
  ]).catch((e: unknown) => e as Error)
  await new Promise((r) => setTimeout(r, 300))
  await tdb.ownerQuery(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE application_name = 'xeno-pipeline-kill' AND pid <> pg_backend_pid()`,
  )
  t.ok((await killed) instanceof Error, 'the transaction fails')
  const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(db)
  t.equal(rows[0]!.one, 1, 'the pool hands out a fresh connection afterwards')
})

t.test('pipelinedTransaction with prepare: parsed once per connection, same answers', async (t) => {
  const { db } = await testDb(t, 'xeno-pipeline-prep', 1)
  const square = (n: number) => sql<{ n: number }>`SELECT ${n}::int * ${n}::int AS n`.compile(db)
  const answers = []
  for (const n of [2, 3, 4])
    answers.push(await pipelinedTransaction(db, [square(n), square(n + 1)], { prepare: true }))
  t.same(
    answers.map((a) => a.map((rows) => rows[0]!.n)),
    [
      [4, 9],
      [9, 16],
      [16, 25],
    ],
    'each call answers with its own parameters',
  )
  const { rows } = await sql<{ prepared: number }>`
    SELECT count(*)::int AS prepared FROM pg_prepared_statements WHERE name LIKE 'xeno_%'`.execute(
    db,
  )
  t.equal(rows[0]!.prepared, 1, 'one statement text, prepared once on the connection')
})
