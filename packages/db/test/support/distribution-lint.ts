// Lint rules a distributed engine (Citus) imposes, checked on plain PostgreSQL: on the catalog of
// the migrated schema and on the SQL source. Each rule returns its violations, one line each.
import type { CatalogTable } from '../../src/distribution.ts'

/** Every unique and primary key of a tenant table (one with tenant_id) includes tenant_id. */
export function keysWithoutTenant(catalog: CatalogTable[]): string[] {
  return catalog
    .filter((t) => t.hasTenantId)
    .flatMap((t) =>
      t.uniqueKeys
        .filter((u) => !u.columns.includes('tenant_id'))
        .map((u) => `${t.name}: unique key ${u.name} (${u.columns.join(', ')}) lacks tenant_id`),
    )
}

/** A foreign key between two tenant tables joins tenant_id to tenant_id. */
export function foreignKeysAcrossTenants(catalog: CatalogTable[]): string[] {
  const tenant = new Set(catalog.filter((t) => t.hasTenantId).map((t) => t.name))
  return catalog
    .filter((t) => tenant.has(t.name))
    .flatMap((t) =>
      t.foreignKeys
        .filter((f) => tenant.has(f.references) && f.references !== t.name)
        .filter((f) => {
          const i = f.columns.indexOf('tenant_id')
          return i < 0 || f.refColumns[i] !== 'tenant_id'
        })
        .map(
          (f) =>
            `${t.name}: foreign key ${f.name} (${f.columns.join(', ')}) → ${f.references} ` +
            `(${f.refColumns.join(', ')}) does not join tenant_id to tenant_id`,
        ),
    )
}

/**
 * The template literals of a TypeScript source, each with its interpolations replaced by `$x`;
 * literals nested in interpolations are returned too (a fragment like `sql\`tags = …\``).
 */
export function templateLiterals(source: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = []
  const lineAt = (i: number) => source.slice(0, i).split('\n').length
  // Scans a template literal starting after its backtick; returns the index after its end.
  const literal = (start: number): number => {
    let text = ''
    let i = start
    while (i < source.length) {
      const ch = source[i]!
      if (ch === '\\') {
        text += source.slice(i, i + 2)
        i += 2
      } else if (ch === '`') {
        out.push({ text, line: lineAt(start) })
        return i + 1
      } else if (ch === '$' && source[i + 1] === '{') {
        text += '$x'
        i = code(i + 2, '}')
      } else {
        text += ch
        i++
      }
    }
    return i
  }
  // Scans code until the closing `close` at depth 0 (skipping strings and nested templates).
  const code = (start: number, close: string | null): number => {
    let depth = 0
    let i = start
    while (i < source.length) {
      const ch = source[i]!
      if (ch === '`') i = literal(i + 1)
      else if (ch === "'" || ch === '"') {
        i++
        while (i < source.length && source[i] !== ch) i += source[i] === '\\' ? 2 : 1
        i++
      } else if (ch === '/' && source[i + 1] === '/') {
        while (i < source.length && source[i] !== '\n') i++
      } else if (ch === '/' && source[i + 1] === '*') {
        i = source.indexOf('*/', i + 2) + 2
        if (i < 2) return source.length
      } else if (ch === '{') {
        depth++
        i++
      } else if (ch === '}') {
        if (depth === 0 && close === '}') return i + 1
        depth--
        i++
      } else i++
    }
    return i
  }
  code(0, null)
  return out
}

// STABLE or VOLATILE functions Citus refuses where it needs IMMUTABLE expressions.
const NON_IMMUTABLE =
  /\b(now|clock_timestamp|statement_timestamp|transaction_timestamp|timeofday|random|gen_random_uuid|uuid_generate_v4|nextval|txid_current)\s*\(|\b(current_timestamp|current_date|current_time|localtimestamp|localtime)\b/i

/** The balanced `( … )` after index `open` (which holds the opening parenthesis). */
function balanced(text: string, open: number): string {
  let depth = 0
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++
    else if (text[i] === ')' && --depth === 0) return text.slice(open, i + 1)
  }
  return text.slice(open)
}

/** From a CASE at `at` to its END (nested CASEs counted). */
function caseExpr(text: string, at: number): string {
  const re = /\b(case|end)\b/gi
  re.lastIndex = at
  let depth = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    depth += m[1]!.toLowerCase() === 'case' ? 1 : -1
    if (depth === 0) return text.slice(at, m.index + 3)
  }
  return text.slice(at)
}

const WRITE =
  /\b(insert\s+into|update\s+[a-z_$][\w$]*(\s+(as\s+)?[a-z_]\w*)?\s+set|delete\s+from)\b/i

/**
 * Non-immutable functions where Citus refuses them: in `ON CONFLICT … DO UPDATE SET` (and in
 * update-list fragments assigning `excluded.` columns, which are spliced into one), and inside a
 * CASE or COALESCE of a write statement.
 */
export function volatileInWrites(source: string, file: string): string[] {
  const out: string[] = []
  for (const { text, line } of templateLiterals(source)) {
    // Only schema public is distributed: a write to another schema's table (app_private, the
    // coordinator's own) is not bound by these rules.
    const target = /\b(?:insert\s+into|update|delete\s+from)\s+([a-z_]\w*)\./i.exec(text)
    if (target && target[1]!.toLowerCase() !== 'public') continue
    const at = text.search(/\bdo\s+update\s+set\b/i)
    const upsertSet = at >= 0 ? text.slice(at) : /\bexcluded\./i.test(text) ? text : ''
    const f = NON_IMMUTABLE.exec(upsertSet)
    if (f) out.push(`${file}:${line}: ${f[0]} in ON CONFLICT … DO UPDATE SET`)
    if (!WRITE.test(text)) continue
    for (const m of text.matchAll(/\bcoalesce\s*\(/gi)) {
      const expr = balanced(text, m.index + m[0].length - 1)
      const v = NON_IMMUTABLE.exec(expr)
      if (v) out.push(`${file}:${line}: ${v[0]} in COALESCE of a write: coalesce${expr}`)
    }
    for (const m of text.matchAll(/\bcase\b/gi)) {
      const expr = caseExpr(text, m.index)
      const v = NON_IMMUTABLE.exec(expr)
      if (v) out.push(`${file}:${line}: ${v[0]} in CASE of a write`)
    }
  }
  return out
}

/**
 * Constraints a migration adds to an existing table must be named (Citus needs the name to
 * create the constraint on every shard of a distributed table): `ALTER TABLE … ADD COLUMN …
 * UNIQUE | CHECK | REFERENCES | PRIMARY KEY` or `ADD UNIQUE | CHECK | FOREIGN KEY | PRIMARY KEY`
 * without `CONSTRAINT name`, in raw SQL or Kysely's alterTable().addColumn(…, (c) => c.check(…)).
 */
export function unnamedConstraints(source: string, file: string): string[] {
  const out: string[] = []
  const lineAt = (i: number) => source.slice(0, i).split('\n').length
  // Kysely: an alterTable chain up to its execute().
  for (const m of source.matchAll(/\.alterTable\(([^)]*)\)([\s\S]*?)\.execute\(\)/g)) {
    for (const c of m[2]!.matchAll(/\.addColumn\(([^,]+),[^,]+,([^\n]*(?:\n(?!\s*\.add)[^\n]*)*)/g))
      if (/\.(unique|check|references|primaryKey)\(/.test(c[2]!))
        out.push(
          `${file}:${lineAt(m.index)}: alterTable(${m[1]}).addColumn(${c[1]}) with an unnamed constraint`,
        )
  }
  // Raw SQL in template literals.
  for (const { text, line } of templateLiterals(source)) {
    if (!/\balter\s+table\b/i.test(text)) continue
    for (const clause of text.split(/,(?![^(]*\))/)) {
      const add = /\badd\s+(column\s+)?([\s\S]*)/i.exec(clause)
      if (!add) continue
      const body = add[2]!
      if (/^constraint\b/i.test(body.trim()) || /^(index|if)\b/i.test(body.trim())) continue
      const kind = /\b(unique|check|references|primary\s+key|foreign\s+key)\b/i.exec(body)
      if (
        kind &&
        !/\bconstraint\s+\w+\s+[\s\S]*\b(unique|check|references|primary\s+key)\b/i.test(body)
      )
        out.push(
          `${file}:${line}: ADD ${add[1] ? 'COLUMN ' : ''}… ${kind[1]!.toUpperCase()} without CONSTRAINT name`,
        )
    }
  }
  return out
}
