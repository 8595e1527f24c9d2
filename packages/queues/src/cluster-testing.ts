// A private Redis Cluster for tests: three masters (no replicas) on loopback, in a temporary
// directory, created with redis-cli --cluster create and torn down after. Nodes keep no data on
// disk (no RDB, no AOF), so a killed and restarted master comes back empty, as after a crash
// without persistence; its nodes.conf keeps its identity and slots, so it rejoins the cluster.
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'

const run = promisify(execFile)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000)
    if (taken.has(port)) continue
    if ((await portFree(port)) && (await portFree(port + 10_000))) return port
  }
  throw new Error('no free port pair for a Redis Cluster node')
}

export type TestRedisCluster = {
  /** REDIS_URL for the cluster: `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`. */
  url: string
  ports: number[]
  /** The port of the master serving `key`'s slot. */
  masterOf(key: string): Promise<number>
  /** SIGKILL of one node. */
  kill(port: number): Promise<void>
  /** Starts a killed node again (empty) and waits until the cluster is healthy. */
  restart(port: number): Promise<void>
  /** Used memory of every master, in bytes. */
  usedMemory(): Promise<number>
  close(): Promise<void>
}

export async function startRedisCluster(masters = 3): Promise<TestRedisCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'xeno-redis-cluster-'))
  const taken = new Set<number>()
  const ports: number[] = []
  for (let i = 0; i < masters; i++) {
    const p = await freeClusterPort(taken)
    taken.add(p)
    ports.push(p)
  }
  const procs = new Map<number, ChildProcess>()
  const start = async (port: number) => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '2000',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    )
    procs.set(port, child)
    for (let i = 0; i < 100; i++) {
      if (!(await portFree(port))) return
      await sleep(50)
    }
    throw new Error(`redis-server on ${port} did not start`)
  }
  const cli = (port: number, ...args: string[]) =>
    run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]).then((r) => r.stdout)
  const healthy = async () => {
    for (let i = 0; i < 200; i++) {
      const states = await Promise.all(ports.map((p) => cli(p, 'cluster', 'info').catch(() => '')))
      if (states.every((s) => s.includes('cluster_state:ok'))) return
      await sleep(100)
    }
    throw new Error('the Redis Cluster did not become healthy')
  }
  const close = async () => {
    for (const child of procs.values()) child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await Promise.all(ports.map(start))
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    await healthy()
  } catch (err) {
    await close()
    throw err
  }

  const masterOf = async (key: string) => {
    const live = [...procs].find(([, c]) => c.exitCode === null && c.signalCode === null)
    const redis = new Redis(live![0], '127.0.0.1', { lazyConnect: true })
    try {
      await redis.connect()
      const slot = (await redis.call('CLUSTER', 'KEYSLOT', key)) as number
      const ranges = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][]
      const owner = ranges.find(([from, to]) => slot >= from && slot <= to)
      if (!owner) throw new Error(`no master serves slot ${slot}`)
      return owner[2][1]
    } finally {
      redis.disconnect()
    }
  }
  return {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    ports,
    masterOf,
    async kill(port) {
      const child = procs.get(port)!
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGKILL')
      await exited
    },
    async restart(port) {
      await start(port)
      await healthy()
    },
    async usedMemory() {
      let total = 0
      for (const p of ports) {
        const info = await cli(p, 'info', 'memory')
        total += Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0)
      }
      return total
    },
    close,
  }
}
