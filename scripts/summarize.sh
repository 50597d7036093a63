#!/usr/bin/env bash
# Turn a VM run into a verdict.
#
#   summarize.sh [--splats-only] RUN_DIR [HOST_LOG]
#
# RUN_DIR is what vm.sh left: console.log, results.log, tests, qemu-rc.
# Counts the TAP results framed per program in HOST_LOG (checks run on the
# host) and results.log (the guest),
# counts a program that crashed or never ran as a failure, counts every
# kernel splat in console.log as a failure, and ends with the line
# "N passed, N failed, N skipped". Exits non-zero if anything failed.
set -uo pipefail

splats_only=0
if [ "${1:-}" = --splats-only ]; then
	splats_only=1
	shift
fi
RUN=$1
HOST_LOG=${2:-/dev/null}
results=$RUN/results.log
console=$RUN/console.log
TESTS=$(cat "$RUN/tests" 2>/dev/null || true)
QEMU_RC=$(cat "$RUN/qemu-rc" 2>/dev/null || echo 255)

# Any of these in the console is a failed run, whatever the tests said.
SPLAT='WARNING:|BUG:|KASAN|kernel BUG|Oops|general protection fault|Kernel panic|
possible recursive locking|possible circular locking|inconsistent lock state|
suspicious RCU usage|INFO: task .* blocked|unreferenced object|UBSAN:|
suspected memory leaks|Call Trace:'
SPLAT=$(printf '%s' "$SPLAT" | tr -d '\n')

splats=$(tr -d '\r' < "$console" | grep -E "$SPLAT" | head -20)
nsplat=$(printf '%s' "$splats" | grep -c . || true)

if [ $splats_only -eq 1 ]; then
	if [ "$nsplat" -ne 0 ] || [ "$QEMU_RC" -ne 0 ]; then
		echo "vm: kernel splat or abnormal exit (rc=$QEMU_RC); see $console" >&2
		printf '%s\n' "$splats" >&2
		exit 1
	fi
	exit 0
fi

# Splats first, so that the summary is the last line printed.
if [ "$nsplat" -ne 0 ]; then
	echo "--- kernel splats (first lines; full log: $console) ---"
	printf '%s\n' "$splats"
fi

cat "$HOST_LOG" "$results" | tr -d '\r' | awk -v tests="$TESTS" -v nsplat="$nsplat" \
	-v qemu_rc="$QEMU_RC" '
function fail(what) { failed++; failures[failed] = what }
BEGIN { nt = split(tests, expect, " ") }
/^@@ begin / { prog = $3; began[prog] = 1; prog_failed = 0; next }
/^@@ end / {
	rc = $4; sub(/^rc=/, "", rc)
	ended[$3] = 1
	# 4 is the kselftest "skip" exit code: the results say why.
	if (rc != 0 && rc != 4 && !prog_failed)
		fail(prog ": exited with status " rc)
	prog = ""
	next
}
/^@@ done/ { done = 1; next }
prog != "" && /^ok [0-9]+ / {
	if ($0 ~ /# SKIP/) { skipped++; skips[skipped] = prog ": " $0 }
	else passed++
	next
}
prog != "" && /^not ok [0-9]+ / {
	prog_failed = 1
	if ($0 ~ /# SKIP/) { skipped++; skips[skipped] = prog ": " $0 }
	else fail(prog ": " $0)
	next
}
END {
	for (i = 1; i <= nt; i++) {
		p = expect[i]; sub(/:.*/, "", p); n = split(p, parts, "/"); p = parts[n]
		if (!(p in began)) fail(p ": never ran")
		else if (!(p in ended)) fail(p ": did not finish (crash or timeout)")
	}
	if (!done && nt) fail("the guest did not finish the run")
	if (nsplat > 0) fail("kernel splat in the console log (" nsplat " lines)")
	if (qemu_rc == 124) fail("the VM hit its timeout")
	else if (qemu_rc != 0) fail("QEMU exited with status " qemu_rc)
	for (i = 1; i <= skipped; i++) print "SKIP  " skips[i]
	for (i = 1; i <= failed; i++) print "FAIL  " failures[i]
	printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
	exit failed != 0
}'
