#!/usr/bin/env bash
# Checks that run on the host, reported as TAP in the same framing as the
# guest's results: style (checkpatch --strict), kernel-doc, a W=1 build of
# our kernel code, and the library's packaging.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
B=$TOP/build
KSRC=$B/linux
W1=$B/kobj-w1
n=0 failed=0

result() { # result OK|FAIL name [details file]
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
		[ -n "${3:-}" ] && sed 's/^/# /' "$3" | head -40
	fi
}

check() { # check name command...: OK if the command succeeds silently
	local name=$1 out
	shift
	out=$(mktemp)
	if "$@" > "$out" 2>&1 && [ ! -s "$out" ]; then
		result OK "$name"
	else
		result FAIL "$name" "$out"
	fi
	rm -f "$out"
}

echo "@@ begin host-checks"
echo "TAP version 13"
cd "$TOP"

kernel_files=$(ls drivers/iommu/ioasid/*.[ch] include/uapi/linux/ioasid.h \
	include/linux/ioasid.h 2>/dev/null)
user_files=$(ls tools/testing/selftests/ioasid/*.[ch] lib/libioasid/src/*.[ch] \
	lib/libioasid/include/*.h lib/libioasid/tests/*.[ch] tools/ioasid/*.c \
	2>/dev/null)

# checkpatch's own exit code ignores CHECKs, so any output is a finding.
for f in $kernel_files $user_files; do
	check "checkpatch --strict $f" perl "$KSRC/scripts/checkpatch.pl" \
		--strict --quiet --no-tree --no-summary --show-types \
		--ignore FILE_PATH_CHANGES -f "$f"
done

# The series as it would be mailed; fed on stdin, as a mail would be.
checkpatch_mail() {
	perl "$KSRC/scripts/checkpatch.pl" --strict --quiet --no-tree \
		--no-summary - < "$1"
}
for p in patches/*.patch; do
	check "checkpatch --strict $p" checkpatch_mail "$p"
done

for f in include/uapi/linux/ioasid.h include/linux/ioasid.h \
	 drivers/iommu/ioasid/*.c; do
	check "kernel-doc $f" perl "$KSRC/scripts/kernel-doc" -none -Wall "$f"
done

# W=1 in a tree of its own, so the main build's objects stay untouched.
w1_build() {
	mkdir -p "$W1"
	cp "$B/kobj-test/.config" "$W1/.config"
	make -s -C "$KSRC" O="$W1" olddefconfig >/dev/null &&
	CCACHE_BASEDIR="$TOP" make -s -C "$KSRC" O="$W1" CC="ccache gcc" \
		-j"$(nproc)" W=1 \
		drivers/iommu/ioasid/ 2>&1 | grep -v '^make\[' || true
}
check "W=1 build of drivers/iommu/ioasid" w1_build

# The kernel silences gcc's maybe-uninitialized warning for every file; the
# VFIO files our series patches get it back, in the same W=1 tree.
vfio_uninit() {
	local objs
	objs=$(sed -n 's|^+++ b/\(drivers/vfio/.*\)\.c$|\1.o|p' patches/*.patch |
		sort -u)
	[ -n "$objs" ] || { echo "no patched VFIO files found"; return; }
	(cd "$W1" && rm -f $objs)
	CCACHE_BASEDIR="$TOP" make -s -C "$KSRC" O="$W1" CC="ccache gcc" \
		-j"$(nproc)" KCFLAGS="-Wmaybe-uninitialized" $objs 2>&1 |
		grep -v '^make\[' || true
}
check "maybe-uninitialized over the patched VFIO files" vfio_uninit

# The library as a user installs it.
lib_install() {
	local dest=$B/lib-check-root
	rm -rf "$dest"
	make -s -C lib/libioasid O="$B/lib-check" PREFIX=/usr DESTDIR="$dest" \
		KHDR_INCLUDES="-isystem $B/kobj-test/hdr/include" \
		all install cxx-check >/dev/null || return 1
	local so
	so=$(ls "$dest"/usr/lib/libioasid.so.[0-9]* | head -1)
	# Every dynamic symbol we define must carry a LIBIOASID_ version.
	objdump -T "$so" | awk 'NF >= 6 && $2 == "g" && $4 != "*UND*" &&
		$(NF-1) !~ /^LIBIOASID_/ { print "unversioned: " $0 }'
	PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_LIBDIR=$dest/usr/lib/pkgconfig \
		pkg-config --exists libioasid || echo "libioasid.pc does not resolve"
	local fn
	for fn in $(objdump -T "$so" | awk 'NF >= 6 && $4 != "*ABS*" &&
			$(NF-1) ~ /^LIBIOASID_/ { print $NF }'); do
		[ -f "$dest/usr/share/man/man3/$fn.3" ] || echo "no man page for $fn"
	done
}
check "libioasid installs with versioned symbols, .pc and man pages" lib_install

# The library's names are its own: no symbol it exports (its version map,
# the functions its header declares) may be an identifier the uAPI header
# defines: a struct, enum or union tag, an enum constant or a macro.
lib_names() {
	local uapi=include/uapi/linux/ioasid.h lib=lib/libioasid
	local exported defined
	exported=$( {
		awk '/global:/ { g = 1; next } /local:|\}/ { g = 0 }
			g && /;/ { gsub(/[[:space:];]/, ""); print }' \
			"$lib/libioasid.map"
		sed -n 's/^LIBIOASID_API[^(]*[ *]\([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p' \
			"$lib/include/libioasid.h"
	} | sort -u)
	defined=$( {
		sed -nE 's/^[[:space:]]*#[[:space:]]*define[[:space:]]+([A-Za-z_][A-Za-z0-9_]*).*/\1/p' \
			"$uapi"
		sed -nE 's/.*\<(struct|enum|union)[[:space:]]+([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\{.*/\2/p' \
			"$uapi"
		awk '/^[[:space:]]*enum[^;]*\{/ { e = 1; next } e && /\}/ { e = 0 } e' \
			"$uapi" |
			sed -nE 's/^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*(=.*|,)?[[:space:]]*$/\1/p'
	} | sort -u)
	[ -n "$exported" ] || echo "no exported names found in $lib"
	[ -n "$defined" ] || echo "no identifiers found in $uapi"
	comm -12 <(echo "$exported") <(echo "$defined") |
		sed 's/^/exported by libioasid and defined by the uAPI: /'
}
check "libioasid exports no name the uAPI header defines" lib_names

echo "1..$n"
echo "@@ end host-checks rc=$((failed != 0))"
