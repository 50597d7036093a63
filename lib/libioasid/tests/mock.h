/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * The mock IOMMU of test kernels, as the libioasid tests use it: its VFIO
 * devices, the DMA they do on request, its PASID-table format, and a
 * guest's page tables built in guest memory for it to walk.
 *
 * The mock's definitions are test-only, not uAPI: the kernel keeps them
 * in drivers/iommu/ioasid/ioasid_test.h, which is not installed. They are
 * repeated here, under names of the tests' own, as that header lays them
 * out; a kernel whose mock differs fails the tests that use them, which
 * is what they are for.
 */
#ifndef LIBIOASID_TESTS_MOCK_H
#define LIBIOASID_TESTS_MOCK_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libioasid.h"

/* Where the mock VFIO devices are, when the kernel has them. */
#define MOCK_VFIO_DRIVER	"/sys/bus/platform/drivers/ioasid-mock-vfio"
#define MOCK_VFIO_PREFIX	"ioasid-mock-vfio."
#define MOCK_VFIO_MAX		8

/* IOASID_MOCK_VFIO_DMA and struct ioasid_mock_vfio_dma. */
struct mock_vfio_dma {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 uptr;
	__u32 pasid;
	__u32 reserved;
};

#define MOCK_VFIO_DMA		_IO(IOASID_TYPE, 0x3d)
#define MOCK_VFIO_DMA_WRITE	0x1U
#define MOCK_VFIO_DMA_PASID	0x2U
/*
 * A DMA that meets a not-present first-stage entry raises a page request
 * (PCI PRI) and waits for its answer, instead of faulting at once.
 */
#define MOCK_VFIO_DMA_PRI	0x4U
/* What a mock DMA without a PASID passes as one. */
#define NO_PASID		UINT32_MAX

/* The mock's PASID table: format number, size and entry bits. */
#define MOCK_PGTABLE_PASID_TABLE	31
#define MOCK_PASID_BITS			20
#define MOCK_PASID_ENTRY_PRESENT	0x1ULL

/* Its bind data, struct ioasid_mock_pasid_table. */
struct mock_pasid_table {
	__aligned_u64 base;
	__u32 pasid_bits;
	__u32 flags;
};

/* Its invalidation entries, struct ioasid_mock_pasid_table_invalidate. */
enum {
	MOCK_INV_IOTLB = 1,
	MOCK_INV_PASID_CACHE = 2,
};

struct mock_pasid_inv {
	__u32 type;
	__u32 pasid;
	__aligned_u64 addr;
	__aligned_u64 npages;
};

/*
 * A VT-d first stage's invalidation entry, as <linux/iommufd.h> lays out
 * struct iommu_hwpt_vtd_s1_invalidate: the headers a test is built
 * against may not have it.
 */
struct vtd_s1_inv {
	__aligned_u64 addr;
	__aligned_u64 npages;
	__u32 flags;
	__u32 reserved;
};

/*
 * The mock VFIO devices' cdevs, /dev/vfio/devices/vfioN, in the order
 * the platform bus numbered them. Returns how many were found.
 */
struct mock_name {
	int nr;
	char cdev[PATH_MAX];
};

static inline int mock_name_cmp(const void *a, const void *b)
{
	return ((const struct mock_name *)a)->nr -
	       ((const struct mock_name *)b)->nr;
}

static inline int mock_vfio_cdev(const char *dev, char *cdev, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int ret = -ENODEV;

	snprintf(path, sizeof(path), "%s/%s/vfio-dev", MOCK_VFIO_DRIVER, dev);
	dir = opendir(path);
	if (!dir)
		return -ENODEV;
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(cdev, len, "/dev/vfio/devices/%s", de->d_name);
			ret = 0;
			break;
		}
	closedir(dir);
	return ret;
}

static inline int mock_vfio_find(struct mock_name *devs, int max)
{
	struct dirent *de;
	int n = 0;
	DIR *dir;

	dir = opendir(MOCK_VFIO_DRIVER);
	if (!dir)
		return 0;
	while (n < max && (de = readdir(dir)))
		if (sscanf(de->d_name, MOCK_VFIO_PREFIX "%d", &devs[n].nr) == 1 &&
		    !mock_vfio_cdev(de->d_name, devs[n].cdev,
				    sizeof(devs[n].cdev)))
			n++;
	closedir(dir);
	qsort(devs, n, sizeof(devs[0]), mock_name_cmp);
	return n;
}

/*
 * Make the mock device of @vfio_fd do DMA of @len bytes at @iova: write
 * memory from @buf if @write, else read memory into it; tagged with
 * @pasid unless it is NO_PASID. 0, or -EIO if the IOMMU faulted (then
 * nothing moved).
 */
static inline int mock_dma(int vfio_fd, __u64 iova, void *buf, size_t len,
			   int write, __u32 pasid)
{
	struct mock_vfio_dma dma = {
		.argsz = sizeof(dma),
		.flags = write ? MOCK_VFIO_DMA_WRITE : 0,
		.iova = iova,
		.length = len,
		.uptr = (uintptr_t)buf,
	};

	if (pasid != NO_PASID) {
		dma.flags |= MOCK_VFIO_DMA_PASID;
		dma.pasid = pasid;
	}
	return ioctl(vfio_fd, MOCK_VFIO_DMA, &dma) ? -errno : 0;
}

/*
 * mock_dma() with MOCK_VFIO_DMA_PRI: where the first stage has no entry,
 * the device asks for the page and waits for the answer; it faults (-EIO)
 * if the answer is not a success or no fault ring takes the request.
 */
static inline int mock_dma_pri(int vfd, __u64 iova, void *buf, size_t len,
			       int write, __u32 pasid)
{
	struct mock_vfio_dma dma = {
		.argsz = sizeof(dma),
		.flags = MOCK_VFIO_DMA_PRI | MOCK_VFIO_DMA_PASID |
			 (write ? MOCK_VFIO_DMA_WRITE : 0),
		.iova = iova,
		.length = len,
		.uptr = (uintptr_t)buf,
		.pasid = pasid,
	};

	return ioctl(vfd, MOCK_VFIO_DMA, &dma) ? -errno : 0;
}

/*
 * A guest's memory, as the VMM sees it: @ram in the VMM, at guest
 * physical @gpa_base, with pages handed out from the top down for the
 * guest's page tables and data (the bottom is for the caller).
 */
struct guest {
	__u8 *ram;
	__u64 gpa_base;
	size_t size;
	size_t next;		/* offset of the last page handed out */
};

#define GUEST_PAGE	4096ULL
/* VT-d first-stage entry bits: present, writable, user. */
#define PTE_P		0x1ULL
#define PTE_W		0x2ULL
#define PTE_U		0x4ULL
#define PTE_ADDR	0x000ffffffffff000ULL

static inline void guest_init(struct guest *g, void *ram, __u64 gpa_base,
			      size_t size)
{
	g->ram = ram;
	g->gpa_base = gpa_base;
	g->size = size;
	g->next = size;
}

static inline void *guest_ptr(struct guest *g, __u64 gpa)
{
	return g->ram + (gpa - g->gpa_base);
}

/* A zeroed page of guest memory: its GPA, or 0 when none is left. */
static inline __u64 guest_page(struct guest *g)
{
	if (g->next < GUEST_PAGE)
		return 0;
	g->next -= GUEST_PAGE;
	memset(g->ram + g->next, 0, GUEST_PAGE);
	return g->gpa_base + g->next;
}

/*
 * The guest's 4-level table at @root maps the 4 KiB page at @va to @gpa
 * (0: unmaps it), writable if @writable, tables made as needed. As a
 * guest does, it only writes memory: the IOMMU learns of it when told.
 * Returns 0, or -ENOMEM when guest memory ran out.
 */
static inline int guest_map(struct guest *g, __u64 root, __u64 va, __u64 gpa,
			    int writable)
{
	__u64 table = root, *pte;
	int level;

	for (level = 3; level > 0; level--) {
		pte = (__u64 *)guest_ptr(g, table) +
		      ((va >> (12 + 9 * level)) & 511);
		if (!(*pte & PTE_P)) {
			__u64 next = guest_page(g);

			if (!next)
				return -ENOMEM;
			*pte = next | PTE_P | PTE_W | PTE_U;
		}
		table = *pte & PTE_ADDR;
	}
	pte = (__u64 *)guest_ptr(g, table) + ((va >> 12) & 511);
	*pte = gpa ? gpa | PTE_P | PTE_U | (writable ? PTE_W : 0) : 0;
	return 0;
}

#endif /* LIBIOASID_TESTS_MOCK_H */
