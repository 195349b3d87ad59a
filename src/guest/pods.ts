/**
 * Pods in the guest, enforced as the real GCS does (internal/guest/runtime/hcsv2: uvm.go CreateContainer,
 * createPodInUVM / createContainerInPod, sandbox_container.go, workload_container.go):
 *  - io.kubernetes.cri.container-type=sandbox registers the pod (its id; "pod %s already exists" twice) and
 *    writes the sandbox's hostname, hosts and resolv.conf under its root (the sandbox's bundle directory);
 *    resolv.conf comes from the pod's network namespace, which this VM has none of (no HNS): a sandbox
 *    needs io.microsoft.cri.skip-pod-networking=true, else "namespace '' not found", as the real guest;
 *    with it the real guest adds the (empty) namespace and writes its DNS settings, none: an empty file
 *    (sandbox_container.go setupSandboxContainerSpec: GetOrAddNetworkNamespace, GenerateResolvConfContent);
 *  - container-type=container needs a sandbox-id naming a registered pod ("pod %s does not exist for
 *    workload container %s"), must not set a hostname, and gets the sandbox's hostname, hosts and
 *    resolv.conf bound in unless its spec already mounts those paths;
 *  - any other type is refused; no CRI annotation: a standalone container;
 *  - removing a container unregisters it; removing the sandbox removes the pod.
 */
import { mkdir, writeFile } from '../async/index.js';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { failed, invalidArg } from './errors.js';

type Json = Record<string, unknown>;

const TYPE = 'io.kubernetes.cri.container-type';
const SANDBOX_ID = 'io.kubernetes.cri.sandbox-id';
const SKIP_POD_NETWORKING = 'io.microsoft.cri.skip-pod-networking';
const VALID_HOSTNAME = /^[a-zA-Z0-9_\-.]{0,255}$/;
/** The files the sandbox shares with its workloads, as mounted in the container. */
const NETWORKING_FILES = ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf'] as const;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Pod {
  readonly root: string;
  readonly containers: Set<string>;
}

/** /etc/hosts for a sandbox (hcsshim network.GenerateEtcHostsContent). */
export function etcHostsContent(hostname: string): string {
  const first = hostname.split('.')[0];
  const self = hostname.includes('.') ? `127.0.0.1 ${hostname} ${first}\n` : `127.0.0.1 ${hostname}\n`;
  return `127.0.0.1 localhost\n${self}\n# The following lines are desirable for IPv6 capable hosts\n`
    + '::1     ip6-localhost ip6-loopback\nfe00::0 ip6-localnet\nff00::0 ip6-mcastprefix\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n';
}

export class PodRegistry {
  private readonly pods = new Map<string, Pod>();
  /** Container id → the pod it was registered with. */
  private readonly member = new Map<string, string>();

  /** The pods and their containers (for tests and logs). */
  get snapshot(): Record<string, string[]> {
    return Object.fromEntries([...this.pods].map(([id, p]) => [id, [...p.containers]]));
  }

  /**
   * Admits container `id` whose (host-path) spec is `spec` and bundle `bundleDir`: registers it and edits
   * the spec in place (workload networking mounts). Throws the real guest's errors.
   */
  async admit(id: string, spec: Json, bundleDir: string): Promise<void> {
    const annotations = isObject(spec['annotations']) ? spec['annotations'] : {};
    const type = annotations[TYPE];
    if (type === undefined) return; // standalone
    if (type === 'sandbox') return this.admitSandbox(id, spec, annotations, bundleDir);
    if (type === 'container') return this.admitWorkload(id, spec, annotations[SANDBOX_ID]);
    throw failed(`unsupported '${TYPE}': '${String(type)}'`);
  }

  private async admitSandbox(id: string, spec: Json, annotations: Json, root: string): Promise<void> {
    if (this.pods.has(id)) throw failed(`pod ${id} already exists`);
    const hostname = spec['hostname'] ?? '';
    if (typeof hostname !== 'string' || !VALID_HOSTNAME.test(hostname)) {
      throw invalidArg(`hostname ${JSON.stringify(hostname)} invalid: must match ${VALID_HOSTNAME.source}`);
    }
    const name = hostname === '' ? osHostname() : hostname;
    if (String(annotations[SKIP_POD_NETWORKING]).toLowerCase() !== 'true') {
      throw failed(`namespace '' not found: this utility VM has no network namespace for pod ${id} (set ${SKIP_POD_NETWORKING}=true)`);
    }
    await mkdir(root, { recursive: true, mode: 0o755 });
    await writeFile(join(root, 'hostname'), `${name}\n`, { mode: 0o644 });
    await writeFile(join(root, 'hosts'), etcHostsContent(name), { mode: 0o644 });
    // resolv.conf from the pod's network namespace: skipped networking adds one without adapters or DNS
    await writeFile(join(root, 'resolv.conf'), '', { mode: 0o644 });
    this.pods.set(id, { root, containers: new Set([id]) });
    this.member.set(id, id);
  }

  private admitWorkload(id: string, spec: Json, sandboxId: unknown): void {
    if (typeof sandboxId !== 'string' || sandboxId === '') throw failed(`unsupported '${SANDBOX_ID}': '${String(sandboxId ?? '')}'`);
    const pod = this.pods.get(sandboxId);
    if (pod === undefined) throw failed(`pod ${sandboxId} does not exist for workload container ${id}`);
    if (pod.containers.has(id)) throw failed(`container ${id} already registered with pod ${sandboxId}`);
    if (typeof spec['hostname'] === 'string' && spec['hostname'] !== '') {
      throw failed(`workload container must not change hostname: ${spec['hostname']}`);
    }
    const mounts = Array.isArray(spec['mounts']) ? (spec['mounts'] as unknown[]) : (spec['mounts'] = []);
    const present = new Set(mounts.filter(isObject).map((m) => m['destination']));
    const root = isObject(spec['root']) && spec['root']['readonly'] === true;
    for (const dest of NETWORKING_FILES) {
      if (present.has(dest)) continue;
      mounts.push({ destination: dest, type: 'bind', source: join(pod.root, dest.slice('/etc/'.length)), options: root ? ['bind', 'ro'] : ['bind'] });
    }
    pod.containers.add(id);
    this.member.set(id, sandboxId);
  }

  /**
   * The pod root a registered container belongs to and whether it is the pod's sandbox (undefined: a
   * standalone container).
   */
  podOf(id: string): { readonly sandboxId: string; readonly root: string; readonly isSandbox: boolean } | undefined {
    const sandboxId = this.member.get(id);
    const pod = sandboxId === undefined ? undefined : this.pods.get(sandboxId);
    return sandboxId === undefined || pod === undefined ? undefined : { sandboxId, root: pod.root, isSandbox: sandboxId === id };
  }

  /** Unregisters a container; the sandbox's removal removes its pod. */
  remove(id: string): void {
    const sandboxId = this.member.get(id);
    if (sandboxId === undefined) return;
    this.member.delete(id);
    this.pods.get(sandboxId)?.containers.delete(id);
    if (sandboxId === id) this.pods.delete(id);
  }
}
