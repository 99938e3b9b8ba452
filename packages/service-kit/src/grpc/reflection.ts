import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary, type Message } from '@bufbuild/protobuf';
import {
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type DescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { reflectionMessages, type ReflectionVersion } from './grpc-protos';

/**
 * Every file of the given descriptor sets, indexed by file name, by fully-qualified symbol and
 * by extension, as the server reflection protocol asks for them.
 */
export class DescriptorIndex {
  private readonly files = new Map<string, { proto: FileDescriptorProto; bytes: Uint8Array }>();
  private readonly symbols = new Map<string, string>();
  private readonly messages = new Set<string>();
  private readonly serviceNames = new Set<string>();
  /** extendee (no leading dot) -> field number -> file name */
  private readonly extensions = new Map<string, Map<number, string>>();

  constructor(descriptorSets: Uint8Array[], files: FileDescriptorProto[] = []) {
    for (const set of descriptorSets) {
      for (const file of fromBinary(FileDescriptorSetSchema, set).file) this.add(file);
    }
    for (const file of files) this.add(file);
  }

  hasService(name: string): boolean {
    return this.serviceNames.has(name);
  }

  /** The file and its transitive dependencies, the file first; undefined if it is unknown. */
  fileWithDependencies(name: string): Uint8Array[] | undefined {
    if (!this.files.has(name)) return undefined;
    const ordered: Uint8Array[] = [];
    const seen = new Set<string>();
    const visit = (fileName: string) => {
      const file = this.files.get(fileName);
      if (!file || seen.has(fileName)) return;
      seen.add(fileName);
      ordered.push(file.bytes);
      for (const dependency of file.proto.dependency) visit(dependency);
    };
    visit(name);
    return ordered;
  }

  fileContainingSymbol(symbol: string): string | undefined {
    return this.symbols.get(symbol.replace(/^\./, ''));
  }

  fileContainingExtension(extendee: string, number: number): string | undefined {
    return this.extensions.get(extendee.replace(/^\./, ''))?.get(number);
  }

  /** undefined when the type is unknown; an empty list when nothing extends it. */
  extensionNumbersOf(typeName: string): number[] | undefined {
    const name = typeName.replace(/^\./, '');
    if (!this.messages.has(name)) return undefined;
    return [...(this.extensions.get(name)?.keys() ?? [])].sort((a, b) => a - b);
  }

  private add(file: FileDescriptorProto): void {
    // The first definition of a file wins, as with protoc's import resolution.
    if (this.files.has(file.name)) return;
    this.files.set(file.name, { proto: file, bytes: toBinary(FileDescriptorProtoSchema, file) });
    const scope = file.package;
    const symbol = (name: string) => {
      if (!this.symbols.has(name)) this.symbols.set(name, file.name);
    };
    const extension = (parent: string, field: FieldDescriptorProto) => {
      symbol(join(parent, field.name));
      const extendee = field.extendee.replace(/^\./, '');
      const numbers = this.extensions.get(extendee) ?? new Map<number, string>();
      numbers.set(field.number, file.name);
      this.extensions.set(extendee, numbers);
    };
    const enums = (parent: string, list: FileDescriptorProto['enumType']) => {
      for (const enumType of list) {
        symbol(join(parent, enumType.name));
        // Enum values are siblings of their enum in protobuf's scoping rules.
        for (const value of enumType.value) symbol(join(parent, value.name));
      }
    };
    const message = (parent: string, type: DescriptorProto) => {
      const name = join(parent, type.name);
      symbol(name);
      this.messages.add(name);
      for (const field of type.field) symbol(join(name, field.name));
      for (const oneof of type.oneofDecl) symbol(join(name, oneof.name));
      for (const nested of type.nestedType) message(name, nested);
      enums(name, type.enumType);
      for (const field of type.extension) extension(name, field);
    };
    for (const type of file.messageType) message(scope, type);
    enums(scope, file.enumType);
    for (const field of file.extension) extension(scope, field);
    for (const service of file.service) {
      const name = join(scope, service.name);
      symbol(name);
      this.serviceNames.add(name);
      for (const method of service.method) symbol(join(name, method.name));
    }
  }
}

function join(scope: string, name: string): string {
  return scope ? `${scope}.${name}` : name;
}

/** ServerReflectionRequest as @bufbuild/protobuf decodes it. */
interface ReflectionRequest extends Message {
  host: string;
  messageRequest:
    | {
        case:
          'fileByFilename' | 'fileContainingSymbol' | 'allExtensionNumbersOfType' | 'listServices';
        value: string;
      }
    | {
        case: 'fileContainingExtension';
        value: { containingType: string; extensionNumber: number };
      }
    | { case: undefined; value?: undefined };
}

type ReflectionResponse = Message;

/**
 * grpc.reflection.v1 and v1alpha ServerReflectionInfo: answers each request of the stream in
 * order, errors as error_response so one bad lookup does not end the client's session.
 */
export class ReflectionService {
  private readonly streams = new Set<
    grpc.ServerDuplexStream<ReflectionRequest, ReflectionResponse>
  >();

  constructor(
    private readonly index: DescriptorIndex,
    /** The fully-qualified names list_services answers, read at each request. */
    private readonly listServices: () => string[],
  ) {}

  addTo(server: grpc.Server): void {
    for (const version of ['v1', 'v1alpha'] as const) {
      const { definition, implementation } = this.service(version);
      server.addService(definition, implementation);
    }
  }

  /** Ends the open reflection streams, so a graceful shutdown need not wait for idle tools. */
  endAll(): void {
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }

  respond(request: ReflectionRequest, version: ReflectionVersion): ReflectionResponse {
    const { response } = reflectionMessages(version);
    return create(response, {
      validHost: request.host,
      originalRequest: request,
      messageResponse: this.answer(request),
    });
  }

  private answer(request: ReflectionRequest): { case: string; value: object } {
    const files = (fileName: string | undefined, what: string) => {
      const found = fileName === undefined ? undefined : this.index.fileWithDependencies(fileName);
      return found
        ? { case: 'fileDescriptorResponse', value: { fileDescriptorProto: found } }
        : error(grpc.status.NOT_FOUND, `${what} not found`);
    };
    const { messageRequest } = request;
    switch (messageRequest.case) {
      case 'fileByFilename':
        return files(messageRequest.value, `file ${messageRequest.value}`);
      case 'fileContainingSymbol':
        return files(
          this.index.fileContainingSymbol(messageRequest.value),
          `symbol ${messageRequest.value}`,
        );
      case 'fileContainingExtension': {
        const { containingType, extensionNumber } = messageRequest.value;
        return files(
          this.index.fileContainingExtension(containingType, extensionNumber),
          `extension ${extensionNumber} of ${containingType}`,
        );
      }
      case 'allExtensionNumbersOfType': {
        const numbers = this.index.extensionNumbersOf(messageRequest.value);
        return numbers
          ? {
              case: 'allExtensionNumbersResponse',
              value: { baseTypeName: messageRequest.value, extensionNumber: numbers },
            }
          : error(grpc.status.NOT_FOUND, `type ${messageRequest.value} not found`);
      }
      case 'listServices':
        return {
          case: 'listServicesResponse',
          value: { service: this.listServices().map((name) => ({ name })) },
        };
      default:
        return error(grpc.status.INVALID_ARGUMENT, 'the request sets none of message_request');
    }
  }

  private service(version: ReflectionVersion): {
    definition: grpc.ServiceDefinition;
    implementation: grpc.UntypedServiceImplementation;
  } {
    const { request, response } = reflectionMessages(version);
    const method: grpc.MethodDefinition<ReflectionRequest, ReflectionResponse> = {
      path: `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
      requestStream: true,
      responseStream: true,
      requestSerialize: (value) => Buffer.from(toBinary(request, value)),
      requestDeserialize: (bytes) => fromBinary(request, bytes) as ReflectionRequest,
      responseSerialize: (value) => Buffer.from(toBinary(response, value)),
      responseDeserialize: (bytes) => fromBinary(response, bytes),
    };
    const info = (stream: grpc.ServerDuplexStream<ReflectionRequest, ReflectionResponse>) => {
      this.streams.add(stream);
      const forget = () => this.streams.delete(stream);
      stream.on('data', (message: ReflectionRequest) =>
        stream.write(this.respond(message, version)),
      );
      stream.on('end', () => {
        forget();
        stream.end();
      });
      stream.on('cancelled', forget);
    };
    return {
      definition: { serverReflectionInfo: method },
      implementation: { serverReflectionInfo: info },
    };
  }
}

function error(code: number, message: string): { case: string; value: object } {
  return { case: 'errorResponse', value: { errorCode: code, errorMessage: message } };
}
