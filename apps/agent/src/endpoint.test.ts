import { describe, expect, it } from 'vitest';
import { formatEndpointRef, parseEndpointRef } from './endpoint.js';

describe('endpoint references', () => {
  it("accepts upstream's id forms", () => {
    expect(parseEndpointRef('42')).toEqual({ kind: 'id', id: 42 });
    expect(parseEndpointRef('cilium-local:7')).toEqual({ kind: 'id', id: 7 });
    expect(parseEndpointRef('container-id:abc123')).toEqual({ kind: 'container-id', containerId: 'abc123' });
    expect(parseEndpointRef('pod-name:x:a')).toEqual({ kind: 'pod-name', namespace: 'x', podName: 'a' });
    expect(parseEndpointRef('pod-name%3Ax%3Aa')).toEqual({ kind: 'pod-name', namespace: 'x', podName: 'a' });
    expect(formatEndpointRef({ kind: 'pod-name', namespace: 'x', podName: 'a' })).toBe('pod-name:x:a');
  });

  it('rejects anything else, saying what is expected', () => {
    expect(() => parseEndpointRef('0')).toThrow('must be between 1 and 4095');
    expect(() => parseEndpointRef('4096')).toThrow('must be between 1 and 4095');
    expect(() => parseEndpointRef('pod-name:onlyname')).toThrow('expected a number 1-4095, cilium-local:<n>, container-id:<id> or pod-name:<namespace>:<name>');
    expect(() => parseEndpointRef('abc')).toThrow('invalid endpoint id "abc"');
  });
});
