import type { Decider } from '@park/eventstore';
import { PreconditionError } from '@park/service-kit/errors';
import { Violations } from '@park/domain-primitives';
import { checkCreditCode } from './credit-code';

export interface EnterpriseProfile {
  name: string;
  /** Unified social credit code (GB 32100), upper case. */
  creditCode: string;
  /** GB/T 4754-2017 industry classification: section letter and up to 4 digits, e.g. "C3411". */
  industryCode: string;
  exporter: boolean;
  /** Counts towards the platform coverage target (>= 90 % of energy-using enterprises). */
  energyUsing: boolean;
  /** 重点用能单位: subject to energy-consumption reporting duties. */
  keyEnergyConsumingUnit: boolean;
}

export interface RegisterEnterprise extends EnterpriseProfile {
  type: 'RegisterEnterprise';
  enterpriseId: string;
  parkId: string;
}

export interface UpdateEnterprise {
  type: 'UpdateEnterprise';
  enterpriseId: string;
  changes: Partial<EnterpriseProfile>;
}

export type EnterpriseCommand = RegisterEnterprise | UpdateEnterprise;

/** An enterprise's whole state after an event. */
export interface EnterpriseSnapshot extends EnterpriseProfile {
  enterpriseId: string;
  parkId: string;
}

export type EnterpriseEvent =
  | ({ type: 'EnterpriseRegistered'; enterpriseId: string; parkId: string } & EnterpriseProfile)
  | {
      type: 'EnterpriseUpdated';
      enterpriseId: string;
      changes: Partial<EnterpriseProfile>;
      /** The whole enterprise after the change: the compacted registry topic carries it. */
      enterprise: EnterpriseSnapshot;
    };

export type EnterpriseState =
  | { status: 'new' }
  | { status: 'registered'; enterpriseId: string; parkId: string; profile: EnterpriseProfile };

export const enterpriseStreamId = (enterpriseId: string): string => `enterprise-${enterpriseId}`;

export const enterpriseDecider: Decider<EnterpriseCommand, EnterpriseEvent, EnterpriseState> = {
  initialState: () => ({ status: 'new' }),

  evolve(state, event) {
    switch (event.type) {
      case 'EnterpriseRegistered': {
        const { type: _type, enterpriseId, parkId, ...profile } = event;
        return { status: 'registered', enterpriseId, parkId, profile };
      }
      case 'EnterpriseUpdated':
        if (state.status !== 'registered') return state;
        // `changes` rather than `enterprise`: events stored before `enterprise` existed lack it.
        return { ...state, profile: { ...state.profile, ...event.changes } };
    }
  },

  decide(command, state) {
    switch (command.type) {
      case 'RegisterEnterprise': {
        const v = new Violations();
        const enterpriseId = v.requiredText('enterprise_id', command.enterpriseId, 64);
        const parkId = v.requiredText('park_id', command.parkId, 64);
        const profile = validateProfile(v, command, true) as EnterpriseProfile;
        v.throwIfAny();
        if (state.status === 'registered') {
          // A retried registration with the same data is a no-op, anything else a conflict.
          if (state.parkId === parkId && sameProfile(state.profile, profile)) return [];
          throw new PreconditionError(`enterprise ${state.enterpriseId} is already registered`);
        }
        return [
          {
            type: 'EnterpriseRegistered',
            enterpriseId: enterpriseId!,
            parkId: parkId!,
            ...profile,
          },
        ];
      }
      case 'UpdateEnterprise': {
        if (state.status !== 'registered') {
          throw new PreconditionError(`enterprise ${command.enterpriseId} is not registered`);
        }
        const v = new Violations();
        const validated = validateProfile(v, command.changes, false);
        v.throwIfAny();
        const changes: Partial<EnterpriseProfile> = {};
        for (const key of Object.keys(validated) as (keyof EnterpriseProfile)[]) {
          if (validated[key] !== undefined && validated[key] !== state.profile[key]) {
            (changes as Record<string, unknown>)[key] = validated[key];
          }
        }
        if (Object.keys(changes).length === 0) return [];
        return [
          {
            type: 'EnterpriseUpdated',
            enterpriseId: state.enterpriseId,
            changes,
            enterprise: {
              enterpriseId: state.enterpriseId,
              parkId: state.parkId,
              ...state.profile,
              ...changes,
            },
          },
        ];
      }
    }
  },
};

const INDUSTRY_CODE = /^[A-T](?:\d{2}|\d{3}|\d{4})?$/;

/** Validates the given fields; with `complete`, every field is required. */
function validateProfile(
  v: Violations,
  input: Partial<EnterpriseProfile>,
  complete: boolean,
): Partial<EnterpriseProfile> {
  const profile: Partial<EnterpriseProfile> = {};
  const wants = (key: keyof EnterpriseProfile) => complete || input[key] !== undefined;
  if (wants('name')) profile.name = v.requiredText('name', input.name);
  if (wants('creditCode')) {
    const code = v.requiredText('credit_code', input.creditCode, 18)?.toUpperCase();
    if (code !== undefined) {
      const verdict = checkCreditCode(code);
      if (verdict.valid) profile.creditCode = code;
      else v.add('credit_code', verdict.description);
    }
  }
  if (wants('industryCode')) {
    const code = v.requiredText('industry_code', input.industryCode, 5)?.toUpperCase();
    if (code !== undefined) {
      if (INDUSTRY_CODE.test(code)) profile.industryCode = code;
      else v.add('industry_code', 'must be a GB/T 4754 code: a section letter A-T and 2-4 digits');
    }
  }
  if (wants('exporter')) profile.exporter = v.boolean('exporter', input.exporter);
  if (wants('energyUsing')) profile.energyUsing = v.boolean('energy_using', input.energyUsing);
  if (wants('keyEnergyConsumingUnit')) {
    profile.keyEnergyConsumingUnit = v.boolean(
      'key_energy_consuming_unit',
      input.keyEnergyConsumingUnit,
    );
  }
  return profile;
}

function sameProfile(a: EnterpriseProfile, b: EnterpriseProfile): boolean {
  return (Object.keys(a) as (keyof EnterpriseProfile)[]).every((key) => a[key] === b[key]);
}
