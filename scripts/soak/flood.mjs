#!/usr/bin/env node
// A ttrpc client that never reads: sends Connect requests to a shim's socket in batches of 100 until the
// shim stops taking them (a batch not written within 3 s) or --requests were sent, samples the shim's RSS,
// closes, samples again after 2 s. Prints one markdown table cell row: sent | RSS before | paused | after.
// Used by scripts/soak.sh. Frames are encoded by hand (ttrpc Request{service,method,payload}, Connect{id}).
// With --connections C instead: C connections each announce a 4 MiB - 1 request and send 64 KiB of it, then
// hang; prints: connections | RSS before | while open | 2 s after they closed.
// Usage: node scripts/soak/flood.mjs --socket PATH --pid SHIM_PID --id TASK_ID [--requests N | --connections C]
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const { values } = parseArgs({
  options: { socket: { type: 'string' }, pid: { type: 'string' }, id: { type: 'string' }, requests: { type: 'string', default: '400000' }, connections: { type: 'string' } },
});
if (!values.socket || !values.pid || !values.id) throw new Error('usage: flood.mjs --socket PATH --pid PID --id TASK_ID [--requests N]');
const total = Number(values.requests);
const rss = () => (Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${values.pid}/status`, 'utf8'))?.[1]) / 1024).toFixed(1);

const field = (no, bytes) => Buffer.concat([Buffer.from([(no << 3) | 2]), varint(bytes.length), bytes]);
function varint(n) {
  const out = [];
  while (n > 0x7f) out.push((n & 0x7f) | 0x80), (n >>>= 7);
  out.push(n);
  return Buffer.from(out);
}
const payload = field(1, Buffer.from(values.id));
const request = Buffer.concat([field(1, Buffer.from('containerd.task.v2.Task')), field(2, Buffer.from('Connect')), field(3, payload)]);
function frame(streamId) {
  const header = Buffer.alloc(10);
  header.writeUInt32BE(request.length, 0);
  header.writeUInt32BE(streamId, 4);
  header.writeUInt8(1, 8); // Request
  return Buffer.concat([header, request]);
}

async function connect() {
  const s = createConnection(values.socket);
  await new Promise((resolve, reject) => s.once('connect', resolve).once('error', reject));
  s.on('error', () => undefined);
  s.pause();
  return s;
}

if (values.connections !== undefined) {
  const before = rss();
  const header = Buffer.alloc(10);
  header.writeUInt32BE(4 * 1024 * 1024 - 1, 0);
  header.writeUInt32BE(1, 4);
  header.writeUInt8(1, 8);
  const socks = [];
  for (let i = 0; i < Number(values.connections); i++) {
    const s = await connect();
    s.write(Buffer.concat([header, Buffer.alloc(64 * 1024, 1)]));
    socks.push(s);
  }
  await sleep(2000);
  const open = rss();
  for (const s of socks) s.destroy();
  await sleep(2000);
  console.log(`${socks.length} | ${before} | ${open} | ${rss()}`);
  process.exit(0);
}

const before = rss();
const sock = createConnection(values.socket);
await new Promise((resolve, reject) => sock.once('connect', resolve).once('error', reject));
sock.on('error', () => undefined);
sock.pause(); // never reads a reply
let sent = 0;
let stalled = false;
for (let i = 0; i < total && !stalled; i += 100) {
  const buf = Buffer.concat(Array.from({ length: 100 }, (_, k) => frame(2 * (i + k) + 1)));
  let timer;
  const ok = await Promise.race([
    new Promise((resolve) => sock.write(buf, () => resolve(true))),
    new Promise((resolve) => (timer = setTimeout(() => resolve(false), 3000))),
  ]);
  clearTimeout(timer);
  if (ok) sent += 100;
  else stalled = true;
}
const paused = rss();
sock.destroy();
await sleep(2000);
console.log(`${stalled ? sent : `all ${sent} (never paused)`} | ${before} | ${paused} | ${rss()}`);
