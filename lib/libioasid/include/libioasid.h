/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libioasid: a thin userspace library for the /dev/ioasid uAPI.
 *
 * The man pages are the contract: libioasid(7) is the overview, and each
 * function below has its page in section 3.
 *
 * Error convention, for every function in this header that returns int:
 * a negative value is -errno (for example -ENOENT), zero or a positive
 * value is success. errno is never changed: a function may call into libc,
 * but it puts errno back before returning, so the result is the only
 * report. Print it with strerror(-ret).
 *
 * The uAPI structs and constants come from <libioasid/ioasid.h>, the
 * kernel's <linux/ioasid.h> as this library was built against it; a
 * kernel's own <linux/ioasid.h> may be included as well. This header only
 * adds functions, named ioasid_*, and one struct, struct
 * ioasid_fault_ring, and no name of the uAPI: the uAPI owns IOASID_* and
 * struct ioasid_cmd_*.
 */
#ifndef LIBIOASID_H
#define LIBIOASID_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "libioasid/ioasid.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The library is built with -fvisibility=hidden; only what is marked here
 * is exported, and the version script then gives it its symbol version:
 * LIBIOASID_1.0, LIBIOASID_1.1 for the PASID-table calls, LIBIOASID_1.2
 * for the I/O page fault calls.
 */
#if defined(__GNUC__) && __GNUC__ >= 4
#define LIBIOASID_API __attribute__((visibility("default")))
#else
#define LIBIOASID_API
#endif

/* The fd and what the kernel offers. */

/* ioasid_open(3): open /dev/ioasid; returns the fd. */
LIBIOASID_API int ioasid_open(void);

/* ioasid_get_api_version(3): the kernel's IOASID_API_VERSION. */
LIBIOASID_API int ioasid_get_api_version(int fd, __u32 *version);

/* ioasid_check_extension(3): 1 if an extension is supported, else 0. */
LIBIOASID_API int ioasid_check_extension(int fd, __u32 extension);

/* ioasid_extension_name(3): "dma_map" and the like, or NULL. */
LIBIOASID_API const char *ioasid_extension_name(__u32 extension);

/* ioasid_device_get_info(3): what a bound device's IOMMU can do. */
LIBIOASID_API int ioasid_device_get_info(int fd, __u32 dev_id,
					 struct ioasid_cmd_device_get_info *info);

/* I/O address spaces. */

/* ioasid_alloc(3): allocate an empty IOASID. */
LIBIOASID_API int ioasid_alloc(int fd, __u32 *out_ioasid);

/* ioasid_create_nesting(3): a new IOASID nested on another one. */
LIBIOASID_API int ioasid_create_nesting(int fd, __u32 parent, __u32 kind,
					__u32 *out_ioasid);

/* ioasid_free(3): destroy an IOASID. */
LIBIOASID_API int ioasid_free(int fd, __u32 ioasid);

/* ioasid_get_info(3): page sizes, usable IOVA ranges, nesting. */
LIBIOASID_API int ioasid_get_info(int fd, __u32 ioasid,
				  struct ioasid_cmd_get_info *info,
				  struct ioasid_iova_range *ranges,
				  __u32 nr_ranges);

/* Memory. */

/* ioasid_register_memory(3): pin memory once for any number of maps. */
LIBIOASID_API int ioasid_register_memory(int fd, void *vaddr, size_t length);

/* ioasid_unregister_memory(3): release a registration. */
LIBIOASID_API int ioasid_unregister_memory(int fd, void *vaddr,
					   size_t length);

/* ioasid_dma_map(3): map user memory at an IOVA. */
LIBIOASID_API int ioasid_dma_map(int fd, __u32 ioasid, void *vaddr,
				 __u64 iova, size_t length, __u32 flags);

/* ioasid_dma_map_from_parent(3): map a parent's IOVA range into a child. */
LIBIOASID_API int ioasid_dma_map_from_parent(int fd, __u32 ioasid,
					     __u64 parent_iova, __u64 iova,
					     size_t length, __u32 flags);

/* ioasid_dma_unmap(3): unmap an IOVA range. */
LIBIOASID_API int ioasid_dma_unmap(int fd, __u32 ioasid, __u64 iova,
				   __u64 length, __u64 *unmapped);

/* ioasid_dma_unmap_all(3): unmap everything in an IOASID. */
LIBIOASID_API int ioasid_dma_unmap_all(int fd, __u32 ioasid, __u64 *unmapped);

/* ioasid_map_buffer(3): map a buffer for device reads, maybe writes. */
LIBIOASID_API int ioasid_map_buffer(int fd, __u32 ioasid, void *buf,
				    size_t length, __u64 iova, bool writable);

/* ioasid_unmap_buffer(3): unmap a buffer, -ENXIO unless all was mapped. */
LIBIOASID_API int ioasid_unmap_buffer(int fd, __u32 ioasid, __u64 iova,
				      size_t length);

/*
 * Hardware nesting: a user-owned first stage, or a user-owned table of
 * first stages per PASID, on a parent IOASID.
 */

/* ioasid_bind_pgtable(3): make a user's page table the first stage. */
LIBIOASID_API int ioasid_bind_pgtable(int fd, __u32 ioasid, __u32 format,
				      const void *data, __u32 data_len);

/* ioasid_bind_pgtable_vtd_s1(3): bind a VT-d first-stage table. */
LIBIOASID_API int ioasid_bind_pgtable_vtd_s1(int fd, __u32 ioasid,
					     __u64 root_gpa, __u32 addr_width,
					     __u64 flags);

/* ioasid_unbind_pgtable(3): unbind it; the devices reach nothing. */
LIBIOASID_API int ioasid_unbind_pgtable(int fd, __u32 ioasid);

/* ioasid_bind_pasid_table(3): bind a guest's table of PASIDs. */
LIBIOASID_API int ioasid_bind_pasid_table(int fd, __u32 ioasid, __u32 format,
					  const void *data, __u32 data_len);

/* ioasid_unbind_pasid_table(3): unbind it; the devices reach nothing. */
LIBIOASID_API int ioasid_unbind_pasid_table(int fd, __u32 ioasid);

/* ioasid_invalidate_cache(3): the IOMMU forgets what it read of it. */
LIBIOASID_API int ioasid_invalidate_cache(int fd, __u32 ioasid,
					  const void *entries,
					  __u32 entry_len, __u32 *num_entries);

/* Dirty tracking, for live migration. */

/* ioasid_dirty_tracking_start(3): record which pages DMA writes. */
LIBIOASID_API int ioasid_dirty_tracking_start(int fd, __u32 ioasid,
					      __u32 *report);

/* ioasid_dirty_tracking_stop(3): stop recording them. */
LIBIOASID_API int ioasid_dirty_tracking_stop(int fd, __u32 ioasid);

/* ioasid_dma_unmap_dirty(3): unmap, and say which pages were written. */
LIBIOASID_API int ioasid_dma_unmap_dirty(int fd, __u32 ioasid, __u64 iova,
					 __u64 length, __u64 page_size,
					 __u64 *bitmap, __u64 *unmapped,
					 __u32 *report);

/* ioasid_get_dirty_bitmap(3): which pages were written, one bit each. */
LIBIOASID_API int ioasid_get_dirty_bitmap(int fd, __u32 ioasid, __u64 iova,
					  __u64 length, __u64 page_size,
					  __u64 *bitmap, __u32 flags,
					  __u32 *report, __u64 *dirty);

/*
 * I/O page faults: a ring the kernel fills with the page requests of
 * devices that fault in first stages the user owns, mapped from the fd
 * and read without system calls, and the answers to them.
 *
 * struct ioasid_fault_ring is the library's view of one ring: the caller
 * provides it, ioasid_fault_ring_setup() fills it, and the other calls
 * only read it. Its fields may be read (ring_id and fd, for instance);
 * head is the one the library writes, through ioasid_fault_advance().
 * One thread at a time may consume a ring (peek and advance); answers
 * may come from any thread.
 *
 * The consumer's loop, with the ring's eventfd:
 *
 *	for (;;) {
 *		read(efd, &count, 8);
 *		while ((n = ioasid_fault_peek_batch(&ring, recs, max)) > 0) {
 *			serve(recs, n);
 *			ioasid_fault_advance(&ring, n);
 *		}
 *	}
 *
 * The read waits for the eventfd and resets it; serve() handles the
 * records and answers each group once its last record
 * (IOASID_FAULT_LAST_IN_GROUP) is handled, with ioasid_page_respond().
 * The loop misses nothing: the kernel signals the eventfd after every
 * group it posts, so a record that came after the last look at the
 * ring's tail wakes the next read. Drain until empty, then wait again.
 */
struct ioasid_fault_ring {
	__u32 *head;		/* the header's head: the library's to store */
	const __u32 *tail;	/* the header's tail: the kernel's */
	const __u64 *lost;	/* the header's count of records not posted */
	unsigned char *records;	/* record 0; the others record_size apart */
	__u32 mask;		/* records - 1, read at setup */
	__u32 record_size;	/* the kernel's sizeof a record, read at setup */
	__u32 ring_id;		/* the ring, an object of fd */
	int fd;			/* the ioasid fd it was set up on */
	void *map;		/* the mapping, NULL once freed */
	size_t map_size;	/* its length in bytes */
	__u64 map_offset;	/* the offset on fd it was mapped from */
	__u64 reserved[4];	/* zeroed by setup, for later versions */
};

/* ioasid_fault_ring_setup(3): create a fault ring and map it. */
LIBIOASID_API int ioasid_fault_ring_setup(int fd, unsigned int entries,
					  int eventfd, const __u32 *ioasids,
					  unsigned int num_ioasids,
					  struct ioasid_fault_ring *ring);

/* ioasid_fault_ring_free(3): unmap it and free it; faults left fail. */
LIBIOASID_API int ioasid_fault_ring_free(struct ioasid_fault_ring *ring);

/* ioasid_fault_peek(3): the next record, or -EAGAIN if there is none. */
LIBIOASID_API int ioasid_fault_peek(const struct ioasid_fault_ring *ring,
				    const struct ioasid_fault_record **rec);

/* ioasid_fault_peek_batch(3): up to @max records; returns how many. */
LIBIOASID_API int ioasid_fault_peek_batch(const struct ioasid_fault_ring *ring,
					  const struct ioasid_fault_record **recs,
					  unsigned int max);

/* ioasid_fault_advance(3): give @n records read back to the kernel. */
LIBIOASID_API void ioasid_fault_advance(struct ioasid_fault_ring *ring,
					unsigned int n);

/* ioasid_fault_lost(3): records the kernel dropped on a full ring. */
LIBIOASID_API __u64 ioasid_fault_lost(const struct ioasid_fault_ring *ring);

/* ioasid_page_respond(3): answer fault groups, many per call. */
LIBIOASID_API int ioasid_page_respond(const struct ioasid_fault_ring *ring,
				      struct ioasid_page_response *entries,
				      unsigned int num_entries,
				      unsigned int *answered);

/* VFIO devices. */

/* ioasid_vfio_cdev_path(3): /dev/vfio/devices/vfioN of a PCI device. */
LIBIOASID_API int ioasid_vfio_cdev_path(const char *pci_addr, char *buf,
					size_t len);

/* ioasid_vfio_open_pci(3): open a PCI device's cdev, bound to an fd. */
LIBIOASID_API int ioasid_vfio_open_pci(const char *pci_addr, int ioasid_fd,
				       __u64 label, __u32 *out_dev_id);

/* ioasid_vfio_bind(3): VFIO_BIND_IOASID_FD on a VFIO device fd. */
LIBIOASID_API int ioasid_vfio_bind(int vfio_fd, int ioasid_fd, __u64 label,
				   __u32 *out_dev_id);

/* ioasid_vfio_unbind(3): VFIO_UNBIND_IOASID_FD: leave the ioasid fd. */
LIBIOASID_API int ioasid_vfio_unbind(int vfio_fd);

/* ioasid_vfio_attach(3): VFIO_ATTACH_IOASID: DMA through an IOASID. */
LIBIOASID_API int ioasid_vfio_attach(int vfio_fd, __u32 ioasid);

/* ioasid_vfio_detach(3): VFIO_DETACH_IOASID. */
LIBIOASID_API int ioasid_vfio_detach(int vfio_fd, __u32 ioasid);

/* ioasid_vfio_attach_pasid(3): attach the DMA tagged with a PASID. */
LIBIOASID_API int ioasid_vfio_attach_pasid(int vfio_fd, __u32 ioasid,
					   __u32 user_pasid);

/* ioasid_vfio_detach_pasid(3): detach that PASID's DMA. */
LIBIOASID_API int ioasid_vfio_detach_pasid(int vfio_fd, __u32 ioasid,
					   __u32 user_pasid);

#ifdef __cplusplus
}
#endif

#endif /* LIBIOASID_H */
