/** Layout of the graphical time axis: pure arithmetic, kept apart from the drawing so it can be tested alone. */
export interface Interval {
  earliest: string | null;
  latest: string | null;
}

export interface Mark {
  /** A point for a date known to the day, a bar for anything wider. */
  shape: 'point' | 'bar';
  x1: number;
  x2: number;
  openStart: boolean;
  openEnd: boolean;
}

export interface Tick {
  x: number;
  label: string;
}

export interface Scale {
  from: number;
  to: number;
  mark(interval: Interval): Mark;
  ticks: Tick[];
}

const DAY = 86_400_000;

/**
 * A linear scale over every known bound of the intervals, padded a little so marks do not touch the edges. Open
 * ends reach the edge of the axis. Ticks fall on years, or on months when the span is under two years.
 */
export function scaleFor(intervals: Interval[], left: number, right: number): Scale {
  const bounds = intervals
    .flatMap((interval) => [interval.earliest, interval.latest])
    .filter((value): value is string => value !== null)
    .map((value) => Date.parse(value))
    .filter((value) => !Number.isNaN(value));
  let from = bounds.length > 0 ? Math.min(...bounds) : Date.UTC(2000, 0, 1);
  let to = bounds.length > 0 ? Math.max(...bounds) : Date.UTC(2001, 0, 1);
  if (to - from < 30 * DAY) {
    from -= 15 * DAY;
    to += 15 * DAY;
  }
  const pad = (to - from) * 0.03;
  from -= pad;
  to += pad;
  const x = (time: number) => left + ((time - from) / (to - from)) * (right - left);

  return {
    from,
    to,
    mark(interval) {
      const earliest = interval.earliest === null ? Number.NaN : Date.parse(interval.earliest);
      const latest = interval.latest === null ? Number.NaN : Date.parse(interval.latest);
      const openStart = Number.isNaN(earliest);
      const openEnd = Number.isNaN(latest);
      const x1 = openStart ? left : x(earliest);
      const x2 = openEnd ? right : x(latest);
      const shape = !openStart && !openEnd && latest - earliest < DAY ? 'point' : 'bar';
      return { shape, x1, x2: Math.max(x2, x1), openStart, openEnd };
    },
    ticks: ticksBetween(from, to).map((tick) => ({ x: x(tick.time), label: tick.label })),
  };
}

function ticksBetween(from: number, to: number): { time: number; label: string }[] {
  const start = new Date(from);
  const ticks: { time: number; label: string }[] = [];
  const years = (to - from) / (365 * DAY);
  if (years >= 2) {
    const step = Math.max(1, Math.ceil(years / 12));
    for (let year = start.getUTCFullYear() + 1; Date.UTC(year, 0, 1) <= to; year += 1) {
      if (year % step === 0) ticks.push({ time: Date.UTC(year, 0, 1), label: String(year) });
    }
    return ticks;
  }
  const step = years >= 1 ? 3 : 1;
  for (let month = start.getUTCMonth() + 1, year = start.getUTCFullYear(); ; month += 1) {
    const time = Date.UTC(year, month, 1);
    if (time > to) break;
    const date = new Date(time);
    if (date.getUTCMonth() % step === 0) {
      ticks.push({ time, label: `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}` });
    }
  }
  return ticks;
}
