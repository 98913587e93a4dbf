/** A FlowFilter that cannot be compiled; `path` names the offending field, e.g. `whitelist[0].source_ip[1]`. */
export class FilterError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'FilterError';
  }
}
