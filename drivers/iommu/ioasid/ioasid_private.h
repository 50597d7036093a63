/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal interfaces shared by the layers of /dev/ioasid.
 *
 * Layers, from the fd down (one file each):
 *   main.c   - the fd, the object table and ioctl dispatch
 *   space.c  - IOASID objects: one I/O address space each
 *
 * Lock order (outer first):
 *   ctx->objects xa_lock - protects only the table; never held while an
 *                          object is being built or destroyed
 */
#ifndef __IOASID_PRIVATE_H
#define __IOASID_PRIVATE_H

#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/xarray.h>

struct ioasid_ctx;

enum ioasid_object_type {
	IOASID_OBJ_NONE,
	IOASID_OBJ_SPACE,
	IOASID_OBJ_TYPE_COUNT,
};

/*
 * Everything userspace names by id is an object in its fd's table.
 *
 * @users counts the table's own reference plus one per holder: an ioctl
 * working on the object, or another object that depends on it. Destroying
 * an object by id succeeds only when the table holds the last reference,
 * so a dependent object always outlives nothing it relies on.
 */
struct ioasid_object {
	u32 id;
	enum ioasid_object_type type;
	refcount_t users;
};

/* One open of /dev/ioasid. */
struct ioasid_ctx {
	struct xarray objects;
	u32 next_id;
};

/* An ioctl in flight: the kernel's copy of the user's struct. */
struct ioasid_ucmd {
	struct ioasid_ctx *ctx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int ioasid_ucmd_respond(struct ioasid_ucmd *ucmd, size_t cmd_len);

struct ioasid_object *__ioasid_object_alloc(struct ioasid_ctx *ctx,
					    size_t size,
					    enum ioasid_object_type type);
/* The embedded object comes first, so an ERR_PTR converts unchanged. */
#define ioasid_object_alloc(ctx, type, obj_type)			\
	({								\
		static_assert(offsetof(type, obj) == 0);		\
		(type *)__ioasid_object_alloc(ctx, sizeof(type), obj_type); \
	})
void ioasid_object_publish(struct ioasid_ctx *ctx, struct ioasid_object *obj);
void ioasid_object_abort(struct ioasid_ctx *ctx, struct ioasid_object *obj);
struct ioasid_object *ioasid_object_get(struct ioasid_ctx *ctx, u32 id,
					enum ioasid_object_type type);
void ioasid_object_put(struct ioasid_object *obj);
int ioasid_object_destroy_user(struct ioasid_ctx *ctx, u32 id,
			       enum ioasid_object_type type);

/* space.c */
struct ioasid_space {
	struct ioasid_object obj;
	struct ioasid_ctx *ctx;
};

void ioasid_space_destroy(struct ioasid_object *obj);
int ioasid_space_alloc_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_free_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_get_info_ioctl(struct ioasid_ucmd *ucmd);

#endif /* __IOASID_PRIVATE_H */
