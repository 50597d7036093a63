// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOVA areas: what an IOASID maps, and keeping every domain in step.
 *
 * An area is one IOVA range backed by consecutive pages of one pinned run
 * (pinned.c). Areas of an IOASID never overlap and live in an interval
 * tree keyed by IOVA, so a map or unmap finds what it touches in
 * O(log n). Every area is mapped into every domain of the IOASID
 * (device.c owns the domains); a map or unmap that fails part-way undoes
 * what it did, so no domain is ever left half-mapped.
 *
 * Large IOMMU pages are used only inside a huge page (THP or hugetlbfs) of
 * the source memory: each iommu_map() call covers pages that are
 * consecutive within one folio. A partial unmap may cut an area at any
 * page boundary that no large IOMMU page straddles; a cut through one gets
 * -EINVAL, before anything changes.
 *
 * Lock order: space->lock, then ctx->pin_lock (pinned.c).
 */
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <uapi/linux/ioasid.h>

#include "ioasid_private.h"

static struct page **ioasid_area_pages(struct ioasid_area *area,
				       unsigned long iova)
{
	return area->pinned->pages + area->pinned_index +
	       ((iova - area->node.start) >> PAGE_SHIFT);
}

/* Pages after @pages that continue it inside its folio, up to @max. */
static unsigned long ioasid_folio_run(struct page **pages, unsigned long max)
{
	struct folio *folio = page_folio(pages[0]);
	unsigned long n = 1;

	while (n < max && pages[n] == nth_page(pages[0], n) &&
	       page_folio(pages[n]) == folio)
		n++;
	return n;
}

static void ioasid_domain_unmap_range(struct ioasid_domain *domain,
				      unsigned long start, unsigned long last)
{
	size_t len = last - start + 1;

	/* Cuts never straddle an IOMMU page, so exactly @len goes. */
	WARN_ON(iommu_unmap(domain->domain, start, len) != len);
}

/* Map [start, last] of @area into one domain; all or nothing. */
static int ioasid_area_map_range(struct ioasid_area *area,
				 struct ioasid_domain *domain,
				 unsigned long start, unsigned long last)
{
	unsigned long iova = start;
	int ret;

	while (iova <= last) {
		struct page **pages = ioasid_area_pages(area, iova);
		unsigned long n = ioasid_folio_run(pages,
					((last - iova) >> PAGE_SHIFT) + 1);

		ret = iommu_map(domain->domain, iova, page_to_phys(pages[0]),
				n << PAGE_SHIFT, area->iommu_prot,
				GFP_KERNEL_ACCOUNT);
		if (ret)
			goto err_unmap;
		iova += n << PAGE_SHIFT;
		cond_resched();
	}
	return 0;

err_unmap:
	if (iova != start)
		ioasid_domain_unmap_range(domain, start, iova - 1);
	return ret;
}

int ioasid_area_map_domain(struct ioasid_area *area,
			   struct ioasid_domain *domain)
{
	return ioasid_area_map_range(area, domain, area->node.start,
				     area->node.last);
}

/* Map @area into every domain of @space, or into none. */
static int ioasid_area_map_all(struct ioasid_space *space,
			       struct ioasid_area *area)
{
	struct ioasid_domain *domain, *undo;
	int ret;

	list_for_each_entry(domain, &space->domains, link) {
		ret = ioasid_area_map_domain(area, domain);
		if (ret)
			goto err_undo;
	}
	return 0;

err_undo:
	list_for_each_entry(undo, &space->domains, link) {
		if (undo == domain)
			break;
		ioasid_domain_unmap_range(undo, area->node.start,
					  area->node.last);
	}
	return ret;
}

/*
 * Would cutting @area so that @iova starts a new piece split a large
 * IOMMU page in @domain? Mirrors how a folio run was mapped: a block of a
 * large page size was used wherever the run covered it whole and the
 * IOVA and physical address were both aligned to it.
 */
static bool ioasid_cut_splits_page(struct ioasid_area *area,
				   struct ioasid_domain *domain,
				   unsigned long iova)
{
	unsigned long sizes = domain->domain->pgsize_bitmap &
			      ~(PAGE_SIZE * 2 - 1);
	unsigned int shift;

	for_each_set_bit(shift, &sizes, BITS_PER_LONG) {
		unsigned long size = 1UL << shift;
		unsigned long block = iova & ~(size - 1);
		struct page **pages;

		if (block == iova || block < area->node.start ||
		    block + size - 1 > area->node.last)
			continue;
		pages = ioasid_area_pages(area, block);
		if (!IS_ALIGNED(page_to_phys(pages[0]), size))
			continue;
		if (ioasid_folio_run(pages, size >> PAGE_SHIFT) ==
		    size >> PAGE_SHIFT)
			return true;
	}
	return false;
}

static int ioasid_check_cut(struct ioasid_space *space,
			    struct ioasid_area *area, unsigned long iova)
{
	struct ioasid_domain *domain;

	list_for_each_entry(domain, &space->domains, link)
		if (ioasid_cut_splits_page(area, domain, iova))
			return -EINVAL;
	return 0;
}

static void ioasid_area_free(struct ioasid_area *area)
{
	ioasid_pinned_put(area->pinned);
	kfree(area);
}

/*
 * Cut the pages before @iova off @area into a new area, which takes over
 * the part of the pinned run under it when the run is the area's own.
 */
static struct ioasid_area *ioasid_area_cut_front(struct ioasid_area *area,
						 unsigned long iova)
{
	unsigned long npages = (iova - area->node.start) >> PAGE_SHIFT;
	struct ioasid_area *front;

	front = kmemdup(area, sizeof(*area), GFP_KERNEL_ACCOUNT);
	if (!front)
		return ERR_PTR(-ENOMEM);
	if (area->pinned->registered) {
		ioasid_pinned_get(area->pinned);
		area->pinned_index += npages;
	} else {
		struct ioasid_pinned *rest;

		/* A private run is the area's alone: cut it along. */
		rest = ioasid_pinned_cut(area->pinned,
					 area->pinned_index + npages);
		if (IS_ERR(rest)) {
			kfree(front);
			return ERR_CAST(rest);
		}
		area->pinned = rest;
		area->pinned_index = 0;
	}
	front->node.last = iova - 1;
	area->node.start = iova;
	return front;
}

int ioasid_dma_map_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_dma_map *cmd = ucmd->cmd;
	struct ioasid_ctx *ctx = ucmd->ctx;
	bool write = cmd->flags & IOASID_DMA_MAP_WRITE;
	struct ioasid_pinned *pinned;
	struct ioasid_space *space;
	struct ioasid_area *area;
	u64 last, vlast;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if (!(cmd->flags & (IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE)))
		return -EINVAL;
	if (!cmd->length || !PAGE_ALIGNED(cmd->iova) ||
	    !PAGE_ALIGNED(cmd->vaddr) || !PAGE_ALIGNED(cmd->length))
		return -EINVAL;
	if (check_add_overflow(cmd->iova, cmd->length - 1, &last) ||
	    check_add_overflow(cmd->vaddr, cmd->length - 1, &vlast) ||
	    vlast >= TASK_SIZE)
		return -EOVERFLOW;

	space = ioasid_space_get(ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);

	area = kzalloc(sizeof(*area), GFP_KERNEL_ACCOUNT);
	if (!area) {
		ret = -ENOMEM;
		goto out_put_space;
	}

	/* Registered memory is used as it is pinned; otherwise pin now. */
	pinned = ioasid_pinned_find_registered(ctx, cmd->vaddr, cmd->length);
	if (pinned) {
		area->pinned_index =
			(cmd->vaddr - pinned->node.start) >> PAGE_SHIFT;
	} else {
		pinned = ioasid_pin(ctx, cmd->vaddr, cmd->length, write);
		if (IS_ERR(pinned)) {
			ret = PTR_ERR(pinned);
			kfree(area);
			goto out_put_space;
		}
	}
	area->pinned = pinned;
	area->node.start = cmd->iova;
	area->node.last = last;
	area->iommu_prot = (cmd->flags & IOASID_DMA_MAP_READ ? IOMMU_READ : 0) |
			   (write ? IOMMU_WRITE : 0);

	mutex_lock(&space->lock);
	if (!IS_ALIGNED(cmd->iova | cmd->length, ioasid_space_alignment(space))) {
		ret = -EINVAL;
		goto err_unlock;
	}
	if (!ioasid_space_iova_usable(space, cmd->iova, last)) {
		ret = -ERANGE;
		goto err_unlock;
	}
	if (interval_tree_iter_first(&space->areas, cmd->iova, last)) {
		ret = -EEXIST;
		goto err_unlock;
	}
	ret = ioasid_area_map_all(space, area);
	if (ret)
		goto err_unlock;
	interval_tree_insert(&area->node, &space->areas);
	mutex_unlock(&space->lock);
	ioasid_space_put(space);
	return 0;

err_unlock:
	mutex_unlock(&space->lock);
	ioasid_area_free(area);
out_put_space:
	ioasid_space_put(space);
	return ret;
}

/*
 * Unmap [start, last] of @space: every area inside goes, an area that
 * sticks out at either end is cut and keeps the part outside. All checks
 * and allocations happen before the first change.
 */
static int ioasid_space_unmap(struct ioasid_space *space, unsigned long start,
			      unsigned long last, u64 *unmapped)
{
	struct ioasid_area *head = NULL, *tail = NULL, *front;
	struct interval_tree_node *node, *next;
	struct ioasid_domain *domain;
	int ret;

	lockdep_assert_held(&space->lock);
	*unmapped = 0;

	node = interval_tree_iter_first(&space->areas, start, last);
	if (node && node->start < start)
		head = container_of(node, struct ioasid_area, node);
	node = interval_tree_iter_first(&space->areas, last, last);
	if (node && node->last > last)
		tail = container_of(node, struct ioasid_area, node);

	if (head) {
		ret = ioasid_check_cut(space, head, start);
		if (ret)
			return ret;
	}
	if (tail) {
		ret = ioasid_check_cut(space, tail, last + 1);
		if (ret)
			return ret;
	}

	/*
	 * Cutting changes no mapping: each piece stays mapped where it was.
	 * The front of @head survives; @head itself then starts at @start.
	 */
	if (head) {
		interval_tree_remove(&head->node, &space->areas);
		front = ioasid_area_cut_front(head, start);
		if (IS_ERR(front)) {
			interval_tree_insert(&head->node, &space->areas);
			return PTR_ERR(front);
		}
		interval_tree_insert(&front->node, &space->areas);
		interval_tree_insert(&head->node, &space->areas);
	}
	if (tail) {
		interval_tree_remove(&tail->node, &space->areas);
		front = ioasid_area_cut_front(tail, last + 1);
		if (IS_ERR(front)) {
			interval_tree_insert(&tail->node, &space->areas);
			/* The head cut stands; it changed no mapping. */
			return PTR_ERR(front);
		}
		interval_tree_insert(&front->node, &space->areas);
		interval_tree_insert(&tail->node, &space->areas);
	}

	/* Now every area that meets [start, last] lies inside it. */
	for (node = interval_tree_iter_first(&space->areas, start, last); node;
	     node = next) {
		struct ioasid_area *area =
			container_of(node, struct ioasid_area, node);

		next = interval_tree_iter_next(node, start, last);
		list_for_each_entry(domain, &space->domains, link)
			ioasid_domain_unmap_range(domain, node->start,
						  node->last);
		interval_tree_remove(node, &space->areas);
		*unmapped += node->last - node->start + 1;
		ioasid_area_free(area);
		cond_resched();
	}
	return 0;
}

int ioasid_dma_unmap_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_dma_unmap *cmd = ucmd->cmd;
	struct ioasid_space *space;
	u64 last, unmapped;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->flags & IOASID_DMA_UNMAP_ALL) {
		if (cmd->iova || cmd->length)
			return -EINVAL;
		last = ULONG_MAX;
	} else {
		if (!cmd->length || !PAGE_ALIGNED(cmd->iova) ||
		    !PAGE_ALIGNED(cmd->length))
			return -EINVAL;
		if (check_add_overflow(cmd->iova, cmd->length - 1, &last))
			return -EOVERFLOW;
	}

	space = ioasid_space_get(ucmd->ctx, cmd->ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);

	mutex_lock(&space->lock);
	if (!IS_ALIGNED(cmd->iova | cmd->length, ioasid_space_alignment(space)))
		ret = -EINVAL;
	else
		ret = ioasid_space_unmap(space, cmd->iova, last, &unmapped);
	mutex_unlock(&space->lock);
	ioasid_space_put(space);
	if (ret)
		return ret;

	cmd->out_unmapped = unmapped;
	return ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}

/* At destroy: nothing can reach the space any more. */
void ioasid_space_unmap_all(struct ioasid_space *space)
{
	u64 unmapped;

	mutex_lock(&space->lock);
	WARN_ON(ioasid_space_unmap(space, 0, ULONG_MAX, &unmapped));
	mutex_unlock(&space->lock);
}

/* For a new domain: map every area, or leave the domain empty. */
int ioasid_space_fill_domain(struct ioasid_space *space,
			     struct ioasid_domain *domain)
{
	struct interval_tree_node *node, *undo;
	int ret;

	lockdep_assert_held(&space->lock);
	for (node = interval_tree_iter_first(&space->areas, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		struct ioasid_area *area =
			container_of(node, struct ioasid_area, node);

		ret = ioasid_area_map_domain(area, domain);
		if (ret)
			goto err_unmap;
	}
	return 0;

err_unmap:
	for (undo = interval_tree_iter_first(&space->areas, 0, ULONG_MAX);
	     undo != node; undo = interval_tree_iter_next(undo, 0, ULONG_MAX))
		ioasid_domain_unmap_range(domain, undo->start, undo->last);
	return ret;
}
