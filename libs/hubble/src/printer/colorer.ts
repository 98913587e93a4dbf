/** ANSI colours of `hubble observe --color always`; the identity functions when colour is off. */
export interface Colorer {
  host(s: string): string;
  port(s: string): string;
  identity(s: string): string;
  verdictForwarded(s: string): string;
  verdictDropped(s: string): string;
  verdictAudit(s: string): string;
  auth(s: string, failing: boolean): string;
  /** Makes untrusted text safe for a terminal (control characters in caret notation). */
  escape(s: string): string;
}

const ESC = '\x1b[';
const RESET = `${ESC}0m`;
const paint = (code: number) => (s: string) => `${ESC}${code}m${s}${RESET}`;

// Control characters other than tab and newline would let flow contents drive the terminal.
function escapeControl(s: string): string {
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (ch) => {
    if (ch === '\r') return '\\r';
    return '^' + String.fromCharCode(ch.charCodeAt(0) ^ 0x40);
  });
}

export function createColorer(enabled: boolean): Colorer {
  const plain = (s: string) => s;
  if (!enabled) {
    return { host: plain, port: plain, identity: plain, verdictForwarded: plain, verdictDropped: plain, verdictAudit: plain, auth: plain, escape: escapeControl };
  }
  return {
    host: paint(36),
    port: paint(33),
    identity: paint(35),
    verdictForwarded: paint(32),
    verdictDropped: paint(31),
    verdictAudit: paint(33),
    auth: (s, failing) => (failing ? paint(31)(s) : paint(32)(s)),
    escape: escapeControl,
  };
}
