// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VFIO driver for mock devices, for test kernels only
 * (CONFIG_IOASID_TEST_VFIO). It is a VFIO driver, not part of /dev/ioasid:
 * it has its own object and reaches the mock IOMMU only through the
 * functions mock.c exports.
 *
 * When loaded it creates a few platform devices behind the mock IOMMU
 * instances and registers each as a VFIO device, so they appear as
 * /dev/vfio/devices/vfioN and selftests and benchmarks bind them with
 * VFIO_BIND_IOASID_FD exactly as they would a PCI device under vfio-pci.
 *
 * The device can do one thing: DMA. IOASID_MOCK_VFIO_DMA, issued on its
 * VFIO device fd, reads or writes a range of IOVA, with or without a
 * PASID, through the mock IOMMU (ioasid_mock_device_dma()), as the
 * device's hardware would.
 *
 * Lock order: none of its own; VFIO's dev_set lock around open and close.
 */
#include <linux/iommu.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "ioasid_private.h"
#include "ioasid_test.h"

#define IOASID_MOCK_VFIO_NAME	"ioasid-mock-vfio"
#define IOASID_MOCK_EMULATED_NAME	"ioasid-mock-emulated"
#define IOASID_MOCK_DMA_MAX	SZ_1M

struct ioasid_mock_vfio {
	struct vfio_device vdev;
};

/*
 * The first version of the argument, and the PASID extension: a caller
 * built before it passes the shorter size and means no PASID.
 */
#define IOASID_MOCK_VFIO_DMA_MINSZ	\
	offsetofend(struct ioasid_mock_vfio_dma, uptr)
#define IOASID_MOCK_VFIO_DMA_PASIDSZ	\
	offsetofend(struct ioasid_mock_vfio_dma, __reserved)

static int ioasid_mock_vfio_dma(struct vfio_device *vdev,
				struct ioasid_mock_vfio_dma __user *arg)
{
	struct ioasid_mock_vfio_dma dma = {};
	bool write;
	u8 *bounce;
	u64 end;
	int ret;

	if (copy_from_user(&dma, arg, IOASID_MOCK_VFIO_DMA_MINSZ))
		return -EFAULT;
	if (dma.argsz < IOASID_MOCK_VFIO_DMA_MINSZ ||
	    dma.flags & ~(IOASID_MOCK_VFIO_DMA_WRITE |
			  IOASID_MOCK_VFIO_DMA_PASID |
			  IOASID_MOCK_VFIO_DMA_PRI))
		return -EINVAL;
	if (dma.argsz >= IOASID_MOCK_VFIO_DMA_PASIDSZ &&
	    copy_from_user(&dma.pasid, &arg->pasid,
			   IOASID_MOCK_VFIO_DMA_PASIDSZ -
			   IOASID_MOCK_VFIO_DMA_MINSZ))
		return -EFAULT;
	/* A PASID needs the flag, and the flag the extension. */
	if (dma.__reserved ||
	    (dma.pasid && !(dma.flags & IOASID_MOCK_VFIO_DMA_PASID)) ||
	    (dma.flags & IOASID_MOCK_VFIO_DMA_PASID &&
	     dma.argsz < IOASID_MOCK_VFIO_DMA_PASIDSZ))
		return -EINVAL;
	if (!dma.length || dma.length > IOASID_MOCK_DMA_MAX ||
	    check_add_overflow(dma.iova, dma.length, &end))
		return -EINVAL;
	write = dma.flags & IOASID_MOCK_VFIO_DMA_WRITE;

	bounce = kvmalloc(dma.length, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	if (write && copy_from_user(bounce, u64_to_user_ptr(dma.uptr),
				    dma.length)) {
		ret = -EFAULT;
		goto out_free;
	}
	ret = ioasid_mock_device_dma(vdev->dev,
				     dma.flags & IOASID_MOCK_VFIO_DMA_PASID ?
				     dma.pasid : IOMMU_NO_PASID,
				     dma.iova, bounce, dma.length, write,
				     dma.flags & IOASID_MOCK_VFIO_DMA_PRI);
	if (!ret && !write && copy_to_user(u64_to_user_ptr(dma.uptr), bounce,
					   dma.length))
		ret = -EFAULT;
out_free:
	kvfree(bounce);
	return ret;
}

/* A platform device with no regions and no interrupts: DMA is all it does. */
static int ioasid_mock_vfio_get_info(struct vfio_device_info __user *arg)
{
	struct vfio_device_info info;
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = VFIO_DEVICE_FLAGS_PLATFORM;
	info.num_regions = 0;
	info.num_irqs = 0;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long ioasid_mock_vfio_ioctl(struct vfio_device *vdev, unsigned int cmd,
				   unsigned long arg)
{
	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return ioasid_mock_vfio_get_info((void __user *)arg);
	case IOASID_MOCK_VFIO_DMA:
		return ioasid_mock_vfio_dma(vdev, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct vfio_device_ops ioasid_mock_vfio_ops = {
	.name = IOASID_MOCK_VFIO_NAME,
	.ioctl = ioasid_mock_vfio_ioctl,
	.bind_iommufd = vfio_iommufd_physical_bind,
	.unbind_iommufd = vfio_iommufd_physical_unbind,
	.attach_ioas = vfio_iommufd_physical_attach_ioas,
	.detach_ioas = vfio_iommufd_physical_detach_ioas,
};

/*
 * An emulated device, as an mdev is: no IOMMU in front of it, a group
 * VFIO makes up, and iommufd's in-kernel access in place of DMA. It is
 * here to prove that /dev/ioasid refuses such devices cleanly.
 */
static const struct vfio_device_ops ioasid_mock_vfio_emulated_ops = {
	.name = IOASID_MOCK_EMULATED_NAME,
	.ioctl = ioasid_mock_vfio_ioctl,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

static int ioasid_mock_vfio_probe(struct platform_device *pdev)
{
	bool emulated = platform_get_device_id(pdev)->driver_data;
	struct ioasid_mock_vfio *mv;
	int ret;

	mv = vfio_alloc_device(ioasid_mock_vfio, vdev, &pdev->dev,
			       emulated ? &ioasid_mock_vfio_emulated_ops :
					  &ioasid_mock_vfio_ops);
	if (IS_ERR(mv))
		return PTR_ERR(mv);
	if (emulated)
		ret = vfio_register_emulated_iommu_dev(&mv->vdev);
	else
		ret = vfio_register_group_dev(&mv->vdev);
	if (ret) {
		vfio_put_device(&mv->vdev);
		return ret;
	}
	platform_set_drvdata(pdev, mv);
	return 0;
}

static void ioasid_mock_vfio_remove(struct platform_device *pdev)
{
	struct ioasid_mock_vfio *mv = platform_get_drvdata(pdev);

	vfio_unregister_group_dev(&mv->vdev);
	vfio_put_device(&mv->vdev);
}

static const struct platform_device_id ioasid_mock_vfio_ids[] = {
	{ .name = IOASID_MOCK_VFIO_NAME, .driver_data = false },
	{ .name = IOASID_MOCK_EMULATED_NAME, .driver_data = true },
	{ }
};

static struct platform_driver ioasid_mock_vfio_driver = {
	.driver.name = IOASID_MOCK_VFIO_NAME,
	.id_table = ioasid_mock_vfio_ids,
	/* DMA ownership goes to whoever VFIO binds the device to. */
	.driver_managed_dma = true,
	.probe = ioasid_mock_vfio_probe,
	.remove = ioasid_mock_vfio_remove,
};

static struct device *ioasid_mock_vfio_devs[IOASID_MOCK_VFIO_DEVICES];
static struct platform_device *ioasid_mock_vfio_emulated;

/* Built in, it must run after VFIO (a later initcall level). */
static int __init ioasid_mock_vfio_init(void)
{
	unsigned int i;
	int ret;

	ret = platform_driver_register(&ioasid_mock_vfio_driver);
	if (ret)
		return ret;
	/*
	 * Two behind each of the instances whose MSIs are isolated: enough
	 * to share and to differ, and bindable without unsafe interrupts.
	 */
	for (i = 0; i != ARRAY_SIZE(ioasid_mock_vfio_devs); i++) {
		unsigned int instance = i % 2 ? IOASID_MOCK_INSTANCE_SMALL :
						IOASID_MOCK_INSTANCE_LARGE;
		struct device *dev;

		dev = ioasid_mock_device_create(instance, 0,
						IOASID_MOCK_VFIO_NAME);
		if (IS_ERR(dev)) {
			ret = PTR_ERR(dev);
			goto err_destroy;
		}
		ioasid_mock_vfio_devs[i] = dev;
	}
	ioasid_mock_vfio_emulated =
		platform_device_register_simple(IOASID_MOCK_EMULATED_NAME,
						PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(ioasid_mock_vfio_emulated)) {
		ret = PTR_ERR(ioasid_mock_vfio_emulated);
		goto err_destroy;
	}
	return 0;

err_destroy:
	while (i--)
		ioasid_mock_device_destroy(ioasid_mock_vfio_devs[i]);
	platform_driver_unregister(&ioasid_mock_vfio_driver);
	return ret;
}
late_initcall(ioasid_mock_vfio_init);

static void __exit ioasid_mock_vfio_exit(void)
{
	unsigned int i;

	platform_device_unregister(ioasid_mock_vfio_emulated);
	for (i = 0; i != ARRAY_SIZE(ioasid_mock_vfio_devs); i++)
		ioasid_mock_device_destroy(ioasid_mock_vfio_devs[i]);
	platform_driver_unregister(&ioasid_mock_vfio_driver);
}
module_exit(ioasid_mock_vfio_exit);

MODULE_DESCRIPTION("VFIO driver for the /dev/ioasid mock IOMMU's devices");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(IOASID_TEST);
