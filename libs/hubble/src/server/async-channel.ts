/**
 * A push-to-pull queue: producers push values (from callbacks, timers, other streams), one consumer
 * iterates them. Used where a server stream is fed by events rather than by a loop.
 */
export class AsyncChannel<T> implements AsyncIterable<T> {
  // A head index instead of Array.shift(), which is linear in the queue length.
  private items: T[] = [];
  private head = 0;
  private waiter: (() => void) | undefined;
  private readonly spaceWaiters: { below: number; resolve: () => void }[] = [];
  private closed = false;
  private failure: unknown;

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.wake();
  }

  /** Ends the iteration after the queued items; with an error, the consumer sees it thrown. */
  close(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = error;
    this.wake();
    this.releaseSpace();
  }

  get size(): number {
    return this.items.length - this.head;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Resolves when an item is queued, the channel closes, or `ms` elapses (whichever first). */
  wait(ms?: number): Promise<void> {
    if (this.size > 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.wake(), ms);
      this.waiter = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
    });
  }

  /** The next queued item, or undefined when none is queued right now. */
  /**
   * Resolves once fewer than `below` items are queued (or the channel is closed): producers that
   * await it before pushing get back-pressure from a slow consumer instead of unbounded memory.
   */
  whenBelow(below: number): Promise<void> {
    if (this.size < below || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push({ below, resolve }));
  }

  private releaseSpace(): void {
    for (let i = this.spaceWaiters.length - 1; i >= 0; i--) {
      const w = this.spaceWaiters[i];
      if (w && (this.size < w.below || this.closed)) {
        this.spaceWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.spaceWaiters.length > 0) this.releaseSpace();
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  get done(): boolean {
    return this.closed && this.size === 0;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.closed) {
        if (this.failure !== undefined) throw this.failure;
        return;
      }
      await this.wait();
    }
  }
}
