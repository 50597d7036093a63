// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device objects: DMA ownership, attaching to an IOASID, and the
 * iommu_domains that make an attachment real.
 *
 * Creating a device object claims the device's DMA ownership for the fd,
 * once the device is known to have an IOMMU, to snoop CPU caches and to
 * have isolated MSIs (or the administrator allowed unsafe interrupts), so
 * nothing else (a VFIO container, iommufd, another ioasid fd) can drive
 * its DMA until the object is destroyed; until attached the device can
 * reach no memory at all.
 *
 * An IOASID keeps one iommu_domain per IOMMU instance it has devices
 * behind: the first device behind an instance creates the domain and the
 * IOASID's mappings are replayed into it before the device is attached;
 * the last device to leave frees it. An instance gets a second domain
 * only when a device cannot use the first: its driver refuses the attach
 * with -EINVAL, or the device must have cache snooping forced (VFIO tells
 * KVM its DMA is coherent) and the first domain does not force it.
 *
 * At attach the group's reserved regions (an MSI window, say) are read
 * and recorded in the IOASID as reserved ranges owned by the device, as
 * the domain's aperture is for the domain; they are dropped again at
 * detach. A device whose reserved
 * regions or aperture would cut into an existing mapping is refused with
 * -ERANGE before anything changes.
 *
 * A hardware-nested IOASID has no mappings of its own: its devices nest,
 * per IOMMU instance, on a nest-parent domain of the parent IOASID (one
 * that holds the parent's mappings like any domain of it), through a
 * nested domain the IOMMU driver builds from the user's table at bind.
 * The driver reads the table's description from user memory only during
 * the bind, so devices attach before it and not while a table is bound.
 *
 * Lock order: ctx->groups_lock alone (under ctx->bind_lock at most);
 * igroup->lock, then space->lock; for a hardware-nested IOASID the
 * parent's space->lock comes before the child's.
 */
#include <linux/iommu.h>
#include <uapi/linux/iommufd.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/pci-ats.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ioasid_private.h"

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Bind devices whose MSIs are not isolated (no interrupt remapping): such a device can raise any host interrupt by DMA. Default: refuse them.");

static bool ioasid_device_has_iommu(struct device *dev)
{
	return dev->iommu && dev->iommu->iommu_dev;
}

static struct iommu_device *ioasid_device_iommu(struct ioasid_device *idev)
{
	return idev->dev->iommu->iommu_dev;
}

/*
 * What the group reserves now, as ranges no mapping may use (kfree() the
 * array), and where its software-managed MSI window starts, if it has one
 * (else 0). A relaxable direct region is only there for a device's boot
 * firmware, which a user-owned device no longer runs: not reserved.
 */
static int ioasid_device_reserved_ranges(struct ioasid_group *igroup,
					 struct ioasid_range **out,
					 phys_addr_t *sw_msi_start)
{
	struct iommu_resv_region *region, *next;
	struct ioasid_range *ranges = NULL;
	LIST_HEAD(regions);
	unsigned int n = 0;
	int ret;

	*sw_msi_start = 0;
	ret = iommu_get_group_resv_regions(igroup->group, &regions);
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
		if (region->type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;
		if (region->type == IOMMU_RESV_SW_MSI && !*sw_msi_start)
			*sw_msi_start = region->start;
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

static const struct iommu_ops *ioasid_device_ops(struct device *dev)
{
	return dev->iommu->iommu_dev->ops;
}

/*
 * A domain allocated with the driver's user-domain hook, which takes
 * flags (IOMMU_HWPT_ALLOC_*) and nests on @parent with @data: the one way
 * the iommu core offers to build either. The caller owns it.
 */
static struct iommu_domain *
ioasid_device_alloc_user_domain(struct device *dev, u32 flags,
				struct iommu_domain *parent,
				const struct iommu_user_data *data)
{
	const struct iommu_ops *ops = ioasid_device_ops(dev);
	struct iommu_domain *domain;

	if (!ops->domain_alloc_user)
		return ERR_PTR(-EOPNOTSUPP);
	domain = ops->domain_alloc_user(dev, flags, parent, data);
	if (IS_ERR(domain))
		return domain;
	/* The hook leaves the core's own field to the caller. */
	domain->owner = ops;
	return domain;
}

static struct ioasid_domain *
ioasid_device_domain_alloc(struct ioasid_device *idev, bool nest_parent)
{
	struct ioasid_domain *domain;

	domain = kzalloc(sizeof(*domain), GFP_KERNEL_ACCOUNT);
	if (!domain)
		return ERR_PTR(-ENOMEM);
	domain->iommu = ioasid_device_iommu(idev);
	domain->nest_parent = nest_parent;
	if (nest_parent)
		domain->iommu_domain =
			ioasid_device_alloc_user_domain(idev->dev,
							IOMMU_HWPT_ALLOC_NEST_PARENT,
							NULL, NULL);
	else
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

/* Free @domain once no device attaches through it. */
static void ioasid_device_put_domain(struct ioasid_space *space,
				     struct ioasid_domain *domain)
{
	lockdep_assert_held(&space->lock);
	if (domain->num_groups)
		return;
	ioasid_iova_remove_domain(&space->iova, domain);
	ioasid_device_domain_free(domain);
}

/*
 * Where the IOMMU translates MSIs (an ARM SMMU, say), the domain needs a
 * cookie so that the MSI layer maps each doorbell into the software MSI
 * window, which the device's reserved ranges keep free of mappings.
 */
static int ioasid_device_setup_msi(struct ioasid_domain *domain,
				   phys_addr_t sw_msi_start)
{
	int ret;

	if (!sw_msi_start)
		return 0;
	ret = iommu_get_msi_cookie(domain->iommu_domain, sw_msi_start);
	/* Another device of the domain set it up already. */
	return ret == -EEXIST ? 0 : ret;
}

/*
 * A new domain for @idev, forcing cache snooping when @idev needs it,
 * filled with every mapping and taken into the IOASID.
 */
static struct ioasid_domain *
ioasid_device_new_domain(struct ioasid_device *idev, struct ioasid_space *space,
			 bool nest_parent)
{
	struct ioasid_domain *domain;
	int ret;

	domain = ioasid_device_domain_alloc(idev, nest_parent);
	if (IS_ERR(domain))
		return domain;
	if (idev->enforce_cc) {
		/* While it is empty: a driver may refuse once PTEs exist. */
		ret = -EINVAL;
		if (!domain->iommu_domain->ops->enforce_cache_coherency ||
		    !domain->iommu_domain->ops->enforce_cache_coherency(domain->iommu_domain))
			goto err_free;
		domain->enforce_cc = true;
	}
	ret = ioasid_iova_add_domain(&space->iova, domain);
	if (ret)
		goto err_free;
	return domain;

err_free:
	ioasid_device_domain_free(domain);
	return ERR_PTR(ret);
}

/*
 * Attach @idev's group through a domain of the IOASID: the first one of
 * its IOMMU instance that takes it, else a new one. A device that must
 * have snooping forced skips domains that do not force it; a driver that
 * finds a domain incompatible with the device (one forcing snooping the
 * device cannot honour, say) answers -EINVAL, and the next is tried.
 */
static struct ioasid_domain *
ioasid_device_attach_domain(struct ioasid_device *idev,
			    struct ioasid_space *space, phys_addr_t sw_msi_start)
{
	struct iommu_device *iommu = ioasid_device_iommu(idev);
	struct ioasid_domain *domain = NULL;
	int ret;

	lockdep_assert_held(&space->lock);
	while ((domain = ioasid_iova_next_domain(&space->iova, iommu,
						 domain))) {
		if ((idev->enforce_cc && !domain->enforce_cc) ||
		    domain->nest_parent)
			continue;
		ret = ioasid_device_setup_msi(domain, sw_msi_start);
		if (!ret)
			ret = iommu_attach_group(domain->iommu_domain,
						 idev->igroup->group);
		if (!ret)
			return domain;
		if (ret != -EINVAL)
			return ERR_PTR(ret);
	}

	domain = ioasid_device_new_domain(idev, space, false);
	if (IS_ERR(domain))
		return domain;
	ret = ioasid_device_setup_msi(domain, sw_msi_start);
	if (!ret)
		ret = iommu_attach_group(domain->iommu_domain,
					 idev->igroup->group);
	if (ret) {
		ioasid_device_put_domain(space, domain);
		return ERR_PTR(ret);
	}
	return domain;
}

/*
 * The parent's nest-parent domain for @idev's IOMMU that @idev can use,
 * or a new one, with one more user.
 */
static struct ioasid_domain *
ioasid_device_nest_parent(struct ioasid_device *idev,
			  struct ioasid_space *parent)
{
	struct iommu_device *iommu = ioasid_device_iommu(idev);
	struct ioasid_domain *domain = NULL;

	lockdep_assert_held(&parent->lock);
	while ((domain = ioasid_iova_next_domain(&parent->iova, iommu,
						 domain)))
		if (domain->nest_parent &&
		    (!idev->enforce_cc || domain->enforce_cc))
			break;
	if (!domain)
		domain = ioasid_device_new_domain(idev, parent, true);
	if (!IS_ERR(domain))
		domain->num_groups++;
	return domain;
}

static struct ioasid_nested *
ioasid_device_find_nested(struct ioasid_space *space,
			  struct iommu_device *iommu)
{
	struct ioasid_nested *nested;

	list_for_each_entry(nested, &space->nested, link)
		if (nested->iommu == iommu)
			return nested;
	return NULL;
}

/*
 * Attach @idev's group to hardware-nested @child: it reaches nothing
 * until a table is bound (the group stays on its blocking domain), but
 * its IOMMU's nest-parent domain is ready in the parent, so the bind
 * only has to build the nested domain over it.
 */
static int ioasid_device_attach_nested(struct ioasid_device *idev,
				       struct ioasid_space *child)
{
	struct ioasid_space *parent = child->parent;
	struct ioasid_group *igroup = idev->igroup;
	struct ioasid_nested *nested;
	int ret = 0;

	lockdep_assert_held(&igroup->lock);
	mutex_lock(&parent->lock);
	mutex_lock_nested(&child->lock, SINGLE_DEPTH_NESTING);
	if (child->bound) {
		ret = -EBUSY;
		goto out_unlock;
	}
	nested = ioasid_device_find_nested(child, ioasid_device_iommu(idev));
	if (nested && idev->enforce_cc && !nested->parent_domain->enforce_cc) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (!nested) {
		struct ioasid_domain *domain;

		nested = kzalloc(sizeof(*nested), GFP_KERNEL_ACCOUNT);
		if (!nested) {
			ret = -ENOMEM;
			goto out_unlock;
		}
		domain = ioasid_device_nest_parent(idev, parent);
		if (IS_ERR(domain)) {
			kfree(nested);
			ret = PTR_ERR(domain);
			goto out_unlock;
		}
		nested->iommu = ioasid_device_iommu(idev);
		nested->parent_domain = domain;
		INIT_LIST_HEAD(&nested->groups);
		list_add_tail(&nested->link, &child->nested);
	}
	list_add_tail(&igroup->nested_link, &nested->groups);
	igroup->nested = nested;
	igroup->dev = get_device(idev->dev);
	igroup->space = child;
out_unlock:
	mutex_unlock(&child->lock);
	mutex_unlock(&parent->lock);
	return ret;
}

/* The last device of @igroup leaves hardware-nested @child. */
static void ioasid_device_detach_nested(struct ioasid_group *igroup,
					struct ioasid_space *child)
{
	struct ioasid_nested *nested = igroup->nested;
	struct ioasid_space *parent = child->parent;

	mutex_lock(&parent->lock);
	mutex_lock_nested(&child->lock, SINGLE_DEPTH_NESTING);
	if (nested->domain)
		iommu_detach_group(nested->domain, igroup->group);
	list_del(&igroup->nested_link);
	if (list_empty(&nested->groups)) {
		if (nested->domain)
			iommu_domain_free(nested->domain);
		nested->parent_domain->num_groups--;
		ioasid_device_put_domain(parent, nested->parent_domain);
		list_del(&nested->link);
		kfree(nested);
	}
	mutex_unlock(&child->lock);
	mutex_unlock(&parent->lock);
	put_device(igroup->dev);
	igroup->dev = NULL;
	igroup->nested = NULL;
}

/* Attach @idev's whole group to @space: the first device of it to come. */
static int ioasid_device_attach_group(struct ioasid_device *idev,
				      struct ioasid_space *space)
{
	struct ioasid_group *igroup = idev->igroup;
	struct ioasid_range *reserved = NULL;
	struct ioasid_domain *domain;
	phys_addr_t sw_msi_start;
	int ret, n;

	lockdep_assert_held(&igroup->lock);
	if (space->nesting == IOASID_NESTING_HARDWARE)
		return ioasid_device_attach_nested(idev, space);
	n = ioasid_device_reserved_ranges(igroup, &reserved, &sw_msi_start);
	if (n < 0)
		return n;

	mutex_lock(&space->lock);
	ret = ioasid_iova_reserve(&space->iova, igroup, reserved, n);
	if (ret)
		goto out_unlock;
	domain = ioasid_device_attach_domain(idev, space, sw_msi_start);
	if (IS_ERR(domain)) {
		ioasid_iova_unreserve(&space->iova, igroup);
		ret = PTR_ERR(domain);
		goto out_unlock;
	}
	domain->num_groups++;
	igroup->space = space;
	igroup->domain = domain;
out_unlock:
	mutex_unlock(&space->lock);
	kfree(reserved);
	return ret;
}

/*
 * Attach @idev to @space. Its group goes with it: a device of a group
 * that is attached already joins that attachment, and only to the same
 * IOASID (EBUSY otherwise), since the IOMMU translates the group's DMA
 * as one.
 */
int ioasid_device_attach(struct ioasid_device *idev, struct ioasid_space *space)
{
	struct ioasid_group *igroup = idev->igroup;
	int ret = 0;

	mutex_lock(&igroup->lock);
	if (idev->attached || (igroup->space && igroup->space != space)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (!igroup->space) {
		ret = ioasid_device_attach_group(idev, space);
		if (ret)
			goto out_unlock;
	}
	/* A device whose IOMMU can force snooping was promised it. */
	if (idev->enforce_cc &&
	    !(igroup->nested ? igroup->nested->parent_domain :
			       igroup->domain)->enforce_cc) {
		ret = -EINVAL;
		goto out_unlock;
	}
	mutex_lock(&space->lock);
	space->num_devices++;
	mutex_unlock(&space->lock);
	ioasid_object_hold(&space->obj);
	igroup->num_attached++;
	idev->attached = true;
out_unlock:
	mutex_unlock(&igroup->lock);
	return ret;
}

static void __ioasid_device_detach(struct ioasid_device *idev)
{
	struct ioasid_group *igroup = idev->igroup;
	struct ioasid_space *space = igroup->space;

	lockdep_assert_held(&igroup->lock);
	if (igroup->nested && igroup->num_attached == 1) {
		ioasid_device_detach_nested(igroup, space);
		igroup->space = NULL;
	}
	mutex_lock(&space->lock);
	space->num_devices--;
	if (!--igroup->num_attached && igroup->domain) {
		struct ioasid_domain *domain = igroup->domain;

		/* Back to the blocking domain: the group reaches nothing. */
		iommu_detach_group(domain->iommu_domain, igroup->group);
		domain->num_groups--;
		ioasid_device_put_domain(space, domain);
		ioasid_iova_unreserve(&space->iova, igroup);
		igroup->space = NULL;
		igroup->domain = NULL;
	}
	idev->attached = false;
	mutex_unlock(&space->lock);

	ioasid_object_put(&space->obj);
}

/* Detach @idev from IOASID @ioasid; ENXIO if it is not attached there. */
int ioasid_device_detach(struct ioasid_device *idev, u32 ioasid)
{
	int ret = -ENXIO;

	mutex_lock(&idev->igroup->lock);
	if (idev->attached && idev->igroup->space->obj.id == ioasid) {
		__ioasid_device_detach(idev);
		ret = 0;
	}
	mutex_unlock(&idev->igroup->lock);
	return ret;
}

/* Detach @idev from whatever it is attached to; ENXIO if nothing. */
int ioasid_device_detach_any(struct ioasid_device *idev)
{
	int ret = -ENXIO;

	mutex_lock(&idev->igroup->lock);
	if (idev->attached) {
		__ioasid_device_detach(idev);
		ret = 0;
	}
	mutex_unlock(&idev->igroup->lock);
	return ret;
}

/* The fd's view of @dev's group, shared by its devices on the fd. */
static struct ioasid_group *ioasid_device_get_group(struct ioasid_ctx *ctx,
						    struct device *dev)
{
	struct iommu_group *group = iommu_group_get(dev);
	struct ioasid_group *igroup;

	mutex_lock(&ctx->groups_lock);
	list_for_each_entry(igroup, &ctx->groups, link) {
		if (igroup->group == group) {
			igroup->users++;
			iommu_group_put(group);
			goto out_unlock;
		}
	}
	igroup = kzalloc(sizeof(*igroup), GFP_KERNEL_ACCOUNT);
	if (!igroup) {
		iommu_group_put(group);
		igroup = ERR_PTR(-ENOMEM);
		goto out_unlock;
	}
	igroup->group = group;
	igroup->users = 1;
	mutex_init(&igroup->lock);
	list_add(&igroup->link, &ctx->groups);
out_unlock:
	mutex_unlock(&ctx->groups_lock);
	return igroup;
}

/* Whether the fd owns the DMA of @dev's IOMMU group through some device. */
bool ioasid_device_group_owned(struct ioasid_ctx *ctx, struct device *dev)
{
	struct iommu_group *group = iommu_group_get(dev);
	struct ioasid_group *igroup;
	bool owned = false;

	if (!group)
		return false;
	mutex_lock(&ctx->groups_lock);
	list_for_each_entry(igroup, &ctx->groups, link) {
		if (igroup->group == group) {
			owned = true;
			break;
		}
	}
	mutex_unlock(&ctx->groups_lock);
	iommu_group_put(group);
	return owned;
}

static void ioasid_device_put_group(struct ioasid_ctx *ctx,
				    struct ioasid_group *igroup)
{
	mutex_lock(&ctx->groups_lock);
	if (--igroup->users) {
		mutex_unlock(&ctx->groups_lock);
		return;
	}
	list_del(&igroup->link);
	mutex_unlock(&ctx->groups_lock);
	WARN_ON(igroup->space);
	mutex_destroy(&igroup->lock);
	iommu_group_put(igroup->group);
	kfree(igroup);
}

/*
 * A device object for @dev in @ctx's table, reserved but not published:
 * the caller publishes it, or undoes it with
 * ioasid_object_abort_and_destroy().
 */
struct ioasid_device *ioasid_device_create(struct ioasid_ctx *ctx,
					   struct device *dev)
{
	struct ioasid_group *igroup;
	struct ioasid_device *idev;
	int ret;

	/*
	 * An emulated device (an mdev, say) has a group VFIO made up but no
	 * IOMMU: there is no DMA ownership to claim, and it would DMA
	 * through an in-kernel access API we do not offer yet.
	 */
	if (!dev->iommu_group || !ioasid_device_has_iommu(dev))
		return ERR_PTR(-ENODEV);

	/* VFIO refuses such devices too; the mappings assume snooping. */
	if (!device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY))
		return ERR_PTR(-EINVAL);

	/*
	 * Without interrupt remapping (or an equivalent), a device the user
	 * drives can DMA-write an MSI message and raise any host interrupt:
	 * only an administrator can accept that.
	 */
	if (!iommu_group_has_isolated_msi(dev->iommu_group)) {
		if (!allow_unsafe_interrupts)
			return ERR_PTR(-EPERM);
		dev_warn(dev,
			 "bound with MSIs not isolated (ioasid.allow_unsafe_interrupts)\n");
	}

	/*
	 * Exclusive: a VFIO container, iommufd or another ioasid fd that owns
	 * the device's DMA makes this fail, which the core reports as EPERM;
	 * to the caller the device is simply busy.
	 */
	ret = iommu_device_claim_dma_owner(dev, ctx);
	if (ret)
		return ERR_PTR(ret == -EPERM ? -EBUSY : ret);

	igroup = ioasid_device_get_group(ctx, dev);
	if (IS_ERR(igroup)) {
		ret = PTR_ERR(igroup);
		goto err_release;
	}
	idev = ioasid_object_alloc(ctx, struct ioasid_device,
				   IOASID_OBJ_DEVICE);
	if (IS_ERR(idev)) {
		ret = PTR_ERR(idev);
		goto err_put_group;
	}
	idev->ctx = ctx;
	idev->enforce_cc = device_iommu_capable(dev,
						IOMMU_CAP_ENFORCE_CACHE_COHERENCY);
	idev->dev = get_device(dev);
	idev->igroup = igroup;
	return idev;

err_put_group:
	ioasid_device_put_group(ctx, igroup);
err_release:
	iommu_device_release_dma_owner(dev);
	return ERR_PTR(ret);
}

void ioasid_device_destroy(struct ioasid_object *obj)
{
	struct ioasid_device *idev =
		container_of(obj, struct ioasid_device, obj);

	ioasid_device_detach_any(idev);
	ioasid_device_put_group(idev->ctx, idev->igroup);
	iommu_device_release_dma_owner(idev->dev);
	if (idev->release)
		idev->release(idev);
	put_device(idev->dev);
}

/*
 * Bind the user's table described by @data: a nested domain per IOMMU
 * instance of hardware-nested @space, and every attached group on it.
 * All or nothing.
 */
int ioasid_device_bind_nested(struct ioasid_space *space,
			      const struct iommu_user_data *data)
{
	struct ioasid_nested *nested;
	struct ioasid_group *igroup;
	int ret;

	lockdep_assert_held(&space->lock);
	if (space->bound)
		return -EEXIST;
	if (list_empty(&space->nested))
		return -ENODEV;

	list_for_each_entry(nested, &space->nested, link) {
		struct ioasid_group *first =
			list_first_entry(&nested->groups, struct ioasid_group,
					 nested_link);
		struct iommu_domain *parent = nested->parent_domain->iommu_domain;
		struct iommu_domain *domain;

		domain = ioasid_device_alloc_user_domain(first->dev, 0, parent,
							 data);
		if (IS_ERR(domain)) {
			ret = PTR_ERR(domain);
			goto err_unbind;
		}
		nested->domain = domain;
		list_for_each_entry(igroup, &nested->groups, nested_link) {
			ret = iommu_attach_group(domain, igroup->group);
			if (ret)
				goto err_detach;
		}
	}
	space->bound = true;
	return 0;

err_detach:
	list_for_each_entry_continue_reverse(igroup, &nested->groups,
					     nested_link)
		iommu_detach_group(nested->domain, igroup->group);
	iommu_domain_free(nested->domain);
	nested->domain = NULL;
err_unbind:
	list_for_each_entry_continue_reverse(nested, &space->nested, link) {
		list_for_each_entry(igroup, &nested->groups, nested_link)
			iommu_detach_group(nested->domain, igroup->group);
		iommu_domain_free(nested->domain);
		nested->domain = NULL;
	}
	return ret;
}

/* Every group back on its blocking domain, every nested domain gone. */
void ioasid_device_unbind_nested(struct ioasid_space *space)
{
	struct ioasid_nested *nested;
	struct ioasid_group *igroup;

	lockdep_assert_held(&space->lock);
	list_for_each_entry(nested, &space->nested, link) {
		if (!nested->domain)
			continue;
		list_for_each_entry(igroup, &nested->groups, nested_link)
			iommu_detach_group(nested->domain, igroup->group);
		iommu_domain_free(nested->domain);
		nested->domain = NULL;
	}
	space->bound = false;
}

/*
 * Hand @array to every nested domain of @space, in turn. Each driver
 * stops at the first entry it refuses and says how far it got: the
 * entries every one of them did are the ones done.
 */
int ioasid_device_invalidate_nested(struct ioasid_space *space,
				    struct iommu_user_data_array *array)
{
	u32 num = array->entry_num, done = num;
	struct ioasid_nested *nested;
	int ret = 0;

	lockdep_assert_held(&space->lock);
	list_for_each_entry(nested, &space->nested, link) {
		struct iommu_domain *domain = nested->domain;
		int err;

		if (!domain)
			continue;
		array->entry_num = num;
		err = domain->ops->cache_invalidate_user ?
		      domain->ops->cache_invalidate_user(domain, array) :
		      -EOPNOTSUPP;
		if (err) {
			done = min(done, array->entry_num);
			ret = ret ?: err;
		}
	}
	array->entry_num = done;
	return ret;
}

/*
 * The first-stage formats @dev's IOMMU nests, by asking its driver: it
 * must allocate a nest parent, and then turn down empty bind data of the
 * format as malformed, not as unknown (-EOPNOTSUPP).
 */
static u32 ioasid_device_pgtable_formats(struct device *dev)
{
	struct iommu_user_data probe = { .type = IOMMU_HWPT_DATA_VTD_S1 };
	struct iommu_domain *parent, *nested;
	u32 formats = 0;

	parent = ioasid_device_alloc_user_domain(dev,
						 IOMMU_HWPT_ALLOC_NEST_PARENT,
						 NULL, NULL);
	if (IS_ERR(parent))
		return 0;
	nested = ioasid_device_alloc_user_domain(dev, 0, parent, &probe);
	if (!IS_ERR(nested))
		iommu_domain_free(nested);
	if (PTR_ERR_OR_ZERO(nested) != -EOPNOTSUPP)
		formats |= 1 << IOASID_PGTABLE_VTD_S1;
	iommu_domain_free(parent);
	return formats;
}

/* Which IOMMU, in the iommu core's terms, where the driver says. */
static u32 ioasid_device_hw_info_type(struct device *dev)
{
	const struct iommu_ops *ops = ioasid_device_ops(dev);
	u32 type = IOMMU_HW_INFO_TYPE_NONE, len;
	void *data;

	if (!ops->hw_info)
		return type;
	data = ops->hw_info(dev, &len, &type);
	if (IS_ERR(data))
		return IOMMU_HW_INFO_TYPE_NONE;
	kfree(data);
	return type;
}

int ioasid_device_get_info_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_device_get_info *cmd = ucmd->cmd;
	struct ioasid_object *obj;
	struct ioasid_device *idev;
	struct device *dev;
	u64 caps = 0;

	obj = ioasid_object_get(ucmd->ctx, cmd->dev_id, IOASID_OBJ_DEVICE);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	idev = container_of(obj, struct ioasid_device, obj);
	dev = idev->dev;

	cmd->out_hw_info_type = ioasid_device_hw_info_type(dev);
	cmd->out_pgtable_formats = ioasid_device_pgtable_formats(dev);
	if (cmd->out_pgtable_formats)
		caps |= IOASID_DEVICE_CAP_NESTING_HARDWARE;
	if (device_iommu_capable(dev, IOMMU_CAP_DIRTY_TRACKING))
		caps |= IOASID_DEVICE_CAP_DIRTY_TRACKING;
	if (dev_is_pci(dev) && pci_pri_supported(to_pci_dev(dev)))
		caps |= IOASID_DEVICE_CAP_PAGE_REQUESTS;
	if (idev->enforce_cc)
		caps |= IOASID_DEVICE_CAP_ENFORCE_COHERENCY;
	cmd->out_capabilities = caps;
	cmd->out_pasid_bits = dev->iommu->max_pasids ?
			      ilog2(dev->iommu->max_pasids) : 0;
	ioasid_object_put(obj);
	return ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}
