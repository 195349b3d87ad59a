/** The dial the shim passes to ttrpc clients (entry.ts: the platform transport's), for tests that dial a real socket. */
import { createTransport } from '../../src/transport/index.js';
import type { Dialer } from '../../src/ttrpc/index.js';

const transport = createTransport();
export const platformDial: Dialer = (address, signal) => transport.dial(address, signal);
