export * from './environment';
export * from './database';
export * from './private-postgres';
export * from './kafka';
export * from './eventually';
export { containerEngineAnswers } from './docker';
export * from './child-process';
export * from './grpc';
export * from './metering-stand-in';
