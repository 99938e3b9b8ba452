import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from './model';
import { PDF_CONTENT_TYPE, renderPdf } from './pdf';
import {
  ENTERPRISE_NAME,
  RANKED_NAMES,
  enterpriseStatement,
  parkReport,
} from './test-support/fixtures';

const HAS_PDFTOTEXT = spawnSync('pdftotext', ['-v']).error === undefined;
const itWithPdftotext = HAS_PDFTOTEXT ? it : it.skip;
const needsPdftotext = (name: string) =>
  HAS_PDFTOTEXT ? name : `${name} [skipped: pdftotext (poppler-utils) is not installed]`;

function trailerId(pdf: Buffer): string {
  const match = /\/ID \[<([0-9a-f]+)> <([0-9a-f]+)>\]/.exec(pdf.toString('latin1'));
  if (!match) throw new Error('no /ID in the trailer');
  return match[1] ?? '';
}

/** A date of the info dictionary; pdfkit writes each entry as its own object. */
function infoDate(pdf: Buffer, key: string): string | undefined {
  const text = pdf.toString('latin1');
  const ref = new RegExp(`/${key} (\\d+) 0 R`).exec(text)?.[1];
  return ref === undefined
    ? undefined
    : new RegExp(`(?:^|\\n)${ref} 0 obj\\n\\((D:\\d{14}Z)\\)`).exec(text)?.[1];
}

describe('renderPdf', () => {
  it('is a PDF: header, trailer, end-of-file marker', async () => {
    const pdf = await renderPdf(enterpriseStatement());
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
    expect(pdf.toString('latin1')).toContain('trailer');
    expect(PDF_CONTENT_TYPE).toBe('application/pdf');
  });

  it('gives byte-identical PDFs for the same report', async () => {
    for (const report of [enterpriseStatement(), parkReport()]) {
      const first = await renderPdf(report);
      const second = await renderPdf(structuredClone(report));
      expect(first.equals(second)).toBe(true);
    }
  });

  it('dates the document at asOf, and derives the trailer /ID from the content', async () => {
    const report = enterpriseStatement();
    const pdf = await renderPdf(report);
    expect(infoDate(pdf, 'CreationDate')).toBe('D:20240430160000Z');
    expect(infoDate(pdf, 'ModDate')).toBe('D:20240430160000Z');

    const reordered = Object.fromEntries(Object.entries(report).reverse()) as unknown as Report;
    expect(trailerId(await renderPdf(reordered))).toBe(trailerId(pdf));

    const restated = enterpriseStatement();
    restated.rows[0] = { label: 'Scope 1', value: '1,081.095', unit: 'tCO2e' };
    expect(trailerId(await renderPdf(restated))).not.toBe(trailerId(pdf));
  });

  it('embeds only a subset of Noto Sans CJK, and no other font', async () => {
    const pdf = await renderPdf(parkReport());
    const text = pdf.toString('latin1');
    const fonts = text.match(/\/BaseFont \/[^\s/]+/g) ?? [];
    expect(new Set(fonts)).toEqual(
      new Set([expect.stringMatching(/^\/BaseFont \/[A-Z]{6}\+NotoSansCJKsc-Regular$/)]),
    );
    expect(pdf.length).toBeLessThan(150_000);
  });

  it('rejects a report whose asOf is not an instant', async () => {
    await expect(renderPdf({ ...enterpriseStatement(), asOf: 'end of April' })).rejects.toThrow(
      RangeError,
    );
  });

  describe('text, as pdftotext -layout reads it', () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'statements-pdf-'));
    });
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function pdfText(report: Report, name: string): Promise<string> {
      const file = join(dir, `${name}.pdf`);
      writeFileSync(file, await renderPdf(report));
      return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], {
        encoding: 'utf8',
      });
    }

    /** The one line with `label` that also holds every one of `values`, after it, in order. */
    function lineWith(text: string, label: string, values: string[]): string | undefined {
      return text.split('\n').find((line) => {
        let at = line.indexOf(label);
        if (at < 0) return false;
        at += label.length;
        for (const value of values) {
          at = line.indexOf(value, at);
          if (at < 0) return false;
          at += value.length;
        }
        return true;
      });
    }

    itWithPdftotext(
      needsPdftotext('shows each row label with its value, unit, target and status on one line'),
      async () => {
        const report = enterpriseStatement();
        const text = await pdfText(report, 'enterprise');
        for (const row of report.rows) {
          const values = [row.value, row.unit, row.target, row.status].filter(
            (cell): cell is string => !!cell,
          );
          expect([row.label, lineWith(text, row.label, values)]).toEqual([
            row.label,
            expect.any(String),
          ]);
        }
        expect(lineWith(text, 'Scope 1', ['1,081.094', 'tCO2e'])).toBeDefined();
      },
    );

    itWithPdftotext(
      needsPdftotext('shows the Chinese enterprise name, title and period intact'),
      async () => {
        const report = enterpriseStatement();
        const text = await pdfText(report, 'enterprise-header');
        expect(text).toContain(ENTERPRISE_NAME);
        expect(lineWith(text, '企业', [ENTERPRISE_NAME, 'ent-0042'])).toBeDefined();
        expect(text).toContain('企业月度能源碳排放报表');
        expect(lineWith(text, 'Period', ['2024-04', 'Asia/Shanghai'])).toBeDefined();
        expect(text).toContain('数值按四舍六入五成双规则修约。');
      },
    );

    itWithPdftotext(
      needsPdftotext('labels the chart: gridlines, the 90 % target and every day of the month'),
      async () => {
        const text = await pdfText(enterpriseStatement(), 'chart');
        expect(text).toContain('每日可再生电力占比');
        expect(lineWith(text, '90 %', ['target 目标 90 %'])).toBeDefined();
        expect(text).toMatch(/^\s*100 %/m);
        expect(text).toMatch(/^\s*50 %/m);
        const dayLine = Array.from({ length: 30 }, (_, i) => String(i + 1));
        expect(lineWith(text, '1', dayLine.slice(1))).toBeDefined();
        expect(text).toContain('no data 无数据');
      },
    );

    itWithPdftotext(needsPdftotext('shows the park report KPIs and the ranking'), async () => {
      const report = parkReport();
      const text = await pdfText(report, 'park');
      for (const row of report.rows) {
        expect(lineWith(text, row.label, [row.value, row.unit])).toBeDefined();
      }
      expect(text).toContain('Enterprise ranking 企业排名');
      for (const line of report.ranking) {
        expect([
          line.enterpriseName,
          lineWith(text, line.enterpriseName, [
            line.energyTce,
            line.co2T,
            line.intensity,
            line.renewableSharePercent,
          ]),
        ]).toEqual([line.enterpriseName, expect.any(String)]);
      }
      expect(RANKED_NAMES.every((name) => text.includes(name))).toBe(true);
    });

    itWithPdftotext(
      needsPdftotext('runs a long ranking onto more pages, one line per enterprise'),
      async () => {
        const report = parkReport(80);
        const text = await pdfText(report, 'park-long');
        const pages = text.split('\f').filter((page) => page.trim() !== '');
        expect(pages.length).toBeGreaterThan(1);
        expect(pages.filter((page) => page.includes('Enterprise 企业')).length).toBeGreaterThan(1);
        for (const line of report.ranking) {
          expect(lineWith(text, line.enterpriseName, [line.co2T])).toBeDefined();
        }
        expect(text).toMatch(new RegExp(`\\b1 ?/ ?${pages.length}\\s*$`, 'm'));
      },
    );

    itWithPdftotext(
      needsPdftotext('keeps a label too long for its column on its value line'),
      async () => {
        const report = enterpriseStatement();
        const label = `Scope 3 category 4: upstream transportation and distribution of purchased goods ${'很长'.repeat(10)}`;
        report.rows = [{ label, value: '9,876.543', unit: 'tCO2e' }];
        const text = await pdfText(report, 'long-label');
        expect(lineWith(text, 'Scope 3 category 4', ['9,876.543', 'tCO2e'])).toBeDefined();
      },
    );
  });
});
