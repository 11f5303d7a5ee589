/**
 * Instants and dates used for the time axes. Point-in-time parameters accept an RFC 3339 instant or a calendar date;
 * a date means the end of that day in UTC ("known at 2023-10-01" includes what was published that day).
 */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function validCalendarDate(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** The last instant this service represents: later years do not sort as text and are refused everywhere. */
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const EARLIEST_MS = Date.parse('0000-01-01T00:00:00.000Z');

export function isRfc3339Instant(text: unknown): text is string {
  if (typeof text !== 'string' || !RFC3339.test(text) || !validCalendarDate(text)) return false;
  const ms = Date.parse(text);
  return !Number.isNaN(ms) && ms >= EARLIEST_MS && ms <= LATEST_MS;
}

export function isDateOrInstant(text: unknown): text is string {
  return typeof text === 'string' && ((DATE.test(text) && validCalendarDate(text)) || isRfc3339Instant(text));
}

/** Normalises a validated RFC 3339 instant to the canonical `toISOString` form. */
export function normaliseInstant(text: string): string {
  // Already canonical (what this service writes): no need to parse and print it again.
  if (CANONICAL.test(text)) return text;
  return new Date(Date.parse(text)).toISOString();
}

const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A date is read as the last millisecond of that UTC day; an instant as itself. */
export function upperBoundOf(text: string): string {
  if (DATE.test(text)) return new Date(Date.parse(`${text}T23:59:59.999Z`)).toISOString();
  return normaliseInstant(text);
}

/** Milliseconds of a date (its first instant) or an instant, for comparing as numbers rather than text. */
export function instantMs(text: string): number {
  return Date.parse(lowerBoundOf(text));
}

/** A date is read as the first millisecond of that UTC day; an instant as itself. */
export function lowerBoundOf(text: string): string {
  if (DATE.test(text)) return `${text}T00:00:00.000Z`;
  return normaliseInstant(text);
}
