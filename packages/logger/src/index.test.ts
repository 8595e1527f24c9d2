import t from 'tap'
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
