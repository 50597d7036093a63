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
 * Errors have one meaning each, for every ioctl:
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
 * - ``ENOMEM``: the kernel could not allocate memory for the request.
 * - ``ENOSPC``: the id space of this fd is exhausted.
 */

enum {
	IOASID_CMD_BASE = 0x00,
	IOASID_CMD_GET_API_VERSION = IOASID_CMD_BASE,
	IOASID_CMD_CHECK_EXTENSION,
	IOASID_CMD_ALLOC,
	IOASID_CMD_FREE,
	IOASID_CMD_GET_INFO,
};

/**
 * struct ioasid_api_version - ioctl(IOASID_GET_API_VERSION)
 * @size: sizeof(struct ioasid_api_version)
 * @flags: must be 0
 * @out_version: %IOASID_API_VERSION of the running kernel
 * @__reserved: must be 0
 */
struct ioasid_api_version {
	__u32 size;
	__u32 flags;
	__u32 out_version;
	__u32 __reserved;
};

#define IOASID_GET_API_VERSION	_IO(IOASID_TYPE, IOASID_CMD_GET_API_VERSION)

/**
 * enum ioasid_extension - what IOASID_CHECK_EXTENSION can be asked about
 * @IOASID_EXT_NONE: never supported; a placeholder so that 0 is no feature
 *
 * A feature gets its number here when it works; numbers are never reused.
 */
enum ioasid_extension {
	IOASID_EXT_NONE = 0,
};

/**
 * struct ioasid_check_extension - ioctl(IOASID_CHECK_EXTENSION)
 * @size: sizeof(struct ioasid_check_extension)
 * @flags: must be 0
 * @extension: an &enum ioasid_extension value
 * @out_supported: 1 if the feature works on this kernel and machine, else
 *	0. A number this kernel does not know is answered 0, not an error.
 */
struct ioasid_check_extension {
	__u32 size;
	__u32 flags;
	__u32 extension;
	__u32 out_supported;
};

#define IOASID_CHECK_EXTENSION	_IO(IOASID_TYPE, IOASID_CMD_CHECK_EXTENSION)

/**
 * struct ioasid_alloc - ioctl(IOASID_ALLOC)
 * @size: sizeof(struct ioasid_alloc)
 * @flags: must be 0
 * @out_ioasid: the id of the new, empty I/O address space. Ids are
 *	non-zero, unique on this fd, and not reused soon after a free.
 * @__reserved: must be 0
 *
 * The IOASID lives until IOASID_FREE or until the fd is closed.
 */
struct ioasid_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioasid;
	__u32 __reserved;
};

#define IOASID_ALLOC		_IO(IOASID_TYPE, IOASID_CMD_ALLOC)

/**
 * struct ioasid_free - ioctl(IOASID_FREE)
 * @size: sizeof(struct ioasid_free)
 * @flags: must be 0
 * @ioasid: the IOASID to destroy
 * @__reserved: must be 0
 *
 * Fails with ENOENT if @ioasid is not an IOASID of this fd (this includes
 * one already freed), and with EBUSY while anything still uses it.
 */
struct ioasid_free {
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
 * struct ioasid_get_info - ioctl(IOASID_GET_INFO)
 * @size: sizeof(struct ioasid_get_info)
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
 *	space is one range.
 */
struct ioasid_get_info {
	__u32 size;
	__u32 flags;
	__u32 ioasid;
	__u32 out_num_devices;
	__aligned_u64 out_pgsize_bitmap;
	__u32 num_iova_ranges;
	__u32 __reserved;
	__aligned_u64 iova_ranges;
};

#define IOASID_GET_INFO		_IO(IOASID_TYPE, IOASID_CMD_GET_INFO)

#endif /* _UAPI_LINUX_IOASID_H */
