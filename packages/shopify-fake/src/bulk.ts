import {
  Kind,
  getNamedType,
  isLeafType,
  isObjectType,
  isInterfaceType,
  parse,
  validate,
  valueFromASTUntyped,
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
  if (!op || ops.length > 1 || op.operation !== 'query')
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
export async function* bulkLines(
  schema: GraphQLSchema,
  plan: BulkPlan,
  ctx: GqlContext,
  opts: {
    groupObjects: boolean
    limit?: number
    chunkBytes?: number
    onObject?: (root: boolean) => void
  },
): AsyncGenerator<string> {
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
    test = orderFilter(ctx, null, query).test as (row: never) => boolean
    count = d.orderCount
    fetch = (i) => orderAt(d, i)
  } else if (root === 'customers') {
    test = compileSearch(parseSearch(query), CUSTOMER_FIELDS, ctx.now).test as (
      row: never,
    ) => boolean
    count = d.customers.length
    fetch = (i) => d.customers[i] ?? null
  } else {
    test = compileSearch(parseSearch(query), PRODUCT_FIELDS, ctx.now).test as (
      row: never,
    ) => boolean
    count = d.products.length
    fetch = (i) => d.products[i] ?? null
  }
  const typename = plan.nodeType.name
  const nodeSel = connectionNodeSelection(plan.root)
  let children: string[] = []
  const BATCH = 64
  let inBatch = 0
  for (let i = 0; i < count && emitted < limit; i++) {
    const row = fetch(i) as { id: number } | null
    if (!row || !test(row as never)) continue
    const src = { __typename: typename, v: row, data: d }
    const own: string[] = []
    const line = project(
      schema,
      plan,
      plan.nodeType,
      src,
      nodeSel,
      ctx,
      (childType, childSrc, childSel, parentId) => {
        const c = project(schema, plan, childType, childSrc, childSel, ctx, () => undefined)
        c.__parentId = parentId
        own.push(JSON.stringify(c))
      },
    )
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

type ChildSink = (
  type: GraphQLNamedType,
  src: unknown,
  sel: SelectionSetNode | undefined,
  parentId: string,
) => void

function project(
  schema: GraphQLSchema,
  plan: BulkPlan,
  type: GraphQLNamedType,
  src: unknown,
  set: SelectionSetNode | undefined,
  ctx: GqlContext,
  onChild: ChildSink,
): Line {
  const out: Line = {}
  if (!set) return out
  const fields = isObjectType(type) || isInterfaceType(type) ? type.getFields() : {}
  const srcType = (src as { __typename?: string }).__typename ?? type.name
  for (const sel of set.selections) {
    if (sel.kind !== Kind.FIELD) {
      const fr = sel.kind === Kind.INLINE_FRAGMENT ? sel : plan.fragments[sel.name.value]
      const cond = fr?.typeCondition?.name.value
      if (!fr || (cond && cond !== srcType && cond !== type.name)) continue
      const t = (cond ? schema.getType(cond) : type) ?? type
      Object.assign(out, project(schema, plan, t, src, fr.selectionSet, ctx, onChild))
      continue
    }
    const key = sel.alias?.value ?? sel.name.value
    if (sel.name.value === '__typename') {
      out[key] = srcType
      continue
    }
    const def = fields[sel.name.value]
    if (!def) continue
    const named = getNamedType(def.type)
    const args = argsOf(sel)
    const isConn = named.name.endsWith('Connection') && !isLeafType(named)
    if (isConn && args.first == null && args.last == null) args.first = 250
    const info = {
      parentType: { name: srcType },
      fieldName: sel.name.value,
      path: { key, prev: undefined },
    } as unknown as GraphQLResolveInfo
    const value = fieldResolver(src, args, ctx, info)
    if (isConn) {
      const nodes = (value as { nodes?: unknown[] } | null)?.nodes ?? []
      const childType = schema.getType(named.name.replace(/Connection$/, '')) ?? named
      const parentId = gid(srcType, (src as { v: { id: number } }).v.id)
      for (const n of nodes) onChild(childType, n, connectionNodeSelection(sel), parentId)
      continue
    }
    if (isLeafType(named) || value === null || value === undefined) {
      out[key] = value ?? null
    } else if (Array.isArray(value)) {
      out[key] = value.map((x) => project(schema, plan, named, x, sel.selectionSet, ctx, onChild))
    } else {
      out[key] = project(schema, plan, named, value, sel.selectionSet, ctx, onChild)
    }
  }
  return out
}
