// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinned user memory and its accounting.
 *
 * A struct ioasid_pinned is a run of user pages pinned together, long
 * term, and charged together. The charge goes to the user (uid) of the
 * process the fd is bound to, in user->locked_vm, which RLIMIT_MEMLOCK
 * bounds unless the caller has CAP_IPC_LOCK: per user, as io_uring does,
 * so that N processes of one user get one limit between them, not N.
 * It also shows in that process's mm->pinned_vm (VmPin in
 * /proc/PID/status). Each page a run holds was pinned by it alone and is
 * unpinned by it alone, exactly once, when the run is released or cut.
 *
 * Two kinds exist:
 *  - registered runs come from IOASID_REGISTER_MEMORY and live in the
 *    fd's registration tree, keyed by user VA, until UNREGISTER or close.
 *    Any number of mappings, in any IOASID of the fd, share their pins:
 *    registered memory is pinned once and charged once.
 *  - private runs come from IOASID_DMA_MAP of memory that is not
 *    registered. Exactly one IOVA area owns each, so a private run is cut
 *    along with its area and the pages no longer mapped are released at
 *    once.
 *  - borrowed runs are private runs of a software-nested IOASID's areas,
 *    made from pages some other run holds: each page gets one more pin,
 *    and no charge, since the memory was charged when first pinned. The
 *    extra pins make the child area's life its own: a parent cut or
 *    unmap never has to reach into it, and a page is unpinned only when
 *    neither uses it.
 *
 * Lock order: ctx->pin_lock (the registration tree) nests with no other
 * lock of ours; mmap_lock (the VMA check, pin_user_pages_fast()) is
 * taken with no lock of ours held.
 */
#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <uapi/linux/ioasid.h>

#include "ioasid_private.h"

/* Pages pinned or unpinned between two chances to reschedule. */
#define IOASID_PINNED_BATCH	(SZ_256M >> PAGE_SHIFT)

static int ioasid_pinned_charge(struct ioasid_ctx *ctx, unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	unsigned long locked;

	locked = atomic_long_add_return(npages, &ctx->user->locked_vm);
	if (locked > limit && !capable(CAP_IPC_LOCK)) {
		atomic_long_sub(npages, &ctx->user->locked_vm);
		return -ENOMEM;
	}
	atomic64_add(npages, &ctx->mm->pinned_vm);
	return 0;
}

static void ioasid_pinned_uncharge(struct ioasid_ctx *ctx,
				   unsigned long npages)
{
	atomic64_sub(npages, &ctx->mm->pinned_vm);
	atomic_long_sub(npages, &ctx->user->locked_vm);
}

static struct ioasid_pinned *ioasid_pinned_alloc(struct ioasid_ctx *ctx,
						 unsigned long vaddr,
						 unsigned long npages,
						 bool writable)
{
	size_t size = array_size(npages, sizeof(struct page *));
	struct ioasid_pinned *pinned;

	pinned = kzalloc(sizeof(*pinned), GFP_KERNEL_ACCOUNT);
	if (!pinned)
		return NULL;
	/*
	 * The size is the user's: fail quietly, and without calling the OOM
	 * killer, where it is too large. Each entry is written before it is
	 * read, so nothing is zeroed; and nothing needs the array physically
	 * contiguous, so a large one skips kvmalloc()'s try for high-order
	 * pages, which costs milliseconds of compaction per GiB pinned once
	 * free memory is fragmented.
	 */
	if (size <= PAGE_SIZE)
		pinned->pages = kmalloc(size, GFP_KERNEL_ACCOUNT);
	else
		pinned->pages = __vmalloc(size, GFP_KERNEL_ACCOUNT |
					  __GFP_NOWARN | __GFP_RETRY_MAYFAIL);
	if (!pinned->pages) {
		kfree(pinned);
		return NULL;
	}
	kref_init(&pinned->users);
	pinned->ctx = ctx;
	pinned->node.start = vaddr;
	pinned->node.last = vaddr + npages * PAGE_SIZE - 1;
	pinned->npages = npages;
	pinned->writable = writable;
	return pinned;
}

static void ioasid_pinned_free(struct ioasid_pinned *pinned)
{
	kvfree(pinned->pages);
	kfree(pinned);
}

/*
 * User addresses mean something in one mm only: the first that used a
 * memory ioctl of the fd binds it, whoever opened the fd, so a privileged
 * helper may open /dev/ioasid and pass the fd to the VMM. Any other
 * process gets EPERM, which keeps a forked child (or anyone the fd was
 * passed to later) away from the memory the fd pins.
 */
int ioasid_pinned_check_mm(struct ioasid_ctx *ctx)
{
	/* Pairs with the release below: a bound ->mm has its ->user. */
	struct mm_struct *mm = smp_load_acquire(&ctx->mm);

	if (!mm) {
		mutex_lock(&ctx->pin_lock);
		if (!ctx->mm) {
			mmgrab(current->mm);
			ctx->user = get_uid(current_user());
			/* ->user first: see the acquire above. */
			smp_store_release(&ctx->mm, current->mm);
		}
		mm = ctx->mm;
		mutex_unlock(&ctx->pin_lock);
	}
	return mm == current->mm ? 0 : -EPERM;
}

/*
 * Could every page of [start, last] be pinned, as far as the VMAs tell?
 * A walk over at most max_map_count VMAs, so that a request over a hole
 * or device memory fails before a page array sized by the user is
 * allocated or a page is pinned. pin_user_pages_fast() still decides.
 */
static int ioasid_pinned_check_vmas(struct mm_struct *mm, unsigned long start,
				    unsigned long last, bool writable)
{
	VMA_ITERATOR(vmi, mm, start);
	unsigned long next = start;
	struct vm_area_struct *vma;
	int ret = -EFAULT;

	mmap_read_lock(mm);
	for_each_vma_range(vmi, vma, last + 1) {
		if (vma->vm_start > next ||
		    vma->vm_flags & (VM_IO | VM_PFNMAP) ||
		    (writable && !(vma->vm_flags & VM_WRITE)))
			break;
		if (vma->vm_end - 1 >= last) {
			ret = 0;
			break;
		}
		next = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return ret;
}

/*
 * Pin and charge a user VA range into a new run. Memory that cannot be
 * pinned, such as a VM_PFNMAP or VM_IO mapping of device memory, fails
 * with -EFAULT, as does a range with holes; both are found before any
 * allocation.
 */
struct ioasid_pinned *ioasid_pinned_create(struct ioasid_ctx *ctx,
					   unsigned long vaddr,
					   unsigned long length, bool writable)
{
	unsigned int gup_flags = FOLL_LONGTERM | (writable ? FOLL_WRITE : 0);
	unsigned long npages = length >> PAGE_SHIFT, done = 0;
	struct ioasid_pinned *pinned;
	int ret;

	ret = ioasid_pinned_check_mm(ctx);
	if (ret)
		return ERR_PTR(ret);

	ret = ioasid_pinned_check_vmas(ctx->mm, vaddr, vaddr + length - 1,
				       writable);
	if (ret)
		return ERR_PTR(ret);
	/* Charge next: a request over the limit allocates nothing. */
	ret = ioasid_pinned_charge(ctx, npages);
	if (ret)
		return ERR_PTR(ret);
	pinned = ioasid_pinned_alloc(ctx, vaddr, npages, writable);
	if (!pinned) {
		ret = -ENOMEM;
		goto err_uncharge;
	}

	while (done < npages) {
		int batch = min(npages - done, IOASID_PINNED_BATCH);

		ret = pin_user_pages_fast(vaddr + done * PAGE_SIZE, batch,
					  gup_flags, pinned->pages + done);
		if (ret <= 0) {
			ret = ret ?: -EFAULT;
			goto err_unpin;
		}
		done += ret;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_unpin;
		}
		cond_resched();
	}
	return pinned;

err_unpin:
	unpin_user_pages(pinned->pages, done);
	ioasid_pinned_free(pinned);
err_uncharge:
	ioasid_pinned_uncharge(ctx, npages);
	return ERR_PTR(ret);
}

static void ioasid_pinned_release(struct kref *kref)
{
	struct ioasid_pinned *pinned =
		container_of(kref, struct ioasid_pinned, users);
	unsigned long done, n, since_resched = 0;

	/*
	 * A device may have written any writable page: keep its data. By
	 * physically contiguous pieces, so that a large folio goes in one
	 * step instead of a lookup per page; and with a chance to
	 * reschedule every batch, since a run may hold millions of pages.
	 */
	for (done = 0; done < pinned->npages; done += n) {
		struct page **pages = pinned->pages + done;
		unsigned long max = min(pinned->npages - done,
					IOASID_PINNED_BATCH);

		for (n = 1; n < max && pages[n] == nth_page(pages[0], n); n++)
			;
		unpin_user_page_range_dirty_lock(pages[0], n,
						 pinned->writable);
		since_resched += n;
		if (since_resched >= IOASID_PINNED_BATCH) {
			since_resched = 0;
			cond_resched();
		}
	}
	if (!pinned->borrowed)
		ioasid_pinned_uncharge(pinned->ctx, pinned->npages);
	ioasid_pinned_free(pinned);
}

void ioasid_pinned_get(struct ioasid_pinned *pinned)
{
	kref_get(&pinned->users);
}

void ioasid_pinned_put(struct ioasid_pinned *pinned)
{
	kref_put(&pinned->users, ioasid_pinned_release);
}

/*
 * Cut a private run in two at page @index: @pinned keeps the pages before
 * it and the returned run takes the rest, with their pins and charge.
 */
struct ioasid_pinned *ioasid_pinned_cut(struct ioasid_pinned *pinned,
					unsigned long index)
{
	unsigned long tail = pinned->npages - index;
	struct ioasid_pinned *rest;

	if (WARN_ON(pinned->registered || !index || index >= pinned->npages))
		return ERR_PTR(-EINVAL);

	rest = ioasid_pinned_alloc(pinned->ctx,
				   pinned->node.start + index * PAGE_SIZE,
				   tail, pinned->writable);
	if (!rest)
		return ERR_PTR(-ENOMEM);
	memcpy(rest->pages, pinned->pages + index, tail * sizeof(*rest->pages));
	rest->borrowed = pinned->borrowed;
	pinned->npages = index;
	pinned->node.last = pinned->node.start + index * PAGE_SIZE - 1;
	return rest;
}

/*
 * A private run of @npages pages that @from holds from page @index on,
 * each pinned once more and charged nothing (a borrowed run), or NULL if
 * out of memory. The caller holds what keeps @from's pins in place.
 */
struct ioasid_pinned *ioasid_pinned_borrow(struct ioasid_pinned *from,
					   unsigned long index,
					   unsigned long npages, bool writable)
{
	struct ioasid_pinned *pinned;
	unsigned long i;

	pinned = ioasid_pinned_alloc(from->ctx,
				     from->node.start + index * PAGE_SIZE,
				     npages, writable);
	if (!pinned)
		return NULL;
	pinned->borrowed = true;
	memcpy(pinned->pages, from->pages + index,
	       npages * sizeof(*pinned->pages));
	for (i = 0; i != npages; i++) {
		folio_add_pin(page_folio(pinned->pages[i]));
		if (!(i % IOASID_PINNED_BATCH))
			cond_resched();
	}
	return pinned;
}

/*
 * The registration that holds all of [vaddr, vaddr + length), with a
 * reference, or NULL when there is none and the caller must pin its own.
 * The caller has passed ioasid_pinned_check_mm().
 */
struct ioasid_pinned *ioasid_pinned_find_registered(struct ioasid_ctx *ctx,
						    unsigned long vaddr,
						    unsigned long length)
{
	struct interval_tree_node *node;
	struct ioasid_pinned *pinned = NULL;

	mutex_lock(&ctx->pin_lock);
	node = interval_tree_iter_first(&ctx->registrations, vaddr,
					vaddr + length - 1);
	if (node && node->start <= vaddr && node->last >= vaddr + length - 1) {
		pinned = container_of(node, struct ioasid_pinned, node);
		ioasid_pinned_get(pinned);
	}
	mutex_unlock(&ctx->pin_lock);
	return pinned;
}

/* REGISTER and UNREGISTER: a user range, named by the fd's process. */
static int ioasid_pinned_check_cmd(struct ioasid_ctx *ctx,
				   struct ioasid_cmd_register_memory *cmd,
				   u64 *last)
{
	int ret;

	ret = ioasid_ucmd_check_range(cmd->vaddr, cmd->length, TASK_SIZE - 1,
				      last);
	return ret ?: ioasid_pinned_check_mm(ctx);
}

int ioasid_pinned_register_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_register_memory *cmd = ucmd->cmd;
	struct ioasid_ctx *ctx = ucmd->ctx;
	struct ioasid_pinned *pinned;
	u64 last;
	int ret;

	ret = ioasid_pinned_check_cmd(ctx, cmd, &last);
	if (ret)
		return ret;
	/* An overlap is refused before anything is pinned... */
	mutex_lock(&ctx->pin_lock);
	if (interval_tree_iter_first(&ctx->registrations, cmd->vaddr, last))
		ret = -EEXIST;
	mutex_unlock(&ctx->pin_lock);
	if (ret)
		return ret;

	/* ... and checked again after: we pin unlocked so as to block no one. */
	pinned = ioasid_pinned_create(ctx, cmd->vaddr, cmd->length, true);
	if (IS_ERR(pinned))
		return PTR_ERR(pinned);
	pinned->registered = true;

	mutex_lock(&ctx->pin_lock);
	if (interval_tree_iter_first(&ctx->registrations, pinned->node.start,
				     pinned->node.last)) {
		mutex_unlock(&ctx->pin_lock);
		pinned->registered = false;
		ioasid_pinned_put(pinned);
		return -EEXIST;
	}
	interval_tree_insert(&pinned->node, &ctx->registrations);
	mutex_unlock(&ctx->pin_lock);
	return 0;
}

int ioasid_pinned_unregister_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_register_memory *cmd = ucmd->cmd;
	struct ioasid_ctx *ctx = ucmd->ctx;
	struct interval_tree_node *node;
	struct ioasid_pinned *pinned;
	u64 last;
	int ret;

	ret = ioasid_pinned_check_cmd(ctx, cmd, &last);
	if (ret)
		return ret;

	mutex_lock(&ctx->pin_lock);
	node = interval_tree_iter_first(&ctx->registrations, cmd->vaddr, last);
	if (!node || node->start != cmd->vaddr || node->last != last) {
		ret = -ENOENT;
		goto out_unlock;
	}
	pinned = container_of(node, struct ioasid_pinned, node);
	/* The tree holds one reference; any other is a mapping's. */
	if (kref_read(&pinned->users) != 1) {
		ret = -EBUSY;
		goto out_unlock;
	}
	interval_tree_remove(node, &ctx->registrations);
	mutex_unlock(&ctx->pin_lock);
	ioasid_pinned_put(pinned);
	return 0;

out_unlock:
	mutex_unlock(&ctx->pin_lock);
	return ret;
}

/* At close, once every IOASID (and so every mapping) is gone. */
void ioasid_pinned_unregister_all(struct ioasid_ctx *ctx)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(&ctx->registrations, 0,
						ULONG_MAX))) {
		struct ioasid_pinned *pinned =
			container_of(node, struct ioasid_pinned, node);

		interval_tree_remove(node, &ctx->registrations);
		WARN_ON(kref_read(&pinned->users) != 1);
		ioasid_pinned_put(pinned);
	}
}
