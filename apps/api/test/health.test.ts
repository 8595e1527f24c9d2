import t from 'tap'
import { createDb, pingDb } from '@xeno/db'
import { createTestDatabase } from '@xeno/db/testing'
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
