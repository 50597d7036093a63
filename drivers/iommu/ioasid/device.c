// SPDX-License-Identifier: GPL-2.0-only
/*
 * Devices and domains: binding a device to an fd, attaching it to an
 * IOASID, and the iommu_domains that make the attachment real.
 *
 * Binding claims the device's DMA ownership for the fd, so nothing else
 * (a VFIO container, iommufd, another ioasid fd) can drive its DMA until
 * it is unbound; until attached the device can reach no memory at all.
 *
 * An IOASID keeps one iommu_domain per IOMMU instance it has devices
 * behind: the first device behind an instance creates the domain and the
 * IOASID's mappings are replayed into it before the device is attached;
 * the last device to leave frees it. A device whose reserved regions
 * (such as the MSI window) or aperture would cut into an existing mapping
 * is refused with -ERANGE before anything changes.
 *
 * A driver such as VFIO binds a device through ioasid_bind_device(), with a
 * label of the user's choosing. Its binding holds a reference on the
 * context, not the file: when the fd closes, the device is detached and
 * taken out of the fd's table (revoked), and the binding lives on, inert,
 * until the driver unbinds.
 *
 * Lock order: ctx->bind_lock, then idev->attach_lock, then space->lock,
 * then ctx->pin_lock.
 */
#include <linux/ioasid.h>
#include <linux/iommu.h>
#include <linux/slab.h>

#include "ioasid_private.h"

static struct iommu_device *ioasid_device_iommu(struct ioasid_device *idev)
{
	return idev->dev->iommu ? idev->dev->iommu->iommu_dev : NULL;
}

/* Snapshot the group's reserved regions; they do not change once bound. */
static int ioasid_device_read_reserved(struct ioasid_device *idev)
{
	struct iommu_resv_region *region, *next;
	struct ioasid_iova_range *ranges;
	LIST_HEAD(regions);
	unsigned int n = 0;
	int ret;

	ret = iommu_get_group_resv_regions(idev->group, &regions);
	if (ret)
		goto out_free;
	list_for_each_entry(region, &regions, list)
		n++;
	ranges = kcalloc(n, sizeof(*ranges), GFP_KERNEL_ACCOUNT);
	if (n && !ranges) {
		ret = -ENOMEM;
		goto out_free;
	}
	n = 0;
	list_for_each_entry(region, &regions, list) {
		ranges[n].start = region->start;
		ranges[n].last = region->start + region->length - 1;
		n++;
	}
	kfree(idev->reserved);
	idev->reserved = ranges;
	idev->num_reserved = n;
out_free:
	list_for_each_entry_safe(region, next, &regions, list)
		kfree(region);
	return ret;
}

/* Does any mapping of @space fall where @idev cannot reach? */
static bool ioasid_device_conflicts(struct ioasid_space *space,
				    struct ioasid_device *idev,
				    struct iommu_domain *domain)
{
	struct iommu_domain_geometry *geo = &domain->geometry;
	unsigned int i;

	lockdep_assert_held(&space->lock);
	for (i = 0; i != idev->num_reserved; i++)
		if (interval_tree_iter_first(&space->areas,
					     idev->reserved[i].start,
					     idev->reserved[i].last))
			return true;
	if (!geo->force_aperture)
		return false;
	if (geo->aperture_start &&
	    interval_tree_iter_first(&space->areas, 0,
				     geo->aperture_start - 1))
		return true;
	return geo->aperture_end != ULONG_MAX &&
	       interval_tree_iter_first(&space->areas, geo->aperture_end + 1,
					ULONG_MAX);
}

static struct ioasid_domain *ioasid_domain_create(struct ioasid_space *space,
						  struct ioasid_device *idev)
{
	struct ioasid_domain *domain;
	int ret;

	domain = kzalloc(sizeof(*domain), GFP_KERNEL_ACCOUNT);
	if (!domain)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&domain->devices);
	domain->iommu = ioasid_device_iommu(idev);
	domain->domain = iommu_paging_domain_alloc(idev->dev);
	if (IS_ERR(domain->domain)) {
		ret = PTR_ERR(domain->domain);
		goto err_free;
	}
	if (ioasid_device_conflicts(space, idev, domain->domain)) {
		ret = -ERANGE;
		goto err_domain;
	}
	ret = ioasid_space_fill_domain(space, domain);
	if (ret)
		goto err_domain;
	return domain;

err_domain:
	iommu_domain_free(domain->domain);
err_free:
	kfree(domain);
	return ERR_PTR(ret);
}

static void ioasid_domain_destroy(struct ioasid_domain *domain)
{
	/* The iommu driver frees the page tables with the domain. */
	iommu_domain_free(domain->domain);
	kfree(domain);
}

int ioasid_device_attach(struct ioasid_device *idev, struct ioasid_space *space)
{
	struct ioasid_domain *domain, *new_domain = NULL;
	struct iommu_device *iommu = ioasid_device_iommu(idev);
	int ret;

	mutex_lock(&idev->attach_lock);
	if (idev->space) {
		ret = -EBUSY;
		goto out_unlock_dev;
	}
	ret = ioasid_device_read_reserved(idev);
	if (ret)
		goto out_unlock_dev;

	mutex_lock(&space->lock);
	domain = NULL;
	list_for_each_entry(domain, &space->domains, link)
		if (domain->iommu == iommu)
			break;
	if (list_entry_is_head(domain, &space->domains, link)) {
		new_domain = ioasid_domain_create(space, idev);
		if (IS_ERR(new_domain)) {
			ret = PTR_ERR(new_domain);
			goto out_unlock_space;
		}
		domain = new_domain;
	} else if (ioasid_device_conflicts(space, idev, domain->domain)) {
		ret = -ERANGE;
		goto out_unlock_space;
	}

	ret = iommu_attach_group(domain->domain, idev->group);
	if (ret) {
		if (new_domain)
			ioasid_domain_destroy(new_domain);
		goto out_unlock_space;
	}
	if (new_domain)
		list_add_tail(&new_domain->link, &space->domains);
	list_add_tail(&idev->domain_link, &domain->devices);
	space->num_devices++;
	ioasid_object_hold(&space->obj);
	idev->space = space;
	idev->domain = domain;

out_unlock_space:
	mutex_unlock(&space->lock);
out_unlock_dev:
	mutex_unlock(&idev->attach_lock);
	return ret;
}

/* Detach from whatever @idev is attached to, or only from @expect_ioasid. */
int ioasid_device_detach(struct ioasid_device *idev, u32 expect_ioasid)
{
	struct ioasid_space *space;
	struct ioasid_domain *domain;

	mutex_lock(&idev->attach_lock);
	space = idev->space;
	if (!space || (expect_ioasid && space->obj.id != expect_ioasid)) {
		mutex_unlock(&idev->attach_lock);
		return -ENXIO;
	}
	domain = idev->domain;

	mutex_lock(&space->lock);
	/* Back to the blocking domain: the device reaches nothing. */
	iommu_detach_group(domain->domain, idev->group);
	list_del(&idev->domain_link);
	if (list_empty(&domain->devices)) {
		list_del(&domain->link);
		ioasid_domain_destroy(domain);
	}
	space->num_devices--;
	idev->space = NULL;
	idev->domain = NULL;
	mutex_unlock(&space->lock);
	mutex_unlock(&idev->attach_lock);

	ioasid_object_put(&space->obj);
	return 0;
}

struct ioasid_device *ioasid_device_bind(struct ioasid_ctx *ctx,
					 struct device *dev)
{
	struct ioasid_device *idev;
	int ret;

	if (!dev->iommu_group)
		return ERR_PTR(-ENODEV);

	idev = ioasid_object_alloc(ctx, struct ioasid_device,
				   IOASID_OBJ_DEVICE);
	if (IS_ERR(idev))
		return idev;
	idev->ctx = ctx;
	idev->dev = dev;
	mutex_init(&idev->attach_lock);

	/*
	 * Exclusive: a VFIO container, iommufd or another ioasid fd that owns
	 * the device's DMA makes this fail, which the core reports as EPERM;
	 * to the caller the device is simply busy.
	 */
	ret = iommu_device_claim_dma_owner(dev, ctx);
	if (ret == -EPERM)
		ret = -EBUSY;
	if (ret)
		goto err_abort;
	idev->group = iommu_group_get(dev);
	get_device(dev);
	return idev;

err_abort:
	mutex_destroy(&idev->attach_lock);
	ioasid_object_abort(ctx, &idev->obj);
	return ERR_PTR(ret);
}

void ioasid_device_destroy(struct ioasid_object *obj)
{
	struct ioasid_device *idev =
		container_of(obj, struct ioasid_device, obj);

	if (idev->space)
		ioasid_device_detach(idev, 0);
	iommu_device_release_dma_owner(idev->dev);
	iommu_group_put(idev->group);
	if (idev->release)
		idev->release(idev);
	put_device(idev->dev);
	kfree(idev->reserved);
	mutex_destroy(&idev->attach_lock);
}

/* Detach @idev and take it out of the fd: its binding lives on, inert. */
static void __ioasid_revoke_device(struct ioasid_device *idev)
{
	lockdep_assert_held(&idev->ctx->bind_lock);
	if (idev->revoked)
		return;
	if (idev->space)
		ioasid_device_detach(idev, 0);
	/* Only the driver's reference is left after this. */
	ioasid_object_remove(idev->ctx, &idev->obj, 1);
	idev->revoked = true;
}

/* The fd is closing: cut off every device a driver bound. */
void ioasid_revoke_external_devices(struct ioasid_ctx *ctx)
{
	struct ioasid_device *idev;

	mutex_lock(&ctx->bind_lock);
	ctx->closed = true;
	list_for_each_entry(idev, &ctx->external_devices, external_link)
		__ioasid_revoke_device(idev);
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
	__ioasid_revoke_device(idev);
	mutex_unlock(&idev->ctx->bind_lock);
}
EXPORT_SYMBOL_NS_GPL(ioasid_revoke_device, IOASID);

/**
 * ioasid_bind_device() - bind a device to an ioasid fd
 * @ioasid_fd: an fd of /dev/ioasid, in the calling process
 * @dev: the device, which must be behind an IOMMU
 * @label: the user's name for the device, reported back in its events
 * @out_dev_id: the id of the device on the fd
 *
 * Claims the device's DMA ownership for the fd: until ioasid_unbind_device()
 * nothing else can set up its DMA, and until attached it reaches no memory.
 *
 * Return: the binding, or ERR_PTR: -EBADF if @ioasid_fd is not open,
 * -EINVAL if it is not an ioasid fd, -EBUSY if something else owns the
 * device's DMA, -ENODEV if the device has no IOMMU.
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
		goto out_unlock;
	}
	/* DMA ownership is per owner; this fd must not take it twice. */
	list_for_each_entry(idev, &ctx->external_devices, external_link) {
		if (idev->dev == dev) {
			idev = ERR_PTR(-EBUSY);
			goto out_unlock;
		}
	}
	idev = ioasid_device_bind(ctx, dev);
	if (IS_ERR(idev))
		goto out_unlock;
	idev->label = label;
	idev->external = true;
	ioasid_object_hold(&idev->obj);
	list_add_tail(&idev->external_link, &ctx->external_devices);
	*out_dev_id = idev->obj.id;
	ioasid_object_publish(ctx, &idev->obj);
	mutex_unlock(&ctx->bind_lock);
	return idev;

out_unlock:
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
	__ioasid_revoke_device(idev);
	mutex_unlock(&ctx->bind_lock);

	ioasid_device_destroy(&idev->obj);
	kfree(idev);
	ioasid_ctx_put(ctx);
}
EXPORT_SYMBOL_NS_GPL(ioasid_unbind_device, IOASID);

static int ioasid_check_attach_flags(u32 flags, u32 user_pasid)
{
	if (flags & ~IOASID_ATTACH_USER_PASID)
		return -EINVAL;
	/* No PASID support yet: the nesting work brings it. */
	if (flags & IOASID_ATTACH_USER_PASID)
		return -EOPNOTSUPP;
	return user_pasid ? -EINVAL : 0;
}

/**
 * ioasid_attach_device() - attach a bound device to an IOASID
 * @idev: the binding
 * @ioasid: an IOASID of the fd the device is bound to
 * @flags: &enum ioasid_attach_flags
 * @user_pasid: the PASID, with %IOASID_ATTACH_USER_PASID; else 0
 *
 * Return: 0, or -ENOENT for an unknown @ioasid, -EBUSY if the device is
 * attached already, -ERANGE if it cannot reach an existing mapping,
 * -EOPNOTSUPP for a PASID attach, -ENODEV if the fd has been closed.
 */
int ioasid_attach_device(struct ioasid_device *idev, u32 ioasid, u32 flags,
			 u32 user_pasid)
{
	struct ioasid_ctx *ctx = idev->ctx;
	struct ioasid_space *space;
	int ret;

	ret = ioasid_check_attach_flags(flags, user_pasid);
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
	ret = ioasid_device_attach(idev, space);
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
 * Return: 0, or -ENXIO if it is not attached to @ioasid, -ENODEV if the
 * fd has been closed (which detached it already).
 */
int ioasid_detach_device(struct ioasid_device *idev, u32 ioasid, u32 flags,
			 u32 user_pasid)
{
	struct ioasid_ctx *ctx = idev->ctx;
	int ret;

	ret = ioasid_check_attach_flags(flags, user_pasid);
	if (ret)
		return ret;

	mutex_lock(&ctx->bind_lock);
	ret = idev->revoked ? -ENODEV : ioasid_device_detach(idev, ioasid);
	mutex_unlock(&ctx->bind_lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(ioasid_detach_device, IOASID);
