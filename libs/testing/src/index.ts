export * from './http-client';
export * from './specification';
export * from './test-app';
export * from './token-issuers';
export * from './log-capture';
