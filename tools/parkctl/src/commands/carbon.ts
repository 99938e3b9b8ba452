// The carbon service: footprints, green electricity certificates and CBAM data.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { park } from '@park/contracts';
import type { Context } from '../context';
import { parseCsv } from '../csv';
import { CliError, UsageError } from '../errors';
import { recordView, type Column, type Row, type Section, type View } from '../output';
import { parseDay, parseMonth, parseRange } from '../time';
import { dec, decimalOf, iso, required } from '../values';

const v1 = park.carbon.v1;

// ---- footprint ---------------------------------------------------------------------------

const FOOTPRINT_COLUMNS: Column[] = [
  { key: 'enterprise_id', header: 'enterprise' },
  { key: 'from' },
  { key: 'to' },
  { key: 'energy_tce', header: 'energy tce' },
  { key: 'electricity_kwh', header: 'electricity kWh' },
  { key: 'grid_kwh', header: 'grid kWh' },
  { key: 'renewable_kwh', header: 'renewable kWh' },
  { key: 'certificate_kwh', header: 'certificate kWh' },
  { key: 'scope1_kgco2e', header: 'scope 1 kgCO2e' },
  { key: 'scope2_location_kgco2e', header: 'scope 2 location kgCO2e' },
  { key: 'scope2_market_kgco2e', header: 'scope 2 market kgCO2e' },
  { key: 'renewable_share', header: 'renewable share' },
  { key: 'cfe_score', header: 'CFE score' },
  { key: 'closed' },
];

export async function footprint(
  ctx: Context,
  enterpriseId: string,
  options: { from?: string; to?: string },
): Promise<View> {
  const period = parseRange(options.from, options.to, ctx.settings.timeZone);
  const response = await ctx.unary<'carbon', park.carbon.v1.GetEnterpriseFootprintResponse>(
    'carbon',
    (client, md, opts, done) =>
      client.getEnterpriseFootprint({ enterpriseId, period }, md, opts, done),
  );
  const f = response.footprint;
  if (!f) return recordView(null, FOOTPRINT_COLUMNS, {});
  const row: Row = {
    enterprise_id: f.enterpriseId,
    from: iso(f.period?.start),
    to: iso(f.period?.end),
    energy_tce: dec(f.energyTce),
    electricity_kwh: dec(f.figures?.electricityKwh),
    grid_kwh: dec(f.figures?.gridKwh),
    renewable_kwh: dec(f.figures?.renewableKwh),
    certificate_kwh: dec(f.certificateKwh),
    scope1_kgco2e: dec(f.scope1Kgco2e),
    scope2_location_kgco2e: dec(f.scope2LocationKgco2e),
    scope2_market_kgco2e: dec(f.scope2MarketKgco2e),
    renewable_share: dec(f.renewableShare),
    cfe_score: dec(f.cfeScore),
    closed: f.closed,
  };
  const sections: Section[] = [{ layout: 'record', columns: FOOTPRINT_COLUMNS, rows: [row] }];
  if (f.energy.length > 0) {
    sections.push({
      title: 'energy by commodity:',
      columns: [
        { key: 'commodity' },
        { key: 'quantity', align: 'right' },
        { key: 'unit' },
        { key: 'energy_kgce', header: 'kgce', align: 'right' },
      ],
      rows: f.energy.map((e) => ({
        commodity: e.commodity,
        quantity: dec(e.quantity),
        unit: e.unit,
        energy_kgce: dec(e.energyKgce),
      })),
    });
  }
  if (f.scope1ByFuel.length > 0) {
    sections.push({
      title: 'scope 1 by fuel:',
      columns: [{ key: 'fuel' }, { key: 'kgco2e', header: 'kgCO2e', align: 'right' }],
      rows: f.scope1ByFuel.map((s) => ({ fuel: s.fuel, kgco2e: dec(s.kgco2e) })),
    });
  }
  return { json: v1.Footprint.toJSON(f), sections };
}

// ---- certificates ------------------------------------------------------------------------

/**
 * A CSV of certificates with the header `serial,vintage,generator_id,mwh` (any order): one
 * green electricity certificate (GEC) per row, vintage YYYY-MM.
 */
export async function importCertificates(
  ctx: Context,
  enterpriseId: string,
  file: string,
): Promise<View> {
  const fullPath = path.resolve(ctx.io.cwd, file);
  let text: string;
  try {
    text = await fs.promises.readFile(fullPath, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const certificates = certificatesFromCsv(text, file);
  const response = await ctx.unary<'carbon', park.carbon.v1.ImportCertificatesResponse>(
    'carbon',
    (client, md, opts, done) =>
      client.importCertificates({ enterpriseId, certificates }, md, opts, done),
  );
  return recordView(
    v1.ImportCertificatesResponse.toJSON(response),
    [
      { key: 'enterprise_id', header: 'enterprise' },
      { key: 'imported' },
      { key: 'mwh', header: 'MWh' },
    ],
    { enterprise_id: enterpriseId, imported: response.imported, mwh: dec(response.mwh) },
  );
}

export function certificatesFromCsv(text: string, file: string): park.carbon.v1.Certificate[] {
  let parsed: ReturnType<typeof parseCsv>;
  try {
    parsed = parseCsv(text);
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
  const needed = ['serial', 'vintage', 'generator_id', 'mwh'];
  const missing = needed.filter((column) => !parsed.columns.includes(column));
  if (missing.length > 0) {
    throw new UsageError(
      `${file}: the header needs the columns ${needed.join(',')} (missing ${missing.join(', ')})`,
    );
  }
  if (parsed.records.length === 0) throw new UsageError(`${file}: no certificates in the file`);
  return parsed.records.map(({ line, values }) => {
    const where = `${file} line ${line}`;
    const vintage = values.vintage!;
    return {
      serial: required(values.serial, `${where}: serial`),
      vintage: parseMonth(vintage, `${where}: vintage`),
      generatorId: values.generator_id!,
      mwh: decimalOf(values.mwh!, `${where}: mwh`),
    };
  });
}

export async function retireCertificates(
  ctx: Context,
  enterpriseId: string,
  serials: string[],
  options: { fromDate?: string; toDate?: string },
): Promise<View> {
  if (serials.length === 0) throw new UsageError('name at least one certificate serial');
  const fromDate = parseDay(required(options.fromDate, '--from-date'), '--from-date');
  const toDate = parseDay(options.toDate ?? fromDate, '--to-date');
  const response = await ctx.unary<'carbon', park.carbon.v1.RetireCertificatesResponse>(
    'carbon',
    (client, md, opts, done) =>
      client.retireCertificates({ enterpriseId, serials, fromDate, toDate }, md, opts, done),
  );
  return recordView(
    v1.RetireCertificatesResponse.toJSON(response),
    [
      { key: 'enterprise_id', header: 'enterprise' },
      { key: 'from_date', header: 'from' },
      { key: 'to_date', header: 'to' },
      { key: 'serials' },
      { key: 'retired_mwh', header: 'retired MWh' },
      { key: 'grid_kwh', header: 'grid kWh in the period' },
    ],
    {
      enterprise_id: enterpriseId,
      from_date: fromDate,
      to_date: toDate,
      serials: serials.length,
      retired_mwh: dec(response.retiredMwh),
      grid_kwh: dec(response.gridKwh),
    },
  );
}

// ---- CBAM --------------------------------------------------------------------------------

const GOOD_COLUMNS: Column[] = [
  { key: 'process_id', header: 'process' },
  { key: 'cn_code', header: 'CN code' },
  { key: 'sector' },
  { key: 'route' },
  { key: 'net_mass_t', header: 'net mass t', align: 'right' },
  { key: 'direct_tco2e', header: 'direct tCO2e', align: 'right' },
  { key: 'indirect_tco2e', header: 'indirect tCO2e', align: 'right' },
  { key: 'direct_see', header: 'direct SEE', align: 'right' },
  { key: 'indirect_see', header: 'indirect SEE', align: 'right' },
  { key: 'indirect_counts', header: 'indirect counts' },
  { key: 'total_see', header: 'total SEE', align: 'right' },
  { key: 'electricity_mwh_per_t', header: 'MWh/t', align: 'right' },
];

export async function cbam(
  ctx: Context,
  installationId: string,
  options: { fromMonth?: string; toMonth?: string },
): Promise<View> {
  const fromMonth = parseMonth(required(options.fromMonth, '--from-month'), '--from-month');
  const toMonth = parseMonth(options.toMonth ?? fromMonth, '--to-month');
  const response = await ctx.unary<'carbon', park.carbon.v1.GetCbamDataResponse>(
    'carbon',
    (client, md, opts, done) =>
      client.getCbamData({ installationId, fromMonth, toMonth }, md, opts, done),
  );
  const data = response.data;
  const goods = data?.goods ?? [];
  return {
    json: data ? v1.CbamData.toJSON(data) : null,
    // The service's own CSV (header in the README), byte for byte.
    rawCsv: Buffer.from(response.csv).toString('utf8'),
    sections: [
      {
        layout: 'record',
        columns: [
          { key: 'installation_id', header: 'installation' },
          { key: 'from_month', header: 'from' },
          { key: 'to_month', header: 'to' },
          { key: 'total_mass_t', header: 'total mass t' },
          { key: 'total_direct_tco2e', header: 'total direct tCO2e' },
          { key: 'total_indirect_tco2e', header: 'total indirect tCO2e' },
        ],
        rows: [
          {
            installation_id: data?.installationId ?? installationId,
            from_month: data?.fromMonth ?? fromMonth,
            to_month: data?.toMonth ?? toMonth,
            total_mass_t: dec(data?.totalMassTonnes),
            total_direct_tco2e: dec(data?.totalDirectTco2e),
            total_indirect_tco2e: dec(data?.totalIndirectTco2e),
          },
        ],
      },
      {
        title: 'goods (SEE: specific embedded emissions, tCO2e per t):',
        columns: GOOD_COLUMNS,
        empty: '(no production recorded in these months)',
        rows: goods.map((good) => ({
          process_id: good.processId,
          cn_code: good.cnCode,
          sector: good.sector,
          route: good.route,
          net_mass_t: dec(good.netMassTonnes),
          direct_tco2e: dec(good.directTco2e),
          indirect_tco2e: dec(good.indirectTco2e),
          direct_see: dec(good.directSee),
          indirect_see: dec(good.indirectSee),
          indirect_counts: good.indirectEmissionsCount,
          total_see: dec(good.totalSee),
          electricity_mwh_per_t: dec(good.electricityMwhPerTonne),
        })),
      },
    ],
  };
}
