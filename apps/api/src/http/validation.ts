import { BadRequestException, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import type { FieldError } from './problem';

/** A validation failure that carries the fields at fault, for the problem filter to render. */
export class ValidationProblemException extends BadRequestException {
  constructor(readonly errors: FieldError[]) {
    super(
      `${errors.length} field${errors.length === 1 ? '' : 's'} failed validation: ${errors.map((e) => e.field).join(', ')}`,
    );
  }
}

function pathOf(parent: string, property: string): string {
  if (parent === '') return property;
  return /^\d+$/.test(property) ? `${parent}[${property}]` : `${parent}.${property}`;
}

export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = pathOf(parent, error.property);
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      message: message.replace(/^property (\S+) should not exist$/, 'is not a known field'),
    }));
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

const PROTOTYPE_MEMBERS = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/** A surrogate without its pair (a JSON escape such as "\ud800" parses to one). */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const unstorable = (text: string) => text.includes('\u0000') || UNPAIRED_SURROGATE.test(text);
const UNSTORABLE = 'must not contain U+0000 or an unpaired surrogate';

/** What a request's parsed JSON holds that its DTO's validation would not see, found in one walk. */
interface MemberProblems {
  /**
   * Own keys named like members of Object.prototype (`__proto__`, `constructor`, `toString`, ...) or `prototype`, at
   * any depth. ValidationPipe deletes some and class-transformer skips the others before the whitelist looks, so they
   * would pass as if absent; no DTO has a field of that name, so they are unknown fields.
   */
  prototypeKeys: FieldError[];
  /**
   * Text no event store can keep as it is, in keys or string values at any depth: PostgreSQL refuses U+0000 and
   * unpaired surrogates in text and JSONB (the append failed, a 500), and UTF-8 cannot encode an unpaired surrogate.
   * Below a key found so, nothing more is reported.
   */
  unstorableText: FieldError[];
  /**
   * Members whose value is JSON null, at any depth. No request field is nullable (the OpenAPI document declares none),
   * but IsOptional lets null through as if the field were absent, and a handler may then read it as a default.
   */
  nulls: FieldError[];
}

function memberProblems(value: unknown): MemberProblems {
  const problems: MemberProblems = { prototypeKeys: [], unstorableText: [], nulls: [] };
  // Depth first; `text` is false below a key whose own text cannot be stored.
  const pending: Array<[unknown, string, boolean]> = [[value, '', true]];
  while (pending.length > 0) {
    const [current, parent, text] = pending.pop()!;
    if (typeof current === 'string') {
      if (text && unstorable(current)) problems.unstorableText.push({ field: parent, message: UNSTORABLE });
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    for (const [key, child] of Object.entries(current)) {
      const field = pathOf(parent, key);
      if (!Array.isArray(current) && PROTOTYPE_MEMBERS.has(key))
        problems.prototypeKeys.push({ field, message: 'is not a known field' });
      const keyUnstorable = text && unstorable(key);
      if (keyUnstorable) problems.unstorableText.push({ field, message: `name ${UNSTORABLE}` });
      if (child === null) problems.nulls.push({ field, message: 'must not be null' });
      else pending.push([child, field, text && !keyUnstorable]);
    }
  }
  return problems;
}

class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query') {
      const { prototypeKeys, unstorableText, nulls } = memberProblems(value);
      if (prototypeKeys.length > 0) throw new ValidationProblemException(prototypeKeys);
      if (unstorableText.length > 0) throw new ValidationProblemException(unstorableText);
      if (metadata.type === 'body' && nulls.length > 0) throw new ValidationProblemException(nulls);
    }
    return super.transform(value, metadata);
  }
}

/** Whitelist, refuse unknown fields, transform to DTO classes; errors become problem+json with field paths. */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationProblemException(flattenValidationErrors(errors)),
  });
}
