#!/usr/bin/env bash
# Assembles the hyper-gen boot image in build/boot-image/:
#   bzImage         the host kernel (kernel-src/build.sh -> build/kernels/host-bzImage)
#   initramfs.img   gzip'd cpio newc: a jlink runtime of hg.shell and the modules below it,
#                   busybox with its applet links, /init, and the embedded default guest
#                   kernel (and busybox rootfs image when hg-imagetools can make one)
#   grub.cfg        a GRUB menu entry for installing the pair under /boot/hyper-gen/
# Needs the module jars in build/lib (./hg build puts them there) and the kernels.
# Skips all work when none of its inputs changed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${HG_ROOT:-$(cd "$HERE/.." && pwd)}
LIB=$ROOT/build/lib
KERNELS=${HG_KERNELS:-$ROOT/build/kernels}
OUT=$ROOT/build/boot-image
WORK=$ROOT/build/boot-image.work
BUSYBOX=${HG_BUSYBOX:-/bin/busybox}
# How the runtime starts fast: "aot" (JDK 25 AOT cache from a training run) or "cds" (jlink's
# default CDS archive only).
START=${HG_BOOT_START:-aot}
# JVM options of the hyper-gen launcher. C1 only: in the nested rig (QEMU TCG) C2's compile
# threads doubled the CPU the shell needs to start (measured: 17-21 vs 8-11 QEMU CPU-seconds from
# /init to the prompt), while the VMM's Java paths (exit dispatch, virtio queues) are dominated by
# the KVM exits themselves. The serial collector with a heap that starts at 8 MiB and grows on demand:
# one process holds every VM, and with 50 idle guests G1 (the JDK's default here) let the heap and its own
# tables touch 179 MiB where this touches 103 (the VMM allocates little per exit, so its pauses stay short).
# The old generation is collected only once full, so what a process touches is about its size: 8 MiB
# leaves 5 for it, where 50 booted guests keep some 4 MiB live (16 MiB left 11, all of it touched in time).
# C1 compiles a method after a twentieth of the JDK's default calls: the VMM's paths run tens of times (a
# create, a device reset, a shell command), not thousands, and until compiled they run in the interpreter
# (measured on the machine itself: the 31st create of a process 1.8 ms of CPU against 3.0 on the defaults).
# The C heap is trimmed every 5 s: glibc keeps what was freed (the compiler's arenas, a create's buffers)
# in its arenas: with 50 guests booted in the nested rig, 10 MiB of the 95 the process held for itself
# (a trim costs well under a millisecond).
# Each thread's stack is touched as deep as the JVM's shadow zone (20 pages by default, banged on method entry
# so native code has room): with 50 guests the VMM has 100 threads of its own, and 10 pages (the least the
# JVM allows) left 44 KiB resident a stack where 20 left 79 (the VMM's own memory per VM 1,518 to 1,435 KiB).
# HG_BOOT_JVM_OPTIONS= (empty) restores the JDK's defaults.
# The options are in jvm.options beside this script, which ./hg gives its own JVMs too (the bench, the hosted shell).
JVM_OPTIONS=${HG_BOOT_JVM_OPTIONS-$(<"$HERE/jvm.options")}

say() { printf 'boot-image: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/jlink ]] || die "JAVA_HOME must name a JDK 25 with jlink"
jar_of() { compgen -G "$LIB/$1-[0-9]*.jar" | head -n 1; }
# The runtime's modules: hg.shell and below, the Firecracker front end (bin/firecracker), JLine with its
# FFM terminal, and the API's Jetty (HTTP, its Unix-socket connector, the client, core WebSocket), slf4j
# with Jetty's provider, and jackson-core.
RUNTIME_JARS=(hg.kvm hg.ninep hg.boot hg.vmm hg.host hg.api hg.firecracker hg.shell jline-terminal jline-reader
  jline-terminal-ffm jline-native
  jetty-util jetty-io jetty-http jetty-server jetty-unixdomain-server jetty-client jetty-alpn-client
  jetty-websocket-core-common jetty-websocket-core-server jetty-websocket-core-client jetty-slf4j-impl
  jetty-compression-common jetty-compression-gzip slf4j-api jackson-core)
for m in "${RUNTIME_JARS[@]}"; do
  [[ -n $(jar_of "$m") ]] || die "$LIB has no $m jar: run ./hg build (it builds the jars first)"
done
[[ -f $KERNELS/host-bzImage ]] || die "$KERNELS/host-bzImage is missing: run kernel-src/build.sh"
[[ -f $KERNELS/guest-vmlinux ]] || die "$KERNELS/guest-vmlinux is missing: run kernel-src/build.sh"
NFT=${HG_NFT:-/usr/sbin/nft}
[[ -x $NFT ]] || die "$NFT is missing (apt-get install nftables): the boot image's shell loads the guest filter with it"
[[ -x $BUSYBOX ]] || die "$BUSYBOX is missing (apt-get install busybox-static)"
if readelf -l "$BUSYBOX" | grep -q 'Requesting program interpreter'; then
  die "$BUSYBOX is dynamically linked; the boot image needs Debian's busybox-static"
fi
command -v cpio >/dev/null || die "cpio is missing (apt-get install cpio)"

[[ -n $(jar_of hg.imagetools) ]] || die "$LIB has no hg.imagetools jar: run ./hg build (it builds the jars first)"
main=hg.shell/hg.shell.Main
# hg-imagetools runs here, on the build's module path (Commons Compress stays out of the image).
hg_imagetools() { "$JAVA_HOME/bin/java" -p "$LIB" -m hg.imagetools/hg.imagetools.Main "$@"; }

# Everything the output depends on; an unchanged stamp means nothing to do.
stamp=$( {
  echo "start=$START jvm=$JVM_OPTIONS main=$main"
  "$JAVA_HOME/bin/java" -version 2>&1
  sha256sum "$LIB"/*.jar "$KERNELS/host-bzImage" "$KERNELS/guest-vmlinux" "$BUSYBOX" "$NFT" "$HERE/build.sh" \
    "$HERE/firecracker-launcher.sh"
  (cd "$HERE/rootfs" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
} | sha256sum | cut -c1-32)
if [[ -f $OUT/.stamp && $(cat "$OUT/.stamp") == "$stamp" && -f $OUT/initramfs.img ]]; then
  say "up to date ($OUT)"
  exit 0
fi

t0=$SECONDS
rm -rf "$WORK" && mkdir -p "$WORK/jars" "$WORK/root"
STAGE=$WORK/root
RT=$STAGE/opt/hyper-gen

# 1. The Java runtime: hg.shell and below, JLine with its FFM terminal; no hg.imagetools and no
#    Commons Compress (it would pull java.desktop in). JLine's exec terminal provider is off: it
#    forks stty and friends, which took 5-9 s of the shell's start in the nested rig (the FFM
#    provider does the same with no process).
for m in "${RUNTIME_JARS[@]}"; do
  cp "$(jar_of "$m")" "$WORK/jars/"
done
say "jlink: runtime of hg.shell (main: $main)"
jlink_args=(--module-path "$WORK/jars" --add-modules hg.shell,org.jline.terminal.ffm,hg.firecracker
  --strip-debug --no-man-pages --no-header-files --compress zip-6
  "--add-options=--enable-native-access=hg.kvm,hg.ninep,org.jline.terminal.ffm -Dorg.jline.terminal.exec=false"
  --generate-cds-archive --launcher "hyper-gen=$main" --output "$RT")
# The CDS dump lists JDK classes of modules we leave out (java.logging): harmless warnings.
"$JAVA_HOME/bin/jlink" "${jlink_args[@]}" >"$WORK/jlink.log" 2>&1 || { cat "$WORK/jlink.log" >&2; die "jlink failed"; }
# Only for heaps over 32 GiB; and keytool has no use here.
rm -f "$RT/lib/server/classes_nocoops.jsa" "$RT/bin/keytool"
# nft loads the guest filter (guests send only from their own MAC and address) at the shell's start.
mkdir -p "$STAGE/usr/sbin"
cp "$NFT" "$STAGE/usr/sbin/nft"
# The runtime and nft are dynamically linked: bring this machine's glibc (the JDK was built against
# it) and nft's libraries at the paths the loader looks in. libgcc_s is dlopen'd by glibc when a
# thread unwinds. (ldd fails on the launcher script: only its output matters, the loader check below is the guard)
libs=$( { find "$RT" -type f \( -name '*.so' -o -path '*/bin/*' \); echo "$STAGE/usr/sbin/nft"; } \
  | xargs sh -c 'ldd "$@" || true' ldd 2>/dev/null \
  | awk '/^\t/ { p = ($2 == "=>") ? $3 : $1; if (p ~ "^/" && index(p, "'"$RT"'") != 1) print p }' | sort -u)
libgcc=$(ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/ && !found { print $NF; found = 1 }')
for l in $libs $libgcc; do
  mkdir -p "$STAGE$(dirname "$l")"
  cp -L "$l" "$STAGE$l"
done
[[ -f $STAGE/lib64/ld-linux-x86-64.so.2 ]] || die "did not find the dynamic loader of $RT/bin/java"

# 2. The embedded defaults: guest kernel 0 and busybox image 0.
mkdir -p "$STAGE/usr/share/hyper-gen/kernels" "$STAGE/usr/share/hyper-gen/images"
cp -L "$KERNELS/guest-vmlinux" "$STAGE/usr/share/hyper-gen/kernels/vmlinux-6.1"
say "default image: hg-imagetools rootfs (busybox, ext4, with hg-agent)"
# The guest agent: static, so the image needs no libraries; no build ids, so the bytes are the same each time.
gcc -static -Os -Wall -Wextra -Werror -Wl,--build-id=none -o "$WORK/hg-agent" "$ROOT/guest/agent/hg-agent.c" \
  || die "building the guest agent (guest/agent/hg-agent.c) failed"
# A fixed time, so the image is the same bytes on every build.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000} \
  hg_imagetools rootfs --out "$STAGE/usr/share/hyper-gen/images/busybox.ext4" --size 16M --agent "$WORK/hg-agent" \
  >"$WORK/imagetools.log" 2>&1 || { cat "$WORK/imagetools.log" >&2; die "hg-imagetools rootfs failed"; }

# 3. Start-up: a JDK 25 AOT cache from a training run of the main on this machine.
if [[ $START == aot ]]; then
  say "AOT cache: training run of $main"
  aot=$RT/lib/hyper-gen.aot
  train=(-m "$main" --guest-kernel "$STAGE/usr/share/hyper-gen/kernels" --guest-image "$STAGE/usr/share/hyper-gen/images")
  # On a terminal (script(1) gives it a pty), as on the consoles, so JLine's line reader is
  # part of what the cache holds.
  printf -v cmd '%q ' "$RT/bin/java" $JVM_OPTIONS -XX:AOTCacheOutput="$aot" "${train[@]}"
  { sleep 2; printf 'help\rkernel_list\rimage_list\rvm_list\rvm_console 9\rexit\r'; sleep 8; } \
    | TERM=xterm timeout 120 script -qec "$cmd" /dev/null >"$WORK/aot-training.log" 2>&1 \
    || say "training run ended with rc $? (see $WORK/aot-training.log)"
  [[ -f $aot ]] || { cat "$WORK/aot-training.log" >&2; die "the AOT training run made no cache"; }
  # Only for the launcher's main: a JVM whose module graph differs from the training run's
  # refuses the cache (with errors on stderr).
  aot_flag="-XX:AOTCache=/opt/hyper-gen/lib/hyper-gen.aot"
else
  aot_flag=
fi
# The Firecracker front end's launcher, bin/firecracker, with an AOT cache of its own (its main module
# differs from hyper-gen's, and a cache serves one module graph).
"$HERE/firecracker-launcher.sh" "$RT" 2>&1 | sed 's/^/boot-image: /' >&2
[[ -x $RT/bin/firecracker ]] || die "the firecracker launcher was not made"
launcher_options="$aot_flag${aot_flag:+${JVM_OPTIONS:+ }}$JVM_OPTIONS"
sed -i "s|^JLINK_VM_OPTIONS=.*|JLINK_VM_OPTIONS='$launcher_options'|" "$RT/bin/hyper-gen"
grep -qxF -- "JLINK_VM_OPTIONS='$launcher_options'" "$RT/bin/hyper-gen" \
  || die "could not set the JVM options of the hyper-gen launcher"

# 4. The rest of the root: busybox and its applets, init and its helpers.
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,mnt,etc/hyper-gen}
cp "$BUSYBOX" "$STAGE/bin/busybox"
"$BUSYBOX" --list-full | while read -r applet; do
  [[ -e $STAGE/$applet ]] || ln -s /bin/busybox "$STAGE/$applet"
done
cp -a "$HERE/rootfs/." "$STAGE/"
# HG_JVM_OPTIONS: the launcher's options without its AOT cache (which serves the launcher's main only),
# for other mains of the runtime that should run as the product does (the self-test's program).
cat >"$STAGE/etc/hyper-gen/build" <<EOF
PATH=/opt/hyper-gen/bin:/usr/sbin:/usr/bin:/sbin:/bin
HG_JVM_OPTIONS='$JVM_OPTIONS'
export PATH
EOF
echo "root:x:0:0:root:/root:/bin/sh" >"$STAGE/etc/passwd"
echo "root:x:0:" >"$STAGE/etc/group"

# 5. Pack.
mkdir -p "$OUT"
say "packing initramfs (hg-imagetools initramfs: cpio newc, gzip)"
hg_imagetools initramfs --from "$STAGE" --out "$WORK/initramfs.img" --quiet >>"$WORK/imagetools.log" 2>&1 \
  || { cat "$WORK/imagetools.log" >&2; die "hg-imagetools initramfs failed"; }
mv "$WORK/initramfs.img" "$OUT/initramfs.img"
cp -L "$KERNELS/host-bzImage" "$OUT/bzImage"
cat >"$OUT/grub.cfg" <<'EOF'
# hyper-gen: copy bzImage and initramfs.img to /boot/hyper-gen/, then add this entry (for example
# to /etc/grub.d/40_custom, then run update-grub). root= names the device that holds the
# guest_kernel= and guest_image= directories; it is mounted read-only. Without guest_kernel= and
# guest_image= the shell offers the guest kernel and image embedded in initramfs.img.
menuentry 'hyper-gen' {
	linux  /boot/hyper-gen/bzImage console=ttyS0,115200 console=tty0 root=/dev/sda1 guest_kernel=/srv/kernels guest_image=/srv/images
	initrd /boot/hyper-gen/initramfs.img
}
EOF
rm -f "$OUT/main"
echo "$stamp" >"$OUT/.stamp"
say "built in $((SECONDS - t0)) s: bzImage $(du -h "$OUT/bzImage" | cut -f1), initramfs.img $(du -h "$OUT/initramfs.img" | cut -f1) (runtime $(du -sh "$RT" | cut -f1), unpacked $(du -sh "$STAGE" | cut -f1))"
