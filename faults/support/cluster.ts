// Private infrastructure for one fault test file: a Postgres cluster (initdb in a temp dir, its
// own port, trust auth) and a redis-server, so a test may kill them without touching the shared
// services other tests use. Everything started here is stopped on teardown and, as a last resort,
// when the test process exits.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

/** FAULT_PG_BIN, else the newest /usr/lib/postgresql/N/bin (Debian's layout). */
function pgBin(): string {
  if (process.env.FAULT_PG_BIN) return process.env.FAULT_PG_BIN
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((x, y) => Number(y) - Number(x))
    : []
  return path.join(root, versions[0] ?? '15', 'bin')
}
const MIGRATOR = fileURLToPath(new URL('../../packages/db/src/cli/main.ts', import.meta.url))
export const RUNTIME_ROLE = 'xeno_app'
/** The worker's cross-tenant role (DATABASE_SYSTEM_URL), created by the migrator. */
export const SYSTEM_ROLE = 'xeno_system'
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// Last-resort cleanup: synchronous, so it also runs from process 'exit'.
const exitHooks = new Set<() => void>()
let hooked = false
function onExit(fn: () => void): () => void {
  exitHooks.add(fn)
  if (!hooked) {
    hooked = true
    process.on('exit', () => {
      for (const f of exitHooks) {
        try {
          f()
        } catch {
          /* best effort */
        }
      }
    })
  }
  return () => exitHooks.delete(fn)
}
/** Registers a synchronous last-resort cleanup (runs at process exit). */
export const registerExitCleanup = onExit

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() =>
        typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port')),
      )
    })
  })
}

/** True once something accepts TCP connections on the port. */
export async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1')
    sock.setTimeout(1000)
    sock.once('connect', () => {
      sock.destroy()
      resolve(true)
    })
    sock.once('timeout', () => {
      sock.destroy()
      resolve(false)
    })
    sock.once('error', () => resolve(false))
  })
}

/** Polls `check` until it returns a truthy value; throws `what` after timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      )
    await sleep(everyMs)
  }
}

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { ...opts, timeout: 120_000 }, (err, stdout, stderr) =>
      err
        ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`))
        : resolve(stdout),
    )
  })
}

const asRoot = process.getuid?.() === 0
/** Runs a Postgres binary as the postgres user when we are root (initdb refuses root). */
const pgCmd = (bin: string, args: string[]): [string, string[]] =>
  asRoot
    ? ['runuser', ['-u', 'postgres', '--', path.join(pgBin(), bin), ...args]]
    : [path.join(pgBin(), bin), args]

export type PrivatePostgres = {
  port: number
  /** Superuser (owner) URL of the xeno database. */
  ownerUrl: string
  /** The runtime role's URL (non-owner, RLS applies), what the API and workers use. */
  appUrl: string
  /** The worker's system role's URL (cross-tenant work: schedulers, sweepers). */
  systemUrl: string
  /** TENANT_CONTEXT_KEY of this database (hex). */
  tenantContextKey: string
  /** `pg_ctl stop -m immediate`: a crash, no checkpoint; the next start runs recovery. */
  crash(): Promise<void>
  start(): Promise<void>
  /** Runs one query as the owner. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<R[]>
  stop(): Promise<void>
}

/** initdb + start on a free port + the project's migrator (owner, then the runtime role). */
export async function startPostgres(): Promise<PrivatePostgres> {
  if (!existsSync(path.join(pgBin(), 'initdb')))
    throw new Error(`initdb not found in ${pgBin()} (set FAULT_PG_BIN)`)
  const dir = mkdtempSync(path.join(tmpdir(), 'xeno-fault-pg-'))
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
    chownSync(dir, uid, gid)
  }
  const data = path.join(dir, 'data')
  const port = await freePort()
  const [c1, a1] = pgCmd('initdb', [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--no-sync',
  ])
  await run(c1, a1)
  const ctl = (args: string[]) => {
    const [c, a] = pgCmd('pg_ctl', ['-D', data, ...args])
    return run(c, a)
  }
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    `-c listen_addresses=127.0.0.1`,
    // fsync off is safe against a process crash (the kernel keeps the writes); asynchronous commit
    // is not: `stop -m immediate` would lose acknowledged commits still in WAL buffers.
    '-c fsync=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
    '-c shared_buffers=64MB',
  ].join(' ')
  const start = async () => {
    await ctl(['-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '120', 'start'])
  }
  const stopNow = () => {
    try {
      const [c, a] = pgCmd('pg_ctl', ['-D', data, '-m', 'immediate', 'stop'])
      execFileSync(c, a, { stdio: 'ignore' })
    } catch {
      /* not running */
    }
  }
  const unhook = onExit(() => {
    stopNow()
    rmSync(dir, { recursive: true, force: true })
  })
  await start()
  const base = `postgres://postgres@127.0.0.1:${port}`
  const ownerUrl = `${base}/xeno`
  const appUrl = `postgres://${RUNTIME_ROLE}:${RUNTIME_ROLE}@127.0.0.1:${port}/xeno`
  const systemUrl = `postgres://${SYSTEM_ROLE}:${SYSTEM_ROLE}@127.0.0.1:${port}/xeno`
  // The key that signs each transaction's tenant context: the migrator stores it where only the
  // definer role reads it, the API and workers sign with it.
  const tenantContextKey = randomBytes(32).toString('hex')
  // The project's migrator, as `pnpm db:migrate` runs it: creates the database, the schema and
  // the non-owner runtime role from DATABASE_URL.
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [MIGRATOR, 'migrate'], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: appUrl,
        DATABASE_OWNER_URL: ownerUrl,
        DATABASE_SYSTEM_URL: systemUrl,
        TENANT_CONTEXT_KEY: tenantContextKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`migrate: ${out}`))))
  })
  const query = async <R extends pg.QueryResultRow>(text: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: ownerUrl })
    client.on('error', () => {})
    await client.connect()
    try {
      return (await client.query<R>(text, params)).rows
    } finally {
      await client.end().catch(() => {})
    }
  }
  return {
    port,
    ownerUrl,
    appUrl,
    systemUrl,
    tenantContextKey,
    async crash() {
      await ctl(['-m', 'immediate', 'stop'])
    },
    start,
    query,
    async stop() {
      stopNow()
      unhook()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export type PrivateRedis = {
  port: number
  url: string
  /** SIGKILL: everything in memory is gone (no persistence). */
  kill(): Promise<void>
  start(): Promise<void>
  /** Connected clients (redis-cli's own excluded). */
  clientCount(): Promise<number>
  stop(): Promise<void>
}

/** A redis-server on a free port, without persistence. */
export async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const unhook = onExit(() => child?.kill('SIGKILL'))
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    )
    await waitFor('redis-server', () => portOpen(port), 20_000, 100)
  }
  const kill = async () => {
    const c = child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill('SIGKILL')
    await exited
  }
  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    start,
    async clientCount() {
      const out = await run('redis-cli', ['-p', String(port), 'CLIENT', 'LIST'])
      // Minus redis-cli's own connection.
      return out.split('\n').filter((l) => l.startsWith('id=')).length - 1
    },
    async stop() {
      await kill()
      unhook()
    },
  }
}
