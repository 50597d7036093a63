#!/usr/bin/env bash
# Prepare the Linux 6.12 tree and build a kernel flavour.
#
#   kernel.sh prepare        extract once, apply patches/series, overlay ours
#   kernel.sh build FLAVOUR  configure FLAVOUR (test, perf, perf-mock or l2,
#                            from configs/) and build bzImage + headers
#
# The tree under build/linux is extracted once. The patch series is applied
# with a record of what was applied, so a changed series is reverted and
# reapplied instead of re-extracting. Our own files are copied in with
# checksums, so only what really changed gets a new mtime and the kernel
# build stays incremental.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
B=$TOP/build
KSRC=$B/linux
TARBALL=/usr/src/linux-source-6.12.tar.xz
APPLIED=$KSRC/.ioasid-applied
JOBS=$(nproc)

# Project paths overlaid onto the kernel tree. Directories we own are
# mirrored with --delete; single files are copied.
OWNED_DIRS=(drivers/iommu/ioasid tools/testing/selftests/ioasid)
OWNED_FILES=(include/uapi/linux/ioasid.h include/linux/ioasid.h Documentation/userspace-api/ioasid.rst)
OWNED_GLOBS=()

log() { printf '>> %s\n' "$*"; }

extract() {
	[ -f "$KSRC/Makefile" ] && return 0
	log "extracting Linux 6.12 into build/linux (once, ~20 s)"
	mkdir -p "$B"
	rm -rf "$B/linux.tmp"
	mkdir "$B/linux.tmp"
	tar -xf "$TARBALL" -C "$B/linux.tmp" --strip-components=1
	mv "$B/linux.tmp" "$KSRC"
}

series_of() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1/series"; }

apply_series() {
	# patches/qemu/ is QEMU's series (scripts/qemu-ioasid.sh), not ours.
	if [ -d "$APPLIED" ] && diff -rq --exclude=qemu "$APPLIED" "$TOP/patches" >/dev/null; then
		return 0
	fi
	if [ -d "$APPLIED" ]; then
		log "patch series changed: reverting the old one"
		series_of "$APPLIED" | tac | while read -r p; do
			patch -d "$KSRC" -p1 -R -s -f < "$APPLIED/$p"
		done
		rm -rf "$APPLIED"
	fi
	series_of "$TOP/patches" | while read -r p; do
		log "applying patches/$p"
		patch -d "$KSRC" -p1 -s -f -N < "$TOP/patches/$p"
	done
	cp -r "$TOP/patches" "$APPLIED"
}

overlay() {
	local d f
	for d in "${OWNED_DIRS[@]}"; do
		[ -d "$TOP/$d" ] || continue
		mkdir -p "$KSRC/$d"
		rsync -rc --delete "$TOP/$d/" "$KSRC/$d/"
	done
	for f in "${OWNED_FILES[@]}"; do
		[ -f "$TOP/$f" ] && rsync -c "$TOP/$f" "$KSRC/$f"
	done
	(cd "$TOP" && for f in ${OWNED_GLOBS[*]}; do
		[ -e "$f" ] && rsync -rc "$f" "$KSRC/$(dirname "$f")/"
	done) || true
}

prepare() {
	extract
	apply_series
	overlay
}

# What a flavour merges over allnoconfig: base.config and its own
# fragment, except the nested guest's kernel (l2), which is its own
# minimal whole.
fragments_of() {
	case $1 in
	l2) cat "$TOP/configs/l2.config" ;;
	*) cat "$TOP/configs/base.config" "$TOP/configs/$1.config" ;;
	esac
}

# Configure from allnoconfig plus the fragments, and check that every
# symbol we asked for survived Kconfig's dependency resolution.
configure() {
	local flavour=$1 obj=$2 frag=$obj/ioasid.config
	mkdir -p "$obj"
	fragments_of "$flavour" > "$frag.new"
	if [ -f "$obj/.config" ] && cmp -s "$frag" "$frag.new"; then
		rm "$frag.new"
		return 0
	fi
	mv "$frag.new" "$frag"
	log "configuring the $flavour kernel"
	make -s -C "$KSRC" O="$obj" KCONFIG_ALLCONFIG="$frag" allnoconfig >/dev/null
	local bad=0 line sym want
	while read -r line; do
		case "$line" in
		CONFIG_*=n) sym=${line%%=*}
			grep -q "^$sym=" "$obj/.config" && { echo "config: $sym is set, wanted off"; bad=1; } ;;
		CONFIG_*=*) sym=${line%%=*}; want=${line#*=}
			grep -qx "$sym=$want" "$obj/.config" || { echo "config: $sym is not $want"; bad=1; } ;;
		esac
	done < <(grep -E '^CONFIG_' "$frag")
	if [ $bad -ne 0 ]; then
		rm -f "$frag"
		echo "config: the $flavour fragment does not resolve; see above" >&2
		exit 1
	fi
}

# Run make with a heartbeat so a cold build is never a silent wait.
make_with_progress() {
	local what=$1 logf=$2; shift 2
	local start=$SECONDS rc=0 pid ticks=0
	make "$@" > "$logf" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		ticks=$((ticks + 1))
		[ $((ticks % 6)) -eq 0 ] && kill -0 "$pid" 2>/dev/null &&
			printf '   ... %s: %dm%02ds, %d files compiled so far\n' "$what" \
				$(((SECONDS - start) / 60)) $(((SECONDS - start) % 60)) \
				"$(grep -c '^  CC' "$logf" || true)"
	done
	wait "$pid" || rc=$?
	if [ $rc -ne 0 ]; then
		grep -E 'error|Error|warning:' "$logf" | head -40 >&2
		echo "kernel: $what failed; full log in ${logf#"$TOP"/}" >&2
		exit $rc
	fi
	# Warnings elsewhere in the kernel are not ours to fix; ours are errors.
	if grep -E 'ioasid.*warning:' "$logf" >&2; then
		echo "kernel: $what has compiler warnings in our code" >&2
		exit 1
	fi
	log "$what done in $((SECONDS - start)) s"
}

build() {
	local flavour=$1
	local obj=$B/kobj-$flavour
	prepare
	configure "$flavour" "$obj"
	mkdir -p "$B/logs"
	if [ ! -f "$obj/arch/x86/boot/bzImage" ]; then
		log "building the $flavour kernel (cold: 5-10 min on 2 cores; later builds are incremental)"
	else
		log "building the $flavour kernel (incremental)"
	fi
	# ccache keeps its default home-directory cache, and hashes paths
	# relative to the clone, so a fresh clone elsewhere on the same
	# machine (as CI makes) still rebuilds from cache.
	export CCACHE_BASEDIR="$TOP"
	make_with_progress "$flavour kernel" "$B/logs/kernel-$flavour.log" \
		-C "$KSRC" O="$obj" CC="ccache gcc" -j"$JOBS" bzImage
	make -s -C "$KSRC" O="$obj" headers_install INSTALL_HDR_PATH="$obj/hdr" >/dev/null
}

case "${1:-}" in
prepare) prepare ;;
build) build "${2:?flavour: test, perf, perf-mock or l2}" ;;
*) echo "usage: $0 prepare | build test|perf|perf-mock|l2" >&2; exit 2 ;;
esac
