// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioasid-migrate: a VMM's live migration of guest memory and a running
 * device, from one ioasid fd to another, on the mock IOMMU of the test
 * kernel.
 *
 * The source is an ioasid fd whose IOASID maps the guest's RAM at its
 * GPAs, and a mock VFIO device bound to it whose DMA engine keeps writing
 * a ring of slots into that RAM. The destination is a second ioasid fd
 * with its own RAM at the same GPAs and a second mock device, as on the
 * machine a guest moves to. The VMM:
 *
 *   1. starts dirty tracking on the source IOASID and the device's
 *      PRE_COPY, and copies all RAM and the device's initial data;
 *   2. copies, round after round, the pages the dirty bitmap names,
 *      until a round's dirty set is small;
 *   3. stops the device (STOP_COPY), reads its final state and the last
 *      bitmap, and copies what is left: the guest is down meanwhile;
 *   4. resumes the device on the destination (RESUMING, STOP, RUNNING).
 *
 * It then checks byte for byte that the destination's RAM and device
 * registers equal the source's at the stop, and that the destination's
 * device carries on from the next slot, in the destination's RAM only.
 *
 * The same flow runs again with a device whose IOMMU cannot record the
 * pages it writes attached to the source IOASID too: an edu device on
 * the emulated VT-d if one is bound to vfio-pci, else a mock device of
 * the instance without dirty tracking. The bitmaps are conservative
 * then (every writable page, every round), so the rounds never shrink;
 * the VMM sees that from the first report, goes to stop-and-copy at once,
 * and the tool prints how many more pages it had to send.
 *
 * Exit status: 0 pass, 1 fail, 4 skipped (no mock VFIO devices: not a
 * test kernel). With --tap the report is TAP 13, for `make check`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

#include <libioasid.h>
/* The mock VFIO device's engine and stream: test-only, not uAPI. */
#include "ioasid_test.h"

#define EXIT_SKIP	4
#define MOCK_VFIO_DRIVER "/sys/bus/platform/drivers/ioasid-mock-vfio"
#define PCI_DEVICES	"/sys/bus/pci/devices"

#define PAGE		4096UL
#define RAM_PAGES	4096		/* 16 MiB of guest RAM */
#define RAM_SIZE	(RAM_PAGES * PAGE)
#define GPA		0x100000ULL
#define RING_OFFSET	(1024 * PAGE)	/* the engine's ring, in the RAM */
#define RING_SLOTS	256
#define SLOT_SIZE	PAGE		/* one page per slot */
#define SEED		0x5eed5eedULL
#define CONVERGED	4		/* a round this small ends pre-copy */
#define MAX_ROUNDS	16
#define STREAM_MAX	4096
#define LABEL		0x3160ULL
#define WAIT_MS		20000

static bool tap;
static unsigned int ntap, nfailed;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (tap)
		fputs("# ", stdout);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	ntap++;
	if (!ok)
		nfailed++;
	va_start(ap, fmt);
	if (tap) {
		printf("%sok %u ", ok ? "" : "not ", ntap);
		vprintf(fmt, ap);
		putchar('\n');
	} else if (!ok) {
		fputs("migration: FAILED: ", stdout);
		vprintf(fmt, ap);
		putchar('\n');
	}
	va_end(ap);
	fflush(stdout);
	return ok;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One side of the migration: an ioasid fd, its guest RAM, its device. */
struct side {
	int fd;
	__u32 ioasid;
	__u8 *ram;
	int vfd;
	int blind_fd;			/* a device that cannot track, or -1 */
};

/* Mock VFIO devices, by whether their IOMMU records DMA writes. */
static struct {
	char tracking[2][PATH_MAX];
	int ntracking;
	char blind[PATH_MAX];
	bool have_blind;
} mock;

/* The vfioN cdev under a device's sysfs directory @dir. */
static int vfio_cdev_of(const char *dir, char *cdev, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/vfio-dev", dir);
	d = opendir(path);
	if (!d)
		return -ENODEV;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(cdev, len, "/dev/vfio/devices/%s", de->d_name);
			closedir(d);
			return 0;
		}
	closedir(d);
	return -ENODEV;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the mock devices by whether their IOMMU can track. */
static int find_mock_devices(void)
{
	struct ioasid_cmd_device_get_info info;
	char *names[16], cdev[PATH_MAX], dir[PATH_MAX];
	int fd, vfd, n = 0, i;
	struct dirent *de;
	DIR *d;
	__u32 id;

	d = opendir(MOCK_VFIO_DRIVER);
	if (!d)
		return 0;
	while (n < 16 && (de = readdir(d)))
		if (!strncmp(de->d_name, "ioasid-mock-vfio.", 17))
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	fd = ioasid_open();
	for (i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%s/%s", MOCK_VFIO_DRIVER, names[i]);
		free(names[i]);
		if (fd < 0 || vfio_cdev_of(dir, cdev, sizeof(cdev)))
			continue;
		vfd = open(cdev, O_RDWR | O_CLOEXEC);
		if (vfd < 0)
			continue;
		if (!ioasid_vfio_bind(vfd, fd, LABEL, &id) &&
		    !ioasid_device_get_info(fd, id, &info)) {
			if (info.out_capabilities &
			    IOASID_DEVICE_CAP_DIRTY_TRACKING) {
				if (mock.ntracking < 2)
					snprintf(mock.tracking[mock.ntracking++],
						 PATH_MAX, "%s", cdev);
			} else if (!mock.have_blind) {
				snprintf(mock.blind, PATH_MAX, "%s", cdev);
				mock.have_blind = true;
			}
		}
		close(vfd);
	}
	if (fd >= 0)
		close(fd);
	return n;
}

/* Does PCI device @name's sysfs attribute @attr start with @want? */
static bool pci_attr_is(const char *name, const char *attr, const char *want)
{
	char path[PATH_MAX], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", PCI_DEVICES, name, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && !strncmp(buf, want, strlen(want));
}

/* An edu device (1234:11e8) that vfio-pci drives, by its cdev. */
static bool find_edu(char *cdev, size_t len, char *addr, size_t alen)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct dirent *de;
	bool found = false;
	ssize_t n;
	DIR *d;

	d = opendir(PCI_DEVICES);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    !pci_attr_is(de->d_name, "vendor", "0x1234") ||
		    !pci_attr_is(de->d_name, "device", "0x11e8"))
			continue;
		snprintf(path, sizeof(path), "%s/%s/driver", PCI_DEVICES,
			 de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!strstr(link, "/vfio-pci"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", PCI_DEVICES, de->d_name);
		if (!vfio_cdev_of(path, cdev, len)) {
			snprintf(addr, alen, "%s", de->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

static int engine(int vfd, struct ioasid_mock_vfio_engine *regs, bool set)
{
	regs->argsz = sizeof(*regs);
	regs->flags = set ? IOASID_MOCK_VFIO_ENGINE_SET : 0;
	return ioctl(vfd, IOASID_MOCK_VFIO_ENGINE, regs) ? -errno : 0;
}

/* Move the device to @state; a data fd the arc gives goes to @data_fd. */
static int set_state(int vfd, __u32 state, int *data_fd)
{
	struct {
		struct vfio_device_feature f;
		struct vfio_device_feature_mig_state mig;
	} cmd = {
		.f.argsz = sizeof(cmd),
		.f.flags = VFIO_DEVICE_FEATURE_SET |
			   VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		.mig.device_state = state,
		.mig.data_fd = -1,
	};

	if (ioctl(vfd, VFIO_DEVICE_FEATURE, &cmd))
		return -errno;
	if (data_fd)
		*data_fd = cmd.mig.data_fd;
	else if (cmd.mig.data_fd >= 0)
		close(cmd.mig.data_fd);
	return 0;
}

/* All a data fd has to give now, appended to @buf at *@len. */
static int read_data(int data_fd, __u8 *buf, size_t *len)
{
	ssize_t n;

	for (;;) {
		n = read(data_fd, buf + *len, STREAM_MAX - *len);
		if (n > 0) {
			*len += n;
			continue;
		}
		/* PRE_COPY says ENOMSG when nothing new is there yet. */
		if (n < 0 && errno == ENOMSG)
			return 0;
		return n < 0 ? -errno : 0;
	}
}

static int open_side(struct side *s, const char *cdev)
{
	int ret;

	s->vfd = -1;
	s->blind_fd = -1;
	s->fd = ioasid_open();
	if (s->fd < 0)
		return s->fd;
	s->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (s->ram == MAP_FAILED)
		return -errno;
	ret = ioasid_alloc(s->fd, &s->ioasid);
	ret = ret ?: ioasid_dma_map(s->fd, s->ioasid, s->ram, GPA, RAM_SIZE,
				    IOASID_DMA_MAP_READ |
				    IOASID_DMA_MAP_WRITE);
	if (ret)
		return ret;
	s->vfd = open(cdev, O_RDWR | O_CLOEXEC);
	if (s->vfd < 0)
		return -errno;
	ret = ioasid_vfio_bind(s->vfd, s->fd, LABEL, NULL);
	return ret ?: ioasid_vfio_attach(s->vfd, s->ioasid);
}

static void close_side(struct side *s)
{
	if (s->blind_fd >= 0)
		close(s->blind_fd);
	if (s->vfd >= 0)
		close(s->vfd);
	if (s->fd >= 0)
		close(s->fd);
	if (s->ram && s->ram != MAP_FAILED)
		munmap(s->ram, RAM_SIZE);
}

/* What one migration did. */
struct result {
	unsigned int rounds;
	unsigned long round_pages[MAX_ROUNDS + 2];
	unsigned long pages_sent;
	unsigned long final_pages;
	bool conservative;		/* some report was */
	bool ram_equal;			/* the sides' RAM, before it resumed */
	double downtime_ms;
	double total_ms;
	struct ioasid_mock_vfio_engine at_stop;
	__u64 src_hash;			/* the source's RAM at the stop */
};

static __u64 hash(const __u8 *p, size_t len)
{
	__u64 h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i += 8) {
		h ^= *(const __u64 *)(p + i);
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Copy the pages of the bitmap; how many. */
static unsigned long copy_dirty(struct side *src, struct side *dst,
				const __u64 *bitmap)
{
	unsigned long n = 0, p;

	for (p = 0; p < RAM_PAGES; p++)
		if (bitmap[p / 64] >> (p % 64) & 1) {
			memcpy(dst->ram + p * PAGE, src->ram + p * PAGE, PAGE);
			n++;
		}
	return n;
}

/* One dirty read of all RAM; its report or a negative errno. */
static int read_bitmap(struct side *src, __u64 *bitmap)
{
	__u32 report = 0;
	int ret;

	ret = ioasid_get_dirty_bitmap(src->fd, src->ioasid, GPA, RAM_SIZE,
				      PAGE, bitmap, 0, &report, NULL);
	return ret ?: (int)report;
}

static int migrate(struct side *src, struct side *dst, struct result *r)
{
	static __u64 bitmap[RAM_PAGES / 64];
	__u8 stream[STREAM_MAX];
	size_t stream_len = 0;
	int pre_fd = -1, stop_fd = -1, resume_fd = -1, report, ret;
	double t0 = now(), t_stop, t_check;
	__u32 start_report = 0;
	unsigned long n;

	memset(r, 0, sizeof(*r));
	ret = ioasid_dirty_tracking_start(src->fd, src->ioasid,
					  &start_report);
	if (ret)
		return ret;
	r->conservative = start_report == IOASID_DIRTY_REPORT_CONSERVATIVE;
	ret = set_state(src->vfd, VFIO_DEVICE_STATE_PRE_COPY, &pre_fd);
	if (ret)
		return ret;
	ret = read_data(pre_fd, stream, &stream_len);
	if (ret)
		goto out;

	/* Round 0: everything. */
	memcpy(dst->ram, src->ram, RAM_SIZE);
	r->round_pages[0] = RAM_PAGES;
	r->pages_sent = RAM_PAGES;
	for (r->rounds = 1; r->rounds <= MAX_ROUNDS; r->rounds++) {
		report = read_bitmap(src, bitmap);
		if (report < 0) {
			ret = report;
			goto out;
		}
		n = copy_dirty(src, dst, bitmap);
		r->round_pages[r->rounds] = n;
		r->pages_sent += n;
		/* A guess resends all it may: iterating cannot shrink it. */
		if (report == IOASID_DIRTY_REPORT_CONSERVATIVE) {
			r->conservative = true;
			break;
		}
		if (n <= CONVERGED)
			break;
	}

	/* Stop-and-copy: the guest is down from here to the resume. */
	t_stop = now();
	ret = set_state(src->vfd, VFIO_DEVICE_STATE_STOP_COPY, &stop_fd);
	if (ret)
		goto out;
	ret = read_data(stop_fd, stream, &stream_len);
	if (ret)
		goto out;
	report = read_bitmap(src, bitmap);
	if (report < 0) {
		ret = report;
		goto out;
	}
	r->conservative |= report == IOASID_DIRTY_REPORT_CONSERVATIVE;
	r->final_pages = copy_dirty(src, dst, bitmap);
	r->pages_sent += r->final_pages;
	ret = set_state(dst->vfd, VFIO_DEVICE_STATE_RESUMING, &resume_fd);
	if (ret)
		goto out;
	if (write(resume_fd, stream, stream_len) != (ssize_t)stream_len) {
		ret = -EIO;
		goto out;
	}
	ret = set_state(dst->vfd, VFIO_DEVICE_STATE_STOP, NULL);
	if (ret)
		goto out;
	/* The check is the tool's, not the migration's: off the clock. */
	t_check = now();
	r->ram_equal = !memcmp(src->ram, dst->ram, RAM_SIZE);
	t_stop += now() - t_check;
	t0 += now() - t_check;
	ret = set_state(dst->vfd, VFIO_DEVICE_STATE_RUNNING, NULL);
	if (ret)
		goto out;
	r->downtime_ms = (now() - t_stop) * 1e3;
	r->total_ms = (now() - t0) * 1e3;
	ret = engine(src->vfd, &r->at_stop, false);
	r->src_hash = hash(src->ram, RAM_SIZE);
out:
	if (pre_fd >= 0)
		close(pre_fd);
	if (stop_fd >= 0)
		close(stop_fd);
	if (resume_fd >= 0)
		close(resume_fd);
	ioasid_dirty_tracking_stop(src->fd, src->ioasid);
	return ret;
}

/* The slot the engine writes for @seq, as ioasid_test.h defines it. */
static bool slot_is(const __u8 *ram, __u64 seq)
{
	const __u64 *w = (const __u64 *)(ram + RING_OFFSET +
					 (seq % RING_SLOTS) * SLOT_SIZE);
	__u64 v = SEED ^ seq;
	unsigned int i;

	if (w[0] != seq || w[1] != v)
		return false;
	for (i = 2; i < SLOT_SIZE / 8; i++) {
		v = v * IOASID_MOCK_ENGINE_LCG_MUL + IOASID_MOCK_ENGINE_LCG_ADD;
		if (w[i] != v)
			return false;
	}
	return true;
}

/* Wait until @vfd's engine has written slot @seq. */
static bool wait_seq(int vfd, __u64 seq)
{
	struct ioasid_mock_vfio_engine regs;
	int ms;

	for (ms = 0; ms < WAIT_MS; ms++) {
		if (engine(vfd, &regs, false))
			return false;
		if (regs.seq > seq)
			return true;
		usleep(1000);
	}
	return false;
}

/* Checks after a migration: memory, registers, and the device runs on. */
static void check_result(struct side *src, struct side *dst,
			 const struct result *r, const char *what)
{
	struct ioasid_mock_vfio_engine regs;
	__u64 seq = r->at_stop.seq;

	check(r->ram_equal,
	      "%s: the destination's RAM is the source's at the stop, byte for byte",
	      what);
	check(!engine(dst->vfd, &regs, false) &&
	      regs.base == r->at_stop.base &&
	      regs.nslots == r->at_stop.nslots &&
	      regs.slot_size == r->at_stop.slot_size &&
	      regs.seed == r->at_stop.seed && regs.seq >= seq,
	      "%s: the destination's device has the source's registers", what);
	check(seq > 0 && slot_is(dst->ram, seq - 1),
	      "%s: the last slot before the stop (seq %llu) arrived", what,
	      (unsigned long long)seq - 1);
	check(wait_seq(dst->vfd, seq + 2) && slot_is(dst->ram, seq) &&
	      slot_is(dst->ram, seq + 1),
	      "%s: the destination's device carries on from seq %llu", what,
	      (unsigned long long)seq);
	check(hash(src->ram, RAM_SIZE) == r->src_hash &&
	      !engine(src->vfd, &regs, false) && regs.seq == seq,
	      "%s: the stopped source wrote nothing more", what);
}

static void report(const struct result *r, const char *what)
{
	unsigned int i;

	say("%s: %u pre-copy rounds after the full copy; pages per round:",
	    what, r->rounds);
	for (i = 0; i <= r->rounds && i <= MAX_ROUNDS; i++)
		printf(" %lu", r->round_pages[i]);
	printf("; stop-and-copy %lu\n", r->final_pages);
	say("%s: %lu pages sent (%lu KiB), %s reports, downtime %.1f ms, total %.0f ms\n",
	    what, r->pages_sent, r->pages_sent * PAGE / 1024,
	    r->conservative ? "conservative" : "exact", r->downtime_ms,
	    r->total_ms);
}

/* Program the source's engine and let it write for a while. */
static int start_engine(struct side *src)
{
	struct ioasid_mock_vfio_engine regs = {
		.base = GPA + RING_OFFSET,
		.nslots = RING_SLOTS,
		.slot_size = SLOT_SIZE,
		.seed = SEED,
		.ctrl = IOASID_MOCK_ENGINE_ENABLE,
	};
	int ret = engine(src->vfd, &regs, true);

	if (ret)
		return ret;
	return wait_seq(src->vfd, 16) ? 0 : -ETIMEDOUT;
}

/* The guest image: a pattern in every page, before the device runs. */
static void fill_guest(struct side *src)
{
	unsigned long i;

	for (i = 0; i < RAM_SIZE / 8; i++)
		((__u64 *)src->ram)[i] = i * 0x9e3779b97f4a7c15ULL;
}

/* A source with @blind attached beside its device; @blind_cdev, if any. */
static bool run(const char *what, const char *blind_cdev,
		struct result *r)
{
	struct side src = { .fd = -1 }, dst = { .fd = -1 };
	int ret;

	ret = open_side(&src, mock.tracking[0]);
	if (!check(!ret, "%s: source set up: %s", what, strerror(-ret)))
		goto out;
	ret = open_side(&dst, mock.tracking[1]);
	if (!check(!ret, "%s: destination set up: %s", what, strerror(-ret)))
		goto out;
	if (blind_cdev) {
		src.blind_fd = open(blind_cdev, O_RDWR | O_CLOEXEC);
		ret = src.blind_fd < 0 ? -errno : 0;
		ret = ret ?: ioasid_vfio_bind(src.blind_fd, src.fd, LABEL + 1,
					      NULL);
		ret = ret ?: ioasid_vfio_attach(src.blind_fd, src.ioasid);
		if (!check(!ret, "%s: %s attached to the source: %s", what,
			   blind_cdev, strerror(-ret)))
			goto out;
	}
	fill_guest(&src);
	ret = start_engine(&src);
	if (!check(!ret, "%s: the source's device writes its ring: %s", what,
		   strerror(-ret)))
		goto out;
	ret = migrate(&src, &dst, r);
	if (!check(!ret, "%s: migrated: %s", what, strerror(-ret)))
		goto out;
	report(r, what);
	check(r->conservative == !!blind_cdev,
	      "%s: the reports were %s", what,
	      blind_cdev ? "conservative" : "exact");
	check_result(&src, &dst, r, what);
	ret = 0;
out:
	close_side(&src);
	close_side(&dst);
	return !ret;
}

int main(int argc, char **argv)
{
	char edu_cdev[PATH_MAX], edu_addr[NAME_MAX + 1], blind_what[PATH_MAX + 64];
	struct result exact, guess;
	const char *blind;

	tap = argc > 1 && !strcmp(argv[1], "--tap");
	if (argc > 1 + tap) {
		fprintf(stderr, "usage: %s [--tap]\n", argv[0]);
		return 2;
	}
	if (tap)
		printf("TAP version 13\n");
	find_mock_devices();
	if (mock.ntracking < 2) {
		if (tap)
			printf("1..0 # SKIP no two mock VFIO devices that track dirty pages\n");
		else
			printf("migration: SKIP (no mock VFIO devices: not a test kernel)\n");
		return EXIT_SKIP;
	}
	say("live migration of 16 MiB of guest RAM and a running device,\n");
	say("from one ioasid fd to another\n");
	if (!run("exact", NULL, &exact))
		goto done;

	if (find_edu(edu_cdev, sizeof(edu_cdev), edu_addr, sizeof(edu_addr))) {
		blind = edu_cdev;
		snprintf(blind_what, sizeof(blind_what),
			 "edu %s on the emulated VT-d", edu_addr);
	} else if (mock.have_blind) {
		blind = mock.blind;
		snprintf(blind_what, sizeof(blind_what),
			 "a mock device whose IOMMU cannot track (no edu bound to vfio-pci)");
	} else {
		check(false, "a device whose IOMMU cannot track dirty pages");
		goto done;
	}
	say("again, with %s attached to the source IOASID\n", blind_what);
	if (!run("conservative", blind, &guess))
		goto done;
	say("conservative: %lu more pages sent than exact (%.1fx)\n",
	    guess.pages_sent - exact.pages_sent,
	    (double)guess.pages_sent / exact.pages_sent);
	check(guess.pages_sent > exact.pages_sent,
	      "conservative tracking sends more than exact");
done:
	if (tap)
		printf("1..%u\n", ntap);
	else
		printf("migration: %s\n", nfailed ? "FAIL" : "PASS");
	return nfailed ? 1 : 0;
}
