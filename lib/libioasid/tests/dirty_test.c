// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid tests: dirty tracking. ioasid_dirty_tracking_start(),
 * ioasid_dirty_tracking_stop() and ioasid_get_dirty_bitmap().
 *
 * The cases before mock_devices_present need no device: the extension's
 * name, the answers to bad file descriptors, and what the kernel checks
 * of a read before it needs one. The rest use the mock IOMMU's VFIO
 * devices of a test kernel (CONFIG_IOASID_TEST_VFIO): one behind its
 * LARGE instance, whose IOMMU records the pages DMA writes, and one
 * behind another instance, which cannot, so an IOASID with it reports
 * every writable page. Without mock devices those cases say SKIP.
 *
 * Each device case starts from vm(): a fresh ioasid fd whose IOASID maps
 * RAM at IOVA, and reset() closes it all after the case.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libioasid.h"
#include "mock.h"
#include "tap.h"

#define NO_MOCK		"no mock VFIO devices (CONFIG_IOASID_TEST_VFIO)"
#define LABEL		0xd1b7ULL
#define RW		(IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE)
#define IOVA		0x40000000ULL
#define PAGES		128

/* What the cases share: set up by mock_devices_present() and vm(). */
static struct {
	size_t page_size;
	int nr_mock;
	char tracking_cdev[PATH_MAX];	/* its IOMMU records writes */
	int have_tracking;
	char blind_cdev[PATH_MAX];	/* its IOMMU does not */
	int have_blind;

	__u8 *ram;			/* PAGES pages */
	int fd;
	__u32 ioasid;
	int vfd[2];
} t = { .fd = -1, .vfd = { -1, -1 } };

static void reset(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (t.vfd[i] >= 0)
			close(t.vfd[i]);
		t.vfd[i] = -1;
	}
	if (t.fd >= 0)
		close(t.fd);
	t.fd = -1;
}

static void extension_name(void)
{
	const char *name = ioasid_extension_name(IOASID_EXT_DIRTY_TRACKING);

	tap_ok(name && !strcmp(name, "dirty_tracking"),
	       "IOASID_EXT_DIRTY_TRACKING is \"dirty_tracking\"");
	tap_ok(!ioasid_extension_name(IOASID_EXT_DIRTY_TRACKING + 1),
	       "the number after IOASID_EXT_DIRTY_TRACKING has no name yet");
}

static void bad_fds_are_refused(void)
{
	__u64 bitmap[2];
	__u32 report = 7;
	int fd;

	tap_ok(ioasid_dirty_tracking_start(-1, 1, &report) == -EBADF &&
	       report == 7, "start on fd -1 is -EBADF, report untouched");
	tap_ok(ioasid_dirty_tracking_stop(-1, 1) == -EBADF,
	       "stop on fd -1 is -EBADF");
	tap_ok(ioasid_get_dirty_bitmap(-1, 1, IOVA, 64 * t.page_size,
				       t.page_size, bitmap, 0, NULL,
				       NULL) == -EBADF,
	       "a read on fd -1 is -EBADF");
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	tap_ok(fd >= 0 && ioasid_dirty_tracking_start(fd, 1, NULL) == -ENOTTY,
	       "start on /dev/null is -ENOTTY");
	if (fd >= 0)
		close(fd);
}

/* What the kernel refuses of an IOASID with nothing attached. */
static void kernel_checks(void)
{
	__u64 bitmap[2] = { ~0ULL, ~0ULL };
	__u32 id, child, report = 7;
	__u64 dirty = 7;
	int fd;

	fd = ioasid_open();
	if (!tap_setup(fd < 0 ? fd : 0, "open /dev/ioasid"))
		return;
	t.fd = fd;
	if (!tap_setup(ioasid_alloc(fd, &id), "allocate an IOASID"))
		return;
	tap_ok(ioasid_check_extension(fd, IOASID_EXT_DIRTY_TRACKING) == 1,
	       "the kernel has dirty tracking");
	tap_ok(ioasid_get_dirty_bitmap(fd, id, IOVA, 64 * t.page_size,
				       t.page_size, bitmap, 0, NULL,
				       NULL) == -EINVAL && bitmap[0] == ~0ULL,
	       "a read before tracking starts is -EINVAL, bitmap untouched");
	tap_ok(ioasid_dirty_tracking_start(fd, id, &report) == 0 &&
	       report == IOASID_DIRTY_REPORT_EXACT,
	       "start with no device: exact, nothing can write");
	tap_ok(ioasid_get_dirty_bitmap(fd, id, IOVA, 64 * t.page_size,
				       t.page_size, bitmap, 0, &report,
				       &dirty) == 0 && !bitmap[0] &&
	       bitmap[1] == ~0ULL && !dirty &&
	       report == IOASID_DIRTY_REPORT_EXACT,
	       "a read writes its word, and no more: all clean");
	tap_ok(ioasid_get_dirty_bitmap(fd, id, IOVA + 1, 64 * t.page_size,
				       t.page_size, bitmap, 0, NULL,
				       NULL) == -EINVAL,
	       "an unaligned IOVA is -EINVAL");
	tap_ok(ioasid_get_dirty_bitmap(fd, id, IOVA, 64 * t.page_size,
				       3 * t.page_size, bitmap, 0, NULL,
				       NULL) == -EINVAL,
	       "a page size that is no power of two is -EINVAL");
	tap_ok(ioasid_get_dirty_bitmap(fd, id, IOVA, 64 * t.page_size,
				       t.page_size, NULL, 0, NULL,
				       NULL) == -EFAULT,
	       "a NULL bitmap is -EFAULT");
	tap_ok(ioasid_get_dirty_bitmap(fd, id, IOVA, 64 * t.page_size,
				       t.page_size, bitmap, 1U << 7, NULL,
				       NULL) == -EOPNOTSUPP,
	       "an unknown flag is -EOPNOTSUPP");
	tap_ok(ioasid_create_nesting(fd, id, IOASID_NESTING_HARDWARE,
				     &child) == 0 &&
	       ioasid_dirty_tracking_start(fd, child, NULL) == -EMEDIUMTYPE,
	       "a hardware-nested IOASID is -EMEDIUMTYPE");
	tap_ok(ioasid_dirty_tracking_stop(fd, id) == 0 &&
	       ioasid_dirty_tracking_stop(fd, id) == 0,
	       "stop, twice");
	tap_ok(ioasid_dirty_tracking_start(fd, 999, NULL) == -ENOENT,
	       "an IOASID that is not there is -ENOENT");
}

static void mock_devices_present(void)
{
	struct ioasid_cmd_device_get_info info;
	struct mock_name devs[MOCK_VFIO_MAX];
	int fd, vfd, i, ret;
	__u32 id;

	t.nr_mock = mock_vfio_find(devs, MOCK_VFIO_MAX);
	if (!t.nr_mock) {
		tap_skip(NO_MOCK, "mock VFIO devices are there");
		return;
	}
	fd = ioasid_open();
	if (fd < 0)
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));
	for (i = 0; i < t.nr_mock; i++) {
		vfd = open(devs[i].cdev, O_RDWR | O_CLOEXEC);
		if (vfd < 0)
			continue;
		ret = ioasid_vfio_bind(vfd, fd, LABEL, &id);
		ret = ret ?: ioasid_device_get_info(fd, id, &info);
		if (!ret &&
		    info.out_capabilities & IOASID_DEVICE_CAP_DIRTY_TRACKING &&
		    !t.have_tracking)
			t.have_tracking = snprintf(t.tracking_cdev,
						   sizeof(t.tracking_cdev),
						   "%s", devs[i].cdev) > 0;
		else if (!ret && !t.have_blind &&
			 !(info.out_capabilities &
			   IOASID_DEVICE_CAP_DIRTY_TRACKING))
			t.have_blind = snprintf(t.blind_cdev,
						sizeof(t.blind_cdev), "%s",
						devs[i].cdev) > 0;
		close(vfd);
	}
	close(fd);
	tap_ok(t.have_tracking, "a mock device's IOMMU records DMA writes");
	tap_ok(t.have_blind, "a mock device's IOMMU does not");
}

/* A fresh fd, RAM at IOVA, and the device of @cdev attached to it. */
static int vm(const char *cdev, int have)
{
	int ret;

	if (!t.nr_mock) {
		tap_skip(NO_MOCK, "needs mock VFIO devices");
		return 0;
	}
	if (!tap_setup(have ? 0 : -ENODEV, "the mock device it needs"))
		return 0;
	t.fd = ioasid_open();
	if (t.fd < 0)
		tap_bail("cannot open /dev/ioasid: %s", strerror(-t.fd));
	memset(t.ram, 0, PAGES * t.page_size);
	ret = ioasid_alloc(t.fd, &t.ioasid);
	ret = ret ?: ioasid_dma_map(t.fd, t.ioasid, t.ram, IOVA,
				    PAGES * t.page_size, RW);
	if (!tap_setup(ret, "map RAM at IOVA"))
		return 0;
	t.vfd[0] = open(cdev, O_RDWR | O_CLOEXEC);
	if (!tap_setup(t.vfd[0] < 0 ? -errno : 0, "open %s", cdev))
		return 0;
	ret = ioasid_vfio_bind(t.vfd[0], t.fd, LABEL, NULL);
	ret = ret ?: ioasid_vfio_attach(t.vfd[0], t.ioasid);
	return tap_setup(ret, "bind and attach the device");
}

/* The device writes one byte into page @page. */
static int write_page(unsigned int page)
{
	__u8 b = (__u8)page;

	return mock_dma(t.vfd[0], IOVA + page * t.page_size, &b, 1, 1,
			NO_PASID);
}

static void exact_bitmap(void)
{
	__u64 bitmap[PAGES / 64], dirty = 0, unmapped = 0;
	__u32 report = 0;
	int ret;

	if (!vm(t.tracking_cdev, t.have_tracking))
		return;
	ret = ioasid_dirty_tracking_start(t.fd, t.ioasid, &report);
	tap_ok(!ret && report == IOASID_DIRTY_REPORT_EXACT,
	       "start: the next read is exact");
	ret = write_page(3) ?: write_page(64) ?: write_page(127);
	tap_ok(!ret, "the device writes pages 3, 64 and 127");
	ret = ioasid_get_dirty_bitmap(t.fd, t.ioasid, IOVA,
				      PAGES * t.page_size, t.page_size,
				      bitmap, IOASID_DIRTY_BITMAP_NO_CLEAR,
				      &report, &dirty);
	tap_ok(!ret && report == IOASID_DIRTY_REPORT_EXACT && dirty == 3 &&
	       bitmap[0] == 1ULL << 3 && bitmap[1] == (1ULL | 1ULL << 63),
	       "exactly those three, without clearing them");
	ret = ioasid_get_dirty_bitmap(t.fd, t.ioasid, IOVA,
				      PAGES * t.page_size, t.page_size,
				      bitmap, 0, NULL, &dirty);
	tap_ok(!ret && dirty == 3, "still there, and now cleared");
	ret = ioasid_get_dirty_bitmap(t.fd, t.ioasid, IOVA,
				      PAGES * t.page_size, t.page_size,
				      bitmap, 0, NULL, &dirty);
	tap_ok(!ret && !dirty && !bitmap[0] && !bitmap[1],
	       "then clean");
	ret = write_page(7) ?: write_page(70);
	ret = ret ?: ioasid_dma_unmap_dirty(t.fd, t.ioasid, IOVA,
					    64 * t.page_size, t.page_size,
					    bitmap, &unmapped, &report);
	tap_ok(!ret && unmapped == 64 * t.page_size &&
	       report == IOASID_DIRTY_REPORT_EXACT && bitmap[0] == 1ULL << 7,
	       "an unmap returns the bitmap of what it removes");
	ret = ioasid_get_dirty_bitmap(t.fd, t.ioasid, IOVA + 64 * t.page_size,
				      64 * t.page_size, t.page_size, bitmap,
				      0, NULL, &dirty);
	tap_ok(!ret && dirty == 1 && bitmap[0] == 1ULL << 6,
	       "and leaves the rest's records alone");
	ret = ioasid_dirty_tracking_stop(t.fd, t.ioasid);
	tap_ok(!ret && ioasid_get_dirty_bitmap(t.fd, t.ioasid, IOVA,
					       PAGES * t.page_size,
					       t.page_size, bitmap, 0, NULL,
					       NULL) == -EINVAL,
	       "stopped: a read is -EINVAL");
}

static void conservative_bitmap(void)
{
	__u64 bitmap[PAGES / 64], dirty = 0;
	__u32 report = 0;
	int ret;

	if (!vm(t.blind_cdev, t.have_blind))
		return;
	ret = ioasid_dirty_tracking_start(t.fd, t.ioasid, &report);
	tap_ok(!ret && report == IOASID_DIRTY_REPORT_CONSERVATIVE,
	       "start with a device whose IOMMU cannot record: conservative");
	ret = write_page(5);
	ret = ret ?: ioasid_get_dirty_bitmap(t.fd, t.ioasid, IOVA,
					     PAGES * t.page_size,
					     t.page_size, bitmap, 0, &report,
					     &dirty);
	tap_ok(!ret && report == IOASID_DIRTY_REPORT_CONSERVATIVE &&
	       dirty == PAGES && bitmap[0] == ~0ULL && bitmap[1] == ~0ULL,
	       "every writable page is reported, and said to be a guess");
}

static const struct tap_case cases[] = {
	TAP_CASE(extension_name),
	TAP_CASE(bad_fds_are_refused),
	TAP_CASE(kernel_checks),
	TAP_CASE(mock_devices_present),
	TAP_CASE(exact_bitmap),
	TAP_CASE(conservative_bitmap),
};

int main(void)
{
	int ret;

	t.page_size = sysconf(_SC_PAGESIZE);
	t.ram = mmap(NULL, PAGES * t.page_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t.ram == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	ret = tap_main(cases, TAP_NR_CASES(cases), reset);
	munmap(t.ram, PAGES * t.page_size);
	return ret;
}
