/** A request the Observer API refuses (gRPC InvalidArgument); the message names the field. */
export class InvalidRequestError extends Error {
  readonly code = 'invalid_argument';

  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}
