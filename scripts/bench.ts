// The benchmark runner: runs every benchmark of bench/ (or the ones named) one after another in
// child processes, reads the JSON each prints, and writes bench/RESULTS.md with the machine,
// versions, load, date and a table of benchmark, target, result and pass/miss.
//
//   pnpm bench                              every benchmark at full size
//   pnpm bench -- webhook-intake analytics  a subset (names as in bench/<name>.bench.ts)
//   pnpm bench -- --quick                   smaller sizes: a smoke run, labelled as such
//   pnpm bench -- --out /tmp/r.md           write the report elsewhere
//   pnpm bench -- --compare REV analytics   the named benchmarks on REV and on the working tree,
//                                           alternately (--compare-rounds N, default 3), with
//                                           the ratio of every figure (scripts/bench-compare.ts)
//
// Each benchmark measures its own ratio within one run with medians over several rounds; this
// runner adds nothing to the measurement, it only records conditions (the machine is often
// shared: the load average before and after each benchmark is part of the result).
import { execFileSync, spawn } from 'node:child_process'
import { createWriteStream, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { connect } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { createProgressBar } from '../packages/logger/src/index.ts'
import { checkoutRevision, compareFigures, comparisonTable, hasBench } from './bench-compare.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DEFAULT_OUT = path.join(ROOT, 'bench', 'RESULTS.md')

type Json = Record<string, unknown>
type Verdict = { result: string; pass: boolean | null }
type Bench = {
  name: string
  /** Arguments for a full run and for a --quick smoke run. */
  full: string[]
  quick: string[]
  target: string
  summarise: (j: Json) => Verdict
  /** Wall-clock limit of one run (minutes). */
  limitMin: { full: number; quick: number }
}

/** What each benchmark prints (only the fields the table uses; see each bench file). */
type WebhookOut = {
  ratio: number
  intake?: { rps?: number; p99Ms?: number; failed?: number }
  bare?: { rps?: number }
}
type BackfillOut = {
  ratio: number
  ratioWithRollups?: number
  target?: number
  orders?: number
  oursRowsPerSec?: number
  copyRowsPerSec?: number
  rows?: { total?: number }
}
type AnalyticsOut = {
  all_within_target?: boolean
  results?: { scenario: string; endpoint: string; p95_ms: number; ratio: number }[]
}
type ManyTenantsOut = {
  tenants?: number
  register?: { ms?: number }
  redis_memory?: { per_tenant_bytes?: number; while_firing_per_tenant_bytes?: number }
  firing?: {
    periods?: number
    tenants_fired?: number
    fires_per_tenant_min?: number
    late_ms_p99?: number
    cpu_ms_per_tenant_per_fire?: number
    core_share_at_15_min?: number
  }
}
type AuthOut = { ratio: number; ratios?: Record<string, number>; met?: boolean }
type MemoryOut = {
  orders: number
  peakRssMb: number
  idleRssMb?: number
  medianRssMb?: number
  seconds?: number
  stored?: { orders?: number }
}
type AdmissionOut = {
  met?: boolean
  burst?: { requests?: number; responsesGe500?: number; statuses?: Record<string, number> }
  readiness?: { statuses?: Record<string, number> }
  otherTenant?: { p99Ms?: number }
  webhooks?: { p99Ms?: number }
}
type DashboardOut = { medianMs?: number; jsGzipKb?: number; runsMs?: number[]; met?: boolean }
type ProcessingOut = { ratio: number; bodyPerSecond?: number; readbackPerSecond?: number }
type StreamOut = { medianMbPerSec?: number; fileSizeMb?: number; medianPeakRssMb?: number }

/** A number rounded for the table, or '?' when the benchmark did not print it. */
const n = (v: number | undefined, digits = 3) =>
  typeof v === 'number' ? String(Number(v.toFixed(digits))) : '?'

export const BENCHES: Bench[] = [
  {
    name: 'webhook-intake',
    full: ['--rounds', '5', '--seconds', '4', '--concurrency', '50'],
    quick: ['--rounds', '2', '--seconds', '1', '--concurrency', '20'],
    target: 'intake ≥ 0.30 × bare Fastify throughput at 50 connections, intake p99 < 50 ms',
    summarise: (json) => {
      const j = json as WebhookOut
      return {
        result: `ratio ${n(j.ratio)}; intake ${n(j.intake?.rps, 0)} req/s, p99 ${n(j.intake?.p99Ms, 1)} ms vs bare ${n(j.bare?.rps, 0)} req/s; ${n(j.intake?.failed, 0)} failed`,
        pass: j.ratio >= 0.3 && (j.intake?.p99Ms ?? Infinity) < 50 && j.intake?.failed === 0,
      }
    },
    limitMin: { full: 15, quick: 5 },
  },
  {
    name: 'webhook-processing',
    full: ['--rounds', '3', '--orders', '300', '--concurrency', '8'],
    quick: ['--rounds', '1', '--orders', '40', '--concurrency', '8'],
    target:
      'none (the cost of reading each delivery back from the shop vs applying its body; informational)',
    summarise: (json) => {
      const j = json as ProcessingOut
      return {
        result: `ratio ${n(j.ratio)}; read-back ${n(j.readbackPerSecond, 1)} vs body ${n(j.bodyPerSecond, 1)} order deliveries/s`,
        pass: null,
      }
    },
    limitMin: { full: 20, quick: 5 },
  },
  {
    name: 'backfill',
    full: ['1000000', '3'],
    quick: ['20000', '2'],
    target: 'backfill ≥ 0.35 × raw COPY of the same rows (rows/s)',
    summarise: (json) => {
      const j = json as BackfillOut
      return {
        result: `ratio ${n(j.ratio)}; ours ${n(j.oursRowsPerSec, 0)} rows/s vs COPY ${n(j.copyRowsPerSec, 0)} rows/s; ${n(j.rows?.total, 0)} rows (${n(j.orders, 0)} orders); with the analytics rollup rebuild after it: ratio ${n(j.ratioWithRollups)}`,
        pass: typeof j.ratio === 'number' && j.ratio >= (j.target ?? 0.35),
      }
    },
    limitMin: { full: 60, quick: 10 },
  },
  {
    name: 'analytics',
    full: ['--rounds', '5', '--requests', '30'],
    quick: ['--rounds', '2', '--requests', '5'],
    target:
      'p95 ≤ 50 ms for 90 days, ≤ 200 ms for 2 years of the 1M-order tenant (5M orders); ≤ 100 ms for its 12-month cohort matrix and RFM',
    summarise: (json) => {
      const j = json as AnalyticsOut
      const rs = j.results ?? []
      const worst = [...rs].sort((a, b) => b.ratio - a.ratio)[0]
      const within = rs.filter((r) => r.ratio <= 1).length
      return {
        result: worst
          ? `${within}/${rs.length} endpoint×scenario within target; worst p95/target ${n(worst.ratio, 2)} (${worst.endpoint}, ${worst.scenario}: p95 ${n(worst.p95_ms, 1)} ms)`
          : 'no results',
        pass: rs.length > 0 && j.all_within_target === true,
      }
    },
    limitMin: { full: 90, quick: 30 },
  },
  {
    name: 'auth-basic-vs-session',
    full: ['--rounds', '5', '--seconds', '3', '--concurrency', '16'],
    quick: ['--rounds', '2', '--seconds', '1', '--concurrency', '8'],
    target: 'HTTP Basic ≥ 0.5 × session-cookie throughput on the same routes',
    summarise: (json) => {
      const j = json as AuthOut
      const per = Object.entries(j.ratios ?? {})
        .map(([k, v]) => `${k} ${n(v)}`)
        .join(', ')
      return { result: `ratio ${n(j.ratio)}; per route: ${per}`, pass: j.met === true }
    },
    limitMin: { full: 15, quick: 5 },
  },
  {
    name: 'worker-memory',
    full: ['1000000'],
    quick: ['20000'],
    target: 'worker peak RSS ≤ 300 MB while backfilling 1M orders',
    summarise: (json) => {
      const j = json as MemoryOut
      return {
        result: `peak ${n(j.peakRssMb, 0)} MB (idle ${n(j.idleRssMb, 0)} MB, median ${n(j.medianRssMb, 0)} MB); ${n(j.stored?.orders, 0)} of ${n(j.orders, 0)} orders stored in ${n(j.seconds, 1)} s`,
        pass:
          typeof j.peakRssMb === 'number' && j.peakRssMb <= 300 && j.stored?.orders === j.orders,
      }
    },
    limitMin: { full: 60, quick: 10 },
  },
  {
    name: 'admission',
    full: ['--rounds', '3', '--burst', '2000'],
    quick: ['--rounds', '1', '--burst', '500'],
    target:
      "2,000 concurrent 2-year analytics requests of one tenant: 0 answers ≥ 500, readiness 200 throughout, another tenant's analytics p99 < 1 s, webhook intake p99 < 500 ms",
    summarise: (json) => {
      const j = json as AdmissionOut
      const probes = Object.entries(j.readiness?.statuses ?? {})
      return {
        result: `burst ${n(j.burst?.requests, 0)}: ${n(j.burst?.responsesGe500, 0)} ≥ 500 (${JSON.stringify(j.burst?.statuses ?? {})}); readiness ${probes.map(([k, v]) => `${v}×${k}`).join(', ')}; other tenant p99 ${n(j.otherTenant?.p99Ms, 0)} ms; webhooks p99 ${n(j.webhooks?.p99Ms, 0)} ms`,
        pass: j.met === true,
      }
    },
    limitMin: { full: 15, quick: 5 },
  },
  {
    name: 'dashboard',
    full: ['--rounds', '5'],
    quick: ['--rounds', '2', '--orders', '400'],
    target:
      'overview: all charts drawn ≤ 1 s (median of 5 cold loads, demo store); page JavaScript ≤ 250 kB gzipped',
    summarise: (json) => {
      const j = json as DashboardOut
      return {
        result: `median ${n(j.medianMs, 0)} ms (runs ${(j.runsMs ?? []).map((r) => n(r, 0)).join(', ')} ms); JavaScript ${n(j.jsGzipKb, 1)} kB gzipped`,
        pass: j.met === true,
      }
    },
    limitMin: { full: 20, quick: 10 },
  },
  {
    name: 'fake-bulk-stream',
    full: ['1000000'],
    quick: ['20000'],
    target: 'none (the fake Shopify’s bulk file throughput; informational)',
    summarise: (json) => {
      const j = json as StreamOut
      return {
        result: `${n(j.medianMbPerSec, 1)} MB/s, ${n(j.fileSizeMb, 1)} MB file, peak RSS ${n(j.medianPeakRssMb, 0)} MB`,
        pass: null,
      }
    },
    limitMin: { full: 30, quick: 5 },
  },
  {
    name: 'many-tenants',
    // Production's period (SYNC_INTERVAL_MINUTES = 15) and concurrency (WORKER_CONCURRENCY = 4).
    full: ['--tenants', '10000', '--every-s', '900', '--fires', '1', '--concurrency', '4'],
    quick: ['--tenants', '500', '--every-s', '20', '--fires', '1', '--concurrency', '4'],
    target:
      'every one of 10,000 tenants fires its incremental schedule once per period; Redis memory and scheduler CPU per tenant reported',
    summarise: (json) => {
      const j = json as ManyTenantsOut
      const f = j.firing
      return {
        result: `${n(j.tenants, 0)} tenants: Redis ${n((j.redis_memory?.per_tenant_bytes ?? NaN) / 1024, 1)} KiB/tenant for the schedules (${n((j.redis_memory?.while_firing_per_tenant_bytes ?? NaN) / 1024, 1)} KiB with retained jobs), registered in ${n((j.register?.ms ?? NaN) / 1000, 1)} s; ${n(f?.tenants_fired, 0)} fired in the period (min ${n(f?.fires_per_tenant_min, 0)} per tenant), late p99 ${n(f?.late_ms_p99, 0)} ms; ${n(f?.cpu_ms_per_tenant_per_fire, 2)} CPU ms per tenant per fire (worker + Redis) = ${n((f?.core_share_at_15_min ?? NaN) * 100, 1)} % of a core at 15 min`,
        pass:
          typeof f?.fires_per_tenant_min === 'number' && f.fires_per_tenant_min >= (f.periods ?? 1),
      }
    },
    limitMin: { full: 30, quick: 5 },
  },
]

type Outcome = {
  bench: Bench
  args: string[]
  seconds: number
  loadBefore: number[]
  loadAfter: number[]
  json?: Json
  verdict: Verdict
  error?: string
  log: string
}

/** The last top-level JSON object a benchmark printed on stdout. */
export function lastJson(stdout: string): Json | undefined {
  const text = stdout.trim()
  try {
    return JSON.parse(text) as Json
  } catch {
    // logs before the JSON: try each line that opens an object, last first
  }
  const starts = [...text.matchAll(/^\{/gm)].map((m) => m.index)
  for (const i of starts.reverse()) {
    try {
      return JSON.parse(text.slice(i)) as Json
    } catch {
      // not this one
    }
  }
  return undefined
}

async function runOne(
  bench: Bench,
  quick: boolean,
  logDir: string,
  onLine: (line: string) => void = () => {},
  /** The checkout whose bench/ runs (another revision's, for --compare). */
  root: string = ROOT,
  logName: string = bench.name,
): Promise<Outcome> {
  const args = quick ? bench.quick : bench.full
  const logFile = path.join(logDir, `${logName}.log`)
  const log = createWriteStream(logFile)
  const loadBefore = os.loadavg()
  const started = performance.now()
  const child = spawn(
    process.execPath,
    [path.join(root, 'bench', `${bench.name}.bench.ts`), ...args],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    },
  )
  let stdout = ''
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString()
    log.write(c)
  })
  child.stderr.on('data', (c: Buffer) => {
    log.write(c)
    // The benchmark's own progress (its last non-empty stderr line) shows beside the bar.
    const line = c
      .toString()
      .split(/[\r\n]+/)
      // eslint-disable-next-line no-control-regex -- strip terminal escapes
      .map((l) => l.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim())
      .filter(Boolean)
      .at(-1)
    if (line) onLine(line)
  })
  const limitMs = (quick ? bench.limitMin.quick : bench.limitMin.full) * 60_000
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref()
  }, limitMs)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  await new Promise((r) => log.end(r))
  const seconds = (performance.now() - started) / 1000
  const loadAfter = os.loadavg()
  const json = lastJson(stdout)
  const base = { bench, args, seconds, loadBefore, loadAfter, log: logFile }
  if (timedOut)
    return {
      ...base,
      verdict: { result: 'timed out', pass: false },
      error: `over ${limitMs / 60_000} min`,
    }
  if (code !== 0 || !json)
    return {
      ...base,
      ...(json ? { json } : {}),
      verdict: { result: `failed (exit ${code})`, pass: false },
      error: `exit ${code}${json ? '' : ', no JSON on stdout'}`,
    }
  let verdict: Verdict
  try {
    verdict = bench.summarise(json)
  } catch (err) {
    verdict = { result: `unreadable JSON: ${(err as Error).message}`, pass: false }
  }
  return { ...base, json, verdict }
}

export const README_START = '<!-- bench-table:start -->'
export const README_END = '<!-- bench-table:end -->'

/**
 * The README's benchmark table is the results table of the last full run: this puts the table
 * of a RESULTS.md text between the README's markers (with where it came from), and leaves the
 * rest of the README alone. Returns null when the README has no markers.
 */
export function spliceReadmeTable(readme: string, results: string): string | null {
  const start = readme.indexOf(README_START)
  const end = readme.indexOf(README_END)
  if (start < 0 || end < start) return null
  const lines = results.split('\n')
  const first = lines.findIndex((l) => l.startsWith('| Benchmark |'))
  if (first < 0) throw new Error('no results table in the RESULTS.md text')
  let last = first
  while (lines[last + 1]?.startsWith('|')) last++
  const generated = lines.find((l) => l.startsWith('Generated by ')) ?? ''
  const block = [
    README_START,
    '',
    `From \`bench/RESULTS.md\` (written by \`pnpm bench\`; machine, versions and raw JSON there). ${generated}`,
    '',
    ...lines.slice(first, last + 1),
    '',
    README_END,
  ].join('\n')
  return readme.slice(0, start) + block + readme.slice(end + README_END.length)
}

async function postgresVersion(): Promise<string> {
  const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const client = new pg.Client({ connectionString: url })
  try {
    await client.connect()
    const r = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")
    return r.rows[0]?.v ?? 'unknown'
  } catch (err) {
    return `unavailable (${(err as Error).message})`
  } finally {
    await client.end().catch(() => {})
  }
}

function redisVersion(): Promise<string> {
  const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  return new Promise((resolve) => {
    const socket = connect(Number(url.port || 6379), url.hostname)
    let data = ''
    const done = (v: string) => {
      socket.destroy()
      resolve(v)
    }
    socket.setTimeout(3_000, () => done('unavailable (timeout)'))
    socket.on('error', (err) => done(`unavailable (${err.message})`))
    socket.on('connect', () => socket.write('INFO server\r\n'))
    socket.on('data', (c) => {
      data += c.toString()
      const m = /redis_version:([^\r\n]+)/.exec(data)
      if (m) done(m[1]!)
    })
  })
}

/** Installed versions of the libraries the benchmarks exercise (as resolved by the API). */
function packageVersions(): Record<string, string> {
  const names: [string, string][] = [
    ['fastify', 'apps/api'],
    ['zod', 'apps/api'],
    ['ioredis', 'apps/api'],
    ['bullmq', 'packages/queues'],
    ['kysely', 'packages/db'],
    ['pg', 'packages/db'],
    ['argon2', 'packages/core'],
    ['pino', 'packages/logger'],
  ]
  const out: Record<string, string> = {}
  for (const [name, from] of names) {
    const require = createRequire(path.join(ROOT, from, 'package.json'))
    try {
      let dir = path.dirname(require.resolve(name))
      while (dir !== path.dirname(dir)) {
        const p = path.join(dir, 'package.json')
        if (existsSync(p)) {
          const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string }
          if (pkg.name === name) {
            out[name] = pkg.version ?? '?'
            break
          }
        }
        dir = path.dirname(dir)
      }
    } catch {
      out[name] = 'not installed'
    }
  }
  return out
}

/** Tracked files that differ from the revision (others' work in progress on a shared tree). */
function gitChanges(): string[] {
  try {
    return execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3))
  } catch {
    return []
  }
}

function gitRevision(): string {
  try {
    const head = readFileSync(path.join(ROOT, '.git', 'HEAD'), 'utf8').trim()
    if (!head.startsWith('ref: ')) return head.slice(0, 12)
    const ref = head.slice(5)
    const file = path.join(ROOT, '.git', ref)
    if (existsSync(file)) return readFileSync(file, 'utf8').trim().slice(0, 12)
    const packed = readFileSync(path.join(ROOT, '.git', 'packed-refs'), 'utf8')
    return (packed.split('\n').find((l) => l.endsWith(` ${ref}`)) ?? '?').slice(0, 12)
  } catch {
    return 'unknown'
  }
}

const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ')
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ')

function report(o: {
  quick: boolean
  subset: boolean
  started: Date
  finished: Date
  loadBefore: number[]
  loadAfter: number[]
  outcomes: Outcome[]
  versions: Record<string, string>
  revision: string
  changes: string[]
  /** The runner's arguments, as typed. */
  command: string
}): string {
  const cpus = os.cpus()
  const lines: string[] = []
  lines.push('# Benchmark results', '')
  if (o.quick)
    lines.push(
      '> **QUICK SMOKE RUN** (`pnpm bench -- --quick`): sizes, rounds and durations are reduced',
      '> to prove the benchmarks run end to end. These numbers are **not** the benchmark results',
      '> and must not be quoted as such; run `pnpm bench` on a quiet machine for those. Targets',
      '> are stated for the full sizes: pass/miss at quick sizes says nothing about them.',
      '',
    )
  if (o.subset) lines.push(`> Subset run: ${o.outcomes.map((x) => x.bench.name).join(', ')}.`, '')
  if (!o.quick && o.loadBefore[0]! > 2)
    lines.push(
      `> The 1-minute load average was ${o.loadBefore[0]!.toFixed(2)} when the run started (> 2):`,
      '> other work shared the machine and the figures are pessimistic.',
      '',
    )
  lines.push(
    `Generated by \`pnpm bench${o.command ? ` -- ${o.command}` : ''}\` (scripts/bench.ts) on ${o.started.toISOString()}; finished ${o.finished.toISOString()}.`,
    'Each benchmark measures its ratio within one run, medians over its rounds; raw JSON below.',
    '',
    '| Benchmark | Target | Result | Pass/miss | Time | Load before → after (1 min) |',
    '|---|---|---|---|---|---|',
  )
  for (const r of o.outcomes)
    lines.push(
      `| ${r.bench.name} | ${cell(r.bench.target)} | ${cell(r.verdict.result)} | ${
        r.verdict.pass === null ? 'n/a' : r.verdict.pass ? 'pass' : '**miss**'
      } | ${r.seconds.toFixed(0)} s | ${r.loadBefore[0]!.toFixed(2)} → ${r.loadAfter[0]!.toFixed(2)} |`,
    )
  lines.push(
    '',
    '## Machine',
    '',
    `- CPU: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} logical cores`,
    `- Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(os.freemem() / 2 ** 30).toFixed(1)} GiB free at the end`,
    `- OS: ${os.type()} ${os.release()} (${os.arch()})`,
    `- Load average (1 / 5 / 15 min) before: ${fmtLoad(o.loadBefore)}; after: ${fmtLoad(o.loadAfter)}`,
    '',
    '## Versions',
    '',
    `- Git revision: ${o.revision}${o.changes.length ? ` plus uncommitted changes to ${o.changes.length} tracked file(s) when the run started: ${o.changes.join(', ')}` : ' (clean)'}`,
    ...Object.entries(o.versions).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Arguments and raw output',
    '',
  )
  for (const r of o.outcomes) {
    lines.push(
      `### ${r.bench.name}`,
      '',
      `\`node bench/${r.bench.name}.bench.ts ${r.args.join(' ')}\` — ${r.seconds.toFixed(1)} s${r.error ? `, **${r.error}**` : ''}; log: \`${r.log}\``,
      '',
    )
    if (r.json) lines.push('```json', JSON.stringify(r.json, null, 2), '```', '')
  }
  return `${lines.join('\n')}\n`
}

async function main() {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: DEFAULT_OUT },
      list: { type: 'boolean', default: false },
      compare: { type: 'string' },
      'compare-rounds': { type: 'string', default: '3' },
    },
    allowPositionals: true,
  })
  if (values.list) {
    for (const b of BENCHES) console.log(`${b.name}\t${b.target}`)
    return
  }
  const unknown = positionals.filter((p) => !BENCHES.some((b) => b.name === p))
  if (unknown.length) {
    console.error(
      `unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`,
    )
    process.exit(2)
  }
  const selected = positionals.length
    ? BENCHES.filter((b) => positionals.includes(b.name))
    : BENCHES
  const quick = values.quick
  if (values.compare !== undefined) {
    if (!positionals.length) {
      console.error('--compare REV needs the benchmarks to compare by name (pnpm bench -- --list)')
      process.exit(2)
    }
    const rounds = Number(values['compare-rounds'])
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) {
      console.error('--compare-rounds takes a whole number from 1 to 20')
      process.exit(2)
    }
    await compare(
      values.compare,
      selected,
      rounds,
      quick,
      values.out === DEFAULT_OUT ? undefined : values.out,
    )
    return
  }
  const started = new Date()
  const loadBefore = os.loadavg()
  const revision = gitRevision()
  const changes = gitChanges()
  if (!quick && loadBefore[0]! > 2)
    console.warn(
      `warning: load average ${loadBefore[0]!.toFixed(2)} > 2; results will be recorded as run on a busy machine`,
    )
  const logDir = path.join(os.tmpdir(), `xeno-bench-${started.toISOString().replaceAll(':', '-')}`)
  mkdirSync(logDir, { recursive: true })
  console.log(
    `running ${selected.length} benchmark(s)${quick ? ' in --quick mode' : ''}; logs in ${logDir}`,
  )
  const outcomes: Outcome[] = []
  const bar = createProgressBar({
    label: 'bench',
    total: selected.length,
    unit: 'benchmarks',
    detail: selected[0]?.name,
  })
  for (const [i, b] of selected.entries()) {
    bar.log(`[${i + 1}/${selected.length}] ${b.name} ${(quick ? b.quick : b.full).join(' ')} …`)
    bar.update(i, b.name)
    const r = await runOne(b, quick, logDir, (line) => bar.update(i, `${b.name}: ${line}`))
    outcomes.push(r)
    bar.log(
      `[${i + 1}/${selected.length}] ${b.name}: ${r.verdict.pass === null ? 'n/a' : r.verdict.pass ? 'PASS' : 'MISS'} in ${r.seconds.toFixed(1)} s — ${r.verdict.result}`,
    )
  }
  bar.finish()
  const versions = {
    node: process.version,
    postgres: await postgresVersion(),
    redis: await redisVersion(),
    ...packageVersions(),
  }
  const text = report({
    quick,
    subset: selected.length < BENCHES.length,
    started,
    finished: new Date(),
    loadBefore,
    loadAfter: os.loadavg(),
    outcomes,
    versions,
    revision,
    changes,
    command: process.argv
      .slice(2)
      .filter((a) => a !== '--')
      .join(' '),
  })
  writeFileSync(values.out, text)
  // A full run of every benchmark is what the README's table shows (a quick or partial run not).
  const readmePath = path.join(ROOT, 'README.md')
  const toReadme = !quick && selected.length === BENCHES.length && values.out === DEFAULT_OUT
  const spliced = toReadme ? spliceReadmeTable(readFileSync(readmePath, 'utf8'), text) : null
  if (spliced !== null) writeFileSync(readmePath, spliced)
  else if (toReadme) console.warn(`README.md has no ${README_START} … ${README_END} markers`)
  // `pnpm format:check` covers the report too; prettier is a root dev dependency.
  try {
    const prettier = createRequire(path.join(ROOT, 'package.json')).resolve(
      'prettier/bin/prettier.cjs',
    )
    execFileSync(process.execPath, [
      prettier,
      '--write',
      '--log-level',
      'warn',
      values.out,
      ...(spliced !== null ? [readmePath] : []),
    ])
  } catch (err) {
    console.warn(`could not format ${values.out}: ${(err as Error).message}`)
  }
  console.log(`wrote ${path.relative(process.cwd(), values.out)}`)
  if (spliced !== null) console.log('updated the benchmark table of README.md')
  if (outcomes.some((o) => o.error)) process.exitCode = 1
}

/**
 * Runs each benchmark on REV's checkout and on the working tree, alternating which goes first
 * each round (so a drift of the machine's speed weighs on both sides alike), and prints the
 * ratio of the medians of every figure.
 */
async function compare(
  rev: string,
  selected: Bench[],
  rounds: number,
  quick: boolean,
  out: string | undefined,
) {
  const base = checkoutRevision(ROOT, rev)
  const logDir = path.join(os.tmpdir(), `xeno-bench-compare-${Date.now()}`)
  mkdirSync(logDir, { recursive: true })
  const label = `${rev} (${base.sha.slice(0, 12)})`
  const loadBefore = os.loadavg()
  const sections: string[] = []
  let failed = false
  try {
    for (const b of selected) {
      const runs: Record<'base' | 'head', Json[]> = { base: [], head: [] }
      const baseHas = hasBench(base.dir, b.name)
      for (let i = 0; i < rounds; i++) {
        const order: ('base' | 'head')[] = i % 2 ? ['head', 'base'] : ['base', 'head']
        for (const side of order) {
          if (side === 'base' && !baseHas) continue
          console.log(
            `[${b.name}] round ${i + 1}/${rounds}: ${side === 'base' ? label : 'working tree'} …`,
          )
          const r = await runOne(
            b,
            quick,
            logDir,
            () => {},
            side === 'base' ? base.dir : ROOT,
            `${b.name}-${side}-${i + 1}`,
          )
          if (r.json && !r.error) runs[side].push(r.json)
          else {
            failed = true
            console.warn(
              `[${b.name}] ${side} round ${i + 1} failed: ${r.error ?? r.verdict.result} (log ${r.log})`,
            )
          }
        }
      }
      const note = baseHas
        ? undefined
        : `${label} has no bench/${b.name}.bench.ts: nothing to compare with.`
      sections.push(comparisonTable(b.name, label, compareFigures(runs.base, runs.head), note))
    }
  } finally {
    base.remove()
  }
  const text = [
    `# Benchmark comparison: working tree vs ${label}`,
    '',
    `\`pnpm bench -- --compare ${rev}${quick ? ' --quick' : ''} ${selected.map((b) => b.name).join(' ')}\`, ${rounds} alternating round(s) a side; medians; ratio = working tree / ${rev} (above 1: the figure grew). Load average before: ${fmtLoad(loadBefore)}; after: ${fmtLoad(os.loadavg())}. Logs in ${logDir}.`,
    '',
    ...sections,
  ].join('\n')
  console.log(`\n${text}`)
  if (out) writeFileSync(out, text)
  if (failed) process.exitCode = 1
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main()
