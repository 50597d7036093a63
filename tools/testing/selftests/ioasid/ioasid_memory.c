// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests for memory: registering and pinning, DMA map and unmap,
 * domains per IOMMU instance, reserved ranges and accounting.
 *
 * Every test runs three ways (variants): an IOASID with no device, with
 * one mock device, and with devices behind two mock IOMMU instances that
 * have different page sizes, apertures and reserved regions. Teardown
 * closes the fd and then checks that every page of the test buffer has
 * exactly its old reference count and is no longer pinned, and that the
 * process's pinned-memory counter is back where it was.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/kernel-page-flags.h>

#include "ioasid_utils.h"

#define BUF_PAGES 64
#define BUF_SIZE (BUF_PAGES * PAGE_SIZE)
#define IOVA_BASE 0x100000UL

static int open_ioasid(void)
{
	return open("/dev/ioasid", O_RDWR | O_CLOEXEC);
}

static bool have_test_ioctl(int fd)
{
	__u32 ref;

	return page_ref(fd, &ref, &ref, NULL) != -ENOTTY;
}

FIXTURE(memory) {
	int fd;
	__u32 ioasid;
	unsigned int ndev;
	__u32 dev[2];
	void *buf;
	__u32 ref0[BUF_PAGES];
	long pin0;
};

FIXTURE_VARIANT(memory) {
	unsigned int ndev;
	__u32 instance[2];
};

FIXTURE_VARIANT_ADD(memory, no_device) {
	.ndev = 0,
};

FIXTURE_VARIANT_ADD(memory, one_domain) {
	.ndev = 1,
	.instance = { IOASID_MOCK_INSTANCE_LARGE },
};

FIXTURE_VARIANT_ADD(memory, two_instances) {
	.ndev = 2,
	.instance = { IOASID_MOCK_INSTANCE_LARGE, IOASID_MOCK_INSTANCE_SMALL },
};

FIXTURE_SETUP(memory)
{
	unsigned int i;

	self->fd = open_ioasid();
	ASSERT_LE(0, self->fd);
	if (!have_test_ioctl(self->fd))
		SKIP(return, "kernel without CONFIG_IOASID_TEST");

	self->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 0x5a, BUF_SIZE);
	for (i = 0; i != BUF_PAGES; i++)
		ASSERT_EQ(0, page_ref(self->fd, self->buf + i * PAGE_SIZE,
				      &self->ref0[i], NULL));
	self->pin0 = vm_pinned_kb();
	ASSERT_LE(0, self->pin0);

	test_ioctl_alloc(self->fd, &self->ioasid);
	self->ndev = variant->ndev;
	for (i = 0; i != variant->ndev; i++) {
		test_cmd_mock_device_add(self->fd, variant->instance[i],
					 &self->dev[i]);
		test_cmd_attach(self->fd, self->dev[i], self->ioasid);
	}
}

FIXTURE_TEARDOWN(memory)
{
	if (!self->buf)
		return;
	close(self->fd);
	check_pages_released(self->buf, BUF_PAGES, self->ref0, self->pin0);
}

/* Every device sees [iova, iova + len) as @va with @prot, or nothing. */
#define check_mapped(iova, va, len, prot)				\
	do {								\
		for (unsigned int __i = 0; __i != self->ndev; __i++)	\
			test_cmd_check_map(self->fd, self->dev[__i], iova, \
					   va, len, prot);		\
	} while (0)
#define check_unmapped(iova, len)					\
	do {								\
		for (unsigned int __i = 0; __i != self->ndev; __i++)	\
			test_cmd_check_unmapped(self->fd, self->dev[__i], \
						iova, len);		\
	} while (0)

TEST_F(memory, map_unmap)
{
	test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE, BUF_SIZE);
	check_mapped(IOVA_BASE, self->buf, BUF_SIZE, MOCK_PROT_RW);
	ASSERT_EQ(self->pin0 + BUF_SIZE / 1024, vm_pinned_kb());
	test_ioctl_unmap(self->fd, self->ioasid, IOVA_BASE, BUF_SIZE,
			 BUF_SIZE);
	check_unmapped(IOVA_BASE, BUF_SIZE);
	ASSERT_EQ(self->pin0, vm_pinned_kb());
}

TEST_F(memory, map_pins_pages)
{
	__u32 ref, pinned;

	test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE,
		       PAGE_SIZE);
	ASSERT_EQ(0, page_ref(self->fd, self->buf, &ref, &pinned));
	ASSERT_EQ(1, pinned);
	ASSERT_LT(self->ref0[0], ref);
	/* The neighbour was not touched. */
	ASSERT_EQ(0, page_ref(self->fd, self->buf + PAGE_SIZE, &ref, &pinned));
	ASSERT_EQ(0, pinned);
	ASSERT_EQ(self->ref0[1], ref);
}

TEST_F(memory, map_permissions)
{
	test_cmd(_test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE,
				 PAGE_SIZE, IOASID_DMA_MAP_READ));
	test_cmd(_test_ioctl_map(self->fd, self->ioasid, self->buf + PAGE_SIZE,
				 IOVA_BASE + PAGE_SIZE, PAGE_SIZE,
				 IOASID_DMA_MAP_WRITE));
	check_mapped(IOVA_BASE, self->buf, PAGE_SIZE, IOASID_TEST_PROT_READ);
	check_mapped(IOVA_BASE + PAGE_SIZE, self->buf + PAGE_SIZE, PAGE_SIZE,
		     IOASID_TEST_PROT_WRITE);
	test_err_cmd(EINVAL, _test_ioctl_map(self->fd, self->ioasid,
					     self->buf, IOVA_BASE * 2,
					     PAGE_SIZE, 0));
}

TEST_F(memory, map_overlap)
{
	test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE,
		       4 * PAGE_SIZE);
	/* Same start, inside, across either end: all EEXIST. */
	test_err_ioctl_map(EEXIST, self->fd, self->ioasid, self->buf,
			   IOVA_BASE, PAGE_SIZE);
	test_err_ioctl_map(EEXIST, self->fd, self->ioasid, self->buf,
			   IOVA_BASE + PAGE_SIZE, PAGE_SIZE);
	test_err_ioctl_map(EEXIST, self->fd, self->ioasid, self->buf,
			   IOVA_BASE - PAGE_SIZE, 2 * PAGE_SIZE);
	test_err_ioctl_map(EEXIST, self->fd, self->ioasid, self->buf,
			   IOVA_BASE + 3 * PAGE_SIZE, 2 * PAGE_SIZE);
	/* Adjacent on both sides is fine. */
	test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE - PAGE_SIZE,
		       PAGE_SIZE);
	test_ioctl_map(self->fd, self->ioasid, self->buf,
		       IOVA_BASE + 4 * PAGE_SIZE, PAGE_SIZE);
	check_mapped(IOVA_BASE - PAGE_SIZE, self->buf, PAGE_SIZE, MOCK_PROT_RW);
	check_mapped(IOVA_BASE, self->buf, 4 * PAGE_SIZE, MOCK_PROT_RW);
}

TEST_F(memory, map_bad_input)
{
	int fd = self->fd;
	__u32 id = self->ioasid;
	void *buf = self->buf;

	test_err_ioctl_map(EINVAL, fd, id, buf, IOVA_BASE, 0);
	test_err_ioctl_map(EINVAL, fd, id, buf, IOVA_BASE + 1, PAGE_SIZE);
	test_err_ioctl_map(EINVAL, fd, id, buf + 1, IOVA_BASE, PAGE_SIZE);
	test_err_ioctl_map(EINVAL, fd, id, buf, IOVA_BASE, PAGE_SIZE + 1);
	test_err_ioctl_map(EOVERFLOW, fd, id, buf, -PAGE_SIZE, 2 * PAGE_SIZE);
	test_err_ioctl_map(EOVERFLOW, fd, id, (void *)-PAGE_SIZE, IOVA_BASE,
			   2 * PAGE_SIZE);
	test_err_ioctl_map(ENOENT, fd, id + 1000, buf, IOVA_BASE, PAGE_SIZE);
	/* Not memory at all, and a hole. */
	test_err_ioctl_map(EFAULT, fd, id, (void *)PAGE_SIZE, IOVA_BASE,
			   PAGE_SIZE);
	ASSERT_EQ(0, munmap(buf + BUF_SIZE - PAGE_SIZE, PAGE_SIZE));
	test_err_ioctl_map(EFAULT, fd, id, buf + BUF_SIZE - 2 * PAGE_SIZE,
			   IOVA_BASE, 2 * PAGE_SIZE);
	ASSERT_EQ(buf + BUF_SIZE - PAGE_SIZE,
		  mmap(buf + BUF_SIZE - PAGE_SIZE, PAGE_SIZE,
		       PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	memset(buf + BUF_SIZE - PAGE_SIZE, 0, PAGE_SIZE);
	/* Nothing of all that left a mapping or a pin behind. */
	check_unmapped(IOVA_BASE, BUF_SIZE);
	ASSERT_EQ(self->pin0, vm_pinned_kb());
}

/*
 * A map that cannot succeed is refused before anything is pinned: with a
 * source that cannot be pinned at all (no memory there), every check that
 * needs no pinning still gives its own errno, never EFAULT.
 */
TEST_F(memory, map_checks_before_pinning)
{
	void *nothing = (void *)PAGE_SIZE;
	__u32 other;

	test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE,
		       PAGE_SIZE);
	test_err_ioctl_map(EEXIST, self->fd, self->ioasid, nothing, IOVA_BASE,
			   PAGE_SIZE);
	test_err_ioctl_map(EEXIST, self->fd, self->ioasid, nothing,
			   IOVA_BASE - PAGE_SIZE, 1UL << 30);
	/* Outside the aperture of every mock instance. */
	if (self->ndev)
		test_err_ioctl_map(ERANGE, self->fd, self->ioasid, nothing,
				   1ULL << 60, PAGE_SIZE);
	/* The same source into a free range does reach the pinning. */
	test_err_ioctl_map(EFAULT, self->fd, self->ioasid, nothing,
			   IOVA_BASE + PAGE_SIZE, PAGE_SIZE);

	/* The same holds for an IOASID with no device at all. */
	test_ioctl_alloc(self->fd, &other);
	test_ioctl_map(self->fd, other, self->buf, IOVA_BASE, PAGE_SIZE);
	test_err_ioctl_map(EEXIST, self->fd, other, nothing, IOVA_BASE,
			   PAGE_SIZE);
	test_ioctl_unmap(self->fd, other, IOVA_BASE, PAGE_SIZE, PAGE_SIZE);
	test_ioctl_free(self->fd, other);

	/* A registration overlapping another is refused before pinning. */
	test_ioctl_register(self->fd, self->buf, 2 * PAGE_SIZE);
	test_err_ioctl_register(EEXIST, self->fd, self->buf - (1UL << 39),
				(1UL << 39) + PAGE_SIZE);
	test_ioctl_unregister(self->fd, self->buf, 2 * PAGE_SIZE);
	ASSERT_EQ(self->pin0 + PAGE_SIZE / 1024, vm_pinned_kb());
}

/*
 * Requests far larger than memory, over holes: refused before any page
 * array is allocated (such sizes used to reach the allocator's WARN, which
 * panics a test kernel), and nothing is pinned or charged.
 */
TEST_F(memory, huge_requests_over_holes)
{
	const unsigned long tib = 1UL << 40;
	const unsigned long most = (1UL << 47) - 2 * PAGE_SIZE;
	void *hole = (void *)(1UL << 45);
	/* The small mock instance has a 39-bit aperture. */
	int err = self->ndev == 2 ? ERANGE : EFAULT;

	test_err_ioctl_map(err, self->fd, self->ioasid, hole, IOVA_BASE, tib);
	test_err_ioctl_map(err, self->fd, self->ioasid, (void *)PAGE_SIZE,
			   IOVA_BASE, most);
	test_err_ioctl_register(EFAULT, self->fd, hole, tib);
	test_err_ioctl_register(EFAULT, self->fd, (void *)PAGE_SIZE, most);
	/* A hole that ends in real memory is no better. */
	test_err_ioctl_register(EFAULT, self->fd,
				self->buf + BUF_SIZE - tib, tib);
	check_unmapped(IOVA_BASE, BUF_SIZE);
	ASSERT_EQ(self->pin0, vm_pinned_kb());
}

/*
 * In a child: become an unprivileged user (no CAP_IPC_LOCK) with a
 * 16-page RLIMIT_MEMLOCK, register @pages pages of fresh memory on @fd,
 * and return the answer.
 */
static int register_as_nobody(int fd, unsigned int pages)
{
	struct rlimit limit = {
		.rlim_cur = 16 * PAGE_SIZE,
		.rlim_max = 16 * PAGE_SIZE,
	};
	void *mem;

	if (setrlimit(RLIMIT_MEMLOCK, &limit) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return -EPERM - 1000;
	mem = mmap(NULL, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		return -ENOMEM - 1000;
	return _test_ioctl_register(fd, mem, pages * PAGE_SIZE,
				    IOASID_REGISTER_MEMORY);
}

/*
 * RLIMIT_MEMLOCK bounds a user, not a process: two processes of one
 * unprivileged user, each with its own fd, share one limit.
 */
TEST_F(memory, memlock_limit_per_user)
{
	int first_fd = open_ioasid(), second_fd = open_ioasid();
	int ready[2], done[2], status;
	pid_t first, second;
	char byte = 0;

	ASSERT_LE(0, first_fd);
	ASSERT_LE(0, second_fd);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	first = fork();
	ASSERT_LE(0, first);
	if (!first) {
		int ret = register_as_nobody(first_fd, 12);

		if (write(ready[1], &byte, 1) != 1 ||
		    read(done[0], &byte, 1) != 1)
			_exit(2);
		_exit(ret != 0);
	}
	ASSERT_EQ(1, read(ready[0], &byte, 1));

	/* 12 pages of 16 are taken: 8 more are refused, 4 fit. */
	second = fork();
	ASSERT_LE(0, second);
	if (!second) {
		if (register_as_nobody(second_fd, 8) != -ENOMEM)
			_exit(1);
		_exit(register_as_nobody(second_fd, 4) != 0);
	}
	ASSERT_EQ(second, waitpid(second, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(1, write(done[1], &byte, 1));
	ASSERT_EQ(first, waitpid(first, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	close(first_fd);
	close(second_fd);
}

/*
 * A device object whose id cannot be reported is undone whole: the
 * caller gets EFAULT and no device is left behind, in the fd or the
 * system.
 */
TEST_F(memory, mock_device_add_unreported)
{
	struct ioasid_cmd_test *ro;
	int before = count_mock_devices();

	ASSERT_LE(0, before);
	ro = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ro->size = sizeof(*ro);
	ro->op = IOASID_TEST_OP_MOCK_DEVICE_ADD;
	ro->mock_device_add.instance = IOASID_MOCK_INSTANCE_LARGE;
	ASSERT_EQ(0, mprotect(ro, PAGE_SIZE, PROT_READ));
	test_err_cmd(EFAULT, ioasid_ioctl(self->fd, IOASID_TEST, ro));
	ASSERT_EQ(before, count_mock_devices());
	munmap(ro, PAGE_SIZE);
	/* The IOASID has only the fixture's devices, so they can leave. */
	for (unsigned int i = 0; i != self->ndev; i++)
		test_cmd_detach(self->fd, self->dev[i]);
	test_ioctl_free(self->fd, self->ioasid);
}

/* Read-only memory can be mapped for reading, never for device writes. */
TEST_F(memory, map_read_only_memory)
{
	void *ro = mmap(NULL, PAGE_SIZE, PROT_READ,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, ro);
	test_err_ioctl_map(EFAULT, self->fd, self->ioasid, ro, IOVA_BASE,
			   PAGE_SIZE);
	test_cmd(_test_ioctl_map(self->fd, self->ioasid, ro, IOVA_BASE,
				 PAGE_SIZE, IOASID_DMA_MAP_READ));
	check_mapped(IOVA_BASE, ro, PAGE_SIZE, IOASID_TEST_PROT_READ);
	test_ioctl_unmap(self->fd, self->ioasid, IOVA_BASE, PAGE_SIZE,
			 PAGE_SIZE);
	munmap(ro, PAGE_SIZE);
}

TEST_F(memory, partial_unmap_splits)
{
	test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE,
		       8 * PAGE_SIZE);
	/* Punch pages 2-3 out of the middle. */
	test_ioctl_unmap(self->fd, self->ioasid, IOVA_BASE + 2 * PAGE_SIZE,
			 2 * PAGE_SIZE, 2 * PAGE_SIZE);
	check_mapped(IOVA_BASE, self->buf, 2 * PAGE_SIZE, MOCK_PROT_RW);
	check_unmapped(IOVA_BASE + 2 * PAGE_SIZE, 2 * PAGE_SIZE);
	check_mapped(IOVA_BASE + 4 * PAGE_SIZE, self->buf + 4 * PAGE_SIZE,
		     4 * PAGE_SIZE, MOCK_PROT_RW);
	/* The pages no longer mapped were released at once. */
	ASSERT_EQ(self->pin0 + 6 * PAGE_SIZE / 1024, vm_pinned_kb());

	/* A range over a hole and into both pieces: the hole counts 0. */
	test_ioctl_unmap(self->fd, self->ioasid, IOVA_BASE + PAGE_SIZE,
			 4 * PAGE_SIZE, 2 * PAGE_SIZE);
	check_mapped(IOVA_BASE, self->buf, PAGE_SIZE, MOCK_PROT_RW);
	check_mapped(IOVA_BASE + 5 * PAGE_SIZE, self->buf + 5 * PAGE_SIZE,
		     3 * PAGE_SIZE, MOCK_PROT_RW);
	/* Cut the last piece's tail off, then take the rest. */
	test_ioctl_unmap(self->fd, self->ioasid, IOVA_BASE + 7 * PAGE_SIZE,
			 PAGE_SIZE, PAGE_SIZE);
	test_ioctl_unmap(self->fd, self->ioasid, 0, IOVA_BASE * 2,
			 3 * PAGE_SIZE);
	check_unmapped(IOVA_BASE, 8 * PAGE_SIZE);
	ASSERT_EQ(self->pin0, vm_pinned_kb());
}

TEST_F(memory, unmap_all)
{
	__u64 unmapped = 0;
	int i;

	for (i = 0; i != 4; i++)
		test_ioctl_map(self->fd, self->ioasid,
			       self->buf + i * 4 * PAGE_SIZE,
			       IOVA_BASE + i * 0x100000UL, 4 * PAGE_SIZE);
	test_cmd(_test_ioctl_unmap(self->fd, self->ioasid, 0, 0,
				   IOASID_DMA_UNMAP_ALL, &unmapped));
	ASSERT_EQ(16 * PAGE_SIZE, unmapped);
	check_unmapped(IOVA_BASE, 0x400000UL);
	/* Nothing left: unmap all again reports 0. */
	test_cmd(_test_ioctl_unmap(self->fd, self->ioasid, 0, 0,
				   IOASID_DMA_UNMAP_ALL, &unmapped));
	ASSERT_EQ(0, unmapped);
	test_err_cmd(EINVAL, _test_ioctl_unmap(self->fd, self->ioasid,
					       IOVA_BASE, 0,
					       IOASID_DMA_UNMAP_ALL, NULL));
	test_err_cmd(EINVAL, _test_ioctl_unmap(self->fd, self->ioasid, 0,
					       PAGE_SIZE,
					       IOASID_DMA_UNMAP_ALL, NULL));
}

TEST_F(memory, unmap_bad_input)
{
	test_err_ioctl_unmap(EINVAL, self->fd, self->ioasid, IOVA_BASE, 0);
	test_err_ioctl_unmap(EINVAL, self->fd, self->ioasid, IOVA_BASE + 1,
			     PAGE_SIZE);
	test_err_ioctl_unmap(EINVAL, self->fd, self->ioasid, IOVA_BASE, 1);
	test_err_ioctl_unmap(EOVERFLOW, self->fd, self->ioasid, -PAGE_SIZE,
			     2 * PAGE_SIZE);
	test_err_ioctl_unmap(ENOENT, self->fd, self->ioasid + 1000, IOVA_BASE,
			     PAGE_SIZE);
	/* Nothing mapped there: success, nothing unmapped. */
	test_ioctl_unmap(self->fd, self->ioasid, IOVA_BASE, PAGE_SIZE, 0);
}

/* Registered memory: pinned and charged once, however often mapped. */
TEST_F(memory, registered_charged_once)
{
	__u32 second, ref, pinned, ref_mapped;

	test_ioctl_register(self->fd, self->buf, BUF_SIZE);
	ASSERT_EQ(self->pin0 + BUF_SIZE / 1024, vm_pinned_kb());
	ASSERT_EQ(0, page_ref(self->fd, self->buf, &ref, &pinned));
	ASSERT_EQ(1, pinned);

	test_ioctl_alloc(self->fd, &second);
	test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE, BUF_SIZE);
	test_ioctl_map(self->fd, second, self->buf, IOVA_BASE, BUF_SIZE);
	test_ioctl_map(self->fd, second, self->buf + PAGE_SIZE,
		       IOVA_BASE + BUF_SIZE, PAGE_SIZE);
	check_mapped(IOVA_BASE, self->buf, BUF_SIZE, MOCK_PROT_RW);
	/* No new pin, no new charge. */
	ASSERT_EQ(self->pin0 + BUF_SIZE / 1024, vm_pinned_kb());
	ASSERT_EQ(0, page_ref(self->fd, self->buf, &ref_mapped, &pinned));
	ASSERT_EQ(ref, ref_mapped);

	/* Still in use: the registration stays. */
	test_err_ioctl_unregister(EBUSY, self->fd, self->buf, BUF_SIZE);
	test_ioctl_unmap(self->fd, self->ioasid, IOVA_BASE, BUF_SIZE,
			 BUF_SIZE);
	test_err_ioctl_unregister(EBUSY, self->fd, self->buf, BUF_SIZE);
	test_ioctl_free(self->fd, second);
	test_ioctl_unregister(self->fd, self->buf, BUF_SIZE);
	ASSERT_EQ(self->pin0, vm_pinned_kb());
}

TEST_F(memory, register_rules)
{
	void *buf = self->buf;

	test_ioctl_register(self->fd, buf + 4 * PAGE_SIZE, 4 * PAGE_SIZE);
	/* Overlap in any way: EEXIST. */
	test_err_ioctl_register(EEXIST, self->fd, buf + 4 * PAGE_SIZE,
				4 * PAGE_SIZE);
	test_err_ioctl_register(EEXIST, self->fd, buf + 2 * PAGE_SIZE,
				4 * PAGE_SIZE);
	test_err_ioctl_register(EEXIST, self->fd, buf + 7 * PAGE_SIZE,
				4 * PAGE_SIZE);
	/* Adjacent: its own registration. */
	test_ioctl_register(self->fd, buf, 4 * PAGE_SIZE);
	test_ioctl_register(self->fd, buf + 8 * PAGE_SIZE, 4 * PAGE_SIZE);
	ASSERT_EQ(self->pin0 + 12 * PAGE_SIZE / 1024, vm_pinned_kb());

	/* A map across two registrations pins its own pages. */
	test_ioctl_map(self->fd, self->ioasid, buf + 2 * PAGE_SIZE, IOVA_BASE,
		       4 * PAGE_SIZE);
	ASSERT_EQ(self->pin0 + 16 * PAGE_SIZE / 1024, vm_pinned_kb());
	/* ...so neither registration is busy. */
	test_ioctl_unregister(self->fd, buf, 4 * PAGE_SIZE);

	/* Unregister takes exactly what was registered. */
	test_err_ioctl_unregister(ENOENT, self->fd, buf + 4 * PAGE_SIZE,
				  PAGE_SIZE);
	test_err_ioctl_unregister(ENOENT, self->fd, buf + 4 * PAGE_SIZE,
				  8 * PAGE_SIZE);
	test_err_ioctl_unregister(ENOENT, self->fd, buf, 4 * PAGE_SIZE);
	test_ioctl_unregister(self->fd, buf + 4 * PAGE_SIZE, 4 * PAGE_SIZE);

	/* Bad ranges. */
	test_err_ioctl_register(EINVAL, self->fd, buf, 0);
	test_err_ioctl_register(EINVAL, self->fd, buf + 1, PAGE_SIZE);
	test_err_ioctl_register(EINVAL, self->fd, buf, PAGE_SIZE - 1);
	test_err_ioctl_register(EOVERFLOW, self->fd, (void *)-PAGE_SIZE,
				2 * PAGE_SIZE);
	test_err_ioctl_register(EFAULT, self->fd, (void *)PAGE_SIZE,
				PAGE_SIZE);
	ASSERT_EQ(self->pin0 + 8 * PAGE_SIZE / 1024, vm_pinned_kb());
	/* Close takes the rest: the teardown checks it. */
}

/* Memory that is not fully mapped: nothing is pinned, nothing charged. */
TEST_F(memory, register_with_hole)
{
	ASSERT_EQ(0, munmap(self->buf + BUF_SIZE - PAGE_SIZE, PAGE_SIZE));
	test_err_ioctl_register(EFAULT, self->fd, self->buf, BUF_SIZE);
	ASSERT_EQ(self->pin0, vm_pinned_kb());
	ASSERT_EQ(self->buf + BUF_SIZE - PAGE_SIZE,
		  mmap(self->buf + BUF_SIZE - PAGE_SIZE, PAGE_SIZE,
		       PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	memset(self->buf + BUF_SIZE - PAGE_SIZE, 0, PAGE_SIZE);
}

/* The BAR0 of the first QEMU edu device, from sysfs. */
static int open_edu_bar(void)
{
	char path[128], id[16];
	int i, fd;

	for (i = 0; i != 32; i++) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/0000:00:%02x.0/device", i);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		memset(id, 0, sizeof(id));
		read(fd, id, sizeof(id) - 1);
		close(fd);
		if (strncmp(id, "0x11e8", 6))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/0000:00:%02x.0/resource0", i);
		return open(path, O_RDWR);
	}
	return -1;
}

/* Device memory (a PCI BAR, VM_IO | VM_PFNMAP) is refused: EFAULT. */
TEST_F(memory, pfnmap_rejected)
{
	int bar_fd = open_edu_bar();
	void *bar;

	if (bar_fd < 0)
		SKIP(return, "no edu device BAR to map");
	bar = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, bar_fd,
		   0);
	ASSERT_NE(MAP_FAILED, bar);
	test_err_ioctl_map(EFAULT, self->fd, self->ioasid, bar, IOVA_BASE,
			   PAGE_SIZE);
	test_err_ioctl_register(EFAULT, self->fd, bar, PAGE_SIZE);
	check_unmapped(IOVA_BASE, PAGE_SIZE);
	ASSERT_EQ(self->pin0, vm_pinned_kb());
	munmap(bar, PAGE_SIZE);
	close(bar_fd);
}

TEST_F(memory, get_info_ranges)
{
	struct ioasid_iova_range ranges[8];
	struct ioasid_cmd_get_info info;

	test_ioctl_get_info(self->fd, self->ioasid, &info, ranges, 8);
	ASSERT_EQ(self->ndev, info.out_num_devices);
	ASSERT_EQ(PAGE_SIZE, info.out_pgsize_bitmap & -info.out_pgsize_bitmap);
	switch (self->ndev) {
	case 0:
		ASSERT_EQ(1, info.num_iova_ranges);
		ASSERT_EQ(UINT64_MAX, ranges[0].last);
		break;
	case 1:
		/* 48-bit aperture; 2M and 1G pages on offer. */
		ASSERT_EQ(1, info.num_iova_ranges);
		ASSERT_EQ(0, ranges[0].start);
		ASSERT_EQ((1ULL << 48) - 1, ranges[0].last);
		ASSERT_EQ(PAGE_SIZE | SZ_2M | (1UL << 30),
			  info.out_pgsize_bitmap);
		break;
	case 2:
		/* The smaller aperture, less the MSI window. */
		ASSERT_EQ(2, info.num_iova_ranges);
		ASSERT_EQ(0, ranges[0].start);
		ASSERT_EQ(IOASID_MOCK_MSI_START - 1, ranges[0].last);
		ASSERT_EQ(IOASID_MOCK_MSI_LAST + 1, ranges[1].start);
		ASSERT_EQ((1ULL << 39) - 1, ranges[1].last);
		/* No large size is common to both. */
		ASSERT_EQ(PAGE_SIZE, info.out_pgsize_bitmap);
		break;
	}
}

/* Maps outside the usable ranges fail; nothing is left behind. */
TEST_F(memory, map_outside_usable)
{
	int in_msi = self->ndev < 2 ? 0 : -ERANGE;
	int past_48_bits = self->ndev ? -ERANGE : 0;

	ASSERT_EQ(in_msi, _test_ioctl_map(self->fd, self->ioasid, self->buf,
					  IOASID_MOCK_MSI_START, PAGE_SIZE,
					  MAP_RW));
	ASSERT_EQ(past_48_bits,
		  _test_ioctl_map(self->fd, self->ioasid, self->buf,
				  1ULL << 48, PAGE_SIZE, MAP_RW));
}

/* A device that cannot reach an existing mapping may not attach. */
TEST_F(memory, attach_conflicts_with_mapping)
{
	struct ioasid_cmd_get_info info;
	__u32 small, id;

	test_ioctl_alloc(self->fd, &id);
	test_ioctl_map(self->fd, id, self->buf, IOASID_MOCK_MSI_START,
		       PAGE_SIZE);
	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_SMALL, &small);
	test_err_cmd_attach(ERANGE, self->fd, small, id);
	test_ioctl_get_info(self->fd, id, &info, NULL, 0);
	ASSERT_EQ(0, info.out_num_devices);
	ASSERT_EQ(0, test_domain_of(self->fd, small));

	/* Beyond its 39-bit aperture is just as unreachable. */
	test_ioctl_unmap(self->fd, id, IOASID_MOCK_MSI_START, PAGE_SIZE,
			 PAGE_SIZE);
	test_ioctl_map(self->fd, id, self->buf, 1ULL << 40, PAGE_SIZE);
	test_err_cmd_attach(ERANGE, self->fd, small, id);
	test_ioctl_unmap(self->fd, id, 1ULL << 40, PAGE_SIZE, PAGE_SIZE);
	test_cmd_attach(self->fd, small, id);
}

/* Mappings made before a device arrives are replayed into its domain. */
TEST_F(memory, attach_replays_mappings)
{
	__u32 late, id;

	test_ioctl_alloc(self->fd, &id);
	test_ioctl_map(self->fd, id, self->buf, IOVA_BASE, 8 * PAGE_SIZE);
	test_ioctl_map(self->fd, id, self->buf + 16 * PAGE_SIZE,
		       4 * IOVA_BASE, 4 * PAGE_SIZE);
	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_SMALL, &late);
	test_cmd_attach(self->fd, late, id);
	test_cmd_check_map(self->fd, late, IOVA_BASE, self->buf, 8 * PAGE_SIZE,
			   MOCK_PROT_RW);
	test_cmd_check_map(self->fd, late, 4 * IOVA_BASE,
			   self->buf + 16 * PAGE_SIZE, 4 * PAGE_SIZE,
			   MOCK_PROT_RW);
	/* Attached once is enough; twice is EBUSY. */
	test_err_cmd_attach(EBUSY, self->fd, late, id);
}

/* One domain per IOMMU instance: shared within one, separate across. */
TEST_F(memory, domain_per_instance)
{
	__u32 large, small, id;
	__u64 d_large, d_small;

	test_ioctl_alloc(self->fd, &id);
	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_LARGE, &large);
	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_SMALL, &small);
	test_cmd_attach(self->fd, large, id);
	test_cmd_attach(self->fd, small, id);
	d_large = test_domain_of(self->fd, large);
	d_small = test_domain_of(self->fd, small);
	ASSERT_NE(0, d_large);
	ASSERT_NE(0, d_small);
	ASSERT_NE(d_large, d_small);
	if (self->ndev) {
		/* The fixture's first device is behind the large instance. */
		ASSERT_NE(0, test_domain_of(self->fd, self->dev[0]));
		ASSERT_NE(test_domain_of(self->fd, self->dev[0]), d_large);
		test_cmd_detach(self->fd, self->dev[0]);
		test_cmd_attach(self->fd, self->dev[0], id);
		ASSERT_EQ(d_large, test_domain_of(self->fd, self->dev[0]));
	}
	/* An IOASID in use cannot be freed; detached, it can. */
	test_err_ioctl_free(EBUSY, self->fd, id);
	test_cmd_detach(self->fd, large);
	test_cmd_detach(self->fd, small);
	ASSERT_EQ(0, test_domain_of(self->fd, small));
	test_err_cmd(ENXIO, _test_cmd_detach(self->fd, small));
	if (self->ndev)
		test_cmd_detach(self->fd, self->dev[0]);
	test_ioctl_free(self->fd, id);
}

/* Moving a device between IOASIDs while both have mappings (RFC 5.2). */
TEST_F(memory, move_device_between_ioasids)
{
	__u32 dev, a, b;

	test_ioctl_alloc(self->fd, &a);
	test_ioctl_alloc(self->fd, &b);
	test_ioctl_map(self->fd, a, self->buf, IOVA_BASE, PAGE_SIZE);
	test_ioctl_map(self->fd, b, self->buf + PAGE_SIZE, IOVA_BASE,
		       PAGE_SIZE);
	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_LARGE, &dev);
	test_cmd_attach(self->fd, dev, a);
	test_cmd_check_map(self->fd, dev, IOVA_BASE, self->buf, PAGE_SIZE,
			   MOCK_PROT_RW);
	test_cmd_detach(self->fd, dev);
	test_cmd_attach(self->fd, dev, b);
	test_cmd_check_map(self->fd, dev, IOVA_BASE, self->buf + PAGE_SIZE,
			   PAGE_SIZE, MOCK_PROT_RW);
}

/* hugetlbfs memory gets large IOMMU pages where the domain has them. */
TEST_F(memory, hugetlb_large_pages)
{
	__u64 pgsize = 0;
	void *huge;

	huge = mmap(NULL, 2 * SZ_2M, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (huge == MAP_FAILED)
		SKIP(return, "no hugetlb pages reserved");
	memset(huge, 1, 2 * SZ_2M);

	test_ioctl_map(self->fd, self->ioasid, huge, 16 * SZ_2M, 2 * SZ_2M);
	if (self->ndev) {
		test_cmd(_test_cmd_check_map(self->fd, self->dev[0],
					     16 * SZ_2M, huge, 2 * SZ_2M,
					     MOCK_PROT_RW, &pgsize,
					     true));
		ASSERT_EQ(SZ_2M, pgsize);
	}
	if (self->ndev > 1) {
		test_cmd(_test_cmd_check_map(self->fd, self->dev[1],
					     16 * SZ_2M, huge, 2 * SZ_2M,
					     MOCK_PROT_RW, &pgsize,
					     true));
		ASSERT_EQ(1UL << 16, pgsize);
	}
	/* A cut through a large IOMMU page is refused and changes nothing. */
	if (self->ndev) {
		test_err_ioctl_unmap(EINVAL, self->fd, self->ioasid,
				     16 * SZ_2M + PAGE_SIZE, PAGE_SIZE);
		check_mapped(16 * SZ_2M, huge, 2 * SZ_2M, MOCK_PROT_RW);
	} else {
		/* With no domain there is no large page to split. */
		test_ioctl_unmap(self->fd, self->ioasid,
				 16 * SZ_2M + PAGE_SIZE, PAGE_SIZE, PAGE_SIZE);
		test_ioctl_map(self->fd, self->ioasid, huge + PAGE_SIZE,
			       16 * SZ_2M + PAGE_SIZE, PAGE_SIZE);
	}
	/* Along the large page boundary, a cut is fine. */
	test_ioctl_unmap(self->fd, self->ioasid, 16 * SZ_2M, SZ_2M, SZ_2M);
	check_unmapped(16 * SZ_2M, SZ_2M);
	check_mapped(17 * SZ_2M, huge + SZ_2M, SZ_2M, MOCK_PROT_RW);
	test_ioctl_unmap(self->fd, self->ioasid, 17 * SZ_2M, SZ_2M, SZ_2M);
	munmap(huge, 2 * SZ_2M);
	ASSERT_EQ(self->pin0, vm_pinned_kb());
}

/* Small pages that happen to sit together never make a large page. */
TEST_F(memory, small_pages_stay_small)
{
	__u64 pgsize = 0;

	if (!self->ndev)
		SKIP(return, "no domain to look at");
	test_ioctl_map(self->fd, self->ioasid, self->buf, 16 * SZ_2M,
		       BUF_SIZE);
	test_cmd(_test_cmd_check_map(self->fd, self->dev[0], 16 * SZ_2M,
				     self->buf, BUF_SIZE,
				     MOCK_PROT_RW, &pgsize, true));
	ASSERT_EQ(PAGE_SIZE, pgsize);
	/* So any page boundary can be cut. */
	test_ioctl_unmap(self->fd, self->ioasid, 16 * SZ_2M + PAGE_SIZE,
			 PAGE_SIZE, PAGE_SIZE);
}

/* The PFN behind @va (this process, as root), or 0 if none. */
static __u64 pfn_of(void *va)
{
	__u64 entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry),
		  (uintptr_t)va / PAGE_SIZE * sizeof(entry)) != sizeof(entry))
		entry = 0;
	close(fd);
	/* Bit 63: present; bits 0-54: the PFN. */
	return entry >> 63 ? entry & ((1ULL << 55) - 1) : 0;
}

static __u64 page_flags_of(__u64 pfn)
{
	__u64 flags = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &flags, sizeof(flags), pfn * sizeof(flags)) !=
	    sizeof(flags))
		flags = 0;
	close(fd);
	return flags;
}

/*
 * Whether the @len bytes at @va sit on physically contiguous pages that
 * start @len-aligned and make folios of exactly @folio bytes each.
 */
static bool folios_are(void *va, size_t len, size_t folio)
{
	__u64 first = pfn_of(va);
	size_t i;

	if (!first || first % (len / PAGE_SIZE))
		return false;
	for (i = 0; i != len / PAGE_SIZE; i++) {
		__u64 flags = page_flags_of(first + i);
		bool head = flags >> KPF_COMPOUND_HEAD & 1;
		bool tail = flags >> KPF_COMPOUND_TAIL & 1;

		if (pfn_of((char *)va + i * PAGE_SIZE) != first + i)
			return false;
		/* A folio of one page is no compound page at all. */
		if (folio == PAGE_SIZE ? head || tail :
		    i % (folio / PAGE_SIZE) ? !tail : !head)
			return false;
	}
	return true;
}

/*
 * @len bytes of anonymous memory at a 2M-aligned address, each 2M of it a
 * transparent huge page; with @split_order >= 0 each is then split in
 * place into folios of that order, which leaves the memory physically
 * contiguous and aligned, but made of smaller folios. NULL if the kernel
 * gave no THP or cannot split (no debugfs). *@raw is what to munmap().
 */
static void *thp_memory(size_t len, int split_order, void **raw,
			size_t *raw_len)
{
	char cmd[128];
	char *buf;

	*raw_len = len + SZ_2M;
	*raw = mmap(NULL, *raw_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*raw == MAP_FAILED)
		return NULL;
	buf = (char *)(((uintptr_t)*raw + SZ_2M - 1) & ~(SZ_2M - 1));
	if (madvise(buf, len, MADV_HUGEPAGE))
		return NULL;
	memset(buf, 0x5a, len);
	if (split_order < 0)
		return buf;
	snprintf(cmd, sizeof(cmd), "%d,%#lx,%#lx,%d", getpid(),
		 (unsigned long)buf, (unsigned long)buf + len, split_order);
	if (write_file("/sys/kernel/debug/split_huge_pages", cmd))
		return NULL;
	/* Or khugepaged may put the small folios back together. */
	madvise(buf, len, MADV_NOHUGEPAGE);
	return buf;
}

/*
 * Small pages that happen to be physically contiguous and aligned to a
 * large IOMMU page are mapped in few calls, but never as a large page:
 * any page of them may be cut out.
 */
TEST_F(memory, contiguous_small_pages_cut_anywhere)
{
	unsigned long iova = 16 * SZ_2M;
	size_t raw_len;
	__u64 pgsize;
	void *raw;
	char *buf;

	buf = thp_memory(SZ_2M, 0, &raw, &raw_len);
	if (!buf)
		SKIP(return, "no THP to split into small pages");
	test_ioctl_map(self->fd, self->ioasid, buf, iova, SZ_2M);
	/* Pinned now: the pages cannot move while we look. */
	if (!folios_are(buf, SZ_2M, PAGE_SIZE)) {
		test_ioctl_unmap(self->fd, self->ioasid, iova, SZ_2M, SZ_2M);
		munmap(raw, raw_len);
		SKIP(return, "the split left no contiguous small pages");
	}
	for (unsigned int i = 0; i != self->ndev; i++) {
		pgsize = 0;
		test_cmd(_test_cmd_check_map(self->fd, self->dev[i], iova, buf,
					     SZ_2M, MOCK_PROT_RW, &pgsize,
					     true));
		ASSERT_GE(PAGE_SIZE, pgsize);
	}
	test_ioctl_unmap(self->fd, self->ioasid, iova + 5 * PAGE_SIZE,
			 PAGE_SIZE, PAGE_SIZE);
	/* Where a 64K IOMMU page would have been, on the small instance. */
	test_ioctl_unmap(self->fd, self->ioasid, iova + 0x11000, PAGE_SIZE,
			 PAGE_SIZE);
	check_mapped(iova, buf, 5 * PAGE_SIZE, MOCK_PROT_RW);
	check_unmapped(iova + 5 * PAGE_SIZE, PAGE_SIZE);
	check_mapped(iova + 6 * PAGE_SIZE, buf + 6 * PAGE_SIZE,
		     0x11000 - 6 * PAGE_SIZE, MOCK_PROT_RW);
	check_unmapped(iova + 0x11000, PAGE_SIZE);
	check_mapped(iova + 0x12000, buf + 0x12000, SZ_2M - 0x12000,
		     MOCK_PROT_RW);
	ASSERT_EQ(self->pin0 + (SZ_2M - 2 * PAGE_SIZE) / 1024,
		  vm_pinned_kb());
	test_ioctl_unmap(self->fd, self->ioasid, iova, SZ_2M,
			 SZ_2M - 2 * PAGE_SIZE);
	ASSERT_EQ(self->pin0, vm_pinned_kb());
	munmap(raw, raw_len);
}

/* A THP is mapped with large IOMMU pages, which no unmap may cut. */
TEST_F(memory, thp_cut_refused)
{
	unsigned long iova = 16 * SZ_2M;
	size_t raw_len;
	__u64 pgsize;
	void *raw;
	char *buf;

	buf = thp_memory(2 * SZ_2M, -1, &raw, &raw_len);
	if (!buf)
		SKIP(return, "no THP");
	test_ioctl_map(self->fd, self->ioasid, buf, iova, 2 * SZ_2M);
	if (!folios_are(buf, SZ_2M, SZ_2M) ||
	    !folios_are(buf + SZ_2M, SZ_2M, SZ_2M)) {
		test_ioctl_unmap(self->fd, self->ioasid, iova, 2 * SZ_2M,
				 2 * SZ_2M);
		munmap(raw, raw_len);
		SKIP(return, "the kernel gave no THP");
	}
	for (unsigned int i = 0; i != self->ndev; i++) {
		pgsize = 0;
		test_cmd(_test_cmd_check_map(self->fd, self->dev[i], iova, buf,
					     2 * SZ_2M, MOCK_PROT_RW, &pgsize,
					     true));
		/* The large instance has 2M pages, the small one 64K. */
		ASSERT_EQ(i ? 1UL << 16 : SZ_2M, pgsize);
	}
	if (self->ndev) {
		/* Inside a 64K block, and on one: both inside the 2M page. */
		test_err_ioctl_unmap(EINVAL, self->fd, self->ioasid,
				     iova + PAGE_SIZE, PAGE_SIZE);
		test_err_ioctl_unmap(EINVAL, self->fd, self->ioasid,
				     iova + 0x10000, 0x10000);
		/* A range that ends inside the second THP, too. */
		test_err_ioctl_unmap(EINVAL, self->fd, self->ioasid, iova,
				     SZ_2M + PAGE_SIZE);
		check_mapped(iova, buf, 2 * SZ_2M, MOCK_PROT_RW);
		ASSERT_EQ(self->pin0 + 2 * SZ_2M / 1024, vm_pinned_kb());
	} else {
		/* With no domain there is no large page to split. */
		test_ioctl_unmap(self->fd, self->ioasid, iova + PAGE_SIZE,
				 PAGE_SIZE, PAGE_SIZE);
		test_ioctl_map(self->fd, self->ioasid, buf + PAGE_SIZE,
			       iova + PAGE_SIZE, PAGE_SIZE);
	}
	/* Along the THP boundary, a cut is fine. */
	test_ioctl_unmap(self->fd, self->ioasid, iova, SZ_2M, SZ_2M);
	check_unmapped(iova, SZ_2M);
	check_mapped(iova + SZ_2M, buf + SZ_2M, SZ_2M, MOCK_PROT_RW);
	test_ioctl_unmap(self->fd, self->ioasid, iova + SZ_2M, SZ_2M, SZ_2M);
	ASSERT_EQ(self->pin0, vm_pinned_kb());
	munmap(raw, raw_len);
}

/*
 * 64K folios filling a 2M block: on the small instance each is one 64K
 * IOMMU page, which a cut may not split; on the large one the 2M block is
 * no folio of its own, so it stays in small pages, cut anywhere.
 */
TEST_F(memory, mthp_large_pages_per_instance)
{
	unsigned long iova = 16 * SZ_2M;
	bool small = self->ndev > 1;
	size_t raw_len;
	__u64 pgsize;
	void *raw;
	char *buf;

	buf = thp_memory(SZ_2M, 4, &raw, &raw_len);
	if (!buf)
		SKIP(return, "no THP to split into 64K folios");
	test_ioctl_map(self->fd, self->ioasid, buf, iova, SZ_2M);
	if (PAGE_SIZE != 4096 || !folios_are(buf, SZ_2M, 1UL << 16)) {
		test_ioctl_unmap(self->fd, self->ioasid, iova, SZ_2M, SZ_2M);
		munmap(raw, raw_len);
		SKIP(return, "the split left no contiguous 64K folios");
	}
	for (unsigned int i = 0; i != self->ndev; i++) {
		pgsize = 0;
		test_cmd(_test_cmd_check_map(self->fd, self->dev[i], iova, buf,
					     SZ_2M, MOCK_PROT_RW, &pgsize,
					     true));
		ASSERT_EQ(i ? 1UL << 16 : PAGE_SIZE, pgsize);
	}
	/* Inside a 64K folio: only the small instance's page forbids it. */
	if (small) {
		test_err_ioctl_unmap(EINVAL, self->fd, self->ioasid,
				     iova + PAGE_SIZE, PAGE_SIZE);
		check_mapped(iova, buf, SZ_2M, MOCK_PROT_RW);
	} else {
		test_ioctl_unmap(self->fd, self->ioasid, iova + PAGE_SIZE,
				 PAGE_SIZE, PAGE_SIZE);
		check_unmapped(iova + PAGE_SIZE, PAGE_SIZE);
	}
	/* Between 64K folios, inside the 2M block: fine everywhere. */
	test_ioctl_unmap(self->fd, self->ioasid, iova + 0x30000, 0x10000,
			 0x10000);
	check_unmapped(iova + 0x30000, 0x10000);
	check_mapped(iova + 0x40000, buf + 0x40000, SZ_2M - 0x40000,
		     MOCK_PROT_RW);
	test_ioctl_unmap(self->fd, self->ioasid, iova, SZ_2M,
			 SZ_2M - 0x10000 - (small ? 0 : PAGE_SIZE));
	ASSERT_EQ(self->pin0, vm_pinned_kb());
	munmap(raw, raw_len);
}

static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	data[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
	return syscall(SYS_capset, &hdr, data);
}

/*
 * Without CAP_IPC_LOCK, RLIMIT_MEMLOCK bounds what may be pinned: a map
 * past it fails with ENOMEM and leaves nothing pinned or charged.
 */
TEST_F(memory, memlock_limit)
{
	struct rlimit limit = {
		.rlim_cur = 16 * PAGE_SIZE,
		.rlim_max = 16 * PAGE_SIZE,
	};
	__u32 ref, pinned;

	ASSERT_EQ(0, drop_ipc_lock());
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &limit));

	test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE,
		       8 * PAGE_SIZE);
	test_err_ioctl_map(ENOMEM, self->fd, self->ioasid,
			   self->buf + 8 * PAGE_SIZE, IOVA_BASE * 2,
			   16 * PAGE_SIZE);
	test_err_ioctl_register(ENOMEM, self->fd, self->buf + 8 * PAGE_SIZE,
				16 * PAGE_SIZE);
	ASSERT_EQ(self->pin0 + 8 * PAGE_SIZE / 1024, vm_pinned_kb());
	ASSERT_EQ(0, page_ref(self->fd, self->buf + 8 * PAGE_SIZE, &ref,
			      &pinned));
	ASSERT_EQ(0, pinned);
	ASSERT_EQ(self->ref0[8], ref);
	check_unmapped(IOVA_BASE * 2, 16 * PAGE_SIZE);
	/* Up to the limit is fine. */
	test_ioctl_map(self->fd, self->ioasid, self->buf + 8 * PAGE_SIZE,
		       IOVA_BASE * 2, 8 * PAGE_SIZE);
	test_ioctl_unmap(self->fd, self->ioasid, 0, IOVA_BASE * 4,
			 16 * PAGE_SIZE);
	ASSERT_EQ(self->pin0, vm_pinned_kb());
}

/* The fd belongs to the process that opened it; user memory too. */
/*
 * Once a process has used the fd's memory, a forked child holding the fd
 * can neither map nor register nor unregister it: EPERM for each, even
 * for memory already registered. It may unmap, which names no memory.
 */
TEST_F(memory, other_process_refused)
{
	pid_t pid;
	int status;

	test_ioctl_register(self->fd, self->buf, 4 * PAGE_SIZE);
	test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE,
		       PAGE_SIZE);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int bad = 0;

		bad |= _test_ioctl_map(self->fd, self->ioasid, self->buf,
				       IOVA_BASE * 2, PAGE_SIZE, MAP_RW) != -EPERM;
		bad |= _test_ioctl_map(self->fd, self->ioasid,
				       self->buf + 8 * PAGE_SIZE, IOVA_BASE * 4,
				       PAGE_SIZE, MAP_RW) != -EPERM;
		bad |= _test_ioctl_register(self->fd, self->buf + 8 * PAGE_SIZE,
					    PAGE_SIZE,
					    IOASID_REGISTER_MEMORY) != -EPERM;
		bad |= _test_ioctl_register(self->fd, self->buf, 4 * PAGE_SIZE,
					    IOASID_UNREGISTER_MEMORY) != -EPERM;
		bad |= _test_ioctl_unmap(self->fd, self->ioasid, IOVA_BASE,
					 PAGE_SIZE, 0, NULL) != 0;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	check_unmapped(IOVA_BASE, 8 * IOVA_BASE);
	/* Still the parent's: it may go on using it. */
	test_ioctl_unregister(self->fd, self->buf, 4 * PAGE_SIZE);
	test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE,
		       PAGE_SIZE);
}

/*
 * The libvirt pattern: a helper process opens /dev/ioasid and passes the
 * fd over a unix socket. The VMM that uses it first pins and is charged,
 * whoever opened it.
 */
TEST_F(memory, fd_passed_over_unix_socket)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	int sv[2], status, fd;
	__u32 ioasid;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int helper_fd = open_ioasid();

		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &helper_fd, sizeof(int));
		_exit(helper_fd < 0 || sendmsg(sv[1], &msg, 0) != 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(1, recvmsg(sv[0], &msg, 0));
	cmsg = CMSG_FIRSTHDR(&msg);
	ASSERT_NE(NULL, cmsg);
	ASSERT_EQ(SCM_RIGHTS, cmsg->cmsg_type);
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	close(sv[0]);
	close(sv[1]);

	/* The opener is gone; this process binds the fd by using it. */
	test_ioctl_alloc(fd, &ioasid);
	test_ioctl_register(fd, self->buf, 2 * PAGE_SIZE);
	ASSERT_EQ(self->pin0 + 2 * PAGE_SIZE / 1024, vm_pinned_kb());
	test_ioctl_map(fd, ioasid, self->buf, IOVA_BASE, 2 * PAGE_SIZE);
	test_ioctl_unmap(fd, ioasid, IOVA_BASE, 2 * PAGE_SIZE, 2 * PAGE_SIZE);
	close(fd);
	ASSERT_EQ(self->pin0, vm_pinned_kb());
}

/*
 * Threads map and unmap disjoint and overlapping ranges of one IOASID
 * while another attaches and detaches mock devices. Each call must answer
 * 0 or its documented errno, and at the end every device that is attached
 * must see exactly the mappings that are left.
 */
#define RACE_ROUNDS 300

struct race {
	int fd;
	__u32 ioasid;
	void *buf;
	unsigned int seed;
	int bad;
	atomic_bool *stop;
};

static void *race_mapper(void *p)
{
	struct race *r = p;
	int i, ret;

	for (i = 0; i != RACE_ROUNDS; i++) {
		unsigned int page = rand_r(&r->seed) % (BUF_PAGES - 4);
		unsigned int npages = rand_r(&r->seed) % 4 + 1;
		__u64 iova = IOVA_BASE + page * PAGE_SIZE;

		if (rand_r(&r->seed) % 2)
			ret = _test_ioctl_map(r->fd, r->ioasid,
					      r->buf + page * PAGE_SIZE, iova,
					      npages * PAGE_SIZE, MAP_RW);
		else
			ret = _test_ioctl_unmap(r->fd, r->ioasid, iova,
						npages * PAGE_SIZE, 0, NULL);
		if (ret && ret != -EEXIST)
			r->bad++;
	}
	return NULL;
}

static void *race_attacher(void *p)
{
	struct race *r = p;
	__u32 dev[2];
	int i, ret;

	if (_test_cmd_mock_device_add(r->fd, IOASID_MOCK_INSTANCE_LARGE,
				      &dev[0]) ||
	    _test_cmd_mock_device_add(r->fd, IOASID_MOCK_INSTANCE_SMALL,
				      &dev[1])) {
		r->bad++;
		return NULL;
	}
	for (i = 0; !atomic_load(r->stop); i++) {
		ret = _test_cmd_attach(r->fd, dev[i % 2], r->ioasid);
		if (ret && ret != -EBUSY)
			r->bad++;
		ret = _test_cmd_detach(r->fd, dev[(i + 1) % 2]);
		if (ret && ret != -ENXIO)
			r->bad++;
	}
	return NULL;
}

TEST_F_TIMEOUT(memory, concurrent_map_attach, 600)
{
	struct race r[4];
	pthread_t threads[4];
	atomic_bool stop = false;
	unsigned int i;
	__u64 iova;

	for (i = 0; i != 4; i++) {
		r[i] = (struct race){ .fd = self->fd, .ioasid = self->ioasid,
				      .buf = self->buf, .seed = i + 1,
				      .stop = &stop };
		ASSERT_EQ(0, pthread_create(&threads[i], NULL,
					    i ? race_mapper : race_attacher,
					    &r[i]));
	}
	for (i = 1; i != 4; i++)
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
	atomic_store(&stop, true);
	ASSERT_EQ(0, pthread_join(threads[0], NULL));
	for (i = 0; i != 4; i++)
		ASSERT_EQ(0, r[i].bad);

	/* Whatever is mapped now is mapped right in every domain. */
	for (iova = IOVA_BASE; iova < IOVA_BASE + BUF_SIZE; iova += PAGE_SIZE) {
		if (_test_ioctl_map(self->fd, self->ioasid, self->buf,
				    iova, PAGE_SIZE, MAP_RW) == 0) {
			/* It was a hole: now it is ours; check that too. */
			check_mapped(iova, self->buf, PAGE_SIZE, MOCK_PROT_RW);
			continue;
		}
		check_mapped(iova, self->buf + (iova - IOVA_BASE), PAGE_SIZE,
			     MOCK_PROT_RW);
	}
}

/* Closing the fd with everything live releases everything. */
TEST_F(memory, close_with_everything_live)
{
	__u32 second, dev;

	test_ioctl_register(self->fd, self->buf, BUF_SIZE / 2);
	test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE,
		       BUF_SIZE / 2);
	test_ioctl_map(self->fd, self->ioasid, self->buf + BUF_SIZE / 2,
		       2 * IOVA_BASE, BUF_SIZE / 2);
	test_ioctl_alloc(self->fd, &second);
	test_ioctl_map(self->fd, second, self->buf, IOVA_BASE, BUF_SIZE);
	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_SMALL, &dev);
	test_cmd_attach(self->fd, dev, second);
	ASSERT_LT(self->pin0, vm_pinned_kb());
	/* The teardown closes the fd and checks every page. */
}

/*
 * A device whose MSIs nothing isolates (the SW_MSI mock instance, as on
 * an ARM SMMU without isolated MSIs, or any IOMMU without interrupt
 * remapping) could raise host interrupts by DMA: binding it takes the
 * administrator's ioasid.allow_unsafe_interrupts. Once bound, its domain
 * gets an MSI cookie and its software MSI window is kept free of
 * mappings; its relaxable direct region is not reserved.
 */
#define UNSAFE_PARAM "/sys/module/ioasid/parameters/allow_unsafe_interrupts"

FIXTURE(unsafe_msi) {
	int fd;
	__u32 ioasid;
};

FIXTURE_SETUP(unsafe_msi)
{
	self->fd = open_ioasid();
	ASSERT_LE(0, self->fd);
	if (!have_test_ioctl(self->fd))
		SKIP(return, "kernel without CONFIG_IOASID_TEST");
	ASSERT_EQ(0, write_file(UNSAFE_PARAM, "0"));
	test_ioctl_alloc(self->fd, &self->ioasid);
}

FIXTURE_TEARDOWN(unsafe_msi)
{
	write_file(UNSAFE_PARAM, "0");
	close(self->fd);
}

TEST_F(unsafe_msi, refused_unless_allowed)
{
	struct ioasid_iova_range ranges[8];
	struct ioasid_cmd_get_info info;
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_DEVICE_INFO,
	};
	__u32 dev, second, isolated;
	void *buf;

	test_err_cmd(EPERM,
		     _test_cmd_mock_device_add(self->fd,
					       IOASID_MOCK_INSTANCE_SW_MSI,
					       &dev));
	/* Devices with isolated MSIs need no override. */
	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_LARGE,
				 &isolated);

	ASSERT_EQ(0, write_file(UNSAFE_PARAM, "1"));
	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_SW_MSI, &dev);
	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_SW_MSI, &second);
	ASSERT_EQ(0, write_file(UNSAFE_PARAM, "0"));
	/* The override is read at bind: a bound device stays usable. */
	test_cmd_attach(self->fd, dev, self->ioasid);

	cmd.dev_id = dev;
	test_cmd(_test_cmd_mock(self->fd, &cmd));
	ASSERT_EQ(1, cmd.device_info.out_msi_cookie);
	/* A second device joins the domain and its cookie as they are. */
	test_cmd_attach(self->fd, second, self->ioasid);
	ASSERT_EQ(test_domain_of(self->fd, dev),
		  test_domain_of(self->fd, second));
	test_cmd_detach(self->fd, second);
	test_cmd(_test_cmd_mock(self->fd, &cmd));
	ASSERT_EQ(1, cmd.device_info.out_msi_cookie);

	test_ioctl_get_info(self->fd, self->ioasid, &info, ranges, 8);
	ASSERT_EQ(2, info.num_iova_ranges);
	ASSERT_EQ(IOASID_MOCK_SW_MSI_START - 1, ranges[0].last);
	ASSERT_EQ(IOASID_MOCK_SW_MSI_LAST + 1, ranges[1].start);

	buf = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	test_err_ioctl_map(ERANGE, self->fd, self->ioasid, buf,
			   IOASID_MOCK_SW_MSI_START, PAGE_SIZE);
	test_ioctl_map(self->fd, self->ioasid, buf,
		       IOASID_MOCK_RELAXABLE_START, 2 * PAGE_SIZE);
	test_cmd_check_map(self->fd, dev, IOASID_MOCK_RELAXABLE_START, buf,
			   2 * PAGE_SIZE, MOCK_PROT_RW);
	test_ioctl_unmap(self->fd, self->ioasid, IOASID_MOCK_RELAXABLE_START,
			 2 * PAGE_SIZE, 2 * PAGE_SIZE);

	/* No MSI cookie where the IOMMU does not translate MSIs. */
	test_cmd_attach(self->fd, isolated, self->ioasid);
	cmd.dev_id = isolated;
	test_cmd(_test_cmd_mock(self->fd, &cmd));
	ASSERT_NE(cmd.device_info.out_domain_id, test_domain_of(self->fd, dev));
	ASSERT_EQ(0, cmd.device_info.out_msi_cookie);
	munmap(buf, 2 * PAGE_SIZE);
}

/*
 * Cache coherency. Every mapping asks for snooping (IOMMU_CACHE). A
 * device whose IOMMU can force snooping is one VFIO reports to KVM as
 * coherent, so it only ever sits in a domain that forces it; a device
 * that cannot honour that gets a domain of its own (the driver refuses
 * the shared one with EINVAL and the next is tried); a device that does
 * not snoop at all is refused.
 */
FIXTURE(device_kinds) {
	int fd;
	__u32 ioasid;
	void *buf;
};

FIXTURE_SETUP(device_kinds)
{
	self->fd = open_ioasid();
	ASSERT_LE(0, self->fd);
	if (!have_test_ioctl(self->fd))
		SKIP(return, "kernel without CONFIG_IOASID_TEST");
	test_ioctl_alloc(self->fd, &self->ioasid);
	self->buf = mmap(NULL, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 1, 4 * PAGE_SIZE);
}

FIXTURE_TEARDOWN(device_kinds)
{
	close(self->fd);
}

/* Whether @dev's domain forces snooping, as the mock itself sees it. */
static int domain_enforces_cc(int fd, __u32 dev)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_DEVICE_INFO,
		.dev_id = dev,
	};

	if (_test_cmd_mock(fd, &cmd))
		return -1;
	return cmd.device_info.out_enforce_cc;
}

TEST_F(device_kinds, snooping_forced_where_promised)
{
	const __u32 no_enforce = IOASID_MOCK_DEVICE_NO_ENFORCE_CC;
	struct ioasid_cmd_test check = {
		.op = IOASID_TEST_OP_CHECK_MAP,
		.check_map = {
			.prot = MOCK_PROT_RW,
			.iova = IOVA_BASE,
			.length = 4 * PAGE_SIZE,
			.vaddr = (uintptr_t)self->buf,
		},
	};
	__u32 enforcing, other, weak, second;

	test_err_cmd(EINVAL,
		     mock_device_add_flags(self->fd,
					   IOASID_MOCK_INSTANCE_LARGE,
					   IOASID_MOCK_DEVICE_NOT_COHERENT,
					   &weak));
	test_err_cmd(EINVAL,
		     mock_device_add_flags(self->fd,
					   IOASID_MOCK_INSTANCE_LARGE, 1 << 7,
					   &weak));

	test_cmd(mock_device_add_flags(self->fd, IOASID_MOCK_INSTANCE_LARGE,
				       0, &enforcing));
	test_cmd(mock_device_add_flags(self->fd, IOASID_MOCK_INSTANCE_LARGE,
				       0, &other));
	test_cmd(mock_device_add_flags(self->fd, IOASID_MOCK_INSTANCE_LARGE,
				       no_enforce, &weak));

	test_cmd_attach(self->fd, enforcing, self->ioasid);
	ASSERT_EQ(1, domain_enforces_cc(self->fd, enforcing));
	test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE,
		       4 * PAGE_SIZE);
	check.dev_id = enforcing;
	test_cmd(_test_cmd_mock(self->fd, &check));
	ASSERT_EQ(MOCK_PROT_RW | IOASID_TEST_PROT_CACHE,
		  check.check_map.out_prot);

	/* Refused by the forcing domain: a domain of its own, replayed. */
	test_cmd_attach(self->fd, weak, self->ioasid);
	ASSERT_EQ(0, domain_enforces_cc(self->fd, weak));
	ASSERT_NE(test_domain_of(self->fd, enforcing),
		  test_domain_of(self->fd, weak));
	test_cmd_check_map(self->fd, weak, IOVA_BASE, self->buf,
			   4 * PAGE_SIZE, MOCK_PROT_RW);
	/* A capable device joins the forcing domain, not the other. */
	test_cmd_attach(self->fd, other, self->ioasid);
	ASSERT_EQ(test_domain_of(self->fd, enforcing),
		  test_domain_of(self->fd, other));

	/*
	 * The other order: the weak device's domain cannot be made to
	 * force snooping under its mappings, so the capable device gets
	 * a new domain that does.
	 */
	test_cmd_detach(self->fd, enforcing);
	test_cmd_detach(self->fd, other);
	test_ioctl_alloc(self->fd, &second);
	test_cmd_detach(self->fd, weak);
	test_cmd_attach(self->fd, weak, second);
	test_ioctl_map(self->fd, second, self->buf, IOVA_BASE, PAGE_SIZE);
	test_cmd_attach(self->fd, enforcing, second);
	ASSERT_EQ(1, domain_enforces_cc(self->fd, enforcing));
	ASSERT_EQ(0, domain_enforces_cc(self->fd, weak));
	ASSERT_NE(test_domain_of(self->fd, enforcing),
		  test_domain_of(self->fd, weak));
	test_cmd_check_map(self->fd, enforcing, IOVA_BASE, self->buf,
			   PAGE_SIZE, MOCK_PROT_RW);
}

/*
 * Two devices in one IOMMU group are translated as one: attaching either
 * attaches the group, both go to the same IOASID, and a device reports
 * the domain its DMA really goes through, asked to attach or not.
 */
TEST_F(device_kinds, group_attaches_as_one)
{
	const __u32 share = IOASID_MOCK_DEVICE_SHARE_GROUP;
	struct ioasid_cmd_get_info info;
	struct ioasid_iova_range range;
	__u32 first, sibling, stranger, other_ioasid;
	int other_fd;

	test_cmd(mock_device_add_flags(self->fd, IOASID_MOCK_INSTANCE_LARGE,
				       share, &first));
	test_cmd(mock_device_add_flags(self->fd, IOASID_MOCK_INSTANCE_LARGE,
				       share, &sibling));
	test_ioctl_alloc(self->fd, &other_ioasid);
	test_ioctl_map(self->fd, self->ioasid, self->buf, IOVA_BASE,
		       PAGE_SIZE);

	test_cmd_attach(self->fd, first, self->ioasid);
	/* The sibling never asked, but its DMA goes there now. */
	ASSERT_NE(0, test_domain_of(self->fd, sibling));
	ASSERT_EQ(test_domain_of(self->fd, first),
		  test_domain_of(self->fd, sibling));
	test_cmd_check_map(self->fd, sibling, IOVA_BASE, self->buf, PAGE_SIZE,
			   MOCK_PROT_RW);
	/* One group, one IOASID. */
	test_err_cmd(EBUSY, _test_cmd_attach(self->fd, sibling, other_ioasid));
	test_cmd_attach(self->fd, sibling, self->ioasid);
	test_err_cmd(EBUSY, _test_cmd_attach(self->fd, sibling,
					     self->ioasid));
	test_ioctl_get_info(self->fd, self->ioasid, &info, &range, 1);
	ASSERT_EQ(2, info.out_num_devices);

	/* The group stays attached while one of its devices is. */
	test_cmd_detach(self->fd, first);
	test_err_cmd(ENXIO, _test_cmd_detach(self->fd, first));
	test_cmd_check_map(self->fd, first, IOVA_BASE, self->buf, PAGE_SIZE,
			   MOCK_PROT_RW);
	test_err_ioctl_free(EBUSY, self->fd, self->ioasid);

	/* Another fd cannot take a device of a group this fd owns. */
	other_fd = open_ioasid();
	ASSERT_LE(0, other_fd);
	test_err_cmd(EBUSY,
		     mock_device_add_flags(other_fd,
					   IOASID_MOCK_INSTANCE_LARGE, share,
					   &stranger));
	close(other_fd);

	test_cmd_detach(self->fd, sibling);
	ASSERT_EQ(0, test_domain_of(self->fd, first));
	ASSERT_EQ(0, test_domain_of(self->fd, sibling));
	/* With no domain left, as before the first attach. */
	test_ioctl_get_info(self->fd, self->ioasid, &info, &range, 1);
	ASSERT_EQ(0, info.out_num_devices);
	ASSERT_EQ(PAGE_SIZE, info.out_pgsize_bitmap);
	test_ioctl_unmap(self->fd, self->ioasid, IOVA_BASE, PAGE_SIZE,
			 PAGE_SIZE);
	test_ioctl_free(self->fd, self->ioasid);

	/* Either device can bring the group to the other IOASID now. */
	test_cmd_attach(self->fd, sibling, other_ioasid);
	ASSERT_EQ(test_domain_of(self->fd, first),
		  test_domain_of(self->fd, sibling));
}

TEST_HARNESS_MAIN
