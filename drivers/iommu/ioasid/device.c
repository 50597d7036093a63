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
 * What attaches is a group's DMA without a PASID (its requester ID's), or
 * the DMA it tags with one PASID: an attachment each (struct
 * ioasid_attach), made by the group's first device to ask and shared by
 * the others, each on a domain of its own IOASID. The PASID is the one the
 * device puts on the wire, so each device has a PASID space of its own.
 *
 * A hardware-nested IOASID has no mappings of its own: its attachments
 * nest, per IOMMU instance, on a nest-parent domain of the parent IOASID
 * (one that holds the parent's mappings like any domain of it), through
 * a nested domain the IOMMU driver builds from the user's table at bind.
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
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "../iommu-priv.h"
#include "ioasid_private.h"
#ifdef CONFIG_IOASID_TEST
#include "ioasid_test.h"
#endif

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

/* See ioasid_device_label(). */
static u64 ioasid_device_fault_label(struct ioasid_device *idev)
{
	return idev->external ? idev->label : idev->obj.id;
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
	/* The hook leaves the core's own fields to the caller. */
	domain->owner = ops;
	domain->iopf_handler = ioasid_fault_iopf_handler;
	return domain;
}

/*
 * A paging domain for @idev, or one to nest on: one whose IOMMU records
 * the pages DMA writes where it can, so that dirty tracking, whenever it
 * starts, is exact for it; a plain one where the driver cannot give that.
 */
static struct iommu_domain *
ioasid_device_paging_alloc(struct ioasid_device *idev, bool nest_parent)
{
	u32 flags = nest_parent ? IOMMU_HWPT_ALLOC_NEST_PARENT : 0;
	struct iommu_domain *domain;

	if (device_iommu_capable(idev->dev, IOMMU_CAP_DIRTY_TRACKING)) {
		domain = ioasid_device_alloc_user_domain(idev->dev, flags |
					IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
					NULL, NULL);
		if (!IS_ERR(domain) || PTR_ERR(domain) != -EOPNOTSUPP)
			return domain;
	}
	if (flags)
		return ioasid_device_alloc_user_domain(idev->dev, flags, NULL,
						       NULL);
	return iommu_paging_domain_alloc(idev->dev);
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
	domain->iommu_domain = ioasid_device_paging_alloc(idev, nest_parent);
	if (IS_ERR(domain->iommu_domain)) {
		int ret = PTR_ERR(domain->iommu_domain);

		kfree(domain);
		return ERR_PTR(ret);
	}
	domain->iommu_domain->iopf_handler = ioasid_fault_iopf_handler;
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
 * Make @domain translate @attach's DMA: its group's, or one PASID's,
 * under the attachment's handle, where the iommu core finds the handler
 * of the page requests the DMA raises.
 */
static int ioasid_attach_set(struct ioasid_attach *attach,
			     struct iommu_domain *domain)
{
	if (attach->pasid == IOMMU_NO_PASID)
		return iommu_attach_group_handle(domain, attach->igroup->group,
						 &attach->handle);
	return iommu_attach_device_pasid(domain, attach->dev, attach->pasid,
					 &attach->handle);
}

/*
 * Back to blocking: @attach's DMA reaches nothing, raises no page request,
 * and none it raised before waits any longer.
 */
static void ioasid_attach_clear(struct ioasid_attach *attach,
				struct iommu_domain *domain)
{
	if (attach->pasid == IOMMU_NO_PASID)
		iommu_detach_group_handle(domain, attach->igroup->group);
	else
		iommu_detach_device_pasid(domain, attach->dev, attach->pasid);
	ioasid_fault_abort_attach(attach);
}

/*
 * Attach @attach through a domain of the IOASID: the first one of its
 * IOMMU instance that takes it, else a new one. A device that must have
 * snooping forced skips domains that do not force it; a driver that
 * finds a domain incompatible with the device (one forcing snooping the
 * device cannot honour, say) answers -EINVAL, and the next is tried.
 */
static struct ioasid_domain *
ioasid_device_attach_domain(struct ioasid_device *idev,
			    struct ioasid_attach *attach,
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
			ret = ioasid_attach_set(attach, domain->iommu_domain);
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
		ret = ioasid_attach_set(attach, domain->iommu_domain);
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
 * Attach @attach to hardware-nested @child: it reaches nothing until a
 * table is bound (it stays blocked), but its IOMMU's nest-parent domain
 * is ready in the parent, so the bind only has to build the nested
 * domain over it.
 */
static int ioasid_device_attach_nested(struct ioasid_device *idev,
				       struct ioasid_attach *attach,
				       struct ioasid_space *child)
{
	struct ioasid_space *parent = child->parent;
	struct ioasid_nested *nested;
	int ret = 0;

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
		INIT_LIST_HEAD(&nested->attaches);
		list_add_tail(&nested->link, &child->nested);
	}
	list_add_tail(&attach->nested_link, &nested->attaches);
	attach->nested = nested;
out_unlock:
	mutex_unlock(&child->lock);
	mutex_unlock(&parent->lock);
	return ret;
}

/* The last device of @attach leaves hardware-nested @child. */
static void ioasid_device_detach_nested(struct ioasid_attach *attach,
					struct ioasid_space *child)
{
	struct ioasid_nested *nested = attach->nested;
	struct ioasid_space *parent = child->parent;

	mutex_lock(&parent->lock);
	mutex_lock_nested(&child->lock, SINGLE_DEPTH_NESTING);
	if (nested->domain)
		ioasid_attach_clear(attach, nested->domain);
	list_del(&attach->nested_link);
	if (list_empty(&nested->attaches)) {
		if (nested->domain)
			iommu_domain_free(nested->domain);
		nested->parent_domain->num_groups--;
		ioasid_device_put_domain(parent, nested->parent_domain);
		list_del(&nested->link);
		kfree(nested);
	}
	mutex_unlock(&child->lock);
	mutex_unlock(&parent->lock);
	attach->nested = NULL;
}

/*
 * Make @attach, the group's RID or one PASID, an attachment of @space:
 * the first device of the group to ask for it does this.
 */
static int ioasid_device_attach_first(struct ioasid_device *idev,
				      struct ioasid_attach *attach,
				      struct ioasid_space *space)
{
	struct ioasid_group *igroup = idev->igroup;
	struct ioasid_range *reserved = NULL;
	struct ioasid_domain *domain;
	phys_addr_t sw_msi_start;
	int ret, n;

	lockdep_assert_held(&igroup->lock);
	attach->dev = get_device(idev->dev);
	/* Looked up once here, not for every page request it raises. */
	attach->dev_label = ioasid_device_fault_label(idev);
	if (space->nesting == IOASID_NESTING_HARDWARE) {
		ret = ioasid_device_attach_nested(idev, attach, space);
		goto out_done;
	}
	n = ioasid_device_reserved_ranges(igroup, &reserved, &sw_msi_start);
	if (n < 0) {
		ret = n;
		goto out_done;
	}

	mutex_lock(&space->lock);
	ret = ioasid_iova_reserve(&space->iova, attach, reserved, n);
	if (ret)
		goto out_unlock;
	domain = ioasid_device_attach_domain(idev, attach, space,
					     sw_msi_start);
	if (IS_ERR(domain)) {
		ioasid_iova_unreserve(&space->iova, attach);
		ret = PTR_ERR(domain);
		goto out_unlock;
	}
	domain->num_groups++;
	attach->domain = domain;
out_unlock:
	mutex_unlock(&space->lock);
	kfree(reserved);
out_done:
	if (ret) {
		put_device(attach->dev);
		attach->dev = NULL;
		return ret;
	}
	attach->space = space;
	return 0;
}

/* The last device of the group leaves @attach. */
static void ioasid_device_detach_last(struct ioasid_attach *attach)
{
	struct ioasid_space *space = attach->space;

	if (attach->nested) {
		ioasid_device_detach_nested(attach, space);
	} else {
		struct ioasid_domain *domain = attach->domain;

		mutex_lock(&space->lock);
		ioasid_attach_clear(attach, domain->iommu_domain);
		domain->num_groups--;
		ioasid_device_put_domain(space, domain);
		ioasid_iova_unreserve(&space->iova, attach);
		mutex_unlock(&space->lock);
		attach->domain = NULL;
	}
	put_device(attach->dev);
	attach->dev = NULL;
	attach->space = NULL;
}

/*
 * Whether @idev may tag DMA with @pasid: EOPNOTSUPP if it or its IOMMU
 * cannot tag DMA at all, EINVAL past the PASIDs it has.
 */
static int ioasid_device_check_pasid(struct ioasid_device *idev, u32 pasid)
{
	u32 max = idev->dev->iommu->max_pasids;

	if (!max)
		return -EOPNOTSUPP;
	return pasid < max ? 0 : -EINVAL;
}

/* The group's attachment for @pasid, made empty if it has none; locked. */
static struct ioasid_attach *ioasid_device_group_attach(struct ioasid_group *igroup,
							u32 pasid)
{
	struct ioasid_attach *attach;

	lockdep_assert_held(&igroup->lock);
	if (pasid == IOMMU_NO_PASID)
		return &igroup->rid;
	attach = xa_load(&igroup->pasids, pasid);
	if (attach)
		return attach;
	attach = kzalloc(sizeof(*attach), GFP_KERNEL_ACCOUNT);
	if (!attach)
		return ERR_PTR(-ENOMEM);
	attach->igroup = igroup;
	attach->pasid = pasid;
	if (xa_err(xa_store(&igroup->pasids, pasid, attach,
			    GFP_KERNEL_ACCOUNT))) {
		kfree(attach);
		return ERR_PTR(-ENOMEM);
	}
	return attach;
}

/* Drop @attach if no device uses it; the RID's is the group's own. */
static void ioasid_device_group_put_attach(struct ioasid_attach *attach)
{
	if (attach->users || attach->pasid == IOMMU_NO_PASID)
		return;
	xa_erase(&attach->igroup->pasids, attach->pasid);
	kfree(attach);
}

/*
 * Attach @idev to @space: its DMA without a PASID, or with @pasid. Its
 * group goes with it: a device of a group that is attached already joins
 * that attachment, and only to the same IOASID (EBUSY otherwise), since
 * the IOMMU translates the group's DMA as one.
 */
int ioasid_device_attach(struct ioasid_device *idev, struct ioasid_space *space,
			 u32 pasid)
{
	struct ioasid_group *igroup = idev->igroup;
	struct ioasid_attach *attach;
	int ret;

	if (pasid != IOMMU_NO_PASID) {
		ret = ioasid_device_check_pasid(idev, pasid);
		if (ret)
			return ret;
	}

	mutex_lock(&igroup->lock);
	if (pasid == IOMMU_NO_PASID ? idev->attached :
				      !!xa_load(&idev->pasids, pasid)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	attach = ioasid_device_group_attach(igroup, pasid);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto out_unlock;
	}
	if (attach->space && attach->space != space) {
		ret = -EBUSY;
		goto out_put;
	}
	/* A device whose IOMMU can force snooping was promised it. */
	if (attach->space && idev->enforce_cc &&
	    !(attach->nested ? attach->nested->parent_domain :
			       attach->domain)->enforce_cc) {
		ret = -EINVAL;
		goto out_put;
	}
	if (pasid != IOMMU_NO_PASID) {
		ret = xa_err(xa_store(&idev->pasids, pasid,
				      xa_mk_value(space->obj.id),
				      GFP_KERNEL_ACCOUNT));
		if (ret)
			goto out_put;
	}
	if (!attach->space) {
		ret = ioasid_device_attach_first(idev, attach, space);
		if (ret) {
			if (pasid != IOMMU_NO_PASID)
				xa_erase(&idev->pasids, pasid);
			goto out_put;
		}
	}
	mutex_lock(&space->lock);
	space->num_devices++;
	mutex_unlock(&space->lock);
	ioasid_object_hold(&space->obj);
	attach->users++;
	if (pasid == IOMMU_NO_PASID)
		idev->attached = true;
out_put:
	ioasid_device_group_put_attach(attach);
out_unlock:
	mutex_unlock(&igroup->lock);
	return ret;
}

static bool ioasid_device_uses(struct ioasid_device *idev,
			       struct ioasid_attach *attach)
{
	if (attach->pasid == IOMMU_NO_PASID)
		return idev->attached;
	return xa_load(&idev->pasids, attach->pasid);
}

/*
 * @leaving is done with @attach, which other devices of its group still
 * use: the iommu core hears of the attachment through one of those from
 * now on, as @leaving may leave the group itself next (hot-unplug).
 */
static void ioasid_attach_hand_over(struct ioasid_attach *attach,
				    struct ioasid_device *leaving)
{
	struct ioasid_device *idev;

	lockdep_assert_held(&attach->igroup->lock);
	list_for_each_entry(idev, &attach->igroup->devices, group_link) {
		if (idev == leaving || !ioasid_device_uses(idev, attach))
			continue;
		put_device(attach->dev);
		attach->dev = get_device(idev->dev);
		attach->dev_label = ioasid_device_fault_label(idev);
		return;
	}
	/* Every user counted is a device of the group. */
	WARN_ON_ONCE(1);
}

static void __ioasid_device_detach(struct ioasid_device *idev,
				   struct ioasid_attach *attach)
{
	struct ioasid_space *space = attach->space;

	lockdep_assert_held(&idev->igroup->lock);
	if (attach->pasid == IOMMU_NO_PASID)
		idev->attached = false;
	else
		xa_erase(&idev->pasids, attach->pasid);
	if (!--attach->users)
		ioasid_device_detach_last(attach);
	else if (attach->dev == idev->dev)
		ioasid_attach_hand_over(attach, idev);
	ioasid_device_group_put_attach(attach);

	mutex_lock(&space->lock);
	space->num_devices--;
	mutex_unlock(&space->lock);
	ioasid_object_put(&space->obj);
}

/*
 * Detach @idev's DMA without a PASID, or with @pasid, from IOASID
 * @ioasid; ENXIO if it is not attached there.
 */
int ioasid_device_detach(struct ioasid_device *idev, u32 ioasid, u32 pasid)
{
	struct ioasid_group *igroup = idev->igroup;
	int ret = -ENXIO;

	mutex_lock(&igroup->lock);
	if (pasid == IOMMU_NO_PASID) {
		if (idev->attached && igroup->rid.space->obj.id == ioasid) {
			__ioasid_device_detach(idev, &igroup->rid);
			ret = 0;
		}
	} else if (xa_to_value(xa_load(&idev->pasids, pasid)) == ioasid) {
		__ioasid_device_detach(idev, xa_load(&igroup->pasids, pasid));
		ret = 0;
	}
	mutex_unlock(&igroup->lock);
	return ret;
}

/* Detach everything @idev attached; ENXIO if nothing. */
int ioasid_device_detach_any(struct ioasid_device *idev)
{
	struct ioasid_group *igroup = idev->igroup;
	unsigned long pasid;
	int ret = -ENXIO;
	void *entry;

	mutex_lock(&igroup->lock);
	if (idev->attached) {
		__ioasid_device_detach(idev, &igroup->rid);
		ret = 0;
	}
	xa_for_each(&idev->pasids, pasid, entry) {
		__ioasid_device_detach(idev, xa_load(&igroup->pasids, pasid));
		ret = 0;
	}
	mutex_unlock(&igroup->lock);
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
	igroup->rid.igroup = igroup;
	igroup->rid.pasid = IOMMU_NO_PASID;
	xa_init(&igroup->pasids);
	INIT_LIST_HEAD(&igroup->devices);
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
	WARN_ON(igroup->rid.space || !xa_empty(&igroup->pasids) ||
		!list_empty(&igroup->devices));
	xa_destroy(&igroup->pasids);
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
	mutex_lock(&igroup->lock);
	list_add_tail(&idev->group_link, &igroup->devices);
	mutex_unlock(&igroup->lock);
	xa_init(&idev->pasids);
	/* Only a device that can ask for pages gets it; others fail it. */
	idev->iopf = !iommu_dev_enable_feature(dev, IOMMU_DEV_FEAT_IOPF);
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
	mutex_lock(&idev->igroup->lock);
	list_del(&idev->group_link);
	mutex_unlock(&idev->igroup->lock);
	xa_destroy(&idev->pasids);
	/* Detached: no page request of it waits in a ring any more. */
	if (idev->iopf)
		iommu_dev_disable_feature(idev->dev, IOMMU_DEV_FEAT_IOPF);
	ioasid_device_put_group(idev->ctx, idev->igroup);
	iommu_device_release_dma_owner(idev->dev);
	if (idev->release)
		idev->release(idev);
	put_device(idev->dev);
}

static bool ioasid_device_is(struct ioasid_object *obj, const void *dev)
{
	return container_of(obj, struct ioasid_device, obj)->dev == dev;
}

/*
 * The id of @dev's device object on the fd, or 0; under the object
 * table's lock only, so any caller may ask.
 */
u32 ioasid_device_find_id(struct ioasid_ctx *ctx, struct device *dev)
{
	return ioasid_object_find(ctx, IOASID_OBJ_DEVICE, ioasid_device_is, dev);
}

/*
 * What a fault record calls @dev: the label its driver bound it with, or
 * its id on the fd for a device bound otherwise (a test's mock device).
 */
u64 ioasid_device_label(struct ioasid_ctx *ctx, struct device *dev)
{
	struct ioasid_device *idev;
	struct ioasid_object *obj;
	u64 label;
	u32 id;

	id = ioasid_device_find_id(ctx, dev);
	obj = ioasid_object_get(ctx, id, IOASID_OBJ_DEVICE);
	if (IS_ERR(obj))
		return id;
	idev = container_of(obj, struct ioasid_device, obj);
	label = ioasid_device_fault_label(idev);
	ioasid_object_put(obj);
	return label;
}

/*
 * Take @nested's domain off its attachments (those before @stop, where a
 * bind failed; NULL for all of them) and free it.
 */
static void ioasid_nested_unbind(struct ioasid_nested *nested,
				 struct ioasid_attach *stop)
{
	struct ioasid_attach *attach;

	list_for_each_entry(attach, &nested->attaches, nested_link) {
		if (attach == stop)
			break;
		ioasid_attach_clear(attach, nested->domain);
	}
	iommu_domain_free(nested->domain);
	nested->domain = NULL;
}

/*
 * Bind the user's table of @format described by @data: a nested domain
 * per IOMMU instance of hardware-nested @space, and every attachment on
 * it. All or nothing.
 */
int ioasid_device_bind_nested(struct ioasid_space *space,
			      const struct ioasid_table_format *format,
			      const struct iommu_user_data *data)
{
	struct ioasid_nested *nested;
	struct ioasid_attach *attach;
	int ret;

	lockdep_assert_held(&space->lock);
	if (space->bound)
		return -EEXIST;
	if (list_empty(&space->nested))
		return -ENODEV;

	list_for_each_entry(nested, &space->nested, link) {
		struct ioasid_attach *first =
			list_first_entry(&nested->attaches,
					 struct ioasid_attach, nested_link);
		struct iommu_domain *parent = nested->parent_domain->iommu_domain;
		struct iommu_domain *domain;

		domain = ioasid_device_alloc_user_domain(first->dev, 0, parent,
							 data);
		if (IS_ERR(domain)) {
			ret = PTR_ERR(domain);
			goto err_unbind;
		}
		nested->domain = domain;
		list_for_each_entry(attach, &nested->attaches, nested_link) {
			/* The table says what each PASID reaches. */
			ret = format->pasid_table &&
			      attach->pasid != IOMMU_NO_PASID ? -EINVAL :
			      ioasid_attach_set(attach, domain);
			if (ret)
				goto err_detach;
		}
	}
	space->bound = format;
	return 0;

err_detach:
	ioasid_nested_unbind(nested, attach);
err_unbind:
	list_for_each_entry_continue_reverse(nested, &space->nested, link)
		ioasid_nested_unbind(nested, NULL);
	return ret;
}

/* Every attachment back to blocking, every nested domain gone. */
void ioasid_device_unbind_nested(struct ioasid_space *space)
{
	struct ioasid_nested *nested;

	lockdep_assert_held(&space->lock);
	list_for_each_entry(nested, &space->nested, link)
		if (nested->domain)
			ioasid_nested_unbind(nested, NULL);
	space->bound = NULL;
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

static const struct ioasid_table_format ioasid_table_formats[] = {
	{
		.format = IOASID_PGTABLE_VTD_S1,
		.data_type = IOMMU_HWPT_DATA_VTD_S1,
		.invalidate_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
	},
#ifdef CONFIG_IOASID_TEST
	{
		.format = IOASID_PGTABLE_MOCK_PASID_TABLE,
		.pasid_table = true,
		.data_type = IOASID_MOCK_HWPT_DATA_PASID_TABLE,
		.invalidate_type = IOASID_MOCK_HWPT_INVALIDATE_PASID_TABLE,
	},
#endif
};

/* What the drivers call @format, or NULL if this kernel knows none. */
const struct ioasid_table_format *ioasid_table_format_get(u32 format)
{
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(ioasid_table_formats); i++)
		if (ioasid_table_formats[i].format == format)
			return &ioasid_table_formats[i];
	return NULL;
}

/*
 * The table formats @dev's IOMMU nests, by asking its driver: it must
 * allocate a nest parent, and then turn down empty bind data of a format
 * as malformed, not as unknown (-EOPNOTSUPP).
 */
static u32 ioasid_device_pgtable_formats(struct device *dev)
{
	struct iommu_domain *parent, *nested;
	u32 formats = 0;
	unsigned int i;

	parent = ioasid_device_alloc_user_domain(dev,
						 IOMMU_HWPT_ALLOC_NEST_PARENT,
						 NULL, NULL);
	if (IS_ERR(parent))
		return 0;
	for (i = 0; i != ARRAY_SIZE(ioasid_table_formats); i++) {
		struct iommu_user_data probe = {
			.type = ioasid_table_formats[i].data_type,
		};

		nested = ioasid_device_alloc_user_domain(dev, 0, parent, &probe);
		if (!IS_ERR(nested))
			iommu_domain_free(nested);
		if (PTR_ERR_OR_ZERO(nested) != -EOPNOTSUPP)
			formats |= BIT(ioasid_table_formats[i].format);
	}
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
	if (idev->iopf)
		caps |= IOASID_DEVICE_CAP_PAGE_REQUESTS;
	if (idev->enforce_cc)
		caps |= IOASID_DEVICE_CAP_ENFORCE_COHERENCY;
	cmd->out_capabilities = caps;
	cmd->out_pasid_bits = dev->iommu->max_pasids ?
			      ilog2(dev->iommu->max_pasids) : 0;
	ioasid_object_put(obj);
	return ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}
