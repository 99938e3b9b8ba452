import type * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Readiness } from '../readiness';

export const HEALTH_SERVICE = 'grpc.health.v1.Health';

/**
 * grpc.health.v1 whose answer for the server ('') and for each application service follows the
 * service's Readiness, so a load balancer or kubelet probing over gRPC sees what /readyz sees.
 */
export class HealthService {
  private readonly implementation: HealthImplementation;
  private readonly watches = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  private readonly unsubscribe: () => void;
  private stopped = false;

  constructor(
    private readonly readiness: Readiness,
    private readonly serviceNames: readonly string[],
  ) {
    const status = statusOf(readiness.current.ready);
    this.implementation = new HealthImplementation(
      Object.fromEntries(['', ...serviceNames].map((name) => [name, status])),
    );
    this.unsubscribe = readiness.onChange((ready) => {
      if (!this.stopped) this.setAll(statusOf(ready));
    });
  }

  addTo(server: grpc.Server): void {
    // Through a proxy of the server, to keep hold of Watch streams: they never end by
    // themselves and would hold a graceful shutdown until its deadline.
    this.implementation.addToServer({
      addService: (definition, implementation) => {
        const watch = implementation.watch as (
          call: grpc.ServerWritableStream<unknown, unknown>,
        ) => void;
        server.addService(
          definition as grpc.ServiceDefinition,
          {
            ...implementation,
            watch: (call: grpc.ServerWritableStream<unknown, unknown>) => {
              this.watches.add(call);
              call.once('cancelled', () => this.watches.delete(call));
              watch(call);
            },
          } as grpc.UntypedServiceImplementation,
        );
      },
    });
  }

  /**
   * NOT_SERVING for good (the server is shutting down), whatever readiness says next; Watch
   * streams get that answer and then end, which tells their clients to look elsewhere.
   */
  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    this.setAll('NOT_SERVING');
    for (const call of this.watches) call.end();
    this.watches.clear();
  }

  private setAll(status: ServingStatus): void {
    for (const name of ['', ...this.serviceNames]) this.implementation.setStatus(name, status);
  }
}

function statusOf(ready: boolean): ServingStatus {
  return ready ? 'SERVING' : 'NOT_SERVING';
}
