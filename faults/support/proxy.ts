// Our own network faults, without root: a TCP proxy between a process and what it talks to
// (Postgres, Redis, the fake Shopify, the API) that can add latency or become a black hole, and
// an HTTP recorder in front of the fake Shopify that counts requests (token endpoint included).
import http from 'node:http'
import { createServer, connect, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

export type ProxyMode =
  | { kind: 'pass' }
  /** Every chunk, both ways, is delayed this long (order kept). */
  | { kind: 'latency'; ms: number }
  /** Connections are accepted and nothing is forwarded (new or open) until the mode changes. */
  | { kind: 'blackhole' }

export type TcpProxy = {
  port: number
  /** Host:port of the proxy, for URLs. */
  address: string
  setMode(mode: ProxyMode): void
  /** Upstream ports tried round-robin; a connect error tries the next (rolling restarts). */
  setUpstreams(ports: number[]): void
  /** Destroys every open connection (both sides). */
  resetAll(): void
  openConnections(): number
  close(): Promise<void>
}

/** Starts a TCP proxy on a free loopback port towards 127.0.0.1:upstream ports. */
export async function startTcpProxy(upstreams: number[]): Promise<TcpProxy> {
  let mode: ProxyMode = { kind: 'pass' }
  let ports = [...upstreams]
  let next = 0
  const sockets = new Set<Socket>()
  // While black-holed, bytes are held (as TCP retransmits would), not dropped: healing resumes
  // the streams intact, or resetAll() cuts them.
  let gate: { promise: Promise<void>; open: () => void } | undefined
  const closed = () => {
    let open!: () => void
    const promise = new Promise<void>((r) => (open = r))
    return { promise, open }
  }
  const track = (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
  }
  const pass = async () => {
    while (gate) await gate.promise
    if (mode.kind === 'latency') {
      const ms = mode.ms
      await new Promise((r) => setTimeout(r, ms))
    }
  }

  const pipeWithMode = (from: Socket, to: Socket) => {
    let queue = Promise.resolve()
    from.on('data', (chunk: Buffer) => {
      from.pause()
      queue = queue.then(pass).then(() => {
        if (!to.destroyed) to.write(chunk)
        from.resume()
      })
    })
    from.on('end', () => void queue.then(() => to.end()))
    from.on('close', (hadError) => void queue.then(() => (hadError ? to.destroy() : to.end())))
  }

  const server: Server = createServer((client) => {
    track(client)
    client.pause()
    const tryConnect = (left: number) => {
      if (client.destroyed) return
      if (ports.length === 0 || left === 0) return void client.destroy()
      const port = ports[next++ % ports.length]!
      const upstream = connect(port, '127.0.0.1')
      track(upstream)
      let connected = false
      upstream.once('connect', () => {
        connected = true
        pipeWithMode(client, upstream)
        pipeWithMode(upstream, client)
        client.resume()
      })
      upstream.once('error', () => {
        if (!connected) tryConnect(left - 1)
        else client.destroy()
      })
    }
    void pass().then(() => tryConnect(ports.length))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    address: `127.0.0.1:${port}`,
    setMode: (m) => {
      mode = m
      if (m.kind === 'blackhole') gate ??= closed()
      else if (gate) {
        const g = gate
        gate = undefined
        g.open()
      }
    },
    setUpstreams: (p) => {
      ports = [...p]
    },
    resetAll() {
      for (const s of sockets) s.destroy()
    },
    openConnections: () => sockets.size,
    async close() {
      gate?.open()
      gate = undefined
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export type RecordedRequest = {
  at: number
  method: string
  path: string
  shop: string | undefined
  status: number | null
  /** For POST /admin/oauth/access_token: the grant type. */
  grant?: string
}

export type HttpRecorder = {
  origin: string
  requests: () => readonly RecordedRequest[]
  /** Counts of token endpoint calls by grant type (and shop). */
  tokenGrants: (grant: string, shop?: string) => number
  close(): Promise<void>
}

/** An HTTP front that forwards everything to `target` and records each request and status. */
export async function startHttpRecorder(target: string): Promise<HttpRecorder> {
  const up = new URL(target)
  const log: RecordedRequest[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const rec: RecordedRequest = {
        at: Date.now(),
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0]!,
        shop: (req.headers['x-fake-shop'] as string | undefined) ?? req.headers.host,
        status: null,
      }
      if (rec.path === '/admin/oauth/access_token') {
        const text = body.toString()
        let grant: unknown
        try {
          grant = (JSON.parse(text) as { grant_type?: unknown }).grant_type
        } catch {
          grant = new URLSearchParams(text).get('grant_type')
        }
        rec.grant = typeof grant === 'string' && grant ? grant : 'authorization_code'
      }
      log.push(rec)
      const fwd = http.request(
        {
          host: up.hostname,
          port: up.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, 'content-length': String(body.length) },
        },
        (ur) => {
          rec.status = ur.statusCode ?? null
          res.writeHead(ur.statusCode ?? 502, ur.headers)
          ur.pipe(res)
          ur.on('error', () => res.destroy())
        },
      )
      fwd.on('error', () => res.destroy())
      fwd.end(body)
    })
  })
  server.keepAliveTimeout = 5000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    origin: `http://127.0.0.1:${port}`,
    requests: () => log,
    tokenGrants: (grant, shop) =>
      log.filter((r) => r.grant === grant && (shop === undefined || r.shop === shop)).length,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
