export { BpfError } from './bpf-error.js';
export { BpfObject, type LoadOptions } from './bpf-object.js';
export { BpfMap, type CreateMapOptions, type MapInfo, type MapType, type UpdateFlag } from './bpf-map.js';
export { BpfProgram, type TcAttachOptions, type TestRunOptions, type TestRunResult, type XdpAttachOptions } from './bpf-program.js';
export {
  CgroupLink, TcLink, XdpLink, ifindexOf, listCgroupAttachments, listTcAttachments, listXdpAttachment,
  type CgroupAttachType, type NetnsOption, type TcAttachmentInfo, type TcDirection, type XdpMode,
} from './attachments.js';
export { RingBufferReader, type RingBufferReaderOptions, type RingBufferStats } from './ring-buffer-reader.js';
export { libbpfVersion, numPossibleCpus } from './system.js';
