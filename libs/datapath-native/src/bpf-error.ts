/** What every failure of this library throws: the operation, what it acted on, and the errno. */
export interface BpfErrorInit {
  operation: string;
  subject: string;
  errno: number;
  code: string;
  description: string;
  detail?: string;
  verifierLog?: string;
}

export class BpfError extends Error {
  /** The libbpf call or syscall that failed, e.g. `bpf_map_update_elem`, `bpf_tc_attach`. */
  readonly operation: string;
  /** What it acted on: a map or program name, an object path, an interface. */
  readonly subject: string;
  /** Positive errno. */
  readonly errno: number;
  /** Errno name, e.g. `ENOENT`, `E2BIG`. */
  readonly code: string;
  /** For rejected program loads: the verifier's log. */
  readonly verifierLog?: string;

  constructor(init: BpfErrorInit) {
    const detail = init.detail ? ` (${init.detail})` : '';
    super(`${init.operation}(${init.subject}): ${init.code} ${init.description}${detail}`);
    this.name = 'BpfError';
    this.operation = init.operation;
    this.subject = init.subject;
    this.errno = init.errno;
    this.code = init.code;
    if (init.verifierLog !== undefined) this.verifierLog = init.verifierLog;
  }
}
