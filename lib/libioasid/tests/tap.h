/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * A small TAP 13 writer for the libioasid tests.
 *
 * A test program is a table of cases, one function per behaviour, named
 * after it. tap_main() runs them in order and puts the name of the case
 * in front of each of its results, so a failure says what broke. The
 * plan comes last ("1..N", which TAP allows): it is counted, not written
 * down, and a case that checks nothing is itself a failure.
 *
 * The tests run in a busybox initramfs where only stdout and the exit
 * status reach the host, so each result is one line and the exit status
 * says whether any check failed.
 */
#ifndef LIBIOASID_TESTS_TAP_H
#define LIBIOASID_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tap_case {
	const char *name;
	void (*run)(void);
};

#define TAP_CASE(fn)	{ #fn, fn }
#define TAP_NR_CASES(cases)	(sizeof(cases) / sizeof((cases)[0]))

static const char *tap_case_name;
static unsigned int tap_run;
static unsigned int tap_failed;

static inline void tap_vresult(int ok, const char *directive,
			       const char *fmt, va_list ap)
{
	tap_run++;
	if (!ok)
		tap_failed++;
	printf("%sok %u - ", ok ? "" : "not ", tap_run);
	if (tap_case_name)
		printf("%s: ", tap_case_name);
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

/*
 * A step a case needs before it can check anything: silent when it
 * works, a failed check naming the step when it does not. Returns
 * whether it worked.
 */
static inline int tap_setup(int ret, const char *fmt, ...)
{
	va_list ap;

	if (!ret)
		return 1;
	va_start(ap, fmt);
	tap_vresult(0, NULL, fmt, ap);
	va_end(ap);
	tap_diag("setup failed: %s", ret < 0 ? strerror(-ret) : "?");
	return 0;
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
	if (tap_case_name)
		printf("%s: ", tap_case_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(EXIT_FAILURE);
}

/*
 * Run @cases in order, then print the plan. @after, if not NULL, runs
 * after each case, to put shared state back whatever the case left.
 * Returns the exit status: failure if any check failed.
 */
static inline int tap_main(const struct tap_case *cases, size_t nr_cases,
			   void (*after)(void))
{
	unsigned int before;
	size_t i;

	printf("TAP version 13\n");
	for (i = 0; i < nr_cases; i++) {
		tap_case_name = cases[i].name;
		before = tap_run;
		cases[i].run();
		if (tap_run == before)
			tap_ok(0, "checked nothing");
		if (after)
			after();
	}
	tap_case_name = NULL;
	printf("1..%u\n", tap_run);
	fflush(stdout);
	return tap_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* LIBIOASID_TESTS_TAP_H */
