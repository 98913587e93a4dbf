import { create, toBinary, type DescFile, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import { reflection, reflectionV1alpha } from '@cilium-ts/proto';

// Plain shapes, so that one answer fits both the v1 and the v1alpha response.
type Answer =
  | { case: 'fileDescriptorResponse'; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: 'listServicesResponse'; value: { service: { name: string }[] } }
  | { case: 'errorResponse'; value: { errorCode: number; errorMessage: string } };

// A file and every file it imports, dependencies first, each once.
function withDependencies(file: DescFile, out: DescFile[] = [], seen = new Set<string>()): DescFile[] {
  if (seen.has(file.name)) return out;
  seen.add(file.name);
  for (const dep of file.dependencies) withDependencies(dep, out, seen);
  out.push(file);
  return out;
}

/** Answers reflection requests about the services a server registers (and everything they use). */
class ReflectionIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();

  constructor(private readonly services: readonly DescService[]) {
    for (const s of services) for (const f of withDependencies(s.file)) this.index(f);
  }

  private index(file: DescFile): void {
    this.files.set(file.name + '.proto', file);
    const add = (name: string) => this.symbols.set(name, file);
    for (const e of file.enums) add(e.typeName);
    for (const s of file.services) {
      add(s.typeName);
      for (const m of s.methods) add(`${s.typeName}.${m.name}`);
    }
    const addMessage = (m: DescFile['messages'][number]): void => {
      add(m.typeName);
      for (const e of m.nestedEnums) add(e.typeName);
      for (const n of m.nestedMessages) addMessage(n);
    };
    for (const m of file.messages) addMessage(m);
  }

  private fileAnswer(file: DescFile | undefined, what: string): Answer {
    if (!file) return { case: 'errorResponse', value: { errorCode: 5, errorMessage: `reflection: ${what} not found` } };
    return { case: 'fileDescriptorResponse', value: { fileDescriptorProto: withDependencies(file).map((f) => toBinary(FileDescriptorProtoSchema, f.proto)) } };
  }

  answer(request: reflection.ServerReflectionRequest['messageRequest'] | reflectionV1alpha.ServerReflectionRequest['messageRequest']): Answer {
    switch (request.case) {
      case 'listServices':
        return { case: 'listServicesResponse', value: { service: this.services.map((s) => ({ name: s.typeName })) } };
      case 'fileByFilename':
        return this.fileAnswer(this.files.get(request.value), `file "${request.value}"`);
      case 'fileContainingSymbol':
        return this.fileAnswer(this.symbols.get(request.value), `symbol "${request.value}"`);
      default:
        // Hubble's protos declare no extensions of their own.
        return { case: 'errorResponse', value: { errorCode: 12, errorMessage: `reflection: ${request.case ?? 'empty request'} is not supported` } };
    }
  }
}

/** grpc.reflection.v1 and v1alpha ServerReflection over the given services. */
export function reflectionServices(services: readonly DescService[]): {
  v1: ServiceImpl<typeof reflection.ServerReflection>;
  v1alpha: ServiceImpl<typeof reflectionV1alpha.ServerReflection>;
} {
  const index = new ReflectionIndex(services);
  return {
    v1: {
      async *serverReflectionInfo(requests) {
        for await (const req of requests) {
          yield create(reflection.ServerReflectionResponseSchema, { validHost: req.host, originalRequest: req, messageResponse: index.answer(req.messageRequest) });
        }
      },
    },
    v1alpha: {
      async *serverReflectionInfo(requests) {
        for await (const req of requests) {
          yield create(reflectionV1alpha.ServerReflectionResponseSchema, { validHost: req.host, originalRequest: req, messageResponse: index.answer(req.messageRequest) });
        }
      },
    },
  };
}
