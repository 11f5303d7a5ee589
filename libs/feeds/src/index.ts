export * from './cloud-events';
export * from './feed-publisher.port';
export * from './feeds.module';
export * from './kafka.publisher';
export * from './postgres.relay-state';
export * from './relay';
export * from './relay-state.port';
export * from './sqlite.relay-checkpoint';
