// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid tests: PASIDs. ioasid_vfio_attach_pasid() and
 * ioasid_vfio_detach_pasid() on devices that tag DMA with a PASID, and
 * ioasid_bind_pasid_table() and ioasid_unbind_pasid_table().
 *
 * The cases before mock_devices_present need no device: the answers to
 * bad file descriptors, the extension names, and what the kernel checks
 * of a PASID-table bind before it needs a device. The rest need the mock
 * IOMMU's VFIO devices of a test kernel (CONFIG_IOASID_TEST_VFIO): two
 * behind its LARGE instance, which tag DMA with 20 bits of PASID and
 * walk VT-d first stages and the mock's PASID table; one behind another
 * instance, which has no PASIDs. They DMA on request, with or without a
 * PASID, so each flow is checked byte for byte: the proposal's RFC 5.5
 * (a guest process's page table under its vPASID) and 5.7 (the guest's
 * whole PASID table). Without mock devices those cases say SKIP.
 *
 * Each device case starts from vm(): a fresh ioasid fd whose GPA IOASID
 * maps guest RAM at GUEST_GPA, with the two PASID devices bound, and
 * reset() closes it all after the case.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libioasid.h"
#include "mock.h"
#include "tap.h"

#define NO_MOCK		"no mock VFIO devices (CONFIG_IOASID_TEST_VFIO)"
#define LABEL		0x9a51dULL

#define RW		(IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE)

/* Guest RAM, at its guest physical address. */
#define GUEST_GPA	0x100000ULL
#define GUEST_SIZE	0x100000UL
/* The vPASID the guest gave its process, and one it gave nobody. */
#define VPASID		5
#define VPASID_UNUSED	6
/* A device I/O address (GIOVA) and a process's virtual address (GVA). */
#define GIOVA		0x40000000ULL
#define GVA		0x7f0000001000ULL
/* Bytes per DMA: less than a page, so what lies past it can be checked. */
#define XFER		512
/* The guest's PASID table: 256 entries, one page. */
#define TABLE_BITS	8

/* What the cases share: set up by mock_devices_present() and vm(). */
static struct {
	int nr_mock;			/* mock VFIO devices found */
	char pasid_cdev[2][PATH_MAX];		/* two that have PASIDs and nest */
	int nr_pasid;
	char plain_cdev[PATH_MAX];		/* one that has no PASIDs */
	int have_plain;

	void *ram;			/* guest RAM, GUEST_SIZE */
	struct guest g;
	int fd;
	__u32 gpa;			/* maps guest RAM at GUEST_GPA */
	int vfd[2];			/* the PASID devices, bound to fd */
	__u32 dev_id[2];
} t = { .fd = -1, .vfd = { -1, -1 } };

static const struct vtd_s1_inv flush_all = { .npages = UINT64_MAX };

/* @len bytes of a pattern that differs for each @seed. */
static void fill(__u8 *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (__u8)(i * 7 + seed * 31 + 1);
}

static int all_bytes(const __u8 *p, size_t len, __u8 v)
{
	while (len--)
		if (*p++ != v)
			return 0;
	return 1;
}

/* A data page of guest memory, filled with @seed's pattern. */
static __u64 data_page(unsigned int seed)
{
	__u64 gpa = guest_page(&t.g);

	if (gpa)
		fill(guest_ptr(&t.g, gpa), GUEST_PAGE, seed);
	return gpa;
}

/* The device reads @len bytes at @iova, as @pasid; 0 if they are @want. */
static int reads(int i, __u64 iova, __u32 pasid, const void *want)
{
	__u8 buf[XFER];
	int ret;

	ret = mock_dma(t.vfd[i], iova, buf, sizeof(buf), 0, pasid);
	if (ret)
		return ret;
	return memcmp(buf, want, sizeof(buf)) ? -EIO : 0;
}

static void reset(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (t.vfd[i] >= 0)
			close(t.vfd[i]);
		t.vfd[i] = -1;
	}
	if (t.fd >= 0)
		close(t.fd);
	t.fd = -1;
}

/*
 * The start of a device case: a fresh fd, guest RAM mapped in the GPA
 * IOASID, the two PASID devices bound, their untagged DMA attached to the
 * GPA IOASID if @attach. Returns 0 after a SKIP or a failed step.
 */
static int vm(int attach)
{
	int i, ret;

	if (!t.nr_mock) {
		tap_skip(NO_MOCK, "needs mock VFIO devices");
		return 0;
	}
	if (!tap_setup(t.nr_pasid == 2 ? 0 : -ENODEV,
		       "two mock devices with PASIDs"))
		return 0;
	t.fd = ioasid_open();
	if (t.fd < 0)
		tap_bail("cannot open /dev/ioasid: %s", strerror(-t.fd));
	memset(t.ram, 0, GUEST_SIZE);
	guest_init(&t.g, t.ram, GUEST_GPA, GUEST_SIZE);
	ret = ioasid_alloc(t.fd, &t.gpa);
	ret = ret ?: ioasid_dma_map(t.fd, t.gpa, t.ram, GUEST_GPA, GUEST_SIZE,
				    RW);
	if (!tap_setup(ret, "map guest RAM at its GPA"))
		return 0;
	for (i = 0; i < 2; i++) {
		t.vfd[i] = open(t.pasid_cdev[i], O_RDWR | O_CLOEXEC);
		if (!tap_setup(t.vfd[i] < 0 ? -errno : 0, "open %s",
			       t.pasid_cdev[i]))
			return 0;
		ret = ioasid_vfio_bind(t.vfd[i], t.fd, LABEL + i,
				       &t.dev_id[i]);
		if (attach && !ret)
			ret = ioasid_vfio_attach(t.vfd[i], t.gpa);
		if (!tap_setup(ret, "bind mock device %d%s", i,
			       attach ? " and attach it to the GPA IOASID" : ""))
			return 0;
	}
	return 1;
}

/* A hardware-nested child of the GPA IOASID. */
static int hw_child(__u32 *child)
{
	return tap_setup(ioasid_create_nesting(t.fd, t.gpa,
					       IOASID_NESTING_HARDWARE, child),
			 "create a hardware-nested child");
}

/* Send one VT-d first-stage invalidation entry; 0 if all went. */
static int vtd_invalidate(__u32 ioasid, __u64 addr, __u64 npages)
{
	struct vtd_s1_inv inv = { .addr = addr, .npages = npages };
	__u32 n = 1;
	int ret;

	ret = ioasid_invalidate_cache(t.fd, ioasid, &inv, sizeof(inv), &n);
	return ret ?: (n == 1 ? 0 : -EIO);
}

/* Send one entry of the mock PASID table's; 0 if it went. */
static int table_invalidate(__u32 ioasid, __u32 type, __u32 pasid,
			    __u64 addr, __u64 npages)
{
	struct mock_pasid_inv inv = {
		.type = type,
		.pasid = pasid,
		.addr = addr,
		.npages = npages,
	};
	__u32 n = 1;
	int ret;

	ret = ioasid_invalidate_cache(t.fd, ioasid, &inv, sizeof(inv), &n);
	return ret ?: (n == 1 ? 0 : -EIO);
}

static void extension_names_of_pasids(void)
{
	const char *name;

	name = ioasid_extension_name(IOASID_EXT_USER_PASID);
	tap_ok(name && !strcmp(name, "user_pasid"),
	       "extension_name(IOASID_EXT_USER_PASID) is \"user_pasid\"");
	name = ioasid_extension_name(IOASID_EXT_PASID_TABLE);
	tap_ok(name && !strcmp(name, "pasid_table"),
	       "extension_name(IOASID_EXT_PASID_TABLE) is \"pasid_table\"");
}

static void bad_fds_are_refused(void)
{
	struct mock_pasid_table data = { .base = GUEST_GPA, .pasid_bits = 1 };
	int null_fd;

	tap_is(ioasid_bind_pasid_table(-1, 2, MOCK_PGTABLE_PASID_TABLE, &data,
				       sizeof(data)),
	       -EBADF, "bind_pasid_table on fd -1 is -EBADF");
	tap_is(ioasid_unbind_pasid_table(-1, 2), -EBADF,
	       "unbind_pasid_table on fd -1 is -EBADF");
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		tap_bail("cannot open /dev/null: %s", strerror(errno));
	tap_is(ioasid_bind_pasid_table(null_fd, 2, MOCK_PGTABLE_PASID_TABLE,
				       &data, sizeof(data)),
	       -ENOTTY, "bind_pasid_table on /dev/null is -ENOTTY");
	tap_is(ioasid_unbind_pasid_table(null_fd, 2), -ENOTTY,
	       "unbind_pasid_table on /dev/null is -ENOTTY");
	tap_is(ioasid_vfio_attach_pasid(null_fd, 2, VPASID), -ENOTTY,
	       "attach_pasid on /dev/null is -ENOTTY");
	close(null_fd);
}

static void errno_kept_on_failure(void)
{
	int kept;

	errno = EDOM;
	kept = ioasid_bind_pasid_table(-1, 2, MOCK_PGTABLE_PASID_TABLE, NULL,
				       0) == -EBADF && errno == EDOM;
	kept &= ioasid_unbind_pasid_table(-1, 2) == -EBADF && errno == EDOM;
	tap_ok(kept, "a failing call of each leaves errno as it was");
}

/* From here on /dev/ioasid is needed. */
static void device_present(void)
{
	int fd = ioasid_open();

	if (!tap_ok(fd >= 0, "ioasid_open"))
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));
	tap_is(ioasid_check_extension(fd, IOASID_EXT_USER_PASID), 1,
	       "IOASID_EXT_USER_PASID is supported");
	tap_is(ioasid_check_extension(fd, IOASID_EXT_PASID_TABLE), 1,
	       "IOASID_EXT_PASID_TABLE is supported");
	close(fd);
}

/*
 * Which kind of table a format is, and whether the kernel knows it, is
 * judged before the IOASID is looked at; then the IOASID's kind, then
 * whether a device is attached. No device needed.
 */
static void table_kind_checked_first(void)
{
	struct mock_pasid_table data = { .base = GUEST_GPA, .pasid_bits = 1 };
	__u32 plain, child;
	int fd;

	fd = ioasid_open();
	if (fd < 0)
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));
	if (!tap_setup(ioasid_alloc(fd, &plain), "alloc") ||
	    !tap_setup(ioasid_create_nesting(fd, plain,
					     IOASID_NESTING_HARDWARE, &child),
		       "create a hardware-nested child"))
		goto out;
	tap_is(ioasid_bind_pasid_table(fd, child, IOASID_PGTABLE_VTD_S1,
				       &data, sizeof(data)),
	       -EINVAL, "bind_pasid_table of a first-stage format is -EINVAL");
	tap_is(ioasid_bind_pgtable(fd, child, MOCK_PGTABLE_PASID_TABLE, &data,
				   sizeof(data)),
	       -EINVAL, "bind_pgtable of the PASID-table format is -EINVAL");
	tap_is(ioasid_bind_pasid_table(fd, 0xdead, IOASID_PGTABLE_VTD_S1,
				       &data, sizeof(data)),
	       -EINVAL, "... even for an IOASID that does not exist");
	tap_is(ioasid_bind_pasid_table(fd, child, IOASID_PGTABLE_NONE, &data,
				       sizeof(data)),
	       -EOPNOTSUPP, "bind_pasid_table of IOASID_PGTABLE_NONE is -EOPNOTSUPP");
	tap_is(ioasid_bind_pasid_table(fd, child, 30, &data, sizeof(data)),
	       -EOPNOTSUPP, "bind_pasid_table of unknown format 30 is -EOPNOTSUPP");
	tap_is(ioasid_bind_pasid_table(fd, plain, MOCK_PGTABLE_PASID_TABLE,
				       &data, sizeof(data)),
	       -EMEDIUMTYPE, "bind_pasid_table on the parent is -EMEDIUMTYPE");
	tap_is(ioasid_unbind_pasid_table(fd, plain), -EMEDIUMTYPE,
	       "unbind_pasid_table on the parent is -EMEDIUMTYPE");
	tap_is(ioasid_bind_pasid_table(fd, 0xdead, MOCK_PGTABLE_PASID_TABLE,
				       &data, sizeof(data)),
	       -ENOENT, "bind_pasid_table on an unknown id is -ENOENT");
	tap_is(ioasid_bind_pasid_table(fd, child, MOCK_PGTABLE_PASID_TABLE,
				       &data, sizeof(data)),
	       -ENODEV, "bind_pasid_table with no device attached is -ENODEV");
	tap_is(ioasid_unbind_pasid_table(fd, child), -ENOENT,
	       "unbind_pasid_table with nothing bound is -ENOENT");
out:
	close(fd);
}

/*
 * Find the mock VFIO devices and sort them by what their IOMMU does: the
 * cases after this one need two that tag DMA with PASIDs and walk the
 * mock's PASID table, and one that has no PASIDs. A kernel without mock
 * devices skips them all; one whose mock devices lack PASIDs fails.
 */
static void mock_devices_present(void)
{
	struct ioasid_cmd_device_get_info info;
	struct mock_name devs[MOCK_VFIO_MAX];
	__u32 want = 1U << IOASID_PGTABLE_VTD_S1 |
		     1U << MOCK_PGTABLE_PASID_TABLE;
	int fd, vfd, i, ret;
	__u32 id;

	t.nr_mock = mock_vfio_find(devs, MOCK_VFIO_MAX);
	if (!t.nr_mock) {
		tap_skip(NO_MOCK, "mock VFIO devices are there");
		return;
	}
	fd = ioasid_open();
	if (fd < 0)
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));
	for (i = 0; i < t.nr_mock; i++) {
		vfd = open(devs[i].cdev, O_RDWR | O_CLOEXEC);
		if (vfd < 0)
			continue;
		ret = ioasid_vfio_bind(vfd, fd, LABEL, &id);
		ret = ret ?: ioasid_device_get_info(fd, id, &info);
		if (!ret && info.out_pasid_bits == MOCK_PASID_BITS &&
		    (info.out_pgtable_formats & want) == want &&
		    info.out_capabilities & IOASID_DEVICE_CAP_NESTING_HARDWARE &&
		    t.nr_pasid < 2)
			snprintf(t.pasid_cdev[t.nr_pasid++], sizeof(t.pasid_cdev[0]),
				 "%s", devs[i].cdev);
		else if (!ret && !info.out_pasid_bits && !t.have_plain)
			t.have_plain = snprintf(t.plain_cdev, sizeof(t.plain_cdev),
						"%s", devs[i].cdev) > 0;
		close(vfd);
	}
	close(fd);
	tap_diag("%d mock VFIO devices: %d with PASIDs and PASID tables, %d without PASIDs",
		 t.nr_mock, t.nr_pasid, t.have_plain);
	tap_ok(t.nr_pasid == 2,
	       "two mock devices tag DMA with 20 bits of PASID and walk VT-d first stages and the mock PASID table");
	tap_ok(t.have_plain, "a mock device reports no PASIDs");
}

/*
 * The rules of a PASID attach: what a PASID may be, one IOASID per PASID
 * of a device, the untagged DMA and each PASID apart, and a PASID space
 * per device.
 */
static void pasid_attach_rules(void)
{
	__u32 a, b;
	int plain;

	if (!vm(0))
		return;
	if (!tap_setup(ioasid_alloc(t.fd, &a), "alloc A") ||
	    !tap_setup(ioasid_alloc(t.fd, &b), "alloc B"))
		return;
	tap_is(ioasid_vfio_attach_pasid(t.vfd[0], a, 0), -EINVAL,
	       "PASID 0, which stands for untagged DMA, is -EINVAL");
	tap_is(ioasid_vfio_attach_pasid(t.vfd[0], a, 1U << MOCK_PASID_BITS),
	       -EINVAL, "PASID 1 << 20, past the device's, is -EINVAL");
	tap_is(ioasid_vfio_attach_pasid(t.vfd[0], a, UINT32_MAX), -EINVAL,
	       "PASID UINT32_MAX is -EINVAL");
	tap_is(ioasid_vfio_attach_pasid(t.vfd[0], a,
					(1U << MOCK_PASID_BITS) - 1),
	       0, "the device's last PASID attaches");
	tap_is(ioasid_vfio_attach_pasid(t.vfd[0], a, VPASID), 0,
	       "PASID %d attaches to A", VPASID);
	tap_is(ioasid_vfio_attach_pasid(t.vfd[0], a, VPASID), -EBUSY,
	       "PASID %d again, to A, is -EBUSY", VPASID);
	tap_is(ioasid_vfio_attach_pasid(t.vfd[0], b, VPASID), -EBUSY,
	       "PASID %d again, to B, is -EBUSY", VPASID);
	tap_is(ioasid_vfio_attach(t.vfd[0], b), 0,
	       "the untagged DMA attaches to B on its own");
	tap_is(ioasid_vfio_attach_pasid(t.vfd[1], b, VPASID), 0,
	       "another device's PASID %d attaches to B: PASID spaces are per device",
	       VPASID);
	tap_is(ioasid_free(t.fd, a), -EBUSY,
	       "free of an IOASID attached under a PASID is -EBUSY");
	tap_is(ioasid_vfio_detach_pasid(t.vfd[0], b, VPASID), -ENXIO,
	       "detach_pasid naming B, where PASID %d is not, is -ENXIO",
	       VPASID);
	tap_is(ioasid_vfio_detach(t.vfd[0], a), -ENXIO,
	       "detach of the untagged DMA from A, which only PASIDs use, is -ENXIO");
	tap_is(ioasid_vfio_detach_pasid(t.vfd[0], a, VPASID), 0,
	       "detach_pasid of PASID %d from A", VPASID);
	tap_is(ioasid_vfio_detach_pasid(t.vfd[0], a, VPASID), -ENXIO,
	       "detach_pasid of it again is -ENXIO");
	tap_is(ioasid_vfio_detach_pasid(t.vfd[0], a, 0), -EINVAL,
	       "detach_pasid of PASID 0 is -EINVAL");
	tap_is(ioasid_vfio_detach_pasid(t.vfd[0], a,
					(1U << MOCK_PASID_BITS) - 1),
	       0, "detach_pasid of the last PASID");
	tap_is(ioasid_free(t.fd, a), 0, "A is free once no PASID uses it");
	tap_is(ioasid_vfio_detach(t.vfd[0], b), 0,
	       "the untagged DMA is still attached to B");

	if (!t.have_plain) {
		tap_ok(0, "a mock device without PASIDs");
		return;
	}
	plain = open(t.plain_cdev, O_RDWR | O_CLOEXEC);
	if (!tap_setup(plain < 0 ? -errno : 0, "open %s", t.plain_cdev))
		return;
	if (tap_setup(ioasid_vfio_bind(plain, t.fd, LABEL, NULL),
		      "bind the device without PASIDs"))
		tap_is(ioasid_vfio_attach_pasid(plain, b, VPASID), -EOPNOTSUPP,
		       "a device without PASIDs is -EOPNOTSUPP");
	close(plain);
}

/*
 * A PASID attach works on a plain IOASID too, and the DMA tagged with it
 * goes there, while untagged DMA goes where the device's RID is
 * attached: two IOASIDs map the same IOVA to two different pages.
 */
static void pasid_dma_reaches_its_ioasid(void)
{
	__u8 *page_a, *page_b;
	__u32 a, b;
	int ret;

	if (!vm(0))
		return;
	page_a = t.ram;
	page_b = (__u8 *)t.ram + GUEST_PAGE;
	fill(page_a, GUEST_PAGE, 1);
	fill(page_b, GUEST_PAGE, 2);
	ret = ioasid_alloc(t.fd, &a) ?: ioasid_alloc(t.fd, &b);
	ret = ret ?: ioasid_dma_map(t.fd, a, page_a, GIOVA, GUEST_PAGE, RW);
	ret = ret ?: ioasid_dma_map(t.fd, b, page_b, GIOVA, GUEST_PAGE, RW);
	ret = ret ?: ioasid_vfio_attach(t.vfd[0], a);
	if (!tap_setup(ret, "A and B map GIOVA to two pages; RID on A"))
		return;
	tap_is(mock_dma(t.vfd[0], GIOVA, page_a, XFER, 0, VPASID), -EIO,
	       "DMA tagged with PASID %d faults before it is attached", VPASID);
	if (!tap_setup(ioasid_vfio_attach_pasid(t.vfd[0], b, VPASID),
		       "attach PASID %d to B", VPASID))
		return;
	tap_is(reads(0, GIOVA, NO_PASID, page_a), 0,
	       "untagged DMA reads A's page");
	tap_is(reads(0, GIOVA, VPASID, page_b), 0,
	       "DMA tagged with PASID %d reads B's page", VPASID);
	tap_is(reads(0, GIOVA, VPASID_UNUSED, page_b), -EIO,
	       "DMA tagged with PASID %d, attached nowhere, faults",
	       VPASID_UNUSED);
	tap_is(reads(1, GIOVA, VPASID, page_b), -EIO,
	       "the other device's PASID %d, attached nowhere, faults", VPASID);
	if (!tap_setup(ioasid_vfio_detach_pasid(t.vfd[0], b, VPASID),
		       "detach PASID %d", VPASID))
		return;
	tap_is(reads(0, GIOVA, VPASID, page_b), -EIO,
	       "DMA tagged with PASID %d faults once it is detached", VPASID);
	tap_is(reads(0, GIOVA, NO_PASID, page_a), 0,
	       "untagged DMA still reads A's page");
}

/*
 * RFC 5.5: a guest process's address space under its vPASID. The GPA
 * IOASID stays the device's untagged DMA; a hardware-nested child is
 * attached under the vPASID and takes the process's page table, which
 * lives in guest memory. The IOMMU caches what it walked until the
 * guest invalidates.
 */
static void rfc_5_5_gva_under_vpasid(void)
{
	__u64 root, page_d, page_e, page_f;
	__u8 buf[XFER], want[XFER];
	__u32 gva;

	if (!vm(1) || !hw_child(&gva))
		return;
	root = guest_page(&t.g);
	page_d = data_page(0);
	page_e = data_page(0);
	page_f = data_page(3);
	memset(guest_ptr(&t.g, page_d), 0, GUEST_PAGE);
	memset(guest_ptr(&t.g, page_e), 0xee, GUEST_PAGE);
	if (!tap_setup(!root || !page_f ? -ENOMEM : 0, "guest pages") ||
	    !tap_setup(guest_map(&t.g, root, GVA, page_d, 1) ?:
		       guest_map(&t.g, root, GVA + GUEST_PAGE, page_e, 0),
		       "the guest maps GVA to D, GVA + 4K to E read-only"))
		return;
	tap_is(ioasid_vfio_attach_pasid(t.vfd[0], gva, VPASID), 0,
	       "attach the GVA child under vPASID %d", VPASID);
	tap_is(mock_dma(t.vfd[0], GVA, buf, XFER, 0, VPASID), -EIO,
	       "before the bind, PASID %d reaches nothing", VPASID);
	tap_is(ioasid_bind_pgtable_vtd_s1(t.fd, gva, root, 48, 0), 0,
	       "bind the process's table, root at GPA 0x%llx",
	       (unsigned long long)root);

	fill(want, XFER, 4);
	tap_is(mock_dma(t.vfd[0], GVA, want, XFER, 1, VPASID), 0,
	       "PASID %d DMA-writes %d bytes at GVA", VPASID, XFER);
	tap_ok(!memcmp(guest_ptr(&t.g, page_d), want, XFER) &&
	       all_bytes((__u8 *)guest_ptr(&t.g, page_d) + XFER,
			 GUEST_PAGE - XFER, 0),
	       "they landed in guest page D, and nothing past them");
	tap_is(reads(0, GVA, VPASID, want), 0,
	       "PASID %d DMA-reads them back by GVA", VPASID);
	tap_is(mock_dma(t.vfd[0], GVA + GUEST_PAGE, want, XFER, 1, VPASID),
	       -EIO, "a write to the read-only GVA page faults");
	tap_ok(all_bytes(guest_ptr(&t.g, page_e), GUEST_PAGE, 0xee),
	       "and changed nothing there");
	tap_is(reads(0, page_d, NO_PASID, want), 0,
	       "untagged DMA still reaches the GPA IOASID: D by its GPA");
	tap_is(mock_dma(t.vfd[0], GVA, buf, XFER, 0, NO_PASID), -EIO,
	       "untagged DMA does not translate GVAs");
	tap_is(mock_dma(t.vfd[1], GVA, buf, XFER, 0, VPASID), -EIO,
	       "the other device's PASID %d is its own: nothing there",
	       VPASID);

	/* The guest moves GVA to F; DMA may use the old entry until told. */
	guest_map(&t.g, root, GVA, page_f, 1);
	tap_is(reads(0, GVA, VPASID, want), 0,
	       "after the guest's change the IOMMU still uses its cached D");
	tap_is(vtd_invalidate(gva, GVA, 1), 0,
	       "invalidate_cache of the GVA page (VT-d entries name no PASID)");
	tap_is(reads(0, GVA, VPASID, guest_ptr(&t.g, page_f)), 0,
	       "now PASID %d reads guest page F at GVA", VPASID);

	tap_is(ioasid_unbind_pgtable(t.fd, gva), 0, "unbind the table");
	tap_is(mock_dma(t.vfd[0], GVA, buf, XFER, 0, VPASID), -EIO,
	       "PASID %d reaches nothing again", VPASID);
	tap_is(reads(0, page_d, NO_PASID, want), 0,
	       "untagged DMA is untouched");
	tap_is(ioasid_vfio_detach_pasid(t.vfd[0], gva, VPASID), 0,
	       "detach the vPASID");
}

/*
 * A PASID table is bound for untagged attachments only, is a table of its
 * own kind, and refuses what a bound first stage refuses.
 */
static void pasid_table_bind_rules(void)
{
	struct mock_pasid_table data = { .pasid_bits = TABLE_BITS };
	__u32 pt, other;

	if (!vm(0) || !hw_child(&pt) || !hw_child(&other))
		return;
	data.base = guest_page(&t.g);
	if (!tap_setup(ioasid_vfio_attach(t.vfd[0], pt),
		       "attach device 0's untagged DMA to the child") ||
	    !tap_setup(ioasid_vfio_attach_pasid(t.vfd[1], pt, VPASID),
		       "attach device 1's PASID %d to it", VPASID))
		return;
	tap_is(ioasid_bind_pasid_table(t.fd, pt, MOCK_PGTABLE_PASID_TABLE,
				       &data, sizeof(data)),
	       -EINVAL, "bind_pasid_table with a PASID attached is -EINVAL");
	if (!tap_setup(ioasid_vfio_detach_pasid(t.vfd[1], pt, VPASID),
		       "detach that PASID"))
		return;

	data.base += 8;
	tap_is(ioasid_bind_pasid_table(t.fd, pt, MOCK_PGTABLE_PASID_TABLE,
				       &data, sizeof(data)),
	       -EINVAL, "a table base not aligned to 4 KiB is -EINVAL");
	data.base -= 8;
	data.pasid_bits = 0;
	tap_is(ioasid_bind_pasid_table(t.fd, pt, MOCK_PGTABLE_PASID_TABLE,
				       &data, sizeof(data)),
	       -EINVAL, "pasid_bits 0 is -EINVAL");
	data.pasid_bits = MOCK_PASID_BITS + 1;
	tap_is(ioasid_bind_pasid_table(t.fd, pt, MOCK_PGTABLE_PASID_TABLE,
				       &data, sizeof(data)),
	       -EINVAL, "pasid_bits past the device's is -EINVAL");
	data.pasid_bits = TABLE_BITS;
	data.flags = 1;
	tap_is(ioasid_bind_pasid_table(t.fd, pt, MOCK_PGTABLE_PASID_TABLE,
				       &data, sizeof(data)),
	       -EOPNOTSUPP, "an unknown flag is -EOPNOTSUPP");
	data.flags = 0;

	tap_is(ioasid_bind_pasid_table(t.fd, pt, MOCK_PGTABLE_PASID_TABLE,
				       &data, sizeof(data)),
	       0, "bind_pasid_table");
	tap_is(ioasid_bind_pasid_table(t.fd, pt, MOCK_PGTABLE_PASID_TABLE,
				       &data, sizeof(data)),
	       -EEXIST, "a second bind_pasid_table is -EEXIST");
	tap_is(ioasid_bind_pgtable_vtd_s1(t.fd, pt, data.base, 48, 0),
	       -EEXIST, "a first-stage bind over it is -EEXIST");
	tap_is(ioasid_unbind_pgtable(t.fd, pt), -ENOENT,
	       "unbind_pgtable does not unbind a PASID table: -ENOENT");
	tap_is(ioasid_vfio_attach(t.vfd[1], pt), -EBUSY,
	       "attaching another device while it is bound is -EBUSY");
	tap_is(ioasid_vfio_attach_pasid(t.vfd[0], pt, VPASID), -EBUSY,
	       "attaching a PASID while it is bound is -EBUSY");
	tap_is(ioasid_unbind_pasid_table(t.fd, pt), 0, "unbind_pasid_table");
	tap_is(ioasid_unbind_pasid_table(t.fd, pt), -ENOENT,
	       "unbind_pasid_table again is -ENOENT");

	if (!tap_setup(ioasid_vfio_attach(t.vfd[1], other),
		       "attach device 1 to the other child"))
		return;
	tap_is(ioasid_bind_pgtable_vtd_s1(t.fd, other, data.base, 48, 0), 0,
	       "bind a first stage to the other child");
	tap_is(ioasid_unbind_pasid_table(t.fd, other), -ENOENT,
	       "unbind_pasid_table does not unbind a first stage: -ENOENT");
	tap_is(ioasid_unbind_pgtable(t.fd, other), 0, "unbind_pgtable");
}

/*
 * RFC 5.7: the guest owns the device's whole PASID table. It is bound to
 * the child the device's untagged DMA is attached to, and the IOMMU
 * walks it for every DMA: entry 0 for untagged DMA, entry n for PASID n.
 * A second child, attached under the PASID with the process's table
 * bound, only tracks it: the PASID table decides, and invalidations
 * through that child reach the PASID's cached translations.
 */
static void rfc_5_7_pasid_table(void)
{
	struct mock_pasid_table data = { .pasid_bits = TABLE_BITS };
	__u64 table, root_giova, root_gva, root_new, page_a, page_b;
	__u64 page_c, page_d, page_e, *entries;
	__u8 buf[XFER], want[XFER];
	__u32 pt, gva;

	if (!vm(0) || !hw_child(&pt) || !hw_child(&gva))
		return;
	table = guest_page(&t.g);
	root_giova = guest_page(&t.g);
	root_gva = guest_page(&t.g);
	root_new = guest_page(&t.g);
	page_a = data_page(0);
	page_b = data_page(0);
	page_c = data_page(5);
	page_d = data_page(6);
	page_e = data_page(7);
	memset(guest_ptr(&t.g, page_a), 0, GUEST_PAGE);
	memset(guest_ptr(&t.g, page_b), 0, GUEST_PAGE);
	if (!tap_setup(!page_e ? -ENOMEM : 0, "guest pages") ||
	    !tap_setup(guest_map(&t.g, root_giova, GIOVA, page_a, 1) ?:
		       guest_map(&t.g, root_gva, GVA, page_b, 1) ?:
		       guest_map(&t.g, root_new, GVA, page_e, 1),
		       "the guest's tables: GIOVA -> A, GVA -> B; another GVA -> E"))
		return;
	entries = guest_ptr(&t.g, table);
	entries[0] = root_giova | MOCK_PASID_ENTRY_PRESENT;
	entries[VPASID] = root_gva | MOCK_PASID_ENTRY_PRESENT;
	data.base = table;

	tap_is(ioasid_vfio_attach(t.vfd[0], pt), 0,
	       "attach the untagged DMA to the PASID-table child");
	tap_is(ioasid_bind_pasid_table(t.fd, pt, MOCK_PGTABLE_PASID_TABLE,
				       &data, sizeof(data)),
	       0, "bind the guest's PASID table at GPA 0x%llx, %d entries",
	       (unsigned long long)table, 1 << TABLE_BITS);

	fill(want, XFER, 8);
	tap_is(mock_dma(t.vfd[0], GIOVA, want, XFER, 1, NO_PASID), 0,
	       "untagged DMA writes at GIOVA (entry 0)");
	tap_ok(!memcmp(guest_ptr(&t.g, page_a), want, XFER),
	       "it landed in guest page A");
	fill(want, XFER, 9);
	tap_is(mock_dma(t.vfd[0], GVA, want, XFER, 1, VPASID), 0,
	       "PASID %d DMA writes at GVA (entry %d)", VPASID, VPASID);
	tap_ok(!memcmp(guest_ptr(&t.g, page_b), want, XFER) &&
	       all_bytes((__u8 *)guest_ptr(&t.g, page_b) + XFER,
			 GUEST_PAGE - XFER, 0),
	       "it landed in guest page B, and nothing past it");
	tap_is(mock_dma(t.vfd[0], GVA, buf, XFER, 0, VPASID_UNUSED), -EIO,
	       "PASID %d, whose entry is not present, faults", VPASID_UNUSED);
	tap_is(mock_dma(t.vfd[0], GVA, buf, XFER, 0, 1U << TABLE_BITS), -EIO,
	       "a PASID past the table faults");
	tap_is(mock_dma(t.vfd[0], GIOVA, buf, XFER, 0, VPASID), -EIO,
	       "PASID %d does not translate GIOVAs", VPASID);

	/* The process's table, bound where its vPASID is attached. */
	tap_is(ioasid_vfio_attach_pasid(t.vfd[0], gva, VPASID), 0,
	       "attach a GVA child under PASID %d", VPASID);
	tap_is(ioasid_bind_pgtable_vtd_s1(t.fd, gva, root_gva, 48, 0), 0,
	       "bind the process's table to it: tracked");
	tap_is(reads(0, GVA, VPASID, want), 0,
	       "PASID %d still walks the guest's PASID table: B", VPASID);

	/* A first-stage change, invalidated through the tracked child. */
	guest_map(&t.g, root_gva, GVA, page_c, 1);
	guest_map(&t.g, root_giova, GIOVA, page_d, 1);
	tap_is(reads(0, GVA, VPASID, want), 0,
	       "the guest moved GVA to C; the cached B is still used");
	tap_is(vtd_invalidate(gva, GVA, 1), 0,
	       "invalidate_cache of GVA on the GVA child");
	tap_is(reads(0, GVA, VPASID, guest_ptr(&t.g, page_c)), 0,
	       "PASID %d now reads C", VPASID);
	fill(buf, XFER, 8);
	tap_is(reads(0, GIOVA, NO_PASID, buf), 0,
	       "that did not reach the untagged DMA's cached A");
	tap_is(table_invalidate(pt, MOCK_INV_IOTLB, 0, GIOVA, 1), 0,
	       "invalidate_cache of GIOVA for PASID 0 on the table child");
	tap_is(reads(0, GIOVA, NO_PASID, guest_ptr(&t.g, page_d)), 0,
	       "untagged DMA now reads D");

	/* A PASID-table change: the PASID cache holds the old root. */
	entries[VPASID] = root_new | MOCK_PASID_ENTRY_PRESENT;
	tap_is(table_invalidate(pt, MOCK_INV_IOTLB, VPASID, 0, UINT64_MAX), 0,
	       "the guest points entry %d elsewhere; flush PASID %d's IOTLB only",
	       VPASID, VPASID);
	tap_is(reads(0, GVA, VPASID, guest_ptr(&t.g, page_c)), 0,
	       "the cached entry still leads to C");
	tap_is(table_invalidate(pt, MOCK_INV_PASID_CACHE, VPASID, 0, 0), 0,
	       "invalidate_cache of entry %d's PASID cache", VPASID);
	tap_is(reads(0, GVA, VPASID, guest_ptr(&t.g, page_e)), 0,
	       "PASID %d now walks the new first stage: E", VPASID);

	entries[VPASID] = 0;
	tap_is(table_invalidate(pt, MOCK_INV_PASID_CACHE, VPASID, 0, 0), 0,
	       "the guest clears entry %d and invalidates it", VPASID);
	tap_is(mock_dma(t.vfd[0], GVA, buf, XFER, 0, VPASID), -EIO,
	       "PASID %d faults", VPASID);

	tap_is(ioasid_unbind_pgtable(t.fd, gva), 0,
	       "unbind the tracked table");
	tap_is(ioasid_vfio_detach_pasid(t.vfd[0], gva, VPASID), 0,
	       "detach the GVA child");
	tap_is(ioasid_unbind_pasid_table(t.fd, pt), 0,
	       "unbind the PASID table");
	tap_is(mock_dma(t.vfd[0], GIOVA, buf, XFER, 0, NO_PASID), -EIO,
	       "untagged DMA reaches nothing");
}

/*
 * An invalidation array is done in order up to the first entry the IOMMU
 * refuses, and the count says how far it got.
 */
static void pasid_table_invalidation_array(void)
{
	struct mock_pasid_table data = { .pasid_bits = TABLE_BITS };
	struct mock_pasid_inv inv[3] = {
		{ .type = MOCK_INV_IOTLB, .pasid = VPASID, .npages = 1 },
		{ .type = MOCK_INV_PASID_CACHE, .pasid = 0 },
		{ .type = MOCK_INV_IOTLB, .pasid = VPASID, .npages = 1 },
	};
	__u32 pt, n;
	int ret;

	if (!vm(0) || !hw_child(&pt))
		return;
	data.base = guest_page(&t.g);
	if (!tap_setup(ioasid_vfio_attach(t.vfd[0], pt), "attach") ||
	    !tap_setup(ioasid_bind_pasid_table(t.fd, pt,
					       MOCK_PGTABLE_PASID_TABLE, &data,
					       sizeof(data)),
		       "bind a PASID table"))
		return;
	n = 3;
	ret = ioasid_invalidate_cache(t.fd, pt, inv, sizeof(inv[0]), &n);
	tap_ok(!ret && n == 3, "three good entries: ret %d, done %u", ret, n);
	inv[2].addr = 0x800;
	n = 3;
	ret = ioasid_invalidate_cache(t.fd, pt, inv, sizeof(inv[0]), &n);
	tap_ok(ret == -EINVAL && n == 2,
	       "an unaligned address in the third: -EINVAL after two: ret %d, done %u",
	       ret, n);
	inv[1].addr = GIOVA;
	n = 3;
	ret = ioasid_invalidate_cache(t.fd, pt, inv, sizeof(inv[0]), &n);
	tap_ok(ret == -EINVAL && n == 1,
	       "a PASID-cache entry with an address: -EINVAL after one: ret %d, done %u",
	       ret, n);
	inv[0].pasid = 1U << TABLE_BITS;
	n = 3;
	ret = ioasid_invalidate_cache(t.fd, pt, inv, sizeof(inv[0]), &n);
	tap_ok(ret == -EINVAL && n == 0,
	       "a PASID past the table in the first: -EINVAL, none done: ret %d, done %u",
	       ret, n);
	inv[0].pasid = VPASID;
	inv[0].type = 3;
	n = 1;
	ret = ioasid_invalidate_cache(t.fd, pt, inv, sizeof(inv[0]), &n);
	tap_ok(ret == -EINVAL && n == 0,
	       "an unknown type is -EINVAL: ret %d, done %u", ret, n);
	n = 1;
	ret = ioasid_invalidate_cache(t.fd, pt, &flush_all, sizeof(flush_all),
				      &n);
	tap_ok(ret && n == 0,
	       "a VT-d entry is not the table's format: ret %d, done %u", ret,
	       n);
}

static const struct tap_case cases[] = {
	TAP_CASE(extension_names_of_pasids),
	TAP_CASE(bad_fds_are_refused),
	TAP_CASE(errno_kept_on_failure),
	TAP_CASE(device_present),
	TAP_CASE(table_kind_checked_first),
	TAP_CASE(mock_devices_present),
	TAP_CASE(pasid_attach_rules),
	TAP_CASE(pasid_dma_reaches_its_ioasid),
	TAP_CASE(rfc_5_5_gva_under_vpasid),
	TAP_CASE(pasid_table_bind_rules),
	TAP_CASE(rfc_5_7_pasid_table),
	TAP_CASE(pasid_table_invalidation_array),
};

int main(void)
{
	int ret;

	t.ram = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t.ram == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	ret = tap_main(cases, TAP_NR_CASES(cases), reset);
	munmap(t.ram, GUEST_SIZE);
	return ret;
}
