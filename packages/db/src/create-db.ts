import { createHash, createHmac } from 'node:crypto'
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
  tenantContextKey: Buffer | undefined
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
  /**
   * Longest wait in ms for a connection from the pool (a free one, or a new one connecting);
   * then the query rejects with an error `isDatabaseBusy` recognises. Default 5000.
   */
  acquireTimeoutMs?: number
  /** Called with pool errors (idle clients dropped by a restarting server, etc.). */
  onError?: (err: Error) => void
  /**
   * The 32-byte key tenant and admin contexts are signed with (TENANT_CONTEXT_KEY). Without it
   * withTenant/withAdmin cannot act: the database trusts no unsigned context.
   */
  tenantContextKey?: Buffer
}

/** Creates the application's Kysely instance (camelCase in TS, snake_case in SQL). */
export function createDb(options: CreateDbOptions): { db: Database; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 10,
    application_name: options.applicationName,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: 60_000,
    connectionTimeoutMillis: options.acquireTimeoutMs ?? 5_000,
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
  internalsOf.set(db, { pool, clients, camelCase, tenantContextKey: options.tenantContextKey })
  return { db, pool }
}

// SQLSTATEs of a server that is overloaded rather than wrong: too many connections, not
// accepting connections yet, a statement cancelled by statement_timeout.
const BUSY_SQLSTATES = new Set(['53300', '57P03', '57014'])

/**
 * True when `err` means "the database had no capacity in time" — the pool's checkout wait
 * (acquireTimeoutMs) ran out, a new connection did not open in time, or the server refused
 * one for load — so the caller should answer 503 with Retry-After, never 500.
 */
export function isDatabaseBusy(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (
    err.message === 'timeout exceeded when trying to connect' ||
    err.message === 'Connection terminated due to connection timeout'
  )
    return true
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && BUSY_SQLSTATES.has(code)
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

/** How long a signed context stays valid after it is made (checked at the transaction's start). */
const CONTEXT_TTL_SECONDS = 600

/**
 * Signs `message` with db's tenant-context key the way app_private.mac_ok checks it:
 * '<expiry>.<hex HMAC-SHA256(key, message:expiry)>'. For the database's narrow functions that
 * take a vouched-for argument (a shop domain, the admin listing, /metrics).
 */
export function signContext(db: Database, message: string, now = Date.now()): string {
  const key = internalsOf.get(db)?.tenantContextKey
  if (!key)
    throw new Error('no tenant-context key: pass tenantContextKey to createDb (TENANT_CONTEXT_KEY)')
  const exp = Math.floor(now / 1000) + CONTEXT_TTL_SECONDS
  return `${exp}.${createHmac('sha256', key).update(`${message}:${exp}`).digest('hex')}`
}

/**
 * The statement that makes the current transaction act for one tenant: app.tenant_id and its
 * MAC. set_config with bind parameters rather than SET LOCAL: the MAC then never appears in a
 * statement's text, which pg_stat_activity shows to every session of the same role (a SET LOCAL
 * literal would hand a concurrent attacker another tenant's signed context for its lifetime),
 * and the text is the same for every tenant, so a prepared statement serves them all.
 */
export function tenantContext(db: Database, tenantId: string) {
  return sql`SELECT set_config('app.tenant_id', ${tenantId}, true), set_config('app.tenant_mac', ${signContext(db, `tenant:${tenantId}`)}, true)`
}

/**
 * Runs fn in a transaction acting for one tenant: RLS then only shows that tenant's rows,
 * whatever filter a query forgets. The tenant id is signed (see tenantContext): a role that can
 * run SQL but lacks the key cannot name another tenant.
 */
export async function withTenant<T>(
  db: Database,
  tenantId: string,
  fn: (trx: Tx) => Promise<T>,
): Promise<T> {
  const context = tenantContext(db, tenantId)
  return db.transaction().execute(async (trx) => {
    await context.execute(trx)
    return fn(trx)
  })
}

/**
 * Runs fn in a transaction allowed to see admin_users and admin_sessions (signed like a tenant
 * context). Only after the admin is authenticated, or to authenticate one.
 */
export async function withAdmin<T>(db: Database, fn: (trx: Tx) => Promise<T>): Promise<T> {
  const mac = signContext(db, 'admin')
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('app.admin_mac', ${mac}, true)`.execute(trx)
    return fn(trx)
  })
}

/**
 * Runs fn in a transaction allowed to see every tenant (schedulers, sweepers, reconciliation).
 * Only a role in xeno_cross_tenant (the worker's DATABASE_SYSTEM_URL) may: for any other role,
 * the API's included, app_require_system() refuses, and the setting alone grants nothing.
 */
export async function withSystem<T>(db: Database, fn: (trx: Tx) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('app.system', 'on', true), app_require_system()`.execute(trx)
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
export async function rlsBypassReason(
  db: Database,
  options: { system?: boolean } = {},
): Promise<string | null> {
  const { rows } = await sql<{
    role: string
    superuser: boolean
    bypass: boolean
    owns: number
    crossTenant: boolean | null
    definer: boolean | null
  }>`
    SELECT current_user AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypass,
      (SELECT count(*)::int FROM pg_tables t
        WHERE t.schemaname = 'public' AND t.tableowner = current_user) AS owns,
      (SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles
        WHERE rolname = 'xeno_cross_tenant') AS cross_tenant,
      (SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles
        WHERE rolname = 'xeno_definer') AS definer
    FROM pg_roles r WHERE r.rolname = current_user`.execute(db)
  const r = rows[0]
  if (!r) return 'cannot read the connected role'
  if (r.superuser) return `role ${r.role} is a superuser`
  if (r.bypass) return `role ${r.role} has BYPASSRLS`
  if (r.owns > 0) return `role ${r.role} owns ${r.owns} tables`
  if (r.definer) return `role ${r.role} is a member of xeno_definer (it could read the context key)`
  if (options.system && !r.crossTenant)
    return `role ${r.role} is not a member of xeno_cross_tenant (run the migrations with DATABASE_SYSTEM_URL set)`
  if (!options.system && r.crossTenant)
    return `role ${r.role} is a member of xeno_cross_tenant: only the worker's DATABASE_SYSTEM_URL role may act across tenants`
  return null
}
