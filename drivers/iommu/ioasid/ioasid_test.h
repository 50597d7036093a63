/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The test-only ioctl of /dev/ioasid (CONFIG_IOASID_TEST).
 *
 * Not uAPI: it exists only on test kernels, changes with the tests, and
 * lets any opener of /dev/ioasid create mock devices and look at kernel
 * state. tools/testing/selftests/ioasid include it from here.
 */
#ifndef __IOASID_TEST_H
#define __IOASID_TEST_H

#include <linux/types.h>
#include <linux/ioasid.h>

#define IOASID_CMD_TEST		0x3f

/* The mock IOMMU instances, which differ as real ones would. */
enum {
	/* 4K|2M|1G pages, 48-bit aperture, no reserved region */
	IOASID_MOCK_INSTANCE_LARGE,
	/* 2K|64K pages, 39-bit aperture, an MSI window at 0xfee00000 */
	IOASID_MOCK_INSTANCE_SMALL,
	/*
	 * 4K|2M pages, 48-bit aperture, MSIs not isolated (binding needs
	 * ioasid.allow_unsafe_interrupts), a software-managed MSI window at
	 * IOASID_MOCK_SW_MSI_START and a relaxable direct-mapped region
	 */
	IOASID_MOCK_INSTANCE_SW_MSI,
	IOASID_MOCK_NUM_INSTANCES,
};

#define IOASID_MOCK_MSI_START		0xfee00000ULL
#define IOASID_MOCK_MSI_LAST		0xfeefffffULL
#define IOASID_MOCK_SW_MSI_START	0x08000000ULL
#define IOASID_MOCK_SW_MSI_LAST		0x080fffffULL
#define IOASID_MOCK_RELAXABLE_START	0x10000000ULL
#define IOASID_MOCK_RELAXABLE_LAST	0x100fffffULL

/**
 * enum ioasid_test_op - what IOASID_TEST does
 * @IOASID_TEST_OP_MOCK_DEVICE_ADD: create a device behind mock instance
 *	@mock_device_add.instance and bind it to this fd; its id is a device
 *	object of the fd, destroyed by DEVICE_DEL or close
 * @IOASID_TEST_OP_DEVICE_DEL: destroy device object @dev_id
 * @IOASID_TEST_OP_ATTACH: attach @dev_id to @attach.ioasid, under PASID
 *	@attach.pasid with %IOASID_ATTACH_USER_PASID in @attach.flags, as
 *	VFIO_ATTACH_IOASID does
 * @IOASID_TEST_OP_DETACH: detach @dev_id (ENXIO if not attached); with
 *	%IOASID_ATTACH_USER_PASID in @attach.flags, detach @attach.pasid of
 *	it from @attach.ioasid
 * @IOASID_TEST_OP_CHECK_MAP: check that each page of @check_map.iova for
 *	@check_map.length translates, in @dev_id's domain, to the page that
 *	backs @check_map.vaddr now, with exactly the read and write bits of
 *	@check_map.prot (a mask of &enum ioasid_test_prot), and reports in
 *	@check_map.out_prot every bit the pages were mapped with. ENOENT if
 *	some IOVA does not translate, EIO if it translates elsewhere or with
 *	other permissions. Reports the largest IOMMU page seen.
 * @IOASID_TEST_OP_CHECK_UNMAPPED: ENOENT-free success only if no page of
 *	@check_map.iova for @check_map.length translates (EIO otherwise)
 * @IOASID_TEST_OP_PAGE_REF: the reference count of the page that backs
 *	@page_ref.vaddr, without the reference taken to read it, and whether
 *	it looks DMA-pinned
 * @IOASID_TEST_OP_DEVICE_INFO: which domain @dev_id is attached to, as an
 *	opaque id equal for devices that share one, or 0; whether that
 *	domain has an MSI cookie (software-managed MSI window), and whether
 *	it forces cache snooping
 * @IOASID_TEST_OP_DMA: make mock device @dev_id (one MOCK_DEVICE_ADD made;
 *	EINVAL for a device a driver bound) do DMA of @dma.length bytes at
 *	@dma.iova, any alignment, through the domain it is attached to now,
 *	paging or nested: with %IOASID_TEST_DMA_WRITE the device writes
 *	memory from the buffer at @dma.uptr, else it reads memory into it.
 *	With %IOASID_TEST_DMA_PASID the DMA is tagged with PASID @dma.pasid
 *	(else @dma.pasid must be 0). EIO if any byte would fault in the
 *	IOMMU (unmapped, not permitted, a first-stage or PASID-table walk
 *	that fails, or nothing attached for the RID or PASID); then no byte
 *	of memory or of the buffer has moved. EINVAL if @dma.length is 0 or
 *	above %IOASID_TEST_DMA_MAX, EOVERFLOW if the range wraps, EOPNOTSUPP
 *	for an unknown flag or a @dma.pasid without %IOASID_TEST_DMA_PASID.
 *	With %IOASID_TEST_DMA_PRI the device asks for the pages a first stage
 *	does not map, or not for its access, as a PCI PRI device does: it
 *	raises a page request group (at most 8 pages) into the iommu core's
 *	fault path, waits for the answer (a fault ring's user gives it), and
 *	tries again after a success, up to 64 groups; any other answer is
 *	EIO. The call blocks meanwhile; a signal that kills it ends it.
 * @IOASID_TEST_OP_IOTLB_INFO: how many 4K translations the IOTLB of the
 *	nested domain @dev_id's DMA goes through holds now, and how many it
 *	can hold before it forgets them all; ENXIO if its DMA goes through
 *	no nested domain
 * @IOASID_TEST_OP_DMA_BATCH: @dma_batch.num DMAs of mock device @dev_id,
 *	each a &struct ioasid_test_dma_req at @dma_batch.uptr, one after the
 *	other as IOASID_TEST_OP_DMA would do them (at most
 *	%IOASID_TEST_DMA_BATCH_MAX, each at most 4 KiB); each request's
 *	result goes to its @out_result, the number that faulted (EIO) to
 *	@dma_batch.out_faults. The call itself fails only for bad arguments
 *	(EINVAL, EFAULT) or a request that is malformed (then @num is cut to
 *	the requests done before it). For fuzzing many tables per syscall.
 * @IOASID_TEST_OP_PAGE_REQUEST: make mock device @dev_id post one page
 *	request group for the @page_request.num pages (1 to 8) from the
 *	page-aligned @page_request.iova, for a write with
 *	%IOASID_TEST_DMA_WRITE in @page_request.flags, tagged with
 *	@page_request.pasid with %IOASID_TEST_DMA_PASID, and return without
 *	waiting for the answer: no DMA follows it. The answer, when it
 *	comes, counts in @device_info.out_unwaited_answers. EIO if the
 *	device has 512 groups unanswered (a PRG index is 9 bits), EINVAL
 *	for a bad count, address or PASID, EOPNOTSUPP for another flag.
 *	Delivery alone, without the DMA around it: for benchmarks.
 * @IOASID_TEST_OP_EMULATED_ADD: create an emulated mock device: no IOMMU,
 *	its DMA is the CPU's, through an in-kernel accessor
 *	(ioasid_access_create()) of IOASID @emulated.ioasid of the ioasid fd
 *	@emulated.fd (this one or another); returns a new fd for it in
 *	@emulated.out_fd, whose close destroys it. The other EMULATED ops
 *	name it by that fd in @emulated.fd (EBADF or EINVAL for another).
 *	@emulated.flags (&enum ioasid_test_emulated_flags) makes its unmap
 *	callback slow or deaf, as a driver's may be
 * @IOASID_TEST_OP_EMULATED_DMA: the emulated device reads or (with
 *	%IOASID_TEST_DMA_WRITE in @emulated.flags) writes @emulated.length
 *	bytes, at most %IOASID_TEST_DMA_MAX, at @emulated.iova, from or to
 *	the buffer at @emulated.uptr (ioasid_access_rw(); its errnos)
 * @IOASID_TEST_OP_EMULATED_PIN: the emulated device pins the pages of
 *	@emulated.iova for @emulated.length (ioasid_access_pin_pages(), for
 *	writing with %IOASID_TEST_DMA_WRITE), and if @emulated.uptr is not
 *	0, writes the first @emulated.length bytes there through the pinned
 *	pages, as a device writing through its pin does. It keeps them
 *	until EMULATED_UNPIN, an unmap (it unpins when told), or its close
 * @IOASID_TEST_OP_EMULATED_UNPIN: unpin the pin of exactly
 *	@emulated.iova and @emulated.length (ENOENT if there is none)
 * @IOASID_TEST_OP_EMULATED_INFO: how many pins the emulated device holds
 *	(@emulated.out_pins) and how many unmap callbacks it got
 *	(@emulated.out_unmaps)
 */
enum ioasid_test_op {
	IOASID_TEST_OP_MOCK_DEVICE_ADD = 1,
	IOASID_TEST_OP_DEVICE_DEL,
	IOASID_TEST_OP_ATTACH,
	IOASID_TEST_OP_DETACH,
	IOASID_TEST_OP_CHECK_MAP,
	IOASID_TEST_OP_CHECK_UNMAPPED,
	IOASID_TEST_OP_PAGE_REF,
	IOASID_TEST_OP_DEVICE_INFO,
	IOASID_TEST_OP_DMA,
	IOASID_TEST_OP_IOTLB_INFO,
	IOASID_TEST_OP_DMA_BATCH,
	IOASID_TEST_OP_PAGE_REQUEST,
	IOASID_TEST_OP_EMULATED_ADD,
	IOASID_TEST_OP_EMULATED_DMA,
	IOASID_TEST_OP_EMULATED_PIN,
	IOASID_TEST_OP_EMULATED_UNPIN,
	IOASID_TEST_OP_EMULATED_INFO,
};

/**
 * enum ioasid_test_dma_flags - how a mock device does DMA
 * @IOASID_TEST_DMA_WRITE: the device writes memory, else it reads memory
 * @IOASID_TEST_DMA_PASID: the DMA is tagged with a PASID
 * @IOASID_TEST_DMA_PRI: the device asks for pages it faults on (PCI PRI)
 */
enum ioasid_test_dma_flags {
	IOASID_TEST_DMA_WRITE = 1 << 0,
	IOASID_TEST_DMA_PASID = 1 << 1,
	IOASID_TEST_DMA_PRI = 1 << 2,
};

/**
 * enum ioasid_test_emulated_flags - how an emulated mock device's driver
 *	answers an unmap callback (IOASID_TEST_OP_EMULATED_ADD)
 * @IOASID_TEST_EMULATED_SLOW_UNMAP: it counts the callback at once, then
 *	sleeps %IOASID_TEST_EMULATED_SLOW_MS before it unpins
 * @IOASID_TEST_EMULATED_IGNORE_UNMAP: it counts the callback and unpins
 *	nothing; its pins stay until EMULATED_UNPIN or its close
 */
enum ioasid_test_emulated_flags {
	IOASID_TEST_EMULATED_SLOW_UNMAP = 1 << 0,
	IOASID_TEST_EMULATED_IGNORE_UNMAP = 1 << 1,
};

#define IOASID_TEST_EMULATED_SLOW_MS	200

/* The most one IOASID_TEST_OP_DMA moves: 64 KiB. */
#define IOASID_TEST_DMA_MAX	0x10000

/**
 * struct ioasid_test_dma_req - one DMA of IOASID_TEST_OP_DMA_BATCH
 * @iova: where the device reads or writes
 * @uptr: the user buffer, as for IOASID_TEST_OP_DMA
 * @length: bytes, 1 to 4096
 * @flags: &enum ioasid_test_dma_flags
 * @pasid: with %IOASID_TEST_DMA_PASID, the PASID the DMA is tagged with
 * @out_result: 0, or the negative errno the DMA got (-EIO: it faulted)
 */
struct ioasid_test_dma_req {
	__aligned_u64 iova;
	__aligned_u64 uptr;
	__u32 length;
	__u32 flags;
	__u32 pasid;
	__s32 out_result;
};

#define IOASID_TEST_DMA_BATCH_MAX	4096

/**
 * enum ioasid_test_prot - permissions a mock IOMMU entry holds
 * @IOASID_TEST_PROT_READ: the device may read
 * @IOASID_TEST_PROT_WRITE: the device may write
 * @IOASID_TEST_PROT_CACHE: its DMA snoops CPU caches (IOMMU_CACHE)
 */
enum ioasid_test_prot {
	IOASID_TEST_PROT_READ = 1 << 0,
	IOASID_TEST_PROT_WRITE = 1 << 1,
	IOASID_TEST_PROT_CACHE = 1 << 2,
};

/**
 * enum ioasid_mock_device_flags - how a mock device differs
 * @IOASID_MOCK_DEVICE_NO_ENFORCE_CC: its IOMMU cannot force snooping for
 *	it (as VT-d without snoop control), and it cannot join a domain that
 *	forces it
 * @IOASID_MOCK_DEVICE_NOT_COHERENT: its DMA does not snoop CPU caches
 * @IOASID_MOCK_DEVICE_SHARE_GROUP: it joins the one IOMMU group its
 *	instance keeps for devices with this flag, instead of a group of its
 *	own
 */
enum ioasid_mock_device_flags {
	IOASID_MOCK_DEVICE_NO_ENFORCE_CC = 1 << 0,
	IOASID_MOCK_DEVICE_NOT_COHERENT = 1 << 1,
	IOASID_MOCK_DEVICE_SHARE_GROUP = 1 << 2,
};

#define IOASID_MOCK_DEVICE_FLAGS					\
	(IOASID_MOCK_DEVICE_NO_ENFORCE_CC | IOASID_MOCK_DEVICE_NOT_COHERENT | \
	 IOASID_MOCK_DEVICE_SHARE_GROUP)

/**
 * struct ioasid_cmd_test - ioctl(IOASID_TEST)
 * @size: sizeof(struct ioasid_cmd_test)
 * @flags: must be 0
 * @op: &enum ioasid_test_op
 * @dev_id: the device object the op works on, where it needs one
 * @mock_device_add: for MOCK_DEVICE_ADD
 * @mock_device_add.instance: which mock IOMMU
 * @mock_device_add.out_dev_id: the new device object
 * @mock_device_add.flags: &enum ioasid_mock_device_flags
 * @attach: for ATTACH and DETACH
 * @attach.ioasid: the IOASID
 * @attach.flags: &enum ioasid_attach_flags
 * @attach.pasid: the PASID, with %IOASID_ATTACH_USER_PASID; else 0
 * @check_map: for CHECK_MAP and CHECK_UNMAPPED
 * @check_map.prot: expected read and write permissions
 * @check_map.out_prot: every prot bit seen in the range
 * @check_map.iova: first IOVA
 * @check_map.length: bytes to check
 * @check_map.vaddr: user address of the expected memory
 * @check_map.out_pgsize: largest IOMMU page found
 * @page_ref: for PAGE_REF
 * @page_ref.vaddr: user address of the page
 * @page_ref.out_refcount: its reference count
 * @page_ref.out_pinned: 1 if folio_maybe_dma_pinned()
 * @device_info: for DEVICE_INFO
 * @device_info.out_domain_id: the domain, or 0 if detached
 * @device_info.out_msi_cookie: 1 if the domain has an MSI cookie
 * @device_info.out_enforce_cc: 1 if the domain forces cache snooping
 * @device_info.out_unwaited_answers: answers the device got to page
 *	request groups nobody waited for: posted by PAGE_REQUEST, or left by
 *	a PRI DMA that was killed
 * @dma: for DMA
 * @dma.iova: where the device reads or writes
 * @dma.uptr: the user buffer the data comes from (write) or goes to (read)
 * @dma.length: bytes, 1 to %IOASID_TEST_DMA_MAX
 * @dma.flags: &enum ioasid_test_dma_flags
 * @dma.pasid: with %IOASID_TEST_DMA_PASID, the PASID the DMA is tagged
 *	with; else 0
 * @iotlb_info: for IOTLB_INFO
 * @iotlb_info.out_entries: translations the IOTLB holds
 * @iotlb_info.out_max: how many it holds at most
 * @dma_batch: for DMA_BATCH
 * @dma_batch.uptr: the array of &struct ioasid_test_dma_req
 * @dma_batch.num: how many; out: how many were done
 * @dma_batch.out_faults: how many of those faulted
 * @page_request: for PAGE_REQUEST
 * @page_request.iova: the first page asked for
 * @page_request.num: how many pages the group asks for
 * @page_request.flags: %IOASID_TEST_DMA_WRITE, %IOASID_TEST_DMA_PASID
 * @page_request.pasid: with %IOASID_TEST_DMA_PASID, the PASID
 * @emulated: for the EMULATED ops
 * @emulated.fd: the ioasid fd (ADD) or the emulated device's fd
 * @emulated.ioasid: for ADD, the IOASID it reaches
 * @emulated.iova: where it reads, writes or pins
 * @emulated.uptr: the user buffer of DMA, or what PIN writes
 * @emulated.length: bytes
 * @emulated.flags: %IOASID_TEST_DMA_WRITE or 0
 * @emulated.out_fd: for ADD, the emulated device's fd
 * @emulated.out_pins: for INFO, its pins
 * @emulated.out_unmaps: for INFO, the unmap callbacks it got
 */
struct ioasid_cmd_test {
	__u32 size;
	__u32 flags;
	__u32 op;
	__u32 dev_id;
	union {
		struct {
			__u32 instance;
			__u32 out_dev_id;
			__u32 flags;
		} mock_device_add;
		struct {
			__u32 ioasid;
			__u32 flags;
			__u32 pasid;
		} attach;
		struct {
			__u32 prot;
			__u32 out_prot;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 vaddr;
			__aligned_u64 out_pgsize;
		} check_map;
		struct {
			__aligned_u64 vaddr;
			__u32 out_refcount;
			__u32 out_pinned;
		} page_ref;
		struct {
			__aligned_u64 out_domain_id;
			__u32 out_msi_cookie;
			__u32 out_enforce_cc;
			__aligned_u64 out_unwaited_answers;
		} device_info;
		struct {
			__aligned_u64 iova;
			__aligned_u64 uptr;
			__aligned_u64 length;
			__u32 flags;
			__u32 pasid;
		} dma;
		struct {
			__u32 out_entries;
			__u32 out_max;
		} iotlb_info;
		struct {
			__aligned_u64 uptr;
			__u32 num;
			__u32 out_faults;
		} dma_batch;
		struct {
			__aligned_u64 iova;
			__u32 num;
			__u32 flags;
			__u32 pasid;
		} page_request;
		struct {
			__s32 fd;
			__u32 ioasid;
			__aligned_u64 iova;
			__aligned_u64 uptr;
			__aligned_u64 length;
			__u32 flags;
			__s32 out_fd;
			__u32 out_pins;
			__u32 out_unmaps;
		} emulated;
	};
};

#define IOASID_TEST		_IO(IOASID_TYPE, IOASID_CMD_TEST)

/*
 * The mock VFIO devices made at boot (CONFIG_IOASID_TEST_VFIO), listed in
 * /sys/bus/platform/devices as ioasid-mock-vfio.N.auto, half behind each
 * mock instance. Beside them, ioasid-mock-emulated is an emulated VFIO
 * device (as an mdev is): a VFIO cdev with no IOMMU behind it.
 */
#define IOASID_MOCK_VFIO_DEVICES	4

/**
 * struct ioasid_mock_vfio_dma - ioctl(IOASID_MOCK_VFIO_DMA) on the VFIO
 *	device fd of a mock device: make the device do DMA
 * @argsz: sizeof(struct ioasid_mock_vfio_dma)
 * @flags: %IOASID_MOCK_VFIO_DMA_WRITE for a device write to memory, else
 *	a device read from memory; %IOASID_MOCK_VFIO_DMA_PRI to ask for
 *	pages as IOASID_TEST_OP_DMA does with %IOASID_TEST_DMA_PRI
 * @iova: where the device reads or writes, any alignment
 * @length: bytes, at most 1 MiB
 * @uptr: the user buffer the data comes from (write) or goes to (read)
 * @pasid: with %IOASID_MOCK_VFIO_DMA_PASID in @flags, the PASID the DMA
 *	is tagged with; else 0. An @argsz that ends before it means 0.
 * @__reserved: must be 0
 *
 * EIO if any byte would fault in the IOMMU (unmapped, not permitted, or
 * the device attached nowhere); then no byte has moved.
 */
struct ioasid_mock_vfio_dma {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 uptr;
	__u32 pasid;
	__u32 __reserved;
};

enum {
	IOASID_MOCK_VFIO_DMA_WRITE = 1 << 0,
	IOASID_MOCK_VFIO_DMA_PASID = 1 << 1,
	IOASID_MOCK_VFIO_DMA_PRI = 1 << 2,
};

#define IOASID_MOCK_VFIO_DMA	_IO(IOASID_TYPE, 0x3d)

/*
 * DOC: The mock IOMMU's PASID table
 *
 * Only the mock's LARGE instance nests, and only it gives its devices
 * PASIDs (%IOASID_MOCK_PASID_BITS of them). Besides VT-d first stages it
 * walks a guest-owned PASID table, a format no IOMMU driver of this
 * kernel offers, so it lives here with a number from the top of the
 * format bits (IOASID_DEVICE_GET_INFO reports it as bit 31).
 *
 * Bind data (IOASID_BIND_PASID_TABLE): &struct ioasid_mock_pasid_table.
 * The table is an array of 1 << @pasid_bits little-endian 64-bit entries
 * at @base, in the parent's IOVA space. Entry n translates DMA tagged
 * with PASID n, entry 0 DMA with no PASID:
 *
 * - bit 0, present: clear means every DMA of the PASID faults;
 * - bits 47:12, the root of a VT-d first stage (%IOASID_PGTABLE_VTD_S1,
 *   4-level) in the parent's IOVA space, walked like a bound one;
 * - every other bit is reserved and must be 0, else the DMA faults.
 *
 * The IOMMU caches entries it read (a PASID cache) and translations it
 * walked (an IOTLB per PASID) until invalidated: the invalidation array
 * of a bound PASID table holds &struct ioasid_mock_pasid_table_invalidate.
 */
#define IOASID_PGTABLE_MOCK_PASID_TABLE	31
#define IOASID_MOCK_PASID_BITS		20
/* IOASID_DEVICE_GET_INFO's out_hw_info_type for a mock device */
#define IOASID_MOCK_HW_INFO_TYPE	0xd1a2

#define IOASID_MOCK_PASID_ENTRY_PRESENT	0x1ULL
#define IOASID_MOCK_PASID_ENTRY_ROOT	0x0000fffffffff000ULL

/**
 * struct ioasid_mock_pasid_table - bind data of a mock PASID table
 * @base: where the table starts, in the parent's IOVA space; 4 KiB aligned
 * @pasid_bits: 1 to %IOASID_MOCK_PASID_BITS: the table has 1 << @pasid_bits
 *	entries; DMA with a PASID past them faults
 * @flags: must be 0
 */
struct ioasid_mock_pasid_table {
	__aligned_u64 base;
	__u32 pasid_bits;
	__u32 flags;
};

/**
 * enum ioasid_mock_pasid_inv_type - what an entry invalidates
 * @IOASID_MOCK_INV_IOTLB: the translations of PASID @pasid for @npages
 *	4 KiB pages from @addr; @addr 0 with @npages U64_MAX is all of them
 * @IOASID_MOCK_INV_PASID_CACHE: the cached table entry of @pasid and every
 *	translation of it; @addr and @npages must be 0
 */
enum ioasid_mock_pasid_inv_type {
	IOASID_MOCK_INV_IOTLB = 1,
	IOASID_MOCK_INV_PASID_CACHE = 2,
};

/**
 * struct ioasid_mock_pasid_table_invalidate - an invalidation entry
 * @type: &enum ioasid_mock_pasid_inv_type
 * @pasid: the PASID it is for (0: DMA without one)
 * @addr: 4 KiB aligned start, for %IOASID_MOCK_INV_IOTLB
 * @npages: how many pages, non-zero, for %IOASID_MOCK_INV_IOTLB
 */
struct ioasid_mock_pasid_table_invalidate {
	__u32 type;
	__u32 pasid;
	__aligned_u64 addr;
	__aligned_u64 npages;
};

/*
 * DOC: The mock VFIO device's DMA engine and migration
 *
 * Each mock VFIO device (not the emulated one) has a DMA engine: while
 * the device is RUNNING or PRE_COPY and the engine is enabled, it writes
 * one slot of a ring in IOVA space every few milliseconds through the
 * mock IOMMU. The slot of sequence number seq is slot seq % nslots, at
 * base + (seq % nslots) * slot_size, and holds slot_size / 8
 * little-endian 64-bit words: word 0 is seq, word 1 is seed ^ seq, and
 * each later word is the one before times %IOASID_MOCK_ENGINE_LCG_MUL
 * plus %IOASID_MOCK_ENGINE_LCG_ADD. After a slot is written seq grows by
 * one. A DMA that faults counts in faults, sets
 * %IOASID_MOCK_ENGINE_FAULTED and disables the engine, seq unchanged.
 *
 * The device supports VFIO migration (VFIO_DEVICE_FEATURE_MIGRATION):
 * STOP_COPY and PRE_COPY, not P2P. Its migration stream is a run of
 * records (&struct ioasid_mock_vfio_mig_record), each holding the whole
 * register file; when resuming, the last record wins, and it must carry
 * %IOASID_MOCK_VFIO_MIG_FINAL (the record made on entering STOP_COPY).
 */
#define IOASID_MOCK_ENGINE_LCG_MUL	6364136223846793005ULL
#define IOASID_MOCK_ENGINE_LCG_ADD	1442695040888963407ULL
#define IOASID_MOCK_ENGINE_SLOT_MAX	4096
#define IOASID_MOCK_ENGINE_SLOTS_MAX	65536

/**
 * enum ioasid_mock_engine_bits - the engine's control and status bits
 * @IOASID_MOCK_ENGINE_ENABLE: in @ctrl: write slots while the device runs
 * @IOASID_MOCK_ENGINE_ACTIVE: in @status, read only: writing now (enabled,
 *	and the device RUNNING or PRE_COPY)
 * @IOASID_MOCK_ENGINE_FAULTED: in @status: a DMA faulted and disabled the
 *	engine; a write of the registers clears it
 */
enum ioasid_mock_engine_bits {
	IOASID_MOCK_ENGINE_ENABLE = 1 << 0,
	IOASID_MOCK_ENGINE_ACTIVE = 1 << 1,
	IOASID_MOCK_ENGINE_FAULTED = 1 << 2,
};

/* IOASID_MOCK_VFIO_ENGINE's @flags: write the registers, then read them. */
enum {
	IOASID_MOCK_VFIO_ENGINE_SET = 1 << 0,
};

/**
 * struct ioasid_mock_vfio_engine - ioctl(IOASID_MOCK_VFIO_ENGINE) on the
 *	VFIO device fd of a mock device: read, or write and read, the
 *	registers of its DMA engine
 * @argsz: sizeof(struct ioasid_mock_vfio_engine)
 * @flags: %IOASID_MOCK_VFIO_ENGINE_SET to write @base to @ctrl first
 * @base: IOVA of slot 0, 8-byte aligned
 * @nslots: slots in the ring, at most %IOASID_MOCK_ENGINE_SLOTS_MAX
 * @slot_size: bytes per slot, a multiple of 8, at most
 *	%IOASID_MOCK_ENGINE_SLOT_MAX
 * @seq: the sequence number of the next slot written
 * @seed: mixed into every slot
 * @ctrl: &enum ioasid_mock_engine_bits: %IOASID_MOCK_ENGINE_ENABLE
 * @status: out: &enum ioasid_mock_engine_bits: ACTIVE, FAULTED
 * @faults: out: DMAs of the engine that faulted since the device opened
 *
 * Reading works in every migration state. Writing needs the device in
 * RUNNING or STOP (EBUSY in a saving or resuming state: the registers are
 * what migrates), a ring that fits the IOVA space and, with the engine
 * enabled, at least one slot of at least 8 bytes (EINVAL otherwise).
 * Opening the device and VFIO_DEVICE_RESET zero every register.
 */
struct ioasid_mock_vfio_engine {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 base;
	__u32 nslots;
	__u32 slot_size;
	__aligned_u64 seq;
	__aligned_u64 seed;
	__u32 ctrl;
	__u32 status;
	__aligned_u64 faults;
};

#define IOASID_MOCK_VFIO_ENGINE		_IO(IOASID_TYPE, 0x3c)

#define IOASID_MOCK_VFIO_MIG_MAGIC	0x4d564d49	/* "IMVM" */
#define IOASID_MOCK_VFIO_MIG_VERSION	1
/* In a record's @flags: made on entering STOP_COPY, the device stopped. */
enum {
	IOASID_MOCK_VFIO_MIG_FINAL = 1 << 0,
};

/**
 * struct ioasid_mock_vfio_mig_regs - the register file in a record
 * @base: as &struct ioasid_mock_vfio_engine
 * @nslots: as &struct ioasid_mock_vfio_engine
 * @slot_size: as &struct ioasid_mock_vfio_engine
 * @seq: the next sequence number; the device's final one in a FINAL record
 * @seed: as &struct ioasid_mock_vfio_engine
 * @ctrl: as &struct ioasid_mock_vfio_engine
 * @status: %IOASID_MOCK_ENGINE_FAULTED or 0
 * @faults: as &struct ioasid_mock_vfio_engine
 */
struct ioasid_mock_vfio_mig_regs {
	__le64 base;
	__le32 nslots;
	__le32 slot_size;
	__le64 seq;
	__le64 seed;
	__le32 ctrl;
	__le32 status;
	__le64 faults;
};

/**
 * struct ioasid_mock_vfio_mig_record - one record of the migration stream
 * @magic: %IOASID_MOCK_VFIO_MIG_MAGIC (else the write fails with EINVAL)
 * @version: %IOASID_MOCK_VFIO_MIG_VERSION (else EOPNOTSUPP)
 * @flags: %IOASID_MOCK_VFIO_MIG_FINAL or 0 (else EINVAL)
 * @length: sizeof(@regs), the bytes after this header (else EINVAL)
 * @reserved: 0 (else EINVAL)
 * @regs: the register file (EINVAL if it could not be written)
 *
 * All little-endian. A write that delivers a bad record fails, and so
 * does every later write to that data fd and the arc out of RESUMING;
 * VFIO_DEVICE_RESET ends the session.
 */
struct ioasid_mock_vfio_mig_record {
	__le32 magic;
	__le16 version;
	__le16 flags;
	__le32 length;
	__le32 reserved;
	struct ioasid_mock_vfio_mig_regs regs;
};

#ifdef __KERNEL__
/*
 * What the mock driver takes for the formats above: private iommu_user_data
 * types, far from the ones <uapi/linux/iommufd.h> numbers.
 */
#define IOASID_MOCK_HWPT_DATA_PASID_TABLE	0xd1a0
#define IOASID_MOCK_HWPT_INVALIDATE_PASID_TABLE	0xd1a1

/*
 * Between mock.c and test.c only, so it stays out of the interfaces the
 * layers share in ioasid_private.h.
 */
struct device;
int ioasid_mock_device_iotlb_info(struct device *dev, u32 *entries, u32 *max);
int ioasid_mock_device_page_request(struct device *dev, u32 pasid, u64 iova,
				    unsigned int npages, bool write);
u64 ioasid_mock_device_unwaited_answers(struct device *dev);
#endif

#endif /* __IOASID_TEST_H */
