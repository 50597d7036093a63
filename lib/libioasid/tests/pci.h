/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * PCI lookups shared by the libioasid tests: finding the QEMU edu device,
 * or a device VFIO does not drive, through sysfs.
 */
#ifndef LIBIOASID_TESTS_PCI_H
#define LIBIOASID_TESTS_PCI_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8

/* A hex sysfs attribute of a PCI device: 1 and its value, or 0. */
static inline int read_sysfs_hex(const char *dev, const char *attr,
				 unsigned int *val)
{
	char path[PATH_MAX];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s/%s", PCI_DEVICES, dev, attr);
	f = fopen(path, "re");
	if (!f)
		return 0;
	ok = fscanf(f, "%x", val) == 1;
	fclose(f);
	return ok;
}

static inline int has_vfio_dev(const char *dev)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/vfio-dev", PCI_DEVICES, dev);
	return !stat(path, &st);
}

/*
 * Find a PCI device: the edu device if @edu, else any device that has no
 * VFIO cdev. Returns 1 and its name in @name, or 0.
 */
static inline int find_pci_device(int edu, char *name, size_t len)
{
	unsigned int vendor, device;
	struct dirent *de;
	int found = 0;
	DIR *dir;

	dir = opendir(PCI_DEVICES);
	if (!dir)
		return 0;
	while (!found && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (edu)
			found = read_sysfs_hex(de->d_name, "vendor", &vendor) &&
				read_sysfs_hex(de->d_name, "device", &device) &&
				vendor == EDU_VENDOR && device == EDU_DEVICE;
		else
			found = !has_vfio_dev(de->d_name);
		if (found)
			snprintf(name, len, "%s", de->d_name);
	}
	closedir(dir);
	return found;
}

#endif /* LIBIOASID_TESTS_PCI_H */
