// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioasid-demo: a small VMM's view of /dev/ioasid, for `make run`.
 *
 * Inside the test VM it plays the part of a VMM with two assigned PCI
 * devices (QEMU's edu, behind the emulated VT-d) and walks the flows of
 * the /dev/ioasid proposal:
 *
 *   RFC 5.1  one address space: bind both devices, map guest RAM at its
 *            GPA, and let each device DMA into it and out of it.
 *   RFC 5.2  a guest vIOMMU: dev2 moves to a GIOVA address space whose
 *            shadow mapping points a GIOVA at the same guest RAM, while
 *            dev1 stays on GPA. Guest RAM is registered once for both.
 *   RFC 5.3  the same guest vIOMMU with software nesting: dev2 moves to a
 *            GIOVA address space nested on the GPA one, which the VMM
 *            fills with the guest's own GIOVA -> GPA entries; the kernel
 *            composes them with GPA -> memory. Then the VMM unplugs a
 *            guest page under a live GIOVA mapping.
 *
 * QEMU's VT-d cannot nest, and edu has no PASIDs, so the flows that need
 * both run on the mock IOMMU of the test kernel instead, with two of its
 * VFIO devices (ioasid-mock-vfio.N, behind its LARGE instance), which DMA
 * when asked to through IOASID_MOCK_VFIO_DMA on their VFIO fd:
 *
 *   RFC 5.4  hardware nesting: mdev2 moves to a GIOVA space nested in
 *            hardware on the GPA one, whose first stage is the guest's
 *            own VT-d page table, built in guest RAM; then the guest
 *            changes an entry and invalidates.
 *   RFC 5.5  a guest process's address space: a GVA space nested in
 *            hardware is attached under the vPASID the guest gave the
 *            process, with the process's page table bound, while mdev2's
 *            untagged DMA stays on GPA.
 *   RFC 5.7  the guest owns mdev2's whole PASID table: it is bound to the
 *            space mdev2's untagged DMA is attached to, and every DMA
 *            walks it; a GVA space bound under the vPASID is tracked, and
 *            invalidations go through either.
 *   vSVA     I/O page faults: the devices DMA into a guest process's pages
 *            that its table does not map yet, and ask for them (PRI);
 *            ioasid-fault-server, run once the demo has let the mock
 *            devices go, serves the requests from a fault ring with
 *            io_uring, and the demo passes only if it did.
 *   migration ioasid-migrate moves guest RAM and a running mock device from
 *            one ioasid fd to another, in pre-copy rounds driven by the
 *            dirty bitmap, then stop-and-copy; and again with an edu
 *            device on the source, whose IOMMU cannot track, to show
 *            what conservative reports cost.
 *
 * Every DMA is checked byte for byte, and so is what must not change.
 * It prints what it did and a PASS or FAIL for each flow; the exit
 * status is non-zero if any flow failed.
 *
 * Handing the devices to vfio-pci is the administrator's part, done here
 * with ioasid-vfio-bind before the VMM's part starts; libioasid binds no
 * drivers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include <libioasid.h>

#define GUEST_RAM_PAGES 16
#define PAGE 4096UL
#define GPA_BASE 0x800000UL	/* edu reaches 28 bits of address only */
#define GIOVA_BASE 0x4000000UL
#define XFER 2048		/* edu's transfer limit in QEMU 7.2 */
#define EDU_BUF 0x40000UL
#define MAX_EDUS 32

struct edu {
	char bdf[256];
	int fd;
	__u32 dev_id;
	uint8_t *bar;
	size_t bar_size;
};

static int failures;

static void check(bool ok, const char *what)
{
	printf("    %-58s %s\n", what, ok ? "ok" : "WRONG");
	if (!ok)
		failures++;
}

static int cmp_edu(const void *a, const void *b)
{
	return strcmp(((const struct edu *)a)->bdf,
		      ((const struct edu *)b)->bdf);
}

/* The first @max edu devices in PCI address order, so runs repeat. */
static int find_edus(struct edu *edu, int max)
{
	static struct edu all[MAX_EDUS];
	int n = 0, i;
	struct dirent *de;
	DIR *dir = opendir("/sys/bus/pci/devices");

	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n != MAX_EDUS) {
		char path[512], id[16] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(id, sizeof(id), f) && !strncmp(id, "0x11e8", 6))
			snprintf(all[n++].bdf, sizeof(all[0].bdf), "%s",
				 de->d_name);
		fclose(f);
	}
	closedir(dir);
	qsort(all, n, sizeof(all[0]), cmp_edu);
	for (i = 0; i != n && i != max; i++)
		edu[i] = all[i];
	return i;
}

/* The administrator's step: ioasid-vfio-bind hands both to vfio-pci. */
static int vfio_pci_bind(struct edu *edu)
{
	char *const argv[] = { "ioasid-vfio-bind", edu[0].bdf, edu[1].bdf,
			       NULL };
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

/* Let the device master the bus and map its registers. */
static int edu_enable(struct edu *e)
{
	struct vfio_region_info reg = {
		.argsz = sizeof(reg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	uint16_t cmd;

	if (ioctl(e->fd, VFIO_DEVICE_GET_REGION_INFO, &reg) ||
	    pread(e->fd, &cmd, 2, reg.offset + PCI_COMMAND) != 2)
		return -errno;
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	if (pwrite(e->fd, &cmd, 2, reg.offset + PCI_COMMAND) != 2)
		return -errno;
	reg = (struct vfio_region_info){
		.argsz = sizeof(reg),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	if (ioctl(e->fd, VFIO_DEVICE_GET_REGION_INFO, &reg))
		return -errno;
	e->bar = mmap(NULL, reg.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      e->fd, reg.offset);
	if (e->bar == MAP_FAILED)
		return -errno;
	e->bar_size = reg.size;
	return 0;
}

static void mmio_write(struct edu *e, unsigned int reg, uint64_t val)
{
	__atomic_store_n((uint64_t *)(e->bar + reg), val, __ATOMIC_RELAXED);
}

static uint64_t mmio_read(struct edu *e, unsigned int reg)
{
	return __atomic_load_n((uint64_t *)(e->bar + reg), __ATOMIC_RELAXED);
}

static int edu_dma(struct edu *e, uint64_t src, uint64_t dst, bool to_ram)
{
	int i;

	mmio_write(e, 0x80, src);
	mmio_write(e, 0x88, dst);
	mmio_write(e, 0x90, XFER);
	mmio_write(e, 0x98, 1 | (to_ram ? 2 : 0));
	for (i = 0; i != 2000; i++) {
		if (!(mmio_read(e, 0x98) & 1))
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/* The device reads @src and writes @dst: DMA in both directions. */
static int edu_copy(struct edu *e, const char *name, uint64_t src,
		    uint64_t dst)
{
	printf("  %s (%s): read %d bytes at IOVA 0x%lx, write them at IOVA 0x%lx\n",
	       name, e->bdf, XFER, (unsigned long)src, (unsigned long)dst);
	return edu_dma(e, src, EDU_BUF, false) ?:
	       edu_dma(e, EDU_BUF, dst, true);
}

static long vm_pinned_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

static int die(const char *what, int err)
{
	printf("FAIL: %s: %s\n", what, strerror(-err));
	return 1;
}

/*
 * The mock IOMMU of the test kernel. What follows repeats, under names of
 * the demo's own, the test-only definitions the kernel keeps in
 * drivers/iommu/ioasid/ioasid_test.h, which is not uAPI.
 */
#define MOCK_VFIO_DRIVER	"/sys/bus/platform/drivers/ioasid-mock-vfio"
#define MOCK_VFIO_MAX		8
#define MOCK_DMA		_IO(IOASID_TYPE, 0x3d)
#define MOCK_DMA_WRITE		0x1U
#define MOCK_DMA_PASID		0x2U
#define MOCK_PASID_TABLE	31	/* the mock's PASID-table format */
#define MOCK_PASID_PRESENT	1ULL
#define MOCK_INV_PASID_CACHE	2

struct mock_dma {			/* struct ioasid_mock_vfio_dma */
	__u32 argsz;
	__u32 flags;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 uptr;
	__u32 pasid;
	__u32 reserved;
};

struct mock_pasid_table {		/* struct ioasid_mock_pasid_table */
	__aligned_u64 base;
	__u32 pasid_bits;
	__u32 flags;
};

struct mock_pasid_inv {		/* ... _pasid_table_invalidate */
	__u32 type;
	__u32 pasid;
	__aligned_u64 addr;
	__aligned_u64 npages;
};

/* struct iommu_hwpt_vtd_s1_invalidate of <linux/iommufd.h> */
struct vtd_inv {
	__aligned_u64 addr;
	__aligned_u64 npages;
	__u32 flags;
	__u32 reserved;
};

#define NO_PASID	UINT32_MAX
#define VPASID		5
#define MOCK_RAM_PAGES	64
#define MOCK_GPA	0x100000UL
#define MOCK_GIOVA	0x40000000UL
#define MOCK_GVA	0x7f0000001000UL	/* a user address, 48 bits */
#define MOCK_XFER	1024
#define PT_P		1ULL		/* VT-d first stage: present, */
#define PT_W		2ULL		/* writable, */
#define PT_U		4ULL		/* user */
#define PT_ADDR		0x000ffffffffff000ULL

struct mdev {
	char name[NAME_MAX + 1];
	int fd;
	__u32 dev_id;
};

/* A second guest, whose two devices sit behind the mock IOMMU. */
struct mock_vm {
	int fd;				/* the demo's ioasid fd */
	uint8_t *ram;
	size_t ram_len;
	size_t next;			/* guest pages handed out, from the top */
	__u32 gpa_ioasid;
	struct mdev dev[2];
};

/* Where guest physical @gpa is in the VMM. */
static void *gpa_ptr(struct mock_vm *vm, uint64_t gpa)
{
	return vm->ram + (gpa - MOCK_GPA);
}

/* The guest takes a zeroed page of its RAM, from the top down. */
static uint64_t guest_page(struct mock_vm *vm)
{
	vm->next -= PAGE;
	memset(vm->ram + vm->next, 0, PAGE);
	return MOCK_GPA + vm->next;
}

/*
 * The guest's page table builder: in the 4-level VT-d first stage at
 * @root, map the 4 KiB page at @va to @gpa (0: unmap it), tables made as
 * needed. It only writes guest memory, as a guest does.
 */
static void guest_map(struct mock_vm *vm, uint64_t root, uint64_t va,
		      uint64_t gpa, bool writable)
{
	uint64_t table = root, *pte;
	int level;

	for (level = 3; level; level--) {
		pte = (uint64_t *)gpa_ptr(vm, table) +
		      ((va >> (12 + 9 * level)) & 511);
		if (!(*pte & PT_P))
			*pte = guest_page(vm) | PT_P | PT_W | PT_U;
		table = *pte & PT_ADDR;
	}
	pte = (uint64_t *)gpa_ptr(vm, table) + ((va >> 12) & 511);
	*pte = gpa ? gpa | PT_P | PT_U | (writable ? PT_W : 0) : 0;
}

/* A fresh root table with one page mapped: the guest's new table. */
static uint64_t guest_table(struct mock_vm *vm, uint64_t va, uint64_t gpa)
{
	uint64_t root = guest_page(vm);

	guest_map(vm, root, va, gpa, true);
	return root;
}

/* The device DMAs @len bytes at @iova, tagged with @pasid unless NO_PASID. */
static int mdev_dma(struct mdev *d, uint64_t iova, void *buf, size_t len,
		    bool write, __u32 pasid)
{
	struct mock_dma dma = {
		.argsz = sizeof(dma),
		.flags = write ? MOCK_DMA_WRITE : 0,
		.iova = iova,
		.length = len,
		.uptr = (uintptr_t)buf,
	};

	if (pasid != NO_PASID) {
		dma.flags |= MOCK_DMA_PASID;
		dma.pasid = pasid;
	}
	return ioctl(d->fd, MOCK_DMA, &dma) ? -errno : 0;
}

static const char *tag(__u32 pasid)
{
	static char s[32];

	if (pasid == NO_PASID)
		return "no PASID";
	snprintf(s, sizeof(s), "PASID %u", pasid);
	return s;
}

/* The device writes a fresh pattern at @iova; the pattern goes to @pat. */
static int mdev_write(struct mock_vm *vm, int i, uint64_t iova, __u32 pasid,
		      uint8_t *pat)
{
	static unsigned int seed;
	int n;

	seed++;
	for (n = 0; n != MOCK_XFER; n++)
		pat[n] = n * 7 + seed * 29 + 1;
	printf("  mdev%d (%s): write %d bytes at IOVA 0x%lx\n", i + 1,
	       tag(pasid), MOCK_XFER, (unsigned long)iova);
	return mdev_dma(&vm->dev[i], iova, pat, MOCK_XFER, true, pasid);
}

/* The device reads at @iova: whether it got the bytes at @want. */
static bool mdev_reads(struct mock_vm *vm, int i, uint64_t iova, __u32 pasid,
		       const void *want)
{
	uint8_t buf[MOCK_XFER];

	printf("  mdev%d (%s): read %d bytes at IOVA 0x%lx\n", i + 1,
	       tag(pasid), MOCK_XFER, (unsigned long)iova);
	return !mdev_dma(&vm->dev[i], iova, buf, MOCK_XFER, false, pasid) &&
	       !memcmp(buf, want, MOCK_XFER);
}

/* The guest page at @gpa starts with @pat and holds nothing past it. */
static bool landed(struct mock_vm *vm, uint64_t gpa, const uint8_t *pat)
{
	const uint8_t *p = gpa_ptr(vm, gpa);

	return !memcmp(p, pat, MOCK_XFER) &&
	       all_zero(p + MOCK_XFER, PAGE - MOCK_XFER);
}

static int vtd_invalidate(struct mock_vm *vm, __u32 ioasid, uint64_t addr)
{
	struct vtd_inv inv = { .addr = addr, .npages = 1 };
	__u32 n = 1;

	return ioasid_invalidate_cache(vm->fd, ioasid, &inv, sizeof(inv), &n);
}

/* A step that must work for the flow to go on. */
static bool step(int ret, const char *what)
{
	if (ret) {
		printf("    %-58s FAILED: %s\n", what, strerror(-ret));
		failures++;
	}
	return !ret;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct mdev *)a)->name,
		      ((const struct mdev *)b)->name);
}

/*
 * Bind the first two mock VFIO devices whose IOMMU nests, walks the mock
 * PASID table and gives PASIDs, in name order, so runs repeat.
 */
static int mock_find(struct mock_vm *vm)
{
	struct mdev all[MOCK_VFIO_MAX];
	struct ioasid_cmd_device_get_info info;
	__u32 want = 1U << IOASID_PGTABLE_VTD_S1 | 1U << MOCK_PASID_TABLE;
	int n = 0, found = 0, i;
	struct dirent *de;
	DIR *dir;

	dir = opendir(MOCK_VFIO_DRIVER);
	while (dir && (de = readdir(dir)) && n != MOCK_VFIO_MAX)
		if (!strncmp(de->d_name, "ioasid-mock-vfio.", 17))
			snprintf(all[n++].name, sizeof(all[0].name), "%s",
				 de->d_name);
	if (dir)
		closedir(dir);
	qsort(all, n, sizeof(all[0]), cmp_name);
	for (i = 0; i != n && found != 2; i++) {
		char path[PATH_MAX], cdev[PATH_MAX] = "";
		struct mdev *d = &vm->dev[found];

		snprintf(path, sizeof(path), "%s/%s/vfio-dev", MOCK_VFIO_DRIVER,
			 all[i].name);
		dir = opendir(path);
		while (dir && (de = readdir(dir)))
			if (!strncmp(de->d_name, "vfio", 4))
				snprintf(cdev, sizeof(cdev),
					 "/dev/vfio/devices/%s", de->d_name);
		if (dir)
			closedir(dir);
		d->fd = cdev[0] ? open(cdev, O_RDWR | O_CLOEXEC) : -1;
		if (d->fd < 0)
			continue;
		if (ioasid_vfio_bind(d->fd, vm->fd, 0x2000 + found,
				     &d->dev_id) ||
		    ioasid_device_get_info(vm->fd, d->dev_id, &info) ||
		    !info.out_pasid_bits ||
		    (info.out_pgtable_formats & want) != want) {
			close(d->fd);
			continue;
		}
		memcpy(d->name, all[i].name, sizeof(d->name));
		printf("mdev%d: %s (%s) bound, label 0x%x, id %u\n",
		       found + 1, d->name, cdev, 0x2000 + found, d->dev_id);
		printf("  its IOMMU nests (VT-d first stage, mock PASID table); %u PASID bits\n",
		       info.out_pasid_bits);
		found++;
	}
	return found;
}

/*
 * The second guest's RAM, registered and mapped at its GPAs in a GPA
 * IOASID that both mock devices are attached to.
 */
static int mock_setup(struct mock_vm *vm)
{
	int ret, i;

	vm->ram_len = MOCK_RAM_PAGES * PAGE;
	vm->ram = mmap(NULL, vm->ram_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->ram == MAP_FAILED)
		return -errno;
	memset(vm->ram, 0, vm->ram_len);
	vm->next = vm->ram_len;
	ret = ioasid_register_memory(vm->fd, vm->ram, vm->ram_len);
	ret = ret ?: ioasid_alloc(vm->fd, &vm->gpa_ioasid);
	ret = ret ?: ioasid_dma_map(vm->fd, vm->gpa_ioasid, vm->ram, MOCK_GPA,
				    vm->ram_len,
				    IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE);
	for (i = 0; i != 2 && !ret; i++)
		ret = ioasid_vfio_attach(vm->dev[i].fd, vm->gpa_ioasid);
	if (ret)
		return ret;
	printf("registered %zu KiB of the mock guest's RAM\n", vm->ram_len / 1024);
	printf("mock_gpa %u: GPA 0x%lx-0x%lx -> its RAM; mdev1 and mdev2 attached\n",
	       vm->gpa_ioasid, MOCK_GPA, MOCK_GPA + vm->ram_len - 1);
	return 0;
}

/* RFC 5.4: mdev2 behind the guest's vIOMMU, whose table the IOMMU walks. */
static void rfc_5_4(struct mock_vm *vm)
{
	uint64_t root, page1 = guest_page(vm), page2 = guest_page(vm);
	uint8_t pat[MOCK_XFER], pat2[MOCK_XFER];
	int before = failures;
	__u32 hw;

	printf("\n== RFC 5.4 (mock IOMMU): mdev2 behind the guest's vIOMMU (hardware nesting)\n");
	if (!step(ioasid_create_nesting(vm->fd, vm->gpa_ioasid,
					IOASID_NESTING_HARDWARE, &hw),
		  "create a hardware-nested child") ||
	    !step(ioasid_vfio_detach(vm->dev[1].fd, vm->gpa_ioasid) ?:
		  ioasid_vfio_attach(vm->dev[1].fd, hw), "move mdev2"))
		goto out;
	printf("  hw_ioasid %u nested in hardware on mock_gpa; mdev2 moved to it\n",
	       hw);
	root = guest_table(vm, MOCK_GIOVA, page1);
	printf("  guest: VT-d first stage at GPA 0x%lx maps GIOVA 0x%lx -> GPA 0x%lx\n",
	       (unsigned long)root, MOCK_GIOVA, (unsigned long)page1);
	if (!step(ioasid_bind_pgtable_vtd_s1(vm->fd, hw, root, 48, 0),
		  "bind the guest's table"))
		goto out_detach;
	printf("  hw_ioasid: the guest's table bound (IOASID_BIND_PGTABLE, VT-d, 48 bits)\n");

	check(!mdev_write(vm, 1, MOCK_GIOVA, NO_PASID, pat) &&
	      landed(vm, page1, pat),
	      "mdev2's write by GIOVA landed where the guest's PTE says");
	check(mdev_reads(vm, 1, MOCK_GIOVA, NO_PASID, pat),
	      "mdev2 read it back by GIOVA");
	check(mdev_reads(vm, 0, page1, NO_PASID, pat),
	      "mdev1 reads the same bytes by GPA");

	guest_map(vm, root, MOCK_GIOVA, page2, true);
	printf("  guest: GIOVA 0x%lx -> GPA 0x%lx now; IOASID_INVALIDATE_CACHE of it\n",
	       MOCK_GIOVA, (unsigned long)page2);
	if (!step(vtd_invalidate(vm, hw, MOCK_GIOVA), "invalidate"))
		goto out_unbind;
	check(!mdev_write(vm, 1, MOCK_GIOVA, NO_PASID, pat2) &&
	      landed(vm, page2, pat2) && landed(vm, page1, pat),
	      "the write follows the new PTE; the old page is intact");
	guest_map(vm, root, MOCK_GIOVA, 0, false);
	printf("  guest: unmaps GIOVA 0x%lx and invalidates\n", MOCK_GIOVA);
	check(!vtd_invalidate(vm, hw, MOCK_GIOVA) &&
	      mdev_write(vm, 1, MOCK_GIOVA, NO_PASID, pat) == -EIO &&
	      landed(vm, page2, pat2),
	      "the write to the unmapped GIOVA faults, nothing moved");
out_unbind:
	ioasid_unbind_pgtable(vm->fd, hw);
out_detach:
	ioasid_vfio_detach(vm->dev[1].fd, hw);
	ioasid_free(vm->fd, hw);
	step(ioasid_vfio_attach(vm->dev[1].fd, vm->gpa_ioasid),
	     "mdev2 back on mock_gpa");
out:
	printf("RFC 5.4 (mock IOMMU): %s\n", failures == before ? "PASS" : "FAIL");
}

/* RFC 5.5: a guest process's GVAs under its vPASID, mdev2's RID on GPA. */
static void rfc_5_5(struct mock_vm *vm)
{
	uint64_t root, page = guest_page(vm);
	uint8_t pat[MOCK_XFER];
	int before = failures;
	__u32 gva;

	printf("\n== RFC 5.5 (mock IOMMU): a guest process's GVAs under vPASID %d\n",
	       VPASID);
	if (!step(ioasid_create_nesting(vm->fd, vm->gpa_ioasid,
					IOASID_NESTING_HARDWARE, &gva),
		  "create a hardware-nested child") ||
	    !step(ioasid_vfio_attach_pasid(vm->dev[1].fd, gva, VPASID),
		  "attach it under the vPASID"))
		goto out;
	printf("  gva_ioasid %u nested in hardware on mock_gpa; attached to mdev2's PASID %d\n",
	       gva, VPASID);
	printf("  mdev2's untagged DMA stays on mock_gpa\n");
	root = guest_table(vm, MOCK_GVA, page);
	printf("  guest process: its page table at GPA 0x%lx maps GVA 0x%lx -> GPA 0x%lx\n",
	       (unsigned long)root, MOCK_GVA, (unsigned long)page);
	if (!step(ioasid_bind_pgtable_vtd_s1(vm->fd, gva, root, 48, 0),
		  "bind the process's table"))
		goto out_detach;
	printf("  gva_ioasid: the process's table bound (IOASID_BIND_PGTABLE)\n");

	check(!mdev_write(vm, 1, MOCK_GVA, VPASID, pat) &&
	      landed(vm, page, pat),
	      "mdev2's write tagged with the vPASID landed by GVA");
	check(mdev_reads(vm, 1, MOCK_GVA, VPASID, pat),
	      "mdev2 read it back by GVA, same PASID");
	check(mdev_reads(vm, 1, page, NO_PASID, pat),
	      "mdev2's untagged DMA still reaches mock_gpa by GPA");
	check(mdev_write(vm, 0, MOCK_GVA, VPASID, pat) == -EIO,
	      "mdev1's own PASID 5 is attached nowhere: it faults");
	ioasid_unbind_pgtable(vm->fd, gva);
out_detach:
	step(ioasid_vfio_detach_pasid(vm->dev[1].fd, gva, VPASID),
	     "detach the vPASID");
	ioasid_free(vm->fd, gva);
out:
	printf("RFC 5.5 (mock IOMMU): %s\n", failures == before ? "PASS" : "FAIL");
}

/*
 * RFC 5.7: the guest owns mdev2's PASID table. Entry 0 serves untagged
 * DMA, entry n PASID n; a GVA child bound under the vPASID is tracked.
 */
static void rfc_5_7(struct mock_vm *vm)
{
	uint64_t table = guest_page(vm), page0 = guest_page(vm);
	uint64_t page5 = guest_page(vm), page5b = guest_page(vm);
	uint64_t page5c = guest_page(vm), root0, root5, root5c, *entry;
	struct mock_pasid_table data = { .base = table, .pasid_bits = 8 };
	struct mock_pasid_inv inv = {
		.type = MOCK_INV_PASID_CACHE,
		.pasid = VPASID,
	};
	uint8_t pat[MOCK_XFER], pat0[MOCK_XFER];
	int before = failures;
	__u32 pt, gva = 0, n = 1;

	printf("\n== RFC 5.7 (mock IOMMU): the guest owns mdev2's PASID table\n");
	if (!step(ioasid_create_nesting(vm->fd, vm->gpa_ioasid,
					IOASID_NESTING_HARDWARE, &pt),
		  "create a hardware-nested child") ||
	    !step(ioasid_vfio_detach(vm->dev[1].fd, vm->gpa_ioasid) ?:
		  ioasid_vfio_attach(vm->dev[1].fd, pt), "move mdev2"))
		goto out;
	printf("  pt_ioasid %u nested in hardware on mock_gpa; mdev2's untagged DMA moved to it\n",
	       pt);
	root0 = guest_table(vm, MOCK_GIOVA, page0);
	root5 = guest_table(vm, MOCK_GVA, page5);
	entry = gpa_ptr(vm, table);
	entry[0] = root0 | MOCK_PASID_PRESENT;
	entry[VPASID] = root5 | MOCK_PASID_PRESENT;
	printf("  guest: PASID table at GPA 0x%lx, 256 entries; entry 0 (no PASID):\n",
	       (unsigned long)table);
	printf("    table at 0x%lx, GIOVA 0x%lx -> GPA 0x%lx; entry %d:\n",
	       (unsigned long)root0, MOCK_GIOVA, (unsigned long)page0, VPASID);
	printf("    table at 0x%lx, GVA 0x%lx -> GPA 0x%lx\n",
	       (unsigned long)root5, MOCK_GVA, (unsigned long)page5);
	if (!step(ioasid_bind_pasid_table(vm->fd, pt, MOCK_PASID_TABLE, &data,
					  sizeof(data)),
		  "bind the guest's PASID table"))
		goto out_detach;
	printf("  pt_ioasid: the PASID table bound (IOASID_BIND_PASID_TABLE, mock format %d)\n",
	       MOCK_PASID_TABLE);
	check(!mdev_write(vm, 1, MOCK_GIOVA, NO_PASID, pat0) &&
	      landed(vm, page0, pat0),
	      "untagged write by GIOVA landed through entry 0");
	check(!mdev_write(vm, 1, MOCK_GVA, VPASID, pat) &&
	      landed(vm, page5, pat),
	      "PASID 5 write by GVA landed through entry 5");

	if (!step(ioasid_create_nesting(vm->fd, vm->gpa_ioasid,
					IOASID_NESTING_HARDWARE, &gva),
		  "create the GVA child") ||
	    !step(ioasid_vfio_attach_pasid(vm->dev[1].fd, gva, VPASID) ?:
		  ioasid_bind_pgtable_vtd_s1(vm->fd, gva, root5, 48, 0),
		  "attach it under PASID 5 and bind"))
		goto out_unbind;
	printf("  gva_ioasid %u attached to mdev2's PASID %d, the process's table bound: tracked\n",
	       gva, VPASID);
	check(mdev_reads(vm, 1, MOCK_GVA, VPASID, pat),
	      "PASID 5 still walks the guest's PASID table");

	guest_map(vm, root5, MOCK_GVA, page5b, true);
	printf("  guest: GVA 0x%lx -> GPA 0x%lx now; invalidated on gva_ioasid\n",
	       MOCK_GVA, (unsigned long)page5b);
	printf("  (a VT-d entry names no PASID: it is for PASID %d, where gva_ioasid is)\n",
	       VPASID);
	check(!vtd_invalidate(vm, gva, MOCK_GVA) &&
	      !mdev_write(vm, 1, MOCK_GVA, VPASID, pat) &&
	      landed(vm, page5b, pat),
	      "PASID 5 follows the new PTE: invalidated by IOASID");
	check(mdev_reads(vm, 1, MOCK_GIOVA, NO_PASID, pat0),
	      "untagged DMA still reads entry 0's page");

	root5c = guest_table(vm, MOCK_GVA, page5c);
	entry[VPASID] = root5c | MOCK_PASID_PRESENT;
	printf("  guest: entry %d -> a new table at 0x%lx; PASID-cache invalidation on pt_ioasid\n",
	       VPASID, (unsigned long)root5c);
	check(!ioasid_invalidate_cache(vm->fd, pt, &inv, sizeof(inv), &n) &&
	      !mdev_write(vm, 1, MOCK_GVA, VPASID, pat) &&
	      landed(vm, page5c, pat),
	      "PASID 5 walks the new table the entry names");
	entry[VPASID] = 0;
	n = 1;
	printf("  guest: clears entry %d and invalidates it\n", VPASID);
	check(!ioasid_invalidate_cache(vm->fd, pt, &inv, sizeof(inv), &n) &&
	      mdev_write(vm, 1, MOCK_GVA, VPASID, pat) == -EIO,
	      "PASID 5 faults now");
	ioasid_unbind_pgtable(vm->fd, gva);
	ioasid_vfio_detach_pasid(vm->dev[1].fd, gva, VPASID);
out_unbind:
	ioasid_free(vm->fd, gva);
	ioasid_unbind_pasid_table(vm->fd, pt);
out_detach:
	ioasid_vfio_detach(vm->dev[1].fd, pt);
	ioasid_free(vm->fd, pt);
	step(ioasid_vfio_attach(vm->dev[1].fd, vm->gpa_ioasid),
	     "mdev2 back on mock_gpa");
out:
	printf("RFC 5.7 (mock IOMMU): %s\n", failures == before ? "PASS" : "FAIL");
}

/*
 * Run tool @name in a process of its own, as a VMM may run such parts,
 * its report shown indented. It passes if it exits 0 after printing
 * @pass_line; a line that @count_fmt scans sets *@count.
 */
static bool run_tool(const char *name, const char *pass_line,
		     const char *count_fmt, unsigned long long *count)
{
	char *const argv[] = { (char *)name, NULL };
	unsigned long long n;
	bool pass = false;
	int pipefd[2], status;
	char line[512];
	pid_t pid;
	FILE *f;

	fflush(stdout);
	if (pipe(pipefd)) {
		printf("FAIL: pipe: %s\n", strerror(errno));
		return false;
	}
	pid = fork();
	if (!pid) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	f = pid > 0 ? fdopen(pipefd[0], "r") : NULL;
	while (f && fgets(line, sizeof(line), f)) {
		printf("  %s", line);
		if (count_fmt && sscanf(line, count_fmt, &n) == 1)
			*count = n;
		else if (!strcmp(line, pass_line))
			pass = true;
	}
	if (f)
		fclose(f);
	else
		close(pipefd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status))
		pass = false;
	return pass;
}

/*
 * vSVA with I/O page faults: the fault server. It binds the mock devices
 * itself, so the demo has closed its own by then: a device is bound to
 * one ioasid fd at a time. The demo needs its PASS and says how many
 * faults it served.
 */
static unsigned long long fault_server(void)
{
	unsigned long long served = 0;
	bool pass;

	printf("\n== vSVA (mock IOMMU): a guest process's page faults, served from a fault ring\n");
	pass = run_tool("ioasid-fault-server", "fault server: PASS\n",
			"fault server: faults served: %llu", &served);
	if (!pass)
		failures++;
	printf("vSVA page faults (mock IOMMU): %s, %llu faults served\n",
	       pass ? "PASS" : "FAIL", served);
	return served;
}

/*
 * Live migration: guest RAM and a running mock device move from one
 * ioasid fd to another, driven by dirty bitmaps; then again with an edu
 * device attached, whose IOMMU cannot track, for the conservative case.
 */
static void live_migration(void)
{
	bool pass;

	printf("\n== live migration (mock IOMMU): dirty tracking and a device's state\n");
	pass = run_tool("ioasid-migrate", "migration: PASS\n", NULL, NULL);
	if (!pass)
		failures++;
	printf("live migration (mock IOMMU, and edu for the conservative case): %s\n",
	       pass ? "PASS" : "FAIL");
}

/* The mock flows; each prints its verdict, or all fail without devices. */
static void mock_flows(struct mock_vm *vm)
{
	int ret = 0;

	printf("\n== The mock IOMMU of the test kernel: two of its VFIO devices\n");
	if (mock_find(vm) != 2)
		printf("FAIL: needs two mock VFIO devices with PASIDs that nest\n");
	else
		ret = mock_setup(vm);
	if (vm->dev[1].fd < 0 || ret) {
		if (ret)
			printf("FAIL: the mock guest's RAM: %s\n", strerror(-ret));
		failures++;
		printf("RFC 5.4 (mock IOMMU): FAIL\n");
		printf("RFC 5.5 (mock IOMMU): FAIL\n");
		printf("RFC 5.7 (mock IOMMU): FAIL\n");
		return;
	}
	rfc_5_4(vm);
	rfc_5_5(vm);
	rfc_5_7(vm);
}

int main(void)
{
	const size_t ram_len = GUEST_RAM_PAGES * PAGE;
	__u32 version, gpa_ioasid, giova_ioasid, nested_ioasid, ext;
	struct ioasid_cmd_get_info info;
	struct edu edu[2] = {};
	struct mock_vm mvm = { .dev = { { .fd = -1 }, { .fd = -1 } } };
	int fd, ret, i, flow1_fail;
	unsigned long long served;
	uint8_t *ram;
	long pin0;

	fd = ioasid_open();
	if (fd < 0)
		return die("open /dev/ioasid", fd);
	ret = ioasid_get_api_version(fd, &version);
	if (ret)
		return die("IOASID_GET_API_VERSION", ret);
	printf("/dev/ioasid API version %u; extensions:", version);
	for (ext = 1; ext < 64; ext++)
		if (ioasid_check_extension(fd, ext) == 1)
			printf(" %s", ioasid_extension_name(ext) ?: "?");
	printf("\n\n");

	if (find_edus(edu, 2) < 2) {
		printf("FAIL: this demo needs two edu PCI devices\n");
		return 1;
	}
	ret = vfio_pci_bind(edu);
	if (ret)
		return die("ioasid-vfio-bind the edu devices", ret);
	printf("edu %s and %s handed to vfio-pci by ioasid-vfio-bind\n",
	       edu[0].bdf, edu[1].bdf);
	for (i = 0; i != 2; i++) {
		ret = ioasid_vfio_open_pci(edu[i].bdf, fd, 0x1000 + i,
					   &edu[i].dev_id);
		if (ret < 0)
			return die("bind edu to the ioasid fd", ret);
		edu[i].fd = ret;
		ret = edu_enable(&edu[i]);
		if (ret)
			return die("enable edu", ret);
		printf("dev%d: edu %s bound by VFIO_BIND_IOASID_FD, label 0x%x, id %u\n",
		       i + 1, edu[i].bdf, 0x1000 + i, edu[i].dev_id);
	}

	/* Guest RAM: the VMM's memory, registered (pinned, charged) once. */
	ram = mmap(NULL, ram_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return die("mmap guest RAM", -errno);
	memset(ram, 0, ram_len);
	pin0 = vm_pinned_kb();
	ret = ioasid_register_memory(fd, ram, ram_len);
	if (ret)
		return die("IOASID_REGISTER_MEMORY", ret);
	printf("registered %zu KiB of guest RAM at %p: VmPin %ld -> %ld kB\n",
	       ram_len / 1024, (void *)ram, pin0, vm_pinned_kb());

	printf("\n== RFC 5.1: one GPA address space for both devices\n");
	flow1_fail = failures;
	ret = ioasid_alloc(fd, &gpa_ioasid);
	ret = ret ?: ioasid_dma_map(fd, gpa_ioasid, ram, GPA_BASE, ram_len,
				    IOASID_DMA_MAP_READ |
				    IOASID_DMA_MAP_WRITE);
	if (ret)
		return die("map guest RAM", ret);
	printf("  gpa_ioasid %u: GPA 0x%lx-0x%lx -> guest RAM (read/write)\n",
	       gpa_ioasid, GPA_BASE, GPA_BASE + ram_len - 1);
	for (i = 0; i != 2; i++) {
		ret = ioasid_vfio_attach(edu[i].fd, gpa_ioasid);
		if (ret)
			return die("VFIO_ATTACH_IOASID", ret);
		printf("  dev%d attached to gpa_ioasid\n", i + 1);
	}
	for (i = 0; i != XFER; i++)
		ram[i] = i * 13 + 5;
	for (i = 0; i != 2; i++) {
		uint8_t *dst = ram + (1 + i) * PAGE;
		char what[80];

		ret = edu_copy(&edu[i], i ? "dev2" : "dev1", GPA_BASE,
			       GPA_BASE + (1 + i) * PAGE);
		snprintf(what, sizeof(what), "dev%d's copy landed in guest page %d",
			 i + 1, 1 + i);
		check(!ret && !memcmp(ram, dst, XFER), what);
		check(all_zero(dst + XFER, PAGE - XFER),
		      "not a byte written past the transfer");
	}
	memset(ram + 4 * PAGE, 0, PAGE);
	edu_copy(&edu[0], "dev1", GPA_BASE, 0x9000000);
	check(all_zero(ram + 3 * PAGE, ram_len - 3 * PAGE),
	      "a DMA to an unmapped IOVA changed no memory");
	printf("RFC 5.1: %s\n", failures == flow1_fail ? "PASS" : "FAIL");

	printf("\n== RFC 5.2: dev2 behind the guest's vIOMMU (shadowed GIOVA)\n");
	flow1_fail = failures;
	ret = ioasid_alloc(fd, &giova_ioasid);
	/* The guest maps GIOVA -> GPA page 8; the VMM shadows GIOVA -> HVA. */
	ret = ret ?: ioasid_dma_map(fd, giova_ioasid, ram + 8 * PAGE,
				    GIOVA_BASE, PAGE,
				    IOASID_DMA_MAP_READ |
				    IOASID_DMA_MAP_WRITE);
	if (ret)
		return die("shadow map", ret);
	printf("  giova_ioasid %u: GIOVA 0x%lx -> GPA 0x%lx -> guest page 8\n",
	       giova_ioasid, GIOVA_BASE, GPA_BASE + 8 * PAGE);
	ret = ioasid_vfio_detach(edu[1].fd, gpa_ioasid);
	ret = ret ?: ioasid_vfio_attach(edu[1].fd, giova_ioasid);
	if (ret)
		return die("move dev2", ret);
	printf("  dev2 moved: detached from gpa_ioasid, attached to giova_ioasid\n");
	memcpy(ram + 8 * PAGE, ram, XFER);
	ret = edu_copy(&edu[1], "dev2", GIOVA_BASE, GIOVA_BASE + XFER);
	check(!ret && !memcmp(ram, ram + 8 * PAGE + XFER, XFER),
	      "dev2 DMA'd by GIOVA into the shadowed guest page");
	memset(ram + 9 * PAGE, 0, PAGE);
	edu_copy(&edu[1], "dev2", GPA_BASE, GPA_BASE + 9 * PAGE);
	check(all_zero(ram + 9 * PAGE, PAGE), "dev2 can no longer reach GPAs");
	ret = edu_copy(&edu[0], "dev1", GPA_BASE, GPA_BASE + 10 * PAGE);
	check(!ret && !memcmp(ram, ram + 10 * PAGE, XFER),
	      "dev1 still DMAs by GPA");
	check(vm_pinned_kb() == pin0 + (long)ram_len / 1024,
	      "guest RAM is pinned and charged once for both spaces");
	printf("RFC 5.2: %s\n", failures == flow1_fail ? "PASS" : "FAIL");

	printf("\n== RFC 5.3: dev2 behind the guest's vIOMMU (software nesting)\n");
	flow1_fail = failures;
	ret = ioasid_vfio_detach(edu[1].fd, giova_ioasid);
	ret = ret ?: ioasid_create_nesting(fd, gpa_ioasid,
					   IOASID_NESTING_SOFTWARE,
					   &nested_ioasid);
	/* The guest maps GIOVA -> GPA pages 12 and 13; passed on as is. */
	for (i = 0; i != 2 && !ret; i++)
		ret = ioasid_dma_map_from_parent(fd, nested_ioasid,
						 GPA_BASE + (12 + i) * PAGE,
						 GIOVA_BASE + i * PAGE, PAGE,
						 IOASID_DMA_MAP_READ |
						 IOASID_DMA_MAP_WRITE);
	ret = ret ?: ioasid_vfio_attach(edu[1].fd, nested_ioasid);
	if (ret)
		return die("nested GIOVA space", ret);
	printf("  nested_ioasid %u on gpa_ioasid: GIOVA 0x%lx, 0x%lx -> GPA 0x%lx, 0x%lx\n",
	       nested_ioasid, GIOVA_BASE, GIOVA_BASE + PAGE,
	       GPA_BASE + 12 * PAGE, GPA_BASE + 13 * PAGE);
	printf("  dev2 moved to nested_ioasid; no GPA -> HVA walk in the VMM\n");
	memcpy(ram + 12 * PAGE, ram, XFER);
	memset(ram + 13 * PAGE, 0, PAGE);
	ret = edu_copy(&edu[1], "dev2", GIOVA_BASE, GIOVA_BASE + PAGE);
	check(!ret && !memcmp(ram, ram + 13 * PAGE, XFER),
	      "dev2 DMA'd by GIOVA: read GPA page 12, wrote GPA page 13");
	memset(ram + 14 * PAGE, 0, PAGE);
	edu_copy(&edu[1], "dev2", GPA_BASE, GPA_BASE + 14 * PAGE);
	check(all_zero(ram + 14 * PAGE, PAGE), "dev2 can no longer reach GPAs");
	ret = edu_copy(&edu[0], "dev1", GPA_BASE, GPA_BASE + 14 * PAGE);
	check(!ret && !memcmp(ram, ram + 14 * PAGE, XFER),
	      "dev1 still DMAs by GPA");
	check(vm_pinned_kb() == pin0 + (long)ram_len / 1024,
	      "nothing pinned or charged again for the nested space");

	/* The VMM takes guest page 13 away: the nested mapping goes first. */
	ret = ioasid_dma_unmap(fd, gpa_ioasid, GPA_BASE + 13 * PAGE, PAGE,
			       NULL);
	if (ret)
		return die("unmap GPA page 13", ret);
	printf("  gpa_ioasid: GPA page 13 unmapped under the live GIOVA mapping\n");
	memset(ram + 13 * PAGE, 0, PAGE);
	edu_copy(&edu[1], "dev2", GIOVA_BASE, GIOVA_BASE + PAGE);
	check(all_zero(ram + 13 * PAGE, PAGE),
	      "dev2's DMA to that GIOVA is blocked: the page is untouched");
	ret = ioasid_get_info(fd, nested_ioasid, &info, NULL, 0);
	check(!ret && info.out_parent == gpa_ioasid &&
	      info.out_revoked == PAGE,
	      "nested_ioasid reports its parent and the page it lost");
	printf("RFC 5.3: %s\n", failures == flow1_fail ? "PASS" : "FAIL");

	mvm.fd = fd;
	mock_flows(&mvm);

	printf("\npinned and charged now: VmPin %ld kB (%zu KiB of registered guest RAM)\n",
	       vm_pinned_kb(), (ram_len + mvm.ram_len) / 1024);
	for (i = 0; i != 2; i++) {
		munmap(edu[i].bar, edu[i].bar_size);
		close(edu[i].fd);
		if (mvm.dev[i].fd >= 0)
			close(mvm.dev[i].fd);
	}
	close(fd);
	printf("after closing everything: VmPin %ld kB\n", vm_pinned_kb());

	served = fault_server();
	live_migration();
	printf("\ndemo: %s (%llu I/O page faults served)\n",
	       failures ? "FAIL" : "PASS", served);
	return failures ? 1 : 0;
}
