import { earliestMs, latestMs, parseEdtf } from './edtf-date';

describe('parseEdtf', () => {
  it.each([
    ['a day (level 0)', '2023-06-16', '2023-06-16T00:00:00.000Z', '2023-06-16T23:59:59.999Z'],
    ['a month (level 0)', '2023-06', '2023-06-01T00:00:00.000Z', '2023-06-30T23:59:59.999Z'],
    ['a year (level 0)', '2023', '2023-01-01T00:00:00.000Z', '2023-12-31T23:59:59.999Z'],
    ['a leap day', '2024-02-29', '2024-02-29T00:00:00.000Z', '2024-02-29T23:59:59.999Z'],
    ['a leap day of a year divisible by 400', '2000-02-29', '2000-02-29T00:00:00.000Z', '2000-02-29T23:59:59.999Z'],
    ['an interval of months (level 0)', '2023-05/2023-06', '2023-05-01T00:00:00.000Z', '2023-06-30T23:59:59.999Z'],
    ['an interval of days', '2023-05-01/2023-06-01', '2023-05-01T00:00:00.000Z', '2023-06-01T23:59:59.999Z'],
    ['an uncertain month (level 1)', '2021-04?', '2021-04-01T00:00:00.000Z', '2021-04-30T23:59:59.999Z'],
    ['an approximate year (level 1)', '2021~', '2021-01-01T00:00:00.000Z', '2021-12-31T23:59:59.999Z'],
    [
      'an uncertain and approximate day (level 1)',
      '2021-04-01%',
      '2021-04-01T00:00:00.000Z',
      '2021-04-01T23:59:59.999Z',
    ],
    ['an unspecified month (level 1)', '2023-XX', '2023-01-01T00:00:00.000Z', '2023-12-31T23:59:59.999Z'],
    ['an unspecified day (level 1)', '2023-06-XX', '2023-06-01T00:00:00.000Z', '2023-06-30T23:59:59.999Z'],
    ['an unspecified year digit (level 1)', '156X', '1560-01-01T00:00:00.000Z', '1569-12-31T23:59:59.999Z'],
    ['an instant (level 0)', '2023-06-16T10:00:00Z', '2023-06-16T10:00:00.000Z', '2023-06-16T10:00:00.000Z'],
  ])('accepts %s: %s is [%s, %s]', (_case, value, earliest, latest) => {
    expect(parseEdtf(value)).toEqual({ ok: true, date: { value, earliest, latest } });
  });

  it.each([
    ['an interval open at the start (level 1)', '../2023-05', null, '2023-05-31T23:59:59.999Z'],
    ['an interval open at the end (level 1)', '2023-05/..', '2023-05-01T00:00:00.000Z', null],
    ['an interval with an unknown start (level 1)', '/2023-05', null, '2023-05-31T23:59:59.999Z'],
  ])('accepts %s: %s, with null for the open end', (_case, value, earliest, latest) => {
    expect(parseEdtf(value)).toEqual({ ok: true, date: { value, earliest, latest } });
  });

  it('keeps the value verbatim', () => {
    const parsed = parseEdtf('2021-04?');
    expect(parsed.ok && parsed.date.value).toBe('2021-04?');
  });

  it.each([
    ['the empty string', ''],
    ['free text', 'foo'],
    ['month 13', '2023-13'],
    ['30 February', '2023-02-30'],
    ['31 April', '2023-04-31'],
    ['a lower-case unspecified digit', '2023-xx'],
    ['a level 2 set (one of)', '[2023,2024]'],
    ['a level 2 set (all of)', '{2023,2024}'],
    ['level 2 qualification of a component', '2023?-06'],
    ['a reversed interval', '2023-06/2023-05'],
    ['an interval open at both ends', '../..'],
    ['a bare open end', '..'],
    ['a year beyond the supported range', 'Y170000002'],
    ['an hour 25', '2023-06-16T25:00:00Z'],
    ['more than 64 characters', `2023-06-16${' '.repeat(55)}`],
  ])('refuses %s (%j)', (_case, value) => {
    expect(parseEdtf(value)).toEqual({ ok: false, reason: expect.any(String) });
  });

  it('refuses more than 64 characters before parsing, saying so', () => {
    expect(parseEdtf('x'.repeat(65))).toEqual({ ok: false, reason: 'must be at most 64 characters' });
  });

  it.each([
    ['2023-02-29', 'a common year'],
    ['1900-02-29', 'a century year not divisible by 400'],
    ['2023-02-29?', 'a common year, even when uncertain'],
    ['2023-02-29/2023-03-05', 'a common year, as an interval start'],
  ])('refuses 29 February in %s (%s) rather than reading it as 1 March', (value) => {
    expect(parseEdtf(value)).toEqual({ ok: false, reason: expect.any(String) });
  });

  it.each([null, undefined, 2023, {}])('refuses a value that is not a string (%p)', (value) => {
    expect(parseEdtf(value as unknown as string).ok).toBe(false);
  });
});

describe('earliestMs and latestMs', () => {
  it('give the interval ends in milliseconds', () => {
    const date = { earliest: '2023-05-01T00:00:00.000Z', latest: '2023-06-30T23:59:59.999Z' };
    expect(earliestMs(date)).toBe(Date.UTC(2023, 4, 1));
    expect(latestMs(date)).toBe(Date.UTC(2023, 5, 30, 23, 59, 59, 999));
  });

  it('sort an open start before every date and an open end after every date', () => {
    expect(earliestMs({ earliest: null })).toBe(Number.NEGATIVE_INFINITY);
    expect(latestMs({ latest: null })).toBe(Number.POSITIVE_INFINITY);
  });
});
