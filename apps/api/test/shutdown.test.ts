// Graceful close with keep-alive clients: a request in flight when close() starts must not keep
// its connection (and close()) open until the keep-alive timeout once it is answered. Found by the
// fault suite: under load an API stopped with SIGTERM overran its grace period and exited 1.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildTestApp } from './support/app.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test(
  'close() finishes soon after the last in-flight keep-alive request is answered',
  async (t) => {
    const h = await buildTestApp(t)
    await h.app.listen({ port: 0, host: '127.0.0.1' })
    const port = (h.app.server.address() as AddressInfo).port
    const agent = new http.Agent({ keepAlive: true })
    t.teardown(() => agent.destroy())
    const body = JSON.stringify({ username: 'nobody', password: 'not-the-password-0' })
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/admin/login',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    })
    const answered = new Promise<{ status: number; connection: string | undefined }>((resolve) =>
      req.on('response', (res) => {
        res.resume()
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }),
        )
      }),
    )
    // The request is in flight (headers in, body pending) when close() starts.
    req.write(body.slice(0, 5))
    await sleep(200)
    const closed = h.app.close().then(() => 'closed')
    req.end(body.slice(5))
    const res = await answered
    t.equal(res.status, 401, 'the in-flight request is answered')
    const outcome = await Promise.race([closed, sleep(5_000).then(() => 'still open after 5 s')])
    t.equal(outcome, 'closed', 'close() did not wait for the keep-alive timeout')
  },
)
