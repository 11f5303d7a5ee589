export interface ProgressBarOptions {
  stream?: NodeJS.WriteStream;
  /** Off a terminal: a line every tenth of the way, or nothing (the final message still prints). */
  offTerminal?: 'lines' | 'quiet';
  /** What is counted, for the rate ("events/s"). */
  unit?: string;
  /** Clock in milliseconds, for rate and time left. */
  clock?: () => number;
}

/** Redraws on a terminal at most this often: a fast loop must not spend its time writing to stderr. */
const REDRAW_MS = 100;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * A one-line progress bar on stderr with the rate and the time left; off a terminal it prints a line every tenth of
 * the way instead, or nothing.
 */
export class ProgressBar {
  private lastDecile = -1;
  private lastDraw = -Infinity;
  private readonly stream: NodeJS.WriteStream;
  private readonly offTerminal: 'lines' | 'quiet';
  private readonly unit: string;
  private readonly clock: () => number;
  private readonly started: number;

  constructor(
    private readonly label: string,
    options: ProgressBarOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.offTerminal = options.offTerminal ?? 'lines';
    this.unit = options.unit ?? 'items';
    this.clock = options.clock ?? Date.now;
    this.started = this.clock();
  }

  update(done: number, total: number): void {
    const ratio = total <= 0 ? 1 : Math.min(1, done / total);
    const now = this.clock();
    const seconds = Math.max(now - this.started, 1) / 1000;
    const rate = done / seconds;
    const left = rate > 0 ? Math.max(total - done, 0) / rate : Infinity;
    const figures = `${done}/${total} ${this.unit}, ${Math.round(rate)} ${this.unit}/s, ETA ${duration(left)}`;
    if (this.stream.isTTY) {
      if (now - this.lastDraw < REDRAW_MS && ratio < 1) return;
      this.lastDraw = now;
      const width = 30;
      const filled = Math.round(ratio * width);
      this.stream.write(
        `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(ratio * 100)}% ${figures}\u001b[K`,
      );
      return;
    }
    if (this.offTerminal === 'quiet') return;
    const decile = Math.floor(ratio * 10);
    if (decile !== this.lastDecile) {
      this.lastDecile = decile;
      this.stream.write(`${this.label}: ${Math.round(ratio * 100)}% (${figures})\n`);
    }
  }

  finish(message: string): void {
    if (this.stream.isTTY && this.lastDraw !== -Infinity) this.stream.write('\n');
    this.stream.write(`${message}\n`);
  }
}
