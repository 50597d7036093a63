// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Build check only, never run: libioasid.h must compile cleanly as C++
 * and its functions must link from C++ by their C names.
 */
#include <cerrno>
#include <cstdio>

#include "libioasid.h"

int main()
{
	struct ioasid_get_info info;
	struct ioasid_iova_range range;
	const char *name = ioasid_extension_name(IOASID_EXT_NONE);
	char path[64];
	__u32 version = 0, id = 0;
	int fd = ioasid_open();

	/* Every public function, so a missing extern "C" cannot hide. */
	if (fd >= 0) {
		ioasid_get_api_version(fd, &version);
		ioasid_check_extension(fd, IOASID_EXT_NONE);
		if (!ioasid_alloc(fd, &id)) {
			ioasid_get_info(fd, id, &info, &range, 1);
			ioasid_free(fd, id);
		}
	}
	if (ioasid_vfio_cdev_path("0000:00:00.0", path, sizeof(path)) == 0)
		ioasid_vfio_pci_bind("0000:00:00.0");
	std::printf("%s %u\n", name ? name : "?", version);
	return fd < 0 ? -fd == ENOENT : 0;
}
