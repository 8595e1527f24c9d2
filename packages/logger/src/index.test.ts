import t from 'tap'
import { connect } from 'node:net'
import { Writable } from 'node:stream'
import { createLogger } from './index.ts'

t.test('redacts secrets wherever they appear', async (t) => {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString())
      cb()
    },
  })
  const log = createLogger({ level: 'info', destination })
  log.info(
    {
      accessToken: 'shpat_canary1',
      creds: { refresh_token: 'shprt_canary2', password: 'canary3' },
      req: { headers: { authorization: 'Basic canary4', cookie: 'sid=canary5' } },
      code: 'canary6',
      safe: 'visible',
    },
    'hello',
  )
  const out = lines.join('')
  for (const c of ['canary1', 'canary2', 'canary3', 'canary4', 'canary5', 'canary6'])
    t.notMatch(out, c)
  t.match(out, 'visible')
})

t.test('request URLs are logged with secret query values redacted', async (t) => {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString())
      cb()
    },
  })
  const log = createLogger({ level: 'info', destination })
  log.info(
    {
      req: {
        method: 'GET',
        url: '/api/shopify/callback?code=canary7&shop=a.myshopify.com&HMAC=canary8&state=canary9&timestamp=1',
      },
    },
    'incoming request',
  )
  const out = lines.join('')
  for (const c of ['canary7', 'canary8', 'canary9']) t.notMatch(out, c)
  t.match(out, 'shop=a.myshopify.com')
  t.match(out, 'timestamp=1')
  t.match(out, 'code=[redacted]')
})

t.test("OAuth codes are redacted by path; errors' codes stay readable", async (t) => {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString())
      cb()
    },
  })
  const log = createLogger({ level: 'info', destination })
  // A real connection error: nothing listens on port 1.
  const err = await new Promise<Error>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 1 })
    socket.once('error', resolve)
  })
  log.warn({ err }, 'postgres pool error')
  log.warn({ err: Object.assign(new Error('duplicate key'), { code: '23505' }) }, 'unique')
  log.info({ query: { code: 'canary-oauth-code-1', shop: 'a.myshopify.com' } }, 'callback')
  log.info({ request: { query: { code: 'canary-oauth-code-2' } } }, 'callback nested')
  log.info({ oauth: { code: 'canary-oauth-code-3' } }, 'exchange')
  log.info({ authorizationCode: 'canary-oauth-code-4' }, 'exchange')
  const out = lines.join('')
  const [refused, unique] = lines.map((l) => JSON.parse(l) as { err: { code: string } })
  t.equal(refused?.err.code, 'ECONNREFUSED', 'the connection error code is readable')
  t.match(out, /ECONNREFUSED/)
  t.equal(unique?.err.code, '23505', 'a SQLSTATE is readable')
  for (const canary of [
    'canary-oauth-code-1',
    'canary-oauth-code-2',
    'canary-oauth-code-3',
    'canary-oauth-code-4',
  ])
    t.notMatch(out, canary, `${canary} redacted`)
  t.match(out, 'a.myshopify.com', 'the rest of the query stays')
})
