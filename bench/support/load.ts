// A closed-loop HTTP load generator for the benchmarks: `concurrency` keep-alive connections,
// each sending its next request when the previous answer arrives, for a fixed duration. It runs
// in a worker thread so its event loop never competes with the server's in the same process.
import { Worker } from 'node:worker_threads'

export type LoadOptions = {
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** A header set to a fresh random UUID on every request (e.g. a webhook id). */
  uniqueHeader?: string
  concurrency: number
  durationMs: number
  /**
   * A burst instead of a closed loop: each connection sends exactly this many requests and the
   * round ends when all are answered (durationMs is then ignored).
   */
  requestsPerConnection?: number
  /** Request i goes to urls[i % urls.length] (default: url). */
  urls?: string[]
}

export type LoadResult = {
  ok: number
  failed: number
  statuses: Record<string, number>
  rps: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
}

// CommonJS source of the worker (a worker thread cannot load TypeScript through eval).
const SOURCE = `
const http = require('node:http')
const { randomUUID } = require('node:crypto')
const { parentPort, workerData: o } = require('node:worker_threads')
const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency })
const latencies = []
let ok = 0, failed = 0
const statuses = {}
let sent = 0
const one = () => new Promise((resolve) => {
  const url = o.urls && o.urls.length ? o.urls[sent++ % o.urls.length] : o.url
  const headers = { ...o.headers }
  if (o.uniqueHeader) headers[o.uniqueHeader] = randomUUID()
  if (o.body !== undefined) headers['content-length'] = Buffer.byteLength(o.body)
  const t0 = performance.now()
  const req = http.request(url, { method: o.method, agent, headers }, (res) => {
    res.resume()
    res.on('end', () => {
      latencies.push(performance.now() - t0)
      if (res.statusCode >= 200 && res.statusCode < 300) ok++; else failed++
      statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1
      resolve()
    })
  })
  req.on('error', () => { failed++; statuses.error = (statuses.error || 0) + 1; resolve() })
  req.end(o.body)
})
const start = Date.now(), end = start + o.durationMs
const loop = o.requestsPerConnection
  ? async () => { for (let i = 0; i < o.requestsPerConnection; i++) await one() }
  : async () => { while (Date.now() < end) await one() }
Promise.all(Array.from({ length: o.concurrency }, loop))
  .then(() => {
    agent.destroy()
    latencies.sort((a, b) => a - b)
    const q = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0
    parentPort.postMessage({ ok, failed, statuses, ms: Date.now() - start, p50: q(0.5), p95: q(0.95), p99: q(0.99) })
  })
`

/** Runs one load round against opts.url and reports throughput and latency percentiles. */
export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(SOURCE, {
      eval: true,
      workerData: { method: 'GET', headers: {}, ...opts },
    })
    w.once(
      'message',
      (m: {
        ok: number
        failed: number
        statuses: Record<string, number>
        ms: number
        p50: number
        p95: number
        p99: number
      }) => {
        void w.terminate()
        resolve({
          ok: m.ok,
          failed: m.failed,
          statuses: m.statuses,
          rps: (m.ok / m.ms) * 1000,
          p50Ms: m.p50,
          p95Ms: m.p95,
          p99Ms: m.p99,
        })
      },
    )
    w.once('error', reject)
  })
}

/** The median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
