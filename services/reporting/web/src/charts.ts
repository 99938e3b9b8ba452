// ECharts, as much of it as the page uses (tree-shaken by esbuild), and a registry of the page's
// chart instances by name. window.parkDashboard lists them: a browser test reads each chart's
// plotted series from ECharts' own state (getOption), not from pixels.

import { BarChart, HeatmapChart, LineChart } from 'echarts/charts';
import {
  AriaComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  BarChart,
  HeatmapChart,
  LineChart,
  AriaComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export type Chart = echarts.ECharts;
export type ChartOption = echarts.EChartsCoreOption;

/** Colours with at least 3:1 contrast on white (WCAG non-text contrast), told apart by hue. */
export const COLORS = {
  grid: '#5b5b5b',
  directLine: '#0b7a3e',
  pv: '#b35900',
  wind: '#1565c0',
  storage: '#7b1fa2',
  plan: '#c62828',
  load: '#263238',
  scope1: '#6d4c41',
  location: '#1565c0',
  market: '#0b7a3e',
  estimated: '#b35900',
  missing: '#c62828',
};

const charts = new Map<string, Chart>();
const observer = new ResizeObserver((entries) => {
  for (const entry of entries) echarts.getInstanceByDom(entry.target as HTMLElement)?.resize();
});

/** The chart of a container, created on first use, under a name the test hook knows. */
export function chart(name: string, container: HTMLElement, option: ChartOption): Chart {
  let instance = charts.get(name);
  if (instance && instance.getDom() !== container) {
    instance.dispose();
    instance = undefined;
  }
  if (!instance) {
    container.dataset.chart = name;
    instance = echarts.init(container, undefined, { renderer: 'canvas' });
    observer.observe(container);
    charts.set(name, instance);
  }
  // Series are replaced as a whole: a refresh may bring more or fewer of them.
  instance.setOption(
    { aria: { enabled: true }, animation: false, textStyle: { color: '#1a1a1a' }, ...option },
    { replaceMerge: ['series', 'xAxis', 'yAxis'] },
  );
  return instance;
}

/** Disposes the charts whose containers left the page (another view was opened). */
export function forgetDetached(): void {
  for (const [name, instance] of charts) {
    if (!instance.getDom().isConnected) {
      observer.unobserve(instance.getDom());
      instance.dispose();
      charts.delete(name);
    }
  }
}

declare global {
  interface Window {
    parkDashboard: {
      /** The names of the charts on the page. */
      charts(): string[];
      /** A chart instance by name (ECharts' own object: getOption(), getDom() ...). */
      chart(name: string): Chart | undefined;
    };
  }
}

window.parkDashboard = {
  charts: () => [...charts.keys()].sort(),
  chart: (name) => charts.get(name),
};

/** A category axis of interval or hour labels. */
export function categoryAxis(labels: string[], name?: string) {
  return {
    type: 'category',
    data: labels,
    name,
    axisLabel: { color: '#333333' },
    axisLine: { lineStyle: { color: '#757575' } },
  };
}

export function valueAxis(name: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'value',
    name,
    // Beside the axis, not above it, where the legend is.
    nameLocation: 'middle',
    nameGap: 46,
    nameTextStyle: { color: '#333333', fontWeight: 600 },
    axisLabel: { color: '#333333' },
    splitLine: { lineStyle: { color: '#e0e0e0' } },
    ...extra,
  };
}

export const legend = { top: 0, textStyle: { color: '#1a1a1a' }, type: 'scroll' };
export const tooltip = { trigger: 'axis', confine: true };
