/**
 * Pod benchmark: the extra shim daemon RSS per additional container in a pod (target ≤ 3 MB), ours
 * (io.containerd.lcow.v1: one shim + one utility VM per pod) side by side with containerd-shim-runc-v2
 * (which also serves a whole pod from one shim), through containerd's CRI on one private containerd.
 * For each runtime: RunPodSandbox, then K workload containers (`sleep`) one at a time; after each, the
 * shim daemon's VmRSS (settled: the median of 5 samples 100 ms apart). The slope of a least-squares fit
 * over the counts 1..K is the extra RSS per container. Run through scripts/bench-pod.sh.
 * Writes results/bench-pod.json and results/bench-pod.md; prints the table.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeBusyboxRootfs, PrivateContainerd, REPO } from '../test/integration/harness.js';
import { CriClient, criApiProto } from '../test/cri/cri-client.js';
import { CRI_HANDLER, startCriContainerd } from '../test/cri/cri-containerd.js';

type Json = Record<string, any>; // CRI replies, read field by field

const K = Number.parseInt(process.env.BENCH_POD_CONTAINERS ?? '10', 10);
const NS = { network: 'NODE', pid: 'POD', ipc: 'POD' };

function rssMB(pid: string): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function settledRss(pid: string): Promise<number> {
  const s: number[] = [];
  for (let i = 0; i < 5; i++) {
    s.push(rssMB(pid));
    await sleep(100);
  }
  return s.sort((a, b) => a - b)[2]!;
}

/** The shim daemons of this containerd whose command line names `binary`. */
function shimPids(ctd: PrivateContainerd, binary: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return args.some((a) => a.includes(binary)) && args.includes(ctd.sock) && !args.includes('start') && !args.includes('delete');
    } catch {
      return false;
    }
  });
}

function slope(ys: number[]): number {
  const xs = ys.map((_, i) => i + 1);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i]! - my);
    den += (x - mx) ** 2;
  });
  return den === 0 ? 0 : num / den;
}

async function measure(cri: CriClient, ctd: PrivateContainerd, handler: string, shimBinary: string): Promise<number[]> {
  const podConfig = {
    metadata: { name: `bench-${handler}`, uid: `uid-${handler}`, namespace: 'default', attempt: 0 },
    hostname: '', log_directory: join(ctd.tmp, `logs-${handler}`), linux: { security_context: { namespace_options: NS } },
  };
  const podId: string = (await cri.call<Json>('RunPodSandbox', { config: podConfig, runtime_handler: handler })).pod_sandbox_id;
  const rss: number[] = [];
  try {
    for (let i = 1; i <= K; i++) {
      const config = {
        metadata: { name: `c${i}`, attempt: 0 }, image: { image: 'docker.io/lcowtest/busybox:1' }, command: ['/bin/sleep', '3600'],
        log_path: `c${i}.log`, linux: { security_context: { namespace_options: NS } },
      };
      const c: Json = await cri.call('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: podConfig });
      await cri.call('StartContainer', { container_id: c.container_id });
      const pids = shimPids(ctd, shimBinary);
      if (pids.length !== 1) throw new Error(`${handler}: want one shim daemon for the pod, found ${pids.length}`);
      rss.push(await settledRss(pids[0]!));
    }
  } finally {
    await cri.call('StopPodSandbox', { pod_sandbox_id: podId }).catch((e: Error) => console.error(`stop ${handler}: ${e.message}`));
    await cri.call('RemovePodSandbox', { pod_sandbox_id: podId }).catch((e: Error) => console.error(`remove ${handler}: ${e.message}`));
  }
  return rss;
}

async function main(): Promise<void> {
  const ctd = new PrivateContainerd();
  const extra = [
    `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]`,
    `  runtime_type = "io.containerd.runc.v2"`,
  ];
  try {
    const proto = criApiProto(REPO);
    const pauseRoot = join(ctd.tmp, 'pause-rootfs');
    mkdirSync(join(pauseRoot, 'bin'), { recursive: true });
    copyFileSync('/bin/busybox', join(pauseRoot, 'bin', 'busybox'));
    await startCriContainerd(
      ctd, 'containerd',
      { ref: 'docker.io/lcowtest/pause:1', rootfs: pauseRoot, config: { Entrypoint: ['/bin/busybox', 'sleep', '2147483'] } },
      [{ ref: 'docker.io/lcowtest/busybox:1', rootfs: makeBusyboxRootfs(join(ctd.tmp, 'busybox-rootfs')), config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] } }],
      extra,
    );
    const cri = new CriClient(proto, ctd.sock);
    const lcow = await measure(cri, ctd, CRI_HANDLER, 'containerd-shim-lcow-v1');
    const runc = await measure(cri, ctd, 'runc', 'containerd-shim-runc-v2');
    cri.close();
    const result = {
      date: new Date().toISOString(), containers: K, node: process.version,
      lcow: { rssMB: lcow, perContainerMB: slope(lcow) }, runcV2: { rssMB: runc, perContainerMB: slope(runc) },
    };
    const f = (n: number): string => n.toFixed(2);
    const md = [
      `Pod shim RSS (MB) after each of ${K} workload containers in one pod (sleep), CRI on containerd; ${result.date}`,
      '',
      '| runtime | 1 container | ' + `${K} containers | extra per container (slope) |`,
      '| --- | ---: | ---: | ---: |',
      `| lcow (ours) | ${f(lcow[0]!)} | ${f(lcow.at(-1)!)} | ${f(result.lcow.perContainerMB)} |`,
      `| runc-v2 | ${f(runc[0]!)} | ${f(runc.at(-1)!)} | ${f(result.runcV2.perContainerMB)} |`,
      '',
      `RSS after each container (MB), lcow: ${lcow.map(f).join(', ')}`,
      `RSS after each container (MB), runc-v2: ${runc.map(f).join(', ')}`,
      '',
      `Target: ≤ 3 MB per additional container (ours: ${f(result.lcow.perContainerMB)} MB). RSS moves with V8's heap and`,
      'garbage collection by a few MB between samples; a slope near or below 0 means the per-container cost is below that noise.',
    ].join('\n');
    mkdirSync(join(REPO, 'results'), { recursive: true });
    writeFileSync(join(REPO, 'results', 'bench-pod.json'), JSON.stringify(result, null, 2) + '\n');
    writeFileSync(join(REPO, 'results', 'bench-pod.md'), md + '\n');
    console.log(md);
  } finally {
    await ctd.stop();
  }
}

await main();
