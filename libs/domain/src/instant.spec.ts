import { isDateOrInstant, isRfc3339Instant, lowerBoundOf, normaliseInstant, upperBoundOf } from './instant';

describe('isRfc3339Instant', () => {
  it.each([
    '2023-06-16T10:00:00Z',
    '2023-06-16T10:00:00.5Z',
    '2023-06-16T10:00:00.123456789Z',
    '2023-06-16T10:00:00+02:00',
    '2023-06-16T10:00:00-07:00',
    '2024-02-29T00:00:00Z',
    '2023-06-16t10:00:00z',
  ])('accepts %s', (text) => {
    expect(isRfc3339Instant(text)).toBe(true);
  });

  it.each([
    ['a calendar date', '2023-06-16'],
    ['no offset', '2023-06-16T10:00:00'],
    ['no seconds', '2023-06-16T10:00Z'],
    ['an impossible day', '2023-02-30T00:00:00Z'],
    ['29 February of a common year', '2023-02-29T00:00:00Z'],
    ['hour 25', '2023-06-16T25:00:00Z'],
    ['minute 60', '2023-06-16T10:60:00Z'],
    ['an offset beyond 24 hours', '2023-06-16T10:00:00+25:00'],
    ['an EDTF month', '2023-06'],
    ['free text', 'now'],
    ['the empty string', ''],
    ['a number', 1686909600000],
    ['null', null],
  ])('refuses %s', (_case, text) => {
    expect(isRfc3339Instant(text)).toBe(false);
  });
});

describe('isDateOrInstant', () => {
  it.each(['2023-06-16', '2024-02-29', '2023-06-16T10:00:00Z'])('accepts %s', (text) => {
    expect(isDateOrInstant(text)).toBe(true);
  });

  it.each(['2023-02-29', '2023-13-01', '2023-6-1', '2023-06', '2023', '16/06/2023', ''])('refuses %s', (text) => {
    expect(isDateOrInstant(text)).toBe(false);
  });
});

describe('bounds of dates and instants', () => {
  it('a date as an upper bound is the last millisecond of that UTC day', () => {
    expect(upperBoundOf('2023-10-01')).toBe('2023-10-01T23:59:59.999Z');
  });

  it('a date as a lower bound is the first millisecond of that UTC day', () => {
    expect(lowerBoundOf('2023-10-01')).toBe('2023-10-01T00:00:00.000Z');
  });

  it.each([upperBoundOf, lowerBoundOf])('an instant is its own bound, in canonical UTC form (%p)', (bound) => {
    expect(bound('2023-10-01T02:30:00+02:00')).toBe('2023-10-01T00:30:00.000Z');
  });

  it('normalises an instant to the canonical toISOString form, in UTC with milliseconds', () => {
    expect(normaliseInstant('2023-07-11T12:00:00-04:00')).toBe('2023-07-11T16:00:00.000Z');
    expect(normaliseInstant('2023-07-11T16:00:00.123456Z')).toBe('2023-07-11T16:00:00.123Z');
  });

  it('canonical instants order correctly as strings, which the views rely on', () => {
    // Chronological, but not in string order as written.
    const written = ['2023-07-11T15:00:00Z', '2023-07-11T12:00:00-04:00', '2023-07-11T17:30:00+01:00'];
    expect([...written].sort()).not.toEqual(written);
    const instants = written.map(normaliseInstant);
    expect([...instants].sort()).toEqual(instants);
  });
});
