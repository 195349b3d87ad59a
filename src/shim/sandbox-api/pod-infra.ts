/**
 * The pod in the guest for a Sandbox API sandbox. Microsoft's GCS knows a pod only through its sandbox
 * container: CreateContainer with io.kubernetes.cri.container-type=sandbox registers the pod (hcsv2
 * uvm.go CreateContainer → createPodInUVM: its cgroup, hostname, hosts and resolv.conf under the sandbox's
 * root), and a workload (container-type=container) is refused unless its io.kubernetes.cri.sandbox-id names
 * a registered pod ("pod %s does not exist for workload container %s"). There is no other request that makes
 * a pod: hcsshim's containerd-shim-lcow-v2 gets the pod from a pause task ("sandbox" type) sent over the Task
 * API (service_task_internal.go createInternal → pod.New), which containerd's CRI never sends with
 * sandboxer = "shim" (it runs no pause container then).
 *
 * So the shim creates the pod's sandbox container itself at StartSandbox, with no image: id = the sandbox id,
 * the CRI annotations of a sandbox, the pod's hostname, and a rootfs the shim writes into the bundle (removed
 * with it) holding only /pause (pause-elf.ts) and the mount points. It is created, never started: the GCS's
 * `runc create` needs the executable to exist, and nothing runs.
 */
import { chmod, mkdir, writeFile } from '../../async/index.js';
import { join } from 'node:path';
import { CriAnnotation } from '../../sandbox/index.js';
import { pauseElf } from './pause-elf.js';

export const POD_INFRA_PROCESS = '/pause';
const MOUNT_POINTS = ['proc', 'dev', 'sys'] as const;

export interface PodInfraRequest {
  readonly id: string;
  /** Host directory that becomes the container's rootfs (prepared by preparePodInfraRootfs). */
  readonly rootfs: string;
  /** PodSandboxConfig.hostname ("" = the VM's name, as the guest does for a pause container). */
  readonly hostname: string;
  readonly annotations: Readonly<Record<string, string>>;
}

/** Writes /pause and the mount points into `dir` (idempotent). */
export async function preparePodInfraRootfs(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const m of MOUNT_POINTS) await mkdir(join(dir, m), { recursive: true, mode: 0o755 });
  const file = join(dir, POD_INFRA_PROCESS.slice(1));
  await writeFile(file, pauseElf(), { mode: 0o755 });
  await chmod(file, 0o755); // an existing file keeps its mode on writeFile
}

/**
 * The OCI spec of the pod's sandbox container (runc's minimal container: proc, a tmpfs /dev, read-only
 * sysfs; own pid, ipc, uts and mount namespaces; no network namespace: the pod uses the VM's network, which
 * the host's guest-spec step marks with io.microsoft.cri.skip-pod-networking as for hostNetwork pause pods).
 */
export function podInfraSpec(r: PodInfraRequest): Record<string, unknown> {
  return {
    ociVersion: '1.1.0',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: [POD_INFRA_PROCESS],
      env: ['PATH=/'],
      cwd: '/',
      noNewPrivileges: true,
    },
    root: { path: r.rootfs, readonly: true },
    hostname: r.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    },
    annotations: {
      ...r.annotations,
      [CriAnnotation.ContainerType]: 'sandbox',
      [CriAnnotation.SandboxId]: r.id,
    },
  };
}

/**
 * containerd's CRI puts the sandbox's pid into a pod container's namespace paths (/proc/<pid>/ns/ipc, uts,
 * pid; WithPodNamespaces). A Sandbox API pod answers pid 0 (no process holds its namespaces), so those paths
 * name nothing: the container gets its own namespace of that type instead. Other paths pass unchanged.
 */
export function withoutSandboxPidNamespaces<T extends Record<string, unknown>>(spec: T): T {
  const linux = spec.linux as { namespaces?: Array<{ type?: string; path?: string }> } | undefined;
  if (!linux?.namespaces?.some((n) => isPidZero(n.path))) return spec;
  const namespaces = linux.namespaces.map((n) => (isPidZero(n.path) ? { type: n.type } : n));
  return { ...spec, linux: { ...linux, namespaces } };
}

const isPidZero = (path: string | undefined): boolean => path !== undefined && /^\/proc\/0\/ns\/[a-z_]+$/.test(path);
