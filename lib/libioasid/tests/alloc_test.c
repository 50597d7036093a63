// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid tests: the life of an IOASID, from ioasid_alloc() through
 * ioasid_get_info() to ioasid_free(), and what each says about ids that
 * are unknown, freed or belong to another fd.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "libioasid.h"
#include "tap.h"

#define NR_TESTS	25
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

int main(void)
{
	struct ioasid_iova_range ranges[4];
	struct ioasid_cmd_get_info info;
	__u32 id, id2, id3, many[NR_MANY];
	long page_size = sysconf(_SC_PAGESIZE);
	unsigned long long lowest;
	int fd, fd2, ret, i, j, ok;

	tap_plan(NR_TESTS);

	fd = ioasid_open();
	if (!tap_ok(fd >= 0, "ioasid_open"))
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));

	/* The basic allocation works and honours "ids are non-zero". */
	id = 0;
	tap_is(ioasid_alloc(fd, &id), 0, "alloc");
	tap_ok(id != 0, "alloc gives a non-zero id (%u)", id);

	/* Two live IOASIDs never share an id. */
	id2 = id;
	ret = ioasid_alloc(fd, &id2);
	tap_ok(!ret && id2 != id, "second alloc gives another id (%u)", id2);

	/*
	 * Asking with no room is the documented way to learn the count: it
	 * must succeed and say how many ranges there are.
	 */
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

	/* With room, the one range is all of the 64-bit space. */
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
	ok = all_bytes_are(&ranges[1], sizeof(ranges) - sizeof(ranges[0]),
			   POISON);
	tap_ok(ok, "entries past the reported count are untouched");

	/* Ids start at 1, so 0 is never an IOASID. */
	memset(&info, POISON, sizeof(info));
	tap_is(ioasid_get_info(fd, 0, &info, ranges, 4), -ENOENT,
	       "get_info of id 0 is -ENOENT");
	tap_ok(all_bytes_are(&info, sizeof(info), POISON),
	       "a failed get_info leaves info untouched");

	/* Ids are per fd: another fd has no IOASID by that number. */
	fd2 = ioasid_open();
	if (fd2 < 0)
		tap_bail("cannot open /dev/ioasid twice: %s", strerror(-fd2));
	tap_is(ioasid_get_info(fd2, id, &info, NULL, 0), -ENOENT,
	       "get_info of another fd's IOASID is -ENOENT");
	tap_is(ioasid_free(fd2, id), -ENOENT,
	       "free of another fd's IOASID is -ENOENT");
	close(fd2);

	/* The failed foreign free must not have touched the real owner's. */
	tap_is(ioasid_free(fd, id), 0, "free");

	/* A freed id is gone: freeing or querying it again is an error. */
	tap_is(ioasid_free(fd, id), -ENOENT, "double free is -ENOENT");
	tap_is(ioasid_get_info(fd, id, &info, NULL, 0), -ENOENT,
	       "get_info of a freed IOASID is -ENOENT");

	/* Ids are 31-bit, so this one can never have been handed out. */
	tap_is(ioasid_free(fd, UINT32_MAX), -ENOENT,
	       "free of an id never allocated is -ENOENT");

	/*
	 * "Not reused soon after a free": a stale id held by a slow thread
	 * must not silently name a new IOASID.
	 */
	id3 = id;
	ret = ioasid_alloc(fd, &id3);
	tap_ok(!ret && id3 != id && id3 != id2,
	       "alloc after free does not reuse the freed id (%u, freed %u)",
	       id3, id);

	/* Many live IOASIDs: still all distinct, all non-zero. */
	ok = 1;
	for (i = 0; i < NR_MANY; i++) {
		ret = ioasid_alloc(fd, &many[i]);
		if (ret) {
			tap_diag("alloc %d failed: %s", i, strerror(-ret));
			ok = 0;
			break;
		}
		ok &= many[i] != 0 && many[i] != id2 && many[i] != id3;
		for (j = 0; j < i; j++)
			ok &= many[i] != many[j];
	}
	tap_ok(ok, "%d more allocations give distinct non-zero ids", NR_MANY);

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

	tap_is(ioasid_free(fd, id2), 0, "free of the second IOASID");
	tap_is(ioasid_free(fd, id3), 0, "free of the third IOASID");

	close(fd);
	return tap_finish();
}
