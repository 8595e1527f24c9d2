// Many active tenants on one Postgres and one Redis: what their sync schedules cost.
//
//   pnpm exec node bench/many-tenants.bench.ts [--tenants 10000] [--every-s 60] [--fires 2]
//
// N tenants are created active with credentials (Postgres), then what a worker does at start:
// the schedulable tenants are read and each one's two schedules (incremental, daily
// reconciliation) are upserted as BullMQ job schedulers, on a private redis-server started here
// (so the memory measured is Xeno's alone). Reported: Redis used_memory per tenant, and the
// registration's time. Then the schedules fire: the incremental period is compressed to
// `--every-s` (production's is SYNC_INTERVAL_MINUTES = 15 min) and a worker (createWorker with
// the real sync-tenant handler, which fans out one deduplicated sync-resource job per resource;
// sync-resource jobs do nothing here, Shopify is not what is measured) runs `--fires` periods.
// Reported: schedules fired per tenant in those periods, how late they ran, and the CPU (this
// process's worker plus Redis's) per tenant per fire, extrapolated to a core's share at 15
// minutes. Prints JSON.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { createSyncScheduler } from '../packages/core/src/index.ts'
import { createSyncRepository } from '../packages/core/src/sync/sync.repository.ts'
import { createTestDatabase } from '../packages/db/src/testing.ts'
import { createLogger } from '../packages/logger/src/index.ts'
import { createProducer, createRedis, queuePrefix } from '../packages/queues/src/index.ts'
import { createWorker } from '../apps/worker/src/worker.ts'
import { syncTenantJob } from '../apps/worker/src/jobs/sync-tenant.job.ts'

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '10000' },
    'every-s': { type: 'string', default: '60' },
    fires: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '8' },
  },
})
const N = Number(values.tenants)
const EVERY_MS = Number(values['every-s']) * 1000
const FIRES = Number(values.fires)
const CONCURRENCY = Number(values.concurrency)
const PRODUCTION_EVERY_MS = 15 * 60_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const load0 = os.loadavg()

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

// A private Redis as production runs it for queues (noeviction), without persistence.
const port = await freePort()
const redisProc = spawn(
  'redis-server',
  [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'noeviction',
  ],
  { stdio: 'ignore' },
)
const url = `redis://127.0.0.1:${port}`
const info = createRedis(url, 'worker', () => {})
await new Promise((r) => info.once('ready', r))
const memory = async () => Number(/used_memory:(\d+)/.exec(await info.info('memory'))![1])
const redisCpuMs = async () => {
  const s = await info.info('cpu')
  const user = Number(/used_cpu_user:([\d.]+)/.exec(s)![1])
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(s)![1])
  return (user + sys) * 1000
}

const tdb = await createTestDatabase()
const cleanup = async () => {
  info.disconnect()
  redisProc.kill('SIGKILL')
  await tdb.close()
}
try {
  // N active tenants with credentials (the schedulable ones).
  const t0 = performance.now()
  await tdb.ownerQuery(
    `INSERT INTO tenants (shop_domain, status)
     SELECT 'bench-' || g || '.myshopify.com', 'active' FROM generate_series(1, $1) g`,
    [N],
  )
  await tdb.ownerQuery(
    `INSERT INTO shopify_credentials (tenant_id, access_token_enc, source)
     SELECT id, 'not-a-real-token', 'manual' FROM tenants`,
  )
  const seedMs = performance.now() - t0

  const logger = createLogger({ level: 'silent' })
  const producerRedis = createRedis(url, 'producer', () => {})
  await new Promise((r) => producerRedis.once('ready', r))
  const producer = createProducer({ connection: producerRedis, prefix: queuePrefix('xeno') })
  const scheduler = createSyncScheduler({ producer, intervalMinutes: EVERY_MS / 60_000 })

  // What a worker does at start: read the schedulable tenants, upsert their schedules.
  const memBefore = await memory()
  const r0 = performance.now()
  const ids = await createSyncRepository(tdb.systemDb).schedulableTenants()
  const readMs = performance.now() - r0
  const u0 = performance.now()
  const cpuRegister0 = process.cpuUsage()
  const redisRegister0 = await redisCpuMs()
  for (let i = 0; i < ids.length; i += 50)
    await Promise.all(ids.slice(i, i + 50).map((id) => scheduler.ensure(id)))
  const registerMs = performance.now() - u0
  const cpuRegister = process.cpuUsage(cpuRegister0)
  const redisRegisterMs = (await redisCpuMs()) - redisRegister0
  const memAfter = await memory()
  const schedulers = await producer.queue('sync').getJobSchedulersCount()

  // The schedules fire: a worker with the real sync-tenant handler for FIRES periods.
  const fired = new Map<string, number>()
  const lateMs: number[] = []
  const worker = createWorker({
    logger,
    connect: () => createRedis(url, 'worker', () => {}),
    prefix: queuePrefix('xeno'),
    queues: ['sync'],
    concurrency: CONCURRENCY,
    handlers: {
      'sync-tenant': async (payload, ctx) => {
        if (payload.mode === 'incremental') {
          fired.set(payload.tenantId, (fired.get(payload.tenantId) ?? 0) + 1)
          const due = ctx.job.timestamp + (ctx.job.opts.delay ?? 0)
          lateMs.push(Math.max(0, (ctx.job.processedOn ?? Date.now()) - due))
        }
        return syncTenantJob({ scheduler })(payload, ctx)
      },
      'sync-resource': async () => undefined,
    },
  })
  // Measured from registration on: each schedule's runs due in FIRES periods (spread over the
  // period by each tenant's offset).
  const memBeforeFire = await memory()
  worker.start()
  const cpu0 = process.cpuUsage()
  const redis0 = await redisCpuMs()
  const w0 = performance.now()
  // FIRES periods and a grace for fires due at the end that run late (less than a period, so no
  // tenant's next fire falls inside).
  await sleep(EVERY_MS * FIRES + Math.min(EVERY_MS / 2, 10_000))
  const windowMs = performance.now() - w0
  const cpu = process.cpuUsage(cpu0)
  const redisMs = (await redisCpuMs()) - redis0
  const memFiring = await memory()
  await worker.stop()
  await producer.close()
  producerRedis.disconnect()

  const counts = ids.map((id) => fired.get(id) ?? 0)
  lateMs.sort((a, b) => a - b)
  const q = (p: number) => lateMs[Math.min(lateMs.length - 1, Math.floor(p * lateMs.length))] ?? 0
  const workerCpuMs = (cpu.user + cpu.system) / 1000
  const perTenantPerFireMs =
    (workerCpuMs + redisMs) /
    Math.max(
      1,
      counts.reduce((a, b) => a + b, 0),
    )
  const out = {
    tenants: N,
    schedulable: ids.length,
    job_schedulers: schedulers,
    seed_ms: Math.round(seedMs),
    read_schedulable_ms: Math.round(readMs),
    register: {
      ms: Math.round(registerMs),
      per_tenant_ms: Math.round((registerMs / ids.length) * 1000) / 1000,
      node_cpu_ms: Math.round((cpuRegister.user + cpuRegister.system) / 1000),
      redis_cpu_ms: Math.round(redisRegisterMs),
    },
    redis_memory: {
      before_bytes: memBefore,
      after_register_bytes: memAfter,
      per_tenant_bytes: Math.round((memAfter - memBefore) / ids.length),
      while_firing_bytes: memFiring,
      while_firing_per_tenant_bytes: Math.round((memFiring - memBefore) / ids.length),
      before_firing_bytes: memBeforeFire,
    },
    firing: {
      every_s: EVERY_MS / 1000,
      periods: FIRES,
      window_s: Math.round(windowMs / 100) / 10,
      fires_per_tenant_min: Math.min(...counts),
      fires_per_tenant_max: Math.max(...counts),
      tenants_fired: counts.filter((c) => c > 0).length,
      late_ms_p50: q(0.5),
      late_ms_p99: q(0.99),
      late_ms_max: lateMs.at(-1) ?? 0,
      worker_cpu_ms: Math.round(workerCpuMs),
      redis_cpu_ms: Math.round(redisMs),
      cpu_ms_per_tenant_per_fire: Math.round(perTenantPerFireMs * 1000) / 1000,
      // At production's 15-minute period: the share of one core the schedules take.
      core_share_at_15_min:
        Math.round(((perTenantPerFireMs * N) / PRODUCTION_EVERY_MS) * 1e4) / 1e4,
    },
    load_before: load0.map((l) => Math.round(l * 100) / 100),
    load_after: os.loadavg().map((l) => Math.round(l * 100) / 100),
    cpus: os.cpus().length,
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
} finally {
  await cleanup()
}
