/** A one-line progress bar on stderr; on a non-terminal it prints a line every tenth of the way instead. */
export class ProgressBar {
  private lastDecile = -1;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, total: number): void {
    const ratio = total <= 0 ? 1 : Math.min(1, done / total);
    if (this.stream.isTTY) {
      const width = 30;
      const filled = Math.round(ratio * width);
      this.stream.write(
        `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(ratio * 100)}% ${done}/${total}`,
      );
      return;
    }
    const decile = Math.floor(ratio * 10);
    if (decile !== this.lastDecile) {
      this.lastDecile = decile;
      this.stream.write(`${this.label}: ${Math.round(ratio * 100)}% (${done}/${total})\n`);
    }
  }

  finish(message: string): void {
    if (this.stream.isTTY) this.stream.write('\n');
    this.stream.write(`${message}\n`);
  }
}
