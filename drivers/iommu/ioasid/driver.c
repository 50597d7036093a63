// SPDX-License-Identifier: GPL-2.0-only
/*
 * The in-kernel API of include/linux/ioasid.h, for drivers that bind
 * devices to an ioasid fd on userspace's behalf (VFIO's device cdev).
 *
 * A driver binds a device with a label of the user's choosing and gets a
 * binding that holds a reference on the fd's context, not on the file.
 * When the fd closes, every bound device is detached and taken out of the
 * fd's table (revoked); its binding lives on, inert and still owning the
 * device's DMA, until the driver unbinds. So a driver never races the
 * fd's release, and a closed fd never leaves a device reaching memory.
 *
 * The label is stored for the fault records that will report it; nothing
 * reads it yet.
 *
 * Lock order: ctx->bind_lock, then what device.c takes.
 */
#include <linux/ioasid.h>
#include <linux/iommu.h>

#include "ioasid_private.h"

/* Detach @idev and take it out of the fd: its binding lives on, inert. */
static void ioasid_driver_revoke(struct ioasid_device *idev)
{
	lockdep_assert_held(&idev->ctx->bind_lock);
	if (idev->revoked)
		return;
	ioasid_device_detach_any(idev);
	/* Only the binding's reference is left after this. */
	ioasid_object_remove(idev->ctx, &idev->obj, 1);
	idev->revoked = true;
}

/* The fd is closing: cut off every device a driver bound. */
void ioasid_driver_revoke_all(struct ioasid_ctx *ctx)
{
	struct ioasid_device *idev;

	mutex_lock(&ctx->bind_lock);
	ctx->closed = true;
	list_for_each_entry(idev, &ctx->external_devices, external_link)
		ioasid_driver_revoke(idev);
	mutex_unlock(&ctx->bind_lock);
}

/**
 * ioasid_revoke_device() - take a bound device out of its fd early
 * @idev: the binding
 *
 * For a driver that cannot end the binding yet (its device is still open):
 * the device is detached, leaves the fd's table and can attach nowhere
 * (-ENODEV), but keeps its DMA ownership, so it reaches no memory, until
 * ioasid_unbind_device(). Doing it twice is harmless.
 */
void ioasid_revoke_device(struct ioasid_device *idev)
{
	mutex_lock(&idev->ctx->bind_lock);
	ioasid_driver_revoke(idev);
	mutex_unlock(&idev->ctx->bind_lock);
}
EXPORT_SYMBOL_NS_GPL(ioasid_revoke_device, IOASID);

/**
 * ioasid_bind_device() - bind a device to an ioasid fd
 * @ioasid_fd: an fd of /dev/ioasid, in the calling process
 * @dev: the device, which must be behind an IOMMU
 * @label: the user's name for the device, for the events it will report
 * @out_dev_id: the id of the device on the fd
 *
 * Claims the device's DMA ownership for the fd: until ioasid_unbind_device()
 * nothing else can set up its DMA, and until attached it reaches no memory.
 *
 * Return: the binding, or ERR_PTR: -EBADF if @ioasid_fd is not open,
 * -EINVAL if it is not an ioasid fd, -EBUSY if something else owns the
 * device's DMA or it is bound to this fd already, -ENODEV if the device
 * has no IOMMU, -EPERM if its MSIs are not isolated and the administrator
 * did not set ioasid.allow_unsafe_interrupts.
 */
struct ioasid_device *ioasid_bind_device(int ioasid_fd, struct device *dev,
					 u64 label, u32 *out_dev_id)
{
	struct ioasid_device *idev;
	struct ioasid_ctx *ctx;

	ctx = ioasid_ctx_get_from_fd(ioasid_fd);
	if (IS_ERR(ctx))
		return ERR_CAST(ctx);

	mutex_lock(&ctx->bind_lock);
	if (ctx->closed) {
		/* The fd was closed after we looked it up. */
		idev = ERR_PTR(-EBADF);
		goto err_unlock;
	}
	/* DMA ownership counts per owner: this fd must not take it twice. */
	list_for_each_entry(idev, &ctx->external_devices, external_link) {
		if (idev->dev == dev) {
			idev = ERR_PTR(-EBUSY);
			goto err_unlock;
		}
	}
	idev = ioasid_device_create(ctx, dev);
	if (IS_ERR(idev))
		goto err_unlock;
	idev->label = label;
	idev->external = true;
	/* The binding's own reference, beside the table's. */
	ioasid_object_hold(&idev->obj);
	list_add_tail(&idev->external_link, &ctx->external_devices);
	*out_dev_id = idev->obj.id;
	ioasid_object_publish(ctx, &idev->obj);
	mutex_unlock(&ctx->bind_lock);
	return idev;

err_unlock:
	mutex_unlock(&ctx->bind_lock);
	ioasid_ctx_put(ctx);
	return idev;
}
EXPORT_SYMBOL_NS_GPL(ioasid_bind_device, IOASID);

/**
 * ioasid_unbind_device() - end a binding made by ioasid_bind_device()
 * @idev: the binding
 *
 * Detaches the device if it is attached and gives its DMA ownership back.
 * Safe whether or not the fd is still open.
 */
void ioasid_unbind_device(struct ioasid_device *idev)
{
	struct ioasid_ctx *ctx = idev->ctx;

	mutex_lock(&ctx->bind_lock);
	list_del(&idev->external_link);
	ioasid_driver_revoke(idev);
	mutex_unlock(&ctx->bind_lock);

	ioasid_object_destroy(&idev->obj);
	ioasid_ctx_put(ctx);
}
EXPORT_SYMBOL_NS_GPL(ioasid_unbind_device, IOASID);

/*
 * The PASID a user's attach names, as device.c takes it: the one the
 * device tags its DMA with, or IOMMU_NO_PASID for its untagged DMA,
 * which PASID 0 would be on the wire too, so the user cannot name it.
 */
static int ioasid_driver_attach_pasid(u32 flags, u32 user_pasid, u32 *pasid)
{
	if (flags & ~IOASID_ATTACH_USER_PASID)
		return -EINVAL;
	if (!(flags & IOASID_ATTACH_USER_PASID)) {
		*pasid = IOMMU_NO_PASID;
		return user_pasid ? -EINVAL : 0;
	}
	if (user_pasid == IOMMU_NO_PASID)
		return -EINVAL;
	*pasid = user_pasid;
	return 0;
}

/**
 * ioasid_attach_device() - attach a bound device to an IOASID
 * @idev: the binding
 * @ioasid: an IOASID of the fd the device is bound to
 * @flags: &enum ioasid_attach_flags
 * @user_pasid: the PASID, with %IOASID_ATTACH_USER_PASID; else 0
 *
 * With %IOASID_ATTACH_USER_PASID only the DMA the device tags with
 * @user_pasid goes to @ioasid; its untagged DMA and other PASIDs are
 * attached apart.
 *
 * Return: 0, or -ENOENT for an unknown @ioasid, -EBUSY if the device (or
 * its group, for the same RID or PASID) is attached already, -ERANGE if
 * it cannot reach an existing mapping, -EOPNOTSUPP for a PASID attach of
 * a device that cannot tag DMA with one, -EINVAL for PASID 0 or one past
 * the device's, -ENODEV if the fd has been closed.
 */
int ioasid_attach_device(struct ioasid_device *idev, u32 ioasid, u32 flags,
			 u32 user_pasid)
{
	struct ioasid_ctx *ctx = idev->ctx;
	struct ioasid_space *space;
	u32 pasid;
	int ret;

	ret = ioasid_driver_attach_pasid(flags, user_pasid, &pasid);
	if (ret)
		return ret;

	mutex_lock(&ctx->bind_lock);
	if (idev->revoked) {
		ret = -ENODEV;
		goto out_unlock;
	}
	space = ioasid_space_get(ctx, ioasid);
	if (IS_ERR(space)) {
		ret = PTR_ERR(space);
		goto out_unlock;
	}
	ret = ioasid_device_attach(idev, space, pasid);
	ioasid_space_put(space);
out_unlock:
	mutex_unlock(&ctx->bind_lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(ioasid_attach_device, IOASID);

/**
 * ioasid_detach_device() - detach a bound device from its IOASID
 * @idev: the binding
 * @ioasid: the IOASID it is attached to
 * @flags: &enum ioasid_attach_flags, as attached
 * @user_pasid: the PASID, with %IOASID_ATTACH_USER_PASID; else 0
 *
 * Afterwards the device reaches no memory.
 *
 * Return: 0, or -ENXIO if it is not attached to @ioasid (0 included), or
 * -ENODEV if the fd has been closed (which detached it already).
 */
int ioasid_detach_device(struct ioasid_device *idev, u32 ioasid, u32 flags,
			 u32 user_pasid)
{
	struct ioasid_ctx *ctx = idev->ctx;
	u32 pasid;
	int ret;

	ret = ioasid_driver_attach_pasid(flags, user_pasid, &pasid);
	if (ret)
		return ret;

	mutex_lock(&ctx->bind_lock);
	ret = idev->revoked ? -ENODEV :
			      ioasid_device_detach(idev, ioasid, pasid);
	mutex_unlock(&ctx->bind_lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(ioasid_detach_device, IOASID);

/**
 * ioasid_device_owner_id() - how a device stands towards a binding's fd
 * @idev: a binding
 * @dev: any device
 *
 * For a driver that acts on devices beyond the one bound (a PCI hot reset
 * resets a whole slot or bus) and must first know the user owns them. It
 * may be called with locks of the PCI core held (pci_bus_sem, in a bus
 * walk), so it takes none of the locks an attach holds: only the object
 * table's and the group list's, under which nothing else is taken.
 *
 * Return: @dev's id on @idev's fd if it is bound there too; -ENOENT if it
 * is not bound but its IOMMU group's DMA is owned by the fd, so no one
 * else can use it; -ENODEV if the fd does not own it, or @idev was
 * revoked (it is then out of the fd's table).
 */
int ioasid_device_owner_id(struct ioasid_device *idev, struct device *dev)
{
	struct ioasid_ctx *ctx = idev->ctx;
	u32 id;

	if (!ioasid_device_find_id(ctx, idev->dev))
		return -ENODEV;
	id = ioasid_device_find_id(ctx, dev);
	if (id)
		return id;
	return ioasid_device_group_owned(ctx, dev) ? -ENOENT : -ENODEV;
}
EXPORT_SYMBOL_NS_GPL(ioasid_device_owner_id, IOASID);
