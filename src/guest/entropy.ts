/**
 * Boot entropy, as the UVM's init does with `-e <port>`: connect to the host's entropy port, read until EOF
 * (the host writes 512 random bytes and closes). The real init feeds them to RNDADDENTROPY; a process
 * cannot credit the host's pool, so the guest only reads them (the host must see the connection accepted
 * and drained, or its boot stalls). Failures are logged, never fatal.
 */
import { dialWithRetry } from './dial.js';
import type { GuestLogger } from './log.js';
import type { VmPaths } from './vm-paths.js';

export async function readEntropy(paths: VmPaths, port: number, log: GuestLogger): Promise<number> {
  try {
    const sock = await dialWithRetry(paths.vsockPath(port), { attempts: 10, intervalMs: 100 });
    let total = 0;
    await new Promise<void>((resolve, reject) => {
      sock.on('data', (chunk: Buffer) => {
        total += chunk.length;
      });
      sock.once('end', resolve);
      sock.once('close', () => resolve());
      sock.once('error', reject);
    });
    sock.destroy();
    log.debug('read entropy', { port, bytes: total });
    return total;
  } catch (err) {
    log.warn('failed to read entropy', { port, error: err });
    return 0;
  }
}
