// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device objects: DMA ownership, attaching to an IOASID, and the
 * iommu_domains that make an attachment real.
 *
 * Creating a device object claims the device's DMA ownership for the fd,
 * so nothing else (a VFIO container, iommufd, another ioasid fd) can drive
 * its DMA until the object is destroyed; until attached the device can
 * reach no memory at all.
 *
 * An IOASID keeps one iommu_domain per IOMMU instance it has devices
 * behind: the first device behind an instance creates the domain and the
 * IOASID's mappings are replayed into it before the device is attached;
 * the last device to leave frees it. At attach the group's reserved
 * regions (an MSI window, say) are read and recorded in the IOASID as
 * reserved ranges owned by the device, as the domain's aperture is for
 * the domain; they are dropped again at detach. A device whose reserved
 * regions or aperture would cut into an existing mapping is refused with
 * -ERANGE before anything changes.
 *
 * Lock order: idev->attach_lock, then space->lock.
 */
#include <linux/iommu.h>
#include <linux/slab.h>

#include "ioasid_private.h"

static bool ioasid_device_has_iommu(struct device *dev)
{
	return dev->iommu && dev->iommu->iommu_dev;
}

static struct iommu_device *ioasid_device_iommu(struct ioasid_device *idev)
{
	return idev->dev->iommu->iommu_dev;
}

/* The group's reserved regions now, as ranges; kfree() the array. */
static int ioasid_device_reserved_ranges(struct ioasid_device *idev,
					 struct ioasid_range **out)
{
	struct iommu_resv_region *region, *next;
	struct ioasid_range *ranges = NULL;
	LIST_HEAD(regions);
	unsigned int n = 0;
	int ret;

	ret = iommu_get_group_resv_regions(idev->group, &regions);
	if (ret)
		goto out_free;
	list_for_each_entry(region, &regions, list)
		n++;
	ranges = kcalloc(n, sizeof(*ranges), GFP_KERNEL);
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
	*out = ranges;
	ret = n;
out_free:
	list_for_each_entry_safe(region, next, &regions, list)
		kfree(region);
	return ret;
}

static struct ioasid_domain *
ioasid_device_domain_alloc(struct ioasid_device *idev)
{
	struct ioasid_domain *domain;

	domain = kzalloc(sizeof(*domain), GFP_KERNEL_ACCOUNT);
	if (!domain)
		return ERR_PTR(-ENOMEM);
	domain->iommu = ioasid_device_iommu(idev);
	domain->iommu_domain = iommu_paging_domain_alloc(idev->dev);
	if (IS_ERR(domain->iommu_domain)) {
		int ret = PTR_ERR(domain->iommu_domain);

		kfree(domain);
		return ERR_PTR(ret);
	}
	return domain;
}

static void ioasid_device_domain_free(struct ioasid_domain *domain)
{
	/* The iommu driver frees the page tables with the domain. */
	iommu_domain_free(domain->iommu_domain);
	kfree(domain);
}

/*
 * The domain @idev attaches through: the IOASID's for its IOMMU instance,
 * or a new one, filled with every mapping and taken into the IOASID.
 */
static struct ioasid_domain *
ioasid_device_get_domain(struct ioasid_device *idev, struct ioasid_space *space)
{
	struct ioasid_domain *domain;
	int ret;

	lockdep_assert_held(&space->lock);
	domain = ioasid_iova_find_domain(&space->iova,
					 ioasid_device_iommu(idev));
	if (domain)
		return domain;

	domain = ioasid_device_domain_alloc(idev);
	if (IS_ERR(domain))
		return domain;
	ret = ioasid_iova_add_domain(&space->iova, domain);
	if (ret) {
		ioasid_device_domain_free(domain);
		return ERR_PTR(ret);
	}
	return domain;
}

/* Free @domain once no device attaches through it. */
static void ioasid_device_put_domain(struct ioasid_space *space,
				     struct ioasid_domain *domain)
{
	lockdep_assert_held(&space->lock);
	if (domain->num_devices)
		return;
	ioasid_iova_remove_domain(&space->iova, domain);
	ioasid_device_domain_free(domain);
}

int ioasid_device_attach(struct ioasid_device *idev, struct ioasid_space *space)
{
	struct ioasid_domain *domain;
	struct ioasid_range *reserved = NULL;
	int ret, n;

	mutex_lock(&idev->attach_lock);
	if (idev->space) {
		ret = -EBUSY;
		goto out_unlock_dev;
	}
	n = ioasid_device_reserved_ranges(idev, &reserved);
	if (n < 0) {
		ret = n;
		goto out_unlock_dev;
	}

	mutex_lock(&space->lock);
	ret = ioasid_iova_reserve(&space->iova, idev, reserved, n);
	if (ret)
		goto out_unlock_space;
	domain = ioasid_device_get_domain(idev, space);
	if (IS_ERR(domain)) {
		ret = PTR_ERR(domain);
		goto err_unreserve;
	}
	ret = iommu_attach_group(domain->iommu_domain, idev->group);
	if (ret) {
		ioasid_device_put_domain(space, domain);
		goto err_unreserve;
	}
	domain->num_devices++;
	space->num_devices++;
	ioasid_object_hold(&space->obj);
	idev->space = space;
	idev->domain = domain;
	goto out_unlock_space;

err_unreserve:
	ioasid_iova_unreserve(&space->iova, idev);
out_unlock_space:
	mutex_unlock(&space->lock);
	kfree(reserved);
out_unlock_dev:
	mutex_unlock(&idev->attach_lock);
	return ret;
}

static void __ioasid_device_detach(struct ioasid_device *idev)
{
	struct ioasid_space *space = idev->space;
	struct ioasid_domain *domain = idev->domain;

	lockdep_assert_held(&idev->attach_lock);
	mutex_lock(&space->lock);
	/* Back to the blocking domain: the device reaches nothing. */
	iommu_detach_group(domain->iommu_domain, idev->group);
	domain->num_devices--;
	ioasid_device_put_domain(space, domain);
	ioasid_iova_unreserve(&space->iova, idev);
	space->num_devices--;
	idev->space = NULL;
	idev->domain = NULL;
	mutex_unlock(&space->lock);

	ioasid_object_put(&space->obj);
}

/* Detach @idev from IOASID @ioasid; ENXIO if it is not attached there. */
int ioasid_device_detach(struct ioasid_device *idev, u32 ioasid)
{
	int ret = -ENXIO;

	mutex_lock(&idev->attach_lock);
	if (idev->space && idev->space->obj.id == ioasid) {
		__ioasid_device_detach(idev);
		ret = 0;
	}
	mutex_unlock(&idev->attach_lock);
	return ret;
}

/* Detach @idev from whatever it is attached to; ENXIO if nothing. */
int ioasid_device_detach_any(struct ioasid_device *idev)
{
	int ret = -ENXIO;

	mutex_lock(&idev->attach_lock);
	if (idev->space) {
		__ioasid_device_detach(idev);
		ret = 0;
	}
	mutex_unlock(&idev->attach_lock);
	return ret;
}

/*
 * A device object for @dev in @ctx's table, reserved but not published:
 * the caller publishes it, or undoes it with
 * ioasid_object_abort_and_destroy().
 */
struct ioasid_device *ioasid_device_create(struct ioasid_ctx *ctx,
					   struct device *dev)
{
	struct ioasid_device *idev;
	int ret;

	/*
	 * An emulated device (an mdev, say) has a group VFIO made up but no
	 * IOMMU: there is no DMA ownership to claim, and it would DMA
	 * through an in-kernel access API we do not offer yet.
	 */
	if (!dev->iommu_group || !ioasid_device_has_iommu(dev))
		return ERR_PTR(-ENODEV);

	/*
	 * Exclusive: a VFIO container, iommufd or another ioasid fd that owns
	 * the device's DMA makes this fail, which the core reports as EPERM;
	 * to the caller the device is simply busy.
	 */
	ret = iommu_device_claim_dma_owner(dev, ctx);
	if (ret)
		return ERR_PTR(ret == -EPERM ? -EBUSY : ret);

	idev = ioasid_object_alloc(ctx, struct ioasid_device,
				   IOASID_OBJ_DEVICE);
	if (IS_ERR(idev)) {
		iommu_device_release_dma_owner(dev);
		return idev;
	}
	idev->ctx = ctx;
	idev->dev = get_device(dev);
	idev->group = iommu_group_get(dev);
	mutex_init(&idev->attach_lock);
	return idev;
}

void ioasid_device_destroy(struct ioasid_object *obj)
{
	struct ioasid_device *idev =
		container_of(obj, struct ioasid_device, obj);

	ioasid_device_detach_any(idev);
	iommu_device_release_dma_owner(idev->dev);
	iommu_group_put(idev->group);
	if (idev->release)
		idev->release(idev);
	put_device(idev->dev);
	mutex_destroy(&idev->attach_lock);
}
