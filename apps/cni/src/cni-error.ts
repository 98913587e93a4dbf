/** The spec's well-known error codes (CNI SPEC "Error"), by meaning. */
export const CniErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironmentVariables: 4,
  IoFailure: 5,
  DecodingFailure: 6,
  InvalidNetworkConfig: 7,
  TryAgainLater: 11,
  PluginNotAvailable: 50,
  PluginNotAvailableLimitedConnectivity: 51,
  /** Any failure that is not one of the above (the Go library uses 999 too). */
  Internal: 999,
  /** Our own, in the range the spec leaves free (100+): a step of ADD failed and was undone. */
  SetupFailed: 100,
} as const;
export type CniErrorCode = (typeof CniErrorCode)[keyof typeof CniErrorCode];

/** An error the plugin reports to the runtime as the spec's error result, on stdout, with a non-zero exit. */
export class CniError extends Error {
  constructor(
    readonly code: CniErrorCode,
    readonly msg: string,
    readonly details = '',
  ) {
    super(details ? `${msg}: ${details}` : msg);
    this.name = 'CniError';
  }

  toResult(cniVersion: string): { cniVersion: string; code: number; msg: string; details?: string } {
    return { cniVersion, code: this.code, msg: this.msg, ...(this.details ? { details: this.details } : {}) };
  }
}
