// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid tests: VFIO devices on an ioasid fd. ioasid_vfio_open_pci(),
 * ioasid_vfio_bind() and ioasid_vfio_unbind(), ioasid_vfio_attach() and
 * ioasid_vfio_detach(), and their PASID forms.
 *
 * The answers to bad file descriptors are checked everywhere. The rest
 * needs a device that may be handed to vfio-pci: QEMU's edu device
 * (1234:11e8) behind the test VM's emulated IOMMU. A machine without one
 * skips those checks. Every fd opened is closed again, so the tests that
 * run later can bind the device themselves.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "libioasid.h"

#include "pci.h"
#include "tap.h"

/* Plus one per entry of edu_checks[]. */
#define NR_COMMON_TESTS	10
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Domain ffff, last bus, device and function: no machine of ours has it. */
#define ABSENT_ADDR	"ffff:ff:1f.7"
/* Only ever passed where the fd must not be open. */
#define BAD_FD		-1
#define LABEL		0x1abe1ULL
#define PASID		5

/*
 * The fd number the next open(2) gets. A call that leaks an fd moves it,
 * so comparing it before and after shows whether a failure closed what
 * it had opened.
 */
static int next_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* Devices attached to @ioasid, or -1 if get_info fails. */
static int nr_devices(int fd, __u32 ioasid)
{
	struct ioasid_cmd_get_info info;

	if (ioasid_get_info(fd, ioasid, &info, NULL, 0))
		return -1;
	return (int)info.out_num_devices;
}

/* Anywhere: fds that are not open, or not what the call wants. */
static void test_bad_fds(int null_fd)
{
	int before, err, ret;

	tap_is(ioasid_vfio_bind(BAD_FD, null_fd, LABEL, NULL), -EBADF,
	       "bind on a closed vfio fd is -EBADF");
	tap_is(ioasid_vfio_unbind(BAD_FD), -EBADF,
	       "unbind on a closed vfio fd is -EBADF");
	tap_is(ioasid_vfio_attach(BAD_FD, 1), -EBADF,
	       "attach on a closed vfio fd is -EBADF");
	tap_is(ioasid_vfio_detach(BAD_FD, 1), -EBADF,
	       "detach on a closed vfio fd is -EBADF");
	tap_ok(ioasid_vfio_attach_pasid(BAD_FD, 1, PASID) == -EBADF &&
	       ioasid_vfio_detach_pasid(BAD_FD, 1, PASID) == -EBADF,
	       "attach_pasid and detach_pasid on a closed vfio fd are -EBADF");

	/* An open fd of another kind knows none of the VFIO ioctls. */
	tap_ok(ioasid_vfio_bind(null_fd, null_fd, LABEL, NULL) == -ENOTTY &&
	       ioasid_vfio_unbind(null_fd) == -ENOTTY &&
	       ioasid_vfio_attach(null_fd, 1) == -ENOTTY &&
	       ioasid_vfio_detach(null_fd, 1) == -ENOTTY,
	       "the VFIO calls on /dev/null are -ENOTTY");

	errno = EDOM;
	ret = ioasid_vfio_attach(BAD_FD, 1);
	tap_ok(ret == -EBADF && errno == EDOM,
	       "a failing attach leaves errno as it was: ret %d", ret);

	/* open_pci checks the address, then the ioasid fd, then sysfs. */
	tap_ok(ioasid_vfio_open_pci(NULL, BAD_FD, LABEL, NULL) == -EINVAL &&
	       ioasid_vfio_open_pci("bogus", BAD_FD, LABEL, NULL) == -EINVAL,
	       "open_pci of a NULL or malformed address is -EINVAL");
	tap_is(ioasid_vfio_open_pci(ABSENT_ADDR, BAD_FD, LABEL, NULL), -EBADF,
	       "open_pci with a closed ioasid fd is -EBADF");
	before = next_fd();
	errno = EDOM;
	ret = ioasid_vfio_open_pci(ABSENT_ADDR, null_fd, LABEL, NULL);
	err = errno;
	tap_ok(ret == -EINVAL && err == EDOM && next_fd() == before,
	       "open_pci with /dev/null as ioasid fd is -EINVAL, keeps errno, leaks no fd: ret %d",
	       ret);
}

/* What test_edu() checks, in order: also the SKIP lines when it cannot. */
static const char *const edu_checks[] = {
	"ioasid_open twice",
	"open_pci(edu) returns an fd and a non-zero device id",
	"the fd is edu's VFIO cdev, opened close-on-exec",
	"open_pci of an absent device is -ENODEV",
	"bind of the bound fd again is -EBUSY",
	"open_pci(edu) on a second ioasid fd is -EBUSY, keeps errno, leaks no fd",
	"open_pci(edu) again on the same ioasid fd is refused, leaks no fd",
	"bind of a second edu fd to a closed ioasid fd is -EBADF",
	"bind of a second edu fd to /dev/null is -EINVAL",
	"open_pci(edu) with a closed ioasid fd is -EBADF, leaks no fd",
	"ioasid_alloc",
	"attach",
	"the IOASID has one device attached",
	"attach again is -EBUSY",
	"detach",
	"the IOASID has no device attached",
	"detach again is -ENXIO",
	"attach to a freed IOASID is -ENOENT",
	"a failing attach leaves errno as it was",
	"attach_pasid is -EOPNOTSUPP",
	"attach_pasid attached nothing",
	"detach_pasid is -EOPNOTSUPP",
	"attach before unbind",
	"unbind",
	"unbind took the device off the IOASID",
	"attach after unbind is -ENODEV",
	"unbind again is harmless",
	"bind of the unbound fd again is -EBUSY until it is closed",
	"the device fd still answers VFIO_DEVICE_GET_INFO",
	"closing the attached device fd detaches it",
	"open_pci(edu) on the second ioasid fd now succeeds",
};

static unsigned int edu_next;

/* The name of the next edu check: the one list keeps SKIPs in step. */
static const char *edu_check(void)
{
	if (edu_next >= ARRAY_SIZE(edu_checks))
		return "check missing from edu_checks[]";
	return edu_checks[edu_next++];
}

static int same_cdev(int fd, const char *edu)
{
	char path[PATH_MAX];
	struct stat st, node;

	if (ioasid_vfio_cdev_path(edu, path, sizeof(path)) ||
	    fstat(fd, &st) || stat(path, &node))
		return 0;
	return S_ISCHR(st.st_mode) && st.st_rdev == node.st_rdev;
}

static void test_edu(const char *edu, int null_fd)
{
	char path[PATH_MAX];
	__u32 dev_id = 0, ioasid = 0, gone = 0;
	int fd1, fd2, vfd, other, before, err, ret;

	tap_diag("edu device at %s", edu);
	fd1 = ioasid_open();
	fd2 = ioasid_open();
	if (!tap_ok(fd1 >= 0 && fd2 >= 0, "%s: %d, %d", edu_check(), fd1,
		    fd2))
		tap_bail("no /dev/ioasid: %s", strerror(fd1 < 0 ? -fd1 : -fd2));

	vfd = ioasid_vfio_open_pci(edu, fd1, LABEL, &dev_id);
	if (!tap_ok(vfd >= 0 && dev_id, "%s: ret %d, id %u", edu_check(),
		    vfd, dev_id))
		tap_bail("cannot bind %s: %s", edu,
			 vfd < 0 ? strerror(-vfd) : "device id 0");
	tap_ok(same_cdev(vfd, edu) &&
	       (fcntl(vfd, F_GETFD) & FD_CLOEXEC), "%s", edu_check());

	tap_is(ioasid_vfio_open_pci(ABSENT_ADDR, fd1, LABEL, NULL), -ENODEV,
	       "%s", edu_check());

	/* Bound twice: the same fd, and the device through another fd. */
	tap_is(ioasid_vfio_bind(vfd, fd1, LABEL, NULL), -EBUSY, "%s",
	       edu_check());
	before = next_fd();
	errno = EDOM;
	ret = ioasid_vfio_open_pci(edu, fd2, LABEL, NULL);
	err = errno;
	tap_ok(ret == -EBUSY && err == EDOM && next_fd() == before,
	       "%s: ret %d", edu_check(), ret);
	if (ret >= 0)
		close(ret);
	/*
	 * The uAPI says EBUSY; VFIO's one-open rule for a cdev device may
	 * come first and answer EINVAL. Either way the device is not bound
	 * twice, and the first binding still works (attach below).
	 */
	ret = ioasid_vfio_open_pci(edu, fd1, LABEL, NULL);
	tap_ok((ret == -EBUSY || ret == -EINVAL) && next_fd() == before,
	       "%s: ret %d", edu_check(), ret);
	if (ret >= 0)
		close(ret);

	/* The kernel's answers for a bad ioasid fd, past open_pci's own. */
	if (ioasid_vfio_cdev_path(edu, path, sizeof(path)))
		path[0] = '\0';
	other = open(path, O_RDWR | O_CLOEXEC);
	tap_ok(other >= 0 &&
	       ioasid_vfio_bind(other, BAD_FD, LABEL, NULL) == -EBADF,
	       "%s: %s", edu_check(), path);
	tap_ok(other >= 0 &&
	       ioasid_vfio_bind(other, null_fd, LABEL, NULL) == -EINVAL,
	       "%s", edu_check());
	if (other >= 0)
		close(other);
	before = next_fd();
	ret = ioasid_vfio_open_pci(edu, BAD_FD, LABEL, NULL);
	tap_ok(ret == -EBADF && next_fd() == before, "%s: ret %d",
	       edu_check(), ret);

	tap_is(ioasid_alloc(fd1, &ioasid), 0, "%s", edu_check());
	tap_is(ioasid_vfio_attach(vfd, ioasid), 0, "%s", edu_check());
	tap_is(nr_devices(fd1, ioasid), 1, "%s", edu_check());
	tap_is(ioasid_vfio_attach(vfd, ioasid), -EBUSY, "%s", edu_check());
	tap_is(ioasid_vfio_detach(vfd, ioasid), 0, "%s", edu_check());
	tap_is(nr_devices(fd1, ioasid), 0, "%s", edu_check());
	tap_is(ioasid_vfio_detach(vfd, ioasid), -ENXIO, "%s", edu_check());

	/* An id that was an IOASID of this fd a moment ago. */
	ret = ioasid_alloc(fd1, &gone);
	if (!ret)
		ret = ioasid_free(fd1, gone);
	if (ret)
		tap_diag("alloc and free of a second IOASID: %s",
			 strerror(-ret));
	tap_is(ioasid_vfio_attach(vfd, gone), -ENOENT, "%s", edu_check());
	errno = EDOM;
	ret = ioasid_vfio_attach(vfd, gone);
	err = errno;
	tap_ok(ret == -ENOENT && err == EDOM, "%s: ret %d", edu_check(), ret);

	/* No PASID support in the kernel yet; nothing may change. */
	tap_is(ioasid_vfio_attach_pasid(vfd, ioasid, PASID), -EOPNOTSUPP,
	       "%s", edu_check());
	tap_is(nr_devices(fd1, ioasid), 0, "%s", edu_check());
	tap_is(ioasid_vfio_detach_pasid(vfd, ioasid, PASID), -EOPNOTSUPP,
	       "%s", edu_check());

	/*
	 * Unbound, the device leaves the ioasid fd for good; the device fd
	 * keeps it (DMA blocked) until it is closed.
	 */
	tap_is(ioasid_vfio_attach(vfd, ioasid), 0, "%s", edu_check());
	tap_is(ioasid_vfio_unbind(vfd), 0, "%s", edu_check());
	tap_is(nr_devices(fd1, ioasid), 0, "%s", edu_check());
	tap_is(ioasid_vfio_attach(vfd, ioasid), -ENODEV, "%s", edu_check());
	tap_is(ioasid_vfio_unbind(vfd), 0, "%s", edu_check());
	tap_is(ioasid_vfio_bind(vfd, fd1, LABEL + 1, NULL), -EBUSY, "%s",
	       edu_check());
	{
		struct vfio_device_info info = { .argsz = sizeof(info) };

		tap_ok(!ioctl(vfd, VFIO_DEVICE_GET_INFO, &info) &&
		       info.num_regions > 0, "%s", edu_check());
	}

	/* Closing the device fd is the unbind that always happens. */
	before = nr_devices(fd1, ioasid);
	close(vfd);
	ret = nr_devices(fd1, ioasid);
	tap_ok(before == 0 && ret == 0, "%s: %d devices before, %d after",
	       edu_check(), before, ret);
	dev_id = 0;
	vfd = ioasid_vfio_open_pci(edu, fd2, LABEL + 2, &dev_id);
	tap_ok(vfd >= 0 && dev_id, "%s: ret %d, id %u", edu_check(), vfd,
	       dev_id);
	if (vfd >= 0)
		close(vfd);
	close(fd2);
	close(fd1);
}

int main(void)
{
	char edu[NAME_MAX + 1];
	int null_fd;
	size_t i;

	tap_plan(NR_COMMON_TESTS + ARRAY_SIZE(edu_checks));

	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		tap_bail("open /dev/null: %s", strerror(errno));

	test_bad_fds(null_fd);

	if (find_pci_device(1, edu, sizeof(edu))) {
		test_edu(edu, null_fd);
	} else {
		for (i = 0; i < ARRAY_SIZE(edu_checks); i++)
			tap_skip("no QEMU edu device (1234:11e8)", "%s",
				 edu_checks[i]);
	}

	close(null_fd);
	return tap_finish();
}
