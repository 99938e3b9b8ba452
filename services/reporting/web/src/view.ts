// What every view gets and gives: the session and the route's parameters in; its root element and
// a refresh (fetch and draw again, keeping what the reader set: filters, sort) out.

import type { SessionInfo } from '../../src/dashboard/contract';

export interface Context {
  session: SessionInfo;
  /** The route's parameters (after "?" in the hash). */
  params: URLSearchParams;
  /** Opens a route: "#/overview?day=2025-06-01". */
  navigate(hash: string): void;
}

export interface View {
  root: HTMLElement;
  refresh(): Promise<void>;
}

/** The park a park-wide view shows: ?park=, else the first one. */
export function parkOf(ctx: Context) {
  const wanted = ctx.params.get('park');
  return ctx.session.parks.find((p) => p.parkId === wanted) ?? ctx.session.parks[0];
}

/** A route's hash with its parameters (empty ones left out). */
export function route(path: string, params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const query = search.toString();
  return `#/${path}${query ? `?${query}` : ''}`;
}

let controlIds = 0;
/** A unique id for a control and its label. */
export function controlId(name: string): string {
  controlIds += 1;
  return `${name}-${controlIds}`;
}
