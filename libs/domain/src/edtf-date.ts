import edtf from 'edtf';

/**
 * An EDTF (ISO 8601-2, levels 0 and 1) date kept verbatim, with the interval of instants it may denote.
 * `earliest`/`latest` are RFC 3339 instants, or null for an open or unknown end.
 */
export interface EdtfDate {
  readonly value: string;
  readonly earliest: string | null;
  readonly latest: string | null;
}

export type EdtfParseResult = { ok: true; date: EdtfDate } | { ok: false; reason: string };

const MAX_EDTF_LENGTH = 64;

function boundary(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return null;
  return new Date(ms).toISOString();
}

const MEMO_CAPACITY = 10_000;
const memo = new Map<string, EdtfParseResult>();

/** Parses an EDTF string; results are memoised, since every fold of a stream parses the same dates again. */
export function parseEdtf(value: string): EdtfParseResult {
  if (typeof value !== 'string') return { ok: false, reason: 'must be a non-empty EDTF string' };
  const known = memo.get(value);
  if (known) return known;
  const result = parseUncached(value);
  if (memo.size >= MEMO_CAPACITY) memo.clear();
  memo.set(value, result);
  return result;
}

function parseUncached(value: string): EdtfParseResult {
  if (value.length === 0) return { ok: false, reason: 'must be a non-empty EDTF string' };
  if (value.length > MAX_EDTF_LENGTH) return { ok: false, reason: `must be at most ${MAX_EDTF_LENGTH} characters` };
  let parsed: { min: number | null; max: number | null };
  try {
    parsed = edtf(value, { level: 1 });
  } catch {
    return {
      ok: false,
      reason: 'must be an EDTF date of level 0 or 1, e.g. 2023-06-16, 2023-06, 2021~, 2023-05/2023-06',
    };
  }
  if (hasImpossibleDay(value)) return { ok: false, reason: 'must name days that exist in the calendar' };
  if (Number.isNaN(parsed.min) || Number.isNaN(parsed.max)) {
    return { ok: false, reason: 'must be an EDTF date within the supported range of years' };
  }
  const earliest = boundary(parsed.min);
  const latest = boundary(parsed.max);
  if (earliest === null && latest === null) return { ok: false, reason: 'must bound the date on at least one side' };
  return { ok: true, date: { value, earliest, latest } };
}

const CALENDAR_DAY = /(\d{4})-(\d{2})-(\d{2})/g;

/** edtf.js rolls 29 February of a common year over to 1 March; a day that does not exist is refused instead. */
function hasImpossibleDay(value: string): boolean {
  for (const [, year, month, day] of value.matchAll(CALENDAR_DAY)) {
    const date = new Date(0);
    date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
    if (date.getUTCMonth() !== Number(month) - 1) return true;
  }
  return false;
}

/** Milliseconds for ordering; open ends sort to the extremes. */
export function earliestMs(date: Pick<EdtfDate, 'earliest'>): number {
  return date.earliest === null ? Number.NEGATIVE_INFINITY : Date.parse(date.earliest);
}

export function latestMs(date: Pick<EdtfDate, 'latest'>): number {
  return date.latest === null ? Number.POSITIVE_INFINITY : Date.parse(date.latest);
}
