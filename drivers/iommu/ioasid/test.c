// SPDX-License-Identifier: GPL-2.0-only
/*
 * The test-only ioctl (CONFIG_IOASID_TEST): mock devices, and a look at
 * state the uAPI rightly does not show, so selftests can prove what the
 * IOMMU really holds and that every pinned page is released.
 *
 * Mock devices become device objects through the same
 * ioasid_device_create() as devices a driver binds; only the struct
 * device is test-specific.
 *
 * Mock devices can also do DMA, as the mock VFIO devices do through
 * their own fd, so selftests reach a nested domain's first-stage walk and
 * IOTLB without VFIO.
 *
 * An emulated mock device has no IOMMU: its DMA is an in-kernel accessor
 * (access.c) reading and writing an IOASID, through the exported API, as
 * an mdev driver would. Its fd is its life.
 *
 * Lock order: an emulated device's lock, then the accessor's (its pin and
 * unpin calls), and the unmap callback takes the device's lock under
 * none of ours but the accessor's notify lock. Otherwise none of its
 * own; it reads a device's domain under its
 * group's lock. A device reports its group's domain whether or not it
 * asked to attach itself, since that is where its DMA goes. DMA and the
 * IOTLB count take only the mock's locks, with no lock of ours held, and
 * user memory is copied outside them.
 */
#include <linux/anon_inodes.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/hash.h>
#include <linux/highmem.h>
#include <linux/ioasid.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/uaccess.h>
#include <uapi/linux/ioasid.h>

#include "ioasid_private.h"
#include "ioasid_test.h"

static_assert(IOASID_TEST_PROT_READ == IOMMU_READ);
static_assert(IOASID_TEST_PROT_WRITE == IOMMU_WRITE);
static_assert(IOASID_TEST_PROT_CACHE == IOMMU_CACHE);
static_assert(IOASID_TEST_DMA_MAX == SZ_64K);

static void ioasid_test_mock_release(struct ioasid_device *idev)
{
	ioasid_mock_device_destroy(idev->dev);
}

static int ioasid_test_mock_device_add(struct ioasid_ucmd *ucmd,
				       struct ioasid_cmd_test *cmd)
{
	struct ioasid_device *idev;
	struct device *dev;
	int ret;

	dev = ioasid_mock_device_create(cmd->mock_device_add.instance,
					cmd->mock_device_add.flags,
					"ioasid-mock");
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	idev = ioasid_device_create(ucmd->ctx, dev);
	if (IS_ERR(idev)) {
		ioasid_mock_device_destroy(dev);
		return PTR_ERR(idev);
	}
	/* From here on the device object owns @dev. */
	idev->release = ioasid_test_mock_release;

	cmd->mock_device_add.out_dev_id = idev->obj.id;
	ret = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		ioasid_object_abort_and_destroy(ucmd->ctx, &idev->obj);
		return ret;
	}
	ioasid_object_publish(ucmd->ctx, &idev->obj);
	return 0;
}

static struct ioasid_device *ioasid_test_device_get(struct ioasid_ctx *ctx,
						    u32 id)
{
	struct ioasid_object *obj;

	obj = ioasid_object_get(ctx, id, IOASID_OBJ_DEVICE);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct ioasid_device, obj);
}

/* The PASID @cmd names, as VFIO_ATTACH_IOASID would name it. */
static int ioasid_test_attach_pasid(struct ioasid_cmd_test *cmd, u32 *pasid)
{
	if (cmd->attach.flags & ~IOASID_ATTACH_USER_PASID)
		return -EOPNOTSUPP;
	*pasid = cmd->attach.pasid;
	if (!(cmd->attach.flags & IOASID_ATTACH_USER_PASID))
		return *pasid ? -EINVAL : 0;
	return *pasid == IOMMU_NO_PASID ? -EINVAL : 0;
}

static int ioasid_test_attach(struct ioasid_ucmd *ucmd,
			      struct ioasid_device *idev,
			      struct ioasid_cmd_test *cmd)
{
	struct ioasid_space *space;
	u32 pasid;
	int ret;

	ret = ioasid_test_attach_pasid(cmd, &pasid);
	if (ret)
		return ret;
	space = ioasid_space_get(ucmd->ctx, cmd->attach.ioasid);
	if (IS_ERR(space))
		return PTR_ERR(space);
	ret = ioasid_device_attach(idev, space, pasid);
	ioasid_space_put(space);
	return ret;
}

/* Everything, as before PASIDs; or one PASID, named with its IOASID. */
static int ioasid_test_detach(struct ioasid_device *idev,
			      struct ioasid_cmd_test *cmd)
{
	u32 pasid;
	int ret;

	ret = ioasid_test_attach_pasid(cmd, &pasid);
	if (ret)
		return ret;
	if (pasid == IOMMU_NO_PASID)
		return ioasid_device_detach_any(idev);
	return ioasid_device_detach(idev, cmd->attach.ioasid, pasid);
}

/* The page now backing a user address, with a reference to drop. */
static struct page *ioasid_test_user_page(unsigned long vaddr)
{
	struct page *page;

	if (get_user_pages_fast(vaddr, 1, 0, &page) != 1)
		return NULL;
	return page;
}

static int ioasid_test_check_map(struct ioasid_device *idev,
				 struct ioasid_cmd_test *cmd, bool expect_mapped)
{
	u64 iova = cmd->check_map.iova, end;
	size_t largest = 0;
	int seen = 0;
	int ret = 0;

	if (check_add_overflow(iova, cmd->check_map.length, &end))
		return -EOVERFLOW;

	mutex_lock(&idev->igroup->lock);
	if (!idev->igroup->rid.domain) {
		ret = -ENXIO;
		goto out_unlock;
	}
	for (; iova < end; iova += PAGE_SIZE) {
		struct page *page;
		phys_addr_t phys;
		size_t pgsize;
		int prot;

		ret = ioasid_mock_translate(idev->igroup->rid.domain->iommu_domain,
					    iova, &phys, &pgsize, &prot);
		if (!expect_mapped) {
			if (!ret) {
				ret = -EIO;
				break;
			}
			ret = 0;
			continue;
		}
		if (ret)
			break;
		largest = max(largest, pgsize);
		page = ioasid_test_user_page(cmd->check_map.vaddr + iova -
					     cmd->check_map.iova);
		if (!page) {
			ret = -EFAULT;
			break;
		}
		seen |= prot;
		if (page_to_phys(page) != phys ||
		    (prot & (IOMMU_READ | IOMMU_WRITE)) != cmd->check_map.prot)
			ret = -EIO;
		put_page(page);
		if (ret)
			break;
	}
out_unlock:
	mutex_unlock(&idev->igroup->lock);
	cmd->check_map.out_pgsize = largest;
	cmd->check_map.out_prot = seen;
	return ret;
}

static int ioasid_test_page_ref(struct ioasid_cmd_test *cmd)
{
	struct page *page;

	/* Per-CPU LRU batches hold references of their own: empty them. */
	lru_add_drain_all();
	page = ioasid_test_user_page(cmd->page_ref.vaddr);
	if (!page)
		return -EFAULT;
	/* Leave out the reference we took to look. */
	cmd->page_ref.out_refcount = page_ref_count(page) - 1;
	cmd->page_ref.out_pinned = folio_maybe_dma_pinned(page_folio(page));
	put_page(page);
	return 0;
}

static void ioasid_test_device_info(struct ioasid_device *idev,
				    struct ioasid_cmd_test *cmd)
{
	bool cookie = false, enforce_cc = false;
	u64 id = 0;

	mutex_lock(&idev->igroup->lock);
	if (idev->igroup->rid.domain) {
		struct iommu_domain *domain =
			idev->igroup->rid.domain->iommu_domain;

		/* An opaque id: equal for devices that share a domain. */
		id = (u64)hash_ptr(domain, 63) + 1;
		cookie = domain->iova_cookie;
		/* Ask the mock itself, not what device.c believes. */
		enforce_cc = ioasid_mock_domain_enforces_cc(domain);
	}
	mutex_unlock(&idev->igroup->lock);
	cmd->device_info.out_domain_id = id;
	cmd->device_info.out_msi_cookie = cookie;
	cmd->device_info.out_enforce_cc = enforce_cc;
	cmd->device_info.out_unwaited_answers =
		ioasid_mock_device_unwaited_answers(idev->dev);
}

/* The PASID a DMA is tagged with, or IOMMU_NO_PASID. */
static int ioasid_test_dma_pasid(u32 flags, u32 pasid, u32 *out)
{
	if (flags & ~(IOASID_TEST_DMA_WRITE | IOASID_TEST_DMA_PASID |
		      IOASID_TEST_DMA_PRI))
		return -EOPNOTSUPP;
	if (!(flags & IOASID_TEST_DMA_PASID)) {
		*out = IOMMU_NO_PASID;
		return pasid ? -EOPNOTSUPP : 0;
	}
	*out = pasid;
	return 0;
}

/*
 * One DMA of @length bytes through @bounce, which holds that many, as the
 * device does it.
 */
static int ioasid_test_dma_one(struct ioasid_device *idev, u32 flags,
			       u32 pasid, u64 iova, u64 uptr, u64 length,
			       void *bounce)
{
	bool write = flags & IOASID_TEST_DMA_WRITE;
	void __user *ubuf = u64_to_user_ptr(uptr);
	int ret;

	if (write && copy_from_user(bounce, ubuf, length))
		return -EFAULT;
	ret = ioasid_mock_device_dma(idev->dev, pasid, iova, bounce, length,
				     write, flags & IOASID_TEST_DMA_PRI);
	if (!ret && !write && copy_to_user(ubuf, bounce, length))
		ret = -EFAULT;
	return ret;
}

/* A DMA by the device, as its hardware would do it; see IOASID_TEST_OP_DMA. */
static int ioasid_test_dma(struct ioasid_device *idev,
			   struct ioasid_cmd_test *cmd)
{
	u64 length = cmd->dma.length, end;
	void *bounce;
	u32 pasid;
	int ret;

	/* A driver-bound device does DMA through its driver only. */
	if (idev->external)
		return -EINVAL;
	ret = ioasid_test_dma_pasid(cmd->dma.flags, cmd->dma.pasid, &pasid);
	if (ret)
		return ret;
	if (!length || length > IOASID_TEST_DMA_MAX)
		return -EINVAL;
	if (check_add_overflow(cmd->dma.iova, length, &end))
		return -EOVERFLOW;
	bounce = kvmalloc(length, GFP_KERNEL_ACCOUNT);
	if (!bounce)
		return -ENOMEM;
	ret = ioasid_test_dma_one(idev, cmd->dma.flags, pasid, cmd->dma.iova,
				  cmd->dma.uptr, length, bounce);
	kvfree(bounce);
	return ret;
}

/*
 * Many small DMAs in one call, each with its own result; see
 * IOASID_TEST_OP_DMA_BATCH.
 */
static int ioasid_test_dma_batch(struct ioasid_ucmd *ucmd,
				 struct ioasid_device *idev,
				 struct ioasid_cmd_test *cmd)
{
	struct ioasid_test_dma_req __user *ureqs =
		u64_to_user_ptr(cmd->dma_batch.uptr);
	u32 num = cmd->dma_batch.num, faults = 0, i;
	int ret = 0, err;
	void *bounce;

	if (idev->external)
		return -EINVAL;
	if (!num || num > IOASID_TEST_DMA_BATCH_MAX)
		return -EINVAL;
	/* One for all: a fuzzer's thousands of DMAs should cost DMAs. */
	bounce = kmalloc(SZ_4K, GFP_KERNEL_ACCOUNT);
	if (!bounce)
		return -ENOMEM;
	for (i = 0; i < num; i++) {
		struct ioasid_test_dma_req req;
		u64 end;
		u32 pasid;

		if (copy_from_user(&req, &ureqs[i], sizeof(req))) {
			ret = -EFAULT;
			break;
		}
		ret = ioasid_test_dma_pasid(req.flags, req.pasid, &pasid);
		if (!ret && (!req.length || req.length > SZ_4K))
			ret = -EINVAL;
		if (!ret && check_add_overflow(req.iova, (u64)req.length, &end))
			ret = -EOVERFLOW;
		if (ret)
			break;
		req.out_result = ioasid_test_dma_one(idev, req.flags, pasid,
						     req.iova, req.uptr,
						     req.length, bounce);
		if (req.out_result == -EIO)
			faults++;
		if (put_user(req.out_result, &ureqs[i].out_result)) {
			ret = -EFAULT;
			break;
		}
		cond_resched();
	}
	kfree(bounce);
	cmd->dma_batch.num = i;
	cmd->dma_batch.out_faults = faults;
	err = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
	return ret ?: err;
}

/* A page request group with no DMA around it; see PAGE_REQUEST. */
static int ioasid_test_page_request(struct ioasid_device *idev,
				    struct ioasid_cmd_test *cmd)
{
	u32 flags = cmd->page_request.flags, pasid;
	int ret;

	if (idev->external)
		return -EINVAL;
	if (flags & IOASID_TEST_DMA_PRI)
		return -EOPNOTSUPP;
	ret = ioasid_test_dma_pasid(flags, cmd->page_request.pasid, &pasid);
	if (ret)
		return ret;
	return ioasid_mock_device_page_request(idev->dev, pasid,
					       cmd->page_request.iova,
					       cmd->page_request.num,
					       flags & IOASID_TEST_DMA_WRITE);
}

static int ioasid_test_iotlb_info(struct ioasid_ucmd *ucmd,
				  struct ioasid_device *idev,
				  struct ioasid_cmd_test *cmd)
{
	u32 *entries = &cmd->iotlb_info.out_entries;
	int ret;

	ret = ioasid_mock_device_iotlb_info(idev->dev, entries,
					    &cmd->iotlb_info.out_max);
	return ret ?: ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}

/* An emulated mock device: its accessor and what it pinned. */
struct ioasid_test_emulated {
	struct ioasid_access *access;
	u32 flags;			/* enum ioasid_test_emulated_flags */
	struct mutex lock;		/* the fields below */
	struct list_head pins;		/* struct ioasid_test_emulated_pin */
	unsigned int num_pins;
	unsigned int unmaps;
};

struct ioasid_test_emulated_pin {
	struct list_head link;
	unsigned long iova;
	unsigned long length;
};

static void ioasid_test_emulated_unpin(struct ioasid_test_emulated *em,
				       struct ioasid_test_emulated_pin *pin)
{
	lockdep_assert_held(&em->lock);
	ioasid_access_unpin_pages(em->access, pin->iova, pin->length);
	list_del(&pin->link);
	em->num_pins--;
	kfree(pin);
}

/*
 * As a driver does: give up every pin the unmapped range meets. A slow
 * one lets a test close the device while a callback is in flight; a deaf
 * one, that the kernel takes back what a driver does not give up.
 */
static void ioasid_test_emulated_unmap(void *data, unsigned long iova,
				       unsigned long length)
{
	struct ioasid_test_emulated *em = data;
	struct ioasid_test_emulated_pin *pin, *next;

	mutex_lock(&em->lock);
	em->unmaps++;
	mutex_unlock(&em->lock);
	if (em->flags & IOASID_TEST_EMULATED_IGNORE_UNMAP)
		return;
	if (em->flags & IOASID_TEST_EMULATED_SLOW_UNMAP)
		msleep(IOASID_TEST_EMULATED_SLOW_MS);

	mutex_lock(&em->lock);
	list_for_each_entry_safe(pin, next, &em->pins, link)
		if (pin->iova < iova + length && iova < pin->iova + pin->length)
			ioasid_test_emulated_unpin(em, pin);
	mutex_unlock(&em->lock);
}

static const struct ioasid_access_ops ioasid_test_emulated_ops = {
	.unmap = ioasid_test_emulated_unmap,
};

static int ioasid_test_emulated_release(struct inode *inode,
					struct file *filp)
{
	struct ioasid_test_emulated *em = filp->private_data;
	struct ioasid_test_emulated_pin *pin, *next;

	mutex_lock(&em->lock);
	list_for_each_entry_safe(pin, next, &em->pins, link)
		ioasid_test_emulated_unpin(em, pin);
	mutex_unlock(&em->lock);
	ioasid_access_destroy(em->access);
	mutex_destroy(&em->lock);
	kfree(em);
	return 0;
}

static const struct file_operations ioasid_test_emulated_fops = {
	.owner = THIS_MODULE,
	.release = ioasid_test_emulated_release,
};

static int ioasid_test_emulated_add(struct ioasid_ucmd *ucmd,
				    struct ioasid_cmd_test *cmd)
{
	struct ioasid_test_emulated *em;
	struct file *file;
	int fd, ret;

	if (cmd->emulated.flags & ~(IOASID_TEST_EMULATED_SLOW_UNMAP |
				    IOASID_TEST_EMULATED_IGNORE_UNMAP))
		return -EOPNOTSUPP;
	em = kzalloc(sizeof(*em), GFP_KERNEL_ACCOUNT);
	if (!em)
		return -ENOMEM;
	em->flags = cmd->emulated.flags;
	mutex_init(&em->lock);
	INIT_LIST_HEAD(&em->pins);
	em->access = ioasid_access_create(cmd->emulated.fd,
					  cmd->emulated.ioasid,
					  &ioasid_test_emulated_ops, em);
	if (IS_ERR(em->access)) {
		ret = PTR_ERR(em->access);
		goto err_free;
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_destroy;
	}
	file = anon_inode_getfile("[ioasid-emulated]",
				  &ioasid_test_emulated_fops, em, O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_fd;
	}
	cmd->emulated.out_fd = fd;
	ret = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		/* Its release destroys it. */
		fput(file);
		put_unused_fd(fd);
		return ret;
	}
	fd_install(fd, file);
	return 0;

err_fd:
	put_unused_fd(fd);
err_destroy:
	ioasid_access_destroy(em->access);
err_free:
	mutex_destroy(&em->lock);
	kfree(em);
	return ret;
}

static int ioasid_test_emulated_dma(struct ioasid_test_emulated *em,
				    struct ioasid_cmd_test *cmd)
{
	void __user *uptr = u64_to_user_ptr(cmd->emulated.uptr);
	u64 length = cmd->emulated.length;
	bool write = cmd->emulated.flags & IOASID_TEST_DMA_WRITE;
	void *bounce;
	int ret;

	if (cmd->emulated.flags & ~IOASID_TEST_DMA_WRITE ||
	    !length || length > IOASID_TEST_DMA_MAX)
		return -EINVAL;
	bounce = kvmalloc(length, GFP_KERNEL_ACCOUNT);
	if (!bounce)
		return -ENOMEM;
	ret = write && copy_from_user(bounce, uptr, length) ? -EFAULT : 0;
	if (!ret)
		ret = ioasid_access_rw(em->access, cmd->emulated.iova, bounce,
				       length,
				       write ? IOASID_ACCESS_WRITE : 0);
	if (!ret && !write && copy_to_user(uptr, bounce, length))
		ret = -EFAULT;
	kvfree(bounce);
	return ret;
}

/* Copy the user's bytes into pinned pages, as the device's writes. */
static int ioasid_test_emulated_write_pages(struct page **pages,
					    const void __user *uptr,
					    unsigned long length)
{
	unsigned long i;

	for (i = 0; i != length >> PAGE_SHIFT; i++) {
		void *va = kmap_local_page(pages[i]);
		unsigned long left;

		left = copy_from_user(va, uptr + (i << PAGE_SHIFT), PAGE_SIZE);
		kunmap_local(va);
		if (left)
			return -EFAULT;
	}
	return 0;
}

static int ioasid_test_emulated_pin(struct ioasid_test_emulated *em,
				    struct ioasid_cmd_test *cmd)
{
	unsigned long length = cmd->emulated.length;
	unsigned long iova = cmd->emulated.iova;
	struct ioasid_test_emulated_pin *pin;
	void __user *uptr = u64_to_user_ptr(cmd->emulated.uptr);
	struct page **pages;
	unsigned int flags = 0;
	int ret;

	if (cmd->emulated.flags & ~IOASID_TEST_DMA_WRITE ||
	    length > IOASID_TEST_DMA_MAX)
		return -EINVAL;
	if (cmd->emulated.flags & IOASID_TEST_DMA_WRITE)
		flags = IOASID_ACCESS_WRITE;
	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	pages = kcalloc(DIV_ROUND_UP(length, PAGE_SIZE), sizeof(*pages),
			GFP_KERNEL_ACCOUNT);
	if (!pin || !pages) {
		ret = -ENOMEM;
		goto out_free;
	}
	mutex_lock(&em->lock);
	ret = ioasid_access_pin_pages(em->access, iova, length, pages, flags);
	if (!ret && uptr && flags)
		ret = ioasid_test_emulated_write_pages(pages, uptr, length);
	if (!ret) {
		pin->iova = iova;
		pin->length = length;
		list_add_tail(&pin->link, &em->pins);
		em->num_pins++;
		pin = NULL;
	} else if (ret == -EFAULT) {
		ioasid_access_unpin_pages(em->access, iova, length);
	}
	mutex_unlock(&em->lock);
out_free:
	kfree(pages);
	kfree(pin);
	return ret;
}

static int ioasid_test_emulated_unpin_op(struct ioasid_test_emulated *em,
					 struct ioasid_cmd_test *cmd)
{
	struct ioasid_test_emulated_pin *pin;
	int ret = -ENOENT;

	mutex_lock(&em->lock);
	list_for_each_entry(pin, &em->pins, link) {
		if (pin->iova == cmd->emulated.iova &&
		    pin->length == cmd->emulated.length) {
			ioasid_test_emulated_unpin(em, pin);
			ret = 0;
			break;
		}
	}
	mutex_unlock(&em->lock);
	return ret;
}

/* The EMULATED ops but ADD: on the emulated device @emulated.fd names. */
static int ioasid_test_emulated_op(struct ioasid_ucmd *ucmd,
				   struct ioasid_cmd_test *cmd)
{
	CLASS(fd, f)(cmd->emulated.fd);
	struct ioasid_test_emulated *em;
	int ret;

	if (fd_empty(f))
		return -EBADF;
	if (fd_file(f)->f_op != &ioasid_test_emulated_fops)
		return -EINVAL;
	em = fd_file(f)->private_data;
	switch (cmd->op) {
	case IOASID_TEST_OP_EMULATED_DMA:
		return ioasid_test_emulated_dma(em, cmd);
	case IOASID_TEST_OP_EMULATED_PIN:
		return ioasid_test_emulated_pin(em, cmd);
	case IOASID_TEST_OP_EMULATED_UNPIN:
		return ioasid_test_emulated_unpin_op(em, cmd);
	default:
		mutex_lock(&em->lock);
		cmd->emulated.out_pins = em->num_pins;
		cmd->emulated.out_unmaps = em->unmaps;
		mutex_unlock(&em->lock);
		ret = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
		return ret;
	}
}

int ioasid_test_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_test *cmd = ucmd->cmd;
	struct ioasid_device *idev;
	int ret;

	switch (cmd->op) {
	case IOASID_TEST_OP_MOCK_DEVICE_ADD:
		return ioasid_test_mock_device_add(ucmd, cmd);
	case IOASID_TEST_OP_DEVICE_DEL:
		return ioasid_object_destroy_user(ucmd->ctx, cmd->dev_id,
						  IOASID_OBJ_DEVICE);
	case IOASID_TEST_OP_EMULATED_ADD:
		return ioasid_test_emulated_add(ucmd, cmd);
	case IOASID_TEST_OP_EMULATED_DMA:
	case IOASID_TEST_OP_EMULATED_PIN:
	case IOASID_TEST_OP_EMULATED_UNPIN:
	case IOASID_TEST_OP_EMULATED_INFO:
		return ioasid_test_emulated_op(ucmd, cmd);
	case IOASID_TEST_OP_PAGE_REF:
		ret = ioasid_test_page_ref(cmd);
		return ret ?: ioasid_ucmd_respond(ucmd, sizeof(*cmd));
	}

	idev = ioasid_test_device_get(ucmd->ctx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	switch (cmd->op) {
	case IOASID_TEST_OP_ATTACH:
	case IOASID_TEST_OP_DETACH:
		/* A driver-bound device attaches through its driver only. */
		if (idev->external)
			ret = -EINVAL;
		else if (cmd->op == IOASID_TEST_OP_ATTACH)
			ret = ioasid_test_attach(ucmd, idev, cmd);
		else
			ret = ioasid_test_detach(idev, cmd);
		break;
	case IOASID_TEST_OP_CHECK_MAP:
	case IOASID_TEST_OP_CHECK_UNMAPPED:
		ret = ioasid_test_check_map(idev, cmd,
					    cmd->op == IOASID_TEST_OP_CHECK_MAP);
		if (!ret)
			ret = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
		break;
	case IOASID_TEST_OP_DEVICE_INFO:
		ioasid_test_device_info(idev, cmd);
		ret = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
		break;
	case IOASID_TEST_OP_DMA:
		ret = ioasid_test_dma(idev, cmd);
		break;
	case IOASID_TEST_OP_IOTLB_INFO:
		ret = ioasid_test_iotlb_info(ucmd, idev, cmd);
		break;
	case IOASID_TEST_OP_DMA_BATCH:
		ret = ioasid_test_dma_batch(ucmd, idev, cmd);
		break;
	case IOASID_TEST_OP_PAGE_REQUEST:
		ret = ioasid_test_page_request(idev, cmd);
		break;
	default:
		ret = -EOPNOTSUPP;
	}
	ioasid_object_put(&idev->obj);
	return ret;
}
