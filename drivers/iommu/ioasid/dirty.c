// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dirty tracking for live migration: the ioctls that start and stop it on
 * an IOASID and read which pages DMA wrote, and the one rule that says
 * whether a report is exact or conservative.
 *
 * The records themselves are iova.c's: the IOMMU of each domain that can
 * track records in its page tables, and iova.c knows where a write may
 * have escaped them. This file adds what only the IOASID knows: a
 * software-nested child's devices write the parent's memory through the
 * child's own domains, which the parent's records never see, so a parent
 * with children reports conservatively, and a child that goes leaves its
 * unseen writes behind as escaped.
 *
 * The user's bitmap is written through iova_bitmap, which pins its pages
 * window by window. Everything that can fail on bad input is checked
 * first, and the bitmap is faulted in without being written, so a call
 * that fails has written nothing and cleared nothing.
 *
 * Lock order: space->lock, then the mm's mmap_lock (iova_bitmap pins the
 * bitmap's pages under space->lock; nothing takes space->lock under
 * mmap_lock).
 */
#include <linux/bitops.h>
#include <linux/iova_bitmap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/uaccess.h>

#include "ioasid_private.h"

/* The IOASID @id, if it maps memory of its own (not hardware-nested). */
static struct ioasid_space *ioasid_dirty_space_get(struct ioasid_ctx *ctx,
						   u32 id)
{
	struct ioasid_space *space = ioasid_space_get(ctx, id);

	if (!IS_ERR(space) && space->nesting == IOASID_NESTING_HARDWARE) {
		ioasid_space_put(space);
		return ERR_PTR(-EMEDIUMTYPE);
	}
	return space;
}

/*
 * Does a software-nested child write @space's memory where its records
 * cannot see? A hardware-nested one writes through @space's own domains.
 */
static bool ioasid_dirty_children_write(struct ioasid_space *space)
{
	struct ioasid_space *child;

	lockdep_assert_held(&space->lock);
	list_for_each_entry(child, &space->children, child_link)
		if (child->nesting == IOASID_NESTING_SOFTWARE)
			return true;
	return false;
}

/* What a read of [start, last] would be, under space->lock. */
static u32 ioasid_dirty_report(struct ioasid_space *space,
			       unsigned long start, unsigned long last)
{
	if (ioasid_dirty_children_write(space) ||
	    !ioasid_iova_dirty_exact(&space->iova, start, last))
		return IOASID_DIRTY_REPORT_CONSERVATIVE;
	return IOASID_DIRTY_REPORT_EXACT;
}

int ioasid_dirty_tracking_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_dirty_tracking *cmd = ucmd->cmd;
	bool start = cmd->flags & IOASID_DIRTY_TRACKING_START;
	struct ioasid_space *space;

	space = ioasid_dirty_space_get(ucmd->ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);
	mutex_lock(&space->lock);
	ioasid_iova_set_dirty_tracking(&space->iova, start);
	cmd->out_report = start ? ioasid_dirty_report(space, 0, ULONG_MAX) : 0;
	mutex_unlock(&space->lock);
	ioasid_space_put(space);
	return ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}

/* @child of @parent goes: what it wrote, the parent may never have seen. */
void ioasid_dirty_child_gone(struct ioasid_space *parent,
			     struct ioasid_space *child)
{
	lockdep_assert_held(&parent->lock);
	if (parent->iova.dirty_tracking &&
	    child->nesting == IOASID_NESTING_SOFTWARE)
		ioasid_iova_dirty_escaped(&parent->iova);
}

static int ioasid_dirty_check_bitmap(struct ioasid_cmd_get_dirty_bitmap *cmd,
				     unsigned long *last, size_t *bytes)
{
	u64 npages, end;

	if (!is_power_of_2(cmd->page_size) || cmd->page_size < PAGE_SIZE ||
	    !cmd->length || !IS_ALIGNED(cmd->iova | cmd->length,
					cmd->page_size) ||
	    !IS_ALIGNED(cmd->bitmap, sizeof(u64)))
		return -EINVAL;
	if (check_add_overflow(cmd->iova, cmd->length - 1, &end) ||
	    end > ULONG_MAX)
		return -EOVERFLOW;
	npages = cmd->length / cmd->page_size;
	if (npages > IOASID_DIRTY_BITMAP_MAX_PAGES)
		return -EINVAL;
	*last = end;
	*bytes = DIV_ROUND_UP(npages, 64) * sizeof(u64);
	return 0;
}

/* The bits the kernel set, read back from the user's bitmap. */
static int ioasid_dirty_count(const u64 __user *ubitmap, size_t bytes,
			      u64 *count)
{
	u64 words[64];
	size_t done, n, i;

	*count = 0;
	for (done = 0; done < bytes; done += n) {
		n = min(bytes - done, sizeof(words));
		if (copy_from_user(words, (const u8 __user *)ubitmap + done, n))
			return -EFAULT;
		for (i = 0; i != n / sizeof(u64); i++)
			*count += hweight64(words[i]);
		cond_resched();
	}
	return 0;
}

int ioasid_dirty_get_bitmap_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_get_dirty_bitmap *cmd = ucmd->cmd;
	u64 __user *ubitmap = u64_to_user_ptr(cmd->bitmap);
	bool clear = !(cmd->flags & IOASID_DIRTY_BITMAP_NO_CLEAR);
	struct ioasid_space *space;
	struct iova_bitmap *bitmap;
	unsigned long last;
	size_t bytes;
	int ret;

	ret = ioasid_dirty_check_bitmap(cmd, &last, &bytes);
	if (ret)
		return ret;
	/* Its pages exist and are writable, and nothing was written yet. */
	if (fault_in_safe_writeable((const char __user *)ubitmap, bytes))
		return -EFAULT;
	space = ioasid_dirty_space_get(ucmd->ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);

	mutex_lock(&space->lock);
	ret = -EINVAL;
	if (!space->iova.dirty_tracking ||
	    (u64)cmd->page_size < (space->iova.pgsize_bitmap &
				   -space->iova.pgsize_bitmap))
		goto out_unlock;
	ret = ioasid_iova_check_whole_pages(&space->iova, cmd->iova, last);
	if (ret)
		goto out_unlock;
	bitmap = iova_bitmap_alloc(cmd->iova, cmd->length, cmd->page_size,
				   ubitmap);
	if (IS_ERR(bitmap)) {
		ret = PTR_ERR(bitmap);
		goto out_unlock;
	}
	ret = -EFAULT;
	if (clear_user(ubitmap, bytes))
		goto out_free;
	cmd->out_report = ioasid_dirty_report(space, cmd->iova, last);
	ret = ioasid_iova_read_dirty(&space->iova, bitmap, cmd->iova, last,
				     ioasid_dirty_children_write(space),
				     clear);
out_free:
	iova_bitmap_free(bitmap);
out_unlock:
	mutex_unlock(&space->lock);
	ioasid_space_put(space);
	if (ret)
		return ret;
	ret = ioasid_dirty_count(ubitmap, bytes, &cmd->out_dirty);
	return ret ?: ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}
