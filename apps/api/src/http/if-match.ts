import type { IfMatch } from '@app/incidents';

// RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text.
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;

/**
 * Parses an If-Match field value (RFC 9110 §13.1.1): `*`, or a comma-separated list of entity tags (empty list elements
 * are allowed, as in every list-based field). Returns undefined when the value is not valid syntax.
 */
export function parseIfMatch(value: string): IfMatch | undefined {
  const trimmed = value.trim();
  if (trimmed === '*') return { any: true };
  const tags: { weak: boolean; opaque: string }[] = [];
  for (const element of splitList(trimmed)) {
    if (element === '') continue;
    const match = ENTITY_TAG.exec(element);
    if (!match) return undefined;
    tags.push({ weak: match[1] !== undefined, opaque: match[2] });
  }
  return tags.length > 0 ? { any: false, tags } : undefined;
}

/** Splits on commas outside quotes (an opaque tag may itself hold a comma), trimming optional whitespace. */
function splitList(value: string): string[] {
  const elements: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of value) {
    if (char === '"') quoted = !quoted;
    if (char === ',' && !quoted) {
      elements.push(current.trim());
      current = '';
    } else current += char;
  }
  elements.push(current.trim());
  return elements;
}
