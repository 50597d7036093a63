/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The in-kernel interface of /dev/ioasid, for drivers that bind devices
 * to an ioasid fd on userspace's behalf (VFIO's device cdev does).
 *
 * A binding claims the device's DMA ownership for the fd until it is
 * unbound. If userspace closes the ioasid fd first, the device is detached
 * and can reach no memory, but the binding stays valid until unbound, so
 * the driver never has to race the fd's release.
 */
#ifndef __LINUX_IOASID_H
#define __LINUX_IOASID_H

#include <linux/err.h>
#include <linux/types.h>
#include <uapi/linux/ioasid.h>

struct device;
struct ioasid_device;

#if IS_ENABLED(CONFIG_IOASID)
struct ioasid_device *ioasid_bind_device(int ioasid_fd, struct device *dev,
					 u64 label, u32 *out_dev_id);
void ioasid_unbind_device(struct ioasid_device *idev);
void ioasid_revoke_device(struct ioasid_device *idev);
int ioasid_attach_device(struct ioasid_device *idev, u32 ioasid, u32 flags,
			 u32 user_pasid);
int ioasid_detach_device(struct ioasid_device *idev, u32 ioasid, u32 flags,
			 u32 user_pasid);
int ioasid_device_owner_id(struct ioasid_device *idev, struct device *dev);
#else
static inline struct ioasid_device *
ioasid_bind_device(int ioasid_fd, struct device *dev, u64 label,
		   u32 *out_dev_id)
{
	return ERR_PTR(-ENODEV);
}

static inline void ioasid_unbind_device(struct ioasid_device *idev)
{
}

static inline void ioasid_revoke_device(struct ioasid_device *idev)
{
}

static inline int ioasid_attach_device(struct ioasid_device *idev,
				       u32 ioasid, u32 flags, u32 user_pasid)
{
	return -ENODEV;
}

static inline int ioasid_detach_device(struct ioasid_device *idev,
				       u32 ioasid, u32 flags, u32 user_pasid)
{
	return -ENODEV;
}

static inline int ioasid_device_owner_id(struct ioasid_device *idev,
					 struct device *dev)
{
	return -ENODEV;
}
#endif

#endif /* __LINUX_IOASID_H */
