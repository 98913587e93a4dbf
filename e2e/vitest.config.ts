import { sharedConfig } from '../vitest.shared.ts';

// One lab at a time: the files share the machine's namespaces and CPU, and each brings up a whole cluster.
export default sharedConfig({ testTimeout: 60_000, fileParallelism: false });
