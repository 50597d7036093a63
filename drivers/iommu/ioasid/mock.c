// SPDX-License-Identifier: GPL-2.0-only
/*
 * A mock IOMMU driver, for test kernels only (CONFIG_IOASID_TEST).
 *
 * It registers with the iommu core as a real driver does, so the
 * subsystem above runs its normal paths against it: domains are allocated
 * by iommu_paging_domain_alloc() or the domain_alloc_user hook, filled by
 * iommu_map() and attached by iommu_attach_group(). Its instances differ
 * in page sizes, aperture and reserved regions, as two real IOMMUs in one
 * machine may.
 *
 * Devices behind it are platform devices whose fwspec names a mock
 * instance's fwnode, which is how the core finds this driver for them and
 * not the machine's real IOMMU.
 *
 * The page table is an xarray indexed by IOVA in 2K units; an IOMMU page
 * is one multi-index entry covering all its units, holding its physical
 * address, size and permissions. Unmapping any part of a large page drops
 * all of it, as hardware does.
 *
 * Instances also differ in how MSIs reach the CPU: LARGE and SMALL
 * devices get an irq domain marked IRQ_DOMAIN_FLAG_ISOLATED_MSI, as
 * devices behind interrupt remapping do; SW_MSI devices get none and a
 * software-managed MSI window, as on an ARM SMMU without isolation.
 *
 * Nesting (LARGE only, as on VT-d with scalable mode; the others refuse
 * to allocate a nest parent): a paging domain allocated with
 * IOMMU_HWPT_ALLOC_NEST_PARENT is the second stage under nested domains
 * built from &struct iommu_hwpt_vtd_s1, and under PASID tables (below)
 * whose entries point at such first stages. A nested domain's DMA is
 * translated by the user's first-stage table, which the mock reads from
 * the parent's memory at DMA time, as the hardware would; it never copies
 * the table, so only its IOTLB stands between a changed entry and the
 * DMA. The table is the x86-64 4-level format (48-bit input, 4K, 2M and
 * 1G leaves). Of an entry the mock uses:
 *
 *   bit 0     present: clear at any level faults
 *   bit 1     writable: a write needs it at every level
 *   bit 2     user: needed at every level (the DMA is a user request:
 *             the only mode offered is flags 0, no SRE)
 *   bit 7     page size: a leaf at the PDPTE (1G) or PDE (2M); reserved
 *             (faults) in the PML4E; the PAT bit in a PTE, ignored
 *   51:12     address of the next table or of the page
 *
 * and it faults on these reserved bits:
 *
 *   51:48     at every level: the guest's address width is 48 bits
 *   29:13     in a 1G leaf, 20:13 in a 2M leaf (bit 12 there is PAT)
 *   bit 7     in a PML4E
 *
 * Everything else is ignored: 6:3 and 11:8 (caching, accessed, dirty,
 * global, software bits: the mock never writes accessed or dirty back),
 * 62:52, and 63 (execute-disable, meaningless for DMA). An IOVA that is
 * not canonical for 48 bits (63:47 not all equal) faults before the walk.
 * Every read of the table is a GPA translated through the parent, which
 * must grant read; the output GPA is translated through the parent too,
 * which must grant the DMA's access.
 *
 * Dirty tracking (LARGE only; the others say they cannot, so an IOASID
 * with one of their devices reports conservatively): a paging domain
 * allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING has a dirty bit in each
 * entry, which DMA writes set while tracking is on: a write through the
 * domain, or through a nested domain over it at the GPA its first stage
 * reached. A large page has one bit, so it is reported whole. An IOTLB
 * entry remembers whether its walk set the bit, as VT-d's does, so a
 * write through an entry filled by a read walks again; clearing bits or
 * turning tracking on empties the IOTLBs above, as the flush that must
 * follow either would. read_and_clear_dirty runs with DMA held off.
 *
 * The IOTLB of a nested domain caches successful walks only (as VT-d
 * without caching mode: a fault is never cached), one 4K translation per
 * entry whatever the leaf size, with the access the first stage and the
 * parent together allowed when it was filled. A hit is final: a DMA that
 * needs more than the entry allows faults rather than walk again, until
 * the guest invalidates. Walks through upper levels are not cached, so
 * IOMMU_VTD_INV_FLAGS_LEAF changes nothing. Translations depend on the
 * domain, not on who issues the DMA, so one IOTLB per nested domain
 * serves every device and every PASID it is set on. It holds at most
 * IOASID_MOCK_IOTLB_MAX entries and forgets all of them when full, so a
 * guest cannot grow it. An unmap in the parent empties the IOTLB of every
 * nested domain over it before it returns: the parent's owner unpins
 * pages once unmap is done.
 *
 * PASIDs: every device claims IOASID_MOCK_PASID_BITS of them, and the
 * core grants no more than its instance has: that many on LARGE, none
 * elsewhere. A DMA may carry a PASID, and each PASID of a device may be
 * set on a paging or VT-d nested domain of its own, which then
 * translates it. DMA with a PASID set on nothing, or one the device does
 * not have, faults.
 *
 * The other kind of nested domain holds a guest's PASID table, as in the
 * DOC section of ioasid_test.h. It is only ever a RID's domain, and while
 * a device's RID is on one the table decides all of that device's DMA:
 * entry 0 without a PASID, entry n with PASID n; a PASID past the table
 * faults, and what the device's PASIDs are set on is not looked at. An
 * entry is read through the parent as a first-stage entry is; one not
 * present or with a reserved bit set faults; else it is the root of a
 * VT-d first stage, walked as above. Two caches stand between the guest's
 * tables and the DMA, as in hardware:
 *
 *   the PASID cache   roots read from present entries, by PASID; at most
 *                     IOASID_MOCK_PASID_CACHE_MAX, all forgotten when full
 *   the IOTLB         as a nested domain's, one for the whole table, each
 *                     entry tagged with its PASID (the IOTLB of each
 *                     PASID, in one bound)
 *
 * The guest invalidates both per PASID: until it does, DMA does not see
 * its change to an entry of the table, nor to a first stage already
 * walked. A cache may always miss, so a change may show earlier (after a
 * full cache forgot all, say), never later. A hit in the IOTLB needs no
 * PASID entry, as in hardware. An unmap in the parent empties the IOTLB
 * and keeps the PASID cache, which holds guest addresses only.
 * A VT-d nested domain may be set on a PASID of a device whose RID is on
 * a table: its own IOTLB then serves no DMA, but a guest that bound a
 * first stage for a PASID invalidates through it, so its invalidations
 * reach the IOTLB of every table over its parent, for each PASID it is
 * set on.
 *
 * Whatever a guest writes in its tables, a DMA through them reads only
 * memory the parent maps readable, walks a bounded number of levels, and
 * at worst faults.
 *
 * Lock order, outer first:
 *   mdev->lock       a device's domains (its RID's, its PASIDs'): read
 *                    across its DMA, written by attach and set_dev_pasid
 *   md->dma_lock     a paging domain: read across every DMA through it or
 *                    through a nested domain over it; written by its
 *                    unmap, by a nested domain's invalidation, to add to
 *                    or remove from md->nested, and to count the PASIDs
 *                    a VT-d nested domain over it is set on
 *   iotlb->lock,     a nested domain's IOTLB entries and their count; a
 *   pasid_cache.lock table's cached roots and their count: never together
 * The xarrays' own locks are innermost. The owner of a domain (for
 * /dev/ioasid, space->lock) serializes its map and unmap. No user address
 * is accessed, so no page fault taken, under any of these locks: an
 * invalidation copies each entry in before it locks.
 */
#include <linux/bitfield.h>
#include <linux/bitmap.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/irqdomain.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <uapi/linux/iommufd.h>

#include "ioasid_private.h"
#include "ioasid_test.h"

#define MOCK_UNIT_SHIFT		11

struct ioasid_mock_iommu {
	struct iommu_device iommu;
	struct fwnode_handle *fwnode;
	unsigned long pgsize_bitmap;
	u64 aperture_last;
	/* What its devices' reserved regions look like. */
	enum iommu_resv_type msi_type;	/* 0: no MSI window */
	u64 msi_start, msi_last;
	bool relaxable_direct;
	/*
	 * Whether its devices' MSIs are isolated, as interrupt remapping
	 * isolates them: through an MSI irq domain that says so.
	 */
	bool msi_isolated;
	/*
	 * It can walk a VT-d first stage over a nest-parent domain. Only
	 * with 4K pages or larger, so that a 4K first-stage page is always
	 * contiguous in the parent.
	 */
	bool nesting;
	/* Its devices' PASIDs: 1 << pasid_bits, or none if 0. */
	unsigned int pasid_bits;
	/* Its domains can record the pages DMA writes */
	bool dirty;
	struct irq_domain *msi_domain;
	/* Where devices with IOASID_MOCK_DEVICE_SHARE_GROUP go. */
	struct iommu_group *shared_group;
};

/* Serializes the making of a shared group; the core probes in parallel. */
static DEFINE_MUTEX(ioasid_mock_group_lock);

static struct ioasid_mock_iommu ioasid_mock_iommus[IOASID_MOCK_NUM_INSTANCES] = {
	[IOASID_MOCK_INSTANCE_LARGE] = {
		.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
		.aperture_last = BIT_ULL(48) - 1,
		.msi_isolated = true,
		.nesting = true,
		.pasid_bits = IOASID_MOCK_PASID_BITS,
		.dirty = true,
	},
	[IOASID_MOCK_INSTANCE_SMALL] = {
		.pgsize_bitmap = SZ_2K | SZ_64K,
		.aperture_last = BIT_ULL(39) - 1,
		.msi_type = IOMMU_RESV_MSI,
		.msi_start = IOASID_MOCK_MSI_START,
		.msi_last = IOASID_MOCK_MSI_LAST,
		.msi_isolated = true,
	},
	/* ARM-like: MSIs are translated by the IOMMU, not isolated. */
	[IOASID_MOCK_INSTANCE_SW_MSI] = {
		.pgsize_bitmap = SZ_4K | SZ_2M,
		.aperture_last = BIT_ULL(48) - 1,
		.msi_type = IOMMU_RESV_SW_MSI,
		.msi_start = IOASID_MOCK_SW_MSI_START,
		.msi_last = IOASID_MOCK_SW_MSI_LAST,
		.relaxable_direct = true,
	},
};

struct ioasid_mock_domain {
	struct iommu_domain domain;
	struct ioasid_mock_iommu *mock;
	/*
	 * Held for reading across a DMA, for writing by unmap: as an IOTLB
	 * flush waits for DMA in flight, no page is unmapped (and so
	 * unpinned) under a DMA that translated it.
	 */
	struct rw_semaphore dma_lock;
	struct xarray ptes;
	/* Every DMA snoops, whatever its PTE says; see enforce_cc. */
	bool enforce_cc;
	/* Allocated with IOMMU_HWPT_ALLOC_NEST_PARENT: nested may sit on it */
	bool nest_parent;
	/* DMA writes set MOCK_PTE_DIRTY; changed under dma_lock, written */
	bool dirty_tracking;
	/* struct ioasid_mock_nested over it, both kinds: unmap flushes them */
	struct list_head nested;
};

/* The cached 4K translations of one nested domain; see the top comment. */
struct ioasid_mock_iotlb {
	struct mutex lock;		/* the fields below */
	struct xarray entries;		/* by IOVA >> MOCK_S1_SHIFT, or tagged */
	unsigned int count;
};

/* A PASID table's cached roots; see the top comment. */
struct ioasid_mock_pasid_cache {
	struct mutex lock;		/* the fields below */
	struct xarray entries;		/* by PASID: root >> MOCK_S1_SHIFT */
	unsigned int count;
};

/*
 * A nested domain over a nest-parent domain: a user's VT-d first stage
 * (ioasid_mock_nested_ops) or a user's PASID table
 * (ioasid_mock_pasid_table_ops).
 */
struct ioasid_mock_nested {
	struct iommu_domain domain;
	/* Outlives it: the core frees a nested domain before its parent. */
	struct ioasid_mock_domain *parent;
	struct list_head parent_link;	/* in parent->nested, its dma_lock */
	/* A table's is indexed by ioasid_mock_table_index(). */
	struct ioasid_mock_iotlb iotlb;
	/* A VT-d first stage */
	u64 s1_root;			/* GPA of the PML4 */
	/*
	 * By PASID, how many devices it is set on under it, for the flush
	 * of tables that decide the PASID instead; parent->dma_lock.
	 */
	struct xarray pasids;
	/* A PASID table */
	u64 table;			/* GPA of entry 0 */
	unsigned int pasid_bits;
	struct ioasid_mock_pasid_cache pasid_cache;
};

/* Per device: the domains it is attached to now, for its DMA. */
struct ioasid_mock_dev {
	/* Held for reading across a DMA, for writing by an attach. */
	struct rw_semaphore lock;
	struct iommu_domain *domain;	/* NULL: blocked, identity */
	struct xarray pasids;		/* by PASID: struct iommu_domain * */
	/*
	 * Page request groups by PRG index, as a device keeps them: a fixed
	 * table, and which entries wait for an answer. Under prg_lock.
	 */
	spinlock_t prg_lock;
	struct ioasid_mock_prg *prgs;	/* MOCK_PRG_INDEX_MAX + 1 */
	unsigned long *prg_taken;
	/* Answers to groups nobody waited for */
	u64 unwaited_answers;
};

/*
 * A page request group a DMA waits on. One nobody waits for (its DMA was
 * killed, or it was only posted: ioasid_mock_device_page_request()) is
 * abandoned, and its answer, when it comes, frees it: the index stays
 * taken till then, as a device's would.
 */
struct ioasid_mock_prg {
	struct completion answered;
	u32 code;			/* enum iommu_page_response_code */
	u32 index;
	bool abandoned;
};

/* PCIe's PRG index is 9 bits wide. */
#define MOCK_PRG_INDEX_MAX	511
/* The most pages one group asks for, and the groups one DMA may raise. */
#define MOCK_PRG_PAGES		8
#define MOCK_PRG_ROUNDS		64

/* Where page requests go; the iommu core's, like a real IOMMU's. */
static struct iopf_queue *ioasid_mock_iopf_queue;

/* The kinds are told apart by their ops, so the ops come first. */
static const struct iommu_domain_ops ioasid_mock_domain_ops;
static const struct iommu_domain_ops ioasid_mock_nested_ops;
static const struct iommu_domain_ops ioasid_mock_pasid_table_ops;

static void ioasid_mock_dev_set_domain(struct device *dev,
				       struct iommu_domain *domain)
{
	struct ioasid_mock_dev *mdev = dev_iommu_priv_get(dev);

	down_write(&mdev->lock);
	mdev->domain = domain;
	up_write(&mdev->lock);
}

static u32 ioasid_mock_device_flags(struct device *dev)
{
	u32 *flags = dev_get_platdata(dev);

	return flags ? *flags : 0;
}

/*
 * A PTE: physical address in units, log2 of the page size, and the prot
 * bits it was mapped with (IOMMU_READ, IOMMU_WRITE, IOMMU_CACHE), so a
 * test sees exactly what the subsystem asked for.
 */
#define MOCK_PTE_PROT		GENMASK(2, 0)
#define MOCK_PTE_SHIFT		GENMASK(8, 3)
#define MOCK_PTE_UNIT		GENMASK(61, 9)
#define MOCK_PTE_DIRTY		BIT(62)

static void *ioasid_mock_pte(phys_addr_t phys, size_t pgsize, int prot)
{
	return xa_mk_value(FIELD_PREP(MOCK_PTE_UNIT, phys >> MOCK_UNIT_SHIFT) |
			   FIELD_PREP(MOCK_PTE_SHIFT, __ffs(pgsize)) |
			   FIELD_PREP(MOCK_PTE_PROT, prot & (IOMMU_READ |
							     IOMMU_WRITE |
							     IOMMU_CACHE)));
}

static size_t ioasid_mock_pte_size(void *pte)
{
	return 1UL << FIELD_GET(MOCK_PTE_SHIFT, xa_to_value(pte));
}

static struct ioasid_mock_domain *
ioasid_mock_to_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct ioasid_mock_domain, domain);
}

static struct ioasid_mock_nested *
ioasid_mock_to_nested(struct iommu_domain *domain)
{
	return container_of(domain, struct ioasid_mock_nested, domain);
}

/*
 * The paging domain that holds the mappings the subsystem made for
 * @domain: itself, or a nested domain's parent. NULL for the static
 * domains and for domains that are not the mock's.
 */
static struct ioasid_mock_domain *
ioasid_mock_paging_of(struct iommu_domain *domain)
{
	if (domain->ops == &ioasid_mock_domain_ops)
		return ioasid_mock_to_domain(domain);
	if (domain->ops == &ioasid_mock_nested_ops ||
	    domain->ops == &ioasid_mock_pasid_table_ops)
		return ioasid_mock_to_nested(domain)->parent;
	return NULL;
}

static struct ioasid_mock_iommu *ioasid_mock_of(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	unsigned int i;

	for (i = 0; fwspec && i != ARRAY_SIZE(ioasid_mock_iommus); i++)
		if (ioasid_mock_iommus[i].fwnode == fwspec->iommu_fwnode)
			return &ioasid_mock_iommus[i];
	return NULL;
}

static int ioasid_mock_lookup(struct ioasid_mock_domain *md, u64 iova,
			      phys_addr_t *phys, size_t *pgsize, int *prot)
{
	unsigned long v;
	void *pte;

	pte = xa_load(&md->ptes, iova >> MOCK_UNIT_SHIFT);
	if (!pte)
		return -ENOENT;
	v = xa_to_value(pte);
	*pgsize = ioasid_mock_pte_size(pte);
	*phys = (FIELD_GET(MOCK_PTE_UNIT, v) << MOCK_UNIT_SHIFT) +
		(iova & (*pgsize - 1));
	*prot = FIELD_GET(MOCK_PTE_PROT, v);
	return 0;
}

/*
 * A DMA write through @md reached @iova: set the dirty bit of the entry,
 * all of a large page's, if tracking is on. Called with md->dma_lock held
 * for reading; the xarray's lock orders racing writers.
 */
static void ioasid_mock_mark_dirty(struct ioasid_mock_domain *md, u64 iova)
{
	unsigned long index = iova >> MOCK_UNIT_SHIFT;
	void *pte;

	if (!md->dirty_tracking)
		return;
	xa_lock(&md->ptes);
	pte = xa_load(&md->ptes, index);
	/* An existing entry: the store replaces it whole, allocating nothing. */
	if (pte && !(xa_to_value(pte) & MOCK_PTE_DIRTY))
		__xa_store(&md->ptes, index,
			   xa_mk_value(xa_to_value(pte) | MOCK_PTE_DIRTY),
			   GFP_ATOMIC);
	xa_unlock(&md->ptes);
}

/*
 * What the subsystem mapped at @iova. For a nested domain that is its
 * parent's mapping: the subsystem maps only there, the guest's table is
 * not its business.
 */
int ioasid_mock_translate(struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t *phys, size_t *pgsize, int *prot)
{
	struct ioasid_mock_domain *md = ioasid_mock_paging_of(domain);

	if (!md)
		return -ENOENT;
	return ioasid_mock_lookup(md, iova, phys, pgsize, prot);
}
EXPORT_SYMBOL_NS_GPL(ioasid_mock_translate, IOASID_TEST);

/* The first stage, as described at the top. */
#define MOCK_S1_SHIFT		12
#define MOCK_S1_LEVELS		4
#define MOCK_S1_LEVEL_BITS	9
#define MOCK_S1_INDEX		GENMASK_ULL(MOCK_S1_LEVEL_BITS - 1, 0)
#define MOCK_S1_VA_BITS		48
#define MOCK_S1_P		BIT_ULL(0)
#define MOCK_S1_RW		BIT_ULL(1)
#define MOCK_S1_US		BIT_ULL(2)
#define MOCK_S1_PS		BIT_ULL(7)
#define MOCK_S1_ADDR		GENMASK_ULL(47, 12)
#define MOCK_S1_RSVD		GENMASK_ULL(51, 48)
/* The bits of a page number in the 48-bit space. */
#define MOCK_S1_PAGE_BITS	(MOCK_S1_VA_BITS - MOCK_S1_SHIFT)

/*
 * An IOTLB entry: a 4K page, the IOMMU_READ/IOMMU_WRITE it allows, and
 * whether the walk that filled it set the parent's dirty bit.
 */
#define IOASID_MOCK_IOTLB_MAX	4096
#define MOCK_TLB_PROT		GENMASK(1, 0)
#define MOCK_TLB_DIRTY		BIT(2)
#define MOCK_TLB_ADDR		GENMASK(61, MOCK_S1_SHIFT)
#define MOCK_TLB_INDEX_MAX	(ULONG_MAX >> MOCK_S1_SHIFT)

/* More PASIDs than a guest's devices use at once. */
#define IOASID_MOCK_PASID_CACHE_MAX	256

/* A PASID table's DMA that has not read its entry yet: never 4K aligned. */
#define MOCK_NO_ROOT		U64_MAX

/* Per level, from the PTE up: what a leaf there must keep clear. */
static const u64 ioasid_mock_s1_leaf_rsvd[MOCK_S1_LEVELS - 1] = {
	0, GENMASK_ULL(20, 13), GENMASK_ULL(29, 13),
};

static void ioasid_mock_iotlb_init(struct ioasid_mock_iotlb *tlb)
{
	mutex_init(&tlb->lock);
	xa_init(&tlb->entries);
	tlb->count = 0;
}

static void ioasid_mock_iotlb_destroy(struct ioasid_mock_iotlb *tlb)
{
	xa_destroy(&tlb->entries);
	mutex_destroy(&tlb->lock);
}

static void ioasid_mock_iotlb_clear(struct ioasid_mock_iotlb *tlb)
{
	guard(mutex)(&tlb->lock);
	xa_destroy(&tlb->entries);
	tlb->count = 0;
}

/* Forget the translations at indexes @first to @last, inclusive. */
static void ioasid_mock_iotlb_flush(struct ioasid_mock_iotlb *tlb,
				    unsigned long first, unsigned long last)
{
	unsigned long index;
	void *entry;

	guard(mutex)(&tlb->lock);
	xa_for_each_range(&tlb->entries, index, entry, first, last) {
		xa_erase(&tlb->entries, index);
		tlb->count--;
	}
}

static bool ioasid_mock_iotlb_lookup(struct ioasid_mock_iotlb *tlb,
				     unsigned long index, phys_addr_t *page,
				     int *prot, bool *dirty)
{
	void *entry = xa_load(&tlb->entries, index);

	if (!entry)
		return false;
	*page = xa_to_value(entry) & MOCK_TLB_ADDR;
	*prot = FIELD_GET(MOCK_TLB_PROT, xa_to_value(entry));
	*dirty = xa_to_value(entry) & MOCK_TLB_DIRTY;
	return true;
}

/*
 * Remember a translation. Failing to is harmless: a cache may always
 * miss, and the next DMA walks again.
 */
static void ioasid_mock_iotlb_fill(struct ioasid_mock_iotlb *tlb,
				   unsigned long index, phys_addr_t phys,
				   int prot, bool dirty)
{
	void *old;

	guard(mutex)(&tlb->lock);
	if (tlb->count >= IOASID_MOCK_IOTLB_MAX) {
		xa_destroy(&tlb->entries);
		tlb->count = 0;
	}
	old = xa_store(&tlb->entries, index,
		       xa_mk_value((phys & MOCK_TLB_ADDR) |
				   FIELD_PREP(MOCK_TLB_PROT, prot) |
				   (dirty ? MOCK_TLB_DIRTY : 0)),
		       GFP_KERNEL_ACCOUNT);
	/*
	 * Counted only if new: a DMA racing on the same miss may have
	 * stored it already, or the store failed.
	 */
	if (!old)
		tlb->count++;
}

static void ioasid_mock_pasid_cache_init(struct ioasid_mock_pasid_cache *pc)
{
	mutex_init(&pc->lock);
	xa_init(&pc->entries);
	pc->count = 0;
}

static void
ioasid_mock_pasid_cache_destroy(struct ioasid_mock_pasid_cache *pc)
{
	xa_destroy(&pc->entries);
	mutex_destroy(&pc->lock);
}

static void ioasid_mock_pasid_cache_drop(struct ioasid_mock_pasid_cache *pc,
					 ioasid_t pasid)
{
	guard(mutex)(&pc->lock);
	if (xa_erase(&pc->entries, pasid))
		pc->count--;
}

/* As an IOTLB fill: bounded, and failing is harmless. */
static void ioasid_mock_pasid_cache_fill(struct ioasid_mock_pasid_cache *pc,
					 ioasid_t pasid, u64 root)
{
	void *old;

	guard(mutex)(&pc->lock);
	if (pc->count >= IOASID_MOCK_PASID_CACHE_MAX) {
		xa_destroy(&pc->entries);
		pc->count = 0;
	}
	old = xa_store(&pc->entries, pasid,
		       xa_mk_value(root >> MOCK_S1_SHIFT), GFP_KERNEL_ACCOUNT);
	if (!old)
		pc->count++;
}

/*
 * Read the table entry at guest physical @gpa, through the parent: a
 * first-stage entry or a PASID table's, both little-endian.
 */
static int ioasid_mock_s1_read(struct ioasid_mock_domain *parent, u64 gpa,
			       u64 *entry)
{
	phys_addr_t phys;
	size_t pgsize;
	void *va;
	int prot;

	if (ioasid_mock_lookup(parent, gpa, &phys, &pgsize, &prot) ||
	    !(prot & IOMMU_READ) || !pfn_valid(PHYS_PFN(phys)))
		return -EIO;
	/* 8-byte aligned, so inside one page of the parent and of the CPU. */
	va = kmap_local_page(pfn_to_page(PHYS_PFN(phys)));
	*entry = le64_to_cpu(READ_ONCE(*(__le64 *)(va + offset_in_page(phys))));
	kunmap_local(va);
	return 0;
}

/*
 * Walk the first stage at @root, over @parent, for the 4K page at @iova:
 * the host page it reaches, the access (IOMMU_READ, IOMMU_WRITE) both
 * stages allow, and the GPA between them. Depth is fixed, so a table
 * that points at itself only wastes a walk.
 */
static int ioasid_mock_s1_walk(struct ioasid_mock_domain *parent, u64 root,
			       u64 iova, phys_addr_t *phys, int *prot,
			       u64 *out_gpa)
{
	u64 table = root, entry, gpa;
	bool writable = true;
	size_t pgsize;
	int level, parent_prot;

	/* Level 0, the PTE, always ends the walk. */
	for (level = MOCK_S1_LEVELS - 1; ; level--) {
		unsigned int shift = MOCK_S1_SHIFT + MOCK_S1_LEVEL_BITS * level;
		u64 index = (iova >> shift) & MOCK_S1_INDEX;

		if (ioasid_mock_s1_read(parent, table + index * 8, &entry))
			return -EIO;
		/* The one fault the guest can mend: see page requests. */
		if (!(entry & MOCK_S1_P))
			return -ENOENT;
		if (!(entry & MOCK_S1_US) || entry & MOCK_S1_RSVD)
			return -EIO;
		writable = writable && (entry & MOCK_S1_RW);
		if (level && !(entry & MOCK_S1_PS)) {
			table = entry & MOCK_S1_ADDR;
			continue;
		}
		if (level == MOCK_S1_LEVELS - 1 ||
		    entry & ioasid_mock_s1_leaf_rsvd[level])
			return -EIO;
		gpa = (entry & MOCK_S1_ADDR & ~GENMASK_ULL(shift - 1, 0)) |
		      (iova & GENMASK_ULL(shift - 1, 0));
		break;
	}

	if (ioasid_mock_lookup(parent, gpa, phys, &pgsize, &parent_prot) ||
	    !pfn_valid(PHYS_PFN(*phys)))
		return -EIO;
	*prot = parent_prot & IOMMU_READ;
	if (writable)
		*prot |= parent_prot & IOMMU_WRITE;
	*out_gpa = gpa;
	return 0;
}

/*
 * Where a table's IOTLB keeps PASID @pasid's translation of the
 * canonical @iova: the PASID above the page's number in the 48-bit
 * space, so that each PASID's translations are one range of indexes.
 */
static unsigned long ioasid_mock_table_index(ioasid_t pasid, u64 iova)
{
	return (unsigned long)pasid << MOCK_S1_PAGE_BITS |
	       ((iova >> MOCK_S1_SHIFT) &
		GENMASK_ULL(MOCK_S1_PAGE_BITS - 1, 0));
}

/*
 * Forget, in table @nd's IOTLB, PASID @pasid's translations of IOVA pages
 * @first to @last, numbered as in a VT-d nested domain's IOTLB: across
 * all 64 bits. Only canonical pages are cached: in the PASID's range of
 * indexes the lower half of the 48-bit space comes first, then the upper
 * half, whose page numbers start @hole higher.
 */
static void ioasid_mock_table_flush(struct ioasid_mock_nested *nd,
				    ioasid_t pasid, unsigned long first,
				    unsigned long last)
{
	const unsigned long half = BIT_ULL(MOCK_S1_PAGE_BITS - 1);
	const unsigned long hole = MOCK_TLB_INDEX_MAX + 1 - 2 * half;
	unsigned long base = ioasid_mock_table_index(pasid, 0);

	if (first < half)
		ioasid_mock_iotlb_flush(&nd->iotlb, base + first,
					base + min(last, half - 1));
	if (last >= hole + half)
		ioasid_mock_iotlb_flush(&nd->iotlb,
					base + max(first, hole + half) - hole,
					base + last - hole);
}

/* What a DMA goes through, found once as it starts. */
struct ioasid_mock_dma {
	struct iommu_domain *domain;	/* paging, or nested of either kind */
	ioasid_t pasid;			/* for a table: the entry */
	u64 root;			/* the first stage, or MOCK_NO_ROOT */
	bool write;
};

/*
 * The root of the first stage PASID @pasid of table @nd points at: from
 * the PASID cache, or from the table. Only an entry that is present and
 * well formed is cached, as only walks that succeed are.
 */
static int ioasid_mock_table_root(struct ioasid_mock_nested *nd,
				  ioasid_t pasid, u64 *root)
{
	void *cached = xa_load(&nd->pasid_cache.entries, pasid);
	u64 gpa, entry;

	if (cached) {
		*root = (u64)xa_to_value(cached) << MOCK_S1_SHIFT;
		return 0;
	}
	/* A table at the top of the space does not wrap to its bottom. */
	if (check_add_overflow(nd->table, (u64)pasid * sizeof(entry), &gpa) ||
	    ioasid_mock_s1_read(nd->parent, gpa, &entry))
		return -EIO;
	if (!(entry & IOASID_MOCK_PASID_ENTRY_PRESENT) ||
	    entry & ~(IOASID_MOCK_PASID_ENTRY_PRESENT |
		      IOASID_MOCK_PASID_ENTRY_ROOT))
		return -EIO;
	*root = entry & IOASID_MOCK_PASID_ENTRY_ROOT;
	ioasid_mock_pasid_cache_fill(&nd->pasid_cache, pasid, *root);
	return 0;
}

/*
 * Translate one 4K-or-less chunk of @dma at @iova through nested domain
 * @nd, either kind: from its IOTLB, or by a walk that fills it. While the
 * parent tracks dirty pages, a write through an entry a read filled walks
 * again, to set the parent's bit.
 */
static int ioasid_mock_nested_dma(struct ioasid_mock_nested *nd,
				  struct ioasid_mock_dma *dma, u64 iova,
				  phys_addr_t *phys)
{
	unsigned long index = iova >> MOCK_S1_SHIFT;
	int need = dma->write ? IOMMU_WRITE : IOMMU_READ;
	bool hit, dirty = false;
	phys_addr_t page;
	u64 gpa;
	int prot;

	if ((u64)sign_extend64(iova, MOCK_S1_VA_BITS - 1) != iova)
		return -EIO;
	if (nd->domain.ops == &ioasid_mock_pasid_table_ops)
		index = ioasid_mock_table_index(dma->pasid, iova);
	hit = ioasid_mock_iotlb_lookup(&nd->iotlb, index, &page, &prot,
				       &dirty);
	if (!hit || (dma->write && !dirty && nd->parent->dirty_tracking)) {
		/* As in hardware, a hit needs no PASID entry. */
		if (dma->root == MOCK_NO_ROOT &&
		    ioasid_mock_table_root(nd, dma->pasid, &dma->root))
			return -EIO;
		int ret = ioasid_mock_s1_walk(nd->parent, dma->root,
					      iova & ~(SZ_4K - 1ULL), &page,
					      &prot, &gpa);

		if (ret)
			return ret;
		if (prot & need) {
			if (dma->write)
				ioasid_mock_mark_dirty(nd->parent, gpa);
			ioasid_mock_iotlb_fill(&nd->iotlb, index, page, prot,
					       dma->write);
		}
	}
	/* Not allowed (by either stage): a page request may mend it. */
	if (!(prot & need))
		return -EACCES;
	*phys = page + (iova & (SZ_4K - 1));
	return 0;
}

static int ioasid_mock_map_pages(struct iommu_domain *domain,
				 unsigned long iova, phys_addr_t paddr,
				 size_t pgsize, size_t pgcount, int prot,
				 gfp_t gfp, size_t *mapped)
{
	struct ioasid_mock_domain *md = ioasid_mock_to_domain(domain);

	for (; pgcount; pgcount--) {
		unsigned long first = iova >> MOCK_UNIT_SHIFT;
		unsigned long last = (iova + pgsize - 1) >> MOCK_UNIT_SHIFT;
		unsigned long index = first;
		int ret;

		if (xa_find(&md->ptes, &index, last, XA_PRESENT))
			return -EEXIST;
		ret = xa_err(xa_store_range(&md->ptes, first, last,
					    ioasid_mock_pte(paddr, pgsize, prot), gfp));
		if (ret)
			return ret;
		*mapped += pgsize;
		iova += pgsize;
		paddr += pgsize;
	}
	return 0;
}

/* Empty every IOTLB above @md: what they cached may be out of date. */
static void ioasid_mock_flush_nested(struct ioasid_mock_domain *md)
{
	struct ioasid_mock_nested *nd;

	lockdep_assert_held_write(&md->dma_lock);
	list_for_each_entry(nd, &md->nested, parent_link)
		ioasid_mock_iotlb_clear(&nd->iotlb);
}

static size_t ioasid_mock_unmap_pages(struct iommu_domain *domain,
				      unsigned long iova, size_t pgsize,
				      size_t pgcount,
				      struct iommu_iotlb_gather *gather)
{
	struct ioasid_mock_domain *md = ioasid_mock_to_domain(domain);
	size_t want = pgsize * pgcount, done = 0;

	guard(rwsem_write)(&md->dma_lock);
	while (done < want) {
		unsigned long cur = iova + done;
		void *pte = xa_erase(&md->ptes, cur >> MOCK_UNIT_SHIFT);
		size_t size;

		if (!pte)
			break;
		/* All of a large page goes, wherever inside it we hit. */
		size = ioasid_mock_pte_size(pte);
		done += size - (cur & (size - 1));
	}
	/*
	 * The IOTLBs above are keyed by the guest's IOVA, not by what they
	 * reach in this domain: all of them go, each PASID's of a table too.
	 * A table's PASID cache holds guest addresses only, and stays.
	 */
	if (done)
		ioasid_mock_flush_nested(md);
	return done;
}

static phys_addr_t ioasid_mock_iova_to_phys(struct iommu_domain *domain,
					    dma_addr_t iova)
{
	phys_addr_t phys;
	size_t pgsize;
	int prot;

	if (ioasid_mock_lookup(ioasid_mock_to_domain(domain), iova, &phys,
			       &pgsize, &prot))
		return 0;
	return phys;
}

/* Whether @dev may use the mappings of @md, directly or nested. */
static int ioasid_mock_check_attach(struct ioasid_mock_domain *md,
				    struct device *dev)
{
	/* A domain belongs to the instance that made it, as in hardware. */
	if (md->mock != ioasid_mock_of(dev))
		return -EINVAL;
	/* As VT-d without snoop control: such a device cannot join. */
	if (md->enforce_cc && ioasid_mock_device_flags(dev) &
			      IOASID_MOCK_DEVICE_NO_ENFORCE_CC)
		return -EINVAL;
	return 0;
}

static int ioasid_mock_attach_dev(struct iommu_domain *domain,
				  struct device *dev)
{
	int ret;

	ret = ioasid_mock_check_attach(ioasid_mock_to_domain(domain), dev);
	if (ret)
		return ret;
	ioasid_mock_dev_set_domain(dev, domain);
	return 0;
}

/*
 * Count VT-d nested domain @domain as set on @pasid of one more device,
 * for ioasid_mock_nested_flush(); other kinds are not counted.
 */
static int ioasid_mock_pasid_get(struct iommu_domain *domain, ioasid_t pasid)
{
	struct ioasid_mock_nested *nd;
	unsigned long count;
	void *entry;

	if (domain->ops != &ioasid_mock_nested_ops)
		return 0;
	nd = ioasid_mock_to_nested(domain);
	guard(rwsem_write)(&nd->parent->dma_lock);
	entry = xa_load(&nd->pasids, pasid);
	count = entry ? xa_to_value(entry) : 0;
	return xa_err(xa_store(&nd->pasids, pasid, xa_mk_value(count + 1),
			       GFP_KERNEL_ACCOUNT));
}

static void ioasid_mock_pasid_put(struct iommu_domain *domain, ioasid_t pasid)
{
	struct ioasid_mock_nested *nd;
	unsigned long count;
	void *entry;

	if (domain->ops != &ioasid_mock_nested_ops)
		return;
	nd = ioasid_mock_to_nested(domain);
	guard(rwsem_write)(&nd->parent->dma_lock);
	entry = xa_load(&nd->pasids, pasid);
	if (WARN_ON_ONCE(!entry))
		return;
	count = xa_to_value(entry);
	/* Storing over an entry allocates nothing, so cannot fail. */
	if (count > 1)
		xa_store(&nd->pasids, pasid, xa_mk_value(count - 1),
			 GFP_KERNEL_ACCOUNT);
	else
		xa_erase(&nd->pasids, pasid);
}

/*
 * Paging and VT-d nested domains only: the DMA @dev tags with @pasid
 * goes through @domain from now on, unless a table on the RID decides.
 * It replaces whatever was set there, @old included.
 */
static int ioasid_mock_set_dev_pasid(struct iommu_domain *domain,
				     struct device *dev, ioasid_t pasid,
				     struct iommu_domain *old)
{
	struct ioasid_mock_dev *mdev = dev_iommu_priv_get(dev);
	struct iommu_domain *prev;
	int ret;

	ret = ioasid_mock_check_attach(ioasid_mock_paging_of(domain), dev);
	if (ret)
		return ret;
	guard(rwsem_write)(&mdev->lock);
	ret = ioasid_mock_pasid_get(domain, pasid);
	if (ret)
		return ret;
	prev = xa_store(&mdev->pasids, pasid, domain, GFP_KERNEL);
	if (xa_is_err(prev)) {
		ioasid_mock_pasid_put(domain, pasid);
		return xa_err(prev);
	}
	if (prev)
		ioasid_mock_pasid_put(prev, pasid);
	return 0;
}

/* Its DMA with @pasid faults from now on, unless a table decides. */
static void ioasid_mock_remove_dev_pasid(struct device *dev, ioasid_t pasid,
					 struct iommu_domain *domain)
{
	struct ioasid_mock_dev *mdev = dev_iommu_priv_get(dev);
	struct iommu_domain *prev;

	guard(rwsem_write)(&mdev->lock);
	prev = xa_erase(&mdev->pasids, pasid);
	if (prev)
		ioasid_mock_pasid_put(prev, pasid);
}

/*
 * Like a VT-d second-level table: snooping can be forced only before
 * anything is mapped, since existing PTEs were written without it.
 */
static bool ioasid_mock_enforce_cc(struct iommu_domain *domain)
{
	struct ioasid_mock_domain *md = ioasid_mock_to_domain(domain);

	if (!md->enforce_cc && !xa_empty(&md->ptes))
		return false;
	md->enforce_cc = true;
	return true;
}

/* A nested domain's DMA ends in its parent, which decides. */
bool ioasid_mock_domain_enforces_cc(struct iommu_domain *domain)
{
	struct ioasid_mock_domain *md = ioasid_mock_paging_of(domain);

	return md && md->enforce_cc;
}
EXPORT_SYMBOL_NS_GPL(ioasid_mock_domain_enforces_cc, IOASID_TEST);

static void ioasid_mock_domain_free(struct iommu_domain *domain)
{
	struct ioasid_mock_domain *md = ioasid_mock_to_domain(domain);

	/* The core's promise; breaking it leaves nested domains dangling. */
	WARN_ON(!list_empty(&md->nested));
	xa_destroy(&md->ptes);
	kfree(md);
}

static const struct iommu_domain_ops ioasid_mock_domain_ops = {
	.attach_dev = ioasid_mock_attach_dev,
	.set_dev_pasid = ioasid_mock_set_dev_pasid,
	.map_pages = ioasid_mock_map_pages,
	.unmap_pages = ioasid_mock_unmap_pages,
	.iova_to_phys = ioasid_mock_iova_to_phys,
	.enforce_cache_coherency = ioasid_mock_enforce_cc,
	.free = ioasid_mock_domain_free,
};

static int ioasid_mock_set_dirty_tracking(struct iommu_domain *domain,
					  bool enabled)
{
	struct ioasid_mock_domain *md = ioasid_mock_to_domain(domain);

	guard(rwsem_write)(&md->dma_lock);
	md->dirty_tracking = enabled;
	/* Entries filled untracked must not spare a write its walk. */
	ioasid_mock_flush_nested(md);
	return 0;
}

/*
 * Report, and clear unless @flags has IOMMU_DIRTY_NO_CLEAR, the dirty
 * entries in [iova, iova + size): a large page whole, clipped to the
 * range. Neighbouring dirty entries go to the bitmap as one range.
 */
static int ioasid_mock_read_and_clear_dirty(struct iommu_domain *domain,
					    unsigned long iova, size_t size,
					    unsigned long flags,
					    struct iommu_dirty_bitmap *dirty)
{
	struct ioasid_mock_domain *md = ioasid_mock_to_domain(domain);
	u64 end = (u64)iova + size, run_start = 0, run_end = 0;
	bool clear = !(flags & IOMMU_DIRTY_NO_CLEAR), cleared = false;
	unsigned long index;
	void *pte;

	if (flags & ~IOMMU_DIRTY_NO_CLEAR)
		return -EINVAL;
	guard(rwsem_write)(&md->dma_lock);
	xa_for_each_range(&md->ptes, index, pte, iova >> MOCK_UNIT_SHIFT,
			  (end - 1) >> MOCK_UNIT_SHIFT) {
		unsigned long v = xa_to_value(pte);
		u64 pgsize = ioasid_mock_pte_size(pte);
		u64 start = ((u64)index << MOCK_UNIT_SHIFT) & ~(pgsize - 1);
		u64 from = max_t(u64, start, iova);
		u64 to = min(start + pgsize, end);

		if (!(v & MOCK_PTE_DIRTY))
			continue;
		if (clear) {
			xa_store(&md->ptes, index,
				 xa_mk_value(v & ~MOCK_PTE_DIRTY), GFP_KERNEL);
			cleared = true;
		}
		if (from == run_end) {
			run_end = to;
			continue;
		}
		if (run_end)
			iommu_dirty_bitmap_record(dirty, run_start,
						  run_end - run_start);
		run_start = from;
		run_end = to;
	}
	if (run_end)
		iommu_dirty_bitmap_record(dirty, run_start, run_end - run_start);
	/* A walk cached as dirty would not set the bit again. */
	if (cleared)
		ioasid_mock_flush_nested(md);
	return 0;
}

static const struct iommu_dirty_ops ioasid_mock_dirty_ops = {
	.set_dirty_tracking = ioasid_mock_set_dirty_tracking,
	.read_and_clear_dirty = ioasid_mock_read_and_clear_dirty,
};

static struct ioasid_mock_domain *
ioasid_mock_paging_alloc(struct ioasid_mock_iommu *mock, bool nest_parent)
{
	struct ioasid_mock_domain *md;

	md = kzalloc(sizeof(*md), GFP_KERNEL_ACCOUNT);
	if (!md)
		return ERR_PTR(-ENOMEM);
	md->mock = mock;
	init_rwsem(&md->dma_lock);
	xa_init(&md->ptes);
	md->nest_parent = nest_parent;
	INIT_LIST_HEAD(&md->nested);
	md->domain.pgsize_bitmap = mock->pgsize_bitmap;
	md->domain.geometry.aperture_start = 0;
	md->domain.geometry.aperture_end = mock->aperture_last;
	md->domain.geometry.force_aperture = true;
	md->domain.ops = &ioasid_mock_domain_ops;
	return md;
}

static struct iommu_domain *ioasid_mock_domain_alloc_paging(struct device *dev)
{
	struct ioasid_mock_iommu *mock = ioasid_mock_of(dev);
	struct ioasid_mock_domain *md;

	if (!mock)
		return ERR_PTR(-ENODEV);
	md = ioasid_mock_paging_alloc(mock, false);
	return IS_ERR(md) ? ERR_CAST(md) : &md->domain;
}

/* Either kind: a table is attached to RIDs only, by its lack of PASID op. */
static int ioasid_mock_nested_attach_dev(struct iommu_domain *domain,
					 struct device *dev)
{
	int ret;

	ret = ioasid_mock_check_attach(ioasid_mock_to_nested(domain)->parent,
				       dev);
	if (ret)
		return ret;
	ioasid_mock_dev_set_domain(dev, domain);
	return 0;
}

/*
 * The IOVA pages, numbered as IOTLB indexes, that @npages (non-zero)
 * from 4K-aligned @addr cover. Past the top of the IOVA space there is
 * nothing to drop; addr 0 with npages U64_MAX, "everything", lands here
 * too.
 */
static void ioasid_mock_inv_range(u64 addr, u64 npages, unsigned long *first,
				  unsigned long *last)
{
	*first = addr >> MOCK_S1_SHIFT;
	if (npages - 1 > MOCK_TLB_INDEX_MAX - *first)
		*last = MOCK_TLB_INDEX_MAX;
	else
		*last = *first + npages - 1;
}

/*
 * Forget IOVA pages @first to @last of VT-d nested domain @nd. Under the
 * parent's dma_lock: a walk in flight may have read an entry the guest
 * has since changed, and must not store what it found after the
 * invalidation that covered it.
 *
 * Where @nd is set on a PASID of a device whose RID is on a table, the
 * table decides that PASID's DMA, but the guest that bound @nd for the
 * PASID invalidates through @nd: so the same pages go from the IOTLB of
 * every table over the parent, for every PASID @nd is set on. Which
 * table serves which device is not looked at, so entries of the same
 * PASID of other devices may go too: harmless, as a cache may always
 * miss.
 */
static void ioasid_mock_nested_flush(struct ioasid_mock_nested *nd,
				     unsigned long first, unsigned long last)
{
	struct ioasid_mock_nested *table;
	unsigned long pasid;
	void *count;

	guard(rwsem_write)(&nd->parent->dma_lock);
	ioasid_mock_iotlb_flush(&nd->iotlb, first, last);
	if (xa_empty(&nd->pasids))
		return;
	list_for_each_entry(table, &nd->parent->nested, parent_link) {
		if (table->domain.ops != &ioasid_mock_pasid_table_ops)
			continue;
		xa_for_each(&nd->pasids, pasid, count)
			ioasid_mock_table_flush(table, pasid, first, last);
	}
}

static int
ioasid_mock_cache_invalidate_user(struct iommu_domain *domain,
				  struct iommu_user_data_array *array)
{
	struct ioasid_mock_nested *nd = ioasid_mock_to_nested(domain);
	struct iommu_hwpt_vtd_s1_invalidate inv;
	unsigned long first, last;
	int ret = 0;
	u32 i;

	if (array->type != IOMMU_HWPT_INVALIDATE_DATA_VTD_S1) {
		array->entry_num = 0;
		return -EINVAL;
	}
	for (i = 0; i < array->entry_num; i++) {
		ret = iommu_copy_struct_from_user_array(&inv, array,
							IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
							i, __reserved);
		if (ret)
			break;
		if (inv.flags & ~IOMMU_VTD_INV_FLAGS_LEAF || inv.__reserved ||
		    !IS_ALIGNED(inv.addr, SZ_4K) || !inv.npages) {
			ret = -EINVAL;
			break;
		}
		ioasid_mock_inv_range(inv.addr, inv.npages, &first, &last);
		ioasid_mock_nested_flush(nd, first, last);
	}
	array->entry_num = i;
	return ret;
}

/* The pages a table's invalidation entry covers, if it is valid. */
static int
ioasid_mock_table_inv_check(struct ioasid_mock_nested *nd,
			    const struct ioasid_mock_pasid_table_invalidate *inv,
			    unsigned long *first, unsigned long *last)
{
	if (inv->pasid >= BIT(nd->pasid_bits))
		return -EINVAL;
	switch (inv->type) {
	case IOASID_MOCK_INV_IOTLB:
		if (!IS_ALIGNED(inv->addr, SZ_4K) || !inv->npages)
			return -EINVAL;
		ioasid_mock_inv_range(inv->addr, inv->npages, first, last);
		return 0;
	case IOASID_MOCK_INV_PASID_CACHE:
		if (inv->addr || inv->npages)
			return -EINVAL;
		*first = 0;
		*last = MOCK_TLB_INDEX_MAX;
		return 0;
	default:
		return -EINVAL;
	}
}

/* As a VT-d nested domain's, and under dma_lock for the same reason. */
static int
ioasid_mock_table_invalidate_user(struct iommu_domain *domain,
				  struct iommu_user_data_array *array)
{
	struct ioasid_mock_nested *nd = ioasid_mock_to_nested(domain);
	struct ioasid_mock_pasid_table_invalidate inv;
	unsigned long first, last;
	int ret = 0;
	u32 i;

	if (array->type != IOASID_MOCK_HWPT_INVALIDATE_PASID_TABLE) {
		array->entry_num = 0;
		return -EINVAL;
	}
	for (i = 0; i < array->entry_num; i++) {
		ret = iommu_copy_struct_from_user_array(&inv, array,
							IOASID_MOCK_HWPT_INVALIDATE_PASID_TABLE,
							i, npages);
		if (ret)
			break;
		ret = ioasid_mock_table_inv_check(nd, &inv, &first, &last);
		if (ret)
			break;
		guard(rwsem_write)(&nd->parent->dma_lock);
		if (inv.type == IOASID_MOCK_INV_PASID_CACHE)
			ioasid_mock_pasid_cache_drop(&nd->pasid_cache,
						     inv.pasid);
		ioasid_mock_table_flush(nd, inv.pasid, first, last);
	}
	array->entry_num = i;
	return ret;
}

static void ioasid_mock_nested_free(struct iommu_domain *domain)
{
	struct ioasid_mock_nested *nd = ioasid_mock_to_nested(domain);

	scoped_guard(rwsem_write, &nd->parent->dma_lock)
		list_del(&nd->parent_link);
	/* The core's promise: no PASID is set on it any more. */
	WARN_ON(!xa_empty(&nd->pasids));
	xa_destroy(&nd->pasids);
	ioasid_mock_pasid_cache_destroy(&nd->pasid_cache);
	ioasid_mock_iotlb_destroy(&nd->iotlb);
	kfree(nd);
}

static const struct iommu_domain_ops ioasid_mock_nested_ops = {
	.attach_dev = ioasid_mock_nested_attach_dev,
	.set_dev_pasid = ioasid_mock_set_dev_pasid,
	.cache_invalidate_user = ioasid_mock_cache_invalidate_user,
	.free = ioasid_mock_nested_free,
};

static const struct iommu_domain_ops ioasid_mock_pasid_table_ops = {
	.attach_dev = ioasid_mock_nested_attach_dev,
	.cache_invalidate_user = ioasid_mock_table_invalidate_user,
	.free = ioasid_mock_nested_free,
};

/* What both kinds start with; not yet in md->nested. */
static struct ioasid_mock_nested *
ioasid_mock_nested_new(struct ioasid_mock_domain *md,
		       const struct iommu_domain_ops *ops)
{
	struct ioasid_mock_nested *nd;

	nd = kzalloc(sizeof(*nd), GFP_KERNEL_ACCOUNT);
	if (!nd)
		return ERR_PTR(-ENOMEM);
	nd->parent = md;
	ioasid_mock_iotlb_init(&nd->iotlb);
	xa_init(&nd->pasids);
	ioasid_mock_pasid_cache_init(&nd->pasid_cache);
	nd->domain.type = IOMMU_DOMAIN_NESTED;
	nd->domain.ops = ops;
	return nd;
}

static struct ioasid_mock_nested *
ioasid_mock_vtd_alloc(struct ioasid_mock_domain *md,
		      const struct iommu_user_data *user_data)
{
	struct ioasid_mock_nested *nd;
	struct iommu_hwpt_vtd_s1 s1;
	int ret;

	ret = iommu_copy_struct_from_user(&s1, user_data,
					  IOMMU_HWPT_DATA_VTD_S1, __reserved);
	if (ret)
		return ERR_PTR(ret);
	/* SRE, EAFE and WPE change what a walk does: none is modelled. */
	if (s1.flags || s1.__reserved)
		return ERR_PTR(-EOPNOTSUPP);
	if (!IS_ALIGNED(s1.pgtbl_addr, SZ_4K))
		return ERR_PTR(-EINVAL);
	/* 4-level only; 5-level (57) is a real VT-d's, not the mock's. */
	if (s1.addr_width != MOCK_S1_VA_BITS)
		return ERR_PTR(-EOPNOTSUPP);

	nd = ioasid_mock_nested_new(md, &ioasid_mock_nested_ops);
	if (!IS_ERR(nd))
		nd->s1_root = s1.pgtbl_addr;
	return nd;
}

/*
 * Empty data, with which the core probes whether a format is known,
 * fails the copy with EINVAL: known, only malformed.
 */
static struct ioasid_mock_nested *
ioasid_mock_table_alloc(struct ioasid_mock_domain *md,
			const struct iommu_user_data *user_data)
{
	struct ioasid_mock_pasid_table table;
	struct ioasid_mock_nested *nd;
	int ret;

	ret = iommu_copy_struct_from_user(&table, user_data,
					  IOASID_MOCK_HWPT_DATA_PASID_TABLE,
					  flags);
	if (ret)
		return ERR_PTR(ret);
	if (table.flags)
		return ERR_PTR(-EOPNOTSUPP);
	if (!IS_ALIGNED(table.base, SZ_4K) || !table.pasid_bits ||
	    table.pasid_bits > IOASID_MOCK_PASID_BITS)
		return ERR_PTR(-EINVAL);

	nd = ioasid_mock_nested_new(md, &ioasid_mock_pasid_table_ops);
	if (IS_ERR(nd))
		return nd;
	nd->table = table.base;
	nd->pasid_bits = table.pasid_bits;
	return nd;
}

static struct iommu_domain *
ioasid_mock_nested_alloc(struct ioasid_mock_iommu *mock,
			 struct iommu_domain *parent,
			 const struct iommu_user_data *user_data)
{
	struct ioasid_mock_domain *md;
	struct ioasid_mock_nested *nd;

	if (!ioasid_mock_domain_is_paging(parent))
		return ERR_PTR(-EINVAL);
	md = ioasid_mock_to_domain(parent);
	if (md->mock != mock || !md->nest_parent)
		return ERR_PTR(-EINVAL);
	switch (user_data->type) {
	case IOMMU_HWPT_DATA_VTD_S1:
		nd = ioasid_mock_vtd_alloc(md, user_data);
		break;
	case IOASID_MOCK_HWPT_DATA_PASID_TABLE:
		nd = ioasid_mock_table_alloc(md, user_data);
		break;
	default:
		return ERR_PTR(-EOPNOTSUPP);
	}
	if (IS_ERR(nd))
		return ERR_CAST(nd);
	scoped_guard(rwsem_write, &md->dma_lock)
		list_add(&nd->parent_link, &md->nested);
	return &nd->domain;
}

/*
 * iommufd's hook, which /dev/ioasid uses too: a paging domain that may
 * be a nest parent, or a nested domain over one. The caller sets owner.
 */
static struct iommu_domain *
ioasid_mock_domain_alloc_user(struct device *dev, u32 flags,
			      struct iommu_domain *parent,
			      const struct iommu_user_data *user_data)
{
	struct ioasid_mock_iommu *mock = ioasid_mock_of(dev);
	bool nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
	bool dirty = flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	struct ioasid_mock_domain *md;

	if (!mock)
		return ERR_PTR(-ENODEV);
	if (parent && user_data && !flags)
		return ioasid_mock_nested_alloc(mock, parent, user_data);
	if (parent || user_data ||
	    flags & ~(IOMMU_HWPT_ALLOC_NEST_PARENT |
		      IOMMU_HWPT_ALLOC_DIRTY_TRACKING) ||
	    (nest_parent && !mock->nesting) || (dirty && !mock->dirty))
		return ERR_PTR(-EOPNOTSUPP);
	md = ioasid_mock_paging_alloc(mock, nest_parent);
	if (IS_ERR(md))
		return ERR_CAST(md);
	md->domain.type = IOMMU_DOMAIN_UNMANAGED;
	if (dirty)
		md->domain.dirty_ops = &ioasid_mock_dirty_ops;
	return &md->domain;
}

/* Blocked, or identity: either way the mock's DMA goes nowhere. */
static int ioasid_mock_attach_static(struct iommu_domain *domain,
				     struct device *dev)
{
	ioasid_mock_dev_set_domain(dev, NULL);
	return 0;
}

static const struct iommu_domain_ops ioasid_mock_static_ops = {
	.attach_dev = ioasid_mock_attach_static,
};

static struct iommu_domain ioasid_mock_identity_domain = {
	.type = IOMMU_DOMAIN_IDENTITY,
	.ops = &ioasid_mock_static_ops,
};

static struct iommu_domain ioasid_mock_blocked_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &ioasid_mock_static_ops,
};

static struct iommu_device *ioasid_mock_probe_device(struct device *dev)
{
	struct ioasid_mock_iommu *mock = ioasid_mock_of(dev);
	struct ioasid_mock_dev *mdev;

	if (!mock)
		return ERR_PTR(-ENODEV);
	mdev = kzalloc(sizeof(*mdev), GFP_KERNEL);
	if (!mdev)
		return ERR_PTR(-ENOMEM);
	mdev->prgs = kvcalloc(MOCK_PRG_INDEX_MAX + 1, sizeof(*mdev->prgs),
			      GFP_KERNEL);
	mdev->prg_taken = bitmap_zalloc(MOCK_PRG_INDEX_MAX + 1, GFP_KERNEL);
	if (!mdev->prgs || !mdev->prg_taken) {
		kvfree(mdev->prgs);
		bitmap_free(mdev->prg_taken);
		kfree(mdev);
		return ERR_PTR(-ENOMEM);
	}
	init_rwsem(&mdev->lock);
	xa_init(&mdev->pasids);
	spin_lock_init(&mdev->prg_lock);
	dev_iommu_priv_set(dev, mdev);
	return &mock->iommu;
}

static void ioasid_mock_release_device(struct device *dev)
{
	struct ioasid_mock_dev *mdev = dev_iommu_priv_get(dev);
	struct iommu_domain *domain;
	unsigned long pasid;

	/*
	 * A device that leaves a group whose PASIDs stay attached for the
	 * others stops using them here, as the core asks of a driver.
	 */
	xa_for_each(&mdev->pasids, pasid, domain)
		ioasid_mock_pasid_put(domain, pasid);
	xa_destroy(&mdev->pasids);
	/* Only abandoned groups can be left taken: nobody waits on them. */
	kvfree(mdev->prgs);
	bitmap_free(mdev->prg_taken);
	kfree(mdev);
}

/*
 * Translate the chunk of @dma at @iova, up to the end of its granule
 * (see ioasid_mock_dma_shift()), for the DMA's direction.
 */
static int ioasid_mock_dma_translate(struct ioasid_mock_dma *dma, u64 iova,
				     phys_addr_t *phys)
{
	struct ioasid_mock_domain *md;
	size_t pgsize;
	int prot;

	if (!ioasid_mock_domain_is_paging(dma->domain))
		return ioasid_mock_nested_dma(ioasid_mock_to_nested(dma->domain),
					      dma, iova, phys);
	md = ioasid_mock_to_domain(dma->domain);
	if (ioasid_mock_lookup(md, iova, phys, &pgsize, &prot))
		return -EIO;
	if (!(prot & (dma->write ? IOMMU_WRITE : IOMMU_READ)) ||
	    !pfn_valid(PHYS_PFN(*phys)))
		return -EIO;
	if (dma->write)
		ioasid_mock_mark_dirty(md, iova);
	return 0;
}

/*
 * The granule a DMA through @domain is translated in: what a nested
 * domain caches, or a paging domain's smallest page; never more than a
 * CPU page, so one kmap reaches every granule.
 */
static unsigned int ioasid_mock_dma_shift(struct iommu_domain *domain)
{
	if (!ioasid_mock_domain_is_paging(domain))
		return MOCK_S1_SHIFT;
	return min_t(unsigned int, __ffs(domain->pgsize_bitmap), PAGE_SHIFT);
}

/*
 * Find what @dma, from @mdev with @dma->pasid, goes through: a table on
 * the RID decides every PASID; else the RID's domain, or the domain the
 * PASID is set on. False if nothing is there: the DMA faults.
 */
static bool ioasid_mock_dma_find(struct ioasid_mock_dev *mdev,
				 struct ioasid_mock_dma *dma)
{
	struct iommu_domain *domain = mdev->domain;

	if (domain && domain->ops == &ioasid_mock_pasid_table_ops) {
		if (dma->pasid >= BIT(ioasid_mock_to_nested(domain)->pasid_bits))
			return false;
	} else if (dma->pasid != IOMMU_NO_PASID) {
		domain = xa_load(&mdev->pasids, dma->pasid);
	}
	if (!domain)
		return false;
	dma->domain = domain;
	dma->root = MOCK_NO_ROOT;
	if (domain->ops == &ioasid_mock_nested_ops)
		dma->root = ioasid_mock_to_nested(domain)->s1_root;
	return true;
}

/*
 * Ask for the pages at @addrs that @dma faulted on, as one page request
 * group, as a PRI-capable device does, and return the group to wait on.
 * Called under mdev->lock, so that an attach, which takes it to write,
 * comes after the requests are posted, and its detach answers them.
 */
static struct ioasid_mock_prg *
ioasid_mock_page_request(struct device *dev, struct ioasid_mock_dev *mdev,
			 const struct ioasid_mock_dma *dma, const u64 *addrs,
			 unsigned int n, bool unwaited)
{
	struct ioasid_mock_prg *prg;
	unsigned long index;
	unsigned int i;

	spin_lock(&mdev->prg_lock);
	index = find_first_zero_bit(mdev->prg_taken, MOCK_PRG_INDEX_MAX + 1);
	if (index > MOCK_PRG_INDEX_MAX) {
		spin_unlock(&mdev->prg_lock);
		/* Every index waits already: the device cannot ask. */
		return ERR_PTR(-EIO);
	}
	__set_bit(index, mdev->prg_taken);
	prg = &mdev->prgs[index];
	init_completion(&prg->answered);
	prg->index = index;
	prg->code = 0;
	/* Before it is posted: the answer may come before we return. */
	prg->abandoned = unwaited;
	spin_unlock(&mdev->prg_lock);
	for (i = 0; i < n; i++) {
		struct iopf_fault evt = {
			.fault = {
				.type = IOMMU_FAULT_PAGE_REQ,
				.prm = {
					.addr = addrs[i],
					.grpid = prg->index,
					.perm = dma->write ?
						IOMMU_FAULT_PERM_WRITE :
						IOMMU_FAULT_PERM_READ,
				},
			},
		};

		if (dma->pasid != IOMMU_NO_PASID) {
			evt.fault.prm.flags |=
				IOMMU_FAULT_PAGE_REQUEST_PASID_VALID;
			evt.fault.prm.pasid = dma->pasid;
		}
		if (i == n - 1)
			evt.fault.prm.flags |=
				IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
		/* What the core cannot deliver, it answers as invalid. */
		iommu_report_device_fault(dev, &evt);
	}
	return prg;
}

/* Wait for @prg's answer: 0 for success, else -EIO or -EINTR. */
static int ioasid_mock_page_wait(struct ioasid_mock_dev *mdev,
				 struct ioasid_mock_prg *prg)
{
	int ret = wait_for_completion_killable(&prg->answered);

	spin_lock(&mdev->prg_lock);
	if (ret && !completion_done(&prg->answered)) {
		prg->abandoned = true;
	} else {
		if (!ret && prg->code != IOMMU_PAGE_RESP_SUCCESS)
			ret = -EIO;
		__clear_bit(prg->index, mdev->prg_taken);
	}
	spin_unlock(&mdev->prg_lock);
	return ret;
}

static void ioasid_mock_page_response(struct device *dev,
				      struct iopf_fault *evt,
				      struct iommu_page_response *msg)
{
	struct ioasid_mock_dev *mdev = dev_iommu_priv_get(dev);
	struct ioasid_mock_prg *prg;

	if (msg->grpid > MOCK_PRG_INDEX_MAX)
		return;
	spin_lock(&mdev->prg_lock);
	if (test_bit(msg->grpid, mdev->prg_taken)) {
		prg = &mdev->prgs[msg->grpid];
		if (prg->abandoned) {
			__clear_bit(msg->grpid, mdev->prg_taken);
			mdev->unwaited_answers++;
		} else {
			prg->code = msg->code;
			complete(&prg->answered);
		}
	}
	spin_unlock(&mdev->prg_lock);
}

static int ioasid_mock_dev_enable_feat(struct device *dev,
				       enum iommu_dev_features feat)
{
	struct ioasid_mock_iommu *mock = ioasid_mock_of(dev);

	/* Page requests come from first stages: only where it nests. */
	if (feat != IOMMU_DEV_FEAT_IOPF || !mock || !mock->nesting)
		return -ENODEV;
	return iopf_queue_add_device(ioasid_mock_iopf_queue, dev);
}

static int ioasid_mock_dev_disable_feat(struct device *dev,
					enum iommu_dev_features feat)
{
	if (feat != IOMMU_DEV_FEAT_IOPF)
		return -EINVAL;
	/* Answers, as invalid, every group still pending. */
	iopf_queue_remove_device(ioasid_mock_iopf_queue, dev);
	return 0;
}

/*
 * One try at a DMA: translate every granule of it, then move the bytes.
 * With @pri, granules a first stage does not map (or not for this
 * access) are gathered into a page request instead of failing it: the
 * group to wait on comes back in @prg, and nothing has moved.
 */
static int ioasid_mock_dma_try(struct device *dev, struct ioasid_mock_dma *dma,
			       u64 iova, void *buf, size_t length,
			       phys_addr_t *phys, bool pri,
			       struct ioasid_mock_prg **prg)
{
	struct ioasid_mock_dev *mdev = dev_iommu_priv_get(dev);
	u64 faults[MOCK_PRG_PAGES];
	struct ioasid_mock_domain *md;
	unsigned int shift, nfaults = 0;
	unsigned long i, n;
	size_t done = 0;
	int ret = 0;

	guard(rwsem_read)(&mdev->lock);
	if (!ioasid_mock_dma_find(mdev, dma))
		return -EIO;
	shift = ioasid_mock_dma_shift(dma->domain);
	n = ((iova + length - 1) >> shift) - (iova >> shift) + 1;

	md = ioasid_mock_paging_of(dma->domain);
	down_read(&md->dma_lock);
	for (i = 0; i < n; i++) {
		u64 at = max(iova, ((iova >> shift) + i) << shift);

		ret = ioasid_mock_dma_translate(dma, at, &phys[i]);
		if ((ret == -ENOENT || ret == -EACCES) && pri) {
			faults[nfaults++] = at & ~(SZ_4K - 1ULL);
			/* A full group goes now; the rest come after it. */
			if (nfaults == MOCK_PRG_PAGES)
				break;
			continue;
		}
		if (ret) {
			ret = -EIO;
			goto out_unlock;
		}
	}
	if (nfaults) {
		up_read(&md->dma_lock);
		*prg = ioasid_mock_page_request(dev, mdev, dma, faults,
						nfaults, false);
		return IS_ERR(*prg) ? PTR_ERR(*prg) : -EAGAIN;
	}
	for (i = 0; i < n; i++) {
		u64 at = iova + done;
		u64 room = BIT_ULL(shift) - (at & (BIT_ULL(shift) - 1));
		size_t chunk = min_t(u64, length - done, room);
		void *va;

		va = kmap_local_page(pfn_to_page(PHYS_PFN(phys[i])));
		if (dma->write)
			memcpy(va + offset_in_page(phys[i]), buf + done, chunk);
		else
			memcpy(buf + done, va + offset_in_page(phys[i]), chunk);
		kunmap_local(va);
		done += chunk;
	}
out_unlock:
	up_read(&md->dma_lock);
	return ret;
}

/*
 * Make @dev DMA @length bytes at @iova, to memory from @buf (@write) or
 * from memory into @buf, tagged with @pasid unless it is IOMMU_NO_PASID,
 * through the domain that translates it now: paging, nested or a PASID
 * table's. Every granule is translated and its permission checked
 * before a byte moves, and the copy uses what that found, not a second
 * look that a guest changing its table could make differ: a DMA that
 * would fault anywhere moves nothing and fails with EIO, as a device
 * stopped by the IOMMU would. Neither an attach nor an unmap nor an
 * invalidation can come in between.
 *
 * With @pri the device asks for what a first stage does not map, as a
 * PRI-capable device does: it raises a page request group into the iommu
 * core's fault path, waits (killably) for the answer, and tries again on
 * success; it fails with EIO on any other answer, or after
 * MOCK_PRG_ROUNDS groups.
 */
int ioasid_mock_device_dma(struct device *dev, ioasid_t pasid, u64 iova,
			   void *buf, size_t length, bool write, bool pri)
{
	struct ioasid_mock_dma dma = { .pasid = pasid, .write = write };
	phys_addr_t small[4], *phys;
	struct ioasid_mock_prg *prg;
	unsigned int round;
	unsigned long n;
	u64 last;
	int ret;

	/* No IOMMU in front of it (an emulated device): nothing to reach. */
	if (!ioasid_mock_of(dev))
		return -EIO;
	/* Past the PASIDs the device has: not one the IOMMU can look up. */
	if (pasid != IOMMU_NO_PASID && pasid >= dev->iommu->max_pasids)
		return -EIO;
	if (!length)
		return 0;
	/* Past the top of the address space: a fault like any other. */
	if (check_add_overflow(iova, (u64)length - 1, &last))
		return -EIO;
	/*
	 * A granule is at least 2K (the smallest mock page); a small DMA, the
	 * common case, needs no allocation.
	 */
	n = (last >> MOCK_UNIT_SHIFT) - (iova >> MOCK_UNIT_SHIFT) + 1;
	phys = n <= ARRAY_SIZE(small) ? small :
	       kvmalloc_array(n, sizeof(*phys), GFP_KERNEL);
	if (!phys)
		return -ENOMEM;
	for (round = 0; ; round++) {
		ret = ioasid_mock_dma_try(dev, &dma, iova, buf, length, phys,
					  pri && round < MOCK_PRG_ROUNDS, &prg);
		if (ret != -EAGAIN)
			break;
		ret = ioasid_mock_page_wait(dev_iommu_priv_get(dev), prg);
		if (ret)
			break;
	}
	if (phys != small)
		kvfree(phys);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(ioasid_mock_device_dma, IOASID_TEST);

/*
 * Post a page request group for the @npages pages from @iova, tagged with
 * @pasid unless it is IOMMU_NO_PASID, for a write or a read, and return
 * without waiting for its answer, which only counts in
 * ioasid_mock_device_unwaited_answers(). The shape of a fault without
 * the DMA around it, to measure delivery alone.
 */
int ioasid_mock_device_page_request(struct device *dev, ioasid_t pasid,
				    u64 iova, unsigned int npages, bool write)
{
	struct ioasid_mock_dma dma = { .pasid = pasid, .write = write };
	struct ioasid_mock_dev *mdev;
	u64 addrs[MOCK_PRG_PAGES];
	struct ioasid_mock_prg *prg;
	unsigned int i;

	if (!ioasid_mock_of(dev))
		return -ENODEV;
	if (!npages || npages > MOCK_PRG_PAGES || !PAGE_ALIGNED(iova) ||
	    iova + (u64)npages * PAGE_SIZE - 1 < iova)
		return -EINVAL;
	if (pasid != IOMMU_NO_PASID && pasid >= dev->iommu->max_pasids)
		return -EINVAL;
	for (i = 0; i < npages; i++)
		addrs[i] = iova + (u64)i * PAGE_SIZE;
	mdev = dev_iommu_priv_get(dev);
	guard(rwsem_read)(&mdev->lock);
	prg = ioasid_mock_page_request(dev, mdev, &dma, addrs, npages, true);
	return PTR_ERR_OR_ZERO(prg);
}
EXPORT_SYMBOL_NS_GPL(ioasid_mock_device_page_request, IOASID_TEST);

/* Answers @dev got to groups nobody waited for, since it was made. */
u64 ioasid_mock_device_unwaited_answers(struct device *dev)
{
	struct ioasid_mock_dev *mdev;
	u64 answers;

	if (!ioasid_mock_of(dev))
		return 0;
	mdev = dev_iommu_priv_get(dev);
	spin_lock(&mdev->prg_lock);
	answers = mdev->unwaited_answers;
	spin_unlock(&mdev->prg_lock);
	return answers;
}
EXPORT_SYMBOL_NS_GPL(ioasid_mock_device_unwaited_answers, IOASID_TEST);

/*
 * How many translations the IOTLB of the nested domain @dev's DMA
 * without a PASID goes through holds now, and how many it can hold; for
 * a table, that of all its PASIDs, in one bound. ENXIO if that DMA goes
 * through no nested domain.
 */
int ioasid_mock_device_iotlb_info(struct device *dev, u32 *entries,
				  u32 *max)
{
	struct ioasid_mock_nested *nd;
	struct ioasid_mock_dev *mdev;

	if (!ioasid_mock_of(dev))
		return -ENXIO;
	mdev = dev_iommu_priv_get(dev);
	guard(rwsem_read)(&mdev->lock);
	if (!mdev->domain || ioasid_mock_domain_is_paging(mdev->domain))
		return -ENXIO;
	nd = ioasid_mock_to_nested(mdev->domain);
	mutex_lock(&nd->iotlb.lock);
	*entries = nd->iotlb.count;
	mutex_unlock(&nd->iotlb.lock);
	*max = IOASID_MOCK_IOTLB_MAX;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ioasid_mock_device_iotlb_info, IOASID_TEST);

/* What IOASID_MOCK_HW_INFO_TYPE reports: which instance. */
static void *ioasid_mock_hw_info(struct device *dev, u32 *length, u32 *type)
{
	struct ioasid_mock_iommu *mock = ioasid_mock_of(dev);
	u32 *info;

	if (!mock)
		return ERR_PTR(-ENODEV);
	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return ERR_PTR(-ENOMEM);
	*info = mock - ioasid_mock_iommus;
	*length = sizeof(*info);
	*type = IOASID_MOCK_HW_INFO_TYPE;
	return info;
}

/*
 * A group of its own, or, for a device that asks, the one group its
 * instance keeps for such devices: as devices behind one PCIe switch
 * without ACS share a group.
 */
static struct iommu_group *ioasid_mock_device_group(struct device *dev)
{
	struct ioasid_mock_iommu *mock = ioasid_mock_of(dev);
	struct iommu_group *group;

	if (!(ioasid_mock_device_flags(dev) & IOASID_MOCK_DEVICE_SHARE_GROUP))
		return generic_device_group(dev);
	mutex_lock(&ioasid_mock_group_lock);
	if (!mock->shared_group) {
		group = iommu_group_alloc();
		if (IS_ERR(group))
			goto out_unlock;
		mock->shared_group = group;
	}
	group = iommu_group_ref_get(mock->shared_group);
out_unlock:
	mutex_unlock(&ioasid_mock_group_lock);
	return group;
}

static int ioasid_mock_def_domain_type(struct device *dev)
{
	return IOMMU_DOMAIN_IDENTITY;
}

static void ioasid_mock_get_resv_regions(struct device *dev,
					 struct list_head *head)
{
	struct ioasid_mock_iommu *mock = ioasid_mock_of(dev);
	struct iommu_resv_region *region;

	if (!mock)
		return;
	if (mock->msi_type) {
		region = iommu_alloc_resv_region(mock->msi_start,
						 mock->msi_last -
						 mock->msi_start + 1,
						 IOMMU_WRITE, mock->msi_type,
						 GFP_KERNEL);
		if (region)
			list_add_tail(&region->list, head);
	}
	if (mock->relaxable_direct) {
		region = iommu_alloc_resv_region(IOASID_MOCK_RELAXABLE_START,
						 IOASID_MOCK_RELAXABLE_LAST -
						 IOASID_MOCK_RELAXABLE_START + 1,
						 IOMMU_READ | IOMMU_WRITE,
						 IOMMU_RESV_DIRECT_RELAXABLE,
						 GFP_KERNEL);
		if (region)
			list_add_tail(&region->list, head);
	}
}

/* Coherent, and able to force snooping, unless the device says no. */
static bool ioasid_mock_capable(struct device *dev, enum iommu_cap cap)
{
	u32 flags = ioasid_mock_device_flags(dev);

	switch (cap) {
	case IOMMU_CAP_CACHE_COHERENCY:
		return !(flags & IOASID_MOCK_DEVICE_NOT_COHERENT);
	case IOMMU_CAP_ENFORCE_CACHE_COHERENCY:
		return !(flags & (IOASID_MOCK_DEVICE_NOT_COHERENT |
				  IOASID_MOCK_DEVICE_NO_ENFORCE_CC));
	case IOMMU_CAP_DIRTY_TRACKING:
		return ioasid_mock_of(dev)->dirty;
	default:
		return false;
	}
}

static const struct iommu_ops ioasid_mock_ops = {
	.owner = THIS_MODULE,
	.capable = ioasid_mock_capable,
	.hw_info = ioasid_mock_hw_info,
	.probe_device = ioasid_mock_probe_device,
	.release_device = ioasid_mock_release_device,
	.device_group = ioasid_mock_device_group,
	.def_domain_type = ioasid_mock_def_domain_type,
	.remove_dev_pasid = ioasid_mock_remove_dev_pasid,
	.dev_enable_feat = ioasid_mock_dev_enable_feat,
	.dev_disable_feat = ioasid_mock_dev_disable_feat,
	.page_response = ioasid_mock_page_response,
	/* PASIDs a table on the RID decides fault to the RID's handle. */
	.user_pasid_table = true,
	.domain_alloc_paging = ioasid_mock_domain_alloc_paging,
	.domain_alloc_user = ioasid_mock_domain_alloc_user,
	.get_resv_regions = ioasid_mock_get_resv_regions,
	.identity_domain = &ioasid_mock_identity_domain,
	.blocked_domain = &ioasid_mock_blocked_domain,
	.default_domain_ops = &ioasid_mock_domain_ops,
};

bool ioasid_mock_domain_is_paging(struct iommu_domain *domain)
{
	return domain->ops == &ioasid_mock_domain_ops;
}
EXPORT_SYMBOL_NS_GPL(ioasid_mock_domain_is_paging, IOASID_TEST);

/*
 * A platform device behind mock @instance, with &enum ioasid_mock_device_flags
 * @flags; a driver named @name may bind.
 */
struct device *ioasid_mock_device_create(unsigned int instance, u32 flags,
					 const char *name)
{
	/*
	 * Every device can issue PASIDs, as a PCI device's capability
	 * would say; the core grants it no more than its IOMMU has, which
	 * outside LARGE is none.
	 */
	static const struct property_entry props[] = {
		PROPERTY_ENTRY_U32("pasid-num-bits", IOASID_MOCK_PASID_BITS),
		{ }
	};
	struct platform_device *pdev;
	int ret;

	if (instance >= ARRAY_SIZE(ioasid_mock_iommus) ||
	    flags & ~IOASID_MOCK_DEVICE_FLAGS)
		return ERR_PTR(-EINVAL);

	pdev = platform_device_alloc(name, PLATFORM_DEVID_AUTO);
	if (!pdev)
		return ERR_PTR(-ENOMEM);
	ret = platform_device_add_data(pdev, &flags, sizeof(flags));
	if (ret)
		goto err_put;
	/* Read by the core as it probes the device, so before it is added. */
	ret = device_create_managed_software_node(&pdev->dev, props, NULL);
	if (ret)
		goto err_put;
	/*
	 * Name the mock instance before the core probes the device, under
	 * the lock firmware code holds for the same step.
	 */
	mutex_lock(&iommu_probe_device_lock);
	ret = iommu_fwspec_init(&pdev->dev,
				ioasid_mock_iommus[instance].fwnode);
	mutex_unlock(&iommu_probe_device_lock);
	if (ret)
		goto err_put;
	dev_set_msi_domain(&pdev->dev, ioasid_mock_iommus[instance].msi_domain);
	ret = platform_device_add(pdev);
	if (ret)
		goto err_put;
	if (!pdev->dev.iommu_group) {
		platform_device_unregister(pdev);
		return ERR_PTR(-ENODEV);
	}
	return &pdev->dev;

err_put:
	/* Unless a failed add dropped it already; unregister drops it. */
	device_remove_software_node(&pdev->dev);
	platform_device_put(pdev);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(ioasid_mock_device_create, IOASID_TEST);

void ioasid_mock_device_destroy(struct device *dev)
{
	platform_device_unregister(to_platform_device(dev));
}
EXPORT_SYMBOL_NS_GPL(ioasid_mock_device_destroy, IOASID_TEST);

/* An irq domain that raises nothing; it only tells who isolates MSIs. */
static const struct irq_domain_ops ioasid_mock_msi_domain_ops = {};

static int ioasid_mock_msi_domain_add(struct ioasid_mock_iommu *mock,
				      unsigned int index)
{
	struct fwnode_handle *fwnode;

	if (!mock->msi_isolated)
		return 0;
	fwnode = irq_domain_alloc_named_id_fwnode("ioasid-mock-msi", index);
	if (!fwnode)
		return -ENOMEM;
	mock->msi_domain = irq_domain_create_linear(fwnode, 0,
						    &ioasid_mock_msi_domain_ops,
						    mock);
	if (!mock->msi_domain) {
		irq_domain_free_fwnode(fwnode);
		return -ENOMEM;
	}
	mock->msi_domain->flags |= IRQ_DOMAIN_FLAG_ISOLATED_MSI;
	return 0;
}

static void ioasid_mock_msi_domain_remove(struct ioasid_mock_iommu *mock)
{
	struct fwnode_handle *fwnode;

	if (!mock->msi_domain)
		return;
	fwnode = mock->msi_domain->fwnode;
	irq_domain_remove(mock->msi_domain);
	irq_domain_free_fwnode(fwnode);
	mock->msi_domain = NULL;
}

static void ioasid_mock_iommu_remove(struct ioasid_mock_iommu *mock)
{
	if (mock->shared_group)
		iommu_group_put(mock->shared_group);
	iommu_device_unregister(&mock->iommu);
	iommu_device_sysfs_remove(&mock->iommu);
	fwnode_remove_software_node(mock->fwnode);
	ioasid_mock_msi_domain_remove(mock);
}

static int ioasid_mock_iommu_add(struct ioasid_mock_iommu *mock,
				 unsigned int index)
{
	int ret;

	ret = ioasid_mock_msi_domain_add(mock, index);
	if (ret)
		return ret;
	mock->fwnode = fwnode_create_software_node(NULL, NULL);
	if (IS_ERR(mock->fwnode)) {
		ret = PTR_ERR(mock->fwnode);
		goto err_msi;
	}
	mock->iommu.fwnode = mock->fwnode;
	/* The core links each probed device to its IOMMU in sysfs. */
	ret = iommu_device_sysfs_add(&mock->iommu, NULL, NULL,
				     "ioasid-mock%u", index);
	if (ret)
		goto err_fwnode;
	/* Read as each device is probed, which registering may start. */
	mock->iommu.max_pasids = mock->pasid_bits ? BIT(mock->pasid_bits) : 0;
	ret = iommu_device_register(&mock->iommu, &ioasid_mock_ops, NULL);
	if (ret)
		goto err_sysfs;
	return 0;

err_sysfs:
	iommu_device_sysfs_remove(&mock->iommu);
err_fwnode:
	fwnode_remove_software_node(mock->fwnode);
err_msi:
	ioasid_mock_msi_domain_remove(mock);
	return ret;
}

int ioasid_mock_init(void)
{
	unsigned int i;
	int ret;

	ioasid_mock_iopf_queue = iopf_queue_alloc("ioasid-mock");
	if (!ioasid_mock_iopf_queue)
		return -ENOMEM;
	for (i = 0; i != ARRAY_SIZE(ioasid_mock_iommus); i++) {
		ret = ioasid_mock_iommu_add(&ioasid_mock_iommus[i], i);
		if (ret)
			goto err_remove;
	}
	return 0;

err_remove:
	while (i--)
		ioasid_mock_iommu_remove(&ioasid_mock_iommus[i]);
	iopf_queue_free(ioasid_mock_iopf_queue);
	return ret;
}

void ioasid_mock_exit(void)
{
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(ioasid_mock_iommus); i++)
		ioasid_mock_iommu_remove(&ioasid_mock_iommus[i]);
	iopf_queue_free(ioasid_mock_iopf_queue);
}
