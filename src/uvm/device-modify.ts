/**
 * The two halves of a hot-plugged device (hcsshim uvm.modify with a GuestRequest, external GCS bridge):
 * Add = host (HCS modify) first, then guest (GCS ModifySettings), removing the host half again when the
 * guest half fails; Remove = guest first, then host. src/uvm never imports src/gcs: the guest half is
 * whatever the caller hands in (the shim passes its GuestConnection).
 */
import type { ModifySettingRequest } from '../hcs/index.js';
import { logTeardown, type Logger } from '../log/index.js';

export interface HostModifier {
  modify(request: ModifySettingRequest): Promise<void>;
}

/** A guest ModificationRequest (ResourceType, RequestType, Settings) sent over the GCS bridge. */
export interface GuestRequest {
  readonly ResourceType: string;
  readonly RequestType: 'Add' | 'Remove';
  readonly Settings: Record<string, unknown>;
}

export interface GuestModifier {
  modifySettings(request: GuestRequest): Promise<void>;
}

export async function addWithGuest(host: HostModifier, guest: GuestModifier, hostReq: ModifySettingRequest, guestReq: GuestRequest | undefined,
  rollback: ModifySettingRequest, log: Logger): Promise<void> {
  await host.modify(hostReq);
  if (guestReq === undefined) return;
  try {
    await guest.modifySettings(guestReq);
  } catch (err) {
    await host.modify(rollback).catch(logTeardown(log, 'removing the host half of a device the guest refused', { resource: rollback.ResourcePath }));
    throw err;
  }
}

/** Drops false, 0, "" and empty arrays, as Go's omitempty does for the guest resource structs. */
export function omitEmpty(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}
