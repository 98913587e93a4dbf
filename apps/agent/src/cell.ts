// The agent is assembled from modules ("cells", like upstream's hive in spirit): each declares what it
// provides and what it needs; the hive starts them in dependency order and stops them in reverse.
import type { HealthRegistry, HealthReporter } from './health.js';

export interface CellContext {
  /** A value provided by a module this one declared in `needs`. */
  get<T>(name: string): T;
  health: HealthReporter;
}

export interface Cell {
  name: string;
  /** Names of the values this cell puts into the hive when it starts. */
  provides?: readonly string[];
  needs?: readonly string[];
  /** Returns the provided values by name. */
  start(ctx: CellContext): Promise<Record<string, unknown> | void> | Record<string, unknown> | void;
  stop?(): Promise<void> | void;
}

export class HiveError extends Error {
  override name = 'HiveError';
}

/** Orders cells so that every provider starts before its users; rejects missing providers and cycles. */
export function startOrder(cells: readonly Cell[]): Cell[] {
  const provider = new Map<string, Cell>();
  for (const cell of cells) {
    for (const p of cell.provides ?? []) {
      const other = provider.get(p);
      if (other) throw new HiveError(`"${p}" is provided by both ${other.name} and ${cell.name}`);
      provider.set(p, cell);
    }
  }
  const order: Cell[] = [];
  const state = new Map<Cell, 'visiting' | 'done'>();
  const visit = (cell: Cell, path: string[]) => {
    const s = state.get(cell);
    if (s === 'done') return;
    if (s === 'visiting') throw new HiveError(`dependency cycle: ${[...path, cell.name].join(' -> ')}`);
    state.set(cell, 'visiting');
    for (const need of cell.needs ?? []) {
      const p = provider.get(need);
      if (!p) throw new HiveError(`${cell.name} needs "${need}" but no module provides it`);
      visit(p, [...path, cell.name]);
    }
    state.set(cell, 'done');
    order.push(cell);
  };
  for (const cell of cells) visit(cell, []);
  return order;
}

export class Hive {
  private readonly values = new Map<string, unknown>();
  private started: Cell[] = [];

  constructor(
    private readonly cells: readonly Cell[],
    private readonly health: HealthRegistry,
  ) {}

  get<T>(name: string): T {
    if (!this.values.has(name)) throw new HiveError(`"${name}" has not been provided (yet)`);
    return this.values.get(name) as T;
  }

  /** Starts every cell; if one fails, the ones already started are stopped and the error names the cell. */
  async start(): Promise<void> {
    for (const cell of startOrder(this.cells)) {
      const health = this.health.reporter(cell.name);
      const needs = new Set(cell.needs ?? []);
      const ctx: CellContext = {
        health,
        get: <T>(name: string): T => {
          if (!needs.has(name)) throw new HiveError(`${cell.name} did not declare that it needs "${name}"`);
          return this.get<T>(name);
        },
      };
      let provided: Record<string, unknown> | void;
      try {
        provided = await cell.start(ctx);
      } catch (err) {
        health.stopped(`start failed: ${(err as Error).message}`);
        await this.stop();
        throw new HiveError(`starting ${cell.name}: ${(err as Error).message}`, { cause: err });
      }
      for (const p of cell.provides ?? []) {
        if (!provided || !(p in provided)) throw new HiveError(`${cell.name} declared "${p}" but did not provide it`);
        this.values.set(p, provided[p]);
      }
      if (!this.health.get(cell.name)) health.ok('started');
      this.started.push(cell);
    }
  }

  /** Stops started cells in reverse order; a failing stop is reported and does not stop the others. */
  async stop(): Promise<void> {
    const cells = this.started.reverse();
    this.started = [];
    for (const cell of cells) {
      const health = this.health.reporter(cell.name);
      try {
        await cell.stop?.();
        health.stopped('stopped');
      } catch (err) {
        health.stopped(`stop failed: ${(err as Error).message}`);
      }
    }
  }
}
