import { invalidArgument } from '../errdefs/index.js';

/** containerd CRI's annotations naming a container's place in a pod (pkg/cri/annotations; hcsshim's oci). */
export const CriAnnotation = {
  ContainerType: 'io.kubernetes.cri.container-type',
  SandboxId: 'io.kubernetes.cri.sandbox-id',
} as const;

/**
 * What a container is to the pod machinery: a standalone task (`ctr run`: no CRI annotations), a pod's
 * sandbox (its pause container; owns the utility VM) or a workload container in the pod `sandboxId`.
 */
export type PodRole =
  | { readonly kind: 'standalone' }
  | { readonly kind: 'sandbox'; readonly sandboxId: string }
  | { readonly kind: 'container'; readonly sandboxId: string };

/**
 * Parses the CRI annotations once (hcsshim's oci.GetSandboxTypeAndID): a type without an id, an id without
 * a type, or an unknown type is an InvalidArgument naming the annotation.
 */
export function podRole(annotations: Readonly<Record<string, string>>): PodRole {
  const type = annotations[CriAnnotation.ContainerType] ?? '';
  const id = annotations[CriAnnotation.SandboxId] ?? '';
  if (type === '' && id === '') return { kind: 'standalone' };
  if (type === '') throw invalidArgument(`annotation ${CriAnnotation.SandboxId}='${id}' needs ${CriAnnotation.ContainerType}`);
  if (id === '') throw invalidArgument(`annotation ${CriAnnotation.ContainerType}='${type}' needs ${CriAnnotation.SandboxId}`);
  if (type === 'sandbox' || type === 'container') return { kind: type, sandboxId: id };
  throw invalidArgument(`annotation ${CriAnnotation.ContainerType}: '${type}' is neither 'sandbox' nor 'container'`);
}

/** hcsshim's annotation telling the guest a pod has no network namespace to take DNS settings from. */
export const SKIP_POD_NETWORKING = 'io.microsoft.cri.skip-pod-networking';

/**
 * The spec a pod's sandbox container is created with in the guest. The guest takes a sandbox's resolv.conf
 * from the pod's network namespace, which the host adds to the VM for pods with one (HNS; not implemented
 * here). A pod on the node's network (no network namespace in the spec: Kubernetes hostNetwork) has none,
 * so it is marked io.microsoft.cri.skip-pod-networking=true, as the real guest requires. Other specs pass
 * unchanged.
 */
export function guestSpecFor(spec: Record<string, unknown>): Record<string, unknown> {
  const annotations = (spec.annotations ?? {}) as Record<string, string>;
  if (annotations[CriAnnotation.ContainerType] !== 'sandbox' || annotations[SKIP_POD_NETWORKING] !== undefined) return spec;
  const linux = (spec.linux ?? {}) as { namespaces?: Array<{ type?: string }> };
  if ((linux.namespaces ?? []).some((n) => n.type === 'network')) return spec;
  return { ...spec, annotations: { ...annotations, [SKIP_POD_NETWORKING]: 'true' } };
}
