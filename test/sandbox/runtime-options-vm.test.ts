/**
 * Runtime options that reach the utility VM, against the real peers: the HCS emulator boots our guest agent
 * from the document's kernel command line. scrub_logs = false puts hcsshim's `-scrub-logs=false` on the
 * GCS command line (the guest reports what it got); NCProxyAddr (the io.microsoft.network.ncproxy default)
 * is dialled at create, and a dead address fails the create naming ncproxy, leaving no VM behind.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { Annotation, createLcowSandboxFactory, effectiveAnnotations, type RuntimeOptions } from '../../src/sandbox/index.js';
import { captureLogger } from '../fakes/index.js';
import { useEmulatorRoot } from '../fixtures/emulator-root.js';
import { createTransport } from '../../src/transport/index.js';

const NEEDS_ROOT: string | false = process.getuid?.() !== 0 ? 'needs root (runc)' : false;
const BOOT_FILES = resolve('dist/bin/LinuxBootFiles');

describe('runtime options in the utility VM (HCS emulator + guest agent)', { skip: NEEDS_ROOT, timeout: 120_000 }, () => {
  const tmp = useEmulatorRoot('sandbox-opts-');

  const request = (id: string, options: RuntimeOptions, log: ReturnType<typeof captureLogger>['logger']) => ({
    taskId: id, bundle: tmp, spec: {}, options, log,
    annotations: effectiveAnnotations({ [Annotation.BootFilesRootPath]: BOOT_FILES }, options),
  });

  it('scrub_logs = false reaches the guest; NCProxyAddr is dialled', async () => {
    const ncproxy = join(tmp, 'ncproxy.sock');
    const conns: Socket[] = [];
    const server = createServer((s) => conns.push(s));
    await new Promise<void>((r) => server.listen(ncproxy, r));
    const cap = captureLogger();
    const factory = createLcowSandboxFactory({ log: cap.logger, debug: true, transport: createTransport() });
    const sandbox = await factory(request('opts1', { scrubLogs: false, ncProxyAddr: ncproxy }, cap.logger));
    try {
      for (let i = 0; i < 100 && !cap.lines.some((l) => l.message === 'guest agent starting'); i++) await new Promise((r) => setTimeout(r, 50));
      const start = cap.lines.find((l) => l.message === 'guest agent starting');
      assert.equal(start?.scrubLogs, false, JSON.stringify(start));
      assert.equal(conns.length, 1, 'the ncproxy address was dialled once');
    } finally {
      await sandbox.close();
      server.close();
    }
    const cap2 = captureLogger();
    const plain = await createLcowSandboxFactory({ log: cap2.logger, debug: true, transport: createTransport() })(request('opts2', {}, cap2.logger));
    try {
      for (let i = 0; i < 100 && !cap2.lines.some((l) => l.message === 'guest agent starting'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(cap2.lines.find((l) => l.message === 'guest agent starting')?.scrubLogs, true, 'scrubbing stays on by default');
    } finally {
      await plain.close();
    }
  });

  it('a dead NCProxyAddr fails the create naming ncproxy and leaves no VM', async () => {
    const cap = captureLogger();
    const factory = createLcowSandboxFactory({ log: cap.logger, debug: false, transport: createTransport() });
    await assert.rejects(factory(request('opts3', { ncProxyAddr: join(tmp, 'nobody.sock') }, cap.logger)), /ncproxy/);
    assert.deepEqual(readdirSync(join(tmp, 'vm')), [], 'no VM dir left');
  });
});
