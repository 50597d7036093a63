// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOASID objects and their ioctls: alloc, create-nesting, free, get-info,
 * DMA map and unmap.
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
 * Software nesting: a child IOASID maps from its parent's IOVA, and holds
 * a reference on the parent, so the parent outlives its children. Parent
 * and child each keep their own areas; a parent unmap first removes what
 * every child mapped from the range (iova.c's sources), then its own.
 *
 * Lock order: a parent's space->lock, then a child's (lockdep subclass
 * SINGLE_DEPTH_NESTING); pinned.c's lock is taken outside both.
 */
#include <linux/iommu.h>
#include <uapi/linux/iommufd.h>
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

/*
 * A new, empty IOASID, nested on @parent if that is not NULL: it takes
 * over the caller's reference to @parent. Not published yet.
 */
static struct ioasid_space *ioasid_space_create(struct ioasid_ctx *ctx,
						struct ioasid_space *parent,
						enum ioasid_nesting_kind nesting)
{
	struct ioasid_space *space;

	space = ioasid_object_alloc(ctx, struct ioasid_space,
				    IOASID_OBJ_SPACE);
	if (IS_ERR(space))
		return space;
	space->ctx = ctx;
	mutex_init(&space->lock);
	ioasid_iova_init(&space->iova, &space->lock);
	INIT_LIST_HEAD(&space->children);
	INIT_LIST_HEAD(&space->nested);
	if (parent) {
		space->parent = parent;
		space->nesting = nesting;
		mutex_lock(&parent->lock);
		list_add_tail(&space->child_link, &parent->children);
		parent->num_children++;
		mutex_unlock(&parent->lock);
	}
	return space;
}

/* Tell the caller the new id, then publish; or leave nothing behind. */
static int ioasid_space_respond_new(struct ioasid_ucmd *ucmd,
				    struct ioasid_space *space,
				    __u32 *out_ioasid, size_t cmd_len)
{
	int ret;

	*out_ioasid = space->obj.id;
	ret = ioasid_ucmd_respond(ucmd, cmd_len);
	if (ret) {
		ioasid_object_abort_and_destroy(ucmd->ctx, &space->obj);
		return ret;
	}
	ioasid_object_publish(ucmd->ctx, &space->obj);
	return 0;
}

int ioasid_space_alloc_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_alloc *cmd = ucmd->cmd;
	struct ioasid_space *space;

	space = ioasid_space_create(ucmd->ctx, NULL, IOASID_NESTING_NONE);
	if (IS_ERR(space))
		return PTR_ERR(space);
	return ioasid_space_respond_new(ucmd, space, &cmd->out_ioasid,
					sizeof(*cmd));
}

int ioasid_space_create_nesting_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_create_nesting *cmd = ucmd->cmd;
	struct ioasid_space *parent, *space;

	if (cmd->kind != IOASID_NESTING_SOFTWARE &&
	    cmd->kind != IOASID_NESTING_HARDWARE)
		return -EINVAL;

	parent = ioasid_space_get(ucmd->ctx, cmd->parent);
	if (IS_ERR(parent))
		return PTR_ERR(parent);
	/* One level: a child's mappings come from user memory's, only. */
	if (parent->parent) {
		ioasid_space_put(parent);
		return -EINVAL;
	}
	/* From here on the reference is the child's, until it is freed. */
	space = ioasid_space_create(ucmd->ctx, parent, cmd->kind);
	if (IS_ERR(space)) {
		ioasid_space_put(parent);
		return PTR_ERR(space);
	}
	return ioasid_space_respond_new(ucmd, space, &cmd->out_ioasid,
					sizeof(*cmd));
}

void ioasid_space_destroy(struct ioasid_object *obj)
{
	struct ioasid_space *space =
		container_of(obj, struct ioasid_space, obj);
	struct ioasid_space *parent = space->parent;

	/* Children hold a reference on their parent: none is left. */
	WARN_ON(!list_empty(&space->children));
	if (parent) {
		mutex_lock(&parent->lock);
		list_del(&space->child_link);
		parent->num_children--;
		ioasid_dirty_child_gone(parent, space);
		mutex_unlock(&parent->lock);
	}
	/* Attached devices hold a reference, so none is left by now. */
	mutex_lock(&space->lock);
	ioasid_iova_destroy(&space->iova);
	mutex_unlock(&space->lock);
	mutex_destroy(&space->lock);
	if (parent)
		ioasid_space_put(parent);
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

	if (cmd->__reserved2)
		return -EOPNOTSUPP;
	space = ioasid_space_get(ucmd->ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);

	mutex_lock(&space->lock);
	cmd->out_num_devices = space->num_devices;
	cmd->out_pgsize_bitmap = space->iova.pgsize_bitmap;
	cmd->out_parent = space->parent ? space->parent->obj.id : 0;
	cmd->out_nesting = space->nesting;
	cmd->out_num_children = space->num_children;
	cmd->out_revoked = space->revoked;
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

/*
 * The source is user memory, checked already (ioasid_space_check_user()):
 * pinned now, or registered already.
 */
static int ioasid_space_map_user(struct ioasid_ctx *ctx,
				 struct ioasid_space *space,
				 struct ioasid_cmd_dma_map *cmd, int prot)
{
	unsigned long pinned_index = 0;
	struct ioasid_pinned *pinned;
	int ret;

	ret = ioasid_space_check_map(space, cmd->iova, cmd->length);
	if (ret)
		return ret;

	/* Registered memory is used as it is pinned; otherwise pin now. */
	pinned = ioasid_pinned_find_registered(ctx, cmd->vaddr, cmd->length);
	if (pinned) {
		pinned_index = (cmd->vaddr - pinned->node.start) >> PAGE_SHIFT;
	} else {
		pinned = ioasid_pinned_create(ctx, cmd->vaddr, cmd->length,
					      prot & IOMMU_WRITE);
		if (IS_ERR(pinned))
			return PTR_ERR(pinned);
	}

	/* Checked again: another map may have raced in while we pinned. */
	mutex_lock(&space->lock);
	ret = ioasid_iova_map(&space->iova, cmd->iova, cmd->length, pinned,
			      pinned_index, prot);
	mutex_unlock(&space->lock);
	if (ret)
		ioasid_pinned_put(pinned);
	return ret;
}

/*
 * The source is the parent's IOVA: its pages are pinned already, so both
 * locks are held throughout and nothing is checked twice.
 */
static int ioasid_space_map_from_parent(struct ioasid_space *space,
					struct ioasid_cmd_dma_map *cmd,
					int prot)
{
	struct ioasid_space *parent = space->parent;
	u64 source_last;
	int ret;

	if (!PAGE_ALIGNED(cmd->parent_iova))
		return -EINVAL;
	ret = ioasid_ucmd_check_range(cmd->parent_iova, cmd->length,
				      ULONG_MAX, &source_last);
	if (ret)
		return ret;

	mutex_lock(&parent->lock);
	mutex_lock_nested(&space->lock, SINGLE_DEPTH_NESTING);
	ret = ioasid_iova_map_from(&space->iova, cmd->iova, cmd->length,
				   &parent->iova, cmd->parent_iova, prot);
	mutex_unlock(&space->lock);
	mutex_unlock(&parent->lock);
	return ret;
}

/* Cheap checks of a user-memory source, before any lookup. */
static int ioasid_space_check_user(struct ioasid_ctx *ctx,
				   struct ioasid_cmd_dma_map *cmd)
{
	u64 vlast;
	int ret;

	ret = ioasid_ucmd_check_range(cmd->vaddr, cmd->length, TASK_SIZE - 1,
				      &vlast);
	/* Only the fd's process may name user memory. */
	return ret ?: ioasid_pinned_check_mm(ctx);
}

int ioasid_space_dma_map_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_dma_map *cmd = ucmd->cmd;
	bool from_parent = cmd->flags & IOASID_DMA_MAP_FROM_PARENT;
	struct ioasid_space *space;
	bool nested;
	u64 last;
	int prot, ret;

	/* Field values first, ranges next: EINVAL before EOVERFLOW. */
	if (!(cmd->flags & (IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE)) ||
	    (!from_parent && !PAGE_ALIGNED(cmd->vaddr)))
		return -EINVAL;
	ret = ioasid_ucmd_check_range(cmd->iova, cmd->length, ULONG_MAX, &last);
	if (ret)
		return ret;
	/* Every device we bind is coherent; the mappings say so. */
	prot = IOMMU_CACHE |
	       (cmd->flags & IOASID_DMA_MAP_READ ? IOMMU_READ : 0) |
	       (cmd->flags & IOASID_DMA_MAP_WRITE ? IOMMU_WRITE : 0);
	if (!from_parent) {
		ret = ioasid_space_check_user(ucmd->ctx, cmd);
		if (ret)
			return ret;
	}

	space = ioasid_space_get(ucmd->ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);
	/* A software-nested IOASID maps from its parent, and only it does. */
	nested = space->nesting == IOASID_NESTING_SOFTWARE;
	if (space->nesting == IOASID_NESTING_HARDWARE)
		ret = -EMEDIUMTYPE;
	else if (from_parent != nested)
		ret = -EINVAL;
	else if (from_parent)
		ret = ioasid_space_map_from_parent(space, cmd, prot);
	else
		ret = ioasid_space_map_user(ucmd->ctx, space, cmd, prot);
	ioasid_space_put(space);
	return ret;
}

/* Before a parent unmaps [start, last]: no child may keep using it. */
static void ioasid_space_revoke_children(struct ioasid_space *space,
					 unsigned long start,
					 unsigned long last)
{
	struct ioasid_space *child;
	unsigned long revoked;

	lockdep_assert_held(&space->lock);
	list_for_each_entry(child, &space->children, child_link) {
		mutex_lock_nested(&child->lock, SINGLE_DEPTH_NESTING);
		ioasid_iova_revoke_source(&child->iova, start, last, &revoked);
		child->revoked += revoked;
		mutex_unlock(&child->lock);
	}
}

int ioasid_space_dma_unmap_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_dma_unmap *cmd = ucmd->cmd;
	bool get_dirty = cmd->flags & IOASID_DMA_UNMAP_GET_DIRTY;
	struct ioasid_dirty_request dirty;
	struct ioasid_space *space;
	unsigned long unmapped;
	bool tell;
	u64 last;
	int ret;

	if (cmd->__reserved2)
		return -EOPNOTSUPP;
	if (cmd->flags & IOASID_DMA_UNMAP_ALL) {
		if (cmd->iova || cmd->length || get_dirty)
			return -EINVAL;
		last = ULONG_MAX;
	} else {
		ret = ioasid_ucmd_check_range(cmd->iova, cmd->length,
					      ULONG_MAX, &last);
		if (ret)
			return ret;
	}
	if (get_dirty) {
		ret = ioasid_dirty_request_prepare(&dirty, cmd->iova,
						   cmd->length,
						   cmd->dirty_page_size,
						   cmd->dirty_bitmap);
		if (ret)
			return ret;
	}

	space = ioasid_space_get(ucmd->ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);

	mutex_lock(&space->lock);
	ret = ioasid_iova_check_alignment(&space->iova,
					  cmd->iova | cmd->length);
	/* Every check and cut first: the children lose nothing in vain. */
	if (!ret)
		ret = ioasid_iova_split(&space->iova, cmd->iova, last);
	/* Then what was written: the last read before the pages go. */
	if (!ret && get_dirty)
		ret = ioasid_dirty_request_read(space, &dirty, true,
						&cmd->out_dirty_report);
	if (!ret) {
		ioasid_space_revoke_children(space, cmd->iova, last);
		ioasid_iova_unmap_split(&space->iova, cmd->iova, last,
					&unmapped);
	}
	/* Took pins of in-kernel accessors, which must hear of it */
	tell = !list_empty(&space->iova.pins_gone);
	mutex_unlock(&space->lock);
	/* Accessors let go of what went before the user learns it did. */
	if (tell)
		ioasid_access_notify_unmapped(space);
	ioasid_space_put(space);
	if (ret)
		return ret;

	cmd->out_unmapped = unmapped;
	return ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}

/* A hardware-nested IOASID of the fd, held, or an ERR_PTR. */
static struct ioasid_space *ioasid_space_get_hw_nested(struct ioasid_ctx *ctx,
						       u32 id)
{
	struct ioasid_space *space = ioasid_space_get(ctx, id);

	if (!IS_ERR(space) && space->nesting != IOASID_NESTING_HARDWARE) {
		ioasid_space_put(space);
		return ERR_PTR(-EMEDIUMTYPE);
	}
	return space;
}

/*
 * Bind a user table, a first stage or (@pasid_table) a PASID table: both
 * take the same struct, and differ in which formats they accept.
 */
static int ioasid_space_bind_table(struct ioasid_ucmd *ucmd, bool pasid_table)
{
	struct ioasid_cmd_bind_pgtable *cmd = ucmd->cmd;
	const struct ioasid_table_format *format;
	struct iommu_user_data data = {
		.uptr = u64_to_user_ptr(cmd->data_uptr),
		.len = cmd->data_len,
	};
	struct ioasid_space *space;
	int ret;

	format = ioasid_table_format_get(cmd->format);
	if (!format)
		return -EOPNOTSUPP;
	if (format->pasid_table != pasid_table)
		return -EINVAL;
	data.type = format->data_type;

	space = ioasid_space_get_hw_nested(ucmd->ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);
	mutex_lock(&space->lock);
	ret = ioasid_device_bind_nested(space, format, &data);
	mutex_unlock(&space->lock);
	ioasid_space_put(space);
	return ret;
}

static int ioasid_space_unbind_table(struct ioasid_ucmd *ucmd, u32 ioasid,
				     bool pasid_table)
{
	struct ioasid_space *space;
	int ret = 0;

	space = ioasid_space_get_hw_nested(ucmd->ctx, ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);
	mutex_lock(&space->lock);
	if (space->bound && space->bound->pasid_table == pasid_table)
		ioasid_device_unbind_nested(space);
	else
		ret = -ENOENT;
	mutex_unlock(&space->lock);
	ioasid_space_put(space);
	return ret;
}

int ioasid_space_bind_pgtable_ioctl(struct ioasid_ucmd *ucmd)
{
	return ioasid_space_bind_table(ucmd, false);
}

int ioasid_space_unbind_pgtable_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_unbind_pgtable *cmd = ucmd->cmd;

	return ioasid_space_unbind_table(ucmd, cmd->ioasid, false);
}

int ioasid_space_bind_pasid_table_ioctl(struct ioasid_ucmd *ucmd)
{
	return ioasid_space_bind_table(ucmd, true);
}

int ioasid_space_unbind_pasid_table_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_unbind_pgtable *cmd = ucmd->cmd;

	return ioasid_space_unbind_table(ucmd, cmd->ioasid, true);
}

int ioasid_space_invalidate_cache_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_invalidate_cache *cmd = ucmd->cmd;
	struct iommu_user_data_array array = {
		.uptr = u64_to_user_ptr(cmd->entries_uptr),
		.entry_len = cmd->entry_len,
		.entry_num = cmd->num_entries,
	};
	struct ioasid_space *space;
	int ret, err;

	if (!cmd->entry_len || !cmd->num_entries)
		return -EINVAL;
	space = ioasid_space_get_hw_nested(ucmd->ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);
	mutex_lock(&space->lock);
	ret = -ENOENT;
	if (space->bound) {
		/* The entries are in the bound format's terms. */
		array.type = space->bound->invalidate_type;
		ret = ioasid_device_invalidate_nested(space, &array);
	}
	mutex_unlock(&space->lock);
	ioasid_space_put(space);
	if (ret == -ENOENT)
		return ret;

	/* How far it got is the answer, whatever stopped it. */
	cmd->num_entries = array.entry_num;
	err = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
	return ret ?: err;
}
