// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioasid-fault-server: a VMM's I/O page fault server for a guest's shared
 * virtual addressing (vSVA), on the mock IOMMU of the test kernel.
 *
 * The guest gave one of its processes a vPASID and a page table; the VMM
 * attached a hardware-nested GVA IOASID under that PASID on the devices
 * (RFC 5.5) and bound the process's table, which maps nothing yet. The
 * devices DMA into the process's memory anyway, asking for the pages
 * they fault on (PCI PRI, IOASID_MOCK_VFIO_DMA_PRI here), and wait.
 *
 * The server plays the guest's fault handler and the VMM together. The
 * kernel posts each page request to the GVA IOASID's fault ring and
 * signals an eventfd; the server waits for the eventfd with io_uring (a
 * read of it), drains the ring in batches, maps every faulting page in
 * the guest's first-stage table (built in guest RAM, which the parent
 * IOASID maps at its GPAs), sends one invalidation per batch and answers
 * the batch's fault groups in one IOASID_PAGE_RESPONSE, then reads the
 * eventfd again. Reading the eventfd before draining, and draining until
 * the ring is empty, misses nothing: the kernel signals after every
 * group it posts.
 *
 * The load: several threads, each making a mock device DMA-write a
 * pattern into pages of the process that nobody mapped, then read it
 * back; at the end every page is looked up through the guest's table and
 * its bytes checked. It prints what it served and "fault server: PASS"
 * only if every DMA's data is right and nothing was lost.
 *
 * Exit status: 0 pass, 1 fail, 4 skipped (no mock VFIO devices: not a
 * test kernel). With --tap the report is TAP 13, for `make check`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <liburing.h>
#include <linux/iommufd.h>
#include <libioasid.h>
/* The mock VFIO device's DMA: test-only, not uAPI. */
#include "ioasid_test.h"

#define EXIT_SKIP	4
#define NO_MOCK		"no mock VFIO devices (CONFIG_IOASID_TEST_VFIO)"

#define MOCK_VFIO_DRIVER	"/sys/bus/platform/drivers/ioasid-mock-vfio"
#define MOCK_VFIO_MAX		8

#define PAGE		4096ULL
#define GUEST_GPA	0x100000ULL
#define GVA_BASE	0x7f0000000000ULL
#define LABEL		0x5e0ULL
#define FIRST_PASID	5		/* device i's process is PASID 5 + i */
#define XFER		1024		/* bytes per DMA, within one page */
#define MAX_DEVS	2
#define MAX_BATCH	IOASID_FAULT_RING_MAX_ENTRIES
#define WAIT_SECONDS	60

/* VT-d first stage: present, writable, user; the address bits. */
#define PTE_P		0x1ULL
#define PTE_W		0x2ULL
#define PTE_U		0x4ULL
#define PTE_ADDR	0x000ffffffffff000ULL

enum { EV_FAULT = 1, EV_STOP = 2 };

static struct {
	unsigned int threads;
	unsigned int per_thread;
	unsigned int entries;
	unsigned int batch;
	bool tap;
} opt = { .threads = 8, .per_thread = 32, .entries = 64, .batch = 16 };

/* The guest, its process's table, and the devices. */
static struct {
	int fd;
	__u8 *ram;
	size_t ram_len;
	size_t next;			/* guest pages handed out, top down */
	__u32 gpa_ioasid;
	__u32 gva_ioasid;
	__u64 root;			/* the process's table, a GPA */
	int ndev;
	int vfd[MAX_DEVS];
	__u32 dev_id[MAX_DEVS];
	unsigned int pages;		/* GVA pages the load touches */
	__u8 *mapped;			/* per GVA page: mapped by the server */
} vm = { .fd = -1, .vfd = { -1, -1 } };

/* What the server did. */
static struct {
	unsigned long long records;	/* fault records read */
	unsigned long long group_ends;	/* records that ended a group */
	unsigned long long groups;	/* groups answered */
	unsigned long long pages_mapped;
	unsigned long long again;	/* requests for a page mapped already */
	unsigned long long refused;	/* records the server could not serve */
	unsigned long long batches;	/* drains that found records */
	unsigned long long respond_calls;
	unsigned long long invalidations;
	unsigned long long wakeups;	/* eventfd reads that completed */
	unsigned int largest_batch;
} st;

/* What the load did; written by the DMA threads. */
static struct {
	unsigned long long dma_ok;
	unsigned long long dma_failed;
	unsigned long long readback_bad;
	unsigned int threads_left;
	int stop_efd;
} load;

static unsigned int ntap, nfailed;

/* A line of the report: "fault server: ...", a TAP comment with --tap. */
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs(opt.tap ? "# fault server: " : "fault server: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* One verdict: a TAP line with --tap, else a line only when it failed. */
static bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	ntap++;
	if (!ok)
		nfailed++;
	if (opt.tap)
		printf("%sok %u - ", ok ? "" : "not ", ntap);
	else if (!ok)
		fputs("fault server: FAILED: ", stdout);
	if (opt.tap || !ok) {
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		putchar('\n');
		fflush(stdout);
	}
	return ok;
}

/* A step the run needs; a failed check that names the error. */
static bool step(int ret, const char *what)
{
	if (ret)
		return check(false, "%s: %s", what, strerror(-ret));
	return true;
}

/* Guest memory: where GPA @gpa is in the VMM. */
static void *gpa_ptr(__u64 gpa)
{
	return vm.ram + (gpa - GUEST_GPA);
}

/* A zeroed guest page, from the top of its RAM down; 0 if none is left. */
static __u64 guest_page(void)
{
	if (vm.next < PAGE)
		return 0;
	vm.next -= PAGE;
	memset(vm.ram + vm.next, 0, PAGE);
	return GUEST_GPA + vm.next;
}

/*
 * The guest's page table builder: in the 4-level VT-d first stage at
 * vm.root, map the 4 KiB page at @va to @gpa, writable, tables made as
 * needed. As a guest does, it only writes its memory; the IOMMU learns
 * of it when told. 0, or -ENOMEM when guest memory ran out.
 */
static int guest_map(__u64 va, __u64 gpa)
{
	__u64 table = vm.root, *pte;
	int level;

	for (level = 3; level > 0; level--) {
		pte = (__u64 *)gpa_ptr(table) + ((va >> (12 + 9 * level)) & 511);
		if (!(*pte & PTE_P)) {
			__u64 next = guest_page();

			if (!next)
				return -ENOMEM;
			*pte = next | PTE_P | PTE_W | PTE_U;
		}
		table = *pte & PTE_ADDR;
	}
	pte = (__u64 *)gpa_ptr(table) + ((va >> 12) & 511);
	*pte = gpa | PTE_P | PTE_W | PTE_U;
	return 0;
}

/* The GPA the guest's table maps @va to, or 0. */
static __u64 guest_walk(__u64 va)
{
	__u64 table = vm.root, pte = 0;
	int level;

	for (level = 3; level >= 0; level--) {
		pte = ((__u64 *)gpa_ptr(table))[(va >> (12 + 9 * level)) & 511];
		if (!(pte & PTE_P))
			return 0;
		table = pte & PTE_ADDR;
	}
	return (pte & PTE_ADDR) + (va & (PAGE - 1));
}

static int mock_dma(int vfd, __u64 iova, void *buf, size_t len, __u32 flags,
		    __u32 pasid)
{
	struct ioasid_mock_vfio_dma dma = {
		.argsz = sizeof(dma),
		.flags = flags | IOASID_MOCK_VFIO_DMA_PASID,
		.iova = iova,
		.length = len,
		.uptr = (uintptr_t)buf,
		.pasid = pasid,
	};

	return ioctl(vfd, IOASID_MOCK_VFIO_DMA, &dma) ? -errno : 0;
}

/* The data of GVA page @p, and where in the page it goes. */
static void pattern(__u8 *buf, unsigned int p)
{
	unsigned int i;

	for (i = 0; i < XFER; i++)
		buf[i] = (__u8)(i * 13 + p * 101 + 7);
}

static __u64 page_offset(unsigned int p)
{
	return (p * 136ULL) % (PAGE - XFER) & ~7ULL;
}

/*
 * A DMA thread: its pages, one DMA write each, into pages nobody mapped
 * (so each asks for its page and waits), then a read back, which must
 * not fault again.
 */
static void *dma_thread(void *arg)
{
	unsigned int k = (unsigned int)(uintptr_t)arg, j, p;
	int dev = (int)(k % vm.ndev);
	__u8 buf[XFER], back[XFER];
	__u64 gva, one = 1;

	for (j = 0; j < opt.per_thread; j++) {
		p = k * opt.per_thread + j;
		gva = GVA_BASE + p * PAGE + page_offset(p);
		pattern(buf, p);
		if (mock_dma(vm.vfd[dev], gva, buf, XFER,
			     IOASID_MOCK_VFIO_DMA_WRITE | IOASID_MOCK_VFIO_DMA_PRI,
			     FIRST_PASID + dev)) {
			__atomic_add_fetch(&load.dma_failed, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_add_fetch(&load.dma_ok, 1, __ATOMIC_RELAXED);
		if (mock_dma(vm.vfd[dev], gva, back, XFER, 0, FIRST_PASID + dev) ||
		    memcmp(buf, back, XFER))
			__atomic_add_fetch(&load.readback_bad, 1,
					   __ATOMIC_RELAXED);
	}
	/* The last thread out tells the server. */
	if (!__atomic_sub_fetch(&load.threads_left, 1, __ATOMIC_ACQ_REL) &&
	    write(load.stop_efd, &one, sizeof(one)) != sizeof(one))
		perror("fault server: eventfd write");
	return NULL;
}

/*
 * Serve one record: map its page if the guest's process may have it.
 * Returns whether it was served; a record the server cannot serve fails
 * its group.
 */
static bool serve(const struct ioasid_fault_record *rec, __u64 *lo, __u64 *hi)
{
	unsigned int p;
	int dev = (int)(rec->label - LABEL);
	__u64 gpa;

	if (rec->ioasid != vm.gva_ioasid || dev < 0 || dev >= vm.ndev ||
	    !(rec->flags & IOASID_FAULT_PASID_VALID) ||
	    rec->pasid != (__u32)(FIRST_PASID + dev) ||
	    rec->addr < GVA_BASE || rec->addr & (PAGE - 1) ||
	    rec->addr >= GVA_BASE + vm.pages * PAGE ||
	    !(rec->access & (IOASID_FAULT_READ | IOASID_FAULT_WRITE)))
		return false;
	p = (unsigned int)((rec->addr - GVA_BASE) / PAGE);
	if (vm.mapped[p]) {
		/* Asked for again, maybe before our answer reached it. */
		st.again++;
		return true;
	}
	gpa = guest_page();
	if (!gpa || guest_map(rec->addr, gpa))
		return false;
	vm.mapped[p] = 1;
	st.pages_mapped++;
	if (rec->addr < *lo)
		*lo = rec->addr;
	if (rec->addr > *hi)
		*hi = rec->addr;
	return true;
}

/*
 * Drain the ring: batches of records, each batch served, its pages made
 * known to the IOMMU by one invalidation, and its groups answered in one
 * call. Returns 0, or the first error of an ioctl.
 */
static int drain(struct ioasid_fault_ring *ring,
		 const struct ioasid_fault_record **recs,
		 struct ioasid_page_response *resp)
{
	static bool group_failed;
	unsigned int answered, nresp, i;
	__u64 lo, hi;
	int n, ret;

	while ((n = ioasid_fault_peek_batch(ring, recs, opt.batch)) > 0) {
		lo = UINT64_MAX;
		hi = 0;
		nresp = 0;
		for (i = 0; i < (unsigned int)n; i++) {
			if (!serve(recs[i], &lo, &hi)) {
				st.refused++;
				group_failed = true;
			}
			if (!(recs[i]->flags & IOASID_FAULT_LAST_IN_GROUP))
				continue;
			st.group_ends++;
			resp[nresp++] = (struct ioasid_page_response){
				.cookie = recs[i]->cookie,
				.code = group_failed ?
					IOASID_PAGE_RESP_INVALID :
					IOASID_PAGE_RESP_SUCCESS,
			};
			group_failed = false;
		}
		/* The records are read: their slots go back to the kernel. */
		ioasid_fault_advance(ring, n);
		st.records += n;
		st.batches++;
		if ((unsigned int)n > st.largest_batch)
			st.largest_batch = n;

		if (hi >= lo) {
			struct iommu_hwpt_vtd_s1_invalidate inv = {
				.addr = lo,
				.npages = (hi - lo) / PAGE + 1,
			};
			__u32 one = 1;

			ret = ioasid_invalidate_cache(vm.fd, vm.gva_ioasid,
						      &inv, sizeof(inv), &one);
			if (ret)
				return ret;
			st.invalidations++;
		}
		if (!nresp)
			continue;
		ret = ioasid_page_respond(ring, resp, nresp, &answered);
		if (ret)
			return ret;
		st.respond_calls++;
		st.groups += answered;
		for (i = 0; i < nresp; i++)
			if (resp[i].out_result)
				say("cookie 0x%llx: %s",
				    (unsigned long long)resp[i].cookie,
				    strerror(-resp[i].out_result));
	}
	return n < 0 ? n : 0;
}

static int arm_read(struct io_uring *uring, int efd, __u64 *count, __u64 tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(uring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, efd, count, sizeof(*count), 0);
	io_uring_sqe_set_data64(sqe, tag);
	return 0;
}

/*
 * The server's loop: wait for the ring's eventfd (or the load's end)
 * with io_uring, drain, re-arm. Returns 0, or an error.
 */
static int serve_faults(struct ioasid_fault_ring *ring, int efd)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_SECONDS };
	const struct ioasid_fault_record **recs;
	struct ioasid_page_response *resp;
	__u64 fault_count, stop_count;
	struct io_uring_cqe *cqe;
	struct io_uring uring;
	bool stop = false;
	int ret, res;
	__u64 tag;

	recs = calloc(opt.batch, sizeof(*recs));
	resp = calloc(opt.batch, sizeof(*resp));
	if (!recs || !resp) {
		free(recs);
		free(resp);
		return -ENOMEM;
	}
	ret = io_uring_queue_init(4, &uring, 0);
	if (ret)
		goto out_free;
	ret = arm_read(&uring, efd, &fault_count, EV_FAULT) ?:
	      arm_read(&uring, load.stop_efd, &stop_count, EV_STOP);
	if (!ret)
		ret = io_uring_submit(&uring) == 2 ? 0 : -EIO;
	while (!ret && !stop) {
		ret = io_uring_wait_cqe_timeout(&uring, &cqe, &ts);
		if (ret == -ETIME) {
			say("nothing happened for %d s", WAIT_SECONDS);
			break;
		}
		if (ret)
			break;
		tag = io_uring_cqe_get_data64(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&uring, cqe);
		if (res != sizeof(__u64)) {
			ret = res < 0 ? res : -EIO;
			break;
		}
		if (tag == EV_STOP) {
			/* Every DMA has ended; whatever is left is stale. */
			stop = true;
			ret = drain(ring, recs, resp);
			break;
		}
		/* The eventfd is reset: drain until empty, then re-arm. */
		st.wakeups++;
		ret = drain(ring, recs, resp);
		if (!ret)
			ret = arm_read(&uring, efd, &fault_count, EV_FAULT);
		if (!ret)
			ret = io_uring_submit(&uring) == 1 ? 0 : -EIO;
	}
	io_uring_queue_exit(&uring);
out_free:
	free(recs);
	free(resp);
	return ret;
}

/*
 * Bind the first mock VFIO devices, in name order, whose IOMMU nests
 * with VT-d first stages and gives PASIDs. Returns how many.
 */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int find_devices(void)
{
	char names[MOCK_VFIO_MAX][NAME_MAX + 1];
	struct ioasid_cmd_device_get_info info;
	int n = 0, i, pri = 0;
	struct dirent *de;
	DIR *dir;

	dir = opendir(MOCK_VFIO_DRIVER);
	while (dir && (de = readdir(dir)) && n != MOCK_VFIO_MAX)
		if (!strncmp(de->d_name, "ioasid-mock-vfio.", 17))
			snprintf(names[n++], sizeof(names[0]), "%s", de->d_name);
	if (dir)
		closedir(dir);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (i = 0; i != n && vm.ndev != MAX_DEVS; i++) {
		char path[PATH_MAX], cdev[PATH_MAX] = "";
		int d = vm.ndev, vfd;

		snprintf(path, sizeof(path), "%s/%s/vfio-dev", MOCK_VFIO_DRIVER,
			 names[i]);
		dir = opendir(path);
		while (dir && (de = readdir(dir)))
			if (!strncmp(de->d_name, "vfio", 4))
				snprintf(cdev, sizeof(cdev),
					 "/dev/vfio/devices/%s", de->d_name);
		if (dir)
			closedir(dir);
		vfd = cdev[0] ? open(cdev, O_RDWR | O_CLOEXEC) : -1;
		if (vfd < 0)
			continue;
		if (ioasid_vfio_bind(vfd, vm.fd, LABEL + d, &vm.dev_id[d]) ||
		    ioasid_device_get_info(vm.fd, vm.dev_id[d], &info) ||
		    !info.out_pasid_bits ||
		    !(info.out_pgtable_formats & 1U << IOASID_PGTABLE_VTD_S1)) {
			close(vfd);
			continue;
		}
		vm.vfd[d] = vfd;
		vm.ndev++;
		pri += !!(info.out_capabilities &
			  IOASID_DEVICE_CAP_PAGE_REQUESTS);
		say("device %d: %s (%s), label 0x%llx, PASID %d%s",
		    d, names[i], cdev, LABEL + d, FIRST_PASID + d,
		    info.out_capabilities & IOASID_DEVICE_CAP_PAGE_REQUESTS ?
		    ", asks for pages (PRI)" : "");
	}
	if (vm.ndev)
		check(pri == vm.ndev,
		      "the devices report IOASID_DEVICE_CAP_PAGE_REQUESTS");
	return vm.ndev;
}

/*
 * The guest: its RAM, registered and mapped at its GPAs in the GPA
 * IOASID; the process's GVA IOASID nested on it in hardware, attached
 * under each device's PASID, with the process's empty table bound.
 */
static int setup_guest(void)
{
	int ret, i;

	/* The load's pages, their tables, and room to spare. */
	vm.ram_len = (vm.pages + vm.pages / 256 + 64) * PAGE;
	vm.ram = mmap(NULL, vm.ram_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	vm.mapped = calloc(vm.pages, 1);
	if (vm.ram == MAP_FAILED || !vm.mapped)
		return -ENOMEM;
	memset(vm.ram, 0, vm.ram_len);
	vm.next = vm.ram_len;
	ret = ioasid_register_memory(vm.fd, vm.ram, vm.ram_len);
	ret = ret ?: ioasid_alloc(vm.fd, &vm.gpa_ioasid);
	ret = ret ?: ioasid_dma_map(vm.fd, vm.gpa_ioasid, vm.ram, GUEST_GPA,
				    vm.ram_len,
				    IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE);
	ret = ret ?: ioasid_create_nesting(vm.fd, vm.gpa_ioasid,
					   IOASID_NESTING_HARDWARE,
					   &vm.gva_ioasid);
	for (i = 0; i != vm.ndev && !ret; i++) {
		ret = ioasid_vfio_attach(vm.vfd[i], vm.gpa_ioasid);
		ret = ret ?: ioasid_vfio_attach_pasid(vm.vfd[i], vm.gva_ioasid,
						      FIRST_PASID + i);
	}
	if (ret)
		return ret;
	vm.root = guest_page();
	ret = ioasid_bind_pgtable_vtd_s1(vm.fd, vm.gva_ioasid, vm.root, 48, 0);
	if (ret)
		return ret;
	say("guest RAM %zu KiB at GPA 0x%llx (gpa_ioasid %u)",
	    vm.ram_len / 1024, GUEST_GPA, vm.gpa_ioasid);
	say("gva_ioasid %u, hardware-nested: the process's table at GPA 0x%llx, empty",
	    vm.gva_ioasid, vm.root);
	return 0;
}

/* Every page the load wrote, through the guest's table: its bytes. */
static unsigned long long check_guest_memory(unsigned int *bad)
{
	unsigned long long bytes = 0;
	__u8 want[XFER];
	unsigned int p;
	__u8 *page;
	__u64 gpa;

	*bad = 0;
	for (p = 0; p < vm.pages; p++) {
		gpa = guest_walk(GVA_BASE + p * PAGE);
		pattern(want, p);
		page = gpa ? gpa_ptr(gpa) : NULL;
		if (!page || memcmp(page + page_offset(p), want, XFER)) {
			(*bad)++;
			continue;
		}
		bytes += XFER;
	}
	return bytes;
}

static void usage(const char *prog)
{
	fprintf(stderr, "%s [-t threads] [-n dmas-per-thread]", prog);
	fprintf(stderr, " [-e ring-entries] [-b batch] [--tap]\n");
	exit(2);
}

static unsigned int number(const char *s, const char *prog)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (!*s || *end || !v || v > 1U << 20)
		usage(prog);
	return (unsigned int)v;
}

static void parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tap", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "t:n:e:b:", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			opt.threads = number(optarg, argv[0]);
			break;
		case 'n':
			opt.per_thread = number(optarg, argv[0]);
			break;
		case 'e':
			opt.entries = number(optarg, argv[0]);
			break;
		case 'b':
			opt.batch = number(optarg, argv[0]);
			break;
		case 'T':
			opt.tap = true;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc || opt.batch > MAX_BATCH)
		usage(argv[0]);
}

int main(int argc, char **argv)
{
	unsigned long long bytes;
	struct ioasid_fault_ring ring;
	pthread_t *threads = NULL;
	unsigned int i, started = 0, bad;
	int efd = -1, ret;
	bool have_ring = false;

	parse(argc, argv);
	if (opt.tap)
		printf("TAP version 13\n");
	vm.pages = opt.threads * opt.per_thread;
	load.stop_efd = -1;

	vm.fd = ioasid_open();
	if (vm.fd < 0) {
		step(vm.fd, "open /dev/ioasid");
		goto out;
	}
	if (!check(ioasid_check_extension(vm.fd, IOASID_EXT_FAULT_RING) == 1,
		   "the kernel has fault rings (IOASID_EXT_FAULT_RING)"))
		goto out;
	if (!find_devices()) {
		if (opt.tap)
			printf("ok %u - fault server # SKIP %s\n1..%u\n",
			       ntap + 1, NO_MOCK, ntap + 1);
		say("SKIP: %s", NO_MOCK);
		close(vm.fd);
		return EXIT_SKIP;
	}
	/* Every request fits: the ring holds one per thread at least. */
	if (opt.threads > opt.entries) {
		check(false, "%u threads need a ring of %u records at least",
		      opt.threads, opt.threads);
		goto out;
	}
	if (!step(setup_guest(), "set up the guest"))
		goto out;

	efd = eventfd(0, EFD_CLOEXEC);
	load.stop_efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0 || load.stop_efd < 0) {
		step(-errno, "eventfd");
		goto out;
	}
	if (!step(ioasid_fault_ring_setup(vm.fd, opt.entries, efd,
					  &vm.gva_ioasid, 1, &ring),
		  "set up the fault ring"))
		goto out;
	have_ring = true;
	say("ring %u: %u records of %u bytes, %zu bytes mapped; batches up to %u",
	    ring.ring_id, ring.mask + 1, ring.record_size, ring.map_size,
	    opt.batch);
	say("%u DMA threads on %d device%s: %u DMA writes of %d bytes, unmapped GVAs",
	    opt.threads, vm.ndev, vm.ndev > 1 ? "s" : "", vm.pages, XFER);

	threads = calloc(opt.threads, sizeof(*threads));
	if (!threads) {
		step(-ENOMEM, "threads");
		goto out;
	}
	load.threads_left = opt.threads;
	for (i = 0; i < opt.threads; i++) {
		ret = pthread_create(&threads[i], NULL, dma_thread,
				     (void *)(uintptr_t)i);
		if (ret) {
			/* The ones that run still end, and say so. */
			__atomic_sub_fetch(&load.threads_left,
					   opt.threads - i, __ATOMIC_ACQ_REL);
			step(-ret, "start the DMA threads");
			break;
		}
		started++;
	}

	ret = started ? serve_faults(&ring, efd) : 0;
	step(ret, "serve the faults");
	if (ret) {
		/* Freeing the ring fails what waits: the threads end. */
		ioasid_fault_ring_free(&ring);
		have_ring = false;
	}
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);

	bytes = check_guest_memory(&bad);
	say("faults served: %llu (%llu pages mapped, %llu asked again, %llu refused)",
	    st.records, st.pages_mapped, st.again, st.refused);
	say("batches: %llu (%.2f records each, %u at most); eventfd wakeups: %llu",
	    st.batches, st.batches ? (double)st.records / st.batches : 0.0,
	    st.largest_batch, st.wakeups);
	say("responses per syscall: %.2f (%llu groups in %llu IOASID_PAGE_RESPONSE)",
	    st.respond_calls ? (double)st.groups / st.respond_calls : 0.0,
	    st.groups, st.respond_calls);
	say("invalidations: %llu (one per batch)",
	    st.invalidations);
	say("lost: %llu",
	    have_ring ? (unsigned long long)ioasid_fault_lost(&ring) : 0ULL);
	say("DMA bytes checked: %llu (%llu DMA writes, read back, found in guest RAM)",
	    bytes, load.dma_ok);

	check(load.dma_ok == vm.pages && !load.dma_failed,
	      "all %u DMA writes went through (%llu failed)", vm.pages,
	      load.dma_failed);
	check(!load.readback_bad, "every DMA read back its bytes (%llu wrong)",
	      load.readback_bad);
	check(!bad && bytes == (unsigned long long)vm.pages * XFER,
	      "every page holds its DMA's bytes (%u wrong)", bad);
	check(st.pages_mapped == vm.pages && !st.refused,
	      "every page was faulted in once, by a request of its own");
	check(st.groups == st.group_ends && st.groups >= vm.pages,
	      "every group was answered, once");
	check(have_ring && !ioasid_fault_lost(&ring), "no record was lost");
	if (have_ring)
		check(!ioasid_fault_ring_free(&ring), "free the ring");
out:
	free(threads);
	if (efd >= 0)
		close(efd);
	if (load.stop_efd >= 0)
		close(load.stop_efd);
	for (i = 0; i < MAX_DEVS; i++)
		if (vm.vfd[i] >= 0)
			close(vm.vfd[i]);
	if (vm.fd >= 0)
		close(vm.fd);
	if (opt.tap)
		printf("1..%u\n", ntap);
	say("%s", nfailed ? "FAIL" : "PASS");
	return nfailed ? 1 : 0;
}
