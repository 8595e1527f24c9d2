import { createHmac, randomUUID } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import type { Clock } from './clock.ts'
import { createRng } from './prng.ts'

/** Base64 HMAC-SHA256 of the exact body bytes, keyed with the app's client secret. */
export const webhookHmac = (secret: string, body: string | Buffer): string =>
  createHmac('sha256', secret).update(body).digest('base64')

/** Knobs for delivery misbehaviour (all off by default). */
export type DeliveryKnobs = {
  /** Probability a delivery is sent again (same webhook id), once per extra copy allowed. */
  duplicateRate?: number
  /** Most copies of one delivery (default 2): each copy past the first is another duplicateRate draw. */
  maxCopies?: number
  /** Extra delay in fake ms before the first attempt. */
  delayMs?: number
  /** Random extra delay up to this many fake ms per delivery (reorders deliveries). */
  reorderJitterMs?: number
  /** Probability a delivery is silently never sent. */
  dropRate?: number
}

/** Retry schedule in fake ms: 8 retries over ~4 h (Shopify does not publish the intervals). */
export const RETRY_SCHEDULE_MS = [1, 2, 4, 8, 16, 32, 64, 113].map((m) => m * 60_000)

export type DeliveryRecord = {
  webhookId: string
  eventId: string
  topic: string
  shop: string
  uri: string
  attempts: { at: number; status: number | null; error?: string }[]
  state: 'pending' | 'delivered' | 'failed' | 'dropped'
}

export type Delivery = {
  uri: string
  topic: string
  shop: string
  apiVersion: string
  secret: string
  body: string
  eventId: string
  name?: string | null
  /** Called when all retries failed (API-created subscriptions get deleted). */
  onGiveUp?: () => void
}

/** Sends webhooks over real HTTP with Shopify's headers, timeouts and retry schedule. */
export function createWebhookSender(
  clock: Clock,
  opts: { seed?: number; knobs?: () => DeliveryKnobs; log?: (r: DeliveryRecord) => void } = {},
) {
  const records: DeliveryRecord[] = []
  let n = 0
  const pending = new Set<Promise<unknown>>()

  const post = (d: Delivery, webhookId: string, triggeredAt: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const url = new URL(d.uri)
      const lib = url.protocol === 'https:' ? https : http
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(d.body)),
        'X-Shopify-Topic': d.topic,
        'X-Shopify-Hmac-Sha256': webhookHmac(d.secret, d.body),
        'X-Shopify-Shop-Domain': d.shop,
        'X-Shopify-API-Version': d.apiVersion,
        'X-Shopify-Webhook-Id': webhookId,
        'X-Shopify-Event-Id': d.eventId,
        'X-Shopify-Triggered-At': triggeredAt,
        'User-Agent': 'Shopify-Captain-Hook',
      }
      if (d.name) headers['X-Shopify-Name'] = d.name
      const req = lib.request(url, { method: 'POST', headers })
      // One second to connect, five for the whole exchange (real time, not the fake clock).
      const connectTimer = setTimeout(() => req.destroy(new Error('connect timeout')), 1000)
      const totalTimer = setTimeout(() => req.destroy(new Error('timeout')), 5000)
      req.on('socket', (s) => {
        if (!s.connecting) clearTimeout(connectTimer)
        else s.once('connect', () => clearTimeout(connectTimer))
      })
      req.on('response', (res) => {
        res.resume()
        res.on('end', () => {
          clearTimeout(totalTimer)
          resolve(res.statusCode ?? 0)
        })
        res.on('error', reject)
      })
      req.on('error', (e) => {
        clearTimeout(connectTimer)
        clearTimeout(totalTimer)
        reject(e)
      })
      req.end(d.body)
    })

  const send = (d: Delivery): DeliveryRecord => {
    const knobs = opts.knobs?.() ?? {}
    const rng = createRng(opts.seed ?? 7, 'delivery', n++)
    const webhookId = randomUUID()
    const triggeredAt = new Date(clock.now()).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
    const rec: DeliveryRecord = {
      webhookId,
      eventId: d.eventId,
      topic: d.topic,
      shop: d.shop,
      uri: d.uri,
      attempts: [],
      state: 'pending',
    }
    records.push(rec)
    if (rng.chance(knobs.dropRate ?? 0)) {
      rec.state = 'dropped'
      opts.log?.(rec)
      return rec
    }
    const attempt = (k: number): void => {
      const p = post(d, webhookId, triggeredAt).then(
        (status) => ({ status, error: undefined }),
        (e: Error) => ({ status: null, error: e.message }),
      )
      pending.add(p)
      void p.then(({ status, error }) => {
        pending.delete(p)
        rec.attempts.push(error ? { at: clock.now(), status, error } : { at: clock.now(), status })
        // Any status outside 2xx, 3xx included, is a failure.
        if (status !== null && status >= 200 && status < 300) {
          rec.state = 'delivered'
          opts.log?.(rec)
          return
        }
        const wait = RETRY_SCHEDULE_MS[k]
        if (wait === undefined) {
          rec.state = 'failed'
          opts.log?.(rec)
          d.onGiveUp?.()
          return
        }
        clock.setTimer(() => attempt(k + 1), wait)
      })
    }
    const delay = (knobs.delayMs ?? 0) + Math.floor(rng.next() * (knobs.reorderJitterMs ?? 0))
    let copies = 1
    for (let extra = 1; extra < (knobs.maxCopies ?? 2); extra++)
      if (rng.chance(knobs.duplicateRate ?? 0)) copies++
    for (let c = 0; c < copies; c++) {
      if (delay > 0) clock.setTimer(() => attempt(0), delay)
      else attempt(0)
    }
    return rec
  }

  return {
    send,
    records: (): readonly DeliveryRecord[] => records,
    /** Resolves once no attempt is in flight (timers for later retries may remain). */
    async idle(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending])
    },
  }
}
export type WebhookSender = ReturnType<typeof createWebhookSender>
