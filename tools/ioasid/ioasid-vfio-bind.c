// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioasid-vfio-bind: hand PCI devices to vfio-pci, so that a program can
 * open their VFIO device cdevs and bind them to an ioasid fd.
 *
 *   ioasid-vfio-bind DEVICE...
 *
 * A DEVICE is the name of the device's entry in /sys/bus/pci/devices,
 * "0000:00:04.0" say, taken as it is: the tool does not parse it. A bare
 * name is all it takes; anything with a '/' in it, "." or ".." is refused
 * before any device is touched, so an argument cannot reach outside that
 * directory.
 *
 * Which driver drives a device is the administrator's policy, and needs
 * root; that is why it is a tool and not part of libioasid. For each
 * device it writes "vfio-pci" to driver_override, unbinds the current
 * driver and reprobes the device through sysfs, then checks that vfio-pci
 * took it. A device vfio-pci drives already is left alone. If vfio-pci
 * does not take a device, the override is cleared and the device is
 * reprobed, so that its old driver can have it back.
 *
 * Exit status: 0 if every device is bound to vfio-pci, 1 if one is not
 * (the reason is printed), 2 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PCI_DEVICES_DIR		"/sys/bus/pci/devices"
#define PCI_DRIVERS_PROBE	"/sys/bus/pci/drivers_probe"
#define VFIO_PCI_DRIVER		"vfio-pci"
#define VFIO_PCI_DRIVER_DIR	"/sys/bus/pci/drivers/" VFIO_PCI_DRIVER

#define EXIT_NOT_BOUND		1
#define EXIT_USAGE		2

static const char *prog = "ioasid-vfio-bind";

/*
 * Why @name cannot be an entry of PCI_DEVICES_DIR, or NULL if it can.
 * Only names that pass are ever opened, and only relative to that
 * directory.
 */
static const char *bad_name(const char *name)
{
	if (!name[0])
		return "the name is empty";
	if (strchr(name, '/'))
		return "a name has no '/' in it";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "\".\" and \"..\" are not devices";
	if (strlen(name) > NAME_MAX)
		return "the name is too long";
	return NULL;
}

/* The bound driver's name, or "" when no driver has the device. */
static int pci_driver_name(int dev, char *drv, size_t len)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlinkat(dev, "driver", target, sizeof(target) - 1);
	if (n < 0) {
		if (errno != ENOENT)
			return -errno;
		drv[0] = '\0';
		return 0;
	}
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (snprintf(drv, len, "%s", base) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Write @val to @path, relative to the directory @dir or AT_FDCWD. sysfs
 * takes a store in one write(); a short one means it was refused.
 */
static int sysfs_write(int dir, const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd;
	int ret = 0;

	fd = openat(dir, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

/*
 * Bind the device @name, an entry of the directory @devices, to vfio-pci.
 * Returns 0 or -errno: -ENODEV if there is no such device, -ENXIO if
 * vfio-pci is not loaded (nothing changed), -EIO if it refused the device.
 */
static int vfio_pci_bind(int devices, const char *name)
{
	char drv[NAME_MAX + 1];
	int unbound = 0;
	int dev, ret;

	dev = openat(devices, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dev < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENODEV : -errno;
	ret = pci_driver_name(dev, drv, sizeof(drv));
	if (ret || !strcmp(drv, VFIO_PCI_DRIVER))
		goto out;
	/* Check before unbinding anything: without it the device would idle. */
	if (access(VFIO_PCI_DRIVER_DIR, F_OK)) {
		ret = errno == ENOENT ? -ENXIO : -errno;
		goto out;
	}

	/* The override makes vfio-pci the only driver the reprobe can pick. */
	ret = sysfs_write(dev, "driver_override", VFIO_PCI_DRIVER);
	if (ret)
		goto out;
	if (drv[0]) {
		ret = sysfs_write(dev, "driver/unbind", name);
		if (ret)
			goto err_override;
		unbound = 1;
	}
	ret = sysfs_write(AT_FDCWD, PCI_DRIVERS_PROBE, name);
	if (ret)
		goto err_override;

	/* drivers_probe succeeds even when no driver took the device. */
	ret = pci_driver_name(dev, drv, sizeof(drv));
	if (!ret && strcmp(drv, VFIO_PCI_DRIVER))
		ret = -EIO;
	if (!ret)
		goto out;

err_override:
	/* Best effort: let the device go back to the driver it had. */
	sysfs_write(dev, "driver_override", "\n");
	if (unbound)
		sysfs_write(AT_FDCWD, PCI_DRIVERS_PROBE, name);
out:
	close(dev);
	return ret;
}

static const char *why(int err)
{
	switch (err) {
	case ENODEV:
		return "no such device in " PCI_DEVICES_DIR;
	case ENXIO:
		return "the vfio-pci driver is not loaded";
	case EIO:
		return "vfio-pci did not take the device; see the kernel log";
	default:
		return NULL;
	}
}

static void print_usage(FILE *f)
{
	fprintf(f, "usage: %s DEVICE...\n"
		"Bind each PCI device to vfio-pci. A DEVICE is its name in %s,\n"
		"such as 0000:00:04.0.\n",
		prog, PCI_DEVICES_DIR);
}

int main(int argc, char **argv)
{
	const char *hint;
	int devices, devices_err = 0;
	int status = 0;
	int i, ret;

	if (argc > 1 && (!strcmp(argv[1], "-h") ||
			 !strcmp(argv[1], "--help"))) {
		print_usage(stdout);
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-') {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	/* Every argument is checked before any device is touched. */
	for (i = 1; i < argc; i++) {
		hint = bad_name(argv[i]);
		if (hint) {
			fprintf(stderr, "%s: \"%s\": not a device name: %s\n",
				prog, argv[i], hint);
			status = EXIT_USAGE;
		}
	}
	if (status) {
		print_usage(stderr);
		return status;
	}

	/* No PCI bus in sysfs: every device named is absent. */
	devices = open(PCI_DEVICES_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (devices < 0)
		devices_err = errno == ENOENT ? -ENODEV : -errno;
	for (i = 1; i < argc; i++) {
		ret = devices < 0 ? devices_err : vfio_pci_bind(devices, argv[i]);
		if (!ret)
			continue;
		hint = why(-ret);
		if (hint)
			fprintf(stderr, "%s: %s: %s (%s)\n", prog, argv[i],
				strerror(-ret), hint);
		else
			fprintf(stderr, "%s: %s: %s\n", prog, argv[i],
				strerror(-ret));
		status = EXIT_NOT_BOUND;
	}
	if (devices >= 0)
		close(devices);
	return status;
}
