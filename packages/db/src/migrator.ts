import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kysely, PostgresDialect, sql } from 'kysely'
import {
  Migrator,
  NO_MIGRATIONS,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
} from 'kysely/migration'
import pg from 'pg'
import { applyDistribution, hasCitus } from './distribution.ts'

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations')

/** Loads `YYYYMMDDHHmm_name.ts` files from the migrations folder, in name order. */
export class FolderMigrationProvider implements MigrationProvider {
  readonly dir: string
  constructor(dir: string = MIGRATIONS_DIR) {
    this.dir = dir
  }
  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await fs.readdir(this.dir)).filter((f) => /^\d{12}_[a-z0-9_]+\.ts$/.test(f))
    const out: Record<string, Migration> = {}
    for (const file of files.sort()) {
      const mod = (await import(path.join(this.dir, file))) as Migration
      out[file.replace(/\.ts$/, '')] = mod
    }
    return out
  }
}

/** A plain (no camelCase plugin) Kysely for migrations, connected as the table owner. */
export function createOwnerDb(url: string): Kysely<unknown> {
  return new Kysely({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: url, max: 2, application_name: 'xeno-migrate' }),
    }),
  })
}

export type MigrateOptions = {
  /** Connection string of the table owner (runs DDL). */
  ownerUrl: string
  /** Connection string the runtime uses; its user becomes the non-owner runtime role. */
  runtimeUrl?: string
  /** The worker's cross-tenant connection (DATABASE_SYSTEM_URL); its user joins xeno_cross_tenant. */
  systemUrl?: string
  /** The 32-byte key the application signs tenant contexts with; stored where only xeno_definer reads it. */
  tenantContextKey?: Buffer
  onProgress?: (message: string) => void
  /** Told how many migrations will run, then as each one starts (for a progress bar). */
  onStep?: (step: MigrationStep) => void
}

/** `index` migrations of `total` are done; `name` is starting (null once all are done). */
export type MigrationStep = { index: number; total: number; name: string | null }

/** Wraps a provider so each migration announces itself as it starts (same transaction). */
function reporting(
  inner: MigrationProvider,
  plan: string[],
  direction: 'up' | 'down',
  onStep: (step: MigrationStep) => void,
): MigrationProvider {
  return {
    async getMigrations() {
      const all = await inner.getMigrations()
      const out: Record<string, Migration> = {}
      for (const [name, m] of Object.entries(all)) {
        out[name] = {
          ...m,
          [direction]: async (db: Kysely<any>) => {
            onStep({ index: plan.indexOf(name), total: plan.length, name })
            await (direction === 'up' ? m.up(db) : m.down?.(db))
          },
        }
      }
      return out
    },
  }
}

/** The migrator, with per-migration progress when asked for. */
async function migratorFor(
  db: Kysely<unknown>,
  options: MigrateOptions,
  direction: 'up' | 'down',
  all: boolean,
): Promise<Migrator> {
  const provider = new FolderMigrationProvider()
  if (!options.onStep) return new Migrator({ db, provider })
  const infos = await new Migrator({ db, provider }).getMigrations()
  let plan = infos.filter((i) => (direction === 'up' ? !i.executedAt : i.executedAt))
  if (direction === 'down') plan = all ? plan.reverse() : plan.slice(-1)
  const names = plan.map((i) => i.name)
  options.onStep({ index: 0, total: names.length, name: names[0] ?? null })
  return new Migrator({ db, provider: reporting(provider, names, direction, options.onStep) })
}

function check(result: MigrationResultSet): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')
    const err =
      result.error instanceof Error ? result.error : new Error(JSON.stringify(result.error))
    err.message = `migration ${failed?.migrationName ?? '?'} failed: ${err.message}`
    throw err
  }
  return (result.results ?? []).map((r) => `${r.direction} ${r.migrationName}`)
}

function roleFromUrl(url: string): { user: string; password: string } | null {
  const u = new URL(url)
  if (!u.username) return null
  return { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) }
}

/**
 * Creates the runtime role when it is missing and we have the rights, then grants it data
 * access (no ownership, no BYPASSRLS), so RLS applies to everything the runtime does.
 */
export async function ensureRuntimeRole(
  db: Kysely<unknown>,
  runtimeUrl: string,
  onProgress?: (m: string) => void,
): Promise<void> {
  const role = roleFromUrl(runtimeUrl)
  if (!role) return
  const { rows: me } = await sql<{ user: string }>`SELECT current_user AS user`.execute(db)
  if (me[0]?.user === role.user) {
    onProgress?.(`runtime role is the owner (${role.user}); row-level security would not apply`)
    return
  }
  const { rows } = await sql<{ exists: boolean; can: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${role.user}) AS exists,
      (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) AS can`.execute(
    db,
  )
  const r = rows[0]
  if (r && !r.exists) {
    if (!r.can) throw new Error(`runtime role ${role.user} does not exist and cannot be created`)
    // Concurrent migrators (tests, several containers) may race here: tolerate the loser.
    try {
      if (role.password)
        await sql`CREATE ROLE ${sql.id(role.user)} LOGIN PASSWORD ${sql.lit(role.password)} NOSUPERUSER NOBYPASSRLS`.execute(
          db,
        )
      else await sql`CREATE ROLE ${sql.id(role.user)} LOGIN NOSUPERUSER NOBYPASSRLS`.execute(db)
      onProgress?.(`created runtime role ${role.user}`)
    } catch (err) {
      if (!/already exists/.test((err as Error).message)) throw err
    }
  }
  const { rows: dbRows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(
    db,
  )
  await sql`GRANT CONNECT ON DATABASE ${sql.id(dbRows[0]!.name)} TO ${sql.id(role.user)}`.execute(
    db,
  )
  await sql`GRANT USAGE ON SCHEMA public TO ${sql.id(role.user)}`.execute(db)
  await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${sql.id(role.user)}`.execute(
    db,
  )
  await sql`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${sql.id(role.user)}`.execute(
    db,
  )
  // Kysely's own bookkeeping is for the migrator only.
  await sql`REVOKE ALL ON kysely_migration, kysely_migration_lock FROM ${sql.id(role.user)}`.execute(
    db,
  )
  // Read-only, so readiness can tell whether the schema is at the latest migration.
  await sql`GRANT SELECT ON kysely_migration TO ${sql.id(role.user)}`.execute(db)
}

/** The name of the newest migration this build ships (what a ready schema has applied). */
export async function latestMigrationName(dir: string = MIGRATIONS_DIR): Promise<string> {
  const names = (await fs.readdir(dir))
    .filter((f) => /^\d{12}_[a-z0-9_]+\.ts$/.test(f))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort()
  const last = names.at(-1)
  if (!last) throw new Error(`no migrations in ${dir}`)
  return last
}

export type SchemaStatus = { current: boolean; applied: string | null; latest: string }

/**
 * Whether the database has applied every migration of this build. Any failure (no migration
 * table yet, no grant yet because the migrator has not finished, Postgres down) is "not current".
 */
export async function schemaStatus(db: Kysely<any>, latest: string): Promise<SchemaStatus> {
  try {
    const { rows } = await sql<{
      name: string | null
    }>`SELECT max(name) AS name FROM kysely_migration`.execute(db)
    const applied = rows[0]?.name ?? null
    return { current: applied !== null && applied >= latest, applied, latest }
  } catch {
    return { current: false, applied: null, latest }
  }
}

/** The NOLOGIN roles of the signed-context migration (see 202612041900_signed_tenant_context.ts). */
export const DEFINER_ROLE = 'xeno_definer'
export const CROSS_TENANT_ROLE = 'xeno_cross_tenant'

async function isMember(db: Kysely<unknown>, user: string, role: string): Promise<boolean> {
  const { rows } = await sql<{ member: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${user})
      AND pg_has_role(${user}, ${role}, 'MEMBER') AS member`.execute(db)
  return rows[0]?.member === true
}

/**
 * After the migrations: the runtime role must not be able to act across tenants; the system
 * role (when configured) is created, granted like the runtime role and made a member of
 * xeno_cross_tenant; xeno_definer reads every table (for its narrow functions); and the
 * tenant-context key is stored in app_private.
 */
export async function ensureSecurityRoles(
  db: Kysely<unknown>,
  options: Pick<MigrateOptions, 'runtimeUrl' | 'systemUrl' | 'tenantContextKey' | 'onProgress'>,
): Promise<void> {
  const { rows } = await sql<{ ready: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${CROSS_TENANT_ROLE})
      AND to_regnamespace('app_private') IS NOT NULL AS ready`.execute(db)
  if (!rows[0]?.ready) return // an older schema (rolling back): nothing to secure yet
  const runtime = options.runtimeUrl ? roleFromUrl(options.runtimeUrl) : null
  const system = options.systemUrl ? roleFromUrl(options.systemUrl) : null
  if (runtime && system && runtime.user === system.user)
    throw new Error(
      `DATABASE_SYSTEM_URL must use another role than DATABASE_URL (both are ${runtime.user}): the API's role may not act across tenants`,
    )
  if (system) {
    await ensureRuntimeRole(db, options.systemUrl!, options.onProgress)
    await sql`GRANT ${sql.id(CROSS_TENANT_ROLE)} TO ${sql.id(system.user)}`.execute(db)
  }
  if (runtime) {
    for (const role of [CROSS_TENANT_ROLE, DEFINER_ROLE])
      if (await isMember(db, runtime.user, role))
        throw new Error(
          `the runtime role ${runtime.user} is a member of ${role}: revoke it (REVOKE ${role} FROM ${runtime.user}), the API's role may not act across tenants`,
        )
  }
  await sql`GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA public TO ${sql.id(DEFINER_ROLE)}`.execute(
    db,
  )
  await sql`REVOKE ALL ON kysely_migration, kysely_migration_lock FROM ${sql.id(DEFINER_ROLE)}`.execute(
    db,
  )
  if (options.tenantContextKey) {
    if (options.tenantContextKey.length !== 32)
      throw new Error('the tenant-context key must be 32 bytes')
    await sql`INSERT INTO app_private.tenant_context_key (id, key) VALUES (1, ${options.tenantContextKey})
      ON CONFLICT (id) DO UPDATE SET key = EXCLUDED.key, updated_at = now()
      WHERE app_private.tenant_context_key.key IS DISTINCT FROM EXCLUDED.key`.execute(db)
  }
}

/** Creates the database named in url when it does not exist (first run on a fresh server). */
export async function ensureDatabase(url: string, onProgress?: (m: string) => void): Promise<void> {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''))
  if (!name) return
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  try {
    await client.connect()
  } catch {
    return // cannot reach the maintenance database: let the migration report the real error
  }
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`)
      onProgress?.(`created database ${name}`)
    }
  } catch (err) {
    if (!/already exists/.test((err as Error).message)) throw err
  } finally {
    await client.end()
  }
}

/** Runs every pending migration, then grants the runtime role. Returns what ran. */
export async function migrateToLatest(options: MigrateOptions): Promise<string[]> {
  await ensureDatabase(options.ownerUrl, options.onProgress)
  const db = createOwnerDb(options.ownerUrl)
  try {
    const migrator = await migratorFor(db, options, 'up', true)
    let ran: string[]
    if (!(await hasCitus(db))) ran = check(await migrator.migrateToLatest())
    else {
      // On Citus each migration is followed by the distribution of what it created, so the next
      // migration already finds its tables reference or distributed (as a deployment does).
      ran = []
      for (;;) {
        const step = check(await migrator.migrateUp())
        ran.push(...step)
        await applyDistribution(db, options.onProgress)
        if (!step.length) break
      }
    }
    for (const m of ran) options.onProgress?.(m)
    if (options.runtimeUrl) await ensureRuntimeRole(db, options.runtimeUrl, options.onProgress)
    await ensureSecurityRoles(db, options)
    return ran
  } finally {
    await db.destroy()
  }
}

/** Rolls back the last migration, or all of them with `all`. */
export async function rollback(options: MigrateOptions & { all?: boolean }): Promise<string[]> {
  const db = createOwnerDb(options.ownerUrl)
  try {
    const migrator = await migratorFor(db, options, 'down', options.all === true)
    const ran = check(
      options.all ? await migrator.migrateTo(NO_MIGRATIONS) : await migrator.migrateDown(),
    )
    for (const m of ran) options.onProgress?.(m)
    return ran
  } finally {
    await db.destroy()
  }
}

/** Writes a new empty migration named with the current UTC minute. */
export async function makeMigration(name: string, now = new Date()): Promise<string> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error('migration name: lowercase letters, digits, _')
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 12)
  const file = path.join(MIGRATIONS_DIR, `${stamp}_${name}.ts`)
  await fs.writeFile(
    file,
    `import type { Kysely } from 'kysely'\n\nexport async function up(db: Kysely<any>): Promise<void> {}\n\nexport async function down(db: Kysely<any>): Promise<void> {}\n`,
    { flag: 'wx' },
  )
  return file
}
