import { createHash } from 'node:crypto'
import {
  CamelCasePlugin,
  Kysely,
  PostgresDialect,
  sql,
  type CompiledQuery,
  type Transaction,
  type UnknownRow,
} from 'kysely'
import pg from 'pg'
import type { DB } from './database.types.ts'

export type Database = Kysely<DB>
export type Tx = Transaction<DB>
/** The pg client under a held connection, for what Kysely cannot express (COPY FROM STDIN). */
export type RawClient = pg.PoolClient

// What createDb keeps beside each Kysely instance: its pool, the pool's clients by server process
// id (how a held Kysely connection finds its pg client) and the camelCase plugin.
type DbInternals = {
  pool: pg.Pool
  clients: Map<number, pg.PoolClient>
  camelCase: CamelCasePlugin
}
const internalsOf = new WeakMap<Database, DbInternals>()
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
  const camelCase = new CamelCasePlugin()
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), plugins: [camelCase] })
  internalsOf.set(db, { pool, clients, camelCase })
  return { db, pool }
}

/**
 * The pg client under `conn`, a connection held from `db` (`db.connection().execute`). Use it
 * only between Kysely queries on that connection, never concurrently with one.
 */
export async function rawClientOf(db: Database, conn: Database): Promise<RawClient> {
  const clients = internalsOf.get(db)?.clients
  if (!clients) throw new Error('rawClientOf: the database was not made by createDb')
  const r = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(conn)
  const client = clients.get(Number(r.rows[0]?.pid))
  if (!client) throw new Error('rawClientOf: the connection is not one of this pool')
  return client
}

/** A prepared statement's name: the same text gets the same name on every connection. */
const preparedName = (text: string) =>
  `xeno_${createHash('sha256').update(text).digest('base64url').slice(0, 32)}`

/** pg's answer when a statement follows a failed one in the same transaction. */
const IN_FAILED_TRANSACTION = '25P02'

/**
 * Runs statements as ONE transaction in ONE round trip: BEGIN, the statements and COMMIT are
 * written to the server together (pg's pipeline mode) instead of each waiting for the previous
 * answer. Under load every round trip also waits for a turn of the event loop, so a four-step
 * transaction (BEGIN, set_config, INSERT, COMMIT) spends most of its time between steps; this is
 * for hot paths whose statements do not depend on each other's results (the webhook inbox).
 * Resolves after the commit with each statement's rows, camelCased as Kysely would; if any
 * statement fails, the server rolls the whole transaction back and this rejects with that
 * statement's error.
 *
 * With `prepare`, each statement is a named prepared statement on its connection (named by its
 * text), parsed and planned once per connection instead of on every call. Only for hot
 * statements of few distinct texts: connections keep every statement they prepared.
 */
export async function pipelinedTransaction(
  db: Database,
  statements: readonly CompiledQuery[],
  options: { prepare?: boolean } = {},
): Promise<UnknownRow[][]> {
  const internals = internalsOf.get(db)
  if (!internals) throw new Error('pipelinedTransaction: the database was not made by createDb')
  const client = await internals.pool.connect()
  // Pipeline mode is a per-client flag pg reads whenever it sends queued queries; the client is
  // idle while checked out here, and goes back to the pool in ordinary mode.
  const mode = client as unknown as { pipeline: boolean }
  mode.pipeline = true
  let broken: Error | undefined
  try {
    const sent = [
      client.query('BEGIN'),
      ...statements.map((s) =>
        client.query({
          text: s.sql,
          values: s.parameters as unknown[],
          name: options.prepare ? preparedName(s.sql) : undefined,
        }),
      ),
      client.query('COMMIT'),
    ]
    const settled = await Promise.allSettled(sent)
    const commit = settled[settled.length - 1]!
    if (commit.status === 'rejected') {
      // COMMIT got no answer (the connection broke) or was refused: nothing committed. The
      // client's state is unknown, so the pool must not reuse it.
      broken = commit.reason as Error
      throw broken
    }
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []))
    if (failures.length) {
      // The first real error, not the "transaction is aborted" answers of the statements after it.
      throw (
        failures.find((e) => (e as { code?: string }).code !== IN_FAILED_TRANSACTION) ??
        failures[0]!
      )
    }
    // A COMMIT of a failed transaction answers ROLLBACK; failures above cover it, this guards.
    if (commit.value.command !== 'COMMIT') throw new Error('the transaction was rolled back')
    return await Promise.all(
      statements.map(async (s, i) => {
        const result = settled[i + 1] as PromiseFulfilledResult<pg.QueryResult<UnknownRow>>
        const { rows } = await internals.camelCase.transformResult({
          queryId: s.queryId,
          result: { rows: result.value.rows },
        })
        return rows
      }),
    )
  } finally {
    mode.pipeline = false
    client.release(broken)
  }
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
