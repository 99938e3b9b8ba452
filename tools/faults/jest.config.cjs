module.exports = require('../../jest.preset.cjs').workspaceJestConfig(__dirname);
