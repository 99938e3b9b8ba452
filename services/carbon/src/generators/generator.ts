import { decimalText, Violations } from '@park/domain-primitives';
import type { Decider } from '@park/eventstore';
import type { AttributeStatus } from '../accounting/model';

/**
 * A generating plant whose power reaches enterprises over a direct line or behind their meter.
 * Its attribute status says whether its certificates stay with the consumers (its power then
 * counts as zero in market-based Scope 2) or are sold (the residual factor applies).
 */
export const GENERATOR_KINDS = ['pv', 'wind', 'hydro', 'biomass', 'other'] as const;
export type GeneratorKind = (typeof GENERATOR_KINDS)[number];
export const ATTRIBUTE_STATUSES: readonly AttributeStatus[] = ['retained', 'sold'];

export interface GeneratorDetails {
  generatorId: string;
  name: string;
  kind: GeneratorKind;
  capacityKw?: string;
  attributeStatus: AttributeStatus;
}

export interface RegisterGenerator extends GeneratorDetails {
  type: 'RegisterGenerator';
  registeredBy: string;
}

export interface GeneratorRegistered extends GeneratorDetails {
  type: 'GeneratorRegistered';
  registeredBy: string;
}

export type GeneratorState = { registered: false } | ({ registered: true } & GeneratorDetails);

export const generatorStreamId = (generatorId: string): string => `generator-${generatorId}`;

function validDetails(command: RegisterGenerator): GeneratorDetails {
  const v = new Violations();
  const generatorId = v.requiredText('generator.generator_id', command.generatorId, 64);
  const name = v.requiredText('generator.name', command.name, 200);
  const kind = v.oneOf('generator.kind', command.kind, GENERATOR_KINDS);
  const status = v.oneOf('generator.attribute_status', command.attributeStatus, ATTRIBUTE_STATUSES);
  let capacityKw: string | undefined;
  if (command.capacityKw !== undefined && command.capacityKw !== '') {
    const capacity = v.positiveDecimal('generator.capacity_kw', command.capacityKw);
    capacityKw = capacity && decimalText(capacity);
  }
  v.throwIfAny();
  return {
    generatorId: generatorId!,
    name: name!,
    kind: kind!,
    attributeStatus: status!,
    ...(capacityKw === undefined ? {} : { capacityKw }),
  };
}

function same(a: GeneratorDetails, b: GeneratorDetails): boolean {
  return (
    a.name === b.name &&
    a.kind === b.kind &&
    a.capacityKw === b.capacityKw &&
    a.attributeStatus === b.attributeStatus
  );
}

export const generatorDecider: Decider<RegisterGenerator, GeneratorRegistered, GeneratorState> = {
  initialState: () => ({ registered: false }),
  decide(command, state) {
    const details = validDetails(command);
    // Registering again with the same details is a retry; with new ones, an update.
    if (state.registered && same(state, details)) return [];
    return [{ type: 'GeneratorRegistered', ...details, registeredBy: command.registeredBy }];
  },
  evolve(_state, event) {
    const { type: _type, registeredBy: _by, ...details } = event;
    return { registered: true, ...details };
  },
};
