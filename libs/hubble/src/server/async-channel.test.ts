import { describe, expect, it } from 'vitest';
import { AsyncChannel } from './async-channel.js';

describe('AsyncChannel', () => {
  it('hands pushed items to the consumer in order, then ends on close', async () => {
    const channel = new AsyncChannel<number>();
    const got: number[] = [];
    const consumer = (async () => {
      for await (const n of channel) got.push(n);
    })();
    for (let i = 0; i < 3000; i++) channel.push(i);
    await new Promise((r) => setTimeout(r, 0));
    channel.push(3000);
    channel.close();
    await consumer;
    expect(got).toHaveLength(3001);
    expect(got.every((n, i) => n === i)).toBe(true);
  });

  it('throws the close error to the consumer after the queued items', async () => {
    const channel = new AsyncChannel<string>();
    channel.push('a');
    channel.close(new Error('peer gone'));
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const s of channel) got.push(s);
      })(),
    ).rejects.toThrow('peer gone');
    expect(got).toEqual(['a']);
  });

  it('whenBelow() holds a producer until the consumer has caught up', async () => {
    const channel = new AsyncChannel<number>();
    for (let i = 0; i < 4; i++) channel.push(i);
    let released = false;
    const producer = channel.whenBelow(2).then(() => (released = true));
    channel.shift();
    channel.shift();
    await Promise.resolve();
    expect(released).toBe(false);
    channel.shift();
    await producer;
    expect(channel.size).toBe(1);
  });

  it('wait() resolves after a timeout when nothing comes', async () => {
    const channel = new AsyncChannel<number>();
    await channel.wait(5);
    expect(channel.shift()).toBeUndefined();
  });
});
