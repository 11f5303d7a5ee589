export * from './errors';
export * from './event-store.port';
export * from './events-behind';
export * from './sqlite.event-store';
export * from './event-store.factory';
export * from './migration';
export * from './recorded-event';
