/**
 * How the runc shim reads containerd's stdio strings (pkg/process/io.go createIO): only stdout is parsed as a
 * URL, and its scheme decides the mode for all three streams.
 *
 *   ""  or no scheme or fifo://  → FIFOs (each path as given, a `fifo://` prefix stripped)
 *   file:///path                 → stdout and stderr appended to that file
 *   binary:///path?k=v&k2=v2     → a logging binary: `path k v k2 v2`
 *   anything else                → InvalidArgument `unknown STDIO scheme <scheme>`
 */
import { invalidArgument } from '../../errdefs/index.js';

export type StdioMode =
  | { readonly kind: 'fifo' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'binary'; readonly path: string; readonly args: readonly string[] };

/** Go's url.Parse scheme rule: a letter, then letters, digits, `+`, `-`, `.`, before the first `:`. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** The scheme of a stdio string, lower-cased ("" for a plain path). */
export function stdioScheme(value: string): string {
  return SCHEME.exec(value)?.[1]?.toLowerCase() ?? '';
}

/** A FIFO path: the string itself, without a `fifo://` prefix. */
export function fifoPath(value: string): string {
  return stdioScheme(value) === 'fifo' ? value.slice(value.indexOf(':') + 1).replace(/^\/\//, '') : value;
}

function parseUrl(stdout: string): URL {
  try {
    return new URL(stdout);
  } catch (err) {
    throw invalidArgument(`unable to parse stdout uri ${stdout}`, err);
  }
}

function urlPath(url: URL, stdout: string): string {
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch (err) {
    throw invalidArgument(`unable to parse stdout uri ${stdout}`, err);
  }
  if (!path.startsWith('/')) throw invalidArgument(`stdout uri ${stdout} needs an absolute path`);
  return path;
}

/**
 * The binary's arguments from the query: each key, then its first value (Go appends `vs[0]` even when it is
 * empty). Keys keep their first-appearance order (Go iterates a map: unordered).
 */
function binaryArgs(url: URL): string[] {
  const args: string[] = [];
  const seen = new Set<string>();
  for (const [key, value] of url.searchParams) {
    if (seen.has(key)) continue;
    seen.add(key);
    args.push(key, value);
  }
  return args;
}

/** Decides the stdio mode from the stdout string. */
export function parseStdioMode(stdout: string): StdioMode {
  const scheme = stdioScheme(stdout);
  switch (scheme) {
    case '':
    case 'fifo':
      return { kind: 'fifo' };
    case 'file': {
      const url = parseUrl(stdout);
      return { kind: 'file', path: urlPath(url, stdout) };
    }
    case 'binary': {
      const url = parseUrl(stdout);
      return { kind: 'binary', path: urlPath(url, stdout), args: binaryArgs(url) };
    }
    default:
      throw invalidArgument(`unknown STDIO scheme ${scheme}`);
  }
}
