#!/usr/bin/env bash
# Makes the install media of hyper-gen from build/boot-image/{bzImage,initramfs.img}:
#   hyper-gen.iso  GRUB for BIOS and UEFI (grub-mkrescue): boots from a CD, or from a USB stick it
#                  was written to with dd (read-only there)
#   hyper-gen.img  a disk image for a USB stick: partition 1 is an EFI system partition (FAT) with
#                  GRUB for UEFI (EFI/BOOT/BOOTX64.EFI), the kernel and the initramfs; GRUB for BIOS
#                  sits in the MBR and the gap before partition 1; partition 2 is ext4, labelled
#                  HG-DATA, for the user's kernels/, images/ and snapshots/
# Both menus (bootimage/grub/grub.cfg) look for a filesystem labelled HG-DATA and pass what it holds
# on the cmdline; without one the shell offers the guests embedded in initramfs.img.
# Skips all work when none of its inputs changed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${HG_ROOT:-$(cd "$HERE/.." && pwd)}
OUT=$ROOT/build/boot-image
WORK=$ROOT/build/boot-media.work
# The data partition's size; the README says how to grow it to the rest of the stick.
DATA_MIB=${HG_DATA_MIB:-256}
GRUB_BIOS=/usr/lib/grub/i386-pc
GRUB_EFI=/usr/lib/grub/x86_64-efi

say() { printf 'boot-media: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[[ -f $OUT/bzImage && -f $OUT/initramfs.img ]] || die "no boot image in $OUT: run bootimage/build.sh first"
for tool in grub-mkrescue grub-mkimage xorriso mformat mcopy mmd mkfs.vfat mke2fs sfdisk; do
  command -v "$tool" >/dev/null \
    || die "'$tool' is missing (apt-get install grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools dosfstools e2fsprogs fdisk)"
done
[[ -f $GRUB_BIOS/boot.img ]] || die "$GRUB_BIOS is missing (apt-get install grub-pc-bin)"
[[ -d $GRUB_EFI ]] || die "$GRUB_EFI is missing (apt-get install grub-efi-amd64-bin)"

stamp=$( {
  echo "data=$DATA_MIB"
  sha256sum "$OUT/bzImage" "$OUT/initramfs.img" "$HERE/media.sh" "$HERE/grub/grub.cfg" "$HERE/grub/README.txt"
  dpkg-query -W -f='${Version}\n' grub-common grub-pc-bin grub-efi-amd64-bin xorriso 2>/dev/null
} | sha256sum | cut -c1-32)
if [[ -f $OUT/.media-stamp && $(cat "$OUT/.media-stamp") == "$stamp" && -f $OUT/hyper-gen.iso && -f $OUT/hyper-gen.img ]]; then
  say "up to date ($OUT/hyper-gen.iso, $OUT/hyper-gen.img)"
  exit 0
fi
t0=$SECONDS
rm -rf "$WORK" && mkdir -p "$WORK"

# The GRUB modules the menu uses, for the images made here (grub-mkrescue brings all of them).
MODULES=(normal configfile test echo search search_label linux gzio part_msdos fat ext2 serial terminal)

# 1. The ISO: the tree below, GRUB for both firmware kinds, hybrid so that dd to a stick boots too.
iso_tree=$WORK/iso
mkdir -p "$iso_tree/boot/grub" "$iso_tree/hyper-gen"
cp "$HERE/grub/grub.cfg" "$iso_tree/boot/grub/grub.cfg"
cp "$OUT/bzImage" "$OUT/initramfs.img" "$iso_tree/hyper-gen/"
say "hyper-gen.iso: grub-mkrescue (BIOS and UEFI)"
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000} \
  grub-mkrescue -o "$WORK/hyper-gen.iso" "$iso_tree" -- -volid HYPER-GEN >"$WORK/mkrescue.log" 2>&1 \
  || { cat "$WORK/mkrescue.log" >&2; die "grub-mkrescue failed"; }

# 2. The stick image: MBR, partition 1 the EFI system partition (type ef, from 1 MiB; GRUB's BIOS
#    core sits in the sectors before it), partition 2 the data partition (ext4, HG-DATA).
kib() { echo $(( ($(stat -c %s "$1") + 1023) / 1024 )); }
esp_mib=$(( ($(kib "$OUT/bzImage") + $(kib "$OUT/initramfs.img")) / 1024 + 16 ))
esp=$WORK/esp.fat
# GRUB for UEFI: found by the firmware at the fallback path; its prefix is the ESP it was loaded from.
grub-mkimage -O x86_64-efi -p /boot/grub -o "$WORK/BOOTX64.EFI" "${MODULES[@]}" efi_gop efi_uga all_video \
  || die "grub-mkimage (x86_64-efi) failed"
# GRUB for BIOS: boot.img in the MBR loads core.img from sector 1; its prefix is partition 1 of the
# disk the BIOS booted from.
grub-mkimage -O i386-pc -p '(,msdos1)/boot/grub' -o "$WORK/core.img" biosdisk "${MODULES[@]}" \
  || die "grub-mkimage (i386-pc) failed"
(( $(stat -c %s "$WORK/core.img") < 2047 * 512 )) || die "GRUB's BIOS core.img does not fit before partition 1"
mkfs.vfat -C -n HG-BOOT "$esp" $((esp_mib * 1024)) >/dev/null || die "mkfs.vfat failed"
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/boot ::/boot/grub ::/hyper-gen
mcopy -i "$esp" "$WORK/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$HERE/grub/grub.cfg" ::/boot/grub/grub.cfg
mcopy -i "$esp" "$OUT/bzImage" "$OUT/initramfs.img" ::/hyper-gen/
data=$WORK/data.ext4
mkdir -p "$WORK/data"
cp "$HERE/grub/README.txt" "$WORK/data/README.txt"
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000} \
  mke2fs -q -t ext4 -b 4096 -L HG-DATA -d "$WORK/data" -F "$data" "${DATA_MIB}M" >/dev/null || die "mke2fs of the data partition failed"
img=$WORK/hyper-gen.img
truncate -s $(( (1 + esp_mib + DATA_MIB) * 1024 * 1024 )) "$img"
sfdisk --quiet "$img" <<EOF || die "sfdisk failed"
label: dos
start=1MiB, size=${esp_mib}MiB, type=ef, bootable
start=$((1 + esp_mib))MiB, size=${DATA_MIB}MiB, type=83
EOF
dd if="$esp" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$data" of="$img" bs=1M seek=$((1 + esp_mib)) conv=notrunc,sparse status=none
# boot.img's code only (the first 440 bytes): the disk signature and partition table stay.
dd if="$GRUB_BIOS/boot.img" of="$img" bs=440 count=1 conv=notrunc status=none
dd if="$WORK/core.img" of="$img" bs=512 seek=1 conv=notrunc status=none

mv "$WORK/hyper-gen.iso" "$OUT/hyper-gen.iso"
mv "$img" "$OUT/hyper-gen.img"
echo "$stamp" >"$OUT/.media-stamp"
rm -rf "$WORK"
say "built in $((SECONDS - t0)) s: hyper-gen.iso $(du -h --apparent-size "$OUT/hyper-gen.iso" | cut -f1), hyper-gen.img $(du -h --apparent-size "$OUT/hyper-gen.img" | cut -f1) (data partition ${DATA_MIB} MiB)"
