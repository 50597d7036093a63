// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests for dirty tracking on the mock IOMMU: IOASID_DIRTY_TRACKING
 * and IOASID_GET_DIRTY_BITMAP.
 *
 * The LARGE mock instance records the pages its devices' DMA writes, in
 * its page tables, as an IOMMU with dirty tracking does; the SMALL one
 * cannot. So an IOASID with only LARGE devices reports exactly the pages
 * written, and one with a SMALL device too reports every writable page,
 * and says which it gave. Every fixture maps RAM into an IOASID, and at
 * the end closes the fd and checks that no page is still pinned.
 */
#include "ioasid_utils.h"

#define RAM_PAGES 64
#define RAM_SIZE (RAM_PAGES * PAGE_SIZE)
#define IOVA 0x40000000UL
#define RO_PAGES 8		/* the last pages are mapped read-only */
#define BITMAP_WORDS ((RAM_PAGES + 63) / 64)
#define EXACT IOASID_DIRTY_REPORT_EXACT
#define CONSERVATIVE IOASID_DIRTY_REPORT_CONSERVATIVE

struct vm {
	int fd;
	struct guest g;
	__u32 ioasid;
	__u32 dev, dev2, small_dev;
	__u32 ref0[RAM_PAGES];
	long pin0;
};

/* RAM at IOVA: writable, but for the last RO_PAGES pages. */
static bool vm_setup(struct __test_metadata *_metadata, struct vm *vm)
{
	__u32 ref;

	vm->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, vm->fd);
	if (page_ref(vm->fd, &ref, &ref, NULL) == -ENOTTY)
		return false;
	guest_ram_alloc(_metadata, vm->fd, &vm->g, IOVA, RAM_SIZE, vm->ref0,
			&vm->pin0);
	test_ioctl_alloc(vm->fd, &vm->ioasid);
	test_ioctl_map(vm->fd, vm->ioasid, vm->g.ram, IOVA,
		       RAM_SIZE - RO_PAGES * PAGE_SIZE);
	test_cmd(_test_ioctl_map(vm->fd, vm->ioasid,
				 vm->g.ram + RAM_SIZE - RO_PAGES * PAGE_SIZE,
				 IOVA + RAM_SIZE - RO_PAGES * PAGE_SIZE,
				 RO_PAGES * PAGE_SIZE, IOASID_DMA_MAP_READ));
	test_cmd_mock_device_add(vm->fd, IOASID_MOCK_INSTANCE_LARGE, &vm->dev);
	test_cmd_mock_device_add(vm->fd, IOASID_MOCK_INSTANCE_LARGE,
				 &vm->dev2);
	test_cmd_mock_device_add(vm->fd, IOASID_MOCK_INSTANCE_SMALL,
				 &vm->small_dev);
	return true;
}

static void vm_teardown(struct __test_metadata *_metadata, struct vm *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	guest_ram_free(_metadata, &vm->g, RAM_SIZE, vm->ref0, vm->pin0);
}

/* @dev writes @len bytes at page @page, offset @off. */
static int dma_write(struct vm *vm, __u32 dev, unsigned int page,
		     unsigned int off, unsigned int len)
{
	__u8 buf[2 * 4096];

	memset(buf, page + 1, len);
	return _test_dma(vm->fd, dev, IOVA + page * PAGE_SIZE + off, buf, len,
			 true);
}

static int dma_read(struct vm *vm, __u32 dev, unsigned int page)
{
	__u8 buf[64];

	return _test_dma(vm->fd, dev, IOVA + page * PAGE_SIZE, buf,
			 sizeof(buf), false);
}

/* The whole RAM's bitmap at 4K, with @flags; its report and count out. */
static int read_ram(struct vm *vm, __u32 flags, __u64 *bitmap,
		    __u32 *report, __u64 *count)
{
	memset(bitmap, 0xa5, BITMAP_WORDS * sizeof(*bitmap));
	return _test_get_dirty(vm->fd, vm->ioasid, flags, IOVA, RAM_SIZE,
			       PAGE_SIZE, bitmap, report, count);
}

/* Exactly the pages listed (ending with -1) are set, and no others. */
#define expect_bits(bitmap, ...) expect_bits_of(bitmap, RAM_PAGES, __VA_ARGS__)

/* Every writable page, and nothing else. */
#define expect_writable(bitmap)						\
	({								\
		unsigned int __i;					\
									\
		for (__i = 0; __i != RAM_PAGES; __i++)			\
			ASSERT_EQ(__i < RAM_PAGES - RO_PAGES,		\
				  bitmap_test(bitmap, __i))		\
				TH_LOG("page %u", __i);			\
	})

FIXTURE(dirty) {
	struct vm vm;
};

FIXTURE_SETUP(dirty)
{
	if (!vm_setup(_metadata, &self->vm))
		SKIP(return, "kernel without CONFIG_IOASID_TEST");
}

FIXTURE_TEARDOWN(dirty)
{
	vm_teardown(_metadata, &self->vm);
}

TEST_F(dirty, extension_and_caps)
{
	struct vm *vm = &self->vm;
	struct ioasid_cmd_device_get_info info;
	__u32 supported = 0;

	test_ioctl_check_extension(vm->fd, IOASID_EXT_DIRTY_TRACKING,
				   &supported);
	ASSERT_EQ(1, supported);
	test_cmd(_test_device_get_info(vm->fd, vm->dev, &info));
	ASSERT_TRUE(info.out_capabilities & IOASID_DEVICE_CAP_DIRTY_TRACKING);
	test_cmd(_test_device_get_info(vm->fd, vm->small_dev, &info));
	ASSERT_FALSE(info.out_capabilities & IOASID_DEVICE_CAP_DIRTY_TRACKING);
}

/* The pages written, only those, from two devices; a read clears them. */
TEST_F(dirty, exact)
{
	struct vm *vm = &self->vm;
	__u64 bitmap[BITMAP_WORDS], count;
	__u32 report;

	test_cmd_attach(vm->fd, vm->dev, vm->ioasid);
	test_cmd_attach(vm->fd, vm->dev2, vm->ioasid);
	/* Written before tracking: not news once it starts. */
	test_cmd(dma_write(vm, vm->dev, 1, 0, 8));
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, &report));
	ASSERT_EQ(EXACT, report);

	test_cmd(dma_write(vm, vm->dev, 3, 100, 1));
	/* Across a page boundary: both pages. */
	test_cmd(dma_write(vm, vm->dev2, 7, PAGE_SIZE - 4, 8));
	test_cmd(dma_read(vm, vm->dev, 10));
	test_cmd(dma_read(vm, vm->dev2, RAM_PAGES - 1));
	/* A write the IOMMU refused writes nothing. */
	test_err_cmd(EIO, dma_write(vm, vm->dev, RAM_PAGES - 1, 0, 8));
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(EXACT, report);
	ASSERT_EQ(3, count);
	expect_bits(bitmap, 3, 7, 8, -1);

	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(0, count);
	expect_bits(bitmap, -1);

	test_cmd(dma_write(vm, vm->dev2, 0, 0, 1));
	test_cmd(dma_write(vm, vm->dev2, RAM_PAGES - RO_PAGES - 1, 0, 1));
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	expect_bits(bitmap, 0, RAM_PAGES - RO_PAGES - 1, -1);
}

TEST_F(dirty, no_clear)
{
	struct vm *vm = &self->vm;
	__u64 bitmap[BITMAP_WORDS], count;
	__u32 report;

	test_cmd_attach(vm->fd, vm->dev, vm->ioasid);
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, NULL));
	test_cmd(dma_write(vm, vm->dev, 5, 0, 1));
	test_cmd(read_ram(vm, IOASID_DIRTY_BITMAP_NO_CLEAR, bitmap, &report,
			  &count));
	ASSERT_EQ(1, count);
	expect_bits(bitmap, 5, -1);
	test_cmd(dma_write(vm, vm->dev, 6, 0, 1));
	test_cmd(read_ram(vm, IOASID_DIRTY_BITMAP_NO_CLEAR, bitmap, &report,
			  &count));
	expect_bits(bitmap, 5, 6, -1);
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	expect_bits(bitmap, 5, 6, -1);
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	expect_bits(bitmap, -1);
}

/*
 * A bit per page of the caller's size: 16K pages, over part of the RAM;
 * and the bits of the last word past the range are 0.
 */
TEST_F(dirty, page_size_and_range)
{
	struct vm *vm = &self->vm;
	__u64 bitmap[2], count;
	__u32 report;

	test_cmd_attach(vm->fd, vm->dev, vm->ioasid);
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, NULL));
	test_cmd(dma_write(vm, vm->dev, 4, 0, 1));
	test_cmd(dma_write(vm, vm->dev, 5, 0, 1));
	test_cmd(dma_write(vm, vm->dev, 13, 0, 1));
	test_cmd(dma_write(vm, vm->dev, 40, 0, 1));
	memset(bitmap, 0xff, sizeof(bitmap));
	/* Pages 4 to 35, in 16K units: 8 bits. */
	test_cmd(_test_get_dirty(vm->fd, vm->ioasid, 0, IOVA + 4 * PAGE_SIZE,
				 32 * PAGE_SIZE, 4 * PAGE_SIZE, bitmap,
				 &report, &count));
	ASSERT_EQ(2, count);
	ASSERT_EQ(0x5, bitmap[0]);
	ASSERT_EQ(~0ULL, bitmap[1]);
	/* Only what was read was cleared. */
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	expect_bits(bitmap, 40, -1);
	/* IOVA that maps nothing reads as clean. */
	memset(bitmap, 0xff, sizeof(bitmap));
	test_cmd(_test_get_dirty(vm->fd, vm->ioasid, 0, IOVA + RAM_SIZE,
				 64 * PAGE_SIZE, PAGE_SIZE, bitmap, &report,
				 &count));
	ASSERT_EQ(0, bitmap[0]);
}

/*
 * A device whose IOMMU cannot track makes every writable page dirty,
 * and the report says so; once it is gone, the next read still covers
 * what it may have written, and the one after is exact again.
 */
TEST_F(dirty, conservative_and_back)
{
	struct vm *vm = &self->vm;
	__u64 bitmap[BITMAP_WORDS], count;
	__u32 report;

	test_cmd_attach(vm->fd, vm->dev, vm->ioasid);
	test_cmd_attach(vm->fd, vm->small_dev, vm->ioasid);
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, &report));
	ASSERT_EQ(CONSERVATIVE, report);
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(CONSERVATIVE, report);
	ASSERT_EQ(RAM_PAGES - RO_PAGES, count);
	expect_writable(bitmap);
	/* Reading does not make it exact while the device is there. */
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(CONSERVATIVE, report);
	expect_writable(bitmap);

	test_cmd(dma_write(vm, vm->small_dev, 2, 0, 1));
	test_cmd_detach(vm->fd, vm->small_dev);
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, &report));
	ASSERT_EQ(CONSERVATIVE, report);
	/* Half the RAM read: that half is exact from now on. */
	memset(bitmap, 0, sizeof(bitmap));
	test_cmd(_test_get_dirty(vm->fd, vm->ioasid, 0, IOVA, RAM_SIZE / 2,
				 PAGE_SIZE, bitmap, &report, &count));
	ASSERT_EQ(CONSERVATIVE, report);
	ASSERT_EQ(RAM_PAGES / 2, count);
	test_cmd(_test_get_dirty(vm->fd, vm->ioasid, 0, IOVA, RAM_SIZE / 2,
				 PAGE_SIZE, bitmap, &report, &count));
	ASSERT_EQ(EXACT, report);
	ASSERT_EQ(0, count);
	test_cmd(dma_write(vm, vm->dev, 9, 0, 1));
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(CONSERVATIVE, report);
	ASSERT_EQ(1 + RAM_PAGES / 2 - RO_PAGES, count);
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(EXACT, report);
	ASSERT_EQ(0, count);

	/* A tracking device that attaches keeps it exact. */
	test_cmd_attach(vm->fd, vm->dev2, vm->ioasid);
	test_cmd(dma_write(vm, vm->dev2, 12, 0, 1));
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(EXACT, report);
	expect_bits(bitmap, 12, -1);
	/* One that leaves a domain others still use leaves its records. */
	test_cmd(dma_write(vm, vm->dev2, 13, 0, 1));
	test_cmd_detach(vm->fd, vm->dev2);
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(EXACT, report);
	expect_bits(bitmap, 13, -1);
	/* The last one takes the domain and its records: conservative once. */
	test_cmd(dma_write(vm, vm->dev, 14, 0, 1));
	test_cmd_detach(vm->fd, vm->dev);
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(CONSERVATIVE, report);
	expect_writable(bitmap);
	/* No device: nothing can write, and it is exact again. */
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(EXACT, report);
	ASSERT_EQ(0, count);
}

/* An unmapped range has nothing to report, even after a device left. */
TEST_F(dirty, unmap_forgets)
{
	struct vm *vm = &self->vm;
	__u64 bitmap[BITMAP_WORDS], count;
	__u32 report;

	test_cmd_attach(vm->fd, vm->dev, vm->ioasid);
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, NULL));
	test_cmd(dma_write(vm, vm->dev, 20, 0, 1));
	test_cmd(dma_write(vm, vm->dev, 30, 0, 1));
	test_ioctl_unmap(vm->fd, vm->ioasid, IOVA + 16 * PAGE_SIZE,
			 8 * PAGE_SIZE, 8 * PAGE_SIZE);
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(EXACT, report);
	expect_bits(bitmap, 30, -1);

	test_cmd_detach(vm->fd, vm->dev);
	test_ioctl_unmap(vm->fd, vm->ioasid, IOVA, 16 * PAGE_SIZE,
			 16 * PAGE_SIZE);
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(CONSERVATIVE, report);
	ASSERT_EQ(RAM_PAGES - 24 - RO_PAGES, count);
	ASSERT_EQ(0, bitmap[0] & 0xffffff);
}

static int unmap_dirty(struct vm *vm, __u64 iova, __u64 length,
		       __u64 page_size, void *bitmap, __u64 *unmapped,
		       __u32 *report)
{
	return _test_unmap_dirty(vm->fd, vm->ioasid, iova, length, page_size,
				 bitmap, unmapped, report);
}

/*
 * An unmap can return the dirty bitmap of what it removes: the pages
 * written since the last read, and a bad bitmap unmaps nothing.
 */
TEST_F(dirty, unmap_with_bitmap)
{
	struct vm *vm = &self->vm;
	__u64 bitmap[BITMAP_WORDS], unmapped = 0, count;
	__u32 report = 0;

	test_cmd_attach(vm->fd, vm->dev, vm->ioasid);
	/* Not tracking: refused, and nothing goes. */
	test_err_cmd(EINVAL, unmap_dirty(vm, IOVA, 16 * PAGE_SIZE, PAGE_SIZE,
					 bitmap, NULL, NULL));
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, NULL));
	test_cmd(dma_write(vm, vm->dev, 2, 0, 1));
	test_cmd(dma_write(vm, vm->dev, 9, 0, 1));
	test_cmd(dma_write(vm, vm->dev, 20, 0, 1));

	/* Bad bitmaps: nothing is unmapped, nothing cleared. */
	test_err_cmd(EFAULT, unmap_dirty(vm, IOVA, 16 * PAGE_SIZE, PAGE_SIZE,
					 NULL, NULL, NULL));
	test_err_cmd(EINVAL, unmap_dirty(vm, IOVA, 16 * PAGE_SIZE,
					 3 * PAGE_SIZE, bitmap, NULL, NULL));
	test_err_cmd(EINVAL, unmap_dirty(vm, IOVA, 16 * PAGE_SIZE, PAGE_SIZE,
					 (char *)bitmap + 4, NULL, NULL));
	test_err_cmd(EINVAL, _test_ioctl_unmap(vm->fd, vm->ioasid, 0, 0,
					       IOASID_DMA_UNMAP_ALL |
					       IOASID_DMA_UNMAP_GET_DIRTY,
					       NULL));
	test_cmd_check_map(vm->fd, vm->dev, IOVA, vm->g.ram, 16 * PAGE_SIZE,
			   MOCK_PROT_RW);

	memset(bitmap, 0xff, sizeof(bitmap));
	test_cmd(unmap_dirty(vm, IOVA, 16 * PAGE_SIZE, PAGE_SIZE, bitmap,
			     &unmapped, &report));
	ASSERT_EQ(16 * PAGE_SIZE, unmapped);
	ASSERT_EQ(EXACT, report);
	ASSERT_EQ(1ULL << 2 | 1ULL << 9, bitmap[0]);
	test_cmd_check_unmapped(vm->fd, vm->dev, IOVA, 16 * PAGE_SIZE);
	/* The rest keeps its records. */
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(EXACT, report);
	expect_bits(bitmap, 20, -1);

	/* A device that cannot track: every writable page it removes. */
	test_cmd_attach(vm->fd, vm->small_dev, vm->ioasid);
	bitmap[0] = 0;
	test_cmd(unmap_dirty(vm, IOVA + 16 * PAGE_SIZE, 8 * PAGE_SIZE,
			     PAGE_SIZE, bitmap, &unmapped, &report));
	ASSERT_EQ(8 * PAGE_SIZE, unmapped);
	ASSERT_EQ(CONSERVATIVE, report);
	ASSERT_EQ(0xffULL, bitmap[0]);
}

/* Starting forgets; stopping ends reads; both may be repeated. */
TEST_F(dirty, start_stop)
{
	struct vm *vm = &self->vm;
	__u64 bitmap[BITMAP_WORDS], count;
	__u32 report;

	test_cmd_attach(vm->fd, vm->dev, vm->ioasid);
	test_err_cmd(EINVAL, read_ram(vm, 0, bitmap, NULL, NULL));
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, &report));
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, &report));
	ASSERT_EQ(EXACT, report);
	test_cmd(dma_write(vm, vm->dev, 2, 0, 1));
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, false, &report));
	ASSERT_EQ(0, report);
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, false, NULL));
	test_err_cmd(EINVAL, read_ram(vm, 0, bitmap, NULL, NULL));
	/* Untracked writes do not show once it starts again. */
	test_cmd(dma_write(vm, vm->dev, 3, 0, 1));
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, NULL));
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(0, count);
	test_cmd_detach(vm->fd, vm->dev);
	test_ioctl_free(vm->fd, vm->ioasid);
	test_err_cmd(ENOENT, _test_dirty_tracking(vm->fd, vm->ioasid, true,
						  NULL));
}

TEST_F(dirty, errnos)
{
	struct vm *vm = &self->vm;
	__u64 bitmap[BITMAP_WORDS + 1], count;
	__u32 child;
	long psz = sysconf(_SC_PAGESIZE);
	__u8 *two;

	test_cmd_attach(vm->fd, vm->dev, vm->ioasid);
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, NULL));
	test_cmd(dma_write(vm, vm->dev, 1, 0, 1));

	/* Page sizes: a power of two, at least the CPU page. */
	test_err_cmd(EINVAL, _test_get_dirty(vm->fd, vm->ioasid, 0, IOVA,
					     RAM_SIZE, 0, bitmap, NULL, NULL));
	test_err_cmd(EINVAL, _test_get_dirty(vm->fd, vm->ioasid, 0, IOVA,
					     RAM_SIZE, 3 * PAGE_SIZE, bitmap,
					     NULL, NULL));
	test_err_cmd(EINVAL, _test_get_dirty(vm->fd, vm->ioasid, 0, IOVA,
					     RAM_SIZE, PAGE_SIZE / 2, bitmap,
					     NULL, NULL));
	/* Alignment and length. */
	test_err_cmd(EINVAL, _test_get_dirty(vm->fd, vm->ioasid, 0, IOVA + 512,
					     RAM_SIZE, PAGE_SIZE, bitmap, NULL,
					     NULL));
	test_err_cmd(EINVAL, _test_get_dirty(vm->fd, vm->ioasid, 0, IOVA,
					     RAM_SIZE - 512, PAGE_SIZE, bitmap,
					     NULL, NULL));
	test_err_cmd(EINVAL, _test_get_dirty(vm->fd, vm->ioasid, 0, IOVA, 0,
					     PAGE_SIZE, bitmap, NULL, NULL));
	test_err_cmd(EINVAL, _test_get_dirty(vm->fd, vm->ioasid, 0, IOVA,
					     RAM_SIZE, PAGE_SIZE,
					     (char *)bitmap + 4, NULL, NULL));
	test_err_cmd(EOVERFLOW, _test_get_dirty(vm->fd, vm->ioasid, 0,
						-4 * PAGE_SIZE, 8 * PAGE_SIZE,
						PAGE_SIZE, bitmap, NULL,
						NULL));
	/* Too many bits for one call. */
	test_err_cmd(EINVAL, _test_get_dirty(vm->fd, vm->ioasid, 0, 0,
					     (IOASID_DIRTY_BITMAP_MAX_PAGES + 1) *
					     PAGE_SIZE, PAGE_SIZE, bitmap,
					     NULL, NULL));
	/* Flags, objects. */
	test_err_cmd(EOPNOTSUPP, _test_get_dirty(vm->fd, vm->ioasid, 1U << 5,
						 IOVA, RAM_SIZE, PAGE_SIZE,
						 bitmap, NULL, NULL));
	test_err_cmd(ENOENT, _test_get_dirty(vm->fd, 9999, 0, IOVA, RAM_SIZE,
					     PAGE_SIZE, bitmap, NULL, NULL));
	test_err_cmd(ENOENT, _test_get_dirty(vm->fd, vm->dev, 0, IOVA,
					     RAM_SIZE, PAGE_SIZE, bitmap, NULL,
					     NULL));
	test_cmd(_test_ioctl_create_nesting(vm->fd, vm->ioasid,
					    IOASID_NESTING_HARDWARE, &child));
	test_err_cmd(EMEDIUMTYPE, _test_dirty_tracking(vm->fd, child, true,
						       NULL));
	test_err_cmd(EMEDIUMTYPE, _test_get_dirty(vm->fd, child, 0, IOVA,
						  RAM_SIZE, PAGE_SIZE, bitmap,
						  NULL, NULL));
	test_ioctl_free(vm->fd, child);
	test_err_cmd(EOPNOTSUPP, ioasid_ioctl(vm->fd, IOASID_DIRTY_TRACKING,
					      &(struct ioasid_cmd_dirty_tracking){
						      .size = 16,
						      .flags = 2,
						      .ioasid = vm->ioasid,
					      }));

	/*
	 * A bitmap the kernel cannot write: unmapped, read-only, or its
	 * second page gone. Nothing is written, and nothing is cleared.
	 */
	test_err_cmd(EFAULT, _test_get_dirty(vm->fd, vm->ioasid, 0, IOVA,
					     RAM_SIZE, PAGE_SIZE, NULL, NULL,
					     NULL));
	two = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	memset(two, 0xa5, psz);
	ASSERT_EQ(0, mprotect(two + psz, psz, PROT_READ));
	/* 128 pages: 16 bytes of bitmap, the last 8 on the read-only page. */
	test_err_cmd(EFAULT, _test_get_dirty(vm->fd, vm->ioasid, 0,
					     IOVA - 64 * PAGE_SIZE,
					     128 * PAGE_SIZE, PAGE_SIZE,
					     two + psz - 8, NULL, NULL));
	ASSERT_EQ(0, munmap(two + psz, psz));
	test_err_cmd(EFAULT, _test_get_dirty(vm->fd, vm->ioasid, 0,
					     IOVA - 64 * PAGE_SIZE,
					     128 * PAGE_SIZE, PAGE_SIZE,
					     two + psz - 8, NULL, NULL));
	for (unsigned int i = 0; i != psz; i++)
		ASSERT_EQ(0xa5, two[i]);
	munmap(two, psz);
	test_cmd(read_ram(vm, 0, bitmap, NULL, &count));
	ASSERT_EQ(1, count);
	expect_bits(bitmap, 1, -1);
}

/*
 * A device nested in hardware writes through its parent's domain, at the
 * GPA its first stage reaches: the parent's bitmap has it, exact, even
 * when a read had filled the IOTLB first.
 */
TEST_F(dirty, hardware_nested)
{
	struct vm *vm = &self->vm;
	__u64 bitmap[BITMAP_WORDS], count, root;
	__u8 buf[16] = { 1 };
	__u32 child, report;

	root = guest_alloc_table(&vm->g);
	guest_map(&vm->g, root, 0x1000, IOVA + 40 * PAGE_SIZE, PTE_PWU);
	guest_map(&vm->g, root, 0x2000, IOVA + 41 * PAGE_SIZE, PTE_PWU);
	test_cmd(_test_ioctl_create_nesting(vm->fd, vm->ioasid,
					    IOASID_NESTING_HARDWARE, &child));
	test_cmd_attach(vm->fd, vm->dev, child);
	test_cmd(_test_bind(vm->fd, child, IOASID_PGTABLE_VTD_S1, root, 48));
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, &report));
	ASSERT_EQ(EXACT, report);

	test_cmd(_test_dma(vm->fd, vm->dev, 0x1000, buf, sizeof(buf), false));
	test_cmd(_test_dma(vm->fd, vm->dev, 0x1000, buf, sizeof(buf), true));
	test_cmd(_test_dma(vm->fd, vm->dev, 0x2000, buf, sizeof(buf), false));
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(EXACT, report);
	expect_bits(bitmap, 40, -1);
	/* Cleared, so a cached walk must not spare the next write. */
	test_cmd(_test_dma(vm->fd, vm->dev, 0x1000, buf, sizeof(buf), true));
	test_cmd(_test_dma(vm->fd, vm->dev, 0x2000, buf, sizeof(buf), true));
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	expect_bits(bitmap, 40, 41, -1);
	test_cmd_detach(vm->fd, vm->dev);
	test_ioctl_free(vm->fd, child);
}

/*
 * A software-nested child's devices write through the child's own
 * domains, which the parent never sees: a parent with children reports
 * conservatively, and the child itself exactly, in its own IOVA.
 */
TEST_F(dirty, software_nested)
{
	struct vm *vm = &self->vm;
	__u64 bitmap[BITMAP_WORDS], count;
	__u32 child, report;
	__u8 buf[8] = { 2 };

	test_ioctl_create_nesting(vm->fd, vm->ioasid, &child);
	test_ioctl_map_from_parent(vm->fd, child, IOVA + 8 * PAGE_SIZE, 0,
				   4 * PAGE_SIZE);
	test_cmd_attach(vm->fd, vm->dev, child);
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, &report));
	ASSERT_EQ(CONSERVATIVE, report);
	test_cmd(_test_dirty_tracking(vm->fd, child, true, &report));
	ASSERT_EQ(EXACT, report);
	test_cmd(_test_dma(vm->fd, vm->dev, 2 * PAGE_SIZE, buf, sizeof(buf),
			   true));
	test_cmd(_test_get_dirty(vm->fd, child, 0, 0, 4 * PAGE_SIZE,
				 PAGE_SIZE, bitmap, &report, &count));
	ASSERT_EQ(EXACT, report);
	ASSERT_EQ(1ULL << 2, bitmap[0] & 0xf);
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(CONSERVATIVE, report);
	expect_writable(bitmap);

	/* The child's unmap with its bitmap: what it wrote there, exactly */
	test_cmd(_test_dma(vm->fd, vm->dev, 3 * PAGE_SIZE, buf, sizeof(buf),
			   true));
	memset(bitmap, 0xff, sizeof(bitmap));
	test_cmd(_test_unmap_dirty(vm->fd, child, 2 * PAGE_SIZE,
				   2 * PAGE_SIZE, PAGE_SIZE, bitmap, NULL,
				   &report));
	ASSERT_EQ(EXACT, report);
	ASSERT_EQ(1ULL << 1, bitmap[0]);
	test_ioctl_map_from_parent(vm->fd, child, IOVA + 10 * PAGE_SIZE,
				   2 * PAGE_SIZE, 2 * PAGE_SIZE);

	/* The child goes: what it wrote since the last read stays to say. */
	test_cmd(_test_dma(vm->fd, vm->dev, 3 * PAGE_SIZE, buf, sizeof(buf),
			   true));
	test_cmd_detach(vm->fd, vm->dev);
	test_ioctl_free(vm->fd, child);
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(CONSERVATIVE, report);
	test_cmd(read_ram(vm, 0, bitmap, &report, &count));
	ASSERT_EQ(EXACT, report);
	ASSERT_EQ(0, count);
}

/* A huge page of the memory is one IOMMU page, reported and read whole. */
TEST_F(dirty, large_page)
{
	struct vm *vm = &self->vm;
	unsigned long iova = 64 * SZ_2M;
	__u64 bitmap[2 * SZ_2M / PAGE_SIZE / 64], count, pgsize = 0;
	size_t raw_len = 3 * SZ_2M;
	__u32 report;
	char *raw, *buf;

	raw = mmap(NULL, raw_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	buf = (char *)(((uintptr_t)raw + SZ_2M - 1) & ~(SZ_2M - 1));
	madvise(buf, 2 * SZ_2M, MADV_HUGEPAGE);
	memset(buf, 0x11, 2 * SZ_2M);
	test_ioctl_map(vm->fd, vm->ioasid, buf, iova, 2 * SZ_2M);
	test_cmd_attach(vm->fd, vm->dev, vm->ioasid);
	test_cmd(_test_cmd_check_map(vm->fd, vm->dev, iova, buf, SZ_2M,
				     MOCK_PROT_RW, &pgsize, true));
	if (pgsize != SZ_2M) {
		test_cmd_detach(vm->fd, vm->dev);
		test_ioctl_unmap(vm->fd, vm->ioasid, iova, 2 * SZ_2M,
				 2 * SZ_2M);
		munmap(raw, raw_len);
		SKIP(return, "no THP, so no 2M IOMMU page");
	}
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, NULL));
	test_cmd(_test_dma(vm->fd, vm->dev, iova + 5 * PAGE_SIZE, bitmap, 1,
			   true));
	/* A range that cuts the large page cannot be read. */
	test_err_cmd(EINVAL, _test_get_dirty(vm->fd, vm->ioasid, 0,
					     iova + PAGE_SIZE, SZ_2M,
					     PAGE_SIZE, bitmap, NULL, NULL));
	test_err_cmd(EINVAL, _test_get_dirty(vm->fd, vm->ioasid, 0, iova,
					     PAGE_SIZE, PAGE_SIZE, bitmap,
					     NULL, NULL));
	test_cmd(_test_get_dirty(vm->fd, vm->ioasid, 0, iova, 2 * SZ_2M,
				 PAGE_SIZE, bitmap, &report, &count));
	ASSERT_EQ(EXACT, report);
	ASSERT_EQ(SZ_2M / PAGE_SIZE, count);
	for (unsigned int i = 0; i != 2 * SZ_2M / PAGE_SIZE; i++)
		ASSERT_EQ(i < SZ_2M / PAGE_SIZE, bitmap_test(bitmap, i));
	test_cmd(_test_get_dirty(vm->fd, vm->ioasid, 0, iova, 2 * SZ_2M,
				 SZ_2M, bitmap, &report, &count));
	ASSERT_EQ(0, count);
	test_cmd_detach(vm->fd, vm->dev);
	test_ioctl_unmap(vm->fd, vm->ioasid, iova, 2 * SZ_2M, 2 * SZ_2M);
	munmap(raw, raw_len);
}

/*
 * Writers on two devices, while the main thread reads bitmaps: a write
 * done before a read began is in that read, unless a read that ended
 * after the write began reported the page already; no page nobody wrote
 * shows. The writers own pages 0-23 and 24-47; a third thread maps and
 * unmaps a range of its own meanwhile.
 */
#define RACE_SECONDS 3

struct race {
	struct vm *vm;
	__u32 dev;
	unsigned int first;
	/* Per page: writes begun, and writes done */
	unsigned long started[RAM_PAGES];
	unsigned long written[RAM_PAGES];
	bool stop;		/* __atomic: set by the main thread */
	int err;
};

static void *race_writer(void *arg)
{
	struct race *r = arg;
	__u64 rng = r->first + 1;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		unsigned int page = r->first + rng_below(&rng, 24);
		int ret;

		__atomic_add_fetch(&r->started[page], 1, __ATOMIC_RELEASE);
		ret = dma_write(r->vm, r->dev, page, 0, 1);

		if (ret) {
			r->err = ret;
			break;
		}
		__atomic_add_fetch(&r->written[page], 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *race_mapper(void *arg)
{
	struct race *r = arg;
	unsigned long iova = 0x80000000UL;
	void *mem = mmap(NULL, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (mem == MAP_FAILED) {
		r->err = -ENOMEM;
		return NULL;
	}
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		int ret = _test_ioctl_map(r->vm->fd, r->vm->ioasid, mem, iova,
					  16 * PAGE_SIZE, MAP_RW);

		if (!ret)
			ret = _test_ioctl_unmap(r->vm->fd, r->vm->ioasid, iova,
						16 * PAGE_SIZE, 0, NULL);
		if (ret) {
			r->err = ret;
			break;
		}
	}
	munmap(mem, 16 * PAGE_SIZE);
	return NULL;
}

TEST_F_TIMEOUT(dirty, concurrent, RACE_SECONDS + 60)
{
	struct vm *vm = &self->vm;
	struct race w[2] = {
		{ .vm = vm, .dev = vm->dev, .first = 0 },
		{ .vm = vm, .dev = vm->dev2, .first = 24 },
	};
	struct race m = { .vm = vm };
	unsigned long seen[RAM_PAGES] = {}, reads = 0, bits = 0;
	__u64 bitmap[BITMAP_WORDS];
	pthread_t t[3];
	time_t end;
	__u32 report;

	test_cmd_attach(vm->fd, vm->dev, vm->ioasid);
	test_cmd_attach(vm->fd, vm->dev2, vm->ioasid);
	test_cmd(_test_dirty_tracking(vm->fd, vm->ioasid, true, NULL));
	ASSERT_EQ(0, pthread_create(&t[0], NULL, race_writer, &w[0]));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, race_writer, &w[1]));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, race_mapper, &m));
	end = time(NULL) + RACE_SECONDS;
	while (time(NULL) < end) {
		unsigned long before[RAM_PAGES], after;
		unsigned int i;

		/* The writes done before the read began must show in it. */
		for (i = 0; i != 48; i++)
			before[i] = __atomic_load_n(&w[i >= 24].written[i],
						    __ATOMIC_ACQUIRE);
		test_cmd(read_ram(vm, 0, bitmap, &report, NULL));
		ASSERT_EQ(EXACT, report);
		reads++;
		for (i = 0; i != RAM_PAGES; i++) {
			bool set = bitmap_test(bitmap, i);

			ASSERT_FALSE(i >= 48 && set) TH_LOG("page %u", i);
			if (i >= 48)
				continue;
			/* Written since a read last reported it: set. */
			if (before[i] > seen[i])
				ASSERT_TRUE(set) TH_LOG("page %u lost", i);
			if (!set)
				continue;
			/*
			 * It covers every write done before it began, and
			 * maybe any begun before it ended: which, is
			 * unknown, so only a write begun later must show.
			 */
			after = __atomic_load_n(&w[i >= 24].started[i],
						__ATOMIC_ACQUIRE);
			seen[i] = after;
			bits++;
		}
	}
	__atomic_store_n(&w[0].stop, true, __ATOMIC_RELAXED);
	__atomic_store_n(&w[1].stop, true, __ATOMIC_RELAXED);
	__atomic_store_n(&m.stop, true, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i != 3; i++)
		pthread_join(t[i], NULL);
	ASSERT_EQ(0, w[0].err);
	ASSERT_EQ(0, w[1].err);
	ASSERT_EQ(0, m.err);
	ksft_print_msg("%lu reads, %lu dirty bits while two devices wrote\n",
		       reads, bits);
	ASSERT_LT(10, reads);
}

TEST_HARNESS_MAIN
