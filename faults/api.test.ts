// API process faults and webhook delivery faults: rolling restarts of both APIs and both workers
// under load, SIGKILL of the APIs during a webhook burst (only acknowledged webhooks must survive;
// the fake redelivers the rest), and the fake's duplicated, reordered and dropped deliveries.
import t from 'tap'
import { sleep, waitFor } from './support/cluster.ts'
import { createStack } from './support/stack.ts'

t.test(
  'rolling restarts, API SIGKILL in a webhook burst, duplicated/reordered/dropped webhooks',
  async (t) => {
    const s = await createStack(t, { name: 'api', apis: 2, workers: 2 })
    const [a, b] = s.tenants as [(typeof s.tenants)[0], (typeof s.tenants)[0]]

    // 1. Rolling restarts under load: store changes (webhooks), tenant reads and a sync keep
    // running while each API, then each worker, is stopped with SIGTERM and started again.
    let loading = true
    const load = (async () => {
      while (loading) {
        s.change(a.shop, 2)
        s.change(b.shop, 2)
        await s.probeTenants().catch(() => {})
        await sleep(100)
      }
    })()
    s.fault('rolling-restart', 'inject')
    const tA = await s.ingest(a, { resources: ['orders', 'customers'] })
    for (const p of [...s.apis, ...s.workers]) {
      const code = await p.terminate()
      t.equal(code, 0, `${p.label} stopped gracefully`)
      await p.start()
      await sleep(1_000)
    }
    loading = false
    await load
    s.fault('rolling-restart', 'heal')
    await s.waitSynced(a, tA, ['orders', 'customers'])
    const during = s.history.events().filter((e) => e.type === 'response')
    t.same(
      during.filter((e) => e.status >= 500),
      [],
      'no tenant read answered 5xx during the rolling restart',
    )
    await s.fake.webhooks.idle()
    const refused = s.fake.webhooks
      .records()
      .flatMap((r) => r.attempts)
      .filter((x) => x.status === null || x.status >= 500)
    t.comment(`${refused.length} webhook posts failed during the rolling restart (redelivered)`)

    // 2. SIGKILL both APIs in the middle of a burst of webhooks, start them again mid-burst.
    const before = s.fake.webhooks.records().length
    for (let i = 0; i < 60; i++) {
      if (i === 20) {
        s.fault('api-sigkill', 'inject')
        await Promise.all(s.apis.map((p) => p.kill()))
      }
      if (i === 40) {
        await Promise.all(s.apis.map((p) => p.start()))
        s.fault('api-sigkill', 'heal')
      }
      s.change(a.shop, 2)
      s.change(b.shop, 2)
      await sleep(30)
    }
    await s.fake.webhooks.idle()
    const burst = s.fake.webhooks.records().slice(before)
    const failed = burst.filter((r) => r.attempts.some((x) => x.status === null))
    t.ok(
      failed.length > 0,
      `${failed.length} of ${burst.length} deliveries failed while the APIs were dead`,
    )
    await s.flushWebhooks()
    t.ok(
      burst.every((r) => r.state === 'delivered'),
      'the fake redelivered every unacknowledged webhook',
    )

    // 3. Duplicates (up to 3 copies), reordering (up to 20 s late) and drops (10 %).
    s.fault('webhook-knobs', 'inject', {
      duplicateRate: 0.5,
      maxCopies: 3,
      reorderJitterMs: 20_000,
      dropRate: 0.1,
    })
    for (const tn of s.tenants)
      s.fake.setWebhookKnobs(tn.shop, {
        duplicateRate: 0.5,
        maxCopies: 3,
        reorderJitterMs: 20_000,
        dropRate: 0.1,
      })
    const before3 = s.fake.webhooks.records().length
    for (let i = 0; i < 30; i++) {
      s.change(a.shop, 2)
      s.change(b.shop, 2)
      await sleep(20)
    }
    for (const tn of s.tenants) s.fake.setWebhookKnobs(tn.shop, {})
    s.fault('webhook-knobs', 'heal')
    await s.flushWebhooks()
    const knobbed = s.fake.webhooks.records().slice(before3)
    const copies = knobbed.reduce((n, r) => n + r.attempts.length, 0)
    t.ok(
      copies > knobbed.length,
      `duplicates sent (${copies} posts for ${knobbed.length} webhooks)`,
    )
    t.ok(
      knobbed.some((r) => r.state === 'dropped'),
      'some webhooks were dropped',
    )
    await waitFor('inbox drained', async () => (await s.inboxPending()) === 0, 120_000)

    await s.finish(t)
  },
)
