// The shipped operations files hold up under Prometheus' own tools: the alert rules pass
// `promtool check rules` and their unit tests (`promtool test rules`), every query of the
// Grafana dashboard parses as PromQL (checked as recording rules), and every xeno_* series the
// rules and the dashboard read is one the API or a worker exports.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { promtool } from '@xeno/core/testing'

const root = path.join(import.meta.dirname, '..', '..', '..')
const rules = path.join(root, 'ops/prometheus/xeno-alerts.yml')
const dashboard = JSON.parse(readFileSync(path.join(root, 'ops/grafana/xeno.json'), 'utf8')) as {
  uid: string
  panels: { title: string; targets: { expr: string }[] }[]
}
const exprs = dashboard.panels.flatMap((p) => p.targets.map((q) => ({ title: p.title, ...q })))

t.test('promtool check rules and the rules unit tests', async (t) => {
  const check = promtool(['check', 'rules', rules])
  if (!check) return t.comment('promtool not installed: not run')
  t.equal(check.status, 0, check.output)
  t.match(check.output, /SUCCESS: \d+ rules found/)
  const unit = promtool(['test', 'rules', path.join(root, 'ops/prometheus/xeno-alerts.test.yml')])
  t.equal(unit?.status, 0, unit?.output ?? '')
})

t.test('every dashboard query parses as PromQL', async (t) => {
  t.ok(exprs.length >= 15, `${exprs.length} queries`)
  // Grafana's $__rate_interval is not PromQL: stand a range in for it.
  const groups = [
    {
      name: 'dashboard',
      rules: exprs.map((q, i) => ({
        record: `dashboard:query_${i}`,
        expr: q.expr.replaceAll('$__rate_interval', '5m'),
      })),
    },
  ]
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'xeno-dash-')), 'dashboard.rules.json')
  // promtool reads YAML; JSON is YAML.
  writeFileSync(file, JSON.stringify({ groups }))
  const check = promtool(['check', 'rules', file])
  if (!check) return t.comment('promtool not installed: not run')
  t.equal(check.status, 0, check.output)
})

t.test('the rules and the dashboard read only series Xeno exports', async (t) => {
  const sources = [
    'apps/api/src/plugins/metrics.ts',
    'apps/worker/src/metrics.ts',
    'apps/worker/src/fleet-metrics.ts',
  ]
    .map((f) => readFileSync(path.join(root, f), 'utf8'))
    .join('\n')
  const exported = new Set(
    [...sources.matchAll(/(?:name: |const lagName = )'(xeno_[a-z_]+)'/g)].map((m) => m[1]!),
  )
  t.ok(exported.has('xeno_queue_jobs') && exported.has('xeno_sync_lag_seconds'))
  const read = `${readFileSync(rules, 'utf8')}\n${exprs.map((q) => q.expr).join('\n')}`
  const used = new Set([...read.matchAll(/\bxeno_[a-z_]+/g)].map((m) => m[0]))
  for (const name of used) {
    const base = name.replace(/_(bucket|sum|count)$/, '')
    t.ok(exported.has(name) || exported.has(base), `${name} is exported`)
  }
})
