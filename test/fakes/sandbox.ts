/**
 * FakeSandbox and a recording SandboxFactory: the utility VM as the task sees it. `exitVm()` plays a VM
 * crash (waitExit resolves); close() counts calls and also ends the VM, as the real sandbox does.
 */
import type { HostProcessRequest, Sandbox, SandboxFactory, SandboxRequest, VmResources } from '../../src/sandbox/index.js';
import { FakeGuestContainer } from './guest-container.js';
import { FakeGuestProcess, type FakeGuestProcessOptions } from './guest-process.js';

export class FakeSandbox implements Sandbox {
  readonly containers: FakeGuestContainer[] = [];
  readonly specs: Array<Record<string, unknown>> = [];
  closeCount = 0;
  processorCount = 2;
  signalProcessSupported = true;
  /** What dumpStacks() resolves with; a promise that never settles plays a hung guest. */
  guestStacks: Promise<string> = Promise.resolve('guest stacks');
  readonly hostRequests: HostProcessRequest[] = [];
  readonly hostProcesses: FakeGuestProcess[] = [];
  hostProcessOptions: FakeGuestProcessOptions = {};
  /** Runs on each process execInHost() starts (e.g. to write output and exit). */
  onExecInHost: ((p: FakeGuestProcess) => void) | undefined;
  readonly shares: Array<{ hostPath: string; uvmPath: string; readOnly: boolean }> = [];
  private nextHostPid = 900;
  /** createContainer() rejects with this error. */
  createContainerError: Error | undefined;
  /** close() rejects with this error and the VM does not exit (a terminate that failed). */
  closeError: Error | undefined;
  private exited = false;
  private resolveExit!: () => void;
  private readonly exitPromise = new Promise<void>((r) => (this.resolveExit = r));

  constructor(readonly id: string) {}

  get hasExited(): boolean {
    return this.exited;
  }

  /** The single container of a standalone task. */
  get container(): FakeGuestContainer {
    const c = this.containers[0];
    if (c === undefined) throw new Error(`fake sandbox ${this.id}: no container created`);
    return c;
  }

  async createContainer(id: string, spec: Record<string, unknown>): Promise<FakeGuestContainer> {
    this.specs.push(spec);
    if (this.createContainerError) throw this.createContainerError;
    const c = new FakeGuestContainer(id);
    this.containers.push(c);
    return c;
  }

  async execInHost(req: HostProcessRequest): Promise<FakeGuestProcess> {
    this.hostRequests.push(req);
    const p = new FakeGuestProcess(this.nextHostPid++, this.hostProcessOptions);
    this.hostProcesses.push(p);
    this.onExecInHost?.(p);
    return p;
  }

  dumpStacks(): Promise<string> {
    return this.guestStacks;
  }

  readonly vmUpdates: Array<{ resources: VmResources; annotations: Readonly<Record<string, string>> }> = [];

  async update(resources: VmResources, annotations: Readonly<Record<string, string>>): Promise<void> {
    this.vmUpdates.push({ resources, annotations });
  }

  async share(hostPath: string, uvmPath: string, readOnly: boolean): Promise<void> {
    this.shares.push({ hostPath, uvmPath, readOnly });
  }

  waitExit(): Promise<void> {
    return this.exitPromise;
  }

  /** The VM exits on its own (crash, host shutdown). */
  exitVm(): void {
    this.exited = true;
    this.resolveExit();
  }

  async close(): Promise<void> {
    this.closeCount++;
    if (this.closeError) throw this.closeError;
    this.exitVm();
  }
}

/** A SandboxFactory that records its requests and the sandboxes it made; `failWith` makes it reject. */
export class FakeSandboxFactory {
  readonly requests: SandboxRequest[] = [];
  readonly sandboxes: FakeSandbox[] = [];
  failWith: Error | undefined;
  /** Called on each new sandbox before it is returned (e.g. to arm createContainerError). */
  prepare: ((s: FakeSandbox) => void) | undefined;

  readonly factory: SandboxFactory = async (req) => {
    this.requests.push(req);
    if (this.failWith) throw this.failWith;
    const s = new FakeSandbox(`${req.taskId}@vm`);
    this.prepare?.(s);
    this.sandboxes.push(s);
    return s;
  };

  get last(): FakeSandbox {
    const s = this.sandboxes.at(-1);
    if (s === undefined) throw new Error('no sandbox was created');
    return s;
  }
}
