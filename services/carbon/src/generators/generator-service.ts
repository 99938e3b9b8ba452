import { StreamWriter, type EventStore, type Queryable } from '@park/eventstore';
import {
  generatorDecider,
  generatorStreamId,
  type GeneratorDetails,
  type GeneratorRegistered,
  type GeneratorState,
  type RegisterGenerator,
} from './generator';

async function projectGenerators(db: Queryable, events: { data: unknown }[]): Promise<void> {
  for (const { data } of events) {
    const event = data as Omit<GeneratorRegistered, 'type'>;
    await db.query(
      `INSERT INTO carbon_generators (generator_id, name, kind, capacity_kw, attribute_status)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (generator_id) DO UPDATE SET name = $2, kind = $3, capacity_kw = $4, attribute_status = $5`,
      [event.generatorId, event.name, event.kind, event.capacityKw ?? null, event.attributeStatus],
    );
  }
}

/**
 * Registers generators. A changed attribute status applies to postings booked from then on;
 * restating the generator's earlier postings is left to a factor-style restatement run.
 */
export class GeneratorService {
  private readonly writer: StreamWriter<RegisterGenerator, GeneratorRegistered, GeneratorState>;

  constructor(store: EventStore) {
    this.writer = new StreamWriter(store, generatorDecider, projectGenerators);
  }

  async register(details: GeneratorDetails, registeredBy: string): Promise<GeneratorDetails> {
    const outcome = await this.writer.handle(generatorStreamId(details.generatorId || '-'), {
      type: 'RegisterGenerator',
      ...details,
      registeredBy,
    });
    const state = outcome.state;
    if (!state.registered) throw new Error('generator not registered after its event');
    const { registered: _registered, ...registered } = state;
    return registered;
  }
}
