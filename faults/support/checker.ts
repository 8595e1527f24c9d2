// The invariants a fault run must keep, checked against its recorded history and what the
// database holds once faults healed and queues drained. Pure: no I/O, so it is unit-tested with
// histories that break each rule (checker.test.ts).
import type { HistoryEvent } from './history.ts'

/** What the run found in Postgres (and the fake) after healing, reconciliation and drain. */
export type Observations = {
  /** Shop domain → tenant id: acknowledged webhooks to these shops must be stored and applied. */
  tenants: Record<string, string>
  /** Shops still installed, reconciled once: each must equal the fake's truth. */
  reconciled: string[]
  /** Every webhook_receipts row of those tenants. */
  receipts: { shop: string; webhookId: string; status: string }[]
  /** Rows the database holds more than once for one natural key (described). */
  duplicateRows: string[]
  /** Per shop: differences between the database and the fake's truth (diffSnapshots). */
  truthDiffs: Record<string, string[]>
  /** BullMQ lock duration plus stalled-check interval, ms. */
  lockPlusStallMs: number
  /** Resource growth allowed over the baseline. */
  slack?: { rssFactor?: number; rssBytes?: number; pgConnections?: number; redisClients?: number }
}

const ok2xx = (s: number | null) => s !== null && s >= 200 && s < 300
const APPLIED = new Set(['processed', 'skipped'])

/** Every broken invariant, as a readable line; empty when the run kept them all. */
export function checkHistory(events: readonly HistoryEvent[], obs: Observations): string[] {
  const out: string[] = []
  const push = (rule: string, text: string) => out.push(`${rule}: ${text}`)

  // 1. No acknowledged webhook lost: each 2xx-acked delivery to an installed shop has its
  // receipt in Postgres, applied.
  const receipts = new Map<string, { shop: string; status: string }[]>()
  for (const r of obs.receipts) {
    const list = receipts.get(r.webhookId) ?? []
    list.push(r)
    receipts.set(r.webhookId, list)
  }
  const acked = new Map<string, Extract<HistoryEvent, { type: 'webhook' }>>()
  for (const e of events)
    if (e.type === 'webhook' && ok2xx(e.status) && e.shop in obs.tenants) acked.set(e.webhookId, e)
  if (!events.some((e) => e.type === 'webhook'))
    push('history', 'no webhook was recorded: the run exercised nothing')
  for (const [id, e] of acked) {
    const r = receipts.get(id)
    if (!r)
      push('acked-webhook-lost', `${e.topic} ${id} (${e.shop}) answered ${e.status}, no receipt`)
    else if (!r.some((x) => APPLIED.has(x.status)))
      push('acked-webhook-not-applied', `${e.topic} ${id} (${e.shop}) receipt ${r[0]!.status}`)
  }

  // 2. No duplicate row or double-applied effect.
  for (const [id, r] of receipts)
    if (r.length > 1) push('duplicate', `webhook ${id} has ${r.length} receipts`)
  for (const d of obs.duplicateRows) push('duplicate', d)

  // 3. The database equals the fake's truth after one reconciliation.
  for (const shop of obs.reconciled) {
    const diff = obs.truthDiffs[shop]
    if (!diff) push('truth', `${shop}: not compared`)
    else for (const d of diff) push('truth', `${shop}: ${d}`)
  }

  // 4. No response crossed tenants: a 2xx read with tenant A's credentials carries only A.
  const responses = events.filter((e) => e.type === 'response')
  for (const e of responses)
    if (e.status >= 200 && e.status < 300 && e.tenantInBody !== e.asTenant)
      push(
        'cross-tenant',
        `${e.route} as ${e.asTenant} answered ${e.status} with tenant ${e.tenantInBody}`,
      )

  // 5. Queues drain; once faults healed, nothing stays active past the lock + stall interval.
  const lastHeal = Math.max(
    0,
    ...events.filter((e) => e.type === 'fault' && e.phase === 'heal').map((e) => e.at),
  )
  const samples = events.filter((e) => e.type === 'queue')
  if (samples.length === 0) push('queues', 'never sampled')
  const lastByQueue = new Map<string, (typeof samples)[number]>()
  for (const s of samples) {
    lastByQueue.set(s.queue, s)
    if (s.at >= lastHeal + obs.lockPlusStallMs && s.oldestActiveMs > obs.lockPlusStallMs)
      push(
        'stalled',
        `${s.queue}: a job active for ${s.oldestActiveMs} ms at ${new Date(s.at).toISOString()}`,
      )
  }
  for (const [q, s] of lastByQueue)
    if (s.waiting > 0 || s.active > 0)
      push('queues', `${q} did not drain: ${s.waiting} waiting, ${s.active} active`)

  // 6. Resources return to (near) the baseline.
  const res = events.filter((e) => e.type === 'resources')
  const base = res.find((e) => e.label === 'baseline')
  const fin = res.findLast((e) => e.label === 'final')
  if (!base || !fin) push('resources', 'baseline or final sample missing')
  else {
    const k = {
      rssFactor: 2,
      rssBytes: 96 * 2 ** 20,
      pgConnections: 4,
      redisClients: 4,
      ...obs.slack,
    }
    for (const [p, v] of Object.entries(fin.rss)) {
      const b = base.rss[p]
      if (b !== undefined && v > b * k.rssFactor + k.rssBytes)
        push('resources', `${p} RSS ${mb(v)} MiB, baseline ${mb(b)} MiB`)
    }
    for (const [app, v] of Object.entries(fin.pgConnections)) {
      const b = base.pgConnections[app] ?? 0
      if (v > b + k.pgConnections)
        push('resources', `${app} holds ${v} Postgres connections, baseline ${b}`)
    }
    if (fin.redisClients > base.redisClients + k.redisClients)
      push('resources', `${fin.redisClients} Redis clients, baseline ${base.redisClients}`)
  }
  // 7. No process died on its own.
  for (const e of events)
    if (e.type === 'crash') push('crash', `${e.process} exited by itself (${e.signal ?? e.code})`)
  return out
}

const mb = (n: number) => Math.round(n / 2 ** 20)
