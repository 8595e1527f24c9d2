import t from 'tap'
import { bulkPercent } from './bulk.ts'

t.test('bulk progress is roots processed of the roots Shopify counted', async (t) => {
  t.equal(bulkPercent(0, 2000), 0)
  t.equal(bulkPercent(1, 3), 33.3, 'one decimal, rounded down')
  t.equal(bulkPercent(1999, 2000), 99.9, 'never shows 100 before the last root')
  t.equal(bulkPercent(2000, 2000), 100)
  t.equal(bulkPercent(2100, 2000), 100, 'roots created after the count do not pass 100')
  t.equal(bulkPercent(0, 0), 100, 'an empty shop is done')
  t.equal(bulkPercent(500, null), null, 'no percentage without an exact count')
})
