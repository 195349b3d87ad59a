/**
 * Guest-side mount sources of a pod (src/guest/sandbox-mounts.ts) over the bridge, as Microsoft's GCS: the
 * sandbox gets its sandboxMounts / sandboxTmpfsMounts / hugepages dirs, a workload's sandbox://,
 * sandbox-tmp://, uvm:// (and hugepages://) sources resolve into them, a ".." escape and a missing uvm://
 * target are refused, a standalone container's guest sources reach runc unchanged, and deleting the sandbox
 * unmounts its dirs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RPCCreate, RPCDeleteContainerState } from '../../src/gcs/protocol/index.js';
import { mountsUnder } from '../../src/hcs/emulator/teardown.js';
import { useNegotiatedHost, type RawHost } from './support/raw-host.js';

const NEEDS_ROOT = process.getuid?.() !== 0 ? 'needs root (mounts)' : false;
const ACT = '11111111-2222-3333-4444-555555555555';
const CRI = 'io.kubernetes.cri.container-type';
const SANDBOX_ID = 'io.kubernetes.cri.sandbox-id';
type Mount = { destination: string; type: string; source: string; options: string[] };

const create = (host: RawHost, id: string, annotations: Record<string, string>, mounts: Mount[] = []) =>
  host.rpc(RPCCreate, {
    ContainerId: id, ActivityId: ACT,
    ContainerConfig: JSON.stringify({
      SchemaVersion: { Major: 2, Minor: 1 }, OciBundlePath: `/run/gcs/c/${id}`,
      OciSpecification: { process: { args: ['sh'], cwd: '/' }, root: { path: `/run/gcs/c/${id}/rootfs` }, mounts, annotations },
    }),
  });
const bind = (source: string, destination: string): Mount => ({ destination, type: 'bind', source, options: ['rbind'] });

describe('guest: a pod\'s guest-side mount sources', { skip: NEEDS_ROOT }, () => {
  const s = useNegotiatedHost();

  it('resolves sandbox://, sandbox-tmp://, uvm:// and hugepages:// for a workload; refuses escapes and missing uvm:// targets; the sandbox\'s delete unmounts its dirs', async () => {
    const root = join(s.vmDir, 'rootfs/run/gcs/c/pod1');
    const sb = await create(s.host, 'pod1', { [CRI]: 'sandbox', [SANDBOX_ID]: 'pod1', 'io.microsoft.cri.skip-pod-networking': 'true' });
    assert.equal(sb.body['Result'], 0, String(sb.body['ErrorMessage']));
    assert.deepEqual((await mountsUnder(root)).sort(), [join(root, 'hugepages'), join(root, 'sandboxMounts'), join(root, 'sandboxTmpfsMounts')]);
    assert.ok(existsSync(join(root, 'logs')));

    mkdirSync(join(s.vmDir, 'rootfs/run/uvm-data'), { recursive: true });
    const wl = await create(s.host, 'w1', { [CRI]: 'container', [SANDBOX_ID]: 'pod1' }, [
      bind('sandbox:///shared/a', '/a'), bind('sandbox-tmp:///scratch', '/t'), bind('uvm:///run/uvm-data', '/u'), bind('hugepages://2M/hp', '/h'),
    ]);
    assert.equal(wl.body['Result'], 0, String(wl.body['ErrorMessage']));
    const written = JSON.parse(readFileSync(join(s.vmDir, 'rootfs/run/gcs/c/w1/config.json'), 'utf8')) as { mounts: Mount[] };
    assert.deepEqual(written.mounts.slice(0, 4).map((m) => m.source), [
      join(root, 'sandboxMounts/shared/a'), join(root, 'sandboxTmpfsMounts/scratch'), join(s.vmDir, 'rootfs/run/uvm-data'), join(root, 'hugepages/2M/hp'),
    ]);
    assert.match(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(`${join(root, 'hugepages/2M/hp')} [^\n]* - hugetlbfs `), 'hugetlbfs mounted');
    assert.ok(existsSync(join(root, 'sandboxMounts/shared/a')) && existsSync(join(root, 'sandboxTmpfsMounts/scratch')), 'created');

    const escape = await create(s.host, 'w2', { [CRI]: 'container', [SANDBOX_ID]: 'pod1' }, [bind('sandbox:///../../../etc', '/e')]);
    assert.equal((escape.body['Result'] as number) >>> 0, 0x80004005);
    assert.match(String(escape.body['ErrorMessage']), /mount path \S+ for mount sandbox:\/\/\/\.\.\/\.\.\/\.\.\/etc is not within sandbox's mounts dir/);
    const missing = await create(s.host, 'w3', { [CRI]: 'container', [SANDBOX_ID]: 'pod1' }, [bind('uvm:///run/not-there', '/u')]);
    assert.match(String(missing.body['ErrorMessage']), /could not open uVM mount target/);
    const badPages = await create(s.host, 'w4', { [CRI]: 'container', [SANDBOX_ID]: 'pod1' }, [bind('hugepages://2M/../../x', '/h')]);
    assert.match(String(badPages.body['ErrorMessage']), /is not within hugepages's mounts dir/);

    // A standalone container: the guest leaves such a source to runc, as the real GCS.
    const alone = await create(s.host, 's1', {}, [bind('sandbox:///x', '/x')]);
    assert.equal(alone.body['Result'], 0, String(alone.body['ErrorMessage']));
    const aloneSpec = JSON.parse(readFileSync(join(s.vmDir, 'rootfs/run/gcs/c/s1/config.json'), 'utf8')) as { mounts: Mount[] };
    assert.equal(aloneSpec.mounts[0]?.source, 'sandbox:///x');

    for (const id of ['w1', 's1', 'pod1']) {
      const del = await s.host.rpc(RPCDeleteContainerState, { ContainerId: id });
      assert.equal(del.body['Result'], 0, `${id}: ${String(del.body['ErrorMessage'])}`);
    }
    assert.deepEqual(await mountsUnder(join(s.vmDir, 'rootfs')), [], 'the sandbox\'s delete unmounted its dirs');
    assert.equal(existsSync(root), false);
  });
});
