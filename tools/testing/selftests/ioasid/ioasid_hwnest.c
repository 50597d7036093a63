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
#include <assert.h>
#include <pthread.h>
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

/* The root table; every walk starts there. */
static __u64 guest_root(struct guest *g)
{
	return g->gpa;
}

/* The guest maps @giova to @gpa with @bits in its one table. */
#define guest_map_root(giova, gpa, bits) \
	guest_map(&self->g, guest_root(&self->g), giova, gpa, bits)

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

	self->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	if (page_ref(self->fd, &ref, &ref, NULL) == -ENOTTY)
		SKIP(return, "kernel without CONFIG_IOASID_TEST");
	guest_ram_alloc(_metadata, self->fd, &self->g, GPA, RAM_SIZE,
			self->ref0, &self->pin0);
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
	guest_ram_free(_metadata, &self->g, RAM_SIZE, self->ref0, self->pin0);
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
	ASSERT_EQ(1U << IOASID_PGTABLE_VTD_S1 |
		  1U << IOASID_PGTABLE_MOCK_PASID_TABLE,
		  info.out_pgtable_formats);

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
	guest_map_root(GIOVA, DATA_GPA(3), PTE_PWU);
	guest_map_root(GIOVA + PAGE_SIZE, DATA_GPA(7), PTE_PWU);
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
	guest_map_root(GIOVA, DATA_GPA(1), PTE_PWU);
	attach_and_bind(_metadata, self);
	test_cmd(_test_dma(self->fd, self->dev, GIOVA, out, sizeof(out), true));
	ASSERT_EQ(0xa5, DATA(1)[0]);

	/* The guest repoints the page; the IOMMU still has the old one. */
	guest_map_root(GIOVA, DATA_GPA(2), PTE_PWU);
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
	guest_map_root(GIOVA, 0, 0);
	test_cmd(_test_invalidate_all(self->fd, self->child));
	test_err_cmd(EIO, _test_dma(self->fd, self->dev, GIOVA, out,
				    sizeof(out), true));
}

/* A write needs W at every level, a read-only leaf takes reads only. */
TEST_F(hwnest, permissions)
{
	__u8 buf[64] = { 1 };

	guest_map_root(GIOVA, DATA_GPA(4), PTE_P | PTE_U);
	guest_map_root(GIOVA + PAGE_SIZE, DATA_GPA(5), PTE_P | PTE_W);
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

	guest_map_root(GIOVA, DATA_GPA(6), PTE_PWU);
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

	guest_map_root(GIOVA, DATA_GPA(0), PTE_PWU);
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
	guest_map_root(GIOVA, DATA_GPA(0), PTE_PWU);
	attach_and_bind(_metadata, self);
}

/*
 * The hostile-table fuzzer's guest, on an fd of its own. Its RAM holds a
 * PASID table, a root page per PASID, a pool of lower-level table pages
 * and data pages; every entry may point anywhere in it, or past its end
 * where the parent maps nothing. One bind of the PASID table gives every
 * PASID its own first stage, so one batch of DMAs, one per PASID, goes
 * through FUZZ_PASIDS random tables.
 *
 * A DMA costs the test kernel far more than a syscall does, so two
 * threads (the VM has two CPUs) each make half the batch with one
 * IOASID_TEST_OP_DMA_BATCH, at once: each from a device of its own,
 * whose RID is on a nested IOASID of its own with the same table bound,
 * so that the two share no IOTLB or PASID cache and no lock of one.
 */
#define FUZZ_GPA 0x40000000ULL	/* 1 GiB aligned: large leaves reach RAM */
#define FUZZ_PASIDS 4096
#define FUZZ_PASID_BITS 12	/* the table's size, as the bind takes it */
#define FUZZ_DIR_PAGES (FUZZ_PASIDS * 8 / GUEST_TABLE_SIZE)
#define FUZZ_ROOT(p) (FUZZ_DIR_PAGES + (p))
#define FUZZ_POOL_PAGES 128
#define FUZZ_POOL(n) (FUZZ_ROOT(FUZZ_PASIDS) + (n))
#define FUZZ_DATA_PAGES 64
#define FUZZ_DATA(n) (FUZZ_POOL(FUZZ_POOL_PAGES) + (n))
#define FUZZ_PAGES FUZZ_DATA(FUZZ_DATA_PAGES)
#define FUZZ_SIZE ((__u64)FUZZ_PAGES * GUEST_TABLE_SIZE)
#define FUZZ_PAGE_GPA(n) (FUZZ_GPA + (__u64)(n) * GUEST_TABLE_SIZE)
#define FUZZ_THREADS 2
#define FUZZ_OWN (FUZZ_PASIDS / FUZZ_THREADS)	/* PASIDs of a thread */
/* A thread's DMAs: one per PASID of its own, then a few more. */
#define FUZZ_REQS (FUZZ_OWN + FUZZ_OWN / 64)
#define FUZZ_DMAS (FUZZ_THREADS * FUZZ_REQS)
#define FUZZ_MIN_TABLES 100000
#define FUZZ_SECONDS 280	/* of the 300 s: the release check takes 2 */

static_assert(FUZZ_REQS <= IOASID_TEST_DMA_BATCH_MAX, "one batch a thread");
static_assert(FUZZ_THREADS == 2, "each thread keeps off the other's bytes");
static_assert(FUZZ_PASIDS == 1U << FUZZ_PASID_BITS, "the table is all used");

/* Bits of a first-stage entry, as the mock reads them (see mock.c). */
#define S1_RSVD 0x000f000000000000ULL	/* 51:48, at every level */
#define S1_ADDR 0x0000fffffffff000ULL
#define S1_IGNORED 0xfff0000000000f78ULL	/* 63:52, 11:8, 6:3 */

/* Where a DMA of the batch lands, chunk by chunk, unless it faults. */
struct fuzz_dma {
	__u64 gpa[2];
	__u32 len[2];
	bool fault;
};

/* One thread's half of a batch. */
struct fuzz_thread {
	int fd;
	__u32 child, dev;
	struct ioasid_test_dma_req *req;
	int ret;
	__u32 done;
};

struct fuzz {
	int fd;
	__u32 parent, child[FUZZ_THREADS], dev[FUZZ_THREADS];
	struct guest g;		/* what the guest, and so the IOMMU, sees */
	__u8 *shadow;		/* what guest RAM must hold */
	/*
	 * A bit per 8 bytes of RAM: an entry some walk of the batch reads,
	 * and what each thread's DMAs reach.
	 */
	__u64 *walked;
	__u64 *touched[FUZZ_THREADS];
	struct ioasid_test_dma_req *req;
	struct fuzz_dma *plan;
	__u8 *bufs;		/* GUEST_TABLE_SIZE bytes for each request */
	__u64 rng, seed;
	unsigned long batch, tables, landed, faults, same;
};

/* Guest and shadow both: between batches they are equal. */
static void fuzz_set(struct fuzz *f, __u64 gpa, __u64 entry)
{
	memcpy(f->g.ram + (gpa - FUZZ_GPA), &entry, sizeof(entry));
	memcpy(f->shadow + (gpa - FUZZ_GPA), &entry, sizeof(entry));
}

/* A page of guest RAM, or one of the few past its end. */
static __u64 fuzz_page(struct fuzz *f)
{
	return FUZZ_PAGE_GPA(rng_below(&f->rng, FUZZ_PAGES + 8));
}

/*
 * A hostile entry, for any level: mostly one a walk goes on through, so
 * that walks get deep, then anything a guest can write.
 */
static __u64 fuzz_entry(struct fuzz *f)
{
	__u64 *rng = &f->rng;

	switch (rng_below(rng, 16)) {
	case 0:
		return rng_next(rng);
	case 1:		/* random present, writable, user, page-size bits */
		return fuzz_page(f) | (rng_next(rng) & 0x87);
	case 2:		/* above the guest's 48 address bits */
		return fuzz_page(f) | PTE_PWU | 1ULL << (48 + rng_below(rng, 4));
	case 3:		/* bits the walk must ignore */
		return FUZZ_PAGE_GPA(FUZZ_POOL(rng_below(rng, FUZZ_POOL_PAGES))) |
		       PTE_PWU | (rng_next(rng) & S1_IGNORED);
	case 4:		/* a large leaf whose base is aligned */
		return (FUZZ_GPA + rng_below(rng, 9) * SZ_2M) | PTE_PWU |
		       PTE_PS;
	case 5:		/* back up to a root, or to the PASID table */
		return FUZZ_PAGE_GPA(rng_one_in(rng, 4) ? 0 :
				     FUZZ_ROOT(rng_below(rng, FUZZ_PASIDS))) |
		       PTE_PWU;
	case 6:
	case 7:		/* data, read-only now and then */
		return FUZZ_PAGE_GPA(FUZZ_DATA(rng_below(rng,
							 FUZZ_DATA_PAGES))) |
		       (rng_one_in(rng, 4) ? PTE_P | PTE_U : PTE_PWU);
	default:	/* a table of the pool */
		return FUZZ_PAGE_GPA(FUZZ_POOL(rng_below(rng, FUZZ_POOL_PAGES))) |
		       PTE_PWU;
	}
}

/*
 * New tables for every PASID: its entry in the PASID table and the
 * entries of its root that the IOVAs use, and those of the pool.
 */
static void fuzz_tables(struct fuzz *f)
{
	static const unsigned int root_slots[] = {
		0, 1, 2, 3, 4, 5, 6, 7, 256, 257, 258, 259,
	};
	__u64 *rng = &f->rng, entry, root;
	unsigned int p, i, bit;

	for (p = 0; p != FUZZ_PASIDS; p++) {
		root = FUZZ_PAGE_GPA(FUZZ_ROOT(p));
		switch (rng_below(rng, 32)) {
		case 0:
			entry = 0;
			break;
		case 1:
			entry = rng_next(rng);
			break;
		case 2:		/* any page, or none */
			entry = fuzz_page(f) | IOASID_MOCK_PASID_ENTRY_PRESENT;
			break;
		case 3:		/* a reserved bit */
			bit = rng_below(rng, 64);
			if (!bit || (bit >= 12 && bit <= 47))
				bit = 63;
			entry = root | IOASID_MOCK_PASID_ENTRY_PRESENT |
				1ULL << bit;
			break;
		case 4:		/* another PASID's first stage */
			entry = FUZZ_PAGE_GPA(FUZZ_ROOT(rng_below(rng,
								  FUZZ_PASIDS))) |
				IOASID_MOCK_PASID_ENTRY_PRESENT;
			break;
		default:
			entry = root | IOASID_MOCK_PASID_ENTRY_PRESENT;
		}
		fuzz_set(f, FUZZ_GPA + p * 8, entry);
		for (i = 0; i != ARRAY_SIZE(root_slots); i++)
			fuzz_set(f, root + root_slots[i] * 8, fuzz_entry(f));
		if (rng_one_in(rng, 8))
			fuzz_set(f, root + rng_below(rng, 512) * 8,
				 fuzz_entry(f));
	}
	for (p = 0; p != FUZZ_POOL_PAGES; p++)
		for (i = 0; i != 8; i++)
			fuzz_set(f, FUZZ_PAGE_GPA(FUZZ_POOL(p)) + i * 8,
				 fuzz_entry(f));
}

static void fuzz_mark(__u64 *map, __u64 off)
{
	map[off / 8 / 64] |= 1ULL << (off / 8 % 64);
}

/*
 * The model of what the IOMMU reads: an 8-byte entry at @gpa, through
 * the parent, which maps guest RAM and nothing else. Marks it walked.
 */
static bool fuzz_read(struct fuzz *f, __u64 gpa, __u64 *entry)
{
	__u64 off = gpa - FUZZ_GPA;

	if (gpa < FUZZ_GPA || off >= FUZZ_SIZE)
		return false;
	fuzz_mark(f->walked, off);
	memcpy(entry, f->shadow + off, sizeof(*entry));
	return true;
}

/*
 * The model of the mock's walk of the first stage at @root for the
 * 4 KiB page at @iova: the GPA it reaches, or false for a fault.
 */
static bool fuzz_walk(struct fuzz *f, __u64 root, __u64 iova, bool write,
		      __u64 *gpa)
{
	static const __u64 leaf_rsvd[] = {
		0, 0x00000000001fe000ULL, 0x000000003fffe000ULL,
	};
	__u64 table = root, entry, mask;
	bool writable = true;
	int level;

	for (level = 3; ; level--) {
		unsigned int shift = 12 + 9 * level;

		if (!fuzz_read(f, table + ((iova >> shift) & 511) * 8, &entry))
			return false;
		if (!(entry & PTE_P) || !(entry & PTE_U) || entry & S1_RSVD)
			return false;
		writable = writable && (entry & PTE_W);
		if (level && !(entry & PTE_PS)) {
			table = entry & S1_ADDR;
			continue;
		}
		/* No leaf in the PML4; reserved bits in a large one. */
		if (level == 3 || entry & leaf_rsvd[level])
			return false;
		mask = (1ULL << shift) - 1;
		*gpa = (entry & S1_ADDR & ~mask) | (iova & mask);
		break;
	}
	if (write && !writable)
		return false;
	return *gpa >= FUZZ_GPA && *gpa - FUZZ_GPA < FUZZ_SIZE;
}

/* Where @req lands, chunk by chunk, or that it faults: the model. */
static void fuzz_predict(struct fuzz *f, const struct ioasid_test_dma_req *req,
			 struct fuzz_dma *d)
{
	bool write = req->flags & IOASID_TEST_DMA_WRITE;
	__u64 at = req->iova, end = req->iova + req->length, entry, root;
	unsigned int n = 0;

	memset(d, 0, sizeof(*d));
	d->fault = true;
	if (req->pasid >= FUZZ_PASIDS ||
	    !fuzz_read(f, FUZZ_GPA + req->pasid * 8, &entry) ||
	    !(entry & IOASID_MOCK_PASID_ENTRY_PRESENT) ||
	    entry & ~(IOASID_MOCK_PASID_ENTRY_PRESENT |
		      IOASID_MOCK_PASID_ENTRY_ROOT))
		return;
	root = entry & IOASID_MOCK_PASID_ENTRY_ROOT;
	/* In 4 KiB chunks, each walked (from an IOVA canonical for 48 bits). */
	while (at < end) {
		__u64 page = at & ~(GUEST_TABLE_SIZE - 1), gpa;
		__u64 chunk = end - at;

		if (chunk > page + GUEST_TABLE_SIZE - at)
			chunk = page + GUEST_TABLE_SIZE - at;
		if ((__u64)((__s64)(at << 16) >> 16) != at ||
		    !fuzz_walk(f, root, page, write, &gpa))
			return;
		d->gpa[n] = gpa + (at - page);
		d->len[n++] = chunk;
		at += chunk;
	}
	d->fault = false;
}

/* Whether a DMA landing as @d reaches a unit marked in @map. */
static bool fuzz_reaches(const __u64 *map, const struct fuzz_dma *d)
{
	unsigned int c;
	__u64 i;

	for (c = 0; c != 2 && d->len[c]; c++)
		for (i = (d->gpa[c] - FUZZ_GPA) / 8;
		     i <= (d->gpa[c] + d->len[c] - 1 - FUZZ_GPA) / 8; i++)
			if (map[i / 64] & 1ULL << (i % 64))
				return true;
	return false;
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
	/* The upper half of the canonical space now and then. */
	if (rng_one_in(rng, 16))
		iova |= 0xffff800000000000ULL;
	return iova | rng_below(rng, GUEST_TABLE_SIZE);
}

/*
 * Request @i of thread @t: its own PASID's DMA, or one more: again in
 * the page of an earlier DMA (an IOTLB hit, maybe), another of its
 * PASIDs, or a PASID past the table or the device's.
 */
static void fuzz_request(struct fuzz *f, unsigned int t, unsigned int i)
{
	struct ioasid_test_dma_req *req = &f->req[t * FUZZ_REQS + i];
	__u64 *rng = &f->rng, iova = fuzz_iova(rng);
	__u32 pasid = t * FUZZ_OWN + i, len;

	if (i >= FUZZ_OWN) {
		unsigned int j = rng_below(rng, FUZZ_OWN);

		pasid = t * FUZZ_OWN + j;
		switch (rng_below(rng, 4)) {
		case 0:
		case 1:
			iova = (f->req[t * FUZZ_REQS + j].iova &
				~(GUEST_TABLE_SIZE - 1)) |
			       rng_below(rng, GUEST_TABLE_SIZE);
			break;
		case 2:
			pasid = rng_one_in(rng, 2) ? ~0U :
				FUZZ_PASIDS + rng_below(rng, 1U << 20);
			break;
		}
	}
	switch (rng_below(rng, 4)) {
	case 0:
		len = 1 + rng_below(rng, GUEST_TABLE_SIZE);
		break;
	case 1:
		len = 1 + rng_below(rng, 512);
		break;
	default:
		len = 1 + rng_below(rng, 64);
	}
	/* Past the top would be malformed, not a fault. */
	if (iova > ~0ULL - len)
		iova = ~0ULL - len;
	*req = (struct ioasid_test_dma_req){
		.iova = iova,
		.uptr = (uintptr_t)(f->bufs + (req - f->req) * GUEST_TABLE_SIZE),
		.length = len,
		.flags = (rng_one_in(rng, 2) ? IOASID_TEST_DMA_WRITE : 0) |
			 (pasid ? IOASID_TEST_DMA_PASID : 0),
		.pasid = pasid,
	};
}

/* Random requests for both threads, and what each must do. */
static void fuzz_plan(struct fuzz *f)
{
	unsigned int t, i, n;

	memset(f->walked, 0, FUZZ_SIZE / 64);
	for (t = 0; t != FUZZ_THREADS; t++) {
		memset(f->touched[t], 0, FUZZ_SIZE / 64);
		for (i = 0; i != FUZZ_REQS; i++) {
			const struct fuzz_dma *d = &f->plan[t * FUZZ_REQS + i];
			unsigned int c;
			__u64 off;

			fuzz_request(f, t, i);
			fuzz_predict(f, &f->req[t * FUZZ_REQS + i],
				     &f->plan[t * FUZZ_REQS + i]);
			for (c = 0; !d->fault && c != 2 && d->len[c]; c++)
				for (off = d->gpa[c] - FUZZ_GPA;
				     off < d->gpa[c] + d->len[c] - FUZZ_GPA;
				     off += 8 - off % 8)
					fuzz_mark(f->touched[t], off);
		}
	}

	/*
	 * The tables do not change during the batch, so what the IOMMU
	 * cached is what a walk reads; and neither thread changes a byte
	 * the other reaches, so each thread's DMAs, in order, are the model
	 * whatever the two threads interleave. A write that would break
	 * either writes the bytes that are there already: it still goes
	 * through the hostile table, and a write that lands elsewhere still
	 * shows.
	 */
	for (n = 0; n != FUZZ_DMAS; n++) {
		const struct ioasid_test_dma_req *req = &f->req[n];
		const struct fuzz_dma *d = &f->plan[n];
		__u8 *buf = f->bufs + n * GUEST_TABLE_SIZE;

		t = n / FUZZ_REQS;
		if (!(req->flags & IOASID_TEST_DMA_WRITE)) {
			memset(buf, 0x5a, req->length);
		} else if (!d->fault &&
			   (fuzz_reaches(f->walked, d) ||
			    fuzz_reaches(f->touched[!t], d))) {
			memcpy(buf, f->shadow + (d->gpa[0] - FUZZ_GPA),
			       d->len[0]);
			if (d->len[1])
				memcpy(buf + d->len[0],
				       f->shadow + (d->gpa[1] - FUZZ_GPA),
				       d->len[1]);
			f->same++;
		} else {
			memset(buf, rng_next(&f->rng) | 1, req->length);
		}
	}
}

/*
 * Binding the table again forgets every cached entry and translation of
 * the old tables: on the test kernel far cheaper than an invalidation
 * entry per PASID, each of which costs about as much as a DMA. Unbound,
 * the device reaches nothing.
 */
static int fuzz_rebind(struct fuzz_thread *th)
{
	__u8 byte;
	int ret;

	ret = _test_unbind_pasid_table(th->fd, th->child);
	if (!ret && _test_dma(th->fd, th->dev, 0, &byte, 1, false) != -EIO)
		ret = -EIO;
	ret = ret ?: _test_bind_pasid_table(th->fd, th->child, FUZZ_GPA,
					    FUZZ_PASID_BITS);
	if (!ret && iotlb_entries(th->fd, th->dev))
		ret = -EEXIST;
	return ret;
}

static void *fuzz_thread_fn(void *arg)
{
	struct fuzz_thread *th = arg;
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_DMA_BATCH,
		.dev_id = th->dev,
		.dma_batch = {
			.uptr = (uintptr_t)th->req,
			.num = FUZZ_REQS,
		},
	};

	th->ret = fuzz_rebind(th) ?: _test_cmd_mock(th->fd, &cmd);
	th->done = cmd.dma_batch.num;
	return NULL;
}

/* Both threads' rebinds and DMAs, at once. */
static void fuzz_dma(struct __test_metadata *_metadata, struct fuzz *f)
{
	struct fuzz_thread th[FUZZ_THREADS];
	pthread_t tid[FUZZ_THREADS];
	unsigned int t;

	for (t = 0; t != FUZZ_THREADS; t++) {
		th[t] = (struct fuzz_thread){
			.fd = f->fd,
			.child = f->child[t],
			.dev = f->dev[t],
			.req = &f->req[t * FUZZ_REQS],
		};
		if (t)
			ASSERT_EQ(0, pthread_create(&tid[t], NULL,
						    fuzz_thread_fn, &th[t]));
	}
	fuzz_thread_fn(&th[0]);
	for (t = 1; t != FUZZ_THREADS; t++)
		ASSERT_EQ(0, pthread_join(tid[t], NULL));
	for (t = 0; t != FUZZ_THREADS; t++) {
		ASSERT_EQ(0, th[t].ret);
		ASSERT_EQ(FUZZ_REQS, th[t].done);
	}
}

/*
 * Each answer is the model's; in each thread's order, writes land where
 * the model says and reads return what is there; faults move nothing.
 * Then guest RAM is exactly the shadow: nothing a translation could not
 * reach changed.
 */
static void fuzz_check(struct __test_metadata *_metadata, struct fuzz *f)
{
	unsigned int n, c;
	__u64 off;

	for (n = 0; n != FUZZ_DMAS; n++) {
		const struct ioasid_test_dma_req *req = &f->req[n];
		const struct fuzz_dma *d = &f->plan[n];
		__u8 *buf = f->bufs + n * GUEST_TABLE_SIZE;
		bool write = req->flags & IOASID_TEST_DMA_WRITE;
		bool ok = req->out_result == (d->fault ? -EIO : 0);
		__u32 done = 0;

		if (d->fault) {
			f->faults++;
			for (c = 0; ok && !write && c != req->length; c++)
				ok = buf[c] == 0x5a;
		} else {
			f->landed++;
		}
		for (c = 0; ok && !d->fault && c != 2 && d->len[c]; c++) {
			__u8 *at = f->shadow + (d->gpa[c] - FUZZ_GPA);

			if (write)
				memcpy(at, buf + done, d->len[c]);
			else
				ok = !memcmp(buf + done, at, d->len[c]);
			done += d->len[c];
		}
		if (!ok) {
			TH_LOG("IOASID_FUZZ_SEED=0x%llx batch %lu DMA %u: %s",
			       (unsigned long long)f->seed, f->batch, n,
			       d->fault ? "should fault" :
			       "the data differ from the model's");
			TH_LOG("%s of %u at 0x%llx, PASID %u: answered %d",
			       write ? "write" : "read", req->length,
			       (unsigned long long)req->iova, req->pasid,
			       req->out_result);
		}
		ASSERT_TRUE(ok);
	}
	if (memcmp(f->g.ram, f->shadow, FUZZ_SIZE)) {
		for (off = 0; f->g.ram[off] == f->shadow[off]; off++)
			;
		TH_LOG("IOASID_FUZZ_SEED=0x%llx batch %lu: GPA 0x%llx changed",
		       (unsigned long long)f->seed, f->batch,
		       (unsigned long long)(FUZZ_GPA + off));
		TH_LOG("where no DMA was to land");
		ASSERT_TRUE(0);
	}
}

/*
 * Guest tables are hostile input. Each batch writes new random tables
 * for every PASID of a bound PASID table (entries pointing anywhere in
 * guest RAM or past its end where the parent maps nothing, back at the
 * roots or the PASID table, with random permission, page-size, ignored
 * and reserved bits), binds it again so that the IOMMU caches nothing
 * of the old ones, and makes a random DMA of up to 4 KiB through each
 * PASID's table, and a few more, at random IOVAs, canonical or not. A
 * model of the walk says what each DMA must do, and it must: fault, or
 * land exactly where the model says and nowhere else in guest RAM; host
 * memory that the parent does not map never changes, nothing hangs, and
 * the kernel says nothing. The seed is the time unless IOASID_FUZZ_SEED
 * gives one; it is printed for replay.
 */
TEST_F_TIMEOUT(hwnest, hostile_tables_fuzz, 300)
{
	unsigned int i;
	struct fuzz f = { .fd = -1 };
	struct timespec t0, t;
	time_t start, batch_secs = 0;
	__u32 *ref0;
	__u8 *fence;
	long pin0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	f.seed = getenv("IOASID_FUZZ_SEED") ?
		 strtoull(getenv("IOASID_FUZZ_SEED"), NULL, 0) :
		 (__u64)t0.tv_nsec | 1;
	f.rng = f.seed;
	f.bufs = mmap(NULL, FUZZ_DMAS * GUEST_TABLE_SIZE,
		      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	fence = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f.bufs);
	ASSERT_NE(MAP_FAILED, fence);
	f.shadow = calloc(1, FUZZ_SIZE);
	f.walked = calloc(1, FUZZ_SIZE / 64);
	for (i = 0; i != FUZZ_THREADS; i++)
		f.touched[i] = calloc(1, FUZZ_SIZE / 64);
	f.req = calloc(FUZZ_DMAS, sizeof(*f.req));
	f.plan = calloc(FUZZ_DMAS, sizeof(*f.plan));
	ref0 = calloc(FUZZ_SIZE / PAGE_SIZE, sizeof(*ref0));
	ASSERT_TRUE(f.shadow && f.walked && f.touched[0] && f.touched[1] &&
		    f.req && f.plan && ref0);
	/* Host memory the parent does not map: out of every walk's reach. */
	memset(fence, 0xee, PAGE_SIZE);
	guest_ram_alloc(_metadata, self->fd, &f.g, FUZZ_GPA, FUZZ_SIZE, ref0,
			&pin0);

	f.fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, f.fd);
	test_ioctl_alloc(f.fd, &f.parent);
	test_ioctl_map(f.fd, f.parent, f.g.ram, FUZZ_GPA, FUZZ_SIZE);
	for (i = 0; i != FUZZ_THREADS; i++) {
		test_cmd(_test_ioctl_create_nesting(f.fd, f.parent,
						    IOASID_NESTING_HARDWARE,
						    &f.child[i]));
		test_cmd_mock_device_add(f.fd, IOASID_MOCK_INSTANCE_LARGE,
					 &f.dev[i]);
		test_cmd_attach(f.fd, f.dev[i], f.child[i]);
		test_cmd(_test_bind_pasid_table(f.fd, f.child[i], FUZZ_GPA,
						FUZZ_PASID_BITS));
	}

	for (f.batch = 1; f.tables < FUZZ_MIN_TABLES; f.batch++) {
		/* No batch may end past the deadline: as long as the last. */
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec + batch_secs >= FUZZ_SECONDS)
			break;
		start = t.tv_sec;
		fuzz_tables(&f);
		fuzz_plan(&f);
		fuzz_dma(_metadata, &f);
		fuzz_check(_metadata, &f);
		f.tables += FUZZ_PASIDS;
		clock_gettime(CLOCK_MONOTONIC, &t);
		batch_secs = t.tv_sec - start + 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (i = 0; i != PAGE_SIZE; i++)
		ASSERT_EQ(0xee, fence[i]);
	t.tv_sec -= t0.tv_sec;
	ksft_print_msg("%lu random tables in %ld s (%lu/s), IOASID_FUZZ_SEED=0x%llx\n",
		       f.tables, (long)t.tv_sec,
		       f.tables / (t.tv_sec ? t.tv_sec : 1),
		       (unsigned long long)f.seed);
	ksft_print_msg("%lu DMAs landed (%lu rewriting what was there), %lu faulted\n",
		       f.landed, f.same, f.faults);
	/* Closing the fd with the table bound releases every page. */
	ASSERT_EQ(0, close(f.fd));
	guest_ram_free(_metadata, &f.g, FUZZ_SIZE, ref0, pin0);
	ASSERT_LE(FUZZ_MIN_TABLES, f.tables);
	ASSERT_LT(0, f.landed);
	ASSERT_LT(0, f.faults);
	munmap(f.bufs, FUZZ_DMAS * GUEST_TABLE_SIZE);
	munmap(fence, PAGE_SIZE);
}

TEST_HARNESS_MAIN
