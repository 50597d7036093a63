// SPDX-License-Identifier: GPL-2.0-only
/*
 * A model-based fuzzer for /dev/ioasid.
 *
 * One fd, up to NR_SPACES IOASIDs, three mock devices (two behind the
 * LARGE mock IOMMU instance, one behind SMALL) attached and detached at
 * random, and a small buffer between PROT_NONE guard pages. A random
 * sequence of calls, valid and invalid, runs on the fd while a reference
 * model says what each must answer. After every call the errno must be
 * the one the model predicts, out_unmapped and what IOASID_GET_INFO
 * reports must match, and after every call that changes mappings, the
 * page table of every attached device must hold exactly the model's
 * mappings over the range the call touched. Every device's whole view,
 * the pins of a sampled page and VmPin are checked now and then.
 *
 * Any difference fails the run and prints the seed, the op number and the
 * call; IOASID_FUZZ_SEED=<seed> IOASID_FUZZ_OPS=<op + 1> replays it. The
 * sequence depends on the seed alone, never on timing, so a run stopped
 * early by the time limit is a prefix of the full one.
 *
 * Cost: a call is cheap when refused early, and a few pages of work when
 * not (maps of up to 8 pages, unmaps of up to 12), plus about one
 * page-table check per attached device for each change. On an emulated,
 * debug kernel that may still be too slow for FUZZ_OPS within the test
 * budget: the run then stops after FUZZ_SECONDS, and says how far it got.
 *
 * The model, and the rules it encodes (the uAPI kernel-doc, with the
 * order of checks where one request breaks several rules as
 * drivers/iommu/ioasid/main.c, space.c, iova.c and pinned.c make them):
 *
 * Every ioctl, before its handler: a number that is not ours is ENOTTY;
 * an unreadable size field EFAULT; a size below the first version of the
 * struct EINVAL; a size past ours with a non-zero byte we do not know
 * E2BIG, an unreadable struct EFAULT; an unknown flag EOPNOTSUPP; a
 * non-zero __reserved EOPNOTSUPP. A longer struct with a zero tail is
 * accepted as if it were ours.
 *
 * IOASID_DMA_MAP: no access flag or vaddr not page aligned EINVAL; zero
 * length, IOVA or length not page aligned EINVAL; IOVA + length wraps
 * EOVERFLOW; vaddr + length wraps or ends past TASK_SIZE EOVERFLOW;
 * unknown IOASID ENOENT; IOVA or length not aligned to the IOASID's
 * smallest page EINVAL; the range meets a reserved range ERANGE; it meets
 * a mapping EEXIST; then the source must be pinnable (EFAULT, here: any
 * page outside the buffer) unless it lies inside one registration, which
 * is used as it is. On success each IOVA page maps its source page with
 * the map's read/write bits.
 *
 * IOASID_DMA_UNMAP: with UNMAP_ALL, a non-zero IOVA or length EINVAL;
 * without, the IOVA range rules of DMA_MAP (EINVAL, EOVERFLOW); unknown
 * IOASID ENOENT; alignment to the IOASID's smallest page EINVAL. Then
 * every mapped page in the range goes, wherever mappings start or end
 * (the buffer has small pages only, MADV_NOHUGEPAGE, so no cut can split
 * a large IOMMU page), and out_unmapped is their size.
 *
 * IOASID_REGISTER_MEMORY: the range rules of a user range (EINVAL,
 * EOVERFLOW past TASK_SIZE); overlapping a registration EEXIST; not all
 * pinnable EFAULT. UNREGISTER: the same range rules, then a range that is
 * not exactly one registration ENOENT, one that a mapping still uses
 * EBUSY.
 *
 * IOASID_ALLOC always works; IOASID_FREE: unknown id ENOENT, a device
 * attached EBUSY; freeing unmaps everything. IOASID_GET_INFO: unknown id
 * ENOENT; it reports the attached devices, the page sizes (the smallest
 * is the CPU page or the smallest IOMMU page of an attached device, and
 * with devices attached the sizes all their domains take), and the
 * usable ranges: everything but each attached SMALL device's MSI window
 * and what lies beyond each attached device's aperture. It fills
 * min(room, count) entries, EFAULT if it cannot.
 *
 * The test ioctl: DEVICE_DEL, ATTACH, DETACH and other per-device ops on
 * an id that is not a device ENOENT; ATTACH to an unknown IOASID ENOENT,
 * of an attached device EBUSY, of a device that could not reach a
 * mapping (inside its reserved ranges or beyond its aperture) ERANGE;
 * DETACH of a detached device ENXIO; an unknown op on a device
 * EOPNOTSUPP; MOCK_DEVICE_ADD on an unknown instance EINVAL.
 *
 * Pinning: each buffer page is pinned once per registration that covers
 * it and once per IOVA page that maps it outside a registration; VmPin is
 * the pages of every registration plus every IOVA page mapped outside
 * one.
 */
#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "ioasid_utils.h"

/* Operations in a run, and the seconds after which it stops anyway. */
#define FUZZ_OPS		1000000UL
#define FUZZ_SECONDS		60
/* The harness kills the run after this: setup and teardown included. */
#define FUZZ_TIMEOUT		150

#define BUF_PAGES		64
#define GUARD_PAGES		4
#define NR_SPACES		3
#define NR_DEVS			3
#define NR_DEAD_IDS		16
#define MODEL_PAGES		144U
#define NR_RANGES		8

/* Now and then: every device's whole view, VmPin, one page's pins. */
#define CHECK_ALL_EVERY		4096
#define CHECK_VMPIN_EVERY	1024
#define CHECK_PINS_EVERY	256

/*
 * What one pin adds to a small page's reference count
 * (GUP_PIN_COUNTING_BIAS); small pages only, so always this.
 */
#define PIN_BIAS		1024

#define SZ_2K			0x800ULL
#define SZ_4K			0x1000ULL
#define SZ_64K			0x10000ULL
#define SZ_1G			0x40000000ULL

/* The model keeps a map's flags as the prot a check expects. */
static_assert((int)IOASID_DMA_MAP_READ == (int)IOASID_TEST_PROT_READ,
	      "prot bits");
static_assert((int)IOASID_DMA_MAP_WRITE == (int)IOASID_TEST_PROT_WRITE,
	      "prot bits");

/* The mock instances, as ioasid_test.h describes them. */
static const struct mock_instance {
	const char *name;
	__u64 pgsizes;
	__u64 aperture_last;
	bool msi_window;
} instances[] = {
	[IOASID_MOCK_INSTANCE_LARGE] = {
		.name = "LARGE",
		.pgsizes = SZ_4K | SZ_2M | SZ_1G,
		.aperture_last = (1ULL << 48) - 1,
	},
	[IOASID_MOCK_INSTANCE_SMALL] = {
		.name = "SMALL",
		.pgsizes = SZ_2K | SZ_64K,
		.aperture_last = (1ULL << 39) - 1,
		.msi_window = true,
	},
};

static const __u32 dev_instance[NR_DEVS] = {
	IOASID_MOCK_INSTANCE_LARGE,
	IOASID_MOCK_INSTANCE_SMALL,
	IOASID_MOCK_INSTANCE_LARGE,
};

/*
 * The IOVA the model follows, page by page: small windows where rules
 * change. A map that would succeed outside them is never made, so
 * nothing is ever mapped anywhere else.
 */
struct region {
	__u64 anchor;		/* the address whose neighbourhood matters */
	unsigned int before;	/* pages modelled below it */
	unsigned int after;	/* pages modelled from it on */
	/* Set up at the start: */
	__u64 base;		/* first IOVA modelled */
	__u64 last;		/* last byte modelled */
	unsigned int first;	/* index of its first page in the model */
	unsigned int npages;
};

#define MAIN_REGION 1

static struct region regions[] = {
	/* IOVA 0 itself */
	{ .anchor = 0, .after = 8 },
	/* where most maps go */
	{ .anchor = 0x100000, .after = 96 },
	/* both edges of SMALL's MSI window */
	{ .anchor = IOASID_MOCK_MSI_START, .before = 4, .after = 4 },
	{ .anchor = IOASID_MOCK_MSI_LAST + 1, .before = 4, .after = 4 },
	/* the ends of SMALL's 39-bit and LARGE's 48-bit apertures */
	{ .anchor = 1ULL << 39, .before = 4, .after = 4 },
	{ .anchor = 1ULL << 48, .before = 4, .after = 4 },
	/* the top of the 64-bit IOVA space, usable with no device */
	{ .anchor = 0, .before = 8 },
};

#define NR_REGIONS ARRAY_SIZE(regions)

/* One IOVA page of an IOASID. */
struct model_page {
	__s16 vpage;		/* page of the buffer it maps, or -1 */
	__u8 prot;		/* IOASID_DMA_MAP_READ/WRITE */
	__s8 reg;		/* the registration it uses, or -1 */
};

struct model_space {
	__u32 id;		/* 0: no IOASID in this slot */
	struct model_page page[MODEL_PAGES];
};

struct model_reg {
	bool live;
	int first;		/* page of the buffer */
	int npages;
	unsigned int users;	/* IOVA pages mapped through it */
};

struct model_dev {
	__u32 id;
	__u32 instance;
	int space;		/* slot it is attached to, or -1 */
};

/* The ioctls and the struct rules each one has. */
enum {
	CALL_VERSION,
	CALL_EXTENSION,
	CALL_ALLOC,
	CALL_FREE,
	CALL_INFO,
	CALL_REGISTER,
	CALL_UNREGISTER,
	CALL_MAP,
	CALL_UNMAP,
	CALL_TEST,
	NR_CALLS,
};

struct call_desc {
	const char *name;
	unsigned long req;
	size_t size;		/* ours, which is the kernel's */
	size_t min_size;	/* the first version's: every one is at it */
	size_t reserved;	/* offset of __u32 __reserved, or 0: none */
	__u32 valid_flags;
	/* Known to the kernel but outside the model (nesting): not fuzzed */
	__u32 unmodelled_flags;
};

/*
 * With the size of the struct's first version (@_min, where it grew since)
 * and flags the model leaves to other tests.
 */
#define CALL_EX(_req, _s, _rsvd, _flags, _min, _unmodelled)		\
	{								\
		.name = #_req,						\
		.req = IOASID_##_req,					\
		.size = sizeof(struct ioasid_cmd_##_s),			\
		.min_size = _min,					\
		.reserved = _rsvd,					\
		.valid_flags = _flags,					\
		.unmodelled_flags = _unmodelled,			\
	}
#define CALL(_req, _s, _rsvd, _flags)					\
	{								\
		.name = #_req,						\
		.req = IOASID_##_req,					\
		.size = sizeof(struct ioasid_cmd_##_s),			\
		.min_size = sizeof(struct ioasid_cmd_##_s),		\
		.reserved = _rsvd,					\
		.valid_flags = _flags,					\
	}
#define RSVD(_s) offsetof(struct ioasid_cmd_##_s, __reserved)

static const struct call_desc calls[NR_CALLS] = {
	[CALL_VERSION] = CALL(GET_API_VERSION, get_api_version,
			      RSVD(get_api_version), 0),
	[CALL_EXTENSION] = CALL(CHECK_EXTENSION, check_extension, 0, 0),
	[CALL_ALLOC] = CALL(ALLOC, alloc, RSVD(alloc), 0),
	[CALL_FREE] = CALL(FREE, free, RSVD(free), 0),
	[CALL_INFO] = CALL_EX(GET_INFO, get_info, RSVD(get_info), 0,
			      offsetof(struct ioasid_cmd_get_info, out_parent),
			      0),
	[CALL_REGISTER] = CALL(REGISTER_MEMORY, register_memory, 0, 0),
	[CALL_UNREGISTER] = CALL(UNREGISTER_MEMORY, register_memory, 0, 0),
	[CALL_MAP] = CALL_EX(DMA_MAP, dma_map, RSVD(dma_map), MAP_RW,
			     sizeof(struct ioasid_cmd_dma_map),
			     IOASID_DMA_MAP_FROM_PARENT),
	[CALL_UNMAP] = CALL_EX(DMA_UNMAP, dma_unmap, RSVD(dma_unmap),
			       IOASID_DMA_UNMAP_ALL,
			       offsetof(struct ioasid_cmd_dma_unmap,
					dirty_page_size),
			       IOASID_DMA_UNMAP_GET_DIRTY),
	[CALL_TEST] = CALL(TEST, test, 0, 0),
};

/* Ways to break the struct rules every ioctl shares; a bit each. */
enum {
	MANGLE_SHORT,		/* size below the first version: EINVAL */
	MANGLE_LONG,		/* size past ours, zero tail: accepted */
	MANGLE_LONG_DIRTY,	/* size past ours, a byte set in it: E2BIG */
	MANGLE_FLAGS,		/* a flag the ioctl does not know: EOPNOTSUPP */
	MANGLE_RESERVED,	/* __reserved set: EOPNOTSUPP */
	MANGLE_BAD_PTR,		/* no struct there at all: EFAULT */
	MANGLE_STRADDLE,	/* only size and flags readable: EFAULT */
	MANGLE_BAD_NR,		/* not an ioctl of the fd: ENOTTY */
	NR_MANGLES,
};

static const char *const mangle_names[NR_MANGLES] = {
	"short", "long", "long_dirty", "flags", "reserved", "bad_ptr",
	"straddle", "bad_nr",
};

/* Room for any of the structs and a tail past it. */
#define ARG_ROOM 256

union fuzz_arg {
	struct ioasid_cmd_get_api_version version;
	struct ioasid_cmd_check_extension ext;
	struct ioasid_cmd_alloc alloc;
	struct ioasid_cmd_free free;
	struct ioasid_cmd_get_info info;
	struct ioasid_cmd_register_memory reg;
	struct ioasid_cmd_dma_map map;
	struct ioasid_cmd_dma_unmap unmap;
	struct ioasid_cmd_test test;
	__u8 bytes[ARG_ROOM];
};

/* What the fuzzer does, for the statistics. */
enum {
	OP_MAP,
	OP_UNMAP,
	OP_REGISTER,
	OP_UNREGISTER,
	OP_ALLOC,
	OP_FREE,
	OP_ATTACH,
	OP_DETACH,
	OP_INFO,
	OP_VERSION,
	OP_TEST_MISC,
	OP_READD,
	NR_OPS,
};

static const char *const op_names[NR_OPS] = {
	"map", "unmap", "register", "unregister", "alloc", "free", "attach",
	"detach", "get_info", "version/extension", "test op", "device re-add",
};

#define MAX_ERRNO 134

struct fuzz {
	int fd;
	__u8 *buf;		/* BUF_PAGES, guard pages either side */
	__u8 *arg_page;		/* a page for the call's struct, then a guard */
	__u8 *guard;		/* a PROT_NONE page */
	__u64 vaddr_last;	/* TASK_SIZE - 1, or 0 if not known */
	__u64 seed, rng;
	unsigned long op, nops;

	struct model_space spaces[NR_SPACES];
	struct model_reg regs[BUF_PAGES];
	struct model_dev devs[NR_DEVS];
	__u32 dead_ids[NR_DEAD_IDS];
	unsigned int dead_next;
	__u32 ref0[BUF_PAGES];

	/* The call in flight, to describe it if it fails. */
	unsigned int call;
	unsigned int mangles;
	unsigned long req;
	void *ptr;

	struct ioasid_iova_range ranges[NR_RANGES];
	unsigned long stats[NR_OPS][MAX_ERRNO];
	unsigned long ioctls, checks, skipped;
};

/* A TAP comment that survives the harness's _exit(). */
static void __printf(1, 2) note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* A user address, as an offset into the buffer where it is near it. */
static void describe_vaddr(struct fuzz *f, const char *name, __u64 vaddr)
{
	__s64 off = vaddr - (uintptr_t)f->buf;

	if (off > -(1LL << 40) && off < 1LL << 40)
		printf(" %s=buf%c%#llx", name, off < 0 ? '-' : '+',
		       (unsigned long long)(off < 0 ? -off : off));
	else
		printf(" %s=%#llx", name, (unsigned long long)vaddr);
}

/* The call in flight, field by field. */
static void describe_call(struct fuzz *f)
{
	const union fuzz_arg *a = (const void *)f->arg_page;
	unsigned int i;

	printf("#   call %s", calls[f->call].name);
	for (i = 0; i != NR_MANGLES; i++)
		if (f->mangles & 1U << i)
			printf(" [%s]", mangle_names[i]);
	printf(" req=%#lx ptr=%p size=%u flags=%#x", f->req, f->ptr,
	       a->map.size, a->map.flags);
	switch (f->call) {
	case CALL_FREE:
		printf(" ioasid=%u", a->free.ioasid);
		break;
	case CALL_EXTENSION:
		printf(" extension=%u", a->ext.extension);
		break;
	case CALL_INFO:
		printf(" ioasid=%u num_iova_ranges=%u iova_ranges=%#llx",
		       a->info.ioasid, a->info.num_iova_ranges,
		       (unsigned long long)a->info.iova_ranges);
		break;
	case CALL_REGISTER:
	case CALL_UNREGISTER:
		describe_vaddr(f, "vaddr", a->reg.vaddr);
		printf(" length=%#llx", (unsigned long long)a->reg.length);
		break;
	case CALL_MAP:
		printf(" ioasid=%u", a->map.ioasid);
		describe_vaddr(f, "vaddr", a->map.vaddr);
		printf(" iova=%#llx length=%#llx",
		       (unsigned long long)a->map.iova,
		       (unsigned long long)a->map.length);
		break;
	case CALL_UNMAP:
		printf(" ioasid=%u iova=%#llx length=%#llx", a->unmap.ioasid,
		       (unsigned long long)a->unmap.iova,
		       (unsigned long long)a->unmap.length);
		break;
	case CALL_TEST:
		printf(" op=%u dev_id=%u arg=%#x", a->test.op, a->test.dev_id,
		       a->test.attach.ioasid);
		break;
	}
	printf(" __reserved=%#x\n", a->map.__reserved);
}

/* The model, briefly: IOASIDs, devices, registrations. */
static void describe_model(struct fuzz *f)
{
	unsigned int i;

	for (i = 0; i != NR_SPACES; i++)
		if (f->spaces[i].id)
			printf("#   model: ioasid %u in slot %u\n",
			       f->spaces[i].id, i);
	for (i = 0; i != NR_DEVS; i++)
		printf("#   model: device %u (%s) attached to slot %d\n",
		       f->devs[i].id, instances[f->devs[i].instance].name,
		       f->devs[i].space);
	for (i = 0; i != BUF_PAGES; i++)
		if (f->regs[i].live)
			printf("#   model: registration buf pages %d+%d, %u users\n",
			       f->regs[i].first, f->regs[i].npages,
			       f->regs[i].users);
}

/* Report a failure of the current op; always false, for return. */
static bool __printf(2, 3)
fail(struct fuzz *f, const char *fmt, ...)
{
	va_list ap;

	printf("# FAIL at op %lu (IOASID_FUZZ_SEED=%#llx IOASID_FUZZ_OPS=%lu): ",
	       f->op, (unsigned long long)f->seed, f->op + 1);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	describe_call(f);
	describe_model(f);
	fflush(stdout);
	return false;
}

/* --- The model's IOVA: regions and pages --- */

static void regions_init(void)
{
	unsigned int i, first = 0;

	for (i = 0; i != NR_REGIONS; i++) {
		struct region *r = &regions[i];

		r->npages = r->before + r->after;
		r->base = r->anchor - r->before * PAGE_SIZE;
		r->last = r->base + (r->npages * PAGE_SIZE - 1);
		r->first = first;
		first += r->npages;
	}
}

/* Pages [*lo, *hi) of @r that lie in [start, last]; false if none. */
static bool region_clip(const struct region *r, __u64 start, __u64 last,
			unsigned int *lo, unsigned int *hi)
{
	if (last < r->base || start > r->last)
		return false;
	*lo = start <= r->base ? 0 : (start - r->base) / PAGE_SIZE;
	*hi = last >= r->last ? r->npages : (last - r->base) / PAGE_SIZE + 1;
	return *lo < *hi;
}

/* The region that holds all of [start, last], or NULL. */
static const struct region *region_holding(__u64 start, __u64 last)
{
	unsigned int i;

	for (i = 0; i != NR_REGIONS; i++)
		if (start >= regions[i].base && last <= regions[i].last)
			return &regions[i];
	return NULL;
}

static struct model_page *page_at(struct fuzz *f, int slot, __u64 iova)
{
	const struct region *r = region_holding(iova, iova);

	return &f->spaces[slot].page[r->first + (iova - r->base) / PAGE_SIZE];
}

/*
 * Mapped pages of @slot in [start, last], unmapped in the model too if
 * @unmap: one walk, so what a check counts is what an unmap removes.
 */
static unsigned long model_walk(struct fuzz *f, int slot, __u64 start,
				__u64 last, bool unmap)
{
	unsigned long n = 0;
	unsigned int i, lo, hi;

	for (i = 0; i != NR_REGIONS; i++) {
		if (!region_clip(&regions[i], start, last, &lo, &hi))
			continue;
		for (; lo != hi; lo++) {
			struct model_page *p =
				&f->spaces[slot].page[regions[i].first + lo];

			if (p->vpage < 0)
				continue;
			n++;
			if (!unmap)
				continue;
			if (p->reg >= 0)
				f->regs[p->reg].users--;
			p->vpage = -1;
		}
	}
	return n;
}

/* Mapped pages of @slot in [start, last]. */
static unsigned long count_mapped(struct fuzz *f, int slot, __u64 start,
				  __u64 last)
{
	return model_walk(f, slot, start, last, false);
}

/* Is a device behind mock instance @inst attached to @slot? */
static bool instance_attached(struct fuzz *f, int slot, __u32 inst)
{
	unsigned int d;

	for (d = 0; d != NR_DEVS; d++)
		if (f->devs[d].space == slot && f->devs[d].instance == inst)
			return true;
	return false;
}

static unsigned int devices_attached(struct fuzz *f, int slot)
{
	unsigned int d, n = 0;

	for (d = 0; d != NR_DEVS; d++)
		n += f->devs[d].space == slot;
	return n;
}

/* What no mapping may use while device @d is attached. */
static unsigned int dev_reserved(struct fuzz *f, int d,
				 struct ioasid_iova_range *out)
{
	const struct mock_instance *mi = &instances[f->devs[d].instance];
	unsigned int n = 0;

	if (mi->msi_window) {
		out[n].start = IOASID_MOCK_MSI_START;
		out[n++].last = IOASID_MOCK_MSI_LAST;
	}
	out[n].start = mi->aperture_last + 1;
	out[n++].last = UINT64_MAX;
	return n;
}

/* Every reserved range of @slot, sorted by start. */
static unsigned int space_reserved(struct fuzz *f, int slot,
				   struct ioasid_iova_range *out)
{
	unsigned int d, i, j, n = 0;

	for (d = 0; d != NR_DEVS; d++)
		if (f->devs[d].space == slot)
			n += dev_reserved(f, d, out + n);
	for (i = 1; i < n; i++)
		for (j = i; j && out[j - 1].start > out[j].start; j--) {
			struct ioasid_iova_range t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

static bool ranges_meet(const struct ioasid_iova_range *r, unsigned int n,
			__u64 start, __u64 last)
{
	unsigned int i;

	for (i = 0; i != n; i++)
		if (start <= r[i].last && last >= r[i].start)
			return true;
	return false;
}

/* The usable ranges GET_INFO reports: the gaps the reserved leave. */
static unsigned int space_usable(struct fuzz *f, int slot,
				 struct ioasid_iova_range *out)
{
	struct ioasid_iova_range resv[2 * NR_DEVS];
	unsigned int i, n = 0, nr = space_reserved(f, slot, resv);
	__u64 next = 0;

	for (i = 0; i != nr; i++) {
		if (resv[i].start > next) {
			out[n].start = next;
			out[n++].last = resv[i].start - 1;
		}
		if (resv[i].last == UINT64_MAX)
			return n;
		if (resv[i].last + 1 > next)
			next = resv[i].last + 1;
	}
	out[n].start = next;
	out[n++].last = UINT64_MAX;
	return n;
}

/* The smallest page @slot's mappings must be aligned to. */
static __u64 space_align(struct fuzz *f, int slot)
{
	__u64 align = PAGE_SIZE;
	__u32 i;

	for (i = 0; i != ARRAY_SIZE(instances); i++) {
		__u64 pg = instances[i].pgsizes;

		if (instance_attached(f, slot, i) && (pg & -pg) > align)
			align = pg & -pg;
	}
	return align;
}

/* out_pgsize_bitmap with devices attached: what every domain takes. */
static __u64 space_pgsizes(struct fuzz *f, int slot)
{
	__u64 sizes = UINT64_MAX, align = space_align(f, slot);
	__u32 i;

	for (i = 0; i != ARRAY_SIZE(instances); i++)
		if (instance_attached(f, slot, i))
			sizes &= instances[i].pgsizes;
	return (sizes & ~(align - 1)) | align;
}

/* The live registration that holds all of buffer pages [v, v + n). */
static int reg_holding(struct fuzz *f, __s64 v, __s64 n)
{
	unsigned int i;

	for (i = 0; i != BUF_PAGES; i++) {
		const struct model_reg *r = &f->regs[i];

		if (r->live && v >= r->first && v + n <= r->first + r->npages)
			return i;
	}
	return -1;
}

static void push_dead_id(struct fuzz *f, __u32 id)
{
	f->dead_ids[f->dead_next++ % NR_DEAD_IDS] = id;
}

/* Unmap [start, last] of @slot in the model; returns the pages. */
static unsigned long model_unmap(struct fuzz *f, int slot, __u64 start,
				 __u64 last)
{
	return model_walk(f, slot, start, last, true);
}

static void model_space_clear(struct fuzz *f, int slot)
{
	unsigned int i;

	for (i = 0; i != MODEL_PAGES; i++)
		f->spaces[slot].page[i].vpage = -1;
}

/* --- Page tables, pins and accounting against the model --- */

static int test_ioctl(struct fuzz *f, struct ioasid_cmd_test *cmd)
{
	f->checks++;
	return _test_cmd_mock(f->fd, cmd);
}

/* One run of pages of @slot in device @d's page table. */
static bool check_run(struct fuzz *f, int d, const struct model_page *p,
		      __u64 iova, __u64 len)
{
	struct ioasid_cmd_test cmd = {
		.dev_id = f->devs[d].id,
		.check_map = { .iova = iova, .length = len },
	};
	int ret;

	if (p->vpage >= 0) {
		cmd.op = IOASID_TEST_OP_CHECK_MAP;
		cmd.check_map.prot = p->prot;
		cmd.check_map.vaddr = (uintptr_t)f->buf + p->vpage * PAGE_SIZE;
	} else {
		cmd.op = IOASID_TEST_OP_CHECK_UNMAPPED;
	}
	ret = test_ioctl(f, &cmd);
	if (ret)
		return fail(f, "device %u: IOVA %#llx+%#llx should %s, %s",
			    f->devs[d].id, (unsigned long long)iova,
			    (unsigned long long)len,
			    p->vpage < 0 ? "map nothing" : "map the model's pages",
			    errno_name(-ret));
	/* Small pages are never mapped with large IOMMU pages. */
	if (p->vpage >= 0 && cmd.check_map.out_pgsize > PAGE_SIZE)
		return fail(f, "device %u: IOVA %#llx+%#llx in %#llx pages",
			    f->devs[d].id, (unsigned long long)iova,
			    (unsigned long long)len,
			    (unsigned long long)cmd.check_map.out_pgsize);
	return true;
}

/* Pages [lo, hi) of @r in device @d's table: one check per run. */
static bool check_pages(struct fuzz *f, int d, const struct region *r,
			unsigned int lo, unsigned int hi)
{
	const struct model_page *pages = f->spaces[f->devs[d].space].page +
					 r->first;

	while (lo < hi) {
		const struct model_page *p = &pages[lo];
		unsigned int n = 1;
		__u64 iova = r->base + lo * PAGE_SIZE, len;

		if (p->vpage < 0)
			while (lo + n < hi && pages[lo + n].vpage < 0)
				n++;
		else
			while (lo + n < hi &&
			       pages[lo + n].vpage == p->vpage + (int)n &&
			       pages[lo + n].prot == p->prot)
				n++;
		len = n * PAGE_SIZE;
		/* A check cannot name the last page of the IOVA space. */
		if (iova + len == 0)
			len -= PAGE_SIZE;
		if (len && !check_run(f, d, p, iova, len))
			return false;
		lo += n;
	}
	return true;
}

/* [start, last] of device @d's IOASID, in its page table. */
static bool check_dev_range(struct fuzz *f, int d, __u64 start, __u64 last)
{
	unsigned int i, lo, hi;

	for (i = 0; i != NR_REGIONS; i++)
		if (region_clip(&regions[i], start, last, &lo, &hi) &&
		    !check_pages(f, d, &regions[i], lo, hi))
			return false;
	return true;
}

/* [start, last] of @slot, in every device attached to it. */
static bool check_range(struct fuzz *f, int slot, __u64 start, __u64 last)
{
	unsigned int d;

	for (d = 0; d != NR_DEVS; d++)
		if (f->devs[d].space == slot &&
		    !check_dev_range(f, d, start, last))
			return false;
	return true;
}

static bool check_all(struct fuzz *f)
{
	unsigned int s;

	for (s = 0; s != NR_SPACES; s++)
		if (f->spaces[s].id && !check_range(f, s, 0, UINT64_MAX))
			return false;
	return true;
}

/* How often buffer page @v is pinned, by the model. */
static unsigned int model_pins(struct fuzz *f, int v)
{
	unsigned int i, s, pins = 0;

	for (i = 0; i != BUF_PAGES; i++)
		pins += f->regs[i].live && v >= f->regs[i].first &&
			v < f->regs[i].first + f->regs[i].npages;
	for (s = 0; s != NR_SPACES; s++) {
		if (!f->spaces[s].id)
			continue;
		for (i = 0; i != MODEL_PAGES; i++)
			pins += f->spaces[s].page[i].vpage == v &&
				f->spaces[s].page[i].reg < 0;
	}
	return pins;
}

/*
 * Buffer page @v is pinned as often as the model says: each pin adds
 * PIN_BIAS to its count. Less than PIN_BIAS / 2 more is left to whoever
 * may hold a passing reference (compaction, say).
 */
static bool check_pins(struct fuzz *f, int v)
{
	unsigned int pins = model_pins(f, v);
	__u32 ref, pinned, want = f->ref0[v] + pins * PIN_BIAS;
	int ret;

	f->checks++;
	ret = page_ref(f->fd, f->buf + v * PAGE_SIZE, &ref, &pinned);
	if (ret)
		return fail(f, "PAGE_REF of buf page %d: %s", v,
			    errno_name(-ret));
	if (pinned != !!pins || ref < want || ref >= want + PIN_BIAS / 2)
		return fail(f, "buf page %d: refcount %u pinned %u, model: %u pins over %u",
			    v, ref, pinned, pins, f->ref0[v]);
	return true;
}

/* VmPin: every registration, and every IOVA page mapped outside one. */
static bool check_vmpin(struct fuzz *f)
{
	unsigned long pages = 0;
	unsigned int i, s;
	long kb;

	for (i = 0; i != BUF_PAGES; i++)
		if (f->regs[i].live)
			pages += f->regs[i].npages;
	for (s = 0; s != NR_SPACES; s++)
		for (i = 0; f->spaces[s].id && i != MODEL_PAGES; i++)
			pages += f->spaces[s].page[i].vpage >= 0 &&
				 f->spaces[s].page[i].reg < 0;
	kb = vm_pinned_kb();
	if (kb != (long)(pages * PAGE_SIZE / 1024))
		return fail(f, "VmPin %ld kB, model: %lu pages", kb, pages);
	return true;
}

/* --- Calls --- */

/* A fresh struct for @call, all zero but its size. */
static union fuzz_arg *arg_reset(struct fuzz *f, unsigned int call)
{
	union fuzz_arg *a = (void *)f->arg_page;

	memset(a, 0, sizeof(*a));
	a->map.size = calls[call].size;
	f->call = call;
	f->mangles = 0;
	f->req = calls[call].req;
	f->ptr = a;
	return a;
}

/* A number that is no ioctl of ours. */
static unsigned long bad_nr(struct fuzz *f, unsigned int call)
{
	switch (rng_below(&f->rng, 4)) {
	case 0:
		/* In our range, but unassigned and kept so. */
		return _IO(IOASID_TYPE, 0x3e);
	case 1:
		return _IO(IOASID_TYPE, 0x40 + rng_below(&f->rng, 0xc0));
	case 2:
		return _IO('x', _IOC_NR(calls[call].req));
	default:
		/* Ours with a size encoded: another ioctl. */
		return _IOWR(IOASID_TYPE, _IOC_NR(calls[call].req),
			     struct ioasid_cmd_alloc);
	}
}

/* Break some struct rules; returns what the ioctl must then answer. */
static int mangle(struct fuzz *f, union fuzz_arg *a)
{
	const struct call_desc *d = &calls[f->call];
	unsigned int m = rng_below(&f->rng, NR_MANGLES + 2), extra;

	/* LONG twice as often: it is the one that reaches the handler. */
	if (m >= NR_MANGLES)
		m = MANGLE_LONG;
	f->mangles = 1U << m;
	if (m < MANGLE_BAD_PTR && rng_one_in(&f->rng, 4)) {
		extra = rng_below(&f->rng, 4);
		extra = extra == 0 ? MANGLE_SHORT : extra == 1 ?
			MANGLE_LONG_DIRTY : extra == 2 ? MANGLE_FLAGS :
			MANGLE_RESERVED;
		/* One size only. */
		if (extra >= MANGLE_FLAGS || m >= MANGLE_FLAGS)
			f->mangles |= 1U << extra;
	}
	if (f->mangles & 1U << MANGLE_SHORT) {
		a->map.size = rng_below(&f->rng, d->min_size);
	} else if (f->mangles & (1U << MANGLE_LONG |
				 1U << MANGLE_LONG_DIRTY)) {
		a->map.size = d->size + 1 +
			      rng_below(&f->rng, ARG_ROOM - d->size);
		if (f->mangles & 1U << MANGLE_LONG_DIRTY)
			a->bytes[d->size + rng_below(&f->rng, a->map.size -
							 d->size)] =
				1 + rng_below(&f->rng, 255);
	}
	if (f->mangles & 1U << MANGLE_FLAGS) {
		__u32 bit;

		do {
			bit = 1U << rng_below(&f->rng, 32);
		} while (bit & (d->valid_flags | d->unmodelled_flags));
		a->map.flags |= bit;
	}
	if (f->mangles & 1U << MANGLE_RESERVED && d->reserved)
		*(__u32 *)(a->bytes + d->reserved) =
			1 + rng_below(&f->rng, ~0U);
	if (m == MANGLE_BAD_PTR) {
		f->ptr = rng_below(&f->rng, 3) == 0 ? NULL :
			 rng_below(&f->rng, 2) ? (void *)16 : (void *)f->guard;
	} else if (m == MANGLE_STRADDLE) {
		/* size and flags end the page; the rest is not readable. */
		f->ptr = f->arg_page + PAGE_SIZE - 8;
		memcpy(f->ptr, a, 8);
	} else if (m == MANGLE_BAD_NR) {
		f->req = bad_nr(f, f->call);
	}

	/* Checked in this order, before the handler runs. */
	if (f->mangles & 1U << MANGLE_BAD_NR)
		return -ENOTTY;
	if (f->mangles & 1U << MANGLE_BAD_PTR)
		return -EFAULT;
	if (f->mangles & 1U << MANGLE_SHORT)
		return -EINVAL;
	if (f->mangles & 1U << MANGLE_STRADDLE)
		return -EFAULT;
	if (f->mangles & 1U << MANGLE_LONG_DIRTY)
		return -E2BIG;
	if (f->mangles & 1U << MANGLE_FLAGS)
		return -EOPNOTSUPP;
	if (f->mangles & 1U << MANGLE_RESERVED && d->reserved)
		return -EOPNOTSUPP;
	return 0;
}

/*
 * Issue the call built by arg_reset() and the op, maybe with its struct
 * broken first. @expect is what the handler must answer; *ret is the
 * result, 0 only if the handler ran and succeeded. False on a mismatch.
 */
static bool issue(struct fuzz *f, unsigned int op, int expect, bool may_mangle,
		  int *ret)
{
	union fuzz_arg *a = (void *)f->arg_page;

	if (may_mangle && rng_one_in(&f->rng, 6)) {
		int early = mangle(f, a);

		if (early)
			expect = early;
	}
	f->ioctls++;
	*ret = ioasid_ioctl(f->fd, f->req, f->ptr);
	f->stats[op][-*ret < MAX_ERRNO ? -*ret : 0]++;
	if (*ret != expect)
		return fail(f, "answered %s (%d), model: %s", errno_name(-*ret),
			    *ret, errno_name(-expect));
	return true;
}

/* --- Picking ids --- */

/* An id that names no IOASID (for device ops: no device). */
static __u32 unknown_id(struct fuzz *f, bool for_device)
{
	unsigned int i = rng_below(&f->rng, 6);

	if (i == 0)
		return 0;
	if (i == 1)
		return rng_below(&f->rng, 2) ? 0x7fffffff : 0xffffffff;
	if (i == 2) {
		/* The other kind of object: the wrong type is unknown. */
		if (for_device) {
			unsigned int s = rng_below(&f->rng, NR_SPACES);

			if (f->spaces[s].id)
				return f->spaces[s].id;
		} else {
			return f->devs[rng_below(&f->rng, NR_DEVS)].id;
		}
	}
	/* Freed or deleted ids are not reused. */
	return f->dead_ids[rng_below(&f->rng, NR_DEAD_IDS)];
}

/* A live IOASID slot, mostly; -1 with an unknown id sometimes. */
static int pick_space(struct fuzz *f, __u32 *id)
{
	unsigned int s = rng_below(&f->rng, NR_SPACES), i;

	if (!rng_one_in(&f->rng, 24)) {
		for (i = 0; i != NR_SPACES; i++, s = (s + 1) % NR_SPACES) {
			if (f->spaces[s].id) {
				*id = f->spaces[s].id;
				return s;
			}
		}
	}
	*id = unknown_id(f, false);
	return -1;
}

/* A live registration, or NULL if there is none. */
static const struct model_reg *pick_reg(struct fuzz *f)
{
	unsigned int i, r = rng_below(&f->rng, BUF_PAGES);

	for (i = 0; i != BUF_PAGES; i++, r = (r + 1) % BUF_PAGES)
		if (f->regs[r].live)
			return &f->regs[r];
	return NULL;
}

static const struct region *pick_region(struct fuzz *f)
{
	if (rng_below(&f->rng, 8) < 5)
		return &regions[MAIN_REGION];
	return &regions[rng_below(&f->rng, NR_REGIONS)];
}

/* A length for a range that may run far past any window. */
static __u64 wild_length(struct fuzz *f)
{
	static const unsigned int shifts[] = { 21, 30, 32, 40, 47, 63 };

	if (rng_one_in(&f->rng, 8))
		return -PAGE_SIZE;
	return 1ULL << shifts[rng_below(&f->rng, ARRAY_SIZE(shifts))];
}

/* --- The ops --- */

struct map_req {
	int slot;
	__u32 ioasid, flags;
	__s64 vpage;		/* source, in buffer pages */
	__u64 vaddr, iova, len;
};

/* DMA_MAP's answer, by the rules at the top; see there for the order. */
static int predict_map(struct fuzz *f, const struct map_req *r)
{
	__u64 last, vlast;
	struct ioasid_iova_range resv[2 * NR_DEVS];

	if (!(r->flags & MAP_RW) || r->vaddr % PAGE_SIZE)
		return -EINVAL;
	if (!r->len || r->iova % PAGE_SIZE || r->len % PAGE_SIZE)
		return -EINVAL;
	if (__builtin_add_overflow(r->iova, r->len - 1, &last))
		return -EOVERFLOW;
	if (__builtin_add_overflow(r->vaddr, r->len - 1, &vlast) ||
	    vlast > f->vaddr_last)
		return -EOVERFLOW;
	if (r->slot < 0)
		return -ENOENT;
	if ((r->iova | r->len) & (space_align(f, r->slot) - 1))
		return -EINVAL;
	if (ranges_meet(resv, space_reserved(f, r->slot, resv), r->iova, last))
		return -ERANGE;
	if (count_mapped(f, r->slot, r->iova, last))
		return -EEXIST;
	if (r->vaddr < (uintptr_t)f->buf ||
	    vlast >= (uintptr_t)f->buf + BUF_PAGES * PAGE_SIZE)
		return -EFAULT;
	return 0;
}

static void gen_map(struct fuzz *f, struct map_req *r)
{
	const struct region *rg = pick_region(f);
	unsigned int n = 1 + rng_below(&f->rng,
				       rg->npages < 8 ? rg->npages : 8);
	const struct model_reg *g = pick_reg(f);
	static const __u32 flags[] = {
		IOASID_DMA_MAP_READ, IOASID_DMA_MAP_WRITE, MAP_RW, MAP_RW,
	};

	r->slot = pick_space(f, &r->ioasid);
	r->iova = rg->base + rng_below(&f->rng, rg->npages - n + 1) * PAGE_SIZE;
	r->len = n * PAGE_SIZE;
	r->flags = flags[rng_below(&f->rng, ARRAY_SIZE(flags))];
	/* Half the time from inside a registration, if there is one. */
	if (g && rng_one_in(&f->rng, 2)) {
		int span = g->npages - (int)n + 1;

		r->vpage = g->first +
			   (int)rng_below(&f->rng, span > 1 ? span : 1);
	} else {
		r->vpage = (int)rng_below(&f->rng, BUF_PAGES + 2 * GUARD_PAGES -
						   n + 1) - GUARD_PAGES;
	}
	r->vaddr = (uintptr_t)f->buf + r->vpage * PAGE_SIZE;

	/* Now break it, sometimes in several ways at once. */
	if (rng_one_in(&f->rng, 3)) {
		if (rng_one_in(&f->rng, 8))
			r->flags = 0;
		if (rng_one_in(&f->rng, 8))
			r->vaddr += 1 + rng_below(&f->rng, PAGE_SIZE - 1);
		if (rng_one_in(&f->rng, 8))
			r->iova += rng_one_in(&f->rng, 2) ? PAGE_SIZE / 2 :
				   1 + rng_below(&f->rng, PAGE_SIZE - 1);
		if (rng_one_in(&f->rng, 8))
			r->len = rng_one_in(&f->rng, 2) ? 0 : r->len + 1 +
					rng_below(&f->rng, PAGE_SIZE - 1);
		if (rng_one_in(&f->rng, 6))
			r->len = wild_length(f);
		if (rng_one_in(&f->rng, 8))
			r->iova = rng_next(&f->rng) & -PAGE_SIZE;
		if (rng_one_in(&f->rng, 10))
			r->vaddr = rng_one_in(&f->rng, 2) ? PAGE_SIZE :
							   1ULL << 63;
		if (f->vaddr_last && rng_one_in(&f->rng, 10)) {
			/* Ending past TASK_SIZE, or exactly at it. */
			unsigned int k = 1 + rng_below(&f->rng, 4);
			unsigned int j = rng_below(&f->rng, 3);

			r->vaddr = f->vaddr_last + 1 - k * PAGE_SIZE;
			r->len = (k + j) * PAGE_SIZE;
			/* Not pinned: nothing the model knows may be there. */
			if (!j) {
				r->slot = -1;
				r->ioasid = unknown_id(f, false);
			}
		}
	}
}

static bool op_map(struct fuzz *f)
{
	union fuzz_arg *a = arg_reset(f, CALL_MAP);
	struct map_req r;
	int expect, ret, reg;
	__u64 i, n;

	gen_map(f, &r);
	expect = predict_map(f, &r);
	/* Nothing may be mapped where the model does not look. */
	if (!expect && !region_holding(r.iova, r.iova + r.len - 1)) {
		f->skipped++;
		return true;
	}
	a->map.flags = r.flags;
	a->map.ioasid = r.ioasid;
	a->map.vaddr = r.vaddr;
	a->map.iova = r.iova;
	a->map.length = r.len;
	if (!issue(f, OP_MAP, expect, true, &ret))
		return false;
	if (ret) {
		/* A refused map changed nothing: look now and then. */
		if (r.slot >= 0 && rng_one_in(&f->rng, 8) &&
		    region_holding(r.iova, r.iova + r.len - 1))
			return check_range(f, r.slot, r.iova,
					   r.iova + r.len - 1);
		return true;
	}

	n = r.len / PAGE_SIZE;
	r.vpage = (r.vaddr - (uintptr_t)f->buf) / PAGE_SIZE;
	reg = reg_holding(f, r.vpage, n);
	for (i = 0; i != n; i++) {
		struct model_page *p = page_at(f, r.slot,
					       r.iova + i * PAGE_SIZE);

		p->vpage = r.vpage + i;
		p->prot = r.flags & MAP_RW;
		p->reg = reg;
	}
	if (reg >= 0)
		f->regs[reg].users += n;
	return check_range(f, r.slot, r.iova, r.iova + r.len - 1);
}

static bool op_unmap(struct fuzz *f)
{
	union fuzz_arg *a = arg_reset(f, CALL_UNMAP);
	const struct region *rg = pick_region(f);
	__u64 iova, len, last = 0, unmapped, want;
	__u32 flags = 0, ioasid;
	int slot, expect, ret;

	slot = pick_space(f, &ioasid);
	/* From a page of the window, maybe past its end. */
	iova = rg->base + rng_below(&f->rng, rg->npages) * PAGE_SIZE;
	len = (1 + rng_below(&f->rng, 12)) * PAGE_SIZE;
	if (rng_one_in(&f->rng, 16)) {
		flags = IOASID_DMA_UNMAP_ALL;
		iova = 0;
		len = 0;
		if (rng_one_in(&f->rng, 4))
			iova = PAGE_SIZE;
		if (rng_one_in(&f->rng, 4))
			len = PAGE_SIZE;
	} else if (rng_one_in(&f->rng, 3)) {
		if (rng_one_in(&f->rng, 6))
			iova += rng_one_in(&f->rng, 2) ? PAGE_SIZE / 2 :
				1 + rng_below(&f->rng, PAGE_SIZE - 1);
		if (rng_one_in(&f->rng, 6))
			len = rng_one_in(&f->rng, 2) ? 0 : len + 1 +
				rng_below(&f->rng, PAGE_SIZE - 1);
		if (rng_one_in(&f->rng, 4))
			len = wild_length(f);
		if (rng_one_in(&f->rng, 8))
			iova = 0;
	}

	/* The rules at the top, in their order. */
	if (flags) {
		expect = iova || len ? -EINVAL : 0;
		last = UINT64_MAX;
	} else if (!len || iova % PAGE_SIZE || len % PAGE_SIZE) {
		expect = -EINVAL;
	} else if (__builtin_add_overflow(iova, len - 1, &last)) {
		expect = -EOVERFLOW;
	} else {
		expect = 0;
	}
	if (!expect && slot < 0)
		expect = -ENOENT;
	if (!expect && (iova | len) & (space_align(f, slot) - 1))
		expect = -EINVAL;

	a->unmap.flags = flags;
	a->unmap.ioasid = ioasid;
	a->unmap.iova = iova;
	a->unmap.length = len;
	if (!issue(f, OP_UNMAP, expect, true, &ret))
		return false;
	if (ret)
		return true;
	unmapped = a->unmap.out_unmapped;
	want = model_unmap(f, slot, iova, last) * PAGE_SIZE;
	if (unmapped != want)
		return fail(f, "out_unmapped %#llx, model: %#llx",
			    (unsigned long long)unmapped,
			    (unsigned long long)want);
	return check_range(f, slot, iova, last);
}

/*
 * A user range for REGISTER and UNREGISTER: over the buffer and its
 * guards, or broken.
 */
static void gen_user_range(struct fuzz *f, __s64 v, __s64 n, __u64 *vaddr,
			   __u64 *len)
{
	*vaddr = (uintptr_t)f->buf + v * PAGE_SIZE;
	*len = n * PAGE_SIZE;
	if (!rng_one_in(&f->rng, 4))
		return;
	if (rng_one_in(&f->rng, 6))
		*vaddr += 1 + rng_below(&f->rng, PAGE_SIZE - 1);
	if (rng_one_in(&f->rng, 6))
		*len = rng_one_in(&f->rng, 2) ? 0 :
		       *len + 1 + rng_below(&f->rng, PAGE_SIZE - 1);
	if (rng_one_in(&f->rng, 5))
		*len = wild_length(f);
	if (rng_one_in(&f->rng, 8))
		*vaddr = rng_one_in(&f->rng, 2) ? PAGE_SIZE : 1ULL << 63;
	if (f->vaddr_last && rng_one_in(&f->rng, 8)) {
		/* Past TASK_SIZE: never exactly at it, that would pin. */
		unsigned int k = 1 + rng_below(&f->rng, 4);

		*vaddr = f->vaddr_last + 1 - k * PAGE_SIZE;
		*len = (k + 1 + rng_below(&f->rng, 2)) * PAGE_SIZE;
	}
}

/* The range rules of a user range: EINVAL, EOVERFLOW past TASK_SIZE. */
static int user_range_errno(struct fuzz *f, __u64 vaddr, __u64 len,
			    __u64 *last)
{
	if (!len || vaddr % PAGE_SIZE || len % PAGE_SIZE)
		return -EINVAL;
	if (__builtin_add_overflow(vaddr, len - 1, last) ||
	    *last > f->vaddr_last)
		return -EOVERFLOW;
	return 0;
}

static bool op_register(struct fuzz *f)
{
	union fuzz_arg *a = arg_reset(f, CALL_REGISTER);
	__s64 n = 1 + rng_below(&f->rng, 16);
	__s64 v = (int)rng_below(&f->rng, BUF_PAGES + 2 * GUARD_PAGES - n + 1) -
		  GUARD_PAGES;
	__u64 vaddr, len, last, buf = (uintptr_t)f->buf;
	int expect, ret, i;

	gen_user_range(f, v, n, &vaddr, &len);
	expect = user_range_errno(f, vaddr, len, &last);
	for (i = 0; !expect && i != BUF_PAGES; i++) {
		const struct model_reg *g = &f->regs[i];

		if (g->live && vaddr <= buf + (g->first + g->npages) *
					PAGE_SIZE - 1 &&
		    last >= buf + g->first * PAGE_SIZE)
			expect = -EEXIST;
	}
	if (!expect && (vaddr < buf || last >= buf + BUF_PAGES * PAGE_SIZE))
		expect = -EFAULT;

	a->reg.vaddr = vaddr;
	a->reg.length = len;
	if (!issue(f, OP_REGISTER, expect, true, &ret))
		return false;
	if (ret)
		return true;
	/* Disjoint and inside the buffer: a free slot always exists. */
	for (i = 0; f->regs[i].live; i++)
		;
	f->regs[i] = (struct model_reg){
		.live = true,
		.first = (vaddr - buf) / PAGE_SIZE,
		.npages = len / PAGE_SIZE,
	};
	return true;
}

static bool op_unregister(struct fuzz *f)
{
	union fuzz_arg *a = arg_reset(f, CALL_UNREGISTER);
	const struct model_reg *g = pick_reg(f);
	__s64 v = (int)rng_below(&f->rng, BUF_PAGES) - 1;
	__s64 n = 1 + rng_below(&f->rng, 8);
	__u64 vaddr, len, last, buf = (uintptr_t)f->buf;
	int expect, ret, i, match = -1;

	/* Mostly a registration, or one off by a page. */
	if (g && !rng_one_in(&f->rng, 4)) {
		v = g->first;
		n = g->npages;
		if (rng_one_in(&f->rng, 4)) {
			v += rng_one_in(&f->rng, 2) ? 1 : -1;
			n += rng_below(&f->rng, 3) - 1;
			if (n < 1)
				n = 1;
		}
	}
	gen_user_range(f, v, n, &vaddr, &len);
	expect = user_range_errno(f, vaddr, len, &last);
	for (i = 0; !expect && i != BUF_PAGES; i++)
		if (f->regs[i].live &&
		    vaddr == buf + f->regs[i].first * PAGE_SIZE &&
		    len == f->regs[i].npages * PAGE_SIZE)
			match = i;
	if (!expect)
		expect = match < 0 ? -ENOENT : f->regs[match].users ? -EBUSY : 0;

	a->reg.vaddr = vaddr;
	a->reg.length = len;
	if (!issue(f, OP_UNREGISTER, expect, true, &ret))
		return false;
	if (!ret)
		f->regs[match].live = false;
	return true;
}

static bool op_alloc(struct fuzz *f)
{
	union fuzz_arg *a = arg_reset(f, CALL_ALLOC);
	unsigned int s, i;
	__u32 id;
	int ret;

	for (s = 0; s != NR_SPACES && f->spaces[s].id; s++)
		;
	if (s == NR_SPACES)
		return true;
	if (!issue(f, OP_ALLOC, 0, true, &ret))
		return false;
	if (ret)
		return true;
	id = a->alloc.out_ioasid;
	if (!id)
		return fail(f, "IOASID 0");
	for (i = 0; i != NR_DEAD_IDS; i++)
		if (id == f->dead_ids[i])
			return fail(f, "id %u reused at once", id);
	for (i = 0; i != NR_DEVS; i++)
		if (id == f->devs[i].id)
			return fail(f, "id %u is device %u's", id, i);
	for (i = 0; i != NR_SPACES; i++)
		if (id == f->spaces[i].id)
			return fail(f, "id %u given twice", id);
	f->spaces[s].id = id;
	model_space_clear(f, s);
	return true;
}

static bool op_free(struct fuzz *f)
{
	union fuzz_arg *a = arg_reset(f, CALL_FREE);
	int slot, expect, ret;
	__u32 id;

	slot = pick_space(f, &id);
	expect = slot < 0 ? -ENOENT : devices_attached(f, slot) ? -EBUSY : 0;
	a->free.ioasid = id;
	if (!issue(f, OP_FREE, expect, true, &ret))
		return false;
	if (ret)
		return true;
	model_unmap(f, slot, 0, UINT64_MAX);
	f->spaces[slot].id = 0;
	push_dead_id(f, id);
	return true;
}

/* Would device @d, attached to @slot, fail to reach a mapping? */
static bool dev_blocked(struct fuzz *f, int d, int slot)
{
	struct ioasid_iova_range resv[2];
	unsigned int i, n = dev_reserved(f, d, resv);

	for (i = 0; i != n; i++)
		if (count_mapped(f, slot, resv[i].start, resv[i].last))
			return true;
	return false;
}

static bool op_attach(struct fuzz *f)
{
	union fuzz_arg *a = arg_reset(f, CALL_TEST);
	int d = rng_below(&f->rng, NR_DEVS), slot, expect, ret;
	__u32 id, dev_id = f->devs[d].id;

	slot = pick_space(f, &id);
	if (rng_one_in(&f->rng, 24))
		dev_id = unknown_id(f, true);
	if (dev_id != f->devs[d].id || slot < 0)
		expect = -ENOENT;
	else if (f->devs[d].space >= 0)
		expect = -EBUSY;
	else if (dev_blocked(f, d, slot))
		expect = -ERANGE;
	else
		expect = 0;

	a->test.op = IOASID_TEST_OP_ATTACH;
	a->test.dev_id = dev_id;
	a->test.attach.ioasid = id;
	if (!issue(f, OP_ATTACH, expect, true, &ret))
		return false;
	if (ret)
		return true;
	f->devs[d].space = slot;
	/* Mappings made before it came are replayed into its domain. */
	return check_dev_range(f, d, 0, UINT64_MAX);
}

static bool op_detach(struct fuzz *f)
{
	union fuzz_arg *a = arg_reset(f, CALL_TEST);
	int d = rng_below(&f->rng, NR_DEVS), expect, ret;
	struct ioasid_cmd_test cmd = {
		.op = IOASID_TEST_OP_CHECK_UNMAPPED,
		.check_map = { .iova = regions[MAIN_REGION].base,
			       .length = PAGE_SIZE },
	};
	__u32 dev_id = f->devs[d].id;

	if (rng_one_in(&f->rng, 24))
		dev_id = unknown_id(f, true);
	expect = dev_id != f->devs[d].id ? -ENOENT :
		 f->devs[d].space < 0 ? -ENXIO : 0;
	a->test.op = IOASID_TEST_OP_DETACH;
	a->test.dev_id = dev_id;
	if (!issue(f, OP_DETACH, expect, true, &ret))
		return false;
	if (ret)
		return true;
	f->devs[d].space = -1;
	/* Detached, it has no page table to look at. */
	cmd.dev_id = dev_id;
	ret = test_ioctl(f, &cmd);
	if (ret != -ENXIO)
		return fail(f, "a check on detached device %u answered %s",
			    dev_id, errno_name(-ret));
	return true;
}

static bool op_get_info(struct fuzz *f)
{
	union fuzz_arg *a = arg_reset(f, CALL_INFO);
	static const unsigned int rooms[] = { 0, 1, 2, NR_RANGES };
	struct ioasid_iova_range want[NR_RANGES];
	unsigned int room = rooms[rng_below(&f->rng, ARRAY_SIZE(rooms))];
	unsigned int n = 0, i;
	bool bad_ptr = rng_one_in(&f->rng, 16);
	int slot, expect, ret;
	__u64 pgsizes;
	__u32 id;

	slot = pick_space(f, &id);
	if (slot >= 0)
		n = space_usable(f, slot, want);
	/* There is always a usable range to copy. */
	expect = slot < 0 ? -ENOENT : bad_ptr && room ? -EFAULT : 0;
	memset(f->ranges, 0xa5, sizeof(f->ranges));
	a->info.ioasid = id;
	a->info.num_iova_ranges = room;
	a->info.iova_ranges = bad_ptr ? (uintptr_t)f->guard :
			      (uintptr_t)f->ranges;
	if (!issue(f, OP_INFO, expect, true, &ret))
		return false;
	if (ret)
		return true;

	if (a->info.out_num_devices != devices_attached(f, slot))
		return fail(f, "%u devices, model: %u",
			    a->info.out_num_devices, devices_attached(f, slot));
	/*
	 * With no device, only the alignment is documented: the CPU page.
	 * (Fresh IOASIDs report just it; after a detach, every larger size.)
	 */
	pgsizes = a->info.out_pgsize_bitmap;
	if (devices_attached(f, slot) ? pgsizes != space_pgsizes(f, slot) :
					(pgsizes & -pgsizes) != PAGE_SIZE)
		return fail(f, "page sizes %#llx, model: %#llx",
			    (unsigned long long)pgsizes,
			    (unsigned long long)space_pgsizes(f, slot));
	if (a->info.num_iova_ranges != n)
		return fail(f, "%u usable ranges, model: %u",
			    a->info.num_iova_ranges, n);
	for (i = 0; i != NR_RANGES; i++) {
		bool filled = i < room && i < n;
		struct ioasid_iova_range poison;

		memset(&poison, 0xa5, sizeof(poison));
		if (filled ? memcmp(&f->ranges[i], &want[i], sizeof(want[i])) :
			     memcmp(&f->ranges[i], &poison, sizeof(poison)))
			return fail(f, "usable range %u: %#llx-%#llx%s", i,
				    (unsigned long long)f->ranges[i].start,
				    (unsigned long long)f->ranges[i].last,
				    filled ? "" : " written past the room");
	}
	return true;
}

static bool op_version(struct fuzz *f)
{
	union fuzz_arg *a;
	__u32 ext, want;
	int ret;

	if (rng_one_in(&f->rng, 2)) {
		a = arg_reset(f, CALL_VERSION);
		if (!issue(f, OP_VERSION, 0, true, &ret))
			return false;
		if (!ret && a->version.out_version != IOASID_API_VERSION)
			return fail(f, "API version %u", a->version.out_version);
		return true;
	}
	a = arg_reset(f, CALL_EXTENSION);
	ext = rng_below(&f->rng, 4) ? rng_below(&f->rng, 3) :
					(__u32)rng_next(&f->rng) | 0x1000;
	want = ext == IOASID_EXT_DMA_MAP || ext == IOASID_EXT_PARTIAL_UNMAP;
	a->ext.extension = ext;
	a->ext.out_supported = 7;
	if (!issue(f, OP_VERSION, 0, true, &ret))
		return false;
	if (!ret && a->ext.out_supported != want)
		return fail(f, "extension %u: %u", ext, a->ext.out_supported);
	return true;
}

/* The test ioctl's refusals: unknown ops, ids and instances. */
static bool op_test_misc(struct fuzz *f)
{
	union fuzz_arg *a = arg_reset(f, CALL_TEST);
	int d = rng_below(&f->rng, NR_DEVS), expect, ret;

	switch (rng_below(&f->rng, 4)) {
	case 0:
		/* Not an op: a device's answer, after the device lookup. */
		a->test.op = rng_one_in(&f->rng, 2) ? 0 :
			      1000 + rng_below(&f->rng, 1000);
		a->test.dev_id = rng_one_in(&f->rng, 2) ? f->devs[d].id :
				 unknown_id(f, true);
		expect = a->test.dev_id == f->devs[d].id ? -EOPNOTSUPP : -ENOENT;
		break;
	case 1:
		a->test.op = IOASID_TEST_OP_MOCK_DEVICE_ADD;
		a->test.mock_device_add.instance =
			0x100 + rng_below(&f->rng, 1000);
		expect = -EINVAL;
		break;
	case 2:
		a->test.op = IOASID_TEST_OP_DEVICE_DEL;
		a->test.dev_id = unknown_id(f, true);
		expect = -ENOENT;
		break;
	default:
		a->test.op = IOASID_TEST_OP_CHECK_MAP;
		a->test.dev_id = f->devs[d].id;
		a->test.check_map.iova = regions[MAIN_REGION].base;
		a->test.check_map.length = PAGE_SIZE;
		a->test.check_map.vaddr = (uintptr_t)f->buf;
		/* Attached, the answer depends on the page: not this op's. */
		if (f->devs[d].space >= 0)
			return true;
		expect = -ENXIO;
		break;
	}
	return issue(f, OP_TEST_MISC, expect, true, &ret);
}

/* Delete a device, attached or not, and add one in its place. */
static bool op_readd(struct fuzz *f)
{
	union fuzz_arg *a = arg_reset(f, CALL_TEST);
	int d = rng_below(&f->rng, NR_DEVS), ret;

	a->test.op = IOASID_TEST_OP_DEVICE_DEL;
	a->test.dev_id = f->devs[d].id;
	if (!issue(f, OP_READD, 0, false, &ret))
		return false;
	push_dead_id(f, f->devs[d].id);
	f->devs[d].id = 0;
	f->devs[d].space = -1;

	a = arg_reset(f, CALL_TEST);
	a->test.op = IOASID_TEST_OP_MOCK_DEVICE_ADD;
	a->test.mock_device_add.instance = f->devs[d].instance;
	if (!issue(f, OP_READD, 0, false, &ret))
		return false;
	f->devs[d].id = a->test.mock_device_add.out_dev_id;
	return true;
}

/* Weights out of 1024: mostly maps and unmaps, the cheap calls. */
static const struct {
	bool (*fn)(struct fuzz *f);
	unsigned int weight;
} ops[] = {
	{ op_map, 400 },
	{ op_unmap, 300 },
	{ op_register, 60 },
	{ op_unregister, 60 },
	{ op_alloc, 12 },
	{ op_free, 16 },
	{ op_attach, 40 },
	{ op_detach, 36 },
	{ op_get_info, 40 },
	{ op_version, 20 },
	{ op_test_misc, 38 },
	{ op_readd, 2 },
};

static bool run_op(struct fuzz *f)
{
	unsigned int w = rng_below(&f->rng, 1024), i;

	for (i = 0; i != ARRAY_SIZE(ops) - 1 && w >= ops[i].weight; i++)
		w -= ops[i].weight;
	return ops[i].fn(f);
}

static void print_stats(struct fuzz *f)
{
	char line[512];
	unsigned int op, e;
	int len;

	for (op = 0; op != NR_OPS; op++) {
		len = snprintf(line, sizeof(line), "%s: %lu ok", op_names[op],
			       f->stats[op][0]);
		for (e = 1; e != MAX_ERRNO; e++)
			if (f->stats[op][e] && len < (int)sizeof(line))
				len += snprintf(line + len, sizeof(line) - len,
						", %lu %s", f->stats[op][e],
						errno_name(e));
		note("%s\n", line);
	}
}

static __u64 env_u64(const char *name, __u64 def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * TASK_SIZE, where user addresses end for DMA_MAP and REGISTER: on
 * x86-64 2^47 less a page, or 2^56 less a page with 5-level paging,
 * which a hint above 2^47 reveals (mmap() only goes there if the kernel
 * has it). Elsewhere unknown, and no address near it is tried.
 */
static __u64 probe_vaddr_last(void)
{
#ifdef __x86_64__
	void *p = mmap((void *)(1UL << 50), PAGE_SIZE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int bits = 47;

	if (p != MAP_FAILED) {
		if ((uintptr_t)p >= 1UL << 47)
			bits = 56;
		munmap(p, PAGE_SIZE);
	}
	return (1ULL << bits) - PAGE_SIZE - 1;
#else
	return 0;
#endif
}

FIXTURE(fuzz) {
	struct fuzz f;
	void *mem;
	size_t mem_size;
};

FIXTURE_SETUP(fuzz)
{
	struct fuzz *f = &self->f;
	__u32 ref, i;
	__u8 *p;

	f->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, f->fd);
	if (page_ref(f->fd, &ref, &ref, NULL) == -ENOTTY)
		SKIP(return, "kernel without CONFIG_IOASID_TEST");
	/* The model assumes IOMMU pages no larger than the CPU's. */
	for (i = 0; i != ARRAY_SIZE(instances); i++)
		if ((instances[i].pgsizes & -instances[i].pgsizes) > PAGE_SIZE)
			SKIP(return, "a mock IOMMU page is larger than ours");

	/* guard, buffer, guard, the call's page, guard */
	self->mem_size = (2 * GUARD_PAGES + BUF_PAGES + 2) * PAGE_SIZE;
	self->mem = mmap(NULL, self->mem_size, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	p = self->mem;
	f->buf = p + GUARD_PAGES * PAGE_SIZE;
	f->arg_page = f->buf + (BUF_PAGES + GUARD_PAGES) * PAGE_SIZE;
	f->guard = f->arg_page + PAGE_SIZE;
	ASSERT_EQ(0, mprotect(f->buf, BUF_PAGES * PAGE_SIZE,
			      PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, mprotect(f->arg_page, PAGE_SIZE, PROT_READ | PROT_WRITE));
	/* Small pages only: no cut can split a large IOMMU page. */
	ASSERT_EQ(0, madvise(f->buf, BUF_PAGES * PAGE_SIZE, MADV_NOHUGEPAGE));
	for (i = 0; i != BUF_PAGES; i++)
		memset(f->buf + i * PAGE_SIZE, i + 1, PAGE_SIZE);
	for (i = 0; i != BUF_PAGES; i++)
		ASSERT_EQ(0, page_ref(f->fd, f->buf + i * PAGE_SIZE,
				      &f->ref0[i], NULL));
	ASSERT_EQ(0, vm_pinned_kb());

	regions_init();
	ASSERT_EQ(MODEL_PAGES, regions[NR_REGIONS - 1].first +
			       regions[NR_REGIONS - 1].npages);
	f->vaddr_last = probe_vaddr_last();
	for (i = 0; i != NR_SPACES; i++)
		model_space_clear(f, i);
	for (i = 0; i != NR_DEVS; i++) {
		f->devs[i].instance = dev_instance[i];
		f->devs[i].space = -1;
		ASSERT_EQ(0, _test_cmd_mock_device_add(f->fd, dev_instance[i],
						       &f->devs[i].id));
	}
}

FIXTURE_TEARDOWN(fuzz)
{
	struct fuzz *f = &self->f;
	__u32 ref, pinned, i, bad = 0;
	int fd;

	if (!self->mem)
		return;
	/* Closing the fd releases everything: every pin, every charge. */
	close(f->fd);
	fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (i = 0; i != BUF_PAGES; i++) {
		ASSERT_EQ(0, page_ref(fd, f->buf + i * PAGE_SIZE, &ref,
				      &pinned));
		if (ref == f->ref0[i] && !pinned)
			continue;
		TH_LOG("buf page %u: refcount %u (was %u), pinned %u", i, ref,
		       f->ref0[i], pinned);
		bad++;
	}
	EXPECT_EQ(0U, bad);
	EXPECT_EQ(0, vm_pinned_kb());
	close(fd);
	munmap(self->mem, self->mem_size);
}

TEST_F_TIMEOUT(fuzz, model, FUZZ_TIMEOUT)
{
	struct fuzz *f = &self->f;
	double start = now(), secs;
	bool ok = true;

	f->nops = env_u64("IOASID_FUZZ_OPS", FUZZ_OPS);
	f->seed = env_u64("IOASID_FUZZ_SEED", (__u64)time(NULL) << 16 ^
				getpid());
	/* splitmix64 of the seed: never a zero xorshift state. */
	f->rng = f->seed + 0x9e3779b97f4a7c15ULL;
	f->rng = (f->rng ^ f->rng >> 30) * 0xbf58476d1ce4e5b9ULL;
	f->rng = (f->rng ^ f->rng >> 27) * 0x94d049bb133111ebULL;
	f->rng ^= f->rng >> 31;
	if (!f->rng)
		f->rng = 1;
	note("seed %#llx, %lu ops; replay: IOASID_FUZZ_SEED=%#llx IOASID_FUZZ_OPS=%lu\n",
	     (unsigned long long)f->seed, f->nops,
	     (unsigned long long)f->seed, f->nops);

	for (f->op = 0; ok && f->op != f->nops; f->op++) {
		/* Bounded in time whatever the machine: a prefix is fine. */
		if (!(f->op % 1024) && now() - start > FUZZ_SECONDS) {
			note("stopped at the %d s limit\n", FUZZ_SECONDS);
			break;
		}
		ok = run_op(f);
		if (ok && !(f->op % CHECK_PINS_EVERY))
			ok = check_pins(f, rng_below(&f->rng, BUF_PAGES));
		if (ok && !(f->op % CHECK_VMPIN_EVERY))
			ok = check_vmpin(f);
		if (ok && !(f->op % CHECK_ALL_EVERY))
			ok = check_all(f);
	}
	if (ok)
		ok = check_all(f) && check_vmpin(f);
	secs = now() - start;
	print_stats(f);
	note("%lu ops in %.1f s (%.0f ops/s): %lu calls, %lu checks, %lu skipped; seed %#llx\n",
	     f->op, secs, f->op / secs, f->ioctls, f->checks, f->skipped,
	     (unsigned long long)f->seed);
	ASSERT_TRUE(ok);
}

TEST_HARNESS_MAIN
