#!/usr/bin/env bash
# Boots build/boot-image (bzImage + initramfs.img) in QEMU, the way it boots on a machine, with
# its serial console on this terminal. KVM acceleration where /dev/kvm is a real KVM with nested
# virtualization (so hyper-gen's own KVM works inside); otherwise TCG with an emulated AMD CPU
# that has SVM. Always bounded by a timeout; QEMU exits when the nest reboots.
#
# usage: up.sh [--vga] [--display D] [--append "ARGS"] [--initrd FILE] [--disk FILE] [--monitor SOCK]
#              [--serial2 SOCK] [--timeout SECS] [--mem MiB] [--smp N] [--kernel-log] [--bare] [--dry-run]
#              [--uplink-www DIR] [--iso FILE | --stick FILE] [--uefi]
#   --vga           a PC (q35) with a VGA display instead of microvm: ALT+F3 shows the shell on tty3
#                   (display: curses in this terminal, or --display gtk/sdl/none); serial then goes
#                   to build/boot-image/serial.log unless --monitor is given
#   --append ARGS   more kernel cmdline (e.g. guest_kernel=/k guest_image=/i root=/dev/vda)
#   --disk FILE     a raw disk, read-only, as /dev/vda in the nest
#   --initrd FILE   this initramfs instead of the boot image's (tests append files to a copy)
#   --monitor SOCK  QEMU's monitor (HMP) on a unix socket; serial stays on stdio unmultiplexed
#   --serial2 SOCK  a second serial port (ttyS1 in the nest) on a unix socket
#   --timeout SECS  stop QEMU after this long (default 3600)
#   --kernel-log    show the nest kernel's boot messages (default: critical ones only)
#   --bare          nothing on the cmdline but console=ttyS0 and --append's arguments (as from GRUB)
#   --uplink-www DIR  a network card for the nest (its uplink) on QEMU's user network with restrict=on:
#                   DHCP from QEMU, and one way out, http://10.0.2.100/, served from DIR by busybox
#                   httpd in inetd mode (a process per connection, no socket on this machine)
#   --iso FILE      boot the install ISO (build/boot-image/hyper-gen.iso) from a CD through the PC's
#                   firmware and GRUB, instead of the kernel straight from QEMU; implies --vga, with a
#                   USB keyboard (xHCI) and no PS/2 controller, as on most machines today
#   --stick FILE    the same from a USB stick written with FILE (build/boot-image/hyper-gen.img; QEMU
#                   writes to FILE, so give it a copy)
#   --uefi          with --iso or --stick: UEFI firmware (OVMF) instead of the BIOS (SeaBIOS)
#   --rig-cmdline   print the cmdline words this machine's QEMU needs in the nest (its TSC rate, shadow
#                   paging under TCG) and exit: the words a boot from --iso/--stick can add through
#                   hg_extra= in HG-DATA/hyper-gen.cfg
# Ctrl-A x quits QEMU when the serial console is on this terminal.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${HG_ROOT:-$(cd "$HERE/.." && pwd)}
IMAGE=${HG_BOOT_IMAGE:-$ROOT/build/boot-image}

say() { printf 'up: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# loglevel=3: the console shows critical messages only, as the boot image's init sets it for the shells;
# errors that do not stop anything (the other CPU vendor's KVM module, no PCI on microvm) stay in dmesg.
vga= display= append= initrd= disk= bare= monitor= serial2= timeout=3600 mem=3072 smp=2 quiet=loglevel=3 dry= www=
iso= stick= uefi= rig_only=
while (($#)); do
  case "$1" in
    --vga) vga=1 ;;
    --display) display=${2:?--display needs a QEMU display name}; shift ;;
    --append) append=${2?--append needs arguments}; shift ;;
    --disk) disk=${2:?--disk needs a file}; shift ;;
    --initrd) initrd=${2:?--initrd needs a file}; shift ;;
    --monitor) monitor=${2:?--monitor needs a socket path}; shift ;;
    --serial2) serial2=${2:?--serial2 needs a socket path}; shift ;;
    --timeout) timeout=${2:?--timeout needs seconds}; shift ;;
    --mem) mem=${2:?--mem needs MiB}; shift ;;
    --smp) smp=${2:?--smp needs a count}; shift ;;
    --kernel-log) quiet= ;;
    --bare) bare=1 ;;
    --uplink-www) www=${2:?--uplink-www needs a directory}; shift ;;
    --iso) iso=${2:?--iso needs a file}; shift ;;
    --stick) stick=${2:?--stick needs a file}; shift ;;
    --uefi) uefi=1 ;;
    --rig-cmdline) rig_only=1 ;;
    --dry-run) dry=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

# From install media, GRUB makes the cmdline: up.sh adds nothing to it.
media=${iso:-$stick}
if [[ -n $media ]]; then
  [[ -z $iso || -z $stick ]] || die "--iso and --stick: one boot medium at a time"
  [[ -f $media ]] || die "$media: no such file"
  [[ -z $append && -z $initrd && -z $bare ]] || die "--append, --initrd and --bare do not apply to --iso/--stick (GRUB gives the cmdline)"
  vga=1
else
  [[ -n $rig_only || ( -f $IMAGE/bzImage && -f $IMAGE/initramfs.img ) ]] || die "no boot image in $IMAGE: run ./hg build"
  [[ -z $uefi ]] || die "--uefi needs --iso or --stick"
fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
[[ -z $initrd || -f $initrd ]] || die "--initrd $initrd: no such file"
[[ $timeout =~ ^[0-9]+$ && $timeout -gt 0 ]] || die "--timeout must be a positive number of seconds"

# A real KVM with nested virtualization: the nest's own KVM then runs on hardware support.
# A PVM (/sys/module/kvm_pvm) runs no stock Linux guests, so it counts as no KVM here.
real_nested_kvm() {
  [[ -r /dev/kvm && -w /dev/kvm && ! -e /sys/module/kvm_pvm ]] || return 1
  local p
  for p in /sys/module/kvm_intel/parameters/nested /sys/module/kvm_amd/parameters/nested; do
    [[ -r $p ]] && grep -qiE '^(y|1)$' "$p" && return 0
  done
  return 1
}

if real_nested_kvm; then
  accel_args=(-accel kvm -cpu host) accel="KVM (nested)" tcg=
else
  # Without the features TCG cannot emulate (QEMU would drop them anyway, with a warning for each).
  tcg_lacks=rdseed,sha-ni,rdpid,fxsr-opt,misalignsse,3dnowprefetch,osvw,topoext,perfctr-core,clzero,xsaveerptr
  tcg_lacks+=,wbnoinvd,ibpb,ibrs,amd-stibp,amd-ssbd,nrip-save,xsavec,xsaves
  accel_args=(-accel tcg -cpu "EPYC-Rome,+svm,+npt,-${tcg_lacks//,/,-}") accel="TCG, emulated EPYC-Rome with SVM" tcg=1
fi

# The nest kernel calibrates its TSC badly under TCG when the machine is busy; tell it the rate.
tsc_khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
# Under TCG the nest's KVM uses shadow paging: with the emulated CPU's nested paging, guests of the
# nest triple-fault now and then (their page walk finds nothing mapped), most under network load;
# with shadow paging 640 MiB crossed vhost-net without a loss where nested paging lost every guest.
nest_kvm=${tcg:+kvm_amd.npt=0}
rig_words="reboot=t panic=-1 tsc=reliable${tsc_khz:+ tsc_early_khz=$tsc_khz}${nest_kvm:+ $nest_kvm}"
if [[ -n $rig_only ]]; then
  echo "$rig_words"
  exit 0
fi
if [[ -n $bare ]]; then
  cmdline="console=ttyS0${append:+ $append}"
else
  cmdline="console=ttyS0 $rig_words${quiet:+ $quiet}${append:+ $append}"
fi

# microvm has no PCI: the kernel need not look for it.
[[ -n $vga || -n $bare ]] || cmdline+=" pci=off"

args=(-no-user-config -nodefaults -no-reboot -m "$mem" -smp "$smp" "${accel_args[@]}")
if [[ -n $media ]]; then
  # A PC as people own one: firmware, GRUB from the medium, a USB keyboard and no PS/2 controller.
  args+=(-M q35,i8042=off -vga std -display "${display:-curses}" -device qemu-xhci,id=xhci -device usb-kbd,bus=xhci.0)
  if [[ -n $uefi ]]; then
    ovmf=/usr/share/OVMF
    [[ -f $ovmf/OVMF_CODE_4M.fd ]] || die "$ovmf/OVMF_CODE_4M.fd is missing (apt-get install ovmf)"
    vars=$(mktemp /tmp/hg-ovmf-vars.XXXXXX)
    trap 'rm -f "$vars"' EXIT
    cp "$ovmf/OVMF_VARS_4M.fd" "$vars"
    args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$ovmf/OVMF_CODE_4M.fd"
           -drive "if=pflash,format=raw,unit=1,file=$vars")
  fi
  if [[ -n $iso ]]; then
    args+=(-drive "file=$iso,format=raw,media=cdrom,readonly=on,if=none,id=media" -device ide-cd,drive=media,bootindex=0)
  else
    args+=(-drive "file=$stick,format=raw,if=none,id=media" -device usb-storage,bus=xhci.0,drive=media,bootindex=0)
  fi
  blk=virtio-blk-pci
elif [[ -n $vga ]]; then
  # microvm has no display and no keyboard controller: a q35 PC shows the VGA text console.
  args+=(-kernel "$IMAGE/bzImage" -initrd "${initrd:-$IMAGE/initramfs.img}" -append "$cmdline"
         -M q35 -vga std -display "${display:-curses}")
  blk=virtio-blk-pci
else
  args+=(-kernel "$IMAGE/bzImage" -initrd "${initrd:-$IMAGE/initramfs.img}" -append "$cmdline"
         -M microvm,acpi=off -display none)
  blk=virtio-blk-device
fi
if [[ -n $monitor ]]; then
  args+=(-serial stdio -monitor "unix:$monitor,server=on,wait=off")
elif [[ -n $vga && ${display:-curses} == curses ]]; then
  args+=(-serial "file:$IMAGE/serial.log")
  say "serial console: $IMAGE/serial.log"
else
  args+=(-serial mon:stdio)
fi
if [[ -n $serial2 ]]; then
  args+=(-chardev "socket,id=serial2,path=$serial2,server=on,wait=off" -device isa-serial,chardev=serial2,index=1)
fi
if [[ -n $www ]]; then
  [[ -d $www && $www != *,* ]] || die "--uplink-www $www: not a directory (or a path with a comma)"
  [[ -x /bin/busybox ]] || die "--uplink-www serves with /bin/busybox httpd (apt-get install busybox-static)"
  if [[ -n $vga ]]; then nic=virtio-net-pci; else nic=virtio-net-device; fi
  args+=(-netdev "user,id=uplink,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:/bin/busybox httpd -i -h $www"
         -device "$nic,netdev=uplink")
fi
if [[ -n $disk ]]; then
  [[ -f $disk ]] || die "--disk $disk: no such file"
  # From media the disk is second in the boot order: UEFI firmware that boots fast connects only the devices
  # in it, and GRUB sees no other (an HG-DATA disk among them).
  args+=(-drive "file=$disk,format=raw,if=none,id=disk0,readonly=on" -device "$blk,drive=disk0${media:+,bootindex=1}")
fi

if [[ -n $dry ]]; then
  printf '%q ' timeout --foreground -k 10 "$timeout" qemu-system-x86_64 "${args[@]}"; echo
  exit 0
fi
firmware=BIOS; [[ -z $uefi ]] || firmware=UEFI
say "booting ${media:-$IMAGE} in QEMU ($accel, ${mem} MiB, $smp vCPUs${media:+, $firmware}, stops after ${timeout} s)"
[[ -z $monitor && -z $vga ]] && say "Ctrl-A x quits"
if [[ -n $uefi ]]; then
  # Not exec: the firmware's variable store (a copy) is removed when QEMU ends.
  timeout --foreground -k 10 "$timeout" qemu-system-x86_64 "${args[@]}"
else
  exec timeout --foreground -k 10 "$timeout" qemu-system-x86_64 "${args[@]}"
fi
