// The small program every lab pod runs inside its network namespace: it answers on the pod's ports
// (TCP: accepts and echoes; UDP: echoes each datagram) and, on request from the host over a unix socket,
// tries one connection from inside the pod, as Kubernetes' `agnhost connect` does.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, connect, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { rmSync } from 'node:fs';
import type { PortProtocol } from './topology.js';

export interface ProbeRequest {
  host: string;
  port: number;
  protocol: PortProtocol;
  timeoutMs: number;
}
export interface ProbeResult {
  connected: boolean;
  /** Why not, when not: refused, timeout, unsupported, ... */
  error?: string;
}

export function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (r: ProbeResult) => {
      sock.destroy();
      resolve(r);
    };
    sock.setTimeout(timeoutMs, () => done({ connected: false, error: 'timeout' }));
    sock.once('connect', () => done({ connected: true }));
    sock.once('error', (e: NodeJS.ErrnoException) => done({ connected: false, error: e.code ?? e.message }));
  });
}

/** UDP has no handshake: a probe counts as connected when the pod's echo comes back. */
export function probeUdp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => done({ connected: false, error: 'timeout' }), timeoutMs);
    const done = (r: ProbeResult) => {
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    sock.once('message', () => done({ connected: true }));
    sock.once('error', (e: NodeJS.ErrnoException) => done({ connected: false, error: e.code ?? e.message }));
    sock.send('probe', port, host);
  });
}

export function probe(req: ProbeRequest): Promise<ProbeResult> {
  switch (req.protocol) {
    case 'TCP':
      return probeTcp(req.host, req.port, req.timeoutMs);
    case 'UDP':
      return probeUdp(req.host, req.port, req.timeoutMs);
    case 'SCTP':
      // This machine's kernel is built without CONFIG_IP_SCTP; say so rather than report "not connected".
      return Promise.resolve({ connected: false, error: 'unsupported: the kernel has no SCTP' });
  }
}

/**
 * Long-lived TCP connections held open from inside the pod, so a test can show that an established
 * connection survives what happens meanwhile (an agent killed and restarted) by echoing over it later.
 */
class HeldConnections {
  private next = 1;
  private readonly sockets = new Map<number, Socket>();
  /** Why a connection went away, for the check that finds it gone. */
  private readonly closedBecause = new Map<number, string>();

  open(host: string, port: number): Promise<{ id?: number; error?: string }> {
    return new Promise((resolve) => {
      const sock = connect({ host, port });
      sock.setTimeout(2000, () => {
        sock.destroy();
        resolve({ error: 'timeout' });
      });
      sock.once('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
      sock.once('connect', () => {
        sock.setTimeout(0);
        const id = this.next++;
        this.sockets.set(id, sock);
        let reason = 'closed by the peer';
        sock.on('error', (e: NodeJS.ErrnoException) => (reason = e.code ?? e.message));
        sock.on('close', () => {
          this.sockets.delete(id);
          this.closedBecause.set(id, reason);
        });
        resolve({ id });
      });
    });
  }

  /** Sends a line over a held connection and waits for the pod server's echo. */
  echo(id: number, timeoutMs: number): Promise<{ ok: boolean; error?: string }> {
    const sock = this.sockets.get(id);
    if (!sock) return Promise.resolve({ ok: false, error: `closed: ${this.closedBecause.get(id) ?? 'no such connection'}` });
    return new Promise((resolve) => {
      const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), timeoutMs);
      const onData = () => done({ ok: true });
      const done = (r: { ok: boolean; error?: string }) => {
        clearTimeout(timer);
        sock.off('data', onData);
        resolve(r);
      };
      sock.once('data', onData);
      sock.write('still there?\n');
    });
  }

  closeAll(): void {
    for (const s of this.sockets.values()) s.destroy();
  }
}

export interface PodAgentOptions {
  ports: Array<{ port: number; protocol: PortProtocol }>;
  controlSocket: string;
}

export async function runPodAgent(opts: PodAgentOptions): Promise<() => Promise<void>> {
  const closers: Array<() => void> = [];
  for (const { port, protocol } of opts.ports) {
    if (protocol === 'TCP') {
      const srv = createTcpServer((s) => {
        s.on('data', (d) => s.write(d));
        s.on('error', () => s.destroy());
      });
      await new Promise<void>((res, rej) => srv.once('error', rej).listen(port, '::', res));
      closers.push(() => srv.close());
    } else if (protocol === 'UDP') {
      const udp = createSocket({ type: 'udp6', ipv6Only: false });
      udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
      await new Promise<void>((res) => udp.bind(port, '::', res));
      closers.push(() => udp.close());
    }
  }
  rmSync(opts.controlSocket, { force: true });
  const held = new HeldConnections();
  closers.push(() => held.closeAll());
  const control = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://pod');
    const reply = (r: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r));
    if (url.pathname === '/hold') {
      void held.open(url.searchParams.get('host') ?? '', Number(url.searchParams.get('port'))).then(reply);
      return;
    }
    if (url.pathname === '/echo') {
      void held.echo(Number(url.searchParams.get('id')), Number(url.searchParams.get('timeoutMs') ?? 1000)).then(reply);
      return;
    }
    if (url.pathname !== '/probe') {
      res.writeHead(404).end();
      return;
    }
    const request: ProbeRequest = {
      host: url.searchParams.get('host') ?? '',
      port: Number(url.searchParams.get('port')),
      protocol: (url.searchParams.get('protocol') ?? 'TCP') as PortProtocol,
      timeoutMs: Number(url.searchParams.get('timeoutMs') ?? 1000),
    };
    void probe(request).then((r) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r)));
  });
  await new Promise<void>((res) => control.listen(opts.controlSocket, res));
  closers.push(() => control.close());
  return async () => {
    for (const c of closers) c();
    rmSync(opts.controlSocket, { force: true });
  };
}
