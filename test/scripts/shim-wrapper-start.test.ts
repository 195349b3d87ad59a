/**
 * The built executable's `start` in sh (scripts/build-steps/shim-wrapper.sh): for containerd's own command line
 * with an empty stdin and a plain bundle, sh starts `serve` itself (detached, in its own session, no -socket),
 * waits for its "listening <pid> <address>" line on fd 3 (serve has listened and written address and shim.pid
 * by then) and prints the address as Node's `start` does, running no date(1), sha256sum(1) or mv(1); every other
 * command line, and a `serve` that says nothing (it could not listen or write into the bundle), gets Node's
 * `start` with the command line and stdin unchanged. A fake `node` on PATH records how it was run (as `serve`:
 * arguments, environment, cwd, session, stdio; as anything else: arguments and stdin) and, as `serve`, does
 * what serve does for sh (or dies, or says something else, or execs the real Node); the real Node `start` and
 * `serve` are run too, for the byte-equal reply, a real listener and real failures.
 */
import assert from 'node:assert/strict';
import { spawnSync, type StdioOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { containerd } from '../../src/proto/index.js';
import { TtrpcClient } from '../../src/ttrpc/index.js';
import { platformDial } from '../fakes/platform-dial.js';
import { bootstrapParamsBytes } from '../shim/support/bootstrap-bytes.js';
import { parseProcStat, processes, running } from '../fixtures/procfs.js';

const BIN_DIR = resolve('dist/bin');
const EXE = join(BIN_DIR, 'containerd-shim-lcow-v1');
const BUNDLED = existsSync(join(BIN_DIR, 'containerd-shim-lcow-v1.cjs.cache'));
const ADDRESS = '/run/containerd/containerd.sock';
const NS = 'wrapper-ns';
const FAKE_NODE = `#!/bin/sh
PATH=/usr/bin:/bin # the script's own tools: the tests may run sh with fewer
eval "last=\\\${$#}"
if [ "$last" = serve ]; then
  out=$FAKE_NODE_LOG.serve
  printf '%s\\n' "$@" > "$out.args"
  env > "$out.env"
  pwd -P > "$out.cwd"
  cat /proc/$$/stat > "$out.stat"
  stdio="$(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1) $(readlink /proc/$$/fd/2)"
  printf '%s\\n' $stdio > "$out.stdio"
  [ -z "$LCOW_SHIM_START_INPUT" ] || cat "$LCOW_SHIM_START_INPUT" > "$out.input"
  [ "$FAKE_SERVE" != die ] || exit 3
  [ "$FAKE_SERVE" != real ] || exec "$REAL_NODE" "$@"
  if [ -n "$FAKE_SERVE_SAYS" ]; then printf '%s\\n' "$FAKE_SERVE_SAYS" >&3; exit 0; fi
  while [ $# -gt 1 ]; do
    case $1 in -namespace) ns=$2 ;; -id) id=$2 ;; -address) address=$2 ;; esac
    shift
  done
  sum=$(printf '%s' "$address/$ns/$id" | sha256sum)
  path=\${LCOW_SHIM_SOCKET_DIR:-/run/containerd/s}/\${sum%% *}
  printf 'unix://%s' "$path" > address
  printf '%s' "$$" > shim.pid
  printf 'listening %s unix://%s\\n' "$$" "$path" >&3
  exit 0
fi
printf '%s\\n' "$@" > "$FAKE_NODE_LOG"
cat > "$FAKE_NODE_LOG.stdin"
exit 7
`;

interface Run {
  readonly status: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** The fake `node` run as anything but serve (Node's `start`): its arguments and stdin. */
  readonly node: { args: string[]; stdin: Buffer } | undefined;
  /** The fake `node` run as serve. */
  readonly serve: { args: string[]; env: Map<string, string>; cwd: string; stat: string; stdio: string[]; input: Buffer | undefined } | undefined;
}

interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly stdin?: Buffer | 'devnull' | { file: string };
  readonly path?: string;
}

const lines = (f: string): string[] => readFileSync(f, 'utf8').split('\n').slice(0, -1);

describe('the shim executable\'s start in sh', { skip: !BUNDLED && 'dist/ was built without the bundle and code cache' }, () => {
  let dir = '';
  let fakeBin = '';
  let socketDir = '';
  let log = '';
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shim-wrapper-start-'));
    fakeBin = join(dir, 'fake-bin');
    socketDir = join(dir, 's');
    log = join(dir, 'node-log');
    await mkdir(fakeBin);
    await writeFile(join(fakeBin, 'node'), FAKE_NODE);
    await chmod(join(fakeBin, 'node'), 0o755);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const socketOf = (id: string, sockets = socketDir, address = ADDRESS): string =>
    join(sockets, createHash('sha256').update(`${address}/${NS}/${id}`).digest('hex'));
  const startArgs = (id: string, ...extra: string[]): string[] =>
    ['-namespace', NS, '-address', ADDRESS, '-publish-binary', '/usr/bin/containerd', '-id', id, ...extra, 'start'];

  /** bundleWith(NO_SPEC): a bundle without config.json, as containerd 2.x's shim sandbox controller makes one. */
  const NO_SPEC = Symbol('no spec');
  async function bundleWith(spec: unknown = { ociVersion: '1.0.2', annotations: { 'io.containerd.x': 'y' } }): Promise<string> {
    const bundle = join(dir, `bundle-${++n}`);
    await mkdir(bundle);
    if (spec !== NO_SPEC) await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
    return bundle;
  }

  /** Runs the executable in `bundle` as containerd does (cwd = bundle), `node` being the fake. */
  async function run(args: string[], bundle: string, o: RunOptions = {}): Promise<Run> {
    for (const f of readdirSync(dir)) if (f.startsWith('node-log')) await rm(join(dir, f));
    const stdio: StdioOptions = o.stdin === 'devnull' ? ['ignore', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'];
    const input = Buffer.isBuffer(o.stdin) ? o.stdin : undefined;
    const env = { PATH: o.path ?? `${fakeBin}:/usr/bin:/bin`, FAKE_NODE_LOG: log, LCOW_SHIM_SOCKET_DIR: socketDir, ...o.env };
    const r = typeof o.stdin === 'object' && 'file' in o.stdin
      ? spawnSync('sh', ['-c', 'exec "$0" "$@" < "$STDIN_FILE"', EXE, ...args], { cwd: bundle, env: { ...env, STDIN_FILE: o.stdin.file }, timeout: 30_000 })
      : spawnSync(EXE, args, { cwd: bundle, env, stdio, input, timeout: 30_000 });
    const node = existsSync(log) ? { args: lines(log), stdin: readFileSync(`${log}.stdin`) } : undefined;
    const s = `${log}.serve`;
    const serve = existsSync(`${s}.args`)
      ? {
          args: lines(`${s}.args`),
          env: new Map(lines(`${s}.env`).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string])),
          cwd: readFileSync(`${s}.cwd`, 'utf8').trim(),
          stat: readFileSync(`${s}.stat`, 'utf8'),
          stdio: lines(`${s}.stdio`),
          input: existsSync(`${s}.input`) ? readFileSync(`${s}.input`) : undefined,
        }
      : undefined;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString(), node, serve };
  }

  /** What Node's start passes serve (manager.ts startShim), after node's own arguments, but -socket: serve computes it. */
  const serveArgs = (id: string, bundle: string, debug: boolean): string[] => [
    '--no-warnings', EXE, '-namespace', NS, '-id', id, '-address', ADDRESS, '-publish-binary', '/usr/bin/containerd',
    '-bundle', bundle, ...(debug ? ['-debug'] : []), 'serve',
  ];
  /** The environment for a real Node (no test runner variables; PATH is run()'s). */
  const realEnv = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, REAL_NODE: process.execPath };
    for (const k of ['NODE_OPTIONS', 'NODE_TEST_CONTEXT', 'PATH', 'TTRPC_ADDRESS']) delete env[k];
    return env;
  };

  /**
   * The executable's start in sh with the real serve, after Node's start printed `nodeOut` in `viaNode`: the same
   * bytes on stdout, the same address file, shim.pid naming that serve, which found its socket itself, and no
   * spool or temporary file; that daemon is stopped at `address` afterwards.
   */
  async function sameAsNodeStart(id: string, nodeOut: Buffer, viaNode: string, o: RunOptions, address: string): Promise<void> {
    const withSpec = existsSync(join(viaNode, 'config.json'));
    const viaSh = await bundleWith(...(withSpec ? [] : [NO_SPEC]));
    const s = await run(startArgs(id), viaSh, o);
    assert.ok(s.serve && s.node === undefined, 'the second start ran in sh');
    assert.equal(s.status, 0, s.stderr);
    const shDaemon = Number(readFileSync(join(viaSh, 'shim.pid'), 'utf8'));
    try {
      assert.deepEqual(s.stdout, nodeOut);
      assert.deepEqual(readFileSync(join(viaSh, 'address')), readFileSync(join(viaNode, 'address')));
      assert.equal(shDaemon, Number(s.serve.stat.split(' ')[0]), 'shim.pid names the serve sh started');
      assert.deepEqual(readdirSync(viaSh).sort(), ['address', ...(withSpec ? ['config.json'] : []), 'shim.pid'], 'no spool or temporary file left');
      assert.ok(!readFileSync(`/proc/${shDaemon}/cmdline`, 'utf8').split('\0').includes('-socket'), 'serve found its socket itself');
    } finally {
      await stopServing(address, shDaemon, id);
    }
  }

  it('starts serve itself for containerd\'s command line: the reply, files, arguments, environment and session Node\'s start gives; no date, sha256sum or mv', async () => {
    // sh gets only the tools it still needs on this path: node (the fake), setsid, grep, cat and rm (stdin's spool).
    const fewTools = join(dir, 'few-tools');
    await mkdir(fewTools, { recursive: true });
    for (const tool of ['setsid', 'grep', 'cat', 'rm']) {
      const at = ['/usr/bin', '/bin'].map((d) => join(d, tool)).find((p) => existsSync(p));
      assert.ok(at, tool);
      await symlink(at, join(fewTools, tool)).catch(() => undefined);
    }
    for (const [debug, stdin] of [[false, 'devnull'], [true, Buffer.alloc(0)]] as const) {
      const bundle = await bundleWith();
      const id = `fast-${n}`;
      const r = await run(startArgs(id, ...(debug ? ['-debug'] : [])), bundle, {
        stdin, path: `${fakeBin}:${fewTools}`,
        env: { TTRPC_ADDRESS: '/run/containerd/containerd.sock.ttrpc', LCOW_SHIM_LOG_LEVEL_WARNING: 'stale', LCOW_SHIM_LISTEN_FD: '3', LCOW_SHIM_START_TIME: '2026-12-01T00:00:00.000Z' },
      });
      assert.equal(r.node, undefined, 'Node\'s start did not run');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(r.stdout.toString(), `unix://${socketOf(id)}`, 'the address, no newline');
      assert.ok(r.serve, 'serve was started');
      assert.deepEqual(r.serve.args, serveArgs(id, bundle, debug));
      const pid = Number(r.serve.stat.split(' ')[0]);
      assert.equal(readFileSync(join(bundle, 'address'), 'utf8'), r.stdout.toString());
      assert.equal(readFileSync(join(bundle, 'shim.pid'), 'utf8'), String(pid), 'shim.pid names serve');
      assert.deepEqual(readdirSync(bundle).sort(), ['address', 'config.json', 'shim.pid'], 'no temporary file left');
      // Its own session (and group), stdio /dev/null, cwd the bundle.
      const stat = parseProcStat(r.serve.stat);
      assert.equal(stat.session, pid, 'serve leads its own session');
      assert.equal(stat.pgid, pid);
      assert.deepEqual(r.serve.stdio, ['/dev/null', '/dev/null', '/dev/null']);
      assert.equal(r.serve.cwd, bundle);
      const env = r.serve.env;
      assert.equal(env.get('LCOW_SHIM_READY_FD'), '3');
      assert.equal(env.get('LCOW_SHIM_LISTEN_FD'), undefined, 'no inherited listen fd');
      assert.equal(env.get('LCOW_SHIM_LOG_LEVEL_WARNING'), undefined, 'no inherited warning');
      assert.equal(env.get('LCOW_SHIM_LOG_LEVEL'), debug ? 'debug' : 'info');
      assert.equal(env.get('LCOW_SHIM_LOG_LEVEL_FROM'), debug ? 'debug' : 'default');
      assert.equal(env.get('TTRPC_ADDRESS'), '/run/containerd/containerd.sock.ttrpc');
      assert.equal(env.get('LCOW_SHIM_SOCKET_DIR'), socketDir);
      assert.equal(env.get('LCOW_SHIM_START_TIME'), '2026-12-01T00:00:00.000Z', 'sh passes no start time (serve stamps the milestone itself)');
    }
  });

  it('takes serve\'s line only as "listening <pid> unix://<socket dir>/<64 hex digits>": else an error, and the pid it named is signalled', async () => {
    const sum = 'a'.repeat(64);
    for (const says of [`listening 1x unix://${socketDir}/${sum}`, 'listening 2147483646', `listening 2147483646 unix:///elsewhere/${sum}`,
      `listening 2147483646 unix://${socketDir}/${sum.slice(1)}`, `listening 2147483646 unix://${socketDir}/${sum.slice(1)}G`]) {
      const bundle = await bundleWith();
      const r = await run(startArgs(`says-${n}`), bundle, { env: { FAKE_SERVE_SAYS: says } });
      assert.ok(r.serve, says);
      assert.equal(r.node, undefined, `${says}: serve said it listens: no second start`);
      assert.equal(r.status, 1, says);
      assert.equal(r.stdout.length, 0, says);
      assert.match(r.stderr, /^containerd-shim-lcow-v1 start: serve said "listening [^\n]*", not "listening <pid> unix:\/\/[^\n]*\/<sha256>"\n$/, says);
    }
    const bundle = await bundleWith();
    const r = await run(startArgs(`says-${n}`), bundle, { env: { FAKE_SERVE_SAYS: 'ready' } });
    assert.deepEqual(r.node?.args, ['--no-warnings', EXE, ...startArgs(`says-${n}`)], 'not a "listening" line: serve said nothing, Node\'s start runs');
  });

  it('with the real serve, prints what Node\'s start prints, byte for byte, and writes the same address file', async () => {
    const id = 'same-reply';
    const viaNode = await bundleWith();
    const env: NodeJS.ProcessEnv = { ...process.env, LCOW_SHIM_SOCKET_DIR: socketDir };
    delete env.NODE_OPTIONS;
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, ['--no-warnings', EXE, ...startArgs(id)], { cwd: viaNode, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr.toString());
    const daemon = Number(readFileSync(join(viaNode, 'shim.pid'), 'utf8'));
    await stopServing(r.stdout.toString(), daemon, id);
    assert.equal(existsSync(socketOf(id)), false, 'the daemon Node\'s start left removed its socket on SIGTERM');
    await sameAsNodeStart(id, r.stdout, viaNode, { stdin: 'devnull', env: { ...realEnv(), FAKE_SERVE: 'real' } }, r.stdout.toString());
  });

  it('a real serve that cannot take its socket path or write the bundle says nothing, leaves nothing, and Node\'s start runs, command line unchanged', async () => {
    const cases: Array<[string, (id: string, bundle: string) => Promise<void>]> = [
      ['something at the socket path already', async (id) => {
        await mkdir(socketDir, { recursive: true });
        await writeFile(socketOf(id), 'in the way');
      }],
      ['address cannot be written (a directory is there)', (_id, bundle) => mkdir(join(bundle, 'address', 'x'), { recursive: true }).then(() => undefined)],
      ['shim.pid cannot be written (a directory is there)', (_id, bundle) => mkdir(join(bundle, 'shim.pid', 'x'), { recursive: true }).then(() => undefined)],
    ];
    for (const [what, prepare] of cases) {
      const bundle = await bundleWith();
      const id = `real-refused-${n}`;
      await prepare(id, bundle);
      const before = readdirSync(bundle).sort();
      const sockets = existsSync(socketDir) ? readdirSync(socketDir).sort() : [];
      const r = await run(startArgs(id), bundle, { stdin: 'devnull', env: { ...realEnv(), FAKE_SERVE: 'real' } });
      assert.ok(r.serve, `${what}: sh started serve`);
      assert.deepEqual(r.node?.args, ['--no-warnings', EXE, ...startArgs(id)], what);
      assert.equal(r.status, 7, what);
      assert.equal(r.stdout.length, 0, what);
      assert.deepEqual(readdirSync(bundle).sort(), before, `${what}: serve left nothing in the bundle`);
      assert.deepEqual(existsSync(socketDir) ? readdirSync(socketDir).sort() : [], sockets, `${what}: nor in the socket dir`);
      if (what.startsWith('something')) assert.equal(readFileSync(socketOf(id), 'utf8'), 'in the way', 'what was there is untouched');
      for (let i = 0; i < 100 && processes((args) => args.includes(id)).length > 0; i++) await sleep(20);
      assert.deepEqual(processes((args) => args.includes(id)), [], `${what}: no serve left`);
    }
  });

  it('hands start to Node, command line and stdin unchanged, whenever sh cannot be sure', async () => {
    const noSetsid = join(dir, 'no-setsid');
    await mkdir(noSetsid);
    for (const tool of ['date', 'grep', 'sha256sum', 'cat', 'mv', 'rm', 'readlink', 'sleep', 'env', 'pwd']) {
      const at = ['/usr/bin', '/bin'].map((d) => join(d, tool)).find((p) => existsSync(p));
      if (at !== undefined) await symlink(at, join(noSetsid, tool));
    }
    const stdinFile = join(dir, 'options.bin');
    const optionsBytes = Buffer.concat([Buffer.from([0x0a, 0x00, 0x0a, 0xff]), randomBytes(300), Buffer.from('\n\n')]);
    await writeFile(stdinFile, optionsBytes);
    const cases: Array<[string, (id: string, bundle: string) => Promise<[string[], RunOptions?]>]> = [
      ['a flag containerd does not write', async (id) => [['-unknown', 'x', ...startArgs(id)]]],
      ['a flag containerd does not write, stdin holding bytes (a pipe)', async (id) => [['-unknown', 'x', ...startArgs(id)], { stdin: optionsBytes }]],
      ['a flag containerd does not write, stdin holding bytes (a file)', async (id) => [['-unknown', 'x', ...startArgs(id)], { stdin: { file: stdinFile } }]],
      ['-name=value form', async (id) => [['-namespace=' + NS, '-address', ADDRESS, '-id', id, 'start']]],
      ['a repeated flag', async (id) => [['-id', 'other', ...startArgs(id)]]],
      ['a value that starts with -', async (id) => [['-namespace', NS, '-address', ADDRESS, '-publish-binary', '-x', '-id', id, 'start']]],
      ['-debug with a value', async (id) => [['-debug', 'true', ...startArgs(id)]]],
      ['no namespace', async (id) => [['-address', ADDRESS, '-id', id, 'start']]],
      ['no address', async (id) => [['-namespace', NS, '-id', id, 'start']]],
      ['an id with a slash', async () => [startArgs('a/b')]],
      ['an id of ..', async () => [startArgs('..')]],
      ['an id with a space', async () => [startArgs('a b')]],
      ...['rel/containerd.sock', '/run//containerd.sock', '/run/./containerd.sock', '/run/x/../containerd.sock', '/run/containerd/', '/run/containerd/.', '/run/..']
        .map((a): [string, (id: string) => Promise<[string[]]>] => [`address ${a} (filepath.Join would clean it)`, async (id) => [['-namespace', NS, '-address', a, '-id', id, 'start']]]),
      ...['rel/s', `${dir}//s`, `${dir}/s/`, `${dir}/./s`, `${dir}/with space`]
        .map((d): [string, (id: string) => Promise<[string[], RunOptions]>] => [`socket dir ${d}`, async (id) => [startArgs(id), { env: { LCOW_SHIM_SOCKET_DIR: d } }]]),
      ['a socket path too long for sun_path', async (id) => [startArgs(id), { env: { LCOW_SHIM_SOCKET_DIR: `${dir}/${'d'.repeat(Math.max(1, 99 - 65 - dir.length))}` } }]],
      ['a config.json that is not a regular file', async (id, bundle) => {
        await rm(join(bundle, 'config.json'));
        await mkdir(join(bundle, 'config.json'));
        return [startArgs(id)];
      }],
      ['a config.json that is a dangling link', async (id, bundle) => {
        await rm(join(bundle, 'config.json'));
        await symlink(join(bundle, 'gone.json'), join(bundle, 'config.json'));
        return [startArgs(id)];
      }],
      ['a CRI bundle (a pod\'s container may join its pod)', async (id, bundle) => {
        await writeFile(join(bundle, 'config.json'), JSON.stringify({ annotations: { 'io.kubernetes.cri.container-type': 'container' } }));
        return [startArgs(id)];
      }],
      ['a relative -bundle', async (id) => [['-bundle', 'b', ...startArgs(id)]]],
      ['no setsid', async (id) => [startArgs(id), { path: `${fakeBin}:${noSetsid}` }]],
    ];
    for (const [what, prepare] of cases) {
      const bundle = await bundleWith();
      const [args, o = {}] = await prepare(`refused-${n}`, bundle);
      const r = await run(args, bundle, { stdin: Buffer.alloc(0), ...o });
      assert.equal(r.serve, undefined, `${what}: sh did not start serve`);
      assert.deepEqual(r.node?.args, ['--no-warnings', EXE, ...args], what);
      assert.equal(r.status, 7, what);
      assert.equal(r.stdout.length, 0, `${what}: the script itself printed nothing`);
      const expected = o.stdin === undefined || o.stdin === 'devnull' ? Buffer.alloc(0) : Buffer.isBuffer(o.stdin) ? o.stdin : optionsBytes;
      assert.deepEqual(r.node?.stdin, expected, `${what}: Node's start read the same stdin`);
      assert.deepEqual(readdirSync(bundle).filter((f) => f.startsWith('.')), [], `${what}: no spool left in the bundle`);
    }
  });

  it('stdin holding bytes (runtime options, BootstrapParams), a pipe or a file: serve gets them in the file LCOW_SHIM_START_INPUT names, which sh removes once serve has spoken', async () => {
    const bytes = Buffer.concat([Buffer.from([0x0a, 0x00, 0x0a, 0xff]), randomBytes(300), Buffer.from('\n\n')]);
    const file = join(dir, 'stdin-for-serve.bin');
    await writeFile(file, bytes);
    for (const stdin of [bytes, { file }]) {
      const bundle = await bundleWith();
      const id = `spooled-${n}`;
      const r = await run(startArgs(id), bundle, { stdin, env: { LCOW_SHIM_START_INPUT: '/stale/path' } });
      assert.equal(r.node, undefined, 'Node\'s start did not run');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.toString(), `unix://${socketOf(id)}`, 'serve appended no reply: the plain address');
      assert.ok(r.serve, 'serve was started');
      assert.deepEqual(r.serve.input, bytes, 'serve read exactly what containerd wrote');
      assert.match(r.serve.env.get('LCOW_SHIM_START_INPUT') ?? '', new RegExp(`^${bundle}/\\.start-stdin\\.\\d+$`), 'the spool, not an inherited value');
      assert.deepEqual(readdirSync(bundle).filter((f) => f.startsWith('.')), [], 'the spool is gone');
    }
    const bundle = await bundleWith();
    const r = await run(startArgs('spooled-empty'), bundle, { stdin: Buffer.alloc(0), env: { LCOW_SHIM_START_INPUT: '/stale/path' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.serve?.env.get('LCOW_SHIM_START_INPUT'), undefined, 'an empty stdin names nothing, and nothing is inherited');
  });

  it('a serve that dies with stdin spooled: Node\'s start gets the same bytes as its stdin, and no spool is left', async () => {
    const bytes = Buffer.concat([randomBytes(200), Buffer.from('\n')]);
    const bundle = await bundleWith();
    const args = startArgs('dies-spooled');
    const r = await run(args, bundle, { stdin: bytes, env: { FAKE_SERVE: 'die' } });
    assert.deepEqual(r.serve?.input, bytes);
    assert.deepEqual(r.node?.args, ['--no-warnings', EXE, ...args]);
    assert.deepEqual(r.node?.stdin, bytes);
    assert.equal(r.status, 7);
    assert.deepEqual(readdirSync(bundle), ['config.json']);
  });

  it('with stdin spooled, prints the reply serve appends (printf octal escapes, three digits a byte) instead of the address, and takes no other', async () => {
    const sum = 'b'.repeat(64);
    const ttrpc = [...Buffer.from('ttrpc')].map((c) => `\\${c.toString(8).padStart(3, '0')}`).join('');
    const reply = `\\010\\002\\032\\005${ttrpc}`;
    for (const at of [socketDir, join(dir, 'containerd-socket-dir')]) {
      const bundle = await bundleWith();
      const r = await run(startArgs(`reply-${n}`), bundle, { stdin: Buffer.from([1]), env: { FAKE_SERVE_SAYS: `listening 2147483646 unix://${at}/${sum} ${reply}` } });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout, Buffer.from([0x08, 0x02, 0x1a, 0x05, ...Buffer.from('ttrpc')]), 'the bytes, in any socket dir serve chose');
    }
    for (const says of [
      `listening 2147483646 unix://${socketDir}/${sum} \\000${reply}`, `listening 2147483646 unix://${socketDir}/${sum} \\010x`,
      `listening 2147483646 unix://${socketDir}/${sum} \\010 \\002`, `listening 2147483646 unix://rel/${sum} ${reply}`,
      `listening 2147483646 unix://${socketDir}//${sum} ${reply}`, `listening 2147483646 unix://${socketDir}/../${sum} ${reply}`,
      `listening 2147483646 unix://${socketDir}/${sum.slice(1)} ${reply}`, `listening 2147483646 unix://${socketDir}/a*b/${sum} ${reply}`,
    ]) {
      const bundle = await bundleWith();
      const r = await run(startArgs(`bad-reply-${n}`), bundle, { stdin: Buffer.from([1]), env: { FAKE_SERVE_SAYS: says } });
      assert.equal(r.status, 1, says);
      assert.equal(r.stdout.length, 0, says);
      assert.match(r.stderr, /^containerd-shim-lcow-v1 start: serve said "listening [^\n]*", not "listening <pid> unix:\/\/<socket dir>\/<sha256>\[ <reply>\]"\n$/, says);
      assert.deepEqual(readdirSync(bundle).filter((f) => f.startsWith('.')), [], `${says}: the spool is gone`);
    }
  });

  it('with the real serve and containerd 2.3+\'s BootstrapParams, prints Node\'s start\'s BootstrapResult byte for byte, under the params\' socket_dir; for a task (version 2) and a Sandbox API sandbox\'s spec-less bundle (version 3)', async () => {
    for (const [id, spec, version] of [['same-bootstrap', undefined, 2], ['same-bootstrap-sbx', NO_SPEC, 3]] as const) {
      const paramsDir = await mkdtemp('/tmp/ps-'); // short: with the socket's name and serve's suffix it fits sun_path
      const params = bootstrapParamsBytes({ id, namespace: NS, socketDir: paramsDir, ttrpcAddress: '/run/x.ttrpc' });
      const viaNode = await bundleWith(...(spec === undefined ? [] : [spec]));
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const k of ['NODE_OPTIONS', 'NODE_TEST_CONTEXT', 'LCOW_SHIM_SOCKET_DIR', 'TTRPC_ADDRESS']) delete env[k];
      const r = spawnSync(process.execPath, ['--no-warnings', EXE, ...startArgs(id)], { cwd: viaNode, env, input: params, timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr.toString());
      const result = containerd.runtime.bootstrap.v1.BootstrapResult.decode(r.stdout);
      assert.equal(result.address, `unix://${socketOf(id, paramsDir)}`);
      assert.equal(result.version, version, id);
      await stopServing(result.address, Number(readFileSync(join(viaNode, 'shim.pid'), 'utf8')), id);
      try {
        await sameAsNodeStart(id, r.stdout, viaNode, { stdin: Buffer.from(params), env: { ...realEnv(), FAKE_SERVE: 'real', LCOW_SHIM_SOCKET_DIR: '' } }, result.address);
      } finally {
        await rm(paramsDir, { recursive: true, force: true });
      }
    }
  });

  it('the real serve refuses a socket_dir sh would not print (a space in it): says nothing, leaves nothing, and Node\'s start gets the same stdin', async () => {
    const id = 'spaced-dir';
    const params = Buffer.from(bootstrapParamsBytes({ id, namespace: NS, socketDir: join(dir, 'with space') }));
    const bundle = await bundleWith();
    const r = await run(startArgs(id), bundle, { stdin: params, env: { ...realEnv(), FAKE_SERVE: 'real', LCOW_SHIM_SOCKET_DIR: '' } });
    assert.ok(r.serve, 'sh started serve');
    assert.deepEqual(r.serve.input, params);
    assert.deepEqual(r.node?.stdin, params, 'Node\'s start read what containerd wrote');
    assert.equal(r.status, 7);
    assert.deepEqual(readdirSync(bundle), ['config.json']);
    assert.equal(existsSync(join(dir, 'with space')), false, 'no socket dir made');
    for (let i = 0; i < 100 && processes((args) => args.includes(id)).length > 0; i++) await sleep(20);
    assert.deepEqual(processes((args) => args.includes(id)), [], 'no serve left');
  });

  it('a CRI pod\'s sandbox bundle: sh starts serve (which serves it); a workload\'s, another id\'s or bad annotations: Node\'s start, command line and stdin unchanged', async () => {
    const cri = (type: string | undefined, sandbox: string | undefined): unknown => ({ ociVersion: '1.0.2', annotations: {
      ...(type === undefined ? {} : { 'io.kubernetes.cri.container-type': type }), ...(sandbox === undefined ? {} : { 'io.kubernetes.cri.sandbox-id': sandbox }),
      'io.kubernetes.cri.sandbox-name': 'p' } });
    // the real serve, for a sandbox of this id: it serves
    const id = 'pod-sandbox';
    const bundle = await bundleWith(cri('sandbox', id));
    const r = await run(startArgs(id), bundle, { stdin: 'devnull', env: { ...realEnv(), FAKE_SERVE: 'real' } });
    assert.ok(r.serve && r.node === undefined, 'sh started serve, not Node\'s start');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.toString(), `unix://${socketOf(id)}`);
    await stopServing(r.stdout.toString(), Number(readFileSync(join(bundle, 'shim.pid'), 'utf8')), id);
    // the real serve refuses what is not this task's own sandbox; Node's start (the fake here) gets it all
    const stdin = Buffer.from([0x0a, 0x01, 0x41]);
    for (const [what, spec, starts] of [
      ['a sandbox of another id (the type named, so sh tried)', cri('sandbox', 'other'), true],
      ['a sandbox type without its id', cri('sandbox', undefined), true],
      ['a workload container', cri('container', 'pod-sandbox'), false],
      ['a CRI annotation without a type', cri(undefined, 'pod-sandbox'), false],
    ] as const) {
      const b = await bundleWith(spec);
      const tid = `cri-${n}`;
      const x = await run(startArgs(tid), b, { stdin, env: { ...realEnv(), FAKE_SERVE: 'real' } });
      assert.equal(x.serve !== undefined, starts, `${what}: sh ${starts ? 'started' : 'did not start'} serve`);
      assert.deepEqual(x.node?.args, ['--no-warnings', EXE, ...startArgs(tid)], what);
      assert.deepEqual(x.node?.stdin, stdin, `${what}: Node's start read the same stdin`);
      assert.equal(x.status, 7, what);
      assert.deepEqual(readdirSync(b).sort(), ['config.json'], `${what}: nothing left in the bundle`);
      for (let i = 0; i < 100 && processes((args) => args.includes(tid)).length > 0; i++) await sleep(20);
      assert.deepEqual(processes((args) => args.includes(tid)), [], `${what}: no serve left`);
    }
  });

  it('a pod\'s container joins its pod\'s daemon in sh when sure (its bundle, socket and live pid): the pod\'s address printed and written, with its pid; else Node\'s start, stdin unchanged, nothing written', async () => {
    const podId = 'pod-joined';
    const podBundle = join(dir, podId); // a sibling of every bundleWith() bundle, as containerd keeps them
    await mkdir(podBundle, { recursive: true });
    await mkdir(socketDir, { recursive: true });
    const podSocket = socketOf(podId);
    const server = createServer();
    await new Promise<void>((res) => server.listen(podSocket, res));
    const workload = (sandbox = podId, extra = ''): string =>
      `{"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.container-type":"container",${extra}"io.kubernetes.cri.sandbox-id":"${sandbox}"}}`;
    const rawBundle = async (text: string): Promise<string> => {
      const b = await bundleWith(undefined);
      await writeFile(join(b, 'config.json'), text);
      return b;
    };
    const pod = async (address: string, pid: string): Promise<void> => {
      await writeFile(join(podBundle, 'address'), address);
      await writeFile(join(podBundle, 'shim.pid'), pid);
    };
    try {
      await pod(`unix://${podSocket}`, String(process.pid));
      for (const stdin of [Buffer.alloc(0), Buffer.from([0x0a, 0x02, 0x41])]) {
        const b = await rawBundle(workload());
        const id = `joins-${n}`;
        const r = await run(startArgs(id), b, { stdin });
        assert.equal(r.node, undefined, 'Node\'s start did not run');
        assert.equal(r.serve, undefined, 'no daemon of its own');
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, '');
        assert.equal(r.stdout.toString(), `unix://${podSocket}`, 'the plain address (containerd 2.x reads it too)');
        assert.equal(readFileSync(join(b, 'address'), 'utf8'), `unix://${podSocket}`);
        assert.equal(readFileSync(join(b, 'shim.pid'), 'utf8'), String(process.pid), 'the pod daemon\'s pid');
        assert.deepEqual(readdirSync(b).sort(), ['address', 'config.json', 'shim.pid'], 'no spool left');
      }
      const dead = spawnSync('true').pid ?? 0;
      const cases: Array<[string, () => Promise<string>, RunOptions?]> = [
        ['the pod\'s bundle has no address', async () => { await rm(join(podBundle, 'address')); return rawBundle(workload()); }],
        ['the pod\'s daemon is gone', async () => { await pod(`unix://${podSocket}`, String(dead)); return rawBundle(workload()); }],
        ['no pod bundle', async () => rawBundle(workload('pod-missing'))],
        ['the pod\'s socket is not there', async () => { await pod(`unix://${socketOf('other-pod')}`, String(process.pid)); return rawBundle(workload()); }],
        ['a socket, but not the pod\'s (its name)', async () => {
          const other = join(socketDir, 'f'.repeat(64));
          await symlink(podSocket, other).catch(() => undefined); // test -S follows it: a socket
          await pod(`unix://${other}`, String(process.pid));
          return rawBundle(workload());
        }],
        ['the socket is not in the socket dir', async () => { await pod(`unix://${podSocket}`, String(process.pid)); return rawBundle(workload()); }, { env: { LCOW_SHIM_SOCKET_DIR: join(dir, 'elsewhere') } }],
        ['the type twice', async () => rawBundle(workload(podId, '"io.kubernetes.cri.container-type":"container",'))],
        ['a sandbox id with an escape', async () => rawBundle(workload('pod\\u002djoined'))],
        ['a sandbox id with a slash', async () => rawBundle(workload('../pod-joined'))],
        ['a container type without a sandbox id', async () => rawBundle('{"annotations":{"io.kubernetes.cri.container-type":"container"}}')],
        ['a container of its own pod id', async () => rawBundle(workload('joins-self'))],
      ];
      const stdin = Buffer.from([0x0a, 0x03, 0x42]);
      for (const [what, prepare, o = {}] of cases) {
        await pod(`unix://${podSocket}`, String(process.pid));
        const b = await prepare();
        const id = what.includes('own pod id') ? 'joins-self' : `refuse-join-${n}`;
        const r = await run(startArgs(id), b, { stdin, ...o });
        assert.equal(r.serve, undefined, `${what}: no serve`);
        assert.deepEqual(r.node?.args, ['--no-warnings', EXE, ...startArgs(id)], what);
        assert.deepEqual(r.node?.stdin, stdin, `${what}: Node's start read the same stdin`);
        assert.equal(r.status, 7, what);
        assert.equal(r.stdout.length, 0, what);
        assert.deepEqual(readdirSync(b).sort(), ['config.json'], `${what}: nothing written`);
      }
    } finally {
      server.close();
      await rm(podBundle, { recursive: true, force: true });
    }
  });

  it('a serve that dies before listening: Node\'s start runs instead, with the command line unchanged', async () => {
    const bundle = await bundleWith();
    const args = startArgs('dies');
    const r = await run(args, bundle, { env: { FAKE_SERVE: 'die' } });
    assert.ok(r.serve, 'sh started serve first');
    assert.deepEqual(r.node?.args, ['--no-warnings', EXE, ...args]);
    assert.equal(r.status, 7);
    assert.equal(r.stdout.length, 0);
    assert.deepEqual(readdirSync(bundle), ['config.json'], 'no address or shim.pid written');
  });

  it('the real serve that cannot listen: a clear error from Node\'s start, at once, nothing left running', async () => {
    const bundle = await bundleWith();
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, '');
    const env: NodeJS.ProcessEnv = { ...process.env, LCOW_SHIM_SOCKET_DIR: join(blocker, 's') };
    delete env.NODE_OPTIONS;
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(EXE, startArgs('cannot-listen'), { cwd: bundle, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    assert.equal(r.status, 1);
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr.toString(), /^containerd-shim-lcow-v1 start: ENOTDIR: not a directory, \w+ '[^']*a-file\/s[^']*'\n$/);
    assert.deepEqual(readdirSync(bundle), ['config.json']);
    const ours = processes((args) => args.includes('cannot-listen'));
    assert.deepEqual(ours, [], 'no serve left');
  });

  it('the real serve: listening when start returns, Connect answered (connections that came early wait, then are served)', async () => {
    const bundle = await bundleWith();
    const env: NodeJS.ProcessEnv = { ...process.env, LCOW_SHIM_SOCKET_DIR: socketDir };
    delete env.NODE_OPTIONS;
    delete env.NODE_TEST_CONTEXT;
    delete env.TTRPC_ADDRESS;
    const r = spawnSync(EXE, startArgs('real'), { cwd: bundle, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr.toString());
    const pid = Number(readFileSync(join(bundle, 'shim.pid'), 'utf8'));
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      assert.ok(environ.includes('LCOW_SHIM_READY_FD=3'), 'started by the sh start');
      const task = containerd.task.v2;
      const clients = await Promise.all([0, 1, 2].map(() => TtrpcClient.connect(r.stdout.toString(), { dial: platformDial })));
      const replies = await Promise.all(clients.map(async (c) =>
        task.ConnectResponse.decode(await c.call('containerd.task.v2.Task', 'Connect', task.ConnectRequest.encode({ id: 'real' }).finish(), { timeoutMs: 20_000 }))));
      for (const c of clients) await c.close();
      assert.deepEqual(replies.map((x) => x.shim_pid), [pid, pid, pid]);
      // (start returned: sh's read of the ready pipe saw EOF, so serve closed its end before it served.)
    } finally {
      await stopServing(r.stdout.toString(), pid, 'real');
    }
  });
});

/** Once the daemon serves (Connect answered: its SIGTERM handler is in place), SIGTERM; waits until it is gone. */
async function stopServing(address: string, pid: number, id: string): Promise<void> {
  const c = await TtrpcClient.connect(address, { dial: platformDial });
  const task = containerd.task.v2;
  await c.call('containerd.task.v2.Task', 'Connect', task.ConnectRequest.encode({ id }).finish(), { timeoutMs: 20_000 });
  await c.close();
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 400 && running(pid); i++) await sleep(25);
}
