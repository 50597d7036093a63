#!/usr/bin/env bash
# `make check`: the host-side checks, then the tests in the VM, then one
# verdict for both. With a test selection (T=...), only those tests run.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
T=${1:-}
host_log=/dev/null

if [ -z "$T" ]; then
	host_log=$TOP/build/host-checks.log
	"$TOP/scripts/host-checks.sh" > "$host_log" 2>&1
	grep -E '^(not )?ok ' "$host_log"
fi
"$TOP/scripts/vm.sh" check "$T" || exit 1
exec "$TOP/scripts/summarize.sh" "$TOP/build/vm-check" "$host_log"
