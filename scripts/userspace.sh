#!/usr/bin/env bash
# Build everything that runs inside the VM, statically, against the uAPI
# headers installed from the kernel we just built:
#   build/user/selftests/  kselftests (tools/testing/selftests/ioasid)
#   build/user/lib/        libioasid and its tests
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

make -s -C "$KSRC/tools/testing/selftests/ioasid" -j"$JOBS" \
	OUTPUT="$OUT/selftests" KHDR_INCLUDES="-isystem $HDR" LDFLAGS=-static

make -s -C "$TOP/lib/libioasid" -j"$JOBS" O="$OUT/lib" \
	KHDR_INCLUDES="-isystem $HDR" all tests

for src in "$TOP"/tools/ioasid/*.c; do
	[ -e "$src" ] || continue
	bin=$OUT/bin/$(basename "$src" .c)
	if [ ! "$bin" -nt "$src" ] || [ "$OUT/lib/libioasid.a" -nt "$bin" ]; then
		gcc -static -O2 -Wall -Wextra -Werror -isystem "$HDR" \
			-I"$TOP/lib/libioasid/include" -I"$OUT/lib/include" \
			-o "$bin" "$src" "$OUT/lib/libioasid.a"
	fi
done
