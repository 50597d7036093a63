// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests for the in-kernel access API (include/linux/ioasid.h), as an
 * emulated device driver uses it: the test ioctl's emulated mock device
 * has no IOMMU, and reads, writes and pins an IOASID's memory by IOVA
 * through an accessor.
 *
 * Every fixture maps guest RAM into an IOASID (the last RO_PAGES pages
 * read-only) and creates one emulated device on it; at the end it closes
 * everything and checks that no page of the RAM is still pinned, so a
 * pin the kernel forgot fails the test that made it.
 */
#include <pthread.h>

#include "ioasid_utils.h"

#define RAM_PAGES 32
#define RAM_SIZE (RAM_PAGES * PAGE_SIZE)
#define IOVA 0x40000000UL
#define RO_PAGES 8
#define RW_SIZE ((RAM_PAGES - RO_PAGES) * PAGE_SIZE)
#define EXACT IOASID_DIRTY_REPORT_EXACT
#define CONSERVATIVE IOASID_DIRTY_REPORT_CONSERVATIVE

#define PAGE_IOVA(n) (IOVA + (n) * PAGE_SIZE)

FIXTURE(access) {
	int fd;
	struct guest g;
	__u32 ioasid;
	int em;
	__u32 ref0[RAM_PAGES];
	long pin0;
};

FIXTURE_SETUP(access)
{
	__u32 ref;

	self->em = -1;
	self->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	if (page_ref(self->fd, &ref, &ref, NULL) == -ENOTTY)
		SKIP(return, "kernel without CONFIG_IOASID_TEST");
	guest_ram_alloc(_metadata, self->fd, &self->g, IOVA, RAM_SIZE,
			self->ref0, &self->pin0);
	test_ioctl_alloc(self->fd, &self->ioasid);
	test_ioctl_map(self->fd, self->ioasid, self->g.ram, IOVA, RW_SIZE);
	test_cmd(_test_ioctl_map(self->fd, self->ioasid,
				 self->g.ram + RW_SIZE, IOVA + RW_SIZE,
				 RO_PAGES * PAGE_SIZE, IOASID_DMA_MAP_READ));
	test_cmd(_test_emulated_add(self->fd, self->fd, self->ioasid,
				    &self->em));
}

FIXTURE_TEARDOWN(access)
{
	if (self->em >= 0)
		close(self->em);
	if (self->fd >= 0)
		close(self->fd);
	if (self->g.ram)
		guest_ram_free(_metadata, &self->g, RAM_SIZE, self->ref0,
			       self->pin0);
}

static void expect_info(struct __test_metadata *_metadata, int fd, int em,
			__u32 pins, __u32 unmaps)
{
	__u32 got_pins, got_unmaps;

	ASSERT_EQ(0, _test_emulated_info(fd, em, &got_pins, &got_unmaps));
	ASSERT_EQ(pins, got_pins);
	ASSERT_EQ(unmaps, got_unmaps);
}

/* Any alignment, across pages, both ways; reads see the CPU's writes. */
TEST_F(access, rw_round_trip)
{
	__u8 buf[300], back[300];
	unsigned int i;

	for (i = 0; i != sizeof(buf); i++)
		buf[i] = i * 7 + 1;
	test_cmd(_test_emulated_dma(self->fd, self->em,
				    PAGE_IOVA(1) - 100, buf, sizeof(buf),
				    true));
	ASSERT_EQ(0, memcmp(self->g.ram + PAGE_SIZE - 100, buf, sizeof(buf)));
	ASSERT_EQ(0, self->g.ram[PAGE_SIZE - 101]);
	ASSERT_EQ(0, self->g.ram[PAGE_SIZE + 200]);

	/* The read-only pages read, as the CPU wrote them. */
	memset(self->g.ram + RW_SIZE + 10, 0x5a, 64);
	test_cmd(_test_emulated_dma(self->fd, self->em, IOVA + RW_SIZE + 10,
				    back, 64, false));
	for (i = 0; i != 64; i++)
		ASSERT_EQ(0x5a, back[i]);
	test_cmd(_test_emulated_dma(self->fd, self->em, PAGE_IOVA(1) - 100,
				    back, sizeof(back), false));
	ASSERT_EQ(0, memcmp(buf, back, sizeof(buf)));
}

/* Nothing moves on any error: every page is checked first. */
TEST_F(access, rw_errors)
{
	__u8 buf[2 * 4096];

	memset(buf, 0xee, sizeof(buf));
	/* Runs off the end of the mapped RAM */
	test_err_cmd(ENOENT, _test_emulated_dma(self->fd, self->em,
						IOVA + RAM_SIZE - 16, buf,
						32, false));
	test_err_cmd(ENOENT, _test_emulated_dma(self->fd, self->em,
						IOVA - 16, buf, 32, true));
	ASSERT_EQ(0, self->g.ram[0]);
	/* The last writable page, then a read-only one */
	test_err_cmd(EPERM, _test_emulated_dma(self->fd, self->em,
					       IOVA + RW_SIZE - 16, buf, 32,
					       true));
	ASSERT_EQ(0, self->g.ram[RW_SIZE - 16]);
	test_err_cmd(EINVAL, _test_emulated_dma(self->fd, self->em, IOVA, buf,
						0, false));
	test_err_cmd(EOVERFLOW, _test_emulated_dma(self->fd, self->em,
						   ~0ULL - 15, buf, 32,
						   false));
	test_err_cmd(EINVAL, _test_emulated(self->fd,
					    IOASID_TEST_OP_EMULATED_DMA,
					    self->em, IOVA, buf, 8,
					    IOASID_TEST_DMA_PASID));
	/* Not an emulated device's fd */
	test_err_cmd(EINVAL, _test_emulated_dma(self->fd, self->fd, IOVA, buf,
						8, false));
	test_err_cmd(EBADF, _test_emulated_dma(self->fd, -1, IOVA, buf, 8,
					       false));
	/* Unmapped, then nothing to reach */
	test_ioctl_unmap(self->fd, self->ioasid, IOVA, PAGE_SIZE, PAGE_SIZE);
	test_err_cmd(ENOENT, _test_emulated_dma(self->fd, self->em, IOVA, buf,
						8, false));
}

TEST_F(access, create_errors)
{
	__u32 child, unknown = self->ioasid + 100;
	int em;

	test_err_cmd(ENOENT, _test_emulated_add(self->fd, self->fd, unknown,
						&em));
	test_err_cmd(EBADF, _test_emulated_add(self->fd, -1, self->ioasid,
					       &em));
	/* An fd, but not an ioasid fd */
	test_err_cmd(EINVAL, _test_emulated_add(self->fd, self->em,
						self->ioasid, &em));
	/* A nested IOASID's IOVA is the guest's to translate, in the VMM. */
	/* A driver behaviour the emulated device does not know */
	test_err_cmd(EOPNOTSUPP,
		     _test_emulated_add_flags(self->fd, self->fd, self->ioasid,
					      1U << 7, &em));
	test_ioctl_create_nesting(self->fd, self->ioasid, &child);
	test_err_cmd(EMEDIUMTYPE, _test_emulated_add(self->fd, self->fd,
						     child, &em));
	test_ioctl_free(self->fd, child);
}

/* The accessor holds its IOASID; an accessor from another fd works too. */
TEST_F(access, holds_its_ioasid)
{
	int other = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	__u8 byte = 0x42;
	int em2;

	ASSERT_LE(0, other);
	test_err_ioctl_free(EBUSY, self->fd, self->ioasid);
	/* Made through another fd's test ioctl, on this fd's IOASID */
	test_cmd(_test_emulated_add(other, self->fd, self->ioasid, &em2));
	test_cmd(_test_emulated_dma(other, em2, PAGE_IOVA(3), &byte, 1, true));
	ASSERT_EQ(0x42, self->g.ram[3 * PAGE_SIZE]);
	close(self->em);
	self->em = -1;
	test_err_ioctl_free(EBUSY, self->fd, self->ioasid);
	close(em2);
	close(other);
	test_ioctl_free(self->fd, self->ioasid);
}

/* A pin gives the pages: what the device writes through them lands. */
TEST_F(access, pin_write_through)
{
	__u32 mapped_ref, pinned_ref, pinned;
	__u8 data[2 * 4096];

	ASSERT_EQ(0, page_ref(self->fd, self->g.ram + 3 * PAGE_SIZE,
			      &mapped_ref, &pinned));
	memset(data, 0x77, sizeof(data));
	test_cmd(_test_emulated_pin(self->fd, self->em, PAGE_IOVA(2), data,
				    2 * PAGE_SIZE, true));
	ASSERT_EQ(0x77, self->g.ram[2 * PAGE_SIZE]);
	ASSERT_EQ(0x77, self->g.ram[4 * PAGE_SIZE - 1]);
	ASSERT_EQ(0, self->g.ram[4 * PAGE_SIZE]);
	/* A pin of its own on each page, beside the mapping's */
	ASSERT_EQ(0, page_ref(self->fd, self->g.ram + 3 * PAGE_SIZE,
			      &pinned_ref, &pinned));
	ASSERT_LT(mapped_ref, pinned_ref);
	expect_info(_metadata, self->fd, self->em, 1, 0);

	/* Read-only pages pin for reading only. */
	test_err_cmd(EPERM, _test_emulated_pin(self->fd, self->em,
					       PAGE_IOVA(RAM_PAGES - 1), NULL,
					       PAGE_SIZE, true));
	test_cmd(_test_emulated_pin(self->fd, self->em,
				    PAGE_IOVA(RAM_PAGES - 1), NULL, PAGE_SIZE,
				    false));
	test_err_cmd(EINVAL, _test_emulated_pin(self->fd, self->em,
						PAGE_IOVA(5) + 8, NULL,
						PAGE_SIZE, false));
	test_err_cmd(EINVAL, _test_emulated_pin(self->fd, self->em,
						PAGE_IOVA(5), NULL, 100,
						false));
	test_err_cmd(ENOENT, _test_emulated_pin(self->fd, self->em,
						PAGE_IOVA(RAM_PAGES - 1), NULL,
						2 * PAGE_SIZE, false));
	expect_info(_metadata, self->fd, self->em, 2, 0);

	test_cmd(_test_emulated_unpin(self->fd, self->em, PAGE_IOVA(2),
				      2 * PAGE_SIZE));
	test_err_cmd(ENOENT, _test_emulated_unpin(self->fd, self->em,
						  PAGE_IOVA(2),
						  2 * PAGE_SIZE));
	ASSERT_EQ(0, page_ref(self->fd, self->g.ram + 3 * PAGE_SIZE,
			      &pinned_ref, &pinned));
	ASSERT_EQ(mapped_ref, pinned_ref);
	expect_info(_metadata, self->fd, self->em, 1, 0);
	/* The last pin goes at close: the teardown checks it went. */
}

/*
 * An unmap that takes any of a pin tells the device, which unpins, before
 * the unmap returns; pins elsewhere stay.
 */
TEST_F(access, unmap_tells_pins)
{
	test_cmd(_test_emulated_pin(self->fd, self->em, PAGE_IOVA(4), NULL,
				    2 * PAGE_SIZE, true));
	test_cmd(_test_emulated_pin(self->fd, self->em, PAGE_IOVA(8), NULL,
				    PAGE_SIZE, false));
	test_cmd(_test_emulated_pin(self->fd, self->em, PAGE_IOVA(9), NULL,
				    PAGE_SIZE, false));
	expect_info(_metadata, self->fd, self->em, 3, 0);

	/* Half of the first pin */
	test_ioctl_unmap(self->fd, self->ioasid, PAGE_IOVA(5), PAGE_SIZE,
			 PAGE_SIZE);
	expect_info(_metadata, self->fd, self->em, 2, 1);
	/* Nothing pinned there */
	test_ioctl_unmap(self->fd, self->ioasid, PAGE_IOVA(12), PAGE_SIZE,
			 PAGE_SIZE);
	expect_info(_metadata, self->fd, self->em, 2, 1);
	test_cmd(_test_ioctl_unmap(self->fd, self->ioasid, 0, 0,
				   IOASID_DMA_UNMAP_ALL, NULL));
	expect_info(_metadata, self->fd, self->em, 0, 3);
	/* The pages are gone from the device, and from the IOASID. */
	test_err_cmd(ENOENT, _test_emulated_unpin(self->fd, self->em,
						  PAGE_IOVA(8), PAGE_SIZE));
}

/*
 * Closing the ioasid fd cuts the device off: told to unpin everything,
 * then ENODEV; the device's own fd stays valid until closed.
 */
TEST_F(access, ioasid_close_revokes)
{
	__u8 byte = 1;

	test_cmd(_test_emulated_pin(self->fd, self->em, PAGE_IOVA(1), NULL,
				    PAGE_SIZE, true));
	test_cmd(_test_emulated_pin(self->fd, self->em, PAGE_IOVA(3), NULL,
				    3 * PAGE_SIZE, false));
	close(self->fd);
	self->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	expect_info(_metadata, self->fd, self->em, 0, 2);
	test_err_cmd(ENODEV, _test_emulated_dma(self->fd, self->em,
						PAGE_IOVA(1), &byte, 1, true));
	test_err_cmd(ENODEV, _test_emulated_pin(self->fd, self->em,
						PAGE_IOVA(1), NULL, PAGE_SIZE,
						false));
	ASSERT_EQ(0, self->g.ram[PAGE_SIZE]);
}

/* Closing the device with pins held gives them back. */
TEST_F(access, device_close_unpins)
{
	test_cmd(_test_emulated_pin(self->fd, self->em, PAGE_IOVA(0), NULL,
				    8 * PAGE_SIZE, true));
	close(self->em);
	self->em = -1;
	/* The IOASID is free to go: nothing holds it now. */
	test_ioctl_free(self->fd, self->ioasid);
}

/* An unmap of one page, on a thread of its own. */
struct unmap_thread {
	pthread_t thread;
	int fd;
	__u32 ioasid;
	__u64 iova;
	int ret;
};

static void *unmap_thread_fn(void *arg)
{
	struct unmap_thread *u = arg;

	u->ret = _test_ioctl_unmap(u->fd, u->ioasid, u->iova, PAGE_SIZE, 0,
				   NULL);
	return NULL;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static __u32 ref_of(struct __test_metadata *_metadata, int fd, void *page)
{
	__u32 ref;

	ASSERT_EQ(0, page_ref(fd, page, &ref, NULL));
	return ref;
}

/* Whether anything, the mapping or a device, still pins @page. */
static bool pinned_of(struct __test_metadata *_metadata, int fd, void *page)
{
	__u32 ref, pinned;

	ASSERT_EQ(0, page_ref(fd, page, &ref, &pinned));
	return pinned;
}

/*
 * A device closed while its driver is in an unmap callback: the close
 * waits for the callback, which ends on a live device (KASAN would see a
 * freed one), the unmap completes, and no pin is left: neither the
 * mapping's nor the device's.
 */
TEST_F(access, close_waits_for_callback)
{
	struct unmap_thread u = {
		.fd = self->fd, .ioasid = self->ioasid, .iova = PAGE_IOVA(2),
	};
	void *page = self->g.ram + 2 * PAGE_SIZE;
	__u32 pins, unmaps = 0;
	struct timespec t0;
	int em;

	test_cmd(_test_emulated_add_flags(self->fd, self->fd, self->ioasid,
					  IOASID_TEST_EMULATED_SLOW_UNMAP,
					  &em));
	test_cmd(_test_emulated_pin(self->fd, em, PAGE_IOVA(2), NULL,
				    PAGE_SIZE, true));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, pthread_create(&u.thread, NULL, unmap_thread_fn, &u));
	/*
	 * The callback counts itself, then sleeps: it is in flight. One
	 * that never comes fails here, not at the harness's timeout.
	 */
	while (!unmaps) {
		ASSERT_EQ(0, _test_emulated_info(self->fd, em, &pins, &unmaps));
		ASSERT_GT(10000, ms_since(&t0));
		usleep(1000);
	}
	close(em);
	/* It began after t0 and sleeps its whole time before it ends. */
	ASSERT_LE(IOASID_TEST_EMULATED_SLOW_MS, ms_since(&t0));
	ASSERT_EQ(0, pthread_join(u.thread, NULL));
	ASSERT_EQ(0, u.ret);
	ASSERT_FALSE(pinned_of(_metadata, self->fd, page));
}

/*
 * A driver that does not unpin when told: an unmap under its pin still
 * completes, and the page stays pinned by the device, never freed under
 * it, until the driver unpins. When the ioasid fd closes, the kernel
 * takes back what the driver keeps.
 */
TEST_F(access, deaf_driver_pins_taken_back)
{
	void *page2 = self->g.ram + 2 * PAGE_SIZE;
	void *page4 = self->g.ram + 4 * PAGE_SIZE;
	void *page5 = self->g.ram + 5 * PAGE_SIZE;
	__u8 byte = 0;
	int em;

	test_cmd(_test_emulated_add_flags(self->fd, self->fd, self->ioasid,
					  IOASID_TEST_EMULATED_IGNORE_UNMAP,
					  &em));
	test_cmd(_test_emulated_pin(self->fd, em, PAGE_IOVA(2), NULL,
				    PAGE_SIZE, true));
	test_cmd(_test_emulated_pin(self->fd, em, PAGE_IOVA(4), NULL,
				    PAGE_SIZE, false));

	test_ioctl_unmap(self->fd, self->ioasid, PAGE_IOVA(2), PAGE_SIZE,
			 PAGE_SIZE);
	expect_info(_metadata, self->fd, em, 2, 1);
	/* Not mapped any more, but the device's pin holds the page. */
	ASSERT_TRUE(pinned_of(_metadata, self->fd, page2));
	test_err_cmd(ENOENT, _test_emulated_dma(self->fd, em, PAGE_IOVA(2),
						&byte, 1, false));
	/* The driver unpins late: the pin it kept was still its own. */
	test_cmd(_test_emulated_unpin(self->fd, em, PAGE_IOVA(2), PAGE_SIZE));
	ASSERT_FALSE(pinned_of(_metadata, self->fd, page2));
	expect_info(_metadata, self->fd, em, 1, 1);

	/* Page 5 has page 4's history, but for the device's pin. */
	ASSERT_LT(ref_of(_metadata, self->fd, page5),
		  ref_of(_metadata, self->fd, page4));
	close(self->fd);
	self->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	/* Told (a second callback), deaf again, unpinned anyway */
	expect_info(_metadata, self->fd, em, 1, 2);
	ASSERT_EQ(ref_of(_metadata, self->fd, page5),
		  ref_of(_metadata, self->fd, page4));
	test_err_cmd(ENODEV, _test_emulated_dma(self->fd, em, PAGE_IOVA(4),
						&byte, 1, false));
	/* Its own unpin, later still, finds nothing left to do. */
	test_cmd(_test_emulated_unpin(self->fd, em, PAGE_IOVA(4), PAGE_SIZE));
	expect_info(_metadata, self->fd, em, 0, 2);
	close(em);
}

static void read_all(struct __test_metadata *_metadata, int fd, __u32 ioasid,
		     __u64 *bitmap, __u32 flags, __u32 *report)
{
	ASSERT_EQ(0, _test_get_dirty(fd, ioasid, flags, IOVA, RAM_SIZE,
				     PAGE_SIZE, bitmap, report, NULL));
}

/* Exactly the pages listed (ending with -1) are set, and no others. */
#define expect_bits(bitmap, ...) expect_bits_of(bitmap, RAM_PAGES, __VA_ARGS__)

/*
 * An IOASID with an emulated writer and an IOMMU-tracked device reports
 * exactly what both wrote: the accessor records its writes.
 */
TEST_F(access, mixed_dirty_exact)
{
	__u8 buf[64] = { 1 };
	__u64 bitmap[1];
	__u32 report, dev;

	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_LARGE, &dev);
	test_cmd_attach(self->fd, dev, self->ioasid);
	test_cmd(_test_emulated_dma(self->fd, self->em, PAGE_IOVA(1), buf, 8,
				    true));
	test_cmd(_test_dirty_tracking(self->fd, self->ioasid, true, &report));
	ASSERT_EQ(EXACT, report);

	/* Across a page boundary: both pages */
	test_cmd(_test_emulated_dma(self->fd, self->em, PAGE_IOVA(3) - 4, buf,
				    8, true));
	test_cmd(_test_dma(self->fd, dev, PAGE_IOVA(6) + 100, buf, 1, true));
	test_cmd(_test_emulated_dma(self->fd, self->em, PAGE_IOVA(9), buf,
				    sizeof(buf), false));
	test_cmd(_test_dma(self->fd, dev, PAGE_IOVA(10), buf, 8, false));
	read_all(_metadata, self->fd, self->ioasid, bitmap,
		 IOASID_DIRTY_BITMAP_NO_CLEAR, &report);
	ASSERT_EQ(EXACT, report);
	expect_bits(bitmap, 2, 3, 6, -1);
	read_all(_metadata, self->fd, self->ioasid, bitmap, 0, &report);
	expect_bits(bitmap, 2, 3, 6, -1);
	read_all(_metadata, self->fd, self->ioasid, bitmap, 0, &report);
	ASSERT_EQ(EXACT, report);
	expect_bits(bitmap, -1);

	/* A device that cannot track makes it conservative, as before. */
	test_cmd_detach(self->fd, dev);
	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_SMALL, &dev);
	test_cmd_attach(self->fd, dev, self->ioasid);
	read_all(_metadata, self->fd, self->ioasid, bitmap, 0, &report);
	ASSERT_EQ(CONSERVATIVE, report);
	test_cmd_detach(self->fd, dev);
}

/*
 * A page pinned for writing may be written at any time while pinned: it
 * is dirty in every read until unpinned, and once more after.
 */
TEST_F(access, pinned_for_write_dirty)
{
	__u64 bitmap[1];
	__u32 report;

	test_cmd(_test_dirty_tracking(self->fd, self->ioasid, true, &report));
	ASSERT_EQ(EXACT, report);
	test_cmd(_test_emulated_pin(self->fd, self->em, PAGE_IOVA(10), NULL,
				    2 * PAGE_SIZE, true));
	test_cmd(_test_emulated_pin(self->fd, self->em, PAGE_IOVA(14), NULL,
				    PAGE_SIZE, false));
	read_all(_metadata, self->fd, self->ioasid, bitmap, 0, &report);
	ASSERT_EQ(EXACT, report);
	expect_bits(bitmap, 10, 11, -1);
	read_all(_metadata, self->fd, self->ioasid, bitmap, 0, &report);
	expect_bits(bitmap, 10, 11, -1);
	test_cmd(_test_emulated_unpin(self->fd, self->em, PAGE_IOVA(10),
				      2 * PAGE_SIZE));
	read_all(_metadata, self->fd, self->ioasid, bitmap, 0, &report);
	expect_bits(bitmap, 10, 11, -1);
	read_all(_metadata, self->fd, self->ioasid, bitmap, 0, &report);
	expect_bits(bitmap, -1);

	/* Unmapped under the pin: its writes went with the mapping. */
	test_cmd(_test_emulated_pin(self->fd, self->em, PAGE_IOVA(16), NULL,
				    PAGE_SIZE, true));
	test_ioctl_unmap(self->fd, self->ioasid, PAGE_IOVA(16), PAGE_SIZE,
			 PAGE_SIZE);
	test_ioctl_map(self->fd, self->ioasid, self->g.ram + 16 * PAGE_SIZE,
		       PAGE_IOVA(16), PAGE_SIZE);
	read_all(_metadata, self->fd, self->ioasid, bitmap, 0, &report);
	expect_bits(bitmap, -1);
	expect_info(_metadata, self->fd, self->em, 1, 1);
}

/* Unmap with the bitmap returns what the accessor wrote there. */
TEST_F(access, unmap_returns_written)
{
	__u64 bitmap[1] = { ~0ULL }, unmapped;
	__u32 report;
	__u8 byte = 9;

	test_cmd(_test_dirty_tracking(self->fd, self->ioasid, true, NULL));
	test_cmd(_test_emulated_dma(self->fd, self->em, PAGE_IOVA(9) + 5,
				    &byte, 1, true));
	test_cmd(_test_unmap_dirty(self->fd, self->ioasid, PAGE_IOVA(8),
				   4 * PAGE_SIZE, PAGE_SIZE, bitmap, &unmapped,
				   &report));
	ASSERT_EQ(EXACT, report);
	ASSERT_EQ(4 * PAGE_SIZE, unmapped);
	ASSERT_EQ(0x2, bitmap[0]);
}

struct race {
	int fd;
	int em;
	__u32 ioasid;
	void *ram;
	bool stop;			/* __atomic: set by the main thread */
	unsigned int pins, copies, unmaps;
};

/* Pins and copies all over the RAM while another thread unmaps. */
static void *race_device(void *arg)
{
	struct race *r = arg;
	__u64 rng = 7;
	__u8 buf[256];

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		unsigned int page = rng_below(&rng, RAM_PAGES - RO_PAGES - 1);
		int ret;

		ret = _test_emulated_pin(r->fd, r->em, PAGE_IOVA(page), NULL,
					 2 * PAGE_SIZE, true);
		if (!ret)
			r->pins++;
		else if (ret != -ENOENT)
			return (void *)(long)ret;
		ret = _test_emulated_dma(r->fd, r->em, PAGE_IOVA(page) + 100,
					 buf, sizeof(buf), rng_one_in(&rng, 2));
		if (!ret)
			r->copies++;
		else if (ret != -ENOENT)
			return (void *)(long)ret;
		if (rng_one_in(&rng, 2))
			_test_emulated_unpin(r->fd, r->em, PAGE_IOVA(page),
					     2 * PAGE_SIZE);
	}
	return NULL;
}

TEST_F(access, unmap_race)
{
	struct race r = {
		.fd = self->fd, .em = self->em, .ioasid = self->ioasid,
		.ram = self->g.ram,
	};
	struct timespec start, now;
	pthread_t thread;
	void *result;
	__u64 rng = 3;

	test_cmd(_test_dirty_tracking(self->fd, self->ioasid, true, NULL));
	ASSERT_EQ(0, pthread_create(&thread, NULL, race_device, &r));
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		unsigned int page = rng_below(&rng, RAM_PAGES - RO_PAGES);
		__u64 bitmap[1];

		test_ioctl_unmap(self->fd, self->ioasid, PAGE_IOVA(page),
				 PAGE_SIZE, PAGE_SIZE);
		r.unmaps++;
		test_ioctl_map(self->fd, self->ioasid,
			       self->g.ram + page * PAGE_SIZE, PAGE_IOVA(page),
			       PAGE_SIZE);
		test_cmd(_test_get_dirty(self->fd, self->ioasid, 0, IOVA,
					 RAM_SIZE, PAGE_SIZE, bitmap, NULL,
					 NULL));
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < 3);
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(thread, &result));
	ASSERT_EQ(NULL, result);
	TH_LOG("%u unmaps, %u pins, %u copies", r.unmaps, r.pins, r.copies);
	ASSERT_LT(0, r.pins);
	ASSERT_LT(0, r.copies);
}

TEST_HARNESS_MAIN
