import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { ADMIN_SCHEMA_PATH, WEBHOOK_SAMPLES_DIR } from '../src/index.ts'

t.test('the schema is the published file, unmodified', async (t) => {
  const digest = createHash('sha256').update(readFileSync(ADMIN_SCHEMA_PATH)).digest('hex')
  t.equal(digest, '4480810a750b54e516b2ab5312d0a3609526a07538e5688c1d179c05734097d0')
})

t.test('every sample parses and every sample has a signed example delivery', async (t) => {
  const files = readdirSync(WEBHOOK_SAMPLES_DIR).filter((f) => !f.startsWith('_'))
  t.equal(files.length, 16, 'one sample per topic')
  const vectors = JSON.parse(readFileSync(`${WEBHOOK_SAMPLES_DIR}_headers.json`, 'utf8')) as {
    deliveries: { file: string; headers: Record<string, string> }[]
  }
  for (const f of files) {
    t.doesNotThrow(() => JSON.parse(readFileSync(`${WEBHOOK_SAMPLES_DIR}${f}`, 'utf8')), f)
    const h = vectors.deliveries.find((d) => d.file === f)?.headers
    t.ok(h, `${f} has an example delivery`)
    t.match(h?.['X-Shopify-Hmac-Sha256'], /^[A-Za-z0-9+/]{43}=$/, `${f} carries a signature`)
  }
})
