import { alreadyExists, invalidArgument, notImplemented } from '../errdefs/index.js';
import type { ServiceMethods, UnaryHandler } from './rpc-context.js';

/** The server's method table: service name → method name → handler. */
export class ServiceRegistry {
  private readonly services = new Map<string, ReadonlyMap<string, UnaryHandler>>();

  /** Adds a service. A name registered twice is an AlreadyExists error (Go: "duplicate service"). */
  register(service: string, methods: ServiceMethods): void {
    if (service === '') throw invalidArgument('ttrpc: service name must not be empty');
    if (this.services.has(service)) throw alreadyExists(`ttrpc: duplicate service ${service} registered`);
    const table = new Map<string, UnaryHandler>();
    for (const [name, handler] of Object.entries(methods)) {
      if (typeof handler !== 'function') throw invalidArgument(`ttrpc: ${service}/${name} is not a function`);
      table.set(name, handler);
    }
    this.services.set(service, table);
  }

  /** The handler for a call, or Unimplemented `service <name>` / `method <name>` (Go's exact texts). */
  resolve(service: string, method: string): UnaryHandler {
    const table = this.services.get(service);
    if (table === undefined) throw notImplemented(`service ${service}`);
    const handler = table.get(method);
    if (handler === undefined) throw notImplemented(`method ${method}`);
    return handler;
  }
}
