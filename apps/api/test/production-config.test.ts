// NODE_ENV=production: both processes stop at start naming each setting production refuses (the
// .env.example values above all), and the API refuses to run unclaimable-by-nobody: no
// ADMIN_BOOTSTRAP_TOKEN while no admin exists. Development keeps its easy defaults.
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createTestDatabase } from '@xeno/db/testing'
import { testEnv } from './support/env.ts'
import { freePort, startProcess, waitForHttp } from './support/process.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const apiEntry = path.join(here, '..', 'src', 'main.ts')
const workerEntry = path.join(here, '..', '..', 'worker', 'src', 'main.ts')

// The values .env.example ships with.
const example = {
  API_PEPPER: 'change-me-to-64-hex-characters-change-me-to-64-hex-characters-00',
  TOKEN_ENCRYPTION_KEY: '0000000000000000000000000000000000000000000000000000000000000000',
  COOKIE_SECURE: 'false',
}
const noStack = /\n\s+at .+:\d+:\d+/

t.test('the API refuses the example configuration in production, naming each', async (t) => {
  const p = startProcess(
    apiEntry,
    testEnv({
      ...example,
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://xeno:xeno@127.0.0.1:1/xeno',
      DATABASE_OWNER_URL: 'postgres://xeno:xeno@127.0.0.1:1/xeno',
    }),
  )
  t.teardown(() => p.child.kill('SIGKILL'))
  t.equal(await p.exited, 1)
  const out = p.output()
  t.match(out, /refused in production/)
  for (const v of [
    'API_PEPPER',
    'TOKEN_ENCRYPTION_KEY',
    'COOKIE_SECURE',
    'METRICS_TOKEN',
    'DATABASE_URL',
  ])
    t.match(out, new RegExp(`- ${v}: `), `names ${v}`)
  t.notMatch(out, noStack, 'no stack trace')
})

t.test('the worker refuses the example secrets in production', async (t) => {
  const p = startProcess(
    workerEntry,
    testEnv({
      ...example,
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://xeno_app:x@127.0.0.1:1/xeno',
      DATABASE_SYSTEM_URL: 'postgres://xeno_system:x@127.0.0.1:1/xeno',
      WORKER_METRICS_PORT: '9464',
      WORKER_METRICS_HOST: '0.0.0.0',
    }),
  )
  t.teardown(() => p.child.kill('SIGKILL'))
  t.equal(await p.exited, 1)
  const out = p.output()
  for (const v of ['API_PEPPER', 'TOKEN_ENCRYPTION_KEY', 'METRICS_TOKEN'])
    t.match(out, new RegExp(`- ${v}: `), `names ${v}`)
  t.notMatch(out, /COOKIE_SECURE/, 'a worker sets no cookies')
  t.notMatch(out, noStack, 'no stack trace')
})

t.test('development accepts the example configuration', async (t) => {
  const port = await freePort()
  const p = startProcess(
    apiEntry,
    testEnv({
      ...example,
      NODE_ENV: 'development',
      DATABASE_URL: 'postgres://xeno_app@127.0.0.1:1/none',
      PORT: String(port),
    }),
  )
  t.teardown(() => p.child.kill('SIGKILL'))
  await waitForHttp(`http://127.0.0.1:${port}/api/health/live`, [200])
  p.child.kill('SIGTERM')
  t.equal(await p.exited, 0)
})

t.test('production without ADMIN_BOOTSTRAP_TOKEN: refused while no admin exists', async (t) => {
  const tdb = await createTestDatabase()
  t.teardown(tdb.close)
  const env = (port: number, extra: Record<string, string> = {}) =>
    testEnv({ NODE_ENV: 'production', DATABASE_URL: tdb.appUrl, PORT: String(port), ...extra })

  const refused = startProcess(apiEntry, env(await freePort()))
  t.teardown(() => refused.child.kill('SIGKILL'))
  t.equal(await refused.exited, 1)
  t.match(refused.output(), /- ADMIN_BOOTSTRAP_TOKEN: is required while no admin exists/)
  t.notMatch(refused.output(), noStack)

  // With the token the deployment starts (and only the token holder can claim it).
  const port = await freePort()
  const token = randomBytes(16).toString('hex')
  const claimed = startProcess(apiEntry, env(port, { ADMIN_BOOTSTRAP_TOKEN: token }))
  t.teardown(() => claimed.child.kill('SIGKILL'))
  claimed.exited
    .then((c) => c !== null && t.comment(`exited ${c}: ${claimed.output()}`))
    .catch(() => {})
  await waitForHttp(`http://127.0.0.1:${port}/api/health/ready`, [200])
  const boot = await fetch(`http://127.0.0.1:${port}/api/admin/bootstrap`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'first', password: 'a-long-enough-password', token }),
  })
  t.equal(boot.status, 201)
  claimed.child.kill('SIGTERM')
  t.equal(await claimed.exited, 0)

  // Once an admin exists the token may go.
  const port2 = await freePort()
  const later = startProcess(apiEntry, env(port2))
  t.teardown(() => later.child.kill('SIGKILL'))
  await waitForHttp(`http://127.0.0.1:${port2}/api/health/ready`, [200])
  await new Promise((r) => setTimeout(r, 500))
  t.equal(later.child.exitCode, null, 'keeps running')
  later.child.kill('SIGTERM')
  t.equal(await later.exited, 0)
})
