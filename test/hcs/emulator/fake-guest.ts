/**
 * A stand-in guest agent for the emulator's boot tests (the real one is src/guest/main.js). Launched by
 * the emulator as `node fake-guest.js <args after /bin/gcs>`, it does what the contract asks of a guest:
 * reads entropy from LCOW_GUEST_ENTROPY_PORT, logs a JSON line to stderr (the vsockexec log socket), and
 * dials the GCS socket (retrying every 100 ms). It then starts a `sleep` in its own process group (to
 * check terminate kills the group) and reports over the GCS connection. FAKE_GUEST_MODE=crash exits 3
 * once connected. Without LCOW_GUEST_VM_DIR (e.g. picked up by a test runner) it does nothing.
 */
import { spawn } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';

const vmDir = process.env['LCOW_GUEST_VM_DIR'];

function dial(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ path, allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function dialRetry(path: string): Promise<Socket> {
  for (;;) {
    try {
      return await dial(path);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function main(dir: string): Promise<void> {
  let entropy = -1;
  const port = process.env['LCOW_GUEST_ENTROPY_PORT'];
  if (port !== undefined) {
    const s = await dial(join(dir, 'vsock', `${port}.sock`));
    entropy = 0;
    s.on('data', (c: Buffer) => (entropy += c.length));
    await new Promise((r) => s.once('end', r));
    s.destroy();
  }
  const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  const report = { argv: process.argv.slice(2), entropy, sleeperPid: sleeper.pid, pid: process.pid, memoryMB: process.env['LCOW_EMULATOR_MEMORY_MB'] };
  process.stderr.write(JSON.stringify({ level: 'info', msg: 'fake guest up', ...report }) + '\n');
  const gcs = await dialRetry(join(dir, 'vsock', '1073741824.sock'));
  gcs.write(JSON.stringify(report) + '\n');
  if (process.env['FAKE_GUEST_MODE'] === 'crash') {
    await new Promise((r) => setTimeout(r, 50));
    process.exit(3);
  }
  process.on('SIGTERM', () => {
    sleeper.kill('SIGKILL');
    process.exit(0);
  });
  gcs.on('end', () => {
    sleeper.kill('SIGKILL');
    process.exit(0);
  });
  gcs.resume();
}

if (vmDir !== undefined) {
  main(vmDir).catch((err: unknown) => {
    process.stderr.write(`fake guest failed: ${String(err)}\n`);
    process.exit(1);
  });
}
