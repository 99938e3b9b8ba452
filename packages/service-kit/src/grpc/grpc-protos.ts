import {
  create,
  createFileRegistry,
  type DescMessage,
  type MessageInitShape,
} from '@bufbuild/protobuf';
import {
  DescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';

/*
 * The descriptors of grpc.health.v1 and grpc.reflection.v1/v1alpha, written out rather than
 * parsed from .proto files at run time: reflection must serve these files to clients exactly as
 * protoc would (standard file names, fully-qualified type names, map entries), which the
 * descriptors protobufjs synthesises are not (grpc-node issue 3034). They also give the
 * reflection service its message schemas, so one definition serves both purposes.
 */

type MessageInit = MessageInitShape<typeof DescriptorProtoSchema>;

interface FieldSpec {
  name: string;
  number: number;
  type: Type;
  typeName?: string;
  repeated?: boolean;
  oneofIndex?: number;
}

/** protoc's json_name: lowerCamelCase of the field name. */
function jsonName(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function message(
  name: string,
  fields: FieldSpec[],
  extra: {
    oneofs?: string[];
    nested?: MessageInit[];
    mapEntry?: boolean;
    enums?: MessageInit['enumType'];
  } = {},
): MessageInit {
  return {
    name,
    field: fields.map((f) => ({
      name: f.name,
      number: f.number,
      label: f.repeated ? Label.REPEATED : Label.OPTIONAL,
      type: f.type,
      ...(f.typeName === undefined ? {} : { typeName: f.typeName }),
      jsonName: jsonName(f.name),
      ...(f.oneofIndex === undefined ? {} : { oneofIndex: f.oneofIndex }),
    })),
    oneofDecl: (extra.oneofs ?? []).map((oneof) => ({ name: oneof })),
    nestedType: extra.nested ?? [],
    enumType: extra.enums ?? [],
    ...(extra.mapEntry ? { options: { mapEntry: true } } : {}),
  };
}

const string = (name: string, number: number, more: Partial<FieldSpec> = {}): FieldSpec => ({
  name,
  number,
  type: Type.STRING,
  ...more,
});
const ref = (
  name: string,
  number: number,
  typeName: string,
  more: Partial<FieldSpec> = {},
): FieldSpec => ({
  name,
  number,
  type: Type.MESSAGE,
  typeName,
  ...more,
});

export const HEALTH_FILE = 'grpc/health/v1/health.proto';

function healthFile(): FileDescriptorProto {
  const pkg = 'grpc.health.v1';
  const response = message(
    'HealthCheckResponse',
    [
      {
        name: 'status',
        number: 1,
        type: Type.ENUM,
        typeName: `.${pkg}.HealthCheckResponse.ServingStatus`,
      },
    ],
    {
      enums: [
        {
          name: 'ServingStatus',
          value: ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'].map((name, number) => ({
            name,
            number,
          })),
        },
      ],
    },
  );
  return create(FileDescriptorProtoSchema, {
    name: HEALTH_FILE,
    package: pkg,
    syntax: 'proto3',
    messageType: [
      message('HealthListRequest', []),
      message(
        'HealthListResponse',
        [ref('statuses', 1, `.${pkg}.HealthListResponse.StatusesEntry`, { repeated: true })],
        {
          nested: [
            message(
              'StatusesEntry',
              [string('key', 1), ref('value', 2, `.${pkg}.HealthCheckResponse`)],
              { mapEntry: true },
            ),
          ],
        },
      ),
      message('HealthCheckRequest', [string('service', 1)]),
      response,
    ],
    service: [
      {
        name: 'Health',
        method: [
          {
            name: 'Check',
            inputType: `.${pkg}.HealthCheckRequest`,
            outputType: `.${pkg}.HealthCheckResponse`,
          },
          {
            name: 'Watch',
            inputType: `.${pkg}.HealthCheckRequest`,
            outputType: `.${pkg}.HealthCheckResponse`,
            serverStreaming: true,
          },
          {
            name: 'List',
            inputType: `.${pkg}.HealthListRequest`,
            outputType: `.${pkg}.HealthListResponse`,
          },
        ],
      },
    ],
    options: {
      javaPackage: 'io.grpc.health.v1',
      javaOuterClassname: 'HealthProto',
      javaMultipleFiles: true,
      goPackage: 'google.golang.org/grpc/health/grpc_health_v1',
      csharpNamespace: 'Grpc.Health.V1',
    },
  });
}

export type ReflectionVersion = 'v1' | 'v1alpha';

function reflectionFile(version: ReflectionVersion): FileDescriptorProto {
  const pkg = `grpc.reflection.${version}`;
  const t = (name: string) => `.${pkg}.${name}`;
  return create(FileDescriptorProtoSchema, {
    name: `grpc/reflection/${version}/reflection.proto`,
    package: pkg,
    syntax: 'proto3',
    messageType: [
      message(
        'ServerReflectionRequest',
        [
          string('host', 1),
          string('file_by_filename', 3, { oneofIndex: 0 }),
          string('file_containing_symbol', 4, { oneofIndex: 0 }),
          ref('file_containing_extension', 5, t('ExtensionRequest'), { oneofIndex: 0 }),
          string('all_extension_numbers_of_type', 6, { oneofIndex: 0 }),
          string('list_services', 7, { oneofIndex: 0 }),
        ],
        { oneofs: ['message_request'] },
      ),
      message('ExtensionRequest', [
        string('containing_type', 1),
        { name: 'extension_number', number: 2, type: Type.INT32 },
      ]),
      message(
        'ServerReflectionResponse',
        [
          string('valid_host', 1),
          ref('original_request', 2, t('ServerReflectionRequest')),
          ref('file_descriptor_response', 4, t('FileDescriptorResponse'), { oneofIndex: 0 }),
          ref('all_extension_numbers_response', 5, t('ExtensionNumberResponse'), {
            oneofIndex: 0,
          }),
          ref('list_services_response', 6, t('ListServiceResponse'), { oneofIndex: 0 }),
          ref('error_response', 7, t('ErrorResponse'), { oneofIndex: 0 }),
        ],
        { oneofs: ['message_response'] },
      ),
      message('FileDescriptorResponse', [
        { name: 'file_descriptor_proto', number: 1, type: Type.BYTES, repeated: true },
      ]),
      message('ExtensionNumberResponse', [
        string('base_type_name', 1),
        { name: 'extension_number', number: 2, type: Type.INT32, repeated: true },
      ]),
      message('ListServiceResponse', [ref('service', 1, t('ServiceResponse'), { repeated: true })]),
      message('ServiceResponse', [string('name', 1)]),
      message('ErrorResponse', [
        { name: 'error_code', number: 1, type: Type.INT32 },
        string('error_message', 2),
      ]),
    ],
    service: [
      {
        name: 'ServerReflection',
        method: [
          {
            name: 'ServerReflectionInfo',
            inputType: t('ServerReflectionRequest'),
            outputType: t('ServerReflectionResponse'),
            clientStreaming: true,
            serverStreaming: true,
          },
        ],
      },
    ],
    options:
      version === 'v1'
        ? {
            goPackage: 'google.golang.org/grpc/reflection/grpc_reflection_v1',
            javaMultipleFiles: true,
            javaPackage: 'io.grpc.reflection.v1',
            javaOuterClassname: 'ServerReflectionProto',
          }
        : {
            deprecated: true,
            goPackage: 'google.golang.org/grpc/reflection/grpc_reflection_v1alpha',
            javaMultipleFiles: true,
            javaPackage: 'io.grpc.reflection.v1alpha',
            javaOuterClassname: 'ServerReflectionProto',
          },
  });
}

/** The files the server itself implements, served by reflection beside the service contracts. */
export const builtinFiles: FileDescriptorProto[] = [
  healthFile(),
  reflectionFile('v1'),
  reflectionFile('v1alpha'),
];

// createFileRegistry validates the hand-written descriptors at load: a typo fails every import.
const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: builtinFiles }));

export function reflectionMessages(version: ReflectionVersion): {
  request: DescMessage;
  response: DescMessage;
} {
  const get = (name: string) => {
    const desc = registry.getMessage(`grpc.reflection.${version}.${name}`);
    if (!desc) throw new Error(`missing descriptor grpc.reflection.${version}.${name}`);
    return desc;
  };
  return { request: get('ServerReflectionRequest'), response: get('ServerReflectionResponse') };
}
