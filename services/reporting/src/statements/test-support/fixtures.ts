import type { DailyPoint, EnterpriseStatement, ParkReport } from '../model';

export const ENTERPRISE_NAME = '沈阳新松机器人自动化股份有限公司';

/** 30 days of April 2024 in park time; the 5th and the 20th without electricity. */
export function aprilDaily(): DailyPoint[] {
  return Array.from({ length: 30 }, (_, i) => ({
    day: `2024-04-${String(i + 1).padStart(2, '0')}`,
    renewableShare: i === 4 || i === 19 ? null : Number((0.3 + ((i * 7) % 23) / 32).toFixed(4)),
  }));
}

export function enterpriseStatement(): EnterpriseStatement {
  return {
    kind: 'enterprise_statement',
    title: '企业月度能源碳排放报表 Enterprise monthly energy-carbon statement',
    parkName: '沈阳零碳产业园',
    enterpriseId: 'ent-0042',
    enterpriseName: ENTERPRISE_NAME,
    month: '2024-04',
    timeZone: 'Asia/Shanghai',
    rows: [
      { label: 'Scope 1', value: '1,081.094', unit: 'tCO2e' },
      { label: 'Scope 2 (market-based)', value: '2,345.110', unit: 'tCO2e' },
      { label: 'Scope 2 (location-based)', value: '3,002.487', unit: 'tCO2e' },
      { label: 'Total energy 综合能耗', value: '4,512.300', unit: 'tce' },
      { label: 'Electricity consumed', value: '12,345,678', unit: 'kWh' },
      { label: 'CO2 per tce', value: '0.759', unit: 'tCO2/tce', target: '<= 0.8', status: 'met' },
      {
        label: 'Renewable electricity share',
        value: '42.86',
        unit: '%',
        target: '>= 90',
        status: 'not met',
      },
      { label: 'Meter data coverage', value: 'n/a', unit: '%', target: '>= 90', status: 'no data' },
    ],
    daily: aprilDaily(),
    notes: [
      'Scope 2 uses the market-based method (green certificates and direct lines).',
      '数值按四舍六入五成双规则修约。',
    ],
    asOf: '2024-04-30T16:00:00Z',
  };
}

export const RANKED_NAMES = [
  ENTERPRISE_NAME,
  '中铝沈阳有色金属加工有限公司',
  '华晨宝马汽车有限公司',
  '沈阳鼓风机集团股份有限公司',
];

export function parkReport(rankingSize = RANKED_NAMES.length): ParkReport {
  return {
    kind: 'park_report',
    title: '园区月度报告 Park monthly report',
    parkId: 'park-shenyang-1',
    parkName: '沈阳零碳产业园',
    month: '2024-04',
    timeZone: 'Asia/Shanghai',
    rows: [
      {
        label: 'CO2 per tce (year to date)',
        value: '0.412',
        unit: 'tCO2/tce',
        target: '<= 0.3',
        status: 'not met',
      },
      { label: 'Clean energy share', value: '61.20', unit: '%', target: '>= 50', status: 'met' },
      {
        label: 'Renewable electricity share',
        value: '92.31',
        unit: '%',
        target: '>= 90',
        status: 'met',
      },
      { label: 'Platform coverage', value: '95.00', unit: '%', target: '>= 90', status: 'met' },
    ],
    ranking: Array.from({ length: rankingSize }, (_, i) => ({
      rank: i + 1,
      enterpriseName: RANKED_NAMES[i] ?? `沈阳第${i + 1}机械制造有限公司`,
      energyTce: `${(1000 + i * 37).toLocaleString('en-US')}.500`,
      co2T: `${(2000 + i * 53).toLocaleString('en-US')}.125`,
      intensity: (0.3 + i * 0.011).toFixed(3),
      renewableSharePercent: (95 - i * 0.7).toFixed(2),
    })),
    daily: aprilDaily(),
    notes: ['Rankings by intensity, lowest first.'],
    asOf: '2024-04-30T16:00:00Z',
  };
}
