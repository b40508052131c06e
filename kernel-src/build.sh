#!/usr/bin/env bash
# Builds hyper-gen's two kernels from Debian's linux-source-6.1 package:
#   host  : config_tiny_kernel (repo root) -> bzImage  (KVM built in; boots the boot image)
#   guest : kernel-src/guest.config        -> vmlinux  (uncompressed ELF, PVH entry; default guest)
# Each is `make tinyconfig` plus its fragment, every option of the fragment verified in the
# final .config. Results are cached in $HG_CACHE keyed by source package version + fragment
# hash, so a second run does nothing; build/kernels/ gets symlinks to the cached files.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${HG_ROOT:-$(cd "$HERE/.." && pwd)}
CACHE=${HG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hyper-gen}
PKG=linux-source-6.1
TARBALL=/usr/src/linux-source-6.1.tar.xz
OUT=$ROOT/build/kernels
KCACHE=$CACHE/kernels
# Bump when the recipe below changes in a way that changes the output.
RECIPE=1

say() { printf 'kernel: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

version=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null) \
  || die "Debian package $PKG is not installed (apt-get install $PKG)"
[[ -f $TARBALL ]] || die "$TARBALL is missing (reinstall $PKG)"
for tool in make gcc flex bison bc zstd; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (apt-get install build-essential bc flex bison libelf-dev libssl-dev zstd)"
done

mkdir -p "$KCACHE" "$OUT"
# One kernel build at a time on this machine, whoever starts it.
exec 9>"$KCACHE/.lock"
if ! flock -n 9; then
  say "waiting for another kernel build to finish"
  flock 9
fi

SRC=$KCACHE/src-$version

unpack() {
  [[ -f $SRC/.unpacked ]] && return
  say "unpacking $PKG $version"
  local t0=$SECONDS
  rm -rf "$SRC.tmp" && mkdir -p "$SRC.tmp"
  tar -xJf "$TARBALL" -C "$SRC.tmp" --strip-components=1
  touch "$SRC.tmp/.unpacked"
  rm -rf "$SRC" && mv "$SRC.tmp" "$SRC"
  say "unpacked in $((SECONDS - t0)) s"
}

# verify FRAGMENT CONFIG: every "CONFIG_X=v" of the fragment is in the .config as written and
# every "# CONFIG_X is not set" is off; prints each option that is not, returns 1 if any.
verify() {
  local fragment=$1 config=$2 bad=0 line sym
  while IFS= read -r line; do
    if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
      if ! grep -qxF -- "$line" "$config"; then
        sym=${BASH_REMATCH[1]}
        say "option dropped: $line (final .config has: $(grep -E "^(# )?$sym[= ]" "$config" || echo 'nothing, not visible'))"
        bad=1
      fi
    elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
      sym=${BASH_REMATCH[1]}
      if grep -qE "^$sym=" "$config"; then
        say "option forced on: $sym should be off (final .config has: $(grep -E "^$sym=" "$config"))"
        bad=1
      fi
    fi
  done <"$fragment"
  return $bad
}

# build NAME FRAGMENT MAKE_TARGET PRODUCT(path inside the build dir) LINK(name in build/kernels)
build() {
  local name=$1 fragment=$2 target=$3 product=$4 link=$5
  local hash key dest work log t0
  hash=$( { echo "recipe $RECIPE target $target"; cat "$fragment"; } | sha256sum | cut -c1-16)
  key=$name-$version-$hash
  dest=$KCACHE/$key
  if [[ -f $dest/.done ]]; then
    say "$name: up to date ($(basename "$product"), $(du -h --apparent-size "$dest/$(basename "$product")" | cut -f1), cached)"
  else
    unpack
    work=$KCACHE/$key.work
    log=$work/build.log
    mkdir -p "$work"
    : >"$log"
    t0=$SECONDS
    cat "$SRC/kernel/configs/tiny-base.config" "$SRC/kernel/configs/tiny.config" \
        "$SRC/arch/x86/configs/tiny.config" "$fragment" >"$work/allconfig"
    say "$name: configuring (tinyconfig + $(basename "$fragment"))"
    local mk=(make -C "$SRC" O="$work" ARCH=x86_64
              KBUILD_BUILD_USER=hyper-gen KBUILD_BUILD_HOST=hyper-gen
              KBUILD_BUILD_TIMESTAMP="$version")
    if ! "${mk[@]}" KCONFIG_ALLCONFIG="$work/allconfig" allnoconfig >>"$log" 2>&1; then
      tail -n 30 "$log" >&2; die "$name: configuration failed (log: $log)"
    fi
    say "$name: verifying $(grep -cE '^(CONFIG_|# CONFIG_.* is not set)' "$fragment") options of $(basename "$fragment")"
    verify "$fragment" "$work/.config" || die "$name: options of $fragment were dropped by Kconfig (see above)"
    say "$name: compiling $target with $(nproc) jobs (log: $log)"
    "${mk[@]}" -j"$(nproc)" "$target" >>"$log" 2>&1 &
    local mpid=$! rc=0
    while kill -0 "$mpid" 2>/dev/null; do
      sleep 5
      if (( (SECONDS - t0) % 60 < 5 )) && kill -0 "$mpid" 2>/dev/null; then
        say "$name: still compiling, $((SECONDS - t0)) s, $(find "$work" -name '*.o' | wc -l) objects"
      fi
    done
    wait "$mpid" || rc=$?
    if ((rc != 0)); then
      tail -n 40 "$log" >&2
      die "$name: make $target failed (rc $rc; full log: $log)"
    fi
    rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
    cp "$work/$product" "$dest.tmp/"
    cp "$work/.config" "$dest.tmp/config"
    cp "$log" "$dest.tmp/build.log"
    echo "$((SECONDS - t0))" >"$dest.tmp/build-seconds"
    touch "$dest.tmp/.done"
    rm -rf "$dest" && mv "$dest.tmp" "$dest"
    rm -rf "$work"
    say "$name: built in $((SECONDS - t0)) s, $(basename "$product") $(du -h --apparent-size "$dest/$(basename "$product")" | cut -f1)"
  fi
  ln -sfn "$dest/$(basename "$product")" "$OUT/$link"
}

build host "$ROOT/config_tiny_kernel" bzImage arch/x86/boot/bzImage host-bzImage
build guest "$HERE/guest.config" vmlinux vmlinux guest-vmlinux
say "ready: $OUT/host-bzImage $OUT/guest-vmlinux"
