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

int main(void)
{
	const size_t ram_len = GUEST_RAM_PAGES * PAGE;
	__u32 version, gpa_ioasid, giova_ioasid, nested_ioasid, ext;
	struct ioasid_cmd_get_info info;
	struct edu edu[2] = {};
	int fd, ret, i, flow1_fail;
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

	printf("\npinned and charged now: VmPin %ld kB (%zu KiB of registered guest RAM)\n",
	       vm_pinned_kb(), ram_len / 1024);
	for (i = 0; i != 2; i++) {
		munmap(edu[i].bar, edu[i].bar_size);
		close(edu[i].fd);
	}
	close(fd);
	printf("after closing everything: VmPin %ld kB\n", vm_pinned_kb());
	printf("\ndemo: %s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
