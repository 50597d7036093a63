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
 * The uAPI structs and constants come from <linux/ioasid.h>, which this
 * header includes; it adds only functions, never redefines a uAPI name.
 * Every public name starts with ioasid_ (the uAPI owns IOASID_*).
 */
#ifndef LIBIOASID_H
#define LIBIOASID_H

#include <stddef.h>
#include <linux/types.h>
#include <linux/ioasid.h>

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
				  struct ioasid_get_info *info,
				  struct ioasid_iova_range *ranges,
				  __u32 nr_ranges);

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
 * ioasid_vfio_pci_bind() - bind a PCI device to vfio-pci
 * @pci_addr: "DDDD:BB:DD.F" or "BB:DD.F" (domain 0), hex, any case
 *
 * Sets driver_override, unbinds the current driver and reprobes, through
 * sysfs; needs root. Does nothing if vfio-pci already drives the device.
 * If vfio-pci does not take the device, the override is cleared again and
 * the device is reprobed so its old driver can have it back.
 *
 * Return: 0 or -errno: -EINVAL for a malformed address, -ENODEV if there
 * is no such PCI device, -ENXIO if the vfio-pci driver is not loaded,
 * -EIO if vfio-pci refused the device.
 */
LIBIOASID_API int ioasid_vfio_pci_bind(const char *pci_addr);

#ifdef __cplusplus
}
#endif

#endif /* LIBIOASID_H */
