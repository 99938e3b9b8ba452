import { Dec, decimalText } from '@park/domain-primitives';
import { StreamWriter, type EventStore, type Queryable } from '@park/eventstore';
import { NotFoundError, ValidationError } from '@park/service-kit/errors';
import { requireEnterprisePark } from '../directory/directory';
import { monthBounds } from '../periods/period-close';
import {
  cbamForInstallation,
  type InstallationCbamResult,
  type ProcessPeriodInput,
} from './attribution';
import { cbamCsv } from './csv';
import {
  processDecider,
  processStreamId,
  type ProcessCommand,
  type ProcessDetails,
  type ProcessEvent,
  type ProcessState,
} from './process';

async function projectProcesses(
  db: Queryable,
  events: { type: string; streamVersion: number; data: unknown }[],
): Promise<void> {
  for (const { type, streamVersion, data } of events) {
    const event = { type, ...(data as object) } as ProcessEvent;
    switch (event.type) {
      case 'ProcessRegistered':
        await db.query(
          `INSERT INTO processes (process_id, installation_id, enterprise_id, name, meter_ids)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (process_id) DO UPDATE SET installation_id = $2, enterprise_id = $3, name = $4, meter_ids = $5`,
          [event.processId, event.installationId, event.enterpriseId, event.name, event.meterIds],
        );
        break;
      case 'ProductionRecorded':
        await db.query(
          `INSERT INTO production_records (process_id, month, cn_code, net_mass_tonnes, route, non_cbam_output, stream_version)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (process_id, month, cn_code, route) DO UPDATE
             SET net_mass_tonnes = $4, non_cbam_output = $6, stream_version = $7`,
          [
            event.processId,
            `${event.month}-01`,
            event.cnCode,
            event.netMassTonnes,
            event.route,
            event.nonCbamOutput,
            streamVersion,
          ],
        );
        break;
      case 'PrecursorRecorded':
        await db.query(
          `INSERT INTO precursor_records (process_id, month, cn_code, origin, supplier, consumed_tonnes, direct_see, indirect_see, stream_version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (process_id, month, cn_code, origin, supplier) DO UPDATE
             SET consumed_tonnes = $6, direct_see = $7, indirect_see = $8, stream_version = $9`,
          [
            event.processId,
            `${event.month}-01`,
            event.cnCode,
            event.origin,
            event.supplier,
            event.consumedTonnes,
            event.directSee,
            event.indirectSee,
            streamVersion,
          ],
        );
        break;
    }
  }
}

export class CbamService {
  private readonly writer: StreamWriter<ProcessCommand, ProcessEvent, ProcessState>;

  constructor(
    store: EventStore,
    private readonly pool: Queryable,
  ) {
    this.writer = new StreamWriter(store, processDecider, projectProcesses);
  }

  /** The process's enterprise (for access checks), or NotFound. */
  async processEnterprise(processId: string): Promise<string> {
    const { rows } = await this.pool.query<{ enterprise_id: string }>(
      'SELECT enterprise_id FROM processes WHERE process_id = $1',
      [processId],
    );
    if (!rows[0]) throw new NotFoundError(`process ${processId} is not registered`);
    return rows[0].enterprise_id;
  }

  /**
   * The enterprise whose processes make up the installation, or undefined for a new one. An
   * installation belongs to one enterprise: its CBAM data is read, and access to it checked, as
   * that enterprise's.
   */
  async installationOwner(installationId: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ enterprise_id: string }>(
      'SELECT enterprise_id FROM processes WHERE installation_id = $1 ORDER BY process_id LIMIT 1',
      [installationId],
    );
    return rows[0]?.enterprise_id;
  }

  /** Those of the meters the registry knows as another enterprise's. */
  async foreignMeters(enterpriseId: string, meterIds: readonly string[]): Promise<string[]> {
    const { rows } = await this.pool.query<{ meter_id: string }>(
      `SELECT meter_id FROM carbon_meters
       WHERE meter_id = ANY($1::text[]) AND enterprise_id <> $2 ORDER BY meter_id`,
      [meterIds.map((id) => id.trim()), enterpriseId],
    );
    return rows.map((row) => row.meter_id);
  }

  async installationEnterprise(installationId: string): Promise<string> {
    const owner = await this.installationOwner(installationId);
    if (owner === undefined) {
      throw new NotFoundError(`installation ${installationId} has no registered process`);
    }
    return owner;
  }

  async execute(command: ProcessCommand): Promise<ProcessState> {
    const outcome = await this.writer.handle(processStreamId(command.processId || '-'), command);
    return outcome.state;
  }

  async registerProcess(details: ProcessDetails): Promise<ProcessDetails> {
    const state = await this.execute({ type: 'RegisterProcess', ...details });
    if (!state.registered) throw new Error('process not registered after its event');
    const { registered: _registered, ...registered } = state;
    return registered;
  }

  /**
   * CBAM data of an installation for whole months: each process's direct emissions (fuels and
   * purchased heat on its meters), its electricity by source with the factor each carries (a
   * direct line's actual factor, the MEE grid factor otherwise), its production and precursors.
   */
  async cbamData(
    installationId: string,
    fromMonth: string,
    toMonth: string,
  ): Promise<{ result: InstallationCbamResult; csv: string }> {
    const enterpriseId = await this.installationEnterprise(installationId);
    const { park } = await requireEnterprisePark(this.pool, enterpriseId);
    const from = monthBounds(fromMonth, park.timeZone).from;
    const to = monthBounds(toMonth, park.timeZone).to;
    if (from >= to) throw ValidationError.field('to_month', 'must not be before from_month');
    const { rows: processes } = await this.pool.query<{ process_id: string; meter_ids: string[] }>(
      'SELECT process_id, meter_ids FROM processes WHERE installation_id = $1 ORDER BY process_id',
      [installationId],
    );
    const inputs: ProcessPeriodInput[] = [];
    for (const process of processes) {
      const { rows: energy } = await this.pool.query<{
        category: string;
        electricity_kwh: string;
        scope1: string;
        location: string;
      }>(
        `SELECT category, coalesce(sum(electricity_kwh), 0)::text AS electricity_kwh,
           coalesce(sum(scope1_kgco2e), 0)::text AS scope1,
           coalesce(sum(scope2_location_kgco2e), 0)::text AS location
         FROM ledger_lines
         WHERE meter_id = ANY($1::text[]) AND interval_start >= $2 AND interval_start < $3
           AND kind <> 'certificate_coverage' AND enterprise_id = $4
         GROUP BY category`,
        [process.meter_ids, from, to, enterpriseId],
      );
      let direct = new Dec(0);
      let gridKwh = new Dec(0);
      let gridKg = new Dec(0);
      let lineKwh = new Dec(0);
      for (const row of energy) {
        direct = direct.plus(row.scope1);
        if (row.category === 'purchased_heat' || row.category === 'purchased_steam') {
          direct = direct.plus(row.location);
        } else if (row.category === 'grid_electricity' || row.category === 'internal_electricity') {
          gridKwh = gridKwh.plus(row.electricity_kwh);
          gridKg = gridKg.plus(row.location);
        } else if (
          row.category === 'direct_line_electricity' ||
          row.category === 'onsite_renewable_electricity'
        ) {
          lineKwh = lineKwh.plus(row.electricity_kwh);
        }
      }
      const electricity: ProcessPeriodInput['electricity'] = [];
      if (lineKwh.gt(0)) {
        // Renewable generation over a direct technical link emits nothing: its actual factor is 0.
        electricity.push({
          source: 'direct_line',
          kwh: decimalText(lineKwh),
          factorKgPerKwh: '0',
          factorSource: 'actual_direct_line',
        });
      }
      if (gridKwh.gt(0)) {
        electricity.push({
          source: 'grid',
          kwh: decimalText(gridKwh),
          factorKgPerKwh: decimalText(gridKg.div(gridKwh)),
          factorSource: 'mee_grid',
        });
      }
      const { rows: production } = await this.pool.query<{
        cn_code: string;
        net_mass_tonnes: string;
        route: string;
        non_cbam_output: boolean;
      }>(
        `SELECT cn_code, sum(net_mass_tonnes)::text AS net_mass_tonnes, route, non_cbam_output
         FROM production_records WHERE process_id = $1 AND month >= $2::date AND month <= $3::date
         GROUP BY cn_code, route, non_cbam_output ORDER BY cn_code, route`,
        [process.process_id, `${fromMonth}-01`, `${toMonth}-01`],
      );
      const { rows: precursors } = await this.pool.query<{
        cn_code: string;
        consumed_tonnes: string;
        direct_see: string;
        indirect_see: string;
        origin: 'own' | 'supplier';
      }>(
        `SELECT cn_code, consumed_tonnes::text, direct_see::text, indirect_see::text, origin
         FROM precursor_records WHERE process_id = $1 AND month >= $2::date AND month <= $3::date
         ORDER BY month, cn_code, origin, supplier`,
        [process.process_id, `${fromMonth}-01`, `${toMonth}-01`],
      );
      // No output in the period (registered later, idle, or stopped): no good to attribute to.
      // It cannot make the installation's data unavailable: standby energy made nothing, and a
      // process cannot record 0 t of output.
      if (production.length === 0) continue;
      inputs.push({
        processId: process.process_id,
        directKgCo2e: decimalText(direct),
        electricity,
        production: production.map((row) => ({
          cnCode: row.cn_code,
          netMassTonnes: decimalText(new Dec(row.net_mass_tonnes)),
          route: row.route,
          cbam: !row.non_cbam_output,
        })),
        precursors: precursors.map((row) => ({
          cnCode: row.cn_code,
          consumedTonnes: decimalText(new Dec(row.consumed_tonnes)),
          directSeeTco2PerT: decimalText(new Dec(row.direct_see)),
          indirectSeeTco2PerT: decimalText(new Dec(row.indirect_see)),
          origin: row.origin,
        })),
      });
    }
    const result = cbamForInstallation({ installationId, fromMonth, toMonth, processes: inputs });
    return { result, csv: cbamCsv(result) };
  }
}
