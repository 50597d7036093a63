/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * The VFIO device ioctls that bind a device to an ioasid fd and attach it,
 * for a build against a <linux/vfio.h> that predates them, such as the
 * one distributions ship. Never installed.
 *
 * The definitions here are used only when <linux/vfio.h> has none. Either
 * way the static_asserts below check that the ones in use have the ABI
 * this library speaks, so a build against the headers of a kernel that
 * has the ioctls (as `make check` does) proves that this copy and the
 * kernel agree.
 */
#ifndef LIBIOASID_VFIO_IOASID_H
#define LIBIOASID_VFIO_IOASID_H

#include <assert.h>
#include <stddef.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vfio.h>

#ifndef VFIO_BIND_IOASID_FD

struct vfio_device_bind_ioasid_fd {
	__u32	argsz;
	__u32	flags;
	__s32	ioasid_fd;
	__u32	out_dev_id;
	__aligned_u64 device_label;
};

#define VFIO_BIND_IOASID_FD		_IO(VFIO_TYPE, VFIO_BASE + 22)

struct vfio_device_unbind_ioasid_fd {
	__u32	argsz;
	__u32	flags;
};

#define VFIO_UNBIND_IOASID_FD		_IO(VFIO_TYPE, VFIO_BASE + 23)

struct vfio_device_attach_ioasid {
	__u32	argsz;
	__u32	flags;
	__u32	ioasid;
	__u32	user_pasid;
};

#define VFIO_ATTACH_IOASID		_IO(VFIO_TYPE, VFIO_BASE + 24)
#define VFIO_DETACH_IOASID		_IO(VFIO_TYPE, VFIO_BASE + 25)

#endif /* VFIO_BIND_IOASID_FD */

/*
 * The ABI in plain numbers: VFIO's ioctl type ';' and base 100, and the
 * layout of each struct, field by field.
 */
#define VFIO_IOASID_ABI_OFFSET(type, field, offset)			\
	static_assert(offsetof(struct type, field) == (offset),		\
		      #type "." #field " moved in the VFIO ioasid ABI")
#define VFIO_IOASID_ABI_SIZE(type, field, size)				\
	static_assert(sizeof((*(struct type *)0).field) == (size),	\
		      #type "." #field " resized in the VFIO ioasid ABI")

static_assert(_IO(';', 100 + 22) == VFIO_BIND_IOASID_FD,
	      "VFIO_BIND_IOASID_FD differs from the VFIO ioasid ABI");
static_assert(_IO(';', 100 + 23) == VFIO_UNBIND_IOASID_FD,
	      "VFIO_UNBIND_IOASID_FD differs from the VFIO ioasid ABI");
static_assert(_IO(';', 100 + 24) == VFIO_ATTACH_IOASID,
	      "VFIO_ATTACH_IOASID differs from the VFIO ioasid ABI");
static_assert(_IO(';', 100 + 25) == VFIO_DETACH_IOASID,
	      "VFIO_DETACH_IOASID differs from the VFIO ioasid ABI");

static_assert(sizeof(struct vfio_device_bind_ioasid_fd) == 24,
	      "struct vfio_device_bind_ioasid_fd differs from the ABI");
VFIO_IOASID_ABI_OFFSET(vfio_device_bind_ioasid_fd, argsz, 0);
VFIO_IOASID_ABI_SIZE(vfio_device_bind_ioasid_fd, argsz, 4);
VFIO_IOASID_ABI_OFFSET(vfio_device_bind_ioasid_fd, flags, 4);
VFIO_IOASID_ABI_SIZE(vfio_device_bind_ioasid_fd, flags, 4);
VFIO_IOASID_ABI_OFFSET(vfio_device_bind_ioasid_fd, ioasid_fd, 8);
VFIO_IOASID_ABI_SIZE(vfio_device_bind_ioasid_fd, ioasid_fd, 4);
VFIO_IOASID_ABI_OFFSET(vfio_device_bind_ioasid_fd, out_dev_id, 12);
VFIO_IOASID_ABI_SIZE(vfio_device_bind_ioasid_fd, out_dev_id, 4);
VFIO_IOASID_ABI_OFFSET(vfio_device_bind_ioasid_fd, device_label, 16);
VFIO_IOASID_ABI_SIZE(vfio_device_bind_ioasid_fd, device_label, 8);

static_assert(sizeof(struct vfio_device_unbind_ioasid_fd) == 8,
	      "struct vfio_device_unbind_ioasid_fd differs from the ABI");
VFIO_IOASID_ABI_OFFSET(vfio_device_unbind_ioasid_fd, argsz, 0);
VFIO_IOASID_ABI_SIZE(vfio_device_unbind_ioasid_fd, argsz, 4);
VFIO_IOASID_ABI_OFFSET(vfio_device_unbind_ioasid_fd, flags, 4);
VFIO_IOASID_ABI_SIZE(vfio_device_unbind_ioasid_fd, flags, 4);

static_assert(sizeof(struct vfio_device_attach_ioasid) == 16,
	      "struct vfio_device_attach_ioasid differs from the ABI");
VFIO_IOASID_ABI_OFFSET(vfio_device_attach_ioasid, argsz, 0);
VFIO_IOASID_ABI_SIZE(vfio_device_attach_ioasid, argsz, 4);
VFIO_IOASID_ABI_OFFSET(vfio_device_attach_ioasid, flags, 4);
VFIO_IOASID_ABI_SIZE(vfio_device_attach_ioasid, flags, 4);
VFIO_IOASID_ABI_OFFSET(vfio_device_attach_ioasid, ioasid, 8);
VFIO_IOASID_ABI_SIZE(vfio_device_attach_ioasid, ioasid, 4);
VFIO_IOASID_ABI_OFFSET(vfio_device_attach_ioasid, user_pasid, 12);
VFIO_IOASID_ABI_SIZE(vfio_device_attach_ioasid, user_pasid, 4);

#endif /* LIBIOASID_VFIO_IOASID_H */
