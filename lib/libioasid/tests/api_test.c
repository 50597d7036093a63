// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid tests: opening the device, the API version, extensions, and
 * the error convention of every ioctl wrapper.
 *
 * The cases before open_flags need no /dev/ioasid and pass anywhere; the
 * rest need the device and bail out without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "libioasid.h"
#include "tap.h"

/* An fd of /dev/ioasid for a case, or bail out: nothing could pass. */
static int device_fd(void)
{
	int fd = ioasid_open();

	if (fd < 0)
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));
	return fd;
}

static void extension_names(void)
{
	const char *name;

	/* Extension 0 is the placeholder and must have its table entry. */
	name = ioasid_extension_name(IOASID_EXT_NONE);
	tap_ok(name && !strcmp(name, "none"),
	       "extension_name(IOASID_EXT_NONE) is \"none\"");

	/* A number no kernel has assigned gets NULL, not a made-up name. */
	tap_ok(!ioasid_extension_name(UINT32_MAX),
	       "extension_name(UINT32_MAX) is NULL");
}

/* Each wrapper passes the kernel's EBADF through as -EBADF. */
static void closed_fd_is_ebadf(void)
{
	struct ioasid_cmd_get_info info;
	__u32 version, id;

	tap_is(ioasid_get_api_version(-1, &version), -EBADF,
	       "get_api_version on fd -1 is -EBADF");
	tap_is(ioasid_check_extension(-1, IOASID_EXT_NONE), -EBADF,
	       "check_extension on fd -1 is -EBADF");
	tap_is(ioasid_alloc(-1, &id), -EBADF, "alloc on fd -1 is -EBADF");
	tap_is(ioasid_free(-1, 1), -EBADF, "free on fd -1 is -EBADF");
	tap_is(ioasid_get_info(-1, 1, &info, NULL, 0), -EBADF,
	       "get_info on fd -1 is -EBADF");
}

/*
 * An fd of another driver rejects our ioctl numbers: the wrappers must
 * report that, not invent a success from a zeroed struct.
 */
static void foreign_fd_is_enotty(void)
{
	struct ioasid_iova_range range;
	struct ioasid_cmd_get_info info;
	__u32 version, id;
	int null_fd;

	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		tap_bail("cannot open /dev/null: %s", strerror(errno));
	tap_is(ioasid_get_api_version(null_fd, &version), -ENOTTY,
	       "get_api_version on /dev/null is -ENOTTY");
	tap_is(ioasid_check_extension(null_fd, IOASID_EXT_NONE), -ENOTTY,
	       "check_extension on /dev/null is -ENOTTY");
	tap_is(ioasid_alloc(null_fd, &id), -ENOTTY,
	       "alloc on /dev/null is -ENOTTY");
	tap_is(ioasid_free(null_fd, 1), -ENOTTY,
	       "free on /dev/null is -ENOTTY");
	tap_is(ioasid_get_info(null_fd, 1, &info, &range, 1), -ENOTTY,
	       "get_info on /dev/null is -ENOTTY");
	close(null_fd);
}

/* The header's promise: a failure is only in the return value. */
static void errno_kept_on_failure(void)
{
	int ret;

	errno = EDOM;
	ret = ioasid_free(-1, 1);
	tap_ok(ret == -EBADF && errno == EDOM,
	       "a failing call leaves errno as it was");
}

/*
 * Bad arguments are caught before the ioctl, so even a bad fd gets
 * -EINVAL, and nothing is dereferenced.
 */
static void null_output_is_einval(void)
{
	struct ioasid_cmd_get_info info;

	tap_is(ioasid_get_api_version(-1, NULL), -EINVAL,
	       "get_api_version with NULL version is -EINVAL");
	tap_is(ioasid_alloc(-1, NULL), -EINVAL,
	       "alloc with NULL out_ioasid is -EINVAL");
	tap_is(ioasid_get_info(-1, 1, NULL, NULL, 0), -EINVAL,
	       "get_info with NULL info is -EINVAL");
	tap_is(ioasid_get_info(-1, 1, &info, NULL, 1), -EINVAL,
	       "get_info with NULL ranges and nr_ranges 1 is -EINVAL");
}

/* A VMM forks helpers; the fd must not leak into them. */
static void open_flags(void)
{
	int fd, flags;

	/* From here on the device is needed; without it nothing can pass. */
	fd = ioasid_open();
	if (!tap_ok(fd >= 0, "ioasid_open"))
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));

	flags = fcntl(fd, F_GETFD);
	tap_ok(flags >= 0 && (flags & FD_CLOEXEC),
	       "ioasid_open sets FD_CLOEXEC");
	flags = fcntl(fd, F_GETFL);
	tap_ok(flags >= 0 && (flags & O_ACCMODE) == O_RDWR,
	       "ioasid_open opens O_RDWR");
	close(fd);
}

/* The library and the kernel speak the same incompatible-change era. */
static void api_version(void)
{
	int fd = device_fd();
	__u32 version = 0;
	int ret;

	ret = ioasid_get_api_version(fd, &version);
	tap_ok(!ret && version == IOASID_API_VERSION,
	       "get_api_version is IOASID_API_VERSION (%d): ret %d, got %u",
	       IOASID_API_VERSION, ret, version);
	close(fd);
}

static void unsupported_extension_is_zero(void)
{
	int fd = device_fd();

	/* EXT_NONE is defined as never supported. */
	tap_is(ioasid_check_extension(fd, IOASID_EXT_NONE), 0,
	       "check_extension(IOASID_EXT_NONE) is 0");

	/* Unknown numbers are "no", so old kernels answer new programs. */
	tap_is(ioasid_check_extension(fd, UINT32_MAX), 0,
	       "check_extension(UINT32_MAX) is 0, not an error");
	close(fd);
}

static void errno_kept_on_success(void)
{
	int fd = device_fd();
	__u32 version;
	int ret;

	errno = EDOM;
	ret = ioasid_get_api_version(fd, &version);
	tap_ok(!ret && errno == EDOM, "a successful call leaves errno alone");
	close(fd);
}

static const struct tap_case cases[] = {
	TAP_CASE(extension_names),
	TAP_CASE(closed_fd_is_ebadf),
	TAP_CASE(foreign_fd_is_enotty),
	TAP_CASE(errno_kept_on_failure),
	TAP_CASE(null_output_is_einval),
	TAP_CASE(open_flags),
	TAP_CASE(api_version),
	TAP_CASE(unsupported_extension_is_zero),
	TAP_CASE(errno_kept_on_success),
};

int main(void)
{
	return tap_main(cases, TAP_NR_CASES(cases), NULL);
}
