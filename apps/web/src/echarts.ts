// Apache ECharts, tree-shaken: only the chart types and components the dashboard draws, on the
// canvas renderer (pixels, no inline styles or SVG attributes to worry a strict CSP). Screen
// readers get each chart's label and the same figures as a table instead of ECharts' aria text.
import * as echarts from 'echarts/core'
import { BarChart, FunnelChart, LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([
  BarChart,
  LineChart,
  FunnelChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  CanvasRenderer,
])

export { echarts }
export type { EChartsCoreOption } from 'echarts/core'
