import { PreconditionError, ValidationError } from '@park/service-kit/errors';
import {
  enterpriseDecider,
  type EnterpriseCommand,
  type EnterpriseEvent,
  type RegisterEnterprise,
} from './enterprise';

const register: RegisterEnterprise = {
  type: 'RegisterEnterprise',
  enterpriseId: 'ent-1',
  parkId: 'park-1',
  name: 'Shenyang Gearbox Works',
  // Hand-computed in credit-code.test.ts.
  creditCode: '91210106MA0Y5K7R5J',
  industryCode: 'C3451',
  exporter: true,
  energyUsing: true,
  keyEnergyConsumingUnit: false,
};

const registered: EnterpriseEvent = {
  type: 'EnterpriseRegistered',
  enterpriseId: 'ent-1',
  parkId: 'park-1',
  name: 'Shenyang Gearbox Works',
  creditCode: '91210106MA0Y5K7R5J',
  industryCode: 'C3451',
  exporter: true,
  energyUsing: true,
  keyEnergyConsumingUnit: false,
};

function given(history: EnterpriseEvent[]) {
  const state = history.reduce(enterpriseDecider.evolve, enterpriseDecider.initialState());
  return {
    state,
    when(command: EnterpriseCommand): { events?: EnterpriseEvent[]; error?: unknown } {
      try {
        return { events: enterpriseDecider.decide(command, state) };
      } catch (error) {
        return { error };
      }
    },
  };
}

describe('Enterprise', () => {
  it('registers with a valid credit code, upper-casing what was typed', () => {
    expect(given([]).when({ ...register, creditCode: '91210106ma0y5k7r5j' })).toEqual({
      events: [registered],
    });
  });

  it('rejects a credit code whose check character is wrong, naming the field', () => {
    // The GB 32100 check of 91210106MA0Y5K7R5 is J (see credit-code.test.ts), not K.
    const { error } = given([]).when({ ...register, creditCode: '91210106MA0Y5K7R5K' });
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations).toEqual([
      { field: 'credit_code', description: "check character is 'K', expected 'J' (GB 32100)" },
    ]);
  });

  it('rejects a bad industry code and missing flags together', () => {
    const { error } = given([]).when({
      ...register,
      industryCode: 'Z12',
      exporter: undefined as unknown as boolean,
    });
    expect((error as ValidationError).violations.map((v) => v.field)).toEqual([
      'industry_code',
      'exporter',
    ]);
  });

  it('treats the same registration again as a no-op and a different one as a conflict', () => {
    expect(given([registered]).when(register)).toEqual({ events: [] });
    expect(given([registered]).when({ ...register, name: 'Other' }).error).toBeInstanceOf(
      PreconditionError,
    );
  });

  it('updates only what changed', () => {
    const { events } = given([registered]).when({
      type: 'UpdateEnterprise',
      enterpriseId: 'ent-1',
      changes: { name: 'Shenyang Gearbox Works', keyEnergyConsumingUnit: true },
    });
    expect(events).toEqual([
      {
        type: 'EnterpriseUpdated',
        enterpriseId: 'ent-1',
        changes: { keyEnergyConsumingUnit: true },
        enterprise: {
          enterpriseId: 'ent-1',
          parkId: 'park-1',
          name: 'Shenyang Gearbox Works',
          creditCode: '91210106MA0Y5K7R5J',
          industryCode: 'C3451',
          exporter: true,
          energyUsing: true,
          keyEnergyConsumingUnit: true,
        },
      },
    ]);
    const after = given([registered, ...events!]).state;
    expect(after).toMatchObject({ profile: { keyEnergyConsumingUnit: true, exporter: true } });
  });

  it('validates an updated credit code too', () => {
    const { error } = given([registered]).when({
      type: 'UpdateEnterprise',
      enterpriseId: 'ent-1',
      changes: { creditCode: '91210100123456789H' },
    });
    expect((error as ValidationError).violations[0]).toMatchObject({ field: 'credit_code' });
  });

  it('cannot update an enterprise that is not registered', () => {
    const { error } = given([]).when({ type: 'UpdateEnterprise', enterpriseId: 'x', changes: {} });
    expect(error).toBeInstanceOf(PreconditionError);
  });
});
