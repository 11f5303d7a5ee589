import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The OASIS STIX 2.1 JSON Schemas, kept beside the clone (`../shared/vendor/stix2-json-schemas`, relative to the
 * repository root) rather than copied into it; `STIX_SCHEMAS_DIR` points elsewhere (its `schemas` folder).
 */
export const STIX_SCHEMAS_DIR =
  process.env.STIX_SCHEMAS_DIR ??
  join(__dirname, '..', '..', '..', 'shared', 'vendor', 'stix2-json-schemas', 'schemas');

/**
 * Checks an object against the schema of its own `type` (`incident`, `relationship`, ...), compiled once from every
 * schema file; returns the schema errors, none when it is valid.
 */
export function loadStixValidators(): (object: { type: string; [property: string]: unknown }) => string[] {
  if (!existsSync(join(STIX_SCHEMAS_DIR, 'common', 'core.json'))) {
    throw new Error(
      `The STIX 2.1 schemas are not at ${STIX_SCHEMAS_DIR}: put oasis-open/cti-stix2-json-schemas at ` +
        '../shared/vendor/stix2-json-schemas beside the clone, or set STIX_SCHEMAS_DIR to its schemas folder',
    );
  }
  // The schemas' patterns use escapes that Unicode-mode regular expressions reject.
  const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  const byType = new Map<string, string>();
  for (const folder of ['common', 'sdos', 'sros', 'observables']) {
    for (const name of readdirSync(join(STIX_SCHEMAS_DIR, folder)).filter((file) => file.endsWith('.json'))) {
      const schema = JSON.parse(readFileSync(join(STIX_SCHEMAS_DIR, folder, name), 'utf8')) as { $id: string };
      ajv.addSchema(schema);
      if (folder !== 'common') byType.set(name.replace(/\.json$/, ''), schema.$id);
    }
  }
  const compiled = new Map<string, ValidateFunction | undefined>();
  return (object) => {
    if (!compiled.has(object.type)) {
      const id = byType.get(object.type);
      compiled.set(object.type, id === undefined ? undefined : ajv.getSchema(id));
    }
    const validate = compiled.get(object.type);
    if (validate === undefined) return [`no STIX 2.1 schema for type ${object.type}`];
    if (validate(object)) return [];
    return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? error.keyword}`);
  };
}
