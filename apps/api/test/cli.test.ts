import t from 'tap'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDb } from '@xeno/db'
import { createTestDatabase, TEST_TENANT_CONTEXT_KEY } from '@xeno/db/testing'
import { createAdminAuthService, createPasswordHasher } from '@xeno/core'
import { startProcess } from './support/process.ts'

const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.ts')

t.test('admin-create makes an admin who can log in; a taken name is refused', async (t) => {
  const tdb = await createTestDatabase()
  t.teardown(tdb.close)
  const env = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: tdb.appUrl,
    TENANT_CONTEXT_KEY: TEST_TENANT_CONTEXT_KEY.toString('hex'),
    ADMIN_PASSWORD: 'cli-password-123',
  }
  const p = startProcess(entry, env, ['admin-create', '--', '--username', 'ops'])
  t.equal(await p.exited, 0, p.output())
  t.match(JSON.parse(p.output()), { username: 'ops' })

  const admins = createAdminAuthService({ db: tdb.db, hasher: createPasswordHasher() })
  const login = await admins.login({ username: 'ops', password: 'cli-password-123' })
  t.equal(login.admin.username, 'ops')

  const again = startProcess(entry, env, ['admin-create', '--username', 'ops'])
  t.equal(await again.exited, 1)
  t.match(again.output(), 'username is taken')

  const bad = startProcess(entry, env, ['admin-create', '--username', 'no spaces'])
  t.equal(await bad.exited, 2)
  const short = startProcess(entry, { ...env, ADMIN_PASSWORD: 'short' }, [
    'admin-create',
    '--username',
    'x',
  ])
  t.equal(await short.exited, 2)
  const owner = createDb({ url: tdb.ownerUrl, applicationName: 't', poolMax: 1 })
  t.teardown(() => owner.db.destroy())
  const { rows } = await owner.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM admin_users',
  )
  t.equal(rows[0]!.n, 1)
})
