export * from './config';
export * from './errors';
export { AdmissionLimiter, type AdmissionLimits } from './admission';
export * from './auth';
export * from './logger';
export * from './readiness';
export * from './shutdown';
export {
  createHttpApp,
  httpMiddleware,
  principalOf,
  type HttpAppOptions,
  type HttpRequest,
  type HttpResponse,
  type MetricsEndpoint,
} from './http/app';
export { toProblem, PROBLEM_CONTENT_TYPE, type Problem } from './http/problem';
export * from './grpc';
export {
  deadLetterBadInput,
  ServiceRuntime,
  type ServiceRuntimeOptions,
  type ServeOptions,
} from './runtime';
export * from './telemetry';
