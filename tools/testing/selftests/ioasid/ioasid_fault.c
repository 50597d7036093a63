// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests for I/O page faults (RFC 5.6) on the mock IOMMU: a device
 * that asks for pages (PCI PRI) faults in a first stage the guest owns,
 * the kernel posts its page request group to the fault ring of the
 * IOASID it faulted in, the guest maps the pages, invalidates, and the
 * VMM answers through IOASID_PAGE_RESPONSE; the device then retries.
 *
 * Guest RAM is mapped at GPA by a parent IOASID; VT-d first stages are
 * built in it, and hardware-nested children bind them: "s1" for a
 * device's untagged DMA (its RID), "gva" for a guest process, attached
 * under a PASID of another device. A DMA that asks for pages blocks
 * until its group is answered, so each is issued from a thread of its
 * own (struct fault_dma) while the test thread serves the ring, waiting
 * on the eventfd with a timeout: a group nobody answers fails the test
 * instead of hanging it. Teardown frees whatever ring is left, which
 * answers every group, joins the DMAs, closes the fd and checks that no
 * page of guest RAM is still pinned.
 */
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/vfio.h>

#include "ioasid_utils.h"

#define RAM_PAGES 64
#define RAM_SIZE (RAM_PAGES * PAGE_SIZE)
#define GPA 0x200000UL		/* guest RAM, in the parent */
#define TABLE_PAGES 32		/* guest RAM pages 0-31 hold page tables */
#define DATA_PAGE(n) (TABLE_PAGES + (n))	/* the rest is data */
#define GIOVA 0x7f0000000000UL	/* high, so the walk uses every level */
#define PASID 7			/* the guest process's */
#define MAX_DMAS 8
#define GROUP_MAX 8		/* pages a mock page request group asks for */
/* What must happen (a record posted, a DMA returning) happens by then. */
#define WAIT_MS 5000
/* How long a DMA that must still wait is watched waiting. */
#define BLOCKED_MS 200

struct vm {
	int fd;
	struct guest g;
	__u32 parent;
	__u32 s1;		/* hardware-nested: dev's untagged DMA */
	__u32 gva;		/* hardware-nested: dev2's PASID */
	__u64 root_s1, root_gva;
	__u32 dev, dev2, small_dev;
	struct fault_ring ring;
	struct fault_dma dma[MAX_DMAS];
	__u32 ref0[RAM_PAGES];
	long pin0;
};

#define DATA(n) (vm->g.ram + DATA_PAGE(n) * PAGE_SIZE)
#define DATA_GPA(n) (GPA + DATA_PAGE(n) * PAGE_SIZE)

/* False if the kernel has no test ioctl: the caller skips. */
static bool vm_setup(struct __test_metadata *_metadata, struct vm *vm)
{
	unsigned int i;
	__u32 ref;

	vm->ring.efd = -1;
	vm->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, vm->fd);
	if (page_ref(vm->fd, &ref, &ref, NULL) == -ENOTTY)
		return false;
	vm->g.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, vm->g.ram);
	vm->g.gpa = GPA;
	memset(vm->g.ram, 0, RAM_SIZE);
	for (i = 0; i != RAM_PAGES; i++)
		ASSERT_EQ(0, page_ref(vm->fd, vm->g.ram + i * PAGE_SIZE,
				      &vm->ref0[i], NULL));
	vm->pin0 = vm_pinned_kb();
	/* Empty first stages: every page faults until the guest maps it. */
	vm->root_s1 = guest_alloc_table(&vm->g);
	vm->root_gva = guest_alloc_table(&vm->g);

	test_ioctl_alloc(vm->fd, &vm->parent);
	test_ioctl_map(vm->fd, vm->parent, vm->g.ram, GPA, RAM_SIZE);
	test_cmd(_test_ioctl_create_nesting(vm->fd, vm->parent,
					    IOASID_NESTING_HARDWARE, &vm->s1));
	test_cmd(_test_ioctl_create_nesting(vm->fd, vm->parent,
					    IOASID_NESTING_HARDWARE, &vm->gva));
	test_cmd_mock_device_add(vm->fd, IOASID_MOCK_INSTANCE_LARGE, &vm->dev);
	test_cmd_mock_device_add(vm->fd, IOASID_MOCK_INSTANCE_LARGE,
				 &vm->dev2);
	test_cmd_mock_device_add(vm->fd, IOASID_MOCK_INSTANCE_SMALL,
				 &vm->small_dev);
	return true;
}

/*
 * A test that stopped half way may leave DMAs waiting: freeing the ring
 * answers them, so they are joined before the fd goes. Then whatever is
 * left goes with the fd, and every page with it.
 */
static void vm_teardown(struct __test_metadata *_metadata, struct vm *vm)
{
	bool stuck = false;
	unsigned int i;

	if (!vm->g.ram)
		return;
	for (i = 0; i != MAX_DMAS; i++)
		if (vm->dma[i].running && vm->ring.id && vm->fd >= 0) {
			fault_ring_close(&vm->ring, true);
			break;
		}
	for (i = 0; i != MAX_DMAS; i++)
		if (!fault_dma_join(&vm->dma[i], WAIT_MS)) {
			TH_LOG("DMA %u never returned", i);
			stuck = true;
		}
	fault_ring_close(&vm->ring, vm->fd >= 0);
	ASSERT_FALSE(stuck);
	if (vm->fd >= 0)
		close(vm->fd);
	check_pages_released(vm->g.ram, RAM_PAGES, vm->ref0, vm->pin0);
	munmap(vm->g.ram, RAM_SIZE);
}

/* dev's untagged DMA walks the guest's table at root_s1. */
static void attach_rid(struct __test_metadata *_metadata, struct vm *vm)
{
	test_cmd_attach(vm->fd, vm->dev, vm->s1);
	test_cmd(_test_bind(vm->fd, vm->s1, IOASID_PGTABLE_VTD_S1,
			    vm->root_s1, 48));
}

/*
 * dev2's DMA tagged with PASID walks the process's table at root_gva;
 * its untagged DMA stays on GPAs, as the guest's DMA API wants.
 */
static void attach_pasid(struct __test_metadata *_metadata, struct vm *vm)
{
	test_cmd_attach(vm->fd, vm->dev2, vm->parent);
	test_cmd_attach_pasid(vm->fd, vm->dev2, vm->gva, PASID);
	test_cmd(_test_bind(vm->fd, vm->gva, IOASID_PGTABLE_VTD_S1,
			    vm->root_gva, 48));
}

/* A ring of @entries records over both children. */
static void open_ring(struct __test_metadata *_metadata, struct vm *vm,
		      __u32 entries)
{
	__u32 ids[] = { vm->s1, vm->gva };

	test_cmd(fault_ring_open(vm->fd, entries, ids, ARRAY_SIZE(ids),
				 &vm->ring));
}

/* Start DMA @i: @dev moves @len bytes between @buf and @iova. */
static void start_dma(struct __test_metadata *_metadata, struct vm *vm,
		      unsigned int i, __u32 dev, __u32 pasid, __u64 iova,
		      void *buf, __u32 len, bool write)
{
	struct fault_dma *d = &vm->dma[i];

	ASSERT_FALSE(d->running);
	*d = (struct fault_dma){
		.fd = vm->fd,
		.vfio_fd = -1,
		.dev = dev,
		.pasid = pasid,
		.iova = iova,
		.buf = buf,
		.len = len,
		.write = write,
	};
	test_cmd(fault_dma_start(d));
}

/* DMA @i returns, with @expect, within WAIT_MS. */
#define dma_returns(i, expect)						\
	({								\
		struct fault_dma *__d = &vm->dma[i];			\
									\
		ASSERT_TRUE(fault_dma_join(__d, WAIT_MS));		\
		ASSERT_EQ(expect, __d->ret);				\
	})

/* DMA @i is still waiting for its answer, BLOCKED_MS from now. */
#define dma_waits(i) ASSERT_FALSE(fault_dma_join(&vm->dma[i], BLOCKED_MS))

/* The next record, which must come within WAIT_MS. */
#define next_record(rec) \
	test_cmd(fault_ring_next(&vm->ring, rec, WAIT_MS))

/* Nothing more was posted, nor is waiting to be read. */
#define ring_empty() ASSERT_EQ(0, fault_ring_pending(&vm->ring))

/*
 * At least @n records wait in the ring, within WAIT_MS, none of them read:
 * the ring stays as full as the kernel made it.
 */
static bool wait_pending(struct fault_ring *r, __u32 n)
{
	unsigned int ms;

	for (ms = 0; ms != WAIT_MS && fault_ring_pending(r) < n; ms++)
		usleep(1000);
	return fault_ring_pending(r) >= n;
}

/* A fresh pattern for each buffer, so no stale byte passes. */
static void fill_pattern(__u8 *buf, size_t len)
{
	static __u8 seq;
	size_t i;

	seq += 37;
	for (i = 0; i != len; i++)
		buf[i] = seq + i * 7 + 1;
}

/*
 * One page request, field by field; @flags holds the flags it must have
 * besides LAST_IN_GROUP, which the caller checks against the group.
 */
static void check_record(struct __test_metadata *_metadata,
			 const struct ioasid_fault_record *rec, __u32 ioasid,
			 __u64 label, __u32 pasid, __u32 access, __u64 addr)
{
	ASSERT_EQ(ioasid, rec->ioasid);
	ASSERT_EQ(label, rec->label);
	ASSERT_EQ(pasid ? IOASID_FAULT_PASID_VALID : 0,
		  rec->flags & ~IOASID_FAULT_LAST_IN_GROUP);
	/* No PASID: nothing of another DMA's shows through either. */
	ASSERT_EQ(pasid, rec->pasid);
	ASSERT_EQ(access, rec->access);
	ASSERT_EQ(addr, rec->addr);
	ASSERT_EQ(0, rec->__reserved);
	ASSERT_NE(0, rec->cookie);
}

/* The guest maps GIOVA page @page of the table at @root to data page @n. */
static void guest_map_data(struct vm *vm, __u64 root, unsigned int page,
			   unsigned int n, __u64 bits)
{
	guest_map(&vm->g, root, GIOVA + page * PAGE_SIZE, DATA_GPA(n), bits);
}

/* The guest tells the IOMMU its table changed at @npages from @giova. */
static int invalidate(struct vm *vm, __u32 ioasid, __u64 giova, __u64 npages)
{
	struct iommu_hwpt_vtd_s1_invalidate inv = {
		.addr = giova,
		.npages = npages,
	};
	__u32 num = 1;

	return _test_invalidate(vm->fd, ioasid, &inv, &num);
}

FIXTURE(fault) {
	struct vm vm;
};

FIXTURE_SETUP(fault)
{
	if (!vm_setup(_metadata, &self->vm))
		SKIP(return, "kernel without CONFIG_IOASID_TEST");
}

FIXTURE_TEARDOWN(fault)
{
	vm_teardown(_metadata, &self->vm);
}

TEST_F(fault, extension_and_caps)
{
	struct vm *vm = &self->vm;
	struct ioasid_cmd_device_get_info info;
	__u32 supported = 0;

	test_ioctl_check_extension(vm->fd, IOASID_EXT_FAULT_RING, &supported);
	ASSERT_EQ(1, supported);
	/* The LARGE instance's devices ask for pages; the SMALL one's not. */
	test_cmd(_test_device_get_info(vm->fd, vm->dev, &info));
	ASSERT_TRUE(info.out_capabilities & IOASID_DEVICE_CAP_PAGE_REQUESTS);
	test_cmd(_test_device_get_info(vm->fd, vm->small_dev, &info));
	ASSERT_FALSE(info.out_capabilities & IOASID_DEVICE_CAP_PAGE_REQUESTS);
}

TEST_F(fault, setup_errnos)
{
	static const __u32 bad_entries[] = {
		0, 1, 3, 6, IOASID_FAULT_RING_MAX_ENTRIES - 1,
		IOASID_FAULT_RING_MAX_ENTRIES + 1,
		2 * IOASID_FAULT_RING_MAX_ENTRIES, 1U << 31,
	};
	struct vm *vm = &self->vm;
	__u32 ids[IOASID_FAULT_RING_MAX_IOASIDS + 1];
	struct ioasid_cmd_fault_ring_setup cmd;
	__u32 plain, ring, ring2;
	int efd, closed_fd;
	unsigned int i;

	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	closed_fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, closed_fd);
	close(closed_fd);
	test_ioctl_alloc(vm->fd, &plain);
	ids[0] = vm->s1;
	ids[1] = vm->gva;

	for (i = 0; i != ARRAY_SIZE(bad_entries); i++)
		test_err_cmd(EINVAL, _test_fault_ring_setup(vm->fd,
							    bad_entries[i],
							    efd, ids, 1,
							    &cmd));
	test_err_cmd(EINVAL, _test_fault_ring_setup(vm->fd, 8, efd, ids, 0,
						    &cmd));
	i = IOASID_FAULT_RING_MAX_IOASIDS + 1;
	test_err_cmd(EINVAL, _test_fault_ring_setup(vm->fd, 8, efd, ids, i,
						    &cmd));
	/* One IOASID twice. */
	ids[2] = vm->s1;
	test_err_cmd(EINVAL, _test_fault_ring_setup(vm->fd, 8, efd, ids, 3,
						    &cmd));
	/* Not an IOASID: none at all, or a device. */
	ids[2] = 0xdead;
	test_err_cmd(ENOENT, _test_fault_ring_setup(vm->fd, 8, efd, ids, 3,
						    &cmd));
	ids[2] = vm->dev;
	test_err_cmd(ENOENT, _test_fault_ring_setup(vm->fd, 8, efd, ids, 3,
						    &cmd));
	/* The eventfd: none, closed, or a file that is no eventfd. */
	test_err_cmd(EBADF, _test_fault_ring_setup(vm->fd, 8, -1, ids, 2,
						   &cmd));
	test_err_cmd(EBADF, _test_fault_ring_setup(vm->fd, 8, closed_fd, ids,
						   2, &cmd));
	test_err_cmd(EINVAL, _test_fault_ring_setup(vm->fd, 8, vm->fd, ids, 2,
						    &cmd));
	/* The array, the flags, the reserved field and the size. */
	test_err_cmd(EFAULT, _test_fault_ring_setup(vm->fd, 8, efd,
						    (__u32 *)8UL, 2, &cmd));
	cmd = (struct ioasid_cmd_fault_ring_setup){
		.size = sizeof(cmd),
		.flags = 1,
		.num_entries = 8,
		.eventfd = efd,
		.num_ioasids = 2,
		.ioasids_uptr = (uintptr_t)ids,
	};
	test_err_cmd(EOPNOTSUPP, ioasid_ioctl(vm->fd, IOASID_FAULT_RING_SETUP,
					      &cmd));
	cmd.flags = 0;
	cmd.__reserved = 1;
	test_err_cmd(EOPNOTSUPP, ioasid_ioctl(vm->fd, IOASID_FAULT_RING_SETUP,
					      &cmd));
	cmd.__reserved = 0;
	cmd.size = 8;
	test_err_cmd(EINVAL, ioasid_ioctl(vm->fd, IOASID_FAULT_RING_SETUP,
					  &cmd));

	/* None of that left a ring holding anything. */
	ids[2] = plain;
	test_cmd(_test_fault_ring_setup(vm->fd, 2, efd, ids, 3, &cmd));
	ring = cmd.out_ring_id;
	ASSERT_NE(0, ring);
	/* A ring holds its IOASIDs; one ring per IOASID. */
	test_err_ioctl_free(EBUSY, vm->fd, plain);
	test_err_cmd(EBUSY, _test_fault_ring_setup(vm->fd, 8, efd, &plain, 1,
						   &cmd));
	test_err_cmd(EBUSY, _test_fault_ring_setup(vm->fd, 8, efd, &ids[1], 1,
						   &cmd));
	/* A ring is no IOASID, and an IOASID no ring. */
	test_err_cmd(ENOENT, _test_fault_ring_setup(vm->fd, 8, efd, &ring, 1,
						    &cmd));
	test_err_fault_ring_free(ENOENT, vm->fd, vm->s1);
	test_err_fault_ring_free(ENOENT, vm->fd, 0xdead);
	test_err_ioctl_free(ENOENT, vm->fd, ring);
	test_fault_ring_free(vm->fd, ring);
	test_err_fault_ring_free(ENOENT, vm->fd, ring);
	/* Freed, the ring holds nothing any more. */
	test_ioctl_free(vm->fd, plain);

	/* The largest ring, over the most IOASIDs. */
	for (i = 0; i != IOASID_FAULT_RING_MAX_IOASIDS; i++)
		test_ioctl_alloc(vm->fd, &ids[i]);
	test_cmd(_test_fault_ring_setup(vm->fd, IOASID_FAULT_RING_MAX_ENTRIES,
					efd, ids,
					IOASID_FAULT_RING_MAX_IOASIDS, &cmd));
	ring = cmd.out_ring_id;
	ASSERT_LE(IOASID_FAULT_RING_MAX_ENTRIES *
		  sizeof(struct ioasid_fault_record), cmd.out_mmap_size);
	/* The eventfd may serve two rings; ids differ, as mmap offsets do. */
	ids[IOASID_FAULT_RING_MAX_IOASIDS] = vm->s1;
	test_cmd(_test_fault_ring_setup(vm->fd, 2, efd,
					&ids[IOASID_FAULT_RING_MAX_IOASIDS], 1,
					&cmd));
	ring2 = cmd.out_ring_id;
	ASSERT_NE(ring, ring2);
	test_fault_ring_free(vm->fd, ring);
	test_fault_ring_free(vm->fd, ring2);
	for (i = 0; i != IOASID_FAULT_RING_MAX_IOASIDS; i++)
		test_ioctl_free(vm->fd, ids[i]);

	cmd = (struct ioasid_cmd_fault_ring_setup){ .size = sizeof(cmd) };
	test_err_cmd(EINVAL, ioasid_ioctl(vm->fd, IOASID_FAULT_RING_SETUP,
					  &cmd));
	close(efd);
}

TEST_F(fault, free_errnos)
{
	struct vm *vm = &self->vm;
	struct ioasid_cmd_fault_ring_free cmd = { .size = sizeof(cmd) };

	open_ring(_metadata, vm, 4);
	cmd.ring_id = vm->ring.id;
	cmd.flags = 1;
	test_err_cmd(EOPNOTSUPP, ioasid_ioctl(vm->fd, IOASID_FAULT_RING_FREE,
					      &cmd));
	cmd.flags = 0;
	cmd.__reserved = 1;
	test_err_cmd(EOPNOTSUPP, ioasid_ioctl(vm->fd, IOASID_FAULT_RING_FREE,
					      &cmd));
	/* An IOASID the ring holds stays until the ring goes. */
	test_err_ioctl_free(EBUSY, vm->fd, vm->gva);
	cmd.__reserved = 0;
	test_cmd(ioasid_ioctl(vm->fd, IOASID_FAULT_RING_FREE, &cmd));
	test_err_cmd(ENOENT, ioasid_ioctl(vm->fd, IOASID_FAULT_RING_FREE,
					  &cmd));
	test_ioctl_free(vm->fd, vm->gva);
	/* The mapping stays, frozen, until it is unmapped. */
	ASSERT_EQ(3, vm->ring.hdr->mask);
	ASSERT_EQ(0, vm->ring.hdr->tail);
	fault_ring_close(&vm->ring, false);
}

/* The mapping: its size and offset, and what the header says. */
TEST_F(fault, mmap_and_header)
{
	struct vm *vm = &self->vm;
	struct ioasid_cmd_fault_ring_setup cmd;
	struct ioasid_fault_ring_header *hdr;
	__u32 entries = 16;
	size_t size;
	__u64 off;
	void *map;
	int efd;

	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	test_cmd(_test_fault_ring_setup(vm->fd, entries, efd, &vm->s1, 1,
					&cmd));
	size = cmd.out_mmap_size;
	off = cmd.out_mmap_offset;
	ASSERT_EQ(0, size % PAGE_SIZE);
	ASSERT_EQ(0, off % PAGE_SIZE);

	/* Exactly the ring: not more, not less, not elsewhere. */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, size + PAGE_SIZE,
				   PROT_READ | PROT_WRITE, MAP_SHARED, vm->fd,
				   off));
	ASSERT_EQ(EINVAL, errno);
	if (size > PAGE_SIZE) {
		ASSERT_EQ(MAP_FAILED, mmap(NULL, size - PAGE_SIZE,
					   PROT_READ | PROT_WRITE, MAP_SHARED,
					   vm->fd, off));
		ASSERT_EQ(EINVAL, errno);
	}
	ASSERT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, vm->fd, off + PAGE_SIZE));
	ASSERT_EQ(EINVAL, errno);
	if (off) {
		ASSERT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ | PROT_WRITE,
					   MAP_SHARED, vm->fd, 0));
		ASSERT_EQ(EINVAL, errno);
	}
	/* A private copy would never see the kernel's records. */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, vm->fd, off));
	ASSERT_EQ(EINVAL, errno);

	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->fd,
		   off);
	ASSERT_NE(MAP_FAILED, map);
	hdr = map;
	ASSERT_EQ(0, hdr->head);
	ASSERT_EQ(0, hdr->tail);
	ASSERT_EQ(entries - 1, hdr->mask);
	ASSERT_EQ(sizeof(struct ioasid_fault_record), hdr->record_size);
	ASSERT_LE(sizeof(*hdr), hdr->records_offset);
	ASSERT_EQ(0, hdr->records_offset % 8);
	ASSERT_LE(hdr->records_offset + entries * hdr->record_size, size);
	ASSERT_EQ(0, hdr->__reserved);
	ASSERT_EQ(0, hdr->lost);
	/* The head is the user's to write (a read-only page would trap). */
	__atomic_store_n(&hdr->head, 0, __ATOMIC_RELEASE);

	/* Freed, the ring is not mapped again; the old mapping stays. */
	test_fault_ring_free(vm->fd, cmd.out_ring_id);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, vm->fd, off));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(entries - 1, hdr->mask);
	ASSERT_EQ(0, munmap(map, size));
	close(efd);
}

/*
 * RFC 5.6: two devices fault, one through its RID on the guest's IOVA
 * space, one under a PASID on a guest process's; each record says who,
 * where and how; the guest maps the pages, invalidates, and each group is
 * answered on its own: only its device goes on.
 */
TEST_F(fault, rfc_5_6_flow)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec[2], *r_rid = NULL, *r_pasid = NULL;
	__u8 out[256], in[256], again[64];
	unsigned int i;

	attach_rid(_metadata, vm);
	attach_pasid(_metadata, vm);
	open_ring(_metadata, vm, 8);
	fill_pattern(out, sizeof(out));
	fill_pattern(DATA(1) + 64, sizeof(in));
	memset(in, 0, sizeof(in));

	/* dev writes at the guest's IOVA, dev2's process reads its GVA. */
	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA + 128, out, sizeof(out),
		  true);
	start_dma(_metadata, vm, 1, vm->dev2, PASID, GIOVA + PAGE_SIZE + 64,
		  in, sizeof(in), false);
	for (i = 0; i != 2; i++) {
		next_record(&rec[i]);
		ASSERT_TRUE(rec[i].flags & IOASID_FAULT_LAST_IN_GROUP);
		if (rec[i].label == vm->dev)
			r_rid = &rec[i];
		else
			r_pasid = &rec[i];
	}
	ASSERT_TRUE(r_rid && r_pasid);
	check_record(_metadata, r_rid, vm->s1, vm->dev, 0, IOASID_FAULT_WRITE,
		     GIOVA);
	check_record(_metadata, r_pasid, vm->gva, vm->dev2, PASID,
		     IOASID_FAULT_READ, GIOVA + PAGE_SIZE);
	ASSERT_NE(r_rid->cookie, r_pasid->cookie);
	ring_empty();
	dma_waits(0);
	dma_waits(1);
	/* Nothing moved yet. */
	ASSERT_EQ(0, DATA(0)[128]);
	for (i = 0; i != sizeof(in); i++)
		ASSERT_EQ(0, in[i]);

	/* The guest's fault handlers map the pages. */
	guest_map_data(vm, vm->root_s1, 0, 0, PTE_PWU);
	guest_map_data(vm, vm->root_gva, 1, 1, PTE_PWU);
	test_cmd(invalidate(vm, vm->s1, GIOVA, 1));
	test_cmd(invalidate(vm, vm->gva, GIOVA + PAGE_SIZE, 1));

	/* dev2's answer goes to dev2's PASID alone. */
	test_page_respond(vm->fd, vm->ring.id, r_pasid->cookie,
			  IOASID_PAGE_RESP_SUCCESS, 0);
	dma_returns(1, 0);
	ASSERT_EQ(0, memcmp(in, DATA(1) + 64, sizeof(in)));
	dma_waits(0);
	test_page_respond(vm->fd, vm->ring.id, r_rid->cookie,
			  IOASID_PAGE_RESP_SUCCESS, 0);
	dma_returns(0, 0);
	ASSERT_EQ(0, memcmp(out, DATA(0) + 128, sizeof(out)));

	/* Mapped now: DMA goes through at once, with nothing posted. */
	fill_pattern(again, sizeof(again));
	test_cmd(_test_dma_flags(vm->fd, vm->dev, 0, GIOVA, again,
				 sizeof(again),
				 IOASID_TEST_DMA_WRITE | IOASID_TEST_DMA_PRI));
	ASSERT_EQ(0, memcmp(again, DATA(0), sizeof(again)));
	test_cmd(_test_dma_flags(vm->fd, vm->dev2, PASID, GIOVA + PAGE_SIZE,
				 again, sizeof(again), IOASID_TEST_DMA_PRI));
	ASSERT_EQ(0, memcmp(again, DATA(1), sizeof(again)));
	ring_empty();
	ASSERT_EQ(0, vm->ring.hdr->lost);
}

/*
 * A DMA across several pages the guest has not mapped asks for all of
 * them in one group: one record each, one cookie, LAST_IN_GROUP on the
 * last alone; the group is answered once.
 */
TEST_F(fault, group)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec[GROUP_MAX];
	__u32 len = 3 * PAGE_SIZE + 200;
	__u64 start = GIOVA + 100;
	bool seen[4] = {};
	__u8 *out;
	int n, i;

	out = malloc(len);
	ASSERT_NE(NULL, out);
	fill_pattern(out, len);
	/* Pages 0-3 of the DMA; page 1 is there already. */
	guest_map_data(vm, vm->root_s1, 1, 11, PTE_PWU);
	attach_rid(_metadata, vm);
	open_ring(_metadata, vm, 8);

	start_dma(_metadata, vm, 0, vm->dev, 0, start, out, len, true);
	n = fault_ring_group(&vm->ring, rec, ARRAY_SIZE(rec), WAIT_MS);
	ASSERT_EQ(3, n);
	for (i = 0; i != n; i++) {
		unsigned int page = (rec[i].addr - GIOVA) / PAGE_SIZE;

		ASSERT_EQ(i == n - 1 ? IOASID_FAULT_LAST_IN_GROUP : 0,
			  rec[i].flags);
		ASSERT_EQ(rec[0].cookie, rec[i].cookie);
		ASSERT_EQ(rec[0].group_id, rec[i].group_id);
		ASSERT_TRUE(page == 0 || page == 2 || page == 3);
		ASSERT_FALSE(seen[page]);
		seen[page] = true;
		check_record(_metadata, &rec[i], vm->s1, vm->dev, 0,
			     IOASID_FAULT_WRITE, GIOVA + page * PAGE_SIZE);
	}
	ring_empty();
	dma_waits(0);

	guest_map_data(vm, vm->root_s1, 0, 10, PTE_PWU);
	guest_map_data(vm, vm->root_s1, 2, 12, PTE_PWU);
	guest_map_data(vm, vm->root_s1, 3, 13, PTE_PWU);
	test_cmd(_test_invalidate_all(vm->fd, vm->s1));
	test_page_respond(vm->fd, vm->ring.id, rec[0].cookie,
			  IOASID_PAGE_RESP_SUCCESS, 0);
	dma_returns(0, 0);
	/* Answered once: again is too late, whatever the answer. */
	test_page_respond(vm->fd, vm->ring.id, rec[0].cookie,
			  IOASID_PAGE_RESP_SUCCESS, -EALREADY);
	test_page_respond(vm->fd, vm->ring.id, rec[0].cookie,
			  IOASID_PAGE_RESP_INVALID, -EALREADY);
	/* Byte for byte, in four guest pages. */
	ASSERT_EQ(0, memcmp(DATA(10) + 100, out, PAGE_SIZE - 100));
	for (i = 1; i != 4; i++) {
		__u32 done = i * PAGE_SIZE - 100;

		ASSERT_EQ(0, memcmp(DATA(10 + i), out + done,
				    i == 3 ? len - done : PAGE_SIZE));
	}
	ring_empty();
	free(out);
}

/*
 * More pages than one group asks for: the device asks for the first
 * GROUP_MAX, and for the rest once those are there.
 */
TEST_F(fault, group_max)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec[GROUP_MAX];
	unsigned int pages = GROUP_MAX + 2, total = 0, g;
	__u32 len = pages * PAGE_SIZE;
	__u64 cookies[2];
	__u8 *in;
	int n, i;

	in = malloc(len);
	ASSERT_NE(NULL, in);
	for (g = 0; g != pages; g++)
		fill_pattern(DATA(g), PAGE_SIZE);
	attach_rid(_metadata, vm);
	open_ring(_metadata, vm, 16);
	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA, in, len, false);

	for (g = 0; g != 2; g++) {
		n = fault_ring_group(&vm->ring, rec, ARRAY_SIZE(rec), WAIT_MS);
		if (n < 0 && fault_dma_join(&vm->dma[0], 0))
			TH_LOG("group %u: none came, the DMA answered %s", g,
			       errno_name(-vm->dma[0].ret));
		ASSERT_LT(0, n);
		ASSERT_GE(GROUP_MAX, n);
		cookies[g] = rec[0].cookie;
		for (i = 0; i != n; i++) {
			unsigned int page = (rec[i].addr - GIOVA) / PAGE_SIZE;

			ASSERT_GT(pages, page);
			ASSERT_EQ(cookies[g], rec[i].cookie);
			check_record(_metadata, &rec[i], vm->s1, vm->dev, 0,
				     IOASID_FAULT_READ, GIOVA + page * PAGE_SIZE);
			/* Only what this group asked for is mapped. */
			guest_map_data(vm, vm->root_s1, page, page, PTE_PWU);
		}
		total += n;
		ring_empty();
		dma_waits(0);
		test_cmd(_test_invalidate_all(vm->fd, vm->s1));
		test_page_respond(vm->fd, vm->ring.id, cookies[g],
				  IOASID_PAGE_RESP_SUCCESS, 0);
		if (total == pages)
			break;
	}
	ASSERT_EQ(pages, total);
	/* No two groups of a ring have one cookie. */
	ASSERT_NE(cookies[0], cookies[1]);
	dma_returns(0, 0);
	for (g = 0; g != pages; g++)
		ASSERT_EQ(0, memcmp(in + g * PAGE_SIZE, DATA(g), PAGE_SIZE));
	free(in);
}

/*
 * What a record says of the access: a write to a page the guest maps
 * read-only asks for a writable one; a read of a present page does not
 * fault at all.
 */
TEST_F(fault, access)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec;
	__u8 out[32], in[32];

	fill_pattern(out, sizeof(out));
	guest_map_data(vm, vm->root_s1, 0, 0, PTE_P | PTE_U);
	attach_rid(_metadata, vm);
	open_ring(_metadata, vm, 4);
	test_cmd(_test_dma_flags(vm->fd, vm->dev, 0, GIOVA, in, sizeof(in),
				 IOASID_TEST_DMA_PRI));
	ring_empty();

	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA, out, sizeof(out), true);
	next_record(&rec);
	check_record(_metadata, &rec, vm->s1, vm->dev, 0, IOASID_FAULT_WRITE, GIOVA);
	/* Not writable yet, it stays unwritten. */
	ASSERT_EQ(0, DATA(0)[0]);
	guest_map_data(vm, vm->root_s1, 0, 0, PTE_PWU);
	test_cmd(invalidate(vm, vm->s1, GIOVA, 1));
	test_page_respond(vm->fd, vm->ring.id, rec.cookie,
			  IOASID_PAGE_RESP_SUCCESS, 0);
	dma_returns(0, 0);
	ASSERT_EQ(0, memcmp(out, DATA(0), sizeof(out)));
}

/*
 * INVALID (never there) and FAILURE (cannot serve) both end the DMA
 * with a fault: nothing moved, either way.
 */
TEST_F(fault, failed_answers)
{
	static const __u32 codes[] = {
		IOASID_PAGE_RESP_INVALID, IOASID_PAGE_RESP_FAILURE,
	};
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec;
	__u8 buf[64], canary[64];
	unsigned int i;

	attach_rid(_metadata, vm);
	open_ring(_metadata, vm, 4);
	for (i = 0; i != 2 * ARRAY_SIZE(codes); i++) {
		bool write = i & 1;

		fill_pattern(buf, sizeof(buf));
		memcpy(canary, buf, sizeof(buf));
		start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA + 8, buf,
			  sizeof(buf), write);
		next_record(&rec);
		check_record(_metadata, &rec, vm->s1, vm->dev, 0,
			     write ? IOASID_FAULT_WRITE : IOASID_FAULT_READ, GIOVA);
		test_page_respond(vm->fd, vm->ring.id, rec.cookie,
				  codes[i / 2], 0);
		dma_returns(0, -EIO);
		ASSERT_EQ(0, memcmp(buf, canary, sizeof(buf)));
		test_page_respond(vm->fd, vm->ring.id, rec.cookie,
				  IOASID_PAGE_RESP_SUCCESS, -EALREADY);
	}
	ring_empty();
}

/*
 * SUCCESS with nothing mapped: the device retries, faults again and
 * asks again, in a group of its own with a new cookie.
 */
TEST_F(fault, success_without_page)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec[3];
	__u8 out[64];
	unsigned int i;

	fill_pattern(out, sizeof(out));
	attach_pasid(_metadata, vm);
	open_ring(_metadata, vm, 4);
	start_dma(_metadata, vm, 0, vm->dev2, PASID, GIOVA, out, sizeof(out),
		  true);
	for (i = 0; i != ARRAY_SIZE(rec); i++) {
		next_record(&rec[i]);
		check_record(_metadata, &rec[i], vm->gva, vm->dev2, PASID,
			     IOASID_FAULT_WRITE, GIOVA);
		ASSERT_TRUE(!i || rec[i - 1].cookie != rec[i].cookie);
		ring_empty();
		test_page_respond(vm->fd, vm->ring.id, rec[i].cookie,
				  i == ARRAY_SIZE(rec) - 1 ?
				  IOASID_PAGE_RESP_INVALID :
				  IOASID_PAGE_RESP_SUCCESS, 0);
	}
	dma_returns(0, -EIO);
	/* Old groups stay answered. */
	test_page_respond(vm->fd, vm->ring.id, rec[0].cookie,
			  IOASID_PAGE_RESP_SUCCESS, -EALREADY);
	ring_empty();
}

/*
 * A group that does not fit is not posted: it is answered as failed at
 * once, and lost counts its records. A ring whose free room the user's
 * head makes look gone is full in the same way.
 */
TEST_F(fault, overflow)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec[GROUP_MAX];
	__u8 *buf;
	__u32 len = 4 * PAGE_SIZE;
	int n;

	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	fill_pattern(buf, len);
	test_cmd_attach(vm->fd, vm->dev2, vm->s1);
	attach_rid(_metadata, vm);
	open_ring(_metadata, vm, 2);

	/* Four pages: a group of four, on a ring of two. */
	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA, buf, len, true);
	dma_returns(0, -EIO);
	ASSERT_EQ(4, vm->ring.hdr->lost);
	ring_empty();

	/* Two fit, and fill the ring; one more does not. */
	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA, buf, 2 * PAGE_SIZE,
		  true);
	ASSERT_TRUE(wait_pending(&vm->ring, 2));
	start_dma(_metadata, vm, 1, vm->dev2, 0, GIOVA + 2 * PAGE_SIZE, buf,
		  64, false);
	dma_returns(1, -EIO);
	ASSERT_EQ(5, vm->ring.hdr->lost);
	dma_waits(0);
	n = fault_ring_group(&vm->ring, rec, ARRAY_SIZE(rec), WAIT_MS);
	ASSERT_EQ(2, n);
	ASSERT_EQ(rec[0].cookie, rec[1].cookie);
	ring_empty();

	/* Room again: dev2's request is posted this time. */
	start_dma(_metadata, vm, 1, vm->dev2, 0, GIOVA + 2 * PAGE_SIZE, buf,
		  64, false);
	next_record(&rec[2]);
	check_record(_metadata, &rec[2], vm->s1, vm->dev2, 0, IOASID_FAULT_READ,
		     GIOVA + 2 * PAGE_SIZE);
	test_page_respond(vm->fd, vm->ring.id, rec[2].cookie,
			  IOASID_PAGE_RESP_INVALID, 0);
	dma_returns(1, -EIO);

	/* A head the user corrupted: the ring looks full, nothing worse. */
	__atomic_store_n(&vm->ring.hdr->head, vm->ring.head + 7,
			 __ATOMIC_RELEASE);
	start_dma(_metadata, vm, 1, vm->dev2, 0, GIOVA + 2 * PAGE_SIZE, buf,
		  64, false);
	dma_returns(1, -EIO);
	ASSERT_EQ(6, vm->ring.hdr->lost);
	__atomic_store_n(&vm->ring.hdr->head, vm->ring.head, __ATOMIC_RELEASE);
	ring_empty();

	/* The first group was never lost: it is answered, and done. */
	guest_map_data(vm, vm->root_s1, 0, 0, PTE_PWU);
	guest_map_data(vm, vm->root_s1, 1, 1, PTE_PWU);
	test_cmd(_test_invalidate_all(vm->fd, vm->s1));
	test_page_respond(vm->fd, vm->ring.id, rec[0].cookie,
			  IOASID_PAGE_RESP_SUCCESS, 0);
	dma_returns(0, 0);
	ASSERT_EQ(0, memcmp(DATA(0), buf, PAGE_SIZE));
	ASSERT_EQ(0, memcmp(DATA(1), buf + PAGE_SIZE, PAGE_SIZE));
	ASSERT_EQ(6, vm->ring.hdr->lost);
	free(buf);
}

/*
 * Several devices fault at once on a ring of two: two groups are posted,
 * the others answered as failed at once; none waits for ever, and what
 * was posted plus what was lost is everything that faulted.
 */
TEST_F(fault, overflow_concurrent)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec;
	__u32 devs[4] = { vm->dev, vm->dev2 };
	__u64 posted[2];
	unsigned int i;
	__u8 buf[4][64];

	for (i = 2; i != ARRAY_SIZE(devs); i++)
		test_cmd_mock_device_add(vm->fd, IOASID_MOCK_INSTANCE_LARGE,
					 &devs[i]);
	for (i = 0; i != ARRAY_SIZE(devs); i++)
		test_cmd_attach(vm->fd, devs[i], vm->s1);
	test_cmd(_test_bind(vm->fd, vm->s1, IOASID_PGTABLE_VTD_S1,
			    vm->root_s1, 48));
	open_ring(_metadata, vm, 2);
	for (i = 0; i != ARRAY_SIZE(devs); i++)
		start_dma(_metadata, vm, i, devs[i], 0, GIOVA + i * PAGE_SIZE,
			  buf[i], sizeof(buf[i]), false);

	/* Who got in, read without giving a slot back. */
	ASSERT_TRUE(wait_pending(&vm->ring, 2));
	for (i = 0; i != 2; i++) {
		rec = *fault_ring_slot(&vm->ring, vm->ring.head + i);
		ASSERT_TRUE(rec.flags & IOASID_FAULT_LAST_IN_GROUP);
		posted[i] = rec.label;
	}
	ASSERT_NE(posted[0], posted[1]);
	for (i = 0; i != ARRAY_SIZE(devs); i++) {
		bool waits = devs[i] == posted[0] || devs[i] == posted[1];

		/* A refused group's DMA returns at once; a posted one waits. */
		ASSERT_EQ(waits, !fault_dma_join(&vm->dma[i],
						 waits ? BLOCKED_MS : WAIT_MS));
		ASSERT_TRUE(waits || vm->dma[i].ret == -EIO);
	}
	ASSERT_EQ(ARRAY_SIZE(devs) - 2, vm->ring.hdr->lost);
	ASSERT_EQ(2, fault_ring_pending(&vm->ring));
	for (i = 0; i != 2; i++) {
		next_record(&rec);
		test_page_respond(vm->fd, vm->ring.id, rec.cookie,
				  IOASID_PAGE_RESP_INVALID, 0);
	}
	for (i = 0; i != ARRAY_SIZE(devs); i++)
		dma_returns(i, -EIO);
	ring_empty();
}

/*
 * The eventfd is signalled once per group posted: a consumer that reads
 * it after each wake-up sees one count per group, and none for answers.
 */
TEST_F(fault, eventfd_per_group)
{
	struct vm *vm = &self->vm;
	struct pollfd pfd = { .events = POLLIN };
	struct ioasid_fault_record rec;
	__u8 buf[2][64];
	__u64 count;
	unsigned int i;

	test_cmd_attach(vm->fd, vm->dev2, vm->s1);
	attach_rid(_metadata, vm);
	open_ring(_metadata, vm, 8);
	pfd.fd = vm->ring.efd;
	ASSERT_EQ(-1, read(vm->ring.efd, &count, sizeof(count)));
	ASSERT_EQ(EAGAIN, errno);
	for (i = 0; i != 2; i++) {
		start_dma(_metadata, vm, i, i ? vm->dev2 : vm->dev, 0,
			  GIOVA + i * PAGE_SIZE, buf[i], 64, false);
		/* Signalled after the records are there, not before. */
		ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS));
		ASSERT_EQ(i + 1, fault_ring_pending(&vm->ring));
		ASSERT_EQ(sizeof(count), read(vm->ring.efd, &count,
					      sizeof(count)));
		ASSERT_EQ(1, count);
	}
	for (i = 0; i != 2; i++) {
		next_record(&rec);
		test_page_respond(vm->fd, vm->ring.id, rec.cookie,
				  IOASID_PAGE_RESP_INVALID, 0);
	}
	dma_returns(0, -EIO);
	dma_returns(1, -EIO);
	ASSERT_EQ(0, poll(&pfd, 1, 0));
}

/*
 * Two groups wait: dev's through its RID, dev2's under its PASID. What
 * ends one attachment answers its groups as failed, and no other group.
 */
static void two_pending(struct __test_metadata *_metadata, struct vm *vm,
			__u8 *bufs, struct ioasid_fault_record *rid,
			struct ioasid_fault_record *pasid)
{
	struct ioasid_fault_record rec;
	unsigned int i;

	attach_rid(_metadata, vm);
	attach_pasid(_metadata, vm);
	open_ring(_metadata, vm, 8);
	fill_pattern(bufs, 128);
	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA, bufs, 64, true);
	start_dma(_metadata, vm, 1, vm->dev2, PASID, GIOVA, bufs + 64, 64,
		  true);
	for (i = 0; i != 2; i++) {
		next_record(&rec);
		if (rec.label == vm->dev)
			*rid = rec;
		else
			*pasid = rec;
	}
	ASSERT_EQ(vm->s1, rid->ioasid);
	ASSERT_EQ(vm->gva, pasid->ioasid);
}

/* The survivor is answered as usual and finishes its DMA. */
static void serve_survivor(struct __test_metadata *_metadata, struct vm *vm,
			   unsigned int i, __u32 ioasid, __u64 root,
			   __u64 cookie, const __u8 *buf)
{
	dma_waits(i);
	guest_map_data(vm, root, 0, i, PTE_PWU);
	test_cmd(invalidate(vm, ioasid, GIOVA, 1));
	test_page_respond(vm->fd, vm->ring.id, cookie,
			  IOASID_PAGE_RESP_SUCCESS, 0);
	dma_returns(i, 0);
	ASSERT_EQ(0, memcmp(DATA(i), buf, 64));
}

TEST_F(fault, pending_on_detach)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rid, pasid;
	__u8 bufs[128];

	two_pending(_metadata, vm, bufs, &rid, &pasid);
	test_cmd_detach(vm->fd, vm->dev);
	dma_returns(0, -EIO);
	/* The kernel answered it; the user's answer comes too late. */
	test_page_respond(vm->fd, vm->ring.id, rid.cookie,
			  IOASID_PAGE_RESP_SUCCESS, -EALREADY);
	serve_survivor(_metadata, vm, 1, vm->gva, vm->root_gva, pasid.cookie,
		       bufs + 64);
	ASSERT_EQ(0, DATA(0)[0]);
}

TEST_F(fault, pending_on_detach_pasid)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rid, pasid;
	__u8 bufs[128];

	two_pending(_metadata, vm, bufs, &rid, &pasid);
	test_cmd_detach_pasid(vm->fd, vm->dev2, vm->gva, PASID);
	dma_returns(1, -EIO);
	test_page_respond(vm->fd, vm->ring.id, pasid.cookie,
			  IOASID_PAGE_RESP_SUCCESS, -EALREADY);
	serve_survivor(_metadata, vm, 0, vm->s1, vm->root_s1, rid.cookie,
		       bufs);
}

/* Detaching the RID without a PASID takes the PASIDs too, and theirs. */
TEST_F(fault, pending_on_detach_all)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rid, pasid;
	__u8 bufs[128];

	two_pending(_metadata, vm, bufs, &rid, &pasid);
	test_cmd_detach(vm->fd, vm->dev2);
	dma_returns(1, -EIO);
	test_page_respond(vm->fd, vm->ring.id, pasid.cookie,
			  IOASID_PAGE_RESP_INVALID, -EALREADY);
	serve_survivor(_metadata, vm, 0, vm->s1, vm->root_s1, rid.cookie,
		       bufs);
}

TEST_F(fault, pending_on_unbind)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rid, pasid;
	__u8 bufs[128];

	two_pending(_metadata, vm, bufs, &rid, &pasid);
	test_cmd(_test_unbind(vm->fd, vm->s1));
	dma_returns(0, -EIO);
	test_page_respond(vm->fd, vm->ring.id, rid.cookie,
			  IOASID_PAGE_RESP_SUCCESS, -EALREADY);
	serve_survivor(_metadata, vm, 1, vm->gva, vm->root_gva, pasid.cookie,
		       bufs + 64);
	/* Unbound, dev reaches nothing and asks for nothing. */
	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA, bufs, 64, true);
	dma_returns(0, -EIO);
	ring_empty();
}

/*
 * Freeing the ring answers every group it holds; the IOASIDs report
 * nowhere after that, so their faults fail at once. The mapping stays,
 * frozen, with the records it had.
 */
TEST_F(fault, pending_on_ring_free)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rid, pasid;
	__u32 tail, ring;
	__s32 result;
	__u8 bufs[128];

	two_pending(_metadata, vm, bufs, &rid, &pasid);
	tail = vm->ring.hdr->tail;
	ring = vm->ring.id;
	test_fault_ring_free(vm->fd, ring);
	vm->ring.id = 0;
	dma_returns(0, -EIO);
	dma_returns(1, -EIO);
	test_err_cmd(ENOENT, _test_page_respond(vm->fd, ring, rid.cookie,
						IOASID_PAGE_RESP_SUCCESS,
						&result));
	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA, bufs, 64, true);
	dma_returns(0, -EIO);
	ASSERT_EQ(tail, vm->ring.hdr->tail);
	ASSERT_EQ(0, DATA(0)[0]);
	ASSERT_EQ(0, DATA(1)[0]);
	/* The IOASIDs are free to join a new ring. */
	fault_ring_close(&vm->ring, false);
	open_ring(_metadata, vm, 2);
}

/*
 * The ring of one IOASID goes, the other's stays: a fault in the first
 * fails at once, the second's are posted as before.
 */
TEST_F(fault, two_rings)
{
	struct vm *vm = &self->vm;
	struct fault_ring other = { .efd = -1 };
	struct ioasid_fault_record rec;
	__s32 result;
	__u8 buf[64];

	attach_rid(_metadata, vm);
	attach_pasid(_metadata, vm);
	test_cmd(fault_ring_open(vm->fd, 4, &vm->s1, 1, &vm->ring));
	test_cmd(fault_ring_open(vm->fd, 4, &vm->gva, 1, &other));
	start_dma(_metadata, vm, 0, vm->dev2, PASID, GIOVA, buf, 64, false);
	test_cmd(fault_ring_next(&other, &rec, WAIT_MS));
	check_record(_metadata, &rec, vm->gva, vm->dev2, PASID, IOASID_FAULT_READ,
		     GIOVA);
	ring_empty();
	/* A cookie means something on its own ring only. */
	test_page_respond(vm->fd, vm->ring.id, rec.cookie,
			  IOASID_PAGE_RESP_INVALID, -ENOENT);
	dma_waits(0);
	test_cmd(_test_page_respond(vm->fd, other.id, rec.cookie,
				    IOASID_PAGE_RESP_INVALID, &result));
	ASSERT_EQ(0, result);
	dma_returns(0, -EIO);

	test_cmd(fault_ring_close(&other, true));
	start_dma(_metadata, vm, 0, vm->dev2, PASID, GIOVA, buf, 64, false);
	dma_returns(0, -EIO);
	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA, buf, 64, false);
	next_record(&rec);
	check_record(_metadata, &rec, vm->s1, vm->dev, 0, IOASID_FAULT_READ, GIOVA);
	test_page_respond(vm->fd, vm->ring.id, rec.cookie,
			  IOASID_PAGE_RESP_INVALID, 0);
	dma_returns(0, -EIO);
}

/*
 * The guest's whole PASID table bound on dev's RID (RFC 5.7): a fault
 * under a PASID that only the table translates is the table's IOASID's,
 * with its PASID; one under a PASID attached to an IOASID of its own
 * (a tracked first stage) is that IOASID's, as long as it is bound.
 */
TEST_F(fault, pasid_table)
{
	static const struct {
		__u32 pasid;
		bool own;	/* attached to gva, not only in the table */
	} cases[] = { { 0, false }, { 3, false }, { 5, true } };
	struct vm *vm = &self->vm;
	__u64 table = guest_alloc_table(&vm->g);
	__u64 root3 = guest_alloc_table(&vm->g);
	struct ioasid_fault_record rec;
	__u8 buf[64];
	unsigned int i;

	guest_set_pasid(&vm->g, table, 0, vm->root_s1);
	guest_set_pasid(&vm->g, table, 3, root3);
	guest_set_pasid(&vm->g, table, 5, vm->root_gva);
	test_cmd_attach(vm->fd, vm->dev, vm->s1);
	test_cmd_attach_pasid(vm->fd, vm->dev, vm->gva, 5);
	test_cmd(_test_bind_pasid_table(vm->fd, vm->s1, table, 4));
	test_cmd(_test_bind(vm->fd, vm->gva, IOASID_PGTABLE_VTD_S1,
			    vm->root_gva, 48));
	open_ring(_metadata, vm, 4);

	for (i = 0; i != ARRAY_SIZE(cases); i++) {
		__u32 ioasid = vm->s1;

		if (cases[i].own)
			ioasid = vm->gva;
		start_dma(_metadata, vm, 0, vm->dev, cases[i].pasid, GIOVA, buf,
			  sizeof(buf), false);
		next_record(&rec);
		check_record(_metadata, &rec, ioasid, vm->dev, cases[i].pasid,
			     IOASID_FAULT_READ, GIOVA);
		ASSERT_TRUE(rec.flags & IOASID_FAULT_LAST_IN_GROUP);
		test_page_respond(vm->fd, vm->ring.id, rec.cookie,
				  IOASID_PAGE_RESP_INVALID, 0);
		dma_returns(0, -EIO);
	}
	/* No entry for the PASID: no first stage to ask pages of. */
	start_dma(_metadata, vm, 0, vm->dev, 6, GIOVA, buf, sizeof(buf), false);
	dma_returns(0, -EIO);
	ring_empty();

	/* Unbound, gva serves no faults: the table's IOASID does. */
	test_cmd(_test_unbind(vm->fd, vm->gva));
	start_dma(_metadata, vm, 0, vm->dev, 5, GIOVA, buf, sizeof(buf), false);
	next_record(&rec);
	check_record(_metadata, &rec, vm->s1, vm->dev, 5, IOASID_FAULT_READ,
		     GIOVA);
	/* Unbinding the table answers what waits on it. */
	test_cmd(_test_unbind_pasid_table(vm->fd, vm->s1));
	dma_returns(0, -EIO);
	test_page_respond(vm->fd, vm->ring.id, rec.cookie,
			  IOASID_PAGE_RESP_SUCCESS, -EALREADY);
}

/*
 * No ring for the IOASID, or a mapping the kernel owns (a plain IOASID,
 * even one a ring serves): the fault is answered as failed at once.
 */
TEST_F(fault, no_ring)
{
	struct vm *vm = &self->vm;
	__u32 ids[] = { vm->parent, vm->gva };
	__u8 buf[64];

	attach_rid(_metadata, vm);
	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA, buf, sizeof(buf),
		  true);
	dma_returns(0, -EIO);

	test_cmd(fault_ring_open(vm->fd, 4, ids, ARRAY_SIZE(ids), &vm->ring));
	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA, buf, sizeof(buf),
		  true);
	dma_returns(0, -EIO);
	test_cmd_attach(vm->fd, vm->dev2, vm->parent);
	start_dma(_metadata, vm, 1, vm->dev2, 0, GPA + RAM_SIZE, buf,
		  sizeof(buf), false);
	dma_returns(1, -EIO);
	ring_empty();
	ASSERT_EQ(0, vm->ring.hdr->lost);
}

/*
 * The process driving a DMA that waits for its page is killed: the
 * device gives up waiting, but its group stays posted, and the answer,
 * when the VMM sends it, still reaches the device, which frees the
 * group's index. The next DMA's round trip works as ever.
 */
TEST_F(fault, killed_dma)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec;
	__u64 answers;
	__u8 buf[64];
	int status;
	pid_t pid;

	attach_rid(_metadata, vm);
	open_ring(_metadata, vm, 8);
	answers = test_unwaited_answers(vm->fd, vm->dev);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(_test_dma_flags(vm->fd, vm->dev, 0, GIOVA, buf,
				      sizeof(buf), IOASID_TEST_DMA_PRI));
	next_record(&rec);
	check_record(_metadata, &rec, vm->s1, vm->dev, 0, IOASID_FAULT_READ,
		     GIOVA);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(answers, test_unwaited_answers(vm->fd, vm->dev));
	test_page_respond(vm->fd, vm->ring.id, rec.cookie,
			  IOASID_PAGE_RESP_SUCCESS, 0);
	ASSERT_EQ(answers + 1, test_unwaited_answers(vm->fd, vm->dev));

	/* The same page asked for again, by a DMA that waits to the end */
	fill_pattern(DATA(0), sizeof(buf));
	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA, buf, sizeof(buf),
		  false);
	next_record(&rec);
	check_record(_metadata, &rec, vm->s1, vm->dev, 0, IOASID_FAULT_READ,
		     GIOVA);
	guest_map_data(vm, vm->root_s1, 0, 0, PTE_PWU);
	test_cmd(invalidate(vm, vm->s1, GIOVA, 1));
	test_page_respond(vm->fd, vm->ring.id, rec.cookie,
			  IOASID_PAGE_RESP_SUCCESS, 0);
	dma_returns(0, 0);
	ASSERT_EQ(0, memcmp(DATA(0), buf, sizeof(buf)));
	ASSERT_EQ(answers + 1, test_unwaited_answers(vm->fd, vm->dev));
	ring_empty();
}

/*
 * A group the device posts without a DMA behind it (what the benchmark
 * measures) is delivered, answered and counted by the device like any
 * other; with no ring to take it, the core answers it at once.
 */
TEST_F(fault, posted_page_request)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec[3];
	__u64 answers;
	unsigned int i;

	attach_rid(_metadata, vm);
	attach_pasid(_metadata, vm);
	answers = test_unwaited_answers(vm->fd, vm->dev2);
	ASSERT_EQ(0, answers);
	test_cmd(_test_page_request(vm->fd, vm->dev2, GIOVA, 1,
				    IOASID_TEST_DMA_PASID, PASID));
	ASSERT_EQ(1, test_unwaited_answers(vm->fd, vm->dev2));

	open_ring(_metadata, vm, 8);
	test_cmd(_test_page_request(vm->fd, vm->dev2, GIOVA + PAGE_SIZE, 3,
				    IOASID_TEST_DMA_PASID |
				    IOASID_TEST_DMA_WRITE, PASID));
	for (i = 0; i != 3; i++) {
		next_record(&rec[i]);
		check_record(_metadata, &rec[i], vm->gva, vm->dev2, PASID,
			     IOASID_FAULT_WRITE, GIOVA + (i + 1) * PAGE_SIZE);
		ASSERT_EQ(rec[0].cookie, rec[i].cookie);
		ASSERT_EQ(rec[0].group_id, rec[i].group_id);
		ASSERT_EQ(i == 2, !!(rec[i].flags & IOASID_FAULT_LAST_IN_GROUP));
	}
	test_cmd(_test_page_request(vm->fd, vm->dev, GIOVA, 1, 0, 0));
	next_record(&rec[0]);
	check_record(_metadata, &rec[0], vm->s1, vm->dev, 0, IOASID_FAULT_READ,
		     GIOVA);
	ring_empty();

	/* Each answer reaches the device it came from, once. */
	ASSERT_EQ(1, test_unwaited_answers(vm->fd, vm->dev2));
	test_page_respond(vm->fd, vm->ring.id, rec[2].cookie,
			  IOASID_PAGE_RESP_SUCCESS, 0);
	ASSERT_EQ(2, test_unwaited_answers(vm->fd, vm->dev2));
	ASSERT_EQ(0, test_unwaited_answers(vm->fd, vm->dev));
	test_page_respond(vm->fd, vm->ring.id, rec[2].cookie,
			  IOASID_PAGE_RESP_SUCCESS, -EALREADY);
	ASSERT_EQ(2, test_unwaited_answers(vm->fd, vm->dev2));
	test_page_respond(vm->fd, vm->ring.id, rec[0].cookie,
			  IOASID_PAGE_RESP_INVALID, 0);
	ASSERT_EQ(1, test_unwaited_answers(vm->fd, vm->dev));

	/* Bad requests post nothing. */
	ASSERT_EQ(-EINVAL, _test_page_request(vm->fd, vm->dev, GIOVA, 0, 0, 0));
	ASSERT_EQ(-EINVAL, _test_page_request(vm->fd, vm->dev, GIOVA,
					      GROUP_MAX + 1, 0, 0));
	ASSERT_EQ(-EINVAL, _test_page_request(vm->fd, vm->dev, GIOVA + 8, 1,
					      0, 0));
	ASSERT_EQ(-EINVAL, _test_page_request(vm->fd, vm->dev,
					      -2 * PAGE_SIZE, 3, 0, 0));
	ASSERT_EQ(-EOPNOTSUPP, _test_page_request(vm->fd, vm->dev, GIOVA, 1,
						  IOASID_TEST_DMA_PRI, 0));
	ASSERT_EQ(-EOPNOTSUPP, _test_page_request(vm->fd, vm->dev, GIOVA, 1,
						  0, PASID));
	ASSERT_EQ(-EINVAL, _test_page_request(vm->fd, vm->dev2, GIOVA, 1,
					      IOASID_TEST_DMA_PASID,
					      1U << 20));
	ring_empty();
	ASSERT_EQ(0, vm->ring.hdr->lost);
}

/*
 * A device has as many groups waiting as its PRG index has values (512);
 * one more is refused at the device, and the ring's answers free them.
 */
TEST_F(fault, posted_page_request_index_full)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec;
	unsigned int i;

	attach_rid(_metadata, vm);
	open_ring(_metadata, vm, 512);
	for (i = 0; i != 512; i++)
		test_cmd(_test_page_request(vm->fd, vm->dev, GIOVA, 1, 0, 0));
	ASSERT_EQ(-EIO, _test_page_request(vm->fd, vm->dev, GIOVA, 1, 0, 0));
	ASSERT_EQ(0, vm->ring.hdr->lost);
	for (i = 0; i != 512; i++) {
		next_record(&rec);
		test_page_respond(vm->fd, vm->ring.id, rec.cookie,
				  IOASID_PAGE_RESP_FAILURE, 0);
	}
	ASSERT_EQ(512, test_unwaited_answers(vm->fd, vm->dev));
	test_cmd(_test_page_request(vm->fd, vm->dev, GIOVA, 1, 0, 0));
	next_record(&rec);
	ring_empty();
}

/*
 * At most as many groups wait for an answer as the ring has entries: a
 * VMM that reads records and answers none loses the next group even with
 * room in the ring, and gets it posted again once it answers one. The
 * cookies still only grow.
 */
TEST_F(fault, pending_table_full)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec[4], late;
	unsigned int i;

	attach_rid(_metadata, vm);
	open_ring(_metadata, vm, 4);
	for (i = 0; i != 4; i++) {
		test_cmd(_test_page_request(vm->fd, vm->dev,
					    GIOVA + i * PAGE_SIZE, 1, 0, 0));
		next_record(&rec[i]);
	}
	ASSERT_EQ(0, fault_ring_pending(&vm->ring));
	test_cmd(_test_page_request(vm->fd, vm->dev, GIOVA, 1, 0, 0));
	ring_empty();
	ASSERT_EQ(1, vm->ring.hdr->lost);
	/* The device got its failure at once. */
	ASSERT_EQ(1, test_unwaited_answers(vm->fd, vm->dev));

	test_page_respond(vm->fd, vm->ring.id, rec[1].cookie,
			  IOASID_PAGE_RESP_SUCCESS, 0);
	test_cmd(_test_page_request(vm->fd, vm->dev, GIOVA, 1, 0, 0));
	next_record(&late);
	ASSERT_LT(rec[3].cookie, late.cookie);
	ASSERT_EQ(1, vm->ring.hdr->lost);
	/* Below the last one issued and waiting for nothing. */
	test_page_respond(vm->fd, vm->ring.id, late.cookie - 1,
			  IOASID_PAGE_RESP_SUCCESS, -EALREADY);
	test_page_respond(vm->fd, vm->ring.id, late.cookie + 1,
			  IOASID_PAGE_RESP_SUCCESS, -ENOENT);
	for (i = 0; i != 4; i++)
		if (i != 1)
			test_page_respond(vm->fd, vm->ring.id, rec[i].cookie,
					  IOASID_PAGE_RESP_INVALID, 0);
	test_page_respond(vm->fd, vm->ring.id, late.cookie,
			  IOASID_PAGE_RESP_INVALID, 0);
	ASSERT_EQ(6, test_unwaited_answers(vm->fd, vm->dev));
}

TEST_F(fault, response_errnos)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec;
	struct ioasid_page_response resp[6];
	struct ioasid_cmd_page_response cmd = {
		.size = sizeof(cmd),
		.num_entries = 1,
		.entries_uptr = (uintptr_t)resp,
	};
	__u32 answered;
	__u8 buf[64];

	attach_rid(_metadata, vm);
	open_ring(_metadata, vm, 4);
	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA, buf, sizeof(buf),
		  false);
	next_record(&rec);

	/* The call: ring, count, flags, reserved, array. */
	memset(resp, 0, sizeof(resp));
	resp[0].cookie = rec.cookie;
	resp[0].code = IOASID_PAGE_RESP_INVALID;
	cmd.ring_id = 0xdead;
	test_err_cmd(ENOENT, ioasid_ioctl(vm->fd, IOASID_PAGE_RESPONSE, &cmd));
	cmd.ring_id = vm->s1;
	test_err_cmd(ENOENT, ioasid_ioctl(vm->fd, IOASID_PAGE_RESPONSE, &cmd));
	cmd.ring_id = vm->ring.id;
	cmd.num_entries = 0;
	test_err_cmd(EINVAL, ioasid_ioctl(vm->fd, IOASID_PAGE_RESPONSE, &cmd));
	cmd.num_entries = IOASID_FAULT_RING_MAX_ENTRIES + 1;
	test_err_cmd(EINVAL, ioasid_ioctl(vm->fd, IOASID_PAGE_RESPONSE, &cmd));
	cmd.num_entries = 1;
	cmd.flags = 1;
	test_err_cmd(EOPNOTSUPP, ioasid_ioctl(vm->fd, IOASID_PAGE_RESPONSE,
					      &cmd));
	cmd.flags = 0;
	cmd.__reserved = 1;
	test_err_cmd(EOPNOTSUPP, ioasid_ioctl(vm->fd, IOASID_PAGE_RESPONSE,
					      &cmd));
	cmd.__reserved = 0;
	cmd.entries_uptr = 8;
	test_err_cmd(EFAULT, ioasid_ioctl(vm->fd, IOASID_PAGE_RESPONSE, &cmd));
	cmd.size = 8;
	test_err_cmd(EINVAL, ioasid_ioctl(vm->fd, IOASID_PAGE_RESPONSE, &cmd));
	/* None of those answered anything. */
	dma_waits(0);

	/* Each entry on its own, in order. */
	resp[0] = (struct ioasid_page_response){ rec.cookie, 3, 1 };
	resp[1] = (struct ioasid_page_response){ rec.cookie, ~0U, 1 };
	resp[2] = (struct ioasid_page_response){ 0, IOASID_PAGE_RESP_SUCCESS,
						 1 };
	resp[3] = (struct ioasid_page_response){ rec.cookie + 1000,
						 IOASID_PAGE_RESP_SUCCESS, 1 };
	resp[4] = (struct ioasid_page_response){ rec.cookie,
						 IOASID_PAGE_RESP_INVALID, 1 };
	resp[5] = (struct ioasid_page_response){ rec.cookie,
						 IOASID_PAGE_RESP_SUCCESS, 1 };
	test_cmd(_test_page_response(vm->fd, vm->ring.id, resp, 6, &answered));
	ASSERT_EQ(1, answered);
	ASSERT_EQ(-EINVAL, resp[0].out_result);
	ASSERT_EQ(-EINVAL, resp[1].out_result);
	ASSERT_EQ(-ENOENT, resp[2].out_result);
	ASSERT_EQ(-ENOENT, resp[3].out_result);
	ASSERT_EQ(0, resp[4].out_result);
	ASSERT_EQ(-EALREADY, resp[5].out_result);
	/* The INVALID went through, not the SUCCESS after it. */
	dma_returns(0, -EIO);
	ring_empty();
}

/* A bad code leaves the group waiting for a good answer. */
TEST_F(fault, bad_code_keeps_group)
{
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec;
	__u8 out[64];

	fill_pattern(out, sizeof(out));
	attach_rid(_metadata, vm);
	open_ring(_metadata, vm, 4);
	start_dma(_metadata, vm, 0, vm->dev, 0, GIOVA, out, sizeof(out),
		  true);
	next_record(&rec);
	test_page_respond(vm->fd, vm->ring.id, rec.cookie, 3, -EINVAL);
	dma_waits(0);
	guest_map_data(vm, vm->root_s1, 0, 0, PTE_PWU);
	test_cmd(invalidate(vm, vm->s1, GIOVA, 1));
	test_page_respond(vm->fd, vm->ring.id, rec.cookie,
			  IOASID_PAGE_RESP_SUCCESS, 0);
	dma_returns(0, 0);
	ASSERT_EQ(0, memcmp(out, DATA(0), sizeof(out)));
}

/* A device without PRI does not wait: its fault is a fault. */
TEST_F(fault, device_without_pri)
{
	struct vm *vm = &self->vm;
	__u32 ids[] = { vm->parent };
	__u8 buf[64];
	int ret;

	test_cmd(fault_ring_open(vm->fd, 4, ids, 1, &vm->ring));
	test_cmd_attach(vm->fd, vm->small_dev, vm->parent);
	ret = _test_dma_flags(vm->fd, vm->small_dev, 0, GPA + RAM_SIZE, buf,
			      sizeof(buf), IOASID_TEST_DMA_PRI);
	ASSERT_TRUE(ret == -EIO || ret == -EOPNOTSUPP);
	ring_empty();
}

/*
 * The ioasid fd is closed while a group waits. The test ioctl's DMA
 * would hold the fd open while it waits, so the device here is a mock
 * VFIO device whose DMA goes through its own fd, as real hardware's
 * does through no fd at all: the close releases everything, answers the
 * group, and the device's DMA fails. A mapping of the ring would hold
 * the file too: it goes first.
 */
struct mock_vfio {
	int fd;
	__u32 dev_id;
};

#define MOCK_VFIO_DRIVER "/sys/bus/platform/drivers/ioasid-mock-vfio"
#define MOCK_LABEL 0x1abe1000ULL

/* A mock VFIO device bound to @fd that asks for pages; -ENODEV if none. */
static int open_pri_vfio(int fd, struct mock_vfio *mv)
{
	struct ioasid_cmd_device_get_info info;
	char path[PATH_MAX], cdev[PATH_MAX];
	struct dirent *de, *vde;
	DIR *dir, *vdir;

	dir = opendir(MOCK_VFIO_DRIVER);
	if (!dir)
		return -ENODEV;
	while ((de = readdir(dir))) {
		struct vfio_device_bind_ioasid_fd bind = {
			.argsz = sizeof(bind),
			.ioasid_fd = fd,
			.device_label = MOCK_LABEL,
		};

		if (strncmp(de->d_name, "ioasid-mock-vfio.", 17))
			continue;
		snprintf(path, sizeof(path), "%s/%s/vfio-dev",
			 MOCK_VFIO_DRIVER, de->d_name);
		vdir = opendir(path);
		if (!vdir)
			continue;
		cdev[0] = 0;
		while ((vde = readdir(vdir)))
			if (!strncmp(vde->d_name, "vfio", 4))
				snprintf(cdev, sizeof(cdev),
					 "/dev/vfio/devices/%s", vde->d_name);
		closedir(vdir);
		if (!cdev[0])
			continue;
		mv->fd = open(cdev, O_RDWR | O_CLOEXEC);
		if (mv->fd < 0)
			continue;
		if (!ioasid_ioctl(mv->fd, VFIO_BIND_IOASID_FD, &bind) &&
		    !_test_device_get_info(fd, bind.out_dev_id, &info) &&
		    info.out_capabilities & IOASID_DEVICE_CAP_PAGE_REQUESTS) {
			mv->dev_id = bind.out_dev_id;
			closedir(dir);
			return 0;
		}
		close(mv->fd);
	}
	closedir(dir);
	mv->fd = -1;
	return -ENODEV;
}

TEST_F(fault, pending_on_close)
{
	struct vm *vm = &self->vm;
	struct vfio_device_attach_ioasid attach = {
		.argsz = sizeof(attach),
		.ioasid = vm->s1,
	};
	struct mock_vfio mv;
	struct ioasid_fault_record rec;
	struct fault_dma *d = &vm->dma[0];
	__u8 out[64];

	if (open_pri_vfio(vm->fd, &mv))
		SKIP(return, "no mock VFIO device that asks for pages");
	fill_pattern(out, sizeof(out));
	test_cmd(ioasid_ioctl(mv.fd, VFIO_ATTACH_IOASID, &attach));
	test_cmd(_test_bind(vm->fd, vm->s1, IOASID_PGTABLE_VTD_S1,
			    vm->root_s1, 48));
	open_ring(_metadata, vm, 4);
	*d = (struct fault_dma){
		.vfio_fd = mv.fd,
		.iova = GIOVA,
		.buf = out,
		.len = sizeof(out),
		.write = true,
	};
	test_cmd(fault_dma_start(d));
	next_record(&rec);
	/* A device bound through VFIO is named by the label it was given. */
	check_record(_metadata, &rec, vm->s1, MOCK_LABEL, 0, IOASID_FAULT_WRITE,
		     GIOVA);
	dma_waits(0);

	fault_ring_close(&vm->ring, false);
	ASSERT_EQ(0, close(vm->fd));
	vm->fd = -1;
	dma_returns(0, -EIO);
	ASSERT_EQ(0, DATA(0)[0]);
	/* The binding went with the fd: the device fd is all that is left. */
	ASSERT_EQ(0, close(mv.fd));
}

/*
 * The load: devices fault again and again, each through a first stage of
 * its own (two through their RIDs, two under a PASID), while the test
 * thread serves the ring (maps most pages, refuses some) and another
 * thread keeps detaching and reattaching the devices. Every DMA ends,
 * landed or failed; nothing is answered twice; nothing is lost.
 */
#define STORM_DEVS 4
#define STORM_DMAS 48		/* per device; distinct 64-byte slots */
#define STORM_SECONDS 60

struct storm_dev {
	struct vm *vm;
	unsigned int index;
	__u32 dev, child, pasid;
	__u64 root;
	pthread_t thread;
	bool joined;
	unsigned int landed, failed, bad, wrong_bytes;
	int bad_ret;
};

struct storm {
	struct vm *vm;
	struct storm_dev devs[STORM_DEVS];
	atomic_bool stop;
	pthread_t cycler;
	unsigned long cycles;
	int cycle_err;		/* what the step that failed answered */
	const char *cycle_step;
};

/* DMA @k of device @i: its page, the data page it gets, its slot. */
#define STORM_GIOVA(k) (GIOVA + (k) * PAGE_SIZE)
#define STORM_DATA(i, k) (4 * (i) + (k) % 4)
#define STORM_OFFSET(k) ((k) * 64 % PAGE_SIZE)

static void storm_pattern(__u8 *buf, unsigned int i, unsigned int k)
{
	unsigned int b;

	for (b = 0; b != 64; b++)
		buf[b] = (i << 6 | k) * 13 + b + 1;
}

/* A device's DMAs, one after the other; threads cannot ASSERT. */
static void *storm_dma_fn(void *arg)
{
	struct storm_dev *sd = arg;
	struct vm *vm = sd->vm;
	__u8 out[64];
	unsigned int k;
	int ret;

	for (k = 0; k != STORM_DMAS; k++) {
		storm_pattern(out, sd->index, k);
		ret = _test_dma_flags(vm->fd, sd->dev, sd->pasid,
				      STORM_GIOVA(k) + STORM_OFFSET(k), out,
				      sizeof(out),
				      IOASID_TEST_DMA_WRITE |
				      IOASID_TEST_DMA_PRI);
		if (!ret) {
			sd->landed++;
			if (memcmp(DATA(STORM_DATA(sd->index, k)) +
				   STORM_OFFSET(k), out, sizeof(out)))
				sd->wrong_bytes++;
		} else if (ret == -EIO) {
			sd->failed++;
		} else {
			sd->bad++;
			sd->bad_ret = ret;
		}
	}
	return NULL;
}

static int storm_attach(struct vm *vm, struct storm_dev *sd)
{
	if (sd->pasid)
		return _test_cmd_attach_pasid(vm->fd, sd->dev, sd->child,
					      sd->pasid);
	return _test_cmd_attach(vm->fd, sd->dev, sd->child);
}

static int storm_detach(struct vm *vm, struct storm_dev *sd)
{
	if (sd->pasid)
		return _test_cmd_detach_pasid(vm->fd, sd->dev, sd->child,
					      sd->pasid);
	return _test_cmd_detach(vm->fd, sd->dev);
}

/* One step of a cycle; EBUSY (a concurrent ioctl on it) is retried. */
typedef int (*storm_fn)(struct vm *vm, struct storm_dev *sd);

static bool storm_step(struct storm *s, const char *name, storm_fn fn,
		       struct storm_dev *sd)
{
	unsigned int tries;
	int ret;

	for (tries = 0; tries != 1000; tries++) {
		ret = fn(s->vm, sd);
		if (ret != -EBUSY)
			break;
		usleep(100);
	}
	if (ret) {
		s->cycle_err = ret;
		s->cycle_step = name;
	}
	return !ret;
}

static int storm_unbind(struct vm *vm, struct storm_dev *sd)
{
	return _test_unbind(vm->fd, sd->child);
}

static int storm_bind(struct vm *vm, struct storm_dev *sd)
{
	return _test_bind(vm->fd, sd->child, IOASID_PGTABLE_VTD_S1, sd->root,
			  48);
}

/*
 * Detach a device (which answers what it waits for), unbind its table,
 * attach it again and bind again: devices attach before a bind.
 */
static void *storm_cycle_fn(void *arg)
{
	struct storm *s = arg;
	struct storm_dev *sd;

	while (!atomic_load(&s->stop)) {
		sd = &s->devs[s->cycles % STORM_DEVS];
		if (!storm_step(s, "detach", storm_detach, sd) ||
		    !storm_step(s, "unbind", storm_unbind, sd) ||
		    !storm_step(s, "attach", storm_attach, sd) ||
		    !storm_step(s, "bind", storm_bind, sd))
			break;
		s->cycles++;
		usleep(2000);
	}
	return NULL;
}

/* Answer one group of the load: map and SUCCESS, or now and then INVALID. */
static void storm_serve(struct __test_metadata *_metadata, struct vm *vm,
			struct storm *s, const struct ioasid_fault_record *rec,
			__u64 *rng, unsigned long *served,
			unsigned long *refused, unsigned long *already)
{
	unsigned int i, k = (rec->addr - GIOVA) / PAGE_SIZE;
	__s32 result;
	int ret;

	for (i = 0; i != STORM_DEVS; i++)
		if (s->devs[i].child == rec->ioasid)
			break;
	ASSERT_NE(STORM_DEVS, i);
	ASSERT_TRUE(rec->flags & IOASID_FAULT_LAST_IN_GROUP);
	check_record(_metadata, rec, s->devs[i].child, s->devs[i].dev,
		     s->devs[i].pasid, IOASID_FAULT_WRITE, STORM_GIOVA(k));
	ASSERT_GT(STORM_DMAS, k);
	if (rng_one_in(rng, 4)) {
		test_cmd(_test_page_respond(vm->fd, vm->ring.id, rec->cookie,
					    IOASID_PAGE_RESP_INVALID,
					    &result));
		(*refused)++;
	} else {
		guest_map(&vm->g, s->devs[i].root, rec->addr,
			  DATA_GPA(STORM_DATA(i, k)), PTE_PWU);
		/*
		 * Unbound by the cycler just now, or being rebound: then
		 * nothing is cached, since a fault never is.
		 */
		ret = invalidate(vm, s->devs[i].child, rec->addr, 1);
		ASSERT_TRUE(!ret || ret == -ENOENT || ret == -EBUSY);
		test_cmd(_test_page_respond(vm->fd, vm->ring.id, rec->cookie,
					    IOASID_PAGE_RESP_SUCCESS,
					    &result));
		(*served)++;
	}
	/* The cycler's detach may have answered it first. */
	ASSERT_TRUE(!result || result == -EALREADY);
	*already += result == -EALREADY;
}

TEST_F_TIMEOUT(fault, concurrent_detach_storm, STORM_SECONDS + 30)
{
	/* Not on the stack: the threads outlive a failed ASSERT's jump. */
	static struct storm s;
	struct vm *vm = &self->vm;
	struct ioasid_fault_record rec[GROUP_MAX];
	__u32 ids[STORM_DEVS];
	unsigned long served = 0, refused = 0, already = 0, groups = 0;
	unsigned int i, landed = 0, failed = 0, joined = 0;
	struct timespec t0, t;
	__u64 rng = 0x5eed;
	bool timed_out = false;
	int n;

	s = (struct storm){ .vm = vm };
	/* Devices 0 and 1 fault through their RIDs, 2 and 3 under PASIDs. */
	for (i = 0; i != STORM_DEVS; i++) {
		struct storm_dev *sd = &s.devs[i];

		*sd = (struct storm_dev){
			.vm = vm,
			.index = i,
			.pasid = i >= 2 ? PASID + i : 0,
			.root = guest_alloc_table(&vm->g),
		};
		if (i == 0)
			sd->dev = vm->dev;
		else if (i == 1)
			sd->dev = vm->dev2;
		else
			test_cmd_mock_device_add(vm->fd,
						 IOASID_MOCK_INSTANCE_LARGE,
						 &sd->dev);
		test_cmd(_test_ioctl_create_nesting(vm->fd, vm->parent,
						    IOASID_NESTING_HARDWARE,
						    &sd->child));
		/* The upper levels now, so that serving only writes leaves. */
		guest_map(&vm->g, sd->root, GIOVA, 0, 0);
		test_cmd(storm_attach(vm, sd));
		test_cmd(storm_bind(vm, sd));
		ids[i] = sd->child;
	}
	ASSERT_GE(TABLE_PAGES, vm->g.next_table);
	test_cmd(fault_ring_open(vm->fd, 64, ids, STORM_DEVS, &vm->ring));

	for (i = 0; i != STORM_DEVS; i++)
		ASSERT_EQ(0, pthread_create(&s.devs[i].thread, NULL,
					    storm_dma_fn, &s.devs[i]));
	ASSERT_EQ(0, pthread_create(&s.cycler, NULL, storm_cycle_fn, &s));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (joined != STORM_DEVS) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= STORM_SECONDS) {
			timed_out = true;
			break;
		}
		for (i = 0; i != STORM_DEVS; i++)
			if (!s.devs[i].joined &&
			    !pthread_tryjoin_np(s.devs[i].thread, NULL)) {
				s.devs[i].joined = true;
				joined++;
			}
		n = fault_ring_group(&vm->ring, rec, ARRAY_SIZE(rec), 50);
		if (n == -ETIMEDOUT)
			continue;
		/* A 64-byte DMA asks for one page. */
		ASSERT_EQ(1, n);
		groups++;
		storm_serve(_metadata, vm, &s, &rec[0], &rng, &served,
			    &refused, &already);
	}
	atomic_store(&s.stop, true);
	ASSERT_EQ(0, pthread_join(s.cycler, NULL));
	if (timed_out) {
		/* Let every waiting DMA go before failing. */
		fault_ring_close(&vm->ring, true);
		for (i = 0; i != STORM_DEVS; i++)
			if (!s.devs[i].joined)
				pthread_join(s.devs[i].thread, NULL);
	}
	ASSERT_FALSE(timed_out);
	/* What a detach answered before the test read it is still there. */
	while (!fault_ring_next(&vm->ring, &rec[0], 0)) {
		__s32 result;

		test_cmd(_test_page_respond(vm->fd, vm->ring.id, rec[0].cookie,
					    IOASID_PAGE_RESP_SUCCESS,
					    &result));
		ASSERT_EQ(-EALREADY, result);
		groups++;
		already++;
	}
	if (s.cycle_err)
		TH_LOG("cycle %lu: %s answered %s", s.cycles, s.cycle_step,
		       errno_name(-s.cycle_err));
	ASSERT_EQ(0, s.cycle_err);
	for (i = 0; i != STORM_DEVS; i++) {
		struct storm_dev *sd = &s.devs[i];

		if (sd->bad)
			TH_LOG("device %u: a DMA answered %d", i, sd->bad_ret);
		ASSERT_EQ(0, sd->bad);
		ASSERT_EQ(0, sd->wrong_bytes);
		ASSERT_EQ(STORM_DMAS, sd->landed + sd->failed);
		landed += sd->landed;
		failed += sd->failed;
	}
	ASSERT_EQ(0, vm->ring.hdr->lost);
	ASSERT_EQ(0, fault_ring_pending(&vm->ring));
	ksft_print_msg("%lu groups: %lu served, %lu refused, %lu answered by a detach first\n",
		       groups, served, refused, already);
	ksft_print_msg("%u DMAs landed, %u failed; %lu detach cycles\n",
		       landed, failed, s.cycles);
	ASSERT_LT(0, landed);
	ASSERT_LT(0, failed);
	ASSERT_LT(0, s.cycles);
}

TEST_HARNESS_MAIN
