/**
 * Closing a sandbox's utility VM in hcsshim's order (uvm.CloseCtx): terminate the VM and wait for it, then close
 * the GCS connection. Against the real peers (the HCS emulator boots our guest agent): the guest never sees the
 * bridge's EOF while it runs, so it never logs the real GCS's fatal "failed to serve gcs service" (which it did
 * for every closed VM when the connection was closed first), and nothing of the VM is left.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { Annotation, createLcowSandboxFactory, effectiveAnnotations } from '../../src/sandbox/index.js';
import { captureLogger } from '../fakes/index.js';
import { useEmulatorRoot } from '../fixtures/emulator-root.js';
import { createTransport } from '../../src/transport/index.js';

const NEEDS_ROOT: string | false = process.getuid?.() !== 0 ? 'needs root (the emulator mounts)' : false;
const BOOT_FILES = resolve('dist/bin/LinuxBootFiles');

describe('closing a utility VM (HCS emulator + guest agent)', { skip: NEEDS_ROOT, timeout: 120_000 }, () => {
  const tmp = useEmulatorRoot('sandbox-close-');

  it('terminates the VM before it closes the GCS connection; the guest logs no bridge failure', async () => {
    const cap = captureLogger();
    const factory = createLcowSandboxFactory({ log: cap.logger, debug: true, transport: createTransport() });
    const sandbox = await factory({
      taskId: 'close1', bundle: tmp, spec: {}, options: {}, log: cap.logger,
      annotations: effectiveAnnotations({ [Annotation.BootFilesRootPath]: BOOT_FILES }, {}),
    });
    const order: string[] = [];
    const internals = sandbox as unknown as { vm: { close(): Promise<void> }; gc: { close(): void } };
    const vmClose = internals.vm.close.bind(internals.vm);
    const gcClose = internals.gc.close.bind(internals.gc);
    internals.vm.close = async () => {
      order.push('vm.close begins');
      await vmClose();
      order.push('vm.close done');
    };
    internals.gc.close = () => {
      order.push('gc.close');
      gcClose();
    };
    for (let i = 0; i < 100 && !cap.lines.some((l) => l.message === 'negotiated protocol'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(cap.lines.some((l) => l.message === 'negotiated protocol'), 'the guest ran and its log is relayed');
    await sandbox.close();
    assert.deepEqual(order, ['vm.close begins', 'vm.close done', 'gc.close']);
    const fatal = cap.lines.filter((l) => l.message === 'failed to serve gcs service');
    assert.deepEqual(fatal, [], 'the guest saw no EOF on its bridge');
    assert.deepEqual(readdirSync(join(tmp, 'vm')), [], 'no VM dir left');
  });
});
