export * from './incident-file';
export * from './incident-importer';
