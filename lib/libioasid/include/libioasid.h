/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libioasid: a thin userspace library for the /dev/ioasid uAPI.
 *
 * Error convention, for every function in this header that returns int:
 * a negative value is -errno (for example -ENOENT), zero or a positive
 * value is success. errno is never changed: a function may call into libc,
 * but it puts errno back before returning, so the result is the only
 * report. Print it with strerror(-ret).
 *
 * The uAPI structs and constants come from <libioasid/ioasid.h>, the
 * kernel's <linux/ioasid.h> as this library was built against it, which is
 * installed with this header; it adds only functions, never redefines a
 * uAPI name.
 * The ioasid_vfio_ functions take plain fds and ids, so their users need
 * <linux/vfio.h> only for VFIO calls of their own.
 * Every public name starts with ioasid_ (the uAPI owns IOASID_*).
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
 * is exported, and the version script then puts it in LIBIOASID_1.0.
 */
#if defined(__GNUC__) && __GNUC__ >= 4
#define LIBIOASID_API __attribute__((visibility("default")))
#else
#define LIBIOASID_API
#endif

/**
 * ioasid_open() - open /dev/ioasid
 *
 * Opens the device O_RDWR | O_CLOEXEC. Close it with close(2); that also
 * frees every IOASID allocated on it.
 *
 * Return: a file descriptor (>= 0) or -errno.
 */
LIBIOASID_API int ioasid_open(void);

/**
 * ioasid_get_api_version() - ask the kernel for its IOASID_API_VERSION
 * @fd: an fd from ioasid_open()
 * @version: where to store the version
 *
 * Return: 0 or -errno. -EINVAL if @version is NULL.
 */
LIBIOASID_API int ioasid_get_api_version(int fd, __u32 *version);

/**
 * ioasid_check_extension() - does the kernel support an extension?
 * @fd: an fd from ioasid_open()
 * @extension: an enum ioasid_extension value
 *
 * A number the kernel does not know is answered 0, not an error.
 *
 * Return: 1 if supported, 0 if not, or -errno.
 */
LIBIOASID_API int ioasid_check_extension(int fd, __u32 extension);

/**
 * ioasid_extension_name() - the name of an enum ioasid_extension value
 * @extension: the value
 *
 * Return: a static string such as "none", or NULL if this library does not
 * know @extension. Never needs freeing.
 */
LIBIOASID_API const char *ioasid_extension_name(__u32 extension);

/**
 * ioasid_alloc() - allocate an empty I/O address space
 * @fd: an fd from ioasid_open()
 * @out_ioasid: where to store the new IOASID (non-zero on success)
 *
 * Return: 0 or -errno. -EINVAL if @out_ioasid is NULL.
 */
LIBIOASID_API int ioasid_alloc(int fd, __u32 *out_ioasid);

/**
 * ioasid_free() - destroy an I/O address space
 * @fd: the fd the IOASID was allocated on
 * @ioasid: the IOASID
 *
 * Return: 0 or -errno: -ENOENT if @ioasid is not (or no longer) an IOASID
 * of @fd, -EBUSY while something still uses it.
 */
LIBIOASID_API int ioasid_free(int fd, __u32 ioasid);

/**
 * ioasid_get_info() - describe an I/O address space
 * @fd: the fd the IOASID was allocated on
 * @ioasid: the IOASID
 * @info: filled on success; the caller's contents are ignored
 * @ranges: array for the usable IOVA ranges, may be NULL if @nr_ranges is 0
 * @nr_ranges: number of entries @ranges has room for
 *
 * The library sets the size, flags, id and range pointer fields itself.
 * On success info->num_iova_ranges holds the number of usable ranges;
 * when it is larger than @nr_ranges only the first @nr_ranges entries
 * were written, so a caller can ask with 0 first, then with enough room.
 *
 * The struct is the one this library was built against; a later library
 * version that grows it will do so under a new symbol version.
 *
 * Return: 0 or -errno; on error *@info is left unchanged.
 */
LIBIOASID_API int ioasid_get_info(int fd, __u32 ioasid,
				  struct ioasid_cmd_get_info *info,
				  struct ioasid_iova_range *ranges,
				  __u32 nr_ranges);

/**
 * ioasid_register_memory() - pin user memory once for later mappings
 * @fd: an fd from ioasid_open(), in the process that opened it
 * @vaddr: start of the memory, page aligned
 * @length: its length in bytes, page aligned and non-zero
 *
 * Pins the range writable and charges it once to the process's pinned
 * memory (VmPin), however many mappings in however many IOASIDs of @fd
 * later use it. A mapping uses the registration only if its source lies
 * entirely inside this one range.
 *
 * Return: 0 or -errno: -EINVAL for a zero or unaligned range, -EOVERFLOW
 * if it wraps or leaves the user address space, -EEXIST if it overlaps a
 * registration, -EFAULT if some of it cannot be pinned writable, -ENOMEM
 * past RLIMIT_MEMLOCK, -EPERM from another process than the opener.
 */
LIBIOASID_API int ioasid_register_memory(int fd, void *vaddr, size_t length);

/**
 * ioasid_unregister_memory() - undo ioasid_register_memory()
 * @fd: the fd the memory was registered on
 * @vaddr: exactly the @vaddr it was registered with
 * @length: exactly the @length it was registered with
 *
 * Releases the pins and the charge. Closing @fd does this for every
 * registration.
 *
 * Return: 0 or -errno: -ENOENT if the range is not exactly one
 * registration, -EBUSY while a mapping uses it, -EINVAL and -EOVERFLOW
 * as for ioasid_register_memory().
 */
LIBIOASID_API int ioasid_unregister_memory(int fd, void *vaddr,
					   size_t length);

/**
 * ioasid_dma_map() - map user memory into an I/O address space
 * @fd: the fd @ioasid was allocated on, in the process that opened it
 * @ioasid: the IOASID to map into
 * @vaddr: user address of the memory
 * @iova: where the devices see it
 * @length: bytes to map
 * @flags: IOASID_DMA_MAP_READ and/or IOASID_DMA_MAP_WRITE, passed on as
 *	they are
 *
 * @vaddr, @iova and @length must be multiples of the lowest bit of
 * out_pgsize_bitmap from ioasid_get_info(). Memory inside one registration
 * uses its pins; other memory is pinned and charged now, until unmapped.
 *
 * Return: 0 or -errno: -EINVAL for no access flag, a zero length or bad
 * alignment, -EOPNOTSUPP for an unknown flag, -EOVERFLOW if a range wraps
 * or @vaddr's leaves the user address space, -ENOENT for an unknown
 * @ioasid, -ERANGE outside the usable IOVA ranges, -EEXIST if the IOVA
 * range overlaps a mapping, -EFAULT if the memory cannot be pinned,
 * -ENOMEM past RLIMIT_MEMLOCK, -EPERM from another process than the
 * opener.
 */
LIBIOASID_API int ioasid_dma_map(int fd, __u32 ioasid, void *vaddr,
				 __u64 iova, size_t length, __u32 flags);

/**
 * ioasid_dma_unmap() - unmap an IOVA range of an I/O address space
 * @fd: the fd @ioasid was allocated on
 * @ioasid: the IOASID
 * @iova: start of the range, aligned as for ioasid_dma_map()
 * @length: its length, aligned and non-zero
 * @unmapped: where to store how many bytes were mapped in the range and
 *	are not now; may be NULL
 *
 * Every mapping inside the range goes; one that sticks out is cut and its
 * outside part stays mapped. Parts of the range that map nothing are not
 * an error.
 *
 * Return: 0 or -errno: -EINVAL for a zero length, bad alignment or a cut
 * through a large IOMMU page, -EOVERFLOW if the range wraps, -ENOENT for
 * an unknown @ioasid. On error *@unmapped is not written.
 */
LIBIOASID_API int ioasid_dma_unmap(int fd, __u32 ioasid, __u64 iova,
				   __u64 length, __u64 *unmapped);

/**
 * ioasid_dma_unmap_all() - unmap everything in an I/O address space
 * @fd: the fd @ioasid was allocated on
 * @ioasid: the IOASID
 * @unmapped: where to store how many bytes were mapped; may be NULL
 *
 * Return: 0 or -errno: -ENOENT for an unknown @ioasid. On error
 * *@unmapped is not written.
 */
LIBIOASID_API int ioasid_dma_unmap_all(int fd, __u32 ioasid, __u64 *unmapped);

/**
 * ioasid_map_buffer() - map a buffer for device reads, and maybe writes
 * @fd: the fd @ioasid was allocated on, in the process that opened it
 * @ioasid: the IOASID to map into
 * @buf: the buffer
 * @length: its length in bytes
 * @iova: where the devices see it
 * @writable: let the devices write it too
 *
 * ioasid_dma_map() with IOASID_DMA_MAP_READ, plus IOASID_DMA_MAP_WRITE if
 * @writable. Nothing is rounded: @buf, @length and @iova must already be
 * multiples of the lowest bit of out_pgsize_bitmap from ioasid_get_info()
 * (the CPU page size while no device is attached).
 *
 * Return: 0 or -errno, as for ioasid_dma_map(); -EINVAL for unaligned
 * input.
 */
LIBIOASID_API int ioasid_map_buffer(int fd, __u32 ioasid, void *buf,
				    size_t length, __u64 iova, bool writable);

/**
 * ioasid_unmap_buffer() - unmap what ioasid_map_buffer() mapped
 * @fd: the fd @ioasid was allocated on
 * @ioasid: the IOASID
 * @iova: the @iova the buffer was mapped at
 * @length: the @length it was mapped with
 *
 * ioasid_dma_unmap() of the range, which must have been mapped in full.
 * Whatever was mapped in it is unmapped even when that is not all of it.
 *
 * Return: 0 or -errno, as for ioasid_dma_unmap(); -ENXIO if fewer than
 * @length bytes were mapped there.
 */
LIBIOASID_API int ioasid_unmap_buffer(int fd, __u32 ioasid, __u64 iova,
				      size_t length);

/**
 * ioasid_vfio_cdev_path() - find the VFIO device cdev of a PCI device
 * @pci_addr: "DDDD:BB:DD.F" or "BB:DD.F" (domain 0), hex, any case
 * @buf: where to store "/dev/vfio/devices/vfioN" (NUL terminated)
 * @len: size of @buf
 *
 * Looks the name up in /sys/bus/pci/devices/<addr>/vfio-dev/; it does not
 * open or stat the /dev node.
 *
 * Return: 0 or -errno: -EINVAL for a malformed address, -ENODEV if there
 * is no such PCI device or it is not bound to a VFIO driver with a device
 * cdev, -ERANGE if @buf is too small.
 */
LIBIOASID_API int ioasid_vfio_cdev_path(const char *pci_addr, char *buf,
					size_t len);

/**
 * ioasid_vfio_bind() - bind a VFIO device fd to an ioasid fd
 * @vfio_fd: a VFIO device fd opened from /dev/vfio/devices/vfioN, unbound
 * @ioasid_fd: an fd from ioasid_open(), in the calling process
 * @label: the caller's name for the device, reported back in its events
 * @out_dev_id: where to store the device's id on @ioasid_fd; may be NULL
 *
 * VFIO_BIND_IOASID_FD. The ioasid fd then owns the device's DMA alone;
 * the device reaches no memory until ioasid_vfio_attach(), and access to
 * @vfio_fd is granted. Closing @vfio_fd unbinds it.
 *
 * Return: 0 or -errno: -EBADF if either fd is not open, -EINVAL if
 * @ioasid_fd is not an ioasid fd or @vfio_fd was not opened from the
 * cdev, -EBUSY if @vfio_fd is bound already or something else owns the
 * device (another ioasid fd, iommufd, a VFIO group), -ENODEV if it is not
 * behind an IOMMU, -ENOTTY if @vfio_fd is not a VFIO device fd. On error
 * *@out_dev_id is not written.
 */
LIBIOASID_API int ioasid_vfio_bind(int vfio_fd, int ioasid_fd, __u64 label,
				   __u32 *out_dev_id);

/**
 * ioasid_vfio_unbind() - undo ioasid_vfio_bind()
 * @vfio_fd: the bound VFIO device fd
 *
 * VFIO_UNBIND_IOASID_FD. Detaches the device, closes it, tears down its
 * mmaps and gives its DMA ownership back; @vfio_fd stays open, grants no
 * access, and may be bound again. No other thread may use @vfio_fd
 * meanwhile.
 *
 * Return: 0 or -errno: -EINVAL if @vfio_fd is not bound to an ioasid fd,
 * -EBADF if it is not open.
 */
LIBIOASID_API int ioasid_vfio_unbind(int vfio_fd);

/**
 * ioasid_vfio_attach() - make an IOASID the DMA address space of a device
 * @vfio_fd: a VFIO device fd bound with ioasid_vfio_bind()
 * @ioasid: an IOASID of the ioasid fd the device is bound to
 *
 * VFIO_ATTACH_IOASID with no flags. A device is attached to one IOASID at
 * a time; to move it, ioasid_vfio_detach() first. The IOASIDs keep their
 * mappings meanwhile.
 *
 * Return: 0 or -errno: -ENOENT for an unknown @ioasid, -EBUSY if the
 * device is attached already, -ERANGE if it could not reach an existing
 * mapping of @ioasid, -ENODEV if the ioasid fd was closed, -EINVAL if
 * @vfio_fd is not bound to an ioasid fd.
 */
LIBIOASID_API int ioasid_vfio_attach(int vfio_fd, __u32 ioasid);

/**
 * ioasid_vfio_detach() - undo ioasid_vfio_attach()
 * @vfio_fd: the VFIO device fd
 * @ioasid: the IOASID it is attached to
 *
 * VFIO_DETACH_IOASID with no flags. Afterwards the device reaches no
 * memory.
 *
 * Return: 0 or -errno: -ENXIO if the device is not attached to @ioasid,
 * -ENODEV if the ioasid fd was closed, -EINVAL if @vfio_fd is not bound
 * to an ioasid fd.
 */
LIBIOASID_API int ioasid_vfio_detach(int vfio_fd, __u32 ioasid);

/**
 * ioasid_vfio_attach_pasid() - attach an IOASID under a PASID of the caller
 * @vfio_fd: a VFIO device fd bound with ioasid_vfio_bind()
 * @ioasid: an IOASID of the ioasid fd the device is bound to
 * @user_pasid: the PASID (a guest's vPASID) to attach it under
 *
 * VFIO_ATTACH_IOASID with IOASID_ATTACH_USER_PASID. The kernel has no
 * PASID support yet and answers -EOPNOTSUPP to every such call on a
 * bound device.
 *
 * Return: 0 or -errno: -EOPNOTSUPP where the device or IOMMU cannot tag
 * DMA with a PASID (today: always), -EINVAL if @vfio_fd is not bound to an
 * ioasid fd, else as for ioasid_vfio_attach().
 */
LIBIOASID_API int ioasid_vfio_attach_pasid(int vfio_fd, __u32 ioasid,
					   __u32 user_pasid);

/**
 * ioasid_vfio_detach_pasid() - undo ioasid_vfio_attach_pasid()
 * @vfio_fd: the VFIO device fd
 * @ioasid: the IOASID attached under @user_pasid
 * @user_pasid: the PASID it was attached under
 *
 * VFIO_DETACH_IOASID with IOASID_ATTACH_USER_PASID. Like the attach, the
 * kernel answers -EOPNOTSUPP today.
 *
 * Return: 0 or -errno: -EOPNOTSUPP without PASID support (today:
 * always), -EINVAL if @vfio_fd is not bound to an ioasid fd, else as for
 * ioasid_vfio_detach().
 */
LIBIOASID_API int ioasid_vfio_detach_pasid(int vfio_fd, __u32 ioasid,
					   __u32 user_pasid);

/**
 * ioasid_vfio_open_pci() - open a PCI device's VFIO cdev, bound to an fd
 * @pci_addr: "DDDD:BB:DD.F" or "BB:DD.F" (domain 0), hex, any case
 * @ioasid_fd: an fd from ioasid_open(), in the calling process
 * @label: the caller's name for the device, reported back in its events
 * @out_dev_id: where to store the device's id on @ioasid_fd; may be NULL
 *
 * What a VMM does for each device: ioasid_vfio_cdev_path(), open(2)
 * O_RDWR | O_CLOEXEC, ioasid_vfio_bind(). @pci_addr and @ioasid_fd are
 * checked first. The device must be driven by a VFIO driver already: the
 * library binds no drivers (see ioasid-vfio-bind in tools/ioasid). On
 * failure nothing opened is left open. Close the fd to unbind the device.
 *
 * Return: the VFIO device fd (>= 0), bound to @ioasid_fd, or -errno: as
 * for ioasid_vfio_cdev_path() and ioasid_vfio_bind(), or open(2) of the
 * cdev. -EBADF if @ioasid_fd is not open, -EINVAL if it is not an ioasid
 * fd, -EBUSY if the device is bound or owned already.
 */
LIBIOASID_API int ioasid_vfio_open_pci(const char *pci_addr, int ioasid_fd,
				       __u64 label, __u32 *out_dev_id);

#ifdef __cplusplus
}
#endif

#endif /* LIBIOASID_H */
