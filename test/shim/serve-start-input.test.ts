/**
 * serve's side of the sh `start`'s spooled stdin (src/shim/serve-start-input.ts): what it applies to serve's
 * environment (the same as Node's start gives the daemon: start-env.ts), the reply it appends to the
 * "listening" line, and when it ignores the variable.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { containerd } from '../../src/proto/index.js';
import type { ShimFlags } from '../../src/shim/flags.js';
import { checkShStartBundle, printfOctal, START_INPUT_ENV, takeStartInput } from '../../src/shim/serve-start-input.js';
import { daemonStartEnv } from '../../src/shim/start-env.js';
import { parseStartInput, startReply, taskApiVersionFor } from '../../src/shim/bootstrap.js';
import { anyBytes, bootstrapParamsBytes, runhcsOptionsBytes } from './support/bootstrap-bytes.js';

const RUNHCS = 'containerd.runhcs.v1.Options';
const flags = (debug = false): ShimFlags => ({
  action: 'serve', namespace: 'ns1', id: 't1', address: '/run/c.sock', publishBinary: '', bundle: '', socket: '', debug, rest: [],
});

describe('serve: the spooled stdin of the sh start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-start-input-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const spool = (bytes: Uint8Array): string => {
    const f = join(dir, `.start-stdin.${++n}`);
    writeFileSync(f, bytes);
    return f;
  };
  const bundle = (spec: boolean): string => {
    const b = join(dir, `bundle-${++n}`);
    execFileSync('mkdir', ['-p', b]);
    if (spec) writeFileSync(join(b, 'config.json'), '{}');
    return b;
  };

  it('printfOctal: three octal digits a byte, every value but zero; zero is refused', () => {
    assert.equal(printfOctal(Uint8Array.from([1, 8, 0o77, 0o100, 255])), '\\001\\010\\077\\100\\377');
    const all = Uint8Array.from({ length: 255 }, (_, i) => i + 1);
    const text = printfOctal(all);
    assert.match(text, /^(\\[0-3][0-7][0-7]){255}$/);
    // what printf(1) makes of it (dash, as the executable's sh runs it): the same bytes
    assert.deepEqual(execFileSync('dash', ['-c', 'printf "$1"', 'sh', text]), Buffer.from(all));
    assert.throws(() => printfOctal(Uint8Array.from([1, 0, 2])), /zero byte/);
  });

  it('BootstrapParams: the environment Node\'s start would give the daemon, the socket_dir, and the BootstrapResult as the reply', async () => {
    const ext = { typeUrl: RUNHCS, value: runhcsOptionsBytes({ logLevel: 'warn' }) };
    const bytes = bootstrapParamsBytes({ id: 't1', namespace: 'ns1', logLevel: -8, socketDir: '/run/s2', ttrpcAddress: '/run/c.sock.ttrpc', extensions: [ext] });
    const env: NodeJS.ProcessEnv = { [START_INPUT_ENV]: spool(bytes), LCOW_SHIM_READY_FD: '3', LCOW_SHIM_LOG_LEVEL: 'info', LCOW_SHIM_LOG_LEVEL_WARNING: 'stale', TTRPC_ADDRESS: '/old' };
    const reply = await takeStartInput(env, flags(), bundle(true));
    assert.ok(reply);
    const want = daemonStartEnv(parseStartInput(bytes, 't1', 'ns1'), false);
    assert.deepEqual(env, {
      LCOW_SHIM_READY_FD: '3', LCOW_SHIM_SOCKET_DIR: '/run/s2', TTRPC_ADDRESS: '/run/c.sock.ttrpc',
      LCOW_SHIM_LOG_LEVEL: 'warn', LCOW_SHIM_LOG_LEVEL_FROM: 'log_level',
      LCOW_SHIM_RUNTIME_OPTIONS: `${RUNHCS} ${Buffer.from(ext.value).toString('base64')}`,
    }, 'the variable is gone, the stale warning too');
    assert.equal(env.LCOW_SHIM_LOG_LEVEL, want.LCOW_SHIM_LOG_LEVEL, 'the one rule Node\'s start applies');
    const text = reply('unix:///run/s2/abc');
    assert.match(text, /^ (\\[0-7]{3})+$/);
    const printed = execFileSync('dash', ['-c', 'printf "$1"', 'sh', text.slice(1)]);
    const result = containerd.runtime.bootstrap.v1.BootstrapResult.decode(printed);
    assert.deepEqual([result.version, result.address, result.protocol], [2, 'unix:///run/s2/abc', 'ttrpc']);
    assert.deepEqual(printed, Buffer.from(containerd.runtime.bootstrap.v1.BootstrapResult.encode(result).finish()));
  });

  it('LCOW_SHIM_SOCKET_DIR set wins over socket_dir; a bundle without a spec (a Sandbox API sandbox) gets version 3, as from Node\'s start', async () => {
    const params = bootstrapParamsBytes({ id: 't1', namespace: 'ns1', socketDir: '/run/s2' });
    const version = async (b: string): Promise<number> => {
      const env: NodeJS.ProcessEnv = { [START_INPUT_ENV]: spool(params), LCOW_SHIM_READY_FD: '3', LCOW_SHIM_SOCKET_DIR: '/mine' };
      const reply = await takeStartInput(env, flags(), b);
      assert.equal(env.LCOW_SHIM_SOCKET_DIR, '/mine');
      const printed = execFileSync('dash', ['-c', 'printf "$1"', 'sh', (reply?.('unix:///mine/x') ?? '').slice(1)]);
      const result = containerd.runtime.bootstrap.v1.BootstrapResult.decode(printed);
      assert.deepEqual(printed, Buffer.from(startReply('unix:///mine/x', parseStartInput(params, 't1', 'ns1'), taskApiVersionFor(b)) as Uint8Array));
      return result.version ?? 0;
    };
    assert.equal(await version(bundle(true)), 2);
    assert.equal(await version(bundle(false)), 3);
    // a spec that is there but cannot be read is not a Sandbox API bundle: serve fails, Node's start decides
    const odd = bundle(false);
    execFileSync('mkdir', [join(odd, 'config.json')]);
    await assert.rejects(takeStartInput({ [START_INPUT_ENV]: spool(params), LCOW_SHIM_READY_FD: '3' }, flags(), odd), /EISDIR/);
    assert.throws(() => checkShStartBundle(odd, 't1'), /EISDIR/);
  });

  it('a legacy options Any: the daemon\'s level and options, and no reply (the plain address)', async () => {
    const env: NodeJS.ProcessEnv = { [START_INPUT_ENV]: spool(anyBytes(RUNHCS, runhcsOptionsBytes({ debug: true }))), LCOW_SHIM_READY_FD: '3' };
    const reply = await takeStartInput(env, flags(), bundle(true));
    assert.equal(reply?.('unix:///x'), '');
    assert.equal(env.LCOW_SHIM_LOG_LEVEL, 'debug');
    assert.equal(env.LCOW_SHIM_LOG_LEVEL_FROM, 'debug');
    assert.match(env.LCOW_SHIM_RUNTIME_OPTIONS ?? '', new RegExp(`^${RUNHCS.replaceAll('.', '\\.')} `));
    assert.equal(env.LCOW_SHIM_SOCKET_DIR, undefined);
  });

  it('ignored, and taken out of the environment, without the sh start\'s ready fd or beside an inherited socket', async () => {
    for (const extra of [{}, { LCOW_SHIM_READY_FD: '3', LCOW_SHIM_LISTEN_FD: '3' }]) {
      const env: NodeJS.ProcessEnv = { [START_INPUT_ENV]: spool(bootstrapParamsBytes({ id: 't1', namespace: 'ns1', logLevel: -8 })), ...extra };
      assert.equal(await takeStartInput(env, flags(), bundle(true)), undefined);
      assert.deepEqual(env, extra);
    }
  });

  it('the bundles sh may start serve for: a standalone task\'s and its own sandbox\'s; not a workload\'s, another id\'s or bad annotations', async () => {
    const specBundle = (annotations: Record<string, string> | undefined): string => {
      const b = bundle(false);
      writeFileSync(join(b, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', ...(annotations ? { annotations } : {}) }));
      return b;
    };
    const T = 'io.kubernetes.cri.container-type';
    const S = 'io.kubernetes.cri.sandbox-id';
    checkShStartBundle(specBundle(undefined), 't1');
    checkShStartBundle(specBundle({ 'io.kubernetes.cri.sandbox-name': 'p' }), 't1'); // CRI, but no role: standalone, as podRole
    checkShStartBundle(specBundle({ [T]: 'sandbox', [S]: 't1' }), 't1');
    for (const [annotations, msg] of [
      [{ [T]: 'container', [S]: 'pod' }, /joins its pod's daemon/],
      [{ [T]: 'sandbox', [S]: 'other' }, /must match for a sandbox: 't1' != 'other'/],
      [{ [T]: 'sandbox' }, /needs io\.kubernetes\.cri\.sandbox-id/],
      [{ [T]: 'podsandbox', [S]: 't1' }, /neither 'sandbox' nor 'container'/],
    ] as const) assert.throws(() => checkShStartBundle(specBundle(annotations), 't1'), msg);
    // and takeStartInput checks it whenever the sh start launched serve, spool or not
    const env: NodeJS.ProcessEnv = { LCOW_SHIM_READY_FD: '3' };
    await assert.rejects(takeStartInput(env, flags(), specBundle({ [T]: 'container', [S]: 'pod' })), /joins its pod's daemon/);
    assert.equal(await takeStartInput({}, flags(), specBundle({ [T]: 'container', [S]: 'pod' })), undefined, 'not the sh start: not checked');
  });

  it('an unreadable spool throws (serve then fails before it listens, and Node\'s start runs)', async () => {
    const env: NodeJS.ProcessEnv = { [START_INPUT_ENV]: join(dir, 'missing'), LCOW_SHIM_READY_FD: '3' };
    await assert.rejects(takeStartInput(env, flags(), bundle(true)), /ENOENT/);
    assert.equal(env[START_INPUT_ENV], undefined);
  });
});
