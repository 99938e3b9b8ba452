// NetworkPolicy semantics, enough to ask "may this pod open that port on that pod?".
import { asArray, asRecord, field, isObject, type KubeObject } from './manifests';
import { selectorMatches } from './workloads';

export interface Endpoint {
  /** For messages. */
  name: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  labels: Record<string, string>;
  /** Container ports by name, to resolve named ports in rules. */
  namedPorts?: Record<string, number>;
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

function policyTypes(policy: KubeObject): string[] {
  const declared = asArray(field(policy, 'spec', 'policyTypes')).map(String);
  if (declared.length > 0) return declared;
  // The API's default: Ingress always, Egress when there are egress rules.
  return field(policy, 'spec', 'egress') !== undefined ? ['Ingress', 'Egress'] : ['Ingress'];
}

function selects(policy: KubeObject, endpoint: Endpoint): boolean {
  return (
    (policy.metadata?.namespace ?? endpoint.namespace) === endpoint.namespace &&
    selectorMatches(field(policy, 'spec', 'podSelector') ?? {}, endpoint.labels)
  );
}

/**
 * A peer of a rule of a policy in `policyNamespace` against an endpoint. ipBlock peers are taken
 * to match no pod (they are meant for addresses outside the cluster).
 */
function peerMatches(peer: unknown, policyNamespace: string, endpoint: Endpoint): boolean {
  if (!isObject(peer) || peer.ipBlock !== undefined) return false;
  const namespaceOk =
    peer.namespaceSelector === undefined
      ? endpoint.namespace === policyNamespace
      : selectorMatches(peer.namespaceSelector, endpoint.namespaceLabels);
  const podOk =
    peer.podSelector === undefined || selectorMatches(peer.podSelector, endpoint.labels);
  return namespaceOk && podOk;
}

function portMatches(
  ports: unknown,
  port: number,
  protocol: Protocol,
  destination: Endpoint,
): boolean {
  const list = asArray(ports);
  if (list.length === 0) return true;
  return list.filter(isObject).some((entry) => {
    if ((entry.protocol ?? 'TCP') !== protocol) return false;
    if (entry.port === undefined) return true;
    if (typeof entry.port === 'string') return destination.namedPorts?.[entry.port] === port;
    if (typeof entry.port !== 'number') return false;
    const end = typeof entry.endPort === 'number' ? entry.endPort : entry.port;
    return port >= entry.port && port <= end;
  });
}

/**
 * Whether the policies let `from` open `port` on `to`: the sender's egress (if any policy selects
 * it for Egress) and the receiver's ingress (if any selects it for Ingress) must both allow it.
 */
export function allowed(
  policies: KubeObject[],
  from: Endpoint,
  to: Endpoint,
  port: number,
  protocol: Protocol = 'TCP',
): boolean {
  const direction = (
    endpoint: Endpoint,
    type: 'Ingress' | 'Egress',
    rulesKey: 'ingress' | 'egress',
    peersKey: 'from' | 'to',
    other: Endpoint,
  ): boolean => {
    const applying = policies.filter(
      (policy) => selects(policy, endpoint) && policyTypes(policy).includes(type),
    );
    if (applying.length === 0) return true;
    return applying.some((policy) =>
      asArray(field(policy, 'spec', rulesKey)).some((rule) => {
        const peers = asArray(asRecord(rule)[peersKey]);
        const peerOk =
          peers.length === 0 ||
          peers.some((peer) =>
            peerMatches(peer, policy.metadata?.namespace ?? endpoint.namespace, other),
          );
        return peerOk && portMatches(asRecord(rule).ports, port, protocol, to);
      }),
    );
  };
  return (
    direction(from, 'Egress', 'egress', 'to', to) &&
    direction(to, 'Ingress', 'ingress', 'from', from)
  );
}

/** A policy that selects every pod for both directions and allows nothing. */
export function isDefaultDeny(policy: KubeObject): boolean {
  const selector = asRecord(field(policy, 'spec', 'podSelector'));
  const types = policyTypes(policy);
  return (
    Object.keys(selector).length === 0 &&
    types.includes('Ingress') &&
    types.includes('Egress') &&
    asArray(field(policy, 'spec', 'ingress')).length === 0 &&
    asArray(field(policy, 'spec', 'egress')).length === 0
  );
}

/** Whether some policy other than a default deny selects the pod. */
export function hasOwnPolicy(policies: KubeObject[], endpoint: Endpoint): boolean {
  return policies.some((policy) => !isDefaultDeny(policy) && selects(policy, endpoint));
}
