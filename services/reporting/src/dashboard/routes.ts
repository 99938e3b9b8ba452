import * as fs from 'node:fs';
import * as path from 'node:path';
import { localDate } from '@park/domain-primitives';
import {
  assertOwnEnterprise,
  authorizeCall,
  httpMiddleware,
  principalOf,
  signDevelopmentToken,
  type AuthSettings,
  type HttpRequest as Request,
  type HttpResponse as Response,
  type Principal,
  type ServeOptions,
} from '@park/service-kit';
import { NotFoundError, ValidationError } from '@park/service-kit/errors';
import type { CbamSource } from '../api/reports';
import { parsePeriod, type Granularity } from '../kpis/periods';
import type { ReportingQueries } from '../kpis/reporting-queries';
import { DASHBOARD_ACCESS, DASHBOARD_PATHS, type DashboardRoute } from './access';
import type { CarbonData, DashboardConfig, DevEnterprises, SessionInfo } from './contract';
import type { ProjectionChanges } from './live';
import type { DashboardQueries } from './queries';
import { upstreamReason, type CertificateSource, type TopologySource } from './upstream';

type Router = Parameters<NonNullable<ServeOptions['httpRoutes']>>[0];

export interface DashboardApiDeps {
  queries: DashboardQueries;
  reporting: ReportingQueries;
  changes: ProjectionChanges;
  /** Carbon's certificates and CBAM data, asked with the caller's token; absent: not configured. */
  certificates?: CertificateSource;
  cbam?: CbamSource;
  /** Dispatch's topology (battery capacities and SOC meters); absent: not configured. */
  topology?: TopologySource;
  clock?: () => Date;
}

/** A query parameter given once, or undefined. */
function param(request: Request, name: string): string | undefined {
  const value = (request.query as Record<string, unknown>)[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw ValidationError.field(name, 'must be given once');
  return value;
}

/**
 * The dashboard's JSON API, behind the service's bearer tokens (the page sends the one it was
 * given at sign-in) and DASHBOARD_ACCESS; errors are problem+json like the rest of the API.
 */
export function mountDashboardApi(router: Router, deps: DashboardApiDeps): void {
  const clock = deps.clock ?? (() => new Date());
  const route = (
    name: DashboardRoute,
    handler: (request: Request, principal: Principal) => Promise<unknown>,
  ) =>
    router.get(DASHBOARD_PATHS[name], async (request: Request, response: Response) => {
      const principal = principalOf(request);
      authorizeCall(`dashboard ${name}`, DASHBOARD_ACCESS[name], principal);
      if (DASHBOARD_ACCESS[name].enterpriseScoped) {
        assertOwnEnterprise(principal, String(request.params.enterpriseId ?? ''));
      }
      response.set('Cache-Control', 'no-store').json(await handler(request, principal));
    });

  const parkToday = async (parkId: string) =>
    localDate(clock().getTime(), (await deps.reporting.park(parkId)).timeZone);
  const dayOf = async (request: Request, parkId: string) =>
    param(request, 'day') ?? (await parkToday(parkId));
  const monthOf = async (request: Request, parkId: string) =>
    param(request, 'month') ?? (await parkToday(parkId)).slice(0, 7);
  const parkOf = (request: Request) => String(request.params.parkId);
  const enterpriseOf = async (request: Request) => {
    const enterpriseId = String(request.params.enterpriseId);
    return { enterpriseId, ...(await deps.reporting.enterprise(enterpriseId)) };
  };

  route('session', async (_request, principal): Promise<SessionInfo> => ({
    ...(await deps.queries.session(principal, clock())),
    sources: { carbon: Boolean(deps.certificates), dispatch: Boolean(deps.topology) },
    events: DASHBOARD_PATHS.events,
  }));

  router.get(DASHBOARD_PATHS.events, async (request: Request, response: Response) => {
    authorizeCall('dashboard events', DASHBOARD_ACCESS.events, principalOf(request));
    await deps.changes.stream(request, response);
  });

  route('overview', async (request) => {
    const parkId = parkOf(request);
    const granularity = (param(request, 'granularity') ?? 'month') as Granularity;
    if (!['day', 'month', 'year'].includes(granularity)) {
      throw ValidationError.field('granularity', 'must be day, month or year');
    }
    const today = await parkToday(parkId);
    const period =
      param(request, 'period') ??
      { day: today, month: today.slice(0, 7), year: today.slice(0, 4) }[granularity];
    return deps.queries.overview(parkId, granularity, period, clock());
  });

  route('balance', async (request) => {
    const parkId = parkOf(request);
    return deps.queries.balance(parkId, await dayOf(request, parkId));
  });

  route('ranking', async (request) => {
    const parkId = parkOf(request);
    const order = param(request, 'order') ?? 'intensity';
    if (order !== 'intensity' && order !== 'renewable_share') {
      throw ValidationError.field('order', 'must be intensity or renewable_share');
    }
    return deps.queries.ranking(parkId, await monthOf(request, parkId), order);
  });

  route('enterprise', async (request) => {
    const { enterpriseId, parkId } = await enterpriseOf(request);
    return deps.queries.enterprise(enterpriseId, await monthOf(request, parkId));
  });

  route('carbon', async (request): Promise<CarbonData> => {
    const { enterpriseId, parkId } = await enterpriseOf(request);
    const month = await monthOf(request, parkId);
    const { timeZone } = await deps.reporting.park(parkId);
    const period = parsePeriod('month', month, timeZone, 'month');
    if (!deps.certificates || !deps.cbam) {
      return {
        available: false,
        reason: 'carbon is not configured for reporting (REPORTING_CARBON_GRPC_ADDRESS)',
        cbam: [],
      };
    }
    const authorization = request.headers.authorization ?? '';
    let certificates: CarbonData['certificates'];
    try {
      certificates = await deps.certificates(enterpriseId, period, authorization);
    } catch (error) {
      return { available: false, reason: upstreamReason('carbon', error), cbam: [] };
    }
    const cbam = deps.cbam;
    const installations = await deps.queries.installations(enterpriseId);
    return {
      available: true,
      certificates,
      cbam: await Promise.all(
        installations.map(async (installation) => {
          try {
            const data = await cbam(installation.installationId, month, month, authorization);
            return { ...installation, data: data.json };
          } catch (error) {
            return { ...installation, error: upstreamReason('carbon', error) };
          }
        }),
      ),
    };
  });

  route('dispatch', async (request) => {
    const parkId = parkOf(request);
    const day = await dayOf(request, parkId);
    let topology: Parameters<DashboardQueries['dispatch']>[2];
    if (!deps.topology) {
      topology = {
        unavailable: 'dispatch is not configured for reporting (REPORTING_DISPATCH_GRPC_ADDRESS)',
      };
    } else {
      try {
        topology = {
          batteries: await deps.topology(parkId, request.headers.authorization ?? ''),
        };
      } catch (error) {
        topology = { unavailable: upstreamReason('dispatch', error) };
      }
    }
    return deps.queries.dispatch(parkId, day, topology);
  });

  route('quality', async (request) => {
    const parkId = parkOf(request);
    return deps.queries.quality(parkId, await dayOf(request, parkId), clock());
  });
}

export interface DashboardPagesOptions {
  /** The bundle esbuild wrote (index.html, main.js, main.css). */
  dir: string;
  /** Development sign-in: tokens signed with the service's HS256 secret, for anyone who asks. */
  devSignIn?: {
    auth: AuthSettings;
    enterprises: () => Promise<DevEnterprises['enterprises']>;
  };
}

/** What a browser may load without a token: the page, its assets, and sign-in helpers. */
export function mountDashboardPages(router: Router, options: DashboardPagesOptions): void {
  const index = path.join(options.dir, 'index.html');
  const headers = (response: Response) =>
    response.set({
      // The page loads its own script and style only, and talks to this service only.
      'Content-Security-Policy':
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });

  router.get('/', (_request, response) => response.redirect(302, '/dashboard/'));
  router.get('/dashboard', (request, response, next) => {
    // Relative asset URLs need the trailing slash.
    if (request.originalUrl.split('?')[0] === '/dashboard') response.redirect(301, '/dashboard/');
    else next();
  });
  router.get('/dashboard/config.json', (_request, response) => {
    const config: DashboardConfig = { devSignIn: Boolean(options.devSignIn) };
    headers(response).set('Cache-Control', 'no-store').json(config);
  });
  const dev = options.devSignIn;
  if (dev) {
    router.get('/dashboard/dev/enterprises', async (_request, response) => {
      const list: DevEnterprises = { enterprises: await dev.enterprises() };
      headers(response).set('Cache-Control', 'no-store').json(list);
    });
    router.post(
      '/dashboard/dev/sign-in',
      httpMiddleware.json({ limit: '1kb' }),
      async (request: Request, response: Response) => {
        const body = (request.body ?? {}) as { role?: unknown; enterpriseId?: unknown };
        if (body.role !== 'operator' && body.role !== 'enterprise') {
          throw ValidationError.field('role', 'must be operator or enterprise');
        }
        let enterpriseId: string | undefined;
        if (body.role === 'enterprise') {
          const known = await dev.enterprises();
          enterpriseId = typeof body.enterpriseId === 'string' ? body.enterpriseId : '';
          if (!known.some((e) => e.enterpriseId === enterpriseId)) {
            throw ValidationError.field(
              'enterpriseId',
              `'${enterpriseId}' is not a known enterprise`,
            );
          }
        }
        const token = await signDevelopmentToken(dev.auth, {
          role: body.role,
          subject: enterpriseId ? `dev-dashboard-${enterpriseId}` : 'dev-dashboard-operator',
          ...(enterpriseId ? { enterpriseId } : {}),
          ttlSeconds: 12 * 3600,
        });
        headers(response).set('Cache-Control', 'no-store').json({ token });
      },
    );
  }
  router.use('/dashboard', (request, response, next) => {
    if (!['GET', 'HEAD'].includes(request.method) || fs.existsSync(index)) {
      headers(response);
      next();
      return;
    }
    // The API works without the page; say how to get the page.
    response
      .status(503)
      .type('text/plain; charset=utf-8')
      .send(
        `The dashboard is not built: ${index} is missing.\n` +
          'Build it with `npm run build` at the repository root (it bundles services/reporting/web ' +
          'with esbuild), or `npm run build:dashboard --workspace @park/reporting` after `tsc -b`.\n',
      );
  });
  router.use(
    '/dashboard',
    httpMiddleware.static(options.dir, {
      index: 'index.html',
      // Not content-hashed: revalidated (ETag) on every load, so a new build shows at once.
      setHeaders: (response) => response.setHeader('Cache-Control', 'no-cache'),
    }),
  );
  router.use('/dashboard', (request, _response, next) => {
    next(new NotFoundError(`no dashboard file ${request.originalUrl}`));
  });
}
