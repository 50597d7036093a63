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
#   vm.sh mock-bench      what only the mock IOMMUs can measure, ours
#                         against iommufd's (I/O page faults, dirty
#                         bitmaps), on the perf-mock kernel
#   vm.sh MODE-sm ...     any of these on the second IOMMU, e.g.
#                         "vm.sh check-sm selftests/ioasid_vfio:-v,edu"
#
# The VM is q35 with an emulated VT-d (with interrupt remapping, so the
# devices' MSIs are isolated) and two edu devices under TCG, and a third
# behind a PCIe root port, the one a bus reset can reach. It
# always powers itself off; a hard timeout (VM_TIMEOUT seconds) backs that.
#
# The "-sm" modes boot the same kernel and initramfs on QEMU 10
# (scripts/qemu10.sh) with VT-d in scalable mode and first-stage page
# tables only (x-flts=on offers no second stage, so the guest's paging
# domains use the first-stage format), interrupt remapping still on, and
# the guest told intel_iommu=on,sm_on. Their run directory is
# build/vm-MODE-sm, so both runs' logs are kept; check-sm also leaves
# mode.log there: the host's reading of the console, as TAP, of whether
# the guest really ran in that mode.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
B=$TOP/build
MODE=${1:?mode: check, run, shell or bench, optionally with -sm}
shift
BASE=${MODE%-sm}	# what the guest runs
IOMMU=legacy
[ "$BASE" != "$MODE" ] && IOMMU=sm
case $BASE in
check|run|shell|bench|mock-bench) ;;
*) echo "vm.sh: unknown mode $MODE" >&2; exit 2 ;;
esac
FLAVOUR=test
[ "$BASE" = bench ] && FLAVOUR=perf
USER_FLAVOUR=$FLAVOUR
if [ "$BASE" = mock-bench ]; then
	FLAVOUR=perf-mock
	USER_FLAVOUR=perf	# the same uAPI: the perf build's programs
fi
KOBJ=$B/kobj-$FLAVOUR
USER_OUT=$B/user-$USER_FLAVOUR
RUN=$B/vm-$MODE
VM_TIMEOUT=${VM_TIMEOUT:-2400}

# Fetched (or found) before anything is written, so that a missing QEMU 10
# stops here with scripts/qemu10.sh's word on what to run.
qemu_bin=(qemu-system-x86_64)
if [ $IOMMU = sm ]; then
	qemu_bin=()
	read -ra qemu_bin < <("$TOP/scripts/qemu10.sh") || true
	if [ ${#qemu_bin[@]} -eq 0 ]; then
		echo "vm.sh: $MODE needs QEMU 10 (scripts/qemu10.sh, above)" >&2
		exit 1
	fi
fi

mkdir -p "$RUN"
rm -f "$RUN/console.log" "$RUN/results.log" "$RUN/qemu-rc" "$RUN/tests" \
	"$RUN/label" "$RUN/mode.log"
# summarize.sh prefixes this run's results with the label.
[ $IOMMU = sm ] && echo sm > "$RUN/label"

# Tools of tools/ioasid that test themselves: in the initramfs they are
# also /tests/tools/NAME, and check mode runs them with --tap (name them
# so in TESTS, e.g. "tools/ioasid-fault-server:--tap").
SELF_TESTING_TOOLS="ioasid-fault-server ioasid-migrate"

# The QEMU test (scripts/guest/qemu-ioasid-test): the patched QEMU and a
# second-level guest, staged into the initramfs by scripts/qemu-ioasid.sh
# when the test is to run and what it needs is built (make check and
# make run build it: the qemu-ioasid target).
QEMU_TEST=qemu/qemu-ioasid
qemu_payload() {
	[ "$FLAVOUR" = test ] && [ -x "$("$TOP/scripts/qemu-ioasid.sh" path)" ] &&
		[ -f "$B/kobj-l2/arch/x86/boot/bzImage" ] &&
		[ -x "$USER_OUT/bin/edu-dma" ]
}

# What the guest runs in check mode: every test program, unless named.
default_tests() {
	local f

	for f in "$USER_OUT"/selftests/* "$USER_OUT"/lib/tests/*; do
		[ -f "$f" ] && [ -x "$f" ] && echo "${f#"$USER_OUT"/}"
	done
	for f in $SELF_TESTING_TOOLS; do
		[ -x "$USER_OUT/bin/$f" ] && echo "tools/$f:--tap"
	done
	# QEMU on /dev/ioasid with a nested guest, in the first VM (the test
	# kernel, legacy VT-d). Never left out quietly: unbuilt, its staging
	# below stops the run and says what to build.
	[ "$FLAVOUR" = test ] && [ $IOMMU = legacy ] && echo "$QEMU_TEST"
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
mkdir -p "$root/tests/tools"
for f in $SELF_TESTING_TOOLS; do
	if [ -x "$root/bin/$f" ]; then
		ln -s "/bin/$f" "$root/tests/tools/$f"
	fi
done
case " $TESTS " in
*" $QEMU_TEST "* | *" $QEMU_TEST:"*) want_qemu=1 ;;
*) want_qemu=0 ;;
esac
case $BASE in
run|shell) [ $IOMMU = legacy ] && qemu_payload && want_qemu=1 ;;
esac
[ $want_qemu -eq 1 ] && "$TOP/scripts/qemu-ioasid.sh" stage "$root" "$USER_OUT"
printf 'MODE=%s\nTESTS="%s"\n' "$BASE" "$TESTS" > "$root/etc/ioasid-run.conf"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$RUN/initramfs.cpio.gz"

# QEMU 10 takes intremap=on with scalable mode and the guest enables IRQ
# remapping there too (mode.log checks it), so the devices' MSIs stay
# isolated and neither run needs ioasid.allow_unsafe_interrupts.
iommu_dev=intel-iommu,intremap=on
intel_iommu=on
if [ $IOMMU = sm ]; then
	iommu_dev+=,x-scalable-mode=on,x-flts=on
	intel_iommu=on,sm_on
fi

append="console=ttyS0 intel_iommu=$intel_iommu panic_on_warn=1 panic=-1 oops=panic"
append+=" kasan.fault=panic nokaslr"
# The boot's check that the timer interrupt arrives through the remapped
# IO-APIC gives up after a few host ticks; a TCG guest on a busy host
# misses them and panics. The timer works: skip the check.
append+=" no_timer_check"
[ "$BASE" = check ] || append+=" quiet"

# The benchmark keeps 1 GiB of 4 KiB pages and 1 GiB of THP at once; the
# mock one 1 GiB, mapped in both mock IOMMUs.
mem=2G
[ "$BASE" = bench ] && mem=4G
[ "$BASE" = mock-bench ] && mem=3G

# The fault benchmark drives mock IOMMUs only. iommufd's mock registers
# without a firmware node, as VT-d does, and the iommu core gives its
# devices to the first such IOMMU: so no VT-d there, and no edu either.
devices=(-device "$iommu_dev" -device edu -device edu
	 -device "pcie-root-port,id=rp1,chassis=1" -device "edu,bus=rp1")
if [ "$BASE" = mock-bench ]; then
	devices=()
	append=${append/intel_iommu=$intel_iommu/intel_iommu=off}
fi

qemu=("${qemu_bin[@]}" -machine q35 -accel tcg -cpu max -smp 2 -m $mem
      "${devices[@]}"
      -kernel "$KOBJ/arch/x86/boot/bzImage" -initrd "$RUN/initramfs.cpio.gz"
      -append "$append" -display none -no-reboot -monitor none)

if [ "$BASE" = shell ]; then
	exec "${qemu[@]}" -serial mon:stdio -serial null
fi

echo ">> booting the VM ($MODE, ${VM_TIMEOUT}s limit); console log: ${RUN#"$TOP"/}/console.log"
: > "$RUN/console.log"
: > "$RUN/results.log"
timeout -k 10 "$VM_TIMEOUT" "${qemu[@]}" \
	-serial file:"$RUN/console.log" -serial file:"$RUN/results.log" &
qpid=$!
if [ "$BASE" = check ]; then
	# Live progress: one line per test result.
	tail -n +1 -f --pid=$qpid "$RUN/results.log" |
		grep --line-buffered -E '^(not )?ok [0-9]+ |^@@ begin' |
		sed -u "s/^/$(cat "$RUN/label" 2>/dev/null | sed 's/.$/&: /')/" || true &
else
	tail -n +1 -f --pid=$qpid "$RUN/console.log" &
fi
tpid=$!
rc=0
wait $qpid || rc=$?
wait $tpid 2>/dev/null || true
[ $rc -eq 124 ] && echo "vm: timed out after ${VM_TIMEOUT}s" >&2

echo "$rc" > "$RUN/qemu-rc"

# Did the guest run on the IOMMU it was given? The kernel says so in its
# console: the DMAR unit's capabilities (scalable mode offered, first
# stage only), intel_iommu=sm_on seen (so, with the unit offering it,
# scalable mode is used, and with no second stage the paging domains are
# first-stage: first_level_by_default()), and IRQ remapping enabled.
# Framed like a test program, for summarize.sh to count.
mode_log() {
	local con ecap

	con=$(tr -d '\r' < "$RUN/console.log")
	ecap=$(sed -n 's/.*DMAR: dmar0: reg_base_addr .* ecap \([0-9a-f]*\).*/\1/p' <<< "$con" |
		head -n 1)
	echo "@@ begin iommu_mode"
	echo "TAP version 13"
	echo "1..4"
	if [ -n "$ecap" ]; then
		echo "# dmar0 ecap 0x$ecap"
		ecap=$((16#$ecap))
		# ecap bits (drivers/iommu/intel/iommu.h): SMTS 43, SLTS 46, FLTS 47.
		tap $(( (ecap >> 43) & 1 )) "the IOMMU offers scalable mode (ecap SMTS)"
		tap $(( ((ecap >> 47) & 1) && !((ecap >> 46) & 1) )) \
			"the IOMMU offers first-stage tables only (ecap FLTS, no SLTS)"
	else
		tap 0 "the IOMMU offers scalable mode (no DMAR line in the console)"
		tap 0 "the IOMMU offers first-stage tables only (no DMAR line in the console)"
	fi
	tap "$(grep -c 'DMAR: Enable scalable mode if hardware supports' <<< "$con")" \
		"the guest asked for scalable mode (intel_iommu=on,sm_on)"
	tap "$(grep -c 'DMAR-IR: Enabled IRQ remapping' <<< "$con")" \
		"the guest enabled IRQ remapping"
	# Blocked DMA (if the tests made any) shows the tables' format.
	echo "# DMA faults on first-stage entries:" \
	     "$(grep -c 'fault reason .* SM: .* first-level paging entry' <<< "$con")"
	echo "@@ end iommu_mode rc=0"
}
n_tap=0
tap() {
	n_tap=$((n_tap + 1))
	if [ "$1" -gt 0 ]; then
		echo "ok $n_tap $2"
	else
		echo "not ok $n_tap $2"
	fi
}
if [ "$MODE" = check-sm ]; then
	mode_log > "$RUN/mode.log"
	grep -E '^(not )?ok |^# ' "$RUN/mode.log" | sed 's/^/sm: /'
fi

# check.sh judges a test run; other modes are judged on splats alone.
[ "$BASE" = check ] && exit 0
if [ "$BASE" = run ] && ! tr -d '\r' < "$RUN/console.log" | grep -q '^demo: PASS'; then
	echo "run: the demo did not pass; see ${RUN#"$TOP"/}/console.log" >&2
	exit 1
fi
if [ "$BASE" = run ] && [ $want_qemu -eq 1 ] &&
   ! tr -d '\r' < "$RUN/console.log" | grep -q '^QEMU on /dev/ioasid: PASS'; then
	echo "run: QEMU on /dev/ioasid did not pass; see ${RUN#"$TOP"/}/console.log" >&2
	exit 1
fi
if [ "$BASE" = mock-bench ]; then
	if ! tr -d '\r' < "$RUN/console.log" | grep -q '^mock-bench: done'; then
		echo "mock-bench: did not finish; see ${RUN#"$TOP"/}/console.log" >&2
		exit 1
	fi
	tr -d '\r' < "$RUN/results.log" | grep '^{' |
		sed -e '1s/^/[\n/' -e '$!s/$/,/' -e '$s/$/\n]/' > "$B/$MODE.json" || true
	echo ">> results in ${B#"$TOP"/}/$MODE.json"
fi
if [ "$BASE" = bench ]; then
	if ! tr -d '\r' < "$RUN/console.log" | grep -q '^bench: done'; then
		echo "bench: did not finish; see ${RUN#"$TOP"/}/console.log" >&2
		exit 1
	fi
	# The objects the guest wrote one a line, as one JSON array.
	json=$B/$MODE.json	# bench.json, or bench-sm.json
	tr -d '\r' < "$RUN/results.log" | grep '^{' |
		sed -e '1s/^/[\n/' -e '$!s/$/,/' -e '$s/$/\n]/' > "$json" || true
	[ -s "$json" ] || { echo "bench: no results" >&2; exit 1; }
	echo ">> $(grep -c '^{' "$json") results in ${json#"$TOP"/}"
	# The chart, from the rows the guest marked for it.
	data=$B/$MODE.dat
	tr -d '\r' < "$RUN/results.log" | sed -n 's/^plot\t//p' > "$data"
	gnuplot -e "data='$data'; png='$B/$MODE.png'" "$TOP/scripts/bench.gp"
	echo ">> chart in ${B#"$TOP"/}/$MODE.png"
fi
"$TOP/scripts/summarize.sh" --splats-only "$RUN"
