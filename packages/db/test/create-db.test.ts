// A held (checked-out) connection whose backend dies between queries must not crash the process
// with an unhandled 'error' event (found by the fault suite: `pg_ctl stop -m immediate` killed
// every worker holding its single-flight connection); its next query fails, the pool recovers.
import t from 'tap'
import pg from 'pg'
import { sql } from 'kysely'
import { createDb } from '../src/index.ts'
import { createTestDatabase } from '../src/testing.ts'

t.test(
  'a held connection killed between queries fails its next query, not the process',
  async (t) => {
    const tdb = await createTestDatabase()
    t.teardown(() => tdb.close())
    const { db } = createDb({ url: tdb.appUrl, applicationName: 'xeno-held-test', poolMax: 2 })
    t.teardown(() => db.destroy())
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
