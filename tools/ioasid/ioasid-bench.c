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
 * with a VFIO device attached, so that every map really reaches IOMMU
 * page tables. Other uAPIs (iommufd, VFIO type1) plug in as further
 * backends of the same loop.
 *
 * Then it builds a guest vIOMMU's GIOVA space of N single-page mappings
 * both ways the RFC allows: 5.2, where the VMM turns each GPA into its
 * user address and maps that, and 5.3, where a child IOASID nested on the
 * GPA one takes the GPA as it is. It reports both times and their ratio.
 *
 * Only public uAPI is used, as a VMM would use it: the device is one of
 * the mock VFIO devices that CONFIG_IOASID_TEST_VFIO creates at boot
 * (platform devices ioasid-mock-vfio.N, each with a cdev in
 * /dev/vfio/devices), bound with VFIO_BIND_IOASID_FD and attached with
 * VFIO_ATTACH_IOASID. Of those, the first behind an IOMMU with 2M pages
 * is used, so that THP memory can be mapped with large IOMMU pages.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include <linux/vfio.h>

#define GIB 0x40000000UL
#define SZ_2M (2UL << 20)
#define IOVA_BASE 0x100000000UL
#define GIOVA_BASE 0x800000000UL
#define PAGE 4096UL
#define ROUNDS 3
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define MOCK_VFIO_DIR "/sys/bus/platform/devices"
#define MOCK_VFIO_PREFIX "ioasid-mock-vfio."
#define MAX_MOCK_VFIO 16

struct backend {
	const char *name;
	int (*setup)(struct backend *be);
	int (*register_memory)(struct backend *be, void *buf, size_t len);
	int (*unregister_memory)(struct backend *be, void *buf, size_t len);
	int (*map)(struct backend *be, void *buf, uint64_t iova, size_t len);
	int (*unmap)(struct backend *be, uint64_t iova, size_t len);
	void (*teardown)(struct backend *be);
	int fd;
	int dev_fd;
	__u32 ioasid;
	char device[64];	/* the device DMA goes through, for the report */
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

struct mock_vfio {
	unsigned int nr;
	char name[64];
};

static int cmp_mock_vfio(const void *a, const void *b)
{
	unsigned int x = ((const struct mock_vfio *)a)->nr;
	unsigned int y = ((const struct mock_vfio *)b)->nr;

	return x < y ? -1 : x > y;
}

/* The mock VFIO devices, ioasid-mock-vfio.N[.auto], in the order made. */
static int mock_vfio_devices(struct mock_vfio *devs, int max)
{
	DIR *dir = opendir(MOCK_VFIO_DIR);
	struct dirent *de;
	int n = 0;

	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < max) {
		struct mock_vfio *d = &devs[n];

		if (sscanf(de->d_name, MOCK_VFIO_PREFIX "%u", &d->nr) == 1 &&
		    snprintf(d->name, sizeof(d->name), "%s", de->d_name) <
		    (int)sizeof(d->name))
			n++;
	}
	closedir(dir);
	qsort(devs, n, sizeof(*devs), cmp_mock_vfio);
	return n;
}

/* The /dev/vfio/devices/vfioN of a device, from its sysfs vfio-dev. */
static int vfio_cdev(const char *name, char *cdev, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), MOCK_VFIO_DIR "/%s/vfio-dev", name);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4))
			break;
	if (de)
		snprintf(cdev, len, "/dev/vfio/devices/%s", de->d_name);
	closedir(dir);
	return de ? 0 : -ENODEV;
}

static void print_pgsizes(__u64 bitmap)
{
	static const char unit[] = "KMGTPE";
	int bit;

	for (bit = 10; bit != 64; bit++)
		if (bitmap & (1ULL << bit))
			printf(" %llu%c", 1ULL << (bit % 10), unit[bit / 10 - 1]);
	printf("\n");
}

/*
 * Bind @name's cdev to the ioasid fd and attach it to the IOASID, as a
 * VMM would; keep it if the IOASID then offers 2M pages.
 */
static int ioasid_be_use_device(struct backend *be, const char *name)
{
	struct vfio_device_bind_ioasid_fd bind = {
		.argsz = sizeof(bind),
		.ioasid_fd = be->fd,
	};
	struct vfio_device_attach_ioasid attach = {
		.argsz = sizeof(attach),
		.ioasid = be->ioasid,
	};
	struct ioasid_cmd_get_info info = {
		.size = sizeof(info),
		.ioasid = be->ioasid,
	};
	char cdev[PATH_MAX];
	const char *step;
	int ret;

	step = "no VFIO cdev";
	ret = vfio_cdev(name, cdev, sizeof(cdev));
	if (ret)
		goto out;
	step = cdev;
	be->dev_fd = open(cdev, O_RDWR | O_CLOEXEC);
	if (be->dev_fd < 0) {
		ret = -errno;
		goto out;
	}
	step = "VFIO_BIND_IOASID_FD";
	ret = xioctl(be->dev_fd, VFIO_BIND_IOASID_FD, &bind);
	if (ret)
		goto out_close;
	step = "VFIO_ATTACH_IOASID";
	ret = xioctl(be->dev_fd, VFIO_ATTACH_IOASID, &attach);
	if (ret)
		goto out_close;
	step = "IOASID_GET_INFO";
	ret = xioctl(be->fd, IOASID_GET_INFO, &info);
	if (ret)
		goto out_detach;
	/* Without 2M pages THP could not be mapped large: try the next. */
	if (!(info.out_pgsize_bitmap & SZ_2M)) {
		ret = -EOPNOTSUPP;
		step = NULL;
	}
	printf("%s: %s %s (%s), IOMMU pages", be->name,
	       ret ? "skipping" : "DMA through", name, cdev);
	print_pgsizes(info.out_pgsize_bitmap);
	if (ret)
		goto out_detach;
	snprintf(be->device, sizeof(be->device), "%s", name);
	return 0;

out_detach:
	xioctl(be->dev_fd, VFIO_DETACH_IOASID, &attach);
out_close:
	close(be->dev_fd);
	be->dev_fd = -1;
out:
	if (step)
		printf("%s: %s: %s: %s\n", be->name, name, step, strerror(-ret));
	return ret;
}

static int ioasid_be_setup(struct backend *be)
{
	struct ioasid_cmd_alloc alloc = { .size = sizeof(alloc) };
	struct mock_vfio devs[MAX_MOCK_VFIO];
	int n, i, ret;

	n = mock_vfio_devices(devs, MAX_MOCK_VFIO);
	if (!n) {
		printf("%s: no " MOCK_VFIO_PREFIX "N device in " MOCK_VFIO_DIR
		       ": the kernel needs CONFIG_IOASID_TEST_VFIO\n", be->name);
		return -ENODEV;
	}
	be->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (be->fd < 0)
		return -errno;
	ret = xioctl(be->fd, IOASID_ALLOC, &alloc);
	if (ret)
		return ret;
	be->ioasid = alloc.out_ioasid;
	for (i = 0; i != n; i++)
		if (!ioasid_be_use_device(be, devs[i].name))
			return 0;
	printf("%s: none of the %d mock VFIO devices is usable\n", be->name,
	       n);
	return -ENODEV;
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
	/* The device goes back first, then the IOASID and its fd. */
	close(be->dev_fd);
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
	fprintf(json, "{\"backend\":\"%s\",\"device\":\"%s\",", be->name,
		be->device);
	fprintf(json, "\"memory\":\"%s\",", memory);
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

static int attach(struct backend *be, unsigned long req, __u32 ioasid)
{
	struct vfio_device_attach_ioasid cmd = {
		.argsz = sizeof(cmd),
		.ioasid = ioasid,
	};

	return xioctl(be->dev_fd, req, &cmd);
}

/* The GPA of the guest's @i-th mapping: scattered over all of RAM. */
static uint64_t shadow_gpa_page(unsigned int i)
{
	/* An odd stride visits every page of a power-of-two RAM once. */
	return (i * 7919UL + 13) % (GIB / PAGE);
}

/*
 * Fill a GIOVA space with @n single pages, the 5.2 way (@nested false:
 * the VMM's own GPA -> user address step, then a map of registered
 * memory into a plain IOASID) or the 5.3 way (a map from the parent's
 * IOVA into a nested IOASID). The device is attached throughout, as
 * under a live guest. Returns the seconds the maps took.
 */
static int shadow_fill(struct backend *be, char *ram, unsigned int n,
		       bool nested, double *map_s, double *unmap_s)
{
	struct ioasid_cmd_create_nesting nest = {
		.size = sizeof(nest),
		.parent = be->ioasid,
		.kind = IOASID_NESTING_SOFTWARE,
	};
	struct ioasid_cmd_alloc alloc = { .size = sizeof(alloc) };
	struct ioasid_cmd_dma_unmap unmap = {
		.size = sizeof(unmap),
		.flags = IOASID_DMA_UNMAP_ALL,
	};
	struct ioasid_cmd_free free_cmd = { .size = sizeof(free_cmd) };
	struct ioasid_cmd_dma_map map = {
		.size = sizeof(map),
		.flags = IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE,
		.length = PAGE,
	};
	double t0, t1;
	unsigned int i;
	int ret;

	ret = nested ? xioctl(be->fd, IOASID_CREATE_NESTING, &nest) :
		       xioctl(be->fd, IOASID_ALLOC, &alloc);
	if (ret)
		return ret;
	map.ioasid = nested ? nest.out_ioasid : alloc.out_ioasid;
	if (nested)
		map.flags |= IOASID_DMA_MAP_FROM_PARENT;
	ret = attach(be, VFIO_ATTACH_IOASID, map.ioasid);
	if (ret)
		goto out_free;

	t0 = now();
	for (i = 0; i != n && !ret; i++) {
		uint64_t gpa = shadow_gpa_page(i) * PAGE;

		/* The guest's entry: GIOVA page 2i -> gpa. */
		map.iova = GIOVA_BASE + 2UL * i * PAGE;
		if (nested)
			map.parent_iova = IOVA_BASE + gpa;
		else
			map.vaddr = (uintptr_t)(ram + gpa);
		ret = xioctl(be->fd, IOASID_DMA_MAP, &map);
	}
	t1 = now();
	unmap.ioasid = map.ioasid;
	ret = ret ?: xioctl(be->fd, IOASID_DMA_UNMAP, &unmap);
	if (!ret && unmap.out_unmapped != n * PAGE)
		ret = -EIO;
	*map_s = t1 - t0;
	*unmap_s = now() - t1;
	attach(be, VFIO_DETACH_IOASID, map.ioasid);
out_free:
	free_cmd.ioasid = map.ioasid;
	xioctl(be->fd, IOASID_FREE, &free_cmd);
	return ret;
}

/*
 * 1 GiB of guest RAM, registered, mapped at GPA 0 (IOVA_BASE here) in
 * the backend's IOASID; then GIOVA spaces of @n pages, both ways.
 */
static int shadow_bench(struct backend *be, unsigned int n, FILE *json)
{
	double best[2] = { 0, 0 }, unmap_best[2] = { 0, 0 };
	char *ram = alloc_memory(false);
	int round, way, ret;

	if (!ram)
		return -ENOMEM;
	ret = be->register_memory(be, ram, GIB);
	ret = ret ?: be->map(be, ram, IOVA_BASE, GIB);
	ret = ret ?: attach(be, VFIO_DETACH_IOASID, be->ioasid);
	if (ret)
		goto out;
	for (round = 0; round != ROUNDS && !ret; round++) {
		for (way = 0; way != 2 && !ret; way++) {
			double map_s = 0, unmap_s = 0;

			ret = shadow_fill(be, ram, n, way, &map_s, &unmap_s);
			if (ret)
				break;
			if (!best[way] || map_s < best[way])
				best[way] = map_s;
			if (!unmap_best[way] || unmap_s < unmap_best[way])
				unmap_best[way] = unmap_s;
		}
	}
	if (!ret) {
		printf("shadow %6u pages: RFC 5.2 (translate + map) %.3f us/map, ",
		       n, best[0] * 1e6 / n);
		printf("RFC 5.3 (nested, from GPA) %.3f us/map: 5.3/5.2 = %.2f\n",
		       best[1] * 1e6 / n, best[1] / best[0]);
		for (way = 0; way != 2; way++) {
			fprintf(json, "{\"backend\":\"%s\",\"shadow\":\"%s\",",
				be->name,
				way ? "rfc5.3-nested" : "rfc5.2-shadow");
			fprintf(json, "\"pages\":%u,\"rounds\":%d,", n, ROUNDS);
			fprintf(json, "\"best_map_s\":%.6f,\"best_unmap_s\":%.6f,",
				best[way], unmap_best[way]);
			fprintf(json, "\"us_per_map\":%.4f}\n",
				best[way] * 1e6 / n);
		}
		fflush(json);
	}
	if (attach(be, VFIO_ATTACH_IOASID, be->ioasid) && !ret)
		ret = -EIO;
out:
	be->unmap(be, IOVA_BASE, GIB);
	be->unregister_memory(be, ram, GIB);
	munmap(ram, GIB);
	return ret;
}

int main(int argc, char **argv)
{
	static const unsigned int shadow_pages[] = { 1000, 100000 };
	const char *out = "/dev/null";
	unsigned int i;
	FILE *json;
	int ret = 0;

	if (argc == 3 && !strcmp(argv[1], "-o")) {
		out = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [-o results.json]\n", argv[0]);
		return 2;
	}
	json = fopen(out, "w");
	if (!json) {
		perror(out);
		return 1;
	}
	for (i = 0; i != ARRAY_SIZE(backends); i++) {
		struct backend *be = &backends[i];
		unsigned int k;

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
		for (k = 0; k != ARRAY_SIZE(shadow_pages); k++) {
			ret = shadow_bench(be, shadow_pages[k], json);
			if (ret) {
				printf("%s: shadow %u failed: %s\n", be->name,
				       shadow_pages[k], strerror(-ret));
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
