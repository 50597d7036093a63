// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioasid-bench: how fast memory gets in and out of an I/O address space.
 *
 * Runs inside the VM for `make bench`, on the non-debug kernel. For each
 * backend and each kind of memory it maps 1 GiB and unmaps it again,
 * several times, and reports GiB/s of map+unmap. Human-readable lines go
 * to stdout; one JSON object per result goes to the file named by -o, for
 * the host to collect.
 *
 * A backend is one way of getting memory into an IOMMU: today /dev/ioasid
 * with a device behind the mock IOMMU attached, so that every map really
 * reaches IOMMU page tables. Other uAPIs (iommufd, VFIO type1) plug in as
 * further backends of the same loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/ioasid.h>

#include "../../drivers/iommu/ioasid/ioasid_test.h"

#define GIB 0x40000000UL
#define SZ_2M (2UL << 20)
#define IOVA_BASE 0x100000000UL
#define ROUNDS 3
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct backend {
	const char *name;
	int (*setup)(struct backend *be);
	int (*register_memory)(struct backend *be, void *buf, size_t len);
	int (*unregister_memory)(struct backend *be, void *buf, size_t len);
	int (*map)(struct backend *be, void *buf, uint64_t iova, size_t len);
	int (*unmap)(struct backend *be, uint64_t iova, size_t len);
	void (*teardown)(struct backend *be);
	int fd;
	__u32 ioasid;
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int ioasid_be_setup(struct backend *be)
{
	struct ioasid_cmd_alloc alloc = { .size = sizeof(alloc) };
	struct ioasid_cmd_test dev = {
		.size = sizeof(dev),
		.op = IOASID_TEST_OP_MOCK_DEVICE_ADD,
		.mock_device_add.instance = IOASID_MOCK_INSTANCE_LARGE,
	};
	struct ioasid_cmd_test attach = {
		.size = sizeof(attach),
		.op = IOASID_TEST_OP_ATTACH,
	};
	int ret;

	be->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (be->fd < 0)
		return -errno;
	ret = xioctl(be->fd, IOASID_ALLOC, &alloc);
	if (ret)
		return ret;
	be->ioasid = alloc.out_ioasid;
	ret = xioctl(be->fd, IOASID_TEST, &dev);
	if (ret)
		return ret;
	attach.dev_id = dev.mock_device_add.out_dev_id;
	attach.attach.ioasid = be->ioasid;
	return xioctl(be->fd, IOASID_TEST, &attach);
}

static int ioasid_be_register(struct backend *be, void *buf, size_t len,
			      unsigned long req)
{
	struct ioasid_cmd_register_memory cmd = {
		.size = sizeof(cmd),
		.vaddr = (uintptr_t)buf,
		.length = len,
	};

	return xioctl(be->fd, req, &cmd);
}

static int ioasid_be_register_memory(struct backend *be, void *buf,
				     size_t len)
{
	return ioasid_be_register(be, buf, len, IOASID_REGISTER_MEMORY);
}

static int ioasid_be_unregister_memory(struct backend *be, void *buf,
				       size_t len)
{
	return ioasid_be_register(be, buf, len, IOASID_UNREGISTER_MEMORY);
}

static int ioasid_be_map(struct backend *be, void *buf, uint64_t iova,
			 size_t len)
{
	struct ioasid_cmd_dma_map cmd = {
		.size = sizeof(cmd),
		.flags = IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE,
		.ioasid = be->ioasid,
		.vaddr = (uintptr_t)buf,
		.iova = iova,
		.length = len,
	};

	return xioctl(be->fd, IOASID_DMA_MAP, &cmd);
}

static int ioasid_be_unmap(struct backend *be, uint64_t iova, size_t len)
{
	struct ioasid_cmd_dma_unmap cmd = {
		.size = sizeof(cmd),
		.ioasid = be->ioasid,
		.iova = iova,
		.length = len,
	};
	int ret = xioctl(be->fd, IOASID_DMA_UNMAP, &cmd);

	if (!ret && cmd.out_unmapped != len)
		return -EIO;
	return ret;
}

static void ioasid_be_teardown(struct backend *be)
{
	close(be->fd);
}

static struct backend backends[] = {
	{
		.name = "ioasid",
		.setup = ioasid_be_setup,
		.register_memory = ioasid_be_register_memory,
		.unregister_memory = ioasid_be_unregister_memory,
		.map = ioasid_be_map,
		.unmap = ioasid_be_unmap,
		.teardown = ioasid_be_teardown,
	},
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 1 GiB of anonymous memory, 2M aligned, touched, THP or not. */
static void *alloc_memory(bool thp)
{
	size_t len = GIB + SZ_2M;
	char *raw, *buf;

	raw = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	buf = (char *)(((uintptr_t)raw + SZ_2M - 1) & ~(SZ_2M - 1));
	madvise(buf, GIB, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(buf, 1, GIB);
	return buf;
}

static long anon_huge_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Best map+unmap seconds per backend, [thp][registered]. */
static double best_s[ARRAY_SIZE(backends)][2][2];

static int run(struct backend *be, const char *memory, bool thp,
	       bool registered, FILE *json, double *best_out)
{
	double best = 0, total = 0, reg_time = 0, t0, t1, t2;
	void *buf = alloc_memory(thp);
	long huge_kb = anon_huge_kb();
	int round, ret = 0;

	if (!buf)
		return -ENOMEM;
	if (thp && huge_kb < (long)(GIB >> 10) / 2)
		printf("  note: only %ld kB of THP backs the buffer\n", huge_kb);
	if (registered) {
		t0 = now();
		ret = be->register_memory(be, buf, GIB);
		reg_time = now() - t0;
		if (ret)
			goto out;
	}
	for (round = 0; round != ROUNDS; round++) {
		t0 = now();
		ret = be->map(be, buf, IOVA_BASE, GIB);
		if (ret)
			goto out_unregister;
		t1 = now();
		ret = be->unmap(be, IOVA_BASE, GIB);
		if (ret)
			goto out_unregister;
		t2 = now();
		total += t2 - t0;
		if (!best || t2 - t0 < best)
			best = t2 - t0;
		printf("  %-8s %-4s %-12s round %d: map %.3f s, unmap %.3f s\n",
		       be->name, memory, registered ? "registered" : "unregistered",
		       round, t1 - t0, t2 - t1);
	}
	printf("%-8s %-4s %-12s map+unmap 1 GiB: best %.2f GiB/s, mean %.2f GiB/s%s\n",
	       be->name, memory, registered ? "registered" : "unregistered",
	       1 / best, ROUNDS / total,
	       registered ? "" : " (pins on every map)");
	if (registered)
		printf("%-8s %-4s register 1 GiB once: %.3f s\n", be->name,
		       memory, reg_time);
	fprintf(json, "{\"backend\":\"%s\",\"memory\":\"%s\",", be->name,
		memory);
	fprintf(json, "\"registered\":%s,\"bytes\":%lu,\"rounds\":%d,",
		registered ? "true" : "false", GIB, ROUNDS);
	fprintf(json, "\"best_s\":%.6f,\"mean_s\":%.6f,\"best_gib_s\":%.4f,",
		best, total / ROUNDS, 1 / best);
	fprintf(json, "\"register_s\":%.6f,\"thp_kb\":%ld}\n", reg_time,
		huge_kb);
	fflush(json);
	*best_out = best;
out_unregister:
	if (registered && be->unregister_memory(be, buf, GIB) && !ret)
		ret = -EIO;
out:
	munmap((char *)buf, GIB);
	return ret;
}

int main(int argc, char **argv)
{
	const char *out = argc > 2 && !strcmp(argv[1], "-o") ? argv[2] :
			  "/dev/null";
	FILE *json = fopen(out, "w");
	unsigned int i;
	int ret = 0;

	if (!json) {
		perror(out);
		return 1;
	}
	for (i = 0; i != ARRAY_SIZE(backends); i++) {
		struct backend *be = &backends[i];
		int k;

		ret = be->setup(be);
		if (ret) {
			printf("%s: setup failed: %s\n", be->name,
			       strerror(-ret));
			return 1;
		}
		for (k = 0; k != 4; k++) {
			bool thp = k & 1, registered = k & 2;

			ret = run(be, thp ? "thp" : "4k", thp, registered,
				  json, &best_s[i][thp][registered]);
			if (ret) {
				printf("%s: %s failed: %s\n", be->name,
				       thp ? "thp" : "4k", strerror(-ret));
				return 1;
			}
		}
		be->teardown(be);
	}

	printf("\nratios (best map+unmap time, higher is faster):\n");
	for (i = 0; i != ARRAY_SIZE(backends); i++) {
		double (*b)[2] = best_s[i];

		printf("  %-8s registered vs unregistered: 4k %.2fx, thp %.2fx\n",
		       backends[i].name, b[0][0] / b[0][1], b[1][0] / b[1][1]);
		printf("  %-8s thp vs 4k: unregistered %.2fx, registered %.2fx\n",
		       backends[i].name, b[0][0] / b[1][0], b[0][1] / b[1][1]);
	}
	fclose(json);
	return 0;
}
