#!/usr/bin/env bash
# Gives a jlink runtime that holds hg.firecracker its `firecracker` launcher: a JDK 25 AOT cache from a
# training run of the front end (its API served and asked what clients ask before a VM starts; no VM is
# made, so no /dev/kvm is needed), and bin/firecracker, which starts the front end with that cache.
#   usage: firecracker-launcher.sh RUNTIME_DIR
# The launcher finds the runtime from its own path, so the runtime may be moved (into the boot image).
set -euo pipefail

RT=${1:?usage: firecracker-launcher.sh RUNTIME_DIR}
# Start-up first, for one VM per process: C1 only (as the boot image's hyper-gen), the serial collector
# (one small heap; its set-up is the cheapest), no perf-data file, and the cache without method profiles:
# replaying them had C1 compile ahead at start (measured: 35-40 ms more CPU to the first answer on 2 cores),
# while what runs hot later is compiled when it gets hot. Training and runs use the same options.
JVM_OPTIONS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData -XX:+UnlockDiagnosticVMOptions"
JVM_OPTIONS+=" -XX:-AOTRecordTraining -XX:-AOTReplayTraining"
MAIN=hg.firecracker/hg.firecracker.Main

say() { printf 'firecracker-launcher: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[[ -x $RT/bin/java ]] || die "$RT is not a Java runtime"
"$RT/bin/java" --list-modules | grep -q '^hg.firecracker@' || die "$RT does not hold the module hg.firecracker"
command -v curl >/dev/null || die "curl is missing (apt-get install curl): the training run asks the API with it"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
aot=$RT/lib/firecracker.aot
rm -f "$aot"
: >"$work/disk.img"
: >"$work/fc.log"
: >"$work/metrics.json"
# shellcheck disable=SC2086
"$RT/bin/java" $JVM_OPTIONS -XX:AOTCacheOutput="$aot" -m "$MAIN" --api-sock "$work/fc.sock" --id training \
  >"$work/out.log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 200); do [[ -S $work/fc.sock ]] && break; sleep 0.05; done
[[ -S $work/fc.sock ]] || { kill "$pid" 2>/dev/null; cat "$work/out.log" >&2; die "the training run did not open its socket"; }
req() { curl -s -o /dev/null --max-time 10 --unix-socket "$work/fc.sock" -H 'Content-Type: application/json' "$@"; }
for _ in 1 2 3; do
  req http://localhost/
  req http://localhost/version
  req http://localhost/machine-config
  req -X PUT -d '{"log_path":"'"$work/fc.log"'","level":"Info","show_level":true}' http://localhost/logger
  req -X PUT -d '{"metrics_path":"'"$work/metrics.json"'"}' http://localhost/metrics
  req -X PUT -d '{"vcpu_count":1,"mem_size_mib":128,"smt":false}' http://localhost/machine-config
  req -X PATCH -d '{"mem_size_mib":256}' http://localhost/machine-config
  req -X PUT -d '{"kernel_image_path":"'"$RT/bin/java"'","boot_args":"console=ttyS0"}' http://localhost/boot-source
  req -X PUT -d '{"drive_id":"rootfs","path_on_host":"'"$work/disk.img"'","is_root_device":true,"is_read_only":false}' \
    http://localhost/drives/rootfs
  req -X PUT -d '{"iface_id":"eth0","host_dev_name":"tap0","guest_mac":"06:00:ac:10:00:02"}' http://localhost/network-interfaces/eth0
  req -X PUT -d '{}' http://localhost/entropy
  req -X PUT -d '{"guest_cid":3,"uds_path":"/x"}' http://localhost/vsock
  req -X PUT -d '{"vcpu_count":' http://localhost/machine-config
  req -X PATCH -d '{"state":"Paused"}' http://localhost/vm
  req http://localhost/vm/config
done
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
[[ -s $aot ]] || { cat "$work/out.log" >&2; die "the training run made no AOT cache"; }

cat >"$RT/bin/firecracker" <<LAUNCHER
#!/bin/sh
# hyper-gen's Firecracker-compatible front end: one microVM per process (see its --help).
d=\$(dirname "\$(readlink -f "\$0")")
exec "\$d/java" $JVM_OPTIONS -XX:AOTCache="\$d/../lib/firecracker.aot" -m $MAIN "\$@"
LAUNCHER
chmod 755 "$RT/bin/firecracker"
say "$RT/bin/firecracker (AOT cache $(du -h "$aot" | cut -f1))"
