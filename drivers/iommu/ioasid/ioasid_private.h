/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal interfaces shared by the layers of /dev/ioasid.
 *
 * Layers, from the fd down (one file each):
 *   main.c    - the fd, the object table and ioctl dispatch
 *   space.c   - IOASID objects: one I/O address space each
 *   pinned.c  - pinned user memory, registrations and accounting
 *   iova.c    - IOVA areas: map and unmap, kept in step in every domain
 *   device.c  - device binding and attach, one domain per IOMMU instance
 *   mock.c    - the mock IOMMU driver (CONFIG_IOASID_TEST only)
 *   mock_vfio.c - a VFIO driver for mock devices that can DMA (same)
 *   test.c    - the test-only ioctl (CONFIG_IOASID_TEST only)
 *
 * Lock order (outer first):
 *   ctx->bind_lock      - devices bound from outside (VFIO)
 *   idev->attach_lock   - one device's attachment
 *   space->lock         - an IOASID's areas, domains and devices
 *   ctx->pin_lock       - the fd's registrations
 *   mmap_lock           - taken inside pin_user_pages_fast()
 *   ctx->objects xa_lock - the object table; innermost, never held while an
 *                          object is built or destroyed
 */
#ifndef __IOASID_PRIVATE_H
#define __IOASID_PRIVATE_H

#include <linux/interval_tree.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/xarray.h>

struct device;
struct iommu_device;
struct iommu_domain;
struct iommu_group;
struct ioasid_iova_range;
struct mm_struct;
struct page;

enum ioasid_object_type {
	IOASID_OBJ_NONE,
	IOASID_OBJ_SPACE,
	IOASID_OBJ_DEVICE,
	IOASID_OBJ_TYPE_COUNT,
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
 * a driver bound from outside holds one, so the struct outlives the file
 * until those are unbound.
 */
struct ioasid_ctx {
	struct kref ref;
	struct xarray objects;
	u32 next_id;
	/* The opener's mm: user addresses are pinned and charged there. */
	struct mm_struct *mm;
	struct mutex pin_lock;		/* protects @registrations */
	struct rb_root_cached registrations;
	struct mutex bind_lock;		/* protects @external_devices */
	struct list_head external_devices;
	bool closed;			/* the file is gone */
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
void ioasid_object_hold(struct ioasid_object *obj);
void ioasid_object_put(struct ioasid_object *obj);
void ioasid_object_remove(struct ioasid_ctx *ctx, struct ioasid_object *obj,
			  unsigned int keep);
int ioasid_object_destroy_user(struct ioasid_ctx *ctx, u32 id,
			       enum ioasid_object_type type);

/* space.c */
struct ioasid_space {
	struct ioasid_object obj;
	struct ioasid_ctx *ctx;
	struct mutex lock;		/* areas, domains, num_devices */
	struct rb_root_cached areas;	/* struct ioasid_area, by IOVA */
	struct list_head domains;	/* struct ioasid_domain */
	unsigned int num_devices;
};

struct ioasid_space *ioasid_space_get(struct ioasid_ctx *ctx, u32 id);
void ioasid_space_put(struct ioasid_space *space);
unsigned long ioasid_space_alignment(struct ioasid_space *space);
bool ioasid_space_iova_usable(struct ioasid_space *space, unsigned long start,
			      unsigned long last);
void ioasid_space_destroy(struct ioasid_object *obj);
int ioasid_space_alloc_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_free_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_space_get_info_ioctl(struct ioasid_ucmd *ucmd);

/* pinned.c */
struct ioasid_pinned {
	struct kref users;
	/* User VA range; in ctx->registrations while @registered. */
	struct interval_tree_node node;
	struct mm_struct *mm;
	unsigned long npages;
	bool registered;
	bool writable;
	struct page **pages;
};

struct ioasid_pinned *ioasid_pin(struct ioasid_ctx *ctx, unsigned long vaddr,
				 unsigned long length, bool writable);
void ioasid_pinned_get(struct ioasid_pinned *pinned);
void ioasid_pinned_put(struct ioasid_pinned *pinned);
struct ioasid_pinned *ioasid_pinned_cut(struct ioasid_pinned *pinned,
					unsigned long index);
struct ioasid_pinned *ioasid_pinned_find_registered(struct ioasid_ctx *ctx,
						    unsigned long vaddr,
						    unsigned long length);
void ioasid_unregister_all(struct ioasid_ctx *ctx);
int ioasid_register_memory_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_unregister_memory_ioctl(struct ioasid_ucmd *ucmd);

/* iova.c */
struct ioasid_area {
	struct interval_tree_node node;	/* IOVA range, in space->areas */
	struct ioasid_pinned *pinned;
	unsigned long pinned_index;	/* page of @pinned at node.start */
	int iommu_prot;
};

struct ioasid_domain;
int ioasid_area_map_domain(struct ioasid_area *area,
			   struct ioasid_domain *domain);
int ioasid_space_fill_domain(struct ioasid_space *space,
			     struct ioasid_domain *domain);
void ioasid_space_unmap_all(struct ioasid_space *space);
int ioasid_dma_map_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_dma_unmap_ioctl(struct ioasid_ucmd *ucmd);

/* device.c */
struct ioasid_domain {
	struct list_head link;		/* in space->domains */
	struct iommu_domain *domain;
	struct iommu_device *iommu;	/* the instance it belongs to */
	struct list_head devices;	/* struct ioasid_device */
};

struct ioasid_device {
	struct ioasid_object obj;
	struct ioasid_ctx *ctx;
	struct device *dev;
	struct iommu_group *group;
	/* Called when the binding ends, for whoever created the device. */
	void (*release)(struct ioasid_device *idev);
	u64 label;			/* the user's name for the device */
	/* Bound by a driver (VFIO); in ctx->external_devices. */
	bool external;
	bool revoked;			/* external, and the fd closed */
	struct list_head external_link;

	struct mutex attach_lock;	/* protects the fields below */
	struct ioasid_space *space;	/* attached to, or NULL */
	struct ioasid_domain *domain;
	struct list_head domain_link;	/* in domain->devices */
	struct ioasid_iova_range *reserved;
	unsigned int num_reserved;
};

struct ioasid_device *ioasid_device_bind(struct ioasid_ctx *ctx,
					 struct device *dev);
void ioasid_revoke_external_devices(struct ioasid_ctx *ctx);
int ioasid_device_attach(struct ioasid_device *idev,
			 struct ioasid_space *space);
int ioasid_device_detach(struct ioasid_device *idev, u32 expect_ioasid);
void ioasid_device_destroy(struct ioasid_object *obj);

/* mock.c and test.c, CONFIG_IOASID_TEST only */
#ifdef CONFIG_IOASID_TEST
int ioasid_mock_init(void);
void ioasid_mock_exit(void);
struct device *ioasid_mock_device_create(unsigned int instance,
					 const char *name);
bool ioasid_mock_domain_is_paging(struct iommu_domain *domain);
void ioasid_mock_device_destroy(struct device *dev);
int ioasid_mock_translate(struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t *phys, size_t *pgsize, int *prot);
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
