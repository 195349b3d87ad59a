/**
 * The shim's answer to DiagStacks' `stacks`. hcsshim returns every goroutine's stack; a Node process has one
 * JavaScript thread, so the equivalent is Node's diagnostic report: the current JavaScript and native stacks,
 * the libuv handles and the async resources keeping the process alive (pending I/O, timers, sockets). The
 * environment variables and the loaded libraries of the report are left out (they may hold secrets and say
 * nothing about a hang).
 */
interface ReportLike {
  header?: { nodejsVersion?: string; processId?: number; commandLine?: string[] };
  javascriptStack?: { message?: string; stack?: string[] };
  nativeStack?: Array<{ pc?: string; symbol?: string }>;
  libuv?: Array<{ type?: string; is_active?: boolean; is_referenced?: boolean; [k: string]: unknown }>;
}

export function hostStacks(): string {
  const report = process.report.getReport() as unknown as ReportLike;
  const lines: string[] = [];
  const h = report.header ?? {};
  lines.push(`pid ${h.processId ?? process.pid}, node ${h.nodejsVersion ?? process.version}, uptime ${process.uptime().toFixed(1)}s`);
  lines.push('', 'JavaScript stack:');
  for (const frame of report.javascriptStack?.stack ?? []) lines.push(`  ${frame.trim()}`);
  lines.push('', 'Native stack:');
  for (const f of report.nativeStack ?? []) lines.push(`  ${f.pc ?? ''} ${f.symbol ?? ''}`);
  lines.push('', 'Active resources:');
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  for (const [r, n] of [...counts].sort()) lines.push(`  ${r} × ${n}`);
  lines.push('', 'libuv handles:');
  for (const u of report.libuv ?? []) {
    if (u.is_active !== true) continue;
    const detail = Object.entries(u)
      .filter(([k]) => !['type', 'is_active', 'is_referenced', 'address'].includes(k))
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ');
    lines.push(`  ${u.type ?? '?'}${u.is_referenced === false ? ' (unref)' : ''} ${detail}`.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
