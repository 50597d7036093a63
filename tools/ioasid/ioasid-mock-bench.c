// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioasid-mock-bench: what only mock IOMMUs can measure, ours against
 * iommufd's, each on its own mock IOMMU, in one VM run of the perf-mock
 * kernel (configs/perf-mock.config): I/O page fault round trips, and
 * dirty bitmap reads.
 *
 * Page faults. The same shape of work on both sides, one fault at a time
 * and then in batches:
 *   - a mock device raises a page request of one page, through its
 *     kernel's test ioctl (ours: IOASID_TEST_OP_PAGE_REQUEST; iommufd:
 *     IOMMU_TEST_OP_TRIGGER_IOPF), which the iommu core hands to the
 *     handler of the domain the device is attached to;
 *   - the VMM takes the records (ours: from the mapped ring, no system
 *     call; iommufd: read() of the fault fd) and answers every group
 *     (ours: one IOASID_PAGE_RESPONSE; iommufd: write() of the fault fd),
 *     and the answers go back to the device through the core.
 * Each device is attached to a nested domain whose faults are the
 * user's (ours: a hardware-nested IOASID with an empty first stage bound
 * and a ring; iommufd: a nested HWPT on a nest-parent one, with a fault
 * object), so both cores route the fault the same way. Our mock counts
 * the answers it receives and the benchmark checks the count; iommufd's
 * mock ignores them, so there a full write() is what is checked.
 * It times the whole round trip, and apart from it the VMM's part alone
 * (taking the records and answering them), and counts the system calls
 * each side makes per fault. Then, ours alone, the round trip of a real
 * device DMA: a mock device reads through a guest first stage that maps
 * nothing, asks for the page (PRI), waits; the VMM, woken by the ring's
 * eventfd, answers; the device's DMA ends. iommufd's mock has no DMA
 * that waits for a page.
 *
 * Dirty bitmaps: see dirty_bench().
 *
 * Every cell is the median of its rounds, the backends taking turns;
 * ratios are ours over theirs in speed, each the median of the rounds'
 * ratios. With -o FILE, each result as a JSON object on a line. It ends
 * with the lines "fault round trips vs iommufd: R" (one fault at a time)
 * and "dirty bitmap read vs iommufd: R" (50% dirty).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/iommufd.h>

#include <libioasid.h>
/* The two kernels' test ioctls: not uAPI, so from the kernel tree. */
#include "ioasid_test.h"
#include "iommufd_test.h"

#define ROUNDS		9
#define NULL_CALLS	8192		/* per null-ioctl round */
#define FAULTS		8192		/* per cell and round */
#define DMA_FAULTS	2048		/* device-DMA round trips per round */
#define MAX_BATCH	64
#define RING_ENTRIES	256
#define FAULT_IOVA	0x100000000ULL
#define ROOT_GPA	0x40000000ULL
#define PAGE		4096UL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* One at a time first: the headline, and the 2x budget, are batches[0]. */
static const unsigned int batches[] = { 1, 16, MAX_BATCH };
#define NR_BATCHES	ARRAY_SIZE(batches)

static FILE *json;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "mock-bench: %s: %s\n", what, strerror(err));
	exit(1);
}

/* What one measurement gives: seconds for the round trips, and the VMM's. */
struct sample {
	double total;
	double serve;
	unsigned long syscalls;
};

/* Ours: a mock device on a plain IOASID whose faults go to a ring. */
struct ours {
	int fd;
	int efd;
	void *ram;			/* the first stage's root */
	__u32 parent;
	__u32 ioasid;			/* hardware-nested on @parent */
	__u32 dev;
	struct ioasid_fault_ring ring;
	__u64 answers;
};

static int ours_test(int fd, struct ioasid_cmd_test *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(fd, IOASID_TEST, cmd) ? -errno : 0;
}

static int ours_device(int fd, __u32 *dev)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_MOCK_DEVICE_ADD,
		.mock_device_add.instance = IOASID_MOCK_INSTANCE_LARGE,
	};
	int ret = ours_test(fd, &cmd);

	*dev = cmd.mock_device_add.out_dev_id;
	return ret;
}

static int ours_attach(int fd, __u32 dev, __u32 ioasid)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_ATTACH,
		.dev_id = dev,
		.attach.ioasid = ioasid,
	};

	return ours_test(fd, &cmd);
}

static __u64 ours_answers(int fd, __u32 dev)
{
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_DEVICE_INFO,
		.dev_id = dev,
	};

	if (ours_test(fd, &cmd))
		die("device info", errno);
	return cmd.device_info.out_unwaited_answers;
}

/*
 * A hardware-nested IOASID with an empty first stage bound: its root, one
 * zeroed page of guest RAM, maps nothing, so every DMA through it faults.
 */
static void ours_open(struct ours *o)
{
	int ret;

	o->fd = ioasid_open();
	if (o->fd < 0)
		die("open /dev/ioasid", -o->fd);
	o->efd = eventfd(0, EFD_CLOEXEC);
	if (o->efd < 0)
		die("eventfd", errno);
	o->ram = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (o->ram == MAP_FAILED)
		die("mmap", errno);
	ret = ioasid_alloc(o->fd, &o->parent);
	if (!ret)
		ret = ioasid_dma_map(o->fd, o->parent, o->ram, ROOT_GPA, PAGE,
				     IOASID_DMA_MAP_READ |
				     IOASID_DMA_MAP_WRITE);
	if (!ret)
		ret = ioasid_create_nesting(o->fd, o->parent,
					    IOASID_NESTING_HARDWARE,
					    &o->ioasid);
	if (!ret)
		ret = ours_device(o->fd, &o->dev);
	if (!ret)
		ret = ours_attach(o->fd, o->dev, o->ioasid);
	if (!ret)
		ret = ioasid_bind_pgtable_vtd_s1(o->fd, o->ioasid, ROOT_GPA, 48,
						 0);
	if (!ret)
		ret = ioasid_fault_ring_setup(o->fd, RING_ENTRIES, o->efd,
					      &o->ioasid, 1, &o->ring);
	if (ret)
		die("set up our nested mock device and its ring", -ret);
}

static void ours_close(struct ours *o)
{
	ioasid_fault_ring_free(&o->ring);
	close(o->efd);
	close(o->fd);
	munmap(o->ram, PAGE);
}

static struct sample ours_run(struct ours *o, unsigned int batch)
{
	struct ioasid_cmd_test req = {
		.op = IOASID_TEST_OP_PAGE_REQUEST,
		.dev_id = o->dev,
		.page_request = { .num = 1, .flags = IOASID_TEST_DMA_WRITE },
	};
	const struct ioasid_fault_record *recs[MAX_BATCH];
	struct ioasid_page_response resp[MAX_BATCH];
	struct sample s = {};
	unsigned int done, i, answered;
	double t0, t1;
	int n, ret;

	t0 = now();
	for (done = 0; done < FAULTS; done += batch) {
		for (i = 0; i != batch; i++) {
			req.page_request.iova = FAULT_IOVA + i * PAGE;
			ret = ours_test(o->fd, &req);
			if (ret)
				die("our page request", -ret);
		}
		t1 = now();
		n = ioasid_fault_peek_batch(&o->ring, recs, batch);
		if (n != (int)batch)
			die("our ring: records missing", EPROTO);
		for (i = 0; i != batch; i++) {
			if (recs[i]->addr != FAULT_IOVA + i * PAGE ||
			    !(recs[i]->flags & IOASID_FAULT_LAST_IN_GROUP))
				die("our ring: wrong record", EPROTO);
			resp[i] = (struct ioasid_page_response){
				.cookie = recs[i]->cookie,
				.code = IOASID_PAGE_RESP_SUCCESS,
			};
		}
		ioasid_fault_advance(&o->ring, batch);
		ret = ioasid_page_respond(&o->ring, resp, batch, &answered);
		if (ret || answered != batch)
			die("our page response", ret ? -ret : EPROTO);
		s.serve += now() - t1;
		s.syscalls += batch + 1;
	}
	s.total = now() - t0;
	o->answers += done;
	if (ioasid_fault_lost(&o->ring) || ours_answers(o->fd, o->dev) !=
	    o->answers)
		die("our device did not get every answer", EPROTO);
	return s;
}

/* iommufd: its mock device on a paging HWPT with a fault object. */
struct theirs {
	int fd;
	int fault_fd;
	__u32 idev;
};

static int theirs_test(int fd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(fd, IOMMU_TEST_CMD, cmd) ? -errno : 0;
}

static void theirs_open(struct theirs *t)
{
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_fault_alloc fault = { .size = sizeof(fault) };
	struct iommu_test_cmd mock = { .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	struct iommu_test_cmd replace = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
	};
	struct iommu_hwpt_alloc parent = {
		.size = sizeof(parent),
		.flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
	};
	struct iommu_hwpt_selftest data = {
		.iotlb = IOMMU_TEST_IOTLB_DEFAULT,
	};
	struct iommu_hwpt_alloc hwpt = {
		.size = sizeof(hwpt),
		.flags = IOMMU_HWPT_FAULT_ID_VALID,
		.data_type = IOMMU_HWPT_DATA_SELFTEST,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};

	t->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (t->fd < 0)
		die("open /dev/iommu", errno);
	if (ioctl(t->fd, IOMMU_IOAS_ALLOC, &ioas))
		die("IOMMU_IOAS_ALLOC", errno);
	mock.id = ioas.out_ioas_id;
	if (theirs_test(t->fd, &mock))
		die("IOMMU_TEST_OP_MOCK_DOMAIN", errno);
	t->idev = mock.mock_domain.out_idev_id;
	if (ioctl(t->fd, IOMMU_FAULT_QUEUE_ALLOC, &fault))
		die("IOMMU_FAULT_QUEUE_ALLOC", errno);
	t->fault_fd = fault.out_fault_fd;
	parent.dev_id = t->idev;
	parent.pt_id = ioas.out_ioas_id;
	if (ioctl(t->fd, IOMMU_HWPT_ALLOC, &parent))
		die("IOMMU_HWPT_ALLOC of a nest parent", errno);
	hwpt.dev_id = t->idev;
	hwpt.pt_id = parent.out_hwpt_id;
	hwpt.fault_id = fault.out_fault_id;
	if (ioctl(t->fd, IOMMU_HWPT_ALLOC, &hwpt))
		die("IOMMU_HWPT_ALLOC of a nested HWPT with a fault", errno);
	replace.id = mock.mock_domain.out_stdev_id;
	replace.mock_domain_replace.pt_id = hwpt.out_hwpt_id;
	if (theirs_test(t->fd, &replace))
		die("IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE", errno);
}

static void theirs_close(struct theirs *t)
{
	close(t->fault_fd);
	close(t->fd);
}

static struct sample theirs_run(struct theirs *t, unsigned int batch)
{
	struct iommu_test_cmd req = {
		.op = IOMMU_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = {
			.dev_id = t->idev,
			.perm = IOMMU_PGFAULT_PERM_WRITE,
		},
	};
	struct iommu_hwpt_pgfault recs[MAX_BATCH];
	struct iommu_hwpt_page_response resp[MAX_BATCH];
	struct sample s = {};
	unsigned int done, i;
	double t0, t1;
	ssize_t len;

	t0 = now();
	for (done = 0; done < FAULTS; done += batch) {
		for (i = 0; i != batch; i++) {
			req.trigger_iopf.grpid = i;
			req.trigger_iopf.addr = FAULT_IOVA + i * PAGE;
			if (theirs_test(t->fd, &req))
				die("iommufd page request", errno);
		}
		t1 = now();
		len = read(t->fault_fd, recs, batch * sizeof(recs[0]));
		if (len != (ssize_t)(batch * sizeof(recs[0])))
			die("iommufd fault fd: records missing",
			    len < 0 ? errno : EPROTO);
		for (i = 0; i != batch; i++) {
			if (recs[i].addr != FAULT_IOVA + i * PAGE)
				die("iommufd fault fd: wrong record", EPROTO);
			resp[i] = (struct iommu_hwpt_page_response){
				.cookie = recs[i].cookie,
				.code = IOMMUFD_PAGE_RESP_SUCCESS,
			};
		}
		len = write(t->fault_fd, resp, batch * sizeof(resp[0]));
		if (len != (ssize_t)(batch * sizeof(resp[0])))
			die("iommufd page response", len < 0 ? errno : EPROTO);
		s.serve += now() - t1;
		s.syscalls += batch + 2;
	}
	s.total = now() - t0;
	return s;
}

/*
 * What a system call costs before it does any work: @request, an ioctl
 * that only reads a value, on each side's fd, in microseconds. Under TCG
 * this floor is most of a one-fault round trip, so it says how far apart
 * two designs can be when one makes fewer calls than the other.
 */
static double null_call_us(int fd, unsigned long request, void *cmd,
			   const char *what)
{
	double t0 = now();
	unsigned int i;

	for (i = 0; i != NULL_CALLS; i++)
		if (ioctl(fd, request, cmd))
			die(what, errno);
	return (now() - t0) * 1e6 / NULL_CALLS;
}

/*
 * Ours alone: a device DMA that waits for its page. The guest's first
 * stage maps nothing, so each read asks for its page; the VMM answers
 * INVALID (the guest has no such page) and the DMA ends with EIO: one
 * whole trip, device to VMM and back, per DMA.
 */
struct dma_bench {
	struct ours *o;
	pthread_t device;
	unsigned int bad;
};

#define DMA_GIOVA	0x7f0000000000ULL

static void *dma_device_fn(void *arg)
{
	struct dma_bench *d = arg;
	__u8 buf[64];
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_DMA,
		.dev_id = d->o->dev,
		.dma = {
			.iova = DMA_GIOVA,
			.uptr = (uintptr_t)buf,
			.length = sizeof(buf),
			.flags = IOASID_TEST_DMA_PRI,
		},
	};
	unsigned int i;

	for (i = 0; i != DMA_FAULTS; i++)
		if (ours_test(d->o->fd, &cmd) != -EIO)
			d->bad++;
	return NULL;
}

/* The VMM's loop: wait on the eventfd, drain, answer all at once. */
static struct sample dma_run(struct dma_bench *d)
{
	const struct ioasid_fault_record *recs[MAX_BATCH];
	struct ioasid_page_response resp[MAX_BATCH];
	struct sample s = {};
	unsigned int served = 0, answered;
	__u64 count;
	double t0;
	int i, n, ret;

	d->bad = 0;
	t0 = now();
	if (pthread_create(&d->device, NULL, dma_device_fn, d))
		die("pthread_create", errno);
	while (served < DMA_FAULTS) {
		if (read(d->o->efd, &count, sizeof(count)) < 0)
			die("eventfd read", errno);
		s.syscalls++;
		while ((n = ioasid_fault_peek_batch(&d->o->ring, recs,
						    MAX_BATCH)) > 0) {
			for (i = 0; i != n; i++)
				resp[i] = (struct ioasid_page_response){
					.cookie = recs[i]->cookie,
					.code = IOASID_PAGE_RESP_INVALID,
				};
			ioasid_fault_advance(&d->o->ring, n);
			ret = ioasid_page_respond(&d->o->ring, resp, n,
						  &answered);
			if (ret || answered != (unsigned int)n)
				die("page response", ret ? -ret : EPROTO);
			s.syscalls++;
			served += n;
		}
	}
	pthread_join(d->device, NULL);
	s.total = now() - t0;
	/* The device's own system calls: one DMA each. */
	s.syscalls += DMA_FAULTS;
	if (d->bad || ioasid_fault_lost(&d->o->ring))
		die("a DMA did not end as answered", EPROTO);
	return s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void json_dirty(const char *backend, unsigned int percent,
		       double seconds)
{
	if (!json)
		return;
	fprintf(json, "{\"bench\": \"dirty_bitmap\", \"backend\": \"%s\", ",
		backend);
	fprintf(json, "\"dirty_percent\": %u, \"gib\": 1, \"page_size\": 4096, ",
		percent);
	fprintf(json, "\"ms_per_read\": %.3f}\n", seconds * 1e3);
}

static void json_row(const char *backend, const char *what,
		     unsigned int batch, double rate, double serve_us,
		     double syscalls)
{
	if (!json)
		return;
	fprintf(json, "{\"bench\": \"faults\", \"backend\": \"%s\", ",
		backend);
	fprintf(json, "\"workload\": \"%s\", \"batch\": %u, ", what, batch);
	fprintf(json, "\"faults_per_s\": %.0f, \"serve_us_per_fault\": %.3f, ",
		rate, serve_us);
	fprintf(json, "\"syscalls_per_fault\": %.3f}\n", syscalls);
}

static void fault_bench(void)
{
	double rate[2][NR_BATCHES][ROUNDS], serve[2][NR_BATCHES][ROUNDS];
	double ratio[NR_BATCHES][ROUNDS], vratio[NR_BATCHES][ROUNDS];
	double inject[2][NR_BATCHES][ROUNDS], bound[NR_BATCHES][ROUNDS];
	double sys[2][NR_BATCHES], dma_rate[ROUNDS], null_call[2][ROUNDS];
	double headline = 0, dma_sys = 0, trip;
	struct ioasid_cmd_get_api_version version = { .size = sizeof(version) };
	struct iommu_option option = {
		.size = sizeof(option),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_GET,
	};
	struct theirs t;
	struct ours o = {};
	struct dma_bench d = { .o = &o };
	unsigned int r, b;

	ours_open(&o);
	theirs_open(&t);
	/* One round to warm up, not counted. */
	for (b = 0; b != NR_BATCHES; b++) {
		ours_run(&o, batches[b]);
		theirs_run(&t, batches[b]);
	}
	for (r = 0; r != ROUNDS; r++) {
		for (b = 0; b != NR_BATCHES; b++) {
			struct sample so, st;

			/* Take turns at going first. */
			if (r % 2) {
				st = theirs_run(&t, batches[b]);
				so = ours_run(&o, batches[b]);
			} else {
				so = ours_run(&o, batches[b]);
				st = theirs_run(&t, batches[b]);
			}
			rate[0][b][r] = FAULTS / so.total;
			rate[1][b][r] = FAULTS / st.total;
			serve[0][b][r] = so.serve * 1e6 / FAULTS;
			serve[1][b][r] = st.serve * 1e6 / FAULTS;
			ratio[b][r] = st.total / so.total;
			vratio[b][r] = st.serve / so.serve;
			inject[0][b][r] = (so.total - so.serve) * 1e6 / FAULTS;
			inject[1][b][r] = (st.total - st.serve) * 1e6 / FAULTS;
			/* Were taking and answering free, on our side only */
			bound[b][r] = st.total / (so.total - so.serve);
			sys[0][b] = (double)so.syscalls / FAULTS;
			sys[1][b] = (double)st.syscalls / FAULTS;
		}
		null_call[0][r] = null_call_us(o.fd, IOASID_GET_API_VERSION,
					       &version, "IOASID_GET_API_VERSION");
		null_call[1][r] = null_call_us(t.fd, IOMMU_OPTION, &option,
					       "IOMMU_OPTION");
	}
	theirs_close(&t);

	dma_run(&d);
	for (r = 0; r != ROUNDS; r++) {
		struct sample s = dma_run(&d);

		dma_rate[r] = DMA_FAULTS / s.total;
		dma_sys = (double)s.syscalls / DMA_FAULTS;
	}
	ours_close(&o);

	printf("I/O page fault round trips: a mock device's page request,\n");
	printf("taken and answered by the VMM; median of %d rounds of %d faults\n",
	       ROUNDS, FAULTS);
	printf("VMM = taking the records and answering them\n\n");
	printf("%-7s %-8s %12s %12s %14s %12s %12s\n", "batch", "backend",
	       "faults/s", "VMM us/flt", "syscalls/flt", "trip ratio",
	       "VMM ratio");
	for (b = 0; b != NR_BATCHES; b++) {
		double ro = median(rate[0][b], ROUNDS);
		double rt = median(rate[1][b], ROUNDS);
		double vo = median(serve[0][b], ROUNDS);
		double vt = median(serve[1][b], ROUNDS);
		double tr = median(ratio[b], ROUNDS);
		double vr = median(vratio[b], ROUNDS);

		printf("%-7u %-8s %12.0f %12.2f %14.3f %11.2fx %11.2fx\n",
		       batches[b], "ours", ro, vo, sys[0][b], tr, vr);
		printf("%-7u %-8s %12.0f %12.2f %14.3f\n", batches[b],
		       "iommufd", rt, vt, sys[1][b]);
		json_row("ours", "page_request", batches[b], ro, vo, sys[0][b]);
		json_row("iommufd", "page_request", batches[b], rt, vt,
			 sys[1][b]);
		if (batches[b] == 1)
			headline = tr;
	}
	printf("\nours, device DMA that waits for its page (PRI), VMM woken by the eventfd:\n");
	printf("  %.0f round trips/s, %.1f us each, %.2f syscalls each (device and VMM)\n",
	       median(dma_rate, ROUNDS), 1e6 / median(dma_rate, ROUNDS),
	       dma_sys);
	json_row("ours", "pri_dma", 1, median(dma_rate, ROUNDS), 0, dma_sys);
	/*
	 * Both sides pay for the injection (the test ioctl, the mock, the
	 * iommu core) on every fault: it caps the ratio whatever the VMM's
	 * side costs.
	 */
	printf("\ninjection (test ioctl, mock, iommu core, handler) per fault,\n");
	printf("and the trip ratio if taking and answering cost us nothing:\n");
	for (b = 0; b != NR_BATCHES; b++)
		printf("  batch %-3u ours %6.2f us, iommufd %6.2f us; ratio at most %.2fx\n",
		       batches[b], median(inject[0][b], ROUNDS),
		       median(inject[1][b], ROUNDS), median(bound[b], ROUNDS));
	printf("a null ioctl: ours %.2f us, iommufd %.2f us\n",
	       median(null_call[0], ROUNDS), median(null_call[1], ROUNDS));
	/*
	 * What 2x one fault at a time leaves us: half of iommufd's trip,
	 * less our injection, to take the record and answer it, which
	 * costs at least one system call.
	 */
	trip = 1e6 / median(rate[1][0], ROUNDS);
	printf("2x at batch 1 needs our trip within %.2f us (iommufd's: %.2f us):\n",
	       trip / 2, trip);
	printf("  our injection takes %.2f us, which leaves %.2f us to take and\n",
	       median(inject[0][0], ROUNDS),
	       trip / 2 - median(inject[0][0], ROUNDS));
	printf("  answer; we take %.2f us, of which one null ioctl is %.2f us\n",
	       median(serve[0][0], ROUNDS), median(null_call[0], ROUNDS));
	for (b = 0; b != NR_BATCHES; b++)
		printf("fault round trips vs iommufd, batch %u: %.2fx\n",
		       batches[b], median(ratio[b], ROUNDS));
	printf("fault round trips vs iommufd: %.2fx\n", headline);
}

/*
 * Dirty bitmaps: 1 GiB of 4 KiB pages mapped for a device whose IOMMU
 * tracks, 1% or 50% of its pages dirty, read back at 4 KiB with the
 * records cleared. Ours: the pages are dirtied by the mock device's DMA
 * (one byte each, IOASID_TEST_OP_DMA_BATCH), the read is
 * IOASID_GET_DIRTY_BITMAP, which zeroes the bitmap itself and counts the
 * bits. iommufd: its mock marks the pages (IOMMU_TEST_OP_DIRTY), and the
 * read is IOMMU_HWPT_GET_DIRTY_BITMAP into a bitmap the caller zeroed
 * first, which is timed with it. Dirtying is not timed on either side.
 */
#define DIRTY_SIZE	(1024UL * 1024 * 1024)
#define DIRTY_PAGES	(DIRTY_SIZE / PAGE)
#define DIRTY_IOVA	0x40000000ULL
#define DIRTY_ROUNDS	5

static const unsigned int dirty_percents[] = { 1, 50 };

/* The same pseudo-random pages on both sides: @percent of them. */
static void dirty_pick(unsigned int percent, __u64 *bitmap)
{
	__u64 x = 0x9e3779b97f4a7c15ULL;
	unsigned long p;

	memset(bitmap, 0, DIRTY_PAGES / 8);
	for (p = 0; p < DIRTY_PAGES; p++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		if ((x >> 33) % 100 < percent)
			bitmap[p / 64] |= 1ULL << (p % 64);
	}
}

struct ours_dirty {
	int fd;
	__u32 ioasid;
	__u32 dev;
	struct ioasid_test_dma_req *reqs;
};

static void ours_dirty_open(struct ours_dirty *od, void *mem)
{
	int ret;

	od->fd = ioasid_open();
	if (od->fd < 0)
		die("open /dev/ioasid", -od->fd);
	ret = ioasid_alloc(od->fd, &od->ioasid);
	ret = ret ?: ours_device(od->fd, &od->dev);
	ret = ret ?: ours_attach(od->fd, od->dev, od->ioasid);
	ret = ret ?: ioasid_dma_map(od->fd, od->ioasid, mem, DIRTY_IOVA,
				    DIRTY_SIZE, IOASID_DMA_MAP_READ |
				    IOASID_DMA_MAP_WRITE);
	ret = ret ?: ioasid_dirty_tracking_start(od->fd, od->ioasid, NULL);
	if (ret)
		die("set up our dirty tracking", -ret);
	od->reqs = calloc(IOASID_TEST_DMA_BATCH_MAX, sizeof(*od->reqs));
	if (!od->reqs)
		die("calloc", ENOMEM);
}

/* The device writes one byte into each page of @pick. */
static void ours_dirty_make(struct ours_dirty *od, const __u64 *pick)
{
	static __u8 byte = 0x5a;
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_DMA_BATCH,
		.dev_id = od->dev,
	};
	unsigned long p;
	unsigned int n = 0;
	int ret;

	for (p = 0; p <= DIRTY_PAGES; p++) {
		if (p < DIRTY_PAGES && (pick[p / 64] >> (p % 64) & 1)) {
			od->reqs[n++] = (struct ioasid_test_dma_req){
				.iova = DIRTY_IOVA + p * PAGE,
				.uptr = (uintptr_t)&byte,
				.length = 1,
				.flags = IOASID_TEST_DMA_WRITE,
			};
			if (n < IOASID_TEST_DMA_BATCH_MAX)
				continue;
		}
		if (!n)
			continue;
		cmd.dma_batch.uptr = (uintptr_t)od->reqs;
		cmd.dma_batch.num = n;
		ret = ours_test(od->fd, &cmd);
		if (ret || cmd.dma_batch.out_faults)
			die("our mock device's writes", ret ? -ret : EIO);
		n = 0;
	}
}

static double ours_dirty_read(struct ours_dirty *od, __u64 *bitmap,
			      __u64 *dirty)
{
	double t0 = now();
	int ret;

	ret = ioasid_get_dirty_bitmap(od->fd, od->ioasid, DIRTY_IOVA,
				      DIRTY_SIZE, PAGE, bitmap, 0, NULL, dirty);
	if (ret)
		die("IOASID_GET_DIRTY_BITMAP", -ret);
	return now() - t0;
}

struct theirs_dirty {
	int fd;
	__u32 hwpt;
};

static void theirs_dirty_open(struct theirs_dirty *td, void *mem)
{
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_test_cmd mock = { .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	struct iommu_test_cmd replace = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
	};
	struct iommu_hwpt_alloc hwpt = {
		.size = sizeof(hwpt),
		.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
	};
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)mem,
		.length = DIRTY_SIZE,
		.iova = DIRTY_IOVA,
	};
	struct iommu_hwpt_set_dirty_tracking track = {
		.size = sizeof(track),
		.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
	};

	td->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (td->fd < 0)
		die("open /dev/iommu", errno);
	if (ioctl(td->fd, IOMMU_IOAS_ALLOC, &ioas))
		die("IOMMU_IOAS_ALLOC", errno);
	/* Attached to a dirty-tracking HWPT before anything is mapped. */
	mock.id = ioas.out_ioas_id;
	if (theirs_test(td->fd, &mock))
		die("IOMMU_TEST_OP_MOCK_DOMAIN", errno);
	hwpt.dev_id = mock.mock_domain.out_idev_id;
	hwpt.pt_id = ioas.out_ioas_id;
	if (ioctl(td->fd, IOMMU_HWPT_ALLOC, &hwpt))
		die("IOMMU_HWPT_ALLOC with dirty tracking", errno);
	td->hwpt = hwpt.out_hwpt_id;
	replace.id = mock.mock_domain.out_stdev_id;
	replace.mock_domain_replace.pt_id = td->hwpt;
	if (theirs_test(td->fd, &replace))
		die("IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE", errno);
	map.ioas_id = ioas.out_ioas_id;
	if (ioctl(td->fd, IOMMU_IOAS_MAP, &map))
		die("IOMMU_IOAS_MAP", errno);
	track.hwpt_id = td->hwpt;
	if (ioctl(td->fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &track))
		die("IOMMU_HWPT_SET_DIRTY_TRACKING", errno);
}

/*
 * Its mock marks the first of the two 2 KiB units of each 4 KiB page
 * picked: the unit a one-byte write would dirty.
 */
static void theirs_dirty_make(struct theirs_dirty *td, const __u64 *pick,
			      __u64 *units)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DIRTY,
		.id = td->hwpt,
		.dirty = {
			.iova = DIRTY_IOVA,
			.length = DIRTY_SIZE,
			.page_size = PAGE / 2,
			.uptr = (uintptr_t)units,
		},
	};
	unsigned long p;

	memset(units, 0, DIRTY_PAGES / 4);
	for (p = 0; p < DIRTY_PAGES; p++)
		if (pick[p / 64] >> (p % 64) & 1)
			units[2 * p / 64] |= 1ULL << (2 * p % 64);
	if (theirs_test(td->fd, &cmd))
		die("IOMMU_TEST_OP_DIRTY", errno);
}

static double theirs_dirty_read(struct theirs_dirty *td, __u64 *bitmap)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.hwpt_id = td->hwpt,
		.iova = DIRTY_IOVA,
		.length = DIRTY_SIZE,
		.page_size = PAGE,
		.data = (uintptr_t)bitmap,
	};
	double t0 = now();

	memset(bitmap, 0, DIRTY_PAGES / 8);
	if (ioctl(td->fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd))
		die("IOMMU_HWPT_GET_DIRTY_BITMAP", errno);
	return now() - t0;
}

static unsigned long popcount(const __u64 *bitmap, unsigned long words)
{
	unsigned long i, n = 0;

	for (i = 0; i < words; i++)
		n += __builtin_popcountll(bitmap[i]);
	return n;
}

static void dirty_bench(void)
{
	double t_ours[DIRTY_ROUNDS], t_theirs[DIRTY_ROUNDS];
	double ratio[DIRTY_ROUNDS], headline = 0;
	__u64 *pick, *bitmap, *units, dirty = 0;
	struct theirs_dirty td;
	struct ours_dirty od;
	unsigned int i, r;
	void *mem;

	mem = mmap(NULL, DIRTY_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap 1 GiB", errno);
	/* 4 KiB pages on both sides: no THP to become large IOMMU pages. */
	madvise(mem, DIRTY_SIZE, MADV_NOHUGEPAGE);
	memset(mem, 0, DIRTY_SIZE);
	pick = malloc(DIRTY_PAGES / 8);
	bitmap = malloc(DIRTY_PAGES / 8);
	units = malloc(DIRTY_PAGES / 4);
	if (!pick || !bitmap || !units)
		die("malloc", ENOMEM);
	ours_dirty_open(&od, mem);
	theirs_dirty_open(&td, mem);

	printf("\ndirty bitmap of 1 GiB at 4 KiB (262144 bits), records cleared;\n");
	printf("median of %d rounds\n\n", DIRTY_ROUNDS);
	printf("%-7s %-8s %12s %12s %12s\n", "dirty", "backend", "ms/read",
	       "GiB/s", "ratio");
	for (i = 0; i != ARRAY_SIZE(dirty_percents); i++) {
		dirty_pick(dirty_percents[i], pick);
		for (r = 0; r != DIRTY_ROUNDS; r++) {
			ours_dirty_make(&od, pick);
			t_ours[r] = ours_dirty_read(&od, bitmap, &dirty);
			if (memcmp(bitmap, pick, DIRTY_PAGES / 8) ||
			    dirty != popcount(pick, DIRTY_PAGES / 64))
				die("our bitmap is not the pages written",
				    EPROTO);
			theirs_dirty_make(&td, pick, units);
			t_theirs[r] = theirs_dirty_read(&td, bitmap);
			if (memcmp(bitmap, pick, DIRTY_PAGES / 8))
				die("iommufd's bitmap is not the pages marked",
				    EPROTO);
			ratio[r] = t_theirs[r] / t_ours[r];
		}
		printf("%5u%%  %-8s %12.2f %12.1f %11.2fx\n",
		       dirty_percents[i], "ours",
		       median(t_ours, DIRTY_ROUNDS) * 1e3,
		       1 / median(t_ours, DIRTY_ROUNDS),
		       median(ratio, DIRTY_ROUNDS));
		printf("%5u%%  %-8s %12.2f %12.1f\n", dirty_percents[i],
		       "iommufd", median(t_theirs, DIRTY_ROUNDS) * 1e3,
		       1 / median(t_theirs, DIRTY_ROUNDS));
		json_dirty("ours", dirty_percents[i],
			   median(t_ours, DIRTY_ROUNDS));
		json_dirty("iommufd", dirty_percents[i],
			   median(t_theirs, DIRTY_ROUNDS));
		if (dirty_percents[i] == 50)
			headline = median(ratio, DIRTY_ROUNDS);
	}
	close(od.fd);
	close(td.fd);
	free(od.reqs);
	free(pick);
	free(bitmap);
	free(units);
	munmap(mem, DIRTY_SIZE);
	printf("dirty bitmap read vs iommufd: %.2fx\n", headline);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "-o")) {
		json = fopen(argv[2], "w");
		if (!json)
			die(argv[2], errno);
		setvbuf(json, NULL, _IOLBF, 0);
	}
	fault_bench();
	dirty_bench();
	printf("mock-bench: done\n");
	if (json)
		fclose(json);
	return 0;
}
