// Worker process faults: SIGKILL in the middle of a bulk backfill and of a paged incremental run,
// SIGTERM with jobs in flight (graceful, nothing left stalled), SIGSTOP beyond the job lock then
// SIGCONT (another worker takes the stalled jobs; the late one must not double-apply).
import t from 'tap'
import { sleep, waitFor } from './support/cluster.ts'
import { createStack } from './support/stack.ts'

t.test(
  'worker SIGKILL mid-bulk and mid-batch, SIGTERM in flight, SIGSTOP past the lock',
  async (t) => {
    const s = await createStack(t, { name: 'worker', workers: 2, bulkMinDurationMs: 6_000 })
    const [a, b] = s.tenants as [(typeof s.tenants)[0], (typeof s.tenants)[0]]
    const [w1, w2] = s.workers as [(typeof s.workers)[0], (typeof s.workers)[0]]
    const lastRunPages = async (tenantId: string) => {
      const r = await s.pg.query<{ pages: number }>(
        `SELECT pages FROM sync_runs WHERE tenant_id = $1 AND resource = 'orders' AND mode = 'incremental'
        ORDER BY started_at DESC LIMIT 1`,
        [tenantId],
      )
      return r[0]?.pages ?? 0
    }

    // 1. SIGKILL every worker while tenant A's orders bulk runs and tenant B's paged incremental
    // (10 orders a page, slowed by latency) is halfway.
    s.touchOrders(b.shop, 120)
    await sleep(2_500) // past the incremental's settling lag
    s.fake.setFaults(b.shop, [{ kind: 'latency', latencyMs: 150, rate: 1 }])
    // B first: the 120 orders/updated webhooks the touch sent are read back from B's Admin API
    // through the same throttle budget, so B's first pages wait for that budget to refill; A's
    // bulk is started once B is paging, so the kill finds both in flight.
    const tB = await s.ingest(b, { resources: ['orders'] })
    await waitFor('B paging', async () => (await lastRunPages(b.id)) >= 2, 120_000, 50)
    const tA = await s.ingest(a, { mode: 'full', resources: ['orders'] })
    await waitFor(
      'A bulk running and B mid-batch',
      async () => {
        const [cp] = await s.pg.query<{ op: string | null }>(
          `SELECT bulk_operation_id AS op FROM sync_checkpoints WHERE tenant_id = $1 AND resource = 'orders'`,
          [a.id],
        )
        return !!cp?.op && (await lastRunPages(b.id)) >= 3
      },
      120_000,
      50,
    )
    s.fault('worker-sigkill', 'inject', { pagesOfB: await lastRunPages(b.id) })
    await Promise.all([w1.kill(), w2.kill()])
    s.fake.setFaults(b.shop, [])
    await Promise.all([w1.start(), w2.start()])
    s.fault('worker-sigkill', 'heal')
    await s.waitSynced(a, tA, ['orders'])
    await s.waitSynced(b, tB, ['orders'])
    t.pass('both runs finished after the restart')
    await s.waitQueuesIdle()

    // 2. SIGTERM with jobs in flight: webhooks and slowed syncs running on both workers.
    s.fake.setFaults(a.shop, [{ kind: 'latency', latencyMs: 100, rate: 1 }])
    s.change(a.shop, 60)
    s.change(b.shop, 60)
    await sleep(2_500)
    await s.ingest(a, { resources: ['orders', 'customers'] })
    await waitFor(
      'jobs active',
      async () => (await s.sampleQueues(false)).sync!.active > 0,
      60_000,
      50,
    )
    s.fault('worker-sigterm', 'inject')
    const codes = await Promise.all([w1.terminate(), w2.terminate()])
    t.same(codes, [0, 0], 'both workers exited cleanly within their grace period')
    // With every worker gone, an active job would be an orphan left for the stalled check:
    // graceful shutdown finishes its jobs (or hands them back) first.
    const after = await s.sampleQueues()
    t.same(
      [after.sync!.active, after.webhooks!.active],
      [0, 0],
      'no job left active (stalled) after the graceful stop',
    )
    s.fault('worker-sigterm', 'heal')
    await w1.start()
    s.fake.setFaults(a.shop, [])
    await s.waitQueuesIdle()

    // 3. SIGSTOP worker-1 (the only one) in the middle of slow syncs, for longer than its lock;
    // worker-2 starts and must take over the stalled jobs; then SIGCONT.
    s.fake.setFaults(a.shop, [{ kind: 'latency', latencyMs: 200, rate: 1 }])
    s.fake.setFaults(b.shop, [{ kind: 'latency', latencyMs: 200, rate: 1 }])
    s.change(a.shop, 40)
    s.change(b.shop, 40)
    await sleep(2_500)
    const tA3 = await s.ingest(a, { resources: ['orders'] })
    const tB3 = await s.ingest(b, { resources: ['orders'] })
    await waitFor(
      'syncs active',
      async () => (await s.sampleQueues(false)).sync!.active > 0,
      60_000,
      50,
    )
    s.fault('worker-sigstop', 'inject')
    w1.signal('SIGSTOP')
    await w2.start()
    await sleep(35_000) // beyond the 30 s lock
    s.fake.setFaults(a.shop, [])
    s.fake.setFaults(b.shop, [])
    w1.signal('SIGCONT')
    s.fault('worker-sigstop', 'heal')
    await s.waitSynced(a, tA3, ['orders'])
    await s.waitSynced(b, tB3, ['orders'])
    t.ok(w1.alive() && w2.alive(), 'both workers alive after SIGCONT')

    await s.finish(t)
  },
)
