// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid: opening /dev/ioasid, the ioctl wrappers, and the buffer
 * helpers built on them.
 *
 * Each wrapper builds its uAPI struct on the stack with size set to the
 * struct this library was built against and every other input zero, so
 * callers never deal with the extensible-struct rules. All ioctls of the
 * library, these and the VFIO ones of vfio.c, go through libioasid_ioctl(),
 * the one place where libc's convention (-1 and errno) becomes ours
 * (-errno, errno left as the caller had it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "libioasid.h"
#include "private.h"
#include "vtd_s1.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define IOASID_DEV_PATH	"/dev/ioasid"

/* The ioctl funnel: every request of this library passes here. */
int libioasid_ioctl(int fd, unsigned long request, void *arg)
{
	int saved_errno = errno;
	int ret;

	ret = ioctl(fd, request, arg);
	if (ret < 0)
		ret = -errno;
	errno = saved_errno;
	return ret;
}

int ioasid_open(void)
{
	int saved_errno = errno;
	int fd;

	fd = open(IOASID_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	errno = saved_errno;
	return fd;
}

int ioasid_get_api_version(int fd, __u32 *version)
{
	struct ioasid_cmd_get_api_version cmd = { .size = sizeof(cmd) };
	int ret;

	if (!version)
		return -EINVAL;
	ret = libioasid_ioctl(fd, IOASID_GET_API_VERSION, &cmd);
	if (ret)
		return ret;
	*version = cmd.out_version;
	return 0;
}

int ioasid_check_extension(int fd, __u32 extension)
{
	struct ioasid_cmd_check_extension cmd = {
		.size = sizeof(cmd),
		.extension = extension,
	};
	int ret;

	ret = libioasid_ioctl(fd, IOASID_CHECK_EXTENSION, &cmd);
	if (ret)
		return ret;
	/* The uAPI promises 0 or 1; fold anything else so callers can rely. */
	return !!cmd.out_supported;
}

/*
 * Indexed by enum ioasid_extension. Numbers are never reused, so a hole
 * (NULL) can only mean a number newer than this library.
 */
static const char *const ioasid_extension_names[] = {
	[IOASID_EXT_NONE] = "none",
	[IOASID_EXT_DMA_MAP] = "dma_map",
	[IOASID_EXT_PARTIAL_UNMAP] = "partial_unmap",
	[IOASID_EXT_NESTING_SOFTWARE] = "nesting_software",
	[IOASID_EXT_NESTING_HARDWARE] = "nesting_hardware",
	[IOASID_EXT_DEVICE_GET_INFO] = "device_get_info",
	[IOASID_EXT_USER_PASID] = "user_pasid",
	[IOASID_EXT_PASID_TABLE] = "pasid_table",
	[IOASID_EXT_FAULT_RING] = "fault_ring",
	[IOASID_EXT_DIRTY_TRACKING] = "dirty_tracking",
};

const char *ioasid_extension_name(__u32 extension)
{
	if (extension >= ARRAY_SIZE(ioasid_extension_names))
		return NULL;
	return ioasid_extension_names[extension];
}

int ioasid_device_get_info(int fd, __u32 dev_id,
			   struct ioasid_cmd_device_get_info *info)
{
	struct ioasid_cmd_device_get_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
	};
	int ret;

	if (!info)
		return -EINVAL;
	ret = libioasid_ioctl(fd, IOASID_DEVICE_GET_INFO, &cmd);
	if (ret)
		return ret;
	*info = cmd;
	return 0;
}

int ioasid_alloc(int fd, __u32 *out_ioasid)
{
	struct ioasid_cmd_alloc cmd = { .size = sizeof(cmd) };
	int ret;

	if (!out_ioasid)
		return -EINVAL;
	ret = libioasid_ioctl(fd, IOASID_ALLOC, &cmd);
	if (ret)
		return ret;
	*out_ioasid = cmd.out_ioasid;
	return 0;
}

int ioasid_create_nesting(int fd, __u32 parent, __u32 kind,
			  __u32 *out_ioasid)
{
	struct ioasid_cmd_create_nesting cmd = {
		.size = sizeof(cmd),
		.parent = parent,
		.kind = kind,
	};
	int ret;

	if (!out_ioasid)
		return -EINVAL;
	ret = libioasid_ioctl(fd, IOASID_CREATE_NESTING, &cmd);
	if (ret)
		return ret;
	*out_ioasid = cmd.out_ioasid;
	return 0;
}

int ioasid_free(int fd, __u32 ioasid)
{
	struct ioasid_cmd_free cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
	};

	return libioasid_ioctl(fd, IOASID_FREE, &cmd);
}

int ioasid_get_info(int fd, __u32 ioasid, struct ioasid_cmd_get_info *info,
		    struct ioasid_iova_range *ranges, __u32 nr_ranges)
{
	struct ioasid_cmd_get_info cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
		.num_iova_ranges = nr_ranges,
		.iova_ranges = (uintptr_t)ranges,
	};
	int ret;

	if (!info || (nr_ranges && !ranges))
		return -EINVAL;
	/* Work on a copy so that a failure leaves the caller's struct alone. */
	ret = libioasid_ioctl(fd, IOASID_GET_INFO, &cmd);
	if (ret)
		return ret;
	*info = cmd;
	return 0;
}

/* REGISTER and UNREGISTER take the same struct and the same range. */
static int ioasid_memory_ioctl(int fd, unsigned long request, void *vaddr,
			       size_t length)
{
	struct ioasid_cmd_register_memory cmd = {
		.size = sizeof(cmd),
		.vaddr = (uintptr_t)vaddr,
		.length = length,
	};

	return libioasid_ioctl(fd, request, &cmd);
}

int ioasid_register_memory(int fd, void *vaddr, size_t length)
{
	return ioasid_memory_ioctl(fd, IOASID_REGISTER_MEMORY, vaddr, length);
}

int ioasid_unregister_memory(int fd, void *vaddr, size_t length)
{
	return ioasid_memory_ioctl(fd, IOASID_UNREGISTER_MEMORY, vaddr,
				   length);
}

int ioasid_dma_map(int fd, __u32 ioasid, void *vaddr, __u64 iova,
		   size_t length, __u32 flags)
{
	/* Flags go through untouched: the kernel judges what it knows. */
	struct ioasid_cmd_dma_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioasid = ioasid,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.length = length,
	};

	return libioasid_ioctl(fd, IOASID_DMA_MAP, &cmd);
}

int ioasid_dma_map_from_parent(int fd, __u32 ioasid, __u64 parent_iova,
			       __u64 iova, size_t length, __u32 flags)
{
	/*
	 * The caller's flags go through untouched, as in ioasid_dma_map(),
	 * so that the two fail alike; FROM_PARENT is ours to add because the
	 * arguments name a parent IOVA, not user memory.
	 */
	struct ioasid_cmd_dma_map cmd = {
		.size = sizeof(cmd),
		.flags = flags | IOASID_DMA_MAP_FROM_PARENT,
		.ioasid = ioasid,
		.parent_iova = parent_iova,
		.iova = iova,
		.length = length,
	};

	return libioasid_ioctl(fd, IOASID_DMA_MAP, &cmd);
}

static int ioasid_unmap(int fd, __u32 ioasid, __u32 flags, __u64 iova,
			__u64 length, __u64 *unmapped)
{
	struct ioasid_cmd_dma_unmap cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioasid = ioasid,
		.iova = iova,
		.length = length,
	};
	int ret;

	ret = libioasid_ioctl(fd, IOASID_DMA_UNMAP, &cmd);
	if (ret)
		return ret;
	if (unmapped)
		*unmapped = cmd.out_unmapped;
	return 0;
}

int ioasid_dma_unmap(int fd, __u32 ioasid, __u64 iova, __u64 length,
		     __u64 *unmapped)
{
	return ioasid_unmap(fd, ioasid, 0, iova, length, unmapped);
}

int ioasid_dma_unmap_dirty(int fd, __u32 ioasid, __u64 iova, __u64 length,
			   __u64 page_size, __u64 *bitmap, __u64 *unmapped,
			   __u32 *report)
{
	struct ioasid_cmd_dma_unmap cmd = {
		.size = sizeof(cmd),
		.flags = IOASID_DMA_UNMAP_GET_DIRTY,
		.ioasid = ioasid,
		.iova = iova,
		.length = length,
		.dirty_page_size = page_size,
		.dirty_bitmap = (uintptr_t)bitmap,
	};
	int ret;

	ret = libioasid_ioctl(fd, IOASID_DMA_UNMAP, &cmd);
	if (ret)
		return ret;
	if (unmapped)
		*unmapped = cmd.out_unmapped;
	if (report)
		*report = cmd.out_dirty_report;
	return 0;
}

int ioasid_dma_unmap_all(int fd, __u32 ioasid, __u64 *unmapped)
{
	/* The uAPI wants iova and length 0 with UNMAP_ALL. */
	return ioasid_unmap(fd, ioasid, IOASID_DMA_UNMAP_ALL, 0, 0, unmapped);
}

/*
 * The helpers round nothing and check no alignment themselves: only the
 * kernel knows the alignment of the moment (attaching a device can raise
 * it), and it answers -EINVAL for anything off.
 */
int ioasid_map_buffer(int fd, __u32 ioasid, void *buf, size_t length,
		      __u64 iova, bool writable)
{
	__u32 flags = IOASID_DMA_MAP_READ;

	if (writable)
		flags |= IOASID_DMA_MAP_WRITE;
	return ioasid_dma_map(fd, ioasid, buf, iova, length, flags);
}

int ioasid_unmap_buffer(int fd, __u32 ioasid, __u64 iova, size_t length)
{
	__u64 unmapped;
	int ret;

	ret = ioasid_dma_unmap(fd, ioasid, iova, length, &unmapped);
	if (ret)
		return ret;
	/* Cuts happen at the range's ends, so it is never more than length. */
	return unmapped < length ? -ENXIO : 0;
}

/*
 * A first stage and a PASID table bind with the same struct; only the
 * ioctl number says which. Format, length and data are the kernel's to
 * judge: a NULL @data with a length is its -EFAULT, not ours.
 */
static int ioasid_bind_table(int fd, unsigned long request, __u32 ioasid,
			     __u32 format, const void *data, __u32 data_len)
{
	struct ioasid_cmd_bind_pgtable cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
		.format = format,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};

	return libioasid_ioctl(fd, request, &cmd);
}

int ioasid_bind_pgtable(int fd, __u32 ioasid, __u32 format, const void *data,
			__u32 data_len)
{
	return ioasid_bind_table(fd, IOASID_BIND_PGTABLE, ioasid, format, data,
				 data_len);
}

int ioasid_bind_pgtable_vtd_s1(int fd, __u32 ioasid, __u64 root_gpa,
			       __u32 addr_width, __u64 flags)
{
	/* Flags go through untouched: the IOMMU refuses what it lacks. */
	struct libioasid_vtd_s1 data = {
		.flags = flags,
		.pgtbl_addr = root_gpa,
		.addr_width = addr_width,
	};

	return ioasid_bind_pgtable(fd, ioasid, IOASID_PGTABLE_VTD_S1, &data,
				   sizeof(data));
}

/* Both kinds of table unbind with the same struct, by ioctl number. */
static int ioasid_unbind_table(int fd, unsigned long request, __u32 ioasid)
{
	struct ioasid_cmd_unbind_pgtable cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
	};

	return libioasid_ioctl(fd, request, &cmd);
}

int ioasid_unbind_pgtable(int fd, __u32 ioasid)
{
	return ioasid_unbind_table(fd, IOASID_UNBIND_PGTABLE, ioasid);
}

int ioasid_bind_pasid_table(int fd, __u32 ioasid, __u32 format,
			    const void *data, __u32 data_len)
{
	return ioasid_bind_table(fd, IOASID_BIND_PASID_TABLE, ioasid, format,
				 data, data_len);
}

int ioasid_unbind_pasid_table(int fd, __u32 ioasid)
{
	return ioasid_unbind_table(fd, IOASID_UNBIND_PASID_TABLE, ioasid);
}

int ioasid_invalidate_cache(int fd, __u32 ioasid, const void *entries,
			    __u32 entry_len, __u32 *num_entries)
{
	struct ioasid_cmd_invalidate_cache cmd = {
		.size = sizeof(cmd),
		.ioasid = ioasid,
		.entry_len = entry_len,
		.entries_uptr = (uintptr_t)entries,
	};
	int ret;

	if (!num_entries)
		return -EINVAL;
	cmd.num_entries = *num_entries;
	ret = libioasid_ioctl(fd, IOASID_INVALIDATE_CACHE, &cmd);
	/*
	 * The kernel writes back how far it got once it has started on the
	 * entries, and leaves the count as it was when it refuses the call
	 * before the first (a bad fd or IOASID, no table bound). So after a
	 * failure, a count not below the one asked for means none was done.
	 * Erring low is safe: an invalidation done twice costs a cache
	 * refill, one skipped leaves DMA on a stale translation.
	 */
	if (ret && cmd.num_entries >= *num_entries)
		cmd.num_entries = 0;
	*num_entries = cmd.num_entries;
	return ret;
}

static int ioasid_dirty_tracking(int fd, __u32 ioasid, __u32 flags,
				 __u32 *report)
{
	struct ioasid_cmd_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioasid = ioasid,
	};
	int ret;

	ret = libioasid_ioctl(fd, IOASID_DIRTY_TRACKING, &cmd);
	if (!ret && report)
		*report = cmd.out_report;
	return ret;
}

int ioasid_dirty_tracking_start(int fd, __u32 ioasid, __u32 *report)
{
	return ioasid_dirty_tracking(fd, ioasid, IOASID_DIRTY_TRACKING_START,
				     report);
}

int ioasid_dirty_tracking_stop(int fd, __u32 ioasid)
{
	return ioasid_dirty_tracking(fd, ioasid, 0, NULL);
}

int ioasid_get_dirty_bitmap(int fd, __u32 ioasid, __u64 iova, __u64 length,
			    __u64 page_size, __u64 *bitmap, __u32 flags,
			    __u32 *report, __u64 *dirty)
{
	struct ioasid_cmd_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioasid = ioasid,
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.bitmap = (uintptr_t)bitmap,
	};
	int ret;

	ret = libioasid_ioctl(fd, IOASID_GET_DIRTY_BITMAP, &cmd);
	if (ret)
		return ret;
	if (report)
		*report = cmd.out_report;
	if (dirty)
		*dirty = cmd.out_dirty;
	return 0;
}
