// Per-module health, as upstream's hive health reporting: each module reports ok, degraded or stopped
// with a message, and the API shows the lot (GET /v1/healthz).
export type HealthLevel = 'ok' | 'degraded' | 'stopped';

export interface ModuleHealth {
  module: string;
  level: HealthLevel;
  message: string;
  /** ISO time of the last change of level or message. */
  since: string;
}

export interface HealthReporter {
  ok(message?: string): void;
  degraded(message: string): void;
  stopped(message: string): void;
}

export class HealthRegistry {
  private readonly byModule = new Map<string, ModuleHealth>();

  reporter(module: string): HealthReporter {
    const set = (level: HealthLevel, message: string) => {
      const prev = this.byModule.get(module);
      if (prev && prev.level === level && prev.message === message) return;
      this.byModule.set(module, { module, level, message, since: new Date().toISOString() });
    };
    return {
      ok: (message = '') => set('ok', message),
      degraded: (message) => set('degraded', message),
      stopped: (message) => set('stopped', message),
    };
  }

  get(module: string): ModuleHealth | undefined {
    return this.byModule.get(module);
  }

  all(): ModuleHealth[] {
    return [...this.byModule.values()].sort((a, b) => a.module.localeCompare(b.module));
  }

  /** Modules reporting degraded: upstream's "controllers failing". */
  failing(): ModuleHealth[] {
    return this.all().filter((h) => h.level === 'degraded');
  }
}
