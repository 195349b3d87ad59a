/**
 * The Windows transport. Dialing named pipes works through node:net; listening on AF_HYPERV sockets
 * needs a native binding (koffi: socket/bind/listen/accept on SOCKADDR_HV, see sockaddr-hv.ts), which is
 * a later piece of work: until it lands listenHvSocket rejects NotImplemented, saying so.
 */
import { createServer } from 'node:net';
import { ErrorCode, ShimError, invalidArgument } from '../errdefs/index.js';
import { dialPath } from './dial.js';
import { SocketListener } from './socket-listener.js';
import type { Connection, HvSocketAddress, Listener, Transport } from './types.js';

const PIPE_PREFIXES = ['\\\\.\\pipe\\', '//./pipe/'];

export function isNamedPipePath(address: string): boolean {
  return PIPE_PREFIXES.some((p) => address.toLowerCase().startsWith(p) && address.length > p.length);
}

export class WindowsTransport implements Transport {
  readonly platform = 'windows' as const;

  listenHvSocket(address: HvSocketAddress): Promise<Listener> {
    return Promise.reject(
      new ShimError(
        ErrorCode.NotImplemented,
        `listening on Hyper-V socket ${address.vmId}/${address.serviceId} is not implemented yet: ` +
          'the Windows AF_HYPERV listener (koffi binding of socket/bind/listen/accept over SOCKADDR_HV) is missing',
      ),
    );
  }

  /** Serves a named pipe (`\\.\pipe\name`), e.g. the shim's own ttrpc address. */
  async listen(address: string): Promise<Listener> {
    if (!isNamedPipePath(address)) throw invalidArgument(`not a named pipe path (want \\\\.\\pipe\\<name>): ${address}`);
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(ShimError.from(err, ErrorCode.Unavailable, `listen ${address}`)));
      server.listen(address, () => resolve());
    });
    return new SocketListener(server, address);
  }

  /** Named pipes only (`\\.\pipe\name`). */
  dial(address: string, signal?: AbortSignal): Promise<Connection> {
    if (!isNamedPipePath(address)) {
      return Promise.reject(invalidArgument(`not a named pipe path (want \\\\.\\pipe\\<name>): ${address}`));
    }
    return dialPath(address, signal);
  }
}
