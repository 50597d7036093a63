// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioasid-demo: what a VMM sees when it opens /dev/ioasid.
 *
 * Runs inside the test VM for `make run`. It reports the API version and
 * the extensions this kernel supports, then walks the object lifecycle
 * once: allocate an IOASID, describe it, free it.
 */
#include <stdio.h>
#include <string.h>

#include <libioasid.h>

/* Numbers past the last known extension, to show they answer "no". */
#define EXT_PROBE_LIMIT 64

static int fail(const char *what, int err)
{
	printf("FAIL: %s: %s\n", what, strerror(-err));
	return 1;
}

int main(void)
{
	struct ioasid_iova_range ranges[8];
	struct ioasid_get_info info;
	__u32 version, ext, id, i;
	int fd, ret, nr_ext = 0;

	fd = ioasid_open();
	if (fd < 0)
		return fail("open /dev/ioasid", fd);

	ret = ioasid_get_api_version(fd, &version);
	if (ret)
		return fail("IOASID_GET_API_VERSION", ret);
	printf("/dev/ioasid API version %u\n", version);

	printf("extensions:\n");
	for (ext = 1; ext < EXT_PROBE_LIMIT; ext++) {
		const char *name = ioasid_extension_name(ext);

		ret = ioasid_check_extension(fd, ext);
		if (ret < 0)
			return fail("IOASID_CHECK_EXTENSION", ret);
		if (!ret)
			continue;
		printf("  %-28s supported\n", name ? name : "(unnamed)");
		nr_ext++;
	}
	if (!nr_ext)
		printf("  (none: this kernel offers the base API only)\n");

	ret = ioasid_alloc(fd, &id);
	if (ret)
		return fail("IOASID_ALLOC", ret);
	ret = ioasid_get_info(fd, id, &info, ranges, 8);
	if (ret)
		return fail("IOASID_GET_INFO", ret);
	printf("IOASID %u: %u device(s), page sizes 0x%llx\n", id,
	       info.out_num_devices,
	       (unsigned long long)info.out_pgsize_bitmap);
	for (i = 0; i < info.num_iova_ranges && i < 8; i++)
		printf("  usable IOVA 0x%016llx - 0x%016llx\n",
		       (unsigned long long)ranges[i].start,
		       (unsigned long long)ranges[i].last);
	ret = ioasid_free(fd, id);
	if (ret)
		return fail("IOASID_FREE", ret);
	printf("IOASID %u freed\n", id);
	printf("demo: PASS\n");
	return 0;
}
