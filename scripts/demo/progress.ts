/** A one-line progress bar on stderr, redrawn in place on a terminal and printed sparsely otherwise. */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private last = 0;
  private done = 0;
  private printedFull = false;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly quiet = false,
  ) {
    this.draw(true);
  }

  tick(n = 1): void {
    this.done += n;
    this.draw(this.done >= this.total);
  }

  finish(note = ""): void {
    this.done = this.total;
    if (this.quiet || (this.printedFull && !note && !this.tty)) return;
    process.stderr.write(`${this.tty ? "\r\x1b[K" : ""}${this.line()}${note ? `  ${note}` : ""}\n`);
  }

  private line(): string {
    const width = 30;
    const filled = this.total === 0 ? width : Math.round((this.done / this.total) * width);
    return `${this.label.padEnd(34)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${this.done}/${this.total}`;
  }

  private draw(force: boolean): void {
    if (this.quiet) return;
    const now = Date.now();
    if (!force && now - this.last < (this.tty ? 100 : 5_000)) return;
    this.last = now;
    if (this.tty) process.stderr.write(`\r\x1b[K${this.line()}`);
    else if (force || this.done > 0) {
      process.stderr.write(`${this.line()}\n`);
      if (this.done >= this.total) this.printedFull = true;
    }
  }
}

/** A phase heading on stderr. */
export function phase(text: string, quiet = false): void {
  if (!quiet) process.stderr.write(`\n${text}\n`);
}
