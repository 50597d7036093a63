#!/usr/bin/env bash
# `make check`: the host-side checks, then the tests in the VM, then the
# tests that drive the edu devices again on the second IOMMU (VT-d in
# scalable mode with first-stage page tables, on QEMU 10: vm.sh check-sm),
# then one verdict for all three. With a test selection (T=...), only
# those tests run, in the first VM alone.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
T=${1:-}
host_log=/dev/null
runs=("$TOP/build/vm-check")

# The edu cases: ioasid_vfio's edu variant (the harness's -v), its hot
# reset test (-t), and the library's VFIO tests, which bind edu. Less foreign_binding_calls_refused
# (-T, which must come first): it also attaches the device to an iommufd
# IOAS, and Linux 6.12 gives iommufd's domains second-stage tables always
# (intel_iommu_domain_alloc_user()), which this IOMMU does not offer: the
# attach fails with EINVAL ("No second level translation support on
# dmar0") before the test reaches anything of ours.
SM_TESTS="selftests/ioasid_vfio:-T,foreign_binding_calls_refused,-v,edu,-t,hot_reset_owned_devices"
SM_TESTS+=" lib/tests/vfio_test lib/tests/vfio_bind_test"

if [ -z "$T" ]; then
	# Fetched first, so that a machine without it stops now rather than
	# after the first run. Idempotent, and quick once done.
	if ! "$TOP/scripts/qemu10.sh" > /dev/null; then
		echo "check: the scalable-mode run needs QEMU 10 (above); as root:" \
		     "make setup, then make check again" >&2
		exit 1
	fi
	host_log=$TOP/build/host-checks.log
	"$TOP/scripts/host-checks.sh" > "$host_log" 2>&1
	grep -E '^(not )?ok ' "$host_log"
fi
"$TOP/scripts/vm.sh" check "$T" || exit 1
if [ -z "$T" ]; then
	echo ">> the edu tests on VT-d in scalable mode, first-stage tables (QEMU 10)"
	"$TOP/scripts/vm.sh" check-sm "$SM_TESTS" || exit 1
	runs+=("$TOP/build/vm-check-sm")
fi
exec "$TOP/scripts/summarize.sh" "${runs[@]}" "$host_log"
