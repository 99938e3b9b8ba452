import type { Decider } from '@park/eventstore';
import { PreconditionError } from '@park/service-kit/errors';
import { Violations } from '@park/domain-primitives';

/**
 * An installation is the CBAM unit of an enterprise: a site whose production processes get
 * emissions attributed. Its meters are the ones that serve it. That the enterprise and the meters
 * exist is checked by the adapter against the registry read model: aggregates do not read each
 * other's streams.
 */
export interface RegisterInstallation {
  type: 'RegisterInstallation';
  installationId: string;
  enterpriseId: string;
  parkId: string;
  name: string;
  meterIds: string[];
}

export type InstallationCommand = RegisterInstallation;

export type InstallationEvent = {
  type: 'InstallationRegistered';
  installationId: string;
  enterpriseId: string;
  parkId: string;
  name: string;
  meterIds: string[];
};

export type InstallationState =
  { status: 'new' } | { status: 'registered'; installation: Omit<InstallationEvent, 'type'> };

export const installationStreamId = (installationId: string): string =>
  `installation-${installationId}`;

export const installationDecider: Decider<
  InstallationCommand,
  InstallationEvent,
  InstallationState
> = {
  initialState: () => ({ status: 'new' }),

  evolve(_state, event) {
    switch (event.type) {
      case 'InstallationRegistered': {
        const { type: _type, ...installation } = event;
        return { status: 'registered', installation };
      }
    }
  },

  decide(command, state) {
    switch (command.type) {
      case 'RegisterInstallation': {
        const v = new Violations();
        const installationId = v.requiredText('installation_id', command.installationId, 64);
        const enterpriseId = v.requiredText('enterprise_id', command.enterpriseId, 64);
        const parkId = v.requiredText('park_id', command.parkId, 64);
        const name = v.requiredText('name', command.name);
        const meterIds: string[] = [];
        if (!Array.isArray(command.meterIds)) v.add('meter_ids', 'must be a list of meter ids');
        else
          command.meterIds.forEach((meterId, index) => {
            const id = v.requiredText(`meter_ids[${index}]`, meterId, 64);
            if (id === undefined) return;
            if (meterIds.includes(id)) v.add(`meter_ids[${index}]`, `meter ${id} is listed twice`);
            else meterIds.push(id);
          });
        v.throwIfAny();
        const registered = {
          installationId: installationId!,
          enterpriseId: enterpriseId!,
          parkId: parkId!,
          name: name!,
          meterIds,
        };
        if (state.status === 'registered') {
          if (JSON.stringify(state.installation) === JSON.stringify(registered)) return [];
          throw new PreconditionError(`installation ${installationId} is already registered`);
        }
        return [{ type: 'InstallationRegistered', ...registered }];
      }
    }
  },
};
