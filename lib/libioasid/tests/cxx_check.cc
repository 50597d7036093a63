// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Build check only, never run: libioasid.h must compile cleanly as C++
 * and its functions must link from C++ by their C names.
 */
#include <cerrno>
#include <cstdio>
#include <unistd.h>

#include "libioasid.h"

int main()
{
	struct ioasid_cmd_device_get_info dev_info;
	struct ioasid_cmd_get_info info;
	struct ioasid_iova_range range;
	const char *name = ioasid_extension_name(IOASID_EXT_NONE);
	char path[64];
	__u64 unmapped = 0;
	__u32 version = 0, id = 0, child = 0, done = 1;
	int fd = ioasid_open();

	/* Every public function, so a missing extern "C" cannot hide. */
	if (fd >= 0) {
		ioasid_get_api_version(fd, &version);
		ioasid_check_extension(fd, IOASID_EXT_NONE);
		if (!ioasid_alloc(fd, &id)) {
			ioasid_get_info(fd, id, &info, &range, 1);
			ioasid_register_memory(fd, path, sizeof(path));
			ioasid_dma_map(fd, id, path, 0, sizeof(path),
				       IOASID_DMA_MAP_READ);
			ioasid_dma_unmap(fd, id, 0, sizeof(path), &unmapped);
			ioasid_dma_unmap_all(fd, id, NULL);
			ioasid_map_buffer(fd, id, path, sizeof(path), 0, true);
			ioasid_unmap_buffer(fd, id, 0, sizeof(path));
			ioasid_unregister_memory(fd, path, sizeof(path));
			if (!ioasid_create_nesting(fd, id,
						   IOASID_NESTING_SOFTWARE,
						   &child)) {
				ioasid_dma_map_from_parent(fd, child, 0, 0,
							   sizeof(path),
							   IOASID_DMA_MAP_READ);
				ioasid_free(fd, child);
			}
			if (!ioasid_create_nesting(fd, id,
						   IOASID_NESTING_HARDWARE,
						   &child)) {
				ioasid_bind_pgtable(fd, child,
						    IOASID_PGTABLE_VTD_S1,
						    path, sizeof(path));
				ioasid_bind_pgtable_vtd_s1(fd, child, 0, 48, 0);
				ioasid_invalidate_cache(fd, child, path, 24,
							&done);
				ioasid_unbind_pgtable(fd, child);
				ioasid_bind_pasid_table(fd, child, 31, path,
							sizeof(path));
				ioasid_unbind_pasid_table(fd, child);
				ioasid_free(fd, child);
			}
			{
				const struct ioasid_fault_record *rec;
				struct ioasid_page_response resp = {};
				struct ioasid_fault_ring ring;
				unsigned int answered = 0;

				if (!ioasid_fault_ring_setup(fd, 2, -1, &id, 1,
							     &ring)) {
					if (!ioasid_fault_peek(&ring, &rec))
						ioasid_fault_advance(&ring, 1);
					ioasid_fault_peek_batch(&ring, &rec, 1);
					ioasid_page_respond(&ring, &resp, 1,
							    &answered);
					unmapped += ioasid_fault_lost(&ring);
					ioasid_fault_ring_free(&ring);
				}
			}
			ioasid_free(fd, id);
		}
	}
	/* Only a device VFIO drives already: the library binds no driver. */
	if (ioasid_vfio_cdev_path("0000:00:00.0", path, sizeof(path)) == 0) {
		int vfd;

		vfd = ioasid_vfio_open_pci("0000:00:00.0", fd, 1, &id);
		if (vfd >= 0) {
			ioasid_device_get_info(fd, id, &dev_info);
			ioasid_vfio_attach(vfd, id);
			ioasid_vfio_detach(vfd, id);
			ioasid_vfio_attach_pasid(vfd, id, 1);
			ioasid_vfio_detach_pasid(vfd, id, 1);
			ioasid_vfio_unbind(vfd);
			ioasid_vfio_bind(vfd, fd, 1, NULL);
			close(vfd);
		}
	}
	std::printf("%s %u %llu\n", name ? name : "?", version,
		    (unsigned long long)unmapped);
	return fd < 0 ? -fd == ENOENT : 0;
}
