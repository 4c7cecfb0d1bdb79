// Two projects: `unit` runs the pure core on generated data; `e2e` drives real llama.cpp processes
// (it needs MODEL_FIT_GATE_LLAMA_BIN or a cached setup-llama build, which .ci/run provides).
const common = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] }
}
export default {
  globalSetup: './test/global-setup.mjs',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] }
  ]
}
