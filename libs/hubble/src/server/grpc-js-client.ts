import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { hubbleProtoFiles, protoRoot } from '@cilium-ts/proto';

// Plain JS views of the messages, as @grpc/proto-loader decodes them (keepCase, longs and enums as strings).
export type Plain = Record<string, unknown>;

/**
 * An independent gRPC client for interop tests: @grpc/grpc-js with the .proto files loaded at run
 * time, so nothing of our generated code or of Connect is on the client side.
 */
export class GrpcJsHubbleClient {
  private readonly observer: grpc.Client;
  private readonly health: grpc.Client;
  private readonly reflection: grpc.Client;

  constructor(address: string, credentials = grpc.credentials.createInsecure()) {
    const definition = protoLoader.loadSync([...hubbleProtoFiles], { includeDirs: [protoRoot], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(definition);
    const ctor = (path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], pkg) as grpc.ServiceClientConstructor;
    this.observer = new (ctor('observer.Observer'))(address, credentials);
    this.health = new (ctor('grpc.health.v1.Health'))(address, credentials);
    this.reflection = new (ctor('grpc.reflection.v1.ServerReflection'))(address, credentials);
  }

  private unary(client: grpc.Client, method: string, request: Plain): Promise<{ response: Plain; metadata: grpc.Metadata }> {
    return new Promise((resolve, reject) => {
      let metadata = new grpc.Metadata();
      const call = (client as unknown as Record<string, (r: Plain, cb: (e: grpc.ServiceError | null, v: Plain) => void) => grpc.ClientUnaryCall>)[method];
      if (!call) throw new Error(`grpc-js client: no method ${method}`);
      const c = call.call(client, request, (err, value) => (err ? reject(err) : resolve({ response: value, metadata })));
      c.on('metadata', (m: grpc.Metadata) => (metadata = m));
    });
  }

  /** GetFlows until the server ends the stream (or `max` responses). */
  getFlows(request: Plain, max = Infinity): Promise<{ responses: Plain[]; metadata: grpc.Metadata }> {
    return new Promise((resolve, reject) => {
      const responses: Plain[] = [];
      let metadata = new grpc.Metadata();
      const stream = (this.observer as unknown as { GetFlows(r: Plain): grpc.ClientReadableStream<Plain> }).GetFlows(request);
      stream.on('metadata', (m: grpc.Metadata) => (metadata = m));
      stream.on('data', (d: Plain) => {
        responses.push(d);
        if (responses.length >= max) stream.cancel();
      });
      stream.on('error', (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED ? resolve({ responses, metadata }) : reject(e)));
      stream.on('end', () => resolve({ responses, metadata }));
    });
  }

  async serverStatus(): Promise<Plain> {
    return (await this.unary(this.observer, 'ServerStatus', {})).response;
  }

  async getNodes(): Promise<Plain> {
    return (await this.unary(this.observer, 'GetNodes', {})).response;
  }

  async healthCheck(service: string): Promise<string> {
    return (await this.unary(this.health, 'Check', { service })).response['status'] as string;
  }

  /** The service names the server lists through grpc.reflection.v1. */
  listServices(): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const stream = (this.reflection as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<Plain, Plain> }).ServerReflectionInfo();
      stream.on('data', (d: Plain) => {
        const list = d['list_services_response'] as { service: { name: string }[] } | undefined;
        resolve((list?.service ?? []).map((s) => s.name));
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ host: '', list_services: '' });
    });
  }

  close(): void {
    for (const c of [this.observer, this.health, this.reflection]) c.close();
  }
}
