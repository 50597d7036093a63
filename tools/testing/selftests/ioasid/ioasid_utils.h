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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/ioasid.h>
#include <linux/iommufd.h>

#include "../kselftest_harness.h"
#include "../../../../drivers/iommu/ioasid/ioasid_test.h"

#define SZ_2M (2UL << 20)

/* The CPU page size, set before any test runs. */
static unsigned long PAGE_SIZE;

static void __attribute__((constructor)) ioasid_page_size_init(void)
{
	PAGE_SIZE = sysconf(_SC_PAGESIZE);
}

static inline int ioasid_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

#define test_cmd(_expr) ASSERT_EQ(0, _expr)
#define test_err_cmd(_errno, _expr) ASSERT_EQ(-(_errno), _expr)

static inline int _test_ioctl_alloc(int fd, __u32 *ioasid)
{
	struct ioasid_cmd_alloc cmd = { .size = sizeof(cmd) };
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
	struct ioasid_cmd_free cmd = { .size = sizeof(cmd), .ioasid = ioasid };

	return ioasid_ioctl(fd, IOASID_FREE, &cmd);
}

#define test_ioctl_free(fd, ioasid) test_cmd(_test_ioctl_free(fd, ioasid))
#define test_err_ioctl_free(_errno, fd, ioasid) \
	test_err_cmd(_errno, _test_ioctl_free(fd, ioasid))

static inline int _test_ioctl_get_info(int fd, __u32 ioasid,
				       struct ioasid_cmd_get_info *info,
				       struct ioasid_iova_range *ranges,
				       __u32 nr_ranges)
{
	*info = (struct ioasid_cmd_get_info){
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
	struct ioasid_cmd_check_extension cmd = {
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

static inline int _test_ioctl_register(int fd, void *vaddr, size_t length,
				       unsigned long req)
{
	struct ioasid_cmd_register_memory cmd = {
		.size = sizeof(cmd),
		.vaddr = (uintptr_t)vaddr,
		.length = length,
	};

	return ioasid_ioctl(fd, req, &cmd);
}

#define test_ioctl_register(fd, va, len) \
	test_cmd(_test_ioctl_register(fd, va, len, IOASID_REGISTER_MEMORY))
#define test_err_ioctl_register(_errno, fd, va, len) \
	test_err_cmd(_errno, _test_ioctl_register(fd, va, len, \
						  IOASID_REGISTER_MEMORY))
#define test_ioctl_unregister(fd, va, len) \
	test_cmd(_test_ioctl_register(fd, va, len, IOASID_UNREGISTER_MEMORY))
#define test_err_ioctl_unregister(_errno, fd, va, len) \
	test_err_cmd(_errno, _test_ioctl_register(fd, va, len, \
						  IOASID_UNREGISTER_MEMORY))

static inline int _test_ioctl_map(int fd, __u32 ioasid, void *vaddr,
				  __u64 iova, size_t length, __u32 flags)
{
	struct ioasid_cmd_dma_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioasid = ioasid,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.length = length,
	};

	return ioasid_ioctl(fd, IOASID_DMA_MAP, &cmd);
}

#define MAP_RW (IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE)
/* What a mock IOMMU entry of a MAP_RW mapping holds. */
#define MOCK_PROT_RW (IOASID_TEST_PROT_READ | IOASID_TEST_PROT_WRITE)
#define test_ioctl_map(fd, id, va, iova, len) \
	test_cmd(_test_ioctl_map(fd, id, va, iova, len, MAP_RW))
#define test_err_ioctl_map(_errno, fd, id, va, iova, len) \
	test_err_cmd(_errno, _test_ioctl_map(fd, id, va, iova, len, MAP_RW))

static inline int _test_ioctl_unmap(int fd, __u32 ioasid, __u64 iova,
				    __u64 length, __u32 flags,
				    __u64 *unmapped)
{
	struct ioasid_cmd_dma_unmap cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioasid = ioasid,
		.iova = iova,
		.length = length,
	};
	int ret;

	ret = ioasid_ioctl(fd, IOASID_DMA_UNMAP, &cmd);
	if (!ret && unmapped)
		*unmapped = cmd.out_unmapped;
	return ret;
}

/* Unmap and insist on exactly @expect bytes having gone. */
#define test_ioctl_unmap(fd, id, iova, len, expect)			\
	({								\
		__u64 __unmapped = 0;					\
		test_cmd(_test_ioctl_unmap(fd, id, iova, len, 0,	\
					   &__unmapped));		\
		ASSERT_EQ((__u64)(expect), __unmapped);			\
	})
#define test_err_ioctl_unmap(_errno, fd, id, iova, len) \
	test_err_cmd(_errno, _test_ioctl_unmap(fd, id, iova, len, 0, NULL))

static inline int _test_ioctl_create_nesting(int fd, __u32 parent,
					     __u32 kind, __u32 *child)
{
	struct ioasid_cmd_create_nesting cmd = {
		.size = sizeof(cmd),
		.parent = parent,
		.kind = kind,
	};
	int ret;

	ret = ioasid_ioctl(fd, IOASID_CREATE_NESTING, &cmd);
	if (!ret && child)
		*child = cmd.out_ioasid;
	return ret;
}

#define test_ioctl_create_nesting(fd, parent, child)			\
	test_cmd(_test_ioctl_create_nesting(fd, parent,			\
					    IOASID_NESTING_SOFTWARE, child))

/* Map a child IOVA range from its parent's IOVA (a GPA). */
static inline int _test_ioctl_map_from_parent(int fd, __u32 child,
					      __u64 parent_iova, __u64 iova,
					      __u64 length, __u32 flags)
{
	struct ioasid_cmd_dma_map cmd = {
		.size = sizeof(cmd),
		.flags = flags | IOASID_DMA_MAP_FROM_PARENT,
		.ioasid = child,
		.parent_iova = parent_iova,
		.iova = iova,
		.length = length,
	};

	return ioasid_ioctl(fd, IOASID_DMA_MAP, &cmd);
}

#define test_ioctl_map_from_parent(fd, child, gpa, iova, len)		\
	test_cmd(_test_ioctl_map_from_parent(fd, child, gpa, iova, len,	\
					     MAP_RW))
#define test_err_ioctl_map_from_parent(_errno, fd, child, gpa, iova, len) \
	test_err_cmd(_errno, _test_ioctl_map_from_parent(fd, child, gpa, \
							 iova, len, MAP_RW))

/* Hardware nesting: a VT-d first-stage table bound, unbound, invalidated. */
static inline int _test_bind(int fd, __u32 ioasid, __u32 format,
			     __u64 root, __u32 addr_width)
{
	struct iommu_hwpt_vtd_s1 data = {
		.pgtbl_addr = root,
		.addr_width = addr_width,
	};
	struct ioasid_cmd_bind_pgtable cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
		.format = format,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};

	return ioasid_ioctl(fd, IOASID_BIND_PGTABLE, &cmd);
}

static inline int _test_unbind(int fd, __u32 ioasid)
{
	struct ioasid_cmd_unbind_pgtable cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
	};

	return ioasid_ioctl(fd, IOASID_UNBIND_PGTABLE, &cmd);
}

static inline int _test_invalidate(int fd, __u32 ioasid,
				   struct iommu_hwpt_vtd_s1_invalidate *inv,
				   __u32 *num)
{
	struct ioasid_cmd_invalidate_cache cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
		.entry_len = sizeof(*inv),
		.num_entries = *num,
		.entries_uptr = (uintptr_t)inv,
	};
	int ret = ioasid_ioctl(fd, IOASID_INVALIDATE_CACHE, &cmd);

	*num = cmd.num_entries;
	return ret;
}

static inline int _test_cmd_mock(int fd, struct ioasid_cmd_test *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioasid_ioctl(fd, IOASID_TEST, cmd);
}

/* A mock device with &enum ioasid_mock_device_flags @flags. */
static inline int mock_device_add_flags(int fd, __u32 instance, __u32 flags,
					__u32 *dev_id)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_MOCK_DEVICE_ADD,
		.mock_device_add = { .instance = instance, .flags = flags },
	};
	int ret = _test_cmd_mock(fd, &cmd);

	if (!ret)
		*dev_id = cmd.mock_device_add.out_dev_id;
	return ret;
}

#define _test_cmd_mock_device_add(fd, instance, dev_id) \
	mock_device_add_flags(fd, instance, 0, dev_id)

#define test_cmd_mock_device_add(fd, instance, dev_id) \
	test_cmd(_test_cmd_mock_device_add(fd, instance, dev_id))

static inline int _test_cmd_dev(int fd, __u32 op, __u32 dev_id, __u32 ioasid)
{
	struct ioasid_cmd_test cmd = {
		.op = op,
		.dev_id = dev_id,
		.attach.ioasid = ioasid,
	};

	return _test_cmd_mock(fd, &cmd);
}

#define _test_cmd_attach(fd, dev, id) \
	_test_cmd_dev(fd, IOASID_TEST_OP_ATTACH, dev, id)
#define test_cmd_attach(fd, dev, id) test_cmd(_test_cmd_attach(fd, dev, id))
#define test_err_cmd_attach(_errno, fd, dev, id) \
	test_err_cmd(_errno, _test_cmd_attach(fd, dev, id))
#define _test_cmd_detach(fd, dev) \
	_test_cmd_dev(fd, IOASID_TEST_OP_DETACH, dev, 0)
#define test_cmd_detach(fd, dev) test_cmd(_test_cmd_detach(fd, dev))
#define _test_cmd_device_del(fd, dev) \
	_test_cmd_dev(fd, IOASID_TEST_OP_DEVICE_DEL, dev, 0)
#define test_cmd_device_del(fd, dev) test_cmd(_test_cmd_device_del(fd, dev))

static inline int _test_cmd_check_map(int fd, __u32 dev_id, __u64 iova,
				      void *vaddr, size_t length, __u32 prot,
				      __u64 *pgsize, bool mapped)
{
	struct ioasid_cmd_test cmd = {
		.op = mapped ? IOASID_TEST_OP_CHECK_MAP :
			       IOASID_TEST_OP_CHECK_UNMAPPED,
		.dev_id = dev_id,
		.check_map = {
			.prot = prot,
			.iova = iova,
			.length = length,
			.vaddr = (uintptr_t)vaddr,
		},
	};
	int ret = _test_cmd_mock(fd, &cmd);

	if (!ret && pgsize)
		*pgsize = cmd.check_map.out_pgsize;
	return ret;
}

#define test_cmd_check_map(fd, dev, iova, va, len, prot) \
	test_cmd(_test_cmd_check_map(fd, dev, iova, va, len, prot, NULL, true))
#define test_cmd_check_unmapped(fd, dev, iova, len) \
	test_cmd(_test_cmd_check_map(fd, dev, iova, NULL, len, 0, NULL, false))

/* IOASID_TEST_OP_DEVICE_INFO of mock device @dev_id; 0 or -errno. */
static inline int test_device_info(int fd, __u32 dev_id,
				   struct ioasid_cmd_test *cmd)
{
	*cmd = (struct ioasid_cmd_test){
		.op = IOASID_TEST_OP_DEVICE_INFO,
		.dev_id = dev_id,
	};
	return _test_cmd_mock(fd, cmd);
}

static inline __u64 test_domain_of(int fd, __u32 dev_id)
{
	struct ioasid_cmd_test cmd;

	if (test_device_info(fd, dev_id, &cmd))
		return ~0ULL;
	return cmd.device_info.out_domain_id;
}

/* Answers mock device @dev_id got to page requests nobody waited for. */
static inline __u64 test_unwaited_answers(int fd, __u32 dev_id)
{
	struct ioasid_cmd_test cmd;

	if (test_device_info(fd, dev_id, &cmd))
		return ~0ULL;
	return cmd.device_info.out_unwaited_answers;
}

/*
 * Mock device @dev_id posts a page request group for @num pages from
 * @iova and returns at once (IOASID_TEST_OP_PAGE_REQUEST).
 */
static inline int _test_page_request(int fd, __u32 dev_id, __u64 iova,
				     __u32 num, __u32 flags, __u32 pasid)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_PAGE_REQUEST,
		.dev_id = dev_id,
		.page_request = {
			.iova = iova,
			.num = num,
			.flags = flags,
			.pasid = pasid,
		},
	};

	return _test_cmd_mock(fd, &cmd);
}

/* Reference count and pinned state of the page behind @vaddr. */
static inline int page_ref(int fd, void *vaddr, __u32 *refcount,
			   __u32 *pinned)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_PAGE_REF,
		.page_ref.vaddr = (uintptr_t)vaddr,
	};
	int ret = _test_cmd_mock(fd, &cmd);

	if (!ret) {
		*refcount = cmd.page_ref.out_refcount;
		if (pinned)
			*pinned = cmd.page_ref.out_pinned;
	}
	return ret;
}

/*
 * After the fd that held them is closed: each of the @n pages from @buf
 * has its count from before (@ref0) and no pin, and VmPin is back at
 * @pin0. A fresh fd answers, so this needs the test ioctl.
 */
#define check_pages_released(buf, n, ref0, pin0)			\
	do {								\
		int __fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);	\
		__u32 __ref, __pinned;					\
									\
		ASSERT_LE(0, __fd);					\
		for (unsigned int __i = 0; __i != (n); __i++) {		\
			ASSERT_EQ(0, page_ref(__fd,			\
					      (char *)(buf) + __i * PAGE_SIZE, \
					      &__ref, &__pinned));	\
			EXPECT_EQ((ref0)[__i], __ref);			\
			EXPECT_EQ(0, __pinned);				\
		}							\
		EXPECT_EQ(pin0, vm_pinned_kb());			\
		close(__fd);						\
	} while (0)

/* VmPin of this process, in kB, from /proc/self/status. */
static inline long vm_pinned_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Write @value to a sysfs, debugfs or procfs file; 0 or -errno. */
static inline int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n < 0 ? -errno : 0;
}

/*
 * Mock devices the test ioctl made, across every fd: ioasid-mock.N.auto.
 * A count that does not come back down is a device object leaked.
 */
static inline int count_mock_devices(void)
{
	DIR *dir = opendir("/sys/bus/platform/devices");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		n += !strncmp(de->d_name, "ioasid-mock.", 12);
	closedir(dir);
	return n;
}

/* For messages that must name an errno the same way in every test. */
static inline const char *errno_name(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EIO, "EIO" },
		{ ENXIO, "ENXIO" }, { E2BIG, "E2BIG" }, { EBADF, "EBADF" },
		{ ENOMEM, "ENOMEM" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
		{ EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
		{ EINVAL, "EINVAL" }, { ENOTTY, "ENOTTY" }, { ENOSPC, "ENOSPC" },
		{ ERANGE, "ERANGE" }, { EOPNOTSUPP, "EOPNOTSUPP" },
		{ EOVERFLOW, "EOVERFLOW" },
	};
	unsigned int i;

	if (!err)
		return "ok";
	for (i = 0; i != ARRAY_SIZE(names); i++)
		if (names[i].err == err)
			return names[i].name;
	return "an unexpected errno";
}

/*
 * xorshift64*: fast, and enough for picking calls. A seed printed in a
 * replay line must give the same calls again, so there is one generator
 * and every randomised test draws from it in the same way.
 */
static inline __u64 rng_next(__u64 *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, n), for 0 < n < 2^32. */
static inline unsigned int rng_below(__u64 *state, unsigned int n)
{
	return ((rng_next(state) >> 32) * n) >> 32;
}

static inline bool rng_one_in(__u64 *state, unsigned int n)
{
	return !rng_below(state, n);
}

/* PASID attachments of a mock device (IOASID_ATTACH_USER_PASID). */
static inline int _test_cmd_dev_flags(int fd, __u32 op, __u32 dev_id,
				      __u32 ioasid, __u32 flags, __u32 pasid)
{
	struct ioasid_cmd_test cmd = {
		.op = op,
		.dev_id = dev_id,
		.attach = {
			.ioasid = ioasid,
			.flags = flags,
			.pasid = pasid,
		},
	};

	return _test_cmd_mock(fd, &cmd);
}

#define _test_cmd_attach_pasid(fd, dev, id, pasid)			\
	_test_cmd_dev_flags(fd, IOASID_TEST_OP_ATTACH, dev, id,		\
			    IOASID_ATTACH_USER_PASID, pasid)
#define test_cmd_attach_pasid(fd, dev, id, pasid) \
	test_cmd(_test_cmd_attach_pasid(fd, dev, id, pasid))
#define test_err_cmd_attach_pasid(_errno, fd, dev, id, pasid) \
	test_err_cmd(_errno, _test_cmd_attach_pasid(fd, dev, id, pasid))
#define _test_cmd_detach_pasid(fd, dev, id, pasid)			\
	_test_cmd_dev_flags(fd, IOASID_TEST_OP_DETACH, dev, id,		\
			    IOASID_ATTACH_USER_PASID, pasid)
#define test_cmd_detach_pasid(fd, dev, id, pasid) \
	test_cmd(_test_cmd_detach_pasid(fd, dev, id, pasid))
#define test_err_cmd_detach_pasid(_errno, fd, dev, id, pasid) \
	test_err_cmd(_errno, _test_cmd_detach_pasid(fd, dev, id, pasid))

static inline int _test_device_get_info(int fd, __u32 dev,
					struct ioasid_cmd_device_get_info *info)
{
	*info = (struct ioasid_cmd_device_get_info){
		.size = sizeof(*info),
		.dev_id = dev,
	};
	return ioasid_ioctl(fd, IOASID_DEVICE_GET_INFO, info);
}

/*
 * The mock device DMAs @len bytes between @buf and @iova: untagged, or
 * tagged with @pasid (PASID 0 is what untagged DMA is on the wire).
 */
static inline int _test_dma_pasid(int fd, __u32 dev, __u32 pasid, __u64 iova,
				  void *buf, size_t len, bool write)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_DMA,
		.dev_id = dev,
		.dma = {
			.iova = iova,
			.uptr = (uintptr_t)buf,
			.length = len,
			.flags = (write ? IOASID_TEST_DMA_WRITE : 0) |
				 (pasid ? IOASID_TEST_DMA_PASID : 0),
			.pasid = pasid,
		},
	};

	return _test_cmd_mock(fd, &cmd);
}

#define _test_dma(fd, dev, iova, buf, len, write) \
	_test_dma_pasid(fd, dev, 0, iova, buf, len, write)

/* How many translations the device's nested IOTLB holds, or -errno. */
static inline int iotlb_entries(int fd, __u32 dev)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_IOTLB_INFO,
		.dev_id = dev,
	};
	int ret = _test_cmd_mock(fd, &cmd);

	return ret ?: (int)cmd.iotlb_info.out_entries;
}

/* Forget everything cached of a bound VT-d first stage. */
static inline int _test_invalidate_all(int fd, __u32 ioasid)
{
	struct iommu_hwpt_vtd_s1_invalidate inv = { .npages = ~0ULL };
	__u32 num = 1;

	return _test_invalidate(fd, ioasid, &inv, &num);
}

/* Bind @len bytes of @data as a table of @format, with ioctl @req. */
static inline int _test_bind_data(int fd, unsigned long req, __u32 ioasid,
				  __u32 format, const void *data, __u32 len)
{
	struct ioasid_cmd_bind_pgtable cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
		.format = format,
		.data_len = len,
		.data_uptr = (uintptr_t)data,
	};

	return ioasid_ioctl(fd, req, &cmd);
}

/* The mock's PASID table: 1 << @pasid_bits entries at GPA @base. */
static inline int _test_bind_pasid_table(int fd, __u32 ioasid, __u64 base,
					 __u32 pasid_bits)
{
	struct ioasid_mock_pasid_table data = {
		.base = base,
		.pasid_bits = pasid_bits,
	};

	return _test_bind_data(fd, IOASID_BIND_PASID_TABLE, ioasid,
			       IOASID_PGTABLE_MOCK_PASID_TABLE, &data,
			       sizeof(data));
}

static inline int _test_unbind_pasid_table(int fd, __u32 ioasid)
{
	struct ioasid_cmd_unbind_pgtable cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
	};

	return ioasid_ioctl(fd, IOASID_UNBIND_PASID_TABLE, &cmd);
}

/* IOASID_INVALIDATE_CACHE with @*num PASID-table entries; @*num: done. */
static inline int
_test_invalidate_pasid(int fd, __u32 ioasid,
		       struct ioasid_mock_pasid_table_invalidate *inv,
		       __u32 *num)
{
	struct ioasid_cmd_invalidate_cache cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
		.entry_len = sizeof(*inv),
		.num_entries = *num,
		.entries_uptr = (uintptr_t)inv,
	};
	int ret = ioasid_ioctl(fd, IOASID_INVALIDATE_CACHE, &cmd);

	*num = cmd.num_entries;
	return ret;
}

/* The PASID cache entry of @pasid and every translation of it. */
static inline int _test_invalidate_pasid_cache(int fd, __u32 ioasid,
					       __u32 pasid)
{
	struct ioasid_mock_pasid_table_invalidate inv = {
		.type = IOASID_MOCK_INV_PASID_CACHE,
		.pasid = pasid,
	};
	__u32 num = 1;

	return _test_invalidate_pasid(fd, ioasid, &inv, &num);
}

/*
 * A guest of hardware nesting: its RAM, which the parent IOASID maps at
 * @gpa, and the 4 KiB page-table pages it handed out so far, from the
 * start of its RAM. Its first-stage tables are in the VT-d first-stage
 * (x86-64 4-level) format that the mock walks.
 */
struct guest {
	__u8 *ram;
	__u64 gpa;
	unsigned int next_table;
};

#define PTE_P 0x1ULL		/* present */
#define PTE_W 0x2ULL		/* writable */
#define PTE_U 0x4ULL		/* user */
#define PTE_PS 0x80ULL		/* page size: a large leaf */
#define PTE_ADDR 0x000ffffffffff000ULL
#define PTE_PWU (PTE_P | PTE_W | PTE_U)
#define GUEST_TABLE_SIZE 4096UL

/*
 * @size bytes of zeroed guest RAM at @gpa, pinned by nothing yet: each
 * page's reference count goes to @ref0 and VmPin to @pin0, for
 * guest_ram_free() to check against once everything that pinned it is
 * gone. @fd is any fd with the test ioctl.
 */
static inline void guest_ram_alloc(struct __test_metadata *_metadata, int fd,
				   struct guest *g, __u64 gpa, size_t size,
				   __u32 *ref0, long *pin0)
{
	unsigned int i;

	g->ram = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, g->ram);
	/*
	 * Small pages, and they stay small: khugepaged must not fold them
	 * into a huge page between two looks at their reference counts.
	 */
	ASSERT_EQ(0, madvise(g->ram, size, MADV_NOHUGEPAGE));
	g->gpa = gpa;
	g->next_table = 0;
	memset(g->ram, 0, size);
	for (i = 0; i != size / PAGE_SIZE; i++)
		ASSERT_EQ(0, page_ref(fd, g->ram + i * PAGE_SIZE, &ref0[i],
				      NULL));
	*pin0 = vm_pinned_kb();
}

/* Once the fds that mapped it are closed: nothing of it is pinned. */
static inline void guest_ram_free(struct __test_metadata *_metadata,
				  struct guest *g, size_t size,
				  const __u32 *ref0, long pin0)
{
	check_pages_released(g->ram, size / PAGE_SIZE, ref0, pin0);
	munmap(g->ram, size);
}

static inline __u64 *guest_page(struct guest *g, __u64 gpa)
{
	return (__u64 *)(g->ram + (gpa - g->gpa));
}

/* A zeroed table page of the guest, by its GPA. */
static inline __u64 guest_alloc_table(struct guest *g)
{
	__u64 gpa = g->gpa + g->next_table++ * GUEST_TABLE_SIZE;

	memset(guest_page(g, gpa), 0, GUEST_TABLE_SIZE);
	return gpa;
}

/*
 * The guest maps @giova to @gpa with @bits in the 4-level table whose
 * root is at @root, making the tables it lacks on the way.
 */
static inline void guest_map(struct guest *g, __u64 root, __u64 giova,
			     __u64 gpa, __u64 bits)
{
	__u64 table = root;
	int level;

	for (level = 3; level; level--) {
		__u64 *pte = guest_page(g, table) +
			     ((giova >> (12 + 9 * level)) & 511);

		if (!(*pte & PTE_P))
			*pte = guest_alloc_table(g) | PTE_PWU;
		table = *pte & PTE_ADDR;
	}
	guest_page(g, table)[(giova >> 12) & 511] = gpa | bits;
}

/* Entry @pasid of a mock PASID table at GPA @table: the root @root. */
static inline void guest_set_pasid(struct guest *g, __u64 table, __u32 pasid,
				   __u64 root)
{
	guest_page(g, table)[pasid] = root ?
		(root & IOASID_MOCK_PASID_ENTRY_ROOT) |
		IOASID_MOCK_PASID_ENTRY_PRESENT : 0;
}

/* Dirty tracking: start or stop it; the report it expects next. */
static inline int _test_dirty_tracking(int fd, __u32 ioasid, bool start,
				       __u32 *report)
{
	struct ioasid_cmd_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = start ? IOASID_DIRTY_TRACKING_START : 0,
		.ioasid = ioasid,
	};
	int ret = ioasid_ioctl(fd, IOASID_DIRTY_TRACKING, &cmd);

	if (!ret && report)
		*report = cmd.out_report;
	return ret;
}

/*
 * Read the dirty bitmap of [iova, iova + length) at @page_size into
 * @bitmap; its report and the bits set go to @report and @count.
 */
static inline int _test_get_dirty(int fd, __u32 ioasid, __u32 flags,
				  __u64 iova, __u64 length, __u64 page_size,
				  void *bitmap, __u32 *report, __u64 *count)
{
	struct ioasid_cmd_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioasid = ioasid,
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.bitmap = (uintptr_t)bitmap,
	};
	int ret = ioasid_ioctl(fd, IOASID_GET_DIRTY_BITMAP, &cmd);

	if (!ret && report)
		*report = cmd.out_report;
	if (!ret && count)
		*count = cmd.out_dirty;
	return ret;
}

/*
 * Unmap [iova, iova + length) with IOASID_DMA_UNMAP_GET_DIRTY, its
 * bitmap at @page_size into @bitmap; bytes unmapped and the report out.
 */
static inline int _test_unmap_dirty(int fd, __u32 ioasid, __u64 iova,
				    __u64 length, __u64 page_size,
				    void *bitmap, __u64 *unmapped,
				    __u32 *report)
{
	struct ioasid_cmd_dma_unmap cmd = {
		.size = sizeof(cmd),
		.flags = IOASID_DMA_UNMAP_GET_DIRTY,
		.ioasid = ioasid,
		.iova = iova,
		.length = length,
		.dirty_page_size = page_size,
		.dirty_bitmap = (uintptr_t)bitmap,
	};
	int ret = ioasid_ioctl(fd, IOASID_DMA_UNMAP, &cmd);

	if (!ret && unmapped)
		*unmapped = cmd.out_unmapped;
	if (!ret && report)
		*report = cmd.out_dirty_report;
	return ret;
}

static inline bool bitmap_test(const __u64 *bitmap, unsigned long bit)
{
	return bitmap[bit / 64] >> (bit % 64) & 1;
}

/* Of @nbits bits, exactly those listed (ending with -1) are set. */
#define expect_bits_of(bitmap, nbits, ...)				\
	({								\
		static const int __want[] = { __VA_ARGS__ };		\
		const unsigned int __n = (nbits);			\
		bool __set[__n];					\
		unsigned int __i;					\
									\
		memset(__set, 0, sizeof(__set));			\
		for (__i = 0; __want[__i] >= 0; __i++)			\
			__set[__want[__i]] = true;			\
		for (__i = 0; __i != __n; __i++)			\
			ASSERT_EQ(__set[__i], bitmap_test(bitmap, __i))	\
				TH_LOG("page %u", __i);			\
	})

/*
 * I/O page faults (RFC 5.6): a fault ring set up over IOASIDs, mapped from
 * the fd, and the answers to its fault groups.
 */
static inline int _test_fault_ring_setup(int fd, __u32 entries, int efd,
					 const __u32 *ioasids, __u32 num,
					 struct ioasid_cmd_fault_ring_setup *cmd)
{
	*cmd = (struct ioasid_cmd_fault_ring_setup){
		.size = sizeof(*cmd),
		.num_entries = entries,
		.eventfd = efd,
		.num_ioasids = num,
		.ioasids_uptr = (uintptr_t)ioasids,
	};
	return ioasid_ioctl(fd, IOASID_FAULT_RING_SETUP, cmd);
}

static inline int _test_fault_ring_free(int fd, __u32 ring_id)
{
	struct ioasid_cmd_fault_ring_free cmd = {
		.size = sizeof(cmd),
		.ring_id = ring_id,
	};

	return ioasid_ioctl(fd, IOASID_FAULT_RING_FREE, &cmd);
}

#define test_fault_ring_free(fd, ring) \
	test_cmd(_test_fault_ring_free(fd, ring))
#define test_err_fault_ring_free(_errno, fd, ring) \
	test_err_cmd(_errno, _test_fault_ring_free(fd, ring))

/* @num answers at @resp; how many answered a group goes to @answered. */
static inline int _test_page_response(int fd, __u32 ring_id,
				      struct ioasid_page_response *resp,
				      __u32 num, __u32 *answered)
{
	struct ioasid_cmd_page_response cmd = {
		.size = sizeof(cmd),
		.ring_id = ring_id,
		.num_entries = num,
		.entries_uptr = (uintptr_t)resp,
	};
	int ret = ioasid_ioctl(fd, IOASID_PAGE_RESPONSE, &cmd);

	if (!ret && answered)
		*answered = cmd.out_answered;
	return ret;
}

/*
 * One answer: the ioctl's errno is returned, the entry's own result
 * (0, -ENOENT, -EALREADY, -EINVAL) goes to @result.
 */
static inline int _test_page_respond(int fd, __u32 ring_id, __u64 cookie,
				     __u32 code, __s32 *result)
{
	struct ioasid_page_response resp = {
		.cookie = cookie,
		.code = code,
		.out_result = 1,
	};
	__u32 answered = ~0U;
	int ret = _test_page_response(fd, ring_id, &resp, 1, &answered);

	*result = resp.out_result;
	/* The count and the entry must tell the same story. */
	if (!ret && answered != !resp.out_result)
		return -EPROTO;
	return ret;
}

/* Answer @cookie with @code and insist on the entry's result @expect. */
#define test_page_respond(fd, ring, cookie, code, expect)		\
	({								\
		__s32 __result;						\
		test_cmd(_test_page_respond(fd, ring, cookie, code,	\
					    &__result));		\
		ASSERT_EQ((__s32)(expect), __result);			\
	})

/*
 * A mock device's DMA with any &enum ioasid_test_dma_flags; with
 * IOASID_TEST_DMA_PRI it asks for the pages it faults on and waits for
 * the answer, so it blocks until somebody answers (see fault_dma below).
 */
static inline int _test_dma_flags(int fd, __u32 dev, __u32 pasid, __u64 iova,
				  void *buf, size_t len, __u32 flags)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_DMA,
		.dev_id = dev,
		.dma = {
			.iova = iova,
			.uptr = (uintptr_t)buf,
			.length = len,
			.flags = flags | (pasid ? IOASID_TEST_DMA_PASID : 0),
			.pasid = pasid,
		},
	};

	return _test_cmd_mock(fd, &cmd);
}

/*
 * A ring as its consumer sees it: the mapping, the eventfd it waits on,
 * and the header's layout, read once at setup.
 */
struct fault_ring {
	int fd;				/* the ioasid fd */
	int efd;			/* nonblocking eventfd, ours to close */
	__u32 id;
	struct ioasid_fault_ring_header *hdr;
	size_t size;
	__u32 mask;
	__u32 record_size;
	__u32 records_offset;
	__u32 head;			/* the next record we read */
};

/*
 * Set up a ring of @entries records over @num IOASIDs and map it. On
 * failure nothing is left: no ring, no mapping, no eventfd.
 */
static inline int fault_ring_open(int fd, __u32 entries, const __u32 *ioasids,
				  __u32 num, struct fault_ring *r)
{
	struct ioasid_cmd_fault_ring_setup cmd;
	void *map;
	int ret;

	*r = (struct fault_ring){ .fd = fd, .efd = -1 };
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0)
		return -errno;
	ret = _test_fault_ring_setup(fd, entries, r->efd, ioasids, num, &cmd);
	if (ret)
		goto err_efd;
	map = mmap(NULL, cmd.out_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, cmd.out_mmap_offset);
	if (map == MAP_FAILED) {
		ret = -errno;
		_test_fault_ring_free(fd, cmd.out_ring_id);
		goto err_efd;
	}
	r->id = cmd.out_ring_id;
	r->hdr = map;
	r->size = cmd.out_mmap_size;
	r->mask = r->hdr->mask;
	r->record_size = r->hdr->record_size;
	r->records_offset = r->hdr->records_offset;
	r->head = r->hdr->head;
	return 0;

err_efd:
	close(r->efd);
	r->efd = -1;
	return ret;
}

/* Unmap, then free the ring (unless @free is false: it is gone already). */
static inline int fault_ring_close(struct fault_ring *r, bool free)
{
	int ret = 0;

	if (r->hdr)
		munmap(r->hdr, r->size);
	r->hdr = NULL;
	if (free && r->id)
		ret = _test_fault_ring_free(r->fd, r->id);
	r->id = 0;
	if (r->efd >= 0)
		close(r->efd);
	r->efd = -1;
	return ret;
}

static inline const struct ioasid_fault_record *
fault_ring_slot(const struct fault_ring *r, __u32 index)
{
	return (const void *)((const char *)r->hdr + r->records_offset +
			      (size_t)(index & r->mask) * r->record_size);
}

/* Records posted and not read yet. */
static inline __u32 fault_ring_pending(const struct fault_ring *r)
{
	return __atomic_load_n(&r->hdr->tail, __ATOMIC_ACQUIRE) - r->head;
}

/*
 * The next record, waiting up to @timeout_ms for one: as the uAPI asks,
 * look at the tail, and sleep on the eventfd only when there is nothing
 * before it, so a record posted after the look signals us anew. The
 * slot is given back at once: the record is copied out.
 */
static inline int fault_ring_next(struct fault_ring *r,
				  struct ioasid_fault_record *rec,
				  int timeout_ms)
{
	struct pollfd pfd = { .fd = r->efd, .events = POLLIN };
	__u64 count;

	for (;;) {
		if (fault_ring_pending(r)) {
			memcpy(rec, fault_ring_slot(r, r->head), sizeof(*rec));
			r->head++;
			__atomic_store_n(&r->hdr->head, r->head,
					 __ATOMIC_RELEASE);
			return 0;
		}
		switch (poll(&pfd, 1, timeout_ms)) {
		case 0:
			return -ETIMEDOUT;
		case -1:
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* Reset it; a signal that raced with the read is a record. */
		if (read(r->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			return -errno;
	}
}

/*
 * The records of the next group, up to the one that ends it, into
 * @recs; how many, or -errno (-EMSGSIZE: more than @max).
 */
static inline int fault_ring_group(struct fault_ring *r,
				   struct ioasid_fault_record *recs,
				   unsigned int max, int timeout_ms)
{
	unsigned int n = 0;
	int ret;

	do {
		if (n == max)
			return -EMSGSIZE;
		ret = fault_ring_next(r, &recs[n], timeout_ms);
		if (ret)
			return ret;
	} while (!(recs[n++].flags & IOASID_FAULT_LAST_IN_GROUP));
	return n;
}

/*
 * A DMA that asks for pages blocks until its fault group is answered, so
 * the test issues it from a thread of its own and serves the ring from
 * another. Either through the test ioctl (@vfio_fd < 0) or, for a mock
 * VFIO device, through its VFIO fd, which is not the ioasid fd: closing
 * the ioasid fd then really releases it while the DMA waits.
 */
struct fault_dma {
	int fd;				/* the ioasid fd, for the test ioctl */
	int vfio_fd;			/* or the VFIO device fd, if >= 0 */
	__u32 dev;
	__u32 pasid;			/* 0: untagged */
	__u64 iova;
	void *buf;
	__u32 len;
	bool write;
	int ret;			/* 0 or -errno, once joined */
	bool running;
	pthread_t thread;
};

static inline void *fault_dma_fn(void *arg)
{
	struct fault_dma *d = arg;
	__u32 flags = d->write ? IOASID_TEST_DMA_WRITE : 0;

	if (d->vfio_fd >= 0) {
		struct ioasid_mock_vfio_dma cmd = {
			.argsz = sizeof(cmd),
			.flags = IOASID_MOCK_VFIO_DMA_PRI |
				 (d->write ? IOASID_MOCK_VFIO_DMA_WRITE : 0) |
				 (d->pasid ? IOASID_MOCK_VFIO_DMA_PASID : 0),
			.iova = d->iova,
			.length = d->len,
			.uptr = (uintptr_t)d->buf,
			.pasid = d->pasid,
		};

		d->ret = ioasid_ioctl(d->vfio_fd, IOASID_MOCK_VFIO_DMA, &cmd);
		return NULL;
	}
	d->ret = _test_dma_flags(d->fd, d->dev, d->pasid, d->iova, d->buf,
				 d->len, flags | IOASID_TEST_DMA_PRI);
	return NULL;
}

static inline int fault_dma_start(struct fault_dma *d)
{
	int ret;

	d->ret = 1;
	ret = pthread_create(&d->thread, NULL, fault_dma_fn, d);
	d->running = !ret;
	return -ret;
}

/* Joined within @timeout_ms (d->ret is its answer), or still blocked. */
static inline bool fault_dma_join(struct fault_dma *d, int timeout_ms)
{
	struct timespec ts;

	if (!d->running)
		return true;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (pthread_timedjoin_np(d->thread, NULL, &ts))
		return false;
	d->running = false;
	return true;
}

/*
 * An emulated mock device: DMA through an in-kernel accessor of @ioasid
 * of the ioasid fd @ioasid_fd; @fd is any fd with the test ioctl. @flags
 * (enum ioasid_test_emulated_flags) say how its driver answers an unmap.
 */
static inline int _test_emulated_add_flags(int fd, int ioasid_fd,
					   __u32 ioasid, __u32 flags,
					   int *em_fd)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_EMULATED_ADD,
		.emulated.fd = ioasid_fd,
		.emulated.ioasid = ioasid,
		.emulated.flags = flags,
	};
	int ret = _test_cmd_mock(fd, &cmd);

	if (!ret)
		*em_fd = cmd.emulated.out_fd;
	return ret;
}

#define _test_emulated_add(fd, ioasid_fd, ioasid, em_fd)		\
	_test_emulated_add_flags(fd, ioasid_fd, ioasid, 0, em_fd)

/* EMULATED_DMA, _PIN or _UNPIN of emulated device @em_fd. */
static inline int _test_emulated(int fd, __u32 op, int em_fd, __u64 iova,
				 void *buf, __u64 length, __u32 flags)
{
	struct ioasid_cmd_test cmd = {
		.op = op,
		.emulated.fd = em_fd,
		.emulated.iova = iova,
		.emulated.uptr = (uintptr_t)buf,
		.emulated.length = length,
		.emulated.flags = flags,
	};

	return _test_cmd_mock(fd, &cmd);
}

#define _test_emulated_dma(fd, em, iova, buf, len, write)		\
	_test_emulated(fd, IOASID_TEST_OP_EMULATED_DMA, em, iova, buf, len, \
		       (write) ? IOASID_TEST_DMA_WRITE : 0)
#define _test_emulated_pin(fd, em, iova, buf, len, write)		\
	_test_emulated(fd, IOASID_TEST_OP_EMULATED_PIN, em, iova, buf, len, \
		       (write) ? IOASID_TEST_DMA_WRITE : 0)
#define _test_emulated_unpin(fd, em, iova, len)				\
	_test_emulated(fd, IOASID_TEST_OP_EMULATED_UNPIN, em, iova, NULL, \
		       len, 0)

/* The pins emulated device @em_fd holds, and the unmaps it was told of. */
static inline int _test_emulated_info(int fd, int em_fd, __u32 *pins,
				      __u32 *unmaps)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_EMULATED_INFO,
		.emulated.fd = em_fd,
	};
	int ret = _test_cmd_mock(fd, &cmd);

	if (!ret) {
		*pins = cmd.emulated.out_pins;
		*unmaps = cmd.emulated.out_unmaps;
	}
	return ret;
}

#endif /* __SELFTEST_IOASID_UTILS_H */
