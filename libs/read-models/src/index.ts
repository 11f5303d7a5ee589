export * from './incident.projection';
export * from './projection-runner';
export * from './read-model.factory';
export * from './read-model.port';
export * from './rebuild';
export * from './sqlite.read-model-store';
