// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid: VFIO devices and ioasid fds.
 *
 * A device joins an ioasid fd through its VFIO device cdev,
 * /dev/vfio/devices/vfioN. This file finds that cdev for a PCI device in
 * sysfs, wraps the VFIO device ioctls that bind the device to an ioasid
 * fd and attach it to IOASIDs, and offers ioasid_vfio_open_pci(), which
 * does the finding, opening and binding in one call.
 *
 * It only reads sysfs. Which driver drives a device is the administrator's
 * choice, made before a program uses the device (with ioasid-vfio-bind(8)
 * from tools/ioasid, driverctl or libvirt), not something a library does
 * behind its caller's back.
 *
 * Each sysfs function saves errno, calls a static worker that may let libc
 * clobber it freely, and restores it. The ioctl wrappers leave that to
 * the funnel, libioasid_ioctl().
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libioasid.h"
#include "private.h"
#include "vfio_ioasid.h"

#define PCI_DEVICES_DIR		"/sys/bus/pci/devices"
#define VFIO_CDEV_DIR		"/dev/vfio/devices"

/* "ffffffff:ff:1f.7" and its NUL, with room to spare. */
#define PCI_NAME_LEN		32

/*
 * Read one hex field of 1 to 8 digits at *s and step past it. Stricter
 * than strtoul(), which would let signs, spaces and "0x" through into a
 * path we build.
 */
static int parse_hex_field(const char **s, unsigned long *val)
{
	const char *p = *s;
	unsigned long v = 0;
	int n = 0;

	while (isxdigit((unsigned char)*p)) {
		if (++n > 8)
			return -EINVAL;
		v = v * 16 + (isdigit((unsigned char)*p) ? *p - '0' :
			      tolower((unsigned char)*p) - 'a' + 10);
		p++;
	}
	if (!n)
		return -EINVAL;
	*s = p;
	*val = v;
	return 0;
}

/*
 * Turn "[domain:]bus:dev.fn" into the name sysfs uses. Only names this
 * accepts ever reach a path, so a caller cannot walk out of sysfs.
 */
static int pci_name_canon(const char *addr, char *name, size_t len)
{
	unsigned long field[3], domain, bus, dev, fn;
	const char *p = addr;
	int nr = 0;
	int ret;

	if (!addr)
		return -EINVAL;
	for (;;) {
		if (nr == 3)
			return -EINVAL;
		ret = parse_hex_field(&p, &field[nr++]);
		if (ret)
			return ret;
		if (*p != ':')
			break;
		p++;
	}
	if (nr < 2 || *p++ != '.')
		return -EINVAL;
	ret = parse_hex_field(&p, &fn);
	if (ret || *p)
		return -EINVAL;

	domain = nr == 3 ? field[0] : 0;
	bus = field[nr - 2];
	dev = field[nr - 1];
	if (bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	if (snprintf(name, len, "%04lx:%02lx:%02lx.%lx",
		     domain, bus, dev, fn) >= (int)len)
		return -EINVAL;
	return 0;
}

/* A device that is not there is -ENODEV, never -ENOENT. */
static int pci_dev_dir(const char *name, char *path, size_t len)
{
	struct stat st;

	if (snprintf(path, len, "%s/%s", PCI_DEVICES_DIR, name) >= (int)len)
		return -ENAMETOOLONG;
	if (stat(path, &st))
		return errno == ENOENT ? -ENODEV : -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENODEV;
	return 0;
}

/* A vfio-dev/ entry is "vfio" and a decimal number, nothing else. */
static int is_vfio_cdev_name(const char *s)
{
	if (strncmp(s, "vfio", 4))
		return 0;
	s += 4;
	if (!*s)
		return 0;
	while (isdigit((unsigned char)*s))
		s++;
	return !*s;
}

static int vfio_cdev_path(const char *pci_addr, char *buf, size_t len)
{
	char name[PCI_NAME_LEN], dev_dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	size_t n;
	DIR *dir;
	int ret;

	if (!buf || !len)
		return -EINVAL;
	ret = pci_name_canon(pci_addr, name, sizeof(name));
	if (ret)
		return ret;
	ret = pci_dev_dir(name, dev_dir, sizeof(dev_dir));
	if (ret)
		return ret;

	if (snprintf(path, sizeof(path), "%s/vfio-dev", dev_dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	/* No vfio-dev/: not a VFIO driver, or a kernel without VFIO cdevs. */
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? -ENODEV : -errno;

	ret = -ENODEV;
	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno)
				ret = -errno;
			break;
		}
		if (!is_vfio_cdev_name(de->d_name))
			continue;
		/* Build it whole first: on -ERANGE buf is left untouched. */
		n = (size_t)snprintf(path, sizeof(path), "%s/%s",
				     VFIO_CDEV_DIR, de->d_name);
		if (n >= len) {
			ret = -ERANGE;
		} else {
			memcpy(buf, path, n + 1);
			ret = 0;
		}
		break;
	}
	closedir(dir);
	return ret;
}

int ioasid_vfio_cdev_path(const char *pci_addr, char *buf, size_t len)
{
	int saved_errno = errno;
	int ret;

	ret = vfio_cdev_path(pci_addr, buf, len);
	errno = saved_errno;
	return ret;
}

/*
 * The VFIO device ioctls. Their structs are sized by argsz, set to the
 * struct this library was built against; every other input is zero.
 */
int ioasid_vfio_bind(int vfio_fd, int ioasid_fd, __u64 label,
		     __u32 *out_dev_id)
{
	struct vfio_device_bind_ioasid_fd cmd = {
		.argsz = sizeof(cmd),
		.ioasid_fd = ioasid_fd,
		.device_label = label,
	};
	int ret;

	ret = libioasid_ioctl(vfio_fd, VFIO_BIND_IOASID_FD, &cmd);
	if (ret)
		return ret;
	if (out_dev_id)
		*out_dev_id = cmd.out_dev_id;
	return 0;
}

int ioasid_vfio_unbind(int vfio_fd)
{
	struct vfio_device_unbind_ioasid_fd cmd = { .argsz = sizeof(cmd) };

	return libioasid_ioctl(vfio_fd, VFIO_UNBIND_IOASID_FD, &cmd);
}

/* ATTACH and DETACH take the same struct and the same fields. */
static int vfio_attach_ioctl(int vfio_fd, unsigned long request,
			     __u32 ioasid, __u32 flags, __u32 user_pasid)
{
	struct vfio_device_attach_ioasid cmd = {
		.argsz = sizeof(cmd),
		.flags = flags,
		.ioasid = ioasid,
		.user_pasid = user_pasid,
	};

	return libioasid_ioctl(vfio_fd, request, &cmd);
}

int ioasid_vfio_attach(int vfio_fd, __u32 ioasid)
{
	return vfio_attach_ioctl(vfio_fd, VFIO_ATTACH_IOASID, ioasid, 0, 0);
}

int ioasid_vfio_detach(int vfio_fd, __u32 ioasid)
{
	return vfio_attach_ioctl(vfio_fd, VFIO_DETACH_IOASID, ioasid, 0, 0);
}

int ioasid_vfio_attach_pasid(int vfio_fd, __u32 ioasid, __u32 user_pasid)
{
	return vfio_attach_ioctl(vfio_fd, VFIO_ATTACH_IOASID, ioasid,
				 IOASID_ATTACH_USER_PASID, user_pasid);
}

int ioasid_vfio_detach_pasid(int vfio_fd, __u32 ioasid, __u32 user_pasid)
{
	return vfio_attach_ioctl(vfio_fd, VFIO_DETACH_IOASID, ioasid,
				 IOASID_ATTACH_USER_PASID, user_pasid);
}

static int vfio_open_pci(const char *pci_addr, int ioasid_fd, __u64 label,
			 __u32 *out_dev_id)
{
	char name[PCI_NAME_LEN], path[PATH_MAX];
	__u32 version;
	int fd;
	int ret;

	/*
	 * Refuse what the bind would refuse before touching the device: a
	 * malformed address, then an ioasid_fd with the bind's answers,
	 * -EBADF, or -EINVAL for an open fd that is not an ioasid fd.
	 */
	ret = pci_name_canon(pci_addr, name, sizeof(name));
	if (ret)
		return ret;
	ret = ioasid_get_api_version(ioasid_fd, &version);
	if (ret)
		return ret == -ENOTTY ? -EINVAL : ret;

	ret = vfio_cdev_path(pci_addr, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = ioasid_vfio_bind(fd, ioasid_fd, label, out_dev_id);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int ioasid_vfio_open_pci(const char *pci_addr, int ioasid_fd, __u64 label,
			 __u32 *out_dev_id)
{
	int saved_errno = errno;
	int ret;

	ret = vfio_open_pci(pci_addr, ioasid_fd, label, out_dev_id);
	errno = saved_errno;
	return ret;
}
