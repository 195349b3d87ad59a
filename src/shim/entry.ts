import { parseContainerdFlags } from './fast-flags.js';
import type { ShimFlags } from './flags.js';
import { SHIM_NAME, SHIM_VERSION } from './shim-name.js';
import type { PlatformTransport } from '../transport/index.js';

/**
 * The binary's entry: parse containerd's flags and run the action. stdout carries only what containerd
 * reads (the address for `start`, a DeleteResponse for `delete`); diagnostics go to stderr.
 * Heavy modules are loaded by the action that needs them, to keep `start` and `delete` fast.
 * The platform is chosen here, once (`platformTransport`), and passed down: nothing below looks at it again.
 */
export async function main(argv: readonly string[]): Promise<number> {
  // containerd's own command lines take the fast path; yargs (slow to load) only sees the others.
  let flags: ShimFlags | undefined = parseContainerdFlags(argv);
  try {
    flags ??= (await import('./flags.js')).parseShimFlags(argv);
  } catch (err) {
    process.stderr.write(`${SHIM_NAME}: ${(err as Error).message}\n`);
    return 2;
  }
  try {
    switch (flags.action) {
      case 'help':
        process.stdout.write(`${await (await import('./flags.js')).shimHelp()}\n`);
        return 0;
      case 'version':
        process.stdout.write(`${SHIM_NAME}:\n  Version: ${SHIM_VERSION}\n  Runtime: io.containerd.lcow.v1\n`);
        return 0;
      case 'info': {
        const [{ runtimeInfo }, { readStartStdin }] = await Promise.all([import('./runtime-info.js'), import('./start-input.js')]);
        process.stdout.write(runtimeInfo(readStartStdin()));
        return 0;
      }
      case 'start': {
        const [{ startShim }, { readStartStdin }] = await Promise.all([import('./manager.js'), import('./start-input.js')]);
        // containerd 1.6–2.2 without runtime options give an empty stdin: then no protobuf code is loaded.
        const stdin = readStartStdin();
        const bootstrap = stdin.length > 0 ? await import('./bootstrap.js') : undefined;
        const input = bootstrap?.parseStartInput(stdin, flags.id, flags.namespace) ?? {};
        const address = await startShim(flags, process.execArgv.concat(process.argv[1] ?? []), await platformTransport(), input);
        process.stdout.write(bootstrap?.startReply(address, input, bootstrap.taskApiVersionFor(flags.bundle || process.cwd())) ?? address);
        return 0;
      }
      case 'delete': {
        const { deleteShim } = await import('./manager.js');
        process.stdout.write(await deleteShim(flags, await platformTransport()));
        return 0;
      }
      case 'serve': {
        // Blocking HCS waits (computecore) run on libuv's pool, sized when it first starts: raise it before any I/O.
        const { ensureBackendThreadpool } = await import('../sandbox/index.js');
        ensureBackendThreadpool();
        const { serveShim } = await import('./serve.js');
        await serveShim(flags, await platformTransport());
        return -1; // keeps running; exits on Shutdown or a signal
      }
      case 'diag': {
        const { diagCommand, DIAG_USAGE } = await import('./diag/diag-command.js');
        if (flags.rest.length === 0 || flags.rest[0] === '--help' || flags.rest[0] === '-h') {
          process.stdout.write(`${DIAG_USAGE}\n`);
          return flags.rest.length === 0 ? 2 : 0;
        }
        const transport = await platformTransport();
        const io = {
          stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env,
          windows: transport.platform === 'windows', dial: (address: string, signal?: AbortSignal) => transport.dial(address, signal),
        };
        const code = await diagCommand(flags.rest, io, flags.namespace);
        process.stdin.destroy(); // stop reading stdin (exec relays it) so the process can exit
        return code;
      }
      case 'create-scratch': {
        const { createScratchCommand } = await import('./create-scratch.js');
        return await createScratchCommand([...flags.rest], { stdout: process.stdout, stderr: process.stderr });
      }
      case 'uvm-doc': {
        const { uvmDocCommand } = await import('../sandbox/index.js');
        return await uvmDocCommand([...flags.rest], { stdout: process.stdout, stderr: process.stderr });
      }
    }
  } catch (err) {
    process.stderr.write(`${SHIM_NAME} ${flags.action}: ${(err as Error).message}\n`);
    return 1;
  }
}

/** The one place the shim chooses its platform (src/transport's createTransport); everything below gets it passed. */
async function platformTransport(): Promise<PlatformTransport> {
  return (await import('../transport/index.js')).createTransport();
}
