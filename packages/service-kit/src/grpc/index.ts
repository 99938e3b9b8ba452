export {
  createGrpcServer,
  GrpcServer,
  REFLECTION_SERVICES,
  type GrpcServerConfig,
  type GrpcServerOptions,
  type ShutdownReport,
} from './server';
export {
  defineService,
  type BidiStreamingHandler,
  type CallContext,
  type ClientStreamingHandler,
  type GrpcService,
  type MethodHandler,
  type ServerStreamingHandler,
  type ServiceHandlers,
  type UnaryHandler,
} from './service';
export {
  DIAGNOSTICS_SERVICE,
  diagnosticsHandlers,
  diagnosticsService,
  type DiagnosticsHandlers,
} from './diagnostics';
export { HEALTH_SERVICE } from './health';
export { BAD_REQUEST_TYPE_URL, fieldViolationsOf, STATUS_DETAILS_KEY } from './status';
export {
  accessRule,
  assertOwnEnterprise,
  authorizeCall,
  defineGuardedService,
  enterpriseLimit,
  type AccessRule,
  type AccessTable,
} from './access';
