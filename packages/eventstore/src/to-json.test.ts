import { toJson } from './stream-writer';
import type { DomainEvent } from './decider';

/** What the store holds: JSON's own round trip of the event's fields. */
function viaJson(event: Record<string, unknown>): unknown {
  const { type: _type, ...fields } = event;
  return JSON.parse(JSON.stringify(fields));
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const withProtoKey = JSON.parse('{"type":"T","inner":{"__proto__":{"polluted":true}}}') as Record<
  string,
  unknown
>;

const cases: [string, Record<string, unknown>][] = [
  [
    'plain readings',
    {
      type: 'ReadingsRecorded',
      meter: { meterId: 'm-1', intervalMinutes: 15 },
      readings: [
        { intervalStart: '2025-03-10T00:00:00.000Z', value: '1.5', quality: 'measured' },
        { intervalStart: '2025-03-10T00:15:00.000Z', register: '2', registerEdited: true },
      ],
    },
  ],
  ['undefined fields are left out', { type: 'T', a: undefined, b: { c: undefined, d: 1 } }],
  ['undefined in an array is null', { type: 'T', list: [1, undefined, () => 1, 'x'] }],
  ['functions and symbols are left out', { type: 'T', f: () => 1, s: Symbol('s'), n: null }],
  ['-0 is 0', { type: 'T', zero: -0, list: [-0] }],
  ['non-finite numbers are null', { type: 'T', nan: NaN, inf: Infinity, list: [-Infinity] }],
  ['a Date is its ISO text', { type: 'T', at: new Date('2025-03-10T00:00:00Z') }],
  ['toJSON is used', { type: 'T', custom: { toJSON: () => 'custom' } }],
  ['a class instance is its own fields', { type: 'T', point: new Point(1, 2) }],
  ['an own __proto__ key stays a key', withProtoKey],
  ['integer-like keys in JSON order', { type: 'T', map: { b: 1, 10: 'x', 2: 'y', a: 2 } }],
  [
    'an object without prototype',
    { type: 'T', bare: Object.assign(Object.create(null), { a: 1 }) },
  ],
  [
    'deep nesting',
    { type: 'T', deep: Array.from({ length: 80 }).reduce((inner) => ({ inner }), 1) },
  ],
];

describe('toJson', () => {
  it.each(cases)('is what the store holds: %s', (_name, event) => {
    const copied = toJson(event as unknown as DomainEvent);
    expect(copied).toStrictEqual(viaJson(event));
    expect(JSON.stringify(copied)).toBe(JSON.stringify(viaJson(event)));
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
  });

  it('shares nothing with the event', () => {
    const event = { type: 'T', readings: [{ value: '1' }] };
    const copied = toJson(event) as { readings: { value: string }[] };
    copied.readings[0]!.value = '2';
    expect(event.readings[0]!.value).toBe('1');
  });

  it('fails as JSON does on a cycle or a bigint', () => {
    const cyclic: Record<string, unknown> = { type: 'T' };
    cyclic.self = cyclic;
    expect(() => toJson(cyclic as unknown as DomainEvent)).toThrow(TypeError);
    expect(() => toJson({ type: 'T', big: 1n } as unknown as DomainEvent)).toThrow(TypeError);
  });
});
