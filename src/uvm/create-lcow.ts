import { existsSync } from 'node:fs';
import { ErrorCode, ShimError } from '../errdefs/index.js';
import { LinuxEntropyVsockPort, LinuxGcsVsockPort, LinuxLogVsockPort } from '../gcs/protocol/index.js';
import type { HcsApi, HcsSystem } from '../hcs/index.js';
import { Field, parseGuestLog, rootLogger, type Logger } from '../log/index.js';
import { vsockServiceId, type Connection, type Listener, type Transport } from '../transport/index.js';
import { randomUUID } from '../random/index.js';
import { buildLCOWDocument } from './document.js';
import type { OptionsLCOW } from './options.js';
import { UtilityVM } from './utility-vm.js';
import { checkBootFiles } from './verify.js';

export interface CreateLcowDeps {
  hcs: HcsApi;
  transport: Transport;
  /** Parent logger (default: the root logger); the VM logs with field uvm-id. */
  log?: Logger;
  /** Whether a host file exists (default: fs.existsSync); used for the boot-file check. */
  exists?: (path: string) => boolean;
}

/**
 * Creates (does not start) a Linux utility VM, as the seed's CreateLCOW: check the boot files, verify
 * and normalise the options, build the document, create the compute system, read its RuntimeId, and
 * bind the hvsocket listeners the guest will dial (entropy; log output when forwarding; the GCS with an
 * external guest connection) BEFORE anything can start the VM. Dials NetworkConfigProxy when set.
 * On failure everything created so far is torn down. `opts` is not modified.
 */
export async function createLCOW(options: OptionsLCOW, deps: CreateLcowDeps): Promise<UtilityVM> {
  const opts: OptionsLCOW = { ...options, ID: options.ID || randomUUID() };
  const parent = deps.log ?? rootLogger();
  const log = parent.child({ [Field.UvmId]: opts.ID });
  const { OutputHandler: handler, ...printable } = opts;
  log.debug('uvm::CreateLCOW options', { options: printable });

  const info = await deps.hcs.hostInfo();
  checkBootFiles(opts, info, deps.exists ?? existsSync);
  const built = buildLCOWDocument(opts, info);
  log.debug('uvm::CreateLCOW document built');
  for (const w of built.warnings) log.warn(w.message, w.fields);

  let system: HcsSystem;
  try {
    system = await deps.hcs.createComputeSystem(opts.ID, built.document);
  } catch (err) {
    throw ShimError.from(err, ErrorCode.Unknown, 'error while creating the compute system');
  }
  const listeners: Listener[] = [];
  let ncproxy: Connection | undefined;
  try {
    const props = await system.properties({});
    const runtimeId = props.RuntimeId;
    if (typeof runtimeId !== 'string' || runtimeId === '') {
      throw new ShimError(ErrorCode.Internal, `compute system ${opts.ID} has no RuntimeId in its properties`);
    }
    const listen = async (port: number): Promise<Listener> => {
      const l = await deps.transport.listenHvSocket({ vmId: runtimeId, serviceId: vsockServiceId(port) });
      listeners.push(l);
      return l;
    };
    const entropyListener = await listen(LinuxEntropyVsockPort);
    const outputListener = opts.ForwardStdout || opts.ForwardStderr ? await listen(LinuxLogVsockPort) : undefined;
    let gcsListener: Listener | undefined;
    if (opts.UseGuestConnection && opts.ExternalGuestConnection) {
      log.debug('Using external GCS bridge', { vmID: runtimeId });
      gcsListener = await listen(LinuxGcsVsockPort);
    }
    if (opts.NetworkConfigProxy !== '') {
      try {
        ncproxy = await deps.transport.dial(opts.NetworkConfigProxy);
      } catch (err) {
        throw ShimError.from(err, ErrorCode.Unavailable, 'failed to connect to ncproxy service');
      }
    }
    return new UtilityVM({
      options: opts,
      runtimeId,
      processorCount: built.processorCount,
      memorySizeInMB: built.memorySizeInMB,
      system,
      transport: deps.transport,
      log,
      entropyListener,
      outputListener,
      gcsListener,
      outputHandler: handler ?? ((stream) => parseGuestLog(stream, parent, opts.ID)),
      networkConfigProxy: ncproxy,
    });
  } catch (err) {
    // Teardown after a failed create, reverse of acquire: listeners, ncproxy, the system, its handle.
    const warn = (what: string) => (e: unknown) => log.warn(`${what} after a failed create failed`, { error: e });
    await Promise.all(listeners.map((l) => l.close().catch(warn(`closing hvsocket listener ${l.address}`))));
    ncproxy?.destroy();
    await system.terminate().then(
      () => system.waitExit(),
      (e: unknown) => log.warn('failed to terminate utility VM after a failed create', { error: e }),
    );
    await system.close().catch(warn('closing the HCS handle'));
    throw err;
  }
}
