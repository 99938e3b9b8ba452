import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { meterSpec } from '@park/testing';
import { startReportingHarness, type ReportingHarness } from '../test-support/harness';
import {
  exportReport,
  FORMAT,
  KIND,
  publishAllocation,
  publishEnterpriseFlagged,
} from '../test-support/reporting-events';

/**
 * The park's monthly report as ExportReport streams it, read back with poppler's
 * `pdftotext -layout`: every KPI on one line with its label, value, unit, target and status, and
 * the Chinese enterprise name intact.
 *
 * June 2023 in park p1 (Asia/Shanghai; threshold 0.2 tCO2/tce), by hand:
 *   ent-1 (沈阳华晨铝业有限公司), hour 2023-06-05T02:00Z: electricity 4000 kWh (grid 1000, renewable
 *     3000), energy 800 kgce, Scope 1 40 kg, Scope 2 market 500 kg
 *   ent-2, hour 2023-06-06T02:00Z: electricity 1000 kWh (grid), energy 200 kgce, Scope 2 market 560 kg
 *   park: CO2 per tce (40 + 500 + 560) / (800 + 200) = 1100 / 1000 = 1.1 -> "1.100000", YTD the same;
 *     clean energy 3000 x 0.1229 = 368.7 kgce of 1000 -> 36.87 %; renewable 3000 / 5000 -> 60.00 %;
 *     coverage: ent-1's meter reported 4 h before the end of June, ent-2's never: 1 / 2 -> 50.00 %
 *   direct line L1, 2023-06-05T02:00Z: metered 1000, exported 100, 800 to ent-1:
 *     self-use 800 / 1000 -> 80.00 % (>= 60), feed-in 100 / 1000 -> 10.00 % (<= 20),
 *     ent-1's share 800 / 4000 -> 20.00 % (>= 30)
 *   ranking by intensity: 1 ent-1 0.8 tce, 0.54 t (40 + 500 kg), 540 / 800 = 0.675, 3000 / 4000 = 75 %;
 *     2 ent-2 0.2 tce, 0.56 t, 560 / 200 = 2.8, 0 %
 */

jest.setTimeout(120_000);

const HAS_PDFTOTEXT = spawnSync('pdftotext', ['-v']).error === undefined;
const itWithPdftotext = HAS_PDFTOTEXT ? it : it.skip;

const PARK = 'p1';
const CHINESE_NAME = '沈阳华晨铝业有限公司';

/** pdftotext -layout of the PDF's bytes. */
function pdfText(pdf: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'reporting-pdf-'));
  try {
    const file = join(dir, 'report.pdf');
    writeFileSync(file, pdf);
    return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], {
      encoding: 'utf8',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The one line that holds `cells` left to right, separated by blanks only. */
function rowOf(text: string, cells: string[]): string {
  const pattern = new RegExp(`^\\s*${cells.filter(Boolean).map(escape).join('\\s+')}\\s*$`);
  const lines = text.split('\n').filter((line) => pattern.test(line));
  if (lines.length !== 1)
    throw new Error(
      `expected one line of ${JSON.stringify(cells)}, found ${lines.length}:\n${text}`,
    );
  return lines[0]!;
}

let h: ReportingHarness;
let operator: grpc.Metadata;

beforeAll(async () => {
  h = await startReportingHarness('pdf_report');
  operator = await h.bearer('operator');
  await h.publishPark(PARK);
  await publishEnterpriseFlagged(h, {
    enterpriseId: 'ent-1',
    parkId: PARK,
    name: CHINESE_NAME,
    energyUsing: true,
  });
  await publishEnterpriseFlagged(h, {
    enterpriseId: 'ent-2',
    parkId: PARK,
    name: 'Dalian Harbour Logistics',
    energyUsing: true,
  });
  const grid1 = meterSpec('m-1g', 'ent-1', 'grid');
  await h.publishMeter(grid1);
  await h.publishMeter(meterSpec('m-2g', 'ent-2', 'grid'));
  await h.publishReadings(grid1, [['2023-06-30T11:45:00Z', '10']]);
  await h.publishHours('ent-1', [
    {
      hourStart: '2023-06-05T02:00:00Z',
      change: {
        electricityKwh: '4000',
        gridKwh: '1000',
        renewableKwh: '3000',
        carbonFreeKwh: '3000',
        energyKgce: '800',
        scope1Kgco2e: '40',
        scope2LocationKgco2e: '580',
        scope2MarketKgco2e: '500',
      },
    },
  ]);
  await h.publishHours('ent-2', [
    {
      hourStart: '2023-06-06T02:00:00Z',
      change: {
        electricityKwh: '1000',
        gridKwh: '1000',
        energyKgce: '200',
        scope2LocationKgco2e: '580',
        scope2MarketKgco2e: '560',
      },
    },
  ]);
  await publishAllocation(h, {
    parkId: PARK,
    lineId: 'L1',
    enterpriseId: 'ent-1',
    intervalStart: '2023-06-05T02:00:00Z',
    allocatedKwh: '800',
    lineMeteredKwh: '1000',
    lineExportedKwh: '100',
    revision: 1,
  });
  await h.server.projections.caughtUp(60_000);
});
afterAll(() => h?.stop());

itWithPdftotext('the park report PDF shows each KPI in its labelled row', async () => {
  const file = await exportReport(h, operator, {
    kind: KIND.park,
    format: FORMAT.pdf,
    subjectId: PARK,
    month: '2023-06',
  });
  expect(file.contentType).toBe('application/pdf');
  expect(file.fileName).toBe('park-report-p1-2023-06.pdf');
  const text = pdfText(file.bytes);

  // label | value | unit | target | status
  const rows: string[][] = [
    ['CO2 per tce (market-based Scope 2)', '1.100000', 'tCO2/tce', '<= 0.2', 'not met'],
    ['CO2 per tce, year to date', '1.100000', 'tCO2/tce', '<= 0.2', 'not met'],
    ['Clean energy share of total energy (tce)', '36.87', '%', '', ''],
    ['Renewable electricity share', '60.00', '%', '>= 90', 'not met'],
    ['Platform coverage (energy-using enterprises, last 24 h)', '50.00', '%', '>= 90', 'not met'],
    ['Direct line L1: self-use share of its energy', '80.00', '%', '>= 60', 'met'],
    ['Direct line L1: feed-in share', '10.00', '%', '<= 20', 'met'],
    ["Direct line L1: share of ent-1's consumption", '20.00', '%', '>= 30', 'not met'],
  ];
  for (const row of rows) expect(rowOf(text, row)).toBeTruthy();

  // The ranking: rank | enterprise | energy (tce) | CO2 (t) | tCO2/tce | renewable %
  expect(
    rowOf(text, ['1', CHINESE_NAME, '0.800000', '0.540000', '0.675000', '75.00']),
  ).toBeTruthy();
  expect(
    rowOf(text, ['2', 'Dalian Harbour Logistics', '0.200000', '0.560000', '2.800000', '0.00']),
  ).toBeTruthy();
  expect(text).toContain('园区月度零碳运行报告 / Park monthly zero-carbon report');
  expect(text).toMatch(/^Period 报告期:\s+2023-06 \(park time 园区时间, Asia\/Shanghai\)$/m);
  // Nothing cut: no ellipsis anywhere.
  expect(text).not.toContain('…');
});

itWithPdftotext(
  "the enterprise statement PDF carries the enterprise's Chinese name intact",
  async () => {
    const file = await exportReport(h, await h.bearer('enterprise', 'ent-1'), {
      kind: KIND.statement,
      format: FORMAT.pdf,
      subjectId: 'ent-1',
      month: '2023-06',
    });
    const text = pdfText(file.bytes);
    expect(text).toMatch(new RegExp(`^Enterprise 企业:\\s+${CHINESE_NAME} \\(ID ent-1\\)$`, 'm'));
    // ent-1 alone: (40 + 500) / 800 = 0.675; renewable 3000 / 4000 = 75 %
    expect(rowOf(text, ['CO2 per tce', '0.675000', 'tCO2/tce'])).toBeTruthy();
    expect(rowOf(text, ['Renewable electricity share', '75.00', '%'])).toBeTruthy();
  },
);
