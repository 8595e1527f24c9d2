import {
  Kind,
  OperationTypeNode,
  getNamedType,
  isLeafType,
  isObjectType,
  isInterfaceType,
  isUnionType,
} from 'graphql'
import type {
  FieldNode,
  FragmentDefinitionNode,
  GraphQLNamedType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
  ValueNode,
} from 'graphql'

type Vars = Record<string, unknown>
type Data = unknown

// Shopify publishes the rules, not a formula: scalars and enums 0, objects 1, connections sized
// by first/last (here 2 + n × one node), mutations 10. Requested cost uses first/last; actual cost
// uses what came back, so actual ≤ requested.
const MUTATION_COST = 10

function intArg(field: FieldNode, name: string, vars: Vars): number | null {
  const arg = field.arguments?.find((a) => a.name.value === name)
  if (!arg) return null
  const v: ValueNode = arg.value
  if (v.kind === Kind.INT) return Number(v.value)
  if (v.kind === Kind.VARIABLE) {
    const x = vars[v.name.value]
    return typeof x === 'number' ? x : null
  }
  return null
}

function listArgLength(field: FieldNode, name: string, vars: Vars): number | null {
  const arg = field.arguments?.find((a) => a.name.value === name)
  if (!arg) return null
  const v: ValueNode = arg.value
  if (v.kind === Kind.LIST) return v.values.length
  if (v.kind === Kind.VARIABLE) {
    const x = vars[v.name.value]
    return Array.isArray(x) ? x.length : null
  }
  return null
}

function fieldsOf(t: GraphQLNamedType) {
  return isObjectType(t) || isInterfaceType(t) ? t.getFields() : {}
}

type Walk = {
  schema: GraphQLSchema
  fragments: Record<string, FragmentDefinitionNode>
  vars: Vars
  actual: boolean
}

function selectionCost(
  w: Walk,
  parent: GraphQLNamedType,
  set: SelectionSetNode | undefined,
  data: Data,
): number {
  if (!set) return 0
  let total = 0
  const alternatives: number[] = []
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      total += fieldCost(w, parent, sel, data)
    } else {
      const set2 =
        sel.kind === Kind.INLINE_FRAGMENT
          ? sel.selectionSet
          : w.fragments[sel.name.value]?.selectionSet
      const cond =
        sel.kind === Kind.INLINE_FRAGMENT
          ? sel.typeCondition?.name.value
          : w.fragments[sel.name.value]?.typeCondition.name.value
      const t = (cond ? w.schema.getType(cond) : parent) ?? parent
      const c = selectionCost(w, t, set2, data)
      if (t === parent) total += c
      else alternatives.push(c)
    }
  }
  return total + (alternatives.length ? Math.max(...alternatives) : 0)
}

const keyOf = (f: FieldNode): string => f.alias?.value ?? f.name.value

function child(data: Data, f: FieldNode): Data {
  return data && typeof data === 'object' ? (data as Record<string, Data>)[keyOf(f)] : undefined
}

function fieldCost(w: Walk, parent: GraphQLNamedType, f: FieldNode, data: Data): number {
  if (f.name.value === '__typename') return 0
  const def = fieldsOf(parent)[f.name.value]
  if (!def) return 0
  const t = getNamedType(def.type)
  if (isLeafType(t)) return 0
  const value = w.actual ? child(data, f) : undefined
  if (w.actual && (value === null || value === undefined)) return 0
  if (t.name.endsWith('Connection') && (isObjectType(t) || isInterfaceType(t))) {
    return 2 + connectionItems(w, t, f, value)
  }
  if (Array.isArray(value)) {
    let c = 0
    for (const item of value) c += 1 + selectionCost(w, t, f.selectionSet, item)
    return c
  }
  if (!w.actual && (isUnionType(t) || isInterfaceType(t) || isObjectType(t))) {
    // A list sized by its input (`nodes(ids: […])`) costs one node per id requested.
    const n = intArg(f, 'first', w.vars) ?? listArgLength(f, 'ids', w.vars) ?? 1
    return Math.max(1, n) * (1 + selectionCost(w, t, f.selectionSet, undefined))
  }
  return 1 + selectionCost(w, t, f.selectionSet, value)
}

function connectionItems(w: Walk, conn: GraphQLNamedType, f: FieldNode, value: Data): number {
  const connFields = fieldsOf(conn)
  const edgeType = connFields.edges ? getNamedType(connFields.edges.type) : undefined
  const nodeType = connFields.nodes ? getNamedType(connFields.nodes.type) : undefined
  let cost = 0
  for (const sel of f.selectionSet?.selections ?? []) {
    if (sel.kind !== Kind.FIELD) continue
    const name = sel.name.value
    if (name === 'edges' && edgeType) {
      const nodeSel = sel.selectionSet?.selections.find(
        (s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === 'node',
      )
      const nt = getNamedType(fieldsOf(edgeType).node?.type ?? edgeType)
      if (w.actual) {
        const edges = child(value, sel)
        if (Array.isArray(edges))
          for (const e of edges)
            cost +=
              1 + (nodeSel ? selectionCost(w, nt, nodeSel.selectionSet, child(e, nodeSel)) : 0)
      } else {
        const n = intArg(f, 'first', w.vars) ?? intArg(f, 'last', w.vars) ?? 0
        cost += n * (1 + (nodeSel ? selectionCost(w, nt, nodeSel.selectionSet, undefined) : 0))
      }
    } else if (name === 'nodes' && nodeType) {
      if (w.actual) {
        const nodes = child(value, sel)
        if (Array.isArray(nodes))
          for (const x of nodes) cost += 1 + selectionCost(w, nodeType, sel.selectionSet, x)
      } else {
        const n = intArg(f, 'first', w.vars) ?? intArg(f, 'last', w.vars) ?? 0
        cost += n * (1 + selectionCost(w, nodeType, sel.selectionSet, undefined))
      }
    }
  }
  return cost
}

/** Requested (before execution) or actual (from the returned data) cost of an operation. */
export function queryCost(
  schema: GraphQLSchema,
  op: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  vars: Vars,
  data?: Data,
): number {
  const w: Walk = { schema, fragments, vars, actual: data !== undefined }
  if (op.operation === OperationTypeNode.MUTATION) {
    return (
      op.selectionSet.selections.filter(
        (s) => s.kind === Kind.FIELD && s.name.value !== '__typename',
      ).length * MUTATION_COST
    )
  }
  const root = schema.getQueryType()
  if (!root) return 0
  return selectionCost(w, root, op.selectionSet, data)
}

export type ThrottleStatus = {
  maximumAvailable: number
  currentlyAvailable: number
  restoreRate: number
}

/** Shopify's leaky bucket: refills at restoreRate/s up to maximumAvailable. */
export function createBucket(
  limits: { maximumAvailable: number; restoreRate: number },
  now: number,
) {
  let available = limits.maximumAvailable
  let at = now
  const refill = (t: number): void => {
    if (t > at) {
      available = Math.min(
        limits.maximumAvailable,
        available + ((t - at) / 1000) * limits.restoreRate,
      )
      at = t
    }
  }
  const status = (): ThrottleStatus => ({
    maximumAvailable: limits.maximumAvailable,
    currentlyAvailable: Math.floor(available),
    restoreRate: limits.restoreRate,
  })
  return {
    /** Takes `cost` if the bucket holds it; otherwise leaves it untouched. */
    take(cost: number, t: number): boolean {
      refill(t)
      if (cost > available) return false
      available -= cost
      return true
    },
    refund(points: number, t: number): void {
      refill(t)
      available = Math.min(limits.maximumAvailable, available + points)
    },
    status(t: number): ThrottleStatus {
      refill(t)
      return status()
    },
    setLimits(l: { maximumAvailable: number; restoreRate: number }): void {
      limits = l
      available = Math.min(available, l.maximumAvailable)
    },
  }
}
export type Bucket = ReturnType<typeof createBucket>
