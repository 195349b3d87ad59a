/** Shared setup for the computecore binding tests: the C double plus an HcsApi bound to it. */
import { after, beforeEach } from 'node:test';
import { createHcsApi, type HcsApi } from '../../../src/hcs/index.js';
import { buildComputecoreDouble, type ComputecoreDouble } from '../../fixtures/computecore-double.js';

export interface Harness {
  readonly dbl: ComputecoreDouble;
  api(): Promise<HcsApi>;
  /** The HCS_SYSTEM pointer the binding registered its callback for (from the call log). */
  systemPointer(id: string): bigint;
}

export function useComputecoreDouble(): Harness {
  const dbl = buildComputecoreDouble();
  after(() => dbl.dispose());
  beforeEach(() => dbl.reset());
  let api: Promise<HcsApi> | undefined;
  return {
    dbl,
    api: () => (api ??= createHcsApi({ backend: 'computecore', libraryPath: dbl.path })),
    systemPointer: (id) => {
      const reg = dbl.callsOf('HcsSetComputeSystemCallback').filter((c) => c.str[0] === id).at(-1);
      if (reg === undefined) throw new Error(`no callback registered for ${id}`);
      return reg.num[3] ?? 0n;
    },
  };
}

export const HCS_EVENT_SYSTEM_EXITED = 0x1;
export const HCS_EVENT_SERVICE_DISCONNECT = 0x02000000;
