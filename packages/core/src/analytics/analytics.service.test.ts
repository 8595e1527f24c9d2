import t from 'tap'
import { ValidationError } from '../errors.ts'
import { formatMoney, resolveRange, todayIn } from './analytics.service.ts'
import { wholeMonths } from './analytics.repository.ts'

const fieldOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    if (err instanceof ValidationError) return err.fields?.map((f) => f.field)
    throw err
  }
  return undefined
}

t.test('defaults to the last 30 days in the shop zone, not in UTC', async (t) => {
  // 20:00 UTC on 1 March is already 2 March in Kolkata (+05:30) and still 1 March in New York.
  const now = new Date('2026-03-01T20:00:00Z')
  t.equal(todayIn('Asia/Kolkata', now), '2026-03-02')
  t.same(resolveRange({}, 'Asia/Kolkata', now), {
    from: '2026-02-01',
    to: '2026-03-02',
    days: 30,
    granularity: 'day',
  })
  t.same(resolveRange({ granularity: 'week' }, 'America/New_York', now), {
    from: '2026-01-31',
    to: '2026-03-01',
    days: 30,
    granularity: 'week',
  })
  t.same(resolveRange({ to: '2026-01-10' }, 'UTC', now).from, '2025-12-12', 'from follows to')
})

t.test('malformed dates, reversed and over-long ranges are 400s naming the field', async (t) => {
  const now = new Date('2026-03-01T00:00:00Z')
  for (const bad of ['2026-02-30', '2026/01/01', '2026-1-01', 'yesterday', '', '2026-13-01'])
    t.same(
      fieldOf(() => resolveRange({ from: bad, to: '2026-03-01' }, 'UTC', now)),
      ['from'],
      bad,
    )
  t.same(
    fieldOf(() => resolveRange({ from: '2026-01-01', to: '2026-02-29' }, 'UTC', now)),
    ['to'],
  )
  t.same(
    fieldOf(() => resolveRange({ from: '2026-03-02', to: '2026-03-01' }, 'UTC', now)),
    ['to'],
  )
  t.equal(resolveRange({ from: '2020-01-01', to: '2024-12-31' }, 'UTC', now).days, 1827)
  t.same(
    fieldOf(() => resolveRange({ from: '2020-01-01', to: '2025-01-01' }, 'UTC', now)),
    ['to'],
  )
  t.equal(resolveRange({ from: '2026-03-01', to: '2026-03-01' }, 'UTC', now).days, 1, 'one day')
})

t.test('money is a decimal string with at least two decimals', async (t) => {
  t.equal(formatMoney('0'), '0.00')
  t.equal(formatMoney('12.5000'), '12.50')
  t.equal(formatMoney('-3.1000'), '-3.10')
  t.equal(formatMoney('7.1250'), '7.125', 'keeps sub-cent precision that exists')
  t.equal(formatMoney('123456789012.3400'), '123456789012.34')
})

t.test('whole months inside a range', async (t) => {
  t.same(wholeMonths('2026-02-04', '2026-03-31'), { fullFrom: '2026-03-01', fullTo: '2026-04-01' })
  t.same(wholeMonths('2026-02-01', '2026-02-28'), { fullFrom: '2026-02-01', fullTo: '2026-03-01' })
  t.same(wholeMonths('2026-02-02', '2026-02-27'), { fullFrom: '2026-02-02', fullTo: '2026-02-02' })
  t.same(wholeMonths('2025-12-15', '2026-01-31'), { fullFrom: '2026-01-01', fullTo: '2026-02-01' })
  t.same(wholeMonths('2024-11-27', '2026-11-26'), { fullFrom: '2024-12-01', fullTo: '2026-11-01' })
  t.same(wholeMonths('2026-03-01', '2026-03-01'), { fullFrom: '2026-03-01', fullTo: '2026-03-01' })
})
