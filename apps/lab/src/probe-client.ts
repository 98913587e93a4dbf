import { request } from 'node:http';
import type { ProbeRequest, ProbeResult } from './pod-agent.js';

/** Asks the pod agent behind a control socket to try one connection from inside its pod. */
export function probeFromPod(controlSocket: string, req: ProbeRequest): Promise<ProbeResult> {
  const q = new URLSearchParams({ host: req.host, port: String(req.port), protocol: req.protocol, timeoutMs: String(req.timeoutMs) });
  return new Promise((resolve, reject) => {
    const r = request({ socketPath: controlSocket, path: `/probe?${q}`, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as ProbeResult);
        } catch {
          reject(new Error(`pod agent at ${controlSocket} answered ${res.statusCode}: ${body}`));
        }
      });
    });
    r.on('error', (e) => reject(new Error(`pod agent at ${controlSocket} is not answering: ${e.message}`)));
    r.end();
  });
}
