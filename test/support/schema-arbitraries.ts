import fc from 'fast-check';
import type { Schema } from './openapi-operations';

/**
 * fast-check arbitraries from OpenAPI schemas: values that conform to a schema (valid-looking: they may still break
 * rules the schema does not state), and values that break it in exactly one place (a wrong type, null, a value
 * outside an enum or a range, a string too long or off its pattern, a missing required member, an unknown member).
 */

/** Values worth trying for a parameter or member of this name (ids of fixtures), beside the schema's example. */
export type Hints = (name: string) => readonly string[];

/** JSON that JSON.stringify cannot write: verbatim fragments (deep nesting), objects as ordered key lists. */
export class Raw {
  constructor(readonly json: string) {}
}

export type Pairs = Array<[string, unknown]>;

export function toJson(value: unknown): string {
  if (value instanceof Raw) return value.json;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') return objectJson(Object.entries(value));
  return JSON.stringify(value) ?? 'null';
}

export function objectJson(pairs: Pairs): string {
  return `{${pairs.map(([key, value]) => `${JSON.stringify(key)}:${toJson(value)}`).join(',')}}`;
}

export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Raw) return 'raw';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Keys that name members of Object.prototype: a JSON body may carry them as own properties. */
export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
];

/** Text of every kind: ASCII, any code point (lone surrogates included), graphemes with combining marks. */
export const anyText = (maxLength = 40) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
  );

/** Near misses of a valid value: one character changed, dropped, doubled or added; case flipped; padded. */
export function mutated(text: string): fc.Arbitrary<string> {
  if (text.length === 0) return anyText(4);
  const at = fc.nat({ max: text.length - 1 });
  return fc.oneof(
    fc
      .tuple(at, fc.constantFrom(...'0123456789-:T.Z/~?% éx\u0000'))
      .map(([i, c]) => text.slice(0, i) + c + text.slice(i + 1)),
    at.map((i) => text.slice(0, i) + text.slice(i + 1)),
    at.map((i) => text.slice(0, i + 1) + text.slice(i)),
    fc
      .tuple(at, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }))
      .map(([i, s]) => text.slice(0, i) + s + text.slice(i)),
    fc.constantFrom(text.toUpperCase(), text.toLowerCase(), ` ${text}`, `${text} `, `${text}${text}`),
  );
}

function fits(schema: Schema, text: string): boolean {
  if (schema.maxLength !== undefined && text.length > schema.maxLength) return false;
  if (schema.minLength !== undefined && text.length < schema.minLength) return false;
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(text)) return false;
  return true;
}

/** fast-check's integers are 32-bit; larger numbers come from doubles and the edges. */
const INT32 = 2_147_483_647;

const isNumber = (schema: Schema) => schema.type === 'number' || schema.type === 'integer';

function conformingNumber(schema: Schema, plain: boolean): fc.Arbitrary<number> {
  const min = schema.minimum ?? -1e12;
  const max = schema.maximum ?? 1e12;
  const integers = fc.integer({ min: Math.ceil(Math.max(min, -INT32)), max: Math.floor(Math.min(max, INT32)) });
  const examples = typeof schema.example === 'number' ? [fc.constant(schema.example)] : [];
  const edges = [schema.minimum, schema.maximum].filter((n): n is number => n !== undefined);
  const others = [...examples, ...(edges.length > 0 ? [fc.constantFrom(...edges)] : [])];
  if (schema.type === 'integer' || plain) return fc.oneof(integers, ...others);
  return fc.oneof(integers, fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), ...others);
}

/** Plain words, for text the document gives no example of. */
const words = fc.stringMatching(/^[A-Z][a-z]{2,10}( [a-z]{2,10}){0,4}$/);

/**
 * Strings for a string schema. Plain: a hint, the example, text matching the pattern, or plain words. Otherwise also
 * near misses of those, any text, and long text up to the limit.
 */
function conformingString(schema: Schema, name: string, hints: Hints, plain: boolean): fc.Arbitrary<string> {
  if (schema.enum !== undefined) return fc.constantFrom(...(schema.enum as string[]));
  const known = hints(name);
  const example = typeof schema.example === 'string' ? [schema.example] : [];
  const likely = [...known, ...example];
  const pattern = schema.pattern === undefined ? undefined : fc.stringMatching(new RegExp(schema.pattern));
  if (plain) {
    // The fixtures' values before the example: an example names things that need not exist here.
    const likely = known.length > 0 ? known : example;
    const choice = likely.length > 0 ? fc.constantFrom(...likely) : (pattern ?? words);
    return choice.filter((text) => fits(schema, text));
  }
  const candidates: Array<fc.WeightedArbitrary<string>> = [
    { arbitrary: anyText(Math.min(schema.maxLength ?? 40, 40)), weight: 1 },
    { arbitrary: fc.integer({ min: 0, max: 10_000 }).map(String), weight: 1 },
    {
      arbitrary: fc
        .integer({ min: 41, max: schema.maxLength ?? 20_000 })
        .chain((length) => fc.constantFrom('x', 'é', '😀', ' ').map((unit) => unit.repeat(length).slice(0, length))),
      weight: 1,
    },
    { arbitrary: words, weight: 1 },
  ];
  if (likely.length > 0) {
    candidates.push({ arbitrary: fc.constantFrom(...likely), weight: 4 });
    candidates.push({ arbitrary: fc.constantFrom(...likely).chain(mutated), weight: 2 });
  }
  if (pattern !== undefined) candidates.push({ arbitrary: pattern, weight: 4 });
  return fc.oneof(...candidates).filter((text) => fits(schema, text));
}

export interface Generation {
  resolve: (schema: Schema) => Schema;
  hints: Hints;
  /** Only the likeliest valid values: hints, examples, plain words, integers in range. */
  plain: boolean;
}

/** A value that conforms to `schema`; `name` is the member or parameter it is for (for hints). */
export function conforming(schema: Schema, generation: Generation, name = ''): fc.Arbitrary<unknown> {
  const s = generation.resolve(schema);
  if (s.enum !== undefined) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'string':
      return conformingString(s, name, generation.hints, generation.plain);
    case 'number':
    case 'integer':
      return conformingNumber(s, generation.plain);
    case 'boolean':
      return fc.boolean();
    case 'array': {
      // An example of the whole array is an example of its items too.
      const items = generation.resolve(s.items ?? {});
      const example = Array.isArray(s.example) && items.example === undefined ? { example: s.example[0] } : {};
      return fc.array(conforming({ ...items, ...example }, generation, name), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 3, generation.plain ? 2 : 3),
      });
    }
    case 'object': {
      const properties = s.properties ?? {};
      return fc.record(
        Object.fromEntries(
          Object.entries(properties).map(([key, member]) => [key, conforming(member, generation, key)]),
        ),
        { requiredKeys: s.required ?? [] },
      );
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

export interface Violation {
  /** Where the value breaks the schema, and how: `sources[0].url: a number`. */
  label: string;
  value: unknown;
}

const anyJson = fc.jsonValue({ maxDepth: 2 });

/** A JSON value (null included) whose JSON type is not the schema's. */
function wrongType(schema: Schema): fc.Arbitrary<unknown> {
  const type = isNumber(schema) ? 'number' : schema.type;
  const others = anyJson.filter((value) => jsonTypeOf(value) !== type);
  if (type === 'object') return fc.oneof(fc.constant(null), others);
  return fc.oneof(
    fc.constant(null),
    others,
    fc.constantFrom(...PROTOTYPE_KEYS).map((key) => new Raw(objectJson([[key, 1]]))),
  );
}

const describeValue = (value: unknown) => {
  const json = toJson(value);
  return json.length > 40 ? `${json.slice(0, 40)}... (${json.length} characters)` : json;
};

/** Values that break `schema` itself (not its members), with what they break. */
function ownViolations(schema: Schema): Array<fc.Arbitrary<Violation>> {
  const as = (why: string) => (value: unknown) => ({ label: `${why}: ${describeValue(value)}`, value });
  const found: Array<fc.Arbitrary<Violation>> = [];
  if (schema.type !== undefined) found.push(wrongType(schema).map(as(`not a ${schema.type}`)));
  if (schema.enum !== undefined) {
    const values = schema.enum as unknown[];
    found.push(
      fc
        .oneof(anyText(20), ...values.map((v) => mutated(String(v))))
        .filter((value) => !values.includes(value))
        .map(as('outside the enum')),
    );
  }
  if (schema.type === 'string' && schema.maxLength !== undefined) {
    const max = schema.maxLength;
    found.push(
      fc
        .oneof(fc.integer({ min: max + 1, max: max + 50 }), fc.integer({ min: max + 1, max: 60_000 }))
        .map((length) => 'y'.repeat(length))
        .map(as(`longer than ${max}`)),
    );
  }
  if (schema.type === 'string' && schema.minLength !== undefined && schema.minLength > 0) {
    found.push(fc.string({ maxLength: schema.minLength - 1 }).map(as(`shorter than ${schema.minLength}`)));
  }
  if (schema.type === 'string' && schema.pattern !== undefined) {
    const pattern = new RegExp(schema.pattern, 'u');
    const near = typeof schema.example === 'string' ? [mutated(schema.example)] : [];
    found.push(
      fc
        .oneof(anyText(70), ...near)
        .filter((text) => !pattern.test(text))
        .map(as(`off the pattern ${schema.pattern}`)),
    );
  }
  if (isNumber(schema) && schema.minimum !== undefined) {
    const min = schema.minimum;
    found.push(
      fc
        .oneof(fc.constant(min - 1), fc.double({ max: min, noNaN: true, noDefaultInfinity: true, maxExcluded: true }))
        .filter((n) => n < min)
        .map(as(`below ${min}`)),
    );
  }
  if (isNumber(schema) && schema.maximum !== undefined) {
    const max = schema.maximum;
    found.push(
      fc
        .oneof(fc.constant(max + 1), fc.double({ min: max, noNaN: true, noDefaultInfinity: true, minExcluded: true }))
        .filter((n) => n > max)
        .map(as(`above ${max}`)),
    );
  }
  if (schema.type === 'integer') {
    found.push(
      fc
        .double({ noNaN: true, noDefaultInfinity: true })
        .filter((n) => !Number.isInteger(n))
        .map(as('not an integer')),
    );
  }
  return found;
}

/**
 * A value that breaks `schema` in exactly one place, everything else conforming. Returns undefined when the schema
 * allows every JSON value.
 */
export function violating(schema: Schema, generation: Generation, path = ''): fc.Arbitrary<Violation> | undefined {
  const s = generation.resolve(schema);
  const here = (label: string) => (path === '' ? label : `${path}: ${label}`);
  const options: Array<fc.Arbitrary<Violation>> = ownViolations(s).map((arbitrary) =>
    arbitrary.map(({ label, value }) => ({ label: here(label), value })),
  );

  if (s.type === 'array' && s.items !== undefined) {
    const item = conforming(s.items, generation, path.split('.').pop());
    if (s.maxItems !== undefined) {
      const max = s.maxItems;
      options.push(
        fc
          .array(item, { minLength: max + 1, maxLength: max + 3 })
          .map((items) => ({ label: here(`more than ${max} items (${items.length})`), value: items })),
      );
    }
    const bad = violating(s.items, generation, `${path}[i]`);
    if (bad !== undefined) {
      options.push(
        fc.tuple(fc.array(item, { maxLength: 2 }), bad).map(([before, { label, value }]) => ({
          label: label.replace(`${path}[i]`, `${path}[${before.length}]`),
          value: [...before, value],
        })),
      );
    }
  }

  if (s.type === 'object' && s.properties !== undefined) {
    const properties = s.properties;
    const base = conforming(s, generation) as fc.Arbitrary<Record<string, unknown>>;
    const withMember = (pairs: Pairs, key: string, value: unknown): Pairs => [
      ...pairs.filter(([k]) => k !== key),
      [key, value],
    ];
    const at = (key: string) => (path === '' ? key : `${path}.${key}`);
    for (const key of s.required ?? []) {
      options.push(
        base.map((value) => ({
          label: here(`no ${key}`),
          value: new Raw(objectJson(Object.entries(value).filter(([k]) => k !== key))),
        })),
      );
    }
    options.push(
      fc
        .tuple(
          base,
          fc.oneof(
            fc.constantFrom(...PROTOTYPE_KEYS),
            fc.string({ maxLength: 20 }).filter((key) => !Object.hasOwn(properties, key)),
          ),
          anyJson,
        )
        .map(([value, key, extra]) => ({
          label: here(`an unknown member ${JSON.stringify(key)}`),
          value: new Raw(objectJson([...Object.entries(value), [key, extra]])),
        })),
    );
    const members = Object.entries(properties).flatMap(([key, member]) => {
      const bad = violating(member, generation, at(key));
      return bad === undefined ? [] : [bad.map((violation) => ({ key, violation }))];
    });
    if (members.length > 0) {
      options.push(
        fc.tuple(base, fc.oneof(...members)).map(([value, { key, violation }]) => ({
          label: violation.label,
          value: new Raw(objectJson(withMember(Object.entries(value), key, violation.value))),
        })),
      );
    }
  }
  return options.length === 0 ? undefined : fc.oneof(...options);
}

/** Query values are text; a number is one written as a JSON number would be. */
const NUMERIC = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
/** Query values are kept short enough that a request head stays under what the server reads (16 KiB). */
const QUERY_TEXT_LIMIT = 300;

/** A query value that conforms to a parameter's schema. */
export function conformingQueryValue(schema: Schema, generation: Generation, name: string): fc.Arbitrary<string> {
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum.map(String));
  if (isNumber(schema)) {
    const examples = schema.example === undefined ? [] : [fc.constant(String(schema.example))];
    return fc.oneof(conformingNumber(schema, generation.plain).map(String), ...examples);
  }
  if (schema.type === 'boolean') return fc.constantFrom('true', 'false');
  const limited = { ...schema, maxLength: Math.min(schema.maxLength ?? QUERY_TEXT_LIMIT, QUERY_TEXT_LIMIT) };
  return conformingString(limited, name, generation.hints, generation.plain);
}

/** A query value that breaks a parameter's schema; undefined when any text conforms. */
export function violatingQueryValue(schema: Schema): fc.Arbitrary<Violation> | undefined {
  const as = (why: string) => (value: string) => ({ label: `${why}: ${describeValue(value)}`, value });
  const options: Array<fc.Arbitrary<Violation>> = [];
  if (isNumber(schema)) {
    options.push(
      anyText(20)
        .filter((text) => !NUMERIC.test(text))
        .map(as('not a number')),
    );
    if (schema.minimum !== undefined) {
      const min = schema.minimum;
      options.push(
        fc
          .integer({ min: -1e9, max: Math.ceil(min) - 1 })
          .map(String)
          .map(as(`below ${min}`)),
      );
    }
    if (schema.maximum !== undefined) {
      const max = schema.maximum;
      options.push(
        fc
          .integer({ min: Math.floor(max) + 1, max: INT32 })
          .map(String)
          .map(as(`above ${max}`)),
      );
    }
  } else if (schema.type === 'boolean') {
    options.push(
      anyText(10)
        .filter((text) => text !== 'true' && text !== 'false')
        .map(as('not a boolean')),
    );
  } else {
    for (const violation of ownViolations({ ...schema, type: undefined })) {
      options.push(violation.filter(({ value }) => typeof value === 'string' && value.length <= QUERY_TEXT_LIMIT * 4));
    }
  }
  return options.length === 0 ? undefined : fc.oneof(...options);
}
