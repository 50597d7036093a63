// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-kernel access to an IOASID, for devices the kernel emulates (an mdev,
 * a paravirtual device): they have no IOMMU, so their "DMA" is the CPU
 * reading and writing the IOASID's memory by IOVA, either copied at once
 * (ioasid_access_rw()) or through pages pinned for a while
 * (ioasid_access_pin_pages()).
 *
 * An accessor is driver-owned, like a device a driver bound (driver.c):
 * it holds its IOASID, so IOASID_FREE gets EBUSY while it lives, and the
 * fd's context, not the file. When the fd closes, every accessor is
 * revoked: told to give up its pins, then cut off (-ENODEV) until its
 * driver destroys it.
 *
 * Dirty tracking stays exact with accessors: what ioasid_access_rw()
 * writes is recorded page by page, and a range pinned for writing counts
 * as written in every read while it is pinned and once more after it is
 * unpinned, since the driver may write through it at any time in between.
 *
 * An unmap that takes any of a pinned range calls the accessor's unmap
 * callback once the IOASID's lock is dropped, and before the unmap
 * returns to the user; the callback unpins. Until then the pages stay
 * pinned by the accessor's own pins, so a slow callback costs nothing
 * but the user's wait, never a page freed under the device.
 *
 * Lock order: ctx->bind_lock, then access->lock, then space->lock. The
 * unmap callback runs under access->notify_lock alone, which
 * ioasid_access_destroy() takes to wait for a callback in flight.
 */
#include <linux/file.h>
#include <linux/ioasid.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "ioasid_private.h"

struct ioasid_access {
	struct ioasid_ctx *ctx;		/* held */
	const struct ioasid_access_ops *ops;
	void *data;
	struct kref ref;		/* the driver's, and each callback's */
	struct list_head ctx_link;	/* in ctx->accesses, ctx->bind_lock */
	struct mutex lock;		/* protects the fields below */
	struct ioasid_space *space;	/* held; NULL once revoked */
	struct list_head pins;		/* struct ioasid_access_pin */
	/* Held across the unmap callback; no callback after destroy. */
	struct mutex notify_lock;
	bool destroyed;
};

struct ioasid_access_pin {
	struct ioasid_iova_pin ipin;	/* in the IOASID, space->lock */
	struct list_head link;		/* in access->pins */
	struct ioasid_access *access;
	bool told;			/* the fd is closing, and it was told */
	unsigned long npages;
	struct page *pages[] __counted_by(npages);
};

static void ioasid_access_free(struct kref *ref)
{
	struct ioasid_access *access =
		container_of(ref, struct ioasid_access, ref);

	mutex_destroy(&access->lock);
	mutex_destroy(&access->notify_lock);
	ioasid_ctx_put(access->ctx);
	kfree(access);
}

static void ioasid_access_notify(struct ioasid_access *access,
				 unsigned long iova, unsigned long length)
{
	mutex_lock(&access->notify_lock);
	if (!access->destroyed)
		access->ops->unmap(access->data, iova, length);
	mutex_unlock(&access->notify_lock);
}

/*
 * After an unmap of @space, with no lock held: tell each accessor which
 * of its pinned ranges went, one callback per pin.
 */
void ioasid_access_notify_unmapped(struct ioasid_space *space)
{
	struct ioasid_iova *iova = &space->iova;

	for (;;) {
		struct ioasid_access_pin *pin;
		struct ioasid_access *access;
		unsigned long start, length;

		mutex_lock(&space->lock);
		pin = list_first_entry_or_null(&iova->pins_gone,
					       struct ioasid_access_pin,
					       ipin.gone_link);
		if (!pin) {
			mutex_unlock(&space->lock);
			return;
		}
		list_del_init(&pin->ipin.gone_link);
		/* The pin may be freed as soon as the lock drops. */
		access = pin->access;
		kref_get(&access->ref);
		start = pin->ipin.node.start;
		length = pin->ipin.node.last - start + 1;
		mutex_unlock(&space->lock);

		ioasid_access_notify(access, start, length);
		kref_put(&access->ref, ioasid_access_free);
	}
}

static void ioasid_access_unpin(struct ioasid_access *access,
				struct ioasid_access_pin *pin)
{
	struct ioasid_space *space = access->space;

	lockdep_assert_held(&access->lock);
	mutex_lock(&space->lock);
	ioasid_iova_unpin(&space->iova, &pin->ipin);
	mutex_unlock(&space->lock);
	list_del(&pin->link);
	unpin_user_pages_dirty_lock(pin->pages, pin->npages,
				    pin->ipin.writable);
	kvfree(pin);
}

/*
 * Cut @access off its IOASID: every pin is told to go first, and what the
 * driver did not unpin is unpinned here. Then -ENODEV for everything.
 */
static void ioasid_access_revoke(struct ioasid_access *access)
{
	struct ioasid_access_pin *pin, *next;
	struct ioasid_space *space;

	mutex_lock(&access->lock);
	space = access->space;
	while (space && !access->destroyed) {
		unsigned long start, length;
		bool found = false;

		list_for_each_entry(pin, &access->pins, link) {
			found = !pin->told;
			if (found)
				break;
		}
		if (!found)
			break;
		pin->told = true;
		start = pin->ipin.node.start;
		length = pin->ipin.node.last - start + 1;
		mutex_unlock(&access->lock);
		ioasid_access_notify(access, start, length);
		mutex_lock(&access->lock);
	}
	/* What a driver did not unpin when told, or is destroying. */
	list_for_each_entry_safe(pin, next, &access->pins, link)
		ioasid_access_unpin(access, pin);
	access->space = NULL;
	mutex_unlock(&access->lock);
	if (space)
		ioasid_object_put(&space->obj);
}

/* The fd is closing: cut off every accessor. */
void ioasid_access_revoke_all(struct ioasid_ctx *ctx)
{
	struct ioasid_access *access;

	mutex_lock(&ctx->bind_lock);
	list_for_each_entry(access, &ctx->accesses, ctx_link)
		ioasid_access_revoke(access);
	mutex_unlock(&ctx->bind_lock);
}

/**
 * ioasid_access_create() - read and write an IOASID from the kernel
 * @ioasid_fd: an fd of /dev/ioasid, in the calling process
 * @ioasid: an IOASID of that fd which maps memory itself (not nested)
 * @ops: the callbacks; @ops->unmap is required
 * @data: passed to the callbacks
 *
 * Return: the accessor, or ERR_PTR: -EBADF or -EINVAL for a bad fd,
 * -ENOENT for an unknown @ioasid, -EMEDIUMTYPE for a nested one (its
 * IOVA is the guest's to translate, in the VMM), -ENOMEM.
 */
struct ioasid_access *ioasid_access_create(int ioasid_fd, u32 ioasid,
					   const struct ioasid_access_ops *ops,
					   void *data)
{
	struct ioasid_access *access;
	struct ioasid_object *obj;
	struct ioasid_space *space;
	struct ioasid_ctx *ctx;
	int ret;

	if (!ops || !ops->unmap)
		return ERR_PTR(-EINVAL);
	ctx = ioasid_ctx_get_from_fd(ioasid_fd);
	if (IS_ERR(ctx))
		return ERR_CAST(ctx);
	access = kzalloc(sizeof(*access), GFP_KERNEL_ACCOUNT);
	if (!access) {
		ret = -ENOMEM;
		goto err_ctx;
	}
	mutex_lock(&ctx->bind_lock);
	if (ctx->closed) {
		ret = -EBADF;
		goto err_unlock;
	}
	obj = ioasid_object_get(ctx, ioasid, IOASID_OBJ_SPACE);
	if (IS_ERR(obj)) {
		ret = PTR_ERR(obj);
		goto err_unlock;
	}
	space = container_of(obj, struct ioasid_space, obj);
	if (space->parent) {
		ioasid_object_put(obj);
		ret = -EMEDIUMTYPE;
		goto err_unlock;
	}
	access->ctx = ctx;
	access->ops = ops;
	access->data = data;
	kref_init(&access->ref);
	mutex_init(&access->lock);
	mutex_init(&access->notify_lock);
	INIT_LIST_HEAD(&access->pins);
	access->space = space;
	list_add_tail(&access->ctx_link, &ctx->accesses);
	mutex_unlock(&ctx->bind_lock);
	return access;

err_unlock:
	mutex_unlock(&ctx->bind_lock);
	kfree(access);
err_ctx:
	ioasid_ctx_put(ctx);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(ioasid_access_create, IOASID);

/**
 * ioasid_access_destroy() - end an accessor
 * @access: from ioasid_access_create()
 *
 * Unpins whatever is still pinned, and waits for an unmap callback in
 * flight: do not call it from the callback, nor holding a lock the
 * callback takes. No callback comes after it returns.
 */
void ioasid_access_destroy(struct ioasid_access *access)
{
	struct ioasid_ctx *ctx = access->ctx;

	mutex_lock(&access->notify_lock);
	access->destroyed = true;
	mutex_unlock(&access->notify_lock);

	mutex_lock(&ctx->bind_lock);
	list_del(&access->ctx_link);
	ioasid_access_revoke(access);
	mutex_unlock(&ctx->bind_lock);
	kref_put(&access->ref, ioasid_access_free);
}
EXPORT_SYMBOL_NS_GPL(ioasid_access_destroy, IOASID);

/* [iova, iova + length) as an inclusive range, or -EINVAL/-EOVERFLOW. */
static int ioasid_access_range(unsigned long iova, unsigned long length,
			       unsigned long *last)
{
	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, last))
		return -EOVERFLOW;
	return 0;
}

/**
 * ioasid_access_pin_pages() - pin an IOVA range's pages
 * @access: the accessor
 * @iova: the first IOVA, page-aligned
 * @length: bytes, a multiple of PAGE_SIZE
 * @pages: filled with the range's pages, one per PAGE_SIZE
 * @flags: %IOASID_ACCESS_WRITE if the driver will write through them
 *
 * The pages stay pinned until ioasid_access_unpin_pages() of the same
 * range; when the user unmaps any of it first, @access's unmap callback
 * is called with the pinned range, and it must unpin it.
 *
 * Return: 0, or -EINVAL for misalignment, a zero length or an unknown
 * flag, -EOVERFLOW if the range wraps, -ENOENT if some page of it is not
 * mapped, -EPERM if @flags asks to write a page mapped read-only,
 * -ENODEV once the fd is closed, -ENOMEM.
 */
int ioasid_access_pin_pages(struct ioasid_access *access, unsigned long iova,
			    unsigned long length, struct page **pages,
			    unsigned int flags)
{
	bool write = flags & IOASID_ACCESS_WRITE;
	struct ioasid_access_pin *pin;
	unsigned long last, npages;
	int ret;

	if (flags & ~IOASID_ACCESS_WRITE ||
	    !PAGE_ALIGNED(iova) || !PAGE_ALIGNED(length))
		return -EINVAL;
	ret = ioasid_access_range(iova, length, &last);
	if (ret)
		return ret;
	npages = length >> PAGE_SHIFT;
	pin = kvzalloc(struct_size(pin, pages, npages), GFP_KERNEL_ACCOUNT);
	if (!pin)
		return -ENOMEM;
	pin->npages = npages;
	pin->access = access;

	mutex_lock(&access->lock);
	if (!access->space) {
		ret = -ENODEV;
		goto out_unlock;
	}
	mutex_lock(&access->space->lock);
	ret = ioasid_iova_pin(&access->space->iova, &pin->ipin, iova, last,
			      write, pin->pages);
	mutex_unlock(&access->space->lock);
	if (!ret) {
		list_add_tail(&pin->link, &access->pins);
		memcpy(pages, pin->pages, npages * sizeof(*pages));
		pin = NULL;
	}
out_unlock:
	mutex_unlock(&access->lock);
	kvfree(pin);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(ioasid_access_pin_pages, IOASID);

/**
 * ioasid_access_unpin_pages() - end a pin
 * @access: the accessor
 * @iova: as given to ioasid_access_pin_pages()
 * @length: as given to ioasid_access_pin_pages()
 *
 * Only a whole pin can be unpinned; a range that names none is a driver
 * bug, and warns.
 */
void ioasid_access_unpin_pages(struct ioasid_access *access,
			       unsigned long iova, unsigned long length)
{
	struct ioasid_access_pin *pin;

	mutex_lock(&access->lock);
	list_for_each_entry(pin, &access->pins, link) {
		if (pin->ipin.node.start == iova &&
		    pin->npages << PAGE_SHIFT == length) {
			ioasid_access_unpin(access, pin);
			mutex_unlock(&access->lock);
			return;
		}
	}
	/* Revoked accessors have unpinned everything already. */
	WARN_ON_ONCE(access->space);
	mutex_unlock(&access->lock);
}
EXPORT_SYMBOL_NS_GPL(ioasid_access_unpin_pages, IOASID);

/**
 * ioasid_access_rw() - copy between a kernel buffer and an IOASID
 * @access: the accessor
 * @iova: where, any alignment
 * @buf: the kernel buffer
 * @length: bytes
 * @flags: %IOASID_ACCESS_WRITE to write the IOASID's memory from @buf,
 *	else read it into @buf
 *
 * All or nothing: every page is checked before a byte moves. A write is
 * recorded for dirty tracking, exactly, at page granularity.
 *
 * Return: 0, or -EINVAL for a zero length or an unknown flag, -EOVERFLOW
 * if the range wraps, -ENOENT if some byte is not mapped, -EPERM for a
 * write to memory mapped read-only, -ENODEV once the fd is closed.
 */
int ioasid_access_rw(struct ioasid_access *access, unsigned long iova,
		     void *buf, unsigned long length, unsigned int flags)
{
	unsigned long last;
	int ret;

	if (flags & ~IOASID_ACCESS_WRITE)
		return -EINVAL;
	ret = ioasid_access_range(iova, length, &last);
	if (ret)
		return ret;
	mutex_lock(&access->lock);
	if (access->space) {
		mutex_lock(&access->space->lock);
		ret = ioasid_iova_rw(&access->space->iova, iova, buf, length,
				     flags & IOASID_ACCESS_WRITE);
		mutex_unlock(&access->space->lock);
	} else {
		ret = -ENODEV;
	}
	mutex_unlock(&access->lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(ioasid_access_rw, IOASID);
