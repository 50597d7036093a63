// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/ioasid: the file descriptor, its object table and ioctl dispatch.
 *
 * Every request enters through ioasid_fops_ioctl(). The dispatch table
 * below applies the extensible-struct rules of the uAPI once, for every
 * ioctl, so that a handler only ever sees a full-size, zero-extended copy
 * of the caller's struct whose flags and reserved field are known good.
 *
 * The object table owns creation and destruction (see ioasid_private.h):
 * one way in (alloc, build, publish), one way to undo an unpublished
 * object (abort, or abort_and_destroy), one destroy for published ones.
 * Nothing else frees an object.
 *
 * Lock order: ctx->objects xa_lock is innermost; nothing sleeps under it.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/uaccess.h>
#include <uapi/linux/ioasid.h>

#include "ioasid_private.h"
#include "ioasid_test.h"

struct ioasid_object_ops {
	void (*destroy)(struct ioasid_object *obj);
};

static const struct ioasid_object_ops ioasid_object_ops[] = {
	[IOASID_OBJ_SPACE] = { .destroy = ioasid_space_destroy },
	[IOASID_OBJ_DEVICE] = { .destroy = ioasid_device_destroy },
	[IOASID_OBJ_FAULT_RING] = { .destroy = ioasid_fault_ring_destroy },
};

struct ioasid_object *__ioasid_object_alloc(struct ioasid_ctx *ctx,
					    size_t size,
					    enum ioasid_object_type type)
{
	struct ioasid_object *obj;
	int ret;

	obj = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->type = type;
	refcount_set(&obj->users, 1);

	/* A NULL entry only reserves the id: lookups see nothing yet. */
	ret = xa_alloc_cyclic(&ctx->objects, &obj->id, NULL, xa_limit_31b,
			      &ctx->next_id, GFP_KERNEL_ACCOUNT);
	if (ret < 0) {
		kfree(obj);
		return ERR_PTR(ret == -EBUSY ? -ENOSPC : ret);
	}
	return obj;
}

void ioasid_object_publish(struct ioasid_ctx *ctx, struct ioasid_object *obj)
{
	void *old;

	old = xa_store(&ctx->objects, obj->id, obj, GFP_KERNEL);
	/* Replacing a reserved slot never allocates, so it cannot fail. */
	WARN_ON(old);
}

/*
 * Undo __ioasid_object_alloc() for an object that was never published and
 * of which nothing type-specific was built yet.
 */
void ioasid_object_abort(struct ioasid_ctx *ctx, struct ioasid_object *obj)
{
	xa_erase(&ctx->objects, obj->id);
	kfree(obj);
}

/*
 * Destroy an object that no table entry points at any more: one never
 * published, or one taken out by ioasid_object_remove().
 */
void ioasid_object_destroy(struct ioasid_object *obj)
{
	ioasid_object_ops[obj->type].destroy(obj);
	kfree(obj);
}

/* Undo a fully built object that was never published. */
void ioasid_object_abort_and_destroy(struct ioasid_ctx *ctx,
				     struct ioasid_object *obj)
{
	xa_erase(&ctx->objects, obj->id);
	ioasid_object_destroy(obj);
}

struct ioasid_object *ioasid_object_get(struct ioasid_ctx *ctx, u32 id,
					enum ioasid_object_type type)
{
	struct ioasid_object *obj;

	xa_lock(&ctx->objects);
	obj = xa_load(&ctx->objects, id);
	if (!obj || obj->type != type || !refcount_inc_not_zero(&obj->users))
		obj = ERR_PTR(-ENOENT);
	xa_unlock(&ctx->objects);
	return obj;
}

/*
 * The id of a published object of @type that @match accepts, or 0. Runs
 * under the table's spinlock, which keeps every object it sees alive:
 * @match must not sleep, and may only read what never changes.
 */
u32 ioasid_object_find(struct ioasid_ctx *ctx, enum ioasid_object_type type,
		       bool (*match)(struct ioasid_object *obj,
				     const void *arg),
		       const void *arg)
{
	struct ioasid_object *obj;
	unsigned long index;
	u32 id = 0;

	xa_lock(&ctx->objects);
	xa_for_each(&ctx->objects, index, obj) {
		if (obj->type == type && match(obj, arg)) {
			id = obj->id;
			break;
		}
	}
	xa_unlock(&ctx->objects);
	return id;
}

/* For a holder that already has a reference, such as a dependent object. */
void ioasid_object_hold(struct ioasid_object *obj)
{
	refcount_inc(&obj->users);
}

void ioasid_object_put(struct ioasid_object *obj)
{
	/* The table's reference, or a remover's, is never dropped here. */
	refcount_dec(&obj->users);
	/*
	 * wake_up_var() looks for waiters without a lock: order the drop
	 * before that look, or a remover that just checked the count and
	 * went to sleep is missed. Only the address is used after the drop,
	 * so a remover may free @obj meanwhile.
	 */
	smp_mb__after_atomic();
	wake_up_var(obj);
}

/*
 * Take @obj out of the table for good and wait until only the @keep
 * references its remover holds are left. For objects whose destruction
 * is driven from outside the fd, such as devices a driver bound.
 */
void ioasid_object_remove(struct ioasid_ctx *ctx, struct ioasid_object *obj,
			  unsigned int keep)
{
	xa_erase(&ctx->objects, obj->id);
	refcount_dec(&obj->users);
	wait_var_event(obj, refcount_read(&obj->users) == keep);
}

int ioasid_object_destroy_user(struct ioasid_ctx *ctx, u32 id,
			       enum ioasid_object_type type)
{
	struct ioasid_object *obj;

	xa_lock(&ctx->objects);
	obj = xa_load(&ctx->objects, id);
	if (!obj || obj->type != type) {
		xa_unlock(&ctx->objects);
		return -ENOENT;
	}
	if (!refcount_dec_if_one(&obj->users)) {
		xa_unlock(&ctx->objects);
		return -EBUSY;
	}
	__xa_erase(&ctx->objects, id);
	xa_unlock(&ctx->objects);

	ioasid_object_destroy(obj);
	return 0;
}

int ioasid_ucmd_respond(struct ioasid_ucmd *ucmd, size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

/*
 * The one check of a user range [start, start + length): non-empty and
 * page aligned (EINVAL), no wrap and nothing past @limit (EOVERFLOW).
 * Stores the last byte in @last.
 */
int ioasid_ucmd_check_range(u64 start, u64 length, u64 limit, u64 *last)
{
	if (!length || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(length))
		return -EINVAL;
	if (check_add_overflow(start, length - 1, last) || *last > limit)
		return -EOVERFLOW;
	return 0;
}

static int ioasid_get_api_version_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_get_api_version *cmd = ucmd->cmd;

	cmd->out_version = IOASID_API_VERSION;
	return ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}

static bool ioasid_extension_supported(u32 extension)
{
	switch (extension) {
	case IOASID_EXT_DMA_MAP:
	case IOASID_EXT_PARTIAL_UNMAP:
	case IOASID_EXT_NESTING_SOFTWARE:
	case IOASID_EXT_NESTING_HARDWARE:
	case IOASID_EXT_DEVICE_GET_INFO:
	case IOASID_EXT_USER_PASID:
	case IOASID_EXT_PASID_TABLE:
	case IOASID_EXT_FAULT_RING:
	case IOASID_EXT_DIRTY_TRACKING:
		return true;
	default:
		return false;
	}
}

static int ioasid_check_extension_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_cmd_check_extension *cmd = ucmd->cmd;

	cmd->out_supported = ioasid_extension_supported(cmd->extension);
	return ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}

/* The largest struct any ioctl takes; handlers cast ucmd->cmd. */
union ioasid_ucmd_buffer {
	struct ioasid_cmd_get_api_version version;
	struct ioasid_cmd_check_extension check_extension;
	struct ioasid_cmd_alloc alloc;
	struct ioasid_cmd_free free;
	struct ioasid_cmd_get_info get_info;
	struct ioasid_cmd_register_memory register_memory;
	struct ioasid_cmd_dma_map dma_map;
	struct ioasid_cmd_dma_unmap dma_unmap;
	struct ioasid_cmd_create_nesting create_nesting;
	struct ioasid_cmd_device_get_info device_get_info;
	struct ioasid_cmd_bind_pgtable bind_pgtable;
	struct ioasid_cmd_unbind_pgtable unbind_pgtable;
	struct ioasid_cmd_invalidate_cache invalidate_cache;
	struct ioasid_cmd_fault_ring_setup fault_ring_setup;
	struct ioasid_cmd_fault_ring_free fault_ring_free;
	struct ioasid_cmd_page_response page_response;
	struct ioasid_cmd_dirty_tracking dirty_tracking;
	struct ioasid_cmd_get_dirty_bitmap get_dirty_bitmap;
#ifdef CONFIG_IOASID_TEST
	struct ioasid_cmd_test test;
#endif
};

/* Every uAPI struct opens with these two fields. */
struct ioasid_ucmd_header {
	__u32 size;
	__u32 flags;
};

/* Indexed by ioctl number; every number is _IO(IOASID_TYPE, nr). */
struct ioasid_ioctl_op {
	unsigned int size;	/* the kernel's sizeof */
	unsigned int min_size;	/* the first published version's size */
	/* offset of a __u32 __reserved that must be 0, or 0 for none */
	unsigned int reserved_offset;
	u32 valid_flags;
	int (*execute)(struct ioasid_ucmd *ucmd);
};

#define __IOASID_IOCTL_OP(_ioctl, _fn, _struct, _last, _flags, _rsvd)	\
	[_IOC_NR(_ioctl) - IOASID_CMD_BASE] = {				\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union ioasid_ucmd_buffer) < \
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.reserved_offset = _rsvd,				\
		.valid_flags = _flags,					\
		.execute = _fn,						\
	}

/* For a struct without a reserved field. */
#define IOASID_IOCTL_OP(_ioctl, _fn, _struct, _last, _flags)		\
	__IOASID_IOCTL_OP(_ioctl, _fn, _struct, _last, _flags, 0)

/* For a struct whose __u32 __reserved must be 0. */
#define IOASID_IOCTL_OP_RSVD(_ioctl, _fn, _struct, _last, _flags)	\
	__IOASID_IOCTL_OP(_ioctl, _fn, _struct, _last, _flags,		\
			  offsetof(_struct, __reserved) +		\
			  BUILD_BUG_ON_ZERO(sizeof_field(_struct, __reserved) != \
					    sizeof(u32)))

static const struct ioasid_ioctl_op ioasid_ioctl_ops[] = {
	IOASID_IOCTL_OP_RSVD(IOASID_GET_API_VERSION,
			     ioasid_get_api_version_ioctl,
			     struct ioasid_cmd_get_api_version, __reserved, 0),
	IOASID_IOCTL_OP(IOASID_CHECK_EXTENSION, ioasid_check_extension_ioctl,
			struct ioasid_cmd_check_extension, out_supported, 0),
	IOASID_IOCTL_OP_RSVD(IOASID_ALLOC, ioasid_space_alloc_ioctl,
			     struct ioasid_cmd_alloc, __reserved, 0),
	IOASID_IOCTL_OP_RSVD(IOASID_FREE, ioasid_space_free_ioctl,
			     struct ioasid_cmd_free, __reserved, 0),
	IOASID_IOCTL_OP_RSVD(IOASID_GET_INFO, ioasid_space_get_info_ioctl,
			     struct ioasid_cmd_get_info, iova_ranges, 0),
	IOASID_IOCTL_OP(IOASID_REGISTER_MEMORY, ioasid_pinned_register_ioctl,
			struct ioasid_cmd_register_memory, length, 0),
	IOASID_IOCTL_OP(IOASID_UNREGISTER_MEMORY,
			ioasid_pinned_unregister_ioctl,
			struct ioasid_cmd_register_memory, length, 0),
	IOASID_IOCTL_OP_RSVD(IOASID_DMA_MAP, ioasid_space_dma_map_ioctl,
			     struct ioasid_cmd_dma_map, length,
			     IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE |
			     IOASID_DMA_MAP_FROM_PARENT),
	IOASID_IOCTL_OP_RSVD(IOASID_DMA_UNMAP, ioasid_space_dma_unmap_ioctl,
			     struct ioasid_cmd_dma_unmap, out_unmapped,
			     IOASID_DMA_UNMAP_ALL | IOASID_DMA_UNMAP_GET_DIRTY),
	IOASID_IOCTL_OP_RSVD(IOASID_CREATE_NESTING,
			     ioasid_space_create_nesting_ioctl,
			     struct ioasid_cmd_create_nesting, __reserved, 0),
	IOASID_IOCTL_OP(IOASID_DEVICE_GET_INFO, ioasid_device_get_info_ioctl,
			struct ioasid_cmd_device_get_info, out_pasid_bits, 0),
	IOASID_IOCTL_OP_RSVD(IOASID_BIND_PGTABLE,
			     ioasid_space_bind_pgtable_ioctl,
			     struct ioasid_cmd_bind_pgtable, data_uptr, 0),
	IOASID_IOCTL_OP_RSVD(IOASID_UNBIND_PGTABLE,
			     ioasid_space_unbind_pgtable_ioctl,
			     struct ioasid_cmd_unbind_pgtable, __reserved, 0),
	IOASID_IOCTL_OP_RSVD(IOASID_INVALIDATE_CACHE,
			     ioasid_space_invalidate_cache_ioctl,
			     struct ioasid_cmd_invalidate_cache, entries_uptr,
			     0),
	IOASID_IOCTL_OP_RSVD(IOASID_BIND_PASID_TABLE,
			     ioasid_space_bind_pasid_table_ioctl,
			     struct ioasid_cmd_bind_pgtable, data_uptr, 0),
	IOASID_IOCTL_OP_RSVD(IOASID_UNBIND_PASID_TABLE,
			     ioasid_space_unbind_pasid_table_ioctl,
			     struct ioasid_cmd_unbind_pgtable, __reserved, 0),
	IOASID_IOCTL_OP_RSVD(IOASID_FAULT_RING_SETUP,
			     ioasid_fault_ring_setup_ioctl,
			     struct ioasid_cmd_fault_ring_setup,
			     out_mmap_offset, 0),
	IOASID_IOCTL_OP_RSVD(IOASID_FAULT_RING_FREE,
			     ioasid_fault_ring_free_ioctl,
			     struct ioasid_cmd_fault_ring_free, __reserved, 0),
	IOASID_IOCTL_OP_RSVD(IOASID_PAGE_RESPONSE,
			     ioasid_fault_page_response_ioctl,
			     struct ioasid_cmd_page_response, __reserved, 0),
	IOASID_IOCTL_OP(IOASID_DIRTY_TRACKING, ioasid_dirty_tracking_ioctl,
			struct ioasid_cmd_dirty_tracking, out_report,
			IOASID_DIRTY_TRACKING_START),
	IOASID_IOCTL_OP(IOASID_GET_DIRTY_BITMAP,
			ioasid_dirty_get_bitmap_ioctl,
			struct ioasid_cmd_get_dirty_bitmap, out_dirty,
			IOASID_DIRTY_BITMAP_NO_CLEAR),
#ifdef CONFIG_IOASID_TEST
	IOASID_IOCTL_OP(IOASID_TEST, ioasid_test_ioctl,
			struct ioasid_cmd_test, emulated.out_unmaps, 0),
#endif
};

static long ioasid_fops_ioctl(struct file *filp, unsigned int cmd,
			      unsigned long arg)
{
	struct ioasid_ucmd ucmd = {
		.ctx = filp->private_data,
		.ubuffer = (void __user *)arg,
	};
	const struct ioasid_ioctl_op *op;
	union ioasid_ucmd_buffer buf;
	struct ioasid_ucmd_header *hdr = (void *)&buf;
	unsigned int nr = _IOC_NR(cmd);
	int ret;

	/* Unsigned: a number below the base wraps and is rejected too. */
	if (_IOC_TYPE(cmd) != IOASID_TYPE ||
	    nr - IOASID_CMD_BASE >= ARRAY_SIZE(ioasid_ioctl_ops))
		return -ENOTTY;
	op = &ioasid_ioctl_ops[nr - IOASID_CMD_BASE];
	/* Sizes live in the structs, so a number that encodes one is foreign. */
	if (!op->execute || cmd != _IO(IOASID_TYPE, nr))
		return -ENOTTY;

	if (get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer))
		return -EFAULT;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	ret = copy_struct_from_user(&buf, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (ret)
		return ret;
	if (hdr->flags & ~op->valid_flags)
		return -EOPNOTSUPP;
	if (op->reserved_offset &&
	    *(u32 *)((u8 *)&buf + op->reserved_offset))
		return -EOPNOTSUPP;

	ucmd.cmd = &buf;
	return op->execute(&ucmd);
}

static int ioasid_fops_open(struct inode *inode, struct file *filp)
{
	struct ioasid_ctx *ctx;

	if (!current->mm)
		return -EINVAL;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	kref_init(&ctx->ref);
	xa_init_flags(&ctx->objects, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	mutex_init(&ctx->pin_lock);
	mutex_init(&ctx->bind_lock);
	INIT_LIST_HEAD(&ctx->external_devices);
	INIT_LIST_HEAD(&ctx->accesses);
	mutex_init(&ctx->groups_lock);
	INIT_LIST_HEAD(&ctx->groups);
	mutex_init(&ctx->fault_lock);
	ctx->registrations = RB_ROOT_CACHED;
	filp->private_data = ctx;
	return 0;
}

static const struct file_operations ioasid_fops;

static void ioasid_ctx_free(struct kref *ref)
{
	struct ioasid_ctx *ctx = container_of(ref, struct ioasid_ctx, ref);

	WARN_ON(!list_empty(&ctx->external_devices));
	WARN_ON(!list_empty(&ctx->accesses));
	WARN_ON(!list_empty(&ctx->groups));
	xa_destroy(&ctx->objects);
	mutex_destroy(&ctx->fault_lock);
	mutex_destroy(&ctx->groups_lock);
	mutex_destroy(&ctx->bind_lock);
	mutex_destroy(&ctx->pin_lock);
	kfree(ctx);
}

void ioasid_ctx_put(struct ioasid_ctx *ctx)
{
	kref_put(&ctx->ref, ioasid_ctx_free);
}

/* The context of an ioasid fd, with a reference, for a binding driver. */
struct ioasid_ctx *ioasid_ctx_get_from_fd(int fd)
{
	CLASS(fd, f)(fd);
	struct ioasid_ctx *ctx;

	if (!fd_file(f))
		return ERR_PTR(-EBADF);
	if (fd_file(f)->f_op != &ioasid_fops)
		return ERR_PTR(-EINVAL);
	ctx = fd_file(f)->private_data;
	kref_get(&ctx->ref);
	return ctx;
}

/*
 * Devices bound from outside are cut off first: detached, out of the
 * table, their bindings left for their drivers to end; so are in-kernel
 * accessors, which let go of their IOASIDs. Then, since
 * objects that others depend on hold extra references, destroy in
 * rounds: each round frees what nothing uses any more, which releases the
 * references those objects held. A round that frees nothing means a
 * reference leaked; stop rather than spin.
 */
static int ioasid_fops_release(struct inode *inode, struct file *filp)
{
	struct ioasid_ctx *ctx = filp->private_data;
	struct ioasid_object *obj;
	unsigned long index;
	bool progress;

	ioasid_driver_revoke_all(ctx);
	ioasid_access_revoke_all(ctx);
	do {
		progress = false;
		xa_for_each(&ctx->objects, index, obj) {
			if (!refcount_dec_if_one(&obj->users))
				continue;
			xa_erase(&ctx->objects, index);
			ioasid_object_destroy(obj);
			progress = true;
		}
	} while (progress);

	WARN_ON(!xa_empty(&ctx->objects));
	/* No mapping is left, so every registration is free to go. */
	ioasid_pinned_unregister_all(ctx);
	if (ctx->mm) {
		mmdrop(ctx->mm);
		free_uid(ctx->user);
	}
	ioasid_ctx_put(ctx);
	return 0;
}

/* Only fault rings are mapped; a mapping holds the file open. */
static int ioasid_fops_mmap(struct file *filp, struct vm_area_struct *vma)
{
	return ioasid_fault_ring_mmap(filp->private_data, vma);
}

static const struct file_operations ioasid_fops = {
	.owner = THIS_MODULE,
	.open = ioasid_fops_open,
	.release = ioasid_fops_release,
	.unlocked_ioctl = ioasid_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = ioasid_fops_mmap,
};

static struct miscdevice ioasid_misc_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ioasid",
	.fops = &ioasid_fops,
	.nodename = "ioasid",
	.mode = 0660,
};

static int __init ioasid_init(void)
{
	int ret;

	ret = ioasid_mock_init();
	if (ret)
		return ret;
	ret = misc_register(&ioasid_misc_dev);
	if (ret)
		ioasid_mock_exit();
	return ret;
}

static void __exit ioasid_exit(void)
{
	misc_deregister(&ioasid_misc_dev);
	ioasid_mock_exit();
}

module_init(ioasid_init);
module_exit(ioasid_exit);

MODULE_DESCRIPTION("/dev/ioasid: one fd for device DMA address spaces");
MODULE_LICENSE("GPL");
/* The iommu core's attach handles, which carry page faults to us. */
MODULE_IMPORT_NS(IOMMUFD_INTERNAL);
/* iova_bitmap, which writes a user's dirty bitmap */
MODULE_IMPORT_NS(IOMMUFD);
