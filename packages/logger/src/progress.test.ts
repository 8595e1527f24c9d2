import t from 'tap'
import { createProgressBar, renderProgress, type ProgressStream } from './progress.ts'

function sink(isTTY: boolean): ProgressStream & { text: () => string } {
  let out = ''
  return { isTTY, columns: 200, write: (s: string) => (out += s), text: () => out }
}

t.test('a frame shows the bar, percent, counts, elapsed time, ETA and the step', async (t) => {
  t.equal(
    renderProgress({ label: 'migrate', done: 3, total: 12, elapsedMs: 6000, detail: 'x_y' }),
    'migrate [######..................]  25% 3/12 6s ETA 18s · x_y',
  )
  t.equal(
    renderProgress({ label: 'seed', done: 1_000_000, total: 1_000_000, elapsedMs: 3_725_000 }),
    'seed [########################] 100% 1,000,000/1,000,000 1h02m',
    'no ETA once done',
  )
  t.equal(
    renderProgress({ label: 'orders', done: 1234, total: null, elapsedMs: 61_000, unit: 'rows' }),
    'orders 1,234 rows 1m01s',
    'without a total: a count and the elapsed time',
  )
  t.equal(renderProgress({ label: 'x', done: 5, total: 4, elapsedMs: 0 }).includes('100%'), true)
  t.equal(
    renderProgress({
      label: 'long',
      done: 1,
      total: 2,
      elapsedMs: 0,
      detail: 'z'.repeat(200),
      width: 40,
    }).length,
    40,
    'cut to the terminal width',
  )
})

t.test('in a log (not a terminal) it prints a line per tenth of the way', async (t) => {
  const out = sink(false)
  const bar = createProgressBar({ label: 'rows', total: 1000, stream: out })
  for (let i = 1; i <= 1000; i++) bar.update(i)
  bar.finish('done')
  const lines = out.text().trim().split('\n')
  t.equal(lines.length, 12, '0 %, ten tenths, and the final line')
  t.notOk(out.text().includes('\r'), 'no carriage returns in a log')
  t.match(lines.at(-1), /100% 1,000\/1,000 .* · done$/)
})

t.test('on a terminal it redraws one line in place, throttled', async (t) => {
  const out = sink(true)
  let clock = 0
  const bar = createProgressBar({
    label: 'b',
    total: 10,
    stream: out,
    now: () => clock,
    redrawMs: 100,
  })
  for (let i = 1; i <= 10; i++) {
    bar.update(i, `step ${i}`)
    clock += 30 // ten updates over 270 ms: drawn at 0, 120 and 240 ms, not ten times
  }
  const draws = out.text().split('\r\x1b[K').length - 1
  t.equal(draws, 3, 'at most one frame per 100 ms')
  bar.log('created role xeno_app')
  t.ok(
    out.text().includes('\r\x1b[Kcreated role xeno_app\n\r\x1b[Kb ['),
    'a message above, the bar redrawn',
  )
  bar.fail('boom')
  t.match(out.text(), /failed: boom\n$/)
  bar.update(3)
  t.match(out.text(), /failed: boom\n$/, 'an ended bar stays ended')
})
