export * from './stack';
export {
  kafkaAnswers,
  startLocalKafka,
  stopLocalKafka,
  localKafkaSettings,
  kafkaLogFile,
  privateKafkaBroker,
  type KafkaBroker,
  type LocalKafkaSettings,
} from './kafka';
export { postgresAnswers, ensureDatabases, databaseUrl, redact } from './postgres';
export { redisAnswers } from './redis';
export { waitFor, withTimeout } from './wait';
export { repoRoot, workDir } from './paths';
