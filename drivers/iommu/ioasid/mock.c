// SPDX-License-Identifier: GPL-2.0-only
/*
 * A mock IOMMU driver, for test kernels only (CONFIG_IOASID_TEST).
 *
 * It registers with the iommu core as a real driver does, so the
 * subsystem above runs its normal paths against it: domains are allocated
 * by iommu_paging_domain_alloc(), filled by iommu_map() and attached by
 * iommu_attach_group(). Its instances differ in page sizes, aperture and
 * reserved regions, as two real IOMMUs in one machine may.
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
 * Lock order: the xarray's own lock only; the owner of a domain (for
 * /dev/ioasid, space->lock) serializes its map and unmap.
 */
#include <linux/bitfield.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/irqdomain.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/slab.h>
#include <linux/sizes.h>

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
};

/* Per device: the paging domain it is attached to now, for its DMA. */
struct ioasid_mock_dev {
	/* Held for reading across a DMA, for writing by an attach. */
	struct rw_semaphore lock;
	struct ioasid_mock_domain *domain;	/* NULL: blocked, identity */
};

static void ioasid_mock_dev_set_domain(struct device *dev,
				       struct ioasid_mock_domain *md)
{
	struct ioasid_mock_dev *mdev = dev_iommu_priv_get(dev);

	down_write(&mdev->lock);
	mdev->domain = md;
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

static struct ioasid_mock_iommu *ioasid_mock_of(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	unsigned int i;

	for (i = 0; fwspec && i != ARRAY_SIZE(ioasid_mock_iommus); i++)
		if (ioasid_mock_iommus[i].fwnode == fwspec->iommu_fwnode)
			return &ioasid_mock_iommus[i];
	return NULL;
}

int ioasid_mock_translate(struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t *phys, size_t *pgsize, int *prot)
{
	struct ioasid_mock_domain *md = ioasid_mock_to_domain(domain);
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
EXPORT_SYMBOL_NS_GPL(ioasid_mock_translate, IOASID_TEST);

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
	return done;
}

static phys_addr_t ioasid_mock_iova_to_phys(struct iommu_domain *domain,
					    dma_addr_t iova)
{
	phys_addr_t phys;
	size_t pgsize;
	int prot;

	if (ioasid_mock_translate(domain, iova, &phys, &pgsize, &prot))
		return 0;
	return phys;
}

static int ioasid_mock_attach_dev(struct iommu_domain *domain,
				  struct device *dev)
{
	struct ioasid_mock_domain *md = ioasid_mock_to_domain(domain);

	/* A domain belongs to the instance that made it, as in hardware. */
	if (md->mock != ioasid_mock_of(dev))
		return -EINVAL;
	/* As VT-d without snoop control: such a device cannot join. */
	if (md->enforce_cc && ioasid_mock_device_flags(dev) &
			      IOASID_MOCK_DEVICE_NO_ENFORCE_CC)
		return -EINVAL;
	ioasid_mock_dev_set_domain(dev, md);
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

bool ioasid_mock_domain_enforces_cc(struct iommu_domain *domain)
{
	return ioasid_mock_to_domain(domain)->enforce_cc;
}
EXPORT_SYMBOL_NS_GPL(ioasid_mock_domain_enforces_cc, IOASID_TEST);

static void ioasid_mock_domain_free(struct iommu_domain *domain)
{
	struct ioasid_mock_domain *md = ioasid_mock_to_domain(domain);

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

static struct iommu_domain *ioasid_mock_domain_alloc_paging(struct device *dev)
{
	struct ioasid_mock_iommu *mock = ioasid_mock_of(dev);
	struct ioasid_mock_domain *md;

	if (!mock)
		return ERR_PTR(-ENODEV);
	md = kzalloc(sizeof(*md), GFP_KERNEL_ACCOUNT);
	if (!md)
		return ERR_PTR(-ENOMEM);
	md->mock = mock;
	init_rwsem(&md->dma_lock);
	xa_init(&md->ptes);
	md->domain.pgsize_bitmap = mock->pgsize_bitmap;
	md->domain.geometry.aperture_start = 0;
	md->domain.geometry.aperture_end = mock->aperture_last;
	md->domain.geometry.force_aperture = true;
	md->domain.ops = &ioasid_mock_domain_ops;
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

/* Translate one page-or-less chunk for a DMA of the given direction. */
static int ioasid_mock_dma_translate(struct ioasid_mock_domain *md, u64 iova,
				     bool write, phys_addr_t *phys)
{
	size_t pgsize;
	int prot;

	if (ioasid_mock_translate(&md->domain, iova, phys, &pgsize, &prot))
		return -EIO;
	if (!(prot & (write ? IOMMU_WRITE : IOMMU_READ)))
		return -EIO;
	return 0;
}

/*
 * Make @dev DMA @length bytes at @iova, to memory from @buf (@write) or
 * from memory into @buf, through the domain it is attached to now. Every
 * page is translated and its permission checked before a byte moves: a
 * DMA that would fault anywhere moves nothing and fails with EIO, as a
 * device stopped by the IOMMU would. Neither an attach nor an unmap can
 * come in between.
 */
int ioasid_mock_device_dma(struct device *dev, u64 iova, void *buf,
			   size_t length, bool write)
{
	struct ioasid_mock_domain *md;
	struct ioasid_mock_dev *mdev;
	u64 end = iova + length, at;
	size_t done;
	int ret = 0;

	/* No IOMMU in front of it (an emulated device): nothing to reach. */
	if (!ioasid_mock_of(dev))
		return -EIO;
	mdev = dev_iommu_priv_get(dev);
	guard(rwsem_read)(&mdev->lock);
	md = mdev->domain;
	if (!md)
		return -EIO;
	guard(rwsem_read)(&md->dma_lock);
	for (at = iova; at < end; at = min(end, (at | (PAGE_SIZE - 1)) + 1)) {
		phys_addr_t phys;

		ret = ioasid_mock_dma_translate(md, at, write, &phys);
		if (ret)
			return ret;
	}
	for (done = 0; done < length;) {
		size_t chunk = min_t(u64, length - done,
				     PAGE_SIZE - ((iova + done) & ~PAGE_MASK));
		phys_addr_t phys;
		void *va;

		ret = ioasid_mock_dma_translate(md, iova + done, write, &phys);
		if (WARN_ON(ret))
			return ret;
		va = kmap_local_page(pfn_to_page(PHYS_PFN(phys)));
		if (write)
			memcpy(va + offset_in_page(phys), buf + done, chunk);
		else
			memcpy(buf + done, va + offset_in_page(phys), chunk);
		kunmap_local(va);
		done += chunk;
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ioasid_mock_device_dma, IOASID_TEST);

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
