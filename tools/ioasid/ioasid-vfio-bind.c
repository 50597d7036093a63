// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioasid-vfio-bind: hand PCI devices to vfio-pci, so that a program can
 * open their VFIO device cdevs and bind them to an ioasid fd.
 *
 *   ioasid-vfio-bind PCI_ADDR...
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
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCI_DEVICES_DIR		"/sys/bus/pci/devices"
#define PCI_DRIVERS_PROBE	"/sys/bus/pci/drivers_probe"
#define VFIO_PCI_DRIVER		"vfio-pci"
#define VFIO_PCI_DRIVER_DIR	"/sys/bus/pci/drivers/" VFIO_PCI_DRIVER

/* "ffffffff:ff:1f.7" and its NUL, with room to spare. */
#define PCI_NAME_LEN		32

#define EXIT_NOT_BOUND		1
#define EXIT_USAGE		2

static const char *prog = "ioasid-vfio-bind";

/*
 * Read one hex field of 1 to 8 digits at *s and step past it. Stricter
 * than strtoul(), which would let signs, spaces and "0x" through into a
 * path we build.
 */
static int parse_hex_field(const char **s, unsigned long *val)
{
	const char *p = *s;
	unsigned long v = 0;
	int n = 0;

	while (isxdigit((unsigned char)*p)) {
		if (++n > 8)
			return -EINVAL;
		v = v * 16 + (isdigit((unsigned char)*p) ? *p - '0' :
			      tolower((unsigned char)*p) - 'a' + 10);
		p++;
	}
	if (!n)
		return -EINVAL;
	*s = p;
	*val = v;
	return 0;
}

/*
 * Turn "[domain:]bus:dev.fn" into the name sysfs uses. Only names this
 * accepts ever reach a path, so an argument cannot walk out of sysfs.
 */
static int pci_name_canon(const char *addr, char *name, size_t len)
{
	unsigned long field[3], domain, bus, dev, fn;
	const char *p = addr;
	int nr = 0;
	int ret;

	for (;;) {
		if (nr == 3)
			return -EINVAL;
		ret = parse_hex_field(&p, &field[nr++]);
		if (ret)
			return ret;
		if (*p != ':')
			break;
		p++;
	}
	if (nr < 2 || *p++ != '.')
		return -EINVAL;
	ret = parse_hex_field(&p, &fn);
	if (ret || *p)
		return -EINVAL;

	domain = nr == 3 ? field[0] : 0;
	bus = field[nr - 2];
	dev = field[nr - 1];
	if (bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	if (snprintf(name, len, "%04lx:%02lx:%02lx.%lx",
		     domain, bus, dev, fn) >= (int)len)
		return -EINVAL;
	return 0;
}

/* A device that is not there is -ENODEV. */
static int pci_dev_dir(const char *name, char *path, size_t len)
{
	struct stat st;

	if (snprintf(path, len, "%s/%s", PCI_DEVICES_DIR, name) >= (int)len)
		return -ENAMETOOLONG;
	if (stat(path, &st))
		return errno == ENOENT ? -ENODEV : -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENODEV;
	return 0;
}

/* The bound driver's name, or "" when no driver has the device. */
static int pci_driver_name(const char *dev_dir, char *drv, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/driver", dev_dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	n = readlink(path, target, sizeof(target) - 1);
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

/* sysfs takes a store in one write(); a short one means it was refused. */
static int sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd;
	int ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
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

static int sysfs_write_attr(const char *dir, const char *attr,
			    const char *val)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, attr) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	return sysfs_write(path, val);
}

/*
 * Bind the device at @pci_addr to vfio-pci. Returns 0 or -errno: -EINVAL
 * for a malformed address, -ENODEV if there is no such device, -ENXIO if
 * vfio-pci is not loaded (nothing changed), -EIO if it refused the device.
 */
static int vfio_pci_bind(const char *pci_addr)
{
	char name[PCI_NAME_LEN], dev_dir[PATH_MAX], drv[NAME_MAX + 1];
	int unbound = 0;
	int ret;

	ret = pci_name_canon(pci_addr, name, sizeof(name));
	if (ret)
		return ret;
	ret = pci_dev_dir(name, dev_dir, sizeof(dev_dir));
	if (ret)
		return ret;
	ret = pci_driver_name(dev_dir, drv, sizeof(drv));
	if (ret)
		return ret;
	if (!strcmp(drv, VFIO_PCI_DRIVER))
		return 0;
	/* Check before unbinding anything: without it the device would idle. */
	if (access(VFIO_PCI_DRIVER_DIR, F_OK))
		return errno == ENOENT ? -ENXIO : -errno;

	/* The override makes vfio-pci the only driver the reprobe can pick. */
	ret = sysfs_write_attr(dev_dir, "driver_override", VFIO_PCI_DRIVER);
	if (ret)
		return ret;
	if (drv[0]) {
		ret = sysfs_write_attr(dev_dir, "driver/unbind", name);
		if (ret)
			goto err_override;
		unbound = 1;
	}
	ret = sysfs_write(PCI_DRIVERS_PROBE, name);
	if (ret)
		goto err_override;

	/* drivers_probe succeeds even when no driver took the device. */
	ret = pci_driver_name(dev_dir, drv, sizeof(drv));
	if (ret)
		goto err_override;
	if (strcmp(drv, VFIO_PCI_DRIVER)) {
		ret = -EIO;
		goto err_override;
	}
	return 0;

err_override:
	/* Best effort: let the device go back to the driver it had. */
	sysfs_write_attr(dev_dir, "driver_override", "\n");
	if (unbound)
		sysfs_write(PCI_DRIVERS_PROBE, name);
	return ret;
}

static const char *why(int err)
{
	switch (err) {
	case EINVAL:
		return "not a PCI address";
	case ENODEV:
		return "no such PCI device";
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
	fprintf(f, "usage: %s PCI_ADDR...\n"
		"Bind each PCI device ([domain:]bus:device.function) to vfio-pci.\n",
		prog);
}

int main(int argc, char **argv)
{
	const char *hint;
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
	for (i = 1; i < argc; i++) {
		ret = vfio_pci_bind(argv[i]);
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
	return status;
}
