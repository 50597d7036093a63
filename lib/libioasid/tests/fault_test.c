// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid tests: I/O page faults. ioasid_fault_ring_setup() and
 * ioasid_fault_ring_free(), the ring as mapped (ioasid_fault_peek(),
 * ioasid_fault_peek_batch(), ioasid_fault_advance(), ioasid_fault_lost())
 * and ioasid_page_respond().
 *
 * The cases before mock_devices_present need no device: the answers to
 * bad file descriptors and NULL pointers, what setup checks of its
 * entries, eventfd and IOASIDs, the mapping and the header the kernel
 * writes, answers to cookies no ring issued, and the hold a ring has on
 * its IOASIDs. The rest need the mock IOMMU's VFIO devices of a test
 * kernel (CONFIG_IOASID_TEST_VFIO), whose DMA, asked for with
 * MOCK_VFIO_DMA_PRI, raises a page request where a first stage the user
 * owns has no entry, and waits for the answer. With them, the whole
 * flow: a guest process's GVAs under a vPASID (RFC 5.5), a DMA from a
 * second thread into a page the guest has not mapped, the record it
 * posts, the guest mapping the page, the invalidation, the answer, and
 * the DMA's bytes where they belong. Without mock devices those cases
 * say SKIP.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "libioasid.h"
#include "mock.h"
#include "tap.h"

#define NO_MOCK		"no mock VFIO devices (CONFIG_IOASID_TEST_VFIO)"
#define LABEL		0xfa017ULL

#define RW		(IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE)

/* Guest RAM, at its guest physical address. */
#define GUEST_GPA	0x100000ULL
#define GUEST_SIZE	0x100000UL
/* The vPASID the guest gave its process, and the process's addresses. */
#define VPASID		5
#define GVA		0x7f0000004000ULL
/* Bytes per DMA: less than a page, so what lies past it can be checked. */
#define XFER		512
/* How long a page request may take to show up, or a DMA to end. */
#define WAIT_MS		10000

#define PAGE_SIZE_4K	4096U

/* What the cases share: set up by mock_devices_present() and vm(). */
static struct {
	int nr_mock;			/* mock VFIO devices found */
	char cdev[2][PATH_MAX];		/* up to two with PASIDs that nest */
	int nr_dev;

	void *ram;			/* guest RAM, GUEST_SIZE */
	struct guest g;
	int fd;
	int efd;			/* the eventfd of a case's ring */
	__u32 gpa;			/* maps guest RAM at GUEST_GPA */
	__u32 gva;			/* hardware-nested, under VPASID */
	__u64 root;			/* the guest process's table */
	int vfd[2];			/* the devices, bound to fd */
	__u32 dev_id[2];
	struct ioasid_fault_ring ring;	/* a device case's ring */
	int have_ring;
} t = { .fd = -1, .efd = -1, .vfd = { -1, -1 } };

/* @len bytes of a pattern that differs for each @seed. */
static void fill(__u8 *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (__u8)(i * 11 + seed * 37 + 3);
}

static int all_bytes(const __u8 *p, size_t len, __u8 v)
{
	while (len--)
		if (*p++ != v)
			return 0;
	return 1;
}

/* An ioasid fd for a case, or bail out: nothing could pass. */
static int device_fd(void)
{
	int fd = ioasid_open();

	if (fd < 0)
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));
	return fd;
}

static int new_eventfd(void)
{
	int efd = eventfd(0, EFD_CLOEXEC);

	if (efd < 0)
		tap_bail("eventfd: %s", strerror(errno));
	return efd;
}

/*
 * After each case. The ring goes first: freeing it answers what still
 * waits, and its mapping would keep the ioasid file open past close().
 */
static void reset(void)
{
	int i;

	if (t.have_ring)
		ioasid_fault_ring_free(&t.ring);
	t.have_ring = 0;
	for (i = 0; i < 2; i++) {
		if (t.vfd[i] >= 0)
			close(t.vfd[i]);
		t.vfd[i] = -1;
	}
	if (t.fd >= 0)
		close(t.fd);
	t.fd = -1;
	if (t.efd >= 0)
		close(t.efd);
	t.efd = -1;
}

static void extension_name_of_fault_rings(void)
{
	const char *name;

	name = ioasid_extension_name(IOASID_EXT_FAULT_RING);
	tap_ok(name && !strcmp(name, "fault_ring"),
	       "extension_name(IOASID_EXT_FAULT_RING) is \"fault_ring\"");
}

/*
 * A ring struct that was never set up, or was freed, is refused by the
 * calls that read the mapping; the ioctls go to its fd as they are.
 */
static void bad_fds_are_refused(void)
{
	struct ioasid_page_response resp = { .cookie = 1 };
	const struct ioasid_fault_record *rec = NULL;
	struct ioasid_fault_ring ring;
	unsigned int answered = 7;
	__u32 id = 1;
	int null_fd;

	memset(&ring, 0, sizeof(ring));
	ring.fd = -1;
	tap_is(ioasid_fault_ring_setup(-1, 2, -1, &id, 1, &ring), -EBADF,
	       "fault_ring_setup on fd -1 is -EBADF");
	tap_is(ioasid_page_respond(&ring, &resp, 1, &answered), -EBADF,
	       "page_respond on a ring of fd -1 is -EBADF");
	tap_is(answered, 0, "... and says nothing was answered");
	tap_is(ioasid_fault_ring_free(&ring), -EBADF,
	       "fault_ring_free of a ring of fd -1 is -EBADF");
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		tap_bail("cannot open /dev/null: %s", strerror(errno));
	tap_is(ioasid_fault_ring_setup(null_fd, 2, -1, &id, 1, &ring),
	       -ENOTTY, "fault_ring_setup on /dev/null is -ENOTTY");
	ring.fd = null_fd;
	tap_is(ioasid_page_respond(&ring, &resp, 1, NULL), -ENOTTY,
	       "page_respond on a ring of /dev/null is -ENOTTY");
	tap_is(ioasid_fault_ring_free(&ring), -ENOTTY,
	       "fault_ring_free of a ring of /dev/null is -ENOTTY");
	close(null_fd);

	tap_is(ioasid_fault_ring_setup(-1, 2, -1, &id, 1, NULL), -EINVAL,
	       "fault_ring_setup with a NULL ring is -EINVAL");
	tap_is(ioasid_fault_ring_free(NULL), -EINVAL,
	       "fault_ring_free(NULL) is -EINVAL");
	tap_is(ioasid_page_respond(NULL, &resp, 1, NULL), -EINVAL,
	       "page_respond(NULL) is -EINVAL");
	tap_is(ioasid_fault_peek(&ring, &rec), -EINVAL,
	       "peek on a ring that is not mapped is -EINVAL");
	tap_is(ioasid_fault_peek_batch(&ring, &rec, 1), -EINVAL,
	       "peek_batch on a ring that is not mapped is -EINVAL");
	tap_is(ioasid_fault_lost(&ring), 0,
	       "lost of a ring that is not mapped is 0");
	ioasid_fault_advance(&ring, 1);
	ioasid_fault_advance(NULL, 1);
	tap_ok(!ring.head && !ring.map,
	       "advance of a ring that is not mapped does nothing");
}

static void errno_kept_on_failure(void)
{
	struct ioasid_page_response resp = { .cookie = 1 };
	const struct ioasid_fault_record *rec;
	struct ioasid_fault_ring ring;
	__u32 id = 1;
	int kept;

	memset(&ring, 0, sizeof(ring));
	ring.fd = -1;
	errno = EDOM;
	kept = ioasid_fault_ring_setup(-1, 2, -1, &id, 1, &ring) == -EBADF &&
	       errno == EDOM;
	kept &= ioasid_page_respond(&ring, &resp, 1, NULL) == -EBADF &&
		errno == EDOM;
	kept &= ioasid_fault_peek(&ring, &rec) == -EINVAL && errno == EDOM;
	kept &= ioasid_fault_ring_free(&ring) == -EBADF && errno == EDOM;
	tap_ok(kept, "a failing call of each leaves errno as it was");
}

/* From here on /dev/ioasid is needed. */
static void device_present(void)
{
	int fd = ioasid_open();

	if (!tap_ok(fd >= 0, "ioasid_open"))
		tap_bail("cannot open /dev/ioasid: %s", strerror(-fd));
	tap_is(ioasid_check_extension(fd, IOASID_EXT_FAULT_RING), 1,
	       "IOASID_EXT_FAULT_RING is supported");
	close(fd);
}

/* Entries are a power of two, 2 to IOASID_FAULT_RING_MAX_ENTRIES. */
static void setup_checks_entries(void)
{
	static const unsigned int bad[] = {
		0, 1, 3, 6, 4095, IOASID_FAULT_RING_MAX_ENTRIES + 1,
		IOASID_FAULT_RING_MAX_ENTRIES * 2, UINT32_MAX,
	};
	static const unsigned int good[] = {
		2, 64, IOASID_FAULT_RING_MAX_ENTRIES,
	};
	struct ioasid_fault_ring ring;
	int fd = device_fd(), efd = new_eventfd();
	unsigned int i;
	__u32 a;

	if (!tap_setup(ioasid_alloc(fd, &a), "alloc"))
		goto out;
	for (i = 0; i < TAP_NR_CASES(bad); i++)
		tap_is(ioasid_fault_ring_setup(fd, bad[i], efd, &a, 1, &ring),
		       -EINVAL, "%u entries is -EINVAL", bad[i]);
	for (i = 0; i < TAP_NR_CASES(good); i++) {
		if (!tap_is(ioasid_fault_ring_setup(fd, good[i], efd, &a, 1,
						    &ring),
			    0, "%u entries", good[i]))
			continue;
		tap_ok(ring.mask == good[i] - 1,
		       "... make a ring of mask %u", ring.mask);
		tap_is(ioasid_fault_ring_free(&ring), 0, "... freed");
	}
	tap_is(ioasid_free(fd, a), 0,
	       "no failed setup kept a hold on the IOASID");
out:
	close(efd);
	close(fd);
}

/*
 * The eventfd must be one: a number that is no open file, and a file
 * that is no eventfd, are refused.
 */
static void setup_checks_eventfd(void)
{
	struct ioasid_fault_ring ring;
	int fd = device_fd(), null_fd, closed;
	__u32 a;

	if (!tap_setup(ioasid_alloc(fd, &a), "alloc"))
		goto out;
	tap_is(ioasid_fault_ring_setup(fd, 8, -1, &a, 1, &ring), -EBADF,
	       "eventfd -1 is -EBADF");
	closed = new_eventfd();
	close(closed);
	tap_is(ioasid_fault_ring_setup(fd, 8, closed, &a, 1, &ring), -EBADF,
	       "a closed eventfd is -EBADF");
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		tap_bail("cannot open /dev/null: %s", strerror(errno));
	tap_is(ioasid_fault_ring_setup(fd, 8, null_fd, &a, 1, &ring),
	       -EINVAL, "a file that is no eventfd is -EINVAL");
	tap_is(ioasid_fault_ring_setup(fd, 8, fd, &a, 1, &ring), -EINVAL,
	       "the ioasid fd itself as the eventfd is -EINVAL");
	close(null_fd);
	tap_is(ioasid_free(fd, a), 0, "no failed setup kept the IOASID");
out:
	close(fd);
}

/*
 * One to IOASID_FAULT_RING_MAX_IOASIDS IOASIDs of this fd, none twice,
 * none in another ring; a failed setup holds none of them.
 */
static void setup_checks_ioasids(void)
{
	__u32 ids[IOASID_FAULT_RING_MAX_IOASIDS + 1], pair[2];
	struct ioasid_fault_ring ring, other;
	int fd = device_fd(), efd = new_eventfd();
	unsigned int i;
	int ok = 1;

	for (i = 0; i < TAP_NR_CASES(ids) && ok; i++)
		ok = tap_setup(ioasid_alloc(fd, &ids[i]), "alloc %u", i);
	if (!ok)
		goto out;

	tap_is(ioasid_fault_ring_setup(fd, 8, efd, ids, 0, &ring), -EINVAL,
	       "no IOASID is -EINVAL");
	tap_is(ioasid_fault_ring_setup(fd, 8, efd, ids, TAP_NR_CASES(ids),
				       &ring),
	       -EINVAL, "%u IOASIDs, one past the most, is -EINVAL",
	       (unsigned int)TAP_NR_CASES(ids));
	tap_is(ioasid_fault_ring_setup(fd, 8, efd, NULL, 1, &ring), -EFAULT,
	       "a NULL list is -EFAULT");
	pair[0] = ids[0];
	pair[1] = 0xdead;
	tap_is(ioasid_fault_ring_setup(fd, 8, efd, pair, 2, &ring), -ENOENT,
	       "an unknown IOASID is -ENOENT");
	pair[1] = 0;
	tap_is(ioasid_fault_ring_setup(fd, 8, efd, pair, 2, &ring), -ENOENT,
	       "IOASID 0 is -ENOENT");
	pair[1] = ids[0];
	tap_is(ioasid_fault_ring_setup(fd, 8, efd, pair, 2, &ring), -EINVAL,
	       "the same IOASID twice in the list is -EINVAL");

	if (!tap_is(ioasid_fault_ring_setup(fd, 8, efd, ids,
					    IOASID_FAULT_RING_MAX_IOASIDS,
					    &ring),
		    0, "a ring for %d IOASIDs", IOASID_FAULT_RING_MAX_IOASIDS))
		goto out;
	pair[0] = ids[IOASID_FAULT_RING_MAX_IOASIDS];
	pair[1] = ids[3];
	tap_is(ioasid_fault_ring_setup(fd, 8, efd, pair, 2, &other), -EBUSY,
	       "an IOASID that reports into another ring is -EBUSY");
	tap_is(ioasid_fault_ring_setup(fd, 8, efd, pair, 1, &other), 0,
	       "the other IOASID of that list was not held: it gets a ring");
	tap_ok(other.ring_id != ring.ring_id,
	       "the two rings have ids of their own (%u, %u)", ring.ring_id,
	       other.ring_id);
	tap_ok(other.map != ring.map && other.map_offset != ring.map_offset &&
	       other.map_size == ring.map_size,
	       "and mappings of their own, at other offsets, of one size");
	tap_is(ioasid_fault_ring_free(&other), 0, "free the second ring");
	tap_is(ioasid_fault_ring_free(&ring), 0, "free the first ring");
	tap_is(ioasid_fault_ring_setup(fd, 8, efd, pair, 2, &ring), 0,
	       "once freed, its IOASIDs report into a new ring");
	tap_is(ioasid_fault_ring_free(&ring), 0, "free it");
out:
	close(efd);
	close(fd);
}

/*
 * What setup mapped: a header the kernel filled, a ring that starts
 * empty, records that fit, and an mmap offset and size as the kernel
 * gave them.
 */
static void ring_layout(void)
{
	const struct ioasid_fault_ring_header *h;
	const struct ioasid_fault_record *recs[4];
	const unsigned int entries = 256;
	struct ioasid_fault_ring ring;
	int fd = device_fd(), efd = new_eventfd();
	long page = sysconf(_SC_PAGESIZE);
	__u64 end;
	__u32 a;

	if (!tap_setup(ioasid_alloc(fd, &a), "alloc") ||
	    !tap_is(ioasid_fault_ring_setup(fd, entries, efd, &a, 1, &ring), 0,
		    "set up a ring of %u records", entries))
		goto out;
	h = ring.map;
	tap_diag("mmap size %zu, ring id %u; mask %u, record_size %u, records_offset %u",
		 ring.map_size, ring.ring_id, h->mask, h->record_size,
		 h->records_offset);
	tap_ok(ring.map && ring.fd == fd && ring.ring_id,
	       "the ring is mapped, on its fd, with a non-zero id");
	tap_ok(h->mask == entries - 1, "header mask is %u", entries - 1);
	tap_ok(h->record_size == sizeof(struct ioasid_fault_record),
	       "header record_size is sizeof(struct ioasid_fault_record), %zu",
	       sizeof(struct ioasid_fault_record));
	tap_ok(h->records_offset >= sizeof(*h) && !(h->records_offset % 8),
	       "records start past the %zu-byte header, 8-byte aligned",
	       sizeof(*h));
	end = h->records_offset + (__u64)entries * h->record_size;
	tap_ok(end <= ring.map_size && ring.map_size % page == 0 &&
	       ring.map_offset % page == 0,
	       "the records fit the mapping, whose size and offset are pages");
	tap_ok(!h->head && !h->tail && !h->lost && !h->__reserved,
	       "head, tail, lost and the reserved word start at 0");
	tap_ok(ring.head == &h->head && ring.tail == &h->tail &&
	       ring.lost == &h->lost &&
	       ring.records == (unsigned char *)ring.map + h->records_offset,
	       "the ring struct points into the mapping");
	tap_ok(ring.mask == h->mask && ring.record_size == h->record_size,
	       "and holds the mask and record size");
	tap_is(ioasid_fault_peek(&ring, &recs[0]), -EAGAIN,
	       "peek on the empty ring is -EAGAIN");
	tap_is(ioasid_fault_peek_batch(&ring, recs, 4), 0,
	       "peek_batch on the empty ring finds 0");
	tap_is(ioasid_fault_peek_batch(&ring, NULL, 0), 0,
	       "peek_batch for 0 records needs no array");
	tap_is(ioasid_fault_peek_batch(&ring, NULL, 1), -EINVAL,
	       "peek_batch with a NULL array is -EINVAL");
	tap_is(ioasid_fault_peek(&ring, NULL), -EINVAL,
	       "peek with a NULL pointer is -EINVAL");
	tap_is(ioasid_fault_lost(&ring), 0, "nothing lost");
	tap_is(ioasid_fault_ring_free(&ring), 0, "fault_ring_free");
	tap_ok(!ring.map && !ring.head,
	       "the ring struct no longer points into a mapping");
	tap_is(ioasid_fault_ring_free(&ring), -ENOENT,
	       "fault_ring_free again is -ENOENT");
out:
	close(efd);
	close(fd);
}

/*
 * The kernel maps a ring only where, and only as large as, setup said;
 * a second mapping sees the same ring and outlives its free, after which
 * nothing maps there; a mapping outlives the fd it came from, and
 * fault_ring_free() unmaps even when the fd is gone.
 */
static void ring_mmap_rules(void)
{
	const struct ioasid_fault_ring_header *h, *h2;
	struct ioasid_fault_ring ring;
	int fd = device_fd(), efd = new_eventfd();
	long page = sysconf(_SC_PAGESIZE);
	size_t size;
	off_t off;
	void *p;
	__u32 a;

	if (!tap_setup(ioasid_alloc(fd, &a), "alloc") ||
	    !tap_setup(ioasid_fault_ring_setup(fd, 64, efd, &a, 1, &ring),
		       "set up a ring"))
		goto out;
	h = ring.map;
	off = (off_t)ring.map_offset;
	p = mmap(NULL, ring.map_size, PROT_READ, MAP_SHARED, fd, off);
	tap_ok(p != MAP_FAILED, "a second mapping at the ring's offset");
	if (p != MAP_FAILED) {
		h2 = p;
		tap_ok(h2->mask == h->mask &&
		       h2->records_offset == h->records_offset,
		       "shows the same header");
		munmap(p, ring.map_size);
	}
	p = mmap(NULL, ring.map_size + page, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, off);
	tap_ok(p == MAP_FAILED, "a mapping larger than the ring fails");
	if (p != MAP_FAILED)
		munmap(p, ring.map_size + page);
	if (ring.map_size > (size_t)page) {
		p = mmap(NULL, ring.map_size - page, PROT_READ, MAP_SHARED,
			 fd, off);
		tap_ok(p == MAP_FAILED, "so does a smaller one");
		if (p != MAP_FAILED)
			munmap(p, ring.map_size - page);
	}
	p = mmap(NULL, ring.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 off + 64 * (off_t)page);
	tap_ok(p == MAP_FAILED, "a mapping at an offset of no ring fails");
	if (p != MAP_FAILED)
		munmap(p, ring.map_size);

	/* A mapping of a freed ring stays, frozen; no new one is made. */
	size = ring.map_size;
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, off);
	if (!tap_setup(p == MAP_FAILED ? -errno : 0, "map the ring again") ||
	    !tap_setup(ioasid_fault_ring_free(&ring), "free the ring"))
		goto out;
	h2 = p;
	tap_ok(h2->mask == 63, "a mapping kept past the free still reads");
	munmap(p, size);
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, off);
	tap_ok(p == MAP_FAILED, "the freed ring's offset maps nothing");
	if (p != MAP_FAILED)
		munmap(p, size);

	/* The mapping holds the file: the ring lives on after close(fd). */
	if (!tap_setup(ioasid_fault_ring_setup(fd, 64, efd, &a, 1, &ring),
		       "set up a ring again"))
		goto out;
	h = ring.map;
	close(fd);
	fd = -1;
	tap_ok(h->mask == 63 && h->head == h->tail,
	       "after close(fd) the mapping still shows the ring");
	tap_is(ioasid_fault_ring_free(&ring), -EBADF,
	       "fault_ring_free after close(fd) is -EBADF");
	tap_ok(!ring.map, "but it unmapped the ring all the same");
out:
	close(efd);
	if (fd >= 0)
		close(fd);
}

/*
 * Answers to cookies the ring never issued answer nothing: the call
 * succeeds and says so per entry. The count is checked as a whole.
 */
static void respond_to_unknown_cookies(void)
{
	struct ioasid_page_response resp[3] = {
		{ .cookie = 1, .code = IOASID_PAGE_RESP_SUCCESS },
		{ .cookie = 0, .code = IOASID_PAGE_RESP_INVALID },
		{ .cookie = UINT64_MAX, .code = IOASID_PAGE_RESP_FAILURE },
	};
	struct ioasid_page_response *many;
	struct ioasid_fault_ring ring;
	int fd = device_fd(), efd = new_eventfd();
	unsigned int answered, i;
	__u32 a;

	many = calloc(IOASID_FAULT_RING_MAX_ENTRIES + 1, sizeof(*many));
	if (!many)
		tap_bail("calloc: %s", strerror(errno));
	if (!tap_setup(ioasid_alloc(fd, &a), "alloc") ||
	    !tap_setup(ioasid_fault_ring_setup(fd, 8, efd, &a, 1, &ring),
		       "set up a ring"))
		goto out;
	for (i = 0; i < 3; i++)
		resp[i].out_result = 1;
	answered = 7;
	tap_is(ioasid_page_respond(&ring, resp, 3, &answered), 0,
	       "page_respond with three unknown cookies succeeds");
	tap_is(answered, 0, "... and answered none");
	tap_ok(resp[0].out_result == -ENOENT &&
	       resp[1].out_result == -ENOENT &&
	       resp[2].out_result == -ENOENT,
	       "each entry says -ENOENT: %d %d %d", resp[0].out_result,
	       resp[1].out_result, resp[2].out_result);
	tap_ok(resp[0].cookie == 1 && resp[1].code == IOASID_PAGE_RESP_INVALID,
	       "the rest of each entry is left as it was");
	tap_is(ioasid_page_respond(&ring, resp, 0, &answered), -EINVAL,
	       "no entries is -EINVAL");
	tap_is(ioasid_page_respond(&ring, many,
				   IOASID_FAULT_RING_MAX_ENTRIES + 1,
				   &answered),
	       -EINVAL, "%d entries, one past the most, is -EINVAL",
	       IOASID_FAULT_RING_MAX_ENTRIES + 1);
	tap_is(ioasid_page_respond(&ring, many, IOASID_FAULT_RING_MAX_ENTRIES,
				   &answered),
	       0, "%d entries, the most, succeed", IOASID_FAULT_RING_MAX_ENTRIES);
	tap_ok(!answered && many[0].out_result == -ENOENT &&
	       many[IOASID_FAULT_RING_MAX_ENTRIES - 1].out_result == -ENOENT,
	       "... answering none of them");
	tap_is(ioasid_page_respond(&ring, NULL, 1, &answered), -EFAULT,
	       "a NULL array is -EFAULT");
	tap_is(ioasid_fault_ring_free(&ring), 0, "free the ring");
	tap_is(ioasid_page_respond(&ring, resp, 1, &answered), -ENOENT,
	       "page_respond on a freed ring is -ENOENT");
out:
	free(many);
	close(efd);
	close(fd);
}

/* A ring holds its IOASIDs: they cannot be freed until it is. */
static void ring_holds_its_ioasids(void)
{
	struct ioasid_fault_ring ring;
	int fd = device_fd(), efd = new_eventfd();
	__u32 ids[2];

	if (!tap_setup(ioasid_alloc(fd, &ids[0]), "alloc") ||
	    !tap_setup(ioasid_alloc(fd, &ids[1]), "alloc") ||
	    !tap_setup(ioasid_fault_ring_setup(fd, 4, efd, ids, 2, &ring),
		       "set up a ring for two IOASIDs"))
		goto out;
	tap_is(ioasid_free(fd, ids[0]), -EBUSY,
	       "free of the ring's first IOASID is -EBUSY");
	tap_is(ioasid_free(fd, ids[1]), -EBUSY,
	       "free of its second IOASID is -EBUSY");
	tap_is(ioasid_fault_ring_free(&ring), 0, "free the ring");
	tap_is(ioasid_free(fd, ids[0]), 0, "now the first IOASID frees");
	tap_is(ioasid_free(fd, ids[1]), 0, "and the second");
	tap_is(ioasid_fault_ring_setup(fd, 4, efd, ids, 1, &ring), -ENOENT,
	       "a ring for a freed IOASID is -ENOENT");
out:
	close(efd);
	close(fd);
}

/*
 * Find the mock VFIO devices whose IOMMU nests with VT-d first stages
 * and gives PASIDs: the cases after this one need at least one, the
 * batch case two. A kernel without mock devices skips them all; one
 * whose mock devices cannot do this fails.
 */
static void mock_devices_present(void)
{
	struct ioasid_cmd_device_get_info info;
	struct mock_name devs[MOCK_VFIO_MAX];
	int fd, vfd, i, ret, pri = 0;
	__u32 id;

	t.nr_mock = mock_vfio_find(devs, MOCK_VFIO_MAX);
	if (!t.nr_mock) {
		tap_skip(NO_MOCK, "mock VFIO devices are there");
		return;
	}
	fd = device_fd();
	for (i = 0; i < t.nr_mock && t.nr_dev < 2; i++) {
		vfd = open(devs[i].cdev, O_RDWR | O_CLOEXEC);
		if (vfd < 0)
			continue;
		ret = ioasid_vfio_bind(vfd, fd, LABEL, &id);
		ret = ret ?: ioasid_device_get_info(fd, id, &info);
		if (!ret && info.out_pasid_bits &&
		    info.out_pgtable_formats & 1U << IOASID_PGTABLE_VTD_S1) {
			snprintf(t.cdev[t.nr_dev++], sizeof(t.cdev[0]), "%s",
				 devs[i].cdev);
			pri += !!(info.out_capabilities &
				  IOASID_DEVICE_CAP_PAGE_REQUESTS);
		}
		close(vfd);
	}
	close(fd);
	tap_diag("%d mock VFIO devices: %d nest with PASIDs, %d ask for pages",
		 t.nr_mock, t.nr_dev, pri);
	tap_ok(t.nr_dev == 2,
	       "two mock devices tag DMA with PASIDs and walk VT-d first stages");
	tap_ok(pri == t.nr_dev && pri,
	       "they report IOASID_DEVICE_CAP_PAGE_REQUESTS");
}

/*
 * The start of a device case: a fresh fd; guest RAM mapped at its GPA in
 * the GPA IOASID, which the devices' untagged DMA is attached to; a
 * hardware-nested GVA child attached under VPASID on @nr devices, with
 * the guest process's table bound: an empty one, so every GVA faults.
 * Returns 0 after a SKIP or a failed step.
 */
static int vm(int nr)
{
	int i, ret;

	if (!t.nr_mock) {
		tap_skip(NO_MOCK, "needs mock VFIO devices");
		return 0;
	}
	if (!tap_setup(t.nr_dev >= nr ? 0 : -ENODEV,
		       "%d mock device%s with PASIDs", nr, nr > 1 ? "s" : ""))
		return 0;
	t.fd = device_fd();
	memset(t.ram, 0, GUEST_SIZE);
	guest_init(&t.g, t.ram, GUEST_GPA, GUEST_SIZE);
	ret = ioasid_alloc(t.fd, &t.gpa);
	ret = ret ?: ioasid_dma_map(t.fd, t.gpa, t.ram, GUEST_GPA, GUEST_SIZE,
				    RW);
	if (!tap_setup(ret, "map guest RAM at its GPA"))
		return 0;
	if (!tap_setup(ioasid_create_nesting(t.fd, t.gpa,
					     IOASID_NESTING_HARDWARE, &t.gva),
		       "create a hardware-nested GVA child"))
		return 0;
	for (i = 0; i < nr; i++) {
		t.vfd[i] = open(t.cdev[i], O_RDWR | O_CLOEXEC);
		if (!tap_setup(t.vfd[i] < 0 ? -errno : 0, "open %s",
			       t.cdev[i]))
			return 0;
		ret = ioasid_vfio_bind(t.vfd[i], t.fd, LABEL + i,
				       &t.dev_id[i]);
		ret = ret ?: ioasid_vfio_attach(t.vfd[i], t.gpa);
		ret = ret ?: ioasid_vfio_attach_pasid(t.vfd[i], t.gva, VPASID);
		if (!tap_setup(ret, "bind mock device %d, attach it to GPA and its PASID %d to GVA",
			       i, VPASID))
			return 0;
	}
	t.root = guest_page(&t.g);
	if (!tap_setup(t.root ? 0 : -ENOMEM, "the guest's root table") ||
	    !tap_setup(ioasid_bind_pgtable_vtd_s1(t.fd, t.gva, t.root, 48, 0),
		       "bind the process's (empty) table"))
		return 0;
	t.efd = new_eventfd();
	return 1;
}

/* A device case's ring, for the GVA IOASID, which reset() frees. */
static int case_ring(unsigned int entries)
{
	int ret;

	ret = ioasid_fault_ring_setup(t.fd, entries, t.efd, &t.gva, 1,
				      &t.ring);
	t.have_ring = !ret;
	return tap_setup(ret, "set up a ring of %u for the GVA IOASID",
			 entries);
}

/* The case frees its ring itself. */
static int case_ring_free(void)
{
	t.have_ring = 0;
	return ioasid_fault_ring_free(&t.ring);
}

/* A DMA in a thread of its own, since a page request makes it wait. */
struct dma_job {
	pthread_t thread;
	int vfd;
	__u64 iova;
	__u8 buf[XFER];
	int write;
	int ret;
	int done;
	int started;
};

static void *dma_thread(void *arg)
{
	struct dma_job *job = arg;

	job->ret = mock_dma_pri(job->vfd, job->iova, job->buf, XFER,
				job->write, VPASID);
	__atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int dma_start(struct dma_job *job, int i, __u64 iova, int write,
		     unsigned int seed)
{
	int ret;

	job->vfd = t.vfd[i];
	job->iova = iova;
	job->write = write;
	job->done = 0;
	job->ret = -EINPROGRESS;
	if (write)
		fill(job->buf, XFER, seed);
	else
		memset(job->buf, 0, XFER);
	ret = -pthread_create(&job->thread, NULL, dma_thread, job);
	job->started = !ret;
	return ret;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Whether the DMA ended within @ms; it is joined if it did. */
static int dma_ended(struct dma_job *job, long ms)
{
	for (; ms >= 0; ms -= 5) {
		if (__atomic_load_n(&job->done, __ATOMIC_ACQUIRE)) {
			pthread_join(job->thread, NULL);
			job->started = 0;
			return 1;
		}
		if (ms)
			sleep_ms(5);
	}
	return 0;
}

/*
 * A DMA still waiting at the end of a case: freeing the ring and closing
 * the fd answer it (as failed); wait for that so the next case starts
 * clean.
 */
static void dma_finish(struct dma_job *job)
{
	if (!job->started)
		return;
	reset();
	if (!dma_ended(job, WAIT_MS))
		tap_bail("a DMA still waits after its fd was closed");
}

/* Wait until the eventfd is signalled; reads (resets) it. */
static int eventfd_wait(int efd, long ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	__u64 count;

	if (poll(&pfd, 1, (int)ms) != 1)
		return 0;
	return read(efd, &count, sizeof(count)) == sizeof(count) && count;
}

/* The guest maps a fresh page at @gva and tells the IOMMU. */
static __u64 guest_fault_in(__u64 gva)
{
	struct vtd_s1_inv inv = { .addr = gva, .npages = 1 };
	__u64 page = guest_page(&t.g);
	__u32 n = 1;

	if (!page || guest_map(&t.g, t.root, gva, page, 1) ||
	    ioasid_invalidate_cache(t.fd, t.gva, &inv, sizeof(inv), &n))
		return 0;
	return page;
}

/*
 * The whole flow: a DMA to a GVA the guest has not mapped raises a page
 * request; the record names the IOASID, the device's label, the PASID,
 * the page and the access; the guest maps the page, the VMM invalidates
 * and answers, and the DMA goes through with its bytes where they
 * belong.
 */
static void page_request_served(void)
{
	const struct ioasid_fault_record *rec;
	struct ioasid_page_response resp;
	struct dma_job job = { 0 };
	const __u64 off = 0x10;
	unsigned int answered;
	__u8 back[XFER];
	__u64 page, cookie;

	if (!vm(1) || !case_ring(16))
		return;
	if (!tap_setup(dma_start(&job, 0, GVA + off, 1, 1),
		       "start a DMA thread"))
		goto out;
	tap_ok(eventfd_wait(t.efd, WAIT_MS),
	       "a DMA write to an unmapped GVA signals the ring's eventfd");
	tap_ok(!dma_ended(&job, 0), "the DMA waits for the answer");
	if (!tap_is(ioasid_fault_peek(&t.ring, &rec), 0, "peek finds a record"))
		goto out;
	tap_diag("record: ioasid %u flags 0x%x label 0x%llx pasid %u access 0x%x",
		 rec->ioasid, rec->flags, (unsigned long long)rec->label,
		 rec->pasid, rec->access);
	tap_diag("        addr 0x%llx group %u cookie 0x%llx",
		 (unsigned long long)rec->addr, rec->group_id,
		 (unsigned long long)rec->cookie);
	tap_is(rec->ioasid, t.gva, "it names the GVA IOASID");
	tap_is(rec->label, LABEL, "the device's label, from its bind");
	tap_ok(rec->flags & IOASID_FAULT_PASID_VALID && rec->pasid == VPASID,
	       "PASID %d, marked valid", VPASID);
	tap_is(rec->addr, GVA, "the page of the faulting GVA");
	tap_ok(rec->access & IOASID_FAULT_WRITE,
	       "a write access (0x%x)", rec->access);
	tap_ok(rec->flags & IOASID_FAULT_LAST_IN_GROUP,
	       "the last (only) record of its group");
	tap_ok(!rec->__reserved, "its reserved word is 0");
	cookie = rec->cookie;
	ioasid_fault_advance(&t.ring, 1);
	tap_is(ioasid_fault_peek(&t.ring, &rec), -EAGAIN,
	       "the ring is empty once it is advanced");
	tap_ok(*t.ring.head == *t.ring.tail && *t.ring.head == 1,
	       "head and tail are both 1");

	page = guest_fault_in(GVA);
	tap_ok(page, "the guest maps the page and the VMM invalidates");
	resp = (struct ioasid_page_response){
		.cookie = cookie,
		.code = IOASID_PAGE_RESP_SUCCESS,
		.out_result = 1,
	};
	tap_is(ioasid_page_respond(&t.ring, &resp, 1, &answered), 0,
	       "answer SUCCESS");
	tap_ok(answered == 1 && !resp.out_result,
	       "... which answered the group: %u, %d", answered,
	       resp.out_result);
	if (!tap_ok(dma_ended(&job, WAIT_MS), "the DMA ends"))
		goto out;
	tap_is(job.ret, 0, "and succeeds");
	tap_ok(page && !memcmp((__u8 *)guest_ptr(&t.g, page) + off, job.buf,
			       XFER) &&
	       all_bytes(guest_ptr(&t.g, page), off, 0) &&
	       all_bytes((__u8 *)guest_ptr(&t.g, page) + off + XFER,
			 GUEST_PAGE - off - XFER, 0),
	       "its %d bytes landed in the guest's new page, at its offset, and nothing else",
	       XFER);
	tap_is(mock_dma(t.vfd[0], GVA + off, back, XFER, 0, VPASID), 0,
	       "a DMA read of them needs no page request now");
	tap_ok(!memcmp(back, job.buf, XFER), "and reads them back");
	tap_is(ioasid_fault_peek(&t.ring, &rec), -EAGAIN, "no new record");
	tap_is(ioasid_page_respond(&t.ring, &resp, 1, &answered), 0,
	       "answering the group again succeeds");
	tap_ok(!answered && resp.out_result == -EALREADY,
	       "but answers nothing: -EALREADY (%u, %d)", answered,
	       resp.out_result);
	tap_is(ioasid_fault_lost(&t.ring), 0, "nothing was lost");
	tap_is(case_ring_free(), 0, "free the ring");
out:
	dma_finish(&job);
}

/* An answer other than SUCCESS fails the DMA, and no byte moves. */
static void page_request_refused(void)
{
	const struct ioasid_fault_record *rec;
	struct ioasid_page_response resp = { .code = IOASID_PAGE_RESP_INVALID };
	struct dma_job job = { 0 };
	unsigned int answered;

	if (!vm(1) ||
	    !case_ring(4) ||
	    !tap_setup(dma_start(&job, 0, GVA, 0, 0), "start a DMA thread"))
		goto out;
	tap_ok(eventfd_wait(t.efd, WAIT_MS), "a DMA read signals the ring");
	if (!tap_is(ioasid_fault_peek(&t.ring, &rec), 0, "peek finds a record"))
		goto out;
	tap_ok(rec->access & IOASID_FAULT_READ &&
	       !(rec->access & IOASID_FAULT_WRITE),
	       "a read access (0x%x)", rec->access);
	resp.cookie = rec->cookie;
	ioasid_fault_advance(&t.ring, 1);
	resp.code = 3;
	tap_is(ioasid_page_respond(&t.ring, &resp, 1, &answered), 0,
	       "an answer with an unknown code");
	tap_ok(!answered && resp.out_result == -EINVAL,
	       "answers nothing: -EINVAL (%u, %d)", answered,
	       resp.out_result);
	resp.code = IOASID_PAGE_RESP_INVALID;
	tap_is(ioasid_page_respond(&t.ring, &resp, 1, &answered), 0,
	       "answer INVALID");
	tap_ok(answered == 1 && !resp.out_result, "which answered the group");
	if (!tap_ok(dma_ended(&job, WAIT_MS), "the DMA ends"))
		goto out;
	tap_is(job.ret, -EIO, "with -EIO");
	tap_ok(all_bytes(job.buf, XFER, 0), "and read nothing");
	case_ring_free();
out:
	dma_finish(&job);
}

/*
 * Without a ring the page request fails at once; freeing a ring fails
 * the requests still waiting for an answer.
 */
static void requests_without_a_ring_fail(void)
{
	struct dma_job job = { 0 };
	__u8 buf[XFER];

	if (!vm(1) || !tap_setup(dma_start(&job, 0, GVA, 1, 2),
				 "start a DMA thread"))
		goto out;
	if (tap_ok(dma_ended(&job, WAIT_MS),
		   "with no ring, a DMA that asks for a page ends"))
		tap_is(job.ret, -EIO, "with -EIO");
	tap_ok(!eventfd_wait(t.efd, 0), "no eventfd was signalled");

	if (!case_ring(4))
		goto out;
	tap_is(mock_dma(t.vfd[0], GVA, buf, XFER, 0, VPASID), -EIO,
	       "a DMA that does not ask for pages faults at once");
	tap_ok(!eventfd_wait(t.efd, 0) && *t.ring.tail == 0,
	       "and posts nothing");
	if (!tap_setup(dma_start(&job, 0, GVA, 1, 3), "start a DMA thread"))
		goto out;
	tap_ok(eventfd_wait(t.efd, WAIT_MS), "a DMA that asks is posted");
	tap_ok(!dma_ended(&job, 0), "and waits");
	tap_is(case_ring_free(), 0,
	       "free the ring with its request unanswered");
	if (tap_ok(dma_ended(&job, WAIT_MS), "the DMA ends"))
		tap_is(job.ret, -EIO, "with -EIO");
	tap_is(ioasid_free(t.fd, t.gva), -EBUSY,
	       "the GVA IOASID is still attached, so it cannot be freed");
out:
	dma_finish(&job);
}

/*
 * Two devices fault at once, into two pages: both groups are posted, the
 * guest maps both, one invalidation covers both, and one call answers
 * both.
 */
static void two_groups_one_answer(void)
{
	const struct ioasid_fault_record *recs[4];
	struct ioasid_page_response resp[2];
	struct dma_job job[2] = { 0 };
	struct vtd_s1_inv inv = { .addr = GVA, .npages = 4 };
	unsigned int answered, i, dev;
	__u64 page[2] = { 0 }, addr[2];
	__u32 n = 1;
	int got = 0, waited;

	if (!vm(2) || !case_ring(8))
		goto out;
	for (i = 0; i < 2; i++) {
		addr[i] = GVA + i * 2 * GUEST_PAGE;
		if (!tap_setup(dma_start(&job[i], i, addr[i], 1, 10 + i),
			       "start DMA thread %u", i))
			goto out;
	}
	for (waited = 0; waited < WAIT_MS && got < 2; waited += 50) {
		eventfd_wait(t.efd, 50);
		got = ioasid_fault_peek_batch(&t.ring, recs, 4);
	}
	if (!tap_is(got, 2, "peek_batch finds both records"))
		goto out;
	tap_ok(recs[0]->cookie != recs[1]->cookie,
	       "the two groups have cookies of their own");
	for (i = 0; i < 2; i++) {
		/* Each device's record, by its label, at its page. */
		dev = recs[i]->label == LABEL + 1;
		tap_ok(recs[i]->label == LABEL + dev &&
		       recs[i]->addr == addr[dev],
		       "record %u is device %u's, at its page", i, dev);
		page[dev] = guest_page(&t.g);
		if (page[dev])
			guest_map(&t.g, t.root, addr[dev], page[dev], 1);
		resp[i] = (struct ioasid_page_response){
			.cookie = recs[i]->cookie,
			.code = IOASID_PAGE_RESP_SUCCESS,
		};
	}
	ioasid_fault_advance(&t.ring, 2);
	tap_is(ioasid_invalidate_cache(t.fd, t.gva, &inv, sizeof(inv), &n), 0,
	       "one invalidation covers both pages");
	tap_is(ioasid_page_respond(&t.ring, resp, 2, &answered), 0,
	       "one call answers both");
	tap_is(answered, 2, "both groups answered");
	for (i = 0; i < 2; i++) {
		if (!tap_ok(dma_ended(&job[i], WAIT_MS), "DMA %u ends", i))
			continue;
		tap_is(job[i].ret, 0, "DMA %u succeeds", i);
		tap_ok(page[i] && !memcmp(guest_ptr(&t.g, page[i]), job[i].buf,
					  XFER),
		       "its bytes landed in its page");
	}
	tap_is(ioasid_fault_lost(&t.ring), 0, "nothing was lost");
	case_ring_free();
out:
	dma_finish(&job[0]);
	dma_finish(&job[1]);
}

static const struct tap_case cases[] = {
	TAP_CASE(extension_name_of_fault_rings),
	TAP_CASE(bad_fds_are_refused),
	TAP_CASE(errno_kept_on_failure),
	TAP_CASE(device_present),
	TAP_CASE(setup_checks_entries),
	TAP_CASE(setup_checks_eventfd),
	TAP_CASE(setup_checks_ioasids),
	TAP_CASE(ring_layout),
	TAP_CASE(ring_mmap_rules),
	TAP_CASE(respond_to_unknown_cookies),
	TAP_CASE(ring_holds_its_ioasids),
	TAP_CASE(mock_devices_present),
	TAP_CASE(page_request_served),
	TAP_CASE(page_request_refused),
	TAP_CASE(requests_without_a_ring_fail),
	TAP_CASE(two_groups_one_answer),
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
