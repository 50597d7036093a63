// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid: I/O page faults. A fault ring is set up by an ioctl and then
 * shared with the kernel through a mapping of the ioasid fd: the kernel
 * produces records and moves the tail, the user consumes them and moves
 * the head. Reading the ring takes no system call; answering does, one
 * per batch of answers.
 *
 * The ordering is the one the uAPI describes. The kernel writes records,
 * then stores the tail with release semantics; the consumer loads the
 * tail with acquire semantics, which makes the records before it visible,
 * reads them, and stores the head with release semantics, so the kernel
 * cannot see a slot given back before the consumer's reads of it are
 * done. The head is only ever written here, so the consumer reads its
 * own value without ordering.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>

#include "libioasid.h"
#include "private.h"

static int ioasid_fault_ring_free_id(int fd, __u32 ring_id)
{
	struct ioasid_cmd_fault_ring_free cmd = {
		.size = sizeof(cmd),
		.ring_id = ring_id,
	};

	return libioasid_ioctl(fd, IOASID_FAULT_RING_FREE, &cmd);
}

/*
 * Whether the header the kernel wrote describes a ring that fits in the
 * mapping and holds the records this library knows, @entries of them.
 * Read once, at setup: the mapping is writable, so the library keeps its
 * own copy of what it must trust.
 */
static int ioasid_fault_ring_check(const struct ioasid_fault_ring_header *h,
				   size_t map_size, unsigned int entries)
{
	__u64 end;

	if (map_size < sizeof(*h))
		return -EPROTO;
	if (h->mask != entries - 1 ||
	    h->record_size < sizeof(struct ioasid_fault_record) ||
	    h->record_size % sizeof(__u64) ||
	    h->records_offset < sizeof(*h) ||
	    h->records_offset % sizeof(__u64))
		return -EPROTO;
	end = h->records_offset + (__u64)entries * h->record_size;
	return end > map_size ? -EPROTO : 0;
}

int ioasid_fault_ring_setup(int fd, unsigned int entries, int eventfd,
			    const __u32 *ioasids, unsigned int num_ioasids,
			    struct ioasid_fault_ring *ring)
{
	struct ioasid_cmd_fault_ring_setup cmd = {
		.size = sizeof(cmd),
		.num_entries = entries,
		.eventfd = eventfd,
		.num_ioasids = num_ioasids,
		.ioasids_uptr = (uintptr_t)ioasids,
	};
	struct ioasid_fault_ring_header *h;
	int saved_errno, ret;
	void *map;

	/* Entries, eventfd and IOASIDs are the kernel's to judge. */
	if (!ring)
		return -EINVAL;
	ret = libioasid_ioctl(fd, IOASID_FAULT_RING_SETUP, &cmd);
	if (ret)
		return ret;

	if ((__u64)(off_t)cmd.out_mmap_offset != cmd.out_mmap_offset) {
		ret = -EOVERFLOW;
		goto out_free;
	}
	saved_errno = errno;
	map = mmap(NULL, cmd.out_mmap_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, (off_t)cmd.out_mmap_offset);
	if (map == MAP_FAILED)
		ret = -errno;
	errno = saved_errno;
	if (ret)
		goto out_free;

	h = map;
	ret = ioasid_fault_ring_check(h, cmd.out_mmap_size, entries);
	if (ret)
		goto out_unmap;

	memset(ring, 0, sizeof(*ring));
	ring->head = &h->head;
	ring->tail = &h->tail;
	ring->lost = &h->lost;
	ring->records = (unsigned char *)map + h->records_offset;
	ring->mask = h->mask;
	ring->record_size = h->record_size;
	ring->ring_id = cmd.out_ring_id;
	ring->fd = fd;
	ring->map = map;
	ring->map_size = cmd.out_mmap_size;
	ring->map_offset = cmd.out_mmap_offset;
	return 0;

out_unmap:
	saved_errno = errno;
	munmap(map, cmd.out_mmap_size);
	errno = saved_errno;
out_free:
	ioasid_fault_ring_free_id(fd, cmd.out_ring_id);
	return ret;
}

/*
 * The kernel's FREE answers the faults still waiting; the mapping holds a
 * reference on the ioasid file, so it goes too, whatever FREE said.
 */
int ioasid_fault_ring_free(struct ioasid_fault_ring *ring)
{
	int saved_errno, ret;

	if (!ring)
		return -EINVAL;
	ret = ioasid_fault_ring_free_id(ring->fd, ring->ring_id);
	if (ring->map) {
		saved_errno = errno;
		munmap(ring->map, ring->map_size);
		errno = saved_errno;
	}
	ring->head = NULL;
	ring->tail = NULL;
	ring->lost = NULL;
	ring->records = NULL;
	ring->map = NULL;
	ring->map_size = 0;
	return ret;
}

/* How many records wait, from the slot of the first; tail acquired. */
static unsigned int ioasid_fault_ready(const struct ioasid_fault_ring *ring,
				       __u32 *head)
{
	__u32 tail = __atomic_load_n(ring->tail, __ATOMIC_ACQUIRE);
	__u32 ready;

	*head = __atomic_load_n(ring->head, __ATOMIC_RELAXED);
	ready = tail - *head;
	/* Only a head the caller moved past the tail could make it more. */
	return ready > ring->mask + 1 ? 0 : ready;
}

static const struct ioasid_fault_record *
ioasid_fault_slot(const struct ioasid_fault_ring *ring, __u32 index)
{
	size_t off = (size_t)(index & ring->mask) * ring->record_size;

	return (const struct ioasid_fault_record *)(ring->records + off);
}

int ioasid_fault_peek(const struct ioasid_fault_ring *ring,
		      const struct ioasid_fault_record **rec)
{
	__u32 head;

	if (!ring || !ring->map || !rec)
		return -EINVAL;
	if (!ioasid_fault_ready(ring, &head))
		return -EAGAIN;
	*rec = ioasid_fault_slot(ring, head);
	return 0;
}

int ioasid_fault_peek_batch(const struct ioasid_fault_ring *ring,
			    const struct ioasid_fault_record **recs,
			    unsigned int max)
{
	unsigned int ready, i;
	__u32 head;

	if (!ring || !ring->map || (max && !recs))
		return -EINVAL;
	if (max > (unsigned int)INT32_MAX)
		max = INT32_MAX;
	ready = ioasid_fault_ready(ring, &head);
	if (ready > max)
		ready = max;
	for (i = 0; i < ready; i++)
		recs[i] = ioasid_fault_slot(ring, head + i);
	return (int)ready;
}

void ioasid_fault_advance(struct ioasid_fault_ring *ring, unsigned int n)
{
	__u32 head;

	if (!ring || !ring->map || !n)
		return;
	head = __atomic_load_n(ring->head, __ATOMIC_RELAXED);
	__atomic_store_n(ring->head, head + n, __ATOMIC_RELEASE);
}

__u64 ioasid_fault_lost(const struct ioasid_fault_ring *ring)
{
	if (!ring || !ring->map)
		return 0;
	return __atomic_load_n(ring->lost, __ATOMIC_RELAXED);
}

int ioasid_page_respond(const struct ioasid_fault_ring *ring,
			struct ioasid_page_response *entries,
			unsigned int num_entries, unsigned int *answered)
{
	struct ioasid_cmd_page_response cmd = {
		.size = sizeof(cmd),
		.num_entries = num_entries,
		.entries_uptr = (uintptr_t)entries,
	};
	int ret;

	/* The count and the array are the kernel's to judge. */
	if (!ring)
		return -EINVAL;
	cmd.ring_id = ring->ring_id;
	ret = libioasid_ioctl(ring->fd, IOASID_PAGE_RESPONSE, &cmd);
	if (answered)
		*answered = ret ? 0 : cmd.out_answered;
	return ret;
}
