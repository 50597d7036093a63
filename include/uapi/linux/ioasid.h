/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/ioasid: one file descriptor for device DMA address spaces.
 *
 * See Documentation/userspace-api/ioasid.rst for the object model.
 */
#ifndef _UAPI_LINUX_IOASID_H
#define _UAPI_LINUX_IOASID_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define IOASID_TYPE		(';')

/* Bumped only for an incompatible change; extensions are the normal path. */
#define IOASID_API_VERSION	1

/**
 * DOC: General ioctl format
 *
 * Every ioctl on /dev/ioasid takes a pointer to a struct whose first two
 * fields are ``__u32 size`` and ``__u32 flags``. ``size`` is the size of
 * the struct as the caller's header defines it, so a program built against
 * an older header keeps working on a newer kernel and the other way round:
 *
 * - a caller's struct that is shorter than the kernel's is accepted and the
 *   missing fields read as zero, down to the size of the first version of
 *   that struct;
 * - a caller's struct that is longer than the kernel's is accepted if every
 *   byte the kernel does not know is zero;
 * - output fields (``out_`` prefix) are written back only up to ``size``.
 *
 * The ioctl numbers encode no size; type ';' numbers 0x00-0x3F are ours.
 *
 * Each ioctl's argument is ``struct ioasid_cmd_<name>``, after the ioctl
 * ``IOASID_<NAME>``. No other name uses that prefix, so the functions of a
 * library over this uAPI (libioasid's ``ioasid_alloc()`` and the like)
 * never share a name with a struct.
 *
 * Errors have one meaning each, for every ioctl on the ioasid fd (the
 * VFIO device ioctls that bind and attach follow VFIO's conventions, where
 * a bad flag or field is EINVAL):
 *
 * - ``ENOTTY``: not an ioctl of this fd.
 * - ``EFAULT``: a user pointer (the struct itself or one it points to) is
 *   not accessible.
 * - ``EINVAL``: ``size`` is below the first version of the struct, or a
 *   field holds a value outside its documented range.
 * - ``E2BIG``: ``size`` is larger than the kernel's struct and the bytes it
 *   does not know are not all zero.
 * - ``EOPNOTSUPP``: a flag bit this kernel does not know, or a non-zero
 *   reserved field (``__reserved``). The same answer for both, always.
 * - ``ENOENT``: no object of the expected type has the given id on this fd.
 * - ``EBUSY``: the object is still in use, by another object or by a
 *   concurrent ioctl on it; retry once those are gone.
 * - ``ENOMEM``: the kernel could not allocate memory for the request, or
 *   pinning it would take the user past RLIMIT_MEMLOCK (counted per user,
 *   over all their processes and fds).
 * - ``ENOSPC``: the id space of this fd is exhausted.
 * - ``EEXIST``: the range overlaps an existing mapping or registration.
 * - ``EOVERFLOW``: an address plus a length wraps around, or runs past the
 *   end of the user or IOVA address space. A zero length or an address or
 *   length not aligned as required is ``EINVAL``, never ``EOVERFLOW``.
 * - ``ERANGE``: an IOVA range lies outside the usable ranges that
 *   IOASID_GET_INFO reports, or attaching a device would leave an existing
 *   mapping outside the ranges that device can use.
 * - ``EFAULT``: also, user memory to pin is not there or cannot be pinned,
 *   such as a VM_PFNMAP or VM_IO mapping of device memory.
 * - ``ENXIO``: the parent IOVA range a nested IOASID's DMA_MAP names is not
 *   entirely mapped in the parent.
 * - ``EACCES``: a nested IOASID's DMA_MAP asks for an access (read or
 *   write) that the parent's mapping of its source does not grant.
 * - ``EMEDIUMTYPE``: an ioctl for hardware-nested IOASIDs (binding or
 *   invalidating a user-owned page table) on an IOASID of another kind.
 * - ``EPERM``: a memory ioctl (REGISTER_MEMORY, UNREGISTER_MEMORY,
 *   DMA_MAP: those that name user addresses) comes from a process other
 *   than the first one that used a memory ioctl on the fd, which the fd
 *   is bound to from then on; user addresses mean nothing elsewhere. Also,
 *   binding a device whose MSIs are not isolated (no interrupt
 *   remapping) while the ioasid.allow_unsafe_interrupts module parameter
 *   is off.
 */

enum {
	IOASID_CMD_BASE = 0x00,
	IOASID_CMD_GET_API_VERSION = IOASID_CMD_BASE,
	IOASID_CMD_CHECK_EXTENSION,
	IOASID_CMD_ALLOC,
	IOASID_CMD_FREE,
	IOASID_CMD_GET_INFO,
	IOASID_CMD_REGISTER_MEMORY,
	IOASID_CMD_UNREGISTER_MEMORY,
	IOASID_CMD_DMA_MAP,
	IOASID_CMD_DMA_UNMAP,
	IOASID_CMD_CREATE_NESTING,
	IOASID_CMD_DEVICE_GET_INFO,
	IOASID_CMD_BIND_PGTABLE,
	IOASID_CMD_UNBIND_PGTABLE,
	IOASID_CMD_INVALIDATE_CACHE,
	IOASID_CMD_BIND_PASID_TABLE,
	IOASID_CMD_UNBIND_PASID_TABLE,
	IOASID_CMD_FAULT_RING_SETUP,
	IOASID_CMD_FAULT_RING_FREE,
	IOASID_CMD_PAGE_RESPONSE,
	IOASID_CMD_DIRTY_TRACKING,
	IOASID_CMD_GET_DIRTY_BITMAP,
};

/**
 * struct ioasid_cmd_get_api_version - ioctl(IOASID_GET_API_VERSION)
 * @size: sizeof(struct ioasid_cmd_get_api_version)
 * @flags: must be 0
 * @out_version: %IOASID_API_VERSION of the running kernel
 * @__reserved: must be 0
 */
struct ioasid_cmd_get_api_version {
	__u32 size;
	__u32 flags;
	__u32 out_version;
	__u32 __reserved;
};

#define IOASID_GET_API_VERSION	_IO(IOASID_TYPE, IOASID_CMD_GET_API_VERSION)

/**
 * enum ioasid_extension - what IOASID_CHECK_EXTENSION can be asked about
 * @IOASID_EXT_NONE: never supported; a placeholder so that 0 is no feature
 * @IOASID_EXT_DMA_MAP: IOASID_REGISTER_MEMORY, IOASID_UNREGISTER_MEMORY,
 *	IOASID_DMA_MAP and IOASID_DMA_UNMAP
 * @IOASID_EXT_PARTIAL_UNMAP: IOASID_DMA_UNMAP may cut a mapping in two,
 *	except through a large IOMMU page (see &struct ioasid_cmd_dma_unmap)
 * @IOASID_EXT_NESTING_SOFTWARE: IOASID_CREATE_NESTING with
 *	%IOASID_NESTING_SOFTWARE, and IOASID_DMA_MAP with
 *	%IOASID_DMA_MAP_FROM_PARENT
 * @IOASID_EXT_NESTING_HARDWARE: IOASID_CREATE_NESTING with
 *	%IOASID_NESTING_HARDWARE, IOASID_BIND_PGTABLE, IOASID_UNBIND_PGTABLE
 *	and IOASID_INVALIDATE_CACHE; whether a device's IOMMU can nest is
 *	IOASID_DEVICE_GET_INFO's to say
 * @IOASID_EXT_DEVICE_GET_INFO: IOASID_DEVICE_GET_INFO
 * @IOASID_EXT_USER_PASID: attaching with %IOASID_ATTACH_USER_PASID; which
 *	devices can tag DMA with a PASID is IOASID_DEVICE_GET_INFO's to say
 * @IOASID_EXT_PASID_TABLE: IOASID_BIND_PASID_TABLE and
 *	IOASID_UNBIND_PASID_TABLE; which IOMMUs walk a user's PASID table is
 *	IOASID_DEVICE_GET_INFO's to say
 * @IOASID_EXT_FAULT_RING: IOASID_FAULT_RING_SETUP, IOASID_FAULT_RING_FREE,
 *	mmap() of a ring and IOASID_PAGE_RESPONSE; which devices raise page
 *	requests is IOASID_DEVICE_GET_INFO's to say
 * @IOASID_EXT_DIRTY_TRACKING: IOASID_DIRTY_TRACKING and
 *	IOASID_GET_DIRTY_BITMAP; which IOMMUs track dirty pages themselves is
 *	IOASID_DEVICE_GET_INFO's to say (%IOASID_DEVICE_CAP_DIRTY_TRACKING)
 *
 * A feature gets its number here when it works; numbers are never reused.
 */
enum ioasid_extension {
	IOASID_EXT_NONE = 0,
	IOASID_EXT_DMA_MAP = 1,
	IOASID_EXT_PARTIAL_UNMAP = 2,
	IOASID_EXT_NESTING_SOFTWARE = 3,
	IOASID_EXT_NESTING_HARDWARE = 4,
	IOASID_EXT_DEVICE_GET_INFO = 5,
	IOASID_EXT_USER_PASID = 6,
	IOASID_EXT_PASID_TABLE = 7,
	IOASID_EXT_FAULT_RING = 8,
	IOASID_EXT_DIRTY_TRACKING = 9,
};

/**
 * struct ioasid_cmd_check_extension - ioctl(IOASID_CHECK_EXTENSION)
 * @size: sizeof(struct ioasid_cmd_check_extension)
 * @flags: must be 0
 * @extension: an &enum ioasid_extension value
 * @out_supported: 1 if the feature works on this kernel and machine, else
 *	0. A number this kernel does not know is answered 0, not an error.
 */
struct ioasid_cmd_check_extension {
	__u32 size;
	__u32 flags;
	__u32 extension;
	__u32 out_supported;
};

#define IOASID_CHECK_EXTENSION	_IO(IOASID_TYPE, IOASID_CMD_CHECK_EXTENSION)

/**
 * struct ioasid_cmd_alloc - ioctl(IOASID_ALLOC)
 * @size: sizeof(struct ioasid_cmd_alloc)
 * @flags: must be 0
 * @out_ioasid: the id of the new, empty I/O address space. Ids are
 *	non-zero, unique on this fd, and not reused soon after a free.
 * @__reserved: must be 0
 *
 * The IOASID lives until IOASID_FREE or until the fd is closed.
 */
struct ioasid_cmd_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioasid;
	__u32 __reserved;
};

#define IOASID_ALLOC		_IO(IOASID_TYPE, IOASID_CMD_ALLOC)

/**
 * struct ioasid_cmd_free - ioctl(IOASID_FREE)
 * @size: sizeof(struct ioasid_cmd_free)
 * @flags: must be 0
 * @ioasid: the IOASID to destroy
 * @__reserved: must be 0
 *
 * Fails with ENOENT if @ioasid is not an IOASID of this fd (this includes
 * one already freed), and with EBUSY while anything still uses it.
 */
struct ioasid_cmd_free {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 __reserved;
};

#define IOASID_FREE		_IO(IOASID_TYPE, IOASID_CMD_FREE)

/**
 * struct ioasid_iova_range - a closed range of usable IOVA
 * @start: first usable address
 * @last: last usable address (inclusive, so the full space fits)
 */
struct ioasid_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/**
 * struct ioasid_cmd_get_info - ioctl(IOASID_GET_INFO)
 * @size: sizeof(struct ioasid_cmd_get_info)
 * @flags: must be 0
 * @ioasid: the IOASID to describe
 * @out_num_devices: devices attached to it now
 * @out_pgsize_bitmap: page sizes a mapping may be built from: bit n set
 *	means 2^n bytes. The lowest set bit is the alignment every IOVA,
 *	address and length must have. Before any device is attached only the
 *	CPU page size constrains it.
 * @num_iova_ranges: in: how many entries @iova_ranges has room for.
 *	out: how many usable ranges there are. When that is more than the
 *	room, the first entries are filled and no error is returned, so a
 *	caller can ask with 0 first and then with enough room.
 * @__reserved: must be 0
 * @iova_ranges: user pointer to an array of &struct ioasid_iova_range,
 *	sorted and disjoint. Before any device is attached the whole 64-bit
 *	space is one range; each attached device narrows it to its IOMMU's
 *	aperture and cuts out its reserved regions (such as an MSI window).
 *	A nested IOASID's ranges are its own: the parent's do not narrow
 *	them.
 * @out_parent: the parent of a nested IOASID, else 0
 * @out_nesting: &enum ioasid_nesting_kind: how it is nested on
 *	@out_parent, or %IOASID_NESTING_NONE
 * @out_num_children: IOASIDs nested on this one
 * @__reserved2: must be 0
 * @out_revoked: bytes of this IOASID's mappings that parent unmaps have
 *	removed (see %IOASID_DMA_MAP_FROM_PARENT), since it was created
 */
struct ioasid_cmd_get_info {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 out_num_devices;
	__aligned_u64 out_pgsize_bitmap;
	__u32 num_iova_ranges;
	__u32 __reserved;
	__aligned_u64 iova_ranges;
	__u32 out_parent;
	__u32 out_nesting;
	__u32 out_num_children;
	__u32 __reserved2;
	__aligned_u64 out_revoked;
};

#define IOASID_GET_INFO		_IO(IOASID_TYPE, IOASID_CMD_GET_INFO)

/**
 * struct ioasid_cmd_register_memory - ioctl(IOASID_REGISTER_MEMORY) and
 *	ioctl(IOASID_UNREGISTER_MEMORY)
 * @size: sizeof(struct ioasid_cmd_register_memory)
 * @flags: must be 0
 * @vaddr: start of the user memory, page aligned
 * @length: its length in bytes, page aligned and non-zero
 *
 * REGISTER pins the range once, writable, and charges it once: to the
 * user's locked memory, which RLIMIT_MEMLOCK bounds over all their
 * processes unless the process has CAP_IPC_LOCK, and to the process's
 * pinned memory (VmPin). A later IOASID_DMA_MAP whose source lies
 * entirely inside one registration uses those pins: no pin and no charge
 * of its own, however many IOASIDs map the memory. A map whose source is
 * not inside a single registration pins its own pages, even where it
 * overlaps registered memory; register memory in the pieces it is mapped.
 *
 * A registration may not overlap another (EEXIST); adjacent ones are
 * separate registrations. The range must be ordinary memory that can be
 * pinned: holes and VM_PFNMAP/VM_IO mappings get EFAULT.
 *
 * UNREGISTER takes exactly a range that REGISTER was given (ENOENT
 * otherwise) and fails with EBUSY while any mapping still uses it. The
 * pins and the charge go with the registration. Closing the fd
 * unregisters everything.
 */
struct ioasid_cmd_register_memory {
	__u32 size;
	__u32 flags;
	__aligned_u64 vaddr;
	__aligned_u64 length;
};

#define IOASID_REGISTER_MEMORY	_IO(IOASID_TYPE, IOASID_CMD_REGISTER_MEMORY)
#define IOASID_UNREGISTER_MEMORY _IO(IOASID_TYPE, IOASID_CMD_UNREGISTER_MEMORY)

/**
 * enum ioasid_dma_map_flags - access a mapping grants the device, and
 *	where its memory comes from
 * @IOASID_DMA_MAP_READ: the device may read the memory
 * @IOASID_DMA_MAP_WRITE: the device may write the memory
 * @IOASID_DMA_MAP_FROM_PARENT: the source is an IOVA range of the parent
 *	IOASID (a guest physical address), not user memory. Required for,
 *	and only allowed in, a software-nested IOASID.
 */
enum ioasid_dma_map_flags {
	IOASID_DMA_MAP_READ = 1 << 0,
	IOASID_DMA_MAP_WRITE = 1 << 1,
	IOASID_DMA_MAP_FROM_PARENT = 1 << 2,
};

/**
 * struct ioasid_cmd_dma_map - ioctl(IOASID_DMA_MAP)
 * @size: sizeof(struct ioasid_cmd_dma_map)
 * @flags: &enum ioasid_dma_map_flags; at least one of them
 * @ioasid: the IOASID to map into
 * @__reserved: must be 0
 * @vaddr: user address of the memory to map
 * @parent_iova: with %IOASID_DMA_MAP_FROM_PARENT, the parent IOVA to map
 *	instead
 * @iova: where the devices see it
 * @length: bytes to map
 *
 * @vaddr must be aligned to the CPU page, and @iova and @length to the
 * lowest bit of &struct ioasid_cmd_get_info.out_pgsize_bitmap (EINVAL).
 * The IOVA range must lie inside the usable ranges (ERANGE) and overlap
 * no mapping (EEXIST); all of that is checked before anything is pinned.
 * Unregistered memory is pinned now and charged to the process (see
 * &struct ioasid_cmd_register_memory). Where the memory is backed by huge
 * pages (THP or hugetlbfs) and the IOVA is aligned to them, the IOMMU maps
 * them with large pages when it can.
 *
 * The mapping is in every attached IOMMU domain when this returns, or in
 * none of them.
 *
 * Into a software-nested IOASID the source is @parent_iova: the pages the
 * parent maps there, which the kernel composes into this IOASID's page
 * tables (child IOVA -> parent IOVA -> memory). Nothing is pinned or
 * charged again, and no registration is needed. @parent_iova must be
 * page aligned (EINVAL); all of [@parent_iova, @parent_iova + @length)
 * must be mapped in the parent (ENXIO), granting every access asked for
 * (EACCES). Both are checked before anything changes. One call may use
 * several of the parent's mappings; the pieces behave as one mapping
 * each (see &struct ioasid_cmd_dma_unmap).
 */
struct ioasid_cmd_dma_map {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 __reserved;
	union {
		__aligned_u64 vaddr;
		__aligned_u64 parent_iova;
	};
	__aligned_u64 iova;
	__aligned_u64 length;
};

#define IOASID_DMA_MAP		_IO(IOASID_TYPE, IOASID_CMD_DMA_MAP)

/**
 * enum ioasid_dma_unmap_flags - how to pick what to unmap
 * @IOASID_DMA_UNMAP_ALL: everything in the IOASID; @iova and @length of
 *	&struct ioasid_cmd_dma_unmap must then be 0
 * @IOASID_DMA_UNMAP_GET_DIRTY: before the range goes, read its dirty
 *	bitmap into @dirty_bitmap, as IOASID_GET_DIRTY_BITMAP would with
 *	@dirty_page_size, clearing it; not with %IOASID_DMA_UNMAP_ALL
 */
enum ioasid_dma_unmap_flags {
	IOASID_DMA_UNMAP_ALL = 1 << 0,
	IOASID_DMA_UNMAP_GET_DIRTY = 1 << 1,
};

/**
 * struct ioasid_cmd_dma_unmap - ioctl(IOASID_DMA_UNMAP)
 * @size: sizeof(struct ioasid_cmd_dma_unmap)
 * @flags: &enum ioasid_dma_unmap_flags
 * @ioasid: the IOASID to unmap from
 * @__reserved: must be 0
 * @iova: start of the range, aligned as for IOASID_DMA_MAP
 * @length: its length, aligned and non-zero
 * @out_unmapped: how many bytes were mapped in the range and are not now
 * @dirty_page_size: with %IOASID_DMA_UNMAP_GET_DIRTY, what one bit of
 *	@dirty_bitmap stands for, as &struct ioasid_cmd_get_dirty_bitmap's
 *	@page_size; @iova and @length must be aligned to it
 * @dirty_bitmap: with %IOASID_DMA_UNMAP_GET_DIRTY, the user bitmap of
 *	the range, as &struct ioasid_cmd_get_dirty_bitmap's @bitmap
 * @out_dirty_report: with %IOASID_DMA_UNMAP_GET_DIRTY, &enum
 *	ioasid_dirty_report: how the bitmap was known
 * @__reserved2: must be 0
 *
 * Removes every mapping inside the range; parts of the range that map
 * nothing are fine. A mapping that sticks out of the range is cut: the
 * part outside stays mapped and keeps its pins. The one cut refused is
 * one through a large IOMMU page, which only a mapping of huge-page
 * backed memory can have: that gets EINVAL and nothing changes. Unpinned
 * memory that no mapping or registration uses any more is released at
 * once.
 *
 * In an IOASID with software-nested children, the children lose their
 * translations of the unmapped range first: every child mapping that
 * uses any byte of it is removed whole, from every child domain, before
 * this returns (and before any page is released). A child mapping here is
 * what one of the parent's mappings gave one child DMA_MAP, or what a
 * partial unmap left of it. The child counts the bytes removed in
 * &struct ioasid_cmd_get_info.out_revoked; its devices then fault on
 * those IOVAs. Mapping the parent range again does not bring them back.
 *
 * With %IOASID_DMA_UNMAP_GET_DIRTY the IOASID must be tracking (EINVAL
 * otherwise), and the bitmap follows IOASID_GET_DIRTY_BITMAP's rules and
 * errnos; an error there unmaps nothing. The bitmap is read just before
 * the mappings are removed, under the same lock, so nothing the VMM
 * does comes between; a device still writing into the range during the
 * call may have a write land after the read and before the removal, and
 * that write is not reported. Stop the devices first (a migrating VMM
 * has), as with any unmap under live DMA.
 */
struct ioasid_cmd_dma_unmap {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 out_unmapped;
	__aligned_u64 dirty_page_size;
	__aligned_u64 dirty_bitmap;
	__u32 out_dirty_report;
	__u32 __reserved2;
};

#define IOASID_DMA_UNMAP	_IO(IOASID_TYPE, IOASID_CMD_DMA_UNMAP)

/**
 * enum ioasid_nesting_kind - how an IOASID is nested on its parent
 * @IOASID_NESTING_NONE: not nested (only reported, never asked for)
 * @IOASID_NESTING_SOFTWARE: the kernel composes child IOVA -> parent IOVA
 *	-> memory into ordinary IOMMU page tables; works on every IOMMU.
 *	Mappings come from IOASID_DMA_MAP with %IOASID_DMA_MAP_FROM_PARENT.
 * @IOASID_NESTING_HARDWARE: the IOMMU walks a user-owned first-stage
 *	page table (a guest's) on top of the parent in hardware: see
 *	IOASID_BIND_PGTABLE. The IOASID takes no IOASID_DMA_MAP.
 */
enum ioasid_nesting_kind {
	IOASID_NESTING_NONE = 0,
	IOASID_NESTING_SOFTWARE = 1,
	IOASID_NESTING_HARDWARE = 2,
};

/**
 * struct ioasid_cmd_create_nesting - ioctl(IOASID_CREATE_NESTING)
 * @size: sizeof(struct ioasid_cmd_create_nesting)
 * @flags: must be 0
 * @parent: the IOASID to nest on: one that is not nested itself
 * @kind: &enum ioasid_nesting_kind, not %IOASID_NESTING_NONE
 * @out_ioasid: the new, empty, nested IOASID
 * @__reserved: must be 0
 *
 * Nesting is one level deep: a nested IOASID cannot be a parent (EINVAL).
 * Whether a device's IOMMU can nest in hardware is only known per device
 * (IOASID_DEVICE_GET_INFO); a hardware-nested IOASID is created on any
 * parent, and attaching a device whose IOMMU cannot nest fails.
 * A parent may have any number of children, devices and mappings of its
 * own, and cannot be freed while it has children (EBUSY). A nested IOASID
 * is freed, attached to and unmapped like any other, and holds a
 * reference on its parent until it is freed.
 */
struct ioasid_cmd_create_nesting {
	__u32 size;
	__u32 flags;
	__u32 parent;
	__u32 kind;
	__u32 out_ioasid;
	__u32 __reserved;
};

#define IOASID_CREATE_NESTING	_IO(IOASID_TYPE, IOASID_CMD_CREATE_NESTING)

/**
 * enum ioasid_device_caps - what a device's IOMMU can do for it
 * @IOASID_DEVICE_CAP_NESTING_HARDWARE: it can walk a user-owned first
 *	stage on top of an IOASID (%IOASID_NESTING_HARDWARE), in the formats
 *	of &struct ioasid_cmd_device_get_info.out_pgtable_formats
 * @IOASID_DEVICE_CAP_DIRTY_TRACKING: it can record which pages the device
 *	wrote
 * @IOASID_DEVICE_CAP_PAGE_REQUESTS: the device can ask for pages it
 *	faulted on (PCI PRI) and wait for the answer
 * @IOASID_DEVICE_CAP_ENFORCE_COHERENCY: its DMA can be forced to snoop CPU
 *	caches; such a device is only ever attached through domains that
 *	force it
 */
enum ioasid_device_caps {
	IOASID_DEVICE_CAP_NESTING_HARDWARE = 1 << 0,
	IOASID_DEVICE_CAP_DIRTY_TRACKING = 1 << 1,
	IOASID_DEVICE_CAP_PAGE_REQUESTS = 1 << 2,
	IOASID_DEVICE_CAP_ENFORCE_COHERENCY = 1 << 3,
};

/**
 * enum ioasid_pgtable_format - formats of a user-owned first stage
 * @IOASID_PGTABLE_NONE: no format; a placeholder so that 0 is none
 * @IOASID_PGTABLE_VTD_S1: the x86-64 4-level (48-bit) or 5-level page
 *	table that Intel VT-d walks as its first stage: 4 KiB, 2 MiB and
 *	1 GiB leaves; present, writable, user and page-size bits. Its bind
 *	data is &struct iommu_hwpt_vtd_s1 of <linux/iommufd.h> (root table
 *	address in the parent's IOVA space, address width, flags), and its
 *	invalidation entries &struct iommu_hwpt_vtd_s1_invalidate: the
 *	formats the IOMMU drivers define, passed to them as they are. The
 *	entries name no PASID: an invalidation is for the IOASID's table,
 *	wherever it is attached (RID or PASIDs, every device); "addr 0,
 *	npages U64_MAX" is the whole table, and the driver flushes device
 *	TLBs (ATS) with the IOTLB.
 *
 * Numbers 16 to 31 are for formats only a test driver walks (the mock
 * IOMMU's PASID table, see ioasid_test.h); they are never real ones.
 */
enum ioasid_pgtable_format {
	IOASID_PGTABLE_NONE = 0,
	IOASID_PGTABLE_VTD_S1 = 1,
};

/**
 * struct ioasid_cmd_device_get_info - ioctl(IOASID_DEVICE_GET_INFO)
 * @size: sizeof(struct ioasid_cmd_device_get_info)
 * @flags: must be 0
 * @dev_id: a device bound to this fd (VFIO_BIND_IOASID_FD's out_dev_id)
 * @out_hw_info_type: which IOMMU is behind it, as &enum
 *	iommu_hw_info_type of <linux/iommufd.h> names them
 *	(IOMMU_HW_INFO_TYPE_INTEL_VTD, ...), or IOMMU_HW_INFO_TYPE_NONE when
 *	its driver does not say
 * @out_capabilities: &enum ioasid_device_caps
 * @out_pgtable_formats: bit n set: &enum ioasid_pgtable_format n can be
 *	bound for it. Empty unless it can nest in hardware.
 * @out_pasid_bits: how many bits of PASID it can tag DMA with; 0 for none
 *
 * A VMM asks before it picks a flow for the device: hardware nesting
 * where the IOMMU nests, software nesting (which works everywhere)
 * otherwise. Every answer is the IOMMU driver's, asked now: nesting is
 * reported only if the driver agreed to allocate a domain to nest on.
 */
struct ioasid_cmd_device_get_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 out_hw_info_type;
	__aligned_u64 out_capabilities;
	__u32 out_pgtable_formats;
	__u32 out_pasid_bits;
};

#define IOASID_DEVICE_GET_INFO	_IO(IOASID_TYPE, IOASID_CMD_DEVICE_GET_INFO)

/**
 * struct ioasid_cmd_bind_pgtable - ioctl(IOASID_BIND_PGTABLE)
 * @size: sizeof(struct ioasid_cmd_bind_pgtable)
 * @flags: must be 0
 * @ioasid: a hardware-nested IOASID
 * @format: &enum ioasid_pgtable_format
 * @data_len: bytes at @data_uptr
 * @__reserved: must be 0
 * @data_uptr: the format's bind data (see &enum ioasid_pgtable_format)
 *
 * Makes the user's table the first stage of every device attached to
 * @ioasid: their DMA is translated by that table, whose every access, and
 * every address it yields, is translated by the parent. The kernel keeps
 * no copy of the table: the IOMMU reads it from the parent's memory as it
 * goes, and caches what it read until IOASID_INVALIDATE_CACHE says the
 * table changed.
 *
 * The devices attach first: the IOMMU driver builds a nested domain per
 * IOMMU instance from @data_uptr, which is only read during this call.
 * While a table is bound, attaching another device gets EBUSY; detaching
 * one is fine. IOASID_UNBIND_PGTABLE ends it: the devices stay attached
 * and reach nothing until the next bind.
 *
 * Return: 0, or EMEDIUMTYPE if @ioasid is not hardware-nested (a plain or
 * software-nested IOASID, which has mappings of its own); EEXIST if a
 * table is bound already; ENODEV if no device is attached; EOPNOTSUPP
 * for a format this kernel or an attached device's IOMMU lacks, or a
 * flag of the format's data the IOMMU does not implement; EINVAL for bad
 * format data, such as a root that is not aligned to 4 KiB.
 */
struct ioasid_cmd_bind_pgtable {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 format;
	__u32 data_len;
	__u32 __reserved;
	__aligned_u64 data_uptr;
};

#define IOASID_BIND_PGTABLE	_IO(IOASID_TYPE, IOASID_CMD_BIND_PGTABLE)

/**
 * struct ioasid_cmd_unbind_pgtable - ioctl(IOASID_UNBIND_PGTABLE)
 * @size: sizeof(struct ioasid_cmd_unbind_pgtable)
 * @flags: must be 0
 * @ioasid: a hardware-nested IOASID with a table bound
 * @__reserved: must be 0
 *
 * Return: 0, or EMEDIUMTYPE as for IOASID_BIND_PGTABLE, ENOENT if no
 * table is bound. Freeing the IOASID or closing the fd unbinds too.
 */
struct ioasid_cmd_unbind_pgtable {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 __reserved;
};

#define IOASID_UNBIND_PGTABLE	_IO(IOASID_TYPE, IOASID_CMD_UNBIND_PGTABLE)

/**
 * struct ioasid_cmd_invalidate_cache - ioctl(IOASID_INVALIDATE_CACHE)
 * @size: sizeof(struct ioasid_cmd_invalidate_cache)
 * @flags: must be 0
 * @ioasid: a hardware-nested IOASID with a table bound
 * @entry_len: bytes per entry at @entries_uptr: the size of the format's
 *	invalidation struct as the caller knows it
 * @num_entries: in: how many entries; out: how many were done, in order,
 *	when the call returns, whether it succeeded or not
 * @__reserved: must be 0
 * @entries_uptr: an array of the bound format's invalidation entries (see
 *	&enum ioasid_pgtable_format)
 *
 * After the user changed its table, tells the IOMMU to forget what it
 * cached of it; until then DMA may go on using the old entries. Entries
 * are processed in order, each for every IOMMU instance of the IOASID's
 * devices, and processing stops at the first that fails: entries below
 * @num_entries are done, the one at @num_entries failed (or was not
 * reached, on success @num_entries is the whole array).
 *
 * Return: 0, or EMEDIUMTYPE as for IOASID_BIND_PGTABLE, ENOENT if no
 * table is bound, EINVAL for an entry the IOMMU refuses, EFAULT for
 * @entries_uptr.
 */
struct ioasid_cmd_invalidate_cache {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 entry_len;
	__u32 num_entries;
	__u32 __reserved;
	__aligned_u64 entries_uptr;
};

#define IOASID_INVALIDATE_CACHE	_IO(IOASID_TYPE, IOASID_CMD_INVALIDATE_CACHE)

/**
 * DOC: IOASID_BIND_PASID_TABLE and IOASID_UNBIND_PASID_TABLE
 *
 * Take &struct ioasid_cmd_bind_pgtable and &struct ioasid_cmd_unbind_pgtable
 * and work as IOASID_BIND_PGTABLE and IOASID_UNBIND_PGTABLE, for a table of
 * a PASID-table format (EINVAL for a first-stage format, and the other way
 * round): a guest-owned table, in the parent's IOVA space, that gives each
 * PASID its own first stage. The devices attached to the IOASID without a
 * PASID then have all their DMA translated through it, their untagged DMA
 * by the entry the format reserves for it; a PASID attachment of such an
 * IOASID gets EINVAL at bind. IOASID_INVALIDATE_CACHE takes the format's
 * own entries, which name PASIDs and cached table entries.
 *
 * A device whose untagged DMA is on a bound PASID table may still attach
 * PASIDs to hardware-nested IOASIDs of the same parent and bind their
 * first stages: the IOMMU then walks what the guest's PASID table says,
 * and the bound first stage only scopes IOASID_INVALIDATE_CACHE on that
 * IOASID to the PASIDs it is attached under (and serves fault reports).
 */
#define IOASID_BIND_PASID_TABLE	_IO(IOASID_TYPE, IOASID_CMD_BIND_PASID_TABLE)
#define IOASID_UNBIND_PASID_TABLE _IO(IOASID_TYPE, IOASID_CMD_UNBIND_PASID_TABLE)

/**
 * enum ioasid_attach_flags - how a device is attached to an IOASID
 * @IOASID_ATTACH_USER_PASID: attach the IOASID under a PASID the user
 *	chose (a guest's vPASID) instead of as the device's default address
 *	space. A device or IOMMU that cannot tag DMA with a PASID answers
 *	EOPNOTSUPP; PASID 0 (what untagged DMA is) or one past the device's
 *	(IOASID_DEVICE_GET_INFO's out_pasid_bits) gets EINVAL.
 *
 * The PASID a user names is the one the device tags its DMA with: the
 * kernel does not translate it. Each device has a PASID space of its own
 * (the IOMMU looks PASIDs up per requester ID), so two devices may use
 * the same PASID, for one IOASID or for two. Within one device, the
 * untagged DMA and each PASID attach independently, each to one IOASID
 * at a time (EBUSY for a second); devices of one IOMMU group share each
 * attachment, as they share the untagged one. A PASID attachment works
 * on every kind of IOASID: plain, software-nested, or hardware-nested
 * (RFC 5.5, vSVA: attach, then bind the guest process's table). A PASID
 * global across devices, as ENQCMD needs, is not offered.
 *
 * Devices are bound and attached through their own fds; for VFIO see
 * VFIO_BIND_IOASID_FD and VFIO_ATTACH_IOASID in linux/vfio.h.
 */
enum ioasid_attach_flags {
	IOASID_ATTACH_USER_PASID = 1 << 0,
};

/**
 * DOC: I/O page faults
 *
 * A device that can ask for pages (PCI PRI; IOASID_DEVICE_GET_INFO's
 * %IOASID_DEVICE_CAP_PAGE_REQUESTS) and faults in a first stage the user
 * owns (a hardware-nested IOASID, RFC 5.6) raises a page request: the
 * kernel posts it to the fault ring of the IOASID it faulted in, and the
 * device waits until the user answers it with IOASID_PAGE_RESPONSE. A
 * fault in an IOASID whose ring is not set up, or in a mapping the kernel
 * owns, is answered as failed at once.
 *
 * The ring is shared memory: the kernel produces, the user consumes, and
 * neither needs a system call to see the other's progress. It is mapped
 * from the ioasid fd at &struct ioasid_cmd_fault_ring_setup.out_mmap_offset
 * for out_mmap_size bytes, read and write, and starts with &struct
 * ioasid_fault_ring_header. @head and @tail run freely (they wrap at
 * 2^32); a record's slot is its index & @mask. The kernel writes records
 * at @tail and then advances @tail with release ordering; the user reads
 * @tail with acquire ordering, reads the records before it, and then
 * advances @head past them with release ordering, which gives their
 * slots back. The kernel never reads a record back, and a @head the user
 * corrupts only makes the ring look full.
 *
 * After posting the records of a fault group the kernel signals the
 * ring's eventfd, every time. That costs the kernel an atomic add while
 * the consumer is busy and nobody waits, and asks nothing of consumers:
 * one that reads (resets) the eventfd, drains the ring until @head meets
 * @tail, and only then waits on the eventfd again cannot miss a record,
 * since a record posted after its last look at @tail signals anew. A
 * consumer that never sleeps may ignore the eventfd.
 *
 * A group whose records do not all fit is not posted: it is answered as
 * failed at once (the device retries, as a guest's driver does after a
 * failed page request) and @lost grows by its number of records.
 */

/* The most records a fault ring holds. */
#define IOASID_FAULT_RING_MAX_ENTRIES	4096
/* The most IOASIDs one ring serves. */
#define IOASID_FAULT_RING_MAX_IOASIDS	64

/**
 * struct ioasid_fault_ring_header - the start of a fault ring's mapping
 * @head: the user's: index of the next record it will read
 * @__pad_head: keeps @head alone in its cache line
 * @tail: the kernel's: index after the last record it posted
 * @__pad_tail: keeps @tail alone in its cache line
 * @mask: number of records - 1
 * @record_size: sizeof(struct ioasid_fault_record) as the kernel writes
 *	it: step by this, not by the header's sizeof
 * @records_offset: where record 0 starts, in bytes from the header
 * @__reserved: 0
 * @lost: records never posted because the ring was full; their groups
 *	were answered as failed
 */
struct ioasid_fault_ring_header {
	__u32 head;
	__u32 __pad_head[15];
	__u32 tail;
	__u32 __pad_tail[15];
	__u32 mask;
	__u32 record_size;
	__u32 records_offset;
	__u32 __reserved;
	__aligned_u64 lost;
};

/**
 * enum ioasid_fault_record_flags - what a fault record says
 * @IOASID_FAULT_PASID_VALID: the DMA carried PASID @pasid
 * @IOASID_FAULT_LAST_IN_GROUP: the last record of its group: the group is
 *	answered once, with its @cookie, after all of it is handled
 */
enum ioasid_fault_record_flags {
	IOASID_FAULT_PASID_VALID = 1 << 0,
	IOASID_FAULT_LAST_IN_GROUP = 1 << 1,
};

/**
 * enum ioasid_fault_access - the access that faulted
 * @IOASID_FAULT_READ: a read
 * @IOASID_FAULT_WRITE: a write
 * @IOASID_FAULT_EXEC: an instruction fetch
 * @IOASID_FAULT_PRIV: in privileged mode
 */
enum ioasid_fault_access {
	IOASID_FAULT_READ = 1 << 0,
	IOASID_FAULT_WRITE = 1 << 1,
	IOASID_FAULT_EXEC = 1 << 2,
	IOASID_FAULT_PRIV = 1 << 3,
};

/**
 * struct ioasid_fault_record - one page request
 * @ioasid: the IOASID the DMA faulted in
 * @flags: &enum ioasid_fault_record_flags
 * @label: the device's label, given when it was bound
 *	(VFIO_BIND_IOASID_FD), or its device id for a device bound otherwise
 * @pasid: with %IOASID_FAULT_PASID_VALID, the PASID the DMA carried
 * @access: &enum ioasid_fault_access
 * @addr: the faulting address, 4 KiB aligned, in @ioasid's address space
 *	(the guest's, for a bound first stage)
 * @group_id: the device's page request group index
 * @__reserved: 0
 * @cookie: names the group in IOASID_PAGE_RESPONSE; every record of a
 *	group has the same one, and no two groups of a ring ever do
 */
struct ioasid_fault_record {
	__u32 ioasid;
	__u32 flags;
	__aligned_u64 label;
	__u32 pasid;
	__u32 access;
	__aligned_u64 addr;
	__u32 group_id;
	__u32 __reserved;
	__aligned_u64 cookie;
};

/**
 * struct ioasid_cmd_fault_ring_setup - ioctl(IOASID_FAULT_RING_SETUP)
 * @size: sizeof(struct ioasid_cmd_fault_ring_setup)
 * @flags: must be 0
 * @num_entries: records the ring holds: a power of two, 2 to
 *	%IOASID_FAULT_RING_MAX_ENTRIES
 * @eventfd: an eventfd the kernel signals after posting (see above)
 * @num_ioasids: how many IOASIDs report into the ring, 1 to
 *	%IOASID_FAULT_RING_MAX_IOASIDS
 * @__reserved: must be 0
 * @ioasids_uptr: their ids, __u32 each: IOASIDs of this fd, none of which
 *	reports into another ring (EBUSY), no one twice (EINVAL)
 * @out_ring_id: the ring, an object of the fd: IOASID_FAULT_RING_FREE or
 *	closing the fd ends it
 * @out_mmap_size: bytes to mmap()
 * @out_mmap_offset: the offset to mmap() them at, on the ioasid fd
 *
 * The ring holds a reference on each of its IOASIDs: freeing one gets
 * EBUSY until the ring is freed. At most @num_entries groups wait for an
 * answer at once; a group past that is not posted, as one that does not
 * fit in the ring is not (see the ring's lost counter).
 */
struct ioasid_cmd_fault_ring_setup {
	__u32 size;
	__u32 flags;
	__u32 num_entries;
	__s32 eventfd;
	__u32 num_ioasids;
	__u32 __reserved;
	__aligned_u64 ioasids_uptr;
	__u32 out_ring_id;
	__u32 out_mmap_size;
	__aligned_u64 out_mmap_offset;
};

#define IOASID_FAULT_RING_SETUP	_IO(IOASID_TYPE, IOASID_CMD_FAULT_RING_SETUP)

/**
 * struct ioasid_cmd_fault_ring_free - ioctl(IOASID_FAULT_RING_FREE)
 * @size: sizeof(struct ioasid_cmd_fault_ring_free)
 * @flags: must be 0
 * @ring_id: a ring of this fd
 * @__reserved: must be 0
 *
 * Every fault still waiting for an answer is answered as failed, the
 * IOASIDs report nowhere again, and the eventfd is let go. A mapping of
 * the ring stays valid, frozen, until it is unmapped.
 */
struct ioasid_cmd_fault_ring_free {
	__u32 size;
	__u32 flags;
	__u32 ring_id;
	__u32 __reserved;
};

#define IOASID_FAULT_RING_FREE	_IO(IOASID_TYPE, IOASID_CMD_FAULT_RING_FREE)

/**
 * enum ioasid_page_response_code - how a fault group is answered
 * @IOASID_PAGE_RESP_SUCCESS: the pages are there now: the device retries
 *	its translation
 * @IOASID_PAGE_RESP_INVALID: they never will be: the device reports the
 *	access as failed
 * @IOASID_PAGE_RESP_FAILURE: the request could not be served: the device
 *	stops asking for pages
 */
enum ioasid_page_response_code {
	IOASID_PAGE_RESP_SUCCESS = 0,
	IOASID_PAGE_RESP_INVALID = 1,
	IOASID_PAGE_RESP_FAILURE = 2,
};

/**
 * struct ioasid_page_response - one answer
 * @cookie: the group's, from its records
 * @code: &enum ioasid_page_response_code
 * @out_result: 0 if this answered the group; -ENOENT if @cookie is 0 or
 *	above every cookie the ring issued; -EALREADY if no group waits under
 *	it (answered already, by an earlier answer or by the kernel: the
 *	device detached, or it waited too long); -EINVAL for an unknown @code
 */
struct ioasid_page_response {
	__aligned_u64 cookie;
	__u32 code;
	__s32 out_result;
};

/**
 * struct ioasid_cmd_page_response - ioctl(IOASID_PAGE_RESPONSE)
 * @size: sizeof(struct ioasid_cmd_page_response)
 * @flags: must be 0
 * @ring_id: the ring the faults came through
 * @num_entries: how many &struct ioasid_page_response at @entries_uptr,
 *	1 to %IOASID_FAULT_RING_MAX_ENTRIES
 * @entries_uptr: the answers, each handled on its own
 * @out_answered: how many answered a group
 * @__reserved: must be 0
 *
 * Each group goes back to the device and PASID it came from. An entry
 * that answers nothing (see &struct ioasid_page_response) does not stop
 * the others; the call fails only if it cannot read or write the array
 * (EFAULT) or the ring or the count is wrong.
 */
struct ioasid_cmd_page_response {
	__u32 size;
	__u32 flags;
	__u32 ring_id;
	__u32 num_entries;
	__aligned_u64 entries_uptr;
	__u32 out_answered;
	__u32 __reserved;
};

#define IOASID_PAGE_RESPONSE	_IO(IOASID_TYPE, IOASID_CMD_PAGE_RESPONSE)

/**
 * enum ioasid_dirty_report - how a dirty bitmap was known
 * @IOASID_DIRTY_REPORT_EXACT: every page that DMA wrote since the last
 *	clearing read, and only those: every domain of the IOASID tracked
 *	dirty bits in its IOMMU the whole time
 * @IOASID_DIRTY_REPORT_CONSERVATIVE: every page mapped writable: some
 *	device could write without its IOMMU tracking it (its IOMMU has no
 *	dirty tracking, or it left, or wrote through a software-nested
 *	child), so any writable page may be dirty
 */
enum ioasid_dirty_report {
	IOASID_DIRTY_REPORT_EXACT = 1,
	IOASID_DIRTY_REPORT_CONSERVATIVE = 2,
};

/**
 * enum ioasid_dirty_tracking_flags - IOASID_DIRTY_TRACKING's choice
 * @IOASID_DIRTY_TRACKING_START: start tracking; without it, stop
 */
enum ioasid_dirty_tracking_flags {
	IOASID_DIRTY_TRACKING_START = 1 << 0,
};

/**
 * struct ioasid_cmd_dirty_tracking - ioctl(IOASID_DIRTY_TRACKING)
 * @size: sizeof(struct ioasid_cmd_dirty_tracking)
 * @flags: &enum ioasid_dirty_tracking_flags
 * @ioasid: the IOASID, one that maps memory (not hardware-nested:
 *	EMEDIUMTYPE; its DMA is tracked in its parent)
 * @out_report: &enum ioasid_dirty_report the next IOASID_GET_DIRTY_BITMAP
 *	would give if nothing attached or detached before it; 0 once stopped
 *
 * Start or stop recording which pages of the IOASID DMA writes. Starting
 * forgets what was dirty before; starting twice, or stopping twice, is
 * not an error. While tracking, devices that attach have their IOMMU
 * track too where it can. Freeing the IOASID stops it.
 */
struct ioasid_cmd_dirty_tracking {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 out_report;
};

#define IOASID_DIRTY_TRACKING	_IO(IOASID_TYPE, IOASID_CMD_DIRTY_TRACKING)

/**
 * enum ioasid_dirty_bitmap_flags - how IOASID_GET_DIRTY_BITMAP reads
 * @IOASID_DIRTY_BITMAP_NO_CLEAR: leave the pages dirty: the next read
 *	reports them again (and a conservative report stays conservative)
 */
enum ioasid_dirty_bitmap_flags {
	IOASID_DIRTY_BITMAP_NO_CLEAR = 1 << 0,
};

/* The most pages (bits) one IOASID_GET_DIRTY_BITMAP reports: 2^31. */
#define IOASID_DIRTY_BITMAP_MAX_PAGES	(1ULL << 31)

/**
 * struct ioasid_cmd_get_dirty_bitmap - ioctl(IOASID_GET_DIRTY_BITMAP)
 * @size: sizeof(struct ioasid_cmd_get_dirty_bitmap)
 * @flags: &enum ioasid_dirty_bitmap_flags
 * @ioasid: the IOASID, tracking (EINVAL if not)
 * @out_report: &enum ioasid_dirty_report: how this bitmap was known
 * @iova: the first IOVA reported, aligned to @page_size
 * @length: bytes reported, a non-zero multiple of @page_size, at most
 *	%IOASID_DIRTY_BITMAP_MAX_PAGES pages
 * @page_size: what one bit stands for: a power of two, at least the
 *	IOASID's alignment (the lowest bit of out_pgsize_bitmap of
 *	IOASID_GET_INFO)
 * @bitmap: user pointer, 8-byte aligned, to (length / page_size) bits
 *	rounded up to whole 64-bit words: bit n of the little-endian word
 *	n / 64 (bit n % 64) is the page at @iova + n * @page_size
 * @out_dirty: how many bits were set
 *
 * Writes every bit of the bitmap: 1 for a page (of @page_size) any byte
 * of which was written, 0 otherwise, including IOVA that maps nothing;
 * the bits of the last word past the range are 0. Unless
 * %IOASID_DIRTY_BITMAP_NO_CLEAR, the pages read are clean afterwards,
 * and a conservative report makes the next one exact if every domain
 * tracks by then. A large IOMMU page that is dirty is dirty whole: every
 * bit it covers is set. A bad argument is EINVAL, a bitmap the kernel
 * cannot write is EFAULT, and then nothing of the bitmap was written and
 * nothing was cleared.
 */
struct ioasid_cmd_get_dirty_bitmap {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 out_report;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 bitmap;
	__aligned_u64 out_dirty;
};

#define IOASID_GET_DIRTY_BITMAP	_IO(IOASID_TYPE, IOASID_CMD_GET_DIRTY_BITMAP)

#endif /* _UAPI_LINUX_IOASID_H */
