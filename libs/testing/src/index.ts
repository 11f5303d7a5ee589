export * from './http-client';
export * from './specification';
export * from './test-app';
