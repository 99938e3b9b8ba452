import { PreconditionError, ValidationError } from '@park/service-kit/errors';
import { installationDecider, type RegisterInstallation } from './installation';

const command: RegisterInstallation = {
  type: 'RegisterInstallation',
  installationId: 'inst-1',
  enterpriseId: 'ent-1',
  parkId: 'park-1',
  name: 'Gear hardening line',
  meterIds: ['m-1', 'm-2'],
};

describe('Installation', () => {
  const initial = installationDecider.initialState();

  it('registers with the meters that serve it', () => {
    expect(installationDecider.decide(command, initial)).toEqual([
      {
        type: 'InstallationRegistered',
        installationId: 'inst-1',
        enterpriseId: 'ent-1',
        parkId: 'park-1',
        name: 'Gear hardening line',
        meterIds: ['m-1', 'm-2'],
      },
    ]);
  });

  it('names a meter listed twice and a missing name', () => {
    expect(() =>
      installationDecider.decide({ ...command, name: ' ', meterIds: ['m-1', 'm-1'] }, initial),
    ).toThrow(
      new ValidationError([
        { field: 'name', description: 'is required' },
        { field: 'meter_ids[1]', description: 'meter m-1 is listed twice' },
      ]),
    );
  });

  it('is registered once', () => {
    const state = installationDecider
      .decide(command, initial)
      .reduce(installationDecider.evolve, initial);
    expect(installationDecider.decide(command, state)).toEqual([]);
    expect(() => installationDecider.decide({ ...command, name: 'Other' }, state)).toThrow(
      PreconditionError,
    );
  });
});
