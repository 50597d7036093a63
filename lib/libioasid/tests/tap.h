/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * A small TAP 13 writer for the libioasid tests.
 *
 * The tests run in a busybox initramfs where only stdout and the exit
 * status reach the host, so each result is one line and the exit status
 * says whether any check failed or the plan was not met.
 */
#ifndef LIBIOASID_TESTS_TAP_H
#define LIBIOASID_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned int tap_planned;
static unsigned int tap_run;
static unsigned int tap_failed;

static inline void tap_plan(unsigned int n)
{
	tap_planned = n;
	printf("TAP version 13\n1..%u\n", n);
	fflush(stdout);
}

static inline void tap_vresult(int ok, const char *directive,
			       const char *fmt, va_list ap)
{
	tap_run++;
	if (!ok)
		tap_failed++;
	printf("%sok %u - ", ok ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	if (directive)
		printf(" # %s", directive);
	putchar('\n');
	/* Flush per line: a crash must not eat results already earned. */
	fflush(stdout);
}

/* Record one check; returns @ok so a caller can skip what depends on it. */
static inline int tap_ok(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(ok, NULL, fmt, ap);
	va_end(ap);
	return ok;
}

static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/*
 * Check a library return value against the one expected; on a mismatch
 * say what came back, by errno name where it is one.
 */
static inline int tap_is(long long got, long long want, const char *fmt, ...)
{
	int ok = got == want;
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(ok, NULL, fmt, ap);
	va_end(ap);
	if (!ok)
		tap_diag("got %lld (%s), want %lld (%s)",
			 got, got < 0 ? strerror((int)-got) : "ok",
			 want, want < 0 ? strerror((int)-want) : "ok");
	return ok;
}

/* Only for a check that cannot apply here, never for one that failed. */
static inline void tap_skip(const char *reason, const char *fmt, ...)
{
	char directive[256];
	va_list ap;

	snprintf(directive, sizeof(directive), "SKIP %s", reason);
	va_start(ap, fmt);
	tap_vresult(1, directive, fmt, ap);
	va_end(ap);
}

/* Give up: later checks would only repeat the same failure. */
static inline void tap_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(EXIT_FAILURE);
}

/* The exit status: failure if any check failed or the plan was missed. */
static inline int tap_finish(void)
{
	if (tap_run != tap_planned) {
		tap_diag("planned %u tests but ran %u", tap_planned, tap_run);
		return EXIT_FAILURE;
	}
	return tap_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* LIBIOASID_TESTS_TAP_H */
