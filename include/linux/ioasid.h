/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The in-kernel interface of /dev/ioasid, for drivers that bind devices
 * to an ioasid fd on userspace's behalf (VFIO's device cdev does).
 *
 * A binding claims the device's DMA ownership for the fd until it is
 * unbound. If userspace closes the ioasid fd first, the device is detached
 * and can reach no memory, but the binding stays valid until unbound, so
 * the driver never has to race the fd's release.
 *
 * An accessor (ioasid_access_create()) is for a device the kernel
 * emulates, with no IOMMU: it reads and writes an IOASID's memory by IOVA
 * from the CPU, copied at once or through pinned pages, and what it
 * writes is dirty-tracked exactly.
 */
#ifndef __LINUX_IOASID_H
#define __LINUX_IOASID_H

#include <linux/bits.h>
#include <linux/err.h>
#include <linux/types.h>
#include <uapi/linux/ioasid.h>

struct device;
struct ioasid_access;
struct ioasid_device;
struct page;

/**
 * struct ioasid_access_ops - what an accessor is told
 * @unmap: [@iova, @iova + @length) of a pin was unmapped, or the fd is
 *	closing: unpin it (ioasid_access_unpin_pages()) before returning.
 *	Called with none of the ioasid fd's locks held, except at close;
 *	it must not create, destroy, pin or copy.
 */
struct ioasid_access_ops {
	void (*unmap)(void *data, unsigned long iova, unsigned long length);
};

/* The accessor writes the IOASID's memory (flags of pin and rw). */
#define IOASID_ACCESS_WRITE	BIT(0)

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
struct ioasid_access *ioasid_access_create(int ioasid_fd, u32 ioasid,
					   const struct ioasid_access_ops *ops,
					   void *data);
void ioasid_access_destroy(struct ioasid_access *access);
int ioasid_access_pin_pages(struct ioasid_access *access, unsigned long iova,
			    unsigned long length, struct page **pages,
			    unsigned int flags);
void ioasid_access_unpin_pages(struct ioasid_access *access,
			       unsigned long iova, unsigned long length);
int ioasid_access_rw(struct ioasid_access *access, unsigned long iova,
		     void *buf, unsigned long length, unsigned int flags);
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

static inline struct ioasid_access *
ioasid_access_create(int ioasid_fd, u32 ioasid,
		     const struct ioasid_access_ops *ops, void *data)
{
	return ERR_PTR(-ENODEV);
}

static inline void ioasid_access_destroy(struct ioasid_access *access)
{
}

static inline int ioasid_access_pin_pages(struct ioasid_access *access,
					  unsigned long iova,
					  unsigned long length,
					  struct page **pages,
					  unsigned int flags)
{
	return -ENODEV;
}

static inline void ioasid_access_unpin_pages(struct ioasid_access *access,
					     unsigned long iova,
					     unsigned long length)
{
}

static inline int ioasid_access_rw(struct ioasid_access *access,
				   unsigned long iova, void *buf,
				   unsigned long length, unsigned int flags)
{
	return -ENODEV;
}
#endif

#endif /* __LINUX_IOASID_H */
