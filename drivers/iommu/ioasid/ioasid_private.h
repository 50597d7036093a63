/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal interfaces shared by the layers of /dev/ioasid.
 *
 * A request flows down, one file per layer, and never back up:
 *
 *   main.c    - the fd, the object table, ioctl dispatch     ioasid_object_
 *   space.c   - IOASID objects and their ioctls               ioasid_space_
 *   dirty.c   - dirty tracking of an IOASID, and its ioctls   ioasid_dirty_
 *   device.c  - device objects: DMA ownership, attach, and the
 *               iommu_domains of each IOMMU instance           ioasid_device_
 *   driver.c  - the API of include/linux/ioasid.h, for drivers
 *               (VFIO) that bind devices on a user's behalf   ioasid_*_device
 *   access.c  - the API of include/linux/ioasid.h for in-kernel
 *               readers and writers of an IOASID (emulated
 *               devices)                                      ioasid_access_
 *   pinned.c  - pinned user memory, registrations, accounting ioasid_pinned_
 *   iova.c    - the mapping engine: IOVA areas, reserved
 *               ranges, and every domain kept in step         ioasid_iova_
 *   mock.c    - the mock IOMMU driver (CONFIG_IOASID_TEST)    ioasid_mock_
 *   test.c    - the test-only ioctl (CONFIG_IOASID_TEST)      ioasid_test_
 *   mock_vfio.c - a VFIO driver for mock devices, its own
 *               object (CONFIG_IOASID_TEST_VFIO)             ioasid_mock_vfio_
 *
 * Calls go from space.c and device.c down to iova.c and pinned.c, and from
 * driver.c and test.c to device.c and space.c. space.c tells access.c
 * what an unmap took from an accessor, and access.c works on the IOASID
 * through iova.c. Only the object table in main.c calls back up, to
 * destroy an object through its type's ops.
 *
 * Lock order (outer first), listing only nestings that some path takes:
 *   ctx->bind_lock         driver.c, access.c: what drivers bound
 *   access->lock           access.c: one in-kernel accessor's pins
 *   igroup->lock           device.c: one IOMMU group's attachment
 *   space->lock            space.c: an IOASID and its struct ioasid_iova;
 *                          a parent's before its children's, which are
 *                          taken with mutex_lock_nested(): nesting is
 *                          one level deep
 *   ctx->objects xa_lock   main.c: innermost, taken by lookups under any
 *                          of the above; never held while an object is
 *                          built or destroyed
 * A dirty read pins the user's bitmap (mmap_lock) under space->lock.
 * ctx->groups_lock (device.c) is taken under ctx->bind_lock only, and
 * ctx->pin_lock (pinned.c, the registrations) nests with none of them,
 * and pin_user_pages_fast() (mmap_lock) is called with none held.
 */
#ifndef __IOASID_PRIVATE_H
#define __IOASID_PRIVATE_H

#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <uapi/linux/ioasid.h>

struct device;
struct iommu_device;
struct iommu_domain;
struct iommu_group;
struct iommu_user_data;
struct iommu_user_data_array;
struct mm_struct;
struct page;
struct user_struct;

/* An inclusive IOVA range, as the layers hand it to each other. */
struct ioasid_range {
	unsigned long start;
	unsigned long last;
};

/* main.c: the object table */
enum ioasid_object_type {
	IOASID_OBJ_NONE,
	IOASID_OBJ_SPACE,
	IOASID_OBJ_DEVICE,
	IOASID_OBJ_FAULT_RING,
};

/*
 * Everything userspace names by id is an object in its fd's table.
 *
 * @users counts the table's own reference plus one per holder: an ioctl
 * working on the object, or another object that depends on it. Destroying
 * an object by id succeeds only when the table holds the last reference,
 * so an object is never destroyed under something that relies on it.
 */
struct ioasid_object {
	u32 id;
	enum ioasid_object_type type;
	refcount_t users;
};

/*
 * One open of /dev/ioasid. The file holds one reference and each device
 * a driver bound holds one, so the struct outlives the file until those
 * are unbound.
 */
struct ioasid_ctx {
	struct kref ref;
	struct xarray objects;
	u32 next_id;
	/*
	 * The mm of the first process that used a memory ioctl: user
	 * addresses are pinned there, and only there; and that process's
	 * user, charged for the pins. Both set once, under @pin_lock.
	 */
	struct mm_struct *mm;
	struct user_struct *user;
	struct mutex pin_lock;		/* protects @registrations */
	struct rb_root_cached registrations;
	struct mutex bind_lock;		/* protects the three fields below */
	struct list_head external_devices;
	struct list_head accesses;	/* struct ioasid_access */
	bool closed;			/* the file is gone */
	struct mutex groups_lock;	/* protects @groups */
	struct list_head groups;	/* struct ioasid_group */
	/* fault.c: the rings, what reports into them, what waits in them */
	struct mutex fault_lock;
};

void ioasid_ctx_put(struct ioasid_ctx *ctx);
struct ioasid_ctx *ioasid_ctx_get_from_fd(int fd);

/* An ioctl in flight: the kernel's copy of the user's struct. */
struct ioasid_ucmd {
	struct ioasid_ctx *ctx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int ioasid_ucmd_respond(struct ioasid_ucmd *ucmd, size_t cmd_len);
int ioasid_ucmd_check_range(u64 start, u64 length, u64 limit, u64 *last);

/*
 * Object lifetime, the only one there is:
 *
 *   ioasid_object_alloc()  reserve an id; lookups do not see it yet
 *   ... build it; on failure ioasid_object_abort() if nothing of the type
 *       was built yet, else ioasid_object_abort_and_destroy()
 *   ioasid_object_publish() last: from here on only the table destroys it
 *
 * Published objects are destroyed by id (ioasid_object_destroy_user()),
 * at close, or, for objects a driver owns, by ioasid_object_remove()
 * followed by ioasid_object_destroy().
 */
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
void ioasid_object_abort_and_destroy(struct ioasid_ctx *ctx,
				     struct ioasid_object *obj);
struct ioasid_object *ioasid_object_get(struct ioasid_ctx *ctx, u32 id,
					enum ioasid_object_type type);
u32 ioasid_object_find(struct ioasid_ctx *ctx, enum ioasid_object_type type,
		       bool (*match)(struct ioasid_object *obj,
				     const void *arg),
		       const void *arg);
void ioasid_object_hold(struct ioasid_object *obj);
void ioasid_object_put(struct ioasid_object *obj);
void ioasid_object_remove(struct ioasid_ctx *ctx, struct ioasid_object *obj,
			  unsigned int keep);
void ioasid_object_destroy(struct ioasid_object *obj);
int ioasid_object_destroy_user(struct ioasid_ctx *ctx, u32 id,
			       enum ioasid_object_type type);

/* pinned.c */
struct ioasid_pinned {
	struct kref users;
	/* User VA range; in ctx->registrations while @registered. */
	struct interval_tree_node node;
	struct ioasid_ctx *ctx;		/* pinned in ctx->mm, for ctx->user */
	unsigned long npages;
	bool registered;
	bool writable;
	bool borrowed;			/* extra pins on another run's pages */
	struct page **pages;
};

int ioasid_pinned_check_mm(struct ioasid_ctx *ctx);
struct ioasid_pinned *ioasid_pinned_create(struct ioasid_ctx *ctx,
					   unsigned long vaddr,
					   unsigned long length, bool writable);
void ioasid_pinned_get(struct ioasid_pinned *pinned);
void ioasid_pinned_put(struct ioasid_pinned *pinned);
struct ioasid_pinned *ioasid_pinned_cut(struct ioasid_pinned *pinned,
					unsigned long index);
struct ioasid_pinned *ioasid_pinned_borrow(struct ioasid_pinned *from,
					   unsigned long index,
					   unsigned long npages, bool writable);
struct ioasid_pinned *ioasid_pinned_find_registered(struct ioasid_ctx *ctx,
						    unsigned long vaddr,
						    unsigned long length);
void ioasid_pinned_unregister_all(struct ioasid_ctx *ctx);
int ioasid_pinned_register_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_pinned_unregister_ioctl(struct ioasid_ucmd *ucmd);

/* iova.c: the mapping engine */

/* One iommu_domain, mirroring every area of the struct ioasid_iova. */
struct ioasid_domain {
	struct list_head link;		/* in iova->domains */
	struct iommu_domain *iommu_domain;
	struct iommu_device *iommu;	/* the instance it belongs to */
	unsigned int num_groups;	/* attached through it, or nested on it */
	bool enforce_cc;		/* forces cache snooping */
	bool nest_parent;		/* hardware-nested IOASIDs may nest on it */
	bool dirty_on;			/* its IOMMU records writes for us now */
};

/*
 * Pages an in-kernel accessor (access.c) pinned from [node.start,
 * node.last]: in iova->pins while that is mapped; once an unmap takes any
 * of it, on iova->pins_gone until the accessor is told.
 */
struct ioasid_iova_pin {
	struct interval_tree_node node;
	struct list_head gone_link;
	bool writable;
	bool gone;
};

/*
 * What an IOASID maps, where nothing may be mapped, and the domains that
 * must hold every mapping. The owner's lock (@lock) covers all of it.
 */
struct ioasid_iova {
	struct mutex *lock;		/* the owner's, for lockdep asserts */
	struct rb_root_cached areas;	/* struct ioasid_area, by IOVA */
	/* struct ioasid_reserved: may overlap each other, never an area */
	struct rb_root_cached reserved;
	/* Nested only: the areas again, by the parent IOVA they map */
	struct rb_root_cached sources;
	struct list_head domains;	/* struct ioasid_domain */
	/* Page sizes every domain takes; the lowest is the alignment. */
	unsigned long pgsize_bitmap;
	/*
	 * Dirty tracking is on. Where, since it started or was last read
	 * there, a write may have gone unrecorded (a domain that could not
	 * track left, or one that did left with its records), the IOVA is
	 * in @dirty_lost, and reads are conservative there; everywhere if
	 * even that could not be recorded.
	 */
	bool dirty_tracking;
	bool dirty_lost_all;
	struct rb_root_cached dirty_lost;	/* struct ioasid_span */
	/* What in-kernel accessors wrote since it was last read there */
	struct rb_root_cached dirty_written;	/* struct ioasid_span */
	struct rb_root_cached pins;	/* struct ioasid_iova_pin */
	struct list_head pins_gone;	/* struct ioasid_iova_pin */
};

void ioasid_iova_init(struct ioasid_iova *iova, struct mutex *lock);
void ioasid_iova_destroy(struct ioasid_iova *iova);
int ioasid_iova_check_map(struct ioasid_iova *iova, unsigned long start,
			  unsigned long length);
int ioasid_iova_map(struct ioasid_iova *iova, unsigned long start,
		    unsigned long length, struct ioasid_pinned *pinned,
		    unsigned long pinned_index, int iommu_prot);
int ioasid_iova_map_from(struct ioasid_iova *iova, unsigned long start,
			 unsigned long length, struct ioasid_iova *parent,
			 unsigned long source, int iommu_prot);
int ioasid_iova_split(struct ioasid_iova *iova, unsigned long start,
		      unsigned long last);
int ioasid_iova_unmap(struct ioasid_iova *iova, unsigned long start,
		      unsigned long last, unsigned long *unmapped);
void ioasid_iova_unmap_split(struct ioasid_iova *iova, unsigned long start,
			     unsigned long last, unsigned long *unmapped);
void ioasid_iova_revoke_source(struct ioasid_iova *iova, unsigned long start,
			       unsigned long last, unsigned long *revoked);
int ioasid_iova_check_alignment(struct ioasid_iova *iova, u64 value);
unsigned int ioasid_iova_usable_ranges(struct ioasid_iova *iova,
				       struct ioasid_range *ranges,
				       unsigned int max);
int ioasid_iova_reserve(struct ioasid_iova *iova, const void *owner,
			const struct ioasid_range *ranges, unsigned int n);
void ioasid_iova_unreserve(struct ioasid_iova *iova, const void *owner);
struct ioasid_domain *ioasid_iova_next_domain(struct ioasid_iova *iova,
					      struct iommu_device *iommu,
					      struct ioasid_domain *prev);
int ioasid_iova_add_domain(struct ioasid_iova *iova,
			   struct ioasid_domain *domain);
void ioasid_iova_remove_domain(struct ioasid_iova *iova,
			       struct ioasid_domain *domain);
struct iova_bitmap;
void ioasid_iova_set_dirty_tracking(struct ioasid_iova *iova, bool on);
bool ioasid_iova_dirty_exact(struct ioasid_iova *iova, unsigned long start,
			     unsigned long last);
int ioasid_iova_check_whole_pages(struct ioasid_iova *iova,
				  unsigned long start, unsigned long last);
int ioasid_iova_read_dirty(struct ioasid_iova *iova,
			   struct iova_bitmap *bitmap, unsigned long start,
			   unsigned long last, bool escaping, bool clear);
void ioasid_iova_dirty_escaped(struct ioasid_iova *iova);
int ioasid_iova_pin(struct ioasid_iova *iova, struct ioasid_iova_pin *pin,
		    unsigned long start, unsigned long last, bool write,
		    struct page **pages);
void ioasid_iova_unpin(struct ioasid_iova *iova, struct ioasid_iova_pin *pin);
int ioasid_iova_rw(struct ioasid_iova *iova, unsigned long start, void *buf,
		   size_t length, bool write);

/*
 * A format of user-owned table (&enum ioasid_pgtable_format): the
 * iommu_user_data types its IOMMU drivers take for it. A PASID table
 * holds a first stage per PASID; it is bound for devices attached
 * without one, and the table decides what each PASID reaches.
 */
struct ioasid_table_format {
	u32 format;
	bool pasid_table;
	u32 data_type;			/* enum iommu_hwpt_data_type */
	u32 invalidate_type;		/* enum iommu_hwpt_invalidate_data_type */
};

const struct ioasid_table_format *ioasid_table_format_get(u32 format);

/* space.c */
struct ioasid_space {
	struct ioasid_object obj;
	struct ioasid_ctx *ctx;
	/* Set at creation: the parent of a nested IOASID, held */
	struct ioasid_space *parent;
	enum ioasid_nesting_kind nesting;
	struct mutex lock;		/* the fields below */
	struct ioasid_iova iova;
	unsigned int num_devices;
	struct list_head children;	/* nested on this one */
	struct list_head child_link;	/* in parent->children, parent's lock */
	unsigned int num_children;
	u64 revoked;			/* bytes parent unmaps took away */
	/* Hardware-nested only: struct ioasid_nested, one per IOMMU */
	struct list_head nested;
	/* The format of the user's table bound now, or NULL */
	const struct ioasid_table_format *bound;
	/* Where its page faults go; ctx->fault_lock */
	struct ioasid_fault_ring *fault_ring;
};

/* access.c */
void ioasid_access_notify_unmapped(struct ioasid_space *space);
void ioasid_access_revoke_all(struct ioasid_ctx *ctx);

/*
 * A hardware-nested IOASID's devices behind one IOMMU instance: they nest
 * on one nest-parent domain of the parent, through one nested domain
 * while the user's table is bound.
 */
struct ioasid_nested {
	struct list_head link;		/* in space->nested */
	struct iommu_device *iommu;
	struct ioasid_domain *parent_domain;
	struct iommu_domain *domain;	/* while bound, else NULL */
	struct list_head attaches;	/* struct ioasid_attach, nested_link */
};

struct ioasid_space *ioasid_space_get(struct ioasid_ctx *ctx, u32 id);
void ioasid_space_put(struct ioasid_space *space);
void ioasid_space_destroy(struct ioasid_object *obj);
int ioasid_space_alloc_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_free_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_get_info_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_dma_map_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_dma_unmap_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_create_nesting_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_bind_pgtable_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_unbind_pgtable_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_bind_pasid_table_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_unbind_pasid_table_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_invalidate_cache_ioctl(struct ioasid_ucmd *ucmd);

/* device.c */

struct ioasid_group;

/*
 * One of a group's DMA address spaces attached to an IOASID: the DMA
 * without a PASID (the requester ID's), or the DMA tagged with one PASID.
 * The IOMMU translates a group's DMA as one, so the group's devices bound
 * to the fd share each attachment: one IOASID, one domain, for all.
 */
struct ioasid_attach {
	/* Attached under it, so the fault handler finds the attachment. */
	struct iommu_attach_handle handle;
	struct ioasid_group *igroup;
	u32 pasid;			/* IOMMU_NO_PASID: the RID's */
	struct ioasid_space *space;	/* attached to, or NULL */
	struct ioasid_domain *domain;	/* or, to a hardware-nested one: */
	struct ioasid_nested *nested;
	struct list_head nested_link;	/* in nested->attaches */
	/* Held: a device of the group that uses it, for the core */
	struct device *dev;
	u64 dev_label;			/* @dev's in fault records */
	unsigned int users;		/* devices that asked for it */
};

/* An IOMMU group as one fd sees it. */
struct ioasid_group {
	struct list_head link;		/* in ctx->groups */
	struct iommu_group *group;
	unsigned int users;		/* device objects in it; groups_lock */
	struct mutex lock;		/* protects the fields below */
	struct ioasid_attach rid;
	struct xarray pasids;		/* PASID -> struct ioasid_attach */
	struct list_head devices;	/* struct ioasid_device, group_link */
};

struct ioasid_device {
	struct ioasid_object obj;
	struct ioasid_ctx *ctx;
	struct device *dev;
	struct ioasid_group *igroup;
	struct list_head group_link;	/* in igroup->devices */
	/* Called when the device object goes, for whoever created it. */
	void (*release)(struct ioasid_device *idev);

	/* For devices a driver bound (driver.c), under ctx->bind_lock. */
	u64 label;			/* stored for fault records; unused yet */
	bool external;
	bool revoked;			/* out of the table, binding still up */
	struct list_head external_link;	/* in ctx->external_devices */

	/*
	 * Its IOMMU can force snooping for it, so VFIO tells KVM that its
	 * DMA is coherent: it only ever attaches to a domain that forces it.
	 */
	bool enforce_cc;
	/* The iommu core delivers its page requests (IOMMU_DEV_FEAT_IOPF). */
	bool iopf;

	/* What it asked to attach, under igroup->lock: its RID, ... */
	bool attached;
	struct xarray pasids;		/* ... and PASIDs, to IOASID ids */
};

struct ioasid_device *ioasid_device_create(struct ioasid_ctx *ctx,
					   struct device *dev);
int ioasid_device_attach(struct ioasid_device *idev,
			 struct ioasid_space *space, u32 pasid);
int ioasid_device_detach(struct ioasid_device *idev, u32 ioasid, u32 pasid);
int ioasid_device_detach_any(struct ioasid_device *idev);
bool ioasid_device_group_owned(struct ioasid_ctx *ctx, struct device *dev);
int ioasid_device_get_info_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_device_bind_nested(struct ioasid_space *space,
			      const struct ioasid_table_format *format,
			      const struct iommu_user_data *data);
void ioasid_device_unbind_nested(struct ioasid_space *space);
int ioasid_device_invalidate_nested(struct ioasid_space *space,
				    struct iommu_user_data_array *array);
void ioasid_device_destroy(struct ioasid_object *obj);
u32 ioasid_device_find_id(struct ioasid_ctx *ctx, struct device *dev);
u64 ioasid_device_label(struct ioasid_ctx *ctx, struct device *dev);

/* fault.c */
struct iopf_group;
struct vm_area_struct;
int ioasid_fault_iopf_handler(struct iopf_group *group);
void ioasid_fault_abort_attach(struct ioasid_attach *attach);
void ioasid_fault_ring_destroy(struct ioasid_object *obj);
int ioasid_fault_ring_setup_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_fault_ring_free_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_fault_page_response_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_fault_ring_mmap(struct ioasid_ctx *ctx, struct vm_area_struct *vma);

/* dirty.c */

/* A dirty bitmap the user asked for, checked and faulted in. */
struct ioasid_dirty_request {
	unsigned long iova;
	unsigned long last;
	u64 length;
	u64 page_size;
	u64 __user *ubitmap;
	size_t bytes;
};

int ioasid_dirty_request_prepare(struct ioasid_dirty_request *req, u64 iova,
				 u64 length, u64 page_size, u64 bitmap);
int ioasid_dirty_request_read(struct ioasid_space *space,
			      struct ioasid_dirty_request *req, bool clear,
			      u32 *report);
int ioasid_dirty_tracking_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_dirty_get_bitmap_ioctl(struct ioasid_ucmd *ucmd);
void ioasid_dirty_child_gone(struct ioasid_space *parent,
			     struct ioasid_space *child);

/* driver.c */
void ioasid_driver_revoke_all(struct ioasid_ctx *ctx);

/* mock.c and test.c, CONFIG_IOASID_TEST only */
#ifdef CONFIG_IOASID_TEST
int ioasid_mock_init(void);
void ioasid_mock_exit(void);
struct device *ioasid_mock_device_create(unsigned int instance, u32 flags,
					 const char *name);
bool ioasid_mock_domain_is_paging(struct iommu_domain *domain);
bool ioasid_mock_domain_enforces_cc(struct iommu_domain *domain);
void ioasid_mock_device_destroy(struct device *dev);
int ioasid_mock_translate(struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t *phys, size_t *pgsize, int *prot);
int ioasid_mock_device_dma(struct device *dev, u32 pasid, u64 iova,
			   void *buf, size_t length, bool write, bool pri);
int ioasid_test_ioctl(struct ioasid_ucmd *ucmd);
#else
static inline int ioasid_mock_init(void)
{
	return 0;
}

static inline void ioasid_mock_exit(void)
{
}
#endif

#endif /* __IOASID_PRIVATE_H */
