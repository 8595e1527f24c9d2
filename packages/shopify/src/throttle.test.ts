import t from 'tap'
import { createThrottleBudget } from './throttle.ts'

t.test('waits before it would be throttled and exactly the budget on THROTTLED', async (t) => {
  let clock = 0
  const b = createThrottleBudget(() => clock)
  t.equal(b.waitMs(500), 0, 'unknown budget: go')
  b.update({ maximumAvailable: 2000, currentlyAvailable: 300, restoreRate: 100 })
  t.equal(b.waitMs(200), 0)
  t.equal(b.waitMs(500), 2000, '200 points missing at 100/s')
  clock = 1000
  t.equal(b.waitMs(500), 1000, 'restored 100 in a second')
  const release = b.reserve(300)
  t.equal(b.waitMs(500), 4000, 'reserved cost counts')
  release()
  release()
  t.equal(b.waitMs(500), 1000, 'release is idempotent')
  t.equal(
    b.throttled(752, { maximumAvailable: 1000, currentlyAvailable: 666, restoreRate: 50 }),
    1720,
  )
  t.equal(b.stats().throttledCount, 1)
  clock = 10_000_000
  t.equal(b.waitMs(5000), 0, 'a cost above the bucket waits for a full bucket only')
})
