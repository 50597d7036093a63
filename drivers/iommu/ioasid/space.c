// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOASID objects: one I/O address space each.
 *
 * An IOASID is what userspace allocates, attaches devices to and maps
 * memory into. This file owns its lifetime and what it reports about
 * itself: the alignment mappings need and the IOVA ranges that are usable,
 * both derived from the domains and devices attached right now. The
 * mappings (iova.c) and the domains and devices (device.c) hang off
 * struct ioasid_space.
 *
 * Lock order: space->lock, then what iova.c and pinned.c take under it.
 */
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <uapi/linux/ioasid.h>

#include "ioasid_private.h"

struct ioasid_space *ioasid_space_get(struct ioasid_ctx *ctx, u32 id)
{
	struct ioasid_object *obj;

	obj = ioasid_object_get(ctx, id, IOASID_OBJ_SPACE);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct ioasid_space, obj);
}

void ioasid_space_put(struct ioasid_space *space)
{
	ioasid_object_put(&space->obj);
}

int ioasid_space_alloc_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_alloc *cmd = ucmd->cmd;
	struct ioasid_space *space;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	space = ioasid_object_alloc(ucmd->ctx, struct ioasid_space,
				    IOASID_OBJ_SPACE);
	if (IS_ERR(space))
		return PTR_ERR(space);
	space->ctx = ucmd->ctx;
	mutex_init(&space->lock);
	space->areas = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&space->domains);

	cmd->out_ioasid = space->obj.id;
	ret = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		/* The caller never learnt the id: leave nothing behind. */
		mutex_destroy(&space->lock);
		ioasid_object_abort(ucmd->ctx, &space->obj);
		return ret;
	}
	ioasid_object_publish(ucmd->ctx, &space->obj);
	return 0;
}

void ioasid_space_destroy(struct ioasid_object *obj)
{
	struct ioasid_space *space =
		container_of(obj, struct ioasid_space, obj);

	/* Attached devices hold a reference, so none is left by now. */
	WARN_ON(!list_empty(&space->domains));
	ioasid_space_unmap_all(space);
	mutex_destroy(&space->lock);
}

int ioasid_space_free_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_free *cmd = ucmd->cmd;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	return ioasid_object_destroy_user(ucmd->ctx, cmd->ioasid,
					  IOASID_OBJ_SPACE);
}

/*
 * Every IOVA, address and length must be aligned to this: the CPU page,
 * or the smallest IOMMU page of a domain whose pages are larger.
 */
unsigned long ioasid_space_alignment(struct ioasid_space *space)
{
	unsigned long align = PAGE_SIZE;
	struct ioasid_domain *domain;

	lockdep_assert_held(&space->lock);
	list_for_each_entry(domain, &space->domains, link)
		align = max(align, 1UL << __ffs(domain->domain->pgsize_bitmap));
	return align;
}

/* The page sizes every domain supports, at or above the alignment. */
static u64 ioasid_space_pgsize_bitmap(struct ioasid_space *space)
{
	unsigned long align = ioasid_space_alignment(space);
	unsigned long sizes = ULONG_MAX;
	struct ioasid_domain *domain;

	list_for_each_entry(domain, &space->domains, link)
		sizes &= domain->domain->pgsize_bitmap;
	return (sizes & ~(align - 1)) | align;
}

/* The IOVA window every domain's aperture allows. */
static void ioasid_space_aperture(struct ioasid_space *space, u64 *start,
				  u64 *last)
{
	struct ioasid_domain *domain;

	*start = 0;
	*last = U64_MAX;
	list_for_each_entry(domain, &space->domains, link) {
		struct iommu_domain_geometry *geo = &domain->domain->geometry;

		if (!geo->force_aperture)
			continue;
		*start = max_t(u64, *start, geo->aperture_start);
		*last = min_t(u64, *last, geo->aperture_end);
	}
}

bool ioasid_space_iova_usable(struct ioasid_space *space, unsigned long start,
			      unsigned long last)
{
	struct ioasid_domain *domain;
	struct ioasid_device *idev;
	u64 ap_start, ap_last;
	unsigned int i;

	lockdep_assert_held(&space->lock);
	ioasid_space_aperture(space, &ap_start, &ap_last);
	if (start < ap_start || last > ap_last)
		return false;
	list_for_each_entry(domain, &space->domains, link)
		list_for_each_entry(idev, &domain->devices, domain_link)
			for (i = 0; i != idev->num_reserved; i++)
				if (start <= idev->reserved[i].last &&
				    last >= idev->reserved[i].start)
					return false;
	return true;
}

static int ioasid_range_cmp(const void *a, const void *b)
{
	const struct ioasid_iova_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * The usable ranges: the aperture with every attached device's reserved
 * regions cut out, sorted. Returns how many, and the array (kfree it).
 */
static int ioasid_space_usable_ranges(struct ioasid_space *space,
				      struct ioasid_iova_range **out)
{
	struct ioasid_iova_range *holes, *ranges;
	struct ioasid_domain *domain;
	struct ioasid_device *idev;
	unsigned int nholes = 0, n = 0, i;
	u64 next, ap_last;

	lockdep_assert_held(&space->lock);
	list_for_each_entry(domain, &space->domains, link)
		list_for_each_entry(idev, &domain->devices, domain_link)
			nholes += idev->num_reserved;

	holes = kcalloc(nholes, sizeof(*holes), GFP_KERNEL);
	ranges = kcalloc(nholes + 1, sizeof(*ranges), GFP_KERNEL);
	if ((nholes && !holes) || !ranges) {
		kfree(holes);
		kfree(ranges);
		return -ENOMEM;
	}
	nholes = 0;
	list_for_each_entry(domain, &space->domains, link)
		list_for_each_entry(idev, &domain->devices, domain_link)
			for (i = 0; i != idev->num_reserved; i++)
				holes[nholes++] = idev->reserved[i];
	sort(holes, nholes, sizeof(*holes), ioasid_range_cmp, NULL);

	ioasid_space_aperture(space, &next, &ap_last);
	for (i = 0; i != nholes && next <= ap_last; i++) {
		if (holes[i].last < next)
			continue;
		if (holes[i].start > ap_last)
			break;
		if (holes[i].start > next) {
			ranges[n].start = next;
			ranges[n++].last = holes[i].start - 1;
		}
		if (holes[i].last >= ap_last)
			goto out;
		next = holes[i].last + 1;
	}
	if (next <= ap_last) {
		ranges[n].start = next;
		ranges[n++].last = ap_last;
	}
out:
	kfree(holes);
	*out = ranges;
	return n;
}

int ioasid_space_get_info_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_get_info *cmd = ucmd->cmd;
	struct ioasid_iova_range *ranges;
	struct ioasid_space *space;
	int ret, n;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	space = ioasid_space_get(ucmd->ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);

	mutex_lock(&space->lock);
	cmd->out_num_devices = space->num_devices;
	cmd->out_pgsize_bitmap = ioasid_space_pgsize_bitmap(space);
	n = ioasid_space_usable_ranges(space, &ranges);
	mutex_unlock(&space->lock);
	if (n < 0) {
		ret = n;
		goto out_put;
	}

	/* Copy out with no lock held: the user buffer may fault. */
	if (copy_to_user(u64_to_user_ptr(cmd->iova_ranges), ranges,
			 min_t(u32, n, cmd->num_iova_ranges) * sizeof(*ranges))) {
		ret = -EFAULT;
		goto out_free;
	}
	cmd->num_iova_ranges = n;
	ret = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	kfree(ranges);
out_put:
	ioasid_space_put(space);
	return ret;
}
