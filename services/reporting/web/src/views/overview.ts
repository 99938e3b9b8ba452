// The park at a glance: KPI tiles against their targets with their daily trend, the day's energy
// balance with the dispatch plan over it, and the enterprises ranked.

import type {
  Balance,
  Kpi,
  Overview,
  Ranking,
  RankingEntry,
} from '../../../src/dashboard/contract';
import { getJson } from '../api';
import { categoryAxis, chart, COLORS, legend, tooltip, valueAxis } from '../charts';
import { dateInput, field, select } from '../controls';
import { fill, h, table } from '../dom';
import { clock, fixed, kpiParts, kpiTarget, kpiText, percent } from '../format';
import { parkOf, route, type Context, type View } from '../view';

/** The tiles, in order: the park's targets first, then the national indicator's companions. */
const TILES: { name: string; trend?: 'renewableShare' | 'co2PerTce' | 'coverage' }[] = [
  { name: 'renewable_electricity_share', trend: 'renewableShare' },
  { name: 'co2_per_tce', trend: 'co2PerTce' },
  { name: 'platform_coverage', trend: 'coverage' },
  { name: 'co2_per_tce_ytd' },
  { name: 'clean_energy_share' },
];

const STATUS_TEXT: Record<Kpi['status'], string> = {
  met: 'target met',
  not_met: 'target not met',
  no_data: 'no data',
  none: '',
};

type SortKey = 'intensity' | 'renewable_share' | 'energy' | 'name';

export function overviewView(ctx: Context): View {
  const park = parkOf(ctx)!;
  const day = ctx.params.get('day') ?? park.today;
  const granularity = (ctx.params.get('granularity') ?? 'month') as 'day' | 'month' | 'year';
  const period = { day, month: day.slice(0, 7), year: day.slice(0, 4) }[granularity];
  const go = (changes: Record<string, string>) =>
    ctx.navigate(route('overview', { park: park.parkId, day, granularity, ...changes }));

  const tiles = h('div', { class: 'tiles', 'aria-live': 'polite' });
  const balanceChart = h('div', { class: 'chart chart-wide', role: 'img' });
  const balanceNote = h('p', { class: 'chart-note' });
  const lines = h('div');
  const rankingBody = h('div');
  let ranking: Ranking | undefined;
  let filter = '';
  let sort: SortKey = 'intensity';

  const filterInput = h('input', { type: 'search', placeholder: 'Name contains…' });
  filterInput.addEventListener('input', () => {
    filter = filterInput.value.trim();
    drawRanking();
  });

  const root = h(
    'section',
    { class: 'view', 'aria-labelledby': 'overview-title' },
    h(
      'div',
      { class: 'view-head' },
      h('h2', { id: 'overview-title' }, `Park overview · ${park.parkId}`),
      h(
        'form',
        { class: 'controls', onsubmit: (event: Event) => event.preventDefault() },
        ctx.session.parks.length > 1
          ? field(
              'Park',
              select(
                ctx.session.parks.map((p) => ({ value: p.parkId, label: p.parkId })),
                park.parkId,
                (value) => go({ park: value }),
              ),
            )
          : null,
        field(
          'Day',
          dateInput(day, (value) => go({ day: value })),
        ),
        field(
          'KPI period',
          select(
            [
              { value: 'day', label: `Day ${day}` },
              { value: 'month', label: `Month ${day.slice(0, 7)}` },
              { value: 'year', label: `Year ${day.slice(0, 4)}` },
            ],
            granularity,
            (value) => go({ granularity: value }),
          ),
        ),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'kpi-title' },
      h('h3', { id: 'kpi-title' }, `Indicators for ${period}`),
      tiles,
    ),
    h(
      'section',
      { 'aria-labelledby': 'balance-title' },
      h('h3', { id: 'balance-title' }, `Energy balance on ${day} (kW, park time)`),
      balanceChart,
      balanceNote,
    ),
    lines,
    h(
      'section',
      { 'aria-labelledby': 'ranking-title' },
      h('h3', { id: 'ranking-title' }, `Enterprise ranking, ${day.slice(0, 7)}`),
      h(
        'form',
        { class: 'controls', onsubmit: (event: Event) => event.preventDefault() },
        field('Filter enterprises by name', filterInput),
        field(
          'Sort by',
          select(
            [
              { value: 'intensity', label: 'CO2 per tce (lowest first)' },
              { value: 'renewable_share', label: 'Renewable share (highest first)' },
              { value: 'energy', label: 'Energy (largest first)' },
              { value: 'name', label: 'Name' },
            ],
            sort,
            (value) => {
              sort = value as SortKey;
              drawRanking();
            },
          ),
        ),
      ),
      rankingBody,
    ),
  );

  function drawTiles(overview: Overview) {
    const sparks: (() => void)[] = [];
    fill(
      tiles,
      TILES.map(({ name, trend }) => {
        const kpi = overview.kpis.find((k) => k.name === name);
        if (!kpi) return null;
        const spark = trend ? h('div', { class: 'spark', 'aria-hidden': 'true' }) : null;
        const tile = h(
          'article',
          {
            class: `tile status-${kpi.status}`,
            'data-kpi': kpi.name,
            'data-value': kpi.value ?? '',
          },
          h('h4', {}, kpi.label),
          h(
            'p',
            { class: 'tile-value' },
            kpiParts(kpi.value, kpi.unit).number,
            kpiParts(kpi.value, kpi.unit).shownUnit
              ? [' ', h('span', { class: 'unit' }, kpiParts(kpi.value, kpi.unit).shownUnit)]
              : null,
          ),
          h(
            'p',
            { class: 'tile-target' },
            kpiTarget(kpi.target, kpi.comparison, kpi.unit),
            kpi.status === 'none' ? null : h('span', { class: 'badge' }, STATUS_TEXT[kpi.status]),
          ),
          spark,
        );
        if (spark && trend) {
          sparks.push(() =>
            chart(`trend-${name}`, spark, {
              grid: { left: 2, right: 2, top: 4, bottom: 2 },
              xAxis: { type: 'category', show: false, data: overview.trend.map((p) => p.day) },
              yAxis: { type: 'value', show: false, scale: true },
              tooltip: {
                trigger: 'axis',
                confine: true,
                valueFormatter: (v: unknown) =>
                  trend === 'co2PerTce' ? fixed(v as number, 3) : percent(v as number),
              },
              series: [
                {
                  id: trend,
                  name: `${kpi.label} by day`,
                  type: 'line',
                  data: overview.trend.map((p) => p[trend]),
                  symbol: 'circle',
                  symbolSize: 4,
                  lineStyle: { color: '#1565c0', width: 2 },
                  itemStyle: { color: '#1565c0' },
                  connectNulls: false,
                },
              ],
            }),
          );
        }
        return tile;
      }),
    );
    // Drawn once their containers are in the page (ECharts sizes a chart by its container).
    for (const draw of sparks) draw();
    const direct = overview.kpis.filter((k) => k.name.startsWith('direct_line_'));
    fill(
      lines,
      direct.length === 0
        ? null
        : h(
            'section',
            { 'aria-labelledby': 'lines-title' },
            h('h3', { id: 'lines-title' }, 'Green direct lines'),
            table(
              `Direct-line ratios for ${period}`,
              ['Ratio', 'Value', 'Target', 'Status'],
              direct.map((k) => [
                k.label,
                kpiText(k.value, k.unit),
                kpiTarget(k.target, k.comparison, k.unit),
                STATUS_TEXT[k.status],
              ]),
            ),
          ),
    );
  }

  function drawBalance(balance: Balance) {
    const labels = balance.intervals.map((i) => clock(i.start, park.timeZone));
    const area = (id: keyof Balance['intervals'][number], name: string, color: string) => ({
      id,
      name,
      type: 'line',
      stack: 'supply',
      areaStyle: { opacity: 0.75 },
      lineStyle: { width: 1, color },
      itemStyle: { color },
      symbol: 'none',
      data: balance.intervals.map((i) => i[id]),
    });
    const line = (id: keyof Balance['intervals'][number], name: string, color: string) => ({
      id,
      name,
      type: 'line',
      symbol: 'none',
      lineStyle: { width: 2, color, type: id === 'plannedLoadKw' ? 'dotted' : 'dashed' },
      itemStyle: { color },
      data: balance.intervals.map((i) => i[id]),
    });
    balanceChart.setAttribute(
      'aria-label',
      `Stacked metered supply of the park per 15 minutes on ${balance.day}, with the dispatch plan's grid import and load`,
    );
    chart('balance', balanceChart, {
      legend,
      tooltip: { ...tooltip, valueFormatter: (v: unknown) => `${fixed(v as number, 1)} kW` },
      grid: { left: 64, right: 16, top: 40, bottom: 32 },
      xAxis: categoryAxis(labels),
      yAxis: valueAxis('kW'),
      series: [
        area('gridImportKw', 'Grid import', COLORS.grid),
        area('directLineKw', 'Green direct line', COLORS.directLine),
        area('pvKw', 'On-site PV', COLORS.pv),
        area('windKw', 'Wind', COLORS.wind),
        area('storageKw', 'Storage (discharge − charge)', COLORS.storage),
        line('plannedImportKw', 'Planned grid import', COLORS.plan),
        line('plannedLoadKw', 'Planned load', COLORS.load),
      ],
    });
    balanceNote.textContent = balance.planId
      ? `Dispatch plan ${balance.planId} overlaid (dashed: grid import, dotted: load).`
      : 'No dispatch plan for this day.';
  }

  function sorted(entries: RankingEntry[]): RankingEntry[] {
    const key = (e: RankingEntry): number | string | undefined =>
      sort === 'intensity'
        ? e.intensity === undefined
          ? undefined
          : Number(e.intensity)
        : sort === 'renewable_share'
          ? e.renewableShare === undefined
            ? undefined
            : -Number(e.renewableShare)
          : sort === 'energy'
            ? -Number(e.energyTce)
            : e.name;
    // Without data last; ties by id, so the order is stable (as the ranking RPC orders them).
    return [...entries].sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      if (x === undefined || y === undefined)
        return x === y ? a.enterpriseId.localeCompare(b.enterpriseId) : x === undefined ? 1 : -1;
      const c = typeof x === 'string' ? x.localeCompare(String(y)) : x - (y as number);
      return c !== 0 ? c : a.enterpriseId.localeCompare(b.enterpriseId);
    });
  }

  function drawRanking() {
    if (!ranking) return;
    const ordered = sorted(ranking.entries).map((entry, i) => ({ entry, rank: i + 1 }));
    const shown = ordered.filter(
      ({ entry }) => !filter || entry.name.toLowerCase().includes(filter.toLowerCase()),
    );
    fill(
      rankingBody,
      table(
        `${shown.length} of ${ordered.length} enterprises`,
        ['Rank', 'Enterprise', 'CO2 per tce', 'Renewable share', 'Energy (tce)', 'CO2 (t)'],
        shown.map(({ entry, rank }) => [
          String(rank),
          h(
            'a',
            { href: route(`enterprise/${entry.enterpriseId}`, { month: day.slice(0, 7) }) },
            entry.name,
          ),
          fixed(entry.intensity, 3),
          percent(entry.renewableShare),
          fixed(entry.energyTce, 3),
          fixed(entry.co2T, 3),
        ]),
        { class: 'ranking', 'data-rows': shown.map(({ entry }) => entry.enterpriseId).join(',') },
      ),
    );
  }

  return {
    root,
    async refresh() {
      const base = `/v1/dashboard/parks/${encodeURIComponent(park.parkId)}`;
      const [overview, balance, rankingAnswer] = await Promise.all([
        getJson<Overview>(`${base}/overview`, { granularity, period }),
        getJson<Balance>(`${base}/balance`, { day }),
        getJson<Ranking>(`${base}/ranking`, { month: day.slice(0, 7) }),
      ]);
      drawTiles(overview);
      drawBalance(balance);
      ranking = rankingAnswer;
      drawRanking();
    },
  };
}
