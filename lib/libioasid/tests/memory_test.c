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
 * The first checks need no /dev/ioasid and pass anywhere; the rest need
 * the device and bail out without it.
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

#define NR_TESTS	112
#define BUF_PAGES	16
#define RO_PAGES	4

/* With no device attached every IOVA is usable; these are far apart. */
#define IOVA		0x100000000ULL
#define IOVA2		0x200000000ULL

#define RW		(IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE)

static size_t page_size;

static size_t pages(size_t n)
{
	return n * page_size;
}

/* The new functions, for the checks that every one of them must pass. */
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
 * One page-aligned page of @buf at IOVA: arguments that are valid in
 * themselves, so only @fd or @ioasid can make the call fail.
 */
static int call(int which, int fd, __u32 ioasid, void *buf)
{
	__u64 unmapped;

	switch (which) {
	case REGISTER:
		return ioasid_register_memory(fd, buf, pages(1));
	case UNREGISTER:
		return ioasid_unregister_memory(fd, buf, pages(1));
	case DMA_MAP:
		return ioasid_dma_map(fd, ioasid, buf, IOVA, pages(1), RW);
	case DMA_UNMAP:
		return ioasid_dma_unmap(fd, ioasid, IOVA, pages(1), &unmapped);
	case DMA_UNMAP_ALL:
		return ioasid_dma_unmap_all(fd, ioasid, &unmapped);
	case MAP_BUFFER:
		return ioasid_map_buffer(fd, ioasid, buf, pages(1), IOVA, true);
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

/* Check that VmPin is @bytes above @base. */
static int pin_is(long long base, size_t bytes, const char *what)
{
	long long want = base + (long long)(bytes / 1024);
	long long now = vm_pin_kb();

	return tap_ok(base >= 0 && now == want,
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

/* A fork of this process must not pin memory through the parent's fd. */
static int child_gets_eperm(int fd, __u32 ioasid, void *buf)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return 0;
	if (!pid)
		_exit(ioasid_register_memory(fd, buf, pages(1)) == -EPERM &&
		      ioasid_map_buffer(fd, ioasid, buf, pages(1), IOVA,
					true) == -EPERM ? 0 : 1);
	if (waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(void)
{
	char *buf, *ro, *holey;
	struct ioasid_cmd_get_info info;
	__u32 id = 0, id2 = 0, gone = 0;
	__u64 unmapped, align, top;
	long long pin0;
	size_t len, huge;
	int null_fd, fd, ret, i, ok;
	const char *name;

	tap_plan(NR_TESTS);
	page_size = sysconf(_SC_PAGESIZE);
	len = pages(BUF_PAGES);

	buf = map_anon(len);
	ro = map_anon(pages(RO_PAGES));
	if (mprotect(ro, pages(RO_PAGES), PROT_READ))
		tap_bail("mprotect: %s", strerror(errno));
	/* Three pages with the middle one gone: a hole to pin across. */
	holey = map_anon(pages(3));
	if (munmap(holey + pages(1), pages(1)))
		tap_bail("munmap: %s", strerror(errno));

	name = ioasid_extension_name(IOASID_EXT_DMA_MAP);
	tap_ok(name && !strcmp(name, "dma_map"),
	       "extension_name(IOASID_EXT_DMA_MAP) is \"dma_map\"");
	name = ioasid_extension_name(IOASID_EXT_PARTIAL_UNMAP);
	tap_ok(name && !strcmp(name, "partial_unmap"),
	       "extension_name(IOASID_EXT_PARTIAL_UNMAP) is \"partial_unmap\"");

	/* Each new function passes the kernel's EBADF through. */
	for (i = 0; i < NR_CALLS; i++)
		tap_is(call(i, -1, 1, buf), -EBADF, "%s on fd -1 is -EBADF",
		       call_names[i]);

	/* Another driver's fd rejects our numbers; nothing may pass as ok. */
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		tap_bail("cannot open /dev/null: %s", strerror(errno));
	for (i = 0; i < NR_CALLS; i++)
		tap_is(call(i, null_fd, 1, buf), -ENOTTY,
		       "%s on /dev/null is -ENOTTY", call_names[i]);
	close(null_fd);

	/* A failure is reported only in the return value, by every one. */
	ok = 1;
	for (i = 0; i < NR_CALLS; i++) {
		errno = EDOM;
		ret = call(i, -1, 1, buf);
		if (ret != -EBADF || errno != EDOM) {
			tap_diag("%s: ret %d, errno %d", call_names[i], ret,
				 errno);
			ok = 0;
		}
	}
	tap_ok(ok, "a failing call of each leaves errno as it was");

	/* From here on the device is needed; without it nothing can pass. */
	fd = ioasid_open();
	if (!tap_ok(fd >= 0, "ioasid_open"))
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));

	tap_is(ioasid_check_extension(fd, IOASID_EXT_DMA_MAP), 1,
	       "IOASID_EXT_DMA_MAP is supported");
	tap_is(ioasid_check_extension(fd, IOASID_EXT_PARTIAL_UNMAP), 1,
	       "IOASID_EXT_PARTIAL_UNMAP is supported");

	/* A freed id is not reused soon, so it names no IOASID for a while. */
	ret = ioasid_alloc(fd, &id);
	if (!ret)
		ret = ioasid_alloc(fd, &id2);
	if (!ret)
		ret = ioasid_alloc(fd, &gone);
	if (!ret)
		ret = ioasid_free(fd, gone);
	if (!tap_is(ret, 0, "alloc two IOASIDs and free a third"))
		tap_bail("cannot set up IOASIDs: %s", strerror(-ret));

	/* The documented rule: align to the lowest page size offered. */
	ret = ioasid_get_info(fd, id, &info, NULL, 0);
	align = ret ? 0 : info.out_pgsize_bitmap & -info.out_pgsize_bitmap;
	if (!tap_ok(!ret && align == page_size,
		    "without a device the alignment is the CPU page size %zu: ret %d, align %llu",
		    page_size, ret, (unsigned long long)align))
		tap_bail("cannot learn the alignment");
	/* The last aligned IOVA: a range of two units from it wraps. */
	top = -align;

	pin0 = vm_pin_kb();
	tap_ok(pin0 >= 0, "/proc/self/status has VmPin (%lld kB)", pin0);

	/* Unregistered memory: charged by the mapping, released by unmap. */
	errno = EDOM;
	ret = ioasid_map_buffer(fd, id, buf, len, IOVA, true);
	tap_ok(!ret && errno == EDOM,
	       "map_buffer of %d pages succeeds and leaves errno alone: ret %d",
	       BUF_PAGES, ret);
	pin_is(pin0, len, "rises by the mapped size");
	unmapped = 0;
	ret = ioasid_dma_unmap(fd, id, IOVA, len, &unmapped);
	tap_ok(!ret && unmapped == len,
	       "dma_unmap reports %d pages unmapped: ret %d, unmapped %llu",
	       BUF_PAGES, ret, (unsigned long long)unmapped);
	pin_is(pin0, 0, "is back after the unmap");

	/* Parts of a range that map nothing are fine, all of it too. */
	unmapped = 1;
	ret = ioasid_dma_unmap(fd, id, IOVA, len, &unmapped);
	tap_ok(!ret && unmapped == 0,
	       "dma_unmap of a range with nothing mapped reports 0: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);

	tap_is(ioasid_dma_map(fd, id, buf, IOVA, len, RW), 0,
	       "dma_map read-write");
	tap_is(ioasid_dma_unmap(fd, id, IOVA, len, NULL), 0,
	       "dma_unmap with unmapped NULL");
	/* EEXIST if that unmap had left anything behind. */
	tap_is(ioasid_dma_map(fd, id, buf, IOVA, len, IOASID_DMA_MAP_READ), 0,
	       "the range maps again after it, read-only");

	/* No IOVA may be mapped twice, not even a page of a mapping's end. */
	tap_is(ioasid_map_buffer(fd, id, buf, pages(4), IOVA + pages(12),
				 false), -EEXIST,
	       "map_buffer inside a mapping is -EEXIST");
	tap_is(ioasid_dma_map(fd, id, buf, IOVA + pages(BUF_PAGES - 1),
			      pages(2), RW), -EEXIST,
	       "dma_map overlapping a mapping's last page is -EEXIST");

	/* The same memory may back a second IOVA; it is pinned again. */
	tap_is(ioasid_dma_map(fd, id, buf, IOVA2, pages(4), RW), 0,
	       "the same memory maps at a second IOVA");
	pin_is(pin0, len + pages(4), "counts both unregistered mappings");
	unmapped = 0;
	ret = ioasid_dma_unmap_all(fd, id, &unmapped);
	tap_ok(!ret && unmapped == len + pages(4),
	       "dma_unmap_all reports both mappings: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
	pin_is(pin0, 0, "is back after dma_unmap_all");
	unmapped = 1;
	ret = ioasid_dma_unmap_all(fd, id, &unmapped);
	tap_ok(!ret && unmapped == 0,
	       "dma_unmap_all of an empty IOASID reports 0: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
	tap_is(ioasid_dma_unmap_all(fd, id, NULL), 0,
	       "dma_unmap_all with unmapped NULL");

	/* A partial unmap cuts the mapping and frees the middle's pins. */
	tap_is(ioasid_map_buffer(fd, id, buf, len, IOVA, true), 0,
	       "map_buffer of %d pages to cut", BUF_PAGES);
	unmapped = 0;
	ret = ioasid_dma_unmap(fd, id, IOVA + pages(4), pages(8), &unmapped);
	tap_ok(!ret && unmapped == pages(8),
	       "dma_unmap of the middle 8 pages reports exactly them: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
	pin_is(pin0, pages(8), "drops by the middle's size");
	ok = ioasid_dma_map(fd, id, buf, IOVA, pages(1),
			    IOASID_DMA_MAP_READ) == -EEXIST &&
	     ioasid_dma_map(fd, id, buf, IOVA + pages(BUF_PAGES - 1), pages(1),
			    IOASID_DMA_MAP_READ) == -EEXIST;
	tap_ok(ok, "the head and the tail of the cut mapping stay mapped");
	tap_is(ioasid_map_buffer(fd, id, buf + pages(4), pages(8),
				 IOVA + pages(4), true), 0,
	       "the middle maps again");
	tap_is(ioasid_unmap_buffer(fd, id, IOVA, len), 0,
	       "unmap_buffer of a range mapped in full, in three pieces");
	pin_is(pin0, 0, "is back after unmap_buffer");

	/* unmap_buffer insists on a whole buffer, but unmaps what is there. */
	tap_is(ioasid_map_buffer(fd, id, buf, pages(8), IOVA, true), 0,
	       "map_buffer of 8 pages");
	errno = EDOM;
	ret = ioasid_unmap_buffer(fd, id, IOVA, len);
	tap_ok(ret == -ENXIO && errno == EDOM,
	       "unmap_buffer of 16 pages over 8 mapped is -ENXIO, errno kept: ret %d",
	       ret);
	unmapped = 1;
	ret = ioasid_dma_unmap_all(fd, id, &unmapped);
	tap_ok(!ret && unmapped == 0,
	       "the 8 mapped pages were unmapped anyway: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);
	pin_is(pin0, 0, "is back after the -ENXIO unmap_buffer");
	tap_is(ioasid_unmap_buffer(fd, id, IOVA, len), -ENXIO,
	       "unmap_buffer where nothing is mapped is -ENXIO");

	/* writable is what asks for IOASID_DMA_MAP_WRITE. */
	tap_is(ioasid_map_buffer(fd, id, ro, pages(RO_PAGES), IOVA, false), 0,
	       "read-only memory maps for device reads");
	tap_is(ioasid_map_buffer(fd, id, ro, pages(RO_PAGES), IOVA2, true),
	       -EFAULT, "read-only memory does not map writable: -EFAULT");
	tap_is(ioasid_unmap_buffer(fd, id, IOVA, pages(RO_PAGES)), 0,
	       "unmap_buffer of the read-only buffer");
	tap_is(ioasid_register_memory(fd, ro, pages(RO_PAGES)), -EFAULT,
	       "read-only memory does not register: -EFAULT");

	/* Registered memory: pinned and charged once, however it is mapped. */
	tap_is(ioasid_register_memory(fd, buf, len), 0,
	       "register_memory of %d pages", BUF_PAGES);
	pin_is(pin0, len, "rises by the registered size");
	tap_is(ioasid_register_memory(fd, buf + pages(4), pages(4)), -EEXIST,
	       "register_memory inside a registration is -EEXIST");
	tap_is(ioasid_dma_map(fd, id, buf, IOVA, len, RW), 0,
	       "dma_map of the registered memory into one IOASID");
	tap_is(ioasid_map_buffer(fd, id2, buf, len, IOVA, true), 0,
	       "map_buffer of it into a second IOASID");
	tap_is(ioasid_dma_map(fd, id, buf + pages(4), IOVA2, pages(8),
			      IOASID_DMA_MAP_READ), 0,
	       "dma_map of a part inside the registration");
	pin_is(pin0, len, "does not rise for mappings of registered memory");
	tap_is(ioasid_unregister_memory(fd, buf, len), -EBUSY,
	       "unregister_memory while mapped is -EBUSY");
	tap_is(ioasid_unregister_memory(fd, buf, pages(8)), -ENOENT,
	       "unregister_memory of part of a registration is -ENOENT");
	ret = ioasid_dma_unmap_all(fd, id, &unmapped);
	ok = !ret && unmapped == len + pages(8);
	ret = ioasid_dma_unmap_all(fd, id2, &unmapped);
	ok = ok && !ret && unmapped == len;
	tap_ok(ok, "dma_unmap_all of both IOASIDs reports their mappings");
	pin_is(pin0, len, "keeps the registration's pins after the unmaps");
	tap_is(ioasid_unregister_memory(fd, buf, len), 0,
	       "unregister_memory once unmapped");
	pin_is(pin0, 0, "is back after unregister_memory");
	tap_is(ioasid_unregister_memory(fd, buf, len), -ENOENT,
	       "unregister_memory again is -ENOENT");

	/* Zero lengths, all -EINVAL. */
	tap_is(ioasid_register_memory(fd, buf, 0), -EINVAL,
	       "register_memory of length 0 is -EINVAL");
	tap_is(ioasid_unregister_memory(fd, buf, 0), -EINVAL,
	       "unregister_memory of length 0 is -EINVAL");
	tap_is(ioasid_dma_map(fd, id, buf, IOVA, 0, RW), -EINVAL,
	       "dma_map of length 0 is -EINVAL");
	tap_is(ioasid_dma_unmap(fd, id, IOVA, 0, NULL), -EINVAL,
	       "dma_unmap of length 0 is -EINVAL");
	tap_is(ioasid_map_buffer(fd, id, buf, 0, IOVA, true), -EINVAL,
	       "map_buffer of length 0 is -EINVAL");
	tap_is(ioasid_unmap_buffer(fd, id, IOVA, 0), -EINVAL,
	       "unmap_buffer of length 0 is -EINVAL");

	/* Half an alignment unit off, in each place one can be off. */
	tap_is(ioasid_register_memory(fd, buf + align / 2, pages(1)), -EINVAL,
	       "register_memory at an unaligned address is -EINVAL");
	tap_is(ioasid_register_memory(fd, buf, align / 2), -EINVAL,
	       "register_memory of an unaligned length is -EINVAL");
	tap_is(ioasid_unregister_memory(fd, buf, align + align / 2), -EINVAL,
	       "unregister_memory of an unaligned length is -EINVAL");
	tap_is(ioasid_dma_map(fd, id, buf + align / 2, IOVA, align, RW),
	       -EINVAL, "dma_map of an unaligned address is -EINVAL");
	tap_is(ioasid_dma_map(fd, id, buf, IOVA + align / 2, align, RW),
	       -EINVAL, "dma_map to an unaligned IOVA is -EINVAL");
	tap_is(ioasid_dma_map(fd, id, buf, IOVA, align + align / 2, RW),
	       -EINVAL, "dma_map of an unaligned length is -EINVAL");
	tap_is(ioasid_dma_unmap(fd, id, IOVA + align / 2, align, NULL),
	       -EINVAL, "dma_unmap at an unaligned IOVA is -EINVAL");
	tap_is(ioasid_dma_unmap(fd, id, IOVA, align / 2, NULL), -EINVAL,
	       "dma_unmap of an unaligned length is -EINVAL");
	tap_is(ioasid_map_buffer(fd, id, buf + align / 2, align, IOVA, true),
	       -EINVAL, "map_buffer of an unaligned buffer is -EINVAL");
	tap_is(ioasid_map_buffer(fd, id, buf, align / 2, IOVA, true), -EINVAL,
	       "map_buffer of an unaligned length is -EINVAL");
	tap_is(ioasid_map_buffer(fd, id, buf, align, IOVA + align / 2, true),
	       -EINVAL, "map_buffer to an unaligned IOVA is -EINVAL");
	tap_is(ioasid_unmap_buffer(fd, id, IOVA + align / 2, align), -EINVAL,
	       "unmap_buffer at an unaligned IOVA is -EINVAL");

	/* Access flags: at least one, and unknown ones are refused. */
	tap_is(ioasid_dma_map(fd, id, buf, IOVA, len, 0), -EINVAL,
	       "dma_map with no flags is -EINVAL");
	tap_is(ioasid_dma_map(fd, id, buf, IOVA, len,
			      IOASID_DMA_MAP_READ | 1U << 31), -EOPNOTSUPP,
	       "dma_map with an unknown flag is -EOPNOTSUPP");

	/* Ranges that wrap, or leave the user address space. */
	huge = -align;
	tap_is(ioasid_register_memory(fd, buf, huge), -EOVERFLOW,
	       "register_memory of a range that wraps is -EOVERFLOW");
	tap_is(ioasid_unregister_memory(fd, buf, huge), -EOVERFLOW,
	       "unregister_memory of a range that wraps is -EOVERFLOW");
	tap_is(ioasid_dma_map(fd, id, buf, top, pages(2), RW), -EOVERFLOW,
	       "dma_map to an IOVA range that wraps is -EOVERFLOW");
	tap_is(ioasid_dma_map(fd, id, buf, 0, huge, RW), -EOVERFLOW,
	       "dma_map of a user range that wraps is -EOVERFLOW");
	tap_is(ioasid_dma_unmap(fd, id, top, pages(2), NULL), -EOVERFLOW,
	       "dma_unmap of an IOVA range that wraps is -EOVERFLOW");
	tap_is(ioasid_map_buffer(fd, id, buf, pages(2), top, true),
	       -EOVERFLOW, "map_buffer to an IOVA range that wraps is -EOVERFLOW");
	tap_is(ioasid_unmap_buffer(fd, id, top, pages(2)), -EOVERFLOW,
	       "unmap_buffer of an IOVA range that wraps is -EOVERFLOW");
	if (sizeof(size_t) < 8) {
		tap_skip("32-bit", "register_memory past the user address space is -EOVERFLOW");
		tap_skip("32-bit", "dma_map past the user address space is -EOVERFLOW");
	} else {
		/* 2^62 bytes from a user address: no wrap, but past TASK_SIZE. */
		huge = (size_t)1 << (sizeof(size_t) * 8 - 2);
		tap_is(ioasid_register_memory(fd, buf, huge), -EOVERFLOW,
		       "register_memory past the user address space is -EOVERFLOW");
		tap_is(ioasid_dma_map(fd, id, buf, 0, huge, RW), -EOVERFLOW,
		       "dma_map past the user address space is -EOVERFLOW");
	}

	/* Memory that is not there cannot be pinned, and nothing stays. */
	tap_is(ioasid_map_buffer(fd, id, holey, pages(3), IOVA, true),
	       -EFAULT, "map_buffer across a hole is -EFAULT");
	tap_is(ioasid_dma_map(fd, id, holey + pages(1), IOVA, pages(1),
			      IOASID_DMA_MAP_READ), -EFAULT,
	       "dma_map of an unmapped page is -EFAULT");
	tap_is(ioasid_register_memory(fd, holey, pages(3)), -EFAULT,
	       "register_memory across a hole is -EFAULT");
	pin_is(pin0, 0, "is unchanged by the failed pins");
	unmapped = 1;
	ret = ioasid_dma_unmap_all(fd, id, &unmapped);
	tap_ok(!ret && unmapped == 0,
	       "the failed maps left nothing mapped: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);

	/* Unknown IOASIDs, for every function that takes one. */
	for (i = DMA_MAP; i <= UNMAP_BUFFER; i++)
		tap_is(call(i, fd, gone, buf), -ENOENT,
		       "%s of a freed IOASID is -ENOENT", call_names[i]);
	unmapped = 1;
	ret = ioasid_dma_unmap(fd, gone, IOVA, len, &unmapped);
	tap_ok(ret == -ENOENT && unmapped == 1,
	       "a failing dma_unmap leaves *unmapped alone: ret %d, unmapped %llu",
	       ret, (unsigned long long)unmapped);

	/* User addresses mean something only in the process that opened. */
	tap_ok(child_gets_eperm(fd, id, buf),
	       "register_memory and map_buffer from a forked child are -EPERM");

	tap_is(ioasid_free(fd, id), 0, "free the first IOASID");
	tap_is(ioasid_free(fd, id2), 0, "free the second IOASID");
	close(fd);
	munmap(buf, len);
	munmap(ro, pages(RO_PAGES));
	munmap(holey, pages(1));
	munmap(holey + pages(2), pages(1));
	return tap_finish();
}
