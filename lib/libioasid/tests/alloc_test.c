// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid tests: the life of an IOASID, from ioasid_alloc() through
 * ioasid_get_info() to ioasid_free(), and what each says about ids that
 * are unknown, freed or belong to another fd.
 *
 * Every case opens an fd of its own, so it starts with no IOASID.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "libioasid.h"
#include "tap.h"

#define NR_MANY		64
#define POISON		0xa5

static int all_bytes_are(const void *p, size_t len, unsigned char byte)
{
	const unsigned char *c = p;

	while (len--)
		if (*c++ != byte)
			return 0;
	return 1;
}

/* An fd of /dev/ioasid for a case, or bail out: nothing could pass. */
static int device_fd(void)
{
	int fd = ioasid_open();

	if (fd < 0)
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));
	return fd;
}

/* An IOASID for a case to look at; a failure is reported as the case's. */
static int alloc_ok(int fd, __u32 *id)
{
	return tap_setup(ioasid_alloc(fd, id), "alloc");
}

static void open_device(void)
{
	int fd = ioasid_open();

	if (!tap_ok(fd >= 0, "ioasid_open"))
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));
	close(fd);
}

/* The basic allocation works and honours "ids are non-zero". */
static void alloc_gives_distinct_nonzero_ids(void)
{
	int fd = device_fd();
	__u32 id = 0, id2;
	int ret;

	tap_is(ioasid_alloc(fd, &id), 0, "alloc");
	tap_ok(id != 0, "alloc gives a non-zero id (%u)", id);

	/* Two live IOASIDs never share an id. */
	id2 = id;
	ret = ioasid_alloc(fd, &id2);
	tap_ok(!ret && id2 != id, "second alloc gives another id (%u)", id2);
	close(fd);
}

/*
 * Asking with no room is the documented way to learn the count: it must
 * succeed and say how many ranges there are.
 */
static void get_info_without_room(void)
{
	struct ioasid_cmd_get_info info;
	long page_size = sysconf(_SC_PAGESIZE);
	unsigned long long lowest;
	int fd = device_fd();
	__u32 id;

	if (!alloc_ok(fd, &id))
		goto out;
	memset(&info, POISON, sizeof(info));
	tap_is(ioasid_get_info(fd, id, &info, NULL, 0), 0,
	       "get_info with 0 ranges");
	tap_ok(info.num_iova_ranges == 1,
	       "with no device the IOVA space is one range (%u)",
	       info.num_iova_ranges);
	tap_ok(info.out_num_devices == 0, "a new IOASID has no devices (%u)",
	       info.out_num_devices);

	/* The library, not the caller, fills in the request fields. */
	tap_ok(info.size == sizeof(info) && info.ioasid == id &&
	       info.flags == 0,
	       "get_info set size, flags and ioasid itself");

	/*
	 * Before any device attaches only the CPU page size constrains the
	 * mapping granule, so it is the lowest page size offered.
	 */
	lowest = info.out_pgsize_bitmap & -info.out_pgsize_bitmap;
	tap_ok(lowest == (unsigned long long)page_size,
	       "lowest page size bit is the CPU page size %ld (bitmap %#llx)",
	       page_size, (unsigned long long)info.out_pgsize_bitmap);
out:
	close(fd);
}

/* With room, the one range is all of the 64-bit space. */
static void get_info_with_room(void)
{
	struct ioasid_iova_range ranges[4];
	struct ioasid_cmd_get_info info;
	int fd = device_fd();
	__u32 id;
	int ret;

	if (!alloc_ok(fd, &id))
		goto out;
	memset(ranges, POISON, sizeof(ranges));
	ret = ioasid_get_info(fd, id, &info, ranges, 4);
	tap_ok(!ret && info.num_iova_ranges == 1,
	       "get_info with room for 4 ranges reports 1: ret %d, num %u",
	       ret, info.num_iova_ranges);
	tap_ok(ranges[0].start == 0 && ranges[0].last == UINT64_MAX,
	       "the range is [0, UINT64_MAX]: [%#llx, %#llx]",
	       (unsigned long long)ranges[0].start,
	       (unsigned long long)ranges[0].last);

	/* The kernel writes only the ranges it reports, not the whole room. */
	tap_ok(all_bytes_are(&ranges[1], sizeof(ranges) - sizeof(ranges[0]),
			     POISON),
	       "entries past the reported count are untouched");
out:
	close(fd);
}

/* Ids start at 1, so 0 is never an IOASID. */
static void get_info_of_id_zero(void)
{
	struct ioasid_iova_range ranges[4];
	struct ioasid_cmd_get_info info;
	int fd = device_fd();
	__u32 id;

	if (!alloc_ok(fd, &id))
		goto out;
	memset(&info, POISON, sizeof(info));
	tap_is(ioasid_get_info(fd, 0, &info, ranges, 4), -ENOENT,
	       "get_info of id 0 is -ENOENT");
	tap_ok(all_bytes_are(&info, sizeof(info), POISON),
	       "a failed get_info leaves info untouched");
out:
	close(fd);
}

/* Ids are per fd: another fd has no IOASID by that number. */
static void ids_are_per_fd(void)
{
	struct ioasid_cmd_get_info info;
	int fd = device_fd(), fd2 = device_fd();
	__u32 id;

	if (!alloc_ok(fd, &id))
		goto out;
	tap_is(ioasid_get_info(fd2, id, &info, NULL, 0), -ENOENT,
	       "get_info of another fd's IOASID is -ENOENT");
	tap_is(ioasid_free(fd2, id), -ENOENT,
	       "free of another fd's IOASID is -ENOENT");

	/* The failed foreign free must not have touched the real owner's. */
	tap_is(ioasid_free(fd, id), 0, "free");
out:
	close(fd2);
	close(fd);
}

/* A freed id is gone: freeing or querying it again is an error. */
static void freed_id_is_gone(void)
{
	struct ioasid_cmd_get_info info;
	int fd = device_fd();
	__u32 id;

	if (!alloc_ok(fd, &id) ||
	    !tap_setup(ioasid_free(fd, id), "free"))
		goto out;
	tap_is(ioasid_free(fd, id), -ENOENT, "double free is -ENOENT");
	tap_is(ioasid_get_info(fd, id, &info, NULL, 0), -ENOENT,
	       "get_info of a freed IOASID is -ENOENT");
out:
	close(fd);
}

/* Ids are 31-bit, so this one can never have been handed out. */
static void free_of_unallocated_id(void)
{
	int fd = device_fd();

	tap_is(ioasid_free(fd, UINT32_MAX), -ENOENT,
	       "free of an id never allocated is -ENOENT");
	close(fd);
}

/*
 * "Not reused soon after a free": a stale id held by a slow thread must
 * not silently name a new IOASID. The live ones still free afterwards.
 */
static void freed_id_not_reused(void)
{
	int fd = device_fd();
	__u32 id, id2, id3;
	int ret;

	if (!alloc_ok(fd, &id) || !alloc_ok(fd, &id2) ||
	    !tap_setup(ioasid_free(fd, id), "free"))
		goto out;
	id3 = id;
	ret = ioasid_alloc(fd, &id3);
	tap_ok(!ret && id3 != id && id3 != id2,
	       "alloc after free does not reuse the freed id (%u, freed %u)",
	       id3, id);
	tap_is(ioasid_free(fd, id2), 0, "free of the second IOASID");
	tap_is(ioasid_free(fd, id3), 0, "free of the third IOASID");
out:
	close(fd);
}

/* Many live IOASIDs: still all distinct, all non-zero. */
static void many_ids_are_distinct(void)
{
	__u32 many[NR_MANY];
	int fd = device_fd();
	int i, j, ret, ok = 1;

	for (i = 0; i < NR_MANY; i++) {
		ret = ioasid_alloc(fd, &many[i]);
		if (ret) {
			tap_diag("alloc %d failed: %s", i, strerror(-ret));
			ok = 0;
			break;
		}
		ok &= many[i] != 0;
		for (j = 0; j < i; j++)
			ok &= many[i] != many[j];
	}
	tap_ok(ok, "%d allocations give distinct non-zero ids", NR_MANY);

	ok = 1;
	for (j = 0; j < i; j++) {
		ret = ioasid_free(fd, many[j]);
		if (ret) {
			tap_diag("free of %u failed: %s", many[j],
				 strerror(-ret));
			ok = 0;
		}
	}
	tap_ok(ok && i == NR_MANY, "each of them frees");
	close(fd);
}

static const struct tap_case cases[] = {
	TAP_CASE(open_device),
	TAP_CASE(alloc_gives_distinct_nonzero_ids),
	TAP_CASE(get_info_without_room),
	TAP_CASE(get_info_with_room),
	TAP_CASE(get_info_of_id_zero),
	TAP_CASE(ids_are_per_fd),
	TAP_CASE(freed_id_is_gone),
	TAP_CASE(free_of_unallocated_id),
	TAP_CASE(freed_id_not_reused),
	TAP_CASE(many_ids_are_distinct),
};

int main(void)
{
	return tap_main(cases, TAP_NR_CASES(cases), NULL);
}
