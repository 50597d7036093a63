// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests for hardware nesting (RFC 5.4) on the mock IOMMU: a guest
 * first-stage table, in the VT-d first-stage (x86-64 4-level) format,
 * lives in guest memory that the parent IOASID maps at GPA; a
 * hardware-nested child binds it, and the mock walks it through the
 * parent for every DMA, caching what it walked until invalidated.
 *
 * The LARGE mock instance nests; the SMALL one does not, which is how
 * the "not supported" answers are tested. Teardown closes the fd and
 * checks that no page of guest memory is still pinned.
 */
#include <stdlib.h>
#include <time.h>
#include <sys/mman.h>

#include "ioasid_utils.h"

#define RAM_PAGES 64
#define RAM_SIZE (RAM_PAGES * PAGE_SIZE)
#define GPA 0x200000UL		/* guest RAM, in the parent */
#define TABLE_PAGES 16		/* guest RAM pages 0-15 hold page tables */
#define DATA_PAGE(n) (TABLE_PAGES + (n))	/* the rest is data */
#define GIOVA 0x7f0000000000UL	/* high, so the walk uses every level */

#define PTE_P 0x1ULL		/* present */
#define PTE_W 0x2ULL		/* writable */
#define PTE_U 0x4ULL		/* user */
#define PTE_PS 0x80ULL		/* page size: a large leaf */
#define PTE_ADDR 0x000ffffffffff000ULL

/* The guest: its RAM, and the table pages it has handed out. */
struct guest {
	__u8 *ram;
	unsigned int next_table;
};

static __u64 *guest_page(struct guest *g, __u64 gpa)
{
	return (__u64 *)(g->ram + (gpa - GPA));
}

static __u64 guest_alloc_table(struct guest *g)
{
	__u64 gpa = GPA + g->next_table++ * PAGE_SIZE;

	memset(guest_page(g, gpa), 0, PAGE_SIZE);
	return gpa;
}

/* The root table; every walk starts there. */
static __u64 guest_root(struct guest *g)
{
	return GPA;
}

/* The guest maps @giova to @gpa with @bits in its 4-level table. */
static void guest_map(struct guest *g, __u64 giova, __u64 gpa, __u64 bits)
{
	__u64 table = guest_root(g);
	int level;

	for (level = 3; level; level--) {
		__u64 *pte = guest_page(g, table) + ((giova >> (12 + 9 * level)) & 511);

		if (!(*pte & PTE_P))
			*pte = guest_alloc_table(g) | PTE_P | PTE_W | PTE_U;
		table = *pte & PTE_ADDR;
	}
	guest_page(g, table)[(giova >> 12) & 511] = gpa | bits;
}

static int _test_device_get_info(int fd, __u32 dev,
				 struct ioasid_cmd_device_get_info *info)
{
	*info = (struct ioasid_cmd_device_get_info){
		.size = sizeof(*info),
		.dev_id = dev,
	};
	return ioasid_ioctl(fd, IOASID_DEVICE_GET_INFO, info);
}

/* Forget everything cached of the table. */
static int _test_invalidate_all(int fd, __u32 ioasid)
{
	struct iommu_hwpt_vtd_s1_invalidate inv = { .npages = ~0ULL };
	__u32 num = 1;

	return _test_invalidate(fd, ioasid, &inv, &num);
}

/* The mock device DMAs @len bytes between @buf and @iova. */
static int _test_dma(int fd, __u32 dev, __u64 iova, void *buf, size_t len,
		     bool write)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_DMA,
		.dev_id = dev,
		.dma = {
			.iova = iova,
			.uptr = (uintptr_t)buf,
			.length = len,
			.flags = write ? IOASID_TEST_DMA_WRITE : 0,
		},
	};

	return _test_cmd_mock(fd, &cmd);
}

/* How many translations the device's nested IOTLB holds, or -errno. */
static int iotlb_entries(int fd, __u32 dev)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_IOTLB_INFO,
		.dev_id = dev,
	};
	int ret = _test_cmd_mock(fd, &cmd);

	return ret ?: (int)cmd.iotlb_info.out_entries;
}

FIXTURE(hwnest) {
	int fd;
	__u32 parent, child, dev, small_dev;
	struct guest g;
	__u32 ref0[RAM_PAGES];
	long pin0;
};

FIXTURE_SETUP(hwnest)
{
	__u32 ref;
	unsigned int i;

	self->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	if (page_ref(self->fd, &ref, &ref, NULL) == -ENOTTY)
		SKIP(return, "kernel without CONFIG_IOASID_TEST");
	self->g.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->g.ram);
	memset(self->g.ram, 0, RAM_SIZE);
	for (i = 0; i != RAM_PAGES; i++)
		ASSERT_EQ(0, page_ref(self->fd, self->g.ram + i * PAGE_SIZE,
				      &self->ref0[i], NULL));
	self->pin0 = vm_pinned_kb();
	guest_alloc_table(&self->g);	/* the root */

	test_ioctl_alloc(self->fd, &self->parent);
	test_ioctl_map(self->fd, self->parent, self->g.ram, GPA, RAM_SIZE);
	test_cmd(_test_ioctl_create_nesting(self->fd, self->parent,
					    IOASID_NESTING_HARDWARE,
					    &self->child));
	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_LARGE,
				 &self->dev);
	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_SMALL,
				 &self->small_dev);
}

FIXTURE_TEARDOWN(hwnest)
{
	if (!self->g.ram)
		return;
	close(self->fd);
	check_pages_released(self->g.ram, RAM_PAGES, self->ref0, self->pin0);
	munmap(self->g.ram, RAM_SIZE);
}

#define DATA(n) (self->g.ram + DATA_PAGE(n) * PAGE_SIZE)
#define DATA_GPA(n) (GPA + DATA_PAGE(n) * PAGE_SIZE)

static void attach_and_bind(struct __test_metadata *_metadata,
			    FIXTURE_DATA(hwnest) * self)
{
	test_cmd_attach(self->fd, self->dev, self->child);
	test_cmd(_test_bind(self->fd, self->child, IOASID_PGTABLE_VTD_S1,
			    guest_root(&self->g), 48));
}

TEST_F(hwnest, device_get_info)
{
	struct ioasid_cmd_device_get_info info;
	__u32 supported = 0;

	test_ioctl_check_extension(self->fd, IOASID_EXT_DEVICE_GET_INFO,
				   &supported);
	ASSERT_EQ(1, supported);
	test_ioctl_check_extension(self->fd, IOASID_EXT_NESTING_HARDWARE,
				   &supported);
	ASSERT_EQ(1, supported);

	test_cmd(_test_device_get_info(self->fd, self->dev, &info));
	ASSERT_TRUE(info.out_capabilities & IOASID_DEVICE_CAP_NESTING_HARDWARE);
	ASSERT_EQ(1 << IOASID_PGTABLE_VTD_S1, info.out_pgtable_formats);

	test_cmd(_test_device_get_info(self->fd, self->small_dev, &info));
	ASSERT_FALSE(info.out_capabilities &
		     IOASID_DEVICE_CAP_NESTING_HARDWARE);
	ASSERT_EQ(0, info.out_pgtable_formats);

	test_err_cmd(ENOENT, _test_device_get_info(self->fd, 0xdead, &info));
	/* An IOASID is not a device. */
	test_err_cmd(ENOENT, _test_device_get_info(self->fd, self->parent,
						   &info));
}

/* RFC 5.4: DMA by GIOVA lands where the guest's table says, both ways. */
TEST_F(hwnest, rfc_5_4_dma)
{
	__u8 out[256], in[256];
	unsigned int i;

	for (i = 0; i != sizeof(out); i++)
		out[i] = i * 5 + 1;
	guest_map(&self->g, GIOVA, DATA_GPA(3), PTE_P | PTE_W | PTE_U);
	guest_map(&self->g, GIOVA + PAGE_SIZE, DATA_GPA(7),
		  PTE_P | PTE_W | PTE_U);
	attach_and_bind(_metadata, self);

	test_cmd(_test_dma(self->fd, self->dev, GIOVA + PAGE_SIZE + 64, out,
			   sizeof(out), true));
	ASSERT_EQ(0, memcmp(DATA(7) + 64, out, sizeof(out)));
	memcpy(DATA(3), out, sizeof(out));
	test_cmd(_test_dma(self->fd, self->dev, GIOVA, in, sizeof(in),
			   false));
	ASSERT_EQ(0, memcmp(in, out, sizeof(in)));
	/* Unmapped in the guest's table: a fault, nothing written. */
	test_err_cmd(EIO, _test_dma(self->fd, self->dev, GIOVA + 2 * PAGE_SIZE,
				    out, sizeof(out), true));
	/* A GPA is no address for it any more. */
	test_err_cmd(EIO, _test_dma(self->fd, self->dev, DATA_GPA(3), in,
				    sizeof(in), false));
}

/* A guest PTE change is not seen until invalidated, and is after. */
TEST_F(hwnest, stale_until_invalidated)
{
	struct iommu_hwpt_vtd_s1_invalidate inv = {
		.addr = GIOVA,
		.npages = 1,
	};
	__u8 out[64];
	__u32 num = 1;

	memset(out, 0xa5, sizeof(out));
	guest_map(&self->g, GIOVA, DATA_GPA(1), PTE_P | PTE_W | PTE_U);
	attach_and_bind(_metadata, self);
	test_cmd(_test_dma(self->fd, self->dev, GIOVA, out, sizeof(out), true));
	ASSERT_EQ(0xa5, DATA(1)[0]);

	/* The guest repoints the page; the IOMMU still has the old one. */
	guest_map(&self->g, GIOVA, DATA_GPA(2), PTE_P | PTE_W | PTE_U);
	memset(out, 0x3c, sizeof(out));
	test_cmd(_test_dma(self->fd, self->dev, GIOVA, out, sizeof(out), true));
	ASSERT_EQ(0x3c, DATA(1)[0]);
	ASSERT_EQ(0, DATA(2)[0]);

	/* The walk was cached, and the invalidation drops it. */
	ASSERT_EQ(1, iotlb_entries(self->fd, self->dev));
	test_cmd(_test_invalidate(self->fd, self->child, &inv, &num));
	ASSERT_EQ(1, num);
	ASSERT_EQ(0, iotlb_entries(self->fd, self->dev));
	memset(out, 0x77, sizeof(out));
	test_cmd(_test_dma(self->fd, self->dev, GIOVA, out, sizeof(out), true));
	ASSERT_EQ(0x77, DATA(2)[0]);
	ASSERT_EQ(0x3c, DATA(1)[0]);

	/* Not present any more: faults once invalidated. */
	guest_map(&self->g, GIOVA, 0, 0);
	test_cmd(_test_invalidate_all(self->fd, self->child));
	test_err_cmd(EIO, _test_dma(self->fd, self->dev, GIOVA, out,
				    sizeof(out), true));
}

/* A write needs W at every level, a read-only leaf takes reads only. */
TEST_F(hwnest, permissions)
{
	__u8 buf[64] = { 1 };

	guest_map(&self->g, GIOVA, DATA_GPA(4), PTE_P | PTE_U);
	guest_map(&self->g, GIOVA + PAGE_SIZE, DATA_GPA(5), PTE_P | PTE_W);
	attach_and_bind(_metadata, self);
	test_err_cmd(EIO, _test_dma(self->fd, self->dev, GIOVA, buf,
				    sizeof(buf), true));
	ASSERT_EQ(0, DATA(4)[0]);
	test_cmd(_test_dma(self->fd, self->dev, GIOVA, buf, sizeof(buf),
			   false));
	/* No user bit: a user DMA may not use it. */
	test_err_cmd(EIO, _test_dma(self->fd, self->dev, GIOVA + PAGE_SIZE,
				    buf, sizeof(buf), false));
}

/*
 * The parent unmaps a GPA that a cached translation leads to: the IOMMU
 * forgets it at once, whatever the guest does, so the device never
 * reaches a page the host released.
 */
TEST_F(hwnest, parent_unmap_flushes_nested)
{
	__u8 buf[64] = { 9 };
	__u32 ref;

	guest_map(&self->g, GIOVA, DATA_GPA(6), PTE_P | PTE_W | PTE_U);
	attach_and_bind(_metadata, self);
	test_cmd(_test_dma(self->fd, self->dev, GIOVA, buf, sizeof(buf), true));
	ASSERT_EQ(1, iotlb_entries(self->fd, self->dev));
	test_ioctl_unmap(self->fd, self->parent, DATA_GPA(6), PAGE_SIZE,
			 PAGE_SIZE);
	ASSERT_EQ(0, iotlb_entries(self->fd, self->dev));
	test_err_cmd(EIO, _test_dma(self->fd, self->dev, GIOVA, buf,
				    sizeof(buf), true));
	ASSERT_EQ(0, page_ref(self->fd, DATA(6), &ref, NULL));
	ASSERT_EQ(self->ref0[DATA_PAGE(6)], ref);
}

TEST_F(hwnest, bind_rules)
{
	__u32 plain, sw_child;
	struct ioasid_cmd_bind_pgtable cmd = {
		.size = sizeof(cmd),
		.ioasid = self->child,
		.format = IOASID_PGTABLE_VTD_S1,
	};

	test_ioctl_alloc(self->fd, &plain);
	test_ioctl_create_nesting(self->fd, self->parent, &sw_child);
	/* Not hardware-nested: the wrong kind of IOASID. */
	test_err_cmd(EMEDIUMTYPE, _test_bind(self->fd, plain,
					     IOASID_PGTABLE_VTD_S1, GPA, 48));
	test_err_cmd(EMEDIUMTYPE, _test_bind(self->fd, sw_child,
					     IOASID_PGTABLE_VTD_S1, GPA, 48));
	test_err_cmd(EMEDIUMTYPE, _test_unbind(self->fd, plain));
	test_err_cmd(EMEDIUMTYPE, _test_invalidate_all(self->fd, plain));
	test_err_cmd(ENOENT, _test_bind(self->fd, 0xdead,
					IOASID_PGTABLE_VTD_S1, GPA, 48));
	/* No device yet: nothing to build a nested domain for. */
	test_err_cmd(ENODEV, _test_bind(self->fd, self->child,
					IOASID_PGTABLE_VTD_S1, GPA, 48));
	/* A hardware-nested IOASID maps nothing itself. */
	test_err_ioctl_map(EMEDIUMTYPE, self->fd, self->child, self->g.ram,
			   GIOVA, PAGE_SIZE);

	test_cmd_attach(self->fd, self->dev, self->child);
	test_err_cmd(EOPNOTSUPP, _test_bind(self->fd, self->child, 99, GPA,
					    48));
	test_err_cmd(EINVAL, _test_bind(self->fd, self->child,
					IOASID_PGTABLE_VTD_S1, GPA + 8, 48));
	test_err_cmd(EOPNOTSUPP, _test_bind(self->fd, self->child,
					    IOASID_PGTABLE_VTD_S1, GPA, 57));
	/* Bind data too short for the format. */
	test_err_cmd(EINVAL, ioasid_ioctl(self->fd, IOASID_BIND_PGTABLE,
					  &cmd));
	test_err_cmd(ENOENT, _test_unbind(self->fd, self->child));
	test_err_cmd(ENOENT, _test_invalidate_all(self->fd, self->child));

	test_cmd(_test_bind(self->fd, self->child, IOASID_PGTABLE_VTD_S1, GPA,
			    48));
	test_err_cmd(EEXIST, _test_bind(self->fd, self->child,
					IOASID_PGTABLE_VTD_S1, GPA, 48));
	/* Devices attach before the bind. */
	test_err_cmd_attach(EBUSY, self->fd, self->small_dev, self->child);
	test_cmd(_test_unbind(self->fd, self->child));
	/* The SMALL instance cannot nest. */
	test_err_cmd_attach(EOPNOTSUPP, self->fd, self->small_dev,
			    self->child);
	/* A parent with a hardware-nested child cannot go either. */
	test_err_ioctl_free(EBUSY, self->fd, self->parent);
}

/* Entries run in order; the first bad one stops them and is reported. */
TEST_F(hwnest, invalidate_array)
{
	struct iommu_hwpt_vtd_s1_invalidate inv[4] = {
		{ .addr = GIOVA, .npages = 1 },
		{ .addr = GIOVA + PAGE_SIZE, .npages = 2 },
		{ .addr = GIOVA + 1, .npages = 1 },	/* unaligned */
		{ .addr = 0, .npages = ~0ULL },
	};
	struct ioasid_cmd_invalidate_cache cmd = {
		.size = sizeof(cmd),
		.ioasid = self->child,
		.entry_len = sizeof(inv[0]),
		.num_entries = 1,
		.entries_uptr = (uintptr_t)inv,
	};
	__u32 num = 4;

	attach_and_bind(_metadata, self);
	test_err_cmd(EINVAL, _test_invalidate(self->fd, self->child, inv,
					      &num));
	ASSERT_EQ(2, num);
	inv[2].addr = GIOVA;
	inv[3].__reserved = 1;
	num = 4;
	test_err_cmd(EINVAL, _test_invalidate(self->fd, self->child, inv,
					      &num));
	ASSERT_EQ(3, num);
	inv[3].__reserved = 0;
	num = 4;
	test_cmd(_test_invalidate(self->fd, self->child, inv, &num));
	ASSERT_EQ(4, num);
	/* Empty arrays and zero-sized entries are refused up front. */
	cmd.num_entries = 0;
	test_err_cmd(EINVAL, ioasid_ioctl(self->fd, IOASID_INVALIDATE_CACHE,
					  &cmd));
	cmd.num_entries = 1;
	cmd.entry_len = 0;
	test_err_cmd(EINVAL, ioasid_ioctl(self->fd, IOASID_INVALIDATE_CACHE,
					  &cmd));
}

/* Unbind, detach and free in any order leave nothing reachable. */
TEST_F(hwnest, teardown_orders)
{
	__u8 buf[64] = { 3 };

	guest_map(&self->g, GIOVA, DATA_GPA(0), PTE_P | PTE_W | PTE_U);
	attach_and_bind(_metadata, self);
	test_cmd(_test_dma(self->fd, self->dev, GIOVA, buf, sizeof(buf), true));

	/* Unbound, the device reaches nothing, though still attached. */
	test_cmd(_test_unbind(self->fd, self->child));
	test_err_cmd(EIO, _test_dma(self->fd, self->dev, GIOVA, buf,
				    sizeof(buf), false));
	test_cmd(_test_bind(self->fd, self->child, IOASID_PGTABLE_VTD_S1,
			    guest_root(&self->g), 48));
	test_cmd(_test_dma(self->fd, self->dev, GIOVA, buf, sizeof(buf), true));

	/* Detached while bound: nothing either. */
	test_err_ioctl_free(EBUSY, self->fd, self->child);
	test_cmd_detach(self->fd, self->dev);
	test_err_cmd(EIO, _test_dma(self->fd, self->dev, GIOVA, buf,
				    sizeof(buf), false));
	test_ioctl_free(self->fd, self->child);
	/* And the parent's own devices still work after all that. */
	test_cmd_attach(self->fd, self->dev, self->parent);
	memset(buf, 0, sizeof(buf));
	test_cmd(_test_dma(self->fd, self->dev, DATA_GPA(0), buf, sizeof(buf),
			   false));
	ASSERT_EQ(3, buf[0]);
}

/* Closing the fd with everything bound and attached releases it all. */
TEST_F(hwnest, close_while_bound)
{
	guest_map(&self->g, GIOVA, DATA_GPA(0), PTE_P | PTE_W | PTE_U);
	attach_and_bind(_metadata, self);
}

/* A random IOVA whose walk stays among the first entries of each table. */
static __u64 fuzz_iova(__u64 *rng)
{
	__u64 iova = 0;
	int level;

	if (rng_one_in(rng, 16))
		return rng_next(rng);	/* most likely non-canonical */
	for (level = 3; level >= 0; level--)
		iova |= (__u64)rng_below(rng, 8) << (12 + 9 * level);
	return iova | rng_below(rng, PAGE_SIZE);
}

/*
 * Guest tables are hostile input. Random entries in the table pages
 * (pointing anywhere in guest RAM or past its end where the parent maps
 * nothing, back at the root, with random permission, page-size and
 * reserved bits) and random IOVAs, canonical or not: every DMA either
 * lands in guest RAM or faults, and host memory that the parent does not
 * map never changes. Runs for 45 s or 100k tables, whichever comes
 * first; the seed is the time, printed for replay.
 */
TEST_F_TIMEOUT(hwnest, hostile_tables_fuzz, 120)
{
	const unsigned int max_tables = 100000;
	unsigned int i, j, tables, faults = 0, landed = 0;
	struct timespec t0, t;
	__u64 rng, seed;
	__u8 buf[64], *fence;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	seed = getenv("IOASID_FUZZ_SEED") ?
	       strtoull(getenv("IOASID_FUZZ_SEED"), NULL, 0) :
	       (__u64)t0.tv_nsec | 1;
	rng = seed;
	fence = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, fence);
	/* Host memory the parent does not map: out of every walk's reach. */
	memset(fence, 0xee, PAGE_SIZE);
	test_cmd_attach(self->fd, self->dev, self->child);
	test_cmd(_test_bind(self->fd, self->child, IOASID_PGTABLE_VTD_S1,
			    guest_root(&self->g), 48));

	for (tables = 0; tables != max_tables; tables++) {
		if (!(tables % 256)) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if (t.tv_sec - t0.tv_sec >= 45)
				break;
		}
		for (j = 0; j != 8; j++) {
			__u64 *pte = (__u64 *)(self->g.ram +
				rng_below(&rng, TABLE_PAGES) * PAGE_SIZE) +
				rng_below(&rng, 8);
			__u64 target = GPA + rng_below(&rng, RAM_PAGES + 8) *
					     PAGE_SIZE;

			switch (rng_below(&rng, 4)) {
			case 0:
				*pte = rng_next(&rng);
				break;
			case 1:
				*pte = target | (rng_next(&rng) & 0x87);
				break;
			case 2:
				*pte = guest_root(&self->g) | PTE_P | PTE_W |
				       PTE_U;
				break;
			default:
				*pte = target | PTE_P | PTE_W | PTE_U |
				       (rng_one_in(&rng, 4) ? PTE_PS : 0);
			}
		}
		ASSERT_EQ(0, _test_invalidate_all(self->fd, self->child));
		for (j = 0; j != 2; j++) {
			int ret = _test_dma(self->fd, self->dev, fuzz_iova(&rng),
					    buf, sizeof(buf),
					    rng_one_in(&rng, 2));

			if (ret != 0 && ret != -EIO)
				TH_LOG("IOASID_FUZZ_SEED=0x%llx table %u: DMA answered %d",
				       (unsigned long long)seed, tables, ret);
			ASSERT_TRUE(ret == 0 || ret == -EIO);
			if (ret)
				faults++;
			else
				landed++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (i = 0; i != PAGE_SIZE; i++)
		ASSERT_EQ(0xee, fence[i]);
	ksft_print_msg("%u random tables in %ld s, %u DMAs landed, %u faulted\n",
		       tables, (long)(t.tv_sec - t0.tv_sec), landed, faults,
		       (unsigned long long)seed);
	ASSERT_LT(0, landed);
	ASSERT_LT(0, faults);
	munmap(fence, PAGE_SIZE);
}

TEST_HARNESS_MAIN
