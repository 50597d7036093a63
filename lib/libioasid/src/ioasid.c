// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid: opening /dev/ioasid and the ioctl wrappers.
 *
 * Each wrapper builds its uAPI struct on the stack with size set to the
 * struct this library was built against and every other input zero, so
 * callers never deal with the extensible-struct rules. All ioctls go
 * through ioasid_ioctl(), the one place where libc's convention (-1 and
 * errno) becomes ours (-errno, errno left as the caller had it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "libioasid.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define IOASID_DEV_PATH	"/dev/ioasid"

/* The ioctl funnel: every request of this library passes here. */
static int ioasid_ioctl(int fd, unsigned long request, void *arg)
{
	int saved_errno = errno;
	int ret;

	ret = ioctl(fd, request, arg);
	if (ret < 0)
		ret = -errno;
	errno = saved_errno;
	return ret;
}

int ioasid_open(void)
{
	int saved_errno = errno;
	int fd;

	fd = open(IOASID_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	errno = saved_errno;
	return fd;
}

int ioasid_get_api_version(int fd, __u32 *version)
{
	struct ioasid_api_version cmd = { .size = sizeof(cmd) };
	int ret;

	if (!version)
		return -EINVAL;
	ret = ioasid_ioctl(fd, IOASID_GET_API_VERSION, &cmd);
	if (ret)
		return ret;
	*version = cmd.out_version;
	return 0;
}

int ioasid_check_extension(int fd, __u32 extension)
{
	struct ioasid_check_extension cmd = {
		.size = sizeof(cmd),
		.extension = extension,
	};
	int ret;

	ret = ioasid_ioctl(fd, IOASID_CHECK_EXTENSION, &cmd);
	if (ret)
		return ret;
	/* The uAPI promises 0 or 1; fold anything else so callers can rely. */
	return !!cmd.out_supported;
}

/*
 * Indexed by enum ioasid_extension. Numbers are never reused, so a hole
 * (NULL) can only mean a number newer than this library.
 */
static const char *const ioasid_extension_names[] = {
	[IOASID_EXT_NONE] = "none",
};

const char *ioasid_extension_name(__u32 extension)
{
	if (extension >= ARRAY_SIZE(ioasid_extension_names))
		return NULL;
	return ioasid_extension_names[extension];
}

int ioasid_alloc(int fd, __u32 *out_ioasid)
{
	struct ioasid_alloc cmd = { .size = sizeof(cmd) };
	int ret;

	if (!out_ioasid)
		return -EINVAL;
	ret = ioasid_ioctl(fd, IOASID_ALLOC, &cmd);
	if (ret)
		return ret;
	*out_ioasid = cmd.out_ioasid;
	return 0;
}

int ioasid_free(int fd, __u32 ioasid)
{
	struct ioasid_free cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
	};

	return ioasid_ioctl(fd, IOASID_FREE, &cmd);
}

int ioasid_get_info(int fd, __u32 ioasid, struct ioasid_get_info *info,
		    struct ioasid_iova_range *ranges, __u32 nr_ranges)
{
	struct ioasid_get_info cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
		.num_iova_ranges = nr_ranges,
		.iova_ranges = (uintptr_t)ranges,
	};
	int ret;

	if (!info || (nr_ranges && !ranges))
		return -EINVAL;
	/* Work on a copy so that a failure leaves the caller's struct alone. */
	ret = ioasid_ioctl(fd, IOASID_GET_INFO, &cmd);
	if (ret)
		return ret;
	*info = cmd;
	return 0;
}
