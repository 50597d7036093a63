// SPDX-License-Identifier: GPL-2.0-only
/*
 * A stress test for /dev/ioasid: NR_THREADS threads for STRESS_SECONDS
 * (IOASID_STRESS_SECONDS makes it shorter) issue random calls at once.
 *
 * Every thread works on two ioasid fds:
 *
 *  - one fd all threads share: IOASID alloc and free, register and
 *    unregister, map and unmap (partial ranges, unmap-all), mock devices
 *    added, deleted, attached and detached, mock VFIO devices bound and
 *    attached to it. Ids go into pools any thread picks from, so calls race
 *    on the same objects, and now and then a thread puts a new file behind
 *    the fd's number (dup2), so everything on it goes at once while calls
 *    are in flight. Here a call must answer 0 or one of the errnos such a
 *    race explains (EBUSY, ENOENT, EEXIST, ...); they are counted.
 *
 *  - a private fd, which only its thread uses, and closes and reopens now
 *    and then. The thread keeps a model of it (what each page of a window
 *    maps, which halves of its buffer are registered, which of its devices
 *    are attached), so every call on it has one right answer. Its buffer
 *    is only ever mapped through it: a mock VFIO device attached there
 *    DMAs into the buffer and reads it back, and the data must be exact,
 *    a refused DMA must move nothing, and the buffer must never change
 *    otherwise.
 *
 * The shared fd maps a scratch buffer no one checks the contents of, so
 * DMA through it can go anywhere it likes.
 *
 * Everything the kernel must catch itself (KASAN, lockdep, kmemleak and
 * WARNs, with panic_on_warn) is caught outside the program; here every
 * unexpected answer fails the test. At the end everything is closed, and
 * every page of every buffer must be back at its old reference count and
 * unpinned, VmPin 0 and no mock device left.
 */
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <linux/vfio.h>

#include "ioasid_utils.h"

#define STRESS_SECONDS		60
/* The harness kills the test after this: threads stop on their own. */
#define STRESS_TIMEOUT		(STRESS_SECONDS + 120)
#define NR_THREADS		5

#define SHARED_PAGES		64
#define PRIV_PAGES		32
#define PRIV_HALF		(PRIV_PAGES / 2)
#define IOVA_BASE		0x100000UL
#define NR_SHARED_IDS		8
#define NR_SHARED_DEVS		6
#define NR_VFIO			IOASID_MOCK_VFIO_DEVICES
/* A new file behind the shared fd's number this often, at most. */
#define SHARED_REOPEN_MS	3000
/* Compare a thread's buffer with what it should hold this often. */
#define BUF_CHECK_EVERY		64

#define MAX_ERRNO		134

enum {
	S_ALLOC,
	S_FREE,
	S_MAP,
	S_UNMAP,
	S_UNMAP_ALL,
	S_REGISTER,
	S_UNREGISTER,
	S_GET_INFO,
	S_MOCK_ADD,
	S_MOCK_DEL,
	S_MOCK_ATTACH,
	S_MOCK_DETACH,
	S_MOCK_CHECK,
	S_REOPEN,
	P_MAP,
	P_UNMAP,
	P_REGISTER,
	P_UNREGISTER,
	P_FREE,
	P_MOCK_ADD,
	P_MOCK_DEL,
	P_MOCK_ATTACH,
	P_MOCK_DETACH,
	P_CHECK,
	P_REOPEN,
	V_OPEN,
	V_BIND,
	V_ATTACH,
	V_DETACH,
	V_DMA,
	V_UNBIND,
	V_CLOSE,
	NR_OPS,
};

static const char *const op_names[NR_OPS] = {
	[S_ALLOC] = "shared alloc",
	[S_FREE] = "shared free",
	[S_MAP] = "shared map",
	[S_UNMAP] = "shared unmap",
	[S_UNMAP_ALL] = "shared unmap all",
	[S_REGISTER] = "shared register",
	[S_UNREGISTER] = "shared unregister",
	[S_GET_INFO] = "shared get_info",
	[S_MOCK_ADD] = "shared mock add",
	[S_MOCK_DEL] = "shared mock del",
	[S_MOCK_ATTACH] = "shared mock attach",
	[S_MOCK_DETACH] = "shared mock detach",
	[S_MOCK_CHECK] = "shared mock check",
	[S_REOPEN] = "shared fd reopen",
	[P_MAP] = "private map",
	[P_UNMAP] = "private unmap",
	[P_REGISTER] = "private register",
	[P_UNREGISTER] = "private unregister",
	[P_FREE] = "private free",
	[P_MOCK_ADD] = "private mock add",
	[P_MOCK_DEL] = "private mock del",
	[P_MOCK_ATTACH] = "private mock attach",
	[P_MOCK_DETACH] = "private mock detach",
	[P_CHECK] = "private check",
	[P_REOPEN] = "private fd reopen",
	[V_OPEN] = "vfio open",
	[V_BIND] = "vfio bind",
	[V_ATTACH] = "vfio attach",
	[V_DETACH] = "vfio detach",
	[V_DMA] = "vfio dma",
	[V_UNBIND] = "vfio unbind",
	[V_CLOSE] = "vfio close",
};

/* A thread's hold on one mock VFIO device. */
enum {
	VF_CLOSED,
	VF_OPEN,		/* opened, not bound */
	VF_PRIVATE,		/* bound to the thread's private fd */
	VF_SHARED,		/* bound to the shared fd */
};

struct vfio_slot {
	int fd;
	int state;
	bool attached;		/* as far as the thread knows */
	bool revoked;		/* its ioasid fd closed or unbound: inert */
	__u32 ioasid;		/* attached to, for VF_SHARED */
};

/* One page of a thread's private window: IOVA_BASE + i pages maps page i. */
struct priv_page {
	bool mapped;
	__u8 prot;
	__s8 reg;		/* the half registered when mapped, or -1 */
};

struct stress;

struct worker {
	struct stress *s;
	pthread_t thread;
	unsigned int idx;
	__u64 rng;
	unsigned long ops;

	/* The private fd and its model. */
	int fd;
	__u32 home;		/* its one IOASID */
	__u8 *buf;		/* PRIV_PAGES, mapped only through fd */
	__u8 *shadow;		/* what buf must hold */
	__u8 *bounce;		/* DMA data, 2 pages */
	struct priv_page page[PRIV_PAGES];
	bool reg_live[2];
	unsigned int reg_users[2];
	__u32 mock;		/* its mock device, or 0 */
	bool mock_attached;

	struct vfio_slot vf[NR_VFIO];
	unsigned long stats[NR_OPS][MAX_ERRNO];
};

struct stress {
	int shared_fd;		/* the number stays; the file behind changes */
	atomic_uint ids[NR_SHARED_IDS];	/* IOASIDs of shared_fd, maybe stale */
	atomic_uint devs[NR_SHARED_DEVS];	/* its mock devices, maybe stale */
	__u8 *scratch;		/* SHARED_PAGES, mapped through shared_fd */
	atomic_long last_reopen_ms;
	long deadline_ms;
	char cdev[NR_VFIO][PATH_MAX];
	unsigned int nr_cdevs;
	atomic_bool stop;
	pthread_mutex_t fail_lock;
	char failure[1024];
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Record the first failure and stop every thread; false, for return. */
static bool __printf(2, 3) fail(struct worker *w, const char *fmt, ...)
{
	struct stress *s = w->s;
	va_list ap;
	int len;

	pthread_mutex_lock(&s->fail_lock);
	if (!s->failure[0]) {
		len = snprintf(s->failure, sizeof(s->failure),
			       "thread %u, op %lu: ", w->idx, w->ops);
		va_start(ap, fmt);
		vsnprintf(s->failure + len, sizeof(s->failure) - len, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&s->fail_lock);
	atomic_store(&s->stop, true);
	return false;
}

/* Count @ret for @op: 0, or a positive errno in the 0-terminated @ok. */
static bool __printf(5, 6) answer_in(struct worker *w, unsigned int op,
				     int ret, const int *ok,
				     const char *fmt, ...)
{
	char what[256];
	va_list ap;

	w->stats[op][-ret < MAX_ERRNO ? -ret : 0]++;
	if (!ret)
		return true;
	for (; *ok; ok++)
		if (-ret == *ok)
			return true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return fail(w, "%s: %s answered %s (%d)", op_names[op], what,
		    errno_name(-ret), ret);
}

/* Count @ret for @op, which must be exactly @want (0 or -errno). */
static bool __printf(5, 6) answer_is(struct worker *w, unsigned int op,
				     int ret, int want, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	w->stats[op][-ret < MAX_ERRNO ? -ret : 0]++;
	if (ret == want)
		return true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return fail(w, "%s: %s answered %s (%d), expected %s", op_names[op],
		    what, errno_name(-ret), ret, errno_name(-want));
}

#define ERRS(...) ((const int[]){ __VA_ARGS__, 0 })

/* --- The shared fd: anything may race, the answers are a set --- */

static __u32 shared_id(struct worker *w)
{
	return atomic_load(&w->s->ids[rng_below(&w->rng, NR_SHARED_IDS)]);
}

static __u32 shared_dev(struct worker *w)
{
	return atomic_load(&w->s->devs[rng_below(&w->rng, NR_SHARED_DEVS)]);
}

/* A range of the scratch buffer at a random place of the shared window. */
static void shared_range(struct worker *w, void **va, __u64 *iova,
			 __u64 *len)
{
	unsigned int n = 1 + rng_below(&w->rng, 8);

	*va = w->s->scratch +
	      rng_below(&w->rng, SHARED_PAGES - n + 1) * PAGE_SIZE;
	*len = n * PAGE_SIZE;
	/* Across the start of SMALL's MSI window now and then: ERANGE. */
	if (rng_one_in(&w->rng, 16))
		*iova = IOASID_MOCK_MSI_START -
			rng_below(&w->rng, n + 1) * PAGE_SIZE;
	else
		*iova = IOVA_BASE +
			rng_below(&w->rng, SHARED_PAGES - n + 1) * PAGE_SIZE;
}

static bool op_shared_alloc(struct worker *w)
{
	int fd = w->s->shared_fd, ret;
	__u32 id, old;

	ret = _test_ioctl_alloc(fd, &id);
	if (!answer_in(w, S_ALLOC, ret, ERRS(0), "alloc"))
		return false;
	if (ret)
		return true;
	/* Into the pool; the IOASID it pushes out is freed if it can be. */
	old = atomic_exchange(&w->s->ids[rng_below(&w->rng, NR_SHARED_IDS)],
			      id);
	if (!old)
		return true;
	ret = _test_ioctl_free(fd, old);
	return answer_in(w, S_FREE, ret, ERRS(ENOENT, EBUSY), "free %u", old);
}

static bool op_shared_free(struct worker *w)
{
	__u32 id = shared_id(w);
	int ret = _test_ioctl_free(w->s->shared_fd, id);

	/* Busy with a device, or with another thread's call on it. */
	return answer_in(w, S_FREE, ret, ERRS(ENOENT, EBUSY), "free %u", id);
}

static bool op_shared_map(struct worker *w)
{
	static const __u32 flags[] = {
		IOASID_DMA_MAP_READ, IOASID_DMA_MAP_WRITE, MAP_RW,
	};
	__u32 id = shared_id(w);
	__u64 iova, len;
	void *va;
	int ret;

	shared_range(w, &va, &iova, &len);
	ret = _test_ioctl_map(w->s->shared_fd, id, va, iova, len,
			      flags[rng_below(&w->rng, ARRAY_SIZE(flags))]);
	return answer_in(w, S_MAP, ret, ERRS(ENOENT, EEXIST, ERANGE),
			 "map %u iova %#llx+%#llx", id,
			 (unsigned long long)iova, (unsigned long long)len);
}

static bool op_shared_unmap(struct worker *w)
{
	__u32 id = shared_id(w);
	__u64 iova, len;
	void *va;
	int ret;

	/* Any part of any mapping: partial unmaps cut them. */
	shared_range(w, &va, &iova, &len);
	ret = _test_ioctl_unmap(w->s->shared_fd, id, iova, len, 0, NULL);
	return answer_in(w, S_UNMAP, ret, ERRS(ENOENT),
			 "unmap %u iova %#llx+%#llx", id,
			 (unsigned long long)iova, (unsigned long long)len);
}

static bool op_shared_unmap_all(struct worker *w)
{
	__u32 id = shared_id(w);
	int ret = _test_ioctl_unmap(w->s->shared_fd, id, 0, 0,
				    IOASID_DMA_UNMAP_ALL, NULL);

	return answer_in(w, S_UNMAP_ALL, ret, ERRS(ENOENT), "unmap all %u",
			 id);
}

/* Registrations of the shared fd: quarters of the scratch buffer. */
static bool op_shared_register(struct worker *w, bool reg)
{
	unsigned int q = rng_below(&w->rng, 4);
	void *va = w->s->scratch + q * SHARED_PAGES / 4 * PAGE_SIZE;
	size_t len = SHARED_PAGES / 4 * PAGE_SIZE;
	int ret;

	if (reg) {
		ret = _test_ioctl_register(w->s->shared_fd, va, len,
					   IOASID_REGISTER_MEMORY);
		return answer_in(w, S_REGISTER, ret, ERRS(EEXIST),
				 "register quarter %u", q);
	}
	ret = _test_ioctl_register(w->s->shared_fd, va, len,
				   IOASID_UNREGISTER_MEMORY);
	return answer_in(w, S_UNREGISTER, ret, ERRS(ENOENT, EBUSY),
			 "unregister quarter %u", q);
}

static bool op_shared_get_info(struct worker *w)
{
	struct ioasid_iova_range ranges[4];
	struct ioasid_cmd_get_info info;
	__u32 id = shared_id(w);
	int ret;

	ret = _test_ioctl_get_info(w->s->shared_fd, id, &info, ranges, 4);
	if (!answer_in(w, S_GET_INFO, ret, ERRS(ENOENT), "get_info %u", id))
		return false;
	if (!ret && (!info.num_iova_ranges ||
		     (info.out_pgsize_bitmap & -info.out_pgsize_bitmap) !=
		     PAGE_SIZE))
		return fail(w, "get_info %u: %u ranges, page sizes %#llx", id,
			    info.num_iova_ranges,
			    (unsigned long long)info.out_pgsize_bitmap);
	return true;
}

static bool op_shared_mock_add(struct worker *w)
{
	__u32 inst = rng_below(&w->rng, 2) ? IOASID_MOCK_INSTANCE_LARGE :
				   IOASID_MOCK_INSTANCE_SMALL;
	__u32 dev, old;
	int ret;

	ret = _test_cmd_mock_device_add(w->s->shared_fd, inst, &dev);
	if (!answer_in(w, S_MOCK_ADD, ret, ERRS(0), "add on instance %u",
		       inst))
		return false;
	if (ret)
		return true;
	old = atomic_exchange(&w->s->devs[rng_below(&w->rng, NR_SHARED_DEVS)],
			      dev);
	if (!old)
		return true;
	ret = _test_cmd_device_del(w->s->shared_fd, old);
	return answer_in(w, S_MOCK_DEL, ret, ERRS(ENOENT, EBUSY), "del %u",
			 old);
}

static bool op_shared_mock_del(struct worker *w)
{
	__u32 dev = shared_dev(w);
	int ret = _test_cmd_device_del(w->s->shared_fd, dev);

	/*
	 * Attached or not, unless another call holds it, or a stale id
	 * names a device VFIO bound (its binding holds it).
	 */
	return answer_in(w, S_MOCK_DEL, ret, ERRS(ENOENT, EBUSY), "del %u",
			 dev);
}

/*
 * Ids start again at 1 in each new file behind the shared fd, so an id
 * left in a pool from an older one may name a device VFIO bound in the
 * new one, which the test ioctl does not attach or detach (EINVAL).
 */
static bool op_shared_mock_attach(struct worker *w)
{
	__u32 dev = shared_dev(w), id = shared_id(w);
	int ret = _test_cmd_attach(w->s->shared_fd, dev, id);

	/* ERANGE: a SMALL device, a mapping in its MSI window. */
	return answer_in(w, S_MOCK_ATTACH, ret,
			 ERRS(ENOENT, EBUSY, ERANGE, EINVAL),
			 "attach %u to %u", dev, id);
}

static bool op_shared_mock_detach(struct worker *w)
{
	__u32 dev = shared_dev(w);
	int ret = _test_cmd_detach(w->s->shared_fd, dev);

	return answer_in(w, S_MOCK_DETACH, ret, ERRS(ENOENT, ENXIO, EINVAL),
			 "detach %u", dev);
}

/* Read a device's page table while others change it. */
static bool op_shared_mock_check(struct worker *w)
{
	__u32 dev = shared_dev(w);
	__u64 iova, len;
	void *va;
	int ret;

	shared_range(w, &va, &iova, &len);
	ret = _test_cmd_check_map(w->s->shared_fd, dev, iova, va, len,
				  MOCK_PROT_RW, NULL, rng_one_in(&w->rng, 2));
	return answer_in(w, S_MOCK_CHECK, ret, ERRS(ENOENT, ENXIO, EIO),
			 "check %u iova %#llx+%#llx", dev,
			 (unsigned long long)iova, (unsigned long long)len);
}

/*
 * A new file behind the shared fd's number: the old one goes with every
 * IOASID, mapping, registration and device in it, while other threads
 * have calls on it in flight, and the devices bound to it are revoked.
 */
static bool maybe_reopen_shared(struct worker *w)
{
	long last = atomic_load(&w->s->last_reopen_ms), t = now_ms();
	int fd;

	if (t - last < SHARED_REOPEN_MS ||
	    !atomic_compare_exchange_strong(&w->s->last_reopen_ms, &last, t))
		return true;
	fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(w, "open /dev/ioasid: %s", errno_name(errno));
	if (dup2(fd, w->s->shared_fd) < 0)
		return fail(w, "dup2: %s", errno_name(errno));
	close(fd);
	w->stats[S_REOPEN][0]++;
	return true;
}

/* --- The private fd: one thread, one right answer --- */

static unsigned int priv_mapped(struct worker *w, unsigned int p,
				unsigned int n)
{
	unsigned int i, count = 0;

	for (i = p; i != p + n; i++)
		count += w->page[i].mapped;
	return count;
}

/* Is anything of the thread's attached to its home IOASID? */
static bool priv_attached(struct worker *w)
{
	unsigned int d;

	for (d = 0; d != NR_VFIO; d++)
		if (w->vf[d].state == VF_PRIVATE && w->vf[d].attached)
			return true;
	return w->mock_attached;
}

static void priv_unmap_pages(struct worker *w, unsigned int p, unsigned int n)
{
	unsigned int i;

	for (i = p; i != p + n; i++) {
		if (w->page[i].mapped && w->page[i].reg >= 0)
			w->reg_users[w->page[i].reg]--;
		w->page[i].mapped = false;
	}
}

static bool op_priv_map(struct worker *w)
{
	static const __u32 flags[] = {
		IOASID_DMA_MAP_READ, IOASID_DMA_MAP_WRITE, MAP_RW, MAP_RW,
	};
	unsigned int p = rng_below(&w->rng, PRIV_PAGES), n, i;
	__u32 fl = flags[rng_below(&w->rng, ARRAY_SIZE(flags))];
	int ret, want, reg = p / PRIV_HALF;

	n = 1 + rng_below(&w->rng, PRIV_PAGES - p < 8 ? PRIV_PAGES - p : 8);
	want = priv_mapped(w, p, n) ? -EEXIST : 0;
	ret = _test_ioctl_map(w->fd, w->home, w->buf + p * PAGE_SIZE,
			      IOVA_BASE + p * PAGE_SIZE, n * PAGE_SIZE, fl);
	if (!answer_is(w, P_MAP, ret, want, "map pages %u+%u", p, n))
		return false;
	if (ret)
		return true;
	/* Inside a registered half, it uses the registration. */
	if (!w->reg_live[reg] || (p + n - 1) / PRIV_HALF != (unsigned int)reg)
		reg = -1;
	for (i = p; i != p + n; i++)
		w->page[i] = (struct priv_page){
			.mapped = true,
			.prot = fl,
			.reg = reg,
		};
	if (reg >= 0)
		w->reg_users[reg] += n;
	return true;
}

static bool op_priv_unmap(struct worker *w)
{
	unsigned int p = rng_below(&w->rng, PRIV_PAGES), n;
	__u64 unmapped = 0, want;
	int ret;

	if (rng_one_in(&w->rng, 16)) {
		want = priv_mapped(w, 0, PRIV_PAGES) * PAGE_SIZE;
		ret = _test_ioctl_unmap(w->fd, w->home, 0, 0,
					IOASID_DMA_UNMAP_ALL, &unmapped);
		p = 0;
		n = PRIV_PAGES;
	} else {
		n = 1 + rng_below(&w->rng,
				  PRIV_PAGES - p < 8 ? PRIV_PAGES - p : 8);
		want = priv_mapped(w, p, n) * PAGE_SIZE;
		ret = _test_ioctl_unmap(w->fd, w->home,
					IOVA_BASE + p * PAGE_SIZE,
					n * PAGE_SIZE, 0, &unmapped);
	}
	if (!answer_is(w, P_UNMAP, ret, 0, "unmap pages %u+%u", p, n))
		return false;
	if (unmapped != want)
		return fail(w, "unmap pages %u+%u: %#llx unmapped, not %#llx",
			    p, n, (unsigned long long)unmapped,
			    (unsigned long long)want);
	priv_unmap_pages(w, p, n);
	return true;
}

static bool op_priv_register(struct worker *w, bool reg)
{
	unsigned int h = rng_below(&w->rng, 2);
	void *va = w->buf + h * PRIV_HALF * PAGE_SIZE;
	int ret, want;

	if (reg) {
		want = w->reg_live[h] ? -EEXIST : 0;
		ret = _test_ioctl_register(w->fd, va, PRIV_HALF * PAGE_SIZE,
					   IOASID_REGISTER_MEMORY);
		if (!answer_is(w, P_REGISTER, ret, want, "register half %u",
			       h))
			return false;
		w->reg_live[h] = true;
		return true;
	}
	want = !w->reg_live[h] ? -ENOENT : w->reg_users[h] ? -EBUSY : 0;
	ret = _test_ioctl_register(w->fd, va, PRIV_HALF * PAGE_SIZE,
				   IOASID_UNREGISTER_MEMORY);
	if (!answer_is(w, P_UNREGISTER, ret, want, "unregister half %u", h))
		return false;
	if (!ret)
		w->reg_live[h] = false;
	return true;
}

/* Free the home IOASID with what it maps, and take a new one. */
static bool op_priv_free(struct worker *w)
{
	int ret, want = priv_attached(w) ? -EBUSY : 0;

	ret = _test_ioctl_free(w->fd, w->home);
	if (!answer_is(w, P_FREE, ret, want, "free home %u", w->home))
		return false;
	if (ret)
		return true;
	priv_unmap_pages(w, 0, PRIV_PAGES);
	ret = _test_ioctl_alloc(w->fd, &w->home);
	if (ret)
		return fail(w, "alloc home after free: %s", errno_name(-ret));
	return true;
}

static bool op_priv_mock(struct worker *w, unsigned int op)
{
	__u32 inst = rng_below(&w->rng, 2) ? IOASID_MOCK_INSTANCE_LARGE :
				   IOASID_MOCK_INSTANCE_SMALL;
	int ret;

	switch (op) {
	case P_MOCK_ADD:
		if (w->mock)
			return true;
		ret = _test_cmd_mock_device_add(w->fd, inst, &w->mock);
		if (ret)
			w->mock = 0;
		return answer_is(w, op, ret, 0, "add on instance %u", inst);
	case P_MOCK_DEL:
		if (!w->mock)
			return true;
		ret = _test_cmd_device_del(w->fd, w->mock);
		w->mock = 0;
		w->mock_attached = false;
		return answer_is(w, op, ret, 0, "del");
	case P_MOCK_ATTACH:
		if (!w->mock)
			return true;
		ret = _test_cmd_attach(w->fd, w->mock, w->home);
		if (!answer_is(w, op, ret, w->mock_attached ? -EBUSY : 0,
			       "attach to home"))
			return false;
		w->mock_attached = true;
		return true;
	default:
		if (!w->mock)
			return true;
		ret = _test_cmd_detach(w->fd, w->mock);
		if (!answer_is(w, op, ret, w->mock_attached ? 0 : -ENXIO,
			       "detach"))
			return false;
		w->mock_attached = false;
		return true;
	}
}

/* The mock device's page table holds exactly the model's window. */
static bool op_priv_check(struct worker *w)
{
	unsigned int p, n;
	int ret;

	if (!w->mock_attached)
		return true;
	for (p = 0; p < PRIV_PAGES; p += n) {
		const struct priv_page *pg = &w->page[p];

		for (n = 1; p + n < PRIV_PAGES; n++)
			if (w->page[p + n].mapped != pg->mapped ||
			    (pg->mapped && w->page[p + n].prot != pg->prot))
				break;
		ret = _test_cmd_check_map(w->fd, w->mock,
					  IOVA_BASE + p * PAGE_SIZE,
					  w->buf + p * PAGE_SIZE,
					  n * PAGE_SIZE, pg->prot, NULL,
					  pg->mapped);
		if (!answer_is(w, P_CHECK, ret, 0, "pages %u+%u %s", p, n,
			       pg->mapped ? "mapped" : "unmapped"))
			return false;
	}
	return true;
}

static void priv_reset(struct worker *w)
{
	unsigned int d;

	memset(w->page, 0, sizeof(w->page));
	memset(w->reg_live, 0, sizeof(w->reg_live));
	memset(w->reg_users, 0, sizeof(w->reg_users));
	w->mock = 0;
	w->mock_attached = false;
	/* Bound devices stay bound, inert, until their fd closes. */
	for (d = 0; d != NR_VFIO; d++) {
		if (w->vf[d].state != VF_PRIVATE)
			continue;
		w->vf[d].revoked = true;
		w->vf[d].attached = false;
	}
}

static bool priv_open(struct worker *w)
{
	int ret;

	w->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (w->fd < 0)
		return fail(w, "open /dev/ioasid: %s", errno_name(errno));
	ret = _test_ioctl_alloc(w->fd, &w->home);
	return answer_is(w, P_REOPEN, ret, 0, "alloc home");
}

static bool op_priv_reopen(struct worker *w)
{
	close(w->fd);
	priv_reset(w);
	return priv_open(w);
}

/* The buffer holds what the device wrote into it, nothing else. */
static bool priv_buf_intact(struct worker *w)
{
	unsigned int i;

	if (!memcmp(w->buf, w->shadow, PRIV_PAGES * PAGE_SIZE))
		return true;
	for (i = 0; i != PRIV_PAGES * PAGE_SIZE; i++)
		if (w->buf[i] != w->shadow[i])
			return fail(w, "buffer byte %#x is %#x, not %#x: written by no DMA of ours",
				    i, w->buf[i], w->shadow[i]);
	return true;
}

/* --- Mock VFIO devices, through their cdevs --- */

static int vfio_bind(int fd, int ioasid_fd)
{
	struct vfio_device_bind_ioasid_fd bind = {
		.argsz = sizeof(bind),
		.ioasid_fd = ioasid_fd,
		.device_label = 0x57e55,
	};

	return ioasid_ioctl(fd, VFIO_BIND_IOASID_FD, &bind);
}

static int vfio_attach(int fd, unsigned long req, __u32 ioasid)
{
	struct vfio_device_attach_ioasid cmd = {
		.argsz = sizeof(cmd),
		.ioasid = ioasid,
	};

	return ioasid_ioctl(fd, req, &cmd);
}

static int vfio_dma(struct worker *w, int fd, __u64 iova, __u64 len,
		    bool write)
{
	struct ioasid_mock_vfio_dma dma = {
		.argsz = sizeof(dma),
		.flags = write ? IOASID_MOCK_VFIO_DMA_WRITE : 0,
		.iova = iova,
		.length = len,
		.uptr = (uintptr_t)w->bounce,
	};

	return ioasid_ioctl(fd, IOASID_MOCK_VFIO_DMA, &dma);
}

static bool op_vfio_open(struct worker *w, struct vfio_slot *vf, int d)
{
	if (vf->state != VF_CLOSED)
		return true;
	vf->fd = open(w->s->cdev[d], O_RDWR | O_CLOEXEC);
	if (!answer_is(w, V_OPEN, vf->fd < 0 ? -errno : 0, 0, "open %s",
		       w->s->cdev[d]))
		return false;
	*vf = (struct vfio_slot){ .fd = vf->fd, .state = VF_OPEN };
	return true;
}

static bool op_vfio_bind(struct worker *w, struct vfio_slot *vf)
{
	bool shared = rng_one_in(&w->rng, 3);
	int ret;

	if (vf->state == VF_CLOSED)
		return true;
	ret = vfio_bind(vf->fd, shared ? w->s->shared_fd : w->fd);
	if (vf->state != VF_OPEN)
		return answer_is(w, V_BIND, ret, -EBUSY, "bind a bound fd");
	/*
	 * Another thread may hold the device; the shared fd's file may be
	 * on its way out (EBADF).
	 */
	if (!answer_in(w, V_BIND, ret,
		       shared ? ERRS(EBUSY, EBADF) : ERRS(EBUSY), "bind to %s",
		       shared ? "shared" : "private"))
		return false;
	if (!ret)
		vf->state = shared ? VF_SHARED : VF_PRIVATE;
	return true;
}

static bool op_vfio_attach(struct worker *w, struct vfio_slot *vf)
{
	__u32 id;
	int ret;

	switch (vf->state) {
	case VF_OPEN:
		/* Not bound: the device fd grants nothing yet. */
		ret = vfio_attach(vf->fd, VFIO_ATTACH_IOASID, w->home);
		return answer_is(w, V_ATTACH, ret, -EINVAL, "attach unbound");
	case VF_PRIVATE:
		ret = vfio_attach(vf->fd, VFIO_ATTACH_IOASID, w->home);
		if (!answer_is(w, V_ATTACH, ret, vf->revoked ? -ENODEV :
			       vf->attached ? -EBUSY : 0, "attach to home"))
			return false;
		vf->attached |= !ret;
		return true;
	case VF_SHARED:
		id = shared_id(w);
		ret = vfio_attach(vf->fd, VFIO_ATTACH_IOASID, id);
		if (!answer_in(w, V_ATTACH, ret,
			       ERRS(ENOENT, EBUSY, ERANGE, ENODEV),
			       "attach to shared %u", id))
			return false;
		if (!ret) {
			vf->attached = true;
			vf->ioasid = id;
		}
		return true;
	}
	return true;
}

static bool op_vfio_detach(struct worker *w, struct vfio_slot *vf)
{
	int ret;

	switch (vf->state) {
	case VF_OPEN:
		ret = vfio_attach(vf->fd, VFIO_DETACH_IOASID, w->home);
		return answer_is(w, V_DETACH, ret, -EINVAL, "detach unbound");
	case VF_PRIVATE:
		ret = vfio_attach(vf->fd, VFIO_DETACH_IOASID, w->home);
		if (!answer_is(w, V_DETACH, ret, vf->revoked ? -ENODEV :
			       vf->attached ? 0 : -ENXIO, "detach from home"))
			return false;
		vf->attached = false;
		return true;
	case VF_SHARED:
		ret = vfio_attach(vf->fd, VFIO_DETACH_IOASID,
				  vf->attached ? vf->ioasid : shared_id(w));
		vf->attached = false;
		return answer_in(w, V_DETACH, ret, ERRS(ENXIO, ENODEV),
				 "detach from shared");
	}
	return true;
}

/*
 * DMA through the private home IOASID: the model says whether every byte
 * may move, and the buffer shows whether exactly those did.
 */
static bool priv_dma(struct worker *w, struct vfio_slot *vf)
{
	unsigned int off = rng_below(&w->rng, PRIV_PAGES * PAGE_SIZE), len, i;
	bool write = rng_one_in(&w->rng, 2), allowed;
	__u8 need = write ? IOASID_DMA_MAP_WRITE : IOASID_DMA_MAP_READ;
	int ret;

	len = 1 + rng_below(&w->rng, 2 * PAGE_SIZE);
	if (off + len > PRIV_PAGES * PAGE_SIZE)
		len = PRIV_PAGES * PAGE_SIZE - off;
	allowed = vf->attached && !vf->revoked;
	for (i = off / PAGE_SIZE; i <= (off + len - 1) / PAGE_SIZE; i++)
		if (!w->page[i].mapped || !(w->page[i].prot & need))
			allowed = false;
	for (i = 0; i < len; i += 8) {
		__u64 r = rng_next(&w->rng);

		memcpy(w->bounce + i, &r, 8);
	}
	ret = vfio_dma(w, vf->fd, IOVA_BASE + off, len, write);
	if (!answer_is(w, V_DMA, ret, allowed ? 0 : -EIO,
		       "%s %#x+%#x through home", write ? "write" : "read",
		       off, len))
		return false;
	if (write && !ret) {
		if (memcmp(w->buf + off, w->bounce, len))
			return fail(w, "DMA write %#x+%#x: the buffer does not hold the data",
				    off, len);
		memcpy(w->shadow + off, w->bounce, len);
	} else if (!ret && memcmp(w->bounce, w->shadow + off, len)) {
		return fail(w, "DMA read %#x+%#x: not what the buffer holds",
			    off, len);
	}
	/* A refused DMA moved nothing: its range is still intact. */
	if (ret && memcmp(w->buf + off, w->shadow + off, len))
		return fail(w, "refused DMA %s %#x+%#x changed the buffer",
			    write ? "write" : "read", off, len);
	return true;
}

static bool op_vfio_dma(struct worker *w, struct vfio_slot *vf)
{
	__u64 iova;
	int ret;

	switch (vf->state) {
	case VF_OPEN:
		ret = vfio_dma(w, vf->fd, IOVA_BASE, 8, false);
		return answer_is(w, V_DMA, ret, -EINVAL, "dma unbound");
	case VF_PRIVATE:
		return priv_dma(w, vf);
	case VF_SHARED:
		/* Into the scratch buffer, if anything is mapped there. */
		iova = IOVA_BASE + rng_below(&w->rng, SHARED_PAGES * PAGE_SIZE);
		ret = vfio_dma(w, vf->fd, iova,
			       1 + rng_below(&w->rng, PAGE_SIZE),
			       rng_one_in(&w->rng, 2));
		return answer_in(w, V_DMA, ret, ERRS(EIO),
				 "dma at shared %#llx",
				 (unsigned long long)iova);
	}
	return true;
}

static bool op_vfio_unbind(struct worker *w, struct vfio_slot *vf)
{
	struct vfio_device_unbind_ioasid_fd unbind = {
		.argsz = sizeof(unbind),
	};
	int ret;

	if (vf->state == VF_CLOSED)
		return true;
	ret = ioasid_ioctl(vf->fd, VFIO_UNBIND_IOASID_FD, &unbind);
	/* Bound: always fine, twice too. Not bound: refused. */
	if (!answer_is(w, V_UNBIND, ret, vf->state == VF_OPEN ? -EINVAL : 0,
		       "unbind"))
		return false;
	vf->revoked |= !ret;
	vf->attached = false;
	return true;
}

static bool op_vfio_close(struct worker *w, struct vfio_slot *vf)
{
	if (vf->state == VF_CLOSED)
		return true;
	if (!answer_is(w, V_CLOSE, close(vf->fd) ? -errno : 0, 0, "close"))
		return false;
	*vf = (struct vfio_slot){ .fd = -1, .state = VF_CLOSED };
	return true;
}

/* Is @vf in the state @op does its work in? */
static bool vfio_suits(const struct vfio_slot *vf, unsigned int op)
{
	bool bound = vf->state == VF_PRIVATE || vf->state == VF_SHARED;

	switch (op) {
	case V_OPEN:
		return vf->state == VF_CLOSED;
	case V_BIND:
		return vf->state == VF_OPEN;
	case V_ATTACH:
		return bound && !vf->attached && !vf->revoked;
	case V_DETACH:
	case V_DMA:
		return bound && vf->attached;
	case V_UNBIND:
		return bound && !vf->revoked;
	default:
		/* Close what holds a device and can do nothing with it. */
		return vf->state == VF_OPEN || vf->revoked;
	}
}

/*
 * A device for @op: mostly one in the state the op works in, so that
 * devices are bound, attached and doing DMA most of the time; now and
 * then any, for the refusals. -1: none suits, do something else.
 */
static int pick_vfio(struct worker *w, unsigned int op)
{
	unsigned int n = w->s->nr_cdevs, d = rng_below(&w->rng, n), i;

	if (rng_one_in(&w->rng, 8))
		return d;
	for (i = 0; i != n; i++, d = (d + 1) % n)
		if (vfio_suits(&w->vf[d], op))
			return d;
	return -1;
}

static bool op_vfio(struct worker *w, unsigned int op)
{
	int d;

	if (!w->s->nr_cdevs)
		return true;
	d = pick_vfio(w, op);
	if (d < 0)
		return true;
	switch (op) {
	case V_OPEN:
		return op_vfio_open(w, &w->vf[d], d);
	case V_BIND:
		return op_vfio_bind(w, &w->vf[d]);
	case V_ATTACH:
		return op_vfio_attach(w, &w->vf[d]);
	case V_DETACH:
		return op_vfio_detach(w, &w->vf[d]);
	case V_DMA:
		return op_vfio_dma(w, &w->vf[d]);
	case V_UNBIND:
		return op_vfio_unbind(w, &w->vf[d]);
	default:
		return op_vfio_close(w, &w->vf[d]);
	}
}

/* Weights out of 1000. */
static const unsigned int weights[NR_OPS] = {
	[S_ALLOC] = 30, [S_FREE] = 25, [S_MAP] = 130, [S_UNMAP] = 90,
	[S_UNMAP_ALL] = 10, [S_REGISTER] = 35, [S_UNREGISTER] = 35,
	[S_GET_INFO] = 20, [S_MOCK_ADD] = 6, [S_MOCK_DEL] = 6,
	[S_MOCK_ATTACH] = 35, [S_MOCK_DETACH] = 30, [S_MOCK_CHECK] = 15,
	[P_MAP] = 100, [P_UNMAP] = 80, [P_REGISTER] = 15,
	[P_UNREGISTER] = 15, [P_FREE] = 12, [P_MOCK_ADD] = 4,
	[P_MOCK_DEL] = 4, [P_MOCK_ATTACH] = 15, [P_MOCK_DETACH] = 12,
	[P_CHECK] = 20, [P_REOPEN] = 3,
	[V_OPEN] = 30, [V_BIND] = 30, [V_ATTACH] = 40, [V_DETACH] = 25,
	[V_DMA] = 100, [V_UNBIND] = 8, [V_CLOSE] = 20,
};

static bool run_op(struct worker *w)
{
	unsigned int r = rng_below(&w->rng, 1000), op;

	for (op = 0; op != NR_OPS - 1 && r >= weights[op]; op++)
		r -= weights[op];
	switch (op) {
	case S_ALLOC:
		return op_shared_alloc(w);
	case S_FREE:
		return op_shared_free(w);
	case S_MAP:
		return op_shared_map(w);
	case S_UNMAP:
		return op_shared_unmap(w);
	case S_UNMAP_ALL:
		return op_shared_unmap_all(w);
	case S_REGISTER:
	case S_UNREGISTER:
		return op_shared_register(w, op == S_REGISTER);
	case S_GET_INFO:
		return op_shared_get_info(w);
	case S_MOCK_ADD:
		return op_shared_mock_add(w);
	case S_MOCK_DEL:
		return op_shared_mock_del(w);
	case S_MOCK_ATTACH:
		return op_shared_mock_attach(w);
	case S_MOCK_DETACH:
		return op_shared_mock_detach(w);
	case S_MOCK_CHECK:
		return op_shared_mock_check(w);
	case P_MAP:
		return op_priv_map(w);
	case P_UNMAP:
		return op_priv_unmap(w);
	case P_REGISTER:
	case P_UNREGISTER:
		return op_priv_register(w, op == P_REGISTER);
	case P_FREE:
		return op_priv_free(w);
	case P_MOCK_ADD:
	case P_MOCK_DEL:
	case P_MOCK_ATTACH:
	case P_MOCK_DETACH:
		return op_priv_mock(w, op);
	case P_CHECK:
		return op_priv_check(w);
	case P_REOPEN:
		return op_priv_reopen(w);
	default:
		return op_vfio(w, op);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	unsigned int d;

	while (!atomic_load(&s->stop) && now_ms() < s->deadline_ms) {
		w->ops++;
		if (!maybe_reopen_shared(w) || !run_op(w))
			break;
		if (!(w->ops % BUF_CHECK_EVERY) && !priv_buf_intact(w))
			break;
	}
	if (!atomic_load(&s->stop))
		priv_buf_intact(w);
	/* Leave nothing open: the pages are checked once all are gone. */
	for (d = 0; d != NR_VFIO; d++)
		if (w->vf[d].state != VF_CLOSED)
			close(w->vf[d].fd);
	close(w->fd);
	return NULL;
}

/* The mock VFIO devices' cdevs, /dev/vfio/devices/vfioN. */
static unsigned int find_cdevs(char cdev[][PATH_MAX])
{
	const char *drv = "/sys/bus/platform/drivers/ioasid-mock-vfio";
	char path[PATH_MAX];
	struct dirent *de, *v;
	unsigned int n = 0;
	DIR *dir, *vdir;

	dir = opendir(drv);
	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < NR_VFIO) {
		if (strncmp(de->d_name, "ioasid-mock-vfio.", 17))
			continue;
		snprintf(path, sizeof(path), "%s/%s/vfio-dev", drv, de->d_name);
		vdir = opendir(path);
		if (!vdir)
			continue;
		while ((v = readdir(vdir)))
			if (!strncmp(v->d_name, "vfio", 4)) {
				snprintf(cdev[n++], PATH_MAX,
					 "/dev/vfio/devices/%s", v->d_name);
				break;
			}
		closedir(vdir);
	}
	closedir(dir);
	return n;
}

static void *map_buffer(size_t pages, int pattern)
{
	void *p = mmap(NULL, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Small pages: no large IOMMU page, so any partial unmap works. */
	madvise(p, pages * PAGE_SIZE, MADV_NOHUGEPAGE);
	memset(p, pattern, pages * PAGE_SIZE);
	return p;
}

FIXTURE(stress) {
	struct stress s;
	struct worker w[NR_THREADS];
	__u32 scratch_ref0[SHARED_PAGES];
	__u32 buf_ref0[NR_THREADS][PRIV_PAGES];
	int mock_devices0;
};

FIXTURE_SETUP(stress)
{
	struct stress *s = &self->s;
	unsigned int t, i;
	__u32 ref;

	s->shared_fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, s->shared_fd);
	if (page_ref(s->shared_fd, &ref, &ref, NULL) == -ENOTTY)
		SKIP(return, "kernel without CONFIG_IOASID_TEST");
	pthread_mutex_init(&s->fail_lock, NULL);
	s->nr_cdevs = find_cdevs(s->cdev);
	self->mock_devices0 = count_mock_devices();
	ASSERT_LE(0, self->mock_devices0);

	s->scratch = map_buffer(SHARED_PAGES, 0x5a);
	ASSERT_NE(NULL, s->scratch);
	for (i = 0; i != SHARED_PAGES; i++)
		ASSERT_EQ(0, page_ref(s->shared_fd,
				      s->scratch + i * PAGE_SIZE,
				      &self->scratch_ref0[i], NULL));
	for (t = 0; t != NR_THREADS; t++) {
		struct worker *w = &self->w[t];

		w->s = s;
		w->idx = t;
		w->fd = -1;
		w->buf = map_buffer(PRIV_PAGES, 0x10 + t);
		w->shadow = map_buffer(PRIV_PAGES, 0x10 + t);
		w->bounce = map_buffer(2, 0);
		ASSERT_NE(NULL, w->buf);
		ASSERT_NE(NULL, w->shadow);
		ASSERT_NE(NULL, w->bounce);
		for (i = 0; i != PRIV_PAGES; i++)
			ASSERT_EQ(0, page_ref(s->shared_fd,
					      w->buf + i * PAGE_SIZE,
					      &self->buf_ref0[t][i], NULL));
		for (i = 0; i != NR_VFIO; i++)
			w->vf[i] = (struct vfio_slot){ .fd = -1 };
	}
	ASSERT_EQ(0, vm_pinned_kb());
}

/* The test closes everything itself, and checks what closing released. */
FIXTURE_TEARDOWN(stress)
{
}

/* Is page @i of @buf still referenced or pinned? Says which, if so. */
static bool page_leaked(struct __test_metadata *_metadata, int fd, __u8 *buf,
			unsigned int i, __u32 ref0)
{
	__u32 ref = 0, pinned = 0;
	int ret = page_ref(fd, buf + i * PAGE_SIZE, &ref, &pinned);

	if (!ret && ref == ref0 && !pinned)
		return false;
	TH_LOG("page %u of %p: %s, refcount %u (was %u), pinned %u", i, buf,
	       ret ? "PAGE_REF failed" : "held", ref, ref0, pinned);
	return true;
}

static __u64 env_u64(const char *name, __u64 def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

static void print_stats(struct worker *ws)
{
	unsigned long sum[MAX_ERRNO];
	unsigned int op, e, t;
	char line[512];
	int len;

	for (op = 0; op != NR_OPS; op++) {
		memset(sum, 0, sizeof(sum));
		for (t = 0; t != NR_THREADS; t++)
			for (e = 0; e != MAX_ERRNO; e++)
				sum[e] += ws[t].stats[op][e];
		len = snprintf(line, sizeof(line), "%s: %lu ok", op_names[op],
			       sum[0]);
		for (e = 1; e != MAX_ERRNO; e++)
			if (sum[e] && len < (int)sizeof(line))
				len += snprintf(line + len, sizeof(line) - len,
						", %lu %s", sum[e],
						errno_name(e));
		printf("# %s\n", line);
	}
	fflush(stdout);
}

TEST_F_TIMEOUT(stress, run, STRESS_TIMEOUT)
{
	struct stress *s = &self->s;
	__u64 secs = env_u64("IOASID_STRESS_SECONDS", STRESS_SECONDS);
	__u64 seed = env_u64("IOASID_STRESS_SEED", (__u64)time(NULL) ^ getpid());
	unsigned int t, i, bad = 0;
	unsigned long ops = 0;
	long start;
	int fd;

	if (!secs || secs > STRESS_SECONDS)
		secs = STRESS_SECONDS;
	printf("# %u threads for %llu s, seed %#llx, %u mock VFIO devices\n",
	       NR_THREADS, (unsigned long long)secs, (unsigned long long)seed,
	       s->nr_cdevs);
	fflush(stdout);

	start = now_ms();
	s->deadline_ms = start + secs * 1000;
	atomic_store(&s->last_reopen_ms, start);
	for (t = 0; t != NR_THREADS; t++) {
		struct worker *w = &self->w[t];

		w->rng = (seed + t + 1) * 0x9e3779b97f4a7c15ULL;
		w->rng ^= w->rng >> 31;
		if (!w->rng)
			w->rng = 1;
		ASSERT_TRUE(priv_open(w)) {
			TH_LOG("%s", s->failure);
		}
	}
	for (t = 0; t != NR_THREADS; t++)
		ASSERT_EQ(0, pthread_create(&self->w[t].thread, NULL,
					    worker_main, &self->w[t]));
	for (t = 0; t != NR_THREADS; t++) {
		ASSERT_EQ(0, pthread_join(self->w[t].thread, NULL));
		ops += self->w[t].ops;
	}
	close(s->shared_fd);

	print_stats(self->w);
	printf("# %lu ops in %.1f s\n", ops, (now_ms() - start) / 1000.0);
	fflush(stdout);
	ASSERT_EQ(0, s->failure[0]) {
		TH_LOG("%s", s->failure);
	}

	/* Every fd is closed: every pin and every charge must be gone. */
	fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (i = 0; i != SHARED_PAGES; i++)
		bad += page_leaked(_metadata, fd, s->scratch, i,
				   self->scratch_ref0[i]);
	for (t = 0; t != NR_THREADS; t++)
		for (i = 0; i != PRIV_PAGES; i++)
			bad += page_leaked(_metadata, fd, self->w[t].buf, i,
					   self->buf_ref0[t][i]);
	close(fd);
	EXPECT_EQ(0U, bad);
	EXPECT_EQ(0, vm_pinned_kb());
	EXPECT_EQ(self->mock_devices0, count_mock_devices());
}

TEST_HARNESS_MAIN
