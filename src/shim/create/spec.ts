import { readFile } from '../../async/index.js';
import { join } from 'node:path';
import { invalidArgument, notFound } from '../../errdefs/index.js';

/** An OCI runtime spec as read from the bundle (kept as JSON; the guest consumes it). */
export type OciSpec = Record<string, unknown> & {
  root?: { path?: string; readonly?: boolean };
  linux?: Record<string, unknown>;
  process?: Record<string, unknown>;
  annotations?: Record<string, string>;
  mounts?: Array<Record<string, unknown>>;
};

/**
 * Reads `<bundle>/config.json`. io.containerd.lcow.v1 runs Linux containers, so the spec MUST have a linux
 * section (hcsshim: IsLCOW = spec.linux != nil) and a process.
 */
export async function loadSpec(bundle: string): Promise<OciSpec> {
  const path = join(bundle, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw notFound(`cannot read the OCI spec ${path}: ${(err as Error).message}`, err);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${path} is not valid JSON: ${(err as Error).message}`, err);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw invalidArgument(`${path} is not a JSON object`);
  const s = spec as OciSpec;
  if (typeof s.linux !== 'object' || s.linux === null) {
    throw invalidArgument(`${path} has no linux section: io.containerd.lcow.v1 runs Linux containers only`);
  }
  if (typeof s.process !== 'object' || s.process === null) throw invalidArgument(`${path} has no process`);
  if (s.annotations !== undefined && (typeof s.annotations !== 'object' || s.annotations === null)) {
    throw invalidArgument(`${path}: annotations must be an object of strings`);
  }
  return s;
}
