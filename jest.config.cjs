const { swcTransform } = require('./jest.preset.cjs');

module.exports = {
  projects: ['<rootDir>/packages/*', '<rootDir>/services/*', '<rootDir>/tools/*'],
  transform: { '^.+\\.ts$': swcTransform },
  globalSetup: '<rootDir>/packages/testing/src/global-setup.ts',
  globalTeardown: '<rootDir>/packages/testing/src/global-teardown.ts',
  reporters: ['default', '<rootDir>/packages/testing/src/summary-reporter.cjs'],
  maxWorkers: 3,
  testTimeout: 60_000,
};
