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
