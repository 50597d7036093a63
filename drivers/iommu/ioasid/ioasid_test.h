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
 * @IOASID_TEST_OP_ATTACH: attach @dev_id to @attach.ioasid
 * @IOASID_TEST_OP_DETACH: detach @dev_id (ENXIO if not attached)
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
 *	EIO if any byte would fault in the IOMMU (unmapped, not permitted,
 *	a first-stage walk that fails, or the device attached nowhere); then
 *	no byte of memory or of the buffer has moved. EINVAL if @dma.length
 *	is 0 or above %IOASID_TEST_DMA_MAX, EOVERFLOW if the range wraps,
 *	EOPNOTSUPP for an unknown flag or a non-zero @dma.__reserved
 * @IOASID_TEST_OP_IOTLB_INFO: how many 4K translations the IOTLB of the
 *	nested domain @dev_id's DMA goes through holds now, and how many it
 *	can hold before it forgets them all; ENXIO if its DMA goes through
 *	no nested domain
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
};

/**
 * enum ioasid_test_dma_flags - how a mock device does DMA
 * @IOASID_TEST_DMA_WRITE: the device writes memory, else it reads memory
 */
enum ioasid_test_dma_flags {
	IOASID_TEST_DMA_WRITE = 1 << 0,
};

/* The most one IOASID_TEST_OP_DMA moves: 64 KiB. */
#define IOASID_TEST_DMA_MAX	0x10000

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
 * @attach: for ATTACH
 * @attach.ioasid: the IOASID
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
 * @dma: for DMA
 * @dma.iova: where the device reads or writes
 * @dma.uptr: the user buffer the data comes from (write) or goes to (read)
 * @dma.length: bytes, 1 to %IOASID_TEST_DMA_MAX
 * @dma.flags: &enum ioasid_test_dma_flags
 * @dma.__reserved: must be 0
 * @iotlb_info: for IOTLB_INFO
 * @iotlb_info.out_entries: translations the IOTLB holds
 * @iotlb_info.out_max: how many it holds at most
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
		} device_info;
		struct {
			__aligned_u64 iova;
			__aligned_u64 uptr;
			__aligned_u64 length;
			__u32 flags;
			__u32 __reserved;
		} dma;
		struct {
			__u32 out_entries;
			__u32 out_max;
		} iotlb_info;
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
 *	a device read from memory
 * @iova: where the device reads or writes, any alignment
 * @length: bytes, at most 1 MiB
 * @uptr: the user buffer the data comes from (write) or goes to (read)
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
};

enum {
	IOASID_MOCK_VFIO_DMA_WRITE = 1 << 0,
};

#define IOASID_MOCK_VFIO_DMA	_IO(IOASID_TYPE, 0x3d)

#ifdef __KERNEL__
/*
 * Between mock.c and test.c only, so it stays out of the interfaces the
 * layers share in ioasid_private.h.
 */
struct device;
int ioasid_mock_device_iotlb_info(struct device *dev, u32 *entries, u32 *max);
#endif

#endif /* __IOASID_TEST_H */
