// Test helpers for the projects that test against real Hubble servers (libs/hubble, the relay, the CLI).
export { createTestPki, type TestPki } from './test-certs.js';
export { testObserver } from './test-observer.js';
export { GrpcJsHubbleClient, type Plain } from './grpc-js-client.js';
