import t from 'tap'
import { compareFigures, comparisonTable, numericFigures } from './bench-compare.ts'

t.test('every finite number of a benchmark JSON, by its path', async (t) => {
  const figures = numericFigures({
    ratio: 0.5,
    intake: { rps: 3000, p99Ms: 30, label: 'x' },
    results: [{ p95_ms: 12 }, { p95_ms: 20, nan: Number.NaN }],
  })
  t.same(Object.fromEntries(figures), {
    ratio: 0.5,
    'intake.rps': 3000,
    'intake.p99Ms': 30,
    'results[0].p95_ms': 12,
    'results[1].p95_ms': 20,
  })
})

t.test('medians of each side and their ratio', async (t) => {
  const rows = compareFigures(
    [
      { rps: 100, p99: 40 },
      { rps: 120, p99: 30 },
      { rps: 80, p99: 50 },
    ],
    [
      { rps: 150, p99: 20 },
      { rps: 90, p99: 10 },
      { rps: 200, p99: 30, extra: 1 },
    ],
  )
  t.same(rows, [
    { figure: 'p99', base: 40, head: 20, ratio: 0.5, rounds: 3 },
    { figure: 'rps', base: 100, head: 150, ratio: 1.5, rounds: 3 },
  ])
})

t.test('a zero base has no ratio; a missing round is left out', async (t) => {
  const rows = compareFigures([{ failed: 0, x: 2 }, {}], [{ failed: 3, x: 4 }, { x: 6 }])
  t.same(rows, [
    { figure: 'failed', base: 0, head: 3, ratio: null, rounds: 1 },
    { figure: 'x', base: 2, head: 5, ratio: 2.5, rounds: 1 },
  ])
})

t.test('the table names both sides and every figure', async (t) => {
  const text = comparisonTable('analytics', 'HEAD~1 (abc)', [
    { figure: 'p95', base: 12.5, head: 10, ratio: 0.8, rounds: 3 },
  ])
  t.match(text, /### analytics: working tree vs HEAD~1 \(abc\)/)
  t.match(text, /\| p95 \| 12\.50 \| 10\.00 \| 0\.800 \| 3 \|/)
  t.match(comparisonTable('x', 'r', [], 'r has no bench'), /r has no bench[\s\S]*no figure/)
})
