// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libioasid tests: VFIO devices on an ioasid fd. ioasid_vfio_open_pci(),
 * ioasid_vfio_bind() and ioasid_vfio_unbind(), ioasid_vfio_attach() and
 * ioasid_vfio_detach(), and their PASID forms.
 *
 * The answers to bad file descriptors are checked everywhere. The rest
 * needs a device that may be handed to vfio-pci: QEMU's edu device
 * (1234:11e8) behind the test VM's emulated IOMMU, which main() hands to
 * vfio-pci with ioasid-vfio-bind, as an administrator would. A machine
 * without one skips those cases. Each edu case starts from two fresh
 * ioasid fds and a fresh device fd bound to the first, and closes them
 * all again, so the tests that run later can bind the device themselves.
 */
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

/* Domain ffff, last bus, device and function: no machine of ours has it. */
#define ABSENT_ADDR	"ffff:ff:1f.7"
/* Only ever passed where the fd must not be open. */
#define BAD_FD		-1
#define LABEL		0x1abe1ULL
#define PASID		5
#define NO_EDU		"no QEMU edu device (1234:11e8)"

static char edu[NAME_MAX + 1];
static int have_edu;
static int null_fd = -1;

/* What an edu case starts from. */
struct edu_fixture {
	int fd1, fd2;		/* two ioasid fds */
	int vfd;		/* edu's device fd, bound to fd1 */
	__u32 dev_id;		/* its id on fd1 */
};

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

static int same_cdev(int fd, const char *dev)
{
	char path[PATH_MAX];
	struct stat st, node;

	if (ioasid_vfio_cdev_path(dev, path, sizeof(path)) ||
	    fstat(fd, &st) || stat(path, &node))
		return 0;
	return S_ISCHR(st.st_mode) && st.st_rdev == node.st_rdev;
}

/*
 * Set up @f for an edu case; a step that fails is reported as the case's
 * failure. Returns whether the case can go on.
 */
static int edu_setup(struct edu_fixture *f)
{
	f->fd1 = -1;
	f->fd2 = -1;
	f->vfd = -1;
	f->dev_id = 0;
	if (!have_edu) {
		tap_skip(NO_EDU, "needs an edu device");
		return 0;
	}
	f->fd1 = ioasid_open();
	if (!tap_setup(f->fd1 < 0 ? f->fd1 : 0, "ioasid_open"))
		return 0;
	f->fd2 = ioasid_open();
	if (!tap_setup(f->fd2 < 0 ? f->fd2 : 0, "ioasid_open"))
		return 0;
	f->vfd = ioasid_vfio_open_pci(edu, f->fd1, LABEL, &f->dev_id);
	return tap_setup(f->vfd < 0 ? f->vfd : 0, "open_pci(%s)", edu);
}

static void edu_teardown(struct edu_fixture *f)
{
	if (f->vfd >= 0)
		close(f->vfd);
	if (f->fd2 >= 0)
		close(f->fd2);
	if (f->fd1 >= 0)
		close(f->fd1);
}

/* Anywhere: fds that are not open. */
static void closed_vfio_fd_is_ebadf(void)
{
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
}

/* An open fd of another kind knows none of the VFIO ioctls. */
static void foreign_fd_is_enotty(void)
{
	tap_ok(ioasid_vfio_bind(null_fd, null_fd, LABEL, NULL) == -ENOTTY &&
	       ioasid_vfio_unbind(null_fd) == -ENOTTY &&
	       ioasid_vfio_attach(null_fd, 1) == -ENOTTY &&
	       ioasid_vfio_detach(null_fd, 1) == -ENOTTY,
	       "the VFIO calls on /dev/null are -ENOTTY");
}

static void errno_kept_on_failure(void)
{
	int ret;

	errno = EDOM;
	ret = ioasid_vfio_attach(BAD_FD, 1);
	tap_ok(ret == -EBADF && errno == EDOM,
	       "a failing attach leaves errno as it was: ret %d", ret);
}

/* open_pci checks the address, then the ioasid fd, then sysfs. */
static void open_pci_checks_address_first(void)
{
	tap_ok(ioasid_vfio_open_pci(NULL, BAD_FD, LABEL, NULL) == -EINVAL &&
	       ioasid_vfio_open_pci("bogus", BAD_FD, LABEL, NULL) == -EINVAL,
	       "open_pci of a NULL or malformed address is -EINVAL");
}

static void open_pci_checks_ioasid_fd(void)
{
	int before, err, ret;

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

/* The one call a VMM makes per device. */
static void open_pci_binds_edu(void)
{
	__u32 dev_id = 0;
	int fd1, fd2, vfd;

	if (!have_edu) {
		tap_skip(NO_EDU, "open_pci(edu)");
		return;
	}
	tap_diag("edu device at %s", edu);
	fd1 = ioasid_open();
	fd2 = ioasid_open();
	if (!tap_ok(fd1 >= 0 && fd2 >= 0, "ioasid_open twice: %d, %d", fd1,
		    fd2))
		tap_bail("no /dev/ioasid: %s", strerror(fd1 < 0 ? -fd1 : -fd2));

	vfd = ioasid_vfio_open_pci(edu, fd1, LABEL, &dev_id);
	if (!tap_ok(vfd >= 0 && dev_id,
		    "open_pci(edu) returns an fd and a non-zero device id: ret %d, id %u",
		    vfd, dev_id))
		tap_bail("cannot bind %s: %s", edu,
			 vfd < 0 ? strerror(-vfd) : "device id 0");
	tap_ok(same_cdev(vfd, edu) && (fcntl(vfd, F_GETFD) & FD_CLOEXEC),
	       "the fd is edu's VFIO cdev, opened close-on-exec");
	close(vfd);
	close(fd2);
	close(fd1);
}

static void open_pci_of_absent_device(void)
{
	struct edu_fixture f;

	if (edu_setup(&f))
		tap_is(ioasid_vfio_open_pci(ABSENT_ADDR, f.fd1, LABEL, NULL),
		       -ENODEV, "open_pci of an absent device is -ENODEV");
	edu_teardown(&f);
}

/* Bound twice: the same fd, and the device through another fd. */
static void bound_device_is_busy(void)
{
	struct edu_fixture f;
	int before, err, ret;

	if (!edu_setup(&f))
		goto out;
	tap_is(ioasid_vfio_bind(f.vfd, f.fd1, LABEL, NULL), -EBUSY,
	       "bind of the bound fd again is -EBUSY");
	before = next_fd();
	errno = EDOM;
	ret = ioasid_vfio_open_pci(edu, f.fd2, LABEL, NULL);
	err = errno;
	tap_ok(ret == -EBUSY && err == EDOM && next_fd() == before,
	       "open_pci(edu) on a second ioasid fd is -EBUSY, keeps errno, leaks no fd: ret %d",
	       ret);
	if (ret >= 0)
		close(ret);
	/*
	 * The uAPI says EBUSY; VFIO's one-open rule for a cdev device may
	 * come first and answer EINVAL. Either way the device is not bound
	 * twice.
	 */
	ret = ioasid_vfio_open_pci(edu, f.fd1, LABEL, NULL);
	tap_ok((ret == -EBUSY || ret == -EINVAL) && next_fd() == before,
	       "open_pci(edu) again on the same ioasid fd is refused, leaks no fd: ret %d",
	       ret);
	if (ret >= 0)
		close(ret);
out:
	edu_teardown(&f);
}

/* The kernel's answers for a bad ioasid fd, past open_pci's own. */
static void bind_checks_ioasid_fd(void)
{
	struct edu_fixture f;
	char path[PATH_MAX];
	int other, before, ret;

	if (!edu_setup(&f))
		goto out;
	if (ioasid_vfio_cdev_path(edu, path, sizeof(path)))
		path[0] = '\0';
	other = open(path, O_RDWR | O_CLOEXEC);
	tap_ok(other >= 0 &&
	       ioasid_vfio_bind(other, BAD_FD, LABEL, NULL) == -EBADF,
	       "bind of a second edu fd to a closed ioasid fd is -EBADF: %s",
	       path);
	tap_ok(other >= 0 &&
	       ioasid_vfio_bind(other, null_fd, LABEL, NULL) == -EINVAL,
	       "bind of a second edu fd to /dev/null is -EINVAL");
	if (other >= 0)
		close(other);
	before = next_fd();
	ret = ioasid_vfio_open_pci(edu, BAD_FD, LABEL, NULL);
	tap_ok(ret == -EBADF && next_fd() == before,
	       "open_pci(edu) with a closed ioasid fd is -EBADF, leaks no fd: ret %d",
	       ret);
out:
	edu_teardown(&f);
}

static void attach_and_detach(void)
{
	struct edu_fixture f;
	__u32 ioasid = 0;

	if (!edu_setup(&f))
		goto out;
	tap_is(ioasid_alloc(f.fd1, &ioasid), 0, "ioasid_alloc");
	tap_is(ioasid_vfio_attach(f.vfd, ioasid), 0, "attach");
	tap_is(nr_devices(f.fd1, ioasid), 1,
	       "the IOASID has one device attached");
	tap_is(ioasid_vfio_attach(f.vfd, ioasid), -EBUSY,
	       "attach again is -EBUSY");
	tap_is(ioasid_vfio_detach(f.vfd, ioasid), 0, "detach");
	tap_is(nr_devices(f.fd1, ioasid), 0,
	       "the IOASID has no device attached");
	tap_is(ioasid_vfio_detach(f.vfd, ioasid), -ENXIO,
	       "detach again is -ENXIO");
out:
	edu_teardown(&f);
}

/* An id that was an IOASID of this fd a moment ago. */
static void attach_to_freed_ioasid(void)
{
	struct edu_fixture f;
	__u32 gone = 0;
	int err, ret;

	if (!edu_setup(&f) ||
	    !tap_setup(ioasid_alloc(f.fd1, &gone), "alloc") ||
	    !tap_setup(ioasid_free(f.fd1, gone), "free"))
		goto out;
	tap_is(ioasid_vfio_attach(f.vfd, gone), -ENOENT,
	       "attach to a freed IOASID is -ENOENT");
	errno = EDOM;
	ret = ioasid_vfio_attach(f.vfd, gone);
	err = errno;
	tap_ok(ret == -ENOENT && err == EDOM,
	       "a failing attach leaves errno as it was: ret %d", ret);
out:
	edu_teardown(&f);
}

/*
 * The emulated VT-d gives edu no PASIDs: a PASID attach is refused and
 * changes nothing, and there is nothing under a PASID to detach. PASID 0
 * stands for untagged DMA, refused before the device is asked.
 * PASID attaches that work need a device with PASIDs: pasid_test's.
 */
static void pasid_without_pasids_is_eopnotsupp(void)
{
	struct edu_fixture f;
	__u32 ioasid;

	if (!edu_setup(&f) ||
	    !tap_setup(ioasid_alloc(f.fd1, &ioasid), "alloc"))
		goto out;
	tap_is(ioasid_vfio_attach_pasid(f.vfd, ioasid, PASID), -EOPNOTSUPP,
	       "attach_pasid is -EOPNOTSUPP");
	tap_is(nr_devices(f.fd1, ioasid), 0, "attach_pasid attached nothing");
	tap_is(ioasid_vfio_attach_pasid(f.vfd, ioasid, 0), -EINVAL,
	       "attach_pasid of PASID 0 is -EINVAL");
	tap_is(ioasid_vfio_detach_pasid(f.vfd, ioasid, PASID), -ENXIO,
	       "detach_pasid of a PASID never attached is -ENXIO");
	tap_is(ioasid_vfio_detach_pasid(f.vfd, ioasid, 0), -EINVAL,
	       "detach_pasid of PASID 0 is -EINVAL");
	tap_is(ioasid_vfio_attach(f.vfd, ioasid), 0,
	       "the untagged DMA still attaches");
	tap_is(ioasid_vfio_detach_pasid(f.vfd, ioasid, PASID), -ENXIO,
	       "detach_pasid does not detach the untagged DMA: -ENXIO");
	tap_is(nr_devices(f.fd1, ioasid), 1, "the device is still attached");
out:
	edu_teardown(&f);
}

/*
 * Unbound, the device leaves the ioasid fd for good; the device fd keeps
 * it (DMA blocked) until it is closed.
 */
static void unbind_revokes_until_close(void)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct edu_fixture f;
	__u32 ioasid;

	if (!edu_setup(&f) ||
	    !tap_setup(ioasid_alloc(f.fd1, &ioasid), "alloc"))
		goto out;
	tap_is(ioasid_vfio_attach(f.vfd, ioasid), 0, "attach before unbind");
	tap_is(ioasid_vfio_unbind(f.vfd), 0, "unbind");
	tap_is(nr_devices(f.fd1, ioasid), 0,
	       "unbind took the device off the IOASID");
	tap_is(ioasid_vfio_attach(f.vfd, ioasid), -ENODEV,
	       "attach after unbind is -ENODEV");
	tap_is(ioasid_vfio_unbind(f.vfd), 0, "unbind again is harmless");
	tap_is(ioasid_vfio_bind(f.vfd, f.fd1, LABEL + 1, NULL), -EBUSY,
	       "bind of the unbound fd again is -EBUSY until it is closed");
	tap_ok(!ioctl(f.vfd, VFIO_DEVICE_GET_INFO, &info) &&
	       info.num_regions > 0,
	       "the device fd still answers VFIO_DEVICE_GET_INFO");
out:
	edu_teardown(&f);
}

/* Closing the device fd is the unbind that always happens. */
static void close_detaches(void)
{
	struct edu_fixture f;
	int before, after;
	__u32 ioasid;

	if (!edu_setup(&f) ||
	    !tap_setup(ioasid_alloc(f.fd1, &ioasid), "alloc") ||
	    !tap_setup(ioasid_vfio_attach(f.vfd, ioasid), "attach"))
		goto out;
	before = nr_devices(f.fd1, ioasid);
	close(f.vfd);
	f.vfd = -1;
	after = nr_devices(f.fd1, ioasid);
	tap_ok(before == 1 && after == 0,
	       "closing the attached device fd detaches it: %d devices before, %d after",
	       before, after);
out:
	edu_teardown(&f);
}

/* Once the device fd is closed, another ioasid fd may have the device. */
static void close_frees_device(void)
{
	struct edu_fixture f;
	__u32 dev_id = 0;

	if (!edu_setup(&f))
		goto out;
	close(f.vfd);
	f.vfd = ioasid_vfio_open_pci(edu, f.fd2, LABEL + 2, &dev_id);
	tap_ok(f.vfd >= 0 && dev_id,
	       "open_pci(edu) on the second ioasid fd now succeeds: ret %d, id %u",
	       f.vfd, dev_id);
out:
	edu_teardown(&f);
}

static const struct tap_case cases[] = {
	TAP_CASE(closed_vfio_fd_is_ebadf),
	TAP_CASE(foreign_fd_is_enotty),
	TAP_CASE(errno_kept_on_failure),
	TAP_CASE(open_pci_checks_address_first),
	TAP_CASE(open_pci_checks_ioasid_fd),
	TAP_CASE(open_pci_binds_edu),
	TAP_CASE(open_pci_of_absent_device),
	TAP_CASE(bound_device_is_busy),
	TAP_CASE(bind_checks_ioasid_fd),
	TAP_CASE(attach_and_detach),
	TAP_CASE(attach_to_freed_ioasid),
	TAP_CASE(pasid_without_pasids_is_eopnotsupp),
	TAP_CASE(unbind_revokes_until_close),
	TAP_CASE(close_detaches),
	TAP_CASE(close_frees_device),
};

int main(void)
{
	int ret;

	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		tap_bail("open /dev/null: %s", strerror(errno));

	/* The administrator's step: the library binds no drivers. */
	have_edu = find_pci_device(1, edu, sizeof(edu));
	if (have_edu) {
		ret = vfio_pci_bind(edu);
		if (ret)
			tap_bail("cannot hand %s to vfio-pci with %s: %s", edu,
				 VFIO_BIND_TOOL, strerror(-ret));
	}

	ret = tap_main(cases, TAP_NR_CASES(cases), NULL);
	close(null_fd);
	return ret;
}
