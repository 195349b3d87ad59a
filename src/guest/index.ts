/**
 * guest: the agent the Linux HCS emulator boots inside the emulated utility VM (the GCS side of the GCS
 * protocol, running containers with real runc). Entry point: main.ts.
 *
 * Layer boundaries: of the host side only the codec barrel ../gcs/protocol/index.js, ../errdefs and the leaf
 * ../async; nothing else (no src/log: its own logger is log.ts; no src/transport): it talks to the host only over
 * its sockets. Nothing of the host side imports this module except tests (the emulator starts main.js as a child
 * process).
 * May import: async, gcs/protocol, errdefs.
 */
export { GuestAgent, type AgentOptions } from './agent.js';
export { parseGuestArgs, readGuestEnv, UsageError, type GuestOptions, type GuestEnv } from './flags.js';
export { GuestLogger, formatLogLine, rfc3339Nano, silentLogger, type GuestLogLevel, type GuestLogFormat } from './log.js';
export { VmPaths, validateContainerId, validateGuestPath } from './vm-paths.js';
export { rewriteSpec, writeBundle } from './bundle.js';
export { BridgeServer, errorResponse, GuestMaxMessageSize, type BridgeRequest, type Dispatch } from './bridge-server.js';
export { GuestService, LinuxCapabilities, type GuestServiceHooks } from './guest-service.js';
export { ContainerManager, splitCommandLine, type Notify } from './container-manager.js';
export { VmModifier } from './modify.js';
export { Runc, runcMessage, runcLogError } from './runc.js';
export { GuestError, hresultOf, errorText } from './errors.js';
export { AgentProcess, exitStatusOf, shellQuote, type LaunchSpec } from './process.js';
