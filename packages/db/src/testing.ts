import { createHash, randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import pg from 'pg'
import { createDb, type Database } from './create-db.ts'
import { MIGRATIONS_DIR, migrateToLatest } from './migrator.ts'

/** The test runtime role: not an owner, no BYPASSRLS, so tests see RLS as production does. */
export const TEST_RUNTIME_ROLE = 'xeno_app'
/** The test system role (the worker's DATABASE_SYSTEM_URL): a member of xeno_cross_tenant. */
export const TEST_SYSTEM_ROLE = 'xeno_system'
/** The tenant-context key every test database is migrated with (its hex: TENANT_CONTEXT_KEY). */
export const TEST_TENANT_CONTEXT_KEY = createHash('sha256')
  .update('xeno test tenant context')
  .digest()

/** Where tests find a Postgres they may create databases in. */
export function testAdminUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
}

function withDatabase(url: string, database: string, user?: string, password?: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  if (user !== undefined) {
    u.username = user
    u.password = password ?? ''
  }
  return u.toString()
}

async function migrationsHash(): Promise<string> {
  const h = createHash('sha256')
  for (const f of (await fs.readdir(MIGRATIONS_DIR)).sort()) {
    h.update(f)
    h.update(await fs.readFile(`${MIGRATIONS_DIR}/${f}`))
  }
  // The migrator's grants shape the template too (the runtime role's rights).
  h.update(await fs.readFile(new URL('./migrator.ts', import.meta.url)))
  return h.digest('hex').slice(0, 12)
}

async function adminQuery<T extends pg.QueryResultRow>(sqlText: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: testAdminUrl() })
  await client.connect()
  try {
    return await client.query<T>(sqlText, params)
  } finally {
    await client.end()
  }
}

/**
 * Makes sure a migrated template database for the current migrations exists, building it once
 * under an advisory lock so parallel test files don't race.
 */
export async function ensureTemplate(): Promise<string> {
  const name = `xeno_tpl_${await migrationsHash()}`
  const client = new pg.Client({ connectionString: testAdminUrl() })
  await client.connect()
  try {
    await client.query('SELECT pg_advisory_lock(727001)')
    const { rowCount } = await client.query(
      `SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate`,
      [name],
    )
    if (!rowCount) {
      await client.query(`DROP DATABASE IF EXISTS ${name}`)
      await client.query(`CREATE DATABASE ${name}`)
      await migrateToLatest({
        ownerUrl: withDatabase(testAdminUrl(), name),
        runtimeUrl: withDatabase(testAdminUrl(), name, TEST_RUNTIME_ROLE, TEST_RUNTIME_ROLE),
        systemUrl: withDatabase(testAdminUrl(), name, TEST_SYSTEM_ROLE, TEST_SYSTEM_ROLE),
        tenantContextKey: TEST_TENANT_CONTEXT_KEY,
      })
      await client.query(`ALTER DATABASE ${name} WITH is_template true`)
    }
    return name
  } finally {
    await client.query('SELECT pg_advisory_unlock(727001)').catch(() => {})
    await client.end()
  }
}

export type TestDatabase = {
  name: string
  /** Connects as the table owner (superuser in tests): seeding, assertions across tenants. */
  ownerUrl: string
  /** Connects as the runtime role: what the app uses. */
  appUrl: string
  /** Connects as the system role (the worker's DATABASE_SYSTEM_URL). */
  systemUrl: string
  /** The app's Kysely instance (runtime role, camelCase). */
  db: Database
  /** The worker's cross-tenant Kysely instance (system role): withSystem works only here. */
  systemDb: Database
  /** A query as the owner (bypasses RLS): seeding and assertions across tenants. */
  ownerQuery: <T extends pg.QueryResultRow>(text: string, params?: unknown[]) => Promise<T[]>
  close: () => Promise<void>
}

/** A fresh database cloned from the migrated template; drop it with close(). */
export async function createTestDatabase(
  pool: { max?: number; acquireTimeoutMs?: number } = {},
): Promise<TestDatabase> {
  const template = await ensureTemplate()
  const name = `xeno_t_${randomBytes(6).toString('hex')}`
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${template}`)
  const ownerUrl = withDatabase(testAdminUrl(), name)
  const appUrl = withDatabase(testAdminUrl(), name, TEST_RUNTIME_ROLE, TEST_RUNTIME_ROLE)
  const systemUrl = withDatabase(testAdminUrl(), name, TEST_SYSTEM_ROLE, TEST_SYSTEM_ROLE)
  const key = { tenantContextKey: TEST_TENANT_CONTEXT_KEY }
  const { db } = createDb({
    url: appUrl,
    applicationName: 'xeno-test',
    poolMax: pool.max ?? 5,
    acquireTimeoutMs: pool.acquireTimeoutMs,
    ...key,
  })
  // Pools connect lazily: a test that never acts across tenants opens no system connection.
  const { db: systemDb } = createDb({
    url: systemUrl,
    applicationName: 'xeno-test-system',
    poolMax: 3,
    ...key,
  })
  // One owner connection, opened on first use.
  let owner: pg.Pool | undefined
  let closed = false
  return {
    name,
    ownerUrl,
    appUrl,
    systemUrl,
    db,
    systemDb,
    ownerQuery: async <T extends pg.QueryResultRow>(text: string, params: unknown[] = []) => {
      owner ??= new pg.Pool({ connectionString: ownerUrl, max: 1 })
      return (await owner.query<T>(text, params)).rows
    },
    close: async () => {
      if (closed) return
      closed = true
      await owner?.end()
      await db.destroy()
      await systemDb.destroy()
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
  }
}

/** An empty database (no migrations) for migration tests. */
export async function createEmptyDatabase(): Promise<{
  ownerUrl: string
  appUrl: string
  systemUrl: string
  close: () => Promise<void>
}> {
  const name = `xeno_e_${randomBytes(6).toString('hex')}`
  await adminQuery(`CREATE DATABASE ${name}`)
  return {
    ownerUrl: withDatabase(testAdminUrl(), name),
    appUrl: withDatabase(testAdminUrl(), name, TEST_RUNTIME_ROLE, TEST_RUNTIME_ROLE),
    systemUrl: withDatabase(testAdminUrl(), name, TEST_SYSTEM_ROLE, TEST_SYSTEM_ROLE),
    close: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
  }
}
