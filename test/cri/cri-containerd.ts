/**
 * The CRI tier's containerd: a PrivateContainerd (test/integration/harness.ts) with the CRI plugin on, for
 * any containerd binary (issue: reusable for other containerd versions). Settings measured on these
 * machines: restrict_oom_score_adj (no CAP_SYS_RESOURCE), empty CNI dirs (pods run on the node's network:
 * NamespaceOption network=NODE never calls CNI), the sandbox image imported locally, runtime handler `lcow`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PrivateContainerd, RUNTIME } from '../integration/harness.js';
import { buildOciArchive } from '../integration/oci-image.js';

/** The runtime handler pods ask for (RuntimeClass handler / RunPodSandboxRequest.runtime_handler). */
export const CRI_HANDLER = 'lcow';

/** CRI plugin settings for containerd's version-2 config (1.6; 1.7 reads the same). */
export function criPluginConfig(tmp: string, sandboxImage: string): string[] {
  const cri = '[plugins."io.containerd.grpc.v1.cri"]';
  mkdirSync(join(tmp, 'cni', 'bin'), { recursive: true });
  mkdirSync(join(tmp, 'cni', 'conf'), { recursive: true });
  return [
    cri,
    `  sandbox_image = "${sandboxImage}"`,
    '  restrict_oom_score_adj = true',
    '  enable_selinux = false',
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    `${cri.slice(0, -1)}.containerd]`,
    '  snapshotter = "overlayfs"',
    `  default_runtime_name = "${CRI_HANDLER}"`,
    `${cri.slice(0, -1)}.containerd.runtimes.${CRI_HANDLER}]`,
    `  runtime_type = "${RUNTIME}"`,
    `${cri.slice(0, -1)}.cni]`,
    `  bin_dir = "${join(tmp, 'cni', 'bin')}"`,
    `  conf_dir = "${join(tmp, 'cni', 'conf')}"`,
  ];
}

export interface CriImage {
  /** A fully qualified reference, as CRI normalizes it. */
  readonly ref: string;
  /** The image's root filesystem directory. */
  readonly rootfs: string;
  readonly config: Record<string, unknown>;
}

/**
 * Starts `ctd` with the CRI plugin on, using the containerd binary at `containerdBinary` (plus any
 * `extraConfig` lines, e.g. another runtime), and imports the images (built offline as OCI layout archives)
 * into CRI's namespace k8s.io.
 */
export async function startCriContainerd(ctd: PrivateContainerd, containerdBinary: string, sandboxImage: CriImage,
  images: readonly CriImage[], extraConfig: readonly string[] = []): Promise<void> {
  await ctd.start({}, { binary: containerdBinary, plugins: [...criPluginConfig(ctd.tmp, sandboxImage.ref), ...extraConfig] });
  const plugins = await ctd.ctr(['plugins', 'ls']);
  if (!/io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok/.test(plugins.stdout)) {
    const why = ctd.log().split('\n').filter((l) => l.includes('io.containerd.grpc.v1.cri')).join('\n');
    throw new Error(`containerd's CRI plugin did not load:\n${plugins.stdout}\n${why}`);
  }
  for (const [i, image] of [sandboxImage, ...images].entries()) {
    const work = join(ctd.tmp, `image-${i}`);
    mkdirSync(work, { recursive: true });
    const archive = buildOciArchive(image.rootfs, work, image.ref, image.config);
    ctd.assertOk(await ctd.ctr(['-n', 'k8s.io', 'images', 'import', archive]), `import ${image.ref}`);
  }
}
