import edtf from 'edtf';

/**
 * An EDTF date (ISO 8601-2 levels 0 and 1, plus level-2 "one of" sets) kept verbatim, with the interval of instants it
 * may denote. `earliest`/`latest` are RFC 3339 instants, or null for an open or unknown end.
 */
export interface EdtfDate {
  readonly value: string;
  readonly earliest: string | null;
  readonly latest: string | null;
  /** Some part is approximate (`~` or `%`): the interval was widened by one unit of its precision. */
  readonly approximate: boolean;
  /** Some part is uncertain (`?` or `%`). */
  readonly uncertain: boolean;
}

export type EdtfParseResult = { ok: true; date: EdtfDate } | { ok: false; reason: string };

export const MAX_EDTF_LENGTH = 64;

const GRAMMAR_REASON =
  'must be an EDTF date of level 0 or 1 (or a level-2 one-of set), e.g. 2023-06-16, 2023-06, 2021~, 2023-21, ' +
  '2023-05/2023-06, ../2023-05, [2023-06-16,2023-07-11]';

type Precision = 'year' | 'season' | 'month' | 'day' | 'instant';

interface Bounds {
  earliest: number | null;
  latest: number | null;
  approximate: boolean;
  uncertain: boolean;
}

class EdtfRefusal extends Error {}

const YEAR_0000 = (() => {
  const date = new Date(0);
  date.setUTCFullYear(0, 0, 1);
  return date.getTime();
})();
const END_OF_9999 = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Memo of successful parses, bounded in bytes: every fold of a stream parses the same dates again. Only valid values
 * (at most MAX_EDTF_LENGTH characters) are kept, so refused input can never grow it.
 */
const MEMO_BYTES = 2 * 1024 * 1024;
const ENTRY_OVERHEAD_BYTES = 200;
const memo = new Map<string, EdtfParseResult>();
let memoBytes = 0;

function remember(value: string, result: EdtfParseResult): void {
  const cost = ENTRY_OVERHEAD_BYTES + value.length * 4;
  while (memoBytes + cost > MEMO_BYTES && memo.size > 0) {
    const oldest = memo.keys().next().value as string;
    memo.delete(oldest);
    memoBytes -= ENTRY_OVERHEAD_BYTES + oldest.length * 4;
  }
  memo.set(value, result);
  memoBytes += cost;
}

/** The memo's current size, for tests and metrics. */
export function edtfMemoStats(): { entries: number; bytes: number } {
  return { entries: memo.size, bytes: memoBytes };
}

export function parseEdtf(value: string): EdtfParseResult {
  if (typeof value !== 'string' || value.length === 0) return { ok: false, reason: 'must be a non-empty EDTF string' };
  if (value.length > MAX_EDTF_LENGTH) return { ok: false, reason: `must be at most ${MAX_EDTF_LENGTH} characters` };
  const known = memo.get(value);
  if (known) return known;
  const result = parseUncached(value);
  if (result.ok) remember(value, result);
  return result;
}

function parseUncached(value: string): EdtfParseResult {
  let bounds: Bounds;
  try {
    bounds = value.startsWith('[')
      ? parseOneOf(value)
      : value.includes('/')
        ? parseInterval(value)
        : parseSingle(value);
  } catch (error) {
    return { ok: false, reason: error instanceof EdtfRefusal ? error.message : GRAMMAR_REASON };
  }
  const { earliest, latest } = bounds;
  if (earliest === null && latest === null) return { ok: false, reason: 'must bound the date on at least one side' };
  for (const end of [earliest, latest]) {
    if (end !== null && (end < YEAR_0000 || end > END_OF_9999)) {
      return { ok: false, reason: 'must lie between the years 0000 and 9999' };
    }
  }
  if (earliest !== null && latest !== null && earliest > latest) {
    return { ok: false, reason: 'must not end before it begins' };
  }
  return {
    ok: true,
    date: {
      value,
      earliest: earliest === null ? null : new Date(earliest).toISOString(),
      latest: latest === null ? null : new Date(latest).toISOString(),
      approximate: bounds.approximate,
      uncertain: bounds.uncertain,
    },
  };
}

const QUALIFIER = /[?~%]$/;
const SEASON = /^(\d{4})-(2[1-4])$/;

/** One date of level 0 or 1 (a year, season, month, day or instant), possibly qualified with `?`, `~` or `%`. */
function parseSingle(text: string): Bounds {
  if (text === '' || text === '..') throw new EdtfRefusal(GRAMMAR_REASON);
  const qualifier = QUALIFIER.test(text) ? text[text.length - 1] : '';
  const bare = qualifier ? text.slice(0, -1) : text;
  if (/[?~%]/.test(bare)) throw new EdtfRefusal(GRAMMAR_REASON);
  const approximate = qualifier === '~' || qualifier === '%';
  const uncertain = qualifier === '?' || qualifier === '%';
  let earliest: number;
  let latest: number;
  let precision: Precision;
  const season = SEASON.exec(bare);
  if (season) {
    [earliest, latest] = seasonBounds(Number(season[1]), Number(season[2]));
    precision = 'season';
  } else {
    const parsed = edtf(text, { level: 1 });
    if (parsed.type === 'Interval' || parsed.type === 'Season') throw new EdtfRefusal(GRAMMAR_REASON);
    if (parsed.min === null || parsed.max === null || !Number.isFinite(parsed.min) || !Number.isFinite(parsed.max)) {
      throw new EdtfRefusal('must be an EDTF date within the supported range of years');
    }
    if (hasImpossibleDay(bare)) throw new EdtfRefusal('must name days that exist in the calendar');
    earliest = parsed.min;
    latest = parsed.max;
    precision = precisionOf(bare);
  }
  if (approximate && precision !== 'instant') {
    earliest = shift(earliest, precision, -1);
    latest = shift(latest + 1, precision, 1) - 1;
  }
  return { earliest, latest, approximate, uncertain };
}

function precisionOf(bare: string): Precision {
  if (bare.includes('T')) return 'instant';
  const parts = bare.replace(/^Y/, '').replace(/^-/, '').split('-').length;
  return parts === 1 ? 'year' : parts === 2 ? 'month' : 'day';
}

/** Northern-hemisphere seasons: spring March-May, summer June-August, autumn September-November, winter December-February. */
function seasonBounds(year: number, code: number): [number, number] {
  const startMonth = { 21: 2, 22: 5, 23: 8, 24: 11 }[code] as number;
  const start = utc(year, startMonth, 1);
  return [start, shift(start, 'season', 1) - 1];
}

function utc(year: number, month: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  return date.getTime();
}

/** Moves an instant by whole units of a precision (calendar arithmetic in UTC). */
function shift(ms: number, precision: Precision, units: number): number {
  const date = new Date(ms);
  switch (precision) {
    case 'year':
      date.setUTCFullYear(date.getUTCFullYear() + units);
      break;
    case 'season':
      date.setUTCMonth(date.getUTCMonth() + 3 * units);
      break;
    case 'month':
      date.setUTCMonth(date.getUTCMonth() + units);
      break;
    case 'day':
      date.setUTCDate(date.getUTCDate() + units);
      break;
    case 'instant':
      break;
  }
  return date.getTime();
}

/** `start/end`, where either side may be open (`..`) or unknown (empty). */
function parseInterval(text: string): Bounds {
  const parts = text.split('/');
  if (parts.length !== 2) throw new EdtfRefusal(GRAMMAR_REASON);
  const [startText, endText] = parts;
  const start = startText === '' || startText === '..' ? null : parseSingle(startText);
  const end = endText === '' || endText === '..' ? null : parseSingle(endText);
  if (start === null && end === null) throw new EdtfRefusal('must bound the date on at least one side');
  if (start !== null && end !== null && start.earliest! > end.latest!) {
    throw new EdtfRefusal('must not end before it begins');
  }
  return {
    earliest: start?.earliest ?? null,
    latest: end?.latest ?? null,
    approximate: Boolean(start?.approximate || end?.approximate),
    uncertain: Boolean(start?.uncertain || end?.uncertain),
  };
}

/**
 * A level-2 "one of" set: `[2023-06-16,2023-07-11]`, with ranges `2023-01..2023-03` and open members `..2016`,
 * `2023..`. The interval spans every member.
 */
function parseOneOf(text: string): Bounds {
  if (!text.endsWith(']')) throw new EdtfRefusal(GRAMMAR_REASON);
  const members = text.slice(1, -1).split(',');
  if (members.length === 0 || members.some((member) => member === '')) throw new EdtfRefusal(GRAMMAR_REASON);
  let earliest: number | null = Number.POSITIVE_INFINITY;
  let latest: number | null = Number.NEGATIVE_INFINITY;
  let approximate = false;
  let uncertain = false;
  members.forEach((member, index) => {
    const range = member.split('..');
    if (range.length > 2) throw new EdtfRefusal(GRAMMAR_REASON);
    const [from, to] = range.length === 2 ? range : [member, member];
    const openStart = from === '';
    const openEnd = to === '';
    if (openStart && openEnd) throw new EdtfRefusal(GRAMMAR_REASON);
    if ((openStart && index !== 0) || (openEnd && index !== members.length - 1)) {
      throw new EdtfRefusal(GRAMMAR_REASON);
    }
    const low = openStart ? null : parseSingle(from);
    const high = openEnd ? null : parseSingle(to);
    if (low !== null && high !== null && low.earliest! > high.latest!) {
      throw new EdtfRefusal('must not end before it begins');
    }
    approximate ||= Boolean(low?.approximate || high?.approximate);
    uncertain ||= Boolean(low?.uncertain || high?.uncertain);
    earliest = earliest === null || low === null ? null : Math.min(earliest, low.earliest!);
    latest = latest === null || high === null ? null : Math.max(latest, high.latest!);
  });
  return { earliest, latest, approximate, uncertain };
}

const CALENDAR_DAY = /(\d{4})-(\d{2})-(\d{2})/g;

/** edtf.js rolls 29 February of a common year over to 1 March; a day that does not exist is refused instead. */
function hasImpossibleDay(value: string): boolean {
  for (const [, year, month, day] of value.matchAll(CALENDAR_DAY)) {
    const date = new Date(utc(Number(year), Number(month) - 1, Number(day)));
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

/** Where a date sorts on the timeline: its earliest instant, or its latest when the start is open. */
export function sortMs(date: Pick<EdtfDate, 'earliest' | 'latest'>): number {
  return date.earliest === null ? latestMs(date) : earliestMs(date);
}

/** Whether the event certainly happened by `validAtMs`: a qualified (uncertain or approximate) date never is. */
export function settledBy(date: EdtfDate, validAtMs: number): boolean {
  return !date.approximate && !date.uncertain && latestMs(date) <= validAtMs;
}
