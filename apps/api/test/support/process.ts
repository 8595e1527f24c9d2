import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() =>
        typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port')),
      )
    })
  })
}

export type Spawned = {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

/** Starts a process entry (a main.ts) with Node 24, as production does, capturing its output. */
export function startProcess(
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
): Spawned {
  const child = spawn(process.execPath, [entry, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => out, exited }
}

/** Polls url until it answers with one of the statuses, or throws after timeoutMs. */
export async function waitForHttp(
  url: string,
  statuses: number[],
  timeoutMs = 20_000,
): Promise<Response> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url)
      if (statuses.includes(res.status)) return res
      last = res.status
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${url}: ${String(last)}`)
}
