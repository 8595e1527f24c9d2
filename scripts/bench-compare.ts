// `pnpm bench -- --compare REV`: the named benchmarks run on REV and on the working tree
// alternately in one run, and each figure is reported as the ratio of the working tree's median
// to REV's. A change is then judged against its parent on the same machine in the same minutes,
// not against a figure from another day.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

type Json = Record<string, unknown>

/** Every finite number of a benchmark's JSON, by its dotted path (array items by index). */
export function numericFigures(json: unknown, prefix = ''): Map<string, number> {
  const out = new Map<string, number>()
  const walk = (v: unknown, p: string) => {
    if (typeof v === 'number' && Number.isFinite(v)) out.set(p, v)
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${p}[${i}]`))
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v as Json)) walk(x, p ? `${p}.${k}` : k)
  }
  walk(json, prefix)
  return out
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export type FigureComparison = {
  figure: string
  base: number
  head: number
  /** head / base; null when base is 0. */
  ratio: number | null
  rounds: number
}

/**
 * Medians of each figure over the rounds of each side, and their ratio. A figure missing from
 * some rounds is compared over the rounds that have it on both sides; one never seen on a side
 * is left out (a renamed or new figure has nothing to compare with).
 */
export function compareFigures(baseRuns: unknown[], headRuns: unknown[]): FigureComparison[] {
  const base = baseRuns.map((j) => numericFigures(j))
  const head = headRuns.map((j) => numericFigures(j))
  const names = new Set<string>()
  for (const m of [...base, ...head]) for (const k of m.keys()) names.add(k)
  const out: FigureComparison[] = []
  for (const figure of names) {
    const b = base.map((m) => m.get(figure)).filter((x): x is number => x !== undefined)
    const h = head.map((m) => m.get(figure)).filter((x): x is number => x !== undefined)
    if (!b.length || !h.length) continue
    const mb = median(b)
    const mh = median(h)
    out.push({
      figure,
      base: mb,
      head: mh,
      ratio: mb === 0 ? null : mh / mb,
      rounds: Math.min(b.length, h.length),
    })
  }
  return out.sort((x, y) => x.figure.localeCompare(y.figure))
}

const num = (v: number) =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3)

/** A Markdown table of one benchmark's comparison. */
export function comparisonTable(
  bench: string,
  rev: string,
  rows: FigureComparison[],
  note?: string,
): string {
  const lines = [`### ${bench}: working tree vs ${rev}`, '']
  if (note) lines.push(note, '')
  if (!rows.length) return [...lines, 'no figure to compare', ''].join('\n')
  lines.push(
    `| figure | ${rev} (median) | working tree (median) | ratio | rounds |`,
    '|---|---|---|---|---|',
  )
  for (const r of rows)
    lines.push(
      `| ${r.figure} | ${num(r.base)} | ${num(r.head)} | ${r.ratio === null ? 'n/a' : r.ratio.toFixed(3)} | ${r.rounds} |`,
    )
  return `${lines.join('\n')}\n`
}

/**
 * A checkout of REV beside the repository (a detached git worktree in a temporary folder) with
 * its own dependencies installed from its own lockfile. `remove()` deletes it.
 */
export function checkoutRevision(
  root: string,
  rev: string,
): { dir: string; sha: string; remove: () => void } {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${rev}^{commit}`], {
    cwd: root,
    encoding: 'utf8',
  }).trim()
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'xeno-bench-base-')), 'xeno')
  execFileSync('git', ['worktree', 'add', '--detach', dir, sha], { cwd: root, stdio: 'ignore' })
  const remove = () => {
    try {
      execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: root, stdio: 'ignore' })
    } catch {
      // already gone
    }
    rmSync(path.dirname(dir), { recursive: true, force: true })
  }
  try {
    execFileSync('pnpm', ['install', '--frozen-lockfile', '--prefer-offline'], {
      cwd: dir,
      stdio: 'ignore',
    })
  } catch (err) {
    remove()
    throw new Error(`cannot install ${rev} (${sha.slice(0, 12)}): ${(err as Error).message}`)
  }
  return { dir, sha, remove }
}

/** Whether a checkout has a benchmark of that name. */
export const hasBench = (dir: string, name: string) =>
  existsSync(path.join(dir, 'bench', `${name}.bench.ts`))
