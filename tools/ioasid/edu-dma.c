// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu-dma: make an edu device DMA both ways and check every byte, from
 * inside a guest whose edu is assigned to it by a VMM.
 *
 *   edu-dma phys DEVICE      DMA by guest physical address
 *   edu-dma iommufd DEVICE   DMA by IOVA, mapped through the guest's own
 *                            vIOMMU with VFIO and iommufd
 *
 * DEVICE is the device's name in /sys/bus/pci/devices ("0000:00:03.0");
 * "edu" picks the first edu device there.
 *
 * This is the second-level guest's side of the QEMU test
 * (scripts/guest/qemu-ioasid-test): the VMM is QEMU on /dev/ioasid. In
 * "phys" mode the guest has no vIOMMU (the RFC's 5.1 flow, from the
 * guest's side): the device's DMA addresses are guest physical, taken
 * from /proc/self/pagemap, and the device is driven through sysfs. In
 * "iommufd" mode the guest sees an emulated VT-d (RFC 5.3): the device is
 * bound to vfio-pci, attached to an iommufd IOAS, and two buffers are
 * mapped at fixed IOVAs; the device reads one and writes the other by
 * IOVA. Then the second buffer is unmapped, which the guest's VT-d driver
 * invalidates, and a DMA to its IOVA must no longer land in it.
 *
 * Prints one "edu-dma: ..." line per check, then "edu-dma: PASS" or
 * "edu-dma: FAIL"; exits 0 on PASS, 1 on FAIL, 2 on a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#define PAGE		4096UL
#define XFER		1024		/* under edu's limit in every QEMU */
#define EDU_BUF		0x40000UL
#define EDU_ID		0x00
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_COUNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_START	1
#define EDU_CMD_TO_RAM	2
#define GIOVA_SRC	0x100000UL	/* edu reaches 28 bits of address */
#define GIOVA_DST	0x200000UL

static int failures;

static void check(bool ok, const char *what)
{
	printf("edu-dma: %-60s %s\n", what, ok ? "ok" : "WRONG");
	if (!ok)
		failures++;
}

static int fail(const char *what, int err)
{
	printf("edu-dma: %s: %s\n", what, strerror(err));
	printf("edu-dma: FAIL\n");
	return 1;
}

/* The first edu device in /sys/bus/pci/devices order. */
static int find_edu(char *bdf, size_t len)
{
	struct dirent *de;
	DIR *dir = opendir("/sys/bus/pci/devices");
	int ret = -ENODEV;

	if (!dir)
		return -errno;
	while (ret && (de = readdir(dir))) {
		char path[512], id[16] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(id, sizeof(id), f) && !strncmp(id, "0x11e8", 6)) {
			snprintf(bdf, len, "%s", de->d_name);
			ret = 0;
		}
		fclose(f);
	}
	closedir(dir);
	return ret;
}

/* MMIO: single 8-byte accesses, which the compiler may not merge or drop. */
static void reg_write(uint8_t *bar, unsigned int reg, uint64_t val)
{
	__atomic_store_n((uint64_t *)(bar + reg), val, __ATOMIC_SEQ_CST);
}

static uint64_t reg_read(uint8_t *bar, unsigned int reg)
{
	return __atomic_load_n((uint64_t *)(bar + reg), __ATOMIC_SEQ_CST);
}

/* edu's registers below 0x80 take 4-byte accesses only. */
static uint32_t reg_read32(uint8_t *bar, unsigned int reg)
{
	return __atomic_load_n((uint32_t *)(bar + reg), __ATOMIC_SEQ_CST);
}

/* One transfer between RAM (at @addr, as the device sees it) and edu. */
static int edu_dma(uint8_t *bar, uint64_t addr, bool to_ram)
{
	int i;

	reg_write(bar, EDU_DMA_SRC, to_ram ? EDU_BUF : addr);
	reg_write(bar, EDU_DMA_DST, to_ram ? addr : EDU_BUF);
	reg_write(bar, EDU_DMA_COUNT, XFER);
	reg_write(bar, EDU_DMA_CMD, EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0));
	/* edu completes a transfer 100 ms (of its clock) later. */
	for (i = 0; i != 6000; i++) {
		if (!(reg_read(bar, EDU_DMA_CMD) & EDU_CMD_START))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i != len; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

/*
 * The device copies @src's first XFER bytes into @dst, through its own
 * buffer: a read DMA, then a write DMA. True if every byte arrived and
 * nothing past XFER was touched.
 */
static bool copy_checked(uint8_t *bar, uint8_t *src, uint64_t src_dma,
			 uint8_t *dst, uint64_t dst_dma, unsigned int seed)
{
	size_t i;

	fill(src, PAGE, seed);
	memset(dst, 0x5a, PAGE);
	if (edu_dma(bar, src_dma, false) || edu_dma(bar, dst_dma, true))
		return false;
	if (memcmp(src, dst, XFER))
		return false;
	for (i = XFER; i != PAGE; i++)
		if (dst[i] != 0x5a)
			return false;
	return true;
}

/* Guest physical address of a locked, present page. */
static int phys_addr(void *va, uint64_t *pa)
{
	uint64_t entry;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	off_t off = (uintptr_t)va / PAGE * sizeof(entry);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, &entry, sizeof(entry), off);
	close(fd);
	if (n != sizeof(entry))
		return -EIO;
	if (!(entry & (1ULL << 63)) || !(entry & ((1ULL << 55) - 1)))
		return -ENOENT;
	*pa = (entry & ((1ULL << 55) - 1)) * PAGE + (uintptr_t)va % PAGE;
	return 0;
}

static int sysfs_open(const char *bdf, const char *file, int flags)
{
	char path[512];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, file);
	return open(path, flags);
}

/* RFC 5.1 from the guest's side: DMA by guest physical address. */
static int run_phys(const char *bdf)
{
	uint8_t *bar;
	uint8_t *buf;
	uint64_t pa[2];
	uint16_t cmd;
	int fd;

	fd = sysfs_open(bdf, "config", O_RDWR);
	if (fd < 0 || pread(fd, &cmd, 2, PCI_COMMAND) != 2)
		return fail("read the command register", errno);
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	if (pwrite(fd, &cmd, 2, PCI_COMMAND) != 2)
		return fail("enable bus mastering", errno);
	close(fd);

	fd = sysfs_open(bdf, "resource0", O_RDWR | O_SYNC);
	if (fd < 0)
		return fail("open BAR0", errno);
	bar = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (bar == MAP_FAILED)
		return fail("map BAR0", errno);
	check((reg_read32(bar, EDU_ID) & 0xffff) == 0x00ed,
	      "BAR0 reads edu's identification");

	buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED,
		   -1, 0);
	if (buf == MAP_FAILED)
		return fail("allocate two pages", errno);
	if (phys_addr(buf, &pa[0]) || phys_addr(buf + PAGE, &pa[1]))
		return fail("read their physical addresses", EIO);
	printf("edu-dma: %s: source at GPA 0x%llx, destination at GPA 0x%llx\n",
	       bdf, (unsigned long long)pa[0], (unsigned long long)pa[1]);
	check(pa[0] < (1UL << 28) && pa[1] < (1UL << 28),
	      "both under edu's 28-bit DMA limit");
	check(copy_checked(bar, buf, pa[0], buf + PAGE, pa[1], 1),
	      "edu read one page and wrote the other, by GPA");
	check(copy_checked(bar, buf + PAGE, pa[1], buf, pa[0], 2),
	      "and back the other way, every byte");
	printf("edu-dma: %s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}

static int vfio_cdev_open(const char *bdf)
{
	char dir[512], path[600];
	struct dirent *de;
	int fd = -ENOENT;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "vfio", 4))
			continue;
		snprintf(path, sizeof(path), "/dev/vfio/devices/%s",
			 de->d_name);
		fd = open(path, O_RDWR);
		if (fd < 0)
			fd = -errno;
		break;
	}
	closedir(d);
	return fd;
}

static int ioas_map(int iommufd, __u32 ioas, void *va, __u64 iova)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = PAGE,
		.iova = iova,
	};

	return ioctl(iommufd, IOMMU_IOAS_MAP, &map) ? -errno : 0;
}

/* RFC 5.3 from the guest's side: its own IOMMU maps, DMA by IOVA. */
static int run_iommufd(const char *bdf)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_ioas_unmap unmap = { .size = sizeof(unmap) };
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	uint8_t *bar;
	uint8_t *buf;
	uint16_t cmd;
	int dev, iommufd, i;

	dev = vfio_cdev_open(bdf);
	if (dev < 0)
		return fail("open the VFIO cdev (bound to vfio-pci?)", -dev);
	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0)
		return fail("open /dev/iommu", errno);
	bind.iommufd = iommufd;
	if (ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return fail("VFIO_DEVICE_BIND_IOMMUFD", errno);
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return fail("IOMMU_IOAS_ALLOC", errno);
	attach.pt_id = alloc.out_ioas_id;
	if (ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT", errno);

	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &reg) ||
	    pread(dev, &cmd, 2, reg.offset + PCI_COMMAND) != 2)
		return fail("read the command register", errno);
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	if (pwrite(dev, &cmd, 2, reg.offset + PCI_COMMAND) != 2)
		return fail("enable bus mastering", errno);
	reg = (struct vfio_region_info){ .argsz = sizeof(reg),
					 .index = VFIO_PCI_BAR0_REGION_INDEX };
	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &reg))
		return fail("BAR0 region info", errno);
	bar = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, dev,
		   reg.offset);
	if (bar == MAP_FAILED)
		return fail("map BAR0", errno);
	check((reg_read32(bar, EDU_ID) & 0xffff) == 0x00ed,
	      "BAR0 reads edu's identification");

	buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		return fail("allocate two pages", errno);
	if (ioas_map(iommufd, alloc.out_ioas_id, buf, GIOVA_SRC) ||
	    ioas_map(iommufd, alloc.out_ioas_id, buf + PAGE, GIOVA_DST))
		return fail("IOMMU_IOAS_MAP", errno);
	printf("edu-dma: %s: source at IOVA 0x%lx, destination at IOVA 0x%lx\n",
	       bdf, GIOVA_SRC, GIOVA_DST);
	check(copy_checked(bar, buf, GIOVA_SRC, buf + PAGE, GIOVA_DST, 3),
	      "edu read one page and wrote the other, by IOVA");
	check(copy_checked(bar, buf + PAGE, GIOVA_DST, buf, GIOVA_SRC, 4),
	      "and back the other way, every byte");

	/* The guest unmaps the destination: DMA there must not land. */
	unmap.ioas_id = alloc.out_ioas_id;
	unmap.iova = GIOVA_DST;
	unmap.length = PAGE;
	if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap))
		return fail("IOMMU_IOAS_UNMAP", errno);
	fill(buf, PAGE, 5);
	memset(buf + PAGE, 0x5a, PAGE);
	if (edu_dma(bar, GIOVA_SRC, false))
		return fail("DMA from the source", ETIMEDOUT);
	/* Faults or not, the write must not reach the page. */
	edu_dma(bar, GIOVA_DST, true);
	for (i = 0; i != (int)PAGE; i++)
		if (buf[PAGE + i] != 0x5a)
			break;
	check(i == (int)PAGE,
	      "after the guest's unmap, DMA to that IOVA lands nowhere");
	printf("edu-dma: %s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	char bdf[256];
	int ret;

	if (argc != 3 || (strcmp(argv[1], "phys") && strcmp(argv[1], "iommufd"))) {
		fprintf(stderr, "usage: edu-dma phys|iommufd DEVICE|edu\n");
		return 2;
	}
	if (!strcmp(argv[2], "edu")) {
		ret = find_edu(bdf, sizeof(bdf));
		if (ret)
			return fail("find an edu device", -ret);
	} else {
		snprintf(bdf, sizeof(bdf), "%s", argv[2]);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	return strcmp(argv[1], "phys") ? run_iommufd(bdf) : run_phys(bdf);
}
