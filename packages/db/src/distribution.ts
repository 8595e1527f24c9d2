// Distribution of the schema over a Citus cluster, derived from the catalog. The plan (which
// table, which kind, which order) reads pg_catalog only, so it runs and is tested on plain
// PostgreSQL; only applyDistribution calls Citus (create_reference_table,
// create_distributed_table), and only where the citus extension is installed.
import { sql, type Kysely } from 'kysely'

/** The column every tenant-owned table is distributed by. */
export const DISTRIBUTION_COLUMN = 'tenant_id'
/** The table the colocation group is anchored on (the largest, most joined tenant table). */
export const COLOCATION_ANCHOR = 'orders'

export type DistributionStep =
  | { table: string; kind: 'reference'; reason: string }
  | { table: string; kind: 'distributed'; column: string; colocateWith: string | null }

/** One table of the catalog, as the plan sees it. */
export type CatalogTable = {
  name: string
  hasTenantId: boolean
  /** Unique indexes (primary keys and unique constraints included), by their column names. */
  uniqueKeys: { name: string; columns: string[] }[]
  /** Foreign keys to other tables of the schema. */
  foreignKeys: { name: string; columns: string[]; references: string; refColumns: string[] }[]
}

/** The tables of schema `public` (Kysely's own bookkeeping left out), with keys and references. */
export async function readCatalog(db: Kysely<any>): Promise<CatalogTable[]> {
  const { rows: tables } = await sql<{ name: string; hasTenantId: boolean }>`
    SELECT c.relname AS name,
      EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
        AND a.attname = ${DISTRIBUTION_COLUMN} AND NOT a.attisdropped) AS "hasTenantId"
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND c.relname NOT LIKE 'kysely\\_%'
    ORDER BY c.relname`.execute(db)
  const { rows: uniques } = await sql<{ table: string; name: string; columns: string[] | null }>`
    SELECT t.relname AS table, i.relname AS name,
      array(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
        WHERE k.ord <= x.indnkeyatts ORDER BY k.ord) AS columns
    FROM pg_index x
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'public' AND x.indisunique
    ORDER BY 1, 2`.execute(db)
  const { rows: fks } = await sql<{
    table: string
    name: string
    columns: string[]
    references: string
    refColumns: string[]
  }>`
    SELECT t.relname AS table, c.conname AS name, r.relname AS references,
      array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord)
        AS columns,
      array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord)
        AS "refColumns"
    FROM pg_constraint c
    JOIN pg_class t ON t.oid = c.conrelid
    JOIN pg_class r ON r.oid = c.confrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'public' AND c.contype = 'f'
    ORDER BY 1, 2`.execute(db)
  return tables.map((t) => ({
    name: t.name,
    hasTenantId: t.hasTenantId,
    uniqueKeys: uniques
      .filter((u) => u.table === t.name)
      .map((u) => ({ name: u.name, columns: u.columns ?? [] })),
    foreignKeys: fks
      .filter((f) => f.table === t.name)
      .map((f) => ({
        name: f.name,
        columns: f.columns,
        references: f.references,
        refColumns: f.refColumns,
      })),
  }))
}

/**
 * Why a table must be a reference table (copied to every node) rather than distributed by
 * tenant_id, or null when it can be distributed: it has no tenant_id, or a unique key without it
 * (a distributed table can only enforce uniqueness within one shard, that is one tenant).
 */
export function referenceReason(t: CatalogTable): string | null {
  if (!t.hasTenantId) return `no ${DISTRIBUTION_COLUMN} column`
  const global = t.uniqueKeys.find((u) => !u.columns.includes(DISTRIBUTION_COLUMN))
  return global ? `unique key ${global.name} (${global.columns.join(', ')}) lacks tenant_id` : null
}

/**
 * Orders `names` so that every table comes after the tables it references (parents first);
 * among the tables ready at a time, `first` wins, then the name order. Throws on a cycle.
 */
function parentsFirst(names: string[], parentsOf: Map<string, Set<string>>, first?: string) {
  const left = new Set(names)
  const out: string[] = []
  while (left.size) {
    const ready = [...left]
      .filter((n) => [...(parentsOf.get(n) ?? [])].every((p) => !left.has(p) || p === n))
      .sort((a, b) => (a === first ? -1 : b === first ? 1 : a.localeCompare(b)))
    if (!ready.length) throw new Error(`foreign-key cycle among ${[...left].join(', ')}`)
    out.push(ready[0]!)
    left.delete(ready[0]!)
  }
  return out
}

/**
 * The distribution plan of a catalog: reference tables first (parents first among them), then
 * the tenant tables parents first, the colocation anchor (orders) as early as its parents allow;
 * the first distributed table anchors the colocation group, every other one is colocated with it.
 */
export function planDistribution(catalog: CatalogTable[]): DistributionStep[] {
  const parentsOf = new Map(
    catalog.map((t) => [t.name, new Set(t.foreignKeys.map((f) => f.references))]),
  )
  const reasons = new Map(catalog.map((t) => [t.name, referenceReason(t)]))
  const refs = catalog.filter((t) => reasons.get(t.name)).map((t) => t.name)
  const dist = catalog.filter((t) => !reasons.get(t.name)).map((t) => t.name)
  const plan: DistributionStep[] = parentsFirst(refs, parentsOf).map((table) => ({
    table,
    kind: 'reference',
    reason: reasons.get(table)!,
  }))
  let anchor: string | null = null
  for (const table of parentsFirst(dist, parentsOf, COLOCATION_ANCHOR)) {
    plan.push({ table, kind: 'distributed', column: DISTRIBUTION_COLUMN, colocateWith: anchor })
    anchor ??= table
  }
  return plan
}

/** The plan of a database's current schema. */
export async function distributionPlan(db: Kysely<any>): Promise<DistributionStep[]> {
  return planDistribution(await readCatalog(db))
}

/** True when the citus extension is installed in this database. */
export async function hasCitus(db: Kysely<any>): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'citus'`.execute(db)
  return (rows[0]?.n ?? 0) > 0
}

/**
 * The Citus statements for the steps not yet done. `done` maps a table to what Citus has made of
 * it (pg_dist_partition): `reference`, `distributed`, or `local` for a Citus local table (which
 * create_reference_table / create_distributed_table still convert).
 */
export function distributionStatements(
  plan: DistributionStep[],
  done: Map<string, 'reference' | 'distributed' | 'local'>,
): string[] {
  const lit = (s: string) => `'${s.replace(/'/g, "''")}'`
  const out: string[] = []
  for (const step of plan) {
    const now = done.get(step.table)
    if (step.kind === 'reference') {
      if (now !== 'reference') out.push(`SELECT create_reference_table(${lit(step.table)})`)
    } else if (now !== 'distributed')
      out.push(
        `SELECT create_distributed_table(${lit(step.table)}, ${lit(step.column)}` +
          (step.colocateWith ? `, colocate_with => ${lit(step.colocateWith)})` : ')'),
      )
  }
  return out
}

/**
 * Applies the plan on a database with the citus extension (idempotent: tables already reference
 * or distributed are left alone). With local reference-table foreign keys off, making `tenants`
 * a reference table does not silently turn every table referencing it into a Citus local table
 * (after which orders could no longer be distributed). Returns the statements it ran.
 */
export async function applyDistribution(
  db: Kysely<any>,
  onProgress?: (message: string) => void,
): Promise<string[]> {
  if (!(await hasCitus(db)))
    throw new Error(
      'the citus extension is not installed in this database (CREATE EXTENSION citus)',
    )
  const plan = await distributionPlan(db)
  return db.connection().execute(async (conn) => {
    const { rows } = await sql<{ table: string; method: string; repmodel: string }>`
      SELECT logicalrelid::regclass::text AS table, partmethod AS method, repmodel
      FROM pg_dist_partition`.execute(conn)
    const done = new Map(
      rows.map((r) => [
        r.table.replace(/^public\./, ''),
        r.method === 'h'
          ? ('distributed' as const)
          : r.repmodel === 't'
            ? ('reference' as const)
            : ('local' as const),
      ]),
    )
    const statements = distributionStatements(plan, done)
    if (!statements.length) return []
    await sql`SET citus.enable_local_reference_table_foreign_keys = off`.execute(conn)
    for (const s of statements) {
      onProgress?.(s)
      await sql.raw(s).execute(conn)
    }
    return statements
  })
}
