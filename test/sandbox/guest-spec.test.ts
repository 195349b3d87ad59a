import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CPU_PERIOD, LCOW_PRIVILEGED, lcowGuestSpec } from '../../src/sandbox/guest-spec.js';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';

type Json = Record<string, any>;
const clean = (s: Json): Json => lcowGuestSpec(s) as Json;

const base = (): Json => ({
  ociVersion: '1.1.0',
  process: { args: ['sh'], cwd: '/' },
  root: { path: '/run/gcs/c/c1/rootfs' },
  mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
  annotations: { a: 'b' },
  hooks: { prestart: [{ path: 'C:\\hooks\\pre.exe' }], poststop: [{ path: '/bin/true' }] },
  windows: {
    layerFolders: ['C:\\layers\\1'],
    network: { networkNamespace: 'ns-guid', endpointList: ['e1'], allowUnqualifiedDNSQuery: true },
    devices: [{ id: 'gpu', idType: 'vpci-instance-id' }],
    resources: { memory: { limit: 1024 } },
    hyperv: { utilityVMPath: 'C:\\uvm' },
  },
  linux: {
    cgroupsPath: '/kubepods/besteffort/pod1/c1',
    namespaces: [{ type: 'pid' }, { type: 'network', path: '/proc/1/ns/net' }],
    seccomp: { defaultAction: 'SCMP_ACT_ERRNO' },
    resources: {
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: 1 << 30 },
      cpu: { shares: 512, period: 0, quota: 0, cpus: '0' },
      pids: { limit: 10 },
      blockIO: { weight: 10 },
      hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
      network: { classID: 1 },
      unified: { 'memory.high': '1' },
    },
  },
});

describe('spec cleanup before the guest (hcsshim createLCOWSpec)', () => {
  it('drops hooks', () => {
    assert.equal('hooks' in clean(base()), false);
  });

  it('reduces windows to network.networkNamespace and devices', () => {
    assert.deepEqual(clean(base()).windows, { network: { networkNamespace: 'ns-guid' }, devices: [{ id: 'gpu', idType: 'vpci-instance-id' }] });
  });

  it('keeps only the network namespace when there are no devices', () => {
    const s = base();
    delete s.windows.devices;
    assert.deepEqual(clean(s).windows, { network: { networkNamespace: 'ns-guid' } });
  });

  it('drops windows when it has neither a network namespace nor devices', () => {
    const s = base();
    s.windows = { layerFolders: ['C:\\l'], network: { networkNamespace: '' } };
    assert.equal('windows' in lcowGuestSpec(s), false);
  });

  it('keeps an empty windows object for an empty devices list (Go: non-nil slice, omitted field)', () => {
    const s = base();
    s.windows = { layerFolders: ['C:\\l'], devices: [] };
    assert.deepEqual(clean(s).windows, {});
  });

  it('clears linux.cgroupsPath', () => {
    assert.equal('cgroupsPath' in clean(base()).linux, false);
  });

  it('drops the resources the guest cannot apply and keeps memory, cpu and the rest', () => {
    const r = clean(base()).linux.resources;
    assert.deepEqual(Object.keys(r).sort(), ['cpu', 'memory', 'unified']);
    assert.deepEqual(r.memory, { limit: 1 << 30 });
  });

  it('sets the CPU defaults for period 0 and quota 0', () => {
    assert.deepEqual(clean(base()).linux.resources.cpu, { shares: 512, period: DEFAULT_CPU_PERIOD, quota: -1, cpus: '0' });
  });

  it('leaves set CPU values and absent ones alone', () => {
    const s = base();
    s.linux.resources.cpu = { period: 50000, quota: 25000 };
    assert.deepEqual(clean(s).linux.resources.cpu, { period: 50000, quota: 25000 });
    s.linux.resources.cpu = { shares: 2 };
    assert.deepEqual(clean(s).linux.resources.cpu, { shares: 2 });
  });

  it('keeps seccomp without the privileged annotation or with it false', () => {
    assert.deepEqual(clean(base()).linux.seccomp, { defaultAction: 'SCMP_ACT_ERRNO' });
    const s = base();
    s.annotations[LCOW_PRIVILEGED] = 'false';
    assert.deepEqual(clean(s).linux.seccomp, { defaultAction: 'SCMP_ACT_ERRNO' });
  });

  it('drops seccomp for lcow.privileged=true (strconv.ParseBool spellings)', () => {
    for (const v of ['true', '1', 'T']) {
      const s = base();
      s.annotations[LCOW_PRIVILEGED] = v;
      assert.equal('seccomp' in clean(s).linux, false, v);
    }
  });

  it('refuses a privileged value that is not a boolean, naming the annotation', () => {
    const s = base();
    s.annotations[LCOW_PRIVILEGED] = 'yes';
    assert.throws(() => lcowGuestSpec(s), (e) => e instanceof ShimError && e.code === ErrorCode.InvalidArgument && e.message.includes(LCOW_PRIVILEGED));
  });

  it('keeps namespaces, mounts, process, root and annotations as they are', () => {
    const s = base();
    const out = clean(s);
    for (const k of ['process', 'root', 'mounts', 'annotations', 'ociVersion']) assert.deepEqual(out[k], s[k], k);
    assert.deepEqual(out.linux.namespaces, s.linux.namespaces);
  });

  it('never mutates its input', () => {
    const s = base();
    const before = JSON.stringify(s);
    lcowGuestSpec(s);
    assert.equal(JSON.stringify(s), before);
  });

  it('passes a minimal spec (no windows, no resources) through', () => {
    const s = { process: { args: ['x'] }, linux: {}, root: { path: '/r' } };
    assert.deepEqual(lcowGuestSpec(s), s);
  });
});
