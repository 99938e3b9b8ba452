// One enterprise's month: its statement, energy by commodity, footprint by scope with both
// Scope 2 methods, the hourly carbon-free energy score, certificates and CBAM data.

import type { CarbonData, EnterpriseView } from '../../../src/dashboard/contract';
import { ApiError, describe, getJson } from '../api';
import { categoryAxis, chart, COLORS, legend, tooltip, valueAxis } from '../charts';
import { dateInput, field, select } from '../controls';
import { fill, h, notice, table } from '../dom';
import { COMMODITY_LABELS, dateTime, fixed, percent, ROLE_LABELS } from '../format';
import { route, type Context, type View } from '../view';

const ROLE_COLORS: Record<string, string> = {
  grid_import: COLORS.grid,
  green_direct_line: COLORS.directLine,
  onsite_pv: COLORS.pv,
  wind: COLORS.wind,
  storage_discharge: COLORS.storage,
  storage_charge: '#ad1457',
  internal_transfer: '#00695c',
  grid_export: '#37474f',
};

export function enterpriseView(ctx: Context, enterpriseId: string): View {
  const known = ctx.session.enterprises.find((e) => e.enterpriseId === enterpriseId);
  const park = ctx.session.parks.find((p) => p.parkId === known?.parkId) ?? ctx.session.parks[0];
  const month = ctx.params.get('month') ?? (park?.today ?? new Date().toISOString()).slice(0, 7);
  const go = (id: string, m: string) => ctx.navigate(route(`enterprise/${id}`, { month: m }));

  const title = h('h2', { id: 'enterprise-title' }, known?.name ?? enterpriseId);
  const body = h('div');
  const carbon = h('div');
  const root = h(
    'section',
    { class: 'view', 'aria-labelledby': 'enterprise-title' },
    h(
      'div',
      { class: 'view-head' },
      title,
      h(
        'form',
        { class: 'controls', onsubmit: (event: Event) => event.preventDefault() },
        ctx.session.enterprises.length > 1
          ? field(
              'Enterprise',
              select(
                ctx.session.enterprises.map((e) => ({ value: e.enterpriseId, label: e.name })),
                enterpriseId,
                (value) => go(value, month),
              ),
            )
          : null,
        field(
          'Month',
          dateInput(month, (value) => go(enterpriseId, value), 'month'),
        ),
      ),
    ),
    body,
    carbon,
  );

  function draw(view: EnterpriseView) {
    title.textContent = `${view.name} · ${view.month}`;
    const dayLabels = view.days.map((d) => d.slice(5));
    const commodities = [...new Set(view.series.map((s) => s.commodity))];
    const seriesCharts = commodities.map((commodity) => ({
      commodity,
      container: h('div', { class: 'chart', role: 'img' }),
    }));
    const footprintChart = h('div', { class: 'chart chart-wide', role: 'img' });
    const heatChart = h('div', { class: 'chart chart-tall', role: 'img' });
    const t = view.footprint.totals;
    const plus = (a: string, b: string) => fixed(Number(a) + Number(b), 3);
    fill(
      body,
      h(
        'section',
        { 'aria-labelledby': 'statement-title' },
        h('h3', { id: 'statement-title' }, 'Monthly statement'),
        h(
          'dl',
          { class: 'statement' },
          view.statement.map((row) =>
            h('div', {}, h('dt', {}, row.label), h('dd', {}, `${row.value} ${row.unit}`)),
          ),
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'series-title' },
        h('h3', { id: 'series-title' }, 'Energy by commodity, per day'),
        seriesCharts.length === 0
          ? notice('No metered energy in this month.')
          : h(
              'div',
              { class: 'chart-grid' },
              seriesCharts.map(({ commodity, container }) =>
                h(
                  'figure',
                  {},
                  h('figcaption', {}, COMMODITY_LABELS[commodity] ?? commodity),
                  container,
                ),
              ),
            ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'footprint-title' },
        h('h3', { id: 'footprint-title' }, 'Footprint by scope (tCO2e per day)'),
        footprintChart,
        h(
          'p',
          { class: 'totals', 'data-totals': JSON.stringify(t) },
          `Month: Scope 1 ${fixed(t.scope1, 3)} t; Scope 2 location-based ${fixed(t.scope2Location, 3)} t, market-based ${fixed(t.scope2Market, 3)} t; Scope 1 + 2: ${plus(t.scope1, t.scope2Location)} t (location-based), ${plus(t.scope1, t.scope2Market)} t (market-based).`,
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'cfe-title' },
        h('h3', { id: 'cfe-title' }, 'Hourly carbon-free energy score (park time)'),
        heatChart,
      ),
    );

    for (const { commodity, container } of seriesCharts) {
      const of = view.series.filter((s) => s.commodity === commodity);
      const unit = of[0]?.unit ?? '';
      container.setAttribute(
        'aria-label',
        `${COMMODITY_LABELS[commodity] ?? commodity} per day by meter role, ${unit}`,
      );
      chart(`series-${commodity}`, container, {
        legend,
        tooltip: { ...tooltip, valueFormatter: (v: unknown) => `${fixed(v as number, 1)} ${unit}` },
        grid: { left: 64, right: 12, top: 40, bottom: 28 },
        xAxis: categoryAxis(dayLabels),
        yAxis: valueAxis(unit),
        series: of.map((s) => ({
          id: `${s.role}|${s.unit}`,
          name: `${ROLE_LABELS[s.role] ?? s.role} (${s.unit})`,
          type: 'bar',
          stack: s.unit,
          itemStyle: { color: ROLE_COLORS[s.role] ?? '#455a64' },
          data: s.values,
        })),
      });
    }

    footprintChart.setAttribute('aria-label', 'Scope 1 and Scope 2 by both methods per day, tCO2e');
    chart('footprint', footprintChart, {
      legend,
      tooltip: { ...tooltip, valueFormatter: (v: unknown) => `${fixed(v as number, 3)} t` },
      grid: { left: 64, right: 12, top: 40, bottom: 28 },
      xAxis: categoryAxis(dayLabels),
      yAxis: valueAxis('tCO2e'),
      series: [
        { id: 'scope1', name: 'Scope 1', data: view.footprint.scope1, color: COLORS.scope1 },
        {
          id: 'scope2Location',
          name: 'Scope 2 (location-based)',
          data: view.footprint.scope2Location,
          color: COLORS.location,
        },
        {
          id: 'scope2Market',
          name: 'Scope 2 (market-based)',
          data: view.footprint.scope2Market,
          color: COLORS.market,
        },
      ].map(({ color, ...s }) => ({ ...s, type: 'bar', itemStyle: { color } })),
    });

    const cells: [number, number, number][] = [];
    view.heat.forEach((hours, d) =>
      hours.forEach((score, hour) => {
        if (score !== null) cells.push([hour, d, score]);
      }),
    );
    heatChart.setAttribute(
      'aria-label',
      'Share of each hour’s electricity matched by carbon-free supply in the same hour, by day and hour',
    );
    chart('cfe-heatmap', heatChart, {
      tooltip: {
        confine: true,
        formatter: (p: { value: [number, number, number] }) =>
          `${view.days[p.value[1]]} ${String(p.value[0]).padStart(2, '0')}:00 · ${percent(p.value[2])}`,
      },
      grid: { left: 64, right: 16, top: 12, bottom: 72 },
      xAxis: {
        ...categoryAxis(
          Array.from({ length: 24 }, (_, i) => String(i).padStart(2, '0')),
          'hour',
        ),
        splitArea: { show: true },
      },
      yAxis: { ...categoryAxis(dayLabels), inverse: true },
      visualMap: {
        min: 0,
        max: 1,
        calculable: false,
        orient: 'horizontal',
        left: 'center',
        bottom: 8,
        text: ['100 % carbon-free', '0 %'],
        textStyle: { color: '#1a1a1a' },
        inRange: { color: ['#b71c1c', '#fdd835', '#1b5e20'] },
      },
      series: [{ id: 'cfe', name: 'Carbon-free energy score', type: 'heatmap', data: cells }],
    });
  }

  function drawCarbon(data: CarbonData) {
    if (!data.available) {
      fill(
        carbon,
        h('h3', {}, 'Certificates and CBAM data'),
        notice(`Not available: ${data.reason ?? 'carbon did not answer'}.`, 'warning'),
      );
      return;
    }
    const c = data.certificates!;
    fill(
      carbon,
      h(
        'section',
        { 'aria-labelledby': 'certificates-title' },
        h('h3', { id: 'certificates-title' }, 'Green electricity certificates'),
        h(
          'p',
          { 'data-certificate-kwh': c.certificateKwh },
          `Grid electricity covered by retired certificates this month: ${fixed(c.certificateKwh, 0)} kWh. Renewable share (carbon): ${percent(c.renewableShare)}; hourly carbon-free score: ${percent(c.cfeScore)}.`,
        ),
        table(
          'Certificate retirements',
          ['Covered from', 'kWh', 'Serials'],
          c.coverage.map((entry) => [
            dateTime(entry.intervalStart, park?.timeZone ?? 'UTC'),
            fixed(entry.quantityKwh, 0),
            entry.serials.join(', '),
          ]),
        ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'cbam-title' },
        h('h3', { id: 'cbam-title' }, 'CBAM data for EU importers'),
        data.cbam.length === 0
          ? notice('No installations registered for this enterprise.')
          : data.cbam.map((installation) => {
              if (installation.error)
                return notice(`${installation.name}: ${installation.error}`, 'warning');
              // Carbon's CbamData as JSON: decimals are { value } messages.
              type Decimal = { value?: string } | undefined;
              const cbam = installation.data as {
                goods?: {
                  cnCode?: string;
                  sector?: string;
                  netMassTonnes?: Decimal;
                  directSee?: Decimal;
                  indirectSee?: Decimal;
                  totalSee?: Decimal;
                }[];
              };
              return table(
                `${installation.name} (${installation.installationId}), ${month}`,
                [
                  'CN code',
                  'Sector',
                  'Mass (t)',
                  'Direct SEE',
                  'Indirect SEE',
                  'Total SEE (tCO2e/t)',
                ],
                (cbam.goods ?? []).map((good) => [
                  good.cnCode ?? '',
                  good.sector ?? '',
                  fixed(good.netMassTonnes?.value, 3),
                  fixed(good.directSee?.value, 4),
                  fixed(good.indirectSee?.value, 4),
                  fixed(good.totalSee?.value, 4),
                ]),
              );
            }),
      ),
    );
  }

  return {
    root,
    async refresh() {
      const base = `/v1/dashboard/enterprises/${encodeURIComponent(enterpriseId)}`;
      const [view, carbonData] = await Promise.all([
        getJson<EnterpriseView>(base, { month }),
        getJson<CarbonData>(`${base}/carbon`, { month }).catch((error: unknown) => {
          if (error instanceof ApiError && error.status === 403) throw error;
          return { available: false, reason: describe(error), cbam: [] } satisfies CarbonData;
        }),
      ]);
      draw(view);
      drawCarbon(carbonData);
    },
  };
}
