// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid tests: hardware nesting, on IOASIDs with no device attached.
 *
 * A hardware-nested IOASID takes a page table the user owns (a guest's
 * first stage) instead of mappings, and the IOMMU driver of each attached
 * device builds its nested domain from it at bind time. With no device
 * there is nothing to build, so what is checked here is everything the
 * kernel answers before it needs one: the kind of IOASID each call wants
 * (-EMEDIUMTYPE), the format (-EOPNOTSUPP), -ENODEV for a bind with no
 * device, -ENOENT with no table bound, the invalidation count the library
 * reports when nothing was done, and IOASID_DEVICE_GET_INFO's -ENOENT.
 * Binding a table and invalidating it take a device whose IOMMU nests:
 * the kernel's selftests do that on the mock IOMMU.
 *
 * The cases before device_present need no /dev/ioasid and pass anywhere.
 * From there on each case starts from hw_pair(): a fresh fd with a parent
 * and one hardware-nested child, closed by reset() after the case.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libioasid.h"
#include "tap.h"

#define POISON		0xa5

/* A guest table root in the parent's IOVA space, and x86-64's width. */
#define ROOT_GPA	0x100000ULL
#define ADDR_WIDTH	48
#define GIOVA		0x200000000ULL

#define RW		(IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE)

/*
 * The VT-d formats as <linux/iommufd.h> lays them out (struct
 * iommu_hwpt_vtd_s1 and struct iommu_hwpt_vtd_s1_invalidate), which the
 * headers a test is built against may not have. No table is ever bound
 * here, so the kernel reads neither past its checks of the IOASID.
 */
struct vtd_s1 {
	__u64 flags;
	__u64 pgtbl_addr;
	__u32 addr_width;
	__u32 reserved;
};

struct vtd_s1_invalidate {
	__u64 addr;
	__u64 npages;
	__u32 flags;
	__u32 reserved;
};

/* What the cases share: set up by main() and hw_pair(). */
static struct {
	size_t page_size;
	char *buf;		/* one page, read-write */
	int fd;
	__u32 parent, child;	/* the child nested in hardware on the parent */
} t = { .fd = -1 };

static const struct vtd_s1 root = {
	.pgtbl_addr = ROOT_GPA,
	.addr_width = ADDR_WIDTH,
};

/* One entry that says "everything", as a VMM sends for a full flush. */
static const struct vtd_s1_invalidate flush_all = { .npages = UINT64_MAX };

/*
 * A fresh fd with a parent IOASID and one hardware-nested child, for the
 * case to work on; a failure is reported as the case's.
 */
static int hw_pair(void)
{
	int ret;

	t.fd = ioasid_open();
	if (t.fd < 0)
		tap_bail("cannot open /dev/ioasid: %s", strerror(-t.fd));
	ret = ioasid_alloc(t.fd, &t.parent);
	if (!tap_setup(ret, "alloc the parent"))
		return 0;
	ret = ioasid_create_nesting(t.fd, t.parent, IOASID_NESTING_HARDWARE,
				    &t.child);
	return tap_setup(ret, "create_nesting of a hardware child");
}

/* After each case: closing the fd frees its IOASIDs. */
static void reset(void)
{
	if (t.fd < 0)
		return;
	close(t.fd);
	t.fd = -1;
}

/* One flush_all entry for @id; *@done gets how many the kernel did. */
static int invalidate_one(int fd, __u32 id, __u32 *done)
{
	*done = 1;
	return ioasid_invalidate_cache(fd, id, &flush_all, sizeof(flush_all),
				       done);
}

/* Every call that wants a hardware-nested IOASID answers @want for @id. */
static void table_calls_answer(__u32 id, int want, const char *what)
{
	__u32 done;
	int ret;

	tap_is(ioasid_bind_pgtable_vtd_s1(t.fd, id, ROOT_GPA, ADDR_WIDTH, 0),
	       want, "bind_pgtable_vtd_s1 on %s", what);
	tap_is(ioasid_bind_pgtable(t.fd, id, IOASID_PGTABLE_VTD_S1, &root,
				   sizeof(root)),
	       want, "bind_pgtable on %s", what);
	tap_is(ioasid_unbind_pgtable(t.fd, id), want,
	       "unbind_pgtable on %s", what);
	ret = invalidate_one(t.fd, id, &done);
	tap_is(ret, want, "invalidate_cache on %s", what);
	tap_ok(done == 0, "invalidate_cache on %s did no entry (%u)", what,
	       done);
}

static void extension_names_of_hardware_nesting(void)
{
	const char *name;

	name = ioasid_extension_name(IOASID_EXT_NESTING_HARDWARE);
	tap_ok(name && !strcmp(name, "nesting_hardware"),
	       "extension_name(IOASID_EXT_NESTING_HARDWARE) is \"nesting_hardware\"");
	name = ioasid_extension_name(IOASID_EXT_DEVICE_GET_INFO);
	tap_ok(name && !strcmp(name, "device_get_info"),
	       "extension_name(IOASID_EXT_DEVICE_GET_INFO) is \"device_get_info\"");
}

/* Every function passes the kernel's EBADF through. */
static void closed_fd_is_ebadf(void)
{
	struct ioasid_cmd_device_get_info info;
	__u32 done = 1;

	tap_is(ioasid_device_get_info(-1, 1, &info), -EBADF,
	       "device_get_info on fd -1 is -EBADF");
	tap_is(ioasid_bind_pgtable(-1, 2, IOASID_PGTABLE_VTD_S1, &root,
				   sizeof(root)),
	       -EBADF, "bind_pgtable on fd -1 is -EBADF");
	tap_is(ioasid_bind_pgtable_vtd_s1(-1, 2, ROOT_GPA, ADDR_WIDTH, 0),
	       -EBADF, "bind_pgtable_vtd_s1 on fd -1 is -EBADF");
	tap_is(ioasid_unbind_pgtable(-1, 2), -EBADF,
	       "unbind_pgtable on fd -1 is -EBADF");
	tap_is(ioasid_invalidate_cache(-1, 2, &flush_all, sizeof(flush_all),
				       &done),
	       -EBADF, "invalidate_cache on fd -1 is -EBADF");
}

/* Another driver's fd rejects our numbers; nothing may pass as ok. */
static void foreign_fd_is_enotty(void)
{
	struct ioasid_cmd_device_get_info info;
	__u32 done = 1;
	int null_fd;

	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		tap_bail("cannot open /dev/null: %s", strerror(errno));
	tap_is(ioasid_device_get_info(null_fd, 1, &info), -ENOTTY,
	       "device_get_info on /dev/null is -ENOTTY");
	tap_is(ioasid_bind_pgtable(null_fd, 2, IOASID_PGTABLE_VTD_S1, &root,
				   sizeof(root)),
	       -ENOTTY, "bind_pgtable on /dev/null is -ENOTTY");
	tap_is(ioasid_bind_pgtable_vtd_s1(null_fd, 2, ROOT_GPA, ADDR_WIDTH,
					  0),
	       -ENOTTY, "bind_pgtable_vtd_s1 on /dev/null is -ENOTTY");
	tap_is(ioasid_unbind_pgtable(null_fd, 2), -ENOTTY,
	       "unbind_pgtable on /dev/null is -ENOTTY");
	tap_is(ioasid_invalidate_cache(null_fd, 2, &flush_all,
				       sizeof(flush_all), &done),
	       -ENOTTY, "invalidate_cache on /dev/null is -ENOTTY");
	close(null_fd);
}

/*
 * A failure is reported only in the return value, by every function; a
 * call that touched errno would leave it changed for the next check.
 */
static void errno_kept_on_failure(void)
{
	struct ioasid_cmd_device_get_info info;
	__u32 done = 1;
	int kept;

	errno = EDOM;
	kept = ioasid_device_get_info(-1, 1, &info) == -EBADF &&
	       errno == EDOM;
	kept &= ioasid_bind_pgtable(-1, 2, IOASID_PGTABLE_VTD_S1, &root,
				    sizeof(root)) == -EBADF && errno == EDOM;
	kept &= ioasid_bind_pgtable_vtd_s1(-1, 2, ROOT_GPA, ADDR_WIDTH,
					   0) == -EBADF && errno == EDOM;
	kept &= ioasid_unbind_pgtable(-1, 2) == -EBADF && errno == EDOM;
	kept &= ioasid_invalidate_cache(-1, 2, &flush_all, sizeof(flush_all),
					&done) == -EBADF && errno == EDOM;
	tap_ok(kept, "a failing call of each leaves errno as it was");
}

/* Caught before the ioctl, so even a bad fd gets -EINVAL. */
static void null_output_is_einval(void)
{
	tap_is(ioasid_device_get_info(-1, 1, NULL), -EINVAL,
	       "device_get_info with NULL info is -EINVAL");
	tap_is(ioasid_invalidate_cache(-1, 2, &flush_all, sizeof(flush_all),
				       NULL),
	       -EINVAL, "invalidate_cache with NULL num_entries is -EINVAL");
}

/*
 * A call the kernel refuses before the first entry did none of them,
 * and the count says so rather than echo the one asked for.
 */
static void refused_invalidation_did_none(void)
{
	__u32 done = 3;
	int ret;

	ret = ioasid_invalidate_cache(-1, 2, &flush_all, sizeof(flush_all),
				      &done);
	tap_ok(ret == -EBADF && done == 0,
	       "invalidate_cache of 3 entries on fd -1 did none: ret %d, done %u",
	       ret, done);
}

/* From here on the device is needed; without it nothing can pass. */
static void device_present(void)
{
	int fd = ioasid_open();

	if (!tap_ok(fd >= 0, "ioasid_open"))
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));
	tap_is(ioasid_check_extension(fd, IOASID_EXT_NESTING_HARDWARE), 1,
	       "IOASID_EXT_NESTING_HARDWARE is supported");
	tap_is(ioasid_check_extension(fd, IOASID_EXT_DEVICE_GET_INFO), 1,
	       "IOASID_EXT_DEVICE_GET_INFO is supported");
	close(fd);
}

static void hardware_child_info(void)
{
	struct ioasid_cmd_get_info info;
	int ret;

	if (!hw_pair())
		return;
	memset(&info, 0, sizeof(info));
	ret = ioasid_get_info(t.fd, t.child, &info, NULL, 0);
	tap_is(ret, 0, "get_info of the hardware child");
	tap_ok(!ret && info.out_parent == t.parent,
	       "out_parent is the parent (%u)", info.out_parent);
	tap_ok(!ret && info.out_nesting == IOASID_NESTING_HARDWARE,
	       "out_nesting is IOASID_NESTING_HARDWARE (%u)",
	       info.out_nesting);
	tap_ok(!ret && info.out_num_devices == 0 &&
	       info.out_num_children == 0 && info.out_revoked == 0,
	       "a new hardware child has no devices, children or revocations");
	ret = ioasid_get_info(t.fd, t.parent, &info, NULL, 0);
	tap_ok(!ret && info.out_num_children == 1,
	       "the parent counts it as a child (%u)", info.out_num_children);
}

/* Nesting is one level deep, whatever the kind. */
static void hardware_child_cannot_be_parent(void)
{
	__u32 id;

	if (!hw_pair())
		return;
	tap_is(ioasid_create_nesting(t.fd, t.child, IOASID_NESTING_HARDWARE,
				     &id),
	       -EINVAL, "create_nesting of kind HARDWARE on it is -EINVAL");
	tap_is(ioasid_create_nesting(t.fd, t.child, IOASID_NESTING_SOFTWARE,
				     &id),
	       -EINVAL, "create_nesting of kind SOFTWARE on it is -EINVAL");
}

/* The child holds the parent until it is freed, as a software one does. */
static void parent_with_hardware_child_is_ebusy(void)
{
	if (!hw_pair())
		return;
	tap_is(ioasid_free(t.fd, t.parent), -EBUSY,
	       "free of a parent with a hardware child is -EBUSY");
	tap_is(ioasid_free(t.fd, t.child), 0, "free of the hardware child");
	tap_is(ioasid_free(t.fd, t.parent), 0,
	       "free of the parent once its child is gone");
}

/* Its translations are the user's table; it has no mappings to make. */
static void hardware_child_takes_no_map(void)
{
	if (!hw_pair() ||
	    !tap_setup(ioasid_map_buffer(t.fd, t.parent, t.buf, t.page_size,
					 ROOT_GPA, true),
		       "the parent maps a page at the root's GPA"))
		return;
	tap_is(ioasid_dma_map(t.fd, t.child, t.buf, GIOVA, t.page_size, RW),
	       -EMEDIUMTYPE, "dma_map into the hardware child is -EMEDIUMTYPE");
	tap_is(ioasid_map_buffer(t.fd, t.child, t.buf, t.page_size, GIOVA,
				 false),
	       -EMEDIUMTYPE, "map_buffer into it is -EMEDIUMTYPE");
	tap_is(ioasid_dma_map_from_parent(t.fd, t.child, ROOT_GPA, GIOVA,
					  t.page_size, RW),
	       -EMEDIUMTYPE,
	       "dma_map_from_parent into it is -EMEDIUMTYPE");
}

/* Tables are for hardware-nested IOASIDs only. */
static void wrong_kind_is_emediumtype(void)
{
	__u32 plain, soft;

	if (!hw_pair() || !tap_setup(ioasid_alloc(t.fd, &plain), "alloc") ||
	    !tap_setup(ioasid_create_nesting(t.fd, t.parent,
					     IOASID_NESTING_SOFTWARE, &soft),
		       "create_nesting of a software child"))
		return;
	table_calls_answer(plain, -EMEDIUMTYPE,
			   "an IOASID that is not nested is -EMEDIUMTYPE");
	table_calls_answer(t.parent, -EMEDIUMTYPE,
			   "the parent is -EMEDIUMTYPE");
	table_calls_answer(soft, -EMEDIUMTYPE,
			   "a software child is -EMEDIUMTYPE");
}

static void unknown_ioasid_is_enoent(void)
{
	__u32 gone;
	int fd;

	if (!hw_pair() ||
	    !tap_setup(ioasid_create_nesting(t.fd, t.parent,
					     IOASID_NESTING_HARDWARE, &gone),
		       "create_nesting") ||
	    !tap_setup(ioasid_free(t.fd, gone), "free"))
		return;
	table_calls_answer(gone, -ENOENT, "a freed child is -ENOENT");

	/* The child of another fd: ids are per fd. */
	fd = t.fd;
	t.fd = ioasid_open();
	if (!tap_setup(t.fd < 0 ? t.fd : 0, "open a second fd")) {
		t.fd = fd;
		return;
	}
	table_calls_answer(t.child, -ENOENT,
			   "another fd's hardware child is -ENOENT");
	close(t.fd);
	t.fd = fd;
}

/* The drivers build the nested domains at bind: none without a device. */
static void bind_without_device_is_enodev(void)
{
	if (!hw_pair())
		return;
	tap_is(ioasid_bind_pgtable_vtd_s1(t.fd, t.child, ROOT_GPA, ADDR_WIDTH,
					  0),
	       -ENODEV, "bind_pgtable_vtd_s1 with no device attached is -ENODEV");
	tap_is(ioasid_bind_pgtable(t.fd, t.child, IOASID_PGTABLE_VTD_S1,
				   &root, sizeof(root)),
	       -ENODEV, "bind_pgtable with no device attached is -ENODEV");
	tap_is(ioasid_unbind_pgtable(t.fd, t.child), -ENOENT,
	       "the refused binds left nothing to unbind");
}

/* A format the kernel does not know is refused before anything else. */
static void unknown_format_is_eopnotsupp(void)
{
	if (!hw_pair())
		return;
	tap_is(ioasid_bind_pgtable(t.fd, t.child, IOASID_PGTABLE_NONE, &root,
				   sizeof(root)),
	       -EOPNOTSUPP, "bind_pgtable of IOASID_PGTABLE_NONE is -EOPNOTSUPP");
	tap_is(ioasid_bind_pgtable(t.fd, t.child, IOASID_PGTABLE_VTD_S1 + 1,
				   &root, sizeof(root)),
	       -EOPNOTSUPP,
	       "bind_pgtable of the format after VTD_S1 is -EOPNOTSUPP");
	tap_is(ioasid_bind_pgtable(t.fd, t.child, UINT32_MAX, &root,
				   sizeof(root)),
	       -EOPNOTSUPP, "bind_pgtable of format UINT32_MAX is -EOPNOTSUPP");
}

static void nothing_bound_is_enoent(void)
{
	__u32 done;
	int ret;

	if (!hw_pair())
		return;
	tap_is(ioasid_unbind_pgtable(t.fd, t.child), -ENOENT,
	       "unbind_pgtable with no table bound is -ENOENT");
	ret = invalidate_one(t.fd, t.child, &done);
	tap_ok(ret == -ENOENT && done == 0,
	       "invalidate_cache with no table bound is -ENOENT and did none: ret %d, done %u",
	       ret, done);
}

/* An empty array or entries of no size are refused up front. */
static void empty_invalidation_is_einval(void)
{
	__u32 done;
	int ret;

	if (!hw_pair())
		return;
	done = 0;
	tap_is(ioasid_invalidate_cache(t.fd, t.child, &flush_all,
				       sizeof(flush_all), &done),
	       -EINVAL, "invalidate_cache of 0 entries is -EINVAL");
	done = 1;
	ret = ioasid_invalidate_cache(t.fd, t.child, &flush_all, 0, &done);
	tap_ok(ret == -EINVAL && done == 0,
	       "invalidate_cache with entry_len 0 is -EINVAL and did none: ret %d, done %u",
	       ret, done);
}

/* Only a bound device has an id to ask about; an IOASID is not one. */
static void device_get_info_of_non_device_is_enoent(void)
{
	struct ioasid_cmd_device_get_info info;
	__u8 poison[sizeof(info)];

	if (!hw_pair())
		return;
	memset(&info, POISON, sizeof(info));
	memset(poison, POISON, sizeof(poison));
	tap_is(ioasid_device_get_info(t.fd, 0xdead, &info), -ENOENT,
	       "device_get_info of an unknown id is -ENOENT");
	tap_is(ioasid_device_get_info(t.fd, 0, &info), -ENOENT,
	       "device_get_info of id 0 is -ENOENT");
	tap_is(ioasid_device_get_info(t.fd, t.parent, &info), -ENOENT,
	       "device_get_info of an IOASID's id is -ENOENT");
	tap_ok(!memcmp(&info, poison, sizeof(info)),
	       "a failed device_get_info leaves *info alone");
}

static const struct tap_case cases[] = {
	TAP_CASE(extension_names_of_hardware_nesting),
	TAP_CASE(closed_fd_is_ebadf),
	TAP_CASE(foreign_fd_is_enotty),
	TAP_CASE(errno_kept_on_failure),
	TAP_CASE(null_output_is_einval),
	TAP_CASE(refused_invalidation_did_none),
	TAP_CASE(device_present),
	TAP_CASE(hardware_child_info),
	TAP_CASE(hardware_child_cannot_be_parent),
	TAP_CASE(parent_with_hardware_child_is_ebusy),
	TAP_CASE(hardware_child_takes_no_map),
	TAP_CASE(wrong_kind_is_emediumtype),
	TAP_CASE(unknown_ioasid_is_enoent),
	TAP_CASE(bind_without_device_is_enodev),
	TAP_CASE(unknown_format_is_eopnotsupp),
	TAP_CASE(nothing_bound_is_enoent),
	TAP_CASE(empty_invalidation_is_einval),
	TAP_CASE(device_get_info_of_non_device_is_enoent),
};

int main(void)
{
	int ret;

	t.page_size = sysconf(_SC_PAGESIZE);
	t.buf = mmap(NULL, t.page_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t.buf == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	/* Fault it in, so that pinning finds an ordinary page. */
	memset(t.buf, POISON, t.page_size);

	ret = tap_main(cases, TAP_NR_CASES(cases), reset);

	munmap(t.buf, t.page_size);
	return ret;
}
