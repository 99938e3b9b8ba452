import { readFileSync } from 'node:fs';
import { Parser, type SchemaParser } from '@asyncapi/parser';
import { park } from '@park/contracts';
import { PermanentMessageError } from '@park/messaging';

/** The payload schema format of the park's AsyncAPI documents: a protobuf message's full name. */
export const PROTOBUF_SCHEMA_FORMAT = 'application/vnd.google.protobuf;version=3';

export interface ProtobufCodec {
  encode(message: object): { finish(): Uint8Array };
  decode(input: Uint8Array): unknown;
}

/** The generated message type of a full name (park.<pkg>.v1.<Name>), or undefined. */
export function protobufType(name: unknown): ProtobufCodec | undefined {
  const match = typeof name === 'string' ? /^park\.(\w+)\.v1\.(\w+)$/.exec(name) : null;
  if (!match) return undefined;
  const pkg = (park as unknown as Record<string, { v1?: Record<string, unknown> } | undefined>)[
    match[1]!
  ];
  const type = pkg?.v1?.[match[2]!] as Partial<ProtobufCodec> | undefined;
  return typeof type?.encode === 'function' && typeof type.decode === 'function'
    ? (type as ProtobufCodec)
    : undefined;
}

function problem(name: unknown): string | undefined {
  return protobufType(name) ? undefined : `${String(name)} is not a message of the park contracts`;
}

/**
 * Payload schemas name a protobuf message: the contracts must define it. The parser checks
 * custom formats of AsyncAPI 3 documents only by parsing them, so parse checks too.
 */
const protobufNames: SchemaParser = {
  getMimeTypes: () => [PROTOBUF_SCHEMA_FORMAT],
  validate: async (input) => {
    const found = problem(input.data);
    return found ? [{ message: found, path: input.path }] : [];
  },
  parse: async (input) => {
    const found = problem(input.data);
    if (found) throw new Error(found);
    return { type: 'string', description: String(input.data) };
  },
};

/**
 * Parses one of the park's AsyncAPI documents (or other text standing for it) with the protobuf
 * payload check; `document` also lets the parser resolve `$ref`s to files beside it.
 */
export function parseAsyncApi(document: string, text = readFileSync(document, 'utf8')) {
  const parser = new Parser();
  parser.registerSchemaParser(protobufNames);
  return parser.parse(text, { source: document });
}

type AsyncApiDocument = NonNullable<Awaited<ReturnType<typeof parseAsyncApi>>['document']>;

/**
 * Every message of a document is a CloudEvent (the CloudEvents headers required, ce_type the
 * message's name) whose payload is the protobuf message it is named after, keyed by a string.
 */
export function expectCloudEventMessages(document: AsyncApiDocument): void {
  for (const message of document.messages().all()) {
    const json = message.json() as {
      payload: { schemaFormat: string };
      headers: { allOf: { properties?: { ce_type?: { const?: string } } }[] };
      bindings: { kafka: { key: { type: string } } };
    };
    expect(json.payload.schemaFormat).toBe(PROTOBUF_SCHEMA_FORMAT);
    // The payload schema names the message's own protobuf type (checked by protobufNames).
    expect(message.payload()?.description()).toBe(message.name());
    expect(json.headers.allOf[1]?.properties?.ce_type?.const).toBe(message.name());
    expect(json.bindings.kafka.key).toMatchObject({ type: 'string' });
    expect(message.headers()?.json()).toMatchObject({
      allOf: [
        {
          required: expect.arrayContaining([
            'ce_id',
            'ce_type',
            'ce_source',
            'ce_time',
            'ce_specversion',
            'content-type',
          ]),
        },
        expect.anything(),
      ],
    });
  }
}

/**
 * Whether a topic's decoder takes a type as its own: decoding empty bytes (the message with its
 * defaults) may be refused for its content, but a foreign type is refused by its name.
 */
export function decoderTakes(
  decode: (type: string, value: Uint8Array) => unknown,
  type: string,
): boolean {
  try {
    decode(type, new Uint8Array());
    return true;
  } catch (error) {
    if (!(error instanceof PermanentMessageError)) throw error;
    return !error.message.includes(`'${type}'`);
  }
}
