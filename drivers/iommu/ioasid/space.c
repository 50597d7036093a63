// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOASID objects: one I/O address space each.
 *
 * An IOASID is what userspace allocates, attaches devices to and maps
 * memory into. This file owns its lifetime and what it reports about
 * itself; the mappings and the devices are other layers' state, hung off
 * struct ioasid_space.
 *
 * Lock order: none of its own yet; see ioasid_private.h for the table.
 */
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <uapi/linux/ioasid.h>

#include "ioasid_private.h"

int ioasid_space_alloc_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_alloc *cmd = ucmd->cmd;
	struct ioasid_space *space;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	space = ioasid_object_alloc(ucmd->ctx, struct ioasid_space,
				    IOASID_OBJ_SPACE);
	if (IS_ERR(space))
		return PTR_ERR(space);
	space->ctx = ucmd->ctx;

	cmd->out_ioasid = space->obj.id;
	ret = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		/* The caller never learnt the id: leave nothing behind. */
		ioasid_object_abort(ucmd->ctx, &space->obj);
		return ret;
	}
	ioasid_object_publish(ucmd->ctx, &space->obj);
	return 0;
}

void ioasid_space_destroy(struct ioasid_object *obj)
{
	/* Nothing hangs off an IOASID yet: no mappings, no devices. */
}

int ioasid_space_free_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_free *cmd = ucmd->cmd;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	return ioasid_object_destroy_user(ucmd->ctx, cmd->ioasid,
					  IOASID_OBJ_SPACE);
}

/*
 * With no device attached nothing narrows the space: any page-aligned
 * IOVA is usable and any multiple of the CPU page size may be mapped.
 */
static const struct ioasid_iova_range ioasid_space_full_range = {
	.start = 0,
	.last = U64_MAX,
};

int ioasid_space_get_info_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_get_info *cmd = ucmd->cmd;
	struct ioasid_iova_range __user *uranges;
	struct ioasid_object *obj;
	int ret = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	obj = ioasid_object_get(ucmd->ctx, cmd->ioasid, IOASID_OBJ_SPACE);
	if (IS_ERR(obj))
		return PTR_ERR(obj);

	uranges = u64_to_user_ptr(cmd->iova_ranges);
	if (cmd->num_iova_ranges &&
	    copy_to_user(uranges, &ioasid_space_full_range,
			 sizeof(ioasid_space_full_range))) {
		ret = -EFAULT;
		goto out_put;
	}
	cmd->num_iova_ranges = 1;
	cmd->out_num_devices = 0;
	cmd->out_pgsize_bitmap = PAGE_MASK;
	ret = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	ioasid_object_put(obj);
	return ret;
}
