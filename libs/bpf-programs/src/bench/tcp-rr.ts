// TCP request/response inside a namespace: `server <port>` echoes; `client
// <host> <port> <ms>` sends one byte at a time, waits for it to come back, and
// prints the transactions per second.
import net from 'node:net';

const [mode, a, b, c] = process.argv.slice(2);

if (mode === 'server') {
  net.createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => s.write(d));
    s.on('error', () => undefined);
  }).listen(Number(a), '0.0.0.0', () => console.log('ready'));
} else if (mode === 'client') {
  const durationMs = Number(c ?? 2000);
  const s = net.connect(Number(b), a ?? '127.0.0.1', () => {
    s.setNoDelay(true);
    let count = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(durationMs) * 1_000_000n;
    s.on('data', () => {
      count++;
      if (process.hrtime.bigint() >= end) {
        const secs = Number(process.hrtime.bigint() - start) / 1e9;
        console.log(String(Math.round(count / secs)));
        s.destroy();
        return;
      }
      s.write('x');
    });
    s.write('x');
  });
  s.on('error', (err) => {
    console.error(`tcp-rr client: ${err.message}`);
    process.exit(1);
  });
} else {
  console.error(`tcp-rr: unknown mode ${mode}`);
  process.exit(2);
}
