/**
 * containerd's CRI configuration for the pod tier, per containerd major version, with the CRI plugin on and
 * everything under the instance's temp dir: a locally imported pause image (pinned, never pulled), empty CNI
 * dirs (hostNetwork pods never call CNI), `restrict_oom_score_adj` (no CAP_SYS_RESOURCE here) and the `lcow`
 * runtime handler as the default. 2.x: `sandboxer` picks the pod mode — `podsandbox` (a pause container in the
 * shim, the default) or `shim` (containerd calls the shim's containerd.runtime.sandbox.v1.Sandbox service).
 */
export const PAUSE_IMAGE = 'docker.io/library/lcowpause:latest';
export const RUNTIME_HANDLER = 'lcow';

export type Sandboxer = 'podsandbox' | 'shim';

/** The CRI tables for a version 2 config (containerd 1.6). */
export function criConfigV2(tmp: string): string[] {
  const cri = '[plugins."io.containerd.grpc.v1.cri"]';
  return [
    cri,
    `  sandbox_image = "${PAUSE_IMAGE}"`,
    '  restrict_oom_score_adj = true',
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    `  [plugins."io.containerd.grpc.v1.cri".cni]`,
    `    bin_dir = "${tmp}/cni/bin"`,
    `    conf_dir = "${tmp}/cni/conf"`,
    `  [plugins."io.containerd.grpc.v1.cri".containerd]`,
    `    default_runtime_name = "${RUNTIME_HANDLER}"`,
    `    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${RUNTIME_HANDLER}]`,
    '      runtime_type = "io.containerd.lcow.v1"',
  ];
}

/** The CRI tables for a version 4 config (containerd 2.x: images, runtime and the gRPC service are 3 plugins). */
export function criConfigV4(tmp: string, sandboxer: Sandboxer): string[] {
  const rt = "[plugins.'io.containerd.cri.v1.runtime']";
  return [
    "[plugins.'io.containerd.grpc.v1.cri']",
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    "[plugins.'io.containerd.cri.v1.images'.pinned_images]",
    `  sandbox = "${PAUSE_IMAGE}"`,
    rt,
    '  restrict_oom_score_adj = true',
    "  [plugins.'io.containerd.cri.v1.runtime'.cni]",
    `    bin_dirs = ["${tmp}/cni/bin"]`,
    `    conf_dir = "${tmp}/cni/conf"`,
    "  [plugins.'io.containerd.cri.v1.runtime'.containerd]",
    `    default_runtime_name = "${RUNTIME_HANDLER}"`,
    `    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.${RUNTIME_HANDLER}]`,
    '      runtime_type = "io.containerd.lcow.v1"',
    `      sandboxer = "${sandboxer}"`,
  ];
}
