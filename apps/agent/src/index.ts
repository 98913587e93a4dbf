export * from './config.js';
export * from './cidr.js';
export * from './cell.js';
export * from './health.js';
export * from './tables.js';
export * from './reconciler.js';
export * from './ipam.js';
