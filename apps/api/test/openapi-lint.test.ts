// The OpenAPI document of the full app (every feature wired) lints clean under Redocly's
// recommended rules (`redocly lint`, from npm): no error, and no warning that the lint config
// (redocly.yaml) does not name with its reason. It also names every operation (operationId).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { fullApp } from './support/full-app.ts'

const root = path.join(import.meta.dirname, '..', '..', '..')

t.test('redocly lint: 0 errors, 0 warnings on /docs/json', async (t) => {
  const h = await fullApp(t)
  const res = await h.app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json<{ paths: Record<string, Record<string, { operationId?: string }>> }>()
  const ids = Object.values(doc.paths).flatMap((item) =>
    Object.values(item).map((op) => op.operationId),
  )
  t.ok(ids.length >= 35, `${ids.length} operations`)
  t.notOk(
    ids.some((id) => !id),
    'every operation has an operationId',
  )
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique')

  const file = path.join(mkdtempSync(path.join(tmpdir(), 'xeno-openapi-')), 'openapi.json')
  writeFileSync(file, res.body)
  const run = spawnSync(
    path.join(root, 'node_modules/.bin/redocly'),
    ['lint', file, '--config', path.join(root, 'redocly.yaml'), '--format', 'json'],
    {
      encoding: 'utf8',
      cwd: root,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    },
  )
  const report = JSON.parse(run.stdout) as {
    totals: { errors: number; warnings: number; ignored: number }
    problems: {
      ruleId: string
      severity: string
      message: string
      location: { pointer: string }[]
    }[]
  }
  const lines = report.problems.map(
    (p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`,
  )
  t.equal(report.totals.errors, 0, `no error:\n${lines.join('\n')}`)
  t.equal(report.totals.warnings, 0, `no warning:\n${lines.join('\n')}`)
  t.equal(run.status, 0, run.stderr)
})
