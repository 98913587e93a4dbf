import { checkSize, defineLayout } from './struct-layout.js';

export const METRICS_KEY = defineLayout('metrics_key', 4, { reason: [0, 1], dir: [1, 1], pad0: [2, 2] });
export const METRICS_VALUE = defineLayout('metrics_value', 16, { count: [0, 8], bytes: [8, 8] });

export const METRIC_REASON_FORWARDED = 0;
/** With direction 'none': ring buffer reservations that failed (events lost in the kernel). */
export const METRIC_REASON_EVENTS_LOST = 255;

export type MetricDirection = 'none' | 'ingress' | 'egress';
const DIRS: readonly MetricDirection[] = ['none', 'ingress', 'egress'];

export interface MetricsKey {
  /** 0 = forwarded, otherwise a drop reason. */
  reason: number;
  direction: MetricDirection;
}

export interface MetricsValue {
  count: bigint;
  bytes: bigint;
}

export function encodeMetricsKey(key: MetricsKey): Buffer {
  const F = METRICS_KEY.fields;
  const buf = Buffer.alloc(METRICS_KEY.size);
  buf.writeUInt8(key.reason, F.reason.offset);
  buf.writeUInt8(DIRS.indexOf(key.direction), F.dir.offset);
  return buf;
}

export function decodeMetricsKey(buf: Buffer): MetricsKey {
  checkSize(METRICS_KEY, buf, 'decodeMetricsKey');
  const F = METRICS_KEY.fields;
  return { reason: buf.readUInt8(F.reason.offset), direction: DIRS[buf.readUInt8(F.dir.offset)] ?? 'none' };
}

export function decodeMetricsValue(buf: Buffer): MetricsValue {
  checkSize(METRICS_VALUE, buf, 'decodeMetricsValue');
  const F = METRICS_VALUE.fields;
  return { count: buf.readBigUInt64LE(F.count.offset), bytes: buf.readBigUInt64LE(F.bytes.offset) };
}

/** Sums the per-CPU values of one key. */
export function sumMetrics(perCpu: readonly Buffer[]): MetricsValue {
  let count = 0n;
  let bytes = 0n;
  for (const b of perCpu) {
    const v = decodeMetricsValue(b);
    count += v.count;
    bytes += v.bytes;
  }
  return { count, bytes };
}
