import { CamelCasePlugin, Kysely, PostgresDialect, sql, type Transaction } from 'kysely'
import pg from 'pg'
import type { DB } from './database.types.ts'

export type Database = Kysely<DB>
export type Tx = Transaction<DB>
/** The pg client under a held connection, for what Kysely cannot express (COPY FROM STDIN). */
export type RawClient = pg.PoolClient

// Each pool's clients by server process id: how a held Kysely connection finds its pg client.
const clientsByDb = new WeakMap<Database, Map<number, pg.PoolClient>>()
const pidOf = (client: pg.PoolClient): number | undefined =>
  (client as unknown as { processID?: number }).processID

export type CreateDbOptions = {
  url: string
  applicationName: string
  poolMax?: number
  /** Per-statement limit in ms; a runaway query is cancelled instead of holding a connection. */
  statementTimeoutMs?: number
  /** Called with pool errors (idle clients dropped by a restarting server, etc.). */
  onError?: (err: Error) => void
}

/** Creates the application's Kysely instance (camelCase in TS, snake_case in SQL). */
export function createDb(options: CreateDbOptions): { db: Database; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 10,
    application_name: options.applicationName,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: 60_000,
    connectionTimeoutMillis: 5_000,
  })
  pool.on('error', (err) => options.onError?.(err))
  // The pool listens for errors only on idle clients: a checked-out client (a held connection,
  // e.g. for advisory locks, between queries) whose server dies would emit an unhandled 'error'
  // and crash the process. Swallow it here; its next query rejects and the pool drops it.
  pool.on('connect', (client) => client.on('error', () => {}))
  const clients = new Map<number, pg.PoolClient>()
  pool.on('acquire', (client) => {
    const pid = pidOf(client)
    if (pid !== undefined) clients.set(pid, client)
  })
  pool.on('remove', (client) => {
    const pid = pidOf(client)
    if (pid !== undefined && clients.get(pid) === client) clients.delete(pid)
  })
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool }),
    plugins: [new CamelCasePlugin()],
  })
  clientsByDb.set(db, clients)
  return { db, pool }
}

/**
 * The pg client under `conn`, a connection held from `db` (`db.connection().execute`). Use it
 * only between Kysely queries on that connection, never concurrently with one.
 */
export async function rawClientOf(db: Database, conn: Database): Promise<RawClient> {
  const clients = clientsByDb.get(db)
  if (!clients) throw new Error('rawClientOf: the database was not made by createDb')
  const r = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(conn)
  const client = clients.get(Number(r.rows[0]?.pid))
  if (!client) throw new Error('rawClientOf: the connection is not one of this pool')
  return client
}

/**
 * Runs fn in a transaction acting for one tenant: RLS then only shows that tenant's rows,
 * whatever filter a query forgets.
 */
export async function withTenant<T>(
  db: Database,
  tenantId: string,
  fn: (trx: Tx) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('app.tenant_id', ${tenantId}, true)`.execute(trx)
    return fn(trx)
  })
}

/**
 * Runs fn in a transaction allowed to see every tenant (schedulers, sweepers, admin listings,
 * resolving a tenant from a shop domain or a credential). Callers are few and named.
 */
export async function withSystem<T>(db: Database, fn: (trx: Tx) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('app.system', 'on', true)`.execute(trx)
    return fn(trx)
  })
}

/** True when the database answers a trivial query within timeoutMs. */
export async function pingDb(db: Database, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      sql`SELECT 1`.execute(db).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs)
      }),
    ])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Describes why the connected role would bypass row-level security, or null when it would not.
 * The runtime refuses to start as a superuser, a BYPASSRLS role or the owner of the tables.
 */
export async function rlsBypassReason(db: Database): Promise<string | null> {
  const { rows } = await sql<{ role: string; superuser: boolean; bypass: boolean; owns: number }>`
    SELECT current_user AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypass,
      (SELECT count(*)::int FROM pg_tables t
        WHERE t.schemaname = 'public' AND t.tableowner = current_user) AS owns
    FROM pg_roles r WHERE r.rolname = current_user`.execute(db)
  const r = rows[0]
  if (!r) return 'cannot read the connected role'
  if (r.superuser) return `role ${r.role} is a superuser`
  if (r.bypass) return `role ${r.role} has BYPASSRLS`
  if (r.owns > 0) return `role ${r.role} owns ${r.owns} tables`
  return null
}
