import t from 'tap'
import { createDb, latestMigrationName, pingDb, schemaStatus } from '@xeno/db'
import { createEmptyDatabase, createTestDatabase } from '@xeno/db/testing'
import { createRedis, pingRedis } from '@xeno/queues'
import { testRedisUrl } from '@xeno/queues/testing'
import { createHealthService } from '@xeno/core'
import { createLogger } from '@xeno/logger'
import { buildApp } from '../src/app.ts'

const logger = createLogger({ level: 'silent' })

t.test('GET /api/health reports database and Redis readiness', async (t) => {
  const tdb = await createTestDatabase()
  t.teardown(tdb.close)
  const redis = createRedis(testRedisUrl(), 'producer', () => {})
  t.teardown(() => redis.disconnect())
  await new Promise((r) => redis.once('ready', r))

  const app = await buildApp({
    logger,
    health: createHealthService({
      pingDb: () => pingDb(tdb.db),
      pingRedis: () => pingRedis(redis),
    }),
  })
  t.teardown(() => app.close())
  const ok = await app.inject({ method: 'GET', url: '/api/health' })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { data: { status: 'ok', checks: { database: 'up', redis: 'up' } } })
  t.ok(ok.headers['x-request-id'], 'request id echoed')
  const live = await app.inject({ method: 'GET', url: '/api/health/live' })
  t.same([live.statusCode, live.json()], [200, { data: { status: 'ok' } }])
})

t.test('ready waits for the schema; live does not', async (t) => {
  const tdb = await createTestDatabase()
  t.teardown(tdb.close)
  const redis = createRedis(testRedisUrl(), 'producer', () => {})
  t.teardown(() => redis.disconnect())
  await new Promise((r) => redis.once('ready', r))
  let current = false
  const app = await buildApp({
    logger,
    health: createHealthService({
      pingDb: () => pingDb(tdb.db),
      pingRedis: () => pingRedis(redis),
      schemaCurrent: () => Promise.resolve(current),
    }),
  })
  t.teardown(() => app.close())
  for (const url of ['/api/health/ready', '/api/health']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 503, `${url} is 503 while migrations are pending`)
    t.same(res.json(), {
      data: { status: 'degraded', checks: { database: 'up', redis: 'up', schema: 'pending' } },
    })
  }
  t.equal((await app.inject({ method: 'GET', url: '/api/health/live' })).statusCode, 200)
  current = true
  const ready = await app.inject({ method: 'GET', url: '/api/health/ready' })
  t.equal(ready.statusCode, 200)
  t.match(ready.json(), { data: { checks: { schema: 'current' } } })
})

t.test('the schema check reads the migrations table as the runtime role', async (t) => {
  const tdb = await createTestDatabase()
  t.teardown(tdb.close)
  const latest = await latestMigrationName()
  t.match(await schemaStatus(tdb.db, latest), { current: true, applied: latest })
  t.match(await schemaStatus(tdb.db, `${latest}9`), { current: false }, 'a newer build: pending')
  const edb = await createEmptyDatabase()
  t.teardown(edb.close)
  const { db } = createDb({ url: edb.ownerUrl, applicationName: 't' })
  t.teardown(() => db.destroy())
  t.match(await schemaStatus(db, latest), { current: false, applied: null }, 'no table yet')
})

t.test('503 when Postgres or Redis is down', async (t) => {
  // Nothing listens on these ports: a real connection failure, not a stub.
  const { db } = createDb({ url: 'postgres://xeno_app@127.0.0.1:1/none', applicationName: 't' })
  t.teardown(() => db.destroy())
  const redis = createRedis('redis://127.0.0.1:1', 'producer', () => {})
  t.teardown(() => redis.disconnect())
  const app = await buildApp({
    logger,
    health: createHealthService({ pingDb: () => pingDb(db), pingRedis: () => pingRedis(redis) }),
  })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/api/health' })
  t.equal(res.statusCode, 503)
  t.same(res.json(), { data: { status: 'degraded', checks: { database: 'down', redis: 'down' } } })
})

t.test('errors use one envelope; unknown routes are 404', async (t) => {
  const app = await buildApp({
    logger,
    health: createHealthService({ pingDb: async () => true, pingRedis: async () => true }),
  })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/api/nope?x=1' })
  t.equal(res.statusCode, 404)
  t.same(res.json(), { error: { code: 'NOT_FOUND', message: 'no route for GET /api/nope' } })
})
