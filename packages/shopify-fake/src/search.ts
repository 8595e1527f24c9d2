/** Shopify's `query:` search syntax: whitespace = AND, OR, NOT / `-`, parentheses,
 * `field:value`, `field:<value` (also >, <=, >=), single or double quotes. */

export type Comparator = '=' | '<' | '>' | '<=' | '>='

export type SearchNode =
  | { kind: 'and'; items: SearchNode[] }
  | { kind: 'or'; items: SearchNode[] }
  | { kind: 'not'; item: SearchNode }
  | { kind: 'term'; field: string | null; cmp: Comparator; value: string; raw: string }

type Token = { t: 'word'; v: string; quoted: boolean } | { t: '(' } | { t: ')' }

function tokenize(q: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < q.length) {
    const c = q[i] ?? ''
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (c === '(' || c === ')') {
      out.push({ t: c })
      i++
      continue
    }
    // A word runs to whitespace or a paren, but quoted sections may contain both.
    let v = ''
    let quoted = false
    while (i < q.length) {
      const ch = q[i] ?? ''
      if (ch === '"' || ch === "'") {
        const end = q.indexOf(ch, i + 1)
        const stop = end < 0 ? q.length : end
        v += q.slice(i + 1, stop)
        quoted = true
        i = stop + 1
        continue
      }
      if (/\s/.test(ch) || ch === '(' || ch === ')') break
      v += ch
      i++
    }
    out.push({ t: 'word', v, quoted })
  }
  return out
}

/** Parses a search string; an empty or blank string gives null (match all). */
export function parseSearch(q: string | null | undefined): SearchNode | null {
  if (!q || !q.trim()) return null
  const toks = tokenize(q)
  let p = 0
  const peek = (): Token | undefined => toks[p]
  const isWord = (tok: Token | undefined, w: string): boolean =>
    tok?.t === 'word' && !tok.quoted && tok.v === w

  const parseOr = (): SearchNode => {
    const items = [parseAnd()]
    while (isWord(peek(), 'OR')) {
      p++
      items.push(parseAnd())
    }
    return items.length === 1 && items[0] ? items[0] : { kind: 'or', items }
  }
  const parseAnd = (): SearchNode => {
    const items: SearchNode[] = []
    for (;;) {
      const tok = peek()
      if (!tok || tok.t === ')' || isWord(tok, 'OR')) break
      if (isWord(tok, 'AND')) {
        p++
        continue
      }
      items.push(parseUnary())
    }
    return items.length === 1 && items[0] ? items[0] : { kind: 'and', items }
  }
  const parseUnary = (): SearchNode => {
    const tok = peek()
    if (isWord(tok, 'NOT')) {
      p++
      return { kind: 'not', item: parseUnary() }
    }
    if (tok?.t === '(') {
      p++
      const inner = parseOr()
      if (peek()?.t === ')') p++
      return inner
    }
    p++
    if (tok?.t !== 'word') return { kind: 'and', items: [] }
    let word = tok.v
    let negate = false
    if (word.startsWith('-') && word.length > 1 && !tok.quoted) {
      negate = true
      word = word.slice(1)
    }
    const term = parseTerm(word)
    return negate ? { kind: 'not', item: term } : term
  }
  const parseTerm = (word: string): SearchNode => {
    const colon = word.indexOf(':')
    if (colon <= 0) return { kind: 'term', field: null, cmp: '=', value: word, raw: word }
    const field = word.slice(0, colon)
    let rest = word.slice(colon + 1)
    let cmp: Comparator = '='
    for (const c of ['<=', '>=', '<', '>'] as const) {
      if (rest.startsWith(c)) {
        cmp = c
        rest = rest.slice(c.length)
        break
      }
    }
    return { kind: 'term', field, cmp, value: rest, raw: word }
  }
  return parseOr()
}

/** Every term of a parsed query. */
export function terms(node: SearchNode | null): Extract<SearchNode, { kind: 'term' }>[] {
  if (!node) return []
  switch (node.kind) {
    case 'term':
      return [node]
    case 'not':
      return terms(node.item)
    case 'and':
    case 'or':
      return node.items.flatMap(terms)
  }
}

export type FieldType = 'date' | 'number' | 'string' | 'boolean' | 'list'

/** How one search field reads a row. `granularity: 'day'` compares whole UTC days. */
export type FieldSpec<T> = {
  type: FieldType
  get: (row: T) => number | string | boolean | null | string[]
  granularity?: 'second' | 'day'
}

export type FieldTable<T> = Record<string, FieldSpec<T>>

type DateBound = { start: number; end: number }

/** Parses a search date: 'now', a year, a day or a full timestamp (whole-unit ranges). */
export function parseDateValue(v: string, now: number): DateBound | null {
  if (v === 'now') return { start: now, end: now + 1 }
  if (/^\d{4}$/.test(v)) {
    const y = Number(v)
    return { start: Date.UTC(y, 0, 1), end: Date.UTC(y + 1, 0, 1) }
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const s = Date.parse(`${v}T00:00:00Z`)
    return Number.isFinite(s) ? { start: s, end: s + 86_400_000 } : null
  }
  const s = Date.parse(v)
  if (!Number.isFinite(s)) return null
  const sec = Math.floor(s / 1000) * 1000
  return { start: sec, end: sec + 1000 }
}

const DAY = 86_400_000

function compareDate(
  rowMs: number,
  cmp: Comparator,
  b: DateBound,
  gran: 'second' | 'day',
): boolean {
  let row = Math.floor(rowMs / 1000) * 1000
  let { start, end } = b
  if (gran === 'day') {
    row = Math.floor(row / DAY) * DAY
    start = Math.floor(start / DAY) * DAY
    end = Math.max(start + DAY, Math.ceil(end / DAY) * DAY)
  }
  switch (cmp) {
    case '=':
      return row >= start && row < end
    case '>':
      return row >= end
    case '>=':
      return row >= start
    case '<':
      return row < start
    case '<=':
      return row < end
  }
}

function compareNum(a: number, cmp: Comparator, b: number): boolean {
  switch (cmp) {
    case '=':
      return a === b
    case '>':
      return a > b
    case '>=':
      return a >= b
    case '<':
      return a < b
    case '<=':
      return a <= b
  }
}

export type SearchWarning = { field: string; message: string; code: string }

/** Compiles a query into a predicate; unknown fields are ignored (match) and reported. */
export function compileSearch<T>(
  node: SearchNode | null,
  fields: FieldTable<T>,
  now: number,
  freeText?: (row: T, text: string) => boolean,
): { test: (row: T) => boolean; warnings: SearchWarning[] } {
  const warnings: SearchWarning[] = []
  const build = (n: SearchNode): ((row: T) => boolean) => {
    switch (n.kind) {
      case 'and': {
        const fs = n.items.map(build)
        return (row) => fs.every((f) => f(row))
      }
      case 'or': {
        const fs = n.items.map(build)
        return (row) => fs.some((f) => f(row))
      }
      case 'not': {
        const f = build(n.item)
        return (row) => !f(row)
      }
      case 'term': {
        if (n.field === null) {
          const text = n.value.toLowerCase()
          return freeText ? (row) => freeText(row, text) : () => true
        }
        const spec = fields[n.field]
        if (!spec) {
          warnings.push({
            field: n.field,
            message: 'Invalid search field for this query.',
            code: 'invalid_field',
          })
          return () => true
        }
        return termPredicate(spec, n.cmp, n.value, now)
      }
    }
  }
  return { test: node ? build(node) : () => true, warnings }
}

function termPredicate<T>(
  spec: FieldSpec<T>,
  cmp: Comparator,
  value: string,
  now: number,
): (row: T) => boolean {
  switch (spec.type) {
    case 'date': {
      const b = parseDateValue(value, now)
      if (!b) return () => false
      const gran = spec.granularity ?? 'second'
      return (row) => {
        const v = spec.get(row)
        return typeof v === 'number' && compareDate(v, cmp, b, gran)
      }
    }
    case 'number': {
      const num = Number(value)
      if (!Number.isFinite(num)) return () => false
      return (row) => {
        const v = spec.get(row)
        return typeof v === 'number' && compareNum(v, cmp, num)
      }
    }
    case 'boolean': {
      const want = value.toLowerCase() === 'true'
      return (row) => spec.get(row) === want
    }
    case 'list': {
      const want = value.toLowerCase()
      return (row) => {
        const v = spec.get(row)
        return Array.isArray(v) && v.some((x) => x.toLowerCase() === want)
      }
    }
    case 'string': {
      const want = value.toLowerCase()
      const prefix = want.endsWith('*') ? want.slice(0, -1) : null
      return (row) => {
        const v = spec.get(row)
        if (typeof v !== 'string') return false
        const s = v.toLowerCase()
        return prefix !== null ? s.startsWith(prefix) : s === want
      }
    }
  }
}

/** Lower/upper bounds a top-level AND puts on a date or number field (for index seeks). */
export function rangeOf(
  node: SearchNode | null,
  field: string,
  type: 'date' | 'number',
  now: number,
): { lo: number; hi: number } {
  let lo = -Infinity
  let hi = Infinity
  const items = !node ? [] : node.kind === 'and' ? node.items : [node]
  for (const n of items) {
    if (n.kind !== 'term' || n.field !== field) continue
    if (type === 'date') {
      const b = parseDateValue(n.value, now)
      if (!b) continue
      if (n.cmp === '>' || n.cmp === '=') lo = Math.max(lo, n.cmp === '>' ? b.end : b.start)
      if (n.cmp === '>=') lo = Math.max(lo, b.start)
      if (n.cmp === '<' || n.cmp === '=' || n.cmp === '<=')
        hi = Math.min(hi, n.cmp === '<' ? b.start : b.end)
    } else {
      const v = Number(n.value)
      if (!Number.isFinite(v)) continue
      if (n.cmp === '>' || n.cmp === '>=' || n.cmp === '=') lo = Math.max(lo, v)
      if (n.cmp === '<' || n.cmp === '<=' || n.cmp === '=') hi = Math.min(hi, v + 1)
    }
  }
  return { lo, hi }
}
