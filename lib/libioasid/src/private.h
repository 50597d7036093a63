/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libioasid internals shared between the source files; never installed.
 */
#ifndef LIBIOASID_PRIVATE_H
#define LIBIOASID_PRIVATE_H

/*
 * The ioctl funnel, in ioasid.c: every ioctl of the library, on /dev/ioasid
 * fds and VFIO device fds alike, passes here. Returns what ioctl(2)
 * returned, or -errno with errno as the caller had it.
 *
 * Hidden, and left out of the version script, so the shared library does
 * not export it; the libioasid_ prefix keeps it clear of the API's ioasid_
 * names and of a program's own ioasid_ioctl() when linked statically.
 */
__attribute__((visibility("hidden")))
int libioasid_ioctl(int fd, unsigned long request, void *arg);

#endif /* LIBIOASID_PRIVATE_H */
