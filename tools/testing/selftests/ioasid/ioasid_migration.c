// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests for the mock VFIO device's DMA engine and its VFIO migration
 * (uAPI v2: VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE and its data fds).
 *
 * Two mock VFIO devices, each bound to its own ioasid fd with its own
 * guest RAM mapped at the same GPA, play the source and the destination
 * of a live migration in one process. The engine writes a ring of slots
 * whose contents follow from the sequence number and the seed, so every
 * byte of guest RAM can be checked against what the registers say.
 */
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <linux/vfio.h>

#include "ioasid_utils.h"

#define GPA		0x100000UL
#define MEM_PAGES	16
#define REC		sizeof(struct ioasid_mock_vfio_mig_record)
#define WAIT_MS		20000

enum { SRC, DST };

FIXTURE(mig) {
	int ioasid_fd[2];
	int fd[2];			/* VFIO device fds */
	char cdev[2][PATH_MAX];
	__u32 ioasid[2];
	__u8 *mem[2];			/* guest RAM of each side */
	size_t mem_size;
	__u32 ref0[2][MEM_PAGES];
	long pin0;
};

/* The vfioN cdev of mock VFIO device ioasid-mock-vfio.@nr[.auto]. */
static int mock_cdev(int nr, char *cdev, size_t len)
{
	const char *drv = "/sys/bus/platform/drivers/ioasid-mock-vfio";
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int i;

	for (i = 0; i != 2; i++) {
		snprintf(path, sizeof(path), "%s/ioasid-mock-vfio.%d%s/vfio-dev",
			 drv, nr, i ? ".auto" : "");
		dir = opendir(path);
		if (dir)
			break;
	}
	if (!dir)
		return -ENODEV;
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(cdev, len, "/dev/vfio/devices/%s", de->d_name);
			closedir(dir);
			return 0;
		}
	closedir(dir);
	return -ENODEV;
}

/* The lowest-numbered mock VFIO devices, in order. */
static int find_mock_cdevs(char cdev[][PATH_MAX], int want)
{
	int nr, n = 0;

	for (nr = 0; nr != 64 && n < want; nr++)
		if (!mock_cdev(nr, cdev[n], PATH_MAX))
			n++;
	return n;
}

static int bind_fd(int vfio_fd, int ioasid_fd)
{
	struct vfio_device_bind_ioasid_fd bind = {
		.argsz = sizeof(bind),
		.ioasid_fd = ioasid_fd,
	};

	return ioasid_ioctl(vfio_fd, VFIO_BIND_IOASID_FD, &bind);
}

static int attach_fd(int vfio_fd, unsigned long req, __u32 ioasid)
{
	struct vfio_device_attach_ioasid cmd = {
		.argsz = sizeof(cmd),
		.ioasid = ioasid,
	};

	return ioasid_ioctl(vfio_fd, req, &cmd);
}

/* Open the device of side @i and bind and attach it to that side's fd. */
static void open_side(struct __test_metadata *_metadata,
		      FIXTURE_DATA(mig) * self, int i)
{
	self->fd[i] = open(self->cdev[i], O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd[i]);
	test_cmd(bind_fd(self->fd[i], self->ioasid_fd[i]));
	test_cmd(attach_fd(self->fd[i], VFIO_ATTACH_IOASID, self->ioasid[i]));
}

FIXTURE_SETUP(mig)
{
	int i, p;

	for (i = 0; i != 2; i++) {
		self->fd[i] = -1;
		self->ioasid_fd[i] = -1;
	}
	if (find_mock_cdevs(self->cdev, 2) < 2)
		SKIP(return, "fewer than two mock VFIO devices with a cdev");
	self->mem_size = MEM_PAGES * PAGE_SIZE;
	self->pin0 = vm_pinned_kb();
	for (i = 0; i != 2; i++) {
		int fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);

		ASSERT_LE(0, fd);
		self->ioasid_fd[i] = fd;
		self->mem[i] = mmap(NULL, self->mem_size,
				    PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->mem[i]);
		memset(self->mem[i], 0, self->mem_size);
		for (p = 0; p != MEM_PAGES; p++)
			ASSERT_EQ(0, page_ref(fd, self->mem[i] + p * PAGE_SIZE,
					      &self->ref0[i][p], NULL));
		test_ioctl_alloc(fd, &self->ioasid[i]);
		test_ioctl_map(fd, self->ioasid[i], self->mem[i], GPA,
			       self->mem_size);
		open_side(_metadata, self, i);
	}
}

FIXTURE_TEARDOWN(mig)
{
	int i;

	for (i = 0; i != 2; i++) {
		if (self->fd[i] >= 0)
			close(self->fd[i]);
		if (self->ioasid_fd[i] >= 0)
			close(self->ioasid_fd[i]);
	}
}

/* Everything closed: no page of either side stays pinned or referenced. */
static void close_and_check_released(struct __test_metadata *_metadata,
				     FIXTURE_DATA(mig) * self)
{
	int i;

	for (i = 0; i != 2; i++) {
		close(self->fd[i]);
		self->fd[i] = -1;
		close(self->ioasid_fd[i]);
		self->ioasid_fd[i] = -1;
	}
	for (i = 0; i != 2; i++)
		check_pages_released(self->mem[i], MEM_PAGES, self->ref0[i],
				     self->pin0);
}

static int mig_feature(int fd, __u32 flags, __u32 *state, int *data_fd)
{
	struct {
		struct vfio_device_feature f;
		struct vfio_device_feature_mig_state mig;
	} cmd = {
		.f.argsz = sizeof(cmd),
		.f.flags = flags | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		.mig.device_state = *state,
		.mig.data_fd = -1,
	};
	int ret = ioasid_ioctl(fd, VFIO_DEVICE_FEATURE, &cmd);

	*state = cmd.mig.device_state;
	if (data_fd)
		*data_fd = cmd.mig.data_fd;
	return ret;
}

/* Move to @state; the data fd the arc gives, or -1, goes to @data_fd. */
static int _set_state(int fd, __u32 state, int *data_fd)
{
	return mig_feature(fd, VFIO_DEVICE_FEATURE_SET, &state, data_fd);
}

static __u32 get_state(int fd)
{
	__u32 state = 0;

	if (mig_feature(fd, VFIO_DEVICE_FEATURE_GET, &state, NULL))
		return ~0U;
	return state;
}

#define set_state(fd, state, data_fd) \
	test_cmd(_set_state(fd, state, data_fd))

static int reset_device(int fd)
{
	return ioasid_ioctl(fd, VFIO_DEVICE_RESET, NULL);
}

static int _engine(int fd, struct ioasid_mock_vfio_engine *regs, bool set)
{
	regs->argsz = sizeof(*regs);
	regs->flags = set ? IOASID_MOCK_VFIO_ENGINE_SET : 0;
	return ioasid_ioctl(fd, IOASID_MOCK_VFIO_ENGINE, regs);
}

static struct ioasid_mock_vfio_engine engine_get(int fd)
{
	struct ioasid_mock_vfio_engine regs = {};

	if (_engine(fd, &regs, false))
		regs.argsz = 0;
	return regs;
}

static int _program(int fd, __u64 base, __u32 nslots, __u32 slot_size,
		    __u64 seq, __u64 seed, __u32 ctrl)
{
	struct ioasid_mock_vfio_engine regs = {
		.base = base,
		.nslots = nslots,
		.slot_size = slot_size,
		.seq = seq,
		.seed = seed,
		.ctrl = ctrl,
	};

	return _engine(fd, &regs, true);
}

#define program(fd, base, n, size, seq, seed) \
	test_cmd(_program(fd, base, n, size, seq, seed, \
			  IOASID_MOCK_ENGINE_ENABLE))

static void sleep_ms(unsigned int ms)
{
	usleep(ms * 1000);
}

/* Wait until the engine's seq reaches @seq, or it stops for good. */
static __u64 wait_seq(int fd, __u64 seq)
{
	struct ioasid_mock_vfio_engine regs;
	int i;

	for (i = 0; i != WAIT_MS; i++) {
		regs = engine_get(fd);
		if (regs.seq >= seq || !(regs.status & IOASID_MOCK_ENGINE_ACTIVE))
			return regs.seq;
		sleep_ms(1);
	}
	return regs.seq;
}

/* The slot the engine writes for @seq, as ioasid_test.h defines it. */
static void expected_slot(__u64 *slot, __u32 slot_size, __u64 seq,
			  __u64 seed)
{
	__u64 word = seed ^ seq;
	unsigned int i;

	slot[0] = seq;
	for (i = 1; i != slot_size / 8; i++) {
		slot[i] = word;
		word = word * IOASID_MOCK_ENGINE_LCG_MUL +
		       IOASID_MOCK_ENGINE_LCG_ADD;
	}
}

/*
 * Each slot of the ring in @mem is either never written (zero) or holds
 * the last seq below @next that falls on it, byte for byte.
 */
static bool ring_matches(const __u8 *mem, const struct ioasid_mock_vfio_engine *r,
			 __u64 next)
{
	__u64 want[IOASID_MOCK_ENGINE_SLOT_MAX / 8];
	__u32 s;

	for (s = 0; s != r->nslots; s++) {
		const __u8 *slot = mem + (r->base - GPA) + s * r->slot_size;
		__u64 seq;

		if (next <= s) {
			unsigned int i;

			for (i = 0; i != r->slot_size; i++)
				if (slot[i])
					return false;
			continue;
		}
		seq = s + (next - 1 - s) / r->nslots * r->nslots;
		expected_slot(want, r->slot_size, seq, r->seed);
		if (memcmp(slot, want, r->slot_size))
			return false;
	}
	return true;
}

static bool all_zero_bytes(const __u8 *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

/* Read the data fd until end of stream (0) or, in PRE_COPY, ENOMSG. */
static ssize_t read_stream(int data_fd, __u8 *buf, size_t max)
{
	size_t got = 0;
	ssize_t n;

	while (got < max) {
		n = read(data_fd, buf + got, max - got);
		if (n < 0)
			return errno == ENOMSG ? (ssize_t)got : -errno;
		if (!n)
			break;
		got += n;
	}
	return got;
}

static int precopy_info(int data_fd, struct vfio_precopy_info *info)
{
	*info = (struct vfio_precopy_info){ .argsz = sizeof(*info) };
	return ioasid_ioctl(data_fd, VFIO_MIG_GET_PRECOPY_INFO, info);
}

/* Write @len bytes to @data_fd in pieces of @chunk; 0 or -errno. */
static int write_stream(int data_fd, const __u8 *buf, size_t len,
			size_t chunk)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(data_fd, buf + done,
			  len - done < chunk ? len - done : chunk);
		if (n < 0)
			return -errno;
		done += n;
	}
	return 0;
}

/* A whole saved stream of @fd's device: STOP, STOP_COPY, read, STOP. */
static ssize_t save_stopped(int fd, __u8 *buf, size_t max)
{
	int data_fd;
	ssize_t n;

	if (_set_state(fd, VFIO_DEVICE_STATE_STOP_COPY, &data_fd))
		return -1;
	n = read_stream(data_fd, buf, max);
	close(data_fd);
	if (_set_state(fd, VFIO_DEVICE_STATE_STOP, NULL))
		return -1;
	return n;
}

TEST_F(mig, migration_flags)
{
	struct {
		struct vfio_device_feature f;
		struct vfio_device_feature_migration mig;
	} feat = {
		.f.argsz = sizeof(feat),
		.f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
	};
	struct {
		struct vfio_device_feature f;
		struct vfio_device_feature_mig_data_size size;
	} size = {
		.f.argsz = sizeof(size),
		.f.flags = VFIO_DEVICE_FEATURE_GET |
			   VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
	};
	struct vfio_device_info info = { .argsz = sizeof(info) };

	test_cmd(ioasid_ioctl(self->fd[SRC], VFIO_DEVICE_FEATURE, &feat));
	ASSERT_EQ(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
		  feat.mig.flags);
	test_cmd(ioasid_ioctl(self->fd[SRC], VFIO_DEVICE_FEATURE, &size));
	ASSERT_EQ(REC, size.size.stop_copy_length);
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, get_state(self->fd[SRC]));
	/* The feature can only be read. */
	feat.f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIGRATION;
	test_err_cmd(EINVAL, ioasid_ioctl(self->fd[SRC], VFIO_DEVICE_FEATURE,
					  &feat));
	test_cmd(ioasid_ioctl(self->fd[SRC], VFIO_DEVICE_GET_INFO, &info));
	ASSERT_TRUE(info.flags & VFIO_DEVICE_FLAGS_RESET);
}

static const __u32 states[] = {
	VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_STOP,
	VFIO_DEVICE_STATE_PRE_COPY, VFIO_DEVICE_STATE_STOP_COPY,
	VFIO_DEVICE_STATE_RESUMING,
};

static bool gives_fd(__u32 from, __u32 to)
{
	return from != to && (to == VFIO_DEVICE_STATE_PRE_COPY ||
			      to == VFIO_DEVICE_STATE_STOP_COPY ||
			      to == VFIO_DEVICE_STATE_RESUMING);
}

/*
 * From every state to every state, direct arcs and the combinations the
 * core walks; the one forbidden arc and the states not offered fail.
 */
TEST_F(mig, every_arc)
{
	static const __u32 not_offered[] = {
		VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_PRE_COPY_P2P,
		VFIO_DEVICE_STATE_ERROR, 99,
	};
	__u8 stream[4 * REC];
	ssize_t len;
	unsigned int f, t;
	int data_fd, fd2;

	program(self->fd[SRC], GPA, 4, 64, 0, 7);
	test_cmd(_program(self->fd[SRC], GPA, 4, 64, 0, 7, 0));
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_STOP, NULL);
	len = save_stopped(self->fd[SRC], stream, sizeof(stream));
	ASSERT_EQ(REC, len);

	for (f = 0; f != ARRAY_SIZE(states); f++) {
		for (t = 0; t != ARRAY_SIZE(states); t++) {
			__u32 from = states[f], to = states[t];
			int ret;

			test_cmd(reset_device(self->fd[SRC]));
			ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING,
				  get_state(self->fd[SRC]));
			set_state(self->fd[SRC], from, &data_fd);
			ASSERT_EQ(gives_fd(VFIO_DEVICE_STATE_RUNNING, from),
				  data_fd >= 0);
			if (from == VFIO_DEVICE_STATE_RESUMING)
				test_cmd(write_stream(data_fd, stream, len,
						      len));
			ret = _set_state(self->fd[SRC], to, &fd2);
			if (from == VFIO_DEVICE_STATE_STOP_COPY &&
			    to == VFIO_DEVICE_STATE_PRE_COPY) {
				ASSERT_EQ(-EINVAL, ret);
				ASSERT_EQ(from, get_state(self->fd[SRC]));
			} else {
				ASSERT_EQ(0, ret)
					TH_LOG("%u -> %u: %s", from, to,
					       errno_name(-ret));
				ASSERT_EQ(to, get_state(self->fd[SRC]));
			}
			ASSERT_EQ(!ret && gives_fd(from, to), fd2 >= 0);
			if (fd2 >= 0)
				close(fd2);
			if (data_fd >= 0)
				close(data_fd);
		}
	}
	/* States the device does not offer are refused from anywhere. */
	test_cmd(reset_device(self->fd[SRC]));
	for (t = 0; t != ARRAY_SIZE(not_offered); t++) {
		int ret = _set_state(self->fd[SRC], not_offered[t], &data_fd);

		ASSERT_EQ(-EINVAL, ret);
		ASSERT_EQ(-1, data_fd);
		ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, get_state(self->fd[SRC]));
	}
	close_and_check_released(_metadata, self);
}

/* The engine writes only while RUNNING: not a byte moves in STOP. */
TEST_F(mig, engine_writes_only_while_running)
{
	struct ioasid_mock_vfio_engine r;
	__u8 *copy = malloc(self->mem_size);
	__u64 seq;

	ASSERT_NE(NULL, copy);
	r = engine_get(self->fd[SRC]);
	ASSERT_EQ(sizeof(r), r.argsz);
	ASSERT_EQ(0, r.seq);
	ASSERT_EQ(0, r.ctrl);
	program(self->fd[SRC], GPA + 0x1000, 8, 64, 100, 0x5eed);
	seq = wait_seq(self->fd[SRC], 130);
	ASSERT_LE(130, seq);

	set_state(self->fd[SRC], VFIO_DEVICE_STATE_STOP, NULL);
	r = engine_get(self->fd[SRC]);
	ASSERT_EQ(0, r.status);
	ASSERT_EQ(IOASID_MOCK_ENGINE_ENABLE, r.ctrl);
	ASSERT_TRUE(ring_matches(self->mem[SRC], &r, r.seq));
	/* Nothing outside the ring. */
	ASSERT_TRUE(all_zero_bytes(self->mem[SRC], 0x1000));
	ASSERT_TRUE(all_zero_bytes(self->mem[SRC] + 0x1000 + 8 * 64,
				   self->mem_size - 0x1000 - 8 * 64));
	memcpy(copy, self->mem[SRC], self->mem_size);
	sleep_ms(200);
	ASSERT_EQ(0, memcmp(copy, self->mem[SRC], self->mem_size));
	ASSERT_EQ(r.seq, engine_get(self->fd[SRC]).seq);

	/* Registers may be written while stopped; it runs from them after. */
	program(self->fd[SRC], GPA + 0x1000, 8, 64, r.seq, 0x5eed);
	sleep_ms(100);
	ASSERT_EQ(0, memcmp(copy, self->mem[SRC], self->mem_size));
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_RUNNING, NULL);
	ASSERT_LE(r.seq + 10, wait_seq(self->fd[SRC], r.seq + 10));
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_STOP, NULL);
	r = engine_get(self->fd[SRC]);
	ASSERT_TRUE(ring_matches(self->mem[SRC], &r, r.seq));
	free(copy);
	close_and_check_released(_metadata, self);
}

/* A DMA that faults is counted and stops the engine; bad registers fail. */
TEST_F(mig, engine_faults_and_bad_registers)
{
	struct ioasid_mock_vfio_engine r = {};
	struct vfio_device_unbind_ioasid_fd unbind = {
		.argsz = sizeof(unbind),
	};

	/* The ring runs off the end of guest RAM: the last slot faults. */
	program(self->fd[SRC], GPA + self->mem_size - 3 * 64, 4, 64, 0, 1);
	ASSERT_EQ(3, wait_seq(self->fd[SRC], 4));
	r = engine_get(self->fd[SRC]);
	ASSERT_EQ(IOASID_MOCK_ENGINE_FAULTED, r.status);
	ASSERT_EQ(0, r.ctrl);
	ASSERT_EQ(1, r.faults);
	sleep_ms(50);
	ASSERT_EQ(1, engine_get(self->fd[SRC]).faults);

	/* A write clears FAULTED; faults only counts. */
	program(self->fd[SRC], GPA, 4, 64, 3, 1);
	ASSERT_LE(20, wait_seq(self->fd[SRC], 20));
	r = engine_get(self->fd[SRC]);
	ASSERT_EQ(IOASID_MOCK_ENGINE_ACTIVE, r.status);
	ASSERT_EQ(1, r.faults);

	/* Detached, it faults and stops; attached again, it can go on. */
	test_cmd(attach_fd(self->fd[SRC], VFIO_DETACH_IOASID,
			   self->ioasid[SRC]));
	wait_seq(self->fd[SRC], ~0ULL);
	r = engine_get(self->fd[SRC]);
	ASSERT_EQ(IOASID_MOCK_ENGINE_FAULTED, r.status);
	ASSERT_EQ(2, r.faults);
	test_cmd(attach_fd(self->fd[SRC], VFIO_ATTACH_IOASID,
			   self->ioasid[SRC]));
	program(self->fd[SRC], GPA, 4, 64, r.seq, 1);
	ASSERT_LE(r.seq + 5, wait_seq(self->fd[SRC], r.seq + 5));

	/* Unbound from the ioasid fd, the same. */
	test_cmd(ioasid_ioctl(self->fd[SRC], VFIO_UNBIND_IOASID_FD, &unbind));
	wait_seq(self->fd[SRC], ~0ULL);
	r = engine_get(self->fd[SRC]);
	ASSERT_EQ(IOASID_MOCK_ENGINE_FAULTED, r.status);
	ASSERT_EQ(3, r.faults);

	/* Registers it cannot run from. */
	test_err_cmd(EINVAL, _program(self->fd[DST], GPA, 4, 12, 0, 0,
				      IOASID_MOCK_ENGINE_ENABLE));
	test_err_cmd(EINVAL, _program(self->fd[DST], GPA, 0, 64, 0, 0,
				      IOASID_MOCK_ENGINE_ENABLE));
	test_err_cmd(EINVAL, _program(self->fd[DST], GPA, 4, 0, 0, 0,
				      IOASID_MOCK_ENGINE_ENABLE));
	test_err_cmd(EINVAL, _program(self->fd[DST], GPA + 4, 4, 64, 0, 0,
				      IOASID_MOCK_ENGINE_ENABLE));
	test_err_cmd(EINVAL, _program(self->fd[DST], GPA, 4, 8192, 0, 0,
				      IOASID_MOCK_ENGINE_ENABLE));
	test_err_cmd(EINVAL, _program(self->fd[DST], GPA, 65537, 8, 0, 0, 0));
	test_err_cmd(EINVAL, _program(self->fd[DST], ~0ULL - 7, 2, 8, 0, 0,
				      0));
	test_err_cmd(EINVAL, _program(self->fd[DST], GPA, 4, 64, 0, 0, 2));
	r = (struct ioasid_mock_vfio_engine){ .argsz = sizeof(r), .flags = 2 };
	test_err_cmd(EINVAL, ioasid_ioctl(self->fd[DST],
					  IOASID_MOCK_VFIO_ENGINE, &r));
	r = (struct ioasid_mock_vfio_engine){ .argsz = 8 };
	test_err_cmd(EINVAL, ioasid_ioctl(self->fd[DST],
					  IOASID_MOCK_VFIO_ENGINE, &r));
	/* Disabled, a zero geometry is the reset value. */
	test_cmd(_program(self->fd[DST], 0, 0, 0, 0, 0, 0));
	close_and_check_released(_metadata, self);
}

/* The registers are what migrates: they are frozen outside RUNNING/STOP. */
TEST_F(mig, engine_busy_while_migrating)
{
	static const __u32 busy[] = {
		VFIO_DEVICE_STATE_PRE_COPY, VFIO_DEVICE_STATE_STOP_COPY,
		VFIO_DEVICE_STATE_RESUMING,
	};
	unsigned int i;
	int data_fd;

	for (i = 0; i != ARRAY_SIZE(busy); i++) {
		test_cmd(reset_device(self->fd[SRC]));
		set_state(self->fd[SRC], busy[i], &data_fd);
		test_err_cmd(EBUSY, _program(self->fd[SRC], GPA, 4, 64, 0, 0,
					     IOASID_MOCK_ENGINE_ENABLE));
		ASSERT_EQ(sizeof(struct ioasid_mock_vfio_engine),
			  engine_get(self->fd[SRC]).argsz);
		close(data_fd);
	}
	test_cmd(reset_device(self->fd[SRC]));
	program(self->fd[SRC], GPA, 4, 64, 0, 0);
	close_and_check_released(_metadata, self);
}

/* PRE_COPY: initial_bytes and dirty_bytes shrink as the data is read. */
TEST_F(mig, precopy_info_and_reads)
{
	struct ioasid_mock_vfio_mig_record rec;
	struct vfio_precopy_info info;
	__u8 buf[2 * REC];
	int data_fd, fd2;

	/* Idle: one initial record and nothing dirty. */
	test_cmd(_program(self->fd[SRC], GPA, 4, 64, 5, 9, 0));
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_PRE_COPY, &data_fd);
	ASSERT_LE(0, data_fd);
	test_cmd(precopy_info(data_fd, &info));
	ASSERT_EQ(REC, info.initial_bytes);
	ASSERT_EQ(0, info.dirty_bytes);
	ASSERT_EQ(10, read(data_fd, buf, 10));
	test_cmd(precopy_info(data_fd, &info));
	ASSERT_EQ(REC - 10, info.initial_bytes);
	ASSERT_EQ(REC - 10, read(data_fd, buf + 10, sizeof(buf) - 10));
	test_cmd(precopy_info(data_fd, &info));
	ASSERT_EQ(0, info.initial_bytes);
	ASSERT_EQ(0, info.dirty_bytes);
	ASSERT_EQ(-1, read(data_fd, buf, sizeof(buf)));
	ASSERT_EQ(ENOMSG, errno);
	memcpy(&rec, buf, REC);
	ASSERT_EQ(IOASID_MOCK_VFIO_MIG_MAGIC, rec.magic);
	ASSERT_EQ(IOASID_MOCK_VFIO_MIG_VERSION, rec.version);
	ASSERT_EQ(0, rec.flags);
	ASSERT_EQ(sizeof(rec.regs), rec.length);
	ASSERT_EQ(5, rec.regs.seq);
	ASSERT_EQ(9, rec.regs.seed);
	/* No seeking on a stream. */
	ASSERT_EQ(-1, pread(data_fd, buf, 1, 0));
	ASSERT_EQ(ESPIPE, errno);
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_RUNNING, NULL);
	close(data_fd);

	/* Running: state changes after the initial record are dirty. */
	program(self->fd[SRC], GPA, 4, 64, 0, 9);
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_PRE_COPY, &data_fd);
	ASSERT_EQ(REC, read_stream(data_fd, buf, REC));
	/* Stop it dead with a fault, so the dirty state holds still. */
	test_cmd(attach_fd(self->fd[SRC], VFIO_DETACH_IOASID,
			   self->ioasid[SRC]));
	wait_seq(self->fd[SRC], ~0ULL);
	ASSERT_EQ(IOASID_MOCK_ENGINE_FAULTED,
		  engine_get(self->fd[SRC]).status);
	test_cmd(precopy_info(data_fd, &info));
	ASSERT_EQ(0, info.initial_bytes);
	ASSERT_EQ(REC, info.dirty_bytes);
	ASSERT_EQ(8, read(data_fd, buf, 8));
	test_cmd(precopy_info(data_fd, &info));
	ASSERT_EQ(REC - 8, info.dirty_bytes);
	ASSERT_EQ(REC - 8, read_stream(data_fd, buf + 8, sizeof(buf)));
	test_cmd(precopy_info(data_fd, &info));
	ASSERT_EQ(0, info.dirty_bytes);
	memcpy(&rec, buf, REC);
	ASSERT_EQ(1, rec.regs.faults);
	ASSERT_EQ(IOASID_MOCK_ENGINE_FAULTED, rec.regs.status);
	ASSERT_EQ(0, rec.flags);

	/* STOP_COPY continues the same stream with the final record. */
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_STOP_COPY, &fd2);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(REC, read_stream(fd2, buf, sizeof(buf)));
	memcpy(&rec, buf, REC);
	ASSERT_EQ(IOASID_MOCK_VFIO_MIG_FINAL, rec.flags);
	ASSERT_EQ(0, read(data_fd, buf, sizeof(buf)));
	test_err_cmd(EINVAL, precopy_info(fd2, &info));
	close(fd2);
	close(data_fd);
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_STOP, NULL);

	/* Not on a resuming fd, nor without the argsz. */
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_RESUMING, &data_fd);
	test_err_cmd(ENOTTY, precopy_info(data_fd, &info));
	close(data_fd);
	test_cmd(reset_device(self->fd[SRC]));
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_PRE_COPY, &data_fd);
	info.argsz = 8;
	test_err_cmd(EINVAL, ioasid_ioctl(data_fd, VFIO_MIG_GET_PRECOPY_INFO,
					  &info));
	close(data_fd);
	close_and_check_released(_metadata, self);
}

/*
 * The whole migration: the source runs its engine into its guest RAM,
 * pre-copies, stops and copies; guest RAM is copied over; the destination
 * resumes from the stream and runs on from the source's next slot.
 */
TEST_F(mig, migrate_device)
{
	const __u64 base = GPA + 0x2000, seed = 0xfeedface12345678ULL;
	const __u32 nslots = 64, slot_size = 256;
	struct ioasid_mock_vfio_engine src, dst;
	__u8 *at_stop = malloc(self->mem_size);
	__u8 stream[16 * REC], *slot;
	struct vfio_precopy_info info;
	int data_fd, fd2, rounds = 0;
	size_t len = 0;
	ssize_t n;
	__u64 seq;
	__u32 s;

	ASSERT_NE(NULL, at_stop);
	program(self->fd[SRC], base, nslots, slot_size, 0, seed);
	ASSERT_LE(30, wait_seq(self->fd[SRC], 30));

	/* Pre-copy while the engine goes on writing. */
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_PRE_COPY, &data_fd);
	seq = engine_get(self->fd[SRC]).seq;
	do {
		n = read_stream(data_fd, stream + len, REC);
		ASSERT_LE(0, n);
		len += n;
		test_cmd(precopy_info(data_fd, &info));
	} while (info.initial_bytes && len < sizeof(stream) - 4 * REC);
	ASSERT_EQ(0, info.initial_bytes);
	/* Running on in PRE_COPY leaves dirty state behind. */
	ASSERT_LE(seq + 5, wait_seq(self->fd[SRC], seq + 5));
	test_cmd(precopy_info(data_fd, &info));
	ASSERT_EQ(REC, info.dirty_bytes);
	while (info.dirty_bytes && rounds++ < 2) {
		n = read_stream(data_fd, stream + len, REC);
		ASSERT_EQ(REC, n);
		len += n;
		test_cmd(precopy_info(data_fd, &info));
	}

	/* Stop and copy: the rest of the stream, then guest RAM. */
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_STOP_COPY, &fd2);
	n = read_stream(fd2, stream + len, sizeof(stream) - len);
	ASSERT_EQ(REC, n);
	len += n;
	close(fd2);
	close(data_fd);
	src = engine_get(self->fd[SRC]);
	ASSERT_EQ(0, src.status);
	ASSERT_LE(seq + 5, src.seq);
	memcpy(at_stop, self->mem[SRC], self->mem_size);
	ASSERT_TRUE(ring_matches(at_stop, &src, src.seq));
	memcpy(self->mem[DST], self->mem[SRC], self->mem_size);
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_STOP, NULL);

	/* Resume, in odd-sized writes to cut records anywhere. */
	set_state(self->fd[DST], VFIO_DEVICE_STATE_RESUMING, &data_fd);
	ASSERT_LE(0, data_fd);
	test_cmd(write_stream(data_fd, stream, len, 7));
	set_state(self->fd[DST], VFIO_DEVICE_STATE_STOP, NULL);
	close(data_fd);
	dst = engine_get(self->fd[DST]);
	ASSERT_EQ(src.base, dst.base);
	ASSERT_EQ(src.nslots, dst.nslots);
	ASSERT_EQ(src.slot_size, dst.slot_size);
	ASSERT_EQ(src.seq, dst.seq);
	ASSERT_EQ(src.seed, dst.seed);
	ASSERT_EQ(src.ctrl, dst.ctrl);
	ASSERT_EQ(0, dst.status);
	/* Loaded, not running: nothing written yet. */
	sleep_ms(50);
	ASSERT_EQ(0, memcmp(at_stop, self->mem[DST], self->mem_size));

	set_state(self->fd[DST], VFIO_DEVICE_STATE_RUNNING, NULL);
	ASSERT_LE(src.seq + 20, wait_seq(self->fd[DST], src.seq + 20));
	set_state(self->fd[DST], VFIO_DEVICE_STATE_STOP, NULL);
	dst = engine_get(self->fd[DST]);
	ASSERT_GT(src.seq + nslots, dst.seq);

	/* The destination went on from the source's next slot, exactly. */
	ASSERT_TRUE(ring_matches(self->mem[DST], &dst, dst.seq));
	slot = self->mem[DST] + (base - GPA) + src.seq % nslots * slot_size;
	ASSERT_EQ(src.seq, *(__u64 *)slot);
	/* Slots it has not reached yet still hold the source's data. */
	for (s = 0; s != nslots; s++) {
		__u64 off = (base - GPA) + s * slot_size;

		if ((s + nslots - src.seq % nslots) % nslots <
		    dst.seq - src.seq)
			continue;
		ASSERT_EQ(0, memcmp(at_stop + off, self->mem[DST] + off,
				    slot_size));
	}
	/* And nothing landed in the source's memory. */
	ASSERT_EQ(0, memcmp(at_stop, self->mem[SRC], self->mem_size));
	free(at_stop);
	close_and_check_released(_metadata, self);
}

static void corrupt_and_resume(struct __test_metadata *_metadata, int fd,
			       const __u8 *good, size_t len, size_t off,
			       __u8 xor, int err)
{
	__u8 bad[8 * REC];
	int data_fd;

	memcpy(bad, good, len);
	bad[off] ^= xor;
	set_state(fd, VFIO_DEVICE_STATE_RESUMING, &data_fd);
	test_err_cmd(err, write_stream(data_fd, bad, len, len));
	/* The session stays refused, and the arc out of it fails. */
	test_err_cmd(err, write_stream(data_fd, good, len, len));
	test_err_cmd(EINVAL, _set_state(fd, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(VFIO_DEVICE_STATE_RESUMING, get_state(fd));
	close(data_fd);
	/* A reset ends it, and the device is as good as new. */
	test_cmd(reset_device(fd));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, get_state(fd));
	ASSERT_EQ(0, engine_get(fd).nslots);
}

TEST_F(mig, bad_streams)
{
	const size_t regs = offsetof(struct ioasid_mock_vfio_mig_record, regs);
	struct ioasid_mock_vfio_mig_record *rec;
	__u8 good[4 * REC], pre[REC];
	ssize_t len;
	int data_fd;

	test_cmd(_program(self->fd[SRC], GPA, 4, 64, 77, 3, 0));
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_PRE_COPY, &data_fd);
	ASSERT_EQ(REC, read_stream(data_fd, pre, sizeof(pre)));
	close(data_fd);
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_STOP, NULL);
	len = save_stopped(self->fd[SRC], good, sizeof(good));
	ASSERT_EQ(REC, len);

	/* Magic, version, flags, length, reserved, a register. */
	corrupt_and_resume(_metadata, self->fd[DST], good, len, 0, 1, EINVAL);
	corrupt_and_resume(_metadata, self->fd[DST], good, len,
			   offsetof(struct ioasid_mock_vfio_mig_record,
				    version), 2, EOPNOTSUPP);
	corrupt_and_resume(_metadata, self->fd[DST], good, len,
			   offsetof(struct ioasid_mock_vfio_mig_record, flags),
			   4, EINVAL);
	corrupt_and_resume(_metadata, self->fd[DST], good, len,
			   offsetof(struct ioasid_mock_vfio_mig_record, length),
			   8, EINVAL);
	corrupt_and_resume(_metadata, self->fd[DST], good, len,
			   offsetof(struct ioasid_mock_vfio_mig_record,
				    reserved), 1, EINVAL);
	corrupt_and_resume(_metadata, self->fd[DST], good, len,
			   regs + offsetof(struct ioasid_mock_vfio_mig_regs,
					   slot_size), 4, EINVAL);

	/* Short: the arc fails until the rest arrives. */
	set_state(self->fd[DST], VFIO_DEVICE_STATE_RESUMING, &data_fd);
	test_err_cmd(EINVAL, _set_state(self->fd[DST],
					VFIO_DEVICE_STATE_STOP, NULL));
	test_cmd(write_stream(data_fd, good, REC / 2, REC));
	test_err_cmd(EINVAL, _set_state(self->fd[DST],
					VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(VFIO_DEVICE_STATE_RESUMING, get_state(self->fd[DST]));
	test_cmd(write_stream(data_fd, good + REC / 2, REC - REC / 2, REC));
	set_state(self->fd[DST], VFIO_DEVICE_STATE_STOP, NULL);
	close(data_fd);
	ASSERT_EQ(77, engine_get(self->fd[DST]).seq);
	test_cmd(reset_device(self->fd[DST]));

	/* Pre-copy data alone is not a device state. */
	set_state(self->fd[DST], VFIO_DEVICE_STATE_RESUMING, &data_fd);
	test_cmd(write_stream(data_fd, pre, REC, REC));
	test_err_cmd(EINVAL, _set_state(self->fd[DST],
					VFIO_DEVICE_STATE_STOP, NULL));
	close(data_fd);
	test_cmd(reset_device(self->fd[DST]));

	/* A final record after it is; the last record wins. */
	rec = (void *)good;
	ASSERT_EQ(IOASID_MOCK_VFIO_MIG_FINAL, rec->flags);
	set_state(self->fd[DST], VFIO_DEVICE_STATE_RESUMING, &data_fd);
	test_cmd(write_stream(data_fd, pre, REC, REC));
	test_cmd(write_stream(data_fd, good, len, 5));
	set_state(self->fd[DST], VFIO_DEVICE_STATE_RUNNING, NULL);
	close(data_fd);
	ASSERT_EQ(77, engine_get(self->fd[DST]).seq);
	ASSERT_EQ(3, engine_get(self->fd[DST]).seed);
	close_and_check_released(_metadata, self);
}

/* A data fd outlives its state, and the device: it just stops working. */
TEST_F(mig, data_fd_after_the_state_moved_on)
{
	struct vfio_precopy_info info;
	__u8 buf[2 * REC];
	ssize_t len;
	int data_fd;

	set_state(self->fd[SRC], VFIO_DEVICE_STATE_PRE_COPY, &data_fd);
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_RUNNING, NULL);
	ASSERT_EQ(-1, read(data_fd, buf, sizeof(buf)));
	ASSERT_EQ(ENODEV, errno);
	test_err_cmd(ENODEV, precopy_info(data_fd, &info));
	close(data_fd);

	set_state(self->fd[SRC], VFIO_DEVICE_STATE_STOP_COPY, &data_fd);
	ASSERT_EQ(REC, read_stream(data_fd, buf, sizeof(buf)));
	len = REC;
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_STOP, NULL);
	ASSERT_EQ(-1, read(data_fd, buf, sizeof(buf)));
	ASSERT_EQ(ENODEV, errno);
	close(data_fd);

	set_state(self->fd[SRC], VFIO_DEVICE_STATE_RESUMING, &data_fd);
	test_cmd(write_stream(data_fd, buf, len, len));
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_STOP, NULL);
	test_err_cmd(ENODEV, write_stream(data_fd, buf, len, len));
	close(data_fd);

	/* A reset cuts it off, as does closing the device. */
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_PRE_COPY, &data_fd);
	test_cmd(reset_device(self->fd[SRC]));
	ASSERT_EQ(-1, read(data_fd, buf, sizeof(buf)));
	ASSERT_EQ(ENODEV, errno);
	close(data_fd);
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_RESUMING, &data_fd);
	close(self->fd[SRC]);
	self->fd[SRC] = -1;
	test_err_cmd(ENODEV, write_stream(data_fd, buf, len, len));
	/* Reading a write-only data fd, and the other way round. */
	ASSERT_EQ(-1, read(data_fd, buf, sizeof(buf)));
	ASSERT_EQ(EBADF, errno);
	close(data_fd);
	close_and_check_released(_metadata, self);
}

/* Closing the device fd quiesces the engine; a new open starts afresh. */
TEST_F(mig, close_quiesces_the_engine)
{
	__u8 *copy = malloc(self->mem_size);
	int data_fd;

	ASSERT_NE(NULL, copy);
	program(self->fd[SRC], GPA, 16, 128, 0, 11);
	ASSERT_LE(10, wait_seq(self->fd[SRC], 10));
	/* Even mid-migration, with a data fd held open. */
	set_state(self->fd[SRC], VFIO_DEVICE_STATE_PRE_COPY, &data_fd);
	close(self->fd[SRC]);
	self->fd[SRC] = -1;
	memcpy(copy, self->mem[SRC], self->mem_size);
	sleep_ms(200);
	ASSERT_EQ(0, memcmp(copy, self->mem[SRC], self->mem_size));
	close(data_fd);

	open_side(_metadata, self, SRC);
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, get_state(self->fd[SRC]));
	ASSERT_EQ(0, engine_get(self->fd[SRC]).ctrl);
	ASSERT_EQ(0, engine_get(self->fd[SRC]).seq);
	free(copy);
	close_and_check_released(_metadata, self);
}

TEST_HARNESS_MAIN
