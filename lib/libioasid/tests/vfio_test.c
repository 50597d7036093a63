// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid tests: ioasid_vfio_cdev_path(), and the ioasid-vfio-bind tool
 * that hands a PCI device to vfio-pci before a program uses it.
 *
 * Address parsing and the missing-device answers are checked everywhere.
 * The binding itself is checked on QEMU's edu device (1234:11e8), the
 * device the project's real-device tests drive; a machine without one
 * skips those cases, as there is nothing there it may safely rebind.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "libioasid.h"
#include "pci.h"
#include "tap.h"

/* Domain ffff, last bus, device and function: no machine of ours has it. */
#define ABSENT_ADDR	"ffff:ff:1f.7"
#define NO_EDU		"no QEMU edu device (1234:11e8)"

static char edu[NAME_MAX + 1];
static int have_edu;

static int read_sysfs(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return 0;
	ok = !!fgets(buf, (int)len, f);
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* Does @path name the char device sysfs lists for @dev's VFIO cdev? */
static int cdev_matches_sysfs(const char *dev, const char *path)
{
	char sys[PATH_MAX], buf[32];
	unsigned int major_nr, minor_nr;
	const char *cdev = strrchr(path, '/');
	struct stat st;

	if (!cdev)
		return 0;
	snprintf(sys, sizeof(sys), "%s/%s/vfio-dev/%s/dev", PCI_DEVICES, dev,
		 cdev + 1);
	if (!read_sysfs(sys, buf, sizeof(buf)) ||
	    sscanf(buf, "%u:%u", &major_nr, &minor_nr) != 2)
		return 0;
	if (stat(path, &st) || !S_ISCHR(st.st_mode))
		return 0;
	return st.st_rdev == makedev(major_nr, minor_nr);
}

/* For an edu case: is there an edu device, and is vfio-pci its driver? */
static int edu_ready(void)
{
	if (!have_edu) {
		tap_skip(NO_EDU, "needs an edu device");
		return 0;
	}
	return tap_setup(vfio_pci_bind(edu), "hand %s to vfio-pci", edu);
}

/* Only a well-formed address ever becomes part of a sysfs path. */
static void malformed_address_is_einval(void)
{
	char buf[PATH_MAX];

	tap_is(ioasid_vfio_cdev_path(NULL, buf, sizeof(buf)), -EINVAL,
	       "cdev_path(NULL) is -EINVAL");
	tap_is(ioasid_vfio_cdev_path("not-a-pci-address", buf, sizeof(buf)),
	       -EINVAL, "cdev_path of a non-address is -EINVAL");
	tap_is(ioasid_vfio_cdev_path("0000:00:00.0/../..", buf, sizeof(buf)),
	       -EINVAL, "cdev_path with trailing path parts is -EINVAL");
	tap_is(ioasid_vfio_cdev_path("0000:00:20.0", buf, sizeof(buf)),
	       -EINVAL, "cdev_path with device number 0x20 is -EINVAL");
	tap_is(ioasid_vfio_cdev_path("0000:00:00.8", buf, sizeof(buf)),
	       -EINVAL, "cdev_path with function 8 is -EINVAL");
}

/* No buffer to write into is a caller bug, reported as such. */
static void no_buffer_is_einval(void)
{
	char buf[PATH_MAX];

	tap_ok(ioasid_vfio_cdev_path(ABSENT_ADDR, NULL, 64) == -EINVAL &&
	       ioasid_vfio_cdev_path(ABSENT_ADDR, buf, 0) == -EINVAL,
	       "cdev_path with no buffer is -EINVAL");
}

/* The documented choice: a missing device is -ENODEV, not -ENOENT. */
static void absent_device_is_enodev(void)
{
	char buf[PATH_MAX];

	tap_is(ioasid_vfio_cdev_path(ABSENT_ADDR, buf, sizeof(buf)), -ENODEV,
	       "cdev_path of an absent device is -ENODEV");
}

/* The sysfs lookups fail inside; the caller's errno must survive. */
static void errno_kept_on_failure(void)
{
	char buf[PATH_MAX];
	int ret;

	errno = EDOM;
	ret = ioasid_vfio_cdev_path(ABSENT_ADDR, buf, sizeof(buf));
	tap_ok(ret == -ENODEV && errno == EDOM,
	       "a failing cdev_path leaves errno as it was");
}

/* Present but not bound to VFIO is the same answer as absent. */
static void device_without_vfio_is_enodev(void)
{
	char buf[PATH_MAX], other[NAME_MAX + 1];

	if (find_pci_device(0, other, sizeof(other)))
		tap_is(ioasid_vfio_cdev_path(other, buf, sizeof(buf)), -ENODEV,
		       "cdev_path of %s (no VFIO driver) is -ENODEV", other);
	else
		tap_skip("every PCI device has a VFIO cdev",
			 "cdev_path of a device without VFIO driver");
}

/* Upper-case hex is accepted and still finds nothing here. */
static void upper_case_hex_is_accepted(void)
{
	char buf[PATH_MAX];

	tap_is(ioasid_vfio_cdev_path("FFFF:FF:1F.7", buf, sizeof(buf)),
	       -ENODEV, "cdev_path accepts upper-case hex");
}

/*
 * The tool takes a device's sysfs name as it is: anything that is not a
 * bare name is a usage error before it writes sysfs, and a name with no
 * device behind it fails and says why.
 */
static void bind_tool_refuses_bad_names(void)
{
	char err[256];
	int ret;

	ret = run_vfio_bind_tool(NULL, err, sizeof(err));
	if (ret == -ENOENT) {
		tap_skip(VFIO_BIND_TOOL " is not in PATH", "no name");
		tap_skip(VFIO_BIND_TOOL " is not in PATH", "a path");
		tap_skip(VFIO_BIND_TOOL " is not in PATH", "..");
		tap_skip(VFIO_BIND_TOOL " is not in PATH", "an absent device");
		return;
	}
	tap_is(ret, 2, "%s with no name is a usage error (exit 2)",
	       VFIO_BIND_TOOL);

	ret = run_vfio_bind_tool("0000:00:00.0/../..", err, sizeof(err));
	tap_ok(ret == 2 && strstr(err, "not a device name"),
	       "%s of a path is a usage error: exit %d, \"%.*s\"",
	       VFIO_BIND_TOOL, ret, (int)strcspn(err, "\n"), err);

	ret = run_vfio_bind_tool("..", err, sizeof(err));
	tap_ok(ret == 2 && strstr(err, "not a device name"),
	       "%s of \"..\" is a usage error: exit %d, \"%.*s\"",
	       VFIO_BIND_TOOL, ret, (int)strcspn(err, "\n"), err);

	ret = run_vfio_bind_tool(ABSENT_ADDR, err, sizeof(err));
	tap_ok(ret == 1 && strstr(err, strerror(ENODEV)),
	       "%s of an absent device fails with ENODEV: exit %d, \"%.*s\"",
	       VFIO_BIND_TOOL, ret, (int)strcspn(err, "\n"), err);
}

static void bind_tool_binds_edu(void)
{
	char err[256];
	int ret;

	if (!have_edu) {
		tap_skip(NO_EDU, "%s binds edu to vfio-pci", VFIO_BIND_TOOL);
		return;
	}
	tap_diag("edu device at %s", edu);

	/* The main job: after it, vfio-pci drives the device. */
	ret = run_vfio_bind_tool(edu, err, sizeof(err));
	tap_is(ret, 0, "%s %s", VFIO_BIND_TOOL, edu);
	tap_ok(driver_is(edu, "vfio-pci"), "edu is now bound to vfio-pci");

	/* Scripts call it unconditionally; a second call must be a no-op. */
	ret = run_vfio_bind_tool(edu, err, sizeof(err));
	tap_ok(!ret && driver_is(edu, "vfio-pci"),
	       "%s %s again is 0 and keeps vfio-pci: exit %d",
	       VFIO_BIND_TOOL, edu, ret);
}

/* A bound device has a cdev, named the way the kernel names it. */
static void edu_cdev_path(void)
{
	char path[PATH_MAX];
	unsigned int n;
	int ret;

	if (!edu_ready())
		return;
	path[0] = '\0';
	ret = ioasid_vfio_cdev_path(edu, path, sizeof(path));
	tap_ok(!ret && sscanf(path, "/dev/vfio/devices/vfio%u", &n) == 1,
	       "cdev_path(edu) is /dev/vfio/devices/vfioN: ret %d, \"%s\"",
	       ret, path);

	/* The name is the node that exists, not just a plausible string. */
	tap_ok(!ret && cdev_matches_sysfs(edu, path),
	       "the cdev path is the char device sysfs lists for edu: %s",
	       path);
}

/* Too small a buffer is -ERANGE, and no truncated path is left. */
static void cdev_path_too_small_is_erange(void)
{
	char small[8];

	if (!edu_ready())
		return;
	memset(small, 'x', sizeof(small));
	tap_ok(ioasid_vfio_cdev_path(edu, small, sizeof(small)) == -ERANGE &&
	       small[0] == 'x',
	       "cdev_path into 8 bytes is -ERANGE and leaves buf alone");
}

/* lspci's short form and upper case name the same device. */
static void cdev_path_of_short_address(void)
{
	char alt[NAME_MAX + 1], path[PATH_MAX], path2[PATH_MAX];
	size_t i;
	int ret;

	if (!edu_ready())
		return;
	if (!strncmp(edu, "0000:", 5))
		snprintf(alt, sizeof(alt), "%s", edu + 5);
	else
		snprintf(alt, sizeof(alt), "%s", edu);
	for (i = 0; alt[i]; i++)
		if (alt[i] >= 'a' && alt[i] <= 'f')
			alt[i] -= 'a' - 'A';
	path[0] = '\0';
	path2[0] = '\0';
	ioasid_vfio_cdev_path(edu, path, sizeof(path));
	ret = ioasid_vfio_cdev_path(alt, path2, sizeof(path2));
	tap_ok(!ret && path[0] && !strcmp(path, path2),
	       "cdev_path of the short, upper-case address gives the same path: \"%s\", ret %d",
	       alt, ret);
}

static const struct tap_case cases[] = {
	TAP_CASE(malformed_address_is_einval),
	TAP_CASE(no_buffer_is_einval),
	TAP_CASE(absent_device_is_enodev),
	TAP_CASE(errno_kept_on_failure),
	TAP_CASE(device_without_vfio_is_enodev),
	TAP_CASE(upper_case_hex_is_accepted),
	TAP_CASE(bind_tool_refuses_bad_names),
	TAP_CASE(bind_tool_binds_edu),
	TAP_CASE(edu_cdev_path),
	TAP_CASE(cdev_path_too_small_is_erange),
	TAP_CASE(cdev_path_of_short_address),
};

int main(void)
{
	have_edu = find_pci_device(1, edu, sizeof(edu));
	return tap_main(cases, TAP_NR_CASES(cases), NULL);
}
