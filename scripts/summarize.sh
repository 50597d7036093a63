#!/usr/bin/env bash
# Turn one or more VM runs into one verdict.
#
#   summarize.sh [--splats-only] RUN_DIR... [HOST_LOG]
#
# A RUN_DIR is what vm.sh left: console.log, results.log, tests, qemu-rc,
# and maybe label (a word for this run's results: "sm" gives
# "sm: ioasid_vfio: not ok ...") and mode.log (the host's TAP on how the
# guest booted). HOST_LOG, any argument that is not a directory, holds the
# TAP of the checks run on the host.
# Counts the TAP results framed per program in HOST_LOG and in each run's
# results.log and mode.log,
# counts a program that crashed or never ran as a failure, counts every
# kernel splat in a console.log as a failure, and ends with the line
# "N passed, N failed, N skipped". Exits non-zero if anything failed.
#
# With --splats-only, it says nothing unless a console has a splat or QEMU
# exited abnormally, and then fails.
set -uo pipefail

splats_only=0
if [ "${1:-}" = --splats-only ]; then
	splats_only=1
	shift
fi
RUNS=()
HOST_LOG=/dev/null
for a in "$@"; do
	if [ -d "$a" ]; then
		RUNS+=("${a%/}")
	else
		HOST_LOG=$a
	fi
done
if [ ${#RUNS[@]} -eq 0 ]; then
	echo "usage: summarize.sh [--splats-only] RUN_DIR... [HOST_LOG]" >&2
	exit 2
fi

# Any of these in the console is a failed run, whatever the tests said.
SPLAT='WARNING:|BUG:|KASAN|kernel BUG|Oops|general protection fault|Kernel panic|
possible recursive locking|possible circular locking|inconsistent lock state|
suspicious RCU usage|INFO: task .* blocked|unreferenced object|UBSAN:|
suspected memory leaks|Call Trace:'
SPLAT=$(printf '%s' "$SPLAT" | tr -d '\n')

# Per run: its label ("" for none), with ": " when set, for messages.
label_of() {
	local l

	l=$(cat "$1/label" 2>/dev/null || true)
	echo "${l:+$l: }"
}
splats_of() { tr -d '\r' < "$1/console.log" | grep -E "$SPLAT" | head -20; }
qemu_rc_of() { cat "$1/qemu-rc" 2>/dev/null || echo 255; }

if [ $splats_only -eq 1 ]; then
	bad=0
	for run in "${RUNS[@]}"; do
		splats=$(splats_of "$run")
		qemu_rc=$(qemu_rc_of "$run")
		if [ -n "$splats" ] || [ "$qemu_rc" -ne 0 ]; then
			echo "vm: $(label_of "$run")kernel splat or abnormal exit (rc=$qemu_rc);" \
			     "see $run/console.log" >&2
			printf '%s\n' "$splats" >&2
			bad=1
		fi
	done
	exit $bad
fi

# Splats first, so that the summary is the last line printed.
for run in "${RUNS[@]}"; do
	splats=$(splats_of "$run")
	if [ -n "$splats" ]; then
		echo "--- $(label_of "$run")kernel splats (first lines; full log: $run/console.log) ---"
		printf '%s\n' "$splats"
	fi
done

# One stream for awk: each source opens with a tab-separated header,
#   @@@ run LABEL KIND QEMU_RC NSPLAT TESTS
# KIND is "host" (no VM to judge) or "vm".
stream() {
	local run splats nsplat

	printf '@@@ run\t\thost\t0\t0\t\n'
	cat "$HOST_LOG"
	for run in "${RUNS[@]}"; do
		splats=$(splats_of "$run")
		nsplat=$(printf '%s' "$splats" | grep -c . || true)
		printf '@@@ run\t%s\tvm\t%s\t%s\t%s\n' "$(cat "$run/label" 2>/dev/null || true)" \
			"$(qemu_rc_of "$run")" "$nsplat" \
			"$(cat "$run/tests" 2>/dev/null | tr '\t\n' '  ' || true)"
		cat "$run/results.log"
		[ ! -f "$run/mode.log" ] || cat "$run/mode.log"
	done
}

stream | tr -d '\r' | awk '
function fail(what) { failed++; failures[failed] = pfx what }
# The checks a run gets once all its lines are in.
function end_run(   i, p, n, parts) {
	if (kind != "vm")
		return
	for (i = 1; i <= nt; i++) {
		p = expect[i]; sub(/:.*/, "", p); n = split(p, parts, "/"); p = parts[n]
		if (!(p in began)) fail(p ": never ran")
		else if (!(p in ended)) fail(p ": did not finish (crash or timeout)")
	}
	if (!done && nt) fail("the guest did not finish the run")
	if (nsplat > 0) fail("kernel splat in the console log (" nsplat " lines)")
	if (qemu_rc == 124) fail("the VM hit its timeout")
	else if (qemu_rc != 0) fail("QEMU exited with status " qemu_rc)
}
/^@@@ run\t/ {
	end_run()
	split($0, h, "\t")
	pfx = h[2] != "" ? h[2] ": " : ""
	kind = h[3]; qemu_rc = h[4] + 0; nsplat = h[5] + 0
	nt = split(h[6], expect, " ")
	split("", began); split("", ended)
	prog = ""; done = 0
	next
}
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
	if ($0 ~ /# SKIP/) { skipped++; skips[skipped] = pfx prog ": " $0 }
	else passed++
	next
}
prog != "" && /^not ok [0-9]+ / {
	prog_failed = 1
	if ($0 ~ /# SKIP/) { skipped++; skips[skipped] = pfx prog ": " $0 }
	else fail(prog ": " $0)
	next
}
END {
	end_run()
	for (i = 1; i <= skipped; i++) print "SKIP  " skips[i]
	for (i = 1; i <= failed; i++) print "FAIL  " failures[i]
	printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
	exit failed != 0
}'
