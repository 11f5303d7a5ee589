/** Dates as the record writes them (EDTF, ISO) and in the reader's locale. */
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function localDate(instant: string | null | undefined): string {
  if (instant === null || instant === undefined) return '';
  const time = Date.parse(instant);
  return Number.isNaN(time) ? instant : dateFormat.format(time);
}

export function localDateTime(instant: string | null | undefined): string {
  if (instant === null || instant === undefined) return '';
  const time = Date.parse(instant);
  return Number.isNaN(time) ? instant : dateTimeFormat.format(time);
}

/** The interval an EDTF date stands for, in the reader's locale: "Apr 1, 2021 – Apr 30, 2021", "before May 15, 2023". */
export function localInterval(interval: { earliest: string | null; latest: string | null }): string {
  const { earliest, latest } = interval;
  if (earliest === null && latest === null) return 'date unknown';
  if (earliest === null) return `by ${localDate(latest)}`;
  if (latest === null) return `from ${localDate(earliest)}`;
  const from = localDate(earliest);
  const to = localDate(latest);
  return from === to ? from : `${from} – ${to}`;
}

/** A date input's value (YYYY-MM-DD) from an instant or date. */
export function dayOf(value: string): string {
  return value.slice(0, 10);
}

export function humanize(value: string): string {
  return value.replace(/-/g, ' ');
}

export function numberText(value: number | undefined): string {
  return value === undefined ? '' : new Intl.NumberFormat().format(value);
}
