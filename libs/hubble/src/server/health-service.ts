import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { health } from '@cilium-ts/proto';

const { ServingStatus } = { ServingStatus: health.HealthCheckResponse_ServingStatus };

/** The service name Hubble clients ask the health service about (`pkg/hubble/api/v1`). */
export const OBSERVER_HEALTH_SERVICE = 'hubble.server.Observer';

/** The status of one health service name, or undefined when the name is unknown. */
export type HealthStatusFn = (service: string) => 'serving' | 'not-serving' | undefined;

/** Serving for the whole server ('') and for the Observer. */
export const alwaysServing: HealthStatusFn = (service) => (service === '' || service === OBSERVER_HEALTH_SERVICE ? 'serving' : undefined);

const WATCH_INTERVAL_MS = 1000;

function statusOf(fn: HealthStatusFn, service: string): health.HealthCheckResponse_ServingStatus | undefined {
  const s = fn(service);
  if (s === undefined) return undefined;
  return s === 'serving' ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
}

/** grpc.health.v1.Health: Check, List and Watch over a status function. */
export function healthService(status: HealthStatusFn): ServiceImpl<typeof health.Health> {
  return {
    check(request) {
      const s = statusOf(status, request.service);
      if (s === undefined) throw new ConnectError(`health check: unknown service "${request.service}"`, Code.NotFound);
      return create(health.HealthCheckResponseSchema, { status: s });
    },
    list() {
      const statuses: Record<string, health.HealthCheckResponse> = {};
      for (const name of ['', OBSERVER_HEALTH_SERVICE]) {
        const s = statusOf(status, name);
        if (s !== undefined) statuses[name] = create(health.HealthCheckResponseSchema, { status: s });
      }
      return create(health.HealthListResponseSchema, { statuses });
    },
    async *watch(request, context) {
      // Watch reports SERVICE_UNKNOWN instead of failing, then every change.
      let last: health.HealthCheckResponse_ServingStatus | undefined;
      while (!context.signal.aborted) {
        const s = statusOf(status, request.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (s !== last) yield create(health.HealthCheckResponseSchema, { status: s });
        last = s;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, WATCH_INTERVAL_MS);
          context.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
      }
    },
  };
}
