import { request } from 'node:http';
import type { ProbeRequest, ProbeResult } from './pod-agent.js';

function ask<T>(controlSocket: string, path: string, params: Record<string, string>): Promise<T> {
  const q = new URLSearchParams(params);
  return new Promise((resolve, reject) => {
    const r = request({ socketPath: controlSocket, path: `${path}?${q}`, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as T);
        } catch {
          reject(new Error(`pod agent at ${controlSocket} answered ${res.statusCode}: ${body}`));
        }
      });
    });
    r.on('error', (e) => reject(new Error(`pod agent at ${controlSocket} is not answering: ${e.message}`)));
    r.end();
  });
}

/** Asks the pod agent behind a control socket to try one connection from inside its pod. */
export function probeFromPod(controlSocket: string, req: ProbeRequest): Promise<ProbeResult> {
  return ask(controlSocket, '/probe', { host: req.host, port: String(req.port), protocol: req.protocol, timeoutMs: String(req.timeoutMs) });
}

/** Opens a TCP connection from inside the pod and keeps it open; returns its id. */
export function holdConnection(controlSocket: string, host: string, port: number): Promise<{ id?: number; error?: string }> {
  return ask(controlSocket, '/hold', { host, port: String(port) });
}

/** Whether a held connection still carries data both ways. */
export function echoOverHeld(controlSocket: string, id: number, timeoutMs = 1000): Promise<{ ok: boolean; error?: string }> {
  return ask(controlSocket, '/echo', { id: String(id), timeoutMs: String(timeoutMs) });
}
