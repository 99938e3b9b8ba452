import { type EventMetadata, type EventStore, StreamWriter } from '@park/eventstore';
import { NotFoundError, PreconditionError } from '@park/service-kit/errors';
import type { MeterStreams } from '../readings/meter-streams';
import { projectMeteringEvents } from '../readings/projection';
import {
  enterpriseDecider,
  enterpriseStreamId,
  type EnterpriseProfile,
  type RegisterEnterprise,
  type UpdateEnterprise,
} from './enterprise';
import {
  installationDecider,
  installationStreamId,
  type RegisterInstallation,
} from './installation';
import { MeterDirectory, type MeterRecord } from './meter-directory';
import type {
  DecommissionMeter,
  MeterRegistration,
  RegisterMeter,
  ReplaceMeter,
} from './meter-registration';
import { parkDecider, parkStreamId, type ConfigurePark, type ParkProfile } from './park';

type Input<C> = Omit<C, 'type'>;

/**
 * Registry commands: each through its decider, appended and projected into the registry tables
 * in ONE transaction (StreamWriter), so a meter registered is found by the next ingest at once
 * and the read model never lags the streams it is checked against. Cross-aggregate checks (the
 * park and enterprise of a meter exist) are made here, against the read model.
 */
export class RegistryService {
  private readonly parks;
  private readonly enterprises;
  private readonly installations;

  constructor(
    store: EventStore,
    private readonly meters: MeterStreams,
    readonly directory: MeterDirectory = new MeterDirectory(store.pool),
  ) {
    this.parks = new StreamWriter(store, parkDecider, projectMeteringEvents);
    this.enterprises = new StreamWriter(store, enterpriseDecider, projectMeteringEvents);
    this.installations = new StreamWriter(store, installationDecider, projectMeteringEvents);
  }

  async configurePark(
    command: Input<ConfigurePark>,
    metadata?: EventMetadata,
  ): Promise<ParkProfile> {
    const { state } = await this.parks.handle(
      parkStreamId(command.parkId),
      { type: 'ConfigurePark', ...command },
      metadata,
    );
    if (state.status !== 'configured') throw new Error('park not configured');
    return state.park;
  }

  async registerEnterprise(
    command: Input<RegisterEnterprise>,
    metadata?: EventMetadata,
  ): Promise<void> {
    await this.requirePark(command.parkId);
    await this.enterprises.handle(
      enterpriseStreamId(command.enterpriseId),
      { type: 'RegisterEnterprise', ...command },
      metadata,
    );
  }

  async updateEnterprise(
    command: Input<UpdateEnterprise>,
    metadata?: EventMetadata,
  ): Promise<EnterpriseProfile> {
    const { state } = await this.enterprises.handle(
      enterpriseStreamId(command.enterpriseId),
      { type: 'UpdateEnterprise', ...command },
      metadata,
    );
    if (state.status !== 'registered') throw new Error('enterprise not registered');
    return state.profile;
  }

  async registerInstallation(
    command: Input<RegisterInstallation>,
    metadata?: EventMetadata,
  ): Promise<void> {
    const enterprise = await this.requireEnterprise(command.enterpriseId);
    if (enterprise.parkId !== command.parkId) {
      throw new PreconditionError(
        `enterprise ${command.enterpriseId} is in park ${enterprise.parkId}`,
      );
    }
    const ids = Array.isArray(command.meterIds) ? command.meterIds : [];
    const found = await this.directory.getMany(ids);
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0)
      throw new NotFoundError(`meter(s) ${missing.join(', ')} not registered`);
    const foreign = ids.filter((id) => found.get(id)!.enterpriseId !== command.enterpriseId);
    if (foreign.length > 0) {
      throw new PreconditionError(`meter(s) ${foreign.join(', ')} serve another enterprise`);
    }
    await this.installations.handle(
      installationStreamId(command.installationId),
      { type: 'RegisterInstallation', ...command },
      metadata,
    );
  }

  /** Registers a meter of an enterprise; its time zone is the park's. */
  async registerMeter(
    command: Omit<RegisterMeter, 'type' | 'timeZone'>,
    metadata?: EventMetadata,
  ): Promise<MeterRegistration> {
    const park = await this.requirePark(command.parkId);
    const enterprise = await this.requireEnterprise(command.enterpriseId);
    if (enterprise.parkId !== command.parkId) {
      throw new PreconditionError(
        `enterprise ${command.enterpriseId} is in park ${enterprise.parkId}`,
      );
    }
    const { state } = await this.meters.execute(
      { type: 'RegisterMeter', ...command, timeZone: park.timeZone },
      metadata,
    );
    this.directory.invalidate(command.meterId);
    if (state.status === 'unregistered') throw new Error('meter not registered');
    return state.registration;
  }

  async replaceMeter(command: Input<ReplaceMeter>, metadata?: EventMetadata): Promise<void> {
    await this.meters.partitions.ensure([command.at]);
    await this.meters.execute({ type: 'ReplaceMeter', ...command }, metadata);
    this.directory.invalidate(command.meterId);
  }

  async decommissionMeter(
    command: Input<DecommissionMeter>,
    metadata?: EventMetadata,
  ): Promise<void> {
    await this.meters.execute({ type: 'DecommissionMeter', ...command }, metadata);
    this.directory.invalidate(command.meterId);
  }

  getMeter(meterId: string): Promise<MeterRecord | undefined> {
    return this.directory.get(meterId);
  }

  async getPark(parkId: string): Promise<ParkProfile | undefined> {
    const { rows } = await this.meters.store.pool.query<{
      park_id: string;
      name: string;
      time_zone: string;
      latitude: number;
      longitude: number;
      grid_region: ParkProfile['gridRegion'];
      size_band: ParkProfile['sizeBand'];
    }>('SELECT * FROM parks WHERE park_id = $1', [parkId]);
    const row = rows[0];
    return row
      ? {
          parkId: row.park_id,
          name: row.name,
          timeZone: row.time_zone,
          latitude: row.latitude,
          longitude: row.longitude,
          gridRegion: row.grid_region,
          sizeBand: row.size_band,
        }
      : undefined;
  }

  async getEnterprise(
    enterpriseId: string,
  ): Promise<(EnterpriseProfile & { enterpriseId: string; parkId: string }) | undefined> {
    const { rows } = await this.meters.store.pool.query<{
      enterprise_id: string;
      park_id: string;
      name: string;
      credit_code: string;
      industry_code: string;
      exporter: boolean;
      energy_using: boolean;
      key_energy_consuming_unit: boolean;
    }>('SELECT * FROM enterprises WHERE enterprise_id = $1', [enterpriseId]);
    const row = rows[0];
    return row
      ? {
          enterpriseId: row.enterprise_id,
          parkId: row.park_id,
          name: row.name,
          creditCode: row.credit_code,
          industryCode: row.industry_code,
          exporter: row.exporter,
          energyUsing: row.energy_using,
          keyEnergyConsumingUnit: row.key_energy_consuming_unit,
        }
      : undefined;
  }

  private async requirePark(parkId: string): Promise<ParkProfile> {
    const park = await this.getPark(parkId);
    if (!park) throw new NotFoundError(`park ${parkId} is not configured`);
    return park;
  }

  private async requireEnterprise(enterpriseId: string) {
    const enterprise = await this.getEnterprise(enterpriseId);
    if (!enterprise) throw new NotFoundError(`enterprise ${enterpriseId} is not registered`);
    return enterprise;
  }
}
