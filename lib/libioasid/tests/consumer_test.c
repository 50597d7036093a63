// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid tests: a program that knows libioasid only as installed.
 *
 * The Makefile does not build it: scripts/userspace.sh installs the
 * library into a staging root and builds this file with nothing but
 * `pkg-config --cflags --libs libioasid` against that root and the
 * system's headers, so it includes the installed <libioasid.h> and
 * <libioasid/ioasid.h> and links the installed libioasid.a. It then does
 * what any user does first, on /dev/ioasid in the test VM, and prints
 * TAP. It shares no code with the other tests on purpose.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libioasid.h>

#define IOVA		0x100000000ULL
#define BUF_PAGES	4

static unsigned int nr_checks, nr_failed;

static int check(int ok, const char *fmt, ...)
{
	va_list ap;

	nr_checks++;
	if (!ok)
		nr_failed++;
	printf("%sok %u - ", ok ? "" : "not ", nr_checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return ok;
}

static int finish(void)
{
	printf("1..%u\n", nr_checks);
	return nr_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(void)
{
	long page_size = sysconf(_SC_PAGESIZE);
	size_t len = BUF_PAGES * page_size;
	struct ioasid_cmd_get_info info;
	__u32 version = 0, id = 0;
	__u64 unmapped = 0;
	void *buf;
	int fd, ret;

	printf("TAP version 13\n");

	fd = ioasid_open();
	if (!check(fd >= 0, "ioasid_open: %s", fd < 0 ? strerror(-fd) : "ok")) {
		printf("Bail out! no /dev/ioasid\n");
		return EXIT_FAILURE;
	}

	/* The header it was built with and the kernel agree. */
	ret = ioasid_get_api_version(fd, &version);
	check(!ret && version == IOASID_API_VERSION,
	      "API version is IOASID_API_VERSION %d: ret %d, got %u",
	      IOASID_API_VERSION, ret, version);
	check(ioasid_check_extension(fd, IOASID_EXT_DMA_MAP) == 1,
	      "the %s extension is supported",
	      ioasid_extension_name(IOASID_EXT_DMA_MAP));

	ret = ioasid_alloc(fd, &id);
	if (!check(!ret && id, "alloc: ret %d, id %u", ret, id))
		goto out;
	ret = ioasid_get_info(fd, id, &info, NULL, 0);
	check(!ret && info.num_iova_ranges >= 1 &&
	      (info.out_pgsize_bitmap & page_size),
	      "get_info: ret %d, %u ranges, page sizes %#llx", ret,
	      info.num_iova_ranges,
	      (unsigned long long)info.out_pgsize_bitmap);

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!check(buf != MAP_FAILED, "mmap of %zu bytes", len))
		goto out;
	memset(buf, 0x5a, len);
	check(!ioasid_map_buffer(fd, id, buf, len, IOVA, true),
	      "map_buffer of %d pages", BUF_PAGES);
	check(ioasid_map_buffer(fd, id, buf, len, IOVA, true) == -EEXIST,
	      "mapping it twice is -EEXIST");
	ret = ioasid_dma_unmap(fd, id, IOVA, len, &unmapped);
	check(!ret && unmapped == len, "dma_unmap: ret %d, unmapped %llu",
	      ret, (unsigned long long)unmapped);
	munmap(buf, len);
	check(!ioasid_free(fd, id), "free");
	check(ioasid_free(fd, id) == -ENOENT, "free again is -ENOENT");
out:
	close(fd);
	return finish();
}
