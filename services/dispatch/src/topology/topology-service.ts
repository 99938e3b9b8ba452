import { StreamWriter, type EventStore, type Queryable } from '@park/eventstore';
import {
  topologyDecider,
  topologyStreamId,
  type Topology,
  type TopologyCommand,
  type TopologyEvent,
} from './topology';

/** Direct lines and the meters their allocations read, for the readings consumer's lookups. */
async function projectTopology(
  db: Queryable,
  events: { type: string; data: unknown }[],
): Promise<void> {
  for (const { type, data } of events) {
    await db.query('INSERT INTO topology_parks (park_id) VALUES ($1) ON CONFLICT DO NOTHING', [
      (data as { parkId: string }).parkId,
    ]);
    if (type === 'BatteryRegistered') {
      const { parkId, battery } = data as Extract<TopologyEvent, { type: 'BatteryRegistered' }>;
      await db.query('DELETE FROM soc_meters WHERE battery_id = $1', [battery.batteryId]);
      if (battery.socMeterId) {
        await db.query(
          `INSERT INTO soc_meters (meter_id, battery_id, park_id) VALUES ($1, $2, $3)
           ON CONFLICT (meter_id) DO UPDATE SET battery_id = $2, park_id = $3`,
          [battery.socMeterId, battery.batteryId, parkId],
        );
      }
      continue;
    }
    if (type !== 'DirectLineRegistered') continue;
    const { parkId, line } = data as Extract<TopologyEvent, { type: 'DirectLineRegistered' }>;
    await db.query(
      `INSERT INTO direct_lines (line_id, park_id, definition) VALUES ($1, $2, $3)
       ON CONFLICT (line_id) DO UPDATE SET park_id = $2, definition = $3`,
      [line.lineId, parkId, JSON.stringify(line)],
    );
    await db.query('DELETE FROM line_meters WHERE line_id = $1', [line.lineId]);
    const meters = [
      line.lineMeterId,
      line.storageMeterId,
      line.exportMeterId,
      ...line.consumers.flatMap((consumer) => consumer.consumptionMeterIds),
    ].filter((meter): meter is string => Boolean(meter));
    await db.query(
      `INSERT INTO line_meters (meter_id, line_id, park_id)
       SELECT DISTINCT m, $2, $3 FROM unnest($1::text[]) AS m ON CONFLICT DO NOTHING`,
      [meters, line.lineId, parkId],
    );
  }
}

export class TopologyService {
  private readonly writer: StreamWriter<TopologyCommand, TopologyEvent, Topology>;

  constructor(store: EventStore) {
    this.writer = new StreamWriter(store, topologyDecider, projectTopology, {
      snapshots: {
        every: 50,
        stateVersion: 1,
        serialize: (state) => state as never,
        deserialize: (json) => json as unknown as Topology,
      },
    });
  }

  async execute(command: TopologyCommand): Promise<Topology> {
    const outcome = await this.writer.handle(topologyStreamId(command.parkId), command);
    return { ...outcome.state, parkId: command.parkId };
  }

  async topology(parkId: string): Promise<{ topology: Topology; version: number }> {
    const { state, version } = await this.writer.load(topologyStreamId(parkId));
    return { topology: { ...state, parkId }, version };
  }
}
