// `npm run test:faults`: the fault test alone (src/*.faults.ts), which `npm test` never runs. It
// starts its own PostgreSQL cluster and Kafka broker, so no jest global setup is needed.
const { workspaceJestConfig } = require('../../jest.preset.cjs');

module.exports = {
  ...workspaceJestConfig(__dirname),
  displayName: 'faults',
  testMatch: ['<rootDir>/src/**/*.faults.ts'],
  // The file sets its hooks' and test's limits (10 minutes in all); this is only the default.
  testTimeout: 480_000,
  maxWorkers: 1,
};
