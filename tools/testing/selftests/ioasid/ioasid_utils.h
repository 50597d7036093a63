/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the ioasid selftests.
 *
 * Each ioctl gets a triplet: _test_x() issues it and returns 0 or -errno;
 * test_x() asserts it succeeded; test_err_x() asserts it failed with the
 * given errno. The asserting forms need the harness's _metadata in scope.
 */
#ifndef __SELFTEST_IOASID_UTILS_H
#define __SELFTEST_IOASID_UTILS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/ioasid.h>

#include "../kselftest_harness.h"

static inline int ioasid_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

#define test_cmd(_expr) ASSERT_EQ(0, _expr)
#define test_err_cmd(_errno, _expr) ASSERT_EQ(-(_errno), _expr)

static inline int _test_ioctl_alloc(int fd, __u32 *ioasid)
{
	struct ioasid_alloc cmd = { .size = sizeof(cmd) };
	int ret;

	ret = ioasid_ioctl(fd, IOASID_ALLOC, &cmd);
	if (!ret && ioasid)
		*ioasid = cmd.out_ioasid;
	return ret;
}

#define test_ioctl_alloc(fd, ioasid) test_cmd(_test_ioctl_alloc(fd, ioasid))
#define test_err_ioctl_alloc(_errno, fd, ioasid) \
	test_err_cmd(_errno, _test_ioctl_alloc(fd, ioasid))

static inline int _test_ioctl_free(int fd, __u32 ioasid)
{
	struct ioasid_free cmd = { .size = sizeof(cmd), .ioasid = ioasid };

	return ioasid_ioctl(fd, IOASID_FREE, &cmd);
}

#define test_ioctl_free(fd, ioasid) test_cmd(_test_ioctl_free(fd, ioasid))
#define test_err_ioctl_free(_errno, fd, ioasid) \
	test_err_cmd(_errno, _test_ioctl_free(fd, ioasid))

static inline int _test_ioctl_get_info(int fd, __u32 ioasid,
				       struct ioasid_get_info *info,
				       struct ioasid_iova_range *ranges,
				       __u32 nr_ranges)
{
	*info = (struct ioasid_get_info){
		.size = sizeof(*info),
		.ioasid = ioasid,
		.num_iova_ranges = nr_ranges,
		.iova_ranges = (uintptr_t)ranges,
	};
	return ioasid_ioctl(fd, IOASID_GET_INFO, info);
}

#define test_ioctl_get_info(fd, ioasid, info, ranges, nr) \
	test_cmd(_test_ioctl_get_info(fd, ioasid, info, ranges, nr))
#define test_err_ioctl_get_info(_errno, fd, ioasid, info, ranges, nr) \
	test_err_cmd(_errno, _test_ioctl_get_info(fd, ioasid, info, ranges, nr))

static inline int _test_ioctl_check_extension(int fd, __u32 ext,
					      __u32 *supported)
{
	struct ioasid_check_extension cmd = {
		.size = sizeof(cmd),
		.extension = ext,
	};
	int ret;

	ret = ioasid_ioctl(fd, IOASID_CHECK_EXTENSION, &cmd);
	if (!ret)
		*supported = cmd.out_supported;
	return ret;
}

#define test_ioctl_check_extension(fd, ext, supported) \
	test_cmd(_test_ioctl_check_extension(fd, ext, supported))

#endif /* __SELFTEST_IOASID_UTILS_H */
