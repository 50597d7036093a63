// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests for devices: VFIO_BIND_IOASID_FD and friends on the VFIO
 * device cdev, and real DMA through the IOMMU.
 *
 * Each test runs on two kinds of device (variants): the mock VFIO devices
 * behind the mock IOMMU, and the QEMU edu devices behind the emulated
 * VT-d, bound to vfio-pci. Both are driven through the same
 * /dev/vfio/devices/vfioN path; only how a device is told to copy memory
 * differs. A copy reads with the device at one IOVA and writes at another,
 * so one call proves DMA in both directions.
 */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "ioasid_utils.h"

#define IOVA_A 0x100000UL
#define IOVA_B 0x200000UL
#define IOVA_C 0x300000UL
#define COPY_LEN 2048		/* the edu device's limit in QEMU 7.2 */
#define EDU_BUF 0x40000UL

struct test_device {
	int fd;			/* VFIO device fd */
	char cdev[PATH_MAX];
	bool edu;
	__u8 *bar;		/* edu BAR0, only touched through mmio_*() */
	size_t bar_size;
	__u32 dev_id;
};

static int read_sysfs(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

/* The vfioN cdev under a device's sysfs directory, if VFIO drives it. */
static int find_cdev(const char *sysdir, char *cdev, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/vfio-dev", sysdir);
	dir = opendir(path);
	if (!dir)
		return -ENODEV;
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(cdev, len, "/dev/vfio/devices/%s", de->d_name);
			closedir(dir);
			return 0;
		}
	closedir(dir);
	return -ENODEV;
}

/* Hand an edu device to vfio-pci, as a VMM's setup would. */
static int edu_to_vfio_pci(const char *bdf)
{
	char path[PATH_MAX], drv[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	ret = readlink(path, drv, sizeof(drv) - 1);
	if (ret > 0) {
		drv[ret] = 0;
		if (strstr(drv, "vfio-pci"))
			return 0;
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		write_file(path, bdf);
	}
	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/driver_override", bdf);
	ret = write_file(path, "vfio-pci");
	if (ret)
		return ret;
	return write_file("/sys/bus/pci/drivers_probe", bdf);
}

struct mock_name {
	int nr;
	char name[NAME_MAX + 1];
};

static int cmp_mock_name(const void *a, const void *b)
{
	return ((const struct mock_name *)a)->nr -
	       ((const struct mock_name *)b)->nr;
}

/*
 * The mock VFIO devices, in the order they were made: the platform bus
 * names them ioasid-mock-vfio.N, or ioasid-mock-vfio.N.auto, N rising.
 */
static int mock_sysdirs(char dirs[][PATH_MAX], int max)
{
	const char *drv = "/sys/bus/platform/drivers/ioasid-mock-vfio";
	struct mock_name devs[IOASID_MOCK_VFIO_DEVICES];
	struct dirent *de;
	int n = 0, i;
	DIR *dir;

	dir = opendir(drv);
	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < IOASID_MOCK_VFIO_DEVICES)
		if (sscanf(de->d_name, "ioasid-mock-vfio.%d", &devs[n].nr) == 1)
			snprintf(devs[n++].name, sizeof(devs[0].name), "%s",
				 de->d_name);
	closedir(dir);
	qsort(devs, n, sizeof(devs[0]), cmp_mock_name);
	for (i = 0; i < n && i < max; i++)
		snprintf(dirs[i], PATH_MAX, "%s/%s", drv, devs[i].name);
	return i;
}

/* The edu devices, handed to vfio-pci. */
static int edu_sysdirs(char dirs[][PATH_MAX], int max)
{
	char path[PATH_MAX], id[16];
	int n = 0, i;

	for (i = 0; i != 32 && n < max; i++) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/0000:00:%02x.0/device", i);
		if (read_sysfs(path, id, sizeof(id)) || strcmp(id, "0x11e8"))
			continue;
		snprintf(dirs[n], PATH_MAX, "/sys/bus/pci/devices/0000:00:%02x.0",
			 i);
		if (!edu_to_vfio_pci(dirs[n] + strlen("/sys/bus/pci/devices/")))
			n++;
	}
	return n;
}

/*
 * Two devices of a kind behind one IOMMU instance, with their cdevs:
 * both edus sit behind the one VT-d; mock devices 0 and 2 behind the
 * same mock instance.
 */
static int find_devices(bool edu, struct test_device *devs)
{
	char dirs[IOASID_MOCK_VFIO_DEVICES][PATH_MAX];
	int n, i, pick[2] = { 0, edu ? 1 : 2 };

	n = edu ? edu_sysdirs(dirs, 2) : mock_sysdirs(dirs, 4);
	for (i = 0; i != 2; i++) {
		if (pick[i] >= n ||
		    find_cdev(dirs[pick[i]], devs[i].cdev, sizeof(devs[i].cdev)))
			return i;
		devs[i].edu = edu;
	}
	return 2;
}

static int _bind(int vfio_fd, int ioasid_fd, __u64 label, __u32 *dev_id)
{
	struct vfio_device_bind_ioasid_fd bind = {
		.argsz = sizeof(bind),
		.ioasid_fd = ioasid_fd,
		.device_label = label,
	};
	int ret = ioasid_ioctl(vfio_fd, VFIO_BIND_IOASID_FD, &bind);

	if (!ret && dev_id)
		*dev_id = bind.out_dev_id;
	return ret;
}

static int _attach(int vfio_fd, unsigned long req, __u32 ioasid, __u32 flags,
		   __u32 pasid)
{
	struct vfio_device_attach_ioasid cmd = {
		.argsz = sizeof(cmd),
		.flags = flags,
		.ioasid = ioasid,
		.user_pasid = pasid,
	};

	return ioasid_ioctl(vfio_fd, req, &cmd);
}

#define _test_attach(fd, id) _attach(fd, VFIO_ATTACH_IOASID, id, 0, 0)
#define _test_detach(fd, id) _attach(fd, VFIO_DETACH_IOASID, id, 0, 0)
#define test_attach(fd, id) test_cmd(_test_attach(fd, id))
#define test_detach(fd, id) test_cmd(_test_detach(fd, id))

/* Map BAR0 and let the edu master the bus; needs a bound device fd. */
static int edu_enable(struct test_device *d)
{
	struct vfio_region_info reg = {
		.argsz = sizeof(reg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	__u16 cmd;

	if (ioasid_ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &reg))
		return -1;
	if (pread(d->fd, &cmd, 2, reg.offset + PCI_COMMAND) != 2)
		return -1;
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	if (pwrite(d->fd, &cmd, 2, reg.offset + PCI_COMMAND) != 2)
		return -1;

	reg = (struct vfio_region_info){
		.argsz = sizeof(reg),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	if (ioasid_ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &reg))
		return -1;
	d->bar = mmap(NULL, reg.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      d->fd, reg.offset);
	if (d->bar == MAP_FAILED)
		return -1;
	d->bar_size = reg.size;
	return 0;
}

/* One 64-bit access each, as the edu wants; never merged or split. */
static void mmio_write(struct test_device *d, unsigned int reg, __u64 val)
{
	__atomic_store_n((__u64 *)(d->bar + reg), val, __ATOMIC_RELAXED);
}

static __u64 mmio_read(struct test_device *d, unsigned int reg)
{
	return __atomic_load_n((__u64 *)(d->bar + reg), __ATOMIC_RELAXED);
}

/* One edu transfer; the device reports nothing if the IOMMU blocks it. */
static int edu_dma(struct test_device *d, __u64 src, __u64 dst, __u64 len,
		   bool to_ram)
{
	int i;

	mmio_write(d, 0x80, src);
	mmio_write(d, 0x88, dst);
	mmio_write(d, 0x90, len);
	mmio_write(d, 0x98, 1 | (to_ram ? 2 : 0));
	for (i = 0; i != 2000; i++) {
		if (!(mmio_read(d, 0x98) & 1))
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/*
 * Copy @len bytes from IOVA @src to IOVA @dst with the device. The mock
 * answers EIO if the IOMMU stops it; the edu says nothing, so callers
 * check memory in both cases.
 */
static int device_copy(struct test_device *d, __u64 src, __u64 dst, __u64 len)
{
	struct ioasid_mock_vfio_dma dma = {
		.argsz = sizeof(dma),
		.length = len,
	};
	__u8 bounce[COPY_LEN];
	int ret;

	if (d->edu) {
		ret = edu_dma(d, src, EDU_BUF, len, false);
		return ret ?: edu_dma(d, EDU_BUF, dst, len, true);
	}
	dma.iova = src;
	dma.uptr = (uintptr_t)bounce;
	ret = ioasid_ioctl(d->fd, IOASID_MOCK_VFIO_DMA, &dma);
	if (ret)
		return ret;
	dma.iova = dst;
	dma.flags = IOASID_MOCK_VFIO_DMA_WRITE;
	return ioasid_ioctl(d->fd, IOASID_MOCK_VFIO_DMA, &dma);
}

FIXTURE(vfio) {
	int ioasid_fd;
	struct test_device dev[2];
	__u8 *buf;		/* 4 pages: src, dst, spare, guard */
	__u32 ioasid;
};

FIXTURE_VARIANT(vfio) {
	bool edu;
};

FIXTURE_VARIANT_ADD(vfio, mock) {
	.edu = false,
};

FIXTURE_VARIANT_ADD(vfio, edu) {
	.edu = true,
};

/* The BAR mmap holds the device file too: both must go to release it. */
static void close_device(struct test_device *d)
{
	if (d->bar) {
		munmap(d->bar, d->bar_size);
		d->bar = NULL;
	}
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

static int open_bind(struct __test_metadata *_metadata,
		     struct test_device *d, int ioasid_fd, __u64 label)
{
	d->fd = open(d->cdev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, d->fd);
	test_cmd(_bind(d->fd, ioasid_fd, label, &d->dev_id));
	if (d->edu)
		ASSERT_EQ(0, edu_enable(d));
	return 0;
}

FIXTURE_SETUP(vfio)
{
	int i;

	self->ioasid_fd = -1;
	for (i = 0; i != 2; i++)
		self->dev[i].fd = -1;
	if (find_devices(variant->edu, self->dev) < 2)
		SKIP(return, "fewer than two %s devices with a VFIO cdev",
		     variant->edu ? "edu" : "mock");
	self->ioasid_fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ioasid_fd);
	for (i = 0; i != 2; i++)
		open_bind(_metadata, &self->dev[i], self->ioasid_fd, 0xd0 + i);
	test_ioctl_alloc(self->ioasid_fd, &self->ioasid);

	self->buf = mmap(NULL, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	for (i = 0; i != COPY_LEN; i++)
		self->buf[i] = i * 7 + 1;
	memset(self->buf + PAGE_SIZE, 0, 3 * PAGE_SIZE);
}

FIXTURE_TEARDOWN(vfio)
{
	int i;

	for (i = 0; i != 2; i++)
		close_device(&self->dev[i]);
	if (self->ioasid_fd >= 0)
		close(self->ioasid_fd);
}

#define SRC (self->buf)
#define DST (self->buf + PAGE_SIZE)

static bool all_zero(const __u8 *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

/* src at IOVA_A, dst at IOVA_B, both read-write, both devices attached. */
static void map_src_dst(struct __test_metadata *_metadata,
			FIXTURE_DATA(vfio) * self)
{
	test_ioctl_map(self->ioasid_fd, self->ioasid, SRC, IOVA_A, PAGE_SIZE);
	test_ioctl_map(self->ioasid_fd, self->ioasid, DST, IOVA_B, PAGE_SIZE);
	test_attach(self->dev[0].fd, self->ioasid);
	test_attach(self->dev[1].fd, self->ioasid);
}

TEST_F(vfio, bind_rules)
{
	int other = open(self->dev[0].cdev, O_RDWR | O_CLOEXEC);
	int null = open("/dev/null", O_RDWR);
	struct vfio_device_bind_ioasid_fd bind = {
		.argsz = sizeof(bind),
		.flags = 1,
		.ioasid_fd = self->ioasid_fd,
	};

	ASSERT_NE(0, self->dev[0].dev_id);
	ASSERT_NE(self->dev[0].dev_id, self->dev[1].dev_id);
	/* This fd is bound already. */
	test_err_cmd(EBUSY, _bind(self->dev[0].fd, self->ioasid_fd, 1, NULL));
	/* Not an fd, not an ioasid fd, unknown flags, short argsz. */
	ASSERT_LE(0, other);
	test_err_cmd(EBADF, _bind(other, 1000, 1, NULL));
	test_err_cmd(EINVAL, _bind(other, null, 1, NULL));
	test_err_cmd(EINVAL, ioasid_ioctl(other, VFIO_BIND_IOASID_FD, &bind));
	bind.flags = 0;
	bind.argsz = 8;
	test_err_cmd(EINVAL, ioasid_ioctl(other, VFIO_BIND_IOASID_FD, &bind));
	/* Unbound, the fd grants no access. */
	test_err_cmd(EINVAL, _test_attach(other, self->ioasid));
	close(other);
	close(null);
}

/* RFC 5.1: bind, alloc, attach, map, DMA both ways, data checked. */
TEST_F(vfio, rfc_5_1_dma)
{
	int i;

	map_src_dst(_metadata, self);
	for (i = 0; i != 2; i++) {
		memset(DST, 0, PAGE_SIZE);
		test_cmd(device_copy(&self->dev[i], IOVA_A, IOVA_B, COPY_LEN));
		ASSERT_EQ(0, memcmp(SRC, DST, COPY_LEN));
		/* Not a byte past the transfer. */
		ASSERT_TRUE(all_zero(DST + COPY_LEN, PAGE_SIZE - COPY_LEN));
	}
}

TEST_F(vfio, dma_to_unmapped_iova)
{
	int ret;

	map_src_dst(_metadata, self);
	ret = device_copy(&self->dev[0], IOVA_A, IOVA_C, COPY_LEN);
	if (!self->dev[0].edu)
		ASSERT_EQ(-EIO, ret);
	/* Nothing anywhere in our memory changed. */
	ASSERT_TRUE(all_zero(DST, 3 * PAGE_SIZE));
}

TEST_F(vfio, dma_after_unmap)
{
	map_src_dst(_metadata, self);
	test_ioctl_unmap(self->ioasid_fd, self->ioasid, IOVA_B, PAGE_SIZE,
			 PAGE_SIZE);
	device_copy(&self->dev[0], IOVA_A, IOVA_B, COPY_LEN);
	ASSERT_TRUE(all_zero(DST, PAGE_SIZE));
}

TEST_F(vfio, dma_after_detach)
{
	int ret;

	map_src_dst(_metadata, self);
	test_detach(self->dev[0].fd, self->ioasid);
	ret = device_copy(&self->dev[0], IOVA_A, IOVA_B, COPY_LEN);
	if (!self->dev[0].edu)
		ASSERT_EQ(-EIO, ret);
	ASSERT_TRUE(all_zero(DST, PAGE_SIZE));
	/* The other device is untouched by it. */
	test_cmd(device_copy(&self->dev[1], IOVA_A, IOVA_B, COPY_LEN));
	ASSERT_EQ(0, memcmp(SRC, DST, COPY_LEN));
}

TEST_F(vfio, read_only_blocks_device_writes)
{
	int ret;

	test_ioctl_map(self->ioasid_fd, self->ioasid, SRC, IOVA_A, PAGE_SIZE);
	test_cmd(_test_ioctl_map(self->ioasid_fd, self->ioasid, DST, IOVA_B,
				 PAGE_SIZE, IOASID_DMA_MAP_READ));
	test_attach(self->dev[0].fd, self->ioasid);
	ret = device_copy(&self->dev[0], IOVA_A, IOVA_B, COPY_LEN);
	if (!self->dev[0].edu)
		ASSERT_EQ(-EIO, ret);
	ASSERT_TRUE(all_zero(DST, PAGE_SIZE));
}

/* Two devices behind one IOMMU instance share one domain. */
TEST_F(vfio, devices_share_a_domain)
{
	struct ioasid_cmd_get_info info;
	__u64 d0, d1;

	map_src_dst(_metadata, self);
	test_ioctl_get_info(self->ioasid_fd, self->ioasid, &info, NULL, 0);
	ASSERT_EQ(2, info.out_num_devices);
	d0 = test_domain_of(self->ioasid_fd, self->dev[0].dev_id);
	d1 = test_domain_of(self->ioasid_fd, self->dev[1].dev_id);
	ASSERT_NE(0, d0);
	ASSERT_EQ(d0, d1);
	/* An attached IOASID cannot be freed. */
	test_err_ioctl_free(EBUSY, self->ioasid_fd, self->ioasid);
}

/*
 * RFC 5.2: guest RAM is registered and mapped at its GPA in one IOASID
 * with both devices attached. The guest then puts dev2 behind its vIOMMU:
 * dev2 moves to a GIOVA IOASID whose shadow mapping takes a GIOVA to the
 * same host memory as the guest's GIOVA -> GPA entry. dev2 then DMAs by
 * GIOVA into that page and reaches no GPA, while dev1 still DMAs by GPA.
 */
TEST_F(vfio, rfc_5_2_shadow)
{
	const __u64 gpa = 0x800000, giova = 0x4000000;
	__u8 *ram = self->buf, *page3 = self->buf + 3 * PAGE_SIZE;
	__u32 giova_ioasid;

	test_ioctl_register(self->ioasid_fd, ram, 4 * PAGE_SIZE);
	test_ioctl_map(self->ioasid_fd, self->ioasid, ram, gpa, 4 * PAGE_SIZE);
	test_attach(self->dev[0].fd, self->ioasid);
	test_attach(self->dev[1].fd, self->ioasid);

	/* The guest maps GIOVA -> GPA page 3; we shadow it as GIOVA -> HVA. */
	test_ioctl_alloc(self->ioasid_fd, &giova_ioasid);
	test_ioctl_map(self->ioasid_fd, giova_ioasid, page3, giova, PAGE_SIZE);
	test_detach(self->dev[1].fd, self->ioasid);
	test_attach(self->dev[1].fd, giova_ioasid);

	/* dev2 copies within its GIOVA page: the shadowed page changes. */
	memcpy(page3, ram, COPY_LEN);
	test_cmd(device_copy(&self->dev[1], giova, giova + COPY_LEN,
			     COPY_LEN));
	ASSERT_EQ(0, memcmp(ram, page3 + COPY_LEN, COPY_LEN));

	/* dev2 reaches no GPA any more... */
	device_copy(&self->dev[1], gpa, gpa + PAGE_SIZE, COPY_LEN);
	ASSERT_TRUE(all_zero(ram + PAGE_SIZE, PAGE_SIZE));
	/* ...while dev1 still DMAs by GPA. */
	test_cmd(device_copy(&self->dev[0], gpa, gpa + PAGE_SIZE, COPY_LEN));
	ASSERT_EQ(0, memcmp(ram, ram + PAGE_SIZE, COPY_LEN));

	/* Registered once, used by both spaces: still in use. */
	test_err_ioctl_unregister(EBUSY, self->ioasid_fd, ram, 4 * PAGE_SIZE);
}

/*
 * RFC 5.3: the same, with the kernel doing the shadowing. dev1 stays on
 * the GPA IOASID; dev2 moves to a child nested on it, which maps GIOVA
 * from GPA directly: no user-side walk, no registration, and the memory
 * charged once, by the parent's map.
 */
TEST_F(vfio, rfc_5_3_nested)
{
	const __u64 gpa = 0x800000, giova = 0x4000000;
	__u8 *ram = self->buf;
	__u32 child;
	long pin;

	test_ioctl_map(self->ioasid_fd, self->ioasid, ram, gpa, 4 * PAGE_SIZE);
	test_attach(self->dev[0].fd, self->ioasid);
	pin = vm_pinned_kb();

	/* The guest maps GIOVA page 0 -> GPA page 0, page 1 -> GPA page 2. */
	test_ioctl_create_nesting(self->ioasid_fd, self->ioasid, &child);
	test_ioctl_map_from_parent(self->ioasid_fd, child, gpa, giova,
				   PAGE_SIZE);
	test_ioctl_map_from_parent(self->ioasid_fd, child,
				   gpa + 2 * PAGE_SIZE, giova + PAGE_SIZE,
				   PAGE_SIZE);
	test_attach(self->dev[1].fd, child);
	ASSERT_EQ(pin, vm_pinned_kb());

	/* dev2 copies GIOVA page 0 to page 1: it lands in GPA page 2. */
	test_cmd(device_copy(&self->dev[1], giova, giova + PAGE_SIZE,
			     COPY_LEN));
	ASSERT_EQ(0, memcmp(ram, ram + 2 * PAGE_SIZE, COPY_LEN));
	ASSERT_TRUE(all_zero(ram + 2 * PAGE_SIZE + COPY_LEN,
			     PAGE_SIZE - COPY_LEN));
	ASSERT_TRUE(all_zero(ram + PAGE_SIZE, PAGE_SIZE));

	/* dev2 reaches no GPA... */
	device_copy(&self->dev[1], gpa, gpa + PAGE_SIZE, COPY_LEN);
	ASSERT_TRUE(all_zero(ram + PAGE_SIZE, PAGE_SIZE));
	/* ...while dev1 still DMAs by GPA, into GPA page 1. */
	test_cmd(device_copy(&self->dev[0], gpa, gpa + PAGE_SIZE, COPY_LEN));
	ASSERT_EQ(0, memcmp(ram, ram + PAGE_SIZE, COPY_LEN));
	ASSERT_TRUE(all_zero(ram + 3 * PAGE_SIZE, PAGE_SIZE));
}

/*
 * The parent unmaps a GPA page under a live child mapping: the child
 * loses it before the unmap returns, and dev2's DMA by GIOVA is blocked.
 * Once the fd is closed every pin is gone.
 */
TEST_F(vfio, parent_unmap_blocks_child_dma)
{
	const __u64 gpa = 0x800000, giova = 0x4000000;
	long pin0 = vm_pinned_kb();
	__u8 *ram = self->buf;
	__u32 child;
	int ret;

	test_ioctl_map(self->ioasid_fd, self->ioasid, ram, gpa, 2 * PAGE_SIZE);
	test_ioctl_create_nesting(self->ioasid_fd, self->ioasid, &child);
	test_ioctl_map_from_parent(self->ioasid_fd, child, gpa, giova,
				   2 * PAGE_SIZE);
	test_attach(self->dev[1].fd, child);
	test_cmd(device_copy(&self->dev[1], giova, giova + PAGE_SIZE,
			     COPY_LEN));
	ASSERT_EQ(0, memcmp(ram, ram + PAGE_SIZE, COPY_LEN));

	memset(ram + PAGE_SIZE, 0, PAGE_SIZE);
	test_ioctl_unmap(self->ioasid_fd, self->ioasid, gpa + PAGE_SIZE,
			 PAGE_SIZE, PAGE_SIZE);
	ret = device_copy(&self->dev[1], giova, giova + PAGE_SIZE, COPY_LEN);
	if (!self->dev[1].edu)
		ASSERT_EQ(-EIO, ret);
	ASSERT_TRUE(all_zero(ram + PAGE_SIZE, PAGE_SIZE));

	/* A parent with a child cannot go; the child with a device neither. */
	test_err_ioctl_free(EBUSY, self->ioasid_fd, self->ioasid);
	test_err_ioctl_free(EBUSY, self->ioasid_fd, child);
	close(self->ioasid_fd);
	self->ioasid_fd = -1;
	ASSERT_EQ(pin0, vm_pinned_kb());
}

/*
 * What the device's IOMMU can do, asked through the fd: the emulated
 * VT-d cannot nest in hardware (in either mode the VM runs it) and says
 * so, and attaching its device to a hardware-nested IOASID is refused;
 * the LARGE mock instance can and does.
 */
TEST_F(vfio, hardware_nesting_answer)
{
	struct ioasid_cmd_device_get_info info = {
		.size = sizeof(info),
		.dev_id = self->dev[0].dev_id,
	};
	bool can_nest;
	__u32 child;

	test_cmd(ioasid_ioctl(self->ioasid_fd, IOASID_DEVICE_GET_INFO, &info));
	can_nest = info.out_capabilities & IOASID_DEVICE_CAP_NESTING_HARDWARE;
	ASSERT_EQ(!self->dev[0].edu, can_nest);
	ASSERT_EQ(can_nest ? 1U << IOASID_PGTABLE_VTD_S1 |
			     1U << IOASID_PGTABLE_MOCK_PASID_TABLE : 0,
		  info.out_pgtable_formats);
	if (self->dev[0].edu)
		ASSERT_EQ(IOMMU_HW_INFO_TYPE_INTEL_VTD, info.out_hw_info_type);

	test_cmd(_test_ioctl_create_nesting(self->ioasid_fd, self->ioasid,
					    IOASID_NESTING_HARDWARE, &child));
	if (can_nest) {
		test_attach(self->dev[0].fd, child);
		test_detach(self->dev[0].fd, child);
	} else {
		test_err_cmd(EOPNOTSUPP, _test_attach(self->dev[0].fd, child));
	}
	/* Either way the device is free to go elsewhere. */
	test_attach(self->dev[0].fd, self->ioasid);
}

/*
 * Dirty tracking, on whatever IOMMU the devices have. The emulated VT-d
 * has no dirty bits in either mode, so with edu the IOASID reports every
 * writable page, and says it guessed; where both devices' IOMMU tracks
 * (the LARGE mock instance), exactly the page the copy wrote. Either
 * way the copy's bytes are right.
 */
TEST_F(vfio, dirty_tracking_answer)
{
	struct ioasid_cmd_device_get_info info = { .size = sizeof(info) };
	__u64 bitmap = ~0ULL, count = 0;
	__u32 report = 0;
	bool exact = true;
	int i;

	for (i = 0; i != 2; i++) {
		info.dev_id = self->dev[i].dev_id;
		test_cmd(ioasid_ioctl(self->ioasid_fd, IOASID_DEVICE_GET_INFO,
				      &info));
		if (!(info.out_capabilities & IOASID_DEVICE_CAP_DIRTY_TRACKING))
			exact = false;
	}
	ASSERT_FALSE(self->dev[0].edu && exact);
	map_src_dst(_metadata, self);
	test_cmd(_test_dirty_tracking(self->ioasid_fd, self->ioasid, true,
				      &report));
	ASSERT_EQ(exact ? IOASID_DIRTY_REPORT_EXACT :
			  IOASID_DIRTY_REPORT_CONSERVATIVE, report);
	test_cmd(device_copy(&self->dev[0], IOVA_A, IOVA_B, COPY_LEN));
	ASSERT_EQ(0, memcmp(SRC, DST, COPY_LEN));

	test_cmd(_test_get_dirty(self->ioasid_fd, self->ioasid, 0, IOVA_A,
				 PAGE_SIZE, PAGE_SIZE, &bitmap, &report,
				 &count));
	ASSERT_EQ(exact ? 0 : 1, bitmap);
	test_cmd(_test_get_dirty(self->ioasid_fd, self->ioasid, 0, IOVA_B,
				 PAGE_SIZE, PAGE_SIZE, &bitmap, &report,
				 &count));
	ASSERT_EQ(1, bitmap);
	ASSERT_EQ(exact ? IOASID_DIRTY_REPORT_EXACT :
			  IOASID_DIRTY_REPORT_CONSERVATIVE, report);
	TH_LOG("%s: %s reports", self->dev[0].edu ? "edu" : "mock",
	       exact ? "exact" : "conservative");
}

/*
 * Which devices tag DMA with a PASID, asked through the fd. The edu has
 * no PASID capability: a PASID attach is refused, and leaves the device
 * as it was. A mock device behind the LARGE instance has 20 bits of
 * PASIDs, and DMA it tags reaches the IOASID its PASID is attached to.
 */
TEST_F(vfio, pasid_answer)
{
	struct ioasid_cmd_device_get_info info = {
		.size = sizeof(info),
		.dev_id = self->dev[0].dev_id,
	};
	struct ioasid_mock_vfio_dma dma = {
		.argsz = sizeof(dma),
		.flags = IOASID_MOCK_VFIO_DMA_PASID,
		.iova = IOVA_A,
		.length = COPY_LEN,
		.uptr = (uintptr_t)DST,
		.pasid = 5,
	};
	int fd = self->dev[0].fd;

	test_cmd(ioasid_ioctl(self->ioasid_fd, IOASID_DEVICE_GET_INFO, &info));
	/* PASID 0 is what untagged DMA is: no device can name it. */
	test_err_cmd(EINVAL, _attach(fd, VFIO_ATTACH_IOASID, self->ioasid,
				     IOASID_ATTACH_USER_PASID, 0));
	if (self->dev[0].edu) {
		ASSERT_EQ(0, info.out_pasid_bits);
		test_err_cmd(EOPNOTSUPP, _attach(fd, VFIO_ATTACH_IOASID,
						 self->ioasid,
						 IOASID_ATTACH_USER_PASID, 5));
		test_err_cmd(ENXIO, _attach(fd, VFIO_DETACH_IOASID,
					    self->ioasid,
					    IOASID_ATTACH_USER_PASID, 5));
		test_attach(fd, self->ioasid);
		return;
	}
	ASSERT_EQ(IOASID_MOCK_PASID_BITS, info.out_pasid_bits);
	test_err_cmd(EINVAL, _attach(fd, VFIO_ATTACH_IOASID, self->ioasid,
				     IOASID_ATTACH_USER_PASID,
				     1U << IOASID_MOCK_PASID_BITS));
	test_ioctl_map(self->ioasid_fd, self->ioasid, SRC, IOVA_A, PAGE_SIZE);
	test_cmd(_attach(fd, VFIO_ATTACH_IOASID, self->ioasid,
			 IOASID_ATTACH_USER_PASID, 5));
	test_err_cmd(EBUSY, _attach(fd, VFIO_ATTACH_IOASID, self->ioasid,
				    IOASID_ATTACH_USER_PASID, 5));
	test_cmd(ioasid_ioctl(fd, IOASID_MOCK_VFIO_DMA, &dma));
	ASSERT_EQ(0, memcmp(DST, SRC, COPY_LEN));
	/* Only the PASID is attached: untagged DMA reaches nothing. */
	dma.flags = 0;
	dma.pasid = 0;
	test_err_cmd(EIO, ioasid_ioctl(fd, IOASID_MOCK_VFIO_DMA, &dma));
	test_cmd(_attach(fd, VFIO_DETACH_IOASID, self->ioasid,
			 IOASID_ATTACH_USER_PASID, 5));
	dma.flags = IOASID_MOCK_VFIO_DMA_PASID;
	dma.pasid = 5;
	test_err_cmd(EIO, ioasid_ioctl(fd, IOASID_MOCK_VFIO_DMA, &dma));
}

TEST_F(vfio, attach_rules)
{
	int fd = self->dev[0].fd;

	test_err_cmd(ENOENT, _test_attach(fd, self->ioasid + 100));
	test_err_cmd(EINVAL, _attach(fd, VFIO_ATTACH_IOASID, self->ioasid,
				     1 << 7, 0));
	test_err_cmd(ENXIO, _test_detach(fd, self->ioasid));
	test_attach(fd, self->ioasid);
	test_err_cmd(EBUSY, _test_attach(fd, self->ioasid));
	test_err_cmd(ENXIO, _test_detach(fd, self->ioasid + 100));
	/* 0 is no IOASID: it never stands for "whatever is attached". */
	test_err_cmd(ENXIO, _test_detach(fd, 0));
	test_err_cmd(EBUSY, _test_ioctl_free(self->ioasid_fd, self->ioasid));
	test_detach(fd, self->ioasid);
	test_ioctl_free(self->ioasid_fd, self->ioasid);
}

/* The ioasid fd goes first: the device loses DMA, its fd stays sane. */
TEST_F(vfio, close_ioasid_fd_first)
{
	int ret;

	map_src_dst(_metadata, self);
	ASSERT_EQ(0, close(self->ioasid_fd));
	self->ioasid_fd = -1;
	ret = device_copy(&self->dev[0], IOVA_A, IOVA_B, COPY_LEN);
	if (!self->dev[0].edu)
		ASSERT_EQ(-EIO, ret);
	ASSERT_TRUE(all_zero(DST, PAGE_SIZE));
	test_err_cmd(ENODEV, _test_attach(self->dev[0].fd, self->ioasid));
	test_err_cmd(ENODEV, _test_detach(self->dev[0].fd, self->ioasid));

	/* Closing the device fd, then binding afresh, works. */
	close_device(&self->dev[0]);
	self->ioasid_fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ioasid_fd);
	open_bind(_metadata, &self->dev[0], self->ioasid_fd, 7);
}

/* The device fd goes first: detached and unbound, the IOASID is free. */
TEST_F(vfio, close_device_fd_first)
{
	struct ioasid_cmd_get_info info;

	map_src_dst(_metadata, self);
	close_device(&self->dev[0]);
	close_device(&self->dev[1]);
	test_ioctl_get_info(self->ioasid_fd, self->ioasid, &info, NULL, 0);
	ASSERT_EQ(0, info.out_num_devices);
	ASSERT_EQ(~0ULL, test_domain_of(self->ioasid_fd, self->dev[0].dev_id));
	test_ioctl_free(self->ioasid_fd, self->ioasid);
}

/*
 * Unbinding takes the device out of the ioasid fd at once, DMA blocked;
 * the device itself is handed back when its fd closes.
 */
TEST_F(vfio, unbind_then_close)
{
	struct vfio_device_unbind_ioasid_fd unbind = {
		.argsz = sizeof(unbind),
	};
	struct vfio_device_info dev_info = { .argsz = sizeof(dev_info) };
	struct ioasid_cmd_get_info info;
	int fd = self->dev[0].fd, ret;

	map_src_dst(_metadata, self);
	test_cmd(ioasid_ioctl(fd, VFIO_UNBIND_IOASID_FD, &unbind));
	test_ioctl_get_info(self->ioasid_fd, self->ioasid, &info, NULL, 0);
	ASSERT_EQ(1, info.out_num_devices);
	ASSERT_EQ(~0ULL, test_domain_of(self->ioasid_fd, self->dev[0].dev_id));
	ret = device_copy(&self->dev[0], IOVA_A, IOVA_B, COPY_LEN);
	if (!self->dev[0].edu)
		ASSERT_EQ(-EIO, ret);
	ASSERT_TRUE(all_zero(DST, PAGE_SIZE));
	test_err_cmd(ENODEV, _test_attach(fd, self->ioasid));
	test_cmd(ioasid_ioctl(fd, VFIO_UNBIND_IOASID_FD, &unbind));
	test_err_cmd(EBUSY, _bind(fd, self->ioasid_fd, 9, NULL));
	/* The device fd itself is still good for the device's own calls. */
	test_cmd(ioasid_ioctl(fd, VFIO_DEVICE_GET_INFO, &dev_info));

	/* Closed and opened anew, it binds and DMAs again. */
	close_device(&self->dev[0]);
	open_bind(_metadata, &self->dev[0], self->ioasid_fd, 9);
	test_attach(self->dev[0].fd, self->ioasid);
	test_cmd(device_copy(&self->dev[0], IOVA_A, IOVA_B, COPY_LEN));
	ASSERT_EQ(0, memcmp(SRC, DST, COPY_LEN));
}

/* One owner at a time: a second ioasid fd, and the other way round. */
TEST_F(vfio, exclusive_second_ioasid_fd)
{
	int other_ioasid = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	int again = open(self->dev[0].cdev, O_RDWR | O_CLOEXEC);
	__u32 id;

	ASSERT_LE(0, other_ioasid);
	ASSERT_LE(0, again);
	test_err_cmd(EBUSY, _bind(again, other_ioasid, 1, NULL));
	/* A second process, its own fd: our IOASID ids mean nothing there. */
	test_ioctl_alloc(other_ioasid, &id);
	test_err_ioctl_free(ENOENT, other_ioasid, self->ioasid + 50);
	close(again);
	close(other_ioasid);
}

TEST_F(vfio, exclusive_iommufd)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	int iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	int again = open(self->dev[0].cdev, O_RDWR | O_CLOEXEC);
	int ret;

	if (iommufd < 0)
		SKIP(return, "no /dev/iommu");
	ASSERT_LE(0, again);
	bind.iommufd = iommufd;
	/* VFIO refuses a second open of a bound device cdev. */
	ret = ioasid_ioctl(again, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	ASSERT_TRUE(ret == -EINVAL || ret == -EBUSY);

	/* The other way round: iommufd first, then we are refused. */
	close_device(&self->dev[0]);
	test_cmd(ioasid_ioctl(again, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	self->dev[0].fd = open(self->dev[0].cdev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev[0].fd);
	test_err_cmd(EBUSY, _bind(self->dev[0].fd, self->ioasid_fd, 1, NULL));
	close(again);
	close(iommufd);
}

/*
 * Each binding answers only its own calls: the IOMMUFD_PT ones on an
 * ioasid-bound device, and ours on an iommufd-bound one, are refused
 * cleanly (they used to reach a WARN_ON in VFIO's iommufd glue).
 */
TEST_F(vfio, foreign_binding_calls_refused)
{
	struct vfio_device_attach_iommufd_pt attach_pt = {
		.argsz = sizeof(attach_pt),
	};
	struct vfio_device_detach_iommufd_pt detach_pt = {
		.argsz = sizeof(detach_pt),
	};
	struct vfio_device_unbind_ioasid_fd unbind = {
		.argsz = sizeof(unbind),
	};
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	int iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	int fd = self->dev[0].fd;

	ASSERT_LE(0, iommufd);
	test_cmd(ioasid_ioctl(iommufd, IOMMU_IOAS_ALLOC, &ioas));
	attach_pt.pt_id = ioas.out_ioas_id;

	test_attach(fd, self->ioasid);
	test_err_cmd(EINVAL, ioasid_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
					  &attach_pt));
	test_err_cmd(EINVAL, ioasid_ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT,
					  &detach_pt));
	/* Still attached where it was. */
	test_err_cmd(EBUSY, _test_attach(fd, self->ioasid));
	test_detach(fd, self->ioasid);

	/* The same device bound to iommufd refuses every call of ours. */
	close_device(&self->dev[0]);
	fd = open(self->dev[0].cdev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	bind.iommufd = iommufd;
	test_cmd(ioasid_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	test_cmd(ioasid_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach_pt));
	test_err_cmd(EINVAL, _test_attach(fd, self->ioasid));
	test_err_cmd(EINVAL, _test_detach(fd, self->ioasid));
	test_err_cmd(EINVAL, ioasid_ioctl(fd, VFIO_UNBIND_IOASID_FD, &unbind));
	test_cmd(ioasid_ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach_pt));
	close(fd);
	close(iommufd);
}

/*
 * An emulated VFIO device (an mdev, say) has a group VFIO made up and no
 * IOMMU: binding it used to dereference its missing IOMMU with the group
 * mutex held. It is refused, and works on as before through iommufd.
 */
TEST(emulated_device_refused)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	char cdev[PATH_MAX];
	int vfio_fd, ioasid_fd, iommufd;

	if (find_cdev("/sys/bus/platform/devices/ioasid-mock-emulated", cdev,
		      sizeof(cdev)))
		SKIP(return, "no emulated mock VFIO device");
	ioasid_fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ioasid_fd);
	vfio_fd = open(cdev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, vfio_fd);
	test_err_cmd(ENODEV, _bind(vfio_fd, ioasid_fd, 1, NULL));
	/* Refused twice the same way: nothing was left half bound. */
	test_err_cmd(ENODEV, _bind(vfio_fd, ioasid_fd, 1, NULL));

	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, iommufd);
	bind.iommufd = iommufd;
	test_cmd(ioasid_ioctl(vfio_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	close(vfio_fd);
	close(iommufd);
	close(ioasid_fd);
}

/* /dev/vfio/GROUP of a device, from its cdev name. */
static int group_path(const struct test_device *d, char *path, size_t len)
{
	char link[PATH_MAX];
	ssize_t n;

	snprintf(path, len, "/sys/class/vfio-dev/%s/device/iommu_group",
		 strrchr(d->cdev, '/') + 1);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = 0;
	snprintf(path, len, "/dev/vfio/%s", strrchr(link, '/') + 1);
	return 0;
}

/* The VFIO group path cannot take a device an ioasid fd holds. */
TEST_F(vfio, exclusive_group)
{
	char path[PATH_MAX];
	int group_fd;

	ASSERT_EQ(0, group_path(&self->dev[0], path, sizeof(path)));
	group_fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_EQ(-1, group_fd);
	ASSERT_EQ(EBUSY, errno);
}

/* The other way round: a VFIO container holds the group, we are refused. */
TEST_F(vfio, group_first_then_bind_refused)
{
	char path[PATH_MAX];
	int group_fd, container, fd;

	ASSERT_EQ(0, group_path(&self->dev[0], path, sizeof(path)));
	close_device(&self->dev[0]);
	group_fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, group_fd);
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, container);
	test_cmd(ioasid_ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container));

	fd = open(self->dev[0].cdev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	test_err_cmd(EBUSY, _bind(fd, self->ioasid_fd, 1, NULL));
	close(fd);
	close(group_fd);
	close(container);
}

/*
 * Another process, with its own ioasid fd and its own open of the device,
 * can neither bind the device nor attach it anywhere.
 */
TEST_F(vfio, second_process_cannot_attach)
{
	int status;
	pid_t pid;

	test_attach(self->dev[0].fd, self->ioasid);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int ioasid_fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
		int fd = open(self->dev[0].cdev, O_RDWR | O_CLOEXEC);

		if (ioasid_fd < 0 || fd < 0)
			_exit(10);
		if (_bind(fd, ioasid_fd, 1, NULL) != -EBUSY)
			_exit(11);
		if (_test_attach(fd, self->ioasid) != -EINVAL)
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/* An edu behind a PCIe root port: the only one that can be bus-reset. */
static int edu_behind_bridge(char *sysdir, size_t len)
{
	char path[PATH_MAX], id[16];
	struct dirent *de;
	DIR *dir = opendir("/sys/bus/pci/devices");
	int ret = -ENODEV;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || !strncmp(de->d_name, "0000:00:", 8))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		if (read_sysfs(path, id, sizeof(id)) || strcmp(id, "0x11e8"))
			continue;
		ret = edu_to_vfio_pci(de->d_name);
		if (!ret)
			snprintf(sysdir, len, "/sys/bus/pci/devices/%s",
				 de->d_name);
		break;
	}
	closedir(dir);
	return ret;
}

struct hot_reset_info {
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_dependent_device devs[8];
};

static int hot_reset_info(int fd, struct hot_reset_info *info)
{
	memset(info, 0, sizeof(*info));
	info->hdr.argsz = sizeof(*info);
	return ioasid_ioctl(fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info);
}

/*
 * A device bound to an ioasid fd can be hot reset (the zero-length form
 * a cdev uses) when the fd owns every device the reset touches, and the
 * info call reports its id on that fd. Once unbound it owns nothing:
 * refused. Afterwards its DMA still goes through the IOASID.
 */
TEST(hot_reset_owned_devices)
{
	struct vfio_pci_hot_reset reset = { .argsz = sizeof(reset) };
	struct vfio_device_unbind_ioasid_fd unbind = {
		.argsz = sizeof(unbind),
	};
	struct test_device d = { .fd = -1, .edu = true };
	struct hot_reset_info info;
	char sysdir[PATH_MAX];
	int ioasid_fd, i;
	__u32 ioasid;
	__u8 *buf;

	if (edu_behind_bridge(sysdir, sizeof(sysdir)))
		SKIP(return, "no edu device behind a PCIe root port");
	ASSERT_EQ(0, find_cdev(sysdir, d.cdev, sizeof(d.cdev)));
	ioasid_fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ioasid_fd);
	open_bind(_metadata, &d, ioasid_fd, 0xe0);

	test_cmd(hot_reset_info(d.fd, &info));
	ASSERT_EQ(1, info.hdr.count);
	ASSERT_EQ(VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
		  VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED, info.hdr.flags);
	ASSERT_EQ(d.dev_id, info.devs[0].devid);

	buf = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	for (i = 0; i != COPY_LEN; i++)
		buf[i] = i * 3 + 5;
	memset(buf + PAGE_SIZE, 0, PAGE_SIZE);
	test_ioctl_alloc(ioasid_fd, &ioasid);
	test_ioctl_map(ioasid_fd, ioasid, buf, IOVA_A, PAGE_SIZE);
	test_ioctl_map(ioasid_fd, ioasid, buf + PAGE_SIZE, IOVA_B, PAGE_SIZE);
	test_attach(d.fd, ioasid);

	test_cmd(ioasid_ioctl(d.fd, VFIO_DEVICE_PCI_HOT_RESET, &reset));
	/* vfio-pci restored its config space; the IOASID still holds it. */
	test_cmd(device_copy(&d, IOVA_A, IOVA_B, COPY_LEN));
	ASSERT_EQ(0, memcmp(buf, buf + PAGE_SIZE, COPY_LEN));

	test_cmd(ioasid_ioctl(d.fd, VFIO_UNBIND_IOASID_FD, &unbind));
	test_err_cmd(EINVAL,
		     ioasid_ioctl(d.fd, VFIO_DEVICE_PCI_HOT_RESET, &reset));
	test_cmd(hot_reset_info(d.fd, &info));
	ASSERT_EQ(VFIO_PCI_HOT_RESET_FLAG_DEV_ID, info.hdr.flags);
	ASSERT_EQ(VFIO_PCI_DEVID_NOT_OWNED, info.devs[0].devid);

	close_device(&d);
	close(ioasid_fd);
	munmap(buf, 2 * PAGE_SIZE);
}

TEST_HARNESS_MAIN
