import { earliestMs, edtfMemoStats, latestMs, parseEdtf, settledBy, sortMs } from './edtf-date';

describe('parseEdtf', () => {
  it.each([
    ['a day (level 0)', '2023-06-16', '2023-06-16T00:00:00.000Z', '2023-06-16T23:59:59.999Z'],
    ['a month (level 0)', '2023-06', '2023-06-01T00:00:00.000Z', '2023-06-30T23:59:59.999Z'],
    ['a year (level 0)', '2023', '2023-01-01T00:00:00.000Z', '2023-12-31T23:59:59.999Z'],
    ['a leap day', '2024-02-29', '2024-02-29T00:00:00.000Z', '2024-02-29T23:59:59.999Z'],
    ['a leap day of a year divisible by 400', '2000-02-29', '2000-02-29T00:00:00.000Z', '2000-02-29T23:59:59.999Z'],
    ['an interval of months (level 0)', '2023-05/2023-06', '2023-05-01T00:00:00.000Z', '2023-06-30T23:59:59.999Z'],
    ['an interval of days', '2023-05-01/2023-06-01', '2023-05-01T00:00:00.000Z', '2023-06-01T23:59:59.999Z'],
    ['an unspecified month (level 1)', '2023-XX', '2023-01-01T00:00:00.000Z', '2023-12-31T23:59:59.999Z'],
    ['an unspecified day (level 1)', '2023-06-XX', '2023-06-01T00:00:00.000Z', '2023-06-30T23:59:59.999Z'],
    ['an unspecified year digit (level 1)', '156X', '1560-01-01T00:00:00.000Z', '1569-12-31T23:59:59.999Z'],
    ['an instant (level 0)', '2023-06-16T10:00:00Z', '2023-06-16T10:00:00.000Z', '2023-06-16T10:00:00.000Z'],
    ['spring (season 21: March to May)', '2023-21', '2023-03-01T00:00:00.000Z', '2023-05-31T23:59:59.999Z'],
    ['summer (season 22: June to August)', '2023-22', '2023-06-01T00:00:00.000Z', '2023-08-31T23:59:59.999Z'],
    ['autumn (season 23)', '2023-23', '2023-09-01T00:00:00.000Z', '2023-11-30T23:59:59.999Z'],
    ['winter (season 24), into the next year', '2023-24', '2023-12-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z'],
    ['a one-of set (level 2)', '[2023-06-16,2023-07-11]', '2023-06-16T00:00:00.000Z', '2023-07-11T23:59:59.999Z'],
    ['a one-of set with a range', '[2023-01..2023-03,2023-06]', '2023-01-01T00:00:00.000Z', '2023-06-30T23:59:59.999Z'],
  ])('accepts %s: %s is [%s, %s]', (_case, value, earliest, latest) => {
    expect(parseEdtf(value)).toEqual({
      ok: true,
      date: { value, earliest, latest, approximate: false, uncertain: false },
    });
  });

  it.each([
    [
      'an uncertain month keeps its bounds',
      '2021-04?',
      '2021-04-01T00:00:00.000Z',
      '2021-04-30T23:59:59.999Z',
      false,
      true,
    ],
    [
      'an approximate month widens by a month each side',
      '2021-04~',
      '2021-03-01T00:00:00.000Z',
      '2021-05-31T23:59:59.999Z',
      true,
      false,
    ],
    [
      'an approximate year widens by a year each side',
      '2021~',
      '2020-01-01T00:00:00.000Z',
      '2022-12-31T23:59:59.999Z',
      true,
      false,
    ],
    [
      'an approximate and uncertain day widens by a day',
      '2021-04-01%',
      '2021-03-31T00:00:00.000Z',
      '2021-04-02T23:59:59.999Z',
      true,
      true,
    ],
    [
      'an approximate season widens by a season',
      '2023-22~',
      '2023-03-01T00:00:00.000Z',
      '2023-11-30T23:59:59.999Z',
      true,
      false,
    ],
    [
      'an approximate interval start widens only the start',
      '2021-04~/2021-06',
      '2021-03-01T00:00:00.000Z',
      '2021-06-30T23:59:59.999Z',
      true,
      false,
    ],
  ])('qualified dates: %s (%s)', (_case, value, earliest, latest, approximate, uncertain) => {
    expect(parseEdtf(value)).toEqual({ ok: true, date: { value, earliest, latest, approximate, uncertain } });
  });

  it.each([
    ['an interval open at the start (level 1)', '../2023-05', null, '2023-05-31T23:59:59.999Z'],
    ['an interval open at the end (level 1)', '2023-05/..', '2023-05-01T00:00:00.000Z', null],
    ['an interval with an unknown start (level 1)', '/2023-05', null, '2023-05-31T23:59:59.999Z'],
    ['a one-of set open at the start', '[..2016,2023]', null, '2023-12-31T23:59:59.999Z'],
  ])('accepts %s: %s, with null for the open end', (_case, value, earliest, latest) => {
    expect(parseEdtf(value)).toEqual({
      ok: true,
      date: { value, earliest, latest, approximate: false, uncertain: false },
    });
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
    ['an unclosed set', '[2023,2024'],
    ['an empty set member', '[2023,,2024]'],
    ['a set open in the middle', '[2020,..2021,2023]'],
    ['a season beyond 24 (level 2)', '2023-25'],
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

  it('remembers no refused value: 2,000 unique 64,000-character dates leave the memo as it was', () => {
    const before = edtfMemoStats();
    for (let i = 0; i < 2000; i += 1) parseEdtf(`${i}`.padStart(64_000, '9'));
    for (let i = 0; i < 2000; i += 1) parseEdtf(`2023-13-${i}`);
    expect(edtfMemoStats()).toEqual(before);
  });

  it('bounds the memo in bytes however many distinct valid dates it sees', () => {
    for (let day = 0; day < 40_000; day += 1) {
      const date = new Date(Date.UTC(1900, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
      expect(parseEdtf(`${date}/${date}`).ok).toBe(true);
    }
    expect(edtfMemoStats().bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(edtfMemoStats().entries).toBeLessThan(40_000);
  });

  it('a year beyond 9999 reached through an open interval is refused', () => {
    expect(parseEdtf('../Y20000').ok).toBe(false);
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

describe('settledBy', () => {
  const at = Date.UTC(2022, 0, 1);
  it.each([
    ['2021-04', true],
    ['2021-04~', false],
    ['2021-04?', false],
    ['2021-04%', false],
    ['2021/2021-06?', false],
    ['[2021-01,2021-06]', true],
    ['2021-04/..', false],
  ])('%s settled on 2022-01-01: %s (a qualified date never is)', (value, settled) => {
    const parsed = parseEdtf(value);
    expect(parsed.ok && settledBy(parsed.date, at)).toBe(settled);
  });
});

describe('sortMs', () => {
  it('sorts an open start by its latest instant, not before everything', () => {
    const open = parseEdtf('../2023-05');
    const old = parseEdtf('2016');
    expect(open.ok && old.ok && sortMs(open.date) > sortMs(old.date)).toBe(true);
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
