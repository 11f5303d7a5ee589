import { ProgressBar } from './progress-bar';

/** A stream that records what is written, on a terminal or not. */
function stream(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream };
}

describe('progress bar', () => {
  it('on a terminal, redraws one line with done/total, the rate and the time left, at most every 100 ms', () => {
    const tty = stream(true);
    let now = 0;
    const bar = new ProgressBar('rebuild', { stream: tty.stream, unit: 'events', clock: () => now });
    now = 2000;
    bar.update(1000, 4000);
    now = 2050;
    bar.update(1100, 4000);
    now = 4000;
    bar.update(2000, 4000);
    bar.finish('done');
    expect(tty.written).toEqual([
      '\rrebuild [########......................] 25% 1000/4000 events, 500 events/s, ETA 6s\u001b[K',
      '\rrebuild [###############...............] 50% 2000/4000 events, 500 events/s, ETA 4s\u001b[K',
      '\n',
      'done\n',
    ]);
  });

  it('off a terminal, prints a line every tenth of the way, or nothing but the final line when quiet', () => {
    const lines = stream(false);
    const quiet = stream(false);
    let now = 0;
    const bars = [
      new ProgressBar('rebuild', { stream: lines.stream, unit: 'events', clock: () => now }),
      new ProgressBar('rebuild', { stream: quiet.stream, unit: 'events', clock: () => now, offTerminal: 'quiet' }),
    ];
    for (const done of [50, 90, 120, 6000]) {
      now += 1000;
      for (const bar of bars) bar.update(done, 6000);
    }
    for (const bar of bars) bar.finish('rebuilt');
    expect(lines.written).toEqual([
      'rebuild: 1% (50/6000 events, 50 events/s, ETA 1m59s)\n',
      'rebuild: 100% (6000/6000 events, 1500 events/s, ETA 0s)\n',
      'rebuilt\n',
    ]);
    expect(quiet.written).toEqual(['rebuilt\n']);
  });
});
