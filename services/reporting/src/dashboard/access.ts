import { accessRule as rule, type AccessRule, type Role } from '@park/service-kit';

const READERS: readonly Role[] = ['operator', 'enterprise', 'service'];
const PARK_WIDE: readonly Role[] = ['operator', 'service'];

/**
 * Who may call which route of the dashboard's JSON API: the rules of the gRPC API
 * (REPORTING_ACCESS) carried over. Park-wide views (KPIs, energy balance, ranking, dispatch, data
 * quality) are for operators and services, as GetParkKpis and GetPlanVsActual are; an
 * enterprise token opens its own enterprise's page and data only (a 403 for any other), as
 * GetEnterpriseStatement; integrators nothing.
 */
export const DASHBOARD_ACCESS = {
  session: rule(READERS),
  events: rule(READERS),
  overview: rule(PARK_WIDE),
  balance: rule(PARK_WIDE),
  ranking: rule(PARK_WIDE),
  enterprise: rule(READERS, true),
  carbon: rule(READERS, true),
  dispatch: rule(PARK_WIDE),
  quality: rule(PARK_WIDE),
} as const satisfies Record<string, AccessRule>;

export type DashboardRoute = keyof typeof DASHBOARD_ACCESS;

/** The API's paths, by route (enterprise-scoped ones carry the enterprise id). */
export const DASHBOARD_PATHS: Record<DashboardRoute, string> = {
  session: '/v1/dashboard/session',
  events: '/v1/dashboard/events',
  overview: '/v1/dashboard/parks/:parkId/overview',
  balance: '/v1/dashboard/parks/:parkId/balance',
  ranking: '/v1/dashboard/parks/:parkId/ranking',
  enterprise: '/v1/dashboard/enterprises/:enterpriseId',
  carbon: '/v1/dashboard/enterprises/:enterpriseId/carbon',
  dispatch: '/v1/dashboard/parks/:parkId/dispatch',
  quality: '/v1/dashboard/parks/:parkId/quality',
};
