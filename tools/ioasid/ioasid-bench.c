// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioasid-bench: /dev/ioasid side by side with iommufd and VFIO type1.
 *
 * Runs inside the VM for `make bench`, on the non-debug kernel. Every
 * backend drives the same edu device behind the emulated VT-d, over its
 * own public uAPI only, so every map really reaches VT-d page tables:
 *
 *   ours      /dev/ioasid, VFIO_BIND_IOASID_FD; memory pinned on map
 *   ours-reg  the same, with the memory registered first
 *   iommufd   /dev/iommu, VFIO_DEVICE_BIND_IOMMUFD
 *   type1     a VFIO container with the device's group, VFIO_TYPE1v2_IOMMU
 *
 * It runs as a VMM would: root for the administrator's part (handing the
 * devices to vfio-pci, type1's module knobs, each set only where type1
 * needs it and said so), then without CAP_IPC_LOCK, so that every
 * backend charges what it pins against RLIMIT_MEMLOCK, set large enough.
 *
 * Workloads, ROUNDS rounds of each after one round that warms up and is
 * not counted; a round runs every workload once for every backend, each
 * time on a fresh fd, the backends taking turns with a different one
 * first each time, and the workloads interleaved, so that the host's
 * other load spreads over all cells:
 *   - map and unmap 1 GiB of 4 KiB pages, and of THP, timed apart;
 *   - the same 1 GiB, mapped in one address space already, into a
 *     second one with the second edu in it: ours maps it again
 *     (registered: no pinning), iommufd copies it (IOMMU_IOAS_COPY),
 *     type1 maps it in a second container;
 *   - N separate 4 KiB maps, then N separate unmaps, for N = 1k, 10k
 *     and 100k: the cost per call, and how it grows with N.
 * The table shows under each workload what each backend charged, VmLck
 * and VmPin of this process, while everything was mapped, so that memory
 * charged twice shows.
 *
 * Then, for ours alone, a guest vIOMMU's GIOVA space built both ways the
 * RFC allows: 5.2, the VMM translating each GPA and mapping registered
 * memory, and 5.3, a nested IOASID mapping from the GPA.
 *
 * Output: the table on stdout, each cell the median and minimum of the
 * rounds, with our time ratios against each peer (below 1: we are
 * faster), each the median of the rounds' ratios, since the two sides
 * of one ran seconds apart; then the targets met or missed, from those
 * ratios. With -o FILE, each result as a JSON object on a line of its
 * own, and the chart's data as lines that start with "plot" and a tab;
 * the host turns them into build/bench.json and build/bench.png.
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
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/ioasid.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#define KIB 1024UL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define SZ_2M (2 * MIB)
#define PAGE 4096UL
#define IOVA_BASE 0x100000000UL	/* clear of the MSI window, in the aperture */
#define GIOVA_BASE 0x800000000UL
#define ROUNDS 5
#define SHADOW_ROUNDS 3
#define MEMLOCK_LIMIT (4 * GIB)
#define DMA_ENTRY_LIMIT 200000
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define TYPE1_PARAMS "/sys/module/vfio_iommu_type1/parameters/"

static FILE *out;

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n < 0 ? -errno : 0;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/*
 * One JSON object per line of the results file: json_open(), a field
 * per call, json_close().
 */
static void json_open(const char *type)
{
	fprintf(out, "{\"type\":\"%s\"", type);
}

static void json_str(const char *key, const char *value)
{
	fprintf(out, ",\"%s\":\"%s\"", key, value);
}

static void json_num(const char *key, double value)
{
	fprintf(out, ",\"%s\":%.6g", key, value);
}

static void json_int(const char *key, long long value)
{
	fprintf(out, ",\"%s\":%lld", key, value);
}

static void json_close(void)
{
	fprintf(out, "}\n");
	fflush(out);
}

/* The devices: edu, PCI 1234:11e8. */
struct edu {
	char bdf[64];
	int group;		/* IOMMU group number, for type1 */
	char cdev[PATH_MAX];	/* /dev/vfio/devices/vfioN */
};

static struct edu edus[2];

static int cmp_edu(const void *a, const void *b)
{
	return strcmp(((const struct edu *)a)->bdf,
		      ((const struct edu *)b)->bdf);
}

/* The first two edu devices in PCI address order, so runs repeat. */
static int find_edus(void)
{
	struct edu all[16];
	struct dirent *de;
	int n = 0;
	DIR *dir = opendir("/sys/bus/pci/devices");

	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && n < (int)ARRAY_SIZE(all)) {
		char path[PATH_MAX], id[32];

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		if (read_file(path, id, sizeof(id)) || strcmp(id, "0x1234"))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		if (read_file(path, id, sizeof(id)) || strcmp(id, "0x11e8"))
			continue;
		if (strlen(de->d_name) >= sizeof(all[n].bdf))
			continue;
		memcpy(all[n++].bdf, de->d_name, strlen(de->d_name) + 1);
	}
	closedir(dir);
	if (n < 2)
		return -ENODEV;
	qsort(all, n, sizeof(all[0]), cmp_edu);
	memcpy(edus, all, sizeof(edus));
	return 0;
}

/* The administrator's step: ioasid-vfio-bind hands both to vfio-pci. */
static int vfio_pci_bind(void)
{
	char *const argv[] = { "ioasid-vfio-bind", edus[0].bdf, edus[1].bdf,
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

/* Its IOMMU group and VFIO cdev, once vfio-pci has it. */
static int edu_lookup(struct edu *e)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct dirent *de;
	const char *slash;
	ssize_t n;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 e->bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	slash = strrchr(link, '/');
	e->group = atoi(slash ? slash + 1 : link);

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev",
		 e->bdf);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4))
			break;
	if (de)
		snprintf(e->cdev, sizeof(e->cdev), "/dev/vfio/devices/%s",
			 de->d_name);
	closedir(dir);
	return de ? 0 : -ENODEV;
}

/*
 * One address space with one edu in it. @fd is the backend's fd (ours,
 * iommufd) or the space's own container (type1).
 */
struct space {
	int fd;
	int dev_fd;
	int group_fd;
	__u32 id;
};

struct backend {
	const char *name;
	bool ours;
	bool registered;
	/* A fresh fd for one round, and its end. */
	int (*begin)(struct backend *be);
	void (*end)(struct backend *be);
	int (*open_space)(struct backend *be, struct edu *e, struct space *sp);
	void (*close_space)(struct backend *be, struct space *sp);
	int (*map)(struct backend *be, struct space *sp, void *va, __u64 iova,
		   size_t len);
	int (*unmap)(struct backend *be, struct space *sp, __u64 iova,
		     size_t len);
	/* What is mapped at @iova of @from, into @to at the same IOVA. */
	int (*map_again)(struct backend *be, struct space *from,
			 struct space *to, void *va, __u64 iova, size_t len);
	int fd;
};

/* ours */

static int ours_begin(struct backend *be)
{
	be->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	return be->fd < 0 ? -errno : 0;
}

static void shared_fd_end(struct backend *be)
{
	close(be->fd);
	be->fd = -1;
}

static int ours_open_space(struct backend *be, struct edu *e,
			   struct space *sp)
{
	struct ioasid_cmd_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_bind_ioasid_fd bind = {
		.argsz = sizeof(bind),
		.ioasid_fd = be->fd,
	};
	struct vfio_device_attach_ioasid attach = {
		.argsz = sizeof(attach),
	};
	int ret;

	ret = xioctl(be->fd, IOASID_ALLOC, &alloc);
	if (ret)
		return ret;
	sp->fd = be->fd;
	sp->id = alloc.out_ioasid;
	sp->dev_fd = open(e->cdev, O_RDWR | O_CLOEXEC);
	if (sp->dev_fd < 0)
		return -errno;
	attach.ioasid = sp->id;
	return xioctl(sp->dev_fd, VFIO_BIND_IOASID_FD, &bind) ?:
	       xioctl(sp->dev_fd, VFIO_ATTACH_IOASID, &attach);
}

/* Closing the device fd unbinds it; the fd's end frees the rest. */
static void dev_close_space(struct backend *be, struct space *sp)
{
	(void)be;
	close(sp->dev_fd);
	sp->dev_fd = -1;
}

static int ours_register(struct backend *be, void *va, size_t len,
			 unsigned long req)
{
	struct ioasid_cmd_register_memory cmd = {
		.size = sizeof(cmd),
		.vaddr = (uintptr_t)va,
		.length = len,
	};

	return xioctl(be->fd, req, &cmd);
}

static int ours_map(struct backend *be, struct space *sp, void *va,
		    __u64 iova, size_t len)
{
	struct ioasid_cmd_dma_map cmd = {
		.size = sizeof(cmd),
		.flags = IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE,
		.ioasid = sp->id,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.length = len,
	};

	return xioctl(be->fd, IOASID_DMA_MAP, &cmd);
}

static int ours_unmap(struct backend *be, struct space *sp, __u64 iova,
		      size_t len)
{
	struct ioasid_cmd_dma_unmap cmd = {
		.size = sizeof(cmd),
		.ioasid = sp->id,
		.iova = iova,
		.length = len,
	};
	int ret = xioctl(be->fd, IOASID_DMA_UNMAP, &cmd);

	return ret ?: cmd.out_unmapped == len ? 0 : -EIO;
}

static int ours_map_again(struct backend *be, struct space *from,
			  struct space *to, void *va, __u64 iova, size_t len)
{
	(void)from;
	return ours_map(be, to, va, iova, len);
}

/* iommufd */

static int iommufd_begin(struct backend *be)
{
	be->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	return be->fd < 0 ? -errno : 0;
}

static int iommufd_open_space(struct backend *be, struct edu *e,
			      struct space *sp)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = be->fd,
	};
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	int ret;

	ret = xioctl(be->fd, IOMMU_IOAS_ALLOC, &alloc);
	if (ret)
		return ret;
	sp->fd = be->fd;
	sp->id = alloc.out_ioas_id;
	sp->dev_fd = open(e->cdev, O_RDWR | O_CLOEXEC);
	if (sp->dev_fd < 0)
		return -errno;
	attach.pt_id = sp->id;
	return xioctl(sp->dev_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) ?:
	       xioctl(sp->dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
}

#define IOMMUFD_MAP_FLAGS (IOMMU_IOAS_MAP_FIXED_IOVA |			\
			   IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

static int iommufd_map(struct backend *be, struct space *sp, void *va,
		       __u64 iova, size_t len)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMUFD_MAP_FLAGS,
		.ioas_id = sp->id,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return xioctl(be->fd, IOMMU_IOAS_MAP, &cmd);
}

static int iommufd_unmap(struct backend *be, struct space *sp, __u64 iova,
			 size_t len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = sp->id,
		.iova = iova,
		.length = len,
	};
	int ret = xioctl(be->fd, IOMMU_IOAS_UNMAP, &cmd);

	return ret ?: cmd.length == len ? 0 : -EIO;
}

static int iommufd_copy(struct backend *be, struct space *from,
			struct space *to, void *va, __u64 iova, size_t len)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = IOMMUFD_MAP_FLAGS,
		.dst_ioas_id = to->id,
		.src_ioas_id = from->id,
		.length = len,
		.dst_iova = iova,
		.src_iova = iova,
	};

	(void)va;
	return xioctl(be->fd, IOMMU_IOAS_COPY, &cmd);
}

/* type1: each space is a container of its own */

static int type1_begin(struct backend *be)
{
	be->fd = -1;
	return 0;
}

static void type1_end(struct backend *be)
{
	(void)be;
}

static bool type1_unsafe_set;

static int type1_set_iommu(struct space *sp)
{
	int ret = xioctl(sp->fd, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU);

	/* Without isolated MSIs type1 refuses, unless told to allow it. */
	if (ret == -EPERM && !type1_unsafe_set) {
		ret = write_file(TYPE1_PARAMS "allow_unsafe_interrupts", "1");
		if (ret)
			return ret;
		type1_unsafe_set = true;
		printf("type1: set %sallow_unsafe_interrupts=1, which it needs here\n",
		       TYPE1_PARAMS);
		ret = xioctl(sp->fd, VFIO_SET_IOMMU,
			     (void *)VFIO_TYPE1v2_IOMMU);
	}
	return ret;
}

static int type1_open_space(struct backend *be, struct edu *e,
			    struct space *sp)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int ret;

	(void)be;
	sp->dev_fd = -1;
	sp->group_fd = -1;
	sp->fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (sp->fd < 0)
		return -errno;
	snprintf(path, sizeof(path), "/dev/vfio/%d", e->group);
	sp->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (sp->group_fd < 0)
		return -errno;
	ret = xioctl(sp->group_fd, VFIO_GROUP_GET_STATUS, &status);
	if (ret)
		return ret;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -EBUSY;
	ret = xioctl(sp->group_fd, VFIO_GROUP_SET_CONTAINER, &sp->fd) ?:
	      type1_set_iommu(sp);
	if (ret)
		return ret;
	sp->dev_fd = ioctl(sp->group_fd, VFIO_GROUP_GET_DEVICE_FD, e->bdf);
	return sp->dev_fd < 0 ? -errno : 0;
}

static void type1_close_space(struct backend *be, struct space *sp)
{
	(void)be;
	if (sp->dev_fd >= 0)
		close(sp->dev_fd);
	if (sp->group_fd >= 0)
		close(sp->group_fd);
	close(sp->fd);
}

static int type1_map(struct backend *be, struct space *sp, void *va,
		     __u64 iova, size_t len)
{
	struct vfio_iommu_type1_dma_map cmd = {
		.argsz = sizeof(cmd),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};

	(void)be;
	return xioctl(sp->fd, VFIO_IOMMU_MAP_DMA, &cmd);
}

static int type1_unmap(struct backend *be, struct space *sp, __u64 iova,
		       size_t len)
{
	struct vfio_iommu_type1_dma_unmap cmd = {
		.argsz = sizeof(cmd),
		.iova = iova,
		.size = len,
	};
	int ret;

	(void)be;
	ret = xioctl(sp->fd, VFIO_IOMMU_UNMAP_DMA, &cmd);
	return ret ?: cmd.size == len ? 0 : -EIO;
}

static int type1_map_again(struct backend *be, struct space *from,
			   struct space *to, void *va, __u64 iova, size_t len)
{
	(void)from;
	return type1_map(be, to, va, iova, len);
}

enum { BE_OURS, BE_OURS_REG, BE_IOMMUFD, BE_TYPE1, NR_BACKENDS };

static struct backend backends[NR_BACKENDS] = {
	[BE_OURS] = {
		.name = "ours", .ours = true,
		.begin = ours_begin, .end = shared_fd_end,
		.open_space = ours_open_space, .close_space = dev_close_space,
		.map = ours_map, .unmap = ours_unmap,
		.map_again = ours_map_again,
	},
	[BE_OURS_REG] = {
		.name = "ours-reg", .ours = true, .registered = true,
		.begin = ours_begin, .end = shared_fd_end,
		.open_space = ours_open_space, .close_space = dev_close_space,
		.map = ours_map, .unmap = ours_unmap,
		.map_again = ours_map_again,
	},
	[BE_IOMMUFD] = {
		.name = "iommufd",
		.begin = iommufd_begin, .end = shared_fd_end,
		.open_space = iommufd_open_space,
		.close_space = dev_close_space,
		.map = iommufd_map, .unmap = iommufd_unmap,
		.map_again = iommufd_copy,
	},
	[BE_TYPE1] = {
		.name = "type1",
		.begin = type1_begin, .end = type1_end,
		.open_space = type1_open_space,
		.close_space = type1_close_space,
		.map = type1_map, .unmap = type1_unmap,
		.map_again = type1_map_again,
	},
};

/* Registration, for the backend that registers; a no-op for the rest. */
static int prepare(struct backend *be, void *va, size_t len)
{
	return be->registered ?
	       ours_register(be, va, len, IOASID_REGISTER_MEMORY) : 0;
}

static int release(struct backend *be, void *va, size_t len)
{
	return be->registered ?
	       ours_register(be, va, len, IOASID_UNREGISTER_MEMORY) : 0;
}

/* The cells of the table: one timing per backend per round. */
enum cell {
	C_4K_MAP, C_4K_UNMAP, C_4K_BOTH,
	C_THP_MAP, C_THP_UNMAP, C_THP_BOTH,
	C_AGAIN_MAP, C_AGAIN_UNMAP,
	C_1K_MAP, C_1K_UNMAP, C_10K_MAP, C_10K_UNMAP,
	C_100K_MAP, C_100K_UNMAP,
	C_REGISTER,
	NR_CELLS
};

static const struct {
	const char *workload;
	const char *what;
	const char *key;
	const char *plot;	/* its label in the chart, if it is in it */
	bool per_op;		/* µs per call, else ms */
} cells[NR_CELLS] = {
	[C_4K_MAP] = { "1 GiB, 4 KiB pages", "map", "gib_4k_map", "4K map" },
	[C_4K_UNMAP] = { "1 GiB, 4 KiB pages", "unmap", "gib_4k_unmap",
			 "4K unmap" },
	[C_4K_BOTH] = { "1 GiB, 4 KiB pages", "map+unmap",
			"gib_4k_map_unmap", "4K map+unmap" },
	[C_THP_MAP] = { "1 GiB, THP", "map", "gib_thp_map", "THP map" },
	[C_THP_UNMAP] = { "1 GiB, THP", "unmap", "gib_thp_unmap",
			  "THP unmap" },
	[C_THP_BOTH] = { "1 GiB, THP", "map+unmap", "gib_thp_map_unmap",
			 "THP map+unmap" },
	[C_AGAIN_MAP] = { "second space, 4 KiB", "map/copy",
			  "second_space_map", "2nd space map" },
	[C_AGAIN_UNMAP] = { "second space, 4 KiB", "unmap",
			    "second_space_unmap" },
	[C_1K_MAP] = { "1k x 4 KiB", "map/op", "n1k_map_per_op",
		       "1k maps/op", true },
	[C_1K_UNMAP] = { "1k x 4 KiB", "unmap/op", "n1k_unmap_per_op", NULL,
			 true },
	[C_10K_MAP] = { "10k x 4 KiB", "map/op", "n10k_map_per_op",
			"10k maps/op", true },
	[C_10K_UNMAP] = { "10k x 4 KiB", "unmap/op", "n10k_unmap_per_op",
			  NULL, true },
	[C_100K_MAP] = { "100k x 4 KiB", "map/op", "n100k_map_per_op",
			 "100k maps/op", true },
	[C_100K_UNMAP] = { "100k x 4 KiB", "unmap/op", "n100k_unmap_per_op",
			   "100k unmaps/op", true },
	[C_REGISTER] = { "1 GiB, 4 KiB pages", "register", "gib_4k_register" },
};

/* Seconds (per call for per_op cells); 0 where a backend has none. */
static double samples[NR_CELLS][NR_BACKENDS][ROUNDS];
static int nsamples[NR_CELLS][NR_BACKENDS];

static void record(enum cell c, int be, double s)
{
	samples[c][be][nsamples[c][be]++] = s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median and minimum of a cell, in its unit; false if it has none. */
static bool stats(enum cell c, int be, double *med, double *min)
{
	double v[ROUNDS], scale = cells[c].per_op ? 1e6 : 1e3;
	int n = nsamples[c][be];

	if (!n)
		return false;
	memcpy(v, samples[c][be], n * sizeof(v[0]));
	*med = median(v, n) * scale;
	*min = v[0] * scale;
	return true;
}

/*
 * How @a's time in cell @ca compares with @b's in @cb: the median over
 * the rounds of their ratio within one round. The two ran seconds apart
 * in every round, so a spell of load on the host from anything else
 * weighs on both sides of a ratio, and only on one round's.
 */
static bool ratio(enum cell ca, int a, enum cell cb, int b, double *r)
{
	int n = nsamples[ca][a] < nsamples[cb][b] ? nsamples[ca][a] :
						    nsamples[cb][b];
	double v[ROUNDS];
	int i;

	if (!n)
		return false;
	for (i = 0; i != n; i++)
		v[i] = samples[ca][a][i] / samples[cb][b][i];
	*r = median(v, n);
	return true;
}

/* Every round's time, in the cell's unit, in the order of the rounds. */
static void json_samples(enum cell c, int be)
{
	double scale = cells[c].per_op ? 1e6 : 1e3;
	int i;

	fprintf(out, ",\"samples\":[");
	for (i = 0; i != nsamples[c][be]; i++)
		fprintf(out, "%s%.6g", i ? "," : "", samples[c][be][i] * scale);
	fprintf(out, "]");
}

/* What this process is charged for, in kB: VmLck and VmPin. */
struct charge {
	long lck, pin;
};

static struct charge charged(void)
{
	struct charge c = { -1, -1 };
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmLck: %ld kB", &c.lck) == 1)
			continue;
		if (sscanf(line, "VmPin: %ld kB", &c.pin) == 1)
			continue;
	}
	if (f)
		fclose(f);
	return c;
}

static struct charge charge_delta(struct charge before)
{
	struct charge c = charged();

	return (struct charge){ c.lck - before.lck, c.pin - before.pin };
}

static void print_charges(const char *workload, size_t memory,
			  const struct charge *peaks)
{
	int i;

	printf("  charged while mapped, for %zu MiB of memory:", memory / MIB);
	for (i = 0; i != NR_BACKENDS; i++) {
		printf(" %s VmLck %ld MiB VmPin %ld MiB%s", backends[i].name,
		       peaks[i].lck / 1024, peaks[i].pin / 1024,
		       i == NR_BACKENDS - 1 ? "" : ";");
		json_open("charge");
		json_str("workload", workload);
		json_str("backend", backends[i].name);
		json_int("memory_bytes", memory);
		json_int("vmlck_kb", peaks[i].lck);
		json_int("vmpin_kb", peaks[i].pin);
		json_close();
	}
	printf("\n");
	fflush(out);
}

/* Anonymous memory, 2M aligned and touched, THP or not. */
static char *alloc_memory(size_t len, bool thp)
{
	char *raw, *buf;

	raw = mmap(NULL, len + SZ_2M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	buf = (char *)(((uintptr_t)raw + SZ_2M - 1) & ~(SZ_2M - 1));
	madvise(buf, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(buf, 1, len);
	return buf;
}

/*
 * How the kernel laid @len bytes at @buf out: the share of neighbouring
 * pages that are physically contiguous, and the runs they make.
 */
static void print_layout(const char *what, char *buf, size_t len)
{
	size_t n = len / PAGE, i, contig = 0, runs = 1;
	__u64 *pfn = calloc(n, sizeof(*pfn));
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (!pfn || fd < 0 ||
	    pread(fd, pfn, n * sizeof(*pfn),
		  (uintptr_t)buf / PAGE * sizeof(*pfn)) != (ssize_t)(n * sizeof(*pfn))) {
		printf("%s: layout unknown (no /proc/self/pagemap)\n", what);
		goto out;
	}
	for (i = 1; i != n; i++) {
		bool next = (pfn[i] & ((1ULL << 55) - 1)) ==
			    (pfn[i - 1] & ((1ULL << 55) - 1)) + 1;

		contig += next;
		runs += !next;
	}
	printf("%s: %.1f %% of neighbouring pages physically contiguous, in %zu runs\n",
	       what, 100.0 * contig / (n - 1), runs);
	json_open("memory");
	json_str("memory", what);
	json_int("bytes", len);
	json_num("contiguous_pct", 100.0 * contig / (n - 1));
	json_int("runs", runs);
	json_close();
out:
	if (fd >= 0)
		close(fd);
	free(pfn);
}

static void fail(struct backend *be, const char *what, int err)
{
	printf("bench: FAIL: %s: %s: %s\n", be->name, what, strerror(-err));
	exit(1);
}

/* Map and unmap @len at @buf in one space: one round of one backend. */
static void run_gib(struct backend *be, int b, char *buf, size_t len,
		    enum cell map_cell, struct charge *peak)
{
	struct charge before = charged();
	double t0, t1, t2;
	struct space sp;
	int ret;

	ret = be->begin(be) ?: be->open_space(be, &edus[0], &sp);
	if (ret)
		fail(be, "open", ret);
	t0 = now();
	ret = prepare(be, buf, len);
	t1 = now();
	if (ret)
		fail(be, "register", ret);
	if (be->registered && map_cell == C_4K_MAP)
		record(C_REGISTER, b, t1 - t0);

	t0 = now();
	ret = be->map(be, &sp, buf, IOVA_BASE, len);
	t1 = now();
	if (ret)
		fail(be, "map", ret);
	*peak = charge_delta(before);
	ret = be->unmap(be, &sp, IOVA_BASE, len);
	t2 = now();
	if (ret)
		fail(be, "unmap", ret);
	record(map_cell, b, t1 - t0);
	record(map_cell + 1, b, t2 - t1);
	record(map_cell + 2, b, t2 - t0);

	ret = release(be, buf, len);
	if (ret)
		fail(be, "unregister", ret);
	be->close_space(be, &sp);
	be->end(be);
}

/* Map @len at @buf in a first space, then again in a second one. */
static void run_again(struct backend *be, int b, char *buf, size_t len,
		      struct charge *peak)
{
	struct charge before = charged();
	struct space sp[2];
	double t0, t1, t2;
	int ret;

	ret = be->begin(be) ?: be->open_space(be, &edus[0], &sp[0]) ?:
	      be->open_space(be, &edus[1], &sp[1]) ?:
	      prepare(be, buf, len) ?:
	      be->map(be, &sp[0], buf, IOVA_BASE, len);
	if (ret)
		fail(be, "set up the first space", ret);
	t0 = now();
	ret = be->map_again(be, &sp[0], &sp[1], buf, IOVA_BASE, len);
	t1 = now();
	if (ret)
		fail(be, "map into the second space", ret);
	*peak = charge_delta(before);
	ret = be->unmap(be, &sp[1], IOVA_BASE, len);
	t2 = now();
	if (ret)
		fail(be, "unmap from the second space", ret);
	record(C_AGAIN_MAP, b, t1 - t0);
	record(C_AGAIN_UNMAP, b, t2 - t1);

	ret = be->unmap(be, &sp[0], IOVA_BASE, len) ?: release(be, buf, len);
	if (ret)
		fail(be, "tear down the first space", ret);
	be->close_space(be, &sp[1]);
	be->close_space(be, &sp[0]);
	be->end(be);
}

/* @n separate maps of a page each, then @n separate unmaps. */
static void run_pages(struct backend *be, int b, char *buf, unsigned int n,
		      enum cell map_cell, struct charge *peak)
{
	struct charge before = charged();
	double t0, t1, t2;
	struct space sp;
	unsigned int i;
	int ret;

	ret = be->begin(be) ?: be->open_space(be, &edus[0], &sp) ?:
	      prepare(be, buf, n * PAGE);
	if (ret)
		fail(be, "set up", ret);
	t0 = now();
	for (i = 0; i != n; i++) {
		ret = be->map(be, &sp, buf + i * PAGE, IOVA_BASE + i * PAGE,
			      PAGE);
		if (ret)
			fail(be, "map a page", ret);
	}
	t1 = now();
	*peak = charge_delta(before);
	for (i = 0; i != n; i++) {
		ret = be->unmap(be, &sp, IOVA_BASE + i * PAGE, PAGE);
		if (ret)
			fail(be, "unmap a page", ret);
	}
	t2 = now();
	record(map_cell, b, (t1 - t0) / n);
	record(map_cell + 1, b, (t2 - t1) / n);

	ret = release(be, buf, n * PAGE);
	if (ret)
		fail(be, "unregister", ret);
	be->close_space(be, &sp);
	be->end(be);
}

enum workload { W_4K, W_THP, W_AGAIN, W_1K, W_10K, W_100K, NR_WORKLOADS };

static const unsigned int npages[] = {
	[W_1K] = 1000, [W_10K] = 10000, [W_100K] = 100000,
};

/* A row of the table; its results go to the file too. */
static void print_row(enum cell c)
{
	double med, min;
	int i, p;

	printf("%-20s %-9s %-5s", cells[c].workload, cells[c].what,
	       cells[c].per_op ? "us/op" : "ms");
	for (i = 0; i != NR_BACKENDS; i++) {
		if (!stats(c, i, &med, &min)) {
			printf(" %21s", "-");
			continue;
		}
		printf(" %9.1f (%9.1f)", med, min);
		json_open("cell");
		json_str("workload", cells[c].workload);
		json_str("measure", cells[c].what);
		json_str("key", cells[c].key);
		json_str("backend", backends[i].name);
		json_str("unit", cells[c].per_op ? "us/op" : "ms");
		json_int("rounds", nsamples[c][i]);
		json_num("median", med);
		json_num("min", min);
		json_samples(c, i);
		json_close();
	}
	/* Our time over each peer's: below 1, we are faster. */
	for (i = BE_OURS; i <= BE_OURS_REG; i++) {
		for (p = BE_IOMMUFD; p <= BE_TYPE1; p++) {
			double r;

			if (!ratio(c, i, c, p, &r)) {
				printf(" %6s", "-");
				continue;
			}
			printf(" %6.2f", r);
			json_open("ratio");
			json_str("key", cells[c].key);
			json_str("ours", backends[i].name);
			json_str("peer", backends[p].name);
			json_num("time_ratio", r);
			json_close();
		}
	}
	printf("\n");
	fflush(out);
}

static void print_header(void)
{
	int i;

	printf("\n%-20s %-9s %-5s", "workload", "measure", "unit");
	for (i = 0; i != NR_BACKENDS; i++)
		printf(" %21s", backends[i].name);
	printf(" %6s %6s %6s %6s\n", "o/ifd", "o/t1", "r/ifd", "r/t1");
	printf("%-36s", "");
	for (i = 0; i != NR_BACKENDS; i++)
		printf(" %21s", "median (min)");
	printf("  ratios: our time over theirs, median of the rounds' (<1: we are faster)\n");
}

static const enum cell workload_cells[NR_WORKLOADS][4] = {
	[W_4K] = { C_4K_MAP, C_4K_UNMAP, C_4K_BOTH, C_REGISTER },
	[W_THP] = { C_THP_MAP, C_THP_UNMAP, C_THP_BOTH, NR_CELLS },
	[W_AGAIN] = { C_AGAIN_MAP, C_AGAIN_UNMAP, NR_CELLS, NR_CELLS },
	[W_1K] = { C_1K_MAP, C_1K_UNMAP, NR_CELLS, NR_CELLS },
	[W_10K] = { C_10K_MAP, C_10K_UNMAP, NR_CELLS, NR_CELLS },
	[W_100K] = { C_100K_MAP, C_100K_UNMAP, NR_CELLS, NR_CELLS },
};

static void print_workload(enum workload w)
{
	int i;

	for (i = 0; i != 4 && workload_cells[w][i] != NR_CELLS; i++)
		print_row(workload_cells[w][i]);
}

/* What each backend charged at its peak, in the last round. */
static struct charge peaks[NR_WORKLOADS][NR_BACKENDS];

/*
 * Every workload once for every backend. The workloads are interleaved
 * round by round, so that what else the host runs meanwhile spreads
 * over all cells rather than spoiling one; within a workload the
 * backends take turns, a different one first each round.
 */
static void run_round(int round, char *mem4k, char *memthp)
{
	int w, k;

	for (w = 0; w != NR_WORKLOADS; w++) {
		for (k = 0; k != NR_BACKENDS; k++) {
			int b = (round + 1 + w + k) % NR_BACKENDS;
			struct backend *be = &backends[b];
			struct charge *peak = &peaks[w][b];

			switch (w) {
			case W_4K:
				run_gib(be, b, mem4k, GIB, C_4K_MAP, peak);
				break;
			case W_THP:
				run_gib(be, b, memthp, GIB, C_THP_MAP, peak);
				break;
			case W_AGAIN:
				run_again(be, b, mem4k, GIB, peak);
				break;
			default:
				run_pages(be, b, mem4k, npages[w],
					  w == W_1K ? C_1K_MAP :
					  w == W_10K ? C_10K_MAP : C_100K_MAP,
					  peak);
			}
		}
	}
	if (round >= 0)
		printf("round %d of %d done\n", round + 1, ROUNDS);
}

/* The table: each workload's rows, then what each backend charged. */
static void print_table(void)
{
	int w;

	print_header();
	for (w = 0; w != NR_WORKLOADS; w++) {
		print_workload(w);
		print_charges(cells[workload_cells[w][0]].workload,
			      w >= W_1K ? npages[w] * PAGE : GIB, peaks[w]);
	}
}

/* The targets: our time at least @factor times shorter. */
static const struct {
	const char *what;
	enum cell cell;
	int ours, peer;
	double factor;
} targets[] = {
	{ "map+unmap 1 GiB, 4 KiB pages", C_4K_BOTH, BE_OURS, BE_IOMMUFD, 1.2 },
	{ "map+unmap 1 GiB, 4 KiB pages", C_4K_BOTH, BE_OURS, BE_TYPE1, 2.0 },
	{ "map+unmap 1 GiB, THP", C_THP_BOTH, BE_OURS, BE_IOMMUFD, 1.2 },
	{ "map+unmap 1 GiB, THP", C_THP_BOTH, BE_OURS, BE_TYPE1, 2.0 },
	{ "registered map into a second space", C_AGAIN_MAP, BE_OURS_REG,
	  BE_IOMMUFD, 1.2 },
};

static int check_target(unsigned int i)
{
	int ours = targets[i].ours, peer = targets[i].peer;
	double r, speedup;
	bool met;

	if (!ratio(targets[i].cell, ours, targets[i].cell, peer, &r))
		return 1;
	speedup = 1 / r;
	met = speedup >= targets[i].factor;
	printf("  %-38s %-8s vs %-7s %5.2fx faster (target %.1fx): %s\n",
	       targets[i].what, backends[ours].name, backends[peer].name,
	       speedup, targets[i].factor, met ? "met" : "MISSED");
	json_open("target");
	json_str("what", targets[i].what);
	json_str("ours", backends[ours].name);
	json_str("peer", backends[peer].name);
	json_num("speedup", speedup);
	json_num("wanted", targets[i].factor);
	json_int("met", met);
	json_close();
	return !met;
}

static int growth_target(int b)
{
	double growth;
	bool met;

	if (!ratio(C_100K_MAP, b, C_1K_MAP, b, &growth))
		return 1;
	met = growth <= 1.5;
	printf("  %-38s %-8s %5.2fx the 1k cost (target at most 1.5x): %s\n",
	       "100k maps, per-op cost", backends[b].name, growth,
	       met ? "met" : "MISSED");
	json_open("target");
	json_str("what", "100k/1k map cost per op");
	json_str("ours", backends[b].name);
	json_num("ratio", growth);
	json_num("wanted", 1.5);
	json_int("met", met);
	json_close();
	return !met;
}

/* How the per-call map cost grows from 1k maps to 100k. */
static void print_growth(void)
{
	double growth;
	int b;

	printf("100k/1k per-op map cost:");
	for (b = 0; b != NR_BACKENDS; b++)
		if (ratio(C_100K_MAP, b, C_1K_MAP, b, &growth))
			printf(" %s %.2fx", backends[b].name, growth);
	printf("\n");
}

static void print_targets(void)
{
	unsigned int i;
	int missed = 0, b;

	printf("\ntargets (this run, from the ratios above):\n");
	for (i = 0; i != ARRAY_SIZE(targets); i++)
		missed += check_target(i);
	for (b = BE_OURS; b <= BE_OURS_REG; b++)
		missed += growth_target(b);
	printf("targets: %d missed\n", missed);
	fflush(out);
}

static void print_plot(void)
{
	double r;
	int c, b;

	/* Each backend's time over iommufd's, as in the table. */
	fprintf(out, "plot\tcell");
	for (b = 0; b != NR_BACKENDS; b++)
		fprintf(out, "\t%s", backends[b].name);
	fprintf(out, "\n");
	for (c = 0; c != NR_CELLS; c++) {
		if (!cells[c].plot)
			continue;
		fprintf(out, "plot\t%s", cells[c].plot);
		for (b = 0; b != NR_BACKENDS; b++) {
			if (ratio(c, b, c, BE_IOMMUFD, &r))
				fprintf(out, "\t%.4f", r);
			else
				fprintf(out, "\t-");
		}
		fprintf(out, "\n");
	}
	fflush(out);
}

/* The GPA of a guest's @i-th GIOVA page: scattered over all of RAM. */
static __u64 shadow_gpa_page(unsigned int i)
{
	/* An odd stride visits every page of a power-of-two RAM once. */
	return (i * 7919UL + 13) % (GIB / PAGE);
}

/*
 * Fill a GIOVA space with @n single pages, the 5.2 way (@nested false:
 * the VMM's own GPA -> user address step, then a map of registered
 * memory into a plain IOASID) or the 5.3 way (a map from the parent's
 * IOVA into a nested IOASID), with the device attached to it, as under
 * a live guest.
 */
static int shadow_fill(struct backend *be, struct space *gpa, char *ram,
		       unsigned int n, bool nested, double *map_s)
{
	struct ioasid_cmd_create_nesting nest = {
		.size = sizeof(nest),
		.parent = gpa->id,
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
	struct vfio_device_attach_ioasid attach = { .argsz = sizeof(attach) };
	unsigned int i;
	double t0;
	int ret;

	ret = nested ? xioctl(be->fd, IOASID_CREATE_NESTING, &nest) :
		       xioctl(be->fd, IOASID_ALLOC, &alloc);
	if (ret)
		return ret;
	map.ioasid = nested ? nest.out_ioasid : alloc.out_ioasid;
	if (nested)
		map.flags |= IOASID_DMA_MAP_FROM_PARENT;
	attach.ioasid = map.ioasid;
	ret = xioctl(gpa->dev_fd, VFIO_ATTACH_IOASID, &attach);
	if (ret)
		goto out_free;

	t0 = now();
	for (i = 0; i != n && !ret; i++) {
		__u64 at = shadow_gpa_page(i) * PAGE;

		/* The guest's entry: GIOVA page 2i -> GPA @at. */
		map.iova = GIOVA_BASE + 2UL * i * PAGE;
		if (nested)
			map.parent_iova = IOVA_BASE + at;
		else
			map.vaddr = (uintptr_t)(ram + at);
		ret = xioctl(be->fd, IOASID_DMA_MAP, &map);
	}
	*map_s = now() - t0;
	unmap.ioasid = map.ioasid;
	ret = ret ?: xioctl(be->fd, IOASID_DMA_UNMAP, &unmap);
	if (!ret && unmap.out_unmapped != n * PAGE)
		ret = -EIO;
	xioctl(gpa->dev_fd, VFIO_DETACH_IOASID, &attach);
out_free:
	free_cmd.ioasid = map.ioasid;
	xioctl(be->fd, IOASID_FREE, &free_cmd);
	return ret;
}

/* Guest RAM registered and mapped at GPA 0 (IOVA_BASE); GIOVA spaces. */
static void shadow_bench(char *ram, unsigned int n)
{
	struct backend *be = &backends[BE_OURS_REG];
	struct vfio_device_attach_ioasid attach = { .argsz = sizeof(attach) };
	double best[2] = { 0, 0 };
	struct space gpa;
	int round, way, ret;

	ret = be->begin(be) ?: be->open_space(be, &edus[0], &gpa) ?:
	      prepare(be, ram, GIB) ?:
	      be->map(be, &gpa, ram, IOVA_BASE, GIB);
	attach.ioasid = gpa.id;
	ret = ret ?: xioctl(gpa.dev_fd, VFIO_DETACH_IOASID, &attach);
	if (ret)
		fail(be, "shadow set-up", ret);
	for (round = 0; round != SHADOW_ROUNDS; round++) {
		for (way = 0; way != 2; way++) {
			double map_s = 0;

			ret = shadow_fill(be, &gpa, ram, n, way, &map_s);
			if (ret)
				fail(be, way ? "RFC 5.3 fill" : "RFC 5.2 fill",
				     ret);
			if (!best[way] || map_s < best[way])
				best[way] = map_s;
		}
	}
	printf("shadow %6u pages: RFC 5.2 (translate + map) %.2f us/map, ",
	       n, best[0] * 1e6 / n);
	printf("RFC 5.3 (nested, from GPA) %.2f us/map: 5.3 takes %.2fx the time of 5.2\n",
	       best[1] * 1e6 / n, best[1] / best[0]);
	for (way = 0; way != 2; way++) {
		json_open("shadow");
		json_str("way", way ? "rfc5.3-nested" : "rfc5.2-shadow");
		json_int("pages", n);
		json_int("rounds", SHADOW_ROUNDS);
		json_num("best_map_s", best[way]);
		json_num("us_per_map", best[way] * 1e6 / n);
		json_close();
	}
	ret = be->unmap(be, &gpa, IOVA_BASE, GIB) ?: release(be, ram, GIB);
	if (ret)
		fail(be, "shadow tear-down", ret);
	be->close_space(be, &gpa);
	be->end(be);
}

/* As a VMM runs: no CAP_IPC_LOCK, a memlock limit that fits the work. */
static int become_vmm(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct rlimit limit = {
		.rlim_cur = MEMLOCK_LIMIT,
		.rlim_max = MEMLOCK_LIMIT,
	};
	struct __user_cap_data_struct data[2];
	unsigned int word = CAP_IPC_LOCK / 32, bit = 1U << (CAP_IPC_LOCK % 32);

	if (setrlimit(RLIMIT_MEMLOCK, &limit) ||
	    syscall(SYS_capget, &hdr, data))
		return -errno;
	data[word].effective &= ~bit;
	data[word].permitted &= ~bit;
	data[word].inheritable &= ~bit;
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	printf("running without CAP_IPC_LOCK, RLIMIT_MEMLOCK %lu MiB\n",
	       MEMLOCK_LIMIT / MIB);
	return 0;
}

/* type1 refuses more than dma_entry_limit mappings per container. */
static int type1_knobs(void)
{
	char value[32];
	int ret;

	ret = read_file(TYPE1_PARAMS "dma_entry_limit", value, sizeof(value));
	if (ret)
		return ret;
	if (strtoul(value, NULL, 0) >= DMA_ENTRY_LIMIT)
		return 0;
	snprintf(value, sizeof(value), "%d", DMA_ENTRY_LIMIT);
	ret = write_file(TYPE1_PARAMS "dma_entry_limit", value);
	if (!ret)
		printf("type1: set %sdma_entry_limit=%d (default 65535)\n",
		       TYPE1_PARAMS, DMA_ENTRY_LIMIT);
	return ret;
}

static void print_env(void)
{
	struct ioasid_cmd_get_info info = { .size = sizeof(info) };
	struct backend *be = &backends[BE_OURS];
	char thp[128] = "?";
	struct utsname u;
	struct space sp;
	int ret, bit;

	ret = be->begin(be) ?: be->open_space(be, &edus[0], &sp);
	info.ioasid = sp.id;
	ret = ret ?: xioctl(be->fd, IOASID_GET_INFO, &info);
	if (ret)
		fail(be, "GET_INFO", ret);
	be->close_space(be, &sp);
	be->end(be);
	uname(&u);
	read_file("/sys/kernel/mm/transparent_hugepage/enabled", thp,
		  sizeof(thp));
	printf("kernel %s; devices %s and %s (edu) behind VT-d, IOMMU pages",
	       u.release, edus[0].bdf, edus[1].bdf);
	for (bit = 12; bit != 40; bit++)
		if (info.out_pgsize_bitmap & (1ULL << bit))
			printf(" %llu%c", 1ULL << (bit % 10), "KMG"[bit / 10 - 1]);
	printf("; THP %s\n", thp);
	json_open("env");
	json_str("kernel", u.release);
	json_str("device", edus[0].bdf);
	json_str("second_device", edus[1].bdf);
	json_int("iommu_pgsize_bitmap", info.out_pgsize_bitmap);
	json_int("rounds", ROUNDS);
	json_close();
}

int main(int argc, char **argv)
{
	const char *path = "/dev/null";
	char *mem4k, *memthp;
	int ret, round;

	if (argc == 3 && !strcmp(argv[1], "-o")) {
		path = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [-o results]\n", argv[0]);
		return 2;
	}
	out = fopen(path, "w");
	if (!out) {
		perror(path);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	ret = find_edus();
	if (ret) {
		printf("bench: FAIL: two edu devices needed: %s\n",
		       strerror(-ret));
		return 1;
	}
	ret = vfio_pci_bind() ?: edu_lookup(&edus[0]) ?:
	      edu_lookup(&edus[1]) ?: type1_knobs() ?: become_vmm();
	if (ret) {
		printf("bench: FAIL: set-up: %s\n", strerror(-ret));
		return 1;
	}

	/* THP first, while free memory is least fragmented. */
	memthp = alloc_memory(GIB, true);
	mem4k = alloc_memory(GIB, false);
	if (!memthp || !mem4k) {
		printf("bench: FAIL: no memory for the buffers\n");
		return 1;
	}
	print_env();
	print_layout("4 KiB buffer", mem4k, GIB);
	print_layout("THP buffer", memthp, GIB);

	/*
	 * A first round, not counted, warms every path; and the first unpin
	 * of a buffer marks all its pages dirty, which would otherwise weigh
	 * on the one backend whose turn came first.
	 */
	run_round(-1, mem4k, memthp);
	memset(nsamples, 0, sizeof(nsamples));
	for (round = 0; round != ROUNDS; round++)
		run_round(round, mem4k, memthp);

	printf("\n%d rounds, median (min) per cell:", ROUNDS);
	print_table();
	print_growth();
	print_targets();
	print_plot();

	printf("\nours alone, a guest vIOMMU's GIOVA space, RFC 5.2 vs 5.3:\n");
	shadow_bench(mem4k, 1000);
	shadow_bench(mem4k, 100000);
	fclose(out);
	printf("bench: done\n");
	return 0;
}
