/**
 * A Node built-in module loaded by this call and not before: one imported at the top of a module is loaded when
 * the process starts, and some cost every process that loads them for its whole life (node:crypto, node:fs/promises:
 * issue 17). process.getBuiltinModule is Node >= 20.16; an older Node requires the module through a require made
 * for any absolute path (a built-in resolves from anywhere): not import.meta.url, which is empty where the code is
 * bundled as CommonJS (the shim's and the guest agent's bundles).
 */
import { createRequire } from 'node:module';

export function loadBuiltin<T>(id: string): T {
  return (process.getBuiltinModule?.(id) ?? createRequire(process.execPath)(id)) as T;
}
