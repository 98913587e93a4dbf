// What every command gets: where to write, how to reach the agent, and whether to print JSON.
import { AgentClient, resolveSocketPath } from '@cilium-ts/agent-api';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

export interface GlobalOptions {
  host?: string;
  output?: string;
}

export class CommandContext {
  /** Set by a command that completed but must report failure (e.g. invalid policy files). */
  exitCode = 0;

  constructor(
    readonly io: CliIO,
    private readonly globals: () => GlobalOptions,
  ) {}

  /** The -H option, for commands that reach the socket other than through the client (streams). */
  globalsHost(): string | undefined {
    return this.globals().host;
  }

  client(): AgentClient {
    return new AgentClient(resolveSocketPath(this.globals().host, this.io.env));
  }

  get json(): boolean {
    return this.globals().output === 'json';
  }

  /** Prints `value` as JSON with -o json, else the human form. */
  print(value: unknown, human: () => string): void {
    this.io.out(this.json ? JSON.stringify(value, null, 2) : human());
  }
}
