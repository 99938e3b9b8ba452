// parkctl as a library: the command functions, for tests and for other tools.
export { run, createProgram } from './program';
export {
  Context,
  resolveSettings,
  DEFAULT_ADDRESSES,
  type GlobalOptions,
  type Io,
  type Settings,
} from './context';
export {
  render,
  renderCsv,
  renderTable,
  type View,
  type Section,
  type OutputFormat,
} from './output';
export { CliError, UsageError, EXIT, describeServiceError } from './errors';
export { ProgressBar, formatBytes } from './progress';
export * from './commands/registry';
export * from './commands/import';
export * from './commands/series';
export * from './commands/carbon';
export * from './commands/dispatch';
export * from './commands/reporting';
export * from './commands/dlq';
export * from './commands/token';
