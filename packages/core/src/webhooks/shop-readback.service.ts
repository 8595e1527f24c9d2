import type { Logger } from '@xeno/logger'
import {
  CUSTOMER_NODES,
  ORDER_LINE_ITEMS,
  ORDER_NODES,
  PRODUCT_NODES,
  lineItemFromGraphql,
  orderFromGraphql,
  type GqlCustomer,
  type GqlLineItem,
  type GqlOrder,
  type GqlProduct,
  type OrderBundle,
  type ShopifyAdmin,
} from '@xeno/shopify'
import type { ShopAccessService } from '../credentials/shop-access.service.ts'

export type ReadbackKind = 'Order' | 'Customer' | 'Product'
export type ReadbackNode<K extends ReadbackKind> = K extends 'Order'
  ? OrderBundle
  : K extends 'Customer'
    ? GqlCustomer
    : GqlProduct

export type ShopReadbackDeps = {
  admin: Pick<ShopifyAdmin, 'forShop'>
  access: Pick<ShopAccessService, 'accessFor'>
  logger: Logger
  /** How long a batch collects ids before its query goes out (default 20 ms). */
  windowMs?: number
}

type Connection<N> = { nodes: N[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }

// Ids per query, so the requested cost stays under Shopify's single-query limit of 1,000 points
// (FACTS §2.4): an order with its first 10 line items and refunds costs about 90, a customer 3,
// a product 1; 250 is the input-array limit (FACTS §2.2).
const CHUNK: Record<ReadbackKind, number> = { Order: 10, Customer: 100, Product: 250 }
const DOCUMENT: Record<ReadbackKind, string> = {
  Order: ORDER_NODES,
  Customer: CUSTOMER_NODES,
  Product: PRODUCT_NODES,
}

type Batch = {
  ids: Set<string>
  waiters: { resolve: (m: Map<string, unknown>) => void; reject: (e: unknown) => void }[]
}

/**
 * Reads objects back from the shop a webhook claims to come from. Shopify's HMAC covers the body
 * only, so a data-topic body proves nothing about which shop it belongs to: its ids are only a
 * signal, and what gets stored is what the header shop's own Admin API (with that shop's token)
 * returns for them. An id of another shop comes back null, so a replayed body changes nothing.
 *
 * Deliveries of one shop arriving close together share a query: ids asked for within
 * `windowMs` of each other go out as one `nodes(ids: …)` per kind (chunked by cost), through the
 * client's per-shop throttle budget, and every caller gets the map of its batch.
 */
export function createShopReadback(deps: ShopReadbackDeps) {
  const windowMs = deps.windowMs ?? 20
  const open = new Map<string, Batch>()

  async function fetchKind(
    tenantId: string,
    kind: ReadbackKind,
    ids: string[],
  ): Promise<Map<string, unknown>> {
    const access = await deps.access.accessFor(tenantId)
    const client = deps.admin.forShop(access.shopDomain, access.accessToken)
    const out = new Map<string, unknown>()
    for (let i = 0; i < ids.length; i += CHUNK[kind]) {
      const chunk = ids.slice(i, i + CHUNK[kind])
      const data = await client.request<{ nodes: ({ __typename?: string } | null)[] }>(
        DOCUMENT[kind],
        { ids: chunk },
      )
      for (const [k, gid] of chunk.entries()) {
        const n = data.nodes[k] ?? null
        if (!n || n.__typename !== kind) {
          out.set(gid, null)
          continue
        }
        if (kind !== 'Order') {
          out.set(gid, n)
          continue
        }
        const order = n as unknown as GqlOrder
        const bundle = orderFromGraphql(order)
        let info = order.lineItems?.pageInfo
        while (info?.hasNextPage) {
          const more = await client.request<{
            order: { lineItems: Connection<GqlLineItem> } | null
          }>(ORDER_LINE_ITEMS, { id: order.id, after: info.endCursor })
          if (!more.order) break
          bundle.lineItems?.push(
            ...more.order.lineItems.nodes.map((li) => lineItemFromGraphql(li, bundle.order.id)),
          )
          info = more.order.lineItems.pageInfo
        }
        out.set(gid, bundle)
      }
    }
    return out
  }

  function flush(key: string, tenantId: string, kind: ReadbackKind) {
    const batch = open.get(key)
    open.delete(key)
    if (!batch) return
    fetchKind(tenantId, kind, [...batch.ids]).then(
      (m) => {
        for (const w of batch.waiters) w.resolve(m)
      },
      (err: unknown) => {
        deps.logger.warn(
          { tenantId, kind, ids: batch.ids.size, err: { message: (err as Error).message } },
          'webhook read-back failed',
        )
        for (const w of batch.waiters) w.reject(err)
      },
    )
  }

  return {
    /** The header shop's current version of each gid (null: not an object of that shop). */
    async read<K extends ReadbackKind>(
      tenantId: string,
      kind: K,
      gids: readonly string[],
    ): Promise<Map<string, ReadbackNode<K> | null>> {
      const key = `${tenantId}|${kind}`
      let batch = open.get(key)
      if (!batch) {
        batch = { ids: new Set(), waiters: [] }
        open.set(key, batch)
        setTimeout(() => flush(key, tenantId, kind), windowMs)
      }
      for (const g of gids) batch.ids.add(g)
      const b = batch
      const all = await new Promise<Map<string, unknown>>((resolve, reject) =>
        b.waiters.push({ resolve, reject }),
      )
      const mine = new Map<string, ReadbackNode<K> | null>()
      for (const g of gids) mine.set(g, (all.get(g) ?? null) as ReadbackNode<K> | null)
      return mine
    },
  }
}

export type ShopReadback = ReturnType<typeof createShopReadback>
