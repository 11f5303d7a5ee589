export * from './instrumented.event-store';
export * from './json-logger';
export * from './metrics';
export * from './request-context';
export * from './observability.module';
