// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOASID objects and their ioctls: alloc, free, get-info, DMA map and
 * unmap.
 *
 * An IOASID is what userspace allocates, attaches devices to and maps
 * memory into. This file owns the object and turns each of its ioctls
 * into plain calls on the layers below: pinned.c for the memory a map
 * uses, iova.c for the areas and the domains that mirror them. What
 * attached devices constrain (usable ranges, page sizes) device.c records
 * in the IOASID's struct ioasid_iova when it attaches or detaches, so no
 * ioctl here looks at devices.
 *
 * A map does every check that needs no pinning first, under space->lock,
 * then pins with no lock held, then checks again and maps under the lock:
 * a bad request never pins, and a long pin blocks no one.
 *
 * Lock order: space->lock only; pinned.c's lock is taken outside it.
 */
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/slab.h>
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

	space = ioasid_object_alloc(ucmd->ctx, struct ioasid_space,
				    IOASID_OBJ_SPACE);
	if (IS_ERR(space))
		return PTR_ERR(space);
	space->ctx = ucmd->ctx;
	mutex_init(&space->lock);
	ioasid_iova_init(&space->iova, &space->lock);

	cmd->out_ioasid = space->obj.id;
	ret = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		/* The caller never learnt the id: leave nothing behind. */
		ioasid_object_abort_and_destroy(ucmd->ctx, &space->obj);
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
	mutex_lock(&space->lock);
	ioasid_iova_destroy(&space->iova);
	mutex_unlock(&space->lock);
	mutex_destroy(&space->lock);
}

int ioasid_space_free_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_free *cmd = ucmd->cmd;

	return ioasid_object_destroy_user(ucmd->ctx, cmd->ioasid,
					  IOASID_OBJ_SPACE);
}

/* Copy out with no lock held: the user buffer may fault. */
static int ioasid_space_copy_ranges(struct ioasid_cmd_get_info *cmd,
				    const struct ioasid_range *ranges,
				    unsigned int n)
{
	struct ioasid_iova_range __user *uranges =
		u64_to_user_ptr(cmd->iova_ranges);
	unsigned int i;

	for (i = 0; i != min(n, cmd->num_iova_ranges); i++) {
		struct ioasid_iova_range range = {
			.start = ranges[i].start,
			.last = ranges[i].last,
		};

		if (copy_to_user(&uranges[i], &range, sizeof(range)))
			return -EFAULT;
	}
	return 0;
}

int ioasid_space_get_info_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_get_info *cmd = ucmd->cmd;
	struct ioasid_range *ranges;
	struct ioasid_space *space;
	unsigned int n;
	int ret;

	space = ioasid_space_get(ucmd->ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);

	mutex_lock(&space->lock);
	cmd->out_num_devices = space->num_devices;
	cmd->out_pgsize_bitmap = space->iova.pgsize_bitmap;
	n = ioasid_iova_usable_ranges(&space->iova, NULL, 0);
	ranges = kcalloc(n, sizeof(*ranges), GFP_KERNEL);
	if (ranges)
		ioasid_iova_usable_ranges(&space->iova, ranges, n);
	mutex_unlock(&space->lock);
	if (!ranges) {
		ret = -ENOMEM;
		goto out_put;
	}

	ret = ioasid_space_copy_ranges(cmd, ranges, n);
	if (ret)
		goto out_free;
	cmd->num_iova_ranges = n;
	ret = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	kfree(ranges);
out_put:
	ioasid_space_put(space);
	return ret;
}

static int ioasid_space_check_map(struct ioasid_space *space, u64 iova,
				  u64 length)
{
	int ret;

	mutex_lock(&space->lock);
	ret = ioasid_iova_check_map(&space->iova, iova, length);
	mutex_unlock(&space->lock);
	return ret;
}

int ioasid_space_dma_map_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_dma_map *cmd = ucmd->cmd;
	struct ioasid_ctx *ctx = ucmd->ctx;
	bool write = cmd->flags & IOASID_DMA_MAP_WRITE;
	unsigned long pinned_index = 0;
	struct ioasid_pinned *pinned;
	struct ioasid_space *space;
	u64 last, vlast;
	int prot, ret;

	if (!(cmd->flags & (IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE)) ||
	    !PAGE_ALIGNED(cmd->vaddr))
		return -EINVAL;
	ret = ioasid_ucmd_check_range(cmd->iova, cmd->length, ULONG_MAX, &last);
	if (!ret)
		ret = ioasid_ucmd_check_range(cmd->vaddr, cmd->length,
					      TASK_SIZE - 1, &vlast);
	if (ret)
		return ret;
	/* Every device we bind is coherent; the mappings say so. */
	prot = IOMMU_CACHE |
	       (cmd->flags & IOASID_DMA_MAP_READ ? IOMMU_READ : 0) |
	       (write ? IOMMU_WRITE : 0);

	/* The source is user memory: only the fd's process may name it. */
	ret = ioasid_pinned_check_mm(ctx);
	if (ret)
		return ret;

	space = ioasid_space_get(ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);
	ret = ioasid_space_check_map(space, cmd->iova, cmd->length);
	if (ret)
		goto out_put_space;

	/* Registered memory is used as it is pinned; otherwise pin now. */
	pinned = ioasid_pinned_find_registered(ctx, cmd->vaddr, cmd->length);
	if (pinned) {
		pinned_index = (cmd->vaddr - pinned->node.start) >> PAGE_SHIFT;
	} else {
		pinned = ioasid_pinned_create(ctx, cmd->vaddr, cmd->length,
					      write);
		if (IS_ERR(pinned)) {
			ret = PTR_ERR(pinned);
			goto out_put_space;
		}
	}

	/* Checked again: another map may have raced in while we pinned. */
	mutex_lock(&space->lock);
	ret = ioasid_iova_map(&space->iova, cmd->iova, cmd->length, pinned,
			      pinned_index, prot);
	mutex_unlock(&space->lock);
	if (ret)
		ioasid_pinned_put(pinned);
out_put_space:
	ioasid_space_put(space);
	return ret;
}

int ioasid_space_dma_unmap_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_dma_unmap *cmd = ucmd->cmd;
	struct ioasid_space *space;
	unsigned long unmapped;
	u64 last;
	int ret;

	if (cmd->flags & IOASID_DMA_UNMAP_ALL) {
		if (cmd->iova || cmd->length)
			return -EINVAL;
		last = ULONG_MAX;
	} else {
		ret = ioasid_ucmd_check_range(cmd->iova, cmd->length,
					      ULONG_MAX, &last);
		if (ret)
			return ret;
	}

	space = ioasid_space_get(ucmd->ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);

	mutex_lock(&space->lock);
	ret = ioasid_iova_check_alignment(&space->iova,
					  cmd->iova | cmd->length);
	if (!ret)
		ret = ioasid_iova_unmap(&space->iova, cmd->iova, last,
					&unmapped);
	mutex_unlock(&space->lock);
	ioasid_space_put(space);
	if (ret)
		return ret;

	cmd->out_unmapped = unmapped;
	return ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}
