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

/*
 * Check a bitmap request and fault its bitmap in without writing it,
 * with no lock held: what can fail on bad input fails here.
 */
int ioasid_dirty_request_prepare(struct ioasid_dirty_request *req, u64 iova,
				 u64 length, u64 page_size, u64 bitmap)
{
	u64 npages, end;

	if (!is_power_of_2(page_size) || page_size < PAGE_SIZE || !length ||
	    !IS_ALIGNED(iova | length, page_size) ||
	    !IS_ALIGNED(bitmap, sizeof(u64)))
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &end) || end > ULONG_MAX)
		return -EOVERFLOW;
	npages = length / page_size;
	if (npages > IOASID_DIRTY_BITMAP_MAX_PAGES)
		return -EINVAL;
	req->iova = iova;
	req->last = end;
	req->length = length;
	req->page_size = page_size;
	req->ubitmap = u64_to_user_ptr(bitmap);
	req->bytes = DIV_ROUND_UP(npages, 64) * sizeof(u64);
	/* Its pages exist and are writable, and nothing was written yet. */
	if (fault_in_safe_writeable((const char __user *)req->ubitmap,
				    req->bytes))
		return -EFAULT;
	return 0;
}

/*
 * Fill the user's bitmap for @req, under space->lock: every bit written,
 * the records read cleared with @clear. The report goes to @report.
 */
int ioasid_dirty_request_read(struct ioasid_space *space,
			      struct ioasid_dirty_request *req, bool clear,
			      u32 *report)
{
	struct ioasid_iova *iova = &space->iova;
	struct iova_bitmap *bitmap;
	int ret;

	lockdep_assert_held(&space->lock);
	if (!iova->dirty_tracking ||
	    req->page_size < (iova->pgsize_bitmap & -iova->pgsize_bitmap))
		return -EINVAL;
	ret = ioasid_iova_check_whole_pages(iova, req->iova, req->last);
	if (ret)
		return ret;
	bitmap = iova_bitmap_alloc(req->iova, req->length, req->page_size,
				   req->ubitmap);
	if (IS_ERR(bitmap))
		return PTR_ERR(bitmap);
	ret = -EFAULT;
	if (!clear_user(req->ubitmap, req->bytes)) {
		*report = ioasid_dirty_report(space, req->iova, req->last);
		ret = ioasid_iova_read_dirty(iova, bitmap, req->iova, req->last,
					     ioasid_dirty_children_write(space),
					     clear);
	}
	iova_bitmap_free(bitmap);
	return ret;
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
	struct ioasid_dirty_request req;
	struct ioasid_space *space;
	int ret;

	ret = ioasid_dirty_request_prepare(&req, cmd->iova, cmd->length,
					   cmd->page_size, cmd->bitmap);
	if (ret)
		return ret;
	space = ioasid_dirty_space_get(ucmd->ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);
	mutex_lock(&space->lock);
	ret = ioasid_dirty_request_read(space, &req,
					!(cmd->flags &
					  IOASID_DIRTY_BITMAP_NO_CLEAR),
					&cmd->out_report);
	mutex_unlock(&space->lock);
	ioasid_space_put(space);
	if (ret)
		return ret;
	ret = ioasid_dirty_count(req.ubitmap, req.bytes, &cmd->out_dirty);
	return ret ?: ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}
