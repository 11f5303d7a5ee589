import { earliestMs, parseEdtf } from './edtf-date';
import { DomainError } from './errors';
import type { Source } from './events';
import { isDateOrInstant, lowerBoundOf } from './instant';
import {
  CATEGORIES,
  CONFIDENCES,
  FACT_KINDS,
  isIncidentId,
  LIMITS,
  RELATIONS,
  STATUSES,
  TECHNIQUE_ID_PATTERN,
  type Category,
  type Confidence,
  type FactKind,
  type IncidentStatus,
  type Relation,
} from './vocabulary';

/**
 * Invariants on values. The HTTP edge checks the same rules with class-validator for friendly messages; these keep
 * the domain safe for any caller (the importer, tests, future transports).
 */
export function requireIncidentId(field: string, value: unknown): string {
  if (!isIncidentId(value)) throw DomainError.invalid(field, 'must match ^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$');
  return value;
}

export function requireText(field: string, value: unknown, max: number, min = 1): string {
  if (typeof value !== 'string') throw DomainError.invalid(field, 'must be a string');
  if (value.trim().length < min) throw DomainError.invalid(field, `must not be empty`);
  if (value.length > max) throw DomainError.invalid(field, `must be at most ${max} characters`);
  return value;
}

export function requireOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw DomainError.invalid(field, `must be one of: ${allowed.join(', ')}`);
  }
  return value as T;
}

export const requireCategory = (field: string, v: unknown): Category => requireOneOf(field, v, CATEGORIES);
export const requireStatus = (field: string, v: unknown): IncidentStatus => requireOneOf(field, v, STATUSES);
export const requireConfidence = (field: string, v: unknown): Confidence => requireOneOf(field, v, CONFIDENCES);
export const requireKind = (field: string, v: unknown): FactKind => requireOneOf(field, v, FACT_KINDS);
export const requireRelation = (field: string, v: unknown): Relation => requireOneOf(field, v, RELATIONS);

export function requireNames(field: string, value: unknown, maxItems: number): string[] {
  if (!Array.isArray(value)) throw DomainError.invalid(field, 'must be an array of strings');
  if (value.length > maxItems) throw DomainError.invalid(field, `must have at most ${maxItems} items`);
  value.forEach((item, index) => requireText(`${field}[${index}]`, item, LIMITS.nameLength));
  return value as string[];
}

const DATE_OR_INSTANT = 'must be a date (YYYY-MM-DD) or an RFC 3339 instant, e.g. 2023-06-16 or 2023-06-16T00:00:00Z';

/**
 * A calendar date (read as its first instant, UTC) or an RFC 3339 instant, not later than now; returned as a
 * canonical instant. Compared as numbers: text comparison breaks across years of different widths.
 */
export function requirePastInstant(field: string, value: unknown, now: string): string {
  if (!isDateOrInstant(value)) throw DomainError.invalid(field, DATE_OR_INSTANT);
  const normalised = lowerBoundOf(value);
  if (Date.parse(normalised) > Date.parse(now)) throw DomainError.invalid(field, 'must not be in the future');
  return normalised;
}

/** A calendar date or RFC 3339 instant whose start is not later than now; kept as given. */
export function requirePastDate(field: string, value: unknown, now: string): string {
  if (!isDateOrInstant(value)) throw DomainError.invalid(field, DATE_OR_INSTANT);
  if (Date.parse(lowerBoundOf(value)) > Date.parse(now)) throw DomainError.invalid(field, 'must not be in the future');
  return value;
}

export function requireTechniques(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw DomainError.invalid(field, 'must be an array of ATT&CK technique ids');
  if (value.length > LIMITS.techniquesPerFact)
    throw DomainError.invalid(field, `must have at most ${LIMITS.techniquesPerFact} items`);
  value.forEach((item, index) => {
    if (typeof item !== 'string' || !TECHNIQUE_ID_PATTERN.test(item)) {
      throw DomainError.invalid(`${field}[${index}]`, 'must be a MITRE ATT&CK technique id, e.g. T1606 or T1606.002');
    }
  });
  return [...new Set(value as string[])];
}

export function requireOccurredAt(field: string, value: unknown, now: string): string {
  const parsed = parseEdtf(value as string);
  if (!parsed.ok) throw DomainError.invalid(field, parsed.reason);
  if (earliestMs(parsed.date) > Date.parse(now)) throw DomainError.invalid(field, 'must not begin in the future');
  return value as string;
}

export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > LIMITS.urlLength) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

export function requireSources(field: string, value: unknown, now: string): Source[] {
  if (!Array.isArray(value)) throw DomainError.invalid(field, 'must be an array of sources');
  if (value.length > LIMITS.sourcesPerFact)
    throw DomainError.invalid(field, `must have at most ${LIMITS.sourcesPerFact} items`);
  return value.map((raw, index) => {
    const at = `${field}[${index}]`;
    if (typeof raw !== 'object' || raw === null) throw DomainError.invalid(at, 'must be an object');
    const source = raw as Record<string, unknown>;
    if (!isHttpUrl(source.url)) throw DomainError.invalid(`${at}.url`, 'must be an http(s) URL');
    const result: Source = { url: source.url };
    if (source.title !== undefined) result.title = requireText(`${at}.title`, source.title, LIMITS.nameLength * 2);
    if (source.publisher !== undefined)
      result.publisher = requireText(`${at}.publisher`, source.publisher, LIMITS.nameLength);
    if (source.publishedAt !== undefined)
      result.publishedAt = requirePastDate(`${at}.publishedAt`, source.publishedAt, now);
    return result;
  });
}

export function requireCount(field: string, value: unknown, integer: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && !Number.isSafeInteger(value))) {
    throw DomainError.invalid(field, integer ? 'must be a non-negative integer' : 'must be a non-negative number');
  }
  return value;
}
