// The checker can fail: a clean history passes, and each broken invariant is reported.
import t from 'tap'
import { checkHistory, type Observations } from './checker.ts'
import type { HistoryEvent } from './history.ts'

const A = 'a.myshopify.com'
const B = 'b.myshopify.com'
const TA = '00000000-0000-4000-8000-00000000000a'
const TB = '00000000-0000-4000-8000-00000000000b'

function clean(): { events: HistoryEvent[]; obs: Observations } {
  const events: HistoryEvent[] = [
    { type: 'seed', at: 1, seed: 7, test: 'unit' },
    { type: 'fault', at: 10, name: 'worker-sigkill', phase: 'inject' },
    {
      type: 'webhook',
      at: 11,
      shop: A,
      topic: 'orders/create',
      webhookId: 'w1',
      status: 200,
      via: 'fake',
    },
    // Not acknowledged: nothing is expected of it (the fake retries it).
    {
      type: 'webhook',
      at: 12,
      shop: B,
      topic: 'orders/create',
      webhookId: 'w2',
      status: null,
      via: 'fake',
    },
    {
      type: 'webhook',
      at: 13,
      shop: B,
      topic: 'orders/create',
      webhookId: 'w3',
      status: 200,
      via: 'fake',
    },
    // A shop Xeno does not know: acknowledged and dropped by design.
    {
      type: 'webhook',
      at: 13,
      shop: 'x.myshopify.com',
      topic: 'orders/create',
      webhookId: 'w9',
      status: 200,
      via: 'direct',
    },
    { type: 'fault', at: 20, name: 'worker-sigkill', phase: 'heal' },
    {
      type: 'response',
      at: 30,
      asTenant: TA,
      route: '/api/tenant/me',
      status: 200,
      tenantInBody: TA,
    },
    {
      type: 'response',
      at: 30,
      asTenant: TA,
      route: `/api/tenants/${TB}`,
      status: 404,
      tenantInBody: null,
    },
    {
      type: 'resources',
      at: 5,
      label: 'baseline',
      rss: { worker: 100e6 },
      pgConnections: { 'xeno-worker': 3 },
      redisClients: 5,
    },
    {
      type: 'queue',
      at: 100_000,
      queue: 'sync',
      waiting: 0,
      active: 1,
      delayed: 1,
      failed: 0,
      oldestActiveMs: 500,
    },
    {
      type: 'queue',
      at: 100_500,
      queue: 'sync',
      waiting: 0,
      active: 0,
      delayed: 1,
      failed: 0,
      oldestActiveMs: 0,
    },
    {
      type: 'resources',
      at: 100_600,
      label: 'final',
      rss: { worker: 120e6 },
      pgConnections: { 'xeno-worker': 4 },
      redisClients: 6,
    },
  ]
  const obs: Observations = {
    tenants: { [A]: TA, [B]: TB },
    reconciled: [A, B],
    receipts: [
      { shop: A, webhookId: 'w1', status: 'processed' },
      { shop: B, webhookId: 'w3', status: 'skipped' },
    ],
    duplicateRows: [],
    truthDiffs: { [A]: [], [B]: [] },
    lockPlusStallMs: 60_000,
  }
  return { events, obs }
}

t.test('a clean history passes', async (t) => {
  const { events, obs } = clean()
  t.same(checkHistory(events, obs), [])
})

t.test('each broken invariant is reported', async (t) => {
  const cases: [string, (e: HistoryEvent[], o: Observations) => void, RegExp][] = [
    [
      'acked webhook without receipt',
      (_e, o) => o.receipts.splice(0, 1),
      /acked-webhook-lost: orders\/create w1/,
    ],
    [
      'acked webhook never applied',
      (_e, o) => (o.receipts[0]!.status = 'received'),
      /acked-webhook-not-applied/,
    ],
    [
      'receipt stored twice',
      (_e, o) => o.receipts.push({ shop: A, webhookId: 'w1', status: 'processed' }),
      /duplicate: webhook w1 has 2 receipts/,
    ],
    [
      'duplicate row',
      (_e, o) => o.duplicateRows.push('orders 5 twice'),
      /duplicate: orders 5 twice/,
    ],
    [
      'database differs from the truth',
      (_e, o) => (o.truthDiffs[B] = ['orders 1: truth x db y']),
      /truth: b\.myshopify\.com: orders 1/,
    ],
    [
      'a shop never compared',
      (_e, o) => delete o.truthDiffs[A],
      /truth: a\.myshopify\.com: not compared/,
    ],
    [
      'a response carrying another tenant',
      (e) =>
        e.push({
          type: 'response',
          at: 40,
          asTenant: TA,
          route: `/api/tenants/${TB}`,
          status: 200,
          tenantInBody: TB,
        }),
      /cross-tenant/,
    ],
    [
      'a queue that did not drain',
      (e) =>
        e.push({
          type: 'queue',
          at: 100_700,
          queue: 'webhooks',
          waiting: 3,
          active: 0,
          delayed: 0,
          failed: 0,
          oldestActiveMs: 0,
        }),
      /queues: webhooks did not drain/,
    ],
    [
      'a job left active past lock + stall',
      (e) =>
        e.push({
          type: 'queue',
          at: 90_000,
          queue: 'sync',
          waiting: 0,
          active: 1,
          delayed: 0,
          failed: 0,
          oldestActiveMs: 70_000,
        }),
      /stalled: sync/,
    ],
    [
      'leaked Postgres connections',
      (e) => {
        const f = e.findLast((x) => x.type === 'resources')!
        if (f.type === 'resources') f.pgConnections['xeno-worker'] = 20
      },
      /resources: xeno-worker holds 20/,
    ],
    [
      'grown RSS',
      (e) => {
        const f = e.findLast((x) => x.type === 'resources')!
        if (f.type === 'resources') f.rss.worker = 600e6
      },
      /resources: worker RSS/,
    ],
    [
      'leaked Redis clients',
      (e) => {
        const f = e.findLast((x) => x.type === 'resources')!
        if (f.type === 'resources') f.redisClients = 40
      },
      /resources: 40 Redis clients/,
    ],
    [
      'a process that died by itself',
      (e) => e.push({ type: 'crash', at: 50, process: 'api-1', code: 1, signal: null }),
      /crash: api-1 exited by itself \(1\)/,
    ],
    [
      'no webhook at all',
      (e) => e.splice(0, e.length, ...e.filter((x) => x.type !== 'webhook')),
      /history: no webhook/,
    ],
  ]
  for (const [name, breakIt, expected] of cases) {
    const { events, obs } = clean()
    breakIt(events, obs)
    const found = checkHistory(events, obs)
    t.match(found.join('\n'), expected, name)
  }
})
