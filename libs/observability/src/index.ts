export * from './instrumented.event-store';
export * from './json-logger';
export * from './metrics';
export * from './observability.module';
