#!/usr/bin/env bash
# Build everything that runs inside the VM, statically, against the uAPI
# headers installed from the kernel we just built:
#   build/user/selftests/  kselftests (tools/testing/selftests/ioasid)
#   build/user/lib/        libioasid and its tests
#   build/user/stage/      libioasid installed as a package would be
#   build/user/bin/        the demo and tools
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
B=$TOP/build
FLAVOUR=${1:-test}
HDR=$B/kobj-$FLAVOUR/hdr/include
OUT=$B/user-$FLAVOUR
KSRC=$B/linux
JOBS=$(nproc)

[ -d "$HDR" ] || { echo "userspace: no headers at $HDR; build the kernel first" >&2; exit 1; }
mkdir -p "$OUT/selftests" "$OUT/bin"

# The selftests' make knows their sources, not the headers of the kernel
# they are built against (the uAPI and the mock's): a change there
# rebuilds them all.
stamp=$OUT/selftests/.headers
if ! cat "$HDR/linux/ioasid.h" "$KSRC/drivers/iommu/ioasid/ioasid_test.h" |
     cmp -s - "$stamp"; then
	find "$OUT/selftests" -maxdepth 1 -type f -name 'ioasid*' -delete
	cat "$HDR/linux/ioasid.h" "$KSRC/drivers/iommu/ioasid/ioasid_test.h" \
		> "$stamp"
fi
make -s -C "$KSRC/tools/testing/selftests/ioasid" -j"$JOBS" \
	OUTPUT="$OUT/selftests" KHDR_INCLUDES="-isystem $HDR" LDFLAGS=-static

LIBMAKE=(make -s -C "$TOP/lib/libioasid" O="$OUT/lib" PREFIX=/usr
	 KHDR_INCLUDES="-isystem $HDR")
"${LIBMAKE[@]}" -j"$JOBS" all tests

# The consumer test knows libioasid only as installed: its headers and
# flags come from the staged install through pkg-config, its other headers
# from the system, none from this tree. vm.sh runs it with the other
# library tests.
STAGE=$OUT/stage
rm -rf "$STAGE"
"${LIBMAKE[@]}" DESTDIR="$STAGE" install
consumer_flags=$(PKG_CONFIG_SYSROOT_DIR=$STAGE \
	PKG_CONFIG_LIBDIR=$STAGE/usr/lib/pkgconfig \
	pkg-config --static --cflags --libs libioasid)
# shellcheck disable=SC2086 # the flags are words
gcc -static -O2 -Wall -Wextra -Werror -o "$OUT/lib/tests/consumer_test" \
	"$TOP/lib/libioasid/tests/consumer_test.c" $consumer_flags

# What a tool needs besides libioasid: the fault server waits with
# io_uring (liburing, static like everything in the initramfs) and runs
# its load in threads; the mock benchmark drives both kernels' mock
# IOMMUs, and the fault server and the migration tool the mock VFIO
# device, whose test ioctls are not uAPI.
tool_flags() {
	case $1 in
	ioasid-fault-server) echo "-luring -pthread -iquote $KSRC/drivers/iommu/ioasid" ;;
	ioasid-mock-bench) echo "-pthread -iquote $KSRC/drivers/iommu/ioasid" \
		"-iquote $KSRC/drivers/iommu/iommufd" ;;
	ioasid-migrate) echo "-iquote $KSRC/drivers/iommu/ioasid" ;;
	esac
}
for src in "$TOP"/tools/ioasid/*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	bin=$OUT/bin/$name
	if [ ! "$bin" -nt "$src" ] || [ "$OUT/lib/libioasid.a" -nt "$bin" ] ||
	   [ "$KSRC/drivers/iommu/ioasid/ioasid_test.h" -nt "$bin" ]; then
		# shellcheck disable=SC2046 # the libraries are words
		gcc -static -O2 -Wall -Wextra -Werror -isystem "$HDR" \
			-I"$TOP/lib/libioasid/include" -I"$OUT/lib/include" \
			-o "$bin" "$src" "$OUT/lib/libioasid.a" $(tool_flags "$name")
	fi
done
