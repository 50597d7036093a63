// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault rings: I/O page faults delivered to userspace through shared
 * memory, and the user's answers (RFC 5.6).
 *
 * The iommu core hands a group of page requests to the iopf_handler of
 * the domain the device faulted in, with the attach handle the domain was
 * attached under: device.c attaches every attachment (struct ioasid_attach)
 * with a handle embedded in it, so the handler finds the attachment, its
 * IOASID, and the ring that IOASID reports into. The group waits in the
 * ring's pending table, under a cookie, until the user answers it, the
 * attachment ends (device.c calls ioasid_fault_abort_attach() once the
 * domain is off the device, so no new fault can name it), or the ring
 * goes; exactly one of those answers it.
 *
 * A ring is an object of the fd, so it has an id, dies at close, and
 * holds references on its IOASIDs, which therefore outlive it; an IOASID
 * points back at its ring under ctx->fault_lock.
 *
 * Lock order: the fault handler is called with the mock's (or a real
 * driver's) device locks held, so ctx->fault_lock nests inside those and
 * under space->lock and igroup->lock (detach paths); it is taken alone
 * otherwise, and never with space->lock inside it.
 */
#include <linux/eventfd.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "ioasid_private.h"

/* A group waiting for its answer, and the cookie its records carry. */
struct ioasid_fault_pending {
	u64 cookie;
	struct iopf_group *group;	/* NULL: the slot is free */
};

struct ioasid_fault_ring {
	struct ioasid_object obj;
	struct ioasid_ctx *ctx;
	/* vmalloc()ed, zeroed: the header page, then the records */
	struct ioasid_fault_ring_header *header;
	struct ioasid_fault_record *records;
	size_t size;
	u32 num_entries;
	struct eventfd_ctx *eventfd;
	unsigned int num_spaces;
	struct ioasid_space **spaces;	/* held */
	/* The fields below, and the records, under ctx->fault_lock */
	u32 tail;			/* the kernel's copy: never read back */
	u64 last_cookie;		/* the last one issued; they only grow */
	/*
	 * The groups waiting for an answer, at most num_entries, each in
	 * slot cookie & (num_entries - 1): a lookup is an index, with no
	 * allocation or lock of its own on the fault path.
	 */
	struct ioasid_fault_pending *pending;
	u32 num_pending;
	bool dead;			/* being destroyed: post nothing */
};

/* Ring ids are object ids; an mmap() offset names one by its page. */
static u64 ioasid_fault_ring_offset(u32 id)
{
	return (u64)id << PAGE_SHIFT;
}

/* Answer the group in @slot for good and free it: the slot is free. */
static void ioasid_fault_answer(struct ioasid_fault_ring *ring,
				struct ioasid_fault_pending *slot,
				enum iommu_page_response_code code)
{
	struct iopf_group *group = slot->group;

	lockdep_assert_held(&ring->ctx->fault_lock);
	slot->group = NULL;
	ring->num_pending--;
	iopf_group_response(group, code);
	iopf_free_group(group);
}

static u32 ioasid_fault_access(u32 perm)
{
	u32 access = 0;

	if (perm & IOMMU_FAULT_PERM_READ)
		access |= IOASID_FAULT_READ;
	if (perm & IOMMU_FAULT_PERM_WRITE)
		access |= IOASID_FAULT_WRITE;
	if (perm & IOMMU_FAULT_PERM_EXEC)
		access |= IOASID_FAULT_EXEC;
	if (perm & IOMMU_FAULT_PERM_PRIV)
		access |= IOASID_FAULT_PRIV;
	return access;
}

/* Room for @n records? A @head the user corrupted reads as a full ring. */
static bool ioasid_fault_ring_has_room(struct ioasid_fault_ring *ring,
				       unsigned int n)
{
	/* Pairs with the user's release: its reads of the slots are done. */
	u32 head = smp_load_acquire(&ring->header->head);
	u32 used = ring->tail - head;

	return used <= ring->num_entries && ring->num_entries - used >= n;
}

/*
 * Post @group to @ring under a new cookie, or answer it as failed if it
 * does not fit: the device must not wait for an answer nobody will give.
 */
static void ioasid_fault_post(struct ioasid_fault_ring *ring,
			      struct ioasid_attach *attach,
			      struct iopf_group *group)
{
	struct device *dev = group->fault_param->dev;
	u32 mask = ring->num_entries - 1;
	struct iopf_fault *iopf;
	unsigned int i = 0;
	u64 cookie, label;

	lockdep_assert_held(&ring->ctx->fault_lock);
	if (ring->dead || ring->num_pending == ring->num_entries ||
	    !ioasid_fault_ring_has_room(ring, group->fault_count)) {
		WRITE_ONCE(ring->header->lost,
			   ring->header->lost + group->fault_count);
		iopf_group_response(group, IOMMU_PAGE_RESP_FAILURE);
		iopf_free_group(group);
		return;
	}
	/* A slot an older group still holds is skipped: cookies only grow. */
	cookie = ring->last_cookie + 1;
	while (ring->pending[cookie & mask].group)
		cookie++;
	ring->pending[cookie & mask] = (struct ioasid_fault_pending) {
		.cookie = cookie,
		.group = group,
	};
	ring->num_pending++;
	ring->last_cookie = cookie;
	/* Another device of the attachment's group: look it up. */
	label = dev == attach->dev ? attach->dev_label :
		ioasid_device_label(ring->ctx, dev);

	list_for_each_entry(iopf, &group->faults, list) {
		struct iommu_fault_page_request *prm = &iopf->fault.prm;
		struct ioasid_fault_record *rec =
			&ring->records[(ring->tail + i) & (ring->num_entries - 1)];

		/* Every byte written: the slot may hold an old record. */
		*rec = (struct ioasid_fault_record) {
			.ioasid = attach->space->obj.id,
			.label = label,
			.access = ioasid_fault_access(prm->perm),
			.addr = prm->addr & PAGE_MASK,
			.group_id = prm->grpid,
			.cookie = cookie,
		};
		if (prm->flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID) {
			rec->flags |= IOASID_FAULT_PASID_VALID;
			rec->pasid = prm->pasid;
		}
		if (++i == group->fault_count)
			rec->flags |= IOASID_FAULT_LAST_IN_GROUP;
	}
	ring->tail += i;
	/* The records first, then the index that publishes them. */
	smp_store_release(&ring->header->tail, ring->tail);
	eventfd_signal(ring->eventfd);
}

/*
 * The iopf_handler of every domain device.c allocates. The attachment is
 * stable: its domain is on the device, so device.c has not detached it.
 */
int ioasid_fault_iopf_handler(struct iopf_group *group)
{
	struct ioasid_attach *attach =
		container_of(group->attach_handle, struct ioasid_attach, handle);
	struct ioasid_space *space = attach->space;
	struct ioasid_ctx *ctx = space->ctx;

	mutex_lock(&ctx->fault_lock);
	if (!space->fault_ring) {
		/* Not the user's to serve: a failed request, at once. */
		iopf_group_response(group, IOMMU_PAGE_RESP_INVALID);
		iopf_free_group(group);
	} else {
		ioasid_fault_post(space->fault_ring, attach, group);
	}
	mutex_unlock(&ctx->fault_lock);
	return 0;
}

/*
 * @attach's domain is off its device: answer, as failed, every group it
 * left waiting, so no device waits for an answer that cannot come.
 */
void ioasid_fault_abort_attach(struct ioasid_attach *attach)
{
	struct ioasid_space *space = attach->space;
	struct ioasid_fault_ring *ring;
	u32 i;

	mutex_lock(&space->ctx->fault_lock);
	ring = space->fault_ring;
	for (i = 0; ring && i != ring->num_entries; i++)
		if (ring->pending[i].group &&
		    ring->pending[i].group->attach_handle == &attach->handle)
			ioasid_fault_answer(ring, &ring->pending[i],
					    IOMMU_PAGE_RESP_INVALID);
	mutex_unlock(&space->ctx->fault_lock);
}

static int ioasid_fault_ring_link(struct ioasid_fault_ring *ring,
				  const u32 *ids)
{
	struct ioasid_ctx *ctx = ring->ctx;
	unsigned int i, j;
	int ret = 0;

	for (i = 0; i != ring->num_spaces; i++) {
		for (j = 0; j != i; j++)
			if (ids[j] == ids[i])
				return -EINVAL;
		ring->spaces[i] = ioasid_space_get(ctx, ids[i]);
		if (IS_ERR(ring->spaces[i])) {
			ret = PTR_ERR(ring->spaces[i]);
			ring->spaces[i] = NULL;
			return ret;
		}
	}
	mutex_lock(&ctx->fault_lock);
	for (i = 0; i != ring->num_spaces; i++)
		if (ring->spaces[i]->fault_ring)
			ret = -EBUSY;
	for (i = 0; !ret && i != ring->num_spaces; i++)
		ring->spaces[i]->fault_ring = ring;
	mutex_unlock(&ctx->fault_lock);
	return ret;
}

void ioasid_fault_ring_destroy(struct ioasid_object *obj)
{
	struct ioasid_fault_ring *ring =
		container_of(obj, struct ioasid_fault_ring, obj);
	struct ioasid_ctx *ctx = ring->ctx;
	unsigned int i;

	mutex_lock(&ctx->fault_lock);
	ring->dead = true;
	for (i = 0; ring->spaces && i != ring->num_spaces && ring->spaces[i];
	     i++)
		if (ring->spaces[i]->fault_ring == ring)
			ring->spaces[i]->fault_ring = NULL;
	for (i = 0; ring->pending && i != ring->num_entries; i++)
		if (ring->pending[i].group)
			ioasid_fault_answer(ring, &ring->pending[i],
					    IOMMU_PAGE_RESP_INVALID);
	mutex_unlock(&ctx->fault_lock);

	for (i = 0; ring->spaces && i != ring->num_spaces && ring->spaces[i];
	     i++)
		ioasid_space_put(ring->spaces[i]);
	kfree(ring->spaces);
	kvfree(ring->pending);
	if (ring->eventfd)
		eventfd_ctx_put(ring->eventfd);
	/* A user mapping keeps its pages: they are freed at munmap. */
	vfree(ring->header);
}

int ioasid_fault_ring_setup_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_fault_ring_setup *cmd = ucmd->cmd;
	struct ioasid_fault_ring *ring;
	size_t records_size;
	u32 *ids;
	int ret;

	if (cmd->num_entries < 2 ||
	    cmd->num_entries > IOASID_FAULT_RING_MAX_ENTRIES ||
	    !is_power_of_2(cmd->num_entries) || !cmd->num_ioasids ||
	    cmd->num_ioasids > IOASID_FAULT_RING_MAX_IOASIDS)
		return -EINVAL;
	ids = memdup_array_user(u64_to_user_ptr(cmd->ioasids_uptr),
				cmd->num_ioasids, sizeof(*ids));
	if (IS_ERR(ids))
		return PTR_ERR(ids);

	ring = ioasid_object_alloc(ucmd->ctx, struct ioasid_fault_ring,
				   IOASID_OBJ_FAULT_RING);
	if (IS_ERR(ring)) {
		kfree(ids);
		return PTR_ERR(ring);
	}
	ring->ctx = ucmd->ctx;
	ring->num_entries = cmd->num_entries;
	ring->num_spaces = cmd->num_ioasids;
	records_size = array_size(cmd->num_entries, sizeof(*ring->records));
	ring->size = PAGE_SIZE + PAGE_ALIGN(records_size);
	/*
	 * The user picks the size, so a failure here is the user's problem,
	 * not the kernel's: no allocation-failure splat.
	 */
	ring->header = __vmalloc(ring->size, GFP_KERNEL_ACCOUNT | __GFP_ZERO |
					     __GFP_NOWARN);
	ring->spaces = kcalloc(ring->num_spaces, sizeof(*ring->spaces),
			       GFP_KERNEL_ACCOUNT);
	ring->pending = kvcalloc(ring->num_entries, sizeof(*ring->pending),
				 GFP_KERNEL_ACCOUNT);
	if (!ring->header || !ring->spaces || !ring->pending) {
		ret = -ENOMEM;
		goto err_destroy;
	}
	ring->records = (void *)ring->header + PAGE_SIZE;
	ring->header->mask = ring->num_entries - 1;
	ring->header->record_size = sizeof(*ring->records);
	ring->header->records_offset = PAGE_SIZE;

	ring->eventfd = eventfd_ctx_fdget(cmd->eventfd);
	if (IS_ERR(ring->eventfd)) {
		ret = PTR_ERR(ring->eventfd);
		ring->eventfd = NULL;
		goto err_destroy;
	}
	ret = ioasid_fault_ring_link(ring, ids);
	if (ret)
		goto err_destroy;
	kfree(ids);

	cmd->out_ring_id = ring->obj.id;
	cmd->out_mmap_size = ring->size;
	cmd->out_mmap_offset = ioasid_fault_ring_offset(ring->obj.id);
	ret = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		ioasid_object_abort_and_destroy(ucmd->ctx, &ring->obj);
		return ret;
	}
	ioasid_object_publish(ucmd->ctx, &ring->obj);
	return 0;

err_destroy:
	kfree(ids);
	ioasid_object_abort_and_destroy(ucmd->ctx, &ring->obj);
	return ret;
}

int ioasid_fault_ring_free_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_fault_ring_free *cmd = ucmd->cmd;

	return ioasid_object_destroy_user(ucmd->ctx, cmd->ring_id,
					  IOASID_OBJ_FAULT_RING);
}

/* One answer; see &struct ioasid_page_response. */
static int ioasid_fault_respond_one(struct ioasid_fault_ring *ring,
				    u64 cookie, u32 code)
{
	static const enum iommu_page_response_code codes[] = {
		[IOASID_PAGE_RESP_SUCCESS] = IOMMU_PAGE_RESP_SUCCESS,
		[IOASID_PAGE_RESP_INVALID] = IOMMU_PAGE_RESP_INVALID,
		[IOASID_PAGE_RESP_FAILURE] = IOMMU_PAGE_RESP_FAILURE,
	};
	struct ioasid_fault_pending *slot;

	if (code >= ARRAY_SIZE(codes))
		return -EINVAL;
	lockdep_assert_held(&ring->ctx->fault_lock);
	if (!cookie || cookie > ring->last_cookie)
		return -ENOENT;
	slot = &ring->pending[cookie & (ring->num_entries - 1)];
	if (!slot->group || slot->cookie != cookie)
		return -EALREADY;
	ioasid_fault_answer(ring, slot, codes[code]);
	return 0;
}

/* Answers a VMM sends one group at a time need no allocation. */
#define IOASID_PAGE_RESPONSE_ON_STACK	8

int ioasid_fault_page_response_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_page_response *cmd = ucmd->cmd;
	struct ioasid_page_response __user *uentries =
		u64_to_user_ptr(cmd->entries_uptr);
	struct ioasid_page_response few[IOASID_PAGE_RESPONSE_ON_STACK];
	struct ioasid_page_response *entries = few;
	size_t bytes = array_size(cmd->num_entries, sizeof(*entries));
	struct ioasid_fault_ring *ring;
	struct ioasid_object *obj;
	u32 i, answered = 0;
	int ret;

	if (!cmd->num_entries ||
	    cmd->num_entries > IOASID_FAULT_RING_MAX_ENTRIES)
		return -EINVAL;
	/* Read all first: a bad array answers nothing. */
	if (cmd->num_entries > ARRAY_SIZE(few))
		entries = memdup_user(uentries, bytes);
	else if (copy_from_user(few, uentries, bytes))
		entries = ERR_PTR(-EFAULT);
	if (IS_ERR(entries))
		return PTR_ERR(entries);
	obj = ioasid_object_get(ucmd->ctx, cmd->ring_id,
				IOASID_OBJ_FAULT_RING);
	if (IS_ERR(obj)) {
		ret = PTR_ERR(obj);
		goto out_free;
	}
	ring = container_of(obj, struct ioasid_fault_ring, obj);

	mutex_lock(&ucmd->ctx->fault_lock);
	for (i = 0; i != cmd->num_entries; i++) {
		entries[i].out_result =
			ioasid_fault_respond_one(ring, entries[i].cookie,
						 entries[i].code);
		if (!entries[i].out_result)
			answered++;
	}
	mutex_unlock(&ucmd->ctx->fault_lock);
	ioasid_object_put(obj);

	ret = -EFAULT;
	if (copy_to_user(uentries, entries, bytes))
		goto out_free;
	cmd->out_answered = answered;
	ret = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	if (entries != few)
		kfree(entries);
	return ret;
}

/* mmap() of the ioasid fd: a ring, whole, at the offset setup gave. */
int ioasid_fault_ring_mmap(struct ioasid_ctx *ctx, struct vm_area_struct *vma)
{
	struct ioasid_fault_ring *ring;
	struct ioasid_object *obj;
	unsigned long off;
	int ret = 0;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff > U32_MAX)
		return -EINVAL;
	obj = ioasid_object_get(ctx, vma->vm_pgoff, IOASID_OBJ_FAULT_RING);
	if (IS_ERR(obj))
		return -EINVAL;
	ring = container_of(obj, struct ioasid_fault_ring, obj);
	if (vma->vm_end - vma->vm_start != ring->size) {
		ioasid_object_put(obj);
		return -EINVAL;
	}
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	for (off = 0; !ret && off != ring->size; off += PAGE_SIZE)
		ret = vm_insert_page(vma, vma->vm_start + off,
				     vmalloc_to_page((void *)ring->header + off));
	ioasid_object_put(obj);
	return ret;
}
