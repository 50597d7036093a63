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
 * Lock order: idev->attach_lock, then space->lock, then ctx->pin_lock.
 */
#include <linux/iommu.h>
#include <linux/slab.h>
#include <uapi/linux/ioasid.h>

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

int ioasid_device_detach(struct ioasid_device *idev)
{
	struct ioasid_space *space;
	struct ioasid_domain *domain;

	mutex_lock(&idev->attach_lock);
	space = idev->space;
	if (!space) {
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
		ioasid_device_detach(idev);
	iommu_device_release_dma_owner(idev->dev);
	iommu_group_put(idev->group);
	if (idev->release)
		idev->release(idev);
	put_device(idev->dev);
	kfree(idev->reserved);
	mutex_destroy(&idev->attach_lock);
}
