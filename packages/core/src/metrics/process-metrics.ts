import { collectDefaultMetrics, type Registry } from 'prom-client'

/**
 * prom-client's gauges that end in `_total`, which Prometheus reserves for counters (`promtool
 * check metrics` rejects them). Their per-type siblings (`nodejs_active_handles{type}`, …)
 * stay, and sum to the same totals.
 */
const NON_COUNTER_TOTALS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

/**
 * prom-client's default process and Node.js metrics under their standard names (no prefix, so
 * stock Node.js dashboards work), less the gauges Prometheus' naming rules reject. Tell the API
 * and the workers apart by the scrape job, not the name.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry })
  for (const name of NON_COUNTER_TOTALS) registry.removeSingleMetric(name)
}
