import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BpfObject } from './bpf-object.js';
import { ifindexOf, listCgroupAttachments, listTcAttachments, listXdpAttachment } from './attachments.js';
import { Scratch, run, testObject } from '../test/support/scratch.js';
import { catchBpfError } from '../test/support/catch-bpf-error.js';

const scratch = new Scratch();
const ownNetns = readlinkSync('/proc/thread-self/ns/net');
afterEach(() => scratch.cleanup());

/** A namespace of the test's own with a veth pair inside, and the basic programs loaded. */
function setup() {
  const ns = scratch.netns();
  const veth = scratch.veth(ns);
  const obj = scratch.closeLater(BpfObject.load(testObject('basic')));
  return { ns, veth, obj };
}

describe('tc attachments (clsact, direct action)', () => {
  it('attach on ingress and egress inside a namespace, list them, detach them', () => {
    const { ns, veth, obj } = setup();
    const prog = obj.program('tc_pass');
    const ingress = prog.attachTc(veth.a, 'ingress', { netns: ns.path });
    scratch.defer(() => ingress.detach());
    const egress = prog.attachTc(veth.a, 'egress', { netns: ns.path, priority: 7, handle: 3 });
    scratch.defer(() => egress.detach());

    expect(ingress.ifindex).toBe(ifindexOf(veth.a, { netns: ns.path }));
    expect([egress.priority, egress.handle]).toEqual([7, 3]);
    expect(listTcAttachments(veth.a, { netns: ns.path })).toEqual([
      { ifindex: ingress.ifindex, direction: 'ingress', priority: ingress.priority, handle: ingress.handle, progId: prog.id, progName: 'tc_pass' },
      { ifindex: ingress.ifindex, direction: 'egress', priority: 7, handle: 3, progId: prog.id, progName: 'tc_pass' },
    ]);
    // tc itself sees the program as a direct-action bpf filter.
    expect(run('ip', ['netns', 'exec', ns.name, 'tc', 'filter', 'show', 'dev', veth.a, 'egress'])).toMatch(/bpf .*direct-action/);

    ingress.detach();
    ingress.detach();
    expect(listTcAttachments(veth.a, { netns: ns.path }).map((a) => a.direction)).toEqual(['egress']);
    egress.detach();
    expect(listTcAttachments(ingress.ifindex, { netns: ns.path })).toEqual([]);
  });

  it('a dropping program on ingress stops traffic until it is detached', () => {
    const client = scratch.netns();
    const server = scratch.netns();
    const veth = scratch.veth(client, server);
    run('ip', ['-n', client.name, 'addr', 'add', '192.0.2.9/30', 'dev', veth.a]);
    run('ip', ['-n', server.name, 'addr', 'add', '192.0.2.10/30', 'dev', veth.b]);
    const ping = (): boolean =>
      spawnSync('ip', ['netns', 'exec', client.name, 'ping', '-c', '1', '-W', '1', '192.0.2.10']).status === 0;
    const obj = scratch.closeLater(BpfObject.load(testObject('basic')));

    expect(ping()).toBe(true);
    const link = obj.program('tc_drop').attachTc(veth.b, 'ingress', { netns: server.path });
    scratch.defer(() => link.detach());
    expect(ping()).toBe(false);
    link.detach();
    expect(ping()).toBe(true);
  });

  it('detach after the namespace was deleted is a no-op', () => {
    const { ns, veth, obj } = setup();
    const link = obj.program('tc_pass').attachTc(veth.a, 'ingress', { netns: ns.path });
    run('ip', ['netns', 'del', ns.name]);
    expect(() => link.detach()).not.toThrow();
  });

  it('the interface is looked up in the namespace given, not in the caller\'s', () => {
    const { ns, veth, obj } = setup();
    const err = catchBpfError(() => obj.program('tc_pass').attachTc(veth.a, 'ingress'));
    expect(err.message).toBe(`if_nametoindex(${veth.a}): ENODEV No such device`);
    expect(listTcAttachments(veth.a, { netns: ns.path })).toEqual([]);
    expect(readlinkSync('/proc/thread-self/ns/net')).toBe(ownNetns);
  });

  it('a missing interface fails with ENODEV naming it', () => {
    const { ns, obj } = setup();
    const err = catchBpfError(() => obj.program('tc_pass').attachTc('ctsdn-nope0', 'ingress', { netns: ns.path }));
    expect(err.code).toBe('ENODEV');
    expect(err.message).toContain('ctsdn-nope0');
    // The failure happened inside the namespace; the thread is back in its own.
    expect(readlinkSync('/proc/thread-self/ns/net')).toBe(ownNetns);
    expect(catchBpfError(() => ifindexOf('ctsdn-nope0')).message).toBe('if_nametoindex(ctsdn-nope0): ENODEV No such device');
  });

  it('a missing namespace file is named in the error', () => {
    const { obj } = setup();
    const err = catchBpfError(() => obj.program('tc_pass').attachTc('lo', 'ingress', { netns: '/var/run/netns/ctsdn-absent' }));
    expect(err.message).toMatch(/^open\(\/var\/run\/netns\/ctsdn-absent\): ENOENT/);
  });
});

describe('XDP attachments', () => {
  it('generic mode: attach, query, detach', () => {
    const { ns, veth, obj } = setup();
    const prog = obj.program('xdp_pass');
    expect(listXdpAttachment(veth.b, { netns: ns.path })).toBeUndefined();
    const link = prog.attachXdp(veth.b, { netns: ns.path, mode: 'generic' });
    scratch.defer(() => link.detach());
    expect(listXdpAttachment(veth.b, { netns: ns.path })).toEqual({ progId: prog.id, mode: 'generic' });
    expect(link.mode).toBe('generic');
    link.detach();
    link.detach();
    expect(listXdpAttachment(veth.b, { netns: ns.path })).toBeUndefined();
  });

  it('native mode on veth', () => {
    const { ns, veth, obj } = setup();
    const link = obj.program('xdp_pass').attachXdp(veth.a, { netns: ns.path });
    scratch.defer(() => link.detach());
    expect(listXdpAttachment(veth.a, { netns: ns.path })?.mode).toBe('native');
  });
});

describe('cgroup attachments', () => {
  it('connect4 on a cgroup the test made: attach, list, detach', () => {
    const cgroup = scratch.cgroup();
    const obj = scratch.closeLater(BpfObject.load(testObject('basic')));
    const prog = obj.program('connect4_allow');
    const link = prog.attachCgroup(cgroup, 'connect4');
    scratch.defer(() => link.detach());
    expect(listCgroupAttachments(cgroup, 'connect4')).toEqual([prog.id]);
    expect(listCgroupAttachments(cgroup, 'sendmsg4')).toEqual([]);
    // The link holds its own reference: closing the program does not stop it from detaching.
    obj.close();
    link.detach();
    link.detach();
    expect(listCgroupAttachments(cgroup, 'connect4')).toEqual([]);
  });

  it('connect4 takes effect for processes in the cgroup, and stops when detached', () => {
    const cgroup = scratch.cgroup();
    const obj = scratch.closeLater(BpfObject.load(testObject('basic')));
    // A shell that joins the cgroup, then connects to a (most likely closed) port on loopback.
    const connect = (): string => {
      const r = spawnSync('bash', ['-c', `echo $$ > ${cgroup}/cgroup.procs && exec 3<>/dev/tcp/127.0.0.1/9`], { encoding: 'utf8' });
      return r.stderr;
    };
    expect(connect()).not.toContain('Operation not permitted');
    const link = obj.program('connect4_deny').attachCgroup(cgroup, 'connect4');
    scratch.defer(() => link.detach());
    expect(connect()).toContain('Operation not permitted');
    link.detach();
    expect(connect()).not.toContain('Operation not permitted');
  });

  it('a missing cgroup directory is named', () => {
    const obj = scratch.closeLater(BpfObject.load(testObject('basic')));
    const err = catchBpfError(() => obj.program('connect4_allow').attachCgroup('/sys/fs/cgroup/ctsdn-absent', 'connect4'));
    expect(err.message).toMatch(/^open\(\/sys\/fs\/cgroup\/ctsdn-absent\): ENOENT/);
  });
});

