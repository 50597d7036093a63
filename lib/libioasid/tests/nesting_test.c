// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid tests: software nesting, on IOASIDs with no device attached.
 *
 * The layout is a VMM's with a vIOMMU: the parent IOASID maps the guest's
 * memory at its guest physical addresses (GPA), and a child nested on it
 * maps guest IOVAs (GIOVA) to those GPAs, which the kernel composes into
 * GIOVA -> memory. What the tests look at: the child's GET_INFO, which
 * requests the kernel refuses and with what, that a child mapping pins
 * and charges nothing (VmPin in /proc/self/status), and that a parent
 * unmap takes away, whole, every child mapping that used any of it,
 * counted in the child's out_revoked.
 *
 * The cases before device_present need no /dev/ioasid and pass anywhere.
 * From there on each case starts from nested_pair(): a fresh fd with a
 * parent and one child and nothing mapped, closed by reset() after the
 * case, so a parent that a failed check left with children or mappings
 * cannot spill into the next case.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libioasid.h"
#include "tap.h"

#define BUF_PAGES	16
#define RO_PAGES	4
#define POISON		0xa5

/* With no device attached every IOVA is usable; these are far apart. */
#define GPA		0x100000000ULL
#define GIOVA		0x200000000ULL

#define RW		(IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE)

/* What the cases share: set up by main() and nested_pair(). */
static struct {
	size_t page_size;
	char *buf;		/* BUF_PAGES pages, read-write */
	size_t len;		/* of buf */
	char *ro;		/* RO_PAGES pages, read-only */
	int fd;
	__u32 parent, child;	/* the child nested on the parent */
	long long pin0;		/* VmPin before the case mapped anything */
} t = { .fd = -1 };

static size_t pages(size_t n)
{
	return n * t.page_size;
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

/* Check that VmPin is @bytes above what it was when the case began. */
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

/*
 * A fresh fd with a parent IOASID and one software-nested child, for the
 * case to work on; a failure is reported as the case's.
 */
static int nested_pair(void)
{
	int ret;

	t.fd = ioasid_open();
	if (t.fd < 0)
		tap_bail("cannot open /dev/ioasid: %s", strerror(-t.fd));
	ret = ioasid_alloc(t.fd, &t.parent);
	if (!tap_setup(ret, "alloc the parent"))
		return 0;
	ret = ioasid_create_nesting(t.fd, t.parent, IOASID_NESTING_SOFTWARE,
				    &t.child);
	if (!tap_setup(ret, "create_nesting of the child"))
		return 0;
	t.pin0 = vm_pin_kb();
	return 1;
}

/* After each case: closing the fd frees its IOASIDs and unpins. */
static void reset(void)
{
	if (t.fd < 0)
		return;
	close(t.fd);
	t.fd = -1;
}

/* The parent maps @n pages of @mem at GPA + pages(@at), with @flags. */
static int parent_maps(void *mem, size_t at, size_t n, __u32 flags)
{
	return tap_setup(ioasid_dma_map(t.fd, t.parent, mem, GPA + pages(at),
					pages(n), flags),
			 "the parent maps %zu pages at GPA + %zu pages", n, at);
}

/* What GET_INFO says of @id, or a zeroed struct if it failed. */
static int get_info(__u32 id, struct ioasid_cmd_get_info *info)
{
	int ret = ioasid_get_info(t.fd, id, info, NULL, 0);

	if (ret)
		memset(info, 0, sizeof(*info));
	return ret;
}

static int revoked_is(__u32 id, __u64 want, const char *what)
{
	struct ioasid_cmd_get_info info;
	int ret = get_info(id, &info);

	return tap_ok(!ret && info.out_revoked == want,
		      "out_revoked %s: ret %d, %llu bytes, want %llu", what,
		      ret, (unsigned long long)info.out_revoked,
		      (unsigned long long)want);
}

/* Unmap all of @id and check how many bytes were still mapped. */
static int left_mapped_is(__u32 id, __u64 want, const char *what)
{
	__u64 unmapped = 0;
	int ret;

	ret = ioasid_dma_unmap_all(t.fd, id, &unmapped);
	return tap_ok(!ret && unmapped == want,
		      "%s: ret %d, %llu bytes mapped, want %llu", what, ret,
		      (unsigned long long)unmapped,
		      (unsigned long long)want);
}

static void extension_name_of_nesting(void)
{
	const char *name;

	name = ioasid_extension_name(IOASID_EXT_NESTING_SOFTWARE);
	tap_ok(name && !strcmp(name, "nesting_software"),
	       "extension_name(IOASID_EXT_NESTING_SOFTWARE) is \"nesting_software\"");
}

/* Both functions pass the kernel's EBADF through. */
static void closed_fd_is_ebadf(void)
{
	__u32 id;

	tap_is(ioasid_create_nesting(-1, 1, IOASID_NESTING_SOFTWARE, &id),
	       -EBADF, "create_nesting on fd -1 is -EBADF");
	tap_is(ioasid_dma_map_from_parent(-1, 2, GPA, GIOVA, pages(1), RW),
	       -EBADF, "dma_map_from_parent on fd -1 is -EBADF");
}

/* Another driver's fd rejects our numbers; nothing may pass as ok. */
static void foreign_fd_is_enotty(void)
{
	int null_fd;
	__u32 id;

	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		tap_bail("cannot open /dev/null: %s", strerror(errno));
	tap_is(ioasid_create_nesting(null_fd, 1, IOASID_NESTING_SOFTWARE,
				     &id),
	       -ENOTTY, "create_nesting on /dev/null is -ENOTTY");
	tap_is(ioasid_dma_map_from_parent(null_fd, 2, GPA, GIOVA, pages(1),
					  RW),
	       -ENOTTY, "dma_map_from_parent on /dev/null is -ENOTTY");
	close(null_fd);
}

/* A failure is reported only in the return value, by both. */
static void errno_kept_on_failure(void)
{
	int ret, ret2, saved, saved2;
	__u32 id;

	errno = EDOM;
	ret = ioasid_create_nesting(-1, 1, IOASID_NESTING_SOFTWARE, &id);
	saved = errno;
	errno = EDOM;
	ret2 = ioasid_dma_map_from_parent(-1, 2, GPA, GIOVA, pages(1), RW);
	saved2 = errno;
	tap_ok(ret == -EBADF && saved == EDOM && ret2 == -EBADF &&
	       saved2 == EDOM,
	       "a failing call of each leaves errno as it was");
}

/* Caught before the ioctl, so even a bad fd gets -EINVAL. */
static void null_out_ioasid_is_einval(void)
{
	tap_is(ioasid_create_nesting(-1, 1, IOASID_NESTING_SOFTWARE, NULL),
	       -EINVAL, "create_nesting with NULL out_ioasid is -EINVAL");
}

/* From here on the device is needed; without it nothing can pass. */
static void device_present(void)
{
	int fd = ioasid_open();

	if (!tap_ok(fd >= 0, "ioasid_open"))
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));
	tap_is(ioasid_check_extension(fd, IOASID_EXT_NESTING_SOFTWARE), 1,
	       "IOASID_EXT_NESTING_SOFTWARE is supported");
	close(fd);
}

static void child_info_names_parent(void)
{
	struct ioasid_iova_range range;
	struct ioasid_cmd_get_info info;
	int ret;

	if (!nested_pair())
		return;
	tap_ok(t.child != 0 && t.child != t.parent,
	       "the child has an id of its own (%u, parent %u)", t.child,
	       t.parent);
	memset(&info, 0, sizeof(info));
	memset(&range, POISON, sizeof(range));
	ret = ioasid_get_info(t.fd, t.child, &info, &range, 1);
	tap_is(ret, 0, "get_info of the child");
	tap_ok(!ret && info.out_parent == t.parent,
	       "out_parent is the parent (%u)", info.out_parent);
	tap_ok(!ret && info.out_nesting == IOASID_NESTING_SOFTWARE,
	       "out_nesting is IOASID_NESTING_SOFTWARE (%u)",
	       info.out_nesting);
	tap_ok(!ret && info.out_num_children == 0 && info.out_revoked == 0 &&
	       info.out_num_devices == 0,
	       "a new child has no children, revocations or devices");
	/* Its ranges are its own: the parent's devices do not narrow them. */
	tap_ok(!ret && info.num_iova_ranges == 1 && range.start == 0 &&
	       range.last == UINT64_MAX,
	       "the child's IOVA space is [0, UINT64_MAX]");
}

static void parent_info_counts_children(void)
{
	struct ioasid_cmd_get_info info;
	__u32 second;
	int ret;

	if (!nested_pair())
		return;
	ret = get_info(t.parent, &info);
	tap_ok(!ret && info.out_parent == 0 &&
	       info.out_nesting == IOASID_NESTING_NONE,
	       "the parent is not nested: out_parent %u, out_nesting %u",
	       info.out_parent, info.out_nesting);
	tap_ok(!ret && info.out_num_children == 1,
	       "the parent has one child (%u)", info.out_num_children);
	if (!tap_setup(ioasid_create_nesting(t.fd, t.parent,
					     IOASID_NESTING_SOFTWARE,
					     &second),
		       "create_nesting of a second child"))
		return;
	ret = get_info(t.parent, &info);
	tap_ok(!ret && info.out_num_children == 2,
	       "a second child makes two (%u)", info.out_num_children);
	tap_is(ioasid_free(t.fd, second), 0, "free of the second child");
	ret = get_info(t.parent, &info);
	tap_ok(!ret && info.out_num_children == 1,
	       "freeing it makes one again (%u)", info.out_num_children);
}

/* NONE is only ever reported; hardware nesting has hwnest_test. */
static void nesting_kind_is_checked(void)
{
	__u32 id;

	if (!nested_pair())
		return;
	id = 0;
	tap_is(ioasid_create_nesting(t.fd, t.parent, IOASID_NESTING_NONE,
				     &id),
	       -EINVAL, "create_nesting of kind NONE is -EINVAL");
	tap_is(ioasid_create_nesting(t.fd, t.parent, UINT32_MAX, &id),
	       -EINVAL, "create_nesting of an unknown kind is -EINVAL");
	tap_ok(id == 0, "a failed create_nesting leaves out_ioasid alone");
}

/* Nesting is one level deep. */
static void child_cannot_be_parent(void)
{
	struct ioasid_cmd_get_info info;
	__u32 id;
	int ret;

	if (!nested_pair())
		return;
	tap_is(ioasid_create_nesting(t.fd, t.child, IOASID_NESTING_SOFTWARE,
				     &id),
	       -EINVAL, "create_nesting on a child is -EINVAL");
	ret = get_info(t.child, &info);
	tap_ok(!ret && info.out_num_children == 0,
	       "the child still has no children (%u)",
	       info.out_num_children);
}

static void unknown_parent_is_enoent(void)
{
	int other_fd;
	__u32 gone, id;

	if (!nested_pair() ||
	    !tap_setup(ioasid_alloc(t.fd, &gone), "alloc") ||
	    !tap_setup(ioasid_free(t.fd, gone), "free"))
		return;
	tap_is(ioasid_create_nesting(t.fd, gone, IOASID_NESTING_SOFTWARE,
				     &id),
	       -ENOENT, "create_nesting on a freed IOASID is -ENOENT");
	other_fd = ioasid_open();
	if (!tap_setup(other_fd < 0 ? other_fd : 0, "open a second fd"))
		return;
	tap_is(ioasid_create_nesting(other_fd, t.parent,
				     IOASID_NESTING_SOFTWARE, &id),
	       -ENOENT,
	       "create_nesting on another fd's IOASID is -ENOENT");
	close(other_fd);
}

/* The child holds the parent until it is freed. */
static void parent_with_child_is_ebusy(void)
{
	struct ioasid_cmd_get_info info;
	int ret;

	if (!nested_pair())
		return;
	tap_is(ioasid_free(t.fd, t.parent), -EBUSY,
	       "free of a parent with a child is -EBUSY");
	ret = get_info(t.parent, &info);
	tap_ok(!ret && info.out_num_children == 1,
	       "the parent is still there, with its child");
	tap_is(ioasid_free(t.fd, t.child), 0, "free of the child");
	ret = get_info(t.parent, &info);
	tap_ok(!ret && info.out_num_children == 0,
	       "the parent has no children left (%u)",
	       info.out_num_children);
	tap_is(ioasid_free(t.fd, t.parent), 0,
	       "free of the parent once its child is gone");
}

/* GIOVA -> GPA on top of GPA -> memory: the memory is not pinned again. */
static void child_maps_from_parent(void)
{
	if (!nested_pair() || !parent_maps(t.buf, 0, BUF_PAGES, RW))
		return;
	pin_is(t.len, "rises by the parent's mapping");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA, t.len,
					  RW), 0,
	       "dma_map_from_parent of all the parent maps, read-write");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA + pages(4),
					  GIOVA + t.len, pages(4),
					  IOASID_DMA_MAP_READ), 0,
	       "dma_map_from_parent of part of it again, read-only");
	pin_is(t.len, "does not rise for the child's mappings");
	revoked_is(t.child, 0, "is 0 while the parent keeps its mapping");
	left_mapped_is(t.child, t.len + pages(4),
		       "dma_unmap_all of the child reports both mappings");
	revoked_is(t.child, 0, "does not count the child's own unmaps");
	left_mapped_is(t.parent, t.len,
		       "the parent's mapping is still whole");
	pin_is(0, "is back after the parent's unmap");
}

/* A child's mappings come from its parent, and only from there. */
static void child_refuses_user_memory(void)
{
	if (!nested_pair())
		return;
	tap_is(ioasid_dma_map(t.fd, t.child, t.buf, GIOVA, t.len, RW),
	       -EINVAL, "dma_map of user memory into a child is -EINVAL");
	tap_is(ioasid_map_buffer(t.fd, t.child, t.buf, t.len, GIOVA, true),
	       -EINVAL, "map_buffer into a child is -EINVAL");
	pin_is(0, "is unchanged by the refused maps");
}

/* And only a child maps from a parent. */
static void only_child_maps_from_parent(void)
{
	__u32 plain;

	if (!nested_pair() || !parent_maps(t.buf, 0, BUF_PAGES, RW) ||
	    !tap_setup(ioasid_alloc(t.fd, &plain), "alloc"))
		return;
	tap_is(ioasid_dma_map_from_parent(t.fd, t.parent, GPA, GIOVA, t.len,
					  RW),
	       -EINVAL, "dma_map_from_parent into the parent is -EINVAL");
	tap_is(ioasid_dma_map_from_parent(t.fd, plain, GPA, GIOVA, t.len,
					  RW),
	       -EINVAL,
	       "dma_map_from_parent into an IOASID that is not nested is -EINVAL");
	left_mapped_is(plain, 0, "the IOASID that is not nested maps nothing");
}

/* The whole source must be mapped in the parent, with no gap. */
static void unmapped_source_is_enxio(void)
{
	if (!nested_pair())
		return;
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA,
					  pages(4), RW),
	       -ENXIO,
	       "dma_map_from_parent where the parent maps nothing is -ENXIO");
	if (!parent_maps(t.buf, 0, 4, RW) ||
	    !parent_maps(t.buf + pages(8), 8, 4, RW))
		return;
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA,
					  pages(12), RW),
	       -ENXIO,
	       "dma_map_from_parent across a gap in the parent is -ENXIO");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA + pages(2),
					  GIOVA, pages(4), RW),
	       -ENXIO,
	       "dma_map_from_parent past a parent mapping's end is -ENXIO");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA - pages(1),
					  GIOVA, pages(2), RW),
	       -ENXIO,
	       "dma_map_from_parent before a parent mapping's start is -ENXIO");
	left_mapped_is(t.child, 0, "the failed maps left the child empty");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA + pages(8),
					  GIOVA, pages(4), RW), 0,
	       "dma_map_from_parent of a mapped range");
}

/* The child gets no access that the parent's mapping does not grant. */
static void write_over_read_only_is_eacces(void)
{
	if (!nested_pair() || !parent_maps(t.buf, 0, 4, RW) ||
	    !parent_maps(t.ro, 4, RO_PAGES, IOASID_DMA_MAP_READ))
		return;
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA + pages(4),
					  GIOVA, pages(RO_PAGES), RW),
	       -EACCES,
	       "read-write from a read-only parent mapping is -EACCES");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA + pages(4),
					  GIOVA, pages(RO_PAGES),
					  IOASID_DMA_MAP_WRITE),
	       -EACCES, "write-only from it is -EACCES too");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA,
					  pages(4 + RO_PAGES), RW),
	       -EACCES,
	       "read-write over a writable and a read-only mapping is -EACCES");
	left_mapped_is(t.child, 0, "the refused maps left the child empty");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA,
					  pages(4 + RO_PAGES),
					  IOASID_DMA_MAP_READ), 0,
	       "read-only over both is fine");
}

/* The caller's flags go to the kernel as they are, plus FROM_PARENT. */
static void map_flags_are_checked(void)
{
	if (!nested_pair() || !parent_maps(t.buf, 0, BUF_PAGES, RW))
		return;
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA, t.len,
					  0),
	       -EINVAL, "dma_map_from_parent with no access flag is -EINVAL");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA, t.len,
					  IOASID_DMA_MAP_READ | 1U << 31),
	       -EOPNOTSUPP,
	       "dma_map_from_parent with an unknown flag is -EOPNOTSUPP");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA, t.len,
					  RW | IOASID_DMA_MAP_FROM_PARENT), 0,
	       "IOASID_DMA_MAP_FROM_PARENT from the caller as well is fine");
}

/* Half a page off, a zero length, and ranges that wrap. */
static void bad_ranges_are_refused(void)
{
	size_t half = pages(1) / 2;
	__u64 top = -(__u64)pages(1);

	if (!nested_pair() || !parent_maps(t.buf, 0, BUF_PAGES, RW))
		return;
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA, 0, RW),
	       -EINVAL, "dma_map_from_parent of length 0 is -EINVAL");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA + half, GIOVA,
					  pages(1), RW),
	       -EINVAL,
	       "dma_map_from_parent from an unaligned parent IOVA is -EINVAL");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA + half,
					  pages(1), RW),
	       -EINVAL, "dma_map_from_parent to an unaligned IOVA is -EINVAL");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA,
					  pages(1) + half, RW),
	       -EINVAL,
	       "dma_map_from_parent of an unaligned length is -EINVAL");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, top, GIOVA,
					  pages(2), RW),
	       -EOVERFLOW,
	       "dma_map_from_parent from a parent range that wraps is -EOVERFLOW");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA, top, pages(2),
					  RW),
	       -EOVERFLOW,
	       "dma_map_from_parent to an IOVA range that wraps is -EOVERFLOW");
	left_mapped_is(t.child, 0, "the refused maps left the child empty");
}

static void overlapping_child_map_is_eexist(void)
{
	if (!nested_pair() || !parent_maps(t.buf, 0, BUF_PAGES, RW) ||
	    !tap_setup(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA,
						  pages(8), RW),
		       "dma_map_from_parent of 8 pages"))
		return;
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, GPA + pages(8),
					  GIOVA + pages(7), pages(2), RW),
	       -EEXIST,
	       "dma_map_from_parent over a child mapping's last page is -EEXIST");
}

static void unknown_child_is_enoent(void)
{
	__u32 gone;

	if (!nested_pair() || !parent_maps(t.buf, 0, BUF_PAGES, RW) ||
	    !tap_setup(ioasid_create_nesting(t.fd, t.parent,
					     IOASID_NESTING_SOFTWARE, &gone),
		       "create_nesting") ||
	    !tap_setup(ioasid_free(t.fd, gone), "free"))
		return;
	tap_is(ioasid_dma_map_from_parent(t.fd, gone, GPA, GIOVA, t.len, RW),
	       -ENOENT, "dma_map_from_parent into a freed child is -ENOENT");
}

/* A parent unmap takes away every child mapping using it, whole. */
static void parent_unmap_revokes_whole_mapping(void)
{
	__u64 unmapped = 0;
	int ret;

	if (!nested_pair() || !parent_maps(t.buf, 0, BUF_PAGES, RW) ||
	    !tap_setup(ioasid_dma_map_from_parent(t.fd, t.child,
						  GPA + pages(4), GIOVA,
						  pages(8), RW),
		       "dma_map_from_parent of 8 pages") ||
	    !tap_setup(ioasid_dma_map_from_parent(t.fd, t.child,
						  GPA + pages(12),
						  GIOVA + pages(8), pages(4),
						  RW),
		       "dma_map_from_parent of the 4 pages after them"))
		return;
	ret = ioasid_dma_unmap(t.fd, t.parent, GPA + pages(6), pages(1),
			       &unmapped);
	tap_ok(!ret && unmapped == pages(1),
	       "the parent unmaps one page under the first child mapping: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
	revoked_is(t.child, pages(8), "counts the whole first mapping");

	/* Mapping the parent range again does not bring it back. */
	if (!parent_maps(t.buf + pages(6), 6, 1, RW))
		return;
	unmapped = 1;
	ret = ioasid_dma_unmap(t.fd, t.child, GIOVA, pages(8), &unmapped);
	tap_ok(!ret && unmapped == 0,
	       "the first child mapping is gone, remap or not: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
	revoked_is(t.child, pages(8), "is unchanged by the remap");
	left_mapped_is(t.child, pages(4),
		       "the second child mapping is still whole");
}

/* Each piece of a map across parent mappings goes on its own. */
static void pieces_are_revoked_apart(void)
{
	if (!nested_pair() || !parent_maps(t.buf, 0, 4, RW) ||
	    !parent_maps(t.buf + pages(4), 4, 4, RW) ||
	    !tap_setup(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA,
						  pages(8), RW),
		       "dma_map_from_parent across both parent mappings"))
		return;
	tap_is(ioasid_dma_unmap(t.fd, t.parent, GPA, pages(4), NULL), 0,
	       "the parent unmaps its first mapping");
	revoked_is(t.child, pages(4), "counts the first piece only");
	left_mapped_is(t.child, pages(4), "the second piece is still mapped");
}

/* What a child unmap cuts off its mapping is a mapping of its own. */
static void cut_child_mapping_revoked_apart(void)
{
	__u64 unmapped = 0;
	int ret;

	if (!nested_pair() || !parent_maps(t.buf, 0, BUF_PAGES, RW) ||
	    !tap_setup(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA,
						  pages(8), RW),
		       "dma_map_from_parent of 8 pages"))
		return;
	ret = ioasid_dma_unmap(t.fd, t.child, GIOVA + pages(3), pages(2),
			       &unmapped);
	tap_ok(!ret && unmapped == pages(2),
	       "the child unmaps 2 pages in the middle: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
	tap_is(ioasid_dma_unmap(t.fd, t.parent, GPA + pages(6), pages(1),
				NULL), 0,
	       "the parent unmaps a page under the child's back piece");
	revoked_is(t.child, pages(3), "counts the back piece only");
	left_mapped_is(t.child, pages(3), "the front piece is still mapped");
}

/* Every child loses what it mapped from an unmapped range. */
static void parent_unmap_all_revokes_every_child(void)
{
	__u32 second;

	if (!nested_pair() || !parent_maps(t.buf, 0, BUF_PAGES, RW) ||
	    !tap_setup(ioasid_create_nesting(t.fd, t.parent,
					     IOASID_NESTING_SOFTWARE,
					     &second),
		       "create_nesting of a second child") ||
	    !tap_setup(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA,
						  t.len, RW),
		       "dma_map_from_parent into the first child") ||
	    !tap_setup(ioasid_dma_map_from_parent(t.fd, second,
						  GPA + pages(4), GIOVA,
						  pages(4),
						  IOASID_DMA_MAP_READ),
		       "dma_map_from_parent into the second child"))
		return;
	left_mapped_is(t.parent, t.len, "dma_unmap_all of the parent");
	revoked_is(t.child, t.len, "of the first child counts its mapping");
	revoked_is(second, pages(4), "of the second child counts its own");
	revoked_is(t.parent, 0, "of the parent stays 0");
	left_mapped_is(t.child, 0, "the first child maps nothing now");
	left_mapped_is(second, 0, "the second child maps nothing now");
	pin_is(0, "is back after the parent's unmap");
}

/* A parent unmap elsewhere leaves the child alone. */
static void unrelated_parent_unmap_revokes_nothing(void)
{
	if (!nested_pair() || !parent_maps(t.buf, 0, BUF_PAGES, RW) ||
	    !tap_setup(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA,
						  pages(4), RW),
		       "dma_map_from_parent of the first 4 pages"))
		return;
	tap_is(ioasid_dma_unmap(t.fd, t.parent, GPA + pages(4), pages(12),
				NULL), 0,
	       "the parent unmaps the 12 pages the child does not use");
	revoked_is(t.child, 0, "stays 0");
	left_mapped_is(t.child, pages(4), "the child mapping is still whole");
}

/* Freeing a child with mappings leaves the parent's as they were. */
static void freed_child_leaves_parent_alone(void)
{
	struct ioasid_cmd_get_info info;
	int ret;

	if (!nested_pair() || !parent_maps(t.buf, 0, BUF_PAGES, RW) ||
	    !tap_setup(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA,
						  t.len, RW),
		       "dma_map_from_parent of all of it"))
		return;
	tap_is(ioasid_free(t.fd, t.child), 0, "free of a child with a mapping");
	ret = get_info(t.parent, &info);
	tap_ok(!ret && info.out_num_children == 0,
	       "the parent has no children left (%u)",
	       info.out_num_children);
	pin_is(t.len, "still counts the parent's mapping");
	left_mapped_is(t.parent, t.len, "the parent's mapping is whole");
	pin_is(0, "is back after the parent's unmap");
}

/*
 * A map from the parent names no user memory, so, unlike dma_map, it is
 * not tied to the process the fd is bound to.
 */
static void forked_process_maps_from_parent(void)
{
	int status, ok = 0;
	pid_t pid;

	if (!nested_pair() || !parent_maps(t.buf, 0, BUF_PAGES, RW))
		return;
	pid = fork();
	if (!pid)
		_exit(ioasid_dma_map_from_parent(t.fd, t.child, GPA, GIOVA,
						 t.len, RW) ? 1 : 0);
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	tap_ok(ok, "dma_map_from_parent from a forked process succeeds");
	left_mapped_is(t.child, t.len, "its mapping is the child's");
}

static const struct tap_case cases[] = {
	TAP_CASE(extension_name_of_nesting),
	TAP_CASE(closed_fd_is_ebadf),
	TAP_CASE(foreign_fd_is_enotty),
	TAP_CASE(errno_kept_on_failure),
	TAP_CASE(null_out_ioasid_is_einval),
	TAP_CASE(device_present),
	TAP_CASE(child_info_names_parent),
	TAP_CASE(parent_info_counts_children),
	TAP_CASE(nesting_kind_is_checked),
	TAP_CASE(child_cannot_be_parent),
	TAP_CASE(unknown_parent_is_enoent),
	TAP_CASE(parent_with_child_is_ebusy),
	TAP_CASE(child_maps_from_parent),
	TAP_CASE(child_refuses_user_memory),
	TAP_CASE(only_child_maps_from_parent),
	TAP_CASE(unmapped_source_is_enxio),
	TAP_CASE(write_over_read_only_is_eacces),
	TAP_CASE(map_flags_are_checked),
	TAP_CASE(bad_ranges_are_refused),
	TAP_CASE(overlapping_child_map_is_eexist),
	TAP_CASE(unknown_child_is_enoent),
	TAP_CASE(parent_unmap_revokes_whole_mapping),
	TAP_CASE(pieces_are_revoked_apart),
	TAP_CASE(cut_child_mapping_revoked_apart),
	TAP_CASE(parent_unmap_all_revokes_every_child),
	TAP_CASE(unrelated_parent_unmap_revokes_nothing),
	TAP_CASE(freed_child_leaves_parent_alone),
	TAP_CASE(forked_process_maps_from_parent),
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

	ret = tap_main(cases, TAP_NR_CASES(cases), reset);

	munmap(t.buf, t.len);
	munmap(t.ro, pages(RO_PAGES));
	return ret;
}
