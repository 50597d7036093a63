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
 * built from &struct iommu_hwpt_vtd_s1. A nested domain's DMA is
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
 * The IOTLB of a nested domain caches successful walks only (as VT-d
 * without caching mode: a fault is never cached), one 4K translation per
 * entry whatever the leaf size, with the access the first stage and the
 * parent together allowed when it was filled. A hit is final: a DMA that
 * needs more than the entry allows faults rather than walk again, until
 * the guest invalidates. Walks through upper levels are not cached, so
 * IOMMU_VTD_INV_FLAGS_LEAF changes nothing. Translations depend on the
 * domain, not on who issues the DMA, so one IOTLB per nested domain
 * serves every device attached to it now, and every PASID it is attached
 * under later. It holds at most IOASID_MOCK_IOTLB_MAX entries and
 * forgets all of them when full, so a guest cannot grow it. An unmap in
 * the parent empties the IOTLB of every nested domain over it before it
 * returns: the parent's owner unpins pages once unmap is done.
 *
 * Lock order, outer first:
 *   mdev->lock       a device's current domain: read across its DMA,
 *                    written by attach
 *   md->dma_lock     a paging domain: read across every DMA through it or
 *                    through a nested domain over it; written by its
 *                    unmap, by a nested domain's invalidation, and to add
 *                    to or remove from md->nested
 *   iotlb->lock      a nested domain's IOTLB entries and their count
 * The xarrays' own locks are innermost. The owner of a domain (for
 * /dev/ioasid, space->lock) serializes its map and unmap. No user address
 * is accessed, so no page fault taken, under any of these locks: an
 * invalidation copies each entry in before it locks.
 */
#include <linux/bitfield.h>
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
	/* struct ioasid_mock_nested over it, whose IOTLBs unmap flushes */
	struct list_head nested;
};

/* The cached 4K translations of one nested domain; see the top comment. */
struct ioasid_mock_iotlb {
	struct mutex lock;		/* the fields below */
	struct xarray entries;		/* by IOVA >> MOCK_S1_SHIFT */
	unsigned int count;
};

/* A nested domain: a user's VT-d first stage over a nest-parent domain. */
struct ioasid_mock_nested {
	struct iommu_domain domain;
	/* Outlives it: the core frees a nested domain before its parent. */
	struct ioasid_mock_domain *parent;
	struct list_head parent_link;	/* in parent->nested, its dma_lock */
	u64 s1_root;			/* GPA of the PML4 */
	struct ioasid_mock_iotlb iotlb;
};

/* Per device: the domain it is attached to now, for its DMA. */
struct ioasid_mock_dev {
	/* Held for reading across a DMA, for writing by an attach. */
	struct rw_semaphore lock;
	struct iommu_domain *domain;	/* NULL: blocked, identity */
};

/* Both kinds are told apart by their ops, so the ops come first. */
static const struct iommu_domain_ops ioasid_mock_domain_ops;
static const struct iommu_domain_ops ioasid_mock_nested_ops;

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
	if (domain->ops == &ioasid_mock_nested_ops)
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

/* An IOTLB entry: a 4K page and the IOMMU_READ/IOMMU_WRITE it allows. */
#define IOASID_MOCK_IOTLB_MAX	4096
#define MOCK_TLB_PROT		GENMASK(1, 0)
#define MOCK_TLB_ADDR		GENMASK(61, MOCK_S1_SHIFT)
#define MOCK_TLB_INDEX_MAX	(ULONG_MAX >> MOCK_S1_SHIFT)

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

/* Forget the translations of IOVA pages @first to @last, inclusive. */
static void ioasid_mock_iotlb_flush(struct ioasid_mock_iotlb *tlb,
				    unsigned long first, unsigned long last)
{
	unsigned long index;
	void *entry;

	guard(mutex)(&tlb->lock);
	if (!first && last == MOCK_TLB_INDEX_MAX) {
		xa_destroy(&tlb->entries);
		tlb->count = 0;
		return;
	}
	xa_for_each_range(&tlb->entries, index, entry, first, last) {
		xa_erase(&tlb->entries, index);
		tlb->count--;
	}
}

/*
 * Remember a translation. Failing to is harmless: a cache may always
 * miss, and the next DMA walks again.
 */
static void ioasid_mock_iotlb_fill(struct ioasid_mock_iotlb *tlb,
				   unsigned long index, phys_addr_t phys,
				   int prot)
{
	void *old;

	guard(mutex)(&tlb->lock);
	if (tlb->count >= IOASID_MOCK_IOTLB_MAX) {
		xa_destroy(&tlb->entries);
		tlb->count = 0;
	}
	old = xa_store(&tlb->entries, index,
		       xa_mk_value((phys & MOCK_TLB_ADDR) |
				   FIELD_PREP(MOCK_TLB_PROT, prot)),
		       GFP_KERNEL_ACCOUNT);
	/*
	 * Counted only if new: a DMA racing on the same miss may have
	 * stored it already, or the store failed.
	 */
	if (!old)
		tlb->count++;
}

/* Read the table entry at guest physical @gpa, through the parent. */
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
	*entry = READ_ONCE(*(u64 *)(va + offset_in_page(phys)));
	kunmap_local(va);
	return 0;
}

/*
 * Walk @nd's first stage for the 4K page at @iova: the host page it
 * reaches and the access (IOMMU_READ, IOMMU_WRITE) both stages allow.
 * Depth is fixed, so a table that points at itself only wastes a walk.
 */
static int ioasid_mock_s1_walk(struct ioasid_mock_nested *nd, u64 iova,
			       phys_addr_t *phys, int *prot)
{
	u64 table = nd->s1_root, entry, gpa;
	bool writable = true;
	size_t pgsize;
	int level, parent_prot;

	/* Level 0, the PTE, always ends the walk. */
	for (level = MOCK_S1_LEVELS - 1; ; level--) {
		unsigned int shift = MOCK_S1_SHIFT + MOCK_S1_LEVEL_BITS * level;
		u64 index = (iova >> shift) & MOCK_S1_INDEX;

		if (ioasid_mock_s1_read(nd->parent, table + index * 8, &entry))
			return -EIO;
		if (!(entry & MOCK_S1_P) || !(entry & MOCK_S1_US) ||
		    entry & MOCK_S1_RSVD)
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

	if (ioasid_mock_lookup(nd->parent, gpa, phys, &pgsize, &parent_prot) ||
	    !pfn_valid(PHYS_PFN(*phys)))
		return -EIO;
	*prot = parent_prot & IOMMU_READ;
	if (writable)
		*prot |= parent_prot & IOMMU_WRITE;
	return 0;
}

/* Translate one 4K-or-less chunk of a DMA through nested domain @nd. */
static int ioasid_mock_nested_dma(struct ioasid_mock_nested *nd, u64 iova,
				  bool write, phys_addr_t *phys)
{
	unsigned long index = iova >> MOCK_S1_SHIFT;
	int need = write ? IOMMU_WRITE : IOMMU_READ;
	phys_addr_t page;
	void *entry;
	int prot;

	if ((u64)sign_extend64(iova, MOCK_S1_VA_BITS - 1) != iova)
		return -EIO;
	entry = xa_load(&nd->iotlb.entries, index);
	if (entry) {
		page = xa_to_value(entry) & MOCK_TLB_ADDR;
		prot = FIELD_GET(MOCK_TLB_PROT, xa_to_value(entry));
	} else {
		if (ioasid_mock_s1_walk(nd, iova & ~(SZ_4K - 1ULL), &page,
					&prot))
			return -EIO;
		if (prot & need)
			ioasid_mock_iotlb_fill(&nd->iotlb, index, page, prot);
	}
	if (!(prot & need))
		return -EIO;
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

static size_t ioasid_mock_unmap_pages(struct iommu_domain *domain,
				      unsigned long iova, size_t pgsize,
				      size_t pgcount,
				      struct iommu_iotlb_gather *gather)
{
	struct ioasid_mock_domain *md = ioasid_mock_to_domain(domain);
	size_t want = pgsize * pgcount, done = 0;
	struct ioasid_mock_nested *nd;

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
	 * reach in this domain: all of them go.
	 */
	if (!done)
		return 0;
	list_for_each_entry(nd, &md->nested, parent_link)
		ioasid_mock_iotlb_flush(&nd->iotlb, 0, MOCK_TLB_INDEX_MAX);
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
	.map_pages = ioasid_mock_map_pages,
	.unmap_pages = ioasid_mock_unmap_pages,
	.iova_to_phys = ioasid_mock_iova_to_phys,
	.enforce_cache_coherency = ioasid_mock_enforce_cc,
	.free = ioasid_mock_domain_free,
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
 * Forget IOVA pages @first to @last. Under the parent's dma_lock: a walk
 * in flight may have read an entry the guest has since changed, and must
 * not store what it found after the invalidation that covered it.
 */
static void ioasid_mock_nested_flush(struct ioasid_mock_nested *nd,
				     unsigned long first, unsigned long last)
{
	guard(rwsem_write)(&nd->parent->dma_lock);
	ioasid_mock_iotlb_flush(&nd->iotlb, first, last);
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
		/*
		 * Past the top of the IOVA space there is nothing to drop;
		 * addr 0 with npages U64_MAX, "everything", lands here too.
		 */
		first = inv.addr >> MOCK_S1_SHIFT;
		if (inv.npages - 1 > MOCK_TLB_INDEX_MAX - first)
			last = MOCK_TLB_INDEX_MAX;
		else
			last = first + inv.npages - 1;
		ioasid_mock_nested_flush(nd, first, last);
	}
	array->entry_num = i;
	return ret;
}

static void ioasid_mock_nested_free(struct iommu_domain *domain)
{
	struct ioasid_mock_nested *nd = ioasid_mock_to_nested(domain);

	scoped_guard(rwsem_write, &nd->parent->dma_lock)
		list_del(&nd->parent_link);
	ioasid_mock_iotlb_destroy(&nd->iotlb);
	kfree(nd);
}

static const struct iommu_domain_ops ioasid_mock_nested_ops = {
	.attach_dev = ioasid_mock_nested_attach_dev,
	.cache_invalidate_user = ioasid_mock_cache_invalidate_user,
	.free = ioasid_mock_nested_free,
};

static struct iommu_domain *
ioasid_mock_nested_alloc(struct ioasid_mock_iommu *mock,
			 struct iommu_domain *parent,
			 const struct iommu_user_data *user_data)
{
	struct ioasid_mock_domain *md;
	struct ioasid_mock_nested *nd;
	struct iommu_hwpt_vtd_s1 s1;
	int ret;

	if (!ioasid_mock_domain_is_paging(parent))
		return ERR_PTR(-EINVAL);
	md = ioasid_mock_to_domain(parent);
	if (md->mock != mock || !md->nest_parent)
		return ERR_PTR(-EINVAL);
	if (user_data->type != IOMMU_HWPT_DATA_VTD_S1)
		return ERR_PTR(-EOPNOTSUPP);
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

	nd = kzalloc(sizeof(*nd), GFP_KERNEL_ACCOUNT);
	if (!nd)
		return ERR_PTR(-ENOMEM);
	nd->parent = md;
	nd->s1_root = s1.pgtbl_addr;
	ioasid_mock_iotlb_init(&nd->iotlb);
	nd->domain.type = IOMMU_DOMAIN_NESTED;
	nd->domain.ops = &ioasid_mock_nested_ops;
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
	struct ioasid_mock_domain *md;

	if (!mock)
		return ERR_PTR(-ENODEV);
	if (parent && user_data && !flags)
		return ioasid_mock_nested_alloc(mock, parent, user_data);
	if (parent || user_data || flags & ~IOMMU_HWPT_ALLOC_NEST_PARENT ||
	    (nest_parent && !mock->nesting))
		return ERR_PTR(-EOPNOTSUPP);
	md = ioasid_mock_paging_alloc(mock, nest_parent);
	if (IS_ERR(md))
		return ERR_CAST(md);
	md->domain.type = IOMMU_DOMAIN_UNMANAGED;
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
	init_rwsem(&mdev->lock);
	dev_iommu_priv_set(dev, mdev);
	return &mock->iommu;
}

static void ioasid_mock_release_device(struct device *dev)
{
	kfree(dev_iommu_priv_get(dev));
}

/*
 * Translate the chunk of a DMA at @iova, up to the end of its granule
 * (see ioasid_mock_dma_shift()), for the DMA's direction.
 */
static int ioasid_mock_dma_translate(struct iommu_domain *domain, u64 iova,
				     bool write, phys_addr_t *phys)
{
	size_t pgsize;
	int prot;

	if (domain->ops == &ioasid_mock_nested_ops)
		return ioasid_mock_nested_dma(ioasid_mock_to_nested(domain),
					      iova, write, phys);
	if (ioasid_mock_lookup(ioasid_mock_to_domain(domain), iova, phys,
			       &pgsize, &prot))
		return -EIO;
	if (!(prot & (write ? IOMMU_WRITE : IOMMU_READ)) ||
	    !pfn_valid(PHYS_PFN(*phys)))
		return -EIO;
	return 0;
}

/*
 * The granule a DMA through @domain is translated in: what a nested
 * domain caches, or a paging domain's smallest page; never more than a
 * CPU page, so one kmap reaches every granule.
 */
static unsigned int ioasid_mock_dma_shift(struct iommu_domain *domain)
{
	if (domain->ops == &ioasid_mock_nested_ops)
		return MOCK_S1_SHIFT;
	return min_t(unsigned int, __ffs(domain->pgsize_bitmap), PAGE_SHIFT);
}

/*
 * Make @dev DMA @length bytes at @iova, to memory from @buf (@write) or
 * from memory into @buf, through the domain it is attached to now,
 * paging or nested. Every granule is translated and its permission
 * checked before a byte moves, and the copy uses what that found, not a
 * second look that a guest changing its table could make differ: a DMA
 * that would fault anywhere moves nothing and fails with EIO, as a
 * device stopped by the IOMMU would. Neither an attach nor an unmap nor
 * an invalidation can come in between.
 */
int ioasid_mock_device_dma(struct device *dev, u64 iova, void *buf,
			   size_t length, bool write)
{
	struct ioasid_mock_domain *md;
	struct ioasid_mock_dev *mdev;
	struct iommu_domain *domain;
	unsigned long i, n;
	unsigned int shift;
	phys_addr_t *phys;
	size_t done = 0;
	int ret = 0;
	u64 last;

	/* No IOMMU in front of it (an emulated device): nothing to reach. */
	if (!ioasid_mock_of(dev))
		return -EIO;
	mdev = dev_iommu_priv_get(dev);
	guard(rwsem_read)(&mdev->lock);
	domain = mdev->domain;
	if (!domain)
		return -EIO;
	if (!length)
		return 0;
	/* Past the top of the address space: a fault like any other. */
	if (check_add_overflow(iova, (u64)length - 1, &last))
		return -EIO;
	shift = ioasid_mock_dma_shift(domain);
	n = (last >> shift) - (iova >> shift) + 1;
	phys = kvmalloc_array(n, sizeof(*phys), GFP_KERNEL);
	if (!phys)
		return -ENOMEM;

	md = ioasid_mock_paging_of(domain);
	down_read(&md->dma_lock);
	for (i = 0; i < n; i++) {
		u64 at = max(iova, ((iova >> shift) + i) << shift);

		ret = ioasid_mock_dma_translate(domain, at, write, &phys[i]);
		if (ret)
			goto out_unlock;
	}
	for (i = 0; i < n; i++) {
		u64 at = iova + done;
		u64 room = BIT_ULL(shift) - (at & (BIT_ULL(shift) - 1));
		size_t chunk = min_t(u64, length - done, room);
		void *va;

		va = kmap_local_page(pfn_to_page(PHYS_PFN(phys[i])));
		if (write)
			memcpy(va + offset_in_page(phys[i]), buf + done, chunk);
		else
			memcpy(buf + done, va + offset_in_page(phys[i]), chunk);
		kunmap_local(va);
		done += chunk;
	}
out_unlock:
	up_read(&md->dma_lock);
	kvfree(phys);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(ioasid_mock_device_dma, IOASID_TEST);

/*
 * How many translations the IOTLB of the nested domain @dev's DMA goes
 * through holds now, and how many it can hold; ENXIO if its DMA goes
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
	if (!mdev->domain || mdev->domain->ops != &ioasid_mock_nested_ops)
		return -ENXIO;
	nd = ioasid_mock_to_nested(mdev->domain);
	mutex_lock(&nd->iotlb.lock);
	*entries = nd->iotlb.count;
	mutex_unlock(&nd->iotlb.lock);
	*max = IOASID_MOCK_IOTLB_MAX;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ioasid_mock_device_iotlb_info, IOASID_TEST);

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
	default:
		return false;
	}
}

static const struct iommu_ops ioasid_mock_ops = {
	.owner = THIS_MODULE,
	.capable = ioasid_mock_capable,
	.probe_device = ioasid_mock_probe_device,
	.release_device = ioasid_mock_release_device,
	.device_group = ioasid_mock_device_group,
	.def_domain_type = ioasid_mock_def_domain_type,
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

	for (i = 0; i != ARRAY_SIZE(ioasid_mock_iommus); i++) {
		ret = ioasid_mock_iommu_add(&ioasid_mock_iommus[i], i);
		if (ret)
			goto err_remove;
	}
	return 0;

err_remove:
	while (i--)
		ioasid_mock_iommu_remove(&ioasid_mock_iommus[i]);
	return ret;
}

void ioasid_mock_exit(void)
{
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(ioasid_mock_iommus); i++)
		ioasid_mock_iommu_remove(&ioasid_mock_iommus[i]);
}
