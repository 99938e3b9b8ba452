import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import type { DailyPoint, Report } from './model';

/** Media type of {@link renderPdf}'s output. */
export const PDF_CONTENT_TYPE = 'application/pdf';

/**
 * The font of all text: Noto Sans CJK (Debian's fonts-noto-cjk), Simplified Chinese face of the
 * collection, so Chinese enterprise names come out intact. One face only (no bold): each embedded
 * face costs about 60 KB even subset, since fontkit keeps a CFF font's subroutine index whole.
 */
export const PDF_FONT = {
  path: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
  postscriptName: 'NotoSansCJKsc-Regular',
} as const;

let fontBytes: Buffer | undefined;

/** The font collection's bytes (about 19 MB), read once per process. */
function fontFile(): Buffer {
  fontBytes ??= readFileSync(PDF_FONT.path);
  return fontBytes;
}

const PAGE = { size: 'A4', margin: { top: 50, right: 50, bottom: 60, left: 50 } } as const;

const COLOR = {
  text: '#1a1a1a',
  muted: '#666666',
  headerFill: '#e6edf3',
  rule: '#c5ced6',
  grid: '#d0d0d0',
  bar: '#2e8b57',
  target: '#c0392b',
  noData: '#9a9a9a',
  met: '#1e7b34',
  notMet: '#b03a2e',
} as const;

const TARGET_SHARE = 0.9;

type Doc = PDFKit.PDFDocument;

/**
 * Renders a report as an A4 PDF: title, period, the rows as a labelled table (label | value | unit
 * | target | status), for a park report the enterprise ranking, a bar chart of the daily renewable
 * share (vector drawing, gridlines at 0, 50, 90 and 100 % with the 90 % target line labelled),
 * then the notes, and a footer with the page number on every page. All text is in
 * {@link PDF_FONT}, embedded as a subset of the glyphs used.
 *
 * Every table row is one text line: a cell too wide for its column is set smaller (down to 6 pt),
 * then cut with an ellipsis, so `pdftotext -layout` shows each value on its label's line.
 *
 * Deterministic: the same report gives the same bytes (with the same pdfkit, fontkit, zlib and
 * font file). The document's CreationDate and ModDate are `report.asOf`; pdfkit derives the
 * trailer /ID from an MD5 of the info dictionary (not from randomness), and the info dictionary
 * carries `Keywords: sha256:<digest of the report's data>`, so the /ID is the same for the same
 * report and differs when its content differs. Stream compression is on (Flate), explicitly.
 *
 * Rejects with a RangeError when `report.asOf` is not a valid instant.
 */
export function renderPdf(report: Report): Promise<Buffer> {
  const asOf = new Date(report.asOf);
  if (Number.isNaN(asOf.getTime())) {
    return Promise.reject(new RangeError(`report.asOf is not a valid instant: ${report.asOf}`));
  }

  return new Promise<Buffer>((resolve, reject) => {
    const doc = new PDFDocument({
      size: PAGE.size,
      margins: PAGE.margin,
      compress: true,
      bufferPages: true,
      lang: 'zh-CN',
      displayTitle: true,
      info: {
        Title: report.title,
        Author: report.parkName,
        Subject: subjectOf(report),
        Keywords: `sha256:${reportDigest(report)}`,
        Creator: '@park/reporting',
        CreationDate: asOf,
        ModDate: asOf,
      },
    });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    try {
      doc.registerFont('body', fontFile(), PDF_FONT.postscriptName);
      doc.font('body').fillColor(COLOR.text);
      drawReport(doc, report);
      doc.end();
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}

function subjectOf(report: Report): string {
  return report.kind === 'enterprise_statement'
    ? `Enterprise statement ${report.enterpriseId} ${report.month}`
    : `Park report ${report.parkId} ${report.month}`;
}

/** SHA-256 of the report as JSON with object keys sorted, so key order does not matter. */
function reportDigest(report: Report): string {
  return createHash('sha256').update(canonicalJson(report)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

// ---------------------------------------------------------------------------------------------
// Layout

interface Frame {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
}

function frameOf(doc: Doc): Frame {
  const { width, height, margins } = doc.page;
  return {
    left: margins.left,
    right: width - margins.right,
    top: margins.top,
    bottom: height - margins.bottom,
    width: width - margins.left - margins.right,
  };
}

function drawReport(doc: Doc, report: Report): void {
  const frame = frameOf(doc);
  let y = frame.top;

  doc.fontSize(16).fillColor(COLOR.text);
  doc.text(oneLine(report.title), frame.left, y, { width: frame.width });
  y = doc.y + 6;

  const meta: [string, string][] = [['Park 园区', report.parkName]];
  if (report.kind === 'enterprise_statement') {
    meta.push(['Enterprise 企业', `${report.enterpriseName}  (ID ${report.enterpriseId})`]);
  } else {
    meta.push(['Park ID 园区编号', report.parkId]);
  }
  meta.push(
    ['Period 报告期', `${report.month}  (park time 园区时间, ${report.timeZone})`],
    ['As of 截至', report.asOf],
  );
  doc.fontSize(9.5);
  for (const [key, value] of meta) {
    doc.fillColor(COLOR.muted).text(`${key}:`, frame.left, y, { lineBreak: false });
    doc.fillColor(COLOR.text).text(oneLine(value), frame.left + 95, y, {
      width: frame.width - 95,
    });
    y = doc.y + 2;
  }
  y += 10;

  y = heading(doc, 'Indicators 指标', y);
  y = drawTable(
    doc,
    [
      { header: 'Indicator 项目', width: 195, align: 'left' },
      { header: 'Value 数值', width: 95, align: 'right' },
      { header: 'Unit 单位', width: 60, align: 'left' },
      { header: 'Target 目标', width: 70, align: 'left' },
      { header: 'Status 状态', width: 75, align: 'left' },
    ],
    report.rows.map((row) => [row.label, row.value, row.unit, row.target ?? '', row.status ?? '']),
    y,
    (column, text) => (column === 4 ? statusColor(text) : COLOR.text),
  );

  if (report.kind === 'park_report') {
    y = heading(doc, 'Enterprise ranking 企业排名', y + 14);
    y = drawTable(
      doc,
      [
        { header: 'Rank', width: 35, align: 'right' },
        { header: 'Enterprise 企业', width: 185, align: 'left' },
        { header: 'Energy (tce)', width: 65, align: 'right' },
        { header: 'CO2 (t)', width: 65, align: 'right' },
        { header: 'tCO2/tce', width: 65, align: 'right' },
        { header: 'Renewable %', width: 80, align: 'right' },
      ],
      report.ranking.map((line) => [
        String(line.rank),
        line.enterpriseName,
        line.energyTce,
        line.co2T,
        line.intensity,
        line.renewableSharePercent,
      ]),
      y,
    );
  }

  y = drawChart(doc, report.month, report.daily, y + 14);

  if (report.notes.length > 0) {
    y = heading(doc, 'Notes 说明', y + 14);
    doc.fontSize(8.5).fillColor(COLOR.text);
    for (const note of report.notes) {
      if (y + 12 > frame.bottom) y = newPage(doc);
      doc.text(`• ${note}`, frame.left, y, { width: frame.width });
      y = doc.y + 3;
    }
  }

  drawFooters(doc, report);
}

function newPage(doc: Doc): number {
  doc.addPage();
  return frameOf(doc).top;
}

/** A section heading; starts a new page when fewer than `keep` points remain below it. */
function heading(doc: Doc, text: string, y: number, keep = 40): number {
  const frame = frameOf(doc);
  const top = y + 18 + keep > frame.bottom ? newPage(doc) : y;
  doc.fontSize(11.5).fillColor(COLOR.text);
  doc.text(text, frame.left, top, { lineBreak: false });
  return top + 18;
}

function statusColor(status: string): string {
  if (status === 'met') return COLOR.met;
  if (status === 'not met') return COLOR.notMet;
  return COLOR.muted;
}

/** Cell text on one line: line breaks and runs of white space become one space. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Draws `text` on one line with its baseline at `baseline`, within `width`: set smaller down to
 * `minSize` if needed, then cut with an ellipsis.
 */
function fitText(
  doc: Doc,
  text: string,
  x: number,
  baseline: number,
  width: number,
  size: number,
  align: 'left' | 'right' | 'center',
  minSize = 6,
): void {
  let shown = oneLine(text);
  let fontSize = size;
  doc.fontSize(fontSize);
  while (doc.widthOfString(shown) > width && fontSize > minSize) {
    fontSize = Math.max(minSize, fontSize - 0.5);
    doc.fontSize(fontSize);
  }
  if (doc.widthOfString(shown) > width) {
    const chars = Array.from(shown);
    while (chars.length > 0 && doc.widthOfString(`${chars.join('')}…`) > width) chars.pop();
    shown = `${chars.join('')}…`;
  }
  const textWidth = doc.widthOfString(shown);
  const left =
    align === 'right'
      ? x + width - textWidth
      : align === 'center'
        ? x + (width - textWidth) / 2
        : x;
  doc.text(shown, left, baseline, { lineBreak: false, baseline: 'alphabetic' });
}

interface Column {
  header: string;
  width: number;
  align: 'left' | 'right';
}

const ROW_HEIGHT = 16;
const CELL_PAD = 4;

/**
 * A table, one text line per row, its header repeated on every page it runs onto. Returns the y
 * below it.
 */
function drawTable(
  doc: Doc,
  columns: Column[],
  rows: string[][],
  top: number,
  colorOf: (column: number, text: string) => string = () => COLOR.text,
): number {
  const frame = frameOf(doc);
  const tableWidth = columns.reduce((sum, column) => sum + column.width, 0);
  let y = top;

  const drawRow = (cells: string[], size: number, colors: (i: number) => string) => {
    let x = frame.left;
    columns.forEach((column, i) => {
      doc.fillColor(colors(i));
      const text = cells[i] ?? '';
      fitText(doc, text, x + CELL_PAD, y + 11.5, column.width - 2 * CELL_PAD, size, column.align);
      x += column.width;
    });
  };
  const drawHeader = () => {
    doc.rect(frame.left, y, tableWidth, ROW_HEIGHT).fill(COLOR.headerFill);
    drawRow(
      columns.map((column) => column.header),
      8.5,
      () => COLOR.text,
    );
    y += ROW_HEIGHT;
  };

  drawHeader();
  const body = rows.length > 0 ? rows : [['—']];
  for (const cells of body) {
    if (y + ROW_HEIGHT > frame.bottom) {
      y = newPage(doc);
      drawHeader();
    }
    drawRow(cells, 9, (i) => (rows.length > 0 ? colorOf(i, cells[i] ?? '') : COLOR.muted));
    y += ROW_HEIGHT;
    doc
      .moveTo(frame.left, y)
      .lineTo(frame.left + tableWidth, y)
      .lineWidth(0.5)
      .strokeColor(COLOR.rule)
      .stroke();
  }
  doc.fillColor(COLOR.text);
  return y;
}

// ---------------------------------------------------------------------------------------------
// Chart

const CHART = {
  /** Room for the y-axis labels, left of the plot. */
  axisLabels: 36,
  /** Room for the target line's label, right of the plot. */
  targetLabel: 62,
  plotHeight: 150,
  /** Heading, plot, day labels and legend. */
  totalHeight: 18 + 8 + 150 + 40,
} as const;

/**
 * Slots of the chart: one per calendar day of `month` (YYYY-MM), filled from the points of that
 * month (points of other days are not drawn); without a valid month, one slot per point.
 */
function chartSlots(month: string, daily: DailyPoint[]): { label: string; share: number | null }[] {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  const monthNumber = match ? Number(match[2]) : 0;
  if (!match || monthNumber < 1 || monthNumber > 12) {
    return daily.map((point, i) => ({
      label: /^\d{4}-\d{2}-(\d{2})$/.exec(point.day)?.[1]?.replace(/^0/, '') ?? String(i + 1),
      share: point.renewableShare,
    }));
  }
  const days = new Date(Date.UTC(Number(match[1]), monthNumber, 0)).getUTCDate();
  const shares = new Map<number, number | null>();
  for (const point of daily) {
    if (point.day.startsWith(`${month}-`))
      shares.set(Number(point.day.slice(8)), point.renewableShare);
  }
  return Array.from({ length: days }, (_, i) => ({
    label: String(i + 1),
    share: shares.get(i + 1) ?? null,
  }));
}

function drawChart(doc: Doc, month: string, daily: DailyPoint[], top: number): number {
  const frame = frameOf(doc);
  let y = heading(
    doc,
    'Daily renewable electricity share 每日可再生电力占比',
    top,
    CHART.totalHeight - 18,
  );
  const plotLeft = frame.left + CHART.axisLabels;
  const plotRight = frame.right - CHART.targetLabel;
  const plotTop = y + 8;
  const plotBottom = plotTop + CHART.plotHeight;
  const yOf = (share: number) => plotBottom - share * CHART.plotHeight;

  // Gridlines with their labels; the 90 % target line (dashed, labelled) is drawn over the bars.
  const gridline = (share: number) => {
    const lineY = yOf(share);
    doc.save();
    if (share === TARGET_SHARE) {
      doc.lineWidth(1).strokeColor(COLOR.target).dash(4, { space: 3 });
    } else {
      doc.lineWidth(share === 0 ? 0.8 : 0.5).strokeColor(share === 0 ? COLOR.text : COLOR.grid);
    }
    doc.moveTo(plotLeft, lineY).lineTo(plotRight, lineY).stroke();
    doc.restore();
  };
  for (const share of [0, 0.5, TARGET_SHARE, 1]) {
    if (share !== TARGET_SHARE) gridline(share);
    doc.fillColor(share === TARGET_SHARE ? COLOR.target : COLOR.muted);
    fitText(
      doc,
      `${Math.round(share * 100)} %`,
      frame.left,
      yOf(share) + 2.5,
      CHART.axisLabels - 6,
      7,
      'right',
    );
  }
  doc.fillColor(COLOR.target);
  fitText(
    doc,
    'target 目标 90 %',
    plotRight + 4,
    yOf(TARGET_SHARE) + 2.5,
    CHART.targetLabel - 4,
    7,
    'left',
  );

  // Y axis.
  doc
    .moveTo(plotLeft, plotTop)
    .lineTo(plotLeft, plotBottom)
    .lineWidth(0.8)
    .strokeColor(COLOR.text)
    .stroke();

  // Bars, one slot per day, with the day of month below.
  const slots = chartSlots(month, daily);
  const slotWidth = (plotRight - plotLeft) / Math.max(slots.length, 1);
  const barWidth = slotWidth * 0.7;
  let missing = false;
  slots.forEach((slot, i) => {
    const slotLeft = plotLeft + i * slotWidth;
    const centre = slotLeft + slotWidth / 2;
    if (slot.share === null || !Number.isFinite(slot.share)) {
      missing = true;
      doc
        .rect(centre - 1.5, plotBottom - 5, 3, 3)
        .lineWidth(0.6)
        .strokeColor(COLOR.noData)
        .stroke();
    } else {
      const height = Math.min(Math.max(slot.share, 0), 1) * CHART.plotHeight;
      if (height > 0) {
        doc.rect(centre - barWidth / 2, plotBottom - height, barWidth, height).fill(COLOR.bar);
      }
    }
    doc.fillColor(COLOR.muted);
    fitText(doc, slot.label, slotLeft, plotBottom + 10, slotWidth, 6.5, 'center', 4);
  });

  gridline(TARGET_SHARE);

  // Legend.
  y = plotBottom + 26;
  doc.rect(plotLeft, y - 6, 8, 6).fill(COLOR.bar);
  doc.fillColor(COLOR.muted);
  fitText(doc, 'renewable share of the day 当日可再生电力占比', plotLeft + 12, y, 200, 7, 'left');
  if (missing) {
    doc
      .rect(plotLeft + 230, y - 5.5, 3, 3)
      .lineWidth(0.6)
      .strokeColor(COLOR.noData)
      .stroke();
    doc.fillColor(COLOR.muted);
    fitText(doc, 'no data 无数据', plotLeft + 238, y, 100, 7, 'left');
  }
  doc.fillColor(COLOR.text);
  return y + 6;
}

// ---------------------------------------------------------------------------------------------
// Footer

function drawFooters(doc: Doc, report: Report): void {
  const range = doc.bufferedPageRange();
  const who =
    report.kind === 'enterprise_statement'
      ? `${report.enterpriseName} | ${report.month}`
      : `${report.parkName} | ${report.month}`;
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const frame = frameOf(doc);
    const baseline = doc.page.height - 30;
    doc.fillColor(COLOR.muted);
    fitText(doc, who, frame.left, baseline, frame.width - 80, 7.5, 'left');
    fitText(
      doc,
      `${i - range.start + 1} / ${range.count}`,
      frame.right - 80,
      baseline,
      80,
      7.5,
      'right',
    );
  }
}
