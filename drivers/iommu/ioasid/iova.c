// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mapping engine: what an IOASID maps, where nothing may be mapped,
 * and keeping every iommu_domain of the IOASID in step.
 *
 * Terms:
 *  - an *area* is one IOVA range backed by consecutive pages of one pinned
 *    run (pinned.c). Areas never overlap and live in an interval tree, so
 *    a map or unmap finds what it touches in O(log n).
 *  - a *reserved range* is IOVA no area may use: a device's reserved
 *    region (an MSI window, say) or what lies outside a domain's aperture.
 *    Each is tagged with its owner (the device or domain that needs it)
 *    and goes when the owner leaves. Reserved ranges may overlap each
 *    other; the usable ranges are what they leave free.
 *  - every *domain* holds every area. A map, unmap or new domain that
 *    fails part-way undoes what it did, so no domain is ever half-mapped.
 *
 * The owner of a struct ioasid_iova records here what attaches and
 * detaches change (reserved ranges, domains, page sizes) when they happen,
 * so a map checks them in O(log n) without looking at devices. This file
 * knows nothing of the uAPI: it takes plain ranges, pinned runs and
 * domains, and reports errnos the owner documents.
 *
 * A software-nested IOASID's areas come from its parent's: each records
 * its *source*, the parent IOVA it was mapped from, in a second interval
 * tree, and shares the parent's registered run or holds its own pins on
 * the parent's pages (a borrowed run, pinned.c), so it is cut and freed
 * like any area. When the parent
 * unmaps a range, every child area whose source meets it goes whole: a
 * child cut could split a large IOMMU page the parent's cut did not.
 *
 * Each run of physically contiguous pages goes to iommu_map() in one call,
 * across folio boundaries, so that ordinary memory, which the page
 * allocator mostly hands out in long contiguous runs, costs a call per
 * run and not one per page. Large IOMMU pages are still used only inside
 * a large folio (THP or hugetlbfs) of the source memory: where a call
 * would cover a whole naturally aligned block of a large IOMMU page size
 * that one folio does not hold, it is split inside that block, at a folio
 * boundary, so the IOMMU never builds a large page out of small pages.
 * The trade-off is deliberate: small pages that happen to be contiguous
 * and aligned cost small IOMMU pages (more IOTLB entries than they might
 * take), and in exchange the uAPI's promise holds that a partial unmap
 * may cut them at any page. A cut through a large IOMMU page, which only
 * a large folio can have made, gets -EINVAL before anything changes; the
 * cut check applies the same rule as the map, so it sees exactly the
 * large pages there are.
 *
 * An unmap takes a range's areas out of each domain with as few calls as
 * the range has gaps and one IOTLB flush per domain, and only then frees
 * them, so no page is unpinned while a stale IOTLB entry may reach it.
 *
 * In-kernel accessors (access.c) reach the areas' pages from the CPU:
 * they copy to and from them, or pin them, each pin holding its own pin
 * on every page so that an unmap never pulls a page from under it. An
 * unmap that takes any of a pin's range moves the pin to iova->pins_gone,
 * for the owner to tell the accessor, which then unpins.
 *
 * Lock order: no lock of its own. Every entry point runs under the
 * owner's lock (iova->lock); a map from a parent holds the parent's lock
 * too, taken first. The pinned runs it releases take no lock.
 */
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/iova_bitmap.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "ioasid_private.h"

struct ioasid_area {
	struct interval_tree_node node;	/* IOVA range, in iova->areas */
	/* Parent IOVA range mapped from, in iova->sources; nested only */
	struct interval_tree_node source;
	struct ioasid_pinned *pinned;
	unsigned long pinned_index;	/* page of @pinned at node.start */
	int iommu_prot;
	/* Out of the trees, on its way out of the domains: the next one */
	struct ioasid_area *gone_next;
};

struct ioasid_reserved {
	struct interval_tree_node node;	/* in iova->reserved */
	const void *owner;
};

/* Dirty tracking, at the end: what the mapping paths tell it. */
static void ioasid_iova_forget_dirty(struct ioasid_iova *iova,
				     unsigned long start, unsigned long last);
static void ioasid_iova_domain_track(struct ioasid_iova *iova,
				     struct ioasid_domain *domain, bool on);
static void ioasid_spans_clear(struct rb_root_cached *root);
static void ioasid_iova_pins_unmapped(struct ioasid_iova *iova,
				      unsigned long start, unsigned long last);

static struct ioasid_area *ioasid_iova_area_first(struct ioasid_iova *iova,
						  unsigned long start,
						  unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_first(&iova->areas, start, last);
	return node ? container_of(node, struct ioasid_area, node) : NULL;
}

static struct ioasid_area *ioasid_iova_area_next(struct ioasid_area *area,
						 unsigned long start,
						 unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_next(&area->node, start, last);
	return node ? container_of(node, struct ioasid_area, node) : NULL;
}

void ioasid_iova_init(struct ioasid_iova *iova, struct mutex *lock)
{
	iova->lock = lock;
	iova->areas = RB_ROOT_CACHED;
	iova->reserved = RB_ROOT_CACHED;
	iova->sources = RB_ROOT_CACHED;
	iova->dirty_lost = RB_ROOT_CACHED;
	iova->dirty_written = RB_ROOT_CACHED;
	iova->pins = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&iova->pins_gone);
	INIT_LIST_HEAD(&iova->domains);
	iova->pgsize_bitmap = PAGE_SIZE;
}

static struct page **ioasid_iova_area_pages(struct ioasid_area *area,
					    unsigned long iova)
{
	return area->pinned->pages + area->pinned_index +
	       ((iova - area->node.start) >> PAGE_SHIFT);
}

/*
 * How many pages from @pages on are physically contiguous, up to @max: a
 * compare of pointers in the array, no struct page is read.
 */
static unsigned long ioasid_iova_contig_run(struct page **pages,
					    unsigned long max)
{
	unsigned long n = 1;

	while (n < max && pages[n] == nth_page(pages[0], n))
		n++;
	return n;
}

/* Does one folio hold @npages pages from @page on? */
static bool ioasid_iova_in_one_folio(struct page *page, unsigned long npages)
{
	struct folio *folio = page_folio(page);

	return folio_page_idx(folio, page) + npages <= folio_nr_pages(folio);
}

/*
 * The IOMMU page sizes of @domain that could join CPU pages of different
 * folios: those above the CPU page and above the domain's smallest page,
 * which has to be used whatever the memory.
 */
static unsigned long ioasid_iova_large_sizes(struct ioasid_domain *domain)
{
	unsigned long sizes = domain->iommu_domain->pgsize_bitmap;

	return sizes & ~(max(PAGE_SIZE, 1UL << __ffs(sizes)) * 2 - 1);
}

/*
 * The first of the @n physically contiguous pages at @pages, mapped at
 * @iova, that one iommu_map() call may take: all of them, unless that
 * would cover a whole naturally aligned block of a size in @large that
 * one folio does not hold, which iommu_map() would make a large IOMMU
 * page. Then the call ends at the start of the folio holding that
 * block's last page, inside the block: folios are naturally aligned, so
 * the end of one never falls inside a block another folio holds whole.
 * One folio lookup per block of the smallest size, none per page.
 */
static unsigned long ioasid_iova_call_pages(struct page **pages,
					    unsigned long iova,
					    unsigned long n,
					    unsigned long large)
{
	phys_addr_t phys = page_to_phys(pages[0]);
	unsigned long limit = n;
	unsigned int shift;

	for_each_set_bit(shift, &large, BITS_PER_LONG) {
		unsigned long size = 1UL << shift;
		unsigned long npages = size >> PAGE_SHIFT;
		unsigned long i;

		/* Offset differently: no page of this size, nor larger. */
		if ((iova ^ phys) & (size - 1))
			break;
		for (i = (ALIGN(iova, size) - iova) >> PAGE_SHIFT;
		     i + npages <= limit; i += npages) {
			struct page *end = pages[i + npages - 1];

			if (ioasid_iova_in_one_folio(pages[i], npages))
				continue;
			/* Past @i, so that every call maps something. */
			limit = max(i + 1, i + npages - 1 -
					   folio_page_idx(page_folio(end), end));
			break;
		}
	}
	return limit;
}

/* Unmap [start, last] from one domain, to be flushed with @gather. */
static void ioasid_iova_domain_unmap_fast(struct ioasid_domain *domain,
					  unsigned long start,
					  unsigned long last,
					  struct iommu_iotlb_gather *gather)
{
	size_t len = last - start + 1;

	/* Cuts never straddle an IOMMU page, so exactly @len goes. */
	WARN_ON(iommu_unmap_fast(domain->iommu_domain, start, len, gather) !=
		len);
}

static void ioasid_iova_domain_unmap(struct ioasid_domain *domain,
				     unsigned long start, unsigned long last)
{
	struct iommu_iotlb_gather gather;

	iommu_iotlb_gather_init(&gather);
	ioasid_iova_domain_unmap_fast(domain, start, last, &gather);
	iommu_iotlb_sync(domain->iommu_domain, &gather);
}

/*
 * Map [start, last] of @area into one domain; all or nothing. Each run of
 * physically contiguous pages goes in as few iommu_map() calls as keep
 * large IOMMU pages inside folios (ioasid_iova_call_pages()).
 */
static int ioasid_iova_domain_map(struct ioasid_domain *domain,
				  struct ioasid_area *area,
				  unsigned long start, unsigned long last)
{
	unsigned long large = ioasid_iova_large_sizes(domain);
	struct page **pages = ioasid_iova_area_pages(area, start);
	unsigned long iova = start;
	int ret;

	while (iova <= last) {
		unsigned long n = ioasid_iova_contig_run(pages,
					((last - iova) >> PAGE_SHIFT) + 1);

		while (n) {
			unsigned long call = large ?
				ioasid_iova_call_pages(pages, iova, n, large) :
				n;

			ret = iommu_map(domain->iommu_domain, iova,
					page_to_phys(pages[0]),
					call << PAGE_SHIFT, area->iommu_prot,
					GFP_KERNEL_ACCOUNT);
			if (ret)
				goto err_unmap;
			iova += call << PAGE_SHIFT;
			pages += call;
			n -= call;
			cond_resched();
		}
	}
	return 0;

err_unmap:
	if (iova != start)
		ioasid_iova_domain_unmap(domain, start, iova - 1);
	return ret;
}

static struct ioasid_area *ioasid_iova_area_alloc(unsigned long start,
						  unsigned long length,
						  struct ioasid_pinned *pinned,
						  unsigned long pinned_index,
						  int iommu_prot)
{
	struct ioasid_area *area = kzalloc(sizeof(*area), GFP_KERNEL_ACCOUNT);

	if (!area)
		return NULL;
	area->node.start = start;
	area->node.last = start + length - 1;
	area->pinned = pinned;
	area->pinned_index = pinned_index;
	area->iommu_prot = iommu_prot;
	return area;
}

static void ioasid_iova_area_free(struct ioasid_area *area)
{
	ioasid_pinned_put(area->pinned);
	kfree(area);
}

/* An area of a nested IOASID has a source; no source ends at 0. */
static bool ioasid_iova_area_has_source(struct ioasid_area *area)
{
	return area->source.last;
}

static void ioasid_iova_area_insert(struct ioasid_iova *iova,
				    struct ioasid_area *area)
{
	interval_tree_insert(&area->node, &iova->areas);
	if (ioasid_iova_area_has_source(area))
		interval_tree_insert(&area->source, &iova->sources);
}

static void ioasid_iova_area_remove(struct ioasid_iova *iova,
				    struct ioasid_area *area)
{
	interval_tree_remove(&area->node, &iova->areas);
	if (ioasid_iova_area_has_source(area))
		interval_tree_remove(&area->source, &iova->sources);
}

/* Map @area into every domain, or into none. */
static int ioasid_iova_area_map_all(struct ioasid_iova *iova,
				    struct ioasid_area *area)
{
	struct ioasid_domain *domain, *undo;
	int ret;

	list_for_each_entry(domain, &iova->domains, link) {
		ret = ioasid_iova_domain_map(domain, area, area->node.start,
					     area->node.last);
		if (ret)
			goto err_undo;
	}
	return 0;

err_undo:
	list_for_each_entry(undo, &iova->domains, link) {
		if (undo == domain)
			break;
		ioasid_iova_domain_unmap(undo, area->node.start,
					 area->node.last);
	}
	return ret;
}

/* EINVAL unless @value is a multiple of the smallest usable page. */
int ioasid_iova_check_alignment(struct ioasid_iova *iova, u64 value)
{
	lockdep_assert_held(iova->lock);
	return IS_ALIGNED(value, 1UL << __ffs(iova->pgsize_bitmap)) ?
	       0 : -EINVAL;
}

/*
 * Could [start, start + length) be mapped now? EINVAL if misaligned for
 * some domain, ERANGE if it meets a reserved range, EEXIST if it meets an
 * area. The caller has checked that the range does not wrap.
 */
int ioasid_iova_check_map(struct ioasid_iova *iova, unsigned long start,
			  unsigned long length)
{
	unsigned long last = start + length - 1;

	lockdep_assert_held(iova->lock);
	if (ioasid_iova_check_alignment(iova, start | length))
		return -EINVAL;
	if (interval_tree_iter_first(&iova->reserved, start, last))
		return -ERANGE;
	if (interval_tree_iter_first(&iova->areas, start, last))
		return -EEXIST;
	return 0;
}

/*
 * Map @length bytes at @start to the pages of @pinned from @pinned_index
 * on, in every domain. On success the new area owns the caller's
 * reference to @pinned; on failure the caller keeps it and nothing has
 * changed.
 */
int ioasid_iova_map(struct ioasid_iova *iova, unsigned long start,
		    unsigned long length, struct ioasid_pinned *pinned,
		    unsigned long pinned_index, int iommu_prot)
{
	struct ioasid_area *area;
	int ret;

	lockdep_assert_held(iova->lock);
	ret = ioasid_iova_check_map(iova, start, length);
	if (ret)
		return ret;

	area = ioasid_iova_area_alloc(start, length, pinned, pinned_index,
				      iommu_prot);
	if (!area)
		return -ENOMEM;
	ret = ioasid_iova_area_map_all(iova, area);
	if (ret) {
		kfree(area);
		return ret;
	}
	interval_tree_insert(&area->node, &iova->areas);
	return 0;
}

/*
 * The parent's areas that cover [source, source + length) whole, with no
 * gap, each granting @iommu_prot's access: ENXIO for a gap, EACCES for
 * an access refused. Returns the first one, and in @count how many.
 */
static struct ioasid_area *ioasid_iova_check_source(struct ioasid_iova *parent,
						    unsigned long source,
						    unsigned long length,
						    int iommu_prot,
						    unsigned int *count)
{
	unsigned long last = source + length - 1, next = source;
	int access = iommu_prot & (IOMMU_READ | IOMMU_WRITE);
	struct ioasid_area *first, *area;

	*count = 0;
	first = ioasid_iova_area_first(parent, source, last);
	for (area = first; area;
	     area = ioasid_iova_area_next(area, source, last)) {
		if (area->node.start > next)
			return ERR_PTR(-ENXIO);
		if ((area->iommu_prot & access) != access)
			return ERR_PTR(-EACCES);
		++*count;
		if (area->node.last >= last)
			return first;
		next = area->node.last + 1;
	}
	return ERR_PTR(-ENXIO);
}

/* Undo the first @n areas of a map from a parent. */
static void ioasid_iova_unmap_new(struct ioasid_iova *iova,
				  struct ioasid_area **areas, unsigned int n)
{
	struct ioasid_domain *domain;

	while (n--) {
		list_for_each_entry(domain, &iova->domains, link)
			ioasid_iova_domain_unmap(domain, areas[n]->node.start,
						 areas[n]->node.last);
		ioasid_iova_area_free(areas[n]);
	}
}

/*
 * Map @length bytes at @start, in every domain, to what @parent maps at
 * [source, source + length): one area per parent area met, each using
 * the parent's registration or its own pins on the parent's pages, and
 * its source recorded, so a parent unmap finds it. All or nothing; ENXIO or EACCES as
 * ioasid_iova_check_source() finds, before anything changes.
 */
int ioasid_iova_map_from(struct ioasid_iova *iova, unsigned long start,
			 unsigned long length, struct ioasid_iova *parent,
			 unsigned long source, int iommu_prot)
{
	unsigned long last = source + length - 1, at = source;
	/* A vIOMMU maps a page or a few at a time: no allocation for that. */
	struct ioasid_area *first, *from, *few[8], **areas = few;
	unsigned int n = 0, count;
	int ret;

	lockdep_assert_held(parent->lock);
	lockdep_assert_held(iova->lock);
	ret = ioasid_iova_check_map(iova, start, length);
	if (ret)
		return ret;
	first = ioasid_iova_check_source(parent, source, length, iommu_prot,
					 &count);
	if (IS_ERR(first))
		return PTR_ERR(first);
	if (count > ARRAY_SIZE(few)) {
		areas = kcalloc(count, sizeof(*areas), GFP_KERNEL);
		if (!areas)
			return -ENOMEM;
	}

	for (from = first; from;
	     from = ioasid_iova_area_next(from, source, last)) {
		unsigned long piece_last = min(from->node.last, last);
		unsigned long npages = (piece_last - at + 1) >> PAGE_SHIFT;
		unsigned long index = from->pinned_index +
				      ((at - from->node.start) >> PAGE_SHIFT);
		struct ioasid_pinned *pinned = from->pinned;
		struct ioasid_area *area;

		/*
		 * A registration is never cut and outlives its users: share
		 * it, as the parent does. A private run is cut with its area:
		 * take pins of our own.
		 */
		if (pinned->registered) {
			ioasid_pinned_get(pinned);
		} else {
			pinned = ioasid_pinned_borrow(pinned, index, npages,
						      iommu_prot & IOMMU_WRITE);
			if (!pinned) {
				ret = -ENOMEM;
				goto err_undo;
			}
			index = 0;
		}
		area = ioasid_iova_area_alloc(start + (at - source),
					      npages << PAGE_SHIFT, pinned, index,
					      iommu_prot);
		if (!area) {
			ioasid_pinned_put(pinned);
			ret = -ENOMEM;
			goto err_undo;
		}
		area->source.start = at;
		area->source.last = piece_last;
		ret = ioasid_iova_area_map_all(iova, area);
		if (ret) {
			ioasid_iova_area_free(area);
			goto err_undo;
		}
		areas[n++] = area;
		at = piece_last + 1;
	}

	while (n--)
		ioasid_iova_area_insert(iova, areas[n]);
	if (areas != few)
		kfree(areas);
	return 0;

err_undo:
	ioasid_iova_unmap_new(iova, areas, n);
	if (areas != few)
		kfree(areas);
	return ret;
}

/*
 * Would cutting @area so that @at starts a new piece split a large IOMMU
 * page in @domain? Mirrors ioasid_iova_domain_map(): a block of a large
 * page size was mapped as one page exactly where the area covers it
 * whole, its pages are physically contiguous and aligned to it, and one
 * folio holds them all.
 */
static bool ioasid_iova_cut_splits_page(struct ioasid_area *area,
					struct ioasid_domain *domain,
					unsigned long at)
{
	unsigned long sizes = ioasid_iova_large_sizes(domain);
	unsigned int shift;

	for_each_set_bit(shift, &sizes, BITS_PER_LONG) {
		unsigned long size = 1UL << shift;
		unsigned long npages = size >> PAGE_SHIFT;
		unsigned long block = at & ~(size - 1);
		struct page **pages;

		if (block == at || block < area->node.start ||
		    block + size - 1 > area->node.last)
			continue;
		pages = ioasid_iova_area_pages(area, block);
		if (IS_ALIGNED(page_to_phys(pages[0]), size) &&
		    ioasid_iova_contig_run(pages, npages) == npages &&
		    ioasid_iova_in_one_folio(pages[0], npages))
			return true;
	}
	return false;
}

static int ioasid_iova_check_cut(struct ioasid_iova *iova,
				 struct ioasid_area *area, unsigned long at)
{
	struct ioasid_domain *domain;

	list_for_each_entry(domain, &iova->domains, link)
		if (ioasid_iova_cut_splits_page(area, domain, at))
			return -EINVAL;
	return 0;
}

/*
 * Cut the pages before @at off @area into a new area, which takes over
 * the part of the pinned run under it when the run is the area's own.
 */
static struct ioasid_area *ioasid_iova_area_cut_front(struct ioasid_area *area,
						      unsigned long at)
{
	unsigned long npages = (at - area->node.start) >> PAGE_SHIFT;
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
	front->node.last = at - 1;
	area->node.start = at;
	if (ioasid_iova_area_has_source(front)) {
		front->source.last = front->source.start + npages * PAGE_SIZE - 1;
		area->source.start += npages * PAGE_SIZE;
	}
	return front;
}

/* Cut the area that straddles @at, if any, so that @at starts a piece. */
static int ioasid_iova_split_at(struct ioasid_iova *iova, unsigned long at)
{
	struct ioasid_area *area, *front;

	area = ioasid_iova_area_first(iova, at, at);
	if (!area || area->node.start == at)
		return 0;

	/* Cutting changes no mapping: each piece stays mapped where it was. */
	ioasid_iova_area_remove(iova, area);
	front = ioasid_iova_area_cut_front(area, at);
	if (IS_ERR(front)) {
		ioasid_iova_area_insert(iova, area);
		return PTR_ERR(front);
	}
	ioasid_iova_area_insert(iova, front);
	ioasid_iova_area_insert(iova, area);
	return 0;
}

/*
 * EINVAL if [start, last] begins or ends inside a large IOMMU page: a cut
 * there would split it, and its one dirty bit cannot say which part was
 * written (a read clears it whole). Nothing changes either way.
 */
int ioasid_iova_check_whole_pages(struct ioasid_iova *iova,
				  unsigned long start, unsigned long last)
{
	struct ioasid_area *area;
	int ret = 0;

	lockdep_assert_held(iova->lock);
	area = ioasid_iova_area_first(iova, start, start);
	if (area && area->node.start < start)
		ret = ioasid_iova_check_cut(iova, area, start);
	area = ioasid_iova_area_first(iova, last, last);
	if (!ret && area && area->node.last > last)
		ret = ioasid_iova_check_cut(iova, area, last + 1);
	return ret;
}

/*
 * Cut the areas that stick out of [start, last] at either end, so that
 * every area lies inside the range or outside it. No mapping changes.
 * EINVAL, before any cut, if one would split a large IOMMU page; a failed
 * allocation for the second cut leaves the first, which is harmless.
 */
int ioasid_iova_split(struct ioasid_iova *iova, unsigned long start,
		      unsigned long last)
{
	int ret;

	ret = ioasid_iova_check_whole_pages(iova, start, last);
	if (ret)
		return ret;
	ret = ioasid_iova_split_at(iova, start);
	if (!ret && last != ULONG_MAX)
		ret = ioasid_iova_split_at(iova, last + 1);
	return ret;
}

/* Take @area out of both trees, onto the chain @gone. */
static void ioasid_iova_area_gone(struct ioasid_iova *iova,
				  struct ioasid_area *area,
				  struct ioasid_area **gone)
{
	ioasid_iova_area_remove(iova, area);
	area->gone_next = *gone;
	*gone = area;
}

/*
 * Take the areas chained at @gone, out of the trees already, out of every
 * domain: neighbours in one call, and one IOTLB flush per domain. Only
 * then free them, and so unpin their pages: no IOTLB can reach them now.
 */
static void ioasid_iova_unmap_gone(struct ioasid_iova *iova,
				   struct ioasid_area *gone)
{
	struct ioasid_domain *domain;
	struct ioasid_area *area;

	list_for_each_entry(domain, &iova->domains, link) {
		unsigned long run_start = 0, run_last = 0;
		struct iommu_iotlb_gather gather;
		bool run = false;

		iommu_iotlb_gather_init(&gather);
		for (area = gone; area; area = area->gone_next) {
			/* The chain runs either way along the IOVA. */
			if (run && area->node.start == run_last + 1) {
				run_last = area->node.last;
				continue;
			}
			if (run && area->node.last + 1 == run_start) {
				run_start = area->node.start;
				continue;
			}
			if (run)
				ioasid_iova_domain_unmap_fast(domain, run_start,
							      run_last,
							      &gather);
			run = true;
			run_start = area->node.start;
			run_last = area->node.last;
			cond_resched();
		}
		if (run)
			ioasid_iova_domain_unmap_fast(domain, run_start,
						      run_last, &gather);
		iommu_iotlb_sync(domain->iommu_domain, &gather);
	}
	while (gone) {
		area = gone;
		gone = area->gone_next;
		ioasid_iova_forget_dirty(iova, area->node.start,
					 area->node.last);
		ioasid_iova_pins_unmapped(iova, area->node.start,
					  area->node.last);
		ioasid_iova_area_free(area);
		cond_resched();
	}
}

/*
 * Unmap [start, last], which ioasid_iova_split() has cut at both ends, so
 * that every area meeting it lies inside it: they all go. For a caller
 * with work between the cut and the unmap. Reports the bytes unmapped.
 */
void ioasid_iova_unmap_split(struct ioasid_iova *iova, unsigned long start,
			     unsigned long last, unsigned long *unmapped)
{
	struct ioasid_area *area, *next, *gone = NULL;

	lockdep_assert_held(iova->lock);
	*unmapped = 0;
	for (area = ioasid_iova_area_first(iova, start, last); area;
	     area = next) {
		next = ioasid_iova_area_next(area, start, last);
		*unmapped += area->node.last - area->node.start + 1;
		ioasid_iova_area_gone(iova, area, &gone);
	}
	ioasid_iova_unmap_gone(iova, gone);
}

/*
 * Unmap [start, last]: every area inside goes, an area that sticks out at
 * either end is cut and keeps the part outside (see ioasid_iova_split(),
 * whose errors these are). Reports the bytes unmapped.
 */
int ioasid_iova_unmap(struct ioasid_iova *iova, unsigned long start,
		      unsigned long last, unsigned long *unmapped)
{
	int ret;

	*unmapped = 0;
	ret = ioasid_iova_split(iova, start, last);
	if (!ret)
		ioasid_iova_unmap_split(iova, start, last, unmapped);
	return ret;
}

/*
 * The parent is unmapping [start, last] of its IOVA: remove, whole, every
 * area mapped from any of it. Reports the bytes removed.
 */
void ioasid_iova_revoke_source(struct ioasid_iova *iova, unsigned long start,
			       unsigned long last, unsigned long *revoked)
{
	struct interval_tree_node *node, *next;
	struct ioasid_area *gone = NULL;

	lockdep_assert_held(iova->lock);
	*revoked = 0;
	for (node = interval_tree_iter_first(&iova->sources, start, last);
	     node; node = next) {
		struct ioasid_area *area =
			container_of(node, struct ioasid_area, source);

		next = interval_tree_iter_next(node, start, last);
		*revoked += area->node.last - area->node.start + 1;
		ioasid_iova_area_gone(iova, area, &gone);
	}
	ioasid_iova_unmap_gone(iova, gone);
}

/* The owner is going: no domain and no reserved range can be left. */
void ioasid_iova_destroy(struct ioasid_iova *iova)
{
	unsigned long unmapped;

	lockdep_assert_held(iova->lock);
	WARN_ON(!list_empty(&iova->domains));
	WARN_ON(!RB_EMPTY_ROOT(&iova->reserved.rb_root));
	/* No domain, so nothing to cut: this cannot fail. */
	WARN_ON(ioasid_iova_unmap(iova, 0, ULONG_MAX, &unmapped));
	/* Accessors hold their IOASID: none can have pinned here. */
	WARN_ON(!list_empty(&iova->pins_gone));
	ioasid_spans_clear(&iova->dirty_lost);
	ioasid_spans_clear(&iova->dirty_written);
}

/*
 * The ranges no reserved range touches, in order. Fills at most @max of
 * @ranges and returns how many there are.
 */
unsigned int ioasid_iova_usable_ranges(struct ioasid_iova *iova,
				       struct ioasid_range *ranges,
				       unsigned int max)
{
	struct interval_tree_node *node;
	unsigned long next = 0;
	unsigned int n = 0;

	lockdep_assert_held(iova->lock);
	/* Nodes come in order of start; @next is past all seen so far. */
	for (node = interval_tree_iter_first(&iova->reserved, 0, ULONG_MAX);
	     node; node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		if (node->start > next) {
			if (n < max) {
				ranges[n].start = next;
				ranges[n].last = node->start - 1;
			}
			n++;
		}
		if (node->last == ULONG_MAX)
			return n;
		next = max(next, node->last + 1);
	}
	if (n < max) {
		ranges[n].start = next;
		ranges[n].last = ULONG_MAX;
	}
	return n + 1;
}

/*
 * Reserve @ranges for @owner: no area may use them until
 * ioasid_iova_unreserve(). ERANGE if an area already does; then nothing
 * is reserved.
 */
int ioasid_iova_reserve(struct ioasid_iova *iova, const void *owner,
			const struct ioasid_range *ranges, unsigned int n)
{
	struct ioasid_reserved *resv;
	unsigned int i;

	lockdep_assert_held(iova->lock);
	for (i = 0; i != n; i++)
		if (interval_tree_iter_first(&iova->areas, ranges[i].start,
					     ranges[i].last))
			return -ERANGE;
	for (i = 0; i != n; i++) {
		resv = kzalloc(sizeof(*resv), GFP_KERNEL_ACCOUNT);
		if (!resv) {
			ioasid_iova_unreserve(iova, owner);
			return -ENOMEM;
		}
		resv->owner = owner;
		resv->node.start = ranges[i].start;
		resv->node.last = ranges[i].last;
		interval_tree_insert(&resv->node, &iova->reserved);
	}
	return 0;
}

void ioasid_iova_unreserve(struct ioasid_iova *iova, const void *owner)
{
	struct interval_tree_node *node, *next;

	lockdep_assert_held(iova->lock);
	for (node = interval_tree_iter_first(&iova->reserved, 0, ULONG_MAX);
	     node; node = next) {
		struct ioasid_reserved *resv =
			container_of(node, struct ioasid_reserved, node);

		next = interval_tree_iter_next(node, 0, ULONG_MAX);
		if (resv->owner != owner)
			continue;
		interval_tree_remove(node, &iova->reserved);
		kfree(resv);
	}
}

/* The domain of IOMMU instance @iommu after @prev (NULL: the first). */
struct ioasid_domain *ioasid_iova_next_domain(struct ioasid_iova *iova,
					      struct iommu_device *iommu,
					      struct ioasid_domain *prev)
{
	struct ioasid_domain *domain;

	lockdep_assert_held(iova->lock);
	domain = prev ? list_next_entry(prev, link) :
			list_first_entry(&iova->domains, struct ioasid_domain,
					 link);
	list_for_each_entry_from(domain, &iova->domains, link)
		if (domain->iommu == iommu)
			return domain;
	return NULL;
}

static void ioasid_iova_update_pgsizes(struct ioasid_iova *iova)
{
	unsigned long sizes = ULONG_MAX, align = PAGE_SIZE;
	struct ioasid_domain *domain;

	/* No domain: nothing but the CPU page constrains a mapping. */
	if (list_empty(&iova->domains)) {
		iova->pgsize_bitmap = PAGE_SIZE;
		return;
	}
	/* The CPU page, or the smallest IOMMU page where that is larger. */
	list_for_each_entry(domain, &iova->domains, link) {
		sizes &= domain->iommu_domain->pgsize_bitmap;
		align = max(align,
			    1UL << __ffs(domain->iommu_domain->pgsize_bitmap));
	}
	iova->pgsize_bitmap = (sizes & ~(align - 1)) | align;
}

/* What lies outside a domain's aperture, as reserved ranges. */
static unsigned int ioasid_iova_outside_aperture(struct iommu_domain *domain,
						 struct ioasid_range *out)
{
	struct iommu_domain_geometry *geo = &domain->geometry;
	unsigned int n = 0;

	if (!geo->force_aperture)
		return 0;
	if (geo->aperture_start) {
		out[n].start = 0;
		out[n++].last = geo->aperture_start - 1;
	}
	if (geo->aperture_end != ULONG_MAX) {
		out[n].start = geo->aperture_end + 1;
		out[n++].last = ULONG_MAX;
	}
	return n;
}

/*
 * Make @domain hold every area, reserve what lies outside its aperture,
 * and take it into the IOASID. ERANGE if an area lies outside the
 * aperture, EINVAL if one is not aligned to the domain's smallest page;
 * on any error @domain is left empty and out.
 */
int ioasid_iova_add_domain(struct ioasid_iova *iova,
			   struct ioasid_domain *domain)
{
	unsigned long align =
		1UL << __ffs(domain->iommu_domain->pgsize_bitmap);
	struct ioasid_area *area, *undo;
	struct ioasid_range outside[2];
	unsigned int n;
	int ret;

	lockdep_assert_held(iova->lock);
	n = ioasid_iova_outside_aperture(domain->iommu_domain, outside);
	ret = ioasid_iova_reserve(iova, domain, outside, n);
	if (ret)
		return ret;

	for (area = ioasid_iova_area_first(iova, 0, ULONG_MAX); area;
	     area = ioasid_iova_area_next(area, 0, ULONG_MAX)) {
		if (!IS_ALIGNED(area->node.start | (area->node.last + 1),
				align)) {
			ret = -EINVAL;
			goto err_unmap;
		}
		ret = ioasid_iova_domain_map(domain, area, area->node.start,
					     area->node.last);
		if (ret)
			goto err_unmap;
	}
	list_add_tail(&domain->link, &iova->domains);
	ioasid_iova_update_pgsizes(iova);
	if (iova->dirty_tracking)
		ioasid_iova_domain_track(iova, domain, true);
	return 0;

err_unmap:
	for (undo = ioasid_iova_area_first(iova, 0, ULONG_MAX); undo != area;
	     undo = ioasid_iova_area_next(undo, 0, ULONG_MAX))
		ioasid_iova_domain_unmap(domain, undo->node.start,
					 undo->node.last);
	ioasid_iova_unreserve(iova, domain);
	return ret;
}

/* Take @domain out; its mappings go with its page tables when freed. */
void ioasid_iova_remove_domain(struct ioasid_iova *iova,
			       struct ioasid_domain *domain)
{
	lockdep_assert_held(iova->lock);
	list_del(&domain->link);
	/* What it wrote and did not report goes with it. */
	if (iova->dirty_tracking)
		ioasid_iova_dirty_escaped(iova);
	ioasid_iova_unreserve(iova, domain);
	ioasid_iova_update_pgsizes(iova);
}

/*
 * Dirty tracking. A domain whose IOMMU tracks (dirty_ops) records the
 * pages DMA writes in its page tables, and a read clears the records
 * unless asked not to. Where a write may have escaped every record (a
 * domain that cannot track is attached, or one left with its records or
 * without any), a read reports every page mapped writable instead, as
 * the write could have gone anywhere, and calls itself conservative.
 *
 * What escaped is kept as spans of IOVA, disjoint and merged, in
 * iova->dirty_lost: a departing domain adds the writable areas, a
 * clearing read and an unmap take their range out. A span that cannot be
 * recorded for want of memory makes the whole IOASID lost until a
 * clearing read covers every area; one that cannot be split stays whole.
 * Either way a read says more than was written, never less.
 *
 * In-kernel accessors write from the CPU, where no IOMMU records: what
 * they copy in is kept exactly, as spans in iova->dirty_written, and a
 * range pinned for writing reads as written while the pin lasts and is
 * added to those spans when it ends. Neither makes a read conservative.
 */
struct ioasid_span {
	struct interval_tree_node node;
};

static void ioasid_spans_clear(struct rb_root_cached *root)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(root, 0, ULONG_MAX))) {
		interval_tree_remove(node, root);
		kfree(container_of(node, struct ioasid_span, node));
	}
}

/* Add [start, last], merged with what overlaps or touches it. */
static int ioasid_spans_add(struct rb_root_cached *root, unsigned long start,
			    unsigned long last)
{
	struct interval_tree_node *node;
	struct ioasid_span *span;

	while ((node = interval_tree_iter_first(root,
						start ? start - 1 : 0,
						last == ULONG_MAX ? last :
						last + 1))) {
		start = min(start, node->start);
		last = max(last, node->last);
		interval_tree_remove(node, root);
		kfree(container_of(node, struct ioasid_span, node));
	}
	span = kzalloc(sizeof(*span), GFP_KERNEL_ACCOUNT);
	if (!span)
		return -ENOMEM;
	span->node.start = start;
	span->node.last = last;
	interval_tree_insert(&span->node, root);
	return 0;
}

/* Take [start, last] out; a span it cuts in two stays whole on -ENOMEM. */
static void ioasid_spans_remove(struct rb_root_cached *root,
				unsigned long start, unsigned long last)
{
	struct interval_tree_node *node, *next;

	for (node = interval_tree_iter_first(root, start, last); node;
	     node = next) {
		struct ioasid_span *span =
			container_of(node, struct ioasid_span, node);

		next = interval_tree_iter_next(node, start, last);
		if (node->start < start && node->last > last) {
			struct ioasid_span *tail;

			tail = kzalloc(sizeof(*tail), GFP_KERNEL_ACCOUNT);
			if (!tail)
				return;
			interval_tree_remove(node, root);
			tail->node.start = last + 1;
			tail->node.last = node->last;
			node->last = start - 1;
			interval_tree_insert(node, root);
			interval_tree_insert(&tail->node, root);
			return;
		}
		interval_tree_remove(node, root);
		if (node->start < start) {
			node->last = start - 1;
		} else if (node->last > last) {
			node->start = last + 1;
		} else {
			kfree(span);
			continue;
		}
		interval_tree_insert(node, root);
	}
}

/* A write may have escaped the records anywhere the IOASID is writable. */
void ioasid_iova_dirty_escaped(struct ioasid_iova *iova)
{
	struct ioasid_area *area;

	lockdep_assert_held(iova->lock);
	for (area = ioasid_iova_area_first(iova, 0, ULONG_MAX);
	     area && !iova->dirty_lost_all;
	     area = ioasid_iova_area_next(area, 0, ULONG_MAX))
		if ((area->iommu_prot & IOMMU_WRITE) &&
		    ioasid_spans_add(&iova->dirty_lost, area->node.start,
				     area->node.last))
			iova->dirty_lost_all = true;
}

/* A range read with clearing, or unmapped, has nothing left to report. */
static void ioasid_iova_forget_dirty(struct ioasid_iova *iova,
				     unsigned long start, unsigned long last)
{
	ioasid_spans_remove(&iova->dirty_lost, start, last);
	ioasid_spans_remove(&iova->dirty_written, start, last);
}

/*
 * An in-kernel accessor wrote [start, last]: an exact record. One that
 * cannot be kept for want of memory leaves every page a suspect.
 */
static void ioasid_iova_dirty_written(struct ioasid_iova *iova,
				      unsigned long start, unsigned long last)
{
	if (iova->dirty_tracking && !iova->dirty_lost_all &&
	    ioasid_spans_add(&iova->dirty_written, start, last))
		iova->dirty_lost_all = true;
}

/* Read @domain's records over the areas in [start, last], into @bitmap. */
static int ioasid_iova_domain_read_dirty(struct ioasid_iova *iova,
					 struct ioasid_domain *domain,
					 struct iova_bitmap *bitmap,
					 unsigned long start,
					 unsigned long last, bool clear)
{
	const struct iommu_dirty_ops *ops = domain->iommu_domain->dirty_ops;
	unsigned long run_start = 0, run_last = 0;
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap dirty;
	struct ioasid_area *area;
	bool run = false;
	int ret = 0;

	iommu_iotlb_gather_init(&gather);
	iommu_dirty_bitmap_init(&dirty, bitmap, &gather);
	/* Neighbouring areas in one call: the driver walks what we ask. */
	for (area = ioasid_iova_area_first(iova, start, last); !ret;
	     area = ioasid_iova_area_next(area, start, last)) {
		if (area && run && area->node.start == run_last + 1) {
			run_last = min(area->node.last, last);
			continue;
		}
		if (run)
			ret = ops->read_and_clear_dirty(domain->iommu_domain,
						run_start,
						run_last - run_start + 1,
						clear ? 0 : IOMMU_DIRTY_NO_CLEAR,
						&dirty);
		if (!area)
			break;
		run = true;
		run_start = max(area->node.start, start);
		run_last = min(area->node.last, last);
		cond_resched();
	}
	/* A cleared record must not stay cached in the IOTLB. */
	if (clear)
		iommu_iotlb_sync(domain->iommu_domain, &gather);
	return ret;
}

/* Start or stop @domain's tracking; a domain that cannot, does not. */
static void ioasid_iova_domain_track(struct ioasid_iova *iova,
				     struct ioasid_domain *domain, bool on)
{
	const struct iommu_dirty_ops *ops = domain->iommu_domain->dirty_ops;

	if (!on) {
		if (domain->dirty_on)
			ops->set_dirty_tracking(domain->iommu_domain, false);
		domain->dirty_on = false;
		return;
	}
	/* What it recorded before it was asked to is not news. */
	domain->dirty_on = ops &&
		!ops->set_dirty_tracking(domain->iommu_domain, true) &&
		!ioasid_iova_domain_read_dirty(iova, domain, NULL, 0,
					       ULONG_MAX, true);
}

void ioasid_iova_set_dirty_tracking(struct ioasid_iova *iova, bool on)
{
	struct ioasid_domain *domain;

	lockdep_assert_held(iova->lock);
	if (iova->dirty_tracking == on)
		return;
	iova->dirty_tracking = on;
	iova->dirty_lost_all = false;
	ioasid_spans_clear(&iova->dirty_lost);
	ioasid_spans_clear(&iova->dirty_written);
	list_for_each_entry(domain, &iova->domains, link)
		ioasid_iova_domain_track(iova, domain, on);
}

/* Would a read of [start, last] now be exact? */
bool ioasid_iova_dirty_exact(struct ioasid_iova *iova, unsigned long start,
			     unsigned long last)
{
	struct ioasid_domain *domain;

	lockdep_assert_held(iova->lock);
	if (iova->dirty_lost_all ||
	    interval_tree_iter_first(&iova->dirty_lost, start, last))
		return false;
	list_for_each_entry(domain, &iova->domains, link)
		if (!domain->dirty_on)
			return false;
	return true;
}

struct ioasid_iova_dirty_read {
	struct ioasid_iova *iova;
	bool all_writable;		/* a domain does not track */
	bool clear;
};

/* Set the bits of the writable areas' pages in [start, last]. */
static void ioasid_iova_set_writable(struct ioasid_iova *iova,
				     struct iova_bitmap *bitmap,
				     unsigned long start, unsigned long last)
{
	struct ioasid_area *area;

	for (area = ioasid_iova_area_first(iova, start, last); area;
	     area = ioasid_iova_area_next(area, start, last)) {
		unsigned long from = max(area->node.start, start);

		if (area->iommu_prot & IOMMU_WRITE)
			iova_bitmap_set(bitmap, from,
					min(area->node.last, last) - from + 1);
	}
}

/* Set the writable pages in [start, last] of each span of @root. */
static void ioasid_iova_set_spans(struct ioasid_iova *iova,
				  struct iova_bitmap *bitmap,
				  struct rb_root_cached *root,
				  unsigned long start, unsigned long last)
{
	struct interval_tree_node *node;

	for (node = interval_tree_iter_first(root, start, last); node;
	     node = interval_tree_iter_next(node, start, last))
		ioasid_iova_set_writable(iova, bitmap, max(node->start, start),
					 min(node->last, last));
}

/*
 * One window of the user's bitmap: the IOMMUs' records, what escaped
 * them, and what in-kernel accessors wrote or may write.
 */
static int ioasid_iova_dirty_window(struct iova_bitmap *bitmap,
				    unsigned long start, size_t length,
				    void *opaque)
{
	struct ioasid_iova_dirty_read *rd = opaque;
	struct ioasid_iova *iova = rd->iova;
	unsigned long last = start + length - 1;
	struct interval_tree_node *node;
	struct ioasid_domain *domain;
	int ret;

	list_for_each_entry(domain, &iova->domains, link) {
		if (!domain->dirty_on)
			continue;
		ret = ioasid_iova_domain_read_dirty(iova, domain, bitmap,
						    start, last, rd->clear);
		if (ret)
			return ret;
	}
	if (rd->all_writable || iova->dirty_lost_all) {
		ioasid_iova_set_writable(iova, bitmap, start, last);
		return 0;
	}
	ioasid_iova_set_spans(iova, bitmap, &iova->dirty_lost, start, last);
	/* In-kernel writes, and what accessors may write through pins now */
	ioasid_iova_set_spans(iova, bitmap, &iova->dirty_written, start, last);
	for (node = interval_tree_iter_first(&iova->pins, start, last); node;
	     node = interval_tree_iter_next(node, start, last))
		if (container_of(node, struct ioasid_iova_pin, node)->writable)
			ioasid_iova_set_writable(iova, bitmap,
						 max(node->start, start),
						 min(node->last, last));
	return 0;
}

/*
 * Report into @bitmap, which the caller zeroed and which covers
 * [start, last], what DMA wrote there: the domains' records, and every
 * writable page where a write may have escaped them, which is everywhere
 * if the owner says so (@escaping: a writer it knows of records
 * nothing). With @clear, the records go, and so does what escaped in the
 * range: it was reported.
 */
int ioasid_iova_read_dirty(struct ioasid_iova *iova,
			   struct iova_bitmap *bitmap, unsigned long start,
			   unsigned long last, bool escaping, bool clear)
{
	struct ioasid_iova_dirty_read rd = {
		.iova = iova,
		.all_writable = escaping,
		.clear = clear,
	};
	struct ioasid_domain *domain;
	int ret;

	lockdep_assert_held(iova->lock);
	list_for_each_entry(domain, &iova->domains, link)
		if (!domain->dirty_on)
			rd.all_writable = true;
	ret = iova_bitmap_for_each(bitmap, &rd, ioasid_iova_dirty_window);
	if (ret || !clear)
		return ret;
	ioasid_iova_forget_dirty(iova, start, last);
	/* Lost everywhere, and everywhere read: nothing is lost now. */
	if (iova->dirty_lost_all &&
	    (!start || !ioasid_iova_area_first(iova, 0, start - 1)) &&
	    (last == ULONG_MAX ||
	     !ioasid_iova_area_first(iova, last + 1, ULONG_MAX)))
		iova->dirty_lost_all = false;
	return 0;
}

/*
 * In-kernel access: the CPU reading and writing an IOASID's memory for an
 * emulated device, by IOVA, through the areas' pinned pages.
 */

/*
 * Is every page of [start, last] mapped, and writable if @write asks?
 * -ENOENT for a hole, -EPERM for a page mapped read-only.
 */
static int ioasid_iova_check_reach(struct ioasid_iova *iova,
				   unsigned long start, unsigned long last,
				   bool write)
{
	unsigned long next = start;
	struct ioasid_area *area;

	for (area = ioasid_iova_area_first(iova, start, last); area;
	     area = ioasid_iova_area_next(area, start, last)) {
		if (area->node.start > next)
			return -ENOENT;
		if (write && !(area->iommu_prot & IOMMU_WRITE))
			return -EPERM;
		if (area->node.last >= last)
			return 0;
		next = area->node.last + 1;
	}
	return -ENOENT;
}

/*
 * The page that backs @at, in a reach already checked: *@area is the
 * area of the previous page, or NULL, and moves on as @at does.
 */
static struct page *ioasid_iova_page(struct ioasid_iova *iova,
				     struct ioasid_area **area,
				     unsigned long at)
{
	if (!*area || at > (*area)->node.last)
		*area = ioasid_iova_area_first(iova, at, at);
	return *ioasid_iova_area_pages(*area, at);
}

/*
 * Pin the pages of [start, last], page-aligned, into @pages, each with a
 * pin of its own, and record @pin: the range is the accessor's until it
 * calls ioasid_iova_unpin(), or is told an unmap took it.
 */
int ioasid_iova_pin(struct ioasid_iova *iova, struct ioasid_iova_pin *pin,
		    unsigned long start, unsigned long last, bool write,
		    struct page **pages)
{
	struct ioasid_area *area = NULL;
	unsigned long i;
	int ret;

	lockdep_assert_held(iova->lock);
	ret = ioasid_iova_check_reach(iova, start, last, write);
	if (ret)
		return ret;
	for (i = 0; i <= (last - start) >> PAGE_SHIFT; i++) {
		pages[i] = ioasid_iova_page(iova, &area,
					    start + (i << PAGE_SHIFT));
		folio_add_pin(page_folio(pages[i]));
		cond_resched();
	}
	pin->node.start = start;
	pin->node.last = last;
	pin->writable = write;
	pin->gone = false;
	INIT_LIST_HEAD(&pin->gone_link);
	interval_tree_insert(&pin->node, &iova->pins);
	return 0;
}

/*
 * The accessor is done with @pin; the caller unpins its pages. What it
 * may have written through them while they were mapped is recorded.
 */
void ioasid_iova_unpin(struct ioasid_iova *iova, struct ioasid_iova_pin *pin)
{
	lockdep_assert_held(iova->lock);
	if (pin->gone) {
		/* Unpinned before it was told: nothing left to tell. */
		list_del_init(&pin->gone_link);
		return;
	}
	interval_tree_remove(&pin->node, &iova->pins);
	if (pin->writable)
		ioasid_iova_dirty_written(iova, pin->node.start,
					  pin->node.last);
}

/*
 * [start, last] is unmapped: every pin that meets it is gone. Its writes
 * went with the mapping, as a device's do.
 */
static void ioasid_iova_pins_unmapped(struct ioasid_iova *iova,
				      unsigned long start, unsigned long last)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(&iova->pins, start, last))) {
		struct ioasid_iova_pin *pin =
			container_of(node, struct ioasid_iova_pin, node);

		interval_tree_remove(node, &iova->pins);
		pin->gone = true;
		list_add_tail(&pin->gone_link, &iova->pins_gone);
	}
}

/*
 * Copy @length bytes between @buf and the IOASID at @start, any
 * alignment: all or nothing, as the reach is checked first. A write is
 * recorded for dirty tracking, exactly.
 */
int ioasid_iova_rw(struct ioasid_iova *iova, unsigned long start, void *buf,
		   size_t length, bool write)
{
	unsigned long last = start + length - 1, at = start;
	struct ioasid_area *area = NULL;
	int ret;

	lockdep_assert_held(iova->lock);
	ret = ioasid_iova_check_reach(iova, start, last, write);
	if (ret)
		return ret;
	while (length) {
		struct page *page = ioasid_iova_page(iova, &area, at);
		size_t offset = offset_in_page(at);
		size_t n = min_t(size_t, PAGE_SIZE - offset, length);

		if (write)
			memcpy_to_page(page, offset, buf, n);
		else
			memcpy_from_page(buf, page, offset, n);
		buf += n;
		at += n;
		length -= n;
		if (!offset_in_page(at))
			cond_resched();
	}
	if (write)
		ioasid_iova_dirty_written(iova, start & PAGE_MASK,
					  last | ~PAGE_MASK);
	return 0;
}
