/**
 * The built guest agent (dist/bin/lcow-guest.cjs), started as the emulator pre-loads it (the wait flag and an
 * IPC channel): the Node built-ins it has loaded once it is ready. node:fs/promises loads readline's modules
 * with it (~0.45 MB for the agent's life), so the agent uses node:fs's callback API (src/async/fs.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../../../bin/lcow-guest.cjs', import.meta.url));

describe('emulator: the built guest agent\'s modules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lcow-guest-modules-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads no node:fs/promises and no readline by the time it is ready', async () => {
    const list = join(dir, 'modules.json');
    const probe = join(dir, 'probe.cjs');
    writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(process.moduleLoadList)));\n`);
    // ready, then the channel closes and it exits without having done anything
    const child = spawn(process.execPath, ['--require', probe, '--no-warnings', ENTRY], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LCOW_GUEST_AWAIT_BOOT: '1' } });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('message', (m: { lcowGuestBoot?: string }) => {
      if (m.lcowGuestBoot === 'ready') child.disconnect();
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, stderr);
    const modules = JSON.parse(readFileSync(list, 'utf8')) as string[];
    assert.ok(modules.includes('NativeModule net'), 'the probe saw the agent\'s modules');
    assert.deepEqual(modules.filter((m) => /fs\/promises|readline/.test(m)), []);
  });
});
