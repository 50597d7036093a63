#!/usr/bin/env bash
# Boot the test VM and run something in it.
#
#   vm.sh check [TESTS]   run the tests; TESTS is a space-separated list of
#                         programs under /tests, each optionally followed by
#                         ':' and comma-separated arguments, e.g.
#                         "selftests/ioasid:-t,alloc_free"
#   vm.sh run             the demo, with the console shown live
#   vm.sh shell           an interactive shell in the VM
#   vm.sh bench           the benchmarks on the perf kernel
#
# The VM is q35 with an emulated VT-d (with interrupt remapping, so the
# devices' MSIs are isolated) and two edu devices under TCG. It
# always powers itself off; a hard timeout (VM_TIMEOUT seconds) backs that.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
B=$TOP/build
MODE=${1:?mode: check, run, shell or bench}
shift
FLAVOUR=test
[ "$MODE" = bench ] && FLAVOUR=perf
KOBJ=$B/kobj-$FLAVOUR
USER_OUT=$B/user-$FLAVOUR
RUN=$B/vm-$MODE
VM_TIMEOUT=${VM_TIMEOUT:-2400}

mkdir -p "$RUN"
rm -f "$RUN/console.log" "$RUN/results.log" "$RUN/qemu-rc" "$RUN/tests"

# What the guest runs in check mode: every test program, unless named.
default_tests() {
	local f

	for f in "$USER_OUT"/selftests/* "$USER_OUT"/lib/tests/*; do
		[ -f "$f" ] && [ -x "$f" ] && echo "${f#"$USER_OUT"/}"
	done
	return 0
}
TESTS=${1:-$(default_tests | tr '\n' ' ')}
echo "$TESTS" > "$RUN/tests"

# The initramfs: busybox, our programs, and the run configuration.
root=$RUN/root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,tests}
cp /bin/busybox "$root/bin/busybox"
cp "$TOP/scripts/guest/init" "$root/init"
chmod +x "$root/init"
cp -r "$USER_OUT/selftests" "$root/tests/"
mkdir -p "$root/tests/lib"
[ -d "$USER_OUT/lib/tests" ] && cp -r "$USER_OUT/lib/tests" "$root/tests/lib/"
cp "$USER_OUT"/bin/* "$root/bin/" 2>/dev/null || true
printf 'MODE=%s\nTESTS="%s"\n' "$MODE" "$TESTS" > "$root/etc/ioasid-run.conf"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$RUN/initramfs.cpio.gz"

append="console=ttyS0 intel_iommu=on panic_on_warn=1 panic=-1 oops=panic"
append+=" kasan.fault=panic nokaslr"
[ "$MODE" = check ] || append+=" quiet"

# The benchmark maps 1 GiB at a time, THP included.
mem=2G
[ "$MODE" = bench ] && mem=3G

qemu=(qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 2 -m $mem
      -device intel-iommu,intremap=on -device edu -device edu
      -kernel "$KOBJ/arch/x86/boot/bzImage" -initrd "$RUN/initramfs.cpio.gz"
      -append "$append" -display none -no-reboot -monitor none)

if [ "$MODE" = shell ]; then
	exec "${qemu[@]}" -serial mon:stdio -serial null
fi

echo ">> booting the VM ($MODE, ${VM_TIMEOUT}s limit); console log: ${RUN#"$TOP"/}/console.log"
: > "$RUN/console.log"
: > "$RUN/results.log"
timeout -k 10 "$VM_TIMEOUT" "${qemu[@]}" \
	-serial file:"$RUN/console.log" -serial file:"$RUN/results.log" &
qpid=$!
if [ "$MODE" = check ]; then
	# Live progress: one line per test result.
	tail -n +1 -f --pid=$qpid "$RUN/results.log" |
		grep --line-buffered -E '^(not )?ok [0-9]+ |^@@ begin' || true &
else
	tail -n +1 -f --pid=$qpid "$RUN/console.log" &
fi
tpid=$!
rc=0
wait $qpid || rc=$?
wait $tpid 2>/dev/null || true
[ $rc -eq 124 ] && echo "vm: timed out after ${VM_TIMEOUT}s" >&2

echo "$rc" > "$RUN/qemu-rc"
# check.sh judges a test run; other modes are judged on splats alone.
[ "$MODE" = check ] && exit 0
if [ "$MODE" = run ] && ! tr -d '\r' < "$RUN/console.log" | grep -q '^demo: PASS'; then
	echo "run: the demo did not pass; see ${RUN#"$TOP"/}/console.log" >&2
	exit 1
fi
if [ "$MODE" = bench ]; then
	tr -d '\r' < "$RUN/results.log" | grep '^{' > "$B/bench.json" || true
	echo ">> $(wc -l < "$B/bench.json") results in ${B#"$TOP"/}/bench.json"
	[ -s "$B/bench.json" ] || { echo "bench: no results" >&2; exit 1; }
fi
"$TOP/scripts/summarize.sh" --splats-only "$RUN"
