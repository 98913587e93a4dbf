/**
 * The subset of Go's text/tabwriter the hubble table uses (minwidth 2, tabwidth 0, padding 3,
 * padchar ' ', no flags): tab-terminated cells are padded to their column's widest cell plus the
 * padding; the text after the last tab of a line is not aligned. Lines are buffered until flush.
 */
export class TabWriter {
  private lines: string[][] = [];
  private partial = '';

  constructor(
    private readonly sink: (text: string) => void,
    private readonly minWidth = 2,
    private readonly padding = 3,
  ) {}

  write(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.lines.push(line.split('\t'));
  }

  flush(): void {
    if (this.partial !== '') {
      this.lines.push(this.partial.split('\t'));
      this.partial = '';
    }
    const widths: number[] = [];
    for (const cells of this.lines) {
      for (let c = 0; c < cells.length - 1; c++) {
        const w = Math.max([...(cells[c] ?? '')].length + this.padding, this.minWidth);
        widths[c] = Math.max(widths[c] ?? 0, w);
      }
    }
    let out = '';
    for (const cells of this.lines) {
      for (let c = 0; c < cells.length - 1; c++) {
        const cell = cells[c] ?? '';
        out += cell + ' '.repeat((widths[c] ?? 0) - [...cell].length);
      }
      out += (cells[cells.length - 1] ?? '') + '\n';
    }
    this.lines = [];
    if (out !== '') this.sink(out);
  }
}
