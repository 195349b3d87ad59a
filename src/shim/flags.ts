import yargs from 'yargs';
import { invalidArgument } from '../errdefs/index.js';
import { SHIM_NAME, SHIM_VERSION } from './shim-name.js';

/** What containerd (or an operator) asked the binary to do. */
export type ShimAction = 'start' | 'delete' | 'serve' | 'uvm-doc' | 'diag' | 'create-scratch' | 'version' | 'help' | 'info';

/** containerd's shim flags (Go `flag` syntax: `-name value`, `--name value`, `-name=value`). */
export interface ShimFlags {
  readonly action: ShimAction;
  readonly namespace: string;
  readonly id: string;
  readonly address: string;
  readonly publishBinary: string;
  readonly bundle: string;
  readonly socket: string;
  readonly debug: boolean;
  /** Words after the action (e.g. the uvm-doc command's own flags). */
  readonly rest: readonly string[];
}

export { SHIM_NAME, SHIM_VERSION };

const ACTIONS = new Set<ShimAction>(['start', 'delete', 'serve', 'uvm-doc', 'diag', 'create-scratch']);

function parser(argv: readonly string[]) {
  return yargs([...argv])
    .scriptName(SHIM_NAME)
    .usage(
      `${SHIM_NAME}: containerd runtime v2 shim (io.containerd.lcow.v1) for Linux containers in a utility VM.\n\n` +
        `Usage: ${SHIM_NAME} -namespace NS -address ADDR -publish-binary BIN -id ID [-bundle DIR] [-debug] ACTION\n` +
        '  ACTION: start | delete | serve (internal) | uvm-doc (dry run: print the HCS document, see uvm-doc --help)\n' +
        '          | diag (hcsshim shimdiag: list | exec | stacks | tasks | share, see diag --help)\n' +
        '          | create-scratch --destpath FILE [--sizeGB N] (an ext4 scratch VHDX for lcow-layer mounts)',

    )
    // Go flag syntax: one dash for long names, no grouping of short options.
    .parserConfiguration({ 'short-option-groups': false, 'camel-case-expansion': false, 'halt-at-non-option': true })
    .option('namespace', { type: 'string', default: '', describe: 'containerd namespace' })
    .option('id', { type: 'string', default: '', describe: 'task id' })
    .option('address', { type: 'string', default: '', describe: "containerd's gRPC address" })
    .option('publish-binary', { type: 'string', default: '', describe: 'containerd binary (legacy event publishing)' })
    .option('bundle', { type: 'string', default: '', describe: 'bundle directory (default: the working directory)' })
    .option('socket', { type: 'string', default: '', describe: 'serve on this socket instead of fd 3' })
    .option('debug', { type: 'boolean', default: false, describe: 'debug logging' })
    .option('v', { type: 'boolean', describe: 'print the version' })
    .option('info', { type: 'boolean', describe: 'read runtime options from stdin, print a RuntimeInfo protobuf (containerd 2.x)' })
    .version(false)
    .option('version', { type: 'boolean', describe: 'print the version' })
    .help(false)
    .option('help', { alias: 'h', type: 'boolean', describe: 'show this help' })
    .strictOptions()
    .exitProcess(false)
    .fail((msg, err) => {
      throw invalidArgument(msg ?? err?.message ?? 'invalid arguments', err);
    });
}

/** Parses argv (without node and the script path). Unknown flags and actions are InvalidArgument errors. */
export function parseShimFlags(argv: readonly string[]): ShimFlags {
  const a = parser(argv).parseSync();
  const words = a._.map(String);
  const first = words[0];
  let action: ShimAction;
  if (a.help === true) action = 'help';
  else if (a.version === true || a.v === true) action = 'version';
  else if (a.info === true) action = 'info';
  else if (first === undefined) action = 'serve';
  else if (ACTIONS.has(first as ShimAction)) action = first as ShimAction;
  else throw invalidArgument(`unknown action '${first}': expected start, delete, serve, uvm-doc, diag or create-scratch`);
  return {
    action,
    namespace: a.namespace,
    id: a.id,
    address: a.address,
    publishBinary: a['publish-binary'],
    bundle: a.bundle,
    socket: a.socket,
    debug: a.debug,
    rest: words.slice(1),
  };
}

/** The help text (yargs-rendered). */
export async function shimHelp(): Promise<string> {
  return parser([]).getHelp();
}
