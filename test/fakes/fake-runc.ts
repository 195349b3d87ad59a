/**
 * A fake `runc` for the guest's unit tier: a /bin/sh script written to a temp dir. It appends its argv to
 * <dir>/calls.log and emulates what the guest drives: `run` / `exec` write their own pid to --pid-file and
 * become `sh -c "$FAKE_RUNC_CMD"` (default `exec sleep 1000`; stdio passes straight through), `kill <id> <sig>`
 * signals the pid recorded for <id>, `pause`/`resume` succeed, `ps` prints it, `state` succeeds while it is recorded, `update` copies
 * the resources file next to the log, `delete` forgets the id. `run` also makes runc's state dir
 * `<--root>/<id>` (with a state.json) and `delete` removes it; with `FAKE_RUNC_RUN_CLEANS=1`, `run` waits for its
 * command instead of becoming it and then removes that dir itself, as a real foreground `runc run` does when
 * the init exits (the exit status passes through). `FAKE_RUNC_FAIL=<cmd>` makes <cmd> fail with a runc-style
 * error on stderr (and in the --log file).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SCRIPT = `#!/bin/sh
dir=$(dirname "$0")
echo "$*" >> "$dir/calls.log"
pidfile=""; log=""; res=""; cmd=""; root=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2;;
    --log-format|--bundle|--process) shift 2;;
    --log) log=$2; shift 2;;
    --pid-file) pidfile=$2; shift 2;;
    --resources) res=$2; shift 2;;
    --force|--all|--format) if [ "$1" = --format ]; then shift 2; else shift; fi;;
    run|exec|kill|delete|state|ps|update|pause|resume) if [ -z "$cmd" ]; then cmd=$1; shift; else break; fi;;
    *) break;;
  esac
done
id=$1
if [ "$FAKE_RUNC_FAIL" = "$cmd" ]; then
  [ -n "$log" ] && echo '{"level":"error","msg":"fake runc: '"$cmd"' failed"}' >> "$log"
  echo 'time="2024-01-01T00:00:00Z" level=error msg="fake runc: '"$cmd"' failed"' >&2
  exit 1
fi
case "$cmd" in
  run|exec)
    if [ "$cmd" = run ]; then
      echo $$ > "$dir/$id.pid"
      mkdir -p "$root/$id" && echo '{}' > "$root/$id/state.json"
    fi
    echo $$ > "$pidfile"
    if [ "$cmd" = run ] && [ "$FAKE_RUNC_RUN_CLEANS" = 1 ]; then
      sh -c "\${FAKE_RUNC_CMD:-exec sleep 1000}"; st=$?
      rm -rf "$root/$id"
      exit $st
    fi
    exec sh -c "\${FAKE_RUNC_CMD:-exec sleep 1000}";;
  kill) kill -"$2" "$(cat "$dir/$id.pid")";;
  ps) echo "[$(cat "$dir/$id.pid")]";;
  state) [ -f "$dir/$id.pid" ] && echo '{"id":"'"$id"'","pid":'"$(cat "$dir/$id.pid")"',"status":"running"}' || exit 1;;
  update) cp "$res" "$dir/$id.resources.json";;
  delete) rm -f "$dir/$id.pid"; rm -rf "\${root:?}/$id";;
esac
`;

export class FakeRunc {
  readonly binary: string;
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.binary = join(dir, 'runc');
    writeFileSync(this.binary, SCRIPT);
    chmodSync(this.binary, 0o755);
  }

  /** Every invocation's argv, one string each. */
  calls(): string[] {
    try {
      return readFileSync(join(this.dir, 'calls.log'), 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  }

  resources(id: string): unknown {
    return JSON.parse(readFileSync(join(this.dir, `${id}.resources.json`), 'utf8'));
  }
}
