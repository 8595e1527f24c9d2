import t from 'tap'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { readdir } from 'node:fs/promises'
import pg from 'pg'
import { createEmptyDatabase, createTestDatabase } from '@xeno/db/testing'
import { MIGRATIONS_DIR } from '../../../packages/db/src/migrator.ts'
import { testEnv } from './support/env.ts'
import { freePort, startProcess, waitForHttp } from './support/process.ts'

const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.ts')

t.test('a bad environment stops the API with every bad variable named, no stack', async (t) => {
  const p = startProcess(entry, {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: 'mysql://nope',
    PORT: 'eighty',
    TOKEN_ENCRYPTION_KEY: 'too-short',
  })
  t.equal(await p.exited, 1)
  const out = p.output()
  for (const v of [
    'DATABASE_URL',
    'PORT',
    'TOKEN_ENCRYPTION_KEY',
    'API_PEPPER',
    'SHOPIFY_CLIENT_ID',
    'SHOPIFY_CLIENT_SECRET',
  ])
    t.match(out, v, `names ${v}`)
  t.notMatch(out, /\n\s+at .+:\d+:\d+/, 'no stack trace')
})

t.test(
  'Postgres down at start: serves 503 health, retries, then stops cleanly on SIGTERM',
  async (t) => {
    const port = await freePort()
    const p = startProcess(
      entry,
      testEnv({ DATABASE_URL: 'postgres://xeno_app@127.0.0.1:1/none', PORT: String(port) }),
    )
    t.teardown(() => p.child.kill('SIGKILL'))
    const res = await waitForHttp(`http://127.0.0.1:${port}/api/health`, [503])
    t.match(await res.json(), { data: { checks: { database: 'down' } } })
    await new Promise((r) => setTimeout(r, 800))
    t.equal(p.child.exitCode, null, 'still running, not a crash loop')
    t.match(p.output(), /database not ready, retrying/)
    p.child.kill('SIGTERM')
    t.equal(await p.exited, 0, 'graceful exit')
  },
)

t.test('AUTO_MIGRATE on a fresh database: not ready until every migration ran', async (t) => {
  const edb = await createEmptyDatabase()
  t.teardown(edb.close)
  const port = await freePort()
  const p = startProcess(
    entry,
    testEnv({
      DATABASE_URL: edb.appUrl,
      DATABASE_OWNER_URL: edb.ownerUrl,
      AUTO_MIGRATE: 'true',
      PORT: String(port),
    }),
  )
  t.teardown(() => p.child.kill('SIGKILL'))
  const res = await waitForHttp(`http://127.0.0.1:${port}/api/health/ready`, [200])
  t.same(await res.json(), {
    data: { status: 'ok', checks: { database: 'up', redis: 'up', schema: 'current' } },
  })
  // Ready means migrated: every migration of this build is recorded, and the first request a
  // deployment makes (the admin bootstrap) finds its table.
  const pool = new pg.Pool({ connectionString: edb.ownerUrl, max: 1 })
  t.teardown(() => pool.end())
  const { rows } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM kysely_migration',
  )
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{12}_.*\.ts$/.test(f))
  t.equal(rows[0]!.n, files.length, 'every migration ran before ready')
  const boot = await fetch(`http://127.0.0.1:${port}/api/admin/bootstrap`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'first', password: 'a-long-enough-password' }),
  })
  t.equal(boot.status, 201, 'bootstrap right after ready')
  t.equal((await fetch(`http://127.0.0.1:${port}/api/health`)).status, 200, '/api/health agrees')
  p.child.kill('SIGTERM')
  t.equal(await p.exited, 0)
})

t.test('a refusal to run as the table owner', async (t) => {
  const tdb = await createTestDatabase()
  t.teardown(tdb.close)

  const port2 = await freePort()
  const owner = startProcess(entry, testEnv({ DATABASE_URL: tdb.ownerUrl, PORT: String(port2) }))
  t.teardown(() => owner.child.kill('SIGKILL'))
  t.equal(await owner.exited, 1, 'refuses a superuser/owner connection')
  t.match(owner.output(), /row-level security/)
})
