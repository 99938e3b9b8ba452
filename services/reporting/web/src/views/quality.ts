// The park's data quality: how much of what meters should have reported was measured, estimated
// or is missing, the gaps still open, and the meters silent for a day.

import type { QualityRow, QualityView } from '../../../src/dashboard/contract';
import { getJson } from '../api';
import { categoryAxis, chart, COLORS, legend, tooltip, valueAxis } from '../charts';
import { dateInput, field } from '../controls';
import { fill, h, table } from '../dom';
import { dateTime, percent, ROLE_LABELS, COMMODITY_LABELS } from '../format';
import { parkOf, route, type Context, type View } from '../view';

const share = (part: number, row: QualityRow) => (row.expected > 0 ? part / row.expected : null);

export function qualityView(ctx: Context): View {
  const park = parkOf(ctx)!;
  const day = ctx.params.get('day') ?? park.today;
  const body = h('div');
  const root = h(
    'section',
    { class: 'view', 'aria-labelledby': 'quality-title' },
    h(
      'div',
      { class: 'view-head' },
      h('h2', { id: 'quality-title' }, `Data quality · ${park.parkId} · ${day}`),
      h(
        'form',
        { class: 'controls', onsubmit: (event: Event) => event.preventDefault() },
        field(
          'Day',
          dateInput(day, (value) =>
            ctx.navigate(route('quality', { park: park.parkId, day: value })),
          ),
        ),
      ),
    ),
    body,
  );

  function draw(view: QualityView) {
    const t = view.totals;
    const trendChart = h('div', { class: 'chart chart-wide', role: 'img' });
    const tile = (name: string, label: string, value: string, note: string) =>
      h(
        'article',
        { class: 'tile', 'data-quality': name },
        h('h4', {}, label),
        h('p', { class: 'tile-value' }, value),
        h('p', { class: 'tile-target' }, note),
      );
    fill(
      body,
      h(
        'div',
        { class: 'tiles tiles-top' },
        tile(
          'expected',
          'Intervals expected',
          String(t.expected),
          `as of ${dateTime(view.asOf, park.timeZone)}`,
        ),
        tile(
          'measured',
          'Measured',
          percent(share(t.measured + t.edited, t)),
          `${t.measured} measured, ${t.edited} edited`,
        ),
        tile(
          'estimated',
          'Estimated',
          percent(share(t.estimated, t)),
          `${t.estimated} intervals filled by metering`,
        ),
        tile(
          'missing',
          'Missing',
          percent(share(t.missing, t)),
          `${t.missing} intervals not received`,
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'quality-trend-title' },
        h('h3', { id: 'quality-trend-title' }, 'Estimated and missing shares by day'),
        trendChart,
      ),
      h(
        'section',
        { 'aria-labelledby': 'quality-enterprises-title' },
        h('h3', { id: 'quality-enterprises-title' }, 'By enterprise'),
        table(
          `Intervals of ${day}`,
          ['Enterprise', 'Expected', 'Measured', 'Edited', 'Estimated', 'Missing', 'Missing share'],
          view.enterprises
            .filter((row) => row.expected > 0 || row.measured + row.estimated + row.edited > 0)
            .map((row) => [
              row.name,
              String(row.expected),
              String(row.measured),
              String(row.edited),
              String(row.estimated),
              String(row.missing),
              percent(share(row.missing, row)),
            ]),
          { class: 'quality-enterprises' },
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'gaps-title' },
        h('h3', { id: 'gaps-title' }, 'Open gaps (too long to estimate)'),
        table(
          `Open gaps: ${view.gaps.length}`,
          ['Meter', 'Enterprise', 'From', 'To', 'Missing', 'Arrived since'],
          view.gaps.map((gap) => [
            gap.meterId,
            gap.enterpriseId,
            dateTime(gap.start, park.timeZone),
            dateTime(gap.end, park.timeZone),
            String(gap.missingIntervals),
            String(gap.arrived),
          ]),
          { class: 'gaps' },
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'silent-title' },
        h('h3', { id: 'silent-title' }, 'Meters silent for 24 hours'),
        table(
          `Meters without an interval ending in the 24 h before ${dateTime(view.asOf, park.timeZone)}: ${view.silent.length}`,
          ['Meter', 'Enterprise', 'Commodity', 'Role', 'Last interval ended'],
          view.silent.map((meter) => [
            meter.meterId,
            meter.enterpriseId,
            COMMODITY_LABELS[meter.commodity] ?? meter.commodity,
            ROLE_LABELS[meter.role] ?? meter.role,
            dateTime(meter.lastEnd, park.timeZone),
          ]),
          { class: 'silent' },
        ),
      ),
    );
    trendChart.setAttribute(
      'aria-label',
      'Estimated and missing shares of expected intervals per day',
    );
    chart('quality-trend', trendChart, {
      legend,
      tooltip: { ...tooltip, valueFormatter: (v: unknown) => percent(v as number) },
      grid: { left: 64, right: 16, top: 40, bottom: 32 },
      xAxis: categoryAxis(view.trend.map((p) => p.day.slice(5))),
      yAxis: valueAxis('share', {
        // Shares are often well below 1 %: two places, without trailing zeros.
        axisLabel: {
          color: '#333333',
          formatter: (v: number) => `${Number((v * 100).toFixed(2))} %`,
        },
      }),
      series: [
        { id: 'estimatedShare', name: 'Estimated', color: COLORS.estimated },
        { id: 'missingShare', name: 'Missing', color: COLORS.missing },
      ].map(({ id, name, color }) => ({
        id,
        name,
        type: 'bar',
        stack: 'quality',
        itemStyle: { color },
        data: view.trend.map((p) => p[id as 'estimatedShare' | 'missingShare']),
      })),
    });
  }

  return {
    root,
    async refresh() {
      draw(
        await getJson<QualityView>(
          `/v1/dashboard/parks/${encodeURIComponent(park.parkId)}/quality`,
          { day },
        ),
      );
    },
  };
}
