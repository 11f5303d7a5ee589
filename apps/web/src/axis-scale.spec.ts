import { scaleFor } from './axis-scale';

describe('scaleFor (the time axis layout)', () => {
  const intervals = [
    { earliest: '2021-04-01T00:00:00.000Z', latest: '2021-04-30T23:59:59.999Z' },
    { earliest: '2023-06-16T00:00:00.000Z', latest: '2023-06-16T23:59:59.999Z' },
    { earliest: null, latest: '2023-05-15T23:59:59.999Z' },
  ];
  const scale = scaleFor(intervals, 0, 1000);

  it('draws a date known to the day as a point and a wider one as a bar', () => {
    expect(scale.mark(intervals[1]).shape).toBe('point');
    expect(scale.mark(intervals[0]).shape).toBe('bar');
  });

  it('keeps every known bound inside the axis, and runs an open start to its left edge', () => {
    for (const interval of intervals) {
      const mark = scale.mark(interval);
      expect(mark.x1).toBeGreaterThanOrEqual(0);
      expect(mark.x2).toBeLessThanOrEqual(1000);
      expect(mark.x2).toBeGreaterThanOrEqual(mark.x1);
    }
    expect(scale.mark(intervals[2])).toMatchObject({ x1: 0, openStart: true, openEnd: false });
  });

  it('puts later dates further right, and ticks on years for a span of years', () => {
    expect(scale.mark(intervals[1]).x1).toBeGreaterThan(scale.mark(intervals[0]).x2);
    expect(scale.ticks.map((tick) => tick.label)).toEqual(['2022', '2023']);
  });
});
