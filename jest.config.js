/** Test tiers: unit and contract specs live beside the code (libs/, apps/); black-box e2e suites live in test/. */
const moduleNameMapper = {
  '^@app/(domain|event-store|read-models|config|incidents|observability|auth|feeds|interchange|testing)$': '<rootDir>/libs/$1/src',
  '^@app/(auth|config|testing)/(.*)$': '<rootDir>/libs/$1/src/$2',
};

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  transform: { '^.+\\.ts$': 'ts-jest' },
  moduleNameMapper,
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 30000,
  maxWorkers: 2,
};
