/**
 * A strict validator for the JSON Schema subset docs/asyncapi.yaml uses. Any keyword it does not know fails the
 * check instead of being ignored, so the document cannot drift into schema it does not really verify.
 */
const ANNOTATIONS = new Set(['description', 'title', 'examples', '$comment']);
const KEYWORDS = new Set([
  '$ref',
  'allOf',
  'type',
  'const',
  'enum',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maxItems',
  'format',
]);

const FORMATS: Record<string, (value: string) => boolean> = {
  'date-time': (value) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)),
  uuid: (value) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value),
  uri: (value) => {
    try {
      return new URL(value).protocol.length > 0;
    } catch {
      return false;
    }
  },
};

type Schema = Record<string, any>;

export class SchemaChecker {
  constructor(private readonly document: Schema) {}

  /** Follows a local `$ref` such as `#/components/schemas/Status`. */
  resolve(ref: string): Schema {
    if (!ref.startsWith('#/')) throw new Error(`only local $ref is supported, got ${ref}`);
    let node: any = this.document;
    for (const part of ref.slice(2).split('/')) {
      node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      if (node === undefined) throw new Error(`$ref ${ref} points nowhere`);
    }
    return node as Schema;
  }

  deref(node: Schema): Schema {
    return typeof node?.$ref === 'string' ? this.deref(this.resolve(node.$ref)) : node;
  }

  /** The list of violations of `value` against `schema` (empty when it conforms). */
  errors(schema: Schema, value: unknown, path = '$'): string[] {
    const found: string[] = [];
    for (const keyword of Object.keys(schema)) {
      if (!KEYWORDS.has(keyword) && !ANNOTATIONS.has(keyword)) {
        throw new Error(`schema at ${path} uses "${keyword}", which this checker does not support`);
      }
    }
    if (schema.$ref !== undefined) found.push(...this.errors(this.resolve(schema.$ref), value, path));
    for (const part of schema.allOf ?? []) found.push(...this.errors(part, value, path));
    if (schema.type !== undefined && !hasType(value, schema.type)) {
      return [...found, `${path}: expected ${schema.type}, got ${JSON.stringify(value)}`];
    }
    if ('const' in schema && value !== schema.const) found.push(`${path}: must be ${JSON.stringify(schema.const)}`);
    if (schema.enum !== undefined && !schema.enum.includes(value)) {
      found.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
    }
    if (typeof value === 'string') {
      if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
        found.push(`${path}: does not match ${schema.pattern}`);
      }
      if (schema.minLength !== undefined && value.length < schema.minLength) found.push(`${path}: too short`);
      if (schema.maxLength !== undefined && value.length > schema.maxLength) found.push(`${path}: too long`);
      if (schema.format !== undefined) {
        const check = FORMATS[schema.format];
        if (!check) throw new Error(`format "${schema.format}" is not supported`);
        if (!check(value)) found.push(`${path}: not a valid ${schema.format}`);
      }
    }
    if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum) {
      found.push(`${path}: below ${schema.minimum}`);
    }
    if (Array.isArray(value)) {
      if (schema.maxItems !== undefined && value.length > schema.maxItems) found.push(`${path}: too many items`);
      if (schema.items !== undefined) {
        value.forEach((item, index) => found.push(...this.errors(schema.items, item, `${path}[${index}]`)));
      }
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      for (const name of schema.required ?? []) {
        if (!(name in record)) found.push(`${path}: missing ${name}`);
      }
      const properties: Record<string, Schema> = schema.properties ?? {};
      for (const [name, item] of Object.entries(record)) {
        if (properties[name] !== undefined) found.push(...this.errors(properties[name], item, `${path}.${name}`));
        else if (schema.additionalProperties === false) found.push(`${path}: unexpected property ${name}`);
        else if (typeof schema.additionalProperties === 'object') {
          found.push(...this.errors(schema.additionalProperties, item, `${path}.${name}`));
        }
      }
    }
    return found;
  }
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      throw new Error(`type "${type}" is not supported`);
  }
}
