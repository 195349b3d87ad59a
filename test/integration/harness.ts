/**
 * A private containerd for integration tests: its own config, root, state and sockets in a temp dir (never
 * the system's /run/containerd), dist/bin on its PATH so it finds containerd-shim-lcow-v1, and the shims'
 * socket and emulator directories inside the same temp dir so leftovers can be checked.
 * Two containerds are driven (CONTAINERDS): Debian's 1.6.20 and 2.4.x built by scripts/lib/go-tools.sh; a
 * suite runs once per containerd and names it in its title.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync,
  symlinkSync, writeFileSync,
} from 'node:fs';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { after, afterEach, before } from 'node:test';
import { criConfigV2, criConfigV4, type Sandboxer } from './cri-config.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { processes, processList } from '../fixtures/procfs.js';

export const REPO = resolve(process.cwd());
export const SHIM_BIN_DIR = join(REPO, 'dist', 'bin');
export const RUNTIME = 'io.containerd.lcow.v1';
/** The integration suites drive containerd, runc and mounts: they need root. */
export const NEEDS_ROOT: string | false = process.getuid?.() !== 0 ? 'needs root' : false;

/** One containerd under test: its binaries, the config format it reads, and the version it reports. */
export interface ContainerdUnderTest {
  /** e.g. `containerd 1.6.20~ds1`, `containerd 2.4.2` (from `containerd --version`), for test titles. */
  readonly label: string;
  readonly major: 1 | 2;
  readonly containerd: string;
  readonly ctr: string;
}

/** scripts/lib/go-tools.sh's bin directories (scripts/test.sh exports them). */
const GO_TOOLS = (process.env.LCOW_GO_TOOLS ?? spawnSync('bash', [join(REPO, 'scripts/lib/go-tools.sh'), '--print'], { encoding: 'utf8' }).stdout)
  .trim().split(/\s+/);
const CONTAINERD2_BIN = GO_TOOLS.find((d) => /\/containerd-v2[^/]*\/bin$/.test(d)) ?? '';
export const CRICTL = join(GO_TOOLS.find((d) => /\/crictl-[^/]*\/bin$/.test(d)) ?? '', 'crictl');

function describeContainerd(major: 1 | 2, containerd: string, ctr: string): ContainerdUnderTest {
  const v = spawnSync(containerd, ['--version'], { encoding: 'utf8' });
  // `containerd github.com/containerd/containerd[/v2] VERSION [REVISION]`
  const version = v.status === 0 ? (v.stdout.split(/\s+/)[2] ?? '?') : `missing (${containerd})`;
  return { label: `containerd ${version}`, major, containerd, ctr };
}

/** Every containerd the integration suites run against: Debian's 1.6 and the pinned 2.4. */
export const CONTAINERDS: readonly ContainerdUnderTest[] = [
  describeContainerd(1, 'containerd', 'ctr'),
  describeContainerd(2, join(CONTAINERD2_BIN, 'containerd'), join(CONTAINERD2_BIN, 'ctr')),
];

export interface CtrResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CtrOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Builds a busybox root filesystem (busybox-static with relative applet links). */
export function makeBusyboxRootfs(dir: string): string {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'run', 'tmp', 'etc', 'root']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  const { stdout } = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' });
  for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) {
    const link = join(dir, 'bin', applet);
    if (!existsSync(link)) symlinkSync('busybox', link);
  }
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  return dir;
}



/**
 * What a directory tree holds, byte for byte: relative path → type, mode and contents (a file's bytes, a
 * symlink's target, never followed; a directory's own type and mode). Times are left out.
 */
export function treeDigest(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    const abs = join(dir, rel);
    const st = lstatSync(abs);
    const hash = createHash('sha256').update(`${st.mode}\0`);
    if (st.isSymbolicLink()) hash.update(readlinkSync(abs));
    else if (st.isFile()) hash.update(readFileSync(abs));
    out.set(rel, hash.digest('hex'));
    if (st.isDirectory()) for (const name of readdirSync(abs).sort()) walk(join(rel, name));
  };
  walk('.');
  return out;
}

/**
 * The entries of `before` that are gone or changed in `after` (empty: nothing lost). New entries are not
 * listed: runc may create a missing mount destination in the rootfs, as runc's own shim does.
 */
export function treeLosses(before: Map<string, string>, after: Map<string, string>): string[] {
  const lost: string[] = [];
  for (const [path, hash] of before) {
    const now = after.get(path);
    if (now === undefined) lost.push(`removed ${path}`);
    else if (now !== hash) lost.push(`changed ${path}`);
  }
  return lost;
}

export class PrivateContainerd {
  readonly tmp: string;
  readonly sock: string;
  readonly socketDir: string;
  readonly vmRoot: string;
  readonly rootfs: string;
  /** treeDigest(rootfs) taken when it was built: no test may remove or change a byte of it. */
  readonly rootfsDigest: Map<string, string>;
  private proc: ChildProcess | undefined;

  /** `cri`: the CRI plugin on, with this pod mode (cri-config.ts); off when undefined. */
  constructor(readonly under: ContainerdUnderTest = CONTAINERDS[0] as ContainerdUnderTest, readonly cri?: Sandboxer) {
    this.tmp = mkdtempSync('/tmp/lcow-it.');
    this.sock = join(this.tmp, 'containerd.sock');
    this.socketDir = join(this.tmp, 's');
    this.vmRoot = join(this.tmp, 'vm');
    this.rootfs = join(this.tmp, 'rootfs');
    for (const d of ['root', 'state', 's', 'vm']) mkdirSync(join(this.tmp, d), { recursive: true });
    makeBusyboxRootfs(this.rootfs);
    this.rootfsDigest = treeDigest(this.rootfs);
  }

  /**
   * containerd's config. 1.6 reads version 2; 2.4 version 4, and gets the shim socket directory through its
   * own `socket_dir` (which 2.3+ hands the shim in the bootstrap), not through LCOW_SHIM_SOCKET_DIR. 2.x's
   * machine-wide side plugins are off: NRI (a socket in /var/run/nri) and opt (/opt/containerd). The CRI
   * plugin is disabled unless `plugins` gives plugin configuration lines (appended: the CRI tier).
   */
  private config(plugins: readonly string[] | undefined): string {
    const common = [`root = "${this.tmp}/root"`, `state = "${this.tmp}/state"`];
    if (this.under.major === 1) {
      return ['version = 2', ...common, ...(plugins === undefined ? ['disabled_plugins = ["io.containerd.grpc.v1.cri"]'] : []),
        '[grpc]', `  address = "${this.sock}"`, '[ttrpc]', `  address = "${this.sock}.ttrpc"`, '[debug]', '  level = "debug"',
        ...(plugins ?? [])].join('\n') + '\n';
    }
    // Version 4 moved the sockets into the server plugins; a missing one means /run/containerd/containerd.sock.
    return [
      'version = 4', ...common,
      plugins !== undefined ? 'disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.internal.v1.opt"]'
        : 'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images", ' +
          '"io.containerd.podsandbox.controller.v1.podsandbox", "io.containerd.nri.v1.nri", "io.containerd.internal.v1.opt"]',
      '[debug]', '  level = "debug"',
      "[plugins.'io.containerd.server.v1.grpc']", `  address = "${this.sock}"`,
      "[plugins.'io.containerd.server.v1.ttrpc']", `  address = "${this.sock}.ttrpc"`,
      "[plugins.'io.containerd.shim.v1.manager']", `  socket_dir = "${this.socketDir}"`,
      ...(plugins ?? []),
    ].join('\n') + '\n';
  }

  /** Starts containerd (`o.binary`, default this instance's) with this instance's config and `o.plugins`. */
  async start(extraEnv: NodeJS.ProcessEnv = {}, o: { readonly binary?: string; readonly plugins?: readonly string[] } = {}): Promise<void> {
    assert.ok(existsSync(this.under.containerd) || this.under.major === 1, `${this.under.label}: run scripts/test.sh (scripts/lib/go-tools.sh builds it)`);
    const cri = this.cri === undefined ? undefined : this.under.major === 1 ? criConfigV2(this.tmp) : criConfigV4(this.tmp, this.cri);
    writeFileSync(join(this.tmp, 'config.toml'), this.config(o.plugins ?? cri));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${SHIM_BIN_DIR}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
      LCOW_EMULATOR_ROOT: this.vmRoot,
    };
    delete env.NODE_EXTRA_CA_CERTS;
    delete env.NODE_OPTIONS;
    delete env.NODE_TEST_CONTEXT;
    Object.assign(env, extraEnv); // after those: a test may give the shims NODE_OPTIONS of its own (a --require probe)
    delete env.LCOW_SHIM_SOCKET_DIR; // 2.x: socket_dir in the config; 1.6 cannot tell the shim, so the env does
    if (this.under.major === 1) env.LCOW_SHIM_SOCKET_DIR = this.socketDir;
    const log = openSync(join(this.tmp, 'containerd.log'), 'a');
    this.proc = spawn(o.binary ?? this.under.containerd, ['--config', join(this.tmp, 'config.toml')], { env, stdio: ['ignore', log, log] });
    closeSync(log);
    for (let i = 0; i < 200; i++) {
      if (existsSync(this.sock) && (await this.ctr(['version'], { timeoutMs: 2000 })).code === 0) return;
      if (this.proc.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`containerd did not start:\n${this.log()}`);
  }

  /** Runs ctr against this containerd. Never rejects; returns code and output. */
  ctr(args: string[], opts: CtrOptions = {}): Promise<CtrResult> {
    return new Promise((resolvePromise) => {
      const env = { ...process.env, ...(opts.env ?? {}) };
      delete env.NODE_EXTRA_CA_CERTS;
      const child = execFile(this.under.ctr, ['-a', this.sock, ...args], { env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20 },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
        });
      if (opts.input !== undefined) child.stdin?.end(opts.input);
      else child.stdin?.end();
    });
  }

  /** ctr run --rm with our runtime and the busybox rootfs. */
  run(id: string, cmd: string[], flags: string[] = [], opts: CtrOptions = {}): Promise<CtrResult> {
    return this.ctr(['run', '--rm', '--runtime', RUNTIME, ...flags, '--rootfs', this.rootfs, id, ...cmd], opts);
  }

  /** ctr under a pseudo-terminal (`script`), for `-t`: stdout and stderr come back merged in stdout. */
  ctrInPty(args: string[], opts: CtrOptions = {}): Promise<CtrResult> {
    return new Promise((resolvePromise) => {
      const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
      delete env.NODE_EXTRA_CA_CERTS;
      const cmd = [this.under.ctr, '-a', this.sock, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      execFile('script', ['-qefc', cmd, '/dev/null'], { env, timeout: opts.timeoutMs ?? 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }

  /** Asserts a ctr call succeeded, with containerd's log tail in the message when it did not. */
  assertOk(r: { code: number; stderr: string }, what: string): void {
    assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}\n--- containerd log tail ---\n${this.log().slice(-3000)}`);
  }

  log(): string {
    try {
      return readFileSync(join(this.tmp, 'containerd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** What is left behind: shim daemons, guest agents, runc containers, mounts and sockets of this instance. */
  leftovers(): string[] {
    const out: string[] = [];
    for (const { pid, args } of processList()) {
      const cmdline = args.join(' ');
      if (!cmdline.includes(this.tmp) && !cmdline.includes(this.sock)) continue;
      if (cmdline.startsWith(`${this.under.containerd} --config`) || pid === this.proc?.pid) continue;
      out.push(`process ${pid}: ${cmdline.trim()}`);
    }
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const target = line.split(' ')[1];
      if (target?.startsWith(this.tmp)) out.push(`mount ${target}`);
    }
    for (const f of readdirSync(this.socketDir)) out.push(`socket ${join(this.socketDir, f)}`);
    for (const f of readdirSync(this.vmRoot)) out.push(`vm dir ${join(this.vmRoot, f)}`);
    return out;
  }

  /** Waits (bounded) until nothing is left behind; returns what is still there. */
  async settled(timeoutMs = 10_000): Promise<string[]> {
    const until = Date.now() + timeoutMs;
    let left = this.leftovers();
    while (left.length > 0 && Date.now() < until) {
      await sleep(100);
      left = this.leftovers();
    }
    return left;
  }

  /**
   * Stops containerd (SIGTERM) and starts it again on the same config, root and state, as an operator's
   * restart does: running shims are left alone and reloaded by the new containerd.
   */
  async restart(extraEnv: NodeJS.ProcessEnv = {}): Promise<void> {
    await this.stopDaemon();
    await this.start(extraEnv);
  }

  /** Stops containerd (SIGTERM) and waits for it to exit; everything else stays. */
  async stopDaemon(): Promise<void> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc?.once('exit', r));
      this.proc.kill('SIGTERM');
      await exited;
    }
  }

  async stop(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      await new Promise((r) => this.proc?.once('exit', r));
    }
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n').reverse()) {
      const target = line.split(' ')[1];
      if (target?.startsWith(this.tmp)) spawnSync('umount', ['-l', target]);
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/**
 * A `node` first on PATH that records each Node `start` and `delete` command line (not `serve`'s), then runs
 * the real node: a containerd restarted with `env` shows which of its `start`s and `delete`s the executable's sh
 * answered itself (shim-wrapper.sh).
 */
export function nodeActionProbe(ctd: PrivateContainerd): { readonly env: NodeJS.ProcessEnv; readonly starts: () => string; readonly deletes: () => string } {
  const dir = join(ctd.tmp, 'node-probe');
  const seen = (action: string): string => join(ctd.tmp, `node-${action}s`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'node'), `#!/bin/sh\nfor a; do last=$a; done\ncase $last in start|delete) echo "$*" >> '${ctd.tmp}'/node-"$last"s ;; esac\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
  const read = (action: string) => (): string => (existsSync(seen(action)) ? readFileSync(seen(action), 'utf8') : '');
  return { env: { PATH: `${dir}:${SHIM_BIN_DIR}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` }, starts: read('start'), deletes: read('delete') };
}

/**
 * Call inside a describe: one private containerd for the suite, started before its first test and stopped
 * after its last. After each test nothing of the instance may be left (settled() returns []); then
 * `afterEachTest` runs (e.g. to remove a container record a failed run left).
 */
export function usePrivateContainerd(afterEachTest?: (ctd: PrivateContainerd) => Promise<unknown>,
  under: ContainerdUnderTest = CONTAINERDS[0] as ContainerdUnderTest, opts: { cri?: Sandboxer } = {}): PrivateContainerd {
  const ctd = new PrivateContainerd(under, opts.cri);
  before(() => ctd.start());
  after(() => ctd.stop());
  afterEach(async () => {
    try {
      const left = await ctd.settled();
      assert.deepEqual(left, [], `left behind after the test:\n${left.join('\n')}\n--- containerd log tail ---\n${ctd.log().slice(-3000)}`);
      // No teardown may remove or change a byte of the user's rootfs directory (the guest deletes through mounts).
      const lost = treeLosses(ctd.rootfsDigest, treeDigest(ctd.rootfs));
      assert.deepEqual(lost.slice(0, 20), [], `the rootfs directory ${ctd.rootfs} lost or changed ${lost.length} of ${ctd.rootfsDigest.size} entries`);
    } finally {
      await afterEachTest?.(ctd); // also after a failed check: one test's leftovers must not fail the next
    }
  });
  return ctd;
}

/** Runs `containerd-shim-lcow-v1 diag …` against `ctd`'s state directory (namespace default). Never rejects. */
export function diagCli(ctd: PrivateContainerd, args: string[], input = '', namespace = 'default'): Promise<CtrResult> {
  return new Promise((resolvePromise) => {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    delete env.NODE_OPTIONS;
    delete env.NODE_TEST_CONTEXT;
    const child = execFile(join(SHIM_BIN_DIR, 'containerd-shim-lcow-v1'), ['diag', '--state', join(ctd.tmp, 'state'), '--namespace', namespace, ...args],
      { env, timeout: 20_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
      });
    child.stdin?.end(input);
  });
}

/** Waits (30 s at most) until `ctr task ls` shows task `id` in `status`; the error carries containerd's log tail. */
export async function waitForStatus(ctd: PrivateContainerd, id: string, status: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const r = await ctd.ctr(['task', 'ls']);
    if (r.stdout.split('\n').some((l) => l.startsWith(`${id} `) && l.includes(status))) return;
    await sleep(100);
  }
  throw new Error(`task ${id} never reached ${status}\n${ctd.log().slice(-3000)}`);
}

/**
 * The pid of this instance's shim daemon serving task `id` (its cmdline has `-id <id>`, `serve` and this
 * containerd's `-address`): other containerds on the machine may run a task with the same id.
 */
export function shimDaemonPid(ctd: PrivateContainerd, id: string): number | undefined {
  return processes((args) => {
    const i = args.indexOf('-id');
    const a = args.indexOf('-address');
    return i >= 0 && args[i + 1] === id && args.includes('serve') && a >= 0 && args[a + 1] === ctd.sock;
  })[0];
}
