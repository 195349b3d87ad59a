import { containerd, google } from '../proto/index.js';
import { SHIM_VERSION } from './shim-name.js';

/**
 * `-info` (containerd 2.x: introspection's PluginInfo, and 2.4's query for the deprecated
 * `containerd.io/runtime-allow-mounts` annotation): stdin holds the runtime options Any (or nothing); stdout
 * gets a RuntimeInfo protobuf with our runtime name and version and the options echoed, as the runc shim does.
 * No annotations: the shim claims no mount types, so containerd's mount manager keeps its default behaviour.
 */
export function runtimeInfo(stdin: Uint8Array): Uint8Array {
  let options: google.protobuf.IAny | undefined;
  if (stdin.length > 0) {
    try {
      options = google.protobuf.Any.decode(stdin);
    } catch {
      options = undefined; // not an Any: nothing to echo
    }
  }
  return containerd.types.RuntimeInfo.encode({
    name: 'io.containerd.lcow.v1',
    version: { version: SHIM_VERSION, revision: '' },
    ...(options ? { options } : {}),
  }).finish();
}
