// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests for PASIDs on the mock IOMMU: attaching a device's DMA that is
 * tagged with a PASID apart from its untagged DMA, vSVA (RFC 5.5: a
 * guest process's first stage bound for one PASID), and a guest-owned
 * PASID table (RFC 5.7: the guest's table decides what every PASID of the
 * device reaches, through first stages in guest memory).
 *
 * Only the LARGE mock instance gives devices PASIDs and nests; the SMALL
 * one does neither, which is how the "not supported" answers are tested.
 * Every fixture maps guest RAM into a parent IOASID at GPA and, when it is
 * done, closes the fd and checks that no page of guest RAM is still
 * pinned; the teardown fixture does so after taking things apart in
 * different orders.
 */
#include "ioasid_utils.h"

#define RAM_PAGES 64
#define RAM_SIZE (RAM_PAGES * PAGE_SIZE)
#define GPA 0x200000UL		/* guest RAM, in the parent */
#define TABLE_PAGES 32		/* guest RAM pages 0-31 hold page tables */
#define DATA_PAGE(n) (TABLE_PAGES + (n))	/* the rest is data */
#define GIOVA 0x7f0000000000UL	/* a guest IOVA, or a process's address */
#define IOVA 0x40000000UL	/* where plain and software-nested IOASIDs map */
#define PASID_BITS 4		/* the guest's PASID table has 16 entries */
#define MAX_PASID ((1U << IOASID_MOCK_PASID_BITS) - 1)

/*
 * What every fixture here starts from: an fd, guest RAM that a parent
 * IOASID maps at GPA, two devices that have PASIDs and nest (LARGE) and
 * one that does neither (SMALL).
 */
struct vm {
	int fd;
	struct guest g;
	__u32 parent;
	__u32 dev, dev2, small_dev;
	__u32 ref0[RAM_PAGES];
	long pin0;
};

#define DATA(n) (vm->g.ram + DATA_PAGE(n) * PAGE_SIZE)
#define DATA_GPA(n) (GPA + DATA_PAGE(n) * PAGE_SIZE)

/* False if the kernel has no test ioctl: the caller skips. */
static bool vm_setup(struct __test_metadata *_metadata, struct vm *vm)
{
	__u32 ref;

	vm->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, vm->fd);
	if (page_ref(vm->fd, &ref, &ref, NULL) == -ENOTTY)
		return false;
	guest_ram_alloc(_metadata, vm->fd, &vm->g, GPA, RAM_SIZE, vm->ref0,
			&vm->pin0);
	test_ioctl_alloc(vm->fd, &vm->parent);
	test_ioctl_map(vm->fd, vm->parent, vm->g.ram, GPA, RAM_SIZE);
	test_cmd_mock_device_add(vm->fd, IOASID_MOCK_INSTANCE_LARGE, &vm->dev);
	test_cmd_mock_device_add(vm->fd, IOASID_MOCK_INSTANCE_LARGE,
				 &vm->dev2);
	test_cmd_mock_device_add(vm->fd, IOASID_MOCK_INSTANCE_SMALL,
				 &vm->small_dev);
	return true;
}

/* Whatever is left goes with the fd, and every page with it. */
static void vm_teardown(struct __test_metadata *_metadata, struct vm *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	guest_ram_free(_metadata, &vm->g, RAM_SIZE, vm->ref0, vm->pin0);
}

/*
 * A new first stage in guest RAM that maps GIOVA to data page @n, and
 * the page after it to data page @n + 1.
 */
static __u64 first_stage(struct vm *vm, unsigned int n)
{
	__u64 root = guest_alloc_table(&vm->g);

	guest_map(&vm->g, root, GIOVA, DATA_GPA(n), PTE_PWU);
	guest_map(&vm->g, root, GIOVA + PAGE_SIZE, DATA_GPA(n + 1), PTE_PWU);
	return root;
}

static int _test_bind_s1(struct vm *vm, __u32 ioasid, __u64 root)
{
	return _test_bind(vm->fd, ioasid, IOASID_PGTABLE_VTD_S1, root, 48);
}

/* A fresh pattern for each DMA, so no stale byte passes. */
static void fill_pattern(__u8 *buf, size_t len)
{
	static __u8 seq;
	size_t i;

	seq += 37;
	for (i = 0; i != len; i++)
		buf[i] = seq + i * 7 + 1;
}

/*
 * @dev's DMA at @iova, tagged with @pasid (0: untagged), reaches host
 * memory @host: a write lands there byte for byte, and a read returns
 * what is there.
 */
static void dma_lands(struct __test_metadata *_metadata, struct vm *vm,
		      __u32 dev, __u32 pasid, __u64 iova, __u8 *host)
{
	__u8 out[64], in[64];

	fill_pattern(out, sizeof(out));
	test_cmd(_test_dma_pasid(vm->fd, dev, pasid, iova, out, sizeof(out),
				 true));
	ASSERT_EQ(0, memcmp(host, out, sizeof(out)));
	fill_pattern(host, sizeof(out));
	test_cmd(_test_dma_pasid(vm->fd, dev, pasid, iova, in, sizeof(in),
				 false));
	ASSERT_EQ(0, memcmp(in, host, sizeof(in)));
}

/* @dev's DMA at @iova, tagged with @pasid, faults both ways. */
static void dma_faults(struct __test_metadata *_metadata, struct vm *vm,
		       __u32 dev, __u32 pasid, __u64 iova)
{
	__u8 buf[64], canary[64];

	fill_pattern(buf, sizeof(buf));
	memcpy(canary, buf, sizeof(buf));
	test_err_cmd(EIO, _test_dma_pasid(vm->fd, dev, pasid, iova, buf,
					  sizeof(buf), true));
	test_err_cmd(EIO, _test_dma_pasid(vm->fd, dev, pasid, iova, buf,
					  sizeof(buf), false));
	/* Not a byte of the buffer moved either. */
	ASSERT_EQ(0, memcmp(buf, canary, sizeof(buf)));
}

FIXTURE(pasid) {
	struct vm vm;
};

FIXTURE_SETUP(pasid)
{
	if (!vm_setup(_metadata, &self->vm))
		SKIP(return, "kernel without CONFIG_IOASID_TEST");
}

FIXTURE_TEARDOWN(pasid)
{
	vm_teardown(_metadata, &self->vm);
}

TEST_F(pasid, device_get_info)
{
	struct vm *vm = &self->vm;
	struct ioasid_cmd_device_get_info info;
	__u32 supported = 0;

	test_ioctl_check_extension(vm->fd, IOASID_EXT_USER_PASID, &supported);
	ASSERT_EQ(1, supported);
	test_ioctl_check_extension(vm->fd, IOASID_EXT_PASID_TABLE, &supported);
	ASSERT_EQ(1, supported);

	test_cmd(_test_device_get_info(vm->fd, vm->dev, &info));
	ASSERT_EQ(IOASID_MOCK_PASID_BITS, info.out_pasid_bits);
	ASSERT_EQ(IOASID_MOCK_HW_INFO_TYPE, info.out_hw_info_type);
	ASSERT_EQ(1U << IOASID_PGTABLE_VTD_S1 |
		  1U << IOASID_PGTABLE_MOCK_PASID_TABLE,
		  info.out_pgtable_formats);
	ASSERT_TRUE(info.out_capabilities &
		    IOASID_DEVICE_CAP_NESTING_HARDWARE);

	test_cmd(_test_device_get_info(vm->fd, vm->small_dev, &info));
	ASSERT_EQ(0, info.out_pasid_bits);
	ASSERT_EQ(0, info.out_pgtable_formats);
}

TEST_F(pasid, attach_errnos)
{
	struct vm *vm = &self->vm;
	__u32 other;

	test_ioctl_alloc(vm->fd, &other);
	/* A device that cannot tag DMA has no PASID to attach. */
	test_err_cmd_attach_pasid(EOPNOTSUPP, vm->fd, vm->small_dev,
				  vm->parent, 1);
	/* PASID 0 is untagged DMA; the last is one below 1 << 20. */
	test_err_cmd_attach_pasid(EINVAL, vm->fd, vm->dev, vm->parent, 0);
	test_err_cmd_attach_pasid(EINVAL, vm->fd, vm->dev, vm->parent,
				  MAX_PASID + 1);
	test_err_cmd_attach_pasid(EINVAL, vm->fd, vm->dev, vm->parent,
				  ~0U);
	/* A PASID without the flag, and a flag nobody knows. */
	test_err_cmd(EINVAL, _test_cmd_dev_flags(vm->fd, IOASID_TEST_OP_ATTACH,
						 vm->dev, vm->parent, 0, 5));
	test_err_cmd(EOPNOTSUPP,
		     _test_cmd_dev_flags(vm->fd, IOASID_TEST_OP_ATTACH,
					 vm->dev, vm->parent,
					 IOASID_ATTACH_USER_PASID | 1 << 5,
					 5));
	test_err_cmd(EOPNOTSUPP,
		     _test_cmd_dev_flags(vm->fd, IOASID_TEST_OP_DETACH,
					 vm->dev, vm->parent, 1 << 5, 0));
	test_err_cmd_attach_pasid(ENOENT, vm->fd, vm->dev, 0xdead, 5);
	/* Nothing was attached by any of that. */
	test_err_cmd_detach_pasid(ENXIO, vm->fd, vm->dev, vm->parent, 5);
	test_err_cmd(ENXIO, _test_cmd_detach(vm->fd, vm->dev));

	test_cmd_attach_pasid(vm->fd, vm->dev, vm->parent, MAX_PASID);
	test_cmd_attach_pasid(vm->fd, vm->dev, vm->parent, 5);
	/* One IOASID per PASID: again, or elsewhere, is busy. */
	test_err_cmd_attach_pasid(EBUSY, vm->fd, vm->dev, vm->parent, 5);
	test_err_cmd_attach_pasid(EBUSY, vm->fd, vm->dev, other, 5);
	/* A detach names the PASID and the IOASID it is attached to. */
	test_err_cmd_detach_pasid(ENXIO, vm->fd, vm->dev, other, 5);
	test_err_cmd_detach_pasid(ENXIO, vm->fd, vm->dev, vm->parent, 6);
	test_err_cmd_detach_pasid(ENXIO, vm->fd, vm->dev2, vm->parent, 5);
	test_err_cmd_detach_pasid(EINVAL, vm->fd, vm->dev, vm->parent, 0);
	/* An IOASID a PASID is attached to is in use. */
	test_err_ioctl_free(EBUSY, vm->fd, vm->parent);
	test_cmd_detach_pasid(vm->fd, vm->dev, vm->parent, 5);
	test_err_cmd_detach_pasid(ENXIO, vm->fd, vm->dev, vm->parent, 5);
	test_cmd_attach_pasid(vm->fd, vm->dev, other, 5);
	test_cmd_attach(vm->fd, vm->dev, vm->parent);

	/* Without the flag, DETACH takes the RID and every PASID at once. */
	test_cmd_detach(vm->fd, vm->dev);
	test_err_cmd_detach_pasid(ENXIO, vm->fd, vm->dev, other, 5);
	test_err_cmd_detach_pasid(ENXIO, vm->fd, vm->dev, vm->parent,
				  MAX_PASID);
	test_err_cmd(ENXIO, _test_cmd_detach(vm->fd, vm->dev));
	test_ioctl_free(vm->fd, other);
}

TEST_F(pasid, dma_errnos)
{
	struct vm *vm = &self->vm;
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_DMA,
		.dev_id = vm->dev,
		.dma = {
			.iova = DATA_GPA(0),
			.length = 8,
			.pasid = 5,
		},
	};
	__u8 buf[8];

	cmd.dma.uptr = (uintptr_t)buf;
	test_cmd_attach_pasid(vm->fd, vm->dev, vm->parent, 5);
	/* A PASID needs the flag that says the DMA carries one. */
	test_err_cmd(EOPNOTSUPP, _test_cmd_mock(vm->fd, &cmd));
	cmd.dma.flags = IOASID_TEST_DMA_PASID | 1 << 7;
	test_err_cmd(EOPNOTSUPP, _test_cmd_mock(vm->fd, &cmd));
	cmd.dma.flags = IOASID_TEST_DMA_PASID;
	test_cmd(_test_cmd_mock(vm->fd, &cmd));

	/* A PASID attached nowhere, or past the device's, faults. */
	dma_faults(_metadata, vm, vm->dev, 6, DATA_GPA(0));
	dma_faults(_metadata, vm, vm->dev, MAX_PASID + 1, DATA_GPA(0));
	dma_faults(_metadata, vm, vm->dev, ~0U, DATA_GPA(0));
	/* The RID is attached nowhere either. */
	dma_faults(_metadata, vm, vm->dev, 0, DATA_GPA(0));
	/* Nor has a device without PASIDs any to tag with. */
	test_cmd_attach(vm->fd, vm->small_dev, vm->parent);
	dma_lands(_metadata, vm, vm->small_dev, 0, DATA_GPA(1), DATA(1));
	dma_faults(_metadata, vm, vm->small_dev, 5, DATA_GPA(1));
}

/* Many DMAs in one call, each with its own answer. */
TEST_F(pasid, dma_batch)
{
	struct vm *vm = &self->vm;
	__u8 out[4][32], in[32];
	struct ioasid_test_dma_req req[4] = {
		{ .iova = DATA_GPA(1), .length = 32,
		  .flags = IOASID_TEST_DMA_WRITE },
		{ .iova = DATA_GPA(1), .length = 32,
		  .flags = IOASID_TEST_DMA_PASID, .pasid = 5 },
		{ .iova = GPA - PAGE_SIZE, .length = 32,
		  .flags = IOASID_TEST_DMA_WRITE },
		/* Across a page boundary: both pages are guest RAM. */
		{ .iova = DATA_GPA(3) - 16, .length = 32,
		  .flags = IOASID_TEST_DMA_WRITE | IOASID_TEST_DMA_PASID,
		  .pasid = 5 },
	};
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_DMA_BATCH,
		.dev_id = vm->dev,
		.dma_batch = {
			.uptr = (uintptr_t)req,
			.num = 4,
		},
	};
	unsigned int i;

	for (i = 0; i != 4; i++) {
		fill_pattern(out[i], sizeof(out[i]));
		req[i].uptr = (uintptr_t)out[i];
	}
	req[1].uptr = (uintptr_t)in;
	test_cmd_attach(vm->fd, vm->dev, vm->parent);
	test_cmd_attach_pasid(vm->fd, vm->dev, vm->parent, 5);

	test_cmd(_test_cmd_mock(vm->fd, &cmd));
	ASSERT_EQ(4, cmd.dma_batch.num);
	ASSERT_EQ(1, cmd.dma_batch.out_faults);
	ASSERT_EQ(0, req[0].out_result);
	ASSERT_EQ(0, req[1].out_result);
	ASSERT_EQ(-EIO, req[2].out_result);
	ASSERT_EQ(0, req[3].out_result);
	/* In order: the read saw the write before it. */
	ASSERT_EQ(0, memcmp(DATA(1), out[0], 32));
	ASSERT_EQ(0, memcmp(in, out[0], 32));
	ASSERT_EQ(0, memcmp(DATA(3) - 16, out[3], 32));

	/* A malformed request stops the batch, and says where. */
	for (i = 0; i != 4; i++)
		req[i].out_result = 77;
	req[2].length = 0;
	cmd.dma_batch.num = 4;
	test_err_cmd(EINVAL, _test_cmd_mock(vm->fd, &cmd));
	ASSERT_EQ(2, cmd.dma_batch.num);
	ASSERT_EQ(0, req[1].out_result);
	ASSERT_EQ(77, req[2].out_result);
	ASSERT_EQ(77, req[3].out_result);
	req[2].length = 4097;
	cmd.dma_batch.num = 4;
	test_err_cmd(EINVAL, _test_cmd_mock(vm->fd, &cmd));
	ASSERT_EQ(2, cmd.dma_batch.num);
	req[2].length = 32;
	req[2].pasid = 5;
	cmd.dma_batch.num = 4;
	test_err_cmd(EOPNOTSUPP, _test_cmd_mock(vm->fd, &cmd));
	ASSERT_EQ(2, cmd.dma_batch.num);

	cmd.dma_batch.num = 0;
	test_err_cmd(EINVAL, _test_cmd_mock(vm->fd, &cmd));
	cmd.dma_batch.num = IOASID_TEST_DMA_BATCH_MAX + 1;
	test_err_cmd(EINVAL, _test_cmd_mock(vm->fd, &cmd));
}

/*
 * RFC 5.5, vSVA: the guest binds a process's page table for one PASID
 * of the device. The child nests on the parent in hardware; the device's
 * RID stays on the parent, where the guest's DMA API uses GPAs, and only
 * DMA tagged with the PASID walks the process's table.
 */
TEST_F(pasid, rfc_5_5_vsva)
{
	struct vm *vm = &self->vm;
	__u64 root = first_stage(vm, 1);
	__u8 out[128];
	__u32 gva;

	test_cmd(_test_ioctl_create_nesting(vm->fd, vm->parent,
					    IOASID_NESTING_HARDWARE, &gva));
	test_cmd_attach(vm->fd, vm->dev, vm->parent);
	test_cmd_attach_pasid(vm->fd, vm->dev, gva, 7);
	/* Until the guest binds its table, the PASID reaches nothing. */
	dma_faults(_metadata, vm, vm->dev, 7, GIOVA);
	test_cmd(_test_bind_s1(vm, gva, root));
	/* Devices and PASIDs attach before the bind. */
	test_err_cmd_attach_pasid(EBUSY, vm->fd, vm->dev2, gva, 7);
	test_err_cmd_attach_pasid(EBUSY, vm->fd, vm->dev, gva, 8);
	test_err_cmd_attach(EBUSY, vm->fd, vm->dev2, gva);

	dma_lands(_metadata, vm, vm->dev, 7, GIOVA + 100, DATA(1) + 100);
	dma_lands(_metadata, vm, vm->dev, 7, GIOVA + PAGE_SIZE, DATA(2));
	/* One DMA across the boundary of two guest pages. */
	fill_pattern(out, sizeof(out));
	test_cmd(_test_dma_pasid(vm->fd, vm->dev, 7, GIOVA + PAGE_SIZE - 64,
				 out, sizeof(out), true));
	ASSERT_EQ(0, memcmp(DATA(2) - 64, out, sizeof(out)));
	/* Untagged DMA is the guest's DMA API: GPAs, through the parent. */
	dma_lands(_metadata, vm, vm->dev, 0, DATA_GPA(5), DATA(5));
	dma_faults(_metadata, vm, vm->dev, 0, GIOVA);
	dma_faults(_metadata, vm, vm->dev, 7, DATA_GPA(5));
	/* Other PASIDs, and the same PASID of another device, are apart. */
	dma_faults(_metadata, vm, vm->dev, 8, GIOVA);
	dma_faults(_metadata, vm, vm->dev2, 7, GIOVA);

	/* Unbound, the PASID reaches nothing; bound again, the same. */
	test_cmd(_test_unbind(vm->fd, gva));
	dma_faults(_metadata, vm, vm->dev, 7, GIOVA);
	dma_lands(_metadata, vm, vm->dev, 0, DATA_GPA(5), DATA(5));
	test_cmd(_test_bind_s1(vm, gva, root));
	dma_lands(_metadata, vm, vm->dev, 7, GIOVA, DATA(1));
	/* The process exits: its PASID goes, the RID stays. */
	test_cmd_detach_pasid(vm->fd, vm->dev, gva, 7);
	dma_faults(_metadata, vm, vm->dev, 7, GIOVA);
	dma_lands(_metadata, vm, vm->dev, 0, DATA_GPA(5), DATA(5));
	test_err_ioctl_free(EBUSY, vm->fd, vm->parent);
	test_ioctl_free(vm->fd, gva);
}

/* The process changes its page table: stale until the guest says so. */
TEST_F(pasid, vsva_stale_until_invalidated)
{
	struct vm *vm = &self->vm;
	__u64 root = first_stage(vm, 1);
	struct iommu_hwpt_vtd_s1_invalidate inv = {
		.addr = GIOVA,
		.npages = 1,
	};
	__u32 gva, num = 1;

	test_cmd(_test_ioctl_create_nesting(vm->fd, vm->parent,
					    IOASID_NESTING_HARDWARE, &gva));
	test_cmd_attach_pasid(vm->fd, vm->dev, gva, 7);
	test_cmd_attach_pasid(vm->fd, vm->dev2, gva, 9);
	test_cmd(_test_bind_s1(vm, gva, root));
	dma_lands(_metadata, vm, vm->dev, 7, GIOVA, DATA(1));
	dma_lands(_metadata, vm, vm->dev2, 9, GIOVA, DATA(1));

	guest_map(&vm->g, root, GIOVA, DATA_GPA(4), PTE_PWU);
	dma_lands(_metadata, vm, vm->dev, 7, GIOVA, DATA(1));
	dma_lands(_metadata, vm, vm->dev2, 9, GIOVA, DATA(1));
	/* Another page's invalidation leaves it. */
	inv.addr = GIOVA + PAGE_SIZE;
	test_cmd(_test_invalidate(vm->fd, gva, &inv, &num));
	dma_lands(_metadata, vm, vm->dev, 7, GIOVA, DATA(1));
	/* The table's, wherever it is attached: both devices see the new page. */
	inv.addr = GIOVA;
	test_cmd(_test_invalidate(vm->fd, gva, &inv, &num));
	ASSERT_EQ(1, num);
	dma_lands(_metadata, vm, vm->dev, 7, GIOVA, DATA(4));
	dma_lands(_metadata, vm, vm->dev2, 9, GIOVA, DATA(4));

	/* Unmapped by the process: faults once invalidated. */
	guest_map(&vm->g, root, GIOVA, 0, 0);
	test_cmd(_test_invalidate_all(vm->fd, gva));
	dma_faults(_metadata, vm, vm->dev, 7, GIOVA);
	dma_faults(_metadata, vm, vm->dev2, 9, GIOVA);
}

/*
 * PASID attachments of one device to IOASIDs of each kind. The target
 * maps its IOVA to data pages 1 and 2: a plain IOASID maps the host
 * memory itself, a software-nested one maps it from the parent's GPAs,
 * and a hardware-nested one has a first stage in guest RAM bound
 * (rebound after each attach, since devices attach before a bind).
 */
enum target_kind {
	TARGET_PLAIN,
	TARGET_SOFTWARE,
	TARGET_HARDWARE,
};

FIXTURE(pasid_kind) {
	struct vm vm;
	__u32 target;
	__u64 iova;
	__u64 root;
	bool bound;
};

FIXTURE_VARIANT(pasid_kind) {
	enum target_kind kind;
};

FIXTURE_VARIANT_ADD(pasid_kind, plain) {
	.kind = TARGET_PLAIN,
};

FIXTURE_VARIANT_ADD(pasid_kind, software_nested) {
	.kind = TARGET_SOFTWARE,
};

FIXTURE_VARIANT_ADD(pasid_kind, hardware_nested) {
	.kind = TARGET_HARDWARE,
};

FIXTURE_SETUP(pasid_kind)
{
	struct vm *vm = &self->vm;

	if (!vm_setup(_metadata, vm))
		SKIP(return, "kernel without CONFIG_IOASID_TEST");
	switch (variant->kind) {
	case TARGET_PLAIN:
		self->iova = IOVA;
		test_ioctl_alloc(vm->fd, &self->target);
		test_ioctl_map(vm->fd, self->target, DATA(1), IOVA,
			       2 * PAGE_SIZE);
		break;
	case TARGET_SOFTWARE:
		self->iova = IOVA;
		test_ioctl_create_nesting(vm->fd, vm->parent, &self->target);
		test_ioctl_map_from_parent(vm->fd, self->target, DATA_GPA(1),
					   IOVA, 2 * PAGE_SIZE);
		break;
	case TARGET_HARDWARE:
		self->iova = GIOVA;
		test_cmd(_test_ioctl_create_nesting(vm->fd, vm->parent,
						    IOASID_NESTING_HARDWARE,
						    &self->target));
		self->root = first_stage(vm, 1);
		break;
	}
}

FIXTURE_TEARDOWN(pasid_kind)
{
	vm_teardown(_metadata, &self->vm);
}

static void target_attach(struct __test_metadata *_metadata,
			  FIXTURE_DATA(pasid_kind) * self,
			  const FIXTURE_VARIANT(pasid_kind) * variant,
			  __u32 dev, __u32 pasid)
{
	struct vm *vm = &self->vm;

	if (variant->kind != TARGET_HARDWARE) {
		test_cmd_attach_pasid(vm->fd, dev, self->target, pasid);
		return;
	}
	if (self->bound)
		test_cmd(_test_unbind(vm->fd, self->target));
	test_cmd_attach_pasid(vm->fd, dev, self->target, pasid);
	test_cmd(_test_bind_s1(vm, self->target, self->root));
	self->bound = true;
}

#define TARGET_ATTACH(dev, pasid) \
	target_attach(_metadata, self, variant, dev, pasid)

TEST_F(pasid_kind, tagged_dma)
{
	struct vm *vm = &self->vm;

	TARGET_ATTACH(vm->dev, 5);
	dma_lands(_metadata, vm, vm->dev, 5, self->iova + 8, DATA(1) + 8);
	dma_lands(_metadata, vm, vm->dev, 5, self->iova + PAGE_SIZE, DATA(2));
	/* Nothing else of the device reaches anything. */
	dma_faults(_metadata, vm, vm->dev, 0, self->iova);
	dma_faults(_metadata, vm, vm->dev, 6, self->iova);
	dma_faults(_metadata, vm, vm->dev2, 5, self->iova);
	dma_faults(_metadata, vm, vm->dev, 5, self->iova + 2 * PAGE_SIZE);
	test_cmd_detach_pasid(vm->fd, vm->dev, self->target, 5);
	dma_faults(_metadata, vm, vm->dev, 5, self->iova);
}

/* The RID and each PASID attach, and detach, on their own. */
TEST_F(pasid_kind, rid_and_pasids_apart)
{
	struct vm *vm = &self->vm;

	test_cmd_attach(vm->fd, vm->dev, vm->parent);
	TARGET_ATTACH(vm->dev, 5);
	test_cmd_attach_pasid(vm->fd, vm->dev, vm->parent, 7);
	dma_lands(_metadata, vm, vm->dev, 0, DATA_GPA(3), DATA(3));
	dma_lands(_metadata, vm, vm->dev, 5, self->iova, DATA(1));
	dma_lands(_metadata, vm, vm->dev, 7, DATA_GPA(4), DATA(4));
	/* Each sees only its own IOASID's addresses. */
	dma_faults(_metadata, vm, vm->dev, 0, self->iova);
	dma_faults(_metadata, vm, vm->dev, 5, DATA_GPA(3));

	test_cmd_detach_pasid(vm->fd, vm->dev, self->target, 5);
	dma_faults(_metadata, vm, vm->dev, 5, self->iova);
	dma_lands(_metadata, vm, vm->dev, 0, DATA_GPA(3), DATA(3));
	dma_lands(_metadata, vm, vm->dev, 7, DATA_GPA(4), DATA(4));

	/* DETACH without a PASID takes all of them, and the RID. */
	TARGET_ATTACH(vm->dev, 5);
	test_cmd_detach(vm->fd, vm->dev);
	dma_faults(_metadata, vm, vm->dev, 0, DATA_GPA(3));
	dma_faults(_metadata, vm, vm->dev, 5, self->iova);
	dma_faults(_metadata, vm, vm->dev, 7, DATA_GPA(4));
	test_err_cmd_detach_pasid(ENXIO, vm->fd, vm->dev, self->target, 5);
	/* And left nothing behind: all of it attaches again. */
	TARGET_ATTACH(vm->dev, 5);
	test_cmd_attach_pasid(vm->fd, vm->dev, vm->parent, 7);
	test_cmd_attach(vm->fd, vm->dev, vm->parent);
	dma_lands(_metadata, vm, vm->dev, 5, self->iova, DATA(1));
	dma_lands(_metadata, vm, vm->dev, 7, DATA_GPA(4), DATA(4));
	dma_lands(_metadata, vm, vm->dev, 0, DATA_GPA(3), DATA(3));
}

/*
 * A group's devices share each attachment, a PASID's as the RID's: one
 * device's attach reaches the other's DMA tagged with that PASID, and it
 * stays attached while either device asks for it.
 */
TEST_F(pasid_kind, group_shares_pasid)
{
	const __u32 share = IOASID_MOCK_DEVICE_SHARE_GROUP;
	struct vm *vm = &self->vm;
	__u32 first, sibling;

	test_cmd(mock_device_add_flags(vm->fd, IOASID_MOCK_INSTANCE_LARGE,
				       share, &first));
	test_cmd(mock_device_add_flags(vm->fd, IOASID_MOCK_INSTANCE_LARGE,
				       share, &sibling));
	TARGET_ATTACH(first, 5);
	/* The sibling never asked, but its PASID 5 goes there now. */
	dma_lands(_metadata, vm, sibling, 5, self->iova, DATA(1));
	dma_faults(_metadata, vm, sibling, 6, self->iova);
	dma_faults(_metadata, vm, sibling, 0, self->iova);
	/* One group, one IOASID per PASID */
	test_err_cmd_attach_pasid(EBUSY, vm->fd, sibling, vm->parent, 5);
	TARGET_ATTACH(sibling, 5);
	test_err_cmd_attach_pasid(EBUSY, vm->fd, sibling, self->target, 5);

	/* Attached while one of its devices asks for it */
	test_cmd_detach_pasid(vm->fd, first, self->target, 5);
	test_err_cmd_detach_pasid(ENXIO, vm->fd, first, self->target, 5);
	dma_lands(_metadata, vm, first, 5, self->iova + PAGE_SIZE, DATA(2));
	test_cmd_detach_pasid(vm->fd, sibling, self->target, 5);
	dma_faults(_metadata, vm, first, 5, self->iova);
	dma_faults(_metadata, vm, sibling, 5, self->iova);

	/* Either device brings the group's PASID elsewhere now. */
	test_cmd_attach_pasid(vm->fd, sibling, vm->parent, 5);
	dma_lands(_metadata, vm, first, 5, DATA_GPA(3), DATA(3));

	/*
	 * The device that attached first leaves the group (unplugged) while
	 * the other still uses the PASID: the attachment stays, and goes
	 * when the other detaches.
	 */
	test_cmd_attach_pasid(vm->fd, first, vm->parent, 5);
	test_cmd_detach_pasid(vm->fd, sibling, vm->parent, 5);
	test_cmd_attach_pasid(vm->fd, sibling, vm->parent, 5);
	test_cmd_device_del(vm->fd, first);
	dma_lands(_metadata, vm, sibling, 5, DATA_GPA(4), DATA(4));
	test_cmd_detach_pasid(vm->fd, sibling, vm->parent, 5);
	dma_faults(_metadata, vm, sibling, 5, DATA_GPA(4));
	test_cmd_attach_pasid(vm->fd, sibling, vm->parent, 5);
}

/* Each device has a PASID space of its own. */
TEST_F(pasid_kind, two_devices_one_pasid)
{
	struct vm *vm = &self->vm;

	TARGET_ATTACH(vm->dev, 5);
	test_cmd_attach_pasid(vm->fd, vm->dev2, vm->parent, 5);
	dma_lands(_metadata, vm, vm->dev, 5, self->iova, DATA(1));
	dma_lands(_metadata, vm, vm->dev2, 5, DATA_GPA(3), DATA(3));
	dma_faults(_metadata, vm, vm->dev, 5, DATA_GPA(3));
	dma_faults(_metadata, vm, vm->dev2, 5, self->iova);

	/* Or the same PASID of both for one IOASID. */
	test_cmd_detach_pasid(vm->fd, vm->dev2, vm->parent, 5);
	TARGET_ATTACH(vm->dev2, 5);
	dma_lands(_metadata, vm, vm->dev2, 5, self->iova + PAGE_SIZE,
		  DATA(2));
	dma_lands(_metadata, vm, vm->dev, 5, self->iova + PAGE_SIZE, DATA(2));
	test_cmd_detach_pasid(vm->fd, vm->dev, self->target, 5);
	dma_faults(_metadata, vm, vm->dev, 5, self->iova);
	dma_lands(_metadata, vm, vm->dev2, 5, self->iova, DATA(1));
}

TEST_F(pasid_kind, busy_rules)
{
	struct vm *vm = &self->vm;

	TARGET_ATTACH(vm->dev, 5);
	test_err_cmd_attach_pasid(EBUSY, vm->fd, vm->dev, self->target, 5);
	test_err_cmd_attach_pasid(EBUSY, vm->fd, vm->dev, vm->parent, 5);
	test_err_cmd_detach_pasid(ENXIO, vm->fd, vm->dev, vm->parent, 5);
	test_err_cmd_detach_pasid(ENXIO, vm->fd, vm->dev, self->target, 6);
	test_err_cmd_detach_pasid(ENXIO, vm->fd, vm->dev2, self->target, 5);
	test_err_ioctl_free(EBUSY, vm->fd, self->target);
	/* The refusals changed nothing. */
	dma_lands(_metadata, vm, vm->dev, 5, self->iova, DATA(1));
	test_cmd_detach_pasid(vm->fd, vm->dev, self->target, 5);
	test_ioctl_free(vm->fd, self->target);
}

/* PASIDs across the whole range, spread over two IOASIDs. */
TEST_F(pasid_kind, many_pasids)
{
	static const __u32 pasids[] = {
		1, 2, 3, 0x80, 0xfff, 0x1000, 0x7ffff, 0x80000, 0xffffe,
		MAX_PASID,
	};
	struct vm *vm = &self->vm;
	unsigned int i;

	/* Hardware-nested: all attach before the one bind. */
	for (i = 0; i != ARRAY_SIZE(pasids); i++) {
		if (i % 2) {
			test_cmd_attach_pasid(vm->fd, vm->dev, vm->parent,
					      pasids[i]);
		} else if (variant->kind == TARGET_HARDWARE) {
			test_cmd_attach_pasid(vm->fd, vm->dev, self->target,
					      pasids[i]);
		} else {
			TARGET_ATTACH(vm->dev, pasids[i]);
		}
	}
	if (variant->kind == TARGET_HARDWARE)
		test_cmd(_test_bind_s1(vm, self->target, self->root));
	for (i = 0; i != ARRAY_SIZE(pasids); i++) {
		if (i % 2)
			dma_lands(_metadata, vm, vm->dev, pasids[i],
				  DATA_GPA(3), DATA(3));
		else
			dma_lands(_metadata, vm, vm->dev, pasids[i],
				  self->iova, DATA(1));
		dma_faults(_metadata, vm, vm->dev, pasids[i] ^ 0x100,
			   self->iova);
	}
	test_cmd_detach(vm->fd, vm->dev);
	for (i = 0; i != ARRAY_SIZE(pasids); i++)
		dma_faults(_metadata, vm, vm->dev, pasids[i], self->iova);
}

/*
 * RFC 5.7: the guest owns a PASID table. X is hardware-nested on the
 * parent with the device's RID attached; its table, in guest RAM, gives
 * entry 0 (untagged DMA), PASID 3 and PASID 9 first stages of their own:
 * GIOVA maps to data page n and the page after it to n + 1, for n = 0,
 * 3 and 9. Tests bind it when they are ready.
 */
FIXTURE(pasid_table) {
	struct vm vm;
	__u32 x;
	__u64 table;
	__u64 root0, root3, root9;
};

FIXTURE_SETUP(pasid_table)
{
	struct vm *vm = &self->vm;

	if (!vm_setup(_metadata, vm))
		SKIP(return, "kernel without CONFIG_IOASID_TEST");
	test_cmd(_test_ioctl_create_nesting(vm->fd, vm->parent,
					    IOASID_NESTING_HARDWARE, &self->x));
	test_cmd_attach(vm->fd, vm->dev, self->x);
	self->table = guest_alloc_table(&vm->g);
	self->root0 = first_stage(vm, 0);
	self->root3 = first_stage(vm, 3);
	self->root9 = first_stage(vm, 9);
	guest_set_pasid(&vm->g, self->table, 0, self->root0);
	guest_set_pasid(&vm->g, self->table, 3, self->root3);
	guest_set_pasid(&vm->g, self->table, 9, self->root9);
}

FIXTURE_TEARDOWN(pasid_table)
{
	vm_teardown(_metadata, &self->vm);
}

static int _bind_table(FIXTURE_DATA(pasid_table) * self)
{
	return _test_bind_pasid_table(self->vm.fd, self->x, self->table,
				      PASID_BITS);
}

/* One invalidation entry for the bound table. */
static int _invalidate_one(FIXTURE_DATA(pasid_table) * self, __u32 type,
			   __u32 pasid, __u64 addr, __u64 npages)
{
	struct ioasid_mock_pasid_table_invalidate inv = {
		.type = type,
		.pasid = pasid,
		.addr = addr,
		.npages = npages,
	};
	__u32 num = 1;

	return _test_invalidate_pasid(self->vm.fd, self->x, &inv, &num);
}

#define invalidate_iotlb(pasid, addr, npages)				\
	test_cmd(_invalidate_one(self, IOASID_MOCK_INV_IOTLB, pasid, addr, \
				 npages))
#define invalidate_pasid_cache(pasid)					\
	test_cmd(_test_invalidate_pasid_cache(self->vm.fd, self->x, pasid))

TEST_F(pasid_table, rfc_5_7_dma)
{
	struct vm *vm = &self->vm;

	test_cmd(_bind_table(self));
	/* Untagged DMA is entry 0's; each PASID its entry's. */
	dma_lands(_metadata, vm, vm->dev, 0, GIOVA + 8, DATA(0) + 8);
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(3));
	dma_lands(_metadata, vm, vm->dev, 9, GIOVA + PAGE_SIZE + 5,
		  DATA(10) + 5);
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA + PAGE_SIZE, DATA(4));
	/* Not present, past the table, past the device's PASIDs. */
	dma_faults(_metadata, vm, vm->dev, 5, GIOVA);
	dma_faults(_metadata, vm, vm->dev, 1 << PASID_BITS, GIOVA);
	dma_faults(_metadata, vm, vm->dev, MAX_PASID, GIOVA);
	/* A GPA is no address for any of them. */
	dma_faults(_metadata, vm, vm->dev, 0, DATA_GPA(0));
	dma_faults(_metadata, vm, vm->dev, 3, DATA_GPA(3));

	/* An entry with a reserved bit set faults, whatever its root. */
	guest_page(&vm->g, self->table)[5] = self->root3 | 1ULL << 1 |
					     IOASID_MOCK_PASID_ENTRY_PRESENT;
	guest_page(&vm->g, self->table)[6] = self->root3 | 1ULL << 48 |
					     IOASID_MOCK_PASID_ENTRY_PRESENT;
	dma_faults(_metadata, vm, vm->dev, 5, GIOVA);
	dma_faults(_metadata, vm, vm->dev, 6, GIOVA);
	/* As does a root the parent does not map. */
	guest_set_pasid(&vm->g, self->table, 7, GPA + RAM_SIZE);
	dma_faults(_metadata, vm, vm->dev, 7, GIOVA);
	/* Entries never read before need no invalidation. */
	guest_set_pasid(&vm->g, self->table, 8, self->root9);
	dma_lands(_metadata, vm, vm->dev, 8, GIOVA, DATA(9));
}

/* Every device on the table looks its PASIDs up there. */
TEST_F(pasid_table, two_devices)
{
	struct vm *vm = &self->vm;

	test_cmd_attach(vm->fd, vm->dev2, self->x);
	test_err_cmd_attach(EOPNOTSUPP, vm->fd, vm->small_dev, self->x);
	test_cmd(_bind_table(self));
	dma_lands(_metadata, vm, vm->dev2, 3, GIOVA, DATA(3));
	dma_lands(_metadata, vm, vm->dev2, 0, GIOVA, DATA(0));
	dma_lands(_metadata, vm, vm->dev, 9, GIOVA, DATA(9));
	/* One leaves; the other goes on. */
	test_cmd_detach(vm->fd, vm->dev2);
	dma_faults(_metadata, vm, vm->dev2, 3, GIOVA);
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(3));
}

TEST_F(pasid_table, bind_errnos)
{
	struct vm *vm = &self->vm;
	struct ioasid_mock_pasid_table data = {
		.base = self->table,
		.pasid_bits = PASID_BITS,
	};
	struct iommu_hwpt_vtd_s1 s1 = {
		.pgtbl_addr = self->root0,
		.addr_width = 48,
	};
	__u32 plain, sw, y;

	test_ioctl_alloc(vm->fd, &plain);
	test_ioctl_create_nesting(vm->fd, vm->parent, &sw);
	test_cmd(_test_ioctl_create_nesting(vm->fd, vm->parent,
					    IOASID_NESTING_HARDWARE, &y));

	/* Each ioctl takes its own kind of format. */
	test_err_cmd(EINVAL, _test_bind_data(vm->fd, IOASID_BIND_PGTABLE,
					     self->x,
					     IOASID_PGTABLE_MOCK_PASID_TABLE,
					     &data, sizeof(data)));
	test_err_cmd(EINVAL, _test_bind_data(vm->fd, IOASID_BIND_PASID_TABLE,
					     self->x, IOASID_PGTABLE_VTD_S1,
					     &s1, sizeof(s1)));
	test_err_cmd(EOPNOTSUPP,
		     _test_bind_data(vm->fd, IOASID_BIND_PASID_TABLE, self->x,
				     30, &data, sizeof(data)));
	test_err_cmd(EOPNOTSUPP,
		     _test_bind_data(vm->fd, IOASID_BIND_PASID_TABLE, self->x,
				     IOASID_PGTABLE_NONE, &data, sizeof(data)));
	/* The table's own fields. */
	data.base = self->table + 8;
	test_err_cmd(EINVAL, _test_bind_data(vm->fd, IOASID_BIND_PASID_TABLE,
					     self->x,
					     IOASID_PGTABLE_MOCK_PASID_TABLE,
					     &data, sizeof(data)));
	data.base = self->table;
	test_err_cmd(EINVAL, _test_bind_pasid_table(vm->fd, self->x,
						    self->table, 0));
	test_err_cmd(EINVAL, _test_bind_pasid_table(vm->fd, self->x,
						    self->table,
						    IOASID_MOCK_PASID_BITS + 1));
	data.flags = 1;
	test_err_cmd(EOPNOTSUPP,
		     _test_bind_data(vm->fd, IOASID_BIND_PASID_TABLE, self->x,
				     IOASID_PGTABLE_MOCK_PASID_TABLE, &data,
				     sizeof(data)));
	/* The IOASID: of the wrong kind, unknown, or with no device. */
	test_err_cmd(EMEDIUMTYPE, _test_bind_pasid_table(vm->fd, plain,
							 self->table, 4));
	test_err_cmd(EMEDIUMTYPE, _test_bind_pasid_table(vm->fd, sw,
							 self->table, 4));
	test_err_cmd(EMEDIUMTYPE, _test_unbind_pasid_table(vm->fd, plain));
	test_err_cmd(ENOENT, _test_bind_pasid_table(vm->fd, 0xdead,
						    self->table, 4));
	test_err_cmd(ENODEV, _test_bind_pasid_table(vm->fd, y, self->table,
						    4));
	test_err_cmd(ENOENT, _test_unbind_pasid_table(vm->fd, self->x));

	/* The table decides what PASIDs reach: none may be attached. */
	test_cmd_attach_pasid(vm->fd, vm->dev2, self->x, 4);
	test_err_cmd(EINVAL, _bind_table(self));
	test_err_cmd(ENOENT, _test_unbind_pasid_table(vm->fd, self->x));
	dma_faults(_metadata, vm, vm->dev, 0, GIOVA);
	test_cmd_detach_pasid(vm->fd, vm->dev2, self->x, 4);

	test_cmd(_bind_table(self));
	test_err_cmd(EEXIST, _bind_table(self));
	test_err_cmd(EEXIST, _test_bind_s1(vm, self->x, self->root0));
	test_err_cmd_attach(EBUSY, vm->fd, vm->dev2, self->x);
	test_err_cmd_attach_pasid(EBUSY, vm->fd, vm->dev2, self->x, 4);
	/* Each unbind undoes its own bind only. */
	test_err_cmd(ENOENT, _test_unbind(vm->fd, self->x));
	test_cmd(_test_unbind_pasid_table(vm->fd, self->x));
	test_err_cmd(ENOENT, _test_unbind_pasid_table(vm->fd, self->x));
	test_cmd(_test_bind_s1(vm, self->x, self->root0));
	test_err_cmd(ENOENT, _test_unbind_pasid_table(vm->fd, self->x));
	dma_lands(_metadata, vm, vm->dev, 0, GIOVA, DATA(0));
	test_cmd(_test_unbind(vm->fd, self->x));
	test_err_ioctl_free(EBUSY, vm->fd, vm->parent);
}

/*
 * The guest repoints a PASID-table entry: the IOMMU keeps the root it
 * cached until an invalidation of that PASID's entry, whatever else is
 * invalidated.
 */
TEST_F(pasid_table, pasid_cache_stale_until_invalidated)
{
	struct vm *vm = &self->vm;

	test_cmd(_bind_table(self));
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(3));
	dma_lands(_metadata, vm, vm->dev, 0, GIOVA, DATA(0));

	guest_set_pasid(&vm->g, self->table, 3, self->root9);
	guest_set_pasid(&vm->g, self->table, 0, self->root9);
	/* Cached translations, and new walks from the cached root. */
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(3));
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA + PAGE_SIZE, DATA(4));
	/* Its translations flushed, the root is still cached. */
	invalidate_iotlb(3, 0, ~0ULL);
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(3));
	/* Another PASID's entry is another entry. */
	invalidate_pasid_cache(9);
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(3));
	dma_lands(_metadata, vm, vm->dev, 0, GIOVA, DATA(0));

	invalidate_pasid_cache(3);
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(9));
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA + PAGE_SIZE, DATA(10));
	dma_lands(_metadata, vm, vm->dev, 0, GIOVA, DATA(0));
	/* Untagged DMA's entry is PASID 0's. */
	invalidate_pasid_cache(0);
	dma_lands(_metadata, vm, vm->dev, 0, GIOVA, DATA(9));

	/* Not present any more: faults once invalidated. */
	guest_set_pasid(&vm->g, self->table, 3, 0);
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(9));
	invalidate_pasid_cache(3);
	dma_faults(_metadata, vm, vm->dev, 3, GIOVA);
	dma_lands(_metadata, vm, vm->dev, 9, GIOVA, DATA(9));
}

/*
 * The guest changes a first stage under a PASID: stale until the IOTLB
 * entry of that PASID and page goes. The IOTLB is the table's, one for
 * every PASID.
 */
TEST_F(pasid_table, iotlb_stale_until_invalidated)
{
	struct vm *vm = &self->vm;
	__u8 buf[8];

	test_cmd(_bind_table(self));
	ASSERT_EQ(0, iotlb_entries(vm->fd, vm->dev));
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(3));
	dma_lands(_metadata, vm, vm->dev, 9, GIOVA, DATA(9));
	ASSERT_EQ(2, iotlb_entries(vm->fd, vm->dev));

	guest_map(&vm->g, self->root3, GIOVA, DATA_GPA(5), PTE_PWU);
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(3));
	/* Another PASID's page, and another page of this PASID. */
	invalidate_iotlb(9, GIOVA, 1);
	ASSERT_EQ(1, iotlb_entries(vm->fd, vm->dev));
	invalidate_iotlb(3, GIOVA + PAGE_SIZE, 1);
	invalidate_iotlb(0, GIOVA, 1);
	ASSERT_EQ(1, iotlb_entries(vm->fd, vm->dev));
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(3));

	invalidate_iotlb(3, GIOVA, 1);
	ASSERT_EQ(0, iotlb_entries(vm->fd, vm->dev));
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(5));
	/* PASID 9 walked again, its table unchanged. */
	dma_lands(_metadata, vm, vm->dev, 9, GIOVA, DATA(9));

	/* A range: both pages of PASID 3 go, PASID 9's stays. */
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA + PAGE_SIZE, DATA(4));
	ASSERT_EQ(3, iotlb_entries(vm->fd, vm->dev));
	invalidate_iotlb(3, GIOVA, 2);
	ASSERT_EQ(1, iotlb_entries(vm->fd, vm->dev));

	/* Write permission taken away: writes fault once invalidated. */
	guest_map(&vm->g, self->root9, GIOVA, DATA_GPA(9), PTE_P | PTE_U);
	invalidate_iotlb(9, 0, ~0ULL);
	test_err_cmd(EIO, _test_dma_pasid(vm->fd, vm->dev, 9, GIOVA, buf,
					  sizeof(buf), true));
	test_cmd(_test_dma_pasid(vm->fd, vm->dev, 9, GIOVA, buf, sizeof(buf),
				 false));
	ASSERT_EQ(0, memcmp(buf, DATA(9), sizeof(buf)));
}

TEST_F(pasid_table, invalidate_errnos)
{
	static const struct ioasid_mock_pasid_table_invalidate bad[] = {
		{ .type = 0 },
		{ .type = 3, .pasid = 3 },
		{ .type = IOASID_MOCK_INV_IOTLB, .pasid = 1 << PASID_BITS,
		  .addr = GIOVA, .npages = 1 },
		{ .type = IOASID_MOCK_INV_PASID_CACHE,
		  .pasid = 1 << PASID_BITS },
		{ .type = IOASID_MOCK_INV_IOTLB, .pasid = 3,
		  .addr = GIOVA + 8, .npages = 1 },
		{ .type = IOASID_MOCK_INV_IOTLB, .pasid = 3, .addr = GIOVA },
		{ .type = IOASID_MOCK_INV_PASID_CACHE, .pasid = 3,
		  .addr = GIOVA },
		{ .type = IOASID_MOCK_INV_PASID_CACHE, .pasid = 3,
		  .npages = 1 },
	};
	struct ioasid_mock_pasid_table_invalidate inv[4] = {
		{ .type = IOASID_MOCK_INV_IOTLB, .pasid = 3, .addr = GIOVA,
		  .npages = 1 },
		{ .type = IOASID_MOCK_INV_PASID_CACHE, .pasid = 9 },
		{},
		{ .type = IOASID_MOCK_INV_IOTLB, .pasid = 0, .npages = ~0ULL },
	};
	struct vm *vm = &self->vm;
	unsigned int i;
	__u32 num = 1;

	/* Nothing bound, nothing to invalidate. */
	test_err_cmd(ENOENT, _test_invalidate_pasid(vm->fd, self->x, inv,
						    &num));
	test_cmd(_bind_table(self));
	for (i = 0; i != ARRAY_SIZE(bad); i++) {
		inv[2] = bad[i];
		num = 4;
		test_err_cmd(EINVAL, _test_invalidate_pasid(vm->fd, self->x,
							    inv, &num));
		ASSERT_EQ(2, num);
	}
	inv[2] = inv[1];
	num = 4;
	test_cmd(_test_invalidate_pasid(vm->fd, self->x, inv, &num));
	ASSERT_EQ(4, num);
	/* The last PASID of the table is in it. */
	inv[0].pasid = (1 << PASID_BITS) - 1;
	num = 1;
	test_cmd(_test_invalidate_pasid(vm->fd, self->x, inv, &num));
}

/* Unbound, the table reaches nothing; bound again, it is read afresh. */
TEST_F(pasid_table, unbind_and_rebind)
{
	struct vm *vm = &self->vm;

	test_cmd(_bind_table(self));
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(3));
	test_cmd(_test_unbind_pasid_table(vm->fd, self->x));
	dma_faults(_metadata, vm, vm->dev, 0, GIOVA);
	dma_faults(_metadata, vm, vm->dev, 3, GIOVA);
	ASSERT_EQ(-ENXIO, iotlb_entries(vm->fd, vm->dev));

	guest_set_pasid(&vm->g, self->table, 3, self->root9);
	test_cmd(_bind_table(self));
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(9));
	/* A smaller table now: PASID 9 is past its end. */
	test_cmd(_test_unbind_pasid_table(vm->fd, self->x));
	test_cmd(_test_bind_pasid_table(vm->fd, self->x, self->table, 3));
	dma_faults(_metadata, vm, vm->dev, 9, GIOVA);
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(9));
	test_err_cmd(EINVAL, _invalidate_one(self, IOASID_MOCK_INV_PASID_CACHE,
					     9, 0, 0));
}

/* The parent unmaps a page a cached translation leads to. */
TEST_F(pasid_table, parent_unmap_flushes_translations)
{
	struct vm *vm = &self->vm;

	test_cmd(_bind_table(self));
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(3));
	dma_lands(_metadata, vm, vm->dev, 9, GIOVA, DATA(9));
	ASSERT_EQ(2, iotlb_entries(vm->fd, vm->dev));
	test_ioctl_unmap(vm->fd, vm->parent, DATA_GPA(3), PAGE_SIZE,
			 PAGE_SIZE);
	ASSERT_EQ(0, iotlb_entries(vm->fd, vm->dev));
	dma_faults(_metadata, vm, vm->dev, 3, GIOVA);
	dma_lands(_metadata, vm, vm->dev, 9, GIOVA, DATA(9));
}

/*
 * RFC 5.7, second half: the guest also binds a first stage for PASID 3
 * through IOASID Y, a sibling of X, as a vIOMMU that traps per-PASID
 * binds would. The PASID table still decides what PASID 3 reaches; Y's
 * invalidations flush what the IOMMU cached for the PASIDs Y is attached
 * under, and for no other.
 */
TEST_F(pasid_table, tracked_first_stage)
{
	struct vm *vm = &self->vm;
	__u64 root_y = first_stage(vm, 20);
	__u32 y;

	test_cmd(_bind_table(self));
	test_cmd(_test_ioctl_create_nesting(vm->fd, vm->parent,
					    IOASID_NESTING_HARDWARE, &y));
	test_cmd_attach_pasid(vm->fd, vm->dev, y, 3);
	test_cmd(_test_bind_s1(vm, y, root_y));
	/* Entry 3 of the guest's table, not what Y bound. */
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(3));
	dma_lands(_metadata, vm, vm->dev, 9, GIOVA, DATA(9));
	ASSERT_EQ(2, iotlb_entries(vm->fd, vm->dev));

	guest_map(&vm->g, self->root3, GIOVA, DATA_GPA(5), PTE_PWU);
	guest_map(&vm->g, self->root9, GIOVA, DATA_GPA(11), PTE_PWU);
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(3));
	/* Y's invalidation of that page: PASID 3's, not PASID 9's. */
	{
		struct iommu_hwpt_vtd_s1_invalidate inv = {
			.addr = GIOVA,
			.npages = 1,
		};
		__u32 num = 1;

		test_cmd(_test_invalidate(vm->fd, y, &inv, &num));
		ASSERT_EQ(1, num);
	}
	ASSERT_EQ(1, iotlb_entries(vm->fd, vm->dev));
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(5));
	dma_lands(_metadata, vm, vm->dev, 9, GIOVA, DATA(9));
	test_cmd(_test_invalidate_all(vm->fd, y));
	dma_lands(_metadata, vm, vm->dev, 9, GIOVA, DATA(9));
	invalidate_iotlb(9, GIOVA, 1);
	dma_lands(_metadata, vm, vm->dev, 9, GIOVA, DATA(11));

	/* While Y is bound no PASID attaches to it, nor to X. */
	test_err_cmd_attach_pasid(EBUSY, vm->fd, vm->dev, y, 9);
	test_err_cmd_attach_pasid(EBUSY, vm->fd, vm->dev, self->x, 9);
	/* Y unbound: the table still decides PASID 3's DMA. */
	test_cmd(_test_unbind(vm->fd, y));
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(5));
	test_cmd_detach_pasid(vm->fd, vm->dev, y, 3);
	dma_lands(_metadata, vm, vm->dev, 3, GIOVA, DATA(5));
	test_ioctl_free(vm->fd, y);
}

/*
 * Teardown in any order. Setup builds everything at once: X has dev's
 * RID and the guest's PASID table (entries 0 and 3); Y has dev's PASID 3
 * and a tracked first stage; Z has dev2's PASID 5 and a vSVA first
 * stage; the software-nested S has dev2's PASID 6; the parent has dev2's
 * RID. Each variant takes it apart in its own order, checking after each
 * step which DMA still lands; the fixture's teardown closes the fd and
 * checks every page of guest RAM is released.
 */
enum step {
	STEP_END,
	STEP_UNBIND,		/* every table */
	STEP_DETACH_PASIDS,	/* every PASID, one by one */
	STEP_DETACH,		/* each device, whole */
	STEP_FREE_CHILDREN,
	STEP_FREE_CHILDREN_BUSY,
	STEP_FREE_PARENT,
	STEP_FREE_PARENT_BUSY,
	STEP_DELETE_DEVICES,
	STEP_CLOSE,
};

FIXTURE(pasid_teardown) {
	struct vm vm;
	__u32 x, y, z, s;
	bool bound, pasids, rids, devices;
};

FIXTURE_VARIANT(pasid_teardown) {
	enum step steps[8];
};

FIXTURE_VARIANT_ADD(pasid_teardown, close_everything_bound) {
	.steps = { STEP_CLOSE },
};

FIXTURE_VARIANT_ADD(pasid_teardown, unbind_detach_free) {
	.steps = { STEP_UNBIND, STEP_DETACH_PASIDS, STEP_DETACH,
		   STEP_FREE_PARENT_BUSY, STEP_FREE_CHILDREN, STEP_FREE_PARENT,
		   STEP_DELETE_DEVICES },
};

FIXTURE_VARIANT_ADD(pasid_teardown, detach_then_free_bound) {
	.steps = { STEP_DETACH_PASIDS, STEP_DETACH, STEP_FREE_CHILDREN,
		   STEP_FREE_PARENT, STEP_DELETE_DEVICES },
};

FIXTURE_VARIANT_ADD(pasid_teardown, delete_devices_first) {
	.steps = { STEP_DELETE_DEVICES, STEP_FREE_PARENT_BUSY,
		   STEP_FREE_CHILDREN, STEP_FREE_PARENT },
};

FIXTURE_VARIANT_ADD(pasid_teardown, busy_then_close) {
	.steps = { STEP_FREE_CHILDREN_BUSY, STEP_FREE_PARENT_BUSY,
		   STEP_DETACH_PASIDS, STEP_CLOSE },
};

FIXTURE_VARIANT_ADD(pasid_teardown, unbind_then_delete_devices) {
	.steps = { STEP_UNBIND, STEP_DELETE_DEVICES, STEP_CLOSE },
};

FIXTURE_SETUP(pasid_teardown)
{
	struct vm *vm = &self->vm;
	__u64 table, root0, root3, root_z;

	if (!vm_setup(_metadata, vm))
		SKIP(return, "kernel without CONFIG_IOASID_TEST");
	table = guest_alloc_table(&vm->g);
	root0 = first_stage(vm, 0);
	root3 = first_stage(vm, 3);
	root_z = first_stage(vm, 7);
	guest_set_pasid(&vm->g, table, 0, root0);
	guest_set_pasid(&vm->g, table, 3, root3);

	test_cmd(_test_ioctl_create_nesting(vm->fd, vm->parent,
					    IOASID_NESTING_HARDWARE, &self->x));
	test_cmd(_test_ioctl_create_nesting(vm->fd, vm->parent,
					    IOASID_NESTING_HARDWARE, &self->y));
	test_cmd(_test_ioctl_create_nesting(vm->fd, vm->parent,
					    IOASID_NESTING_HARDWARE, &self->z));
	test_ioctl_create_nesting(vm->fd, vm->parent, &self->s);
	test_ioctl_map_from_parent(vm->fd, self->s, DATA_GPA(12), IOVA,
				   PAGE_SIZE);

	test_cmd_attach(vm->fd, vm->dev, self->x);
	test_cmd(_test_bind_pasid_table(vm->fd, self->x, table, PASID_BITS));
	test_cmd_attach_pasid(vm->fd, vm->dev, self->y, 3);
	test_cmd(_test_bind_s1(vm, self->y, root3));
	test_cmd_attach_pasid(vm->fd, vm->dev2, self->z, 5);
	test_cmd(_test_bind_s1(vm, self->z, root_z));
	test_cmd_attach_pasid(vm->fd, vm->dev2, self->s, 6);
	test_cmd_attach(vm->fd, vm->dev2, vm->parent);
	self->bound = true;
	self->pasids = true;
	self->rids = true;
	self->devices = true;
}

FIXTURE_TEARDOWN(pasid_teardown)
{
	vm_teardown(_metadata, &self->vm);
}

/* @dev's DMA lands at @host if @lands, else faults; ENOENT once deleted. */
static void dma_expect(struct __test_metadata *_metadata,
		       FIXTURE_DATA(pasid_teardown) * self, __u32 dev,
		       __u32 pasid, __u64 iova, __u8 *host, bool lands)
{
	struct vm *vm = &self->vm;
	__u8 buf[8];

	if (!self->devices) {
		test_err_cmd(ENOENT, _test_dma_pasid(vm->fd, dev, pasid, iova,
						     buf, sizeof(buf), false));
	} else if (lands) {
		dma_lands(_metadata, vm, dev, pasid, iova, host);
	} else {
		dma_faults(_metadata, vm, dev, pasid, iova);
	}
}

/* What reaches memory now, for what the fixture still has. */
static void check_dmas(struct __test_metadata *_metadata,
		       FIXTURE_DATA(pasid_teardown) * self)
{
	struct vm *vm = &self->vm;
	bool table = self->bound && self->rids;

	dma_expect(_metadata, self, vm->dev, 0, GIOVA, DATA(0), table);
	/* Through the table, or through Y's own bind: the same page. */
	dma_expect(_metadata, self, vm->dev, 3, GIOVA, DATA(3),
		   table || (self->bound && self->pasids));
	dma_expect(_metadata, self, vm->dev2, 5, GIOVA, DATA(7),
		   self->bound && self->pasids);
	dma_expect(_metadata, self, vm->dev2, 6, IOVA, DATA(12),
		   self->pasids);
	dma_expect(_metadata, self, vm->dev2, 0, DATA_GPA(13), DATA(13),
		   self->rids);
}

static void do_step(struct __test_metadata *_metadata,
		    FIXTURE_DATA(pasid_teardown) * self, enum step step)
{
	struct vm *vm = &self->vm;
	__u32 children[] = { self->x, self->y, self->z, self->s };
	bool attached = self->devices && (self->pasids || self->rids);
	unsigned int i;

	switch (step) {
	case STEP_UNBIND:
		test_cmd(_test_unbind(vm->fd, self->z));
		test_cmd(_test_unbind(vm->fd, self->y));
		test_cmd(_test_unbind_pasid_table(vm->fd, self->x));
		self->bound = false;
		break;
	case STEP_DETACH_PASIDS:
		test_cmd_detach_pasid(vm->fd, vm->dev, self->y, 3);
		test_cmd_detach_pasid(vm->fd, vm->dev2, self->z, 5);
		test_cmd_detach_pasid(vm->fd, vm->dev2, self->s, 6);
		self->pasids = false;
		break;
	case STEP_DETACH:
		test_cmd_detach(vm->fd, vm->dev);
		test_cmd_detach(vm->fd, vm->dev2);
		self->pasids = false;
		self->rids = false;
		break;
	case STEP_FREE_CHILDREN:
	case STEP_FREE_CHILDREN_BUSY:
		/* Attached devices keep their IOASIDs; bound tables do not. */
		for (i = 0; i != ARRAY_SIZE(children); i++) {
			if (step == STEP_FREE_CHILDREN) {
				test_ioctl_free(vm->fd, children[i]);
			} else {
				test_err_ioctl_free(EBUSY, vm->fd,
						    children[i]);
			}
		}
		ASSERT_EQ(step == STEP_FREE_CHILDREN_BUSY, attached);
		break;
	case STEP_FREE_PARENT:
		test_ioctl_free(vm->fd, vm->parent);
		break;
	case STEP_FREE_PARENT_BUSY:
		test_err_ioctl_free(EBUSY, vm->fd, vm->parent);
		break;
	case STEP_DELETE_DEVICES:
		test_cmd_device_del(vm->fd, vm->dev);
		test_cmd_device_del(vm->fd, vm->dev2);
		self->devices = false;
		break;
	case STEP_CLOSE:
		ASSERT_EQ(0, close(vm->fd));
		vm->fd = -1;
		return;
	case STEP_END:
		return;
	}
	check_dmas(_metadata, self);
}

TEST_F(pasid_teardown, in_order)
{
	unsigned int i;

	/* Everything reaches memory, and fills the caches on the way. */
	check_dmas(_metadata, self);
	for (i = 0; i != ARRAY_SIZE(variant->steps) && variant->steps[i]; i++)
		do_step(_metadata, self, variant->steps[i]);
}

TEST_HARNESS_MAIN
