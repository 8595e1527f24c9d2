import {
  Kind,
  getNamedType,
  isLeafType,
  isObjectType,
  isInterfaceType,
  parse,
  validate,
  valueFromASTUntyped,
  OperationTypeNode,
} from 'graphql'
import type {
  FieldNode,
  FragmentDefinitionNode,
  GraphQLNamedType,
  GraphQLResolveInfo,
  GraphQLSchema,
  SelectionSetNode,
} from 'graphql'
import { compileSearch, parseSearch } from './search.ts'
import { CUSTOMER_FIELDS, PRODUCT_FIELDS, fieldResolver, orderFilter } from './resolvers.ts'
import type { GqlContext } from './resolvers.ts'
import { orderAt } from './store.ts'
import { gid } from './format.ts'

/** A validated bulk query: the root connection field and the document's fragments. */
export type BulkPlan = {
  root: FieldNode
  rootType: GraphQLNamedType
  nodeType: GraphQLNamedType
  fragments: Record<string, FragmentDefinitionNode>
}

const ROOTS = new Set(['orders', 'customers', 'products'])

/** Validates a bulkOperationRunQuery document; returns a plan or a userError message. */
export function planBulk(schema: GraphQLSchema, query: string): BulkPlan | string {
  let doc
  try {
    doc = parse(query)
  } catch (e) {
    return `Invalid bulk query: ${(e as Error).message}`
  }
  const errs = validate(schema, doc)
  if (errs.length > 0) return `Invalid bulk query: ${errs[0]?.message ?? ''}`
  const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION)
  const fragments: Record<string, FragmentDefinitionNode> = {}
  for (const d of doc.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d
  const op = ops[0]
  if (!op || ops.length > 1 || op.operation !== OperationTypeNode.QUERY)
    return 'Bulk queries must contain exactly one query operation.'
  const fields = op.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD)
  if (fields.some((f) => f.name.value === 'node' || f.name.value === 'nodes'))
    return 'Bulk queries cannot contain a top level `node` or `nodes` field.'
  const root = fields.find((f) => ROOTS.has(f.name.value))
  if (!root || fields.length !== 1) return 'Bulk queries must contain at least one connection.'
  const rootDef = schema.getQueryType()?.getFields()[root.name.value]
  if (!rootDef) return 'Bulk queries must contain at least one connection.'
  const rootType = getNamedType(rootDef.type)
  const nodeType = schema.getType(rootType.name.replace(/Connection$/, ''))
  if (!nodeType) return 'Bulk queries must contain at least one connection.'
  return { root, rootType, nodeType, fragments }
}

const argsOf = (f: FieldNode): Record<string, unknown> => {
  const a: Record<string, unknown> = {}
  for (const arg of f.arguments ?? []) a[arg.name.value] = valueFromASTUntyped(arg.value, {})
  return a
}

type Line = Record<string, unknown>

/** Serialises bulk results as JSONL chunks: each connection node is a line; children carry
 * `__parentId`. Not grouped (the 2026 default): children of a batch of parents follow the batch. */
export function* bulkLines(
  schema: GraphQLSchema,
  plan: BulkPlan,
  ctx: GqlContext,
  opts: {
    groupObjects: boolean
    limit?: number
    chunkBytes?: number
    onObject?: (root: boolean) => void
  },
): Generator<string> {
  const chunkBytes = opts.chunkBytes ?? 1 << 20
  const limit = opts.limit ?? Infinity
  let emitted = 0
  let buf: string[] = []
  let size = 0
  const root = plan.root.name.value
  const rootArgs = argsOf(plan.root)
  const query = rootArgs.query as string | undefined
  const d = ctx.data
  let test: (row: never) => boolean
  let count: number
  let fetch: (i: number) => unknown
  if (root === 'orders') {
    test = orderFilter(ctx, null, query).test
    count = d.orderCount
    fetch = (i) => orderAt(d, i)
  } else if (root === 'customers') {
    test = compileSearch(parseSearch(query), CUSTOMER_FIELDS, ctx.now).test
    count = d.customers.length
    fetch = (i) => d.customers[i] ?? null
  } else {
    test = compileSearch(parseSearch(query), PRODUCT_FIELDS, ctx.now).test
    count = d.products.length
    fetch = (i) => d.products[i] ?? null
  }
  const typename = plan.nodeType.name
  const rootPlan = compile(
    schema,
    plan,
    plan.nodeType,
    connectionNodeSelection(plan.root),
    typename,
  )
  let children: string[] = []
  const BATCH = 64
  let inBatch = 0
  for (let i = 0; i < count && emitted < limit; i++) {
    const row = fetch(i) as { id: number } | null
    if (!row || !test(row as never)) continue
    const src = { __typename: typename, v: row, data: d }
    const own: string[] = []
    const line = run(rootPlan, src, ctx, (childPlan, childSrc, parentId) => {
      const c = run(childPlan, childSrc, ctx, () => undefined)
      c.__parentId = parentId
      own.push(JSON.stringify(c))
    })
    const s = JSON.stringify(line)
    buf.push(s)
    size += s.length + 1
    emitted++
    opts.onObject?.(true)
    for (const c of own) {
      if (emitted >= limit) break
      opts.onObject?.(false)
      emitted++
      if (opts.groupObjects) {
        buf.push(c)
        size += c.length + 1
      } else children.push(c)
    }
    if (++inBatch >= BATCH) {
      inBatch = 0
      for (const c of children) {
        buf.push(c)
        size += c.length + 1
      }
      children = []
    }
    if (size >= chunkBytes) {
      yield buf.join('\n') + '\n'
      buf = []
      size = 0
    }
  }
  for (const c of children) buf.push(c)
  if (buf.length > 0) yield buf.join('\n') + '\n'
}

function connectionNodeSelection(f: FieldNode): SelectionSetNode | undefined {
  for (const s of f.selectionSet?.selections ?? []) {
    if (s.kind !== Kind.FIELD) continue
    if (s.name.value === 'nodes') return s.selectionSet
    if (s.name.value === 'edges') {
      const n = s.selectionSet?.selections.find(
        (x): x is FieldNode => x.kind === Kind.FIELD && x.name.value === 'node',
      )
      return n?.selectionSet
    }
  }
  return undefined
}

type ChildSink = (plan: Compiled, src: unknown, parentId: string) => void

type CompiledField = {
  key: string
  fieldName: string
  args: Record<string, unknown>
  kind: 'typename' | 'leaf' | 'object' | 'connection'
  child: Compiled | null
  info: GraphQLResolveInfo
}
/** A selection set flattened once per (type, selection), so rows only run resolvers. */
type Compiled = { typeName: string; fields: CompiledField[] }

const compiledCache = new WeakMap<SelectionSetNode, Map<string, Compiled>>()

function compile(
  schema: GraphQLSchema,
  plan: BulkPlan,
  type: GraphQLNamedType,
  set: SelectionSetNode | undefined,
  srcType: string,
): Compiled {
  const out: Compiled = { typeName: srcType, fields: [] }
  if (!set) return out
  let byType = compiledCache.get(set)
  if (!byType) {
    byType = new Map()
    compiledCache.set(set, byType)
  }
  const hit = byType.get(srcType)
  if (hit) return hit
  byType.set(srcType, out)
  const fields = isObjectType(type) || isInterfaceType(type) ? type.getFields() : {}
  for (const sel of set.selections) {
    if (sel.kind !== Kind.FIELD) {
      const fr = sel.kind === Kind.INLINE_FRAGMENT ? sel : plan.fragments[sel.name.value]
      const cond = fr?.typeCondition?.name.value
      if (!fr || (cond && cond !== srcType && cond !== type.name)) continue
      const t = (cond ? schema.getType(cond) : type) ?? type
      out.fields.push(...compile(schema, plan, t, fr.selectionSet, srcType).fields)
      continue
    }
    const key = sel.alias?.value ?? sel.name.value
    const info = {
      parentType: { name: srcType },
      fieldName: sel.name.value,
      path: { key, prev: undefined },
    } as unknown as GraphQLResolveInfo
    if (sel.name.value === '__typename') {
      out.fields.push({
        key,
        fieldName: '__typename',
        args: {},
        kind: 'typename',
        child: null,
        info,
      })
      continue
    }
    const def = fields[sel.name.value]
    if (!def) continue
    const named = getNamedType(def.type)
    const args = argsOf(sel)
    if (named.name.endsWith('Connection') && !isLeafType(named)) {
      if (args.first == null && args.last == null) args.first = 250
      const childType = schema.getType(named.name.replace(/Connection$/, '')) ?? named
      out.fields.push({
        key,
        fieldName: sel.name.value,
        args,
        kind: 'connection',
        child: compile(schema, plan, childType, connectionNodeSelection(sel), childType.name),
        info,
      })
    } else if (isLeafType(named)) {
      out.fields.push({ key, fieldName: sel.name.value, args, kind: 'leaf', child: null, info })
    } else {
      // Abstract fields resolve their concrete type per row; compile against the named type.
      out.fields.push({
        key,
        fieldName: sel.name.value,
        args,
        kind: 'object',
        child: compile(schema, plan, named, sel.selectionSet, named.name),
        info,
      })
    }
  }
  return out
}

function run(c: Compiled, src: unknown, ctx: GqlContext, onChild: ChildSink): Line {
  const out: Line = {}
  for (const f of c.fields) {
    if (f.kind === 'typename') {
      out[f.key] = (src as { __typename?: string }).__typename ?? c.typeName
      continue
    }
    const value = fieldResolver(src, f.args, ctx, f.info)
    if (f.kind === 'connection') {
      const nodes = (value as { nodes?: unknown[] } | null)?.nodes ?? []
      const parentId = gid(c.typeName, (src as { v: { id: number } }).v.id)
      for (const n of nodes) onChild(f.child as Compiled, n, parentId)
    } else if (f.kind === 'leaf' || value === null || value === undefined) {
      out[f.key] = value ?? null
    } else if (Array.isArray(value)) {
      out[f.key] = value.map((x) => run(f.child as Compiled, x, ctx, onChild))
    } else {
      out[f.key] = run(f.child as Compiled, value, ctx, onChild)
    }
  }
  return out
}
