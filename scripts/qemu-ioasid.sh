#!/usr/bin/env bash
# Build the QEMU that runs on /dev/ioasid: Debian's QEMU 10.0.2 source
# (bookworm-backports), our patch series patches/qemu/series on top, only
# x86_64-softmmu with TCG and the few devices the test needs.
#
#   scripts/qemu-ioasid.sh          # fetch, patch, configure, build
#   scripts/qemu-ioasid.sh path     # print the binary's path (no build)
#   scripts/qemu-ioasid.sh stage ROOT USER_OUT
#                                   # put it, and the second-level guest,
#                                   # into the test VM's initramfs tree
#
# Everything goes under build/qemu-ioasid/: src/ (the orig tarball and
# the patched tree), obj/ (meson/ninja), stamp files, and times.log (one
# line per build that did work: cold or warm, seconds). The source comes
# from `apt-get source --tar-only`, through a deb-src entry derived the
# way scripts/setup.sh derives the backports one (no host is named here);
# only the upstream tarball is used, Debian's packaging is not.
#
# Incremental: nothing is done when the source, the patches and this
# script's configure line are what the last build used. When the series
# changes, the previous series is reversed and the new one applied, so
# only the files the patches touch change and ninja rebuilds just those.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
Q=$TOP/build/qemu-ioasid
SRCDIR=$Q/src
OBJ=$Q/obj
PATCHES=$TOP/patches/qemu
PKG=qemu
UPSTREAM=10.0.2
SUITE=bookworm-backports
JOBS=${JOBS:-2}

say() { echo "qemu-ioasid: $*" >&2; }
die() { say "$@"; exit 1; }

BIN=$OBJ/qemu-system-x86_64
L2_KERNEL=$TOP/build/kobj-l2/arch/x86/boot/bzImage

# The firmware a q35 guest booted with -kernel reads, from the system's
# QEMU and SeaBIOS packages (Debian's QEMU source ships no blobs).
FIRMWARE=(/usr/share/seabios/bios-256k.bin /usr/share/qemu/linuxboot_dma.bin
	  /usr/share/qemu/kvmvapic.bin)

# Everything the QEMU test (scripts/guest/qemu-ioasid-test) needs inside
# the test VM, under ROOT/opt/qemu-ioasid: the binary, the shared
# libraries it loads (at their own paths in ROOT), its firmware, and the
# second-level guest, which is a small non-debug kernel (build/kobj-l2,
# configs/l2.config: the debug one is an order of magnitude slower under
# TCG in TCG) and an
# initramfs of busybox, scripts/guest/l2-init and two of our static tools.
stage() {
	local root=$1 user_out=$2 p=$1/opt/qemu-ioasid lib l2 f

	[ -x "$BIN" ] || die "no QEMU built: run scripts/qemu-ioasid.sh"
	[ -f "$L2_KERNEL" ] || die "no L2 kernel: run scripts/kernel.sh build l2"
	for f in edu-dma ioasid-vfio-bind; do
		[ -x "$user_out/bin/$f" ] || die "no $f in $user_out/bin"
	done
	mkdir -p "$p/bin" "$p/fw" "$p/l2" "$root/tests/qemu"
	cp "$BIN" "$p/bin/"
	while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done < <(ldd "$BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
				   $1 ~ /^\// { print $1 }')
	cp "${FIRMWARE[@]}" "$p/fw/"
	cp "$L2_KERNEL" "$p/l2/bzImage"
	cp "$TOP/scripts/guest/qemu-ioasid-test" "$root/tests/qemu/qemu-ioasid"
	chmod +x "$root/tests/qemu/qemu-ioasid"

	l2=$(mktemp -d)
	mkdir -p "$l2"/{bin,proc,sys,dev,tmp}
	cp /bin/busybox "$user_out/bin/edu-dma" "$user_out/bin/ioasid-vfio-bind" \
		"$l2/bin/"
	cp "$TOP/scripts/guest/l2-init" "$l2/init"
	chmod +x "$l2/init"
	(cd "$l2" && find . | cpio -o -H newc --quiet | gzip -1) \
		> "$p/l2/initramfs.cpio.gz"
	rm -rf "$l2"
}

case ${1:-} in
path)
	echo "$BIN"
	exit 0
	;;
stage)
	stage "${2:?stage ROOT USER_OUT}" "${3:?stage ROOT USER_OUT}"
	exit 0
	;;
esac

# What configure is told: one target, TCG only, every optional feature
# off unless named, and only the devices in our device list (added by
# the series as configs/devices/x86_64-softmmu/ioasid.mak).
CONFIGURE=(--target-list=x86_64-softmmu --without-default-features
	   --without-default-devices --with-devices-x86_64=ioasid
	   --enable-system --enable-tcg --disable-kvm --disable-docs
	   --disable-werror --disable-tools --disable-guest-agent
	   --disable-user --disable-download --disable-install-blobs
	   --disable-plugins --disable-debug-info)

# The build tools configure needs; meson 1.5 or later and pycotap (which
# configure's Python venv insists on, offline) come from backports.
BUILD_DEPS=(ninja-build python3-venv flex bison pkg-config libglib2.0-dev
	    zlib1g-dev ccache xz-utils)
BACKPORTS_DEPS=(python3-pycotap)

pkg_ok() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

meson_ok() {
	local v

	v=$(meson --version 2>/dev/null) || return 1
	dpkg --compare-versions "$v" ge 1.5.0
}

have_backports_src() {
	grep -rqsE "^deb-src .*[[:space:]]$SUITE([[:space:]]|\$)" \
		/etc/apt/sources.list /etc/apt/sources.list.d/
}

# A deb-src entry for backports, from the machine's own Debian source.
enable_backports_src() {
	local list=/etc/apt/sources.list.d/ioasid-backports-src.list uri=""

	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ { print u; exit }' \
			/etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
	fi
	[ -n "$uri" ] || die "no Debian bookworm apt source found to derive $SUITE deb-src from"
	say "enabling $SUITE sources from $uri"
	echo "deb-src $uri $SUITE main" > "$list"
}

install_deps() {
	local missing=() p

	for p in "${BUILD_DEPS[@]}"; do
		pkg_ok "$p" || missing+=("$p")
	done
	for p in "${BACKPORTS_DEPS[@]}"; do
		pkg_ok "$p" || missing+=("$p/$SUITE")
	done
	if [ ${#missing[@]} -eq 0 ] && meson_ok && have_backports_src; then
		return 0
	fi
	[ "$(id -u)" -eq 0 ] ||
		die "need root to install: ${missing[*]} meson(>= 1.5, $SUITE) and $SUITE sources"
	have_backports_src || enable_backports_src
	export DEBIAN_FRONTEND=noninteractive
	say "updating the apt package lists"
	apt-get update -qq >&2
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing: ${missing[*]}"
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
	if ! meson_ok; then
		say "installing meson from $SUITE"
		apt-get install -y -qq --no-install-recommends -t "$SUITE" meson >/dev/null
	fi
}

# The upstream tarball of the backports qemu source package.
fetch_source() {
	local tarball

	tarball=$(echo "$SRCDIR/${PKG}_${UPSTREAM}"*.orig.tar.xz)
	[ -f "$tarball" ] && { echo "$tarball"; return 0; }
	say "fetching the $PKG $UPSTREAM source from $SUITE"
	(cd "$SRCDIR" && apt-get source --tar-only --download-only -qq \
		-o APT::Sandbox::User=root "$PKG/$SUITE" >&2)
	tarball=$(echo "$SRCDIR/${PKG}_${UPSTREAM}"*.orig.tar.xz)
	[ -f "$tarball" ] || die "apt-get source left no ${PKG}_${UPSTREAM} tarball"
	echo "$tarball"
}

series() {
	grep -vE '^[[:space:]]*(#|$)' "$PATCHES/series"
}

# Our uAPI header, installed into the tree as QEMU's
# scripts/update-linux-headers.sh would: the patches carry no copy of it.
UAPI=$TOP/include/uapi/linux/ioasid.h

# The hash of what the tree must hold: the tarball's name, the series and
# the uAPI header.
tree_id() {
	{
		basename "$1"
		cat "$UAPI"
		while read -r p; do
			echo "$p"
			cat "$PATCHES/$p"
		done < <(series)
	} | sha256sum | cut -d' ' -f1
}

# Reverse the series applied last (kept in src/applied/), or return 1.
unapply() {
	local tree=$1 p list=()

	[ -f "$SRCDIR/applied/series" ] || return 1
	mapfile -t list < <(tac "$SRCDIR/applied/series")
	for p in "${list[@]}"; do
		patch -d "$tree" -p1 -R -s -f --no-backup-if-mismatch \
			< "$SRCDIR/applied/$p" >/dev/null || return 1
	done
	rm -rf "$SRCDIR/applied"
}

prepare_tree() {
	local tarball=$1 tree=$SRCDIR/qemu-$UPSTREAM id p

	id=$(tree_id "$tarball")
	if [ -d "$tree" ] && [ "$(cat "$SRCDIR/tree.id" 2>/dev/null)" = "$id" ]; then
		echo "$tree"
		return 0
	fi
	rm -f "$SRCDIR/tree.id"
	if [ -d "$tree" ] && ! unapply "$tree"; then
		say "cannot reverse the old series: extracting afresh"
		rm -rf "$tree"
	fi
	if [ ! -d "$tree" ]; then
		say "extracting $(basename "$tarball")"
		rm -rf "$SRCDIR/applied"
		tar -C "$SRCDIR" -xf "$tarball"
		[ -d "$tree" ] || die "the tarball has no qemu-$UPSTREAM directory"
	fi
	mkdir -p "$SRCDIR/applied"
	: > "$SRCDIR/applied/series"
	while read -r p; do
		say "applying $p"
		patch -d "$tree" -p1 -s -f --no-backup-if-mismatch < "$PATCHES/$p" >&2 ||
			die "$p does not apply to qemu $UPSTREAM"
		cp "$PATCHES/$p" "$SRCDIR/applied/$p"
		echo "$p" >> "$SRCDIR/applied/series"
	done < <(series)
	cmp -s "$UAPI" "$tree/linux-headers/linux/ioasid.h" ||
		cp "$UAPI" "$tree/linux-headers/linux/ioasid.h"
	echo "$id" > "$SRCDIR/tree.id"
	echo "$tree"
}

install_deps
mkdir -p "$SRCDIR"
exec 9> "$Q/lock"
flock 9

start=$(date +%s)
tarball=$(fetch_source)
tree=$(prepare_tree "$tarball")

# Configure when the options, or the tree it was configured from, change.
cfg_id=$(printf '%s\n' "$tree" "${CONFIGURE[@]}" | sha256sum | cut -d' ' -f1)
kind=warm
if [ ! -f "$OBJ/build.ninja" ] || [ "$(cat "$Q/configure.id" 2>/dev/null)" != "$cfg_id" ]; then
	[ -f "$OBJ/build.ninja" ] || kind=cold
	say "configuring into ${OBJ#"$TOP"/}"
	rm -rf "$OBJ"
	mkdir -p "$OBJ"
	(cd "$OBJ" && CCACHE_BASEDIR=$TOP nice "$tree/configure" --cc="ccache gcc" \
		--python=/usr/bin/python3 \
		"${CONFIGURE[@]}" > "$Q/configure.log" 2>&1) ||
		die "configure failed: see ${Q#"$TOP"/}/configure.log"
	echo "$cfg_id" > "$Q/configure.id"
fi

# Nothing changed since the last build: done. (Asking ninja would not
# do: QEMU regenerates qemu-version.h every time, and relinks.)
built_id=$(printf '%s\n' "$(cat "$SRCDIR/tree.id")" "$cfg_id" | sha256sum | cut -d' ' -f1)
if [ "$kind" = warm ] && [ -x "$BIN" ] &&
   [ "$(cat "$Q/built.id" 2>/dev/null)" = "$built_id" ]; then
	exit 0
fi
rm -f "$Q/built.id"
say "building qemu-system-x86_64 ($kind, -j$JOBS)"
CCACHE_BASEDIR=$TOP nice ninja -C "$OBJ" -j"$JOBS" qemu-system-x86_64 > "$Q/build.log" 2>&1 ||
	{ tail -n 30 "$Q/build.log" >&2; die "build failed: see ${Q#"$TOP"/}/build.log"; }
echo "$built_id" > "$Q/built.id"
secs=$(($(date +%s) - start))
echo "$(date -u +%FT%TZ) $kind $secs s $(cd "$TOP" && git rev-parse --short HEAD 2>/dev/null)" >> "$Q/times.log"
say "built in $secs s: ${BIN#"$TOP"/}"
