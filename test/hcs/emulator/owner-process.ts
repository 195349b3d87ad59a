/**
 * A second process for the cross-process tests: creates (and, unless told not to, starts) one emulated
 * system, prints `{"runtimeId": …, "guestPid": …}` on stdout, then waits. A line "terminate" on stdin
 * makes it terminate the system and exit; otherwise the test SIGKILLs it (a shim that crashed).
 * argv[2]: JSON {root, id, bootDir, guestEntry, terminateOnLastHandleClosed, start}. Without it (e.g.
 * picked up by a test runner) it does nothing.
 */
import { createInterface } from 'node:readline';
import { createEmulatorHcsApi } from '../../../src/hcs/emulator/index.js';
import { lcowDocument, testLogger } from './helpers.js';

interface Args {
  root: string;
  id: string;
  bootDir: string;
  guestEntry: string;
  terminateOnLastHandleClosed: boolean;
  start: boolean;
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? '{}') as Args;
  const api = createEmulatorHcsApi({ root: a.root, guestEntry: a.guestEntry, log: testLogger() });
  const doc = { ...lcowDocument(a.bootDir, ' quiet -- /bin/gcs -v4'), ShouldTerminateOnLastHandleClosed: a.terminateOnLastHandleClosed };
  const sys = await api.createComputeSystem(a.id, doc);
  if (a.start) await sys.start();
  const props = await sys.properties({ PropertyTypes: ['Statistics'] });
  process.stdout.write(JSON.stringify({ runtimeId: props.RuntimeId, pid: process.pid }) + '\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === 'terminate') {
      await sys.terminate();
      await sys.close();
      process.exit(0);
    }
  }
}

if (process.argv[2] !== undefined) main().catch((err: unknown) => {
  process.stderr.write(`owner process failed: ${String(err)}\n`);
  process.exit(1);
});
