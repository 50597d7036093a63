// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid tests: registering memory, DMA map and unmap, and the buffer
 * helpers, on IOASIDs with no device attached.
 *
 * Pins are checked where the kernel charges them, VmPin in
 * /proc/self/status: unregistered memory is charged by each mapping until
 * it is unmapped, registered memory once by its registration however
 * often it is mapped.
 *
 * The cases before device_fixture need no /dev/ioasid and pass anywhere;
 * device_fixture opens the device, or bails out without it, and sets up
 * what the later cases share. Each of those starts with nothing mapped
 * or registered, and reset() puts that back after each, whatever the case
 * left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libioasid.h"
#include "tap.h"

#define BUF_PAGES	16
#define RO_PAGES	4

/* With no device attached every IOVA is usable; these are far apart. */
#define IOVA		0x100000000ULL
#define IOVA2		0x200000000ULL

#define RW		(IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE)

/* What the cases share: set up by main() and device_fixture(). */
static struct {
	size_t page_size;
	char *buf;		/* BUF_PAGES pages, read-write */
	size_t len;		/* of buf */
	char *ro;		/* RO_PAGES pages, read-only */
	char *holey;		/* three pages, the middle one unmapped */
	int fd;
	__u32 id, id2;		/* two live IOASIDs */
	__u32 gone;		/* a freed one */
	__u64 align;		/* the mapping granule */
	__u64 top;		/* the last aligned IOVA */
	long long pin0;		/* VmPin with nothing pinned, in kB */
} t = { .fd = -1 };

static size_t pages(size_t n)
{
	return n * t.page_size;
}

/* The functions under test, for the checks that every one must pass. */
enum { REGISTER, UNREGISTER, DMA_MAP, DMA_UNMAP, DMA_UNMAP_ALL,
	MAP_BUFFER, UNMAP_BUFFER, NR_CALLS };

static const char *const call_names[NR_CALLS] = {
	[REGISTER] = "register_memory",
	[UNREGISTER] = "unregister_memory",
	[DMA_MAP] = "dma_map",
	[DMA_UNMAP] = "dma_unmap",
	[DMA_UNMAP_ALL] = "dma_unmap_all",
	[MAP_BUFFER] = "map_buffer",
	[UNMAP_BUFFER] = "unmap_buffer",
};

/*
 * One page-aligned page of buf at IOVA: arguments that are valid in
 * themselves, so only @fd or @ioasid can make the call fail.
 */
static int call(int which, int fd, __u32 ioasid)
{
	__u64 unmapped;

	switch (which) {
	case REGISTER:
		return ioasid_register_memory(fd, t.buf, pages(1));
	case UNREGISTER:
		return ioasid_unregister_memory(fd, t.buf, pages(1));
	case DMA_MAP:
		return ioasid_dma_map(fd, ioasid, t.buf, IOVA, pages(1), RW);
	case DMA_UNMAP:
		return ioasid_dma_unmap(fd, ioasid, IOVA, pages(1), &unmapped);
	case DMA_UNMAP_ALL:
		return ioasid_dma_unmap_all(fd, ioasid, &unmapped);
	case MAP_BUFFER:
		return ioasid_map_buffer(fd, ioasid, t.buf, pages(1), IOVA,
					 true);
	case UNMAP_BUFFER:
		return ioasid_unmap_buffer(fd, ioasid, IOVA, pages(1));
	}
	return 0;
}

/* VmPin of this process in kB, or -1 if /proc/self/status has none. */
static long long vm_pin_kb(void)
{
	long long kb = -1;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Check that VmPin is @bytes above what it was with nothing pinned. */
static int pin_is(size_t bytes, const char *what)
{
	long long want = t.pin0 + (long long)(bytes / 1024);
	long long now = vm_pin_kb();

	return tap_ok(t.pin0 >= 0 && now == want,
		      "VmPin %s: %lld kB, want %lld kB", what, now, want);
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		tap_bail("mmap of %zu bytes: %s", len, strerror(errno));
	/* Fault it all in, so that pinning finds ordinary pages. */
	memset(p, 0x5a, len);
	return p;
}

/* After each case: nothing mapped, nothing registered. */
static void reset(void)
{
	if (t.fd < 0)
		return;
	ioasid_dma_unmap_all(t.fd, t.id, NULL);
	ioasid_dma_unmap_all(t.fd, t.id2, NULL);
	ioasid_unregister_memory(t.fd, t.buf, t.len);
}

static void extension_names(void)
{
	const char *name;

	name = ioasid_extension_name(IOASID_EXT_DMA_MAP);
	tap_ok(name && !strcmp(name, "dma_map"),
	       "extension_name(IOASID_EXT_DMA_MAP) is \"dma_map\"");
	name = ioasid_extension_name(IOASID_EXT_PARTIAL_UNMAP);
	tap_ok(name && !strcmp(name, "partial_unmap"),
	       "extension_name(IOASID_EXT_PARTIAL_UNMAP) is \"partial_unmap\"");
}

/* Each function passes the kernel's EBADF through. */
static void closed_fd_is_ebadf(void)
{
	int i;

	for (i = 0; i < NR_CALLS; i++)
		tap_is(call(i, -1, 1), -EBADF, "%s on fd -1 is -EBADF",
		       call_names[i]);
}

/* Another driver's fd rejects our numbers; nothing may pass as ok. */
static void foreign_fd_is_enotty(void)
{
	int null_fd, i;

	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		tap_bail("cannot open /dev/null: %s", strerror(errno));
	for (i = 0; i < NR_CALLS; i++)
		tap_is(call(i, null_fd, 1), -ENOTTY,
		       "%s on /dev/null is -ENOTTY", call_names[i]);
	close(null_fd);
}

/* A failure is reported only in the return value, by every one. */
static void errno_kept_on_failure(void)
{
	int i, ret, ok = 1;

	for (i = 0; i < NR_CALLS; i++) {
		errno = EDOM;
		ret = call(i, -1, 1);
		if (ret != -EBADF || errno != EDOM) {
			tap_diag("%s: ret %d, errno %d", call_names[i], ret,
				 errno);
			ok = 0;
		}
	}
	tap_ok(ok, "a failing call of each leaves errno as it was");
}

/*
 * From here on the device is needed; without it nothing can pass. Two
 * IOASIDs, and the id of a third that was freed: a freed id is not
 * reused soon, so it names no IOASID for a while.
 */
static void device_fixture(void)
{
	struct ioasid_cmd_get_info info;
	int ret;

	t.fd = ioasid_open();
	if (!tap_ok(t.fd >= 0, "ioasid_open"))
		tap_bail("cannot open /dev/ioasid: %s", strerror(-t.fd));

	ret = ioasid_alloc(t.fd, &t.id);
	if (!ret)
		ret = ioasid_alloc(t.fd, &t.id2);
	if (!ret)
		ret = ioasid_alloc(t.fd, &t.gone);
	if (!ret)
		ret = ioasid_free(t.fd, t.gone);
	if (!tap_is(ret, 0, "alloc two IOASIDs and free a third"))
		tap_bail("cannot set up IOASIDs: %s", strerror(-ret));

	/* The documented rule: align to the lowest page size offered. */
	ret = ioasid_get_info(t.fd, t.id, &info, NULL, 0);
	t.align = ret ? 0 : info.out_pgsize_bitmap & -info.out_pgsize_bitmap;
	if (!tap_ok(!ret && t.align == t.page_size,
		    "without a device the alignment is the CPU page size %zu: ret %d, align %llu",
		    t.page_size, ret, (unsigned long long)t.align))
		tap_bail("cannot learn the alignment");
	/* The last aligned IOVA: a range of two units from it wraps. */
	t.top = -t.align;

	t.pin0 = vm_pin_kb();
	tap_ok(t.pin0 >= 0, "/proc/self/status has VmPin (%lld kB)", t.pin0);
}

static void extensions_supported(void)
{
	tap_is(ioasid_check_extension(t.fd, IOASID_EXT_DMA_MAP), 1,
	       "IOASID_EXT_DMA_MAP is supported");
	tap_is(ioasid_check_extension(t.fd, IOASID_EXT_PARTIAL_UNMAP), 1,
	       "IOASID_EXT_PARTIAL_UNMAP is supported");
}

/* Unregistered memory: charged by the mapping, released by unmap. */
static void unregistered_map_pins_until_unmap(void)
{
	__u64 unmapped = 0;
	int ret;

	errno = EDOM;
	ret = ioasid_map_buffer(t.fd, t.id, t.buf, t.len, IOVA, true);
	tap_ok(!ret && errno == EDOM,
	       "map_buffer of %d pages succeeds and leaves errno alone: ret %d",
	       BUF_PAGES, ret);
	pin_is(t.len, "rises by the mapped size");
	ret = ioasid_dma_unmap(t.fd, t.id, IOVA, t.len, &unmapped);
	tap_ok(!ret && unmapped == t.len,
	       "dma_unmap reports %d pages unmapped: ret %d, unmapped %llu",
	       BUF_PAGES, ret, (unsigned long long)unmapped);
	pin_is(0, "is back after the unmap");
}

/* Parts of a range that map nothing are fine, all of it too. */
static void unmap_of_nothing_reports_zero(void)
{
	__u64 unmapped = 1;
	int ret;

	ret = ioasid_dma_unmap(t.fd, t.id, IOVA, t.len, &unmapped);
	tap_ok(!ret && unmapped == 0,
	       "dma_unmap of a range with nothing mapped reports 0: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
}

static void unmap_leaves_nothing_behind(void)
{
	tap_is(ioasid_dma_map(t.fd, t.id, t.buf, IOVA, t.len, RW), 0,
	       "dma_map read-write");
	tap_is(ioasid_dma_unmap(t.fd, t.id, IOVA, t.len, NULL), 0,
	       "dma_unmap with unmapped NULL");
	/* EEXIST if that unmap had left anything behind. */
	tap_is(ioasid_dma_map(t.fd, t.id, t.buf, IOVA, t.len,
			      IOASID_DMA_MAP_READ), 0,
	       "the range maps again after it, read-only");
}

/* No IOVA may be mapped twice, not even a page of a mapping's end. */
static void overlapping_map_is_eexist(void)
{
	if (!tap_setup(ioasid_dma_map(t.fd, t.id, t.buf, IOVA, t.len,
				      IOASID_DMA_MAP_READ),
		       "dma_map of %d pages", BUF_PAGES))
		return;
	tap_is(ioasid_map_buffer(t.fd, t.id, t.buf, pages(4),
				 IOVA + pages(12), false), -EEXIST,
	       "map_buffer inside a mapping is -EEXIST");
	tap_is(ioasid_dma_map(t.fd, t.id, t.buf,
			      IOVA + pages(BUF_PAGES - 1), pages(2), RW),
	       -EEXIST, "dma_map overlapping a mapping's last page is -EEXIST");
}

/* The same memory may back a second IOVA; it is pinned again. */
static void same_memory_at_two_iovas(void)
{
	__u64 unmapped = 0;
	int ret;

	if (!tap_setup(ioasid_dma_map(t.fd, t.id, t.buf, IOVA, t.len,
				      IOASID_DMA_MAP_READ),
		       "dma_map of %d pages", BUF_PAGES))
		return;
	tap_is(ioasid_dma_map(t.fd, t.id, t.buf, IOVA2, pages(4), RW), 0,
	       "the same memory maps at a second IOVA");
	pin_is(t.len + pages(4), "counts both unregistered mappings");
	ret = ioasid_dma_unmap_all(t.fd, t.id, &unmapped);
	tap_ok(!ret && unmapped == t.len + pages(4),
	       "dma_unmap_all reports both mappings: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
	pin_is(0, "is back after dma_unmap_all");
	unmapped = 1;
	ret = ioasid_dma_unmap_all(t.fd, t.id, &unmapped);
	tap_ok(!ret && unmapped == 0,
	       "dma_unmap_all of an empty IOASID reports 0: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
	tap_is(ioasid_dma_unmap_all(t.fd, t.id, NULL), 0,
	       "dma_unmap_all with unmapped NULL");
}

/* A partial unmap cuts the mapping and frees the middle's pins. */
static void partial_unmap_cuts_mapping(void)
{
	__u64 unmapped = 0;
	int ret, ok;

	tap_is(ioasid_map_buffer(t.fd, t.id, t.buf, t.len, IOVA, true), 0,
	       "map_buffer of %d pages to cut", BUF_PAGES);
	ret = ioasid_dma_unmap(t.fd, t.id, IOVA + pages(4), pages(8),
			       &unmapped);
	tap_ok(!ret && unmapped == pages(8),
	       "dma_unmap of the middle 8 pages reports exactly them: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
	pin_is(pages(8), "drops by the middle's size");
	ok = ioasid_dma_map(t.fd, t.id, t.buf, IOVA, pages(1),
			    IOASID_DMA_MAP_READ) == -EEXIST &&
	     ioasid_dma_map(t.fd, t.id, t.buf, IOVA + pages(BUF_PAGES - 1),
			    pages(1), IOASID_DMA_MAP_READ) == -EEXIST;
	tap_ok(ok, "the head and the tail of the cut mapping stay mapped");
	tap_is(ioasid_map_buffer(t.fd, t.id, t.buf + pages(4), pages(8),
				 IOVA + pages(4), true), 0,
	       "the middle maps again");
	tap_is(ioasid_unmap_buffer(t.fd, t.id, IOVA, t.len), 0,
	       "unmap_buffer of a range mapped in full, in three pieces");
	pin_is(0, "is back after unmap_buffer");
}

/* unmap_buffer insists on a whole buffer, but unmaps what is there. */
static void unmap_buffer_needs_whole_buffer(void)
{
	__u64 unmapped;
	int ret;

	tap_is(ioasid_map_buffer(t.fd, t.id, t.buf, pages(8), IOVA, true), 0,
	       "map_buffer of 8 pages");
	errno = EDOM;
	ret = ioasid_unmap_buffer(t.fd, t.id, IOVA, t.len);
	tap_ok(ret == -ENXIO && errno == EDOM,
	       "unmap_buffer of 16 pages over 8 mapped is -ENXIO, errno kept: ret %d",
	       ret);
	unmapped = 1;
	ret = ioasid_dma_unmap_all(t.fd, t.id, &unmapped);
	tap_ok(!ret && unmapped == 0,
	       "the 8 mapped pages were unmapped anyway: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
	pin_is(0, "is back after the -ENXIO unmap_buffer");
	tap_is(ioasid_unmap_buffer(t.fd, t.id, IOVA, t.len), -ENXIO,
	       "unmap_buffer where nothing is mapped is -ENXIO");
}

/* writable is what asks for IOASID_DMA_MAP_WRITE. */
static void read_only_memory(void)
{
	tap_is(ioasid_map_buffer(t.fd, t.id, t.ro, pages(RO_PAGES), IOVA,
				 false), 0,
	       "read-only memory maps for device reads");
	tap_is(ioasid_map_buffer(t.fd, t.id, t.ro, pages(RO_PAGES), IOVA2,
				 true), -EFAULT,
	       "read-only memory does not map writable: -EFAULT");
	tap_is(ioasid_unmap_buffer(t.fd, t.id, IOVA, pages(RO_PAGES)), 0,
	       "unmap_buffer of the read-only buffer");
	tap_is(ioasid_register_memory(t.fd, t.ro, pages(RO_PAGES)), -EFAULT,
	       "read-only memory does not register: -EFAULT");
}

/* Registered memory: pinned and charged once, however it is mapped. */
static void registered_memory_pinned_once(void)
{
	__u64 unmapped;
	int ret, ok;

	tap_is(ioasid_register_memory(t.fd, t.buf, t.len), 0,
	       "register_memory of %d pages", BUF_PAGES);
	pin_is(t.len, "rises by the registered size");
	tap_is(ioasid_register_memory(t.fd, t.buf + pages(4), pages(4)),
	       -EEXIST, "register_memory inside a registration is -EEXIST");
	tap_is(ioasid_dma_map(t.fd, t.id, t.buf, IOVA, t.len, RW), 0,
	       "dma_map of the registered memory into one IOASID");
	tap_is(ioasid_map_buffer(t.fd, t.id2, t.buf, t.len, IOVA, true), 0,
	       "map_buffer of it into a second IOASID");
	tap_is(ioasid_dma_map(t.fd, t.id, t.buf + pages(4), IOVA2, pages(8),
			      IOASID_DMA_MAP_READ), 0,
	       "dma_map of a part inside the registration");
	pin_is(t.len, "does not rise for mappings of registered memory");
	tap_is(ioasid_unregister_memory(t.fd, t.buf, t.len), -EBUSY,
	       "unregister_memory while mapped is -EBUSY");
	tap_is(ioasid_unregister_memory(t.fd, t.buf, pages(8)), -ENOENT,
	       "unregister_memory of part of a registration is -ENOENT");
	ret = ioasid_dma_unmap_all(t.fd, t.id, &unmapped);
	ok = !ret && unmapped == t.len + pages(8);
	ret = ioasid_dma_unmap_all(t.fd, t.id2, &unmapped);
	ok = ok && !ret && unmapped == t.len;
	tap_ok(ok, "dma_unmap_all of both IOASIDs reports their mappings");
	pin_is(t.len, "keeps the registration's pins after the unmaps");
	tap_is(ioasid_unregister_memory(t.fd, t.buf, t.len), 0,
	       "unregister_memory once unmapped");
	pin_is(0, "is back after unregister_memory");
	tap_is(ioasid_unregister_memory(t.fd, t.buf, t.len), -ENOENT,
	       "unregister_memory again is -ENOENT");
}

static void zero_length_is_einval(void)
{
	tap_is(ioasid_register_memory(t.fd, t.buf, 0), -EINVAL,
	       "register_memory of length 0 is -EINVAL");
	tap_is(ioasid_unregister_memory(t.fd, t.buf, 0), -EINVAL,
	       "unregister_memory of length 0 is -EINVAL");
	tap_is(ioasid_dma_map(t.fd, t.id, t.buf, IOVA, 0, RW), -EINVAL,
	       "dma_map of length 0 is -EINVAL");
	tap_is(ioasid_dma_unmap(t.fd, t.id, IOVA, 0, NULL), -EINVAL,
	       "dma_unmap of length 0 is -EINVAL");
	tap_is(ioasid_map_buffer(t.fd, t.id, t.buf, 0, IOVA, true), -EINVAL,
	       "map_buffer of length 0 is -EINVAL");
	tap_is(ioasid_unmap_buffer(t.fd, t.id, IOVA, 0), -EINVAL,
	       "unmap_buffer of length 0 is -EINVAL");
}

/* Half an alignment unit off, in each place one can be off. */
static void unaligned_is_einval(void)
{
	__u64 a = t.align, half = t.align / 2;
	char *buf = t.buf;
	int fd = t.fd;
	__u32 id = t.id;

	tap_is(ioasid_register_memory(fd, buf + half, pages(1)), -EINVAL,
	       "register_memory at an unaligned address is -EINVAL");
	tap_is(ioasid_register_memory(fd, buf, half), -EINVAL,
	       "register_memory of an unaligned length is -EINVAL");
	tap_is(ioasid_unregister_memory(fd, buf, a + half), -EINVAL,
	       "unregister_memory of an unaligned length is -EINVAL");
	tap_is(ioasid_dma_map(fd, id, buf + half, IOVA, a, RW), -EINVAL,
	       "dma_map of an unaligned address is -EINVAL");
	tap_is(ioasid_dma_map(fd, id, buf, IOVA + half, a, RW), -EINVAL,
	       "dma_map to an unaligned IOVA is -EINVAL");
	tap_is(ioasid_dma_map(fd, id, buf, IOVA, a + half, RW), -EINVAL,
	       "dma_map of an unaligned length is -EINVAL");
	tap_is(ioasid_dma_unmap(fd, id, IOVA + half, a, NULL), -EINVAL,
	       "dma_unmap at an unaligned IOVA is -EINVAL");
	tap_is(ioasid_dma_unmap(fd, id, IOVA, half, NULL), -EINVAL,
	       "dma_unmap of an unaligned length is -EINVAL");
	tap_is(ioasid_map_buffer(fd, id, buf + half, a, IOVA, true), -EINVAL,
	       "map_buffer of an unaligned buffer is -EINVAL");
	tap_is(ioasid_map_buffer(fd, id, buf, half, IOVA, true), -EINVAL,
	       "map_buffer of an unaligned length is -EINVAL");
	tap_is(ioasid_map_buffer(fd, id, buf, a, IOVA + half, true), -EINVAL,
	       "map_buffer to an unaligned IOVA is -EINVAL");
	tap_is(ioasid_unmap_buffer(fd, id, IOVA + half, a), -EINVAL,
	       "unmap_buffer at an unaligned IOVA is -EINVAL");
}

/* Access flags: at least one, and unknown ones are refused. */
static void map_flags_are_checked(void)
{
	tap_is(ioasid_dma_map(t.fd, t.id, t.buf, IOVA, t.len, 0), -EINVAL,
	       "dma_map with no flags is -EINVAL");
	tap_is(ioasid_dma_map(t.fd, t.id, t.buf, IOVA, t.len,
			      IOASID_DMA_MAP_READ | 1U << 31), -EOPNOTSUPP,
	       "dma_map with an unknown flag is -EOPNOTSUPP");
}

static void wrapping_range_is_eoverflow(void)
{
	size_t huge = -t.align;

	tap_is(ioasid_register_memory(t.fd, t.buf, huge), -EOVERFLOW,
	       "register_memory of a range that wraps is -EOVERFLOW");
	tap_is(ioasid_unregister_memory(t.fd, t.buf, huge), -EOVERFLOW,
	       "unregister_memory of a range that wraps is -EOVERFLOW");
	tap_is(ioasid_dma_map(t.fd, t.id, t.buf, t.top, pages(2), RW),
	       -EOVERFLOW, "dma_map to an IOVA range that wraps is -EOVERFLOW");
	tap_is(ioasid_dma_map(t.fd, t.id, t.buf, 0, huge, RW), -EOVERFLOW,
	       "dma_map of a user range that wraps is -EOVERFLOW");
	tap_is(ioasid_dma_unmap(t.fd, t.id, t.top, pages(2), NULL),
	       -EOVERFLOW,
	       "dma_unmap of an IOVA range that wraps is -EOVERFLOW");
	tap_is(ioasid_map_buffer(t.fd, t.id, t.buf, pages(2), t.top, true),
	       -EOVERFLOW,
	       "map_buffer to an IOVA range that wraps is -EOVERFLOW");
	tap_is(ioasid_unmap_buffer(t.fd, t.id, t.top, pages(2)), -EOVERFLOW,
	       "unmap_buffer of an IOVA range that wraps is -EOVERFLOW");
}

/* 2^62 bytes from a user address: no wrap, but past TASK_SIZE. */
static void past_user_space_is_eoverflow(void)
{
	size_t huge;

	if (sizeof(size_t) < 8) {
		tap_skip("32-bit", "register_memory past the user address space is -EOVERFLOW");
		tap_skip("32-bit", "dma_map past the user address space is -EOVERFLOW");
		return;
	}
	huge = (size_t)1 << (sizeof(size_t) * 8 - 2);
	tap_is(ioasid_register_memory(t.fd, t.buf, huge), -EOVERFLOW,
	       "register_memory past the user address space is -EOVERFLOW");
	tap_is(ioasid_dma_map(t.fd, t.id, t.buf, 0, huge, RW), -EOVERFLOW,
	       "dma_map past the user address space is -EOVERFLOW");
}

/* Memory that is not there cannot be pinned, and nothing stays. */
static void unpinnable_memory_is_efault(void)
{
	__u64 unmapped = 1;
	int ret;

	tap_is(ioasid_map_buffer(t.fd, t.id, t.holey, pages(3), IOVA, true),
	       -EFAULT, "map_buffer across a hole is -EFAULT");
	tap_is(ioasid_dma_map(t.fd, t.id, t.holey + pages(1), IOVA, pages(1),
			      IOASID_DMA_MAP_READ), -EFAULT,
	       "dma_map of an unmapped page is -EFAULT");
	tap_is(ioasid_register_memory(t.fd, t.holey, pages(3)), -EFAULT,
	       "register_memory across a hole is -EFAULT");
	pin_is(0, "is unchanged by the failed pins");
	ret = ioasid_dma_unmap_all(t.fd, t.id, &unmapped);
	tap_ok(!ret && unmapped == 0,
	       "the failed maps left nothing mapped: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
}

/* Unknown IOASIDs, for every function that takes one. */
static void unknown_ioasid_is_enoent(void)
{
	__u64 unmapped = 1;
	int i, ret;

	for (i = DMA_MAP; i <= UNMAP_BUFFER; i++)
		tap_is(call(i, t.fd, t.gone), -ENOENT,
		       "%s of a freed IOASID is -ENOENT", call_names[i]);
	ret = ioasid_dma_unmap(t.fd, t.gone, IOVA, t.len, &unmapped);
	tap_ok(ret == -ENOENT && unmapped == 1,
	       "a failing dma_unmap leaves *unmapped alone: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
}

/* User addresses mean something only in the process that opened. */
static void forked_child_is_eperm(void)
{
	int status, ok = 0;
	pid_t pid;

	pid = fork();
	if (!pid)
		_exit(ioasid_register_memory(t.fd, t.buf, pages(1)) == -EPERM &&
		      ioasid_map_buffer(t.fd, t.id, t.buf, pages(1), IOVA,
					true) == -EPERM ? 0 : 1);
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	tap_ok(ok, "register_memory and map_buffer from a forked child are -EPERM");
}

static void free_ioasids(void)
{
	tap_is(ioasid_free(t.fd, t.id), 0, "free the first IOASID");
	tap_is(ioasid_free(t.fd, t.id2), 0, "free the second IOASID");
	close(t.fd);
	t.fd = -1;
}

static const struct tap_case cases[] = {
	TAP_CASE(extension_names),
	TAP_CASE(closed_fd_is_ebadf),
	TAP_CASE(foreign_fd_is_enotty),
	TAP_CASE(errno_kept_on_failure),
	TAP_CASE(device_fixture),
	TAP_CASE(extensions_supported),
	TAP_CASE(unregistered_map_pins_until_unmap),
	TAP_CASE(unmap_of_nothing_reports_zero),
	TAP_CASE(unmap_leaves_nothing_behind),
	TAP_CASE(overlapping_map_is_eexist),
	TAP_CASE(same_memory_at_two_iovas),
	TAP_CASE(partial_unmap_cuts_mapping),
	TAP_CASE(unmap_buffer_needs_whole_buffer),
	TAP_CASE(read_only_memory),
	TAP_CASE(registered_memory_pinned_once),
	TAP_CASE(zero_length_is_einval),
	TAP_CASE(unaligned_is_einval),
	TAP_CASE(map_flags_are_checked),
	TAP_CASE(wrapping_range_is_eoverflow),
	TAP_CASE(past_user_space_is_eoverflow),
	TAP_CASE(unpinnable_memory_is_efault),
	TAP_CASE(unknown_ioasid_is_enoent),
	TAP_CASE(forked_child_is_eperm),
	TAP_CASE(free_ioasids),
};

int main(void)
{
	int ret;

	t.page_size = sysconf(_SC_PAGESIZE);
	t.len = pages(BUF_PAGES);
	t.buf = map_anon(t.len);
	t.ro = map_anon(pages(RO_PAGES));
	if (mprotect(t.ro, pages(RO_PAGES), PROT_READ))
		tap_bail("mprotect: %s", strerror(errno));
	/* Three pages with the middle one gone: a hole to pin across. */
	t.holey = map_anon(pages(3));
	if (munmap(t.holey + pages(1), pages(1)))
		tap_bail("munmap: %s", strerror(errno));

	ret = tap_main(cases, TAP_NR_CASES(cases), reset);

	munmap(t.buf, t.len);
	munmap(t.ro, pages(RO_PAGES));
	munmap(t.holey, pages(1));
	munmap(t.holey + pages(2), pages(1));
	return ret;
}
