import express, {
  type ErrorRequestHandler,
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import type { Logger } from 'pino';
import type { Principal, TokenVerifier } from '../auth';
import { NotFoundError, TooLargeError, ValidationError } from '../errors';
import type { Readiness } from '../readiness';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem';

export interface MetricsEndpoint {
  render(): Promise<{ contentType: string; body: string }>;
}

export interface HttpAppOptions {
  readiness: Readiness;
  verifier: TokenVerifier;
  logger: Logger;
  metrics?: MetricsEndpoint;
  /** Mounts the service's own routes, all behind bearer-token authentication. */
  routes?: (router: express.Router) => void;
  /**
   * Routes without a token, mounted before the authenticated ones: what a browser loads before
   * it can send a bearer token (a page and its assets). Everything else needs a token.
   */
  publicRoutes?: (router: express.Router) => void;
  /** Largest JSON body accepted; bulk endpoints stream their bodies and set their own limit. */
  jsonLimit?: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** A request and a response of the services' HTTP routes. */
export type HttpRequest = Request;
export type HttpResponse = Response;

/**
 * Express's JSON body parser and static file server, for a service's own routes (a public route
 * with a body of its own, a page's assets), so that services need not depend on express.
 */
export const httpMiddleware = { json: express.json, static: express.static } as const;

/** The principal of an authenticated request (set by the auth middleware). */
export function principalOf(request: Request): Principal {
  if (!request.principal) throw new Error('route is not behind the auth middleware');
  return request.principal;
}

/**
 * The service's HTTP face: /healthz (alive) and /readyz (dependencies answer) and /metrics without
 * a token; every other route needs a bearer token; errors are problem+json.
 */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.get('/healthz', (_request, response) => {
    response.json({ status: 'alive' });
  });
  app.get('/readyz', (_request, response) => {
    const report = options.readiness.current;
    response
      .status(report.ready ? 200 : 503)
      .json({ status: report.ready ? 'ready' : 'not ready', ...report });
  });
  if (options.metrics) {
    const metrics = options.metrics;
    app.get('/metrics', async (_request, response, next) => {
      try {
        const { contentType, body } = await metrics.render();
        response.type(contentType).send(body);
      } catch (error) {
        next(error);
      }
    });
  }

  if (options.publicRoutes) {
    const open = express.Router();
    options.publicRoutes(open);
    app.use(open);
  }

  const authenticated = express.Router();
  authenticated.use(authenticate(options.verifier));
  authenticated.use(express.json({ limit: options.jsonLimit ?? '1mb' }));
  options.routes?.(authenticated);
  app.use(authenticated);

  app.use((request: Request, _response: Response, next: NextFunction) => {
    next(new NotFoundError(`no route for ${request.method} ${request.path}`));
  });
  app.use(problemHandler(options.logger));
  return app;
}

function authenticate(verifier: TokenVerifier): RequestHandler {
  return (request, _response, next) => {
    verifier.verifyAuthorization(request.headers.authorization).then((principal) => {
      request.principal = principal;
      next();
    }, next);
  };
}

function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const { problem, internal } = toProblem(translateExpressError(error));
    if (internal) {
      logger.error(
        { err: error, traceId: problem.traceId, method: request.method, path: request.path },
        'request failed',
      );
    }
    response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  };
}

/** body-parser's own errors become the API's errors, so they read like every other one. */
function translateExpressError(error: unknown): unknown {
  const typed = error as { type?: string; limit?: number; message?: string };
  if (typed.type === 'entity.too.large')
    return new TooLargeError(`request body is larger than ${typed.limit} bytes`);
  if (typed.type === 'entity.parse.failed')
    return ValidationError.field('body', `not valid JSON: ${typed.message}`);
  return error;
}
