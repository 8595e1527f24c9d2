import t from 'tap'
import { addMonths, bucketCount, comparisonRange } from './compare.ts'

t.test('addMonths clamps the day and keeps a month end a month end', async (t) => {
  t.equal(addMonths('2026-03-31', -1), '2026-02-28')
  t.equal(addMonths('2026-02-28', -1), '2026-01-31', "February's last day → January's")
  t.equal(addMonths('2026-03-30', -1), '2026-02-28')
  t.equal(addMonths('2026-03-15', -1), '2026-02-15')
  t.equal(addMonths('2028-02-29', -12), '2027-02-28', 'leap day')
  t.equal(addMonths('2027-02-28', 12), '2028-02-29', 'a month end stays one, leap year')
  t.equal(addMonths('2026-01-10', -1), '2025-12-10', 'across a year')
})

t.test('comparison ranges have as many buckets as the range', async (t) => {
  const cases: [
    string,
    string,
    'day' | 'week' | 'month',
    'previous_period' | 'previous_year',
    string,
    string,
  ][] = [
    ['2026-03-01', '2026-03-31', 'day', 'previous_period', '2026-01-29', '2026-02-28'],
    ['2026-03-01', '2026-03-31', 'month', 'previous_period', '2026-02-01', '2026-02-28'],
    ['2026-01-31', '2026-03-31', 'month', 'previous_period', '2025-10-31', '2025-12-31'],
    ['2026-03-30', '2026-04-29', 'month', 'previous_period', '2026-01-30', '2026-02-28'],
    ['2026-03-04', '2026-03-20', 'week', 'previous_period', '2026-02-11', '2026-02-27'],
    ['2026-03-04', '2026-03-20', 'week', 'previous_year', '2025-03-05', '2025-03-21'],
    ['2026-03-07', '2026-03-09', 'day', 'previous_year', '2025-03-08', '2025-03-10'],
    ['2028-02-01', '2028-02-29', 'month', 'previous_year', '2027-02-01', '2027-02-28'],
  ]
  for (const [from, to, g, mode, f2, t2] of cases) {
    const c = comparisonRange(from, to, g, mode)
    t.same(c, { from: f2, to: t2 }, `${from}..${to} ${g} ${mode}`)
    t.equal(bucketCount(c.from, c.to, g), bucketCount(from, to, g), 'same number of buckets')
  }
  // Every start date and length of month ranges over two years keeps the bucket count.
  for (let d = Date.UTC(2026, 0, 1); d < Date.UTC(2028, 0, 1); d += 86_400_000 * 3) {
    const from = new Date(d).toISOString().slice(0, 10)
    for (const len of [0, 27, 45, 89, 200]) {
      const to = new Date(d + len * 86_400_000).toISOString().slice(0, 10)
      for (const mode of ['previous_period', 'previous_year'] as const) {
        const c = comparisonRange(from, to, 'month', mode)
        if (bucketCount(c.from, c.to, 'month') !== bucketCount(from, to, 'month') || c.from > c.to)
          t.fail(`${from}..${to} ${mode} → ${c.from}..${c.to}`)
      }
    }
  }
})
