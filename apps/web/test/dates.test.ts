// The range picker's dates: today in the shop's zone (not the browser's), the presets, and the
// granularity a fresh view starts with.
import t from 'tap'
import {
  addDays,
  daysBetween,
  defaultGranularity,
  isDate,
  matchPreset,
  presetRange,
  todayIn,
} from '../src/dates.ts'
import { change, duration } from '../src/format.ts'

t.test('today is taken in the shop zone', async (t) => {
  const instant = new Date('2026-03-01T03:30:00Z')
  t.equal(todayIn('UTC', instant), '2026-03-01')
  t.equal(
    todayIn('America/New_York', instant),
    '2026-02-28',
    'still the evening before in New York',
  )
  t.equal(todayIn('Asia/Tokyo', new Date('2026-12-31T16:00:00Z')), '2027-01-01')
})

t.test('presets', async (t) => {
  const today = '2026-03-15'
  t.same(presetRange('last7', today), { from: '2026-03-09', to: today })
  t.same(presetRange('last30', today), { from: '2026-02-14', to: today })
  t.same(presetRange('last90', today), { from: '2025-12-16', to: today })
  t.same(presetRange('this_month', today), { from: '2026-03-01', to: today })
  t.same(presetRange('last_month', today), { from: '2026-02-01', to: '2026-02-28' })
  t.same(presetRange('last_month', '2026-01-10'), { from: '2025-12-01', to: '2025-12-31' })
  t.same(presetRange('ytd', today), { from: '2026-01-01', to: today })
  t.same(
    presetRange('last_month', '2028-03-31'),
    { from: '2028-02-01', to: '2028-02-29' },
    'leap year',
  )
  for (const p of ['last7', 'last30', 'last90', 'this_month', 'last_month', 'ytd'] as const)
    t.equal(matchPreset(presetRange(p, today), today), p, `${p} is recognised from its range`)
  t.equal(matchPreset({ from: '2026-01-02', to: '2026-02-03' }, today), undefined, 'custom')
})

t.test('date arithmetic and validation', async (t) => {
  t.equal(addDays('2026-02-28', 1), '2026-03-01')
  t.equal(addDays('2026-03-01', -1), '2026-02-28')
  t.equal(daysBetween('2026-01-01', '2026-01-31'), 31)
  t.ok(isDate('2026-02-28'))
  t.notOk(isDate('2026-02-30'), 'no 30 February')
  t.notOk(isDate('26-1-1'))
  t.notOk(isDate(null))
  t.equal(defaultGranularity({ from: '2026-01-01', to: '2026-01-30' }), 'day')
  t.equal(defaultGranularity({ from: '2026-01-01', to: '2026-05-30' }), 'week')
  t.equal(defaultGranularity({ from: '2025-01-01', to: '2026-05-30' }), 'month')
})

t.test('changes against the previous period', async (t) => {
  t.equal(change(150, 100), 0.5)
  t.equal(change(50, 100), -0.5)
  t.equal(change(10, 0), null, 'no base, no change')
  t.equal(change(-50, -100), 0.5, 'a smaller loss is a rise')
  t.equal(duration(45), '45 s')
  t.equal(duration(3 * 3600 + 300), '3 h 5 min')
  t.equal(duration(5 * 86_400), '5 d')
})
