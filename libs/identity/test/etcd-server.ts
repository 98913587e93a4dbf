// The etcd test helper lives in src/testing so that the compiled benchmark can start etcd too.
export { EtcdServer, type EtcdServerOptions } from '../src/testing/etcd-server.js';
