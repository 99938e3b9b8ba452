import { ValidationError } from '@park/service-kit/errors';
import {
  allVersions,
  decide,
  evolve,
  factorCatalogDecider,
  initialCatalog,
  type FactorCatalogEvent,
  type PublishFactorSet,
} from './catalog';
import type { FactorSetDraft } from './factor-set';

const grid2023: FactorSetDraft = {
  setId: 'mee-nbs-grid-2023',
  publisher: 'MEE and NBS',
  document: '2023 electricity CO2 emission factors',
  year: 2023,
  validFrom: '2023-01-01T00:00+08:00',
  validTo: '2024-01-01T00:00+08:00',
  factors: [
    { key: 'grid:national', value: '0.5306', unit: 'kgCO2/kWh' },
    { key: 'grid:northeast', value: '0.5122', unit: 'kgCO2/kWh' },
  ],
};

const publish = (
  set: FactorSetDraft,
  publishedAt = '2026-01-20T09:00+08:00',
): PublishFactorSet => ({
  type: 'PublishFactorSet',
  set,
  publishedAt,
  publishedBy: 'operator-7',
});

function run(commands: PublishFactorSet[]) {
  let state = initialCatalog();
  const events: FactorCatalogEvent[][] = [];
  for (const command of commands) {
    const produced = decide(command, state);
    events.push(produced);
    state = produced.reduce(evolve, state);
  }
  return { state, events };
}

describe('factor catalog decider', () => {
  it('publishes a new set as version 1', () => {
    const [event] = decide(publish(grid2023), initialCatalog());
    expect(event).toEqual({
      type: 'FactorSetPublished',
      set: {
        setId: 'mee-nbs-grid-2023',
        version: 1,
        publisher: 'MEE and NBS',
        document: '2023 electricity CO2 emission factors',
        year: 2023,
        validFrom: '2022-12-31T16:00:00.000Z',
        validTo: '2023-12-31T16:00:00.000Z',
        factors: grid2023.factors,
      },
      // 09:00 in Shanghai is 01:00 UTC.
      publishedAt: '2026-01-20T01:00:00.000Z',
      publishedBy: 'operator-7',
    });
  });

  it('numbers republications of the same set and keeps every version', () => {
    const revised: FactorSetDraft = {
      ...grid2023,
      factors: [
        { key: 'grid:national', value: '0.5306', unit: 'kgCO2/kWh' },
        { key: 'grid:northeast', value: '0.5130', unit: 'kgCO2/kWh' },
      ],
    };
    const { state, events } = run([publish(grid2023), publish(revised, '2026-03-01T00:00Z')]);
    expect(events[1]![0]!.set.version).toBe(2);
    expect(state.versions['mee-nbs-grid-2023']!.map((s) => s.version)).toEqual([1, 2]);
    expect(state.versions['mee-nbs-grid-2023']![0]!.factors[1]!.value).toBe('0.5122');
    expect(state.versions['mee-nbs-grid-2023']![1]!.factors[1]!.value).toBe('0.5130');
    expect(allVersions(state)).toHaveLength(2);
  });

  it('treats a republication of identical content as a no-op', () => {
    // Same content, factors in another order and a value spelled with a trailing zero.
    const same: FactorSetDraft = {
      ...grid2023,
      factors: [
        { key: 'grid:northeast', value: '0.51220', unit: 'kgCO2/kWh' },
        { key: 'grid:national', value: '0.5306', unit: 'kgCO2/kWh' },
      ],
    };
    const { state, events } = run([
      publish(grid2023),
      publish(grid2023, '2026-02-01T00:00Z'),
      publish(same),
    ]);
    expect(events[1]).toEqual([]);
    expect(events[2]).toEqual([]);
    expect(state.versions['mee-nbs-grid-2023']).toHaveLength(1);
  });

  it('versions each setId on its own', () => {
    const other = { ...grid2023, setId: 'mee-nbs-grid-2022' };
    const { events } = run([publish(grid2023), publish(other)]);
    expect(events[1]![0]!.set.version).toBe(1);
  });

  it('a restored earlier content after a revision is a new version', () => {
    const revised = { ...grid2023, document: 'corrected' };
    const { events } = run([publish(grid2023), publish(revised), publish(grid2023)]);
    expect(events[2]![0]!.set.version).toBe(3);
  });

  it('reports every problem of the command, naming the fields', () => {
    const bad = publish({
      ...grid2023,
      factors: [{ key: 'grid:national', value: 'n/a', unit: 'kgCO2/kWh' }],
    });
    let error: unknown;
    try {
      decide({ ...bad, publishedAt: 'yesterday', publishedBy: '' }, initialCatalog());
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations.map((v) => v.field)).toEqual([
      'published_at',
      'published_by',
      'factors[0].value',
    ]);
  });

  it('is a Decider', () => {
    expect(factorCatalogDecider.initialState()).toEqual({ versions: {} });
  });
});
