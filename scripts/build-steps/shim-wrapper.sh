#!/bin/sh
":" /*
# containerd-shim-lcow-v1: the executable containerd runs (copied to <outDir>/bin by
# scripts/build-steps/30-code-cache.mjs). One file, read by two programs: sh runs the lines up to its `exec`;
# Node (which this file execs on itself, as a CommonJS module: bin/package.json) sees `":"` and a comment
# around all of the sh, then the two lines at the end, which run the code-cached bundle. So every action runs
# in Node with this file as argv[1], as before, except one: `delete` after a clean release, which containerd
# runs after every disconnect, even a clean one. Then there is nothing to clean (src/shim/released-marker.ts:
# the daemon left <bundle>/shim-released naming itself once the task was deleted, its VM exited and its rootfs
# released), and sh answers the DeleteResponse itself, without starting Node. It does so only when all of
# these hold, and otherwise hands the command line to Node unchanged (which then does what `delete` always
# does):
#   - containerd's own flags only (-namespace, -id, -address, -publish-binary, -bundle, -debug), `delete` last,
#     namespace and id given;
#   - shim-released and shim.pid name the same pid, and that process is gone (or a zombie awaiting its reaper)
#     within ~0.5 s: no daemon to stop;
#   - the socket in <bundle>/address is gone (the daemon removes it when it exits): nothing to remove;
#   - no <bundle>/panic.log (Node's delete echoes it as a warning).
# The reply is what src/shim/delete-response.ts encodes: exit_status 255 (field 2), exited_at now (field 3,
# a Timestamp {seconds = 1, nanos = 2}), pid 0 omitted; nothing on stderr.
# Must stay POSIX sh (dash): no subshell per byte, no tools but date(1), sleep(1) and readlink(1); and no
# star-slash anywhere in the sh part (it would end Node's comment).

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

released_delete() {
  ns= id= bundle=
  while [ $# -gt 1 ]; do
    case $1 in
      -namespace|--namespace) ns=$2 ;;
      -id|--id) id=$2 ;;
      -bundle|--bundle) bundle=$2 ;;
      -address|--address|-publish-binary|--publish-binary) ;;
      -debug|--debug) shift; continue ;;
      *) return 1 ;;
    esac
    [ $# -ge 3 ] || return 1
    shift 2
  done
  [ "$1" = delete ] && [ -n "$ns" ] && [ -n "$id" ] || return 1
  [ -n "$bundle" ] || bundle=$PWD
  first_line marker "$bundle/shim-released"
  first_line daemon "$bundle/shim.pid"
  case $marker in '' | *[!0-9]*) return 1 ;; esac
  [ "$marker" = "$daemon" ] || return 1
  # containerd runs delete as soon as the daemon's connection closes, while the daemon is still exiting (up
  # to ~50 ms: serve.ts): wait for it to go, as Node's delete would, at most ~0.5 s, then leave it to Node.
  tries=0
  while [ -e "/proc/$daemon" ]; do
    first_line stat "/proc/$daemon/stat"
    case $stat in '' | *') Z '*) break ;; esac
    [ "$tries" -lt 100 ] || return 1
    tries=$((tries + 1))
    sleep 0.005 || return 1
  done
  first_line address "$bundle/address"
  case $address in unix://?*) ;; *) return 1 ;; esac
  [ ! -e "${address#unix://}" ] || return 1
  [ ! -e "$bundle/panic.log" ] || return 1
  now=$(date +%s%N) || return 1
  case $now in '' | *[!0-9]*) return 1 ;; esac
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

case $# in 0) ;; *) eval "last=\${$#}"; [ "$last" = delete ] && released_delete "$@" && exit 0 ;; esac
self=$0
[ -L "$self" ] && self=$(readlink -f "$self")
case $self in *[/]*) ;; *) self=./$self ;; esac
exec node --no-warnings "$self" "$@"
*/
'use strict';
require('./code-cache.cjs').runCached(require('node:path').join(__dirname, 'containerd-shim-lcow-v1.cjs'));
