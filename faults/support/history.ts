// The history of one fault run, one JSON object per line: every webhook sent and the status Xeno
// answered, every change made in the fake store, every fault injected and healed, API responses
// used for the tenant-isolation check, queue and resource samples. The checker reads it back.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** One recorded event. `at` is epoch ms (our clock); the rest depends on `type`. */
export type HistoryEvent =
  | { type: 'seed'; at: number; seed: number; test: string }
  /** A webhook POST to Xeno and its answer (null: no answer, e.g. connection refused). */
  | {
      type: 'webhook'
      at: number
      shop: string
      topic: string
      webhookId: string
      status: number | null
      error?: string
      via: 'fake' | 'direct'
    }
  /** A webhook the fake decided never to send (dropRate), so nothing can be expected of it. */
  | { type: 'webhook-dropped'; at: number; shop: string; topic: string; webhookId: string }
  | { type: 'store'; at: number; shop: string; op: string; id?: number | string }
  | { type: 'fault'; at: number; name: string; phase: 'inject' | 'heal'; detail?: unknown }
  /** An API response read with one tenant's credentials: whose data came back. */
  | {
      type: 'response'
      at: number
      asTenant: string
      route: string
      status: number
      tenantInBody: string | null
    }
  | {
      type: 'queue'
      at: number
      queue: string
      waiting: number
      active: number
      delayed: number
      failed: number
      /** Age (ms) of the oldest active job, 0 when none. */
      oldestActiveMs: number
    }
  | {
      type: 'resources'
      at: number
      label: 'baseline' | 'final'
      rss: Record<string, number>
      pgConnections: Record<string, number>
      redisClients: number
    }
  /** A process exit nobody asked for (no SIGKILL/SIGTERM from the test): a crash. */
  | { type: 'crash'; at: number; process: string; code: number | null; signal: string | null }
  | { type: 'note'; at: number; text: string }

/** Distributes Omit over the union members. */
export type NewEvent = HistoryEvent extends infer E
  ? E extends HistoryEvent
    ? Omit<E, 'at'> & { at?: number }
    : never
  : never

export type History = {
  path: string
  record(event: NewEvent): void
  events(): HistoryEvent[]
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** A history file under .tmp/faults/ (path printed once). */
export function createHistory(name: string, log: (line: string) => void): History {
  const dir = path.join(ROOT, '.tmp', 'faults')
  mkdirSync(dir, { recursive: true })
  const file = path.join(
    dir,
    `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.jsonl`,
  )
  const events: HistoryEvent[] = []
  log(`history: ${file}`)
  return {
    path: file,
    record(event) {
      const e = { ...event, at: event.at ?? Date.now() }
      events.push(e)
      appendFileSync(file, `${JSON.stringify(e)}\n`)
    },
    events: () => events,
  }
}

/** Reads a history file back. */
export function readHistory(file: string): HistoryEvent[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as HistoryEvent)
}
