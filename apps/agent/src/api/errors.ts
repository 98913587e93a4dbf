// Maps the agent's errors to HTTP answers: a status and an ApiError body naming what is wrong.
import { EndpointRefError } from '../endpoint.js';
import { EndpointError } from '../endpoint-manager.js';
import { IpamError } from '../ipam.js';
import { FeatureUnavailableError, PolicyValidationError } from '../seams.js';
import type { ApiError } from '@cilium-ts/agent-api';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  validation?: unknown;
  validationContext?: string;
  message: string;
}

export function toApiError(err: unknown): { status: number; body: ApiError } {
  if (err instanceof ApiRequestError) return { status: err.status, body: { code: err.code, message: err.message } };
  if (err instanceof EndpointRefError) return { status: 400, body: { code: 'invalid-endpoint-id', message: err.message } };
  if (err instanceof EndpointError) {
    const status = { exists: 409, 'not-found': 404, invalid: 400, exhausted: 503, 'regeneration-failed': 500 }[err.reason];
    return { status, body: { code: `endpoint-${err.reason}`, message: err.message } };
  }
  if (err instanceof IpamError) {
    const status = { exhausted: 503, conflict: 409, 'out-of-range': 400, 'not-found': 404, 'family-disabled': 400, invalid: 400 }[err.reason];
    return { status, body: { code: `ipam-${err.reason}`, message: err.message } };
  }
  if (err instanceof PolicyValidationError) return { status: 400, body: { code: 'invalid-policy', message: err.message } };
  if (err instanceof FeatureUnavailableError) return { status: 501, body: { code: 'not-available', message: err.message } };
  const e = err as FastifyLikeError;
  if (e.validation) {
    // Ajv's messages name the field: "body/labels must be array".
    return { status: 400, body: { code: 'invalid-request', message: e.message } };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { code: 'invalid-request', message: e.message } };
  }
  return { status: 500, body: { code: 'internal', message: e.message ?? String(err) } };
}
