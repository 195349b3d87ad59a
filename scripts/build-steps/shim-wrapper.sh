#!/bin/sh
":" /*
# containerd-shim-lcow-v1: the executable containerd runs (copied to <outDir>/bin by
# scripts/build-steps/30-code-cache.mjs). One file, read by two programs: sh runs the lines up to its `exec`;
# Node (which this file execs on itself, as a CommonJS module: bin/package.json) sees `":"` and a comment
# around all of the sh, then the two lines at the end, which run the code-cached bundle. So every action runs
# in Node with this file as argv[1], as before, except two: containerd runs both for every container.
#
# `delete` after a clean release, which containerd runs after every disconnect, even a clean one. Then there
# is nothing to clean (src/shim/released-marker.ts: the daemon left <bundle>/shim-released naming itself once
# the task was deleted, its VM exited and its rootfs released), and sh answers the DeleteResponse itself,
# without starting Node. It does so only when all of these hold, and otherwise hands the command line to Node
# unchanged (which then does what `delete` always does):
#   - containerd's own flags only (-namespace, -id, -address, -publish-binary, -bundle, -debug), `delete` last,
#     namespace and id given;
#   - shim-released and shim.pid name the same pid: that daemon released the task (VM exited, rootfs released);
#   - the socket in <bundle>/address is gone within ~0.5 s: the daemon removes it in its exit path after
#     everything else (src/shim/serve.ts), so it is exiting on its own (or gone) and there is nothing to remove;
#     or it is the socket of a pod's daemon this task joined, which serves on, and nothing is at this task's
#     own socket path (joined_pod);
#   - no <bundle>/panic.log (Node's delete echoes it as a warning).
# The reply is what src/shim/delete-response.ts encodes, byte for byte what Node's delete prints: exit_status
# 255 (field 2), exited_at (field 3, a Timestamp {seconds = 1, nanos = 2}) the release time on the marker's
# second line (ms since the epoch), or now (date(1)) for a marker without one; pid 0 omitted; nothing on stderr.
#
# `start` of a standalone task, a CRI pod's sandbox or a Sandbox API sandbox (any containerd: stdin empty, runtime
# options, or 2.3+'s BootstrapParams). Node's `start`
# (src/shim/manager.ts) is a whole Node process on the critical path before `serve` can begin; here sh starts
# `serve` itself, detached as Node's start does (own session via setsid(1), stdio /dev/null, cwd the bundle,
# the environment Node's start gives it: log level from -debug by src/shim/log-level.ts's rule, TTRPC_ADDRESS
# inherited), with a pipe as fd 3 (LCOW_SHIM_READY_FD), and without -socket: `serve` computes its socket path
# itself, as Node's start does (src/transport/shim-address.ts), listens there first thing
# (src/shim/serve-listener.ts: temporary name, listen, link into place: an existing path fails), writes
# <bundle>/address and shim.pid (temporary file + rename, as Node's start), then writes
# "listening <pid> unix://<path>" to the pipe and closes it; a `serve` that cannot do all of that says nothing,
# leaves none of it and exits. sh waits for that line: containerd 2.x dials the printed address once and does
# not retry a missing socket, so it must exist before the address is printed. sh checks the line (pid digits,
# the address unix://<socket dir>/<64 hex digits>) and prints the address, no newline. A non-empty stdin is
# read to EOF into <bundle>/.start-stdin.<pid>, named to `serve` in LCOW_SHIM_START_INPUT: serve decodes it as
# Node's start does (src/shim/serve-start-input.ts: containerd's socket_dir, log level and ttrpc address, the
# runtime options) before it listens, and for BootstrapParams appends the BootstrapResult to its line as printf
# octal escapes, which sh prints instead of the address (the socket dir is then serve's to check: sh checks the
# address is absolute, clean and of the characters below). sh removes the file once serve has spoken. With -debug, `serve`
# writes the "shim start" milestone to the log FIFO, stamped with its own process start (a few ms after this
# script's). sh takes this path only when all hold:
#   - containerd's own flags only, each once, `-name value` with a value not starting with '-', `start` last;
#   - namespace and id made of [A-Za-z0-9._-] (containerd's rule is stricter), neither `.` nor `..`; -address
#     absolute and clean (no //, /./, /../, trailing / or /. or /..), so filepath.Join(address, ns, id) is
#     "$address/$ns/$id"; the socket dir (LCOW_SHIM_SOCKET_DIR or /run/containerd/s) absolute, clean, of
#     [A-Za-z0-9._/+@-], and short enough for sun_path with the socket's name and serve's temporary suffix
#     (serve checks both again, and fails on anything at the path: Node's start then probes it);
#   - the bundle (-bundle, else the physical cwd) an absolute directory, with a readable config.json that does
#     not mention io.kubernetes.cri., or names the type "sandbox" (a pod's sandbox: serve checks the annotations
#     as Node's start would, and leaves a bundle that is not a sandbox of this id to it), or names the type
#     "container" and its pod's id: then sh joins the pod's daemon itself (join_pod_start) when it can be sure,
#     and does not start serve; or with no config.json at all (a Sandbox API sandbox: containerd 2.x's "shim"
#     sandboxer passes no spec; serve announces Task API 3 for it, as Node's start does);
#   - node, setsid and grep found;
#   - stdin, when a pipe, file or socket, read to EOF (anything else, e.g. /dev/null or a terminal, is what
#     Node's start does not read either); a failed read gives Node's start what was read, as its stdin.
# If `serve` exits without the line (e.g. it could not listen or write into the bundle, or containerd's
# socket_dir is not one sh would print), Node's start runs instead, with the spooled stdin (already unlinked)
# as its own, and reports why.
# Must stay POSIX sh (dash): no subshell per byte; tools: date(1) (delete, older markers), sleep(1), grep(1),
# sha256sum(1) (joined pods: their delete and start), cat(1), setsid(1), rm(1), kill; and no star-slash anywhere in the sh part
# (it would end Node's comment).

# glibc malloc with a fixed mmap threshold (its default, 128 KiB), for every Node this file starts and what
# they start (the daemon, the emulator's guest agent): by default glibc raises the threshold to the size of
# each large block freed, so later large blocks come from the brk heap and stay resident after they are
# freed. Fixed, they are mmapped and returned to the kernel on free: the daemon with one container holds
# ~0.25 MB less anonymous memory (issue 17). A value the environment already sets is kept.
[ -n "${MALLOC_MMAP_THRESHOLD_+set}" ] || { MALLOC_MMAP_THRESHOLD_=131072; export MALLOC_MMAP_THRESHOLD_; }

# Appends the varint of $1 to $bytes as printf octal escapes, and its length to $len.
varint() {
  v=$1
  while [ "$v" -ge 128 ]; do
    b=$(((v % 128) + 128))
    bytes="$bytes\\$((b / 64))$((b / 8 % 8))$((b % 8))"
    len=$((len + 1))
    v=$((v / 128))
  done
  bytes="$bytes\\$((v / 64))$((v / 8 % 8))$((v % 8))"
  len=$((len + 1))
}

# Reads the first line of file $2 into variable $1 (empty when missing or unreadable); no output.
first_line() {
  eval "$1="
  [ -f "$2" ] && [ -r "$2" ] || return 0
  { IFS= read -r "$1" || :; } < "$2"
}

# True when the socket in <bundle>/address ($sock) is not this task's own (the sha256 name `start` gives it,
# src/transport/shim-address.ts) and nothing is at this task's own path, in the socket dir of $sock nor in
# LCOW_SHIM_SOCKET_DIR (else /run/containerd/s): the task joined a pod's shim (src/shim/join-pod.ts wrote the
# pod daemon's pid and address), which serves on. Node's delete leaves that daemon and its socket alone (they
# are not this task's) and removes only this task's own path, which is not there. False (Node decides) when
# -address, the namespace or the id is one whose socket name sh cannot compute as Node does.
joined_pod() {
  clean_abs "$caddr" || return 1
  for v in "$ns" "$id"; do
    case $v in '' | . | .. | *[!A-Za-z0-9._-]*) return 1 ;; esac
  done
  own=$(printf '%s' "$caddr/$ns/$id" | sha256sum) || return 1
  own=${own%% *}
  case $own in *[!0-9a-f]*) return 1 ;; esac
  [ ${#own} -eq 64 ] && [ "${sock##*[/]}" != "$own" ] || return 1
  for p in "${sock%/*}/$own" "${LCOW_SHIM_SOCKET_DIR:-/run/containerd/s}/$own"; do
    [ ! -e "$p" ] && [ ! -L "$p" ] || return 1
  done
}

released_delete() {
  ns= id= bundle= caddr=
  while [ $# -gt 1 ]; do
    case $1 in
      -namespace|--namespace) ns=$2 ;;
      -id|--id) id=$2 ;;
      -bundle|--bundle) bundle=$2 ;;
      -address|--address) caddr=$2 ;;
      -publish-binary|--publish-binary) ;;
      -debug|--debug) shift; continue ;;
      *) return 1 ;;
    esac
    [ $# -ge 3 ] || return 1
    shift 2
  done
  [ "$1" = delete ] && [ -n "$ns" ] && [ -n "$id" ] || return 1
  [ -n "$bundle" ] || bundle=$PWD
  # The marker: the daemon's pid, then when it released the task (ms since the epoch; released-marker.ts).
  marker= released_at=
  if [ -f "$bundle/shim-released" ] && [ -r "$bundle/shim-released" ]; then
    { IFS= read -r marker && IFS= read -r released_at || :; } < "$bundle/shim-released"
  fi
  first_line daemon "$bundle/shim.pid"
  case $marker in '' | *[!0-9]*) return 1 ;; esac
  [ "$marker" = "$daemon" ] || return 1
  first_line address "$bundle/address"
  case $address in unix://?*) ;; *) return 1 ;; esac
  sock=${address#unix://}
  # containerd runs delete as soon as the daemon's connection closes, while the daemon is still exiting. The
  # daemon removes its socket in its exit path once everything else is released (serve.ts), and from then on
  # only ends its connections and its process. Wait for the socket to go (a short spin: it usually goes
  # within ~2 ms of the disconnect; then 5 ms sleeps), at most ~0.5 s; a daemon that is gone, or a zombie,
  # with its socket still there leaves it to Node. Not for the process to be gone: what is left of it is
  # Node's and the kernel's teardown, which neither containerd nor runc-v2's nor hcsshim's delete waits for.
  spins=0 tries=0
  while [ -e "$sock" ]; do
    if [ "$spins" -lt 300 ]; then spins=$((spins + 1)); continue; fi
    if [ "$tries" -eq 0 ] && joined_pod; then break; fi
    first_line stat "/proc/$daemon/stat"
    case $stat in '' | *') Z '*) return 1 ;; esac
    [ "$tries" -lt 100 ] || return 1
    tries=$((tries + 1))
    sleep 0.005 || return 1
  done
  [ ! -e "$bundle/panic.log" ] || return 1
  # exited_at: the release time the daemon recorded (Node's delete reports the same); a marker without one
  # (an older daemon's) gets now, from date(1), as Node's delete does then.
  case $released_at in
    [1-9][0-9][0-9][0-9]*) case $released_at in *[!0-9]*) released_at= ;; esac ;;
    *) released_at= ;;
  esac
  [ ${#released_at} -le 16 ] || released_at=
  if [ -n "$released_at" ]; then
    now=${released_at}000000
  else
    now=$(date +%s%N) || return 1
    case $now in '' | *[!0-9]*) return 1 ;; esac
  fi
  secs=${now%?????????}
  nanos=${now#"$secs"}
  while [ "${nanos#0}" != "$nanos" ]; do nanos=${nanos#0}; done
  bytes= len=0
  bytes='\010' len=1 # Timestamp.seconds (field 1, varint)
  varint "$secs"
  if [ -n "$nanos" ]; then
    bytes="$bytes\\020" len=$((len + 1)) # Timestamp.nanos (field 2, varint)
    varint "$nanos"
  fi
  ts=$bytes tslen=$len
  bytes= len=0
  varint "$tslen"
  # exit_status 255 (field 2), then exited_at (field 3, length-delimited)
  printf "\\020\\377\\001\\032$bytes$ts"
}

# The executable's own path, as it was run, into $self. containerd may run it through a symlink (install.sh,
# ab.sh): Node resolves the main module's symlinks itself (its real directory holds code-cache.cjs and
# bin/package.json), so no readlink(1) runs here.
resolve_self() {
  self=$0
  case $self in *[/]*) ;; *) self=./$self ;; esac
}

# True when $1 is an absolute path that filepath.Join and path.join leave as it is.
clean_abs() {
  case $1 in /*) ;; *) return 1 ;; esac
  case $1 in *[/] | *[/]. | *[/].. | *[/][/]* | *[/].[/]* | *[/]..[/]*) return 1 ;; esac
}

# The pod role of a CRI bundle from its spec's two annotations (containerd writes config.json compactly:
# "key":"value"), each at most once and without escapes: type "sandbox" leaves $join empty (serve checks the
# rest); type "container" with a sandbox id of [A-Za-z0-9._-] other than this task's sets $join to that id.
# Anything else is false: Node's start decides (podRole names what is wrong).
cri_role() {
  roles=$(grep -oE '"io\.kubernetes\.cri\.(container-type|sandbox-id)":"[^"\\]*"' "$bundle/config.json") || return 1
  type= sandbox= ntype=0 nsandbox=0 nl='
'
  while [ -n "$roles" ]; do
    line=${roles%%"$nl"*}
    case $roles in *"$nl"*) roles=${roles#*"$nl"} ;; *) roles= ;; esac
    case $line in
      '"io.kubernetes.cri.container-type":"'*) type=${line#*:\"} ntype=$((ntype + 1)) ;;
      '"io.kubernetes.cri.sandbox-id":"'*) sandbox=${line#*:\"} nsandbox=$((nsandbox + 1)) ;;
    esac
  done
  type=${type%\"} sandbox=${sandbox%\"}
  [ "$ntype" -eq 1 ] && [ "$nsandbox" -le 1 ] || return 1
  case $type in
    sandbox) return 0 ;;
    container) ;;
    *) return 1 ;;
  esac
  case $sandbox in '' | . | .. | *[!A-Za-z0-9._-]*) return 1 ;; esac
  [ "$sandbox" != "$id" ] || return 1
  join=$sandbox
}

# A pod's container joins its pod's daemon, as Node's start does (src/shim/join-pod.ts), when sh can be sure of
# it: the pod's bundle beside ours (containerd keeps a namespace's task bundles in one directory) names in
# `address` a socket whose name is the pod's (sha256 of "<containerd address>/<namespace>/<pod id>", as
# src/transport/shim-address.ts), in the socket dir (LCOW_SHIM_SOCKET_DIR, else /run/containerd/s; with a
# non-empty stdin, containerd 2.3+'s socket_dir, which only Node decodes, so the pod's own), that is there and
# a socket, and in `shim.pid` a process that runs (not a zombie). Node's start also asks that daemon over
# ttrpc (Connect) for its pid: sh takes the pid the pod's start recorded. Writes shim.pid and address into our
# bundle and prints the plain address, which containerd 2.x also reads (core/runtime/v2/shim.go
# parseStartResponse: not a protobuf, not JSON, so the address, version 2, ttrpc). False, leaving nothing:
# Node's start runs (and reports what is wrong).
join_pod_start() {
  pod=${bundle%/*}/$join
  first_line paddr "$pod/address"
  first_line ppid "$pod/shim.pid"
  case $ppid in '' | 0 | *[!0-9]*) return 1 ;; esac
  case $paddr in unix:///*) ;; *) return 1 ;; esac
  psock=${paddr#unix://}
  clean_abs "$psock" || return 1
  case $psock in *[!A-Za-z0-9._/+@-]*) return 1 ;; esac
  if [ -n "${LCOW_SHIM_SOCKET_DIR:-}" ] || [ -z "$input" ]; then
    [ "${psock%/*}" = "${LCOW_SHIM_SOCKET_DIR:-/run/containerd/s}" ] || return 1
  fi
  [ -S "$psock" ] || return 1
  sum=$(printf '%s' "$address/$ns/$join" | sha256sum) || return 1
  [ "${psock##*[/]}" = "${sum%% *}" ] || return 1
  first_line stat "/proc/$ppid/stat"
  case $stat in '' | *') Z '*) return 1 ;; esac
  if ! { printf '%s' "$ppid" > "$bundle/shim.pid" && printf '%s' "$paddr" > "$bundle/address"; } 2> /dev/null; then
    rm -f "$bundle/shim.pid" "$bundle/address"
    return 1
  fi
  printf '%s' "$paddr"
}

fast_start() {
  ns= id= bundle= address= publish= debug= seen=' '
  while [ $# -gt 1 ]; do
    case $1 in
      -debug|--debug) flag=debug ;;
      -namespace|--namespace|-id|--id|-bundle|--bundle|-address|--address|-publish-binary|--publish-binary)
        flag=${1#-}; flag=${flag#-} ;;
      *) return 1 ;;
    esac
    case $seen in *" $flag "*) return 1 ;; esac
    seen="$seen$flag "
    if [ "$flag" = debug ]; then debug=1; shift; continue; fi
    [ $# -ge 3 ] || return 1
    case $2 in -*) return 1 ;; esac
    case $flag in
      namespace) ns=$2 ;;
      id) id=$2 ;;
      bundle) bundle=$2 ;;
      address) address=$2 ;;
      publish-binary) publish=$2 ;;
    esac
    shift 2
  done
  [ "$1" = start ] || return 1
  for v in "$ns" "$id"; do
    case $v in '' | . | .. | *[!A-Za-z0-9._-]*) return 1 ;; esac
  done
  clean_abs "$address" || return 1
  dir=${LCOW_SHIM_SOCKET_DIR:-/run/containerd/s}
  clean_abs "$dir" || return 1
  case $dir in *[!A-Za-z0-9._/+@-]*) return 1 ;; esac
  # sun_path holds 107 bytes; serve binds "<dir>/<64 hex digits>.<its pid>" (up to 7 digits) first
  [ $((${#dir} + 65)) -le 99 ] || return 1
  [ -n "$bundle" ] || { cd -P . && bundle=$PWD; } || return 1
  case $bundle in /*) ;; *) return 1 ;; esac
  [ -d "$bundle" ] || return 1
  command -v node >/dev/null && command -v setsid >/dev/null || return 1
  join=
  if [ -e "$bundle/config.json" ] || [ -L "$bundle/config.json" ]; then
    [ -f "$bundle/config.json" ] && [ -r "$bundle/config.json" ] || return 1
    # A CRI bundle (src/sandbox/pod-role.ts): a pod's sandbox gets a daemon of its own (serve checks its
    # annotations as Node's start would: podRole); a pod's container joins its pod's daemon (join_pod_start).
    grep -qF io.kubernetes.cri. "$bundle/config.json"
    case $? in
      0) cri_role || return 1 ;;
      1) ;;
      *) return 1 ;;
    esac
  fi
  # No spec at all: the bundle containerd 2.x's shim sandbox controller starts a Sandbox API sandbox's shim
  # in (src/shim/bootstrap.ts taskApiVersionFor); serve checks it is still without one and announces 3.
  input=
  if [ -p /dev/stdin ] || [ -f /dev/stdin ] || [ -S /dev/stdin ]; then
    spool=$bundle/.start-stdin.$$
    (umask 077 && exec cat > "$spool") 2> /dev/null
    read_status=$?
    [ -e "$spool" ] || return 1 # not created: stdin was not read, Node's start reads it
    if [ "$read_status" -ne 0 ]; then
      # A failed read: Node's start gets exactly what was read.
      exec 0< "$spool"
      rm -f "$spool"
      return 1
    fi
    # Options or BootstrapParams: serve decodes them (src/shim/serve-start-input.ts).
    if [ -s "$spool" ]; then input=$spool; else rm -f "$spool"; fi
  fi
  if [ -n "$join" ]; then
    if join_pod_start; then
      [ -z "$input" ] || rm -f "$input"
      exit 0
    fi
    if [ -n "$input" ]; then
      exec 0< "$input"
      rm -f "$input"
    fi
    return 1
  fi
  level=info from=default
  [ -z "$debug" ] || level=debug from=debug
  ready=$(
    cd "$bundle" || exit 1
    unset LCOW_SHIM_LISTEN_FD LCOW_SHIM_LOG_LEVEL_WARNING LCOW_SHIM_START_INPUT
    [ -z "$input" ] || export LCOW_SHIM_START_INPUT="$input"
    export LCOW_SHIM_READY_FD=3 LCOW_SHIM_LOG_LEVEL="$level" LCOW_SHIM_LOG_LEVEL_FROM="$from"
    setsid node --no-warnings "$self" -namespace "$ns" -id "$id" -address "$address" -publish-binary "$publish" \
      -bundle "$bundle" ${debug:+-debug} serve 3>&1 > /dev/null 2>&1 < /dev/null &
  )
  # Nothing, or anything but "listening ": serve wrote no file and is gone; Node's start runs instead, with
  # containerd's stdin if there was one.
  case $ready in
    "listening "*) [ -z "$input" ] || rm -f "$input" ;;
    *)
      if [ -n "$input" ]; then
        exec 0< "$input"
        rm -f "$input"
      fi
      return 1
      ;;
  esac
  daemon=${ready#listening }
  printed=${daemon#* }
  daemon=${daemon%% *}
  reply=
  if [ -n "$input" ]; then
    # The socket dir may be containerd's socket_dir (serve checked it is clean and of the characters above),
    # and after the address may come the BootstrapResult to print, as printf octal escapes (three digits each).
    case $printed in *" "*) reply=${printed#* } printed=${printed%% *} ;; esac
    want="unix://<socket dir>/<sha256>[ <reply>]"
    sum=${printed##*[/]}
    case ${printed#unix://} in /*) clean_abs "${printed#unix://}" || sum= ;; *) sum= ;; esac
    case ${printed#unix://} in *[!A-Za-z0-9._/+@-]*) sum= ;; esac
    case $reply in *[!0-7\\]* | *\\000*) sum= ;; esac
  else
    want="unix://$dir/<sha256>"
    sum=${printed#"unix://$dir/"}
    case $printed in "unix://$dir/"*) ;; *) sum= ;; esac
  fi
  case $daemon in '' | *[!0-9]*) daemon= ;; esac
  case $sum in *[!0-9a-f]*) sum= ;; esac
  if [ -z "$daemon" ] || [ ${#sum} -ne 64 ]; then
    [ -z "$daemon" ] || kill "$daemon" 2> /dev/null
    echo "containerd-shim-lcow-v1 start: serve said \"$ready\", not \"listening <pid> $want\"" >&2
    exit 1
  fi
  if [ -n "$reply" ]; then printf "$reply"; else printf '%s' "$printed"; fi
  exit 0
}

case $# in
  0) ;;
  *)
    eval "last=\${$#}"
    case $last in
      delete) released_delete "$@" && exit 0 ;;
      start) resolve_self; fast_start "$@" ;;
    esac
    ;;
esac
[ -n "${self:-}" ] || resolve_self
exec node --no-warnings "$self" "$@"
*/
'use strict';
require('./code-cache.cjs').runCached(require('node:path').join(__dirname, 'containerd-shim-lcow-v1.cjs'));
