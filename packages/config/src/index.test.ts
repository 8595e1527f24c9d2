import { randomBytes } from 'node:crypto'
import t from 'tap'
import {
  assertProductionSafe,
  productionIssues,
  weakKeyReason,
  weakSecretReason,
  ConfigError,
  databaseEnv,
  httpEnv,
  parseEnv,
  parseRedisTarget,
  redisEnv,
  secretsEnv,
  shopifyEnv,
  tenantContextKey,
  tokenKeys,
  z,
} from './index.ts'

const schema = z.object({
  ...databaseEnv.shape,
  ...httpEnv.shape,
  ...secretsEnv.shape,
  ...shopifyEnv.shape,
})

const good = {
  DATABASE_URL: 'postgres://u@127.0.0.1/x',
  API_PEPPER: 'p'.repeat(32),
  TOKEN_ENCRYPTION_KEY: 'a'.repeat(64),
  SHOPIFY_CLIENT_ID: 'id',
  SHOPIFY_CLIENT_SECRET: 'secret',
}

t.test('applies defaults', async (t) => {
  const c = parseEnv(schema, good)
  t.equal(c.PORT, 3000)
  t.equal(c.SHOPIFY_API_VERSION, '2026-10')
  t.equal(c.AUTO_MIGRATE, false)
})

t.test('lists every bad variable in one error', async (t) => {
  const err = t.throws(() =>
    parseEnv(schema, {
      ...good,
      DATABASE_URL: 'mysql://x',
      PORT: 'abc',
      TOKEN_ENCRYPTION_KEY: 'short',
      AUTO_MIGRATE: 'yes',
      SHOPIFY_CLIENT_SECRET: '',
    }),
  ) as unknown as ConfigError
  t.ok(err instanceof ConfigError)
  const vars = err.issues.map((i) => i.variable).sort()
  t.same(vars, [
    'AUTO_MIGRATE',
    'DATABASE_URL',
    'PORT',
    'SHOPIFY_CLIENT_SECRET',
    'TOKEN_ENCRYPTION_KEY',
  ])
  t.match(err.message, /TOKEN_ENCRYPTION_KEY: must be 32 bytes/)
  t.notMatch(err.message, /at .*\.ts:\d+/, 'no stack in the message')
})

t.test('booleans are explicit', async (t) => {
  t.equal(parseEnv(schema, { ...good, AUTO_MIGRATE: 'true' }).AUTO_MIGRATE, true)
  t.throws(() => parseEnv(schema, { ...good, AUTO_MIGRATE: '1' }))
})

t.test('tokenKeys: the current key and the previous ones, hex or base64', async (t) => {
  const hex = 'ab'.repeat(32)
  const b64 = Buffer.alloc(32, 7).toString('base64')
  const keys = tokenKeys({
    TOKEN_ENCRYPTION_KEY: hex,
    TOKEN_ENCRYPTION_PREVIOUS_KEYS: ` ${b64} ,, ${hex}`,
  })
  t.same(keys.current, Buffer.from(hex, 'hex'))
  t.same(
    keys.previous,
    [Buffer.alloc(32, 7), Buffer.from(hex, 'hex')],
    'blanks skipped, order kept',
  )
  t.same(tokenKeys({ TOKEN_ENCRYPTION_KEY: b64 }).previous, [], 'none configured')
})

t.test('tenantContextKey: TENANT_CONTEXT_KEY, else derived from API_PEPPER', async (t) => {
  const hex = 'ab'.repeat(32)
  t.same(
    tenantContextKey({ TENANT_CONTEXT_KEY: hex, API_PEPPER: 'p'.repeat(32) }),
    Buffer.from(hex, 'hex'),
  )
  const derived = tenantContextKey({ API_PEPPER: 'p'.repeat(32) })
  t.equal(derived.length, 32)
  t.same(tenantContextKey({ API_PEPPER: 'p'.repeat(32) }), derived, 'the same pepper, the same key')
  t.notSame(tenantContextKey({ API_PEPPER: 'q'.repeat(32) }), derived)
  t.notSame(derived, Buffer.from('p'.repeat(32)), 'not the pepper itself')
  t.throws(() => tenantContextKey({}), /TENANT_CONTEXT_KEY or API_PEPPER/)
  const bad = t.throws(() =>
    parseEnv(schema, { ...good, TENANT_CONTEXT_KEY: 'short' }),
  ) as unknown as ConfigError
  t.match(bad.issues, [{ variable: 'TENANT_CONTEXT_KEY', message: /32 bytes/ }])
})

t.test('REDIS_URL: one server or a Redis Cluster seed list', async (t) => {
  t.same(parseRedisTarget('redis://127.0.0.1:6379'), {
    kind: 'single',
    url: 'redis://127.0.0.1:6379',
  })
  t.same(parseRedisTarget('redis+cluster://10.0.0.1:7000,redis-b:7001,[::1]:7002'), {
    kind: 'cluster',
    nodes: [
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
      { host: '::1', port: 7002 },
    ],
    username: undefined,
    password: undefined,
    tls: false,
  })
  t.match(parseRedisTarget('rediss+cluster://app:p%40ss@h1:6380,h2:6380'), {
    kind: 'cluster',
    username: 'app',
    password: 'p@ss',
    tls: true,
  })
  t.throws(
    () => parseRedisTarget('redis+cluster://h1:7000,h2'),
    /cluster node "h2" must be host:port/,
  )
  t.throws(() => parseRedisTarget('http://h1:7000'), /redis\+cluster/)
  const env = z.object({ ...redisEnv.shape })
  t.equal(parseEnv(env, {}).WEBHOOK_QUEUE_SHARDS, 1, 'one webhook queue by default')
  const err = t.throws(() =>
    parseEnv(env, { REDIS_URL: 'redis+cluster://h1:99999', WEBHOOK_QUEUE_SHARDS: '0' }),
  ) as ConfigError
  t.same(err.issues.map((i) => i.variable).sort(), ['REDIS_URL', 'WEBHOOK_QUEUE_SHARDS'])
})

t.test('production refuses example and low-entropy secrets; random ones pass', async (t) => {
  const random = randomBytes(32).toString('hex')
  t.equal(weakKeyReason(random), null)
  t.equal(weakKeyReason(randomBytes(32).toString('base64')), null)
  t.match(weakKeyReason('0'.repeat(64)), /example value/)
  t.match(weakKeyReason('ab'.repeat(32)), /too little entropy/)
  t.equal(weakSecretReason(randomBytes(32).toString('hex')), null)
  t.match(
    weakSecretReason('change-me-to-64-hex-characters-change-me-to-64-hex-characters-00'),
    /example value/,
  )
  t.match(weakSecretReason('please-change-me-before-going-live-ok'), /placeholder/)
  t.match(weakSecretReason('p'.repeat(32)), /entropy/)
  t.match(weakSecretReason('abc123'.repeat(8)), /repeated pattern/)
})

t.test('productionIssues names every offending variable', async (t) => {
  const issues = productionIssues({
    API_PEPPER: 'change-me-to-64-hex-characters-change-me-to-64-hex-characters-00',
    TOKEN_ENCRYPTION_KEY: '0'.repeat(64),
    COOKIE_SECURE: false,
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgres://xeno:pw@db/xeno',
    DATABASE_OWNER_URL: 'postgres://xeno:pw@db/xeno',
  })
  t.same(issues.map((i) => i.variable).sort(), [
    'API_PEPPER',
    'COOKIE_SECURE',
    'DATABASE_URL',
    'METRICS_TOKEN',
    'TOKEN_ENCRYPTION_KEY',
  ])
  t.same(
    productionIssues({
      API_PEPPER: randomBytes(32).toString('hex'),
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      COOKIE_SECURE: true,
      HOST: '0.0.0.0',
      METRICS_TOKEN: randomBytes(16).toString('hex'),
      DATABASE_URL: 'postgres://xeno_app:pw@db/xeno',
      DATABASE_OWNER_URL: 'postgres://xeno:pw@db/xeno',
    }),
    [],
  )
  t.same(productionIssues({ HOST: '127.0.0.1' }), [], 'loopback needs no metrics token')
  t.same(
    productionIssues({ WORKER_METRICS_PORT: 9464, WORKER_METRICS_HOST: '0.0.0.0' }).map(
      (i) => i.variable,
    ),
    ['METRICS_TOKEN'],
  )
})

t.test('assertProductionSafe applies only with NODE_ENV=production', async (t) => {
  const weak = { API_PEPPER: 'p'.repeat(32), COOKIE_SECURE: false }
  t.doesNotThrow(() => assertProductionSafe({ NODE_ENV: 'development' as const, ...weak }))
  t.doesNotThrow(() => assertProductionSafe({ NODE_ENV: 'test' as const, ...weak }))
  t.throws(() => assertProductionSafe({ NODE_ENV: 'production' as const, ...weak }), {
    name: 'ConfigError',
    message: /refused in production[\s\S]*API_PEPPER[\s\S]*COOKIE_SECURE/,
  })
})
