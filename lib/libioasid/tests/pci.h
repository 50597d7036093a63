/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * PCI helpers shared by the libioasid tests: finding the QEMU edu device,
 * or a device VFIO does not drive, through sysfs; and handing a device to
 * vfio-pci with the ioasid-vfio-bind tool (tools/ioasid), which the
 * library leaves that job to.
 */
#ifndef LIBIOASID_TESTS_PCI_H
#define LIBIOASID_TESTS_PCI_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define VFIO_BIND_TOOL	"ioasid-vfio-bind"

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

/* Is @want the driver of @dev? */
static inline int driver_is(const char *dev, const char *want)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s/driver", PCI_DEVICES, dev);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	base = strrchr(target, '/');
	return !strcmp(base ? base + 1 : target, want);
}

/*
 * Run ioasid-vfio-bind, found through PATH, on @addr, or with no argument
 * if @addr is NULL; what it prints on stderr goes to @err. Returns its
 * exit status, or -errno if it did not run: -ENOENT if it is not in PATH.
 */
static inline int run_vfio_bind_tool(const char *addr, char *err, size_t len)
{
	char *const argv[] = { VFIO_BIND_TOOL, (char *)addr, NULL };
	posix_spawn_file_actions_t actions;
	int pipefd[2], status, ret;
	char scratch[256];
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDERR_FILENO);
	ret = posix_spawnp(&pid, VFIO_BIND_TOOL, &actions, NULL, argv,
			   environ);
	posix_spawn_file_actions_destroy(&actions);
	close(pipefd[1]);
	if (ret) {
		close(pipefd[0]);
		return -ret;
	}
	/* Read to the end, keeping what fits, so the tool never blocks. */
	for (;;) {
		if (n + 1 < len)
			r = read(pipefd[0], err + n, len - 1 - n);
		else
			r = read(pipefd[0], scratch, sizeof(scratch));
		if (r <= 0)
			break;
		if (n + 1 < len)
			n += r;
	}
	if (len)
		err[n] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -ECHILD;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -EINTR;
}

/*
 * Make vfio-pci the driver of @dev with ioasid-vfio-bind, as an
 * administrator would before a program opens the device: 0 or -errno.
 */
static inline int vfio_pci_bind(const char *dev)
{
	char err[256];
	int ret;

	ret = run_vfio_bind_tool(dev, err, sizeof(err));
	if (ret < 0)
		return ret;
	if (ret || !driver_is(dev, "vfio-pci")) {
		err[strcspn(err, "\n")] = '\0';
		fprintf(stdout, "# %s %s: exit %d: %s\n", VFIO_BIND_TOOL, dev,
			ret, err);
		return -EIO;
	}
	return 0;
}

#endif /* LIBIOASID_TESTS_PCI_H */
