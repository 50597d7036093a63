// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests for software nesting (RFC 5.3): a child IOASID mapped from its
 * parent's IOVA (a guest physical address), the kernel composing child
 * IOVA -> parent IOVA -> memory into the child's page tables.
 *
 * The fixture maps the test buffer into the parent at GPA and creates one
 * child. Variants run it with no device, with a device on the parent and
 * one on the child behind one mock IOMMU instance, and with devices behind
 * both instances (different page sizes and apertures) on each; the last
 * once more with the buffer registered, where the child shares the
 * registration instead of taking pins of its own. Teardown
 * closes the fd and checks that every page of the buffer has its old
 * reference count and no pin, and that VmPin is back where it was: the
 * child's extra pins must all be gone.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "ioasid_utils.h"

#define BUF_PAGES 64
#define BUF_SIZE (BUF_PAGES * PAGE_SIZE)
#define GPA 0x100000UL			/* the buffer, in the parent */
#define GIOVA 0x40000000UL		/* where the child maps from it */
#define GPA_PAGE(n) (GPA + (n) * PAGE_SIZE)
#define GIOVA_PAGE(n) (GIOVA + (n) * PAGE_SIZE)

FIXTURE(nesting) {
	int fd;
	__u32 parent;
	__u32 child;
	unsigned int ndev;
	__u32 parent_dev[2];
	__u32 child_dev[2];
	__u8 *buf;
	__u32 ref0[BUF_PAGES];
	/* A page's count when only the registration (if any) holds it */
	__u32 ref_base[BUF_PAGES];
	bool registered;
	long pin0;
};

FIXTURE_VARIANT(nesting) {
	unsigned int ndev;
	__u32 instance[2];
	bool registered;
};

FIXTURE_VARIANT_ADD(nesting, no_device) {
	.ndev = 0,
};

FIXTURE_VARIANT_ADD(nesting, one_instance) {
	.ndev = 1,
	.instance = { IOASID_MOCK_INSTANCE_LARGE },
};

FIXTURE_VARIANT_ADD(nesting, two_instances) {
	.ndev = 2,
	.instance = { IOASID_MOCK_INSTANCE_LARGE, IOASID_MOCK_INSTANCE_SMALL },
};

FIXTURE_VARIANT_ADD(nesting, two_instances_registered) {
	.ndev = 2,
	.instance = { IOASID_MOCK_INSTANCE_LARGE, IOASID_MOCK_INSTANCE_SMALL },
	.registered = true,
};

FIXTURE_SETUP(nesting)
{
	__u32 ref;
	unsigned int i;

	self->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	if (page_ref(self->fd, &ref, &ref, NULL) == -ENOTTY)
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

	self->registered = variant->registered;
	if (self->registered)
		test_ioctl_register(self->fd, self->buf, BUF_SIZE);
	for (i = 0; i != BUF_PAGES; i++)
		ASSERT_EQ(0, page_ref(self->fd, self->buf + i * PAGE_SIZE,
				      &self->ref_base[i], NULL));
	test_ioctl_alloc(self->fd, &self->parent);
	test_ioctl_map(self->fd, self->parent, self->buf, GPA, BUF_SIZE);
	test_ioctl_create_nesting(self->fd, self->parent, &self->child);
	self->ndev = variant->ndev;
	for (i = 0; i != variant->ndev; i++) {
		test_cmd_mock_device_add(self->fd, variant->instance[i],
					 &self->parent_dev[i]);
		test_cmd_attach(self->fd, self->parent_dev[i], self->parent);
		test_cmd_mock_device_add(self->fd, variant->instance[i],
					 &self->child_dev[i]);
		test_cmd_attach(self->fd, self->child_dev[i], self->child);
	}
}

FIXTURE_TEARDOWN(nesting)
{
	if (!self->buf)
		return;
	close(self->fd);
	check_pages_released(self->buf, BUF_PAGES, self->ref0, self->pin0);
	munmap(self->buf, BUF_SIZE);
}

#define BUF_PAGE(n) (self->buf + (n) * PAGE_SIZE)

/* Every child device sees [giova, giova + len) as @va, or nothing. */
#define check_child_mapped(giova, va, len, prot)			\
	do {								\
		for (unsigned int __i = 0; __i != self->ndev; __i++)	\
			test_cmd_check_map(self->fd, self->child_dev[__i], \
					   giova, va, len, prot);	\
	} while (0)
#define check_child_unmapped(giova, len)				\
	do {								\
		for (unsigned int __i = 0; __i != self->ndev; __i++)	\
			test_cmd_check_unmapped(self->fd,		\
						self->child_dev[__i],	\
						giova, len);		\
	} while (0)

static __u64 revoked_of(int fd, __u32 ioasid)
{
	struct ioasid_cmd_get_info info;

	if (_test_ioctl_get_info(fd, ioasid, &info, NULL, 0))
		return ~0ULL;
	return info.out_revoked;
}

static __u32 page_refcount(int fd, void *va)
{
	__u32 ref = 0;

	page_ref(fd, va, &ref, NULL);
	return ref;
}

TEST_F(nesting, create_rules)
{
	struct ioasid_cmd_create_nesting cmd = {
		.size = sizeof(cmd),
		.parent = self->parent,
		.kind = IOASID_NESTING_SOFTWARE,
	};
	__u32 supported = 0, hw;

	test_ioctl_check_extension(self->fd, IOASID_EXT_NESTING_SOFTWARE,
				   &supported);
	ASSERT_EQ(1, supported);
	test_err_cmd(EINVAL, _test_ioctl_create_nesting(self->fd, self->parent,
							IOASID_NESTING_NONE,
							NULL));
	test_err_cmd(EINVAL, _test_ioctl_create_nesting(self->fd, self->parent,
							99, NULL));
	/* The other kind is there too; whether devices can use it is theirs. */
	test_cmd(_test_ioctl_create_nesting(self->fd, self->parent,
					    IOASID_NESTING_HARDWARE, &hw));
	test_ioctl_free(self->fd, hw);
	test_err_cmd(ENOENT, _test_ioctl_create_nesting(self->fd, 0xdead,
							IOASID_NESTING_SOFTWARE,
							NULL));
	/* One level only: a child is no parent. */
	test_err_cmd(EINVAL, _test_ioctl_create_nesting(self->fd, self->child,
							IOASID_NESTING_SOFTWARE,
							NULL));
	cmd.flags = 1;
	test_err_cmd(EOPNOTSUPP,
		     ioasid_ioctl(self->fd, IOASID_CREATE_NESTING, &cmd));
	cmd.flags = 0;
	cmd.__reserved = 1;
	test_err_cmd(EOPNOTSUPP,
		     ioasid_ioctl(self->fd, IOASID_CREATE_NESTING, &cmd));
	/* Device ids are not IOASIDs. */
	if (self->ndev)
		test_err_cmd(ENOENT,
			     _test_ioctl_create_nesting(self->fd,
							self->parent_dev[0],
							IOASID_NESTING_SOFTWARE,
							NULL));
}

TEST_F(nesting, get_info)
{
	struct ioasid_cmd_get_info info;
	__u32 second;

	test_ioctl_get_info(self->fd, self->child, &info, NULL, 0);
	ASSERT_EQ(self->parent, info.out_parent);
	ASSERT_EQ(IOASID_NESTING_SOFTWARE, info.out_nesting);
	ASSERT_EQ(0, info.out_num_children);
	ASSERT_EQ(0, info.out_revoked);
	ASSERT_EQ(self->ndev, info.out_num_devices);
	/* Its usable ranges are its own devices', not the parent's. */
	ASSERT_LE(1, info.num_iova_ranges);

	test_ioctl_get_info(self->fd, self->parent, &info, NULL, 0);
	ASSERT_EQ(0, info.out_parent);
	ASSERT_EQ(IOASID_NESTING_NONE, info.out_nesting);
	ASSERT_EQ(1, info.out_num_children);

	test_ioctl_create_nesting(self->fd, self->parent, &second);
	test_ioctl_get_info(self->fd, self->parent, &info, NULL, 0);
	ASSERT_EQ(2, info.out_num_children);
	test_ioctl_free(self->fd, second);
	test_ioctl_get_info(self->fd, self->parent, &info, NULL, 0);
	ASSERT_EQ(1, info.out_num_children);

	/* A non-zero reserved field is refused. */
	info = (struct ioasid_cmd_get_info){
		.size = sizeof(info),
		.ioasid = self->child,
		.__reserved2 = 1,
	};
	test_err_cmd(EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_GET_INFO,
					      &info));
}

/* Composed: child IOVA -> GPA -> the buffer's pages; pinned only once. */
TEST_F(nesting, map_from_parent)
{
	long pin = vm_pinned_kb();
	__u32 ref, pinned;

	test_ioctl_map_from_parent(self->fd, self->child, GPA_PAGE(4), GIOVA,
				   8 * PAGE_SIZE);
	check_child_mapped(GIOVA, BUF_PAGE(4), 8 * PAGE_SIZE, MOCK_PROT_RW);
	check_child_unmapped(GIOVA - PAGE_SIZE, PAGE_SIZE);
	check_child_unmapped(GIOVA_PAGE(8), PAGE_SIZE);
	/* Charged once: the parent's map did; the child's adds nothing. */
	ASSERT_EQ(pin, vm_pinned_kb());
	/*
	 * One more pin on each page used, none on its neighbours; or none
	 * at all where the child shares the registration.
	 */
	ASSERT_EQ(0, page_ref(self->fd, BUF_PAGE(4), &ref, &pinned));
	ASSERT_EQ(1, pinned);
	ASSERT_LE(page_refcount(self->fd, BUF_PAGE(3)), ref);
	ASSERT_EQ(self->registered,
		  page_refcount(self->fd, BUF_PAGE(3)) == ref);
	/* The parent's own devices are untouched. */
	for (unsigned int i = 0; i != self->ndev; i++)
		test_cmd_check_map(self->fd, self->parent_dev[i], GPA,
				   self->buf, BUF_SIZE, MOCK_PROT_RW);
}

/* A vIOMMU's typical pattern: single pages, scattered, in any order. */
TEST_F(nesting, map_scattered_pages)
{
	static const unsigned int gpa_page[] = { 17, 3, 63, 0, 40, 41, 8 };
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(gpa_page); i++)
		test_ioctl_map_from_parent(self->fd, self->child,
					   GPA_PAGE(gpa_page[i]),
					   GIOVA + i * 0x100000UL, PAGE_SIZE);
	for (i = 0; i != ARRAY_SIZE(gpa_page); i++)
		check_child_mapped(GIOVA + i * 0x100000UL,
				   BUF_PAGE(gpa_page[i]), PAGE_SIZE,
				   MOCK_PROT_RW);
}

TEST_F(nesting, map_bad_input)
{
	long pin = vm_pinned_kb();

	/* Only a software-nested IOASID maps from a parent... */
	test_err_cmd(EINVAL, _test_ioctl_map_from_parent(self->fd,
							 self->parent, GPA,
							 GIOVA, PAGE_SIZE,
							 MAP_RW));
	/* ... and it maps from nothing else: user memory is refused. */
	test_err_ioctl_map(EINVAL, self->fd, self->child, self->buf, GIOVA,
			   PAGE_SIZE);
	/* Source past the parent's mapping, or straddling its end. */
	test_err_ioctl_map_from_parent(ENXIO, self->fd, self->child,
				       GPA + BUF_SIZE, GIOVA, PAGE_SIZE);
	test_err_ioctl_map_from_parent(ENXIO, self->fd, self->child,
				       GPA_PAGE(BUF_PAGES - 1), GIOVA,
				       2 * PAGE_SIZE);
	test_err_ioctl_map_from_parent(ENXIO, self->fd, self->child,
				       GPA - PAGE_SIZE, GIOVA, 2 * PAGE_SIZE);
	/* Misaligned source, IOVA or length; zero length. */
	test_err_ioctl_map_from_parent(EINVAL, self->fd, self->child, GPA + 1,
				       GIOVA, PAGE_SIZE);
	test_err_ioctl_map_from_parent(EINVAL, self->fd, self->child, GPA,
				       GIOVA + 1, PAGE_SIZE);
	test_err_ioctl_map_from_parent(EINVAL, self->fd, self->child, GPA,
				       GIOVA, PAGE_SIZE + 1);
	test_err_ioctl_map_from_parent(EINVAL, self->fd, self->child, GPA,
				       GIOVA, 0);
	/* Wrapping source or IOVA. */
	test_err_ioctl_map_from_parent(EOVERFLOW, self->fd, self->child,
				       -PAGE_SIZE, GIOVA, 2 * PAGE_SIZE);
	test_err_ioctl_map_from_parent(EOVERFLOW, self->fd, self->child, GPA,
				       -PAGE_SIZE, 2 * PAGE_SIZE);
	/* No access asked for. */
	test_err_cmd(EINVAL, _test_ioctl_map_from_parent(self->fd, self->child,
							 GPA, GIOVA, PAGE_SIZE,
							 0));
	/* Overlapping an existing child mapping. */
	test_ioctl_map_from_parent(self->fd, self->child, GPA, GIOVA,
				   2 * PAGE_SIZE);
	test_err_ioctl_map_from_parent(EEXIST, self->fd, self->child,
				       GPA_PAGE(10), GIOVA_PAGE(1),
				       2 * PAGE_SIZE);

	/* None of the refusals changed anything. */
	check_child_mapped(GIOVA, self->buf, 2 * PAGE_SIZE, MOCK_PROT_RW);
	check_child_unmapped(GIOVA_PAGE(2), 8 * PAGE_SIZE);
	ASSERT_EQ(pin, vm_pinned_kb());
	ASSERT_EQ(0, revoked_of(self->fd, self->child));
	/* Page 10 carries the parent's pin alone, like its neighbour. */
	ASSERT_EQ(page_refcount(self->fd, BUF_PAGE(11)),
		  page_refcount(self->fd, BUF_PAGE(10)));
}

/* The child gets no access the parent does not grant. */
TEST_F(nesting, read_only_parent)
{
	__u8 *ro = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const __u64 ro_gpa = 0x10000000UL;

	ASSERT_NE(MAP_FAILED, ro);
	ro[0] = 1;
	test_cmd(_test_ioctl_map(self->fd, self->parent, ro, ro_gpa, PAGE_SIZE,
				 IOASID_DMA_MAP_READ));
	test_err_cmd(EACCES, _test_ioctl_map_from_parent(self->fd, self->child,
							 ro_gpa, GIOVA,
							 PAGE_SIZE,
							 IOASID_DMA_MAP_WRITE));
	test_err_cmd(EACCES, _test_ioctl_map_from_parent(self->fd, self->child,
							 ro_gpa, GIOVA,
							 PAGE_SIZE, MAP_RW));
	check_child_unmapped(GIOVA, PAGE_SIZE);
	test_cmd(_test_ioctl_map_from_parent(self->fd, self->child, ro_gpa,
					     GIOVA, PAGE_SIZE,
					     IOASID_DMA_MAP_READ));
	check_child_mapped(GIOVA, ro, PAGE_SIZE, IOASID_TEST_PROT_READ);
	/* Narrower than the parent is fine: write-only from read-write. */
	test_cmd(_test_ioctl_map_from_parent(self->fd, self->child, GPA,
					     GIOVA_PAGE(1), PAGE_SIZE,
					     IOASID_DMA_MAP_WRITE));
	check_child_mapped(GIOVA_PAGE(1), self->buf, PAGE_SIZE,
			   IOASID_TEST_PROT_WRITE);
	/* The teardown checks the buffer; this page is checked here. */
	test_cmd(_test_ioctl_unmap(self->fd, self->child, 0, 0,
				   IOASID_DMA_UNMAP_ALL, NULL));
	test_cmd(_test_ioctl_unmap(self->fd, self->parent, ro_gpa, PAGE_SIZE,
				   0, NULL));
	munmap(ro, PAGE_SIZE);
}

/* One child map may span several parent mappings, but no gap. */
TEST_F(nesting, map_spans_parent_mappings)
{
	const __u64 gpa2 = GPA + BUF_SIZE;	/* right after the buffer */
	__u8 *other = mmap(NULL, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, other);
	memset(other, 1, 4 * PAGE_SIZE);
	test_ioctl_map(self->fd, self->parent, other, gpa2, 2 * PAGE_SIZE);
	test_ioctl_map_from_parent(self->fd, self->child,
				   GPA_PAGE(BUF_PAGES - 2), GIOVA,
				   4 * PAGE_SIZE);
	check_child_mapped(GIOVA, BUF_PAGE(BUF_PAGES - 2), 2 * PAGE_SIZE,
			   MOCK_PROT_RW);
	check_child_mapped(GIOVA_PAGE(2), other, 2 * PAGE_SIZE, MOCK_PROT_RW);

	/* A hole after gpa2's two pages, then more: refused whole. */
	test_ioctl_map(self->fd, self->parent, other + 3 * PAGE_SIZE,
		       gpa2 + 3 * PAGE_SIZE, PAGE_SIZE);
	test_err_ioctl_map_from_parent(ENXIO, self->fd, self->child, gpa2,
				       GIOVA_PAGE(16), 4 * PAGE_SIZE);
	check_child_unmapped(GIOVA_PAGE(16), 4 * PAGE_SIZE);

	/* The pieces unmap as one range from the child. */
	test_ioctl_unmap(self->fd, self->child, GIOVA, 4 * PAGE_SIZE,
			 4 * PAGE_SIZE);
	check_child_unmapped(GIOVA, 4 * PAGE_SIZE);
	test_cmd(_test_ioctl_unmap(self->fd, self->parent, gpa2,
				   4 * PAGE_SIZE, 0, NULL));
	munmap(other, 4 * PAGE_SIZE);
}

/*
 * A parent unmap takes every child mapping that uses the range away,
 * whole, before it returns; the child counts it. Others stay.
 */
TEST_F(nesting, parent_unmap_revokes_child)
{
	test_ioctl_map_from_parent(self->fd, self->child, GPA, GIOVA,
				   8 * PAGE_SIZE);
	test_ioctl_map_from_parent(self->fd, self->child, GPA_PAGE(20),
				   GIOVA_PAGE(100), 2 * PAGE_SIZE);

	test_ioctl_unmap(self->fd, self->parent, GPA_PAGE(2), PAGE_SIZE,
			 PAGE_SIZE);
	check_child_unmapped(GIOVA, 8 * PAGE_SIZE);
	ASSERT_EQ(8 * PAGE_SIZE, revoked_of(self->fd, self->child));
	check_child_mapped(GIOVA_PAGE(100), BUF_PAGE(20), 2 * PAGE_SIZE,
			   MOCK_PROT_RW);
	/* The parent lost only the page it unmapped. */
	for (unsigned int i = 0; i != self->ndev; i++) {
		test_cmd_check_unmapped(self->fd, self->parent_dev[i],
					GPA_PAGE(2), PAGE_SIZE);
		test_cmd_check_map(self->fd, self->parent_dev[i], GPA_PAGE(3),
				   BUF_PAGE(3), PAGE_SIZE, MOCK_PROT_RW);
	}
	/* Nothing holds the unmapped page any more. */
	ASSERT_EQ(self->ref_base[2], page_refcount(self->fd, BUF_PAGE(2)));
	/* Nor those the child lost but the parent keeps, beyond its pin. */
	test_ioctl_unmap(self->fd, self->parent, GPA_PAGE(3), PAGE_SIZE,
			 PAGE_SIZE);
	ASSERT_EQ(self->ref_base[3], page_refcount(self->fd, BUF_PAGE(3)));
	ASSERT_EQ(8 * PAGE_SIZE, revoked_of(self->fd, self->child));
}

TEST_F(nesting, parent_unmap_all_revokes_child)
{
	__u64 unmapped = 0;

	test_ioctl_map_from_parent(self->fd, self->child, GPA, GIOVA,
				   4 * PAGE_SIZE);
	test_ioctl_map_from_parent(self->fd, self->child, GPA_PAGE(30),
				   GIOVA_PAGE(64), PAGE_SIZE);
	test_cmd(_test_ioctl_unmap(self->fd, self->parent, 0, 0,
				   IOASID_DMA_UNMAP_ALL, &unmapped));
	ASSERT_EQ(BUF_SIZE, unmapped);
	check_child_unmapped(GIOVA, 4 * PAGE_SIZE);
	check_child_unmapped(GIOVA_PAGE(64), PAGE_SIZE);
	ASSERT_EQ(5 * PAGE_SIZE, revoked_of(self->fd, self->child));
	for (unsigned int i = 0; i != BUF_PAGES; i++)
		ASSERT_EQ(self->ref_base[i], page_refcount(self->fd, BUF_PAGE(i)));
	/* The child itself is still there, empty and usable. */
	test_ioctl_map(self->fd, self->parent, self->buf, GPA, PAGE_SIZE);
	test_ioctl_map_from_parent(self->fd, self->child, GPA, GIOVA,
				   PAGE_SIZE);
	check_child_mapped(GIOVA, self->buf, PAGE_SIZE, MOCK_PROT_RW);
}

/* A GPA mapped again to other memory: the child never sees the old. */
TEST_F(nesting, parent_remap)
{
	__u8 *other = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, other);
	other[0] = 2;
	test_ioctl_map_from_parent(self->fd, self->child, GPA_PAGE(5), GIOVA,
				   PAGE_SIZE);
	test_ioctl_unmap(self->fd, self->parent, GPA_PAGE(5), PAGE_SIZE,
			 PAGE_SIZE);
	test_ioctl_map(self->fd, self->parent, other, GPA_PAGE(5), PAGE_SIZE);
	check_child_unmapped(GIOVA, PAGE_SIZE);
	ASSERT_EQ(self->ref_base[5], page_refcount(self->fd, BUF_PAGE(5)));

	test_ioctl_map_from_parent(self->fd, self->child, GPA_PAGE(5), GIOVA,
				   PAGE_SIZE);
	check_child_mapped(GIOVA, other, PAGE_SIZE, MOCK_PROT_RW);
	test_cmd(_test_ioctl_unmap(self->fd, self->child, 0, 0,
				   IOASID_DMA_UNMAP_ALL, NULL));
	test_cmd(_test_ioctl_unmap(self->fd, self->parent, GPA_PAGE(5),
				   PAGE_SIZE, 0, NULL));
	munmap(other, PAGE_SIZE);
}

/* The child cuts its own mappings like any IOASID; the parent keeps all. */
TEST_F(nesting, child_partial_unmap)
{
	__u32 ref, pinned;

	test_ioctl_map_from_parent(self->fd, self->child, GPA, GIOVA,
				   8 * PAGE_SIZE);
	test_ioctl_unmap(self->fd, self->child, GIOVA_PAGE(3), 2 * PAGE_SIZE,
			 2 * PAGE_SIZE);
	check_child_mapped(GIOVA, self->buf, 3 * PAGE_SIZE, MOCK_PROT_RW);
	check_child_unmapped(GIOVA_PAGE(3), 2 * PAGE_SIZE);
	check_child_mapped(GIOVA_PAGE(5), BUF_PAGE(5), 3 * PAGE_SIZE,
			   MOCK_PROT_RW);
	/* The cut pages lost the child's pin at once, not the parent's. */
	ASSERT_EQ(0, page_ref(self->fd, BUF_PAGE(3), &ref, &pinned));
	ASSERT_EQ(1, pinned);
	ASSERT_LE(ref, page_refcount(self->fd, BUF_PAGE(2)));
	ASSERT_EQ(self->registered,
		  ref == page_refcount(self->fd, BUF_PAGE(2)));
	ASSERT_EQ(0, revoked_of(self->fd, self->child));

	/* A parent unmap of a page under one piece takes just that piece. */
	test_ioctl_unmap(self->fd, self->parent, GPA_PAGE(6), PAGE_SIZE,
			 PAGE_SIZE);
	check_child_unmapped(GIOVA_PAGE(5), 3 * PAGE_SIZE);
	check_child_mapped(GIOVA, self->buf, 3 * PAGE_SIZE, MOCK_PROT_RW);
	ASSERT_EQ(3 * PAGE_SIZE, revoked_of(self->fd, self->child));
}

TEST_F(nesting, free_rules)
{
	__u32 child2;

	test_ioctl_map_from_parent(self->fd, self->child, GPA, GIOVA,
				   PAGE_SIZE);
	/* A parent with children cannot go. */
	test_err_ioctl_free(EBUSY, self->fd, self->parent);
	/* A child with devices attached cannot either. */
	if (self->ndev) {
		test_err_ioctl_free(EBUSY, self->fd, self->child);
		for (unsigned int i = 0; i != self->ndev; i++)
			test_cmd_detach(self->fd, self->child_dev[i]);
	}
	/* A child with mappings can: its pins go with it. */
	test_ioctl_free(self->fd, self->child);
	test_err_ioctl_free(ENOENT, self->fd, self->child);
	test_ioctl_create_nesting(self->fd, self->parent, &child2);
	test_err_ioctl_free(EBUSY, self->fd, self->parent);
	test_ioctl_free(self->fd, child2);
	for (unsigned int i = 0; i != self->ndev; i++)
		test_cmd_detach(self->fd, self->parent_dev[i]);
	test_ioctl_free(self->fd, self->parent);
	for (unsigned int i = 0; i != BUF_PAGES; i++)
		ASSERT_EQ(self->ref_base[i], page_refcount(self->fd, BUF_PAGE(i)));
}

/* A device moves from parent to child and back with mappings in place. */
TEST_F(nesting, device_moves_between_parent_and_child)
{
	if (!self->ndev) {
		test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_LARGE,
					 &self->parent_dev[0]);
		test_cmd_attach(self->fd, self->parent_dev[0], self->parent);
	}
	test_ioctl_map_from_parent(self->fd, self->child, GPA_PAGE(9), GIOVA,
				   PAGE_SIZE);
	test_cmd_detach(self->fd, self->parent_dev[0]);
	test_cmd_attach(self->fd, self->parent_dev[0], self->child);
	test_cmd_check_map(self->fd, self->parent_dev[0], GIOVA, BUF_PAGE(9),
			   PAGE_SIZE, MOCK_PROT_RW);
	test_cmd_detach(self->fd, self->parent_dev[0]);
	test_cmd_attach(self->fd, self->parent_dev[0], self->parent);
	test_cmd_check_map(self->fd, self->parent_dev[0], GPA, self->buf,
			   BUF_SIZE, MOCK_PROT_RW);
}

/* A device attached later gets the child's mappings replayed. */
TEST_F(nesting, attach_after_map)
{
	__u32 dev;

	test_ioctl_map_from_parent(self->fd, self->child, GPA, GIOVA,
				   4 * PAGE_SIZE);
	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_SMALL, &dev);
	test_cmd_attach(self->fd, dev, self->child);
	test_cmd_check_map(self->fd, dev, GIOVA, self->buf, 4 * PAGE_SIZE,
			   MOCK_PROT_RW);
	test_ioctl_unmap(self->fd, self->parent, GPA, PAGE_SIZE, PAGE_SIZE);
	test_cmd_check_unmapped(self->fd, dev, GIOVA, 4 * PAGE_SIZE);
}

/*
 * Threads map and unmap the parent, map and unmap the child, and move a
 * device between them, all at once. Lockdep and the teardown's page
 * counts are the judges.
 */
struct race {
	int fd;
	__u32 parent, child, dev;
	__u8 *buf;
	atomic_bool stop;
	atomic_uint ops;
};

#define RACE_PAGES 16

static void *race_parent(void *arg)
{
	struct race *r = arg;
	__u64 rng = 1;

	while (!atomic_load(&r->stop)) {
		unsigned int page = rng_below(&rng, RACE_PAGES);

		_test_ioctl_unmap(r->fd, r->parent, GPA_PAGE(page), PAGE_SIZE,
				  0, NULL);
		_test_ioctl_map(r->fd, r->parent, r->buf + page * PAGE_SIZE,
				GPA_PAGE(page), PAGE_SIZE, MAP_RW);
		atomic_fetch_add(&r->ops, 2);
	}
	return NULL;
}

static void *race_child(void *arg)
{
	struct race *r = arg;
	__u64 rng = 2;

	while (!atomic_load(&r->stop)) {
		unsigned int page = rng_below(&rng, RACE_PAGES);
		unsigned int n = 1 + rng_below(&rng, 4);

		_test_ioctl_map_from_parent(r->fd, r->child, GPA_PAGE(page),
					    GIOVA_PAGE(page), n * PAGE_SIZE,
					    MAP_RW);
		_test_ioctl_unmap(r->fd, r->child,
				  GIOVA_PAGE(rng_below(&rng, RACE_PAGES)),
				  n * PAGE_SIZE, 0, NULL);
		atomic_fetch_add(&r->ops, 2);
	}
	return NULL;
}

static void *race_device(void *arg)
{
	struct race *r = arg;
	__u64 rng = 3;

	while (!atomic_load(&r->stop)) {
		__u32 to = rng_one_in(&rng, 2) ? r->parent : r->child;

		if (!_test_cmd_attach(r->fd, r->dev, to))
			_test_cmd_detach(r->fd, r->dev);
		atomic_fetch_add(&r->ops, 2);
	}
	return NULL;
}

TEST_F(nesting, concurrent_parent_child_device)
{
	void *(*fn[])(void *) = { race_parent, race_child, race_child,
				  race_device };
	pthread_t threads[ARRAY_SIZE(fn)];
	struct race r = { .fd = self->fd, .parent = self->parent,
			  .child = self->child, .buf = self->buf };
	unsigned int i;

	test_cmd_mock_device_add(self->fd, IOASID_MOCK_INSTANCE_LARGE, &r.dev);
	for (i = 0; i != ARRAY_SIZE(fn); i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, fn[i], &r));
	sleep(3);
	atomic_store(&r.stop, true);
	for (i = 0; i != ARRAY_SIZE(fn); i++)
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
	ksft_print_msg("%u operations\n", atomic_load(&r.ops));
	ASSERT_LT(100, atomic_load(&r.ops));
	/*
	 * The child only ever mapped GIOVA page n from GPA page n, which the
	 * parent only ever mapped to buffer page n: each child page is that
	 * page or nothing, never a stale one.
	 */
	test_cmd_attach(self->fd, r.dev, self->child);
	for (i = 0; i != RACE_PAGES + 3; i++)
		if (_test_cmd_check_map(self->fd, r.dev, GIOVA_PAGE(i),
					BUF_PAGE(i), PAGE_SIZE, MOCK_PROT_RW,
					NULL, true))
			test_cmd_check_unmapped(self->fd, r.dev, GIOVA_PAGE(i),
						PAGE_SIZE);
}

TEST_HARNESS_MAIN
