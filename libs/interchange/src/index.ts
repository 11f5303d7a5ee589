export * from './csv-timeline';
export * from './export-formats';
export * from './export-input';
export * from './markdown-report';
export * from './stable-id';
export * from './stix-bundle';
