// Shared jest settings for every workspace: swc for speed, sources of sibling packages through
// their "development" export condition so tests never need a prior build.
const path = require('node:path');

const swcTransform = [
  '@swc/jest',
  {
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

/** @param {string} dir the workspace folder */
function workspaceJestConfig(dir) {
  return {
    displayName: path.basename(dir),
    rootDir: dir,
    testEnvironment: 'node',
    testEnvironmentOptions: {
      customExportConditions: ['development', 'node', 'require', 'default'],
    },
    transform: { '^.+\\.ts$': swcTransform },
    testMatch: ['<rootDir>/src/**/*.test.ts'],
  };
}

module.exports = { workspaceJestConfig, swcTransform };
