/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * The bind data of IOASID_PGTABLE_VTD_S1: struct iommu_hwpt_vtd_s1 of
 * <linux/iommufd.h>, which the headers distributions ship may lack (Linux
 * 6.1's have no iommufd.h at all). Never installed.
 *
 * The library always uses its own copy, under a name of its own so that
 * it cannot clash with the kernel's when both are seen. The static_asserts
 * below check the copy against the ABI in plain numbers, and, when the
 * build finds a <linux/iommufd.h> that has the struct (as `make check`'s
 * does), against the kernel's definition too.
 */
#ifndef LIBIOASID_VTD_S1_H
#define LIBIOASID_VTD_S1_H

#include <assert.h>
#include <stddef.h>
#include <linux/types.h>

/* Quoted: src/ has no linux/, so this finds what <> would. */
#if defined(__has_include)
#if __has_include("linux/iommufd.h")
#include <linux/iommufd.h>
#endif
#endif

struct libioasid_vtd_s1 {
	__aligned_u64 flags;
	__aligned_u64 pgtbl_addr;
	__u32 addr_width;
	__u32 __reserved;
};

/*
 * The ABI in plain numbers, then, where the headers have the kernel's
 * struct, against it; each field's offset and size.
 */
#define VTD_S1_OFFSET(field, offset)					\
	static_assert(offsetof(struct libioasid_vtd_s1, field) == (offset), \
		      "libioasid_vtd_s1." #field " moved in the ABI")
#define VTD_S1_SIZE(field, size)					\
	static_assert(sizeof((*(struct libioasid_vtd_s1 *)0).field) ==	\
		      (size),						\
		      "libioasid_vtd_s1." #field " resized in the ABI")

static_assert(sizeof(struct libioasid_vtd_s1) == 24,
	      "struct libioasid_vtd_s1 differs from the ABI");
VTD_S1_OFFSET(flags, 0);
VTD_S1_SIZE(flags, 8);
VTD_S1_OFFSET(pgtbl_addr, 8);
VTD_S1_SIZE(pgtbl_addr, 8);
VTD_S1_OFFSET(addr_width, 16);
VTD_S1_SIZE(addr_width, 4);
VTD_S1_OFFSET(__reserved, 20);
VTD_S1_SIZE(__reserved, 4);

/*
 * The struct has no macro of its own to test for. IOMMU_HWPT_INVALIDATE
 * came with the VT-d invalidation entries, no earlier than the bind data:
 * an iommufd.h that defines it has the struct, an older one may not.
 */
#ifdef IOMMU_HWPT_INVALIDATE
static_assert(sizeof(struct libioasid_vtd_s1) ==
	      sizeof(struct iommu_hwpt_vtd_s1),
	      "struct libioasid_vtd_s1 differs from <linux/iommufd.h>");
VTD_S1_OFFSET(flags, offsetof(struct iommu_hwpt_vtd_s1, flags));
VTD_S1_SIZE(flags, sizeof((*(struct iommu_hwpt_vtd_s1 *)0).flags));
VTD_S1_OFFSET(pgtbl_addr, offsetof(struct iommu_hwpt_vtd_s1, pgtbl_addr));
VTD_S1_SIZE(pgtbl_addr,
	    sizeof((*(struct iommu_hwpt_vtd_s1 *)0).pgtbl_addr));
VTD_S1_OFFSET(addr_width, offsetof(struct iommu_hwpt_vtd_s1, addr_width));
VTD_S1_SIZE(addr_width,
	    sizeof((*(struct iommu_hwpt_vtd_s1 *)0).addr_width));
VTD_S1_OFFSET(__reserved, offsetof(struct iommu_hwpt_vtd_s1, __reserved));
VTD_S1_SIZE(__reserved,
	    sizeof((*(struct iommu_hwpt_vtd_s1 *)0).__reserved));
#endif /* IOMMU_HWPT_INVALIDATE */

#endif /* LIBIOASID_VTD_S1_H */
