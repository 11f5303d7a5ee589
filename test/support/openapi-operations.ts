/** The operations of an OpenAPI 3 document, with their parameters and bodies' schemas resolved, for generating requests. */

export interface Schema {
  $ref?: string;
  type?: 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  example?: unknown;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: Schema;
}

export interface Operation {
  /** "GET /v1/incidents/{id}" */
  key: string;
  method: string;
  /** The path template, with `{name}` for path parameters. */
  path: string;
  parameters: Parameter[];
  /** Media type and schema of the request body, when the operation takes one. */
  body?: { mediaType: string; schema: Schema; required: boolean };
  /** Every status the document declares, and the media types of each success. */
  statuses: number[];
  successTypes: Map<number, string[]>;
  /** False when the operation declares an empty security requirement (a public route). */
  secured: boolean;
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

type Json = Record<string, any>;

/** Follows local `$ref`s (`#/components/...`) to the schema they name, at every depth. */
export function resolver(document: Json): (schema: Schema) => Schema {
  const resolve = (schema: Schema): Schema => {
    if (schema.$ref === undefined) return schema;
    const target = schema.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<Json | undefined>((node, part) => node?.[part], document);
    if (target === undefined) throw new Error(`The document has no ${schema.$ref}`);
    return resolve(target as Schema);
  };
  return resolve;
}

export function operationsOf(document: Json): Operation[] {
  const resolve = resolver(document);
  const globalSecurity = (document.security as unknown[] | undefined) ?? [];
  return Object.entries(document.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method] !== undefined).map((method): Operation => {
      const operation = item[method] as Json;
      const parameters = ((operation.parameters ?? []) as Json[]).map((parameter) => resolve(parameter) as Json);
      const content = operation.requestBody?.content as Json | undefined;
      const [mediaType, media] = Object.entries(content ?? {})[0] ?? [];
      const statuses = Object.keys(operation.responses as Json).map(Number);
      const successTypes = new Map(
        Object.entries(operation.responses as Json)
          .filter(([status]) => status.startsWith('2'))
          .map(([status, response]) => [
            Number(status),
            Object.keys((resolve(response as Schema) as Json).content ?? {}),
          ]),
      );
      const security = (operation.security as unknown[] | undefined) ?? globalSecurity;
      return {
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        parameters: parameters.map((parameter) => ({
          name: parameter.name,
          in: parameter.in,
          required: parameter.required === true,
          schema: resolve((parameter.schema ?? {}) as Schema),
        })),
        ...(mediaType !== undefined && {
          body: {
            mediaType,
            schema: resolve((media as Json).schema as Schema),
            required: operation.requestBody.required === true,
          },
        }),
        statuses,
        successTypes,
        secured: security.length > 0,
      };
    }),
  );
}
