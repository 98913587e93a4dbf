import type { TextSink } from '@cilium-ts/hubble';

/** Where a `hubble` run writes and what it reads from its environment (process or test). */
export interface HubbleIO {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Ends a following `observe` (Ctrl-C). */
  readonly signal?: AbortSignal;
}
