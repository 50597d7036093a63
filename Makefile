# /dev/ioasid: top-level entry points. See README.md.
#
#   make run     install what is missing, build, boot the VM, run the demo
#   make check   install what is missing, build, run every test
#   make bench   ours vs iommufd vs VFIO type1 on a non-debug kernel:
#                build/bench.json and the chart build/bench.png; then
#                what only mock IOMMUs measure (page faults, dirty bitmaps),
#                ours vs iommufd's, on a non-debug kernel with both mocks:
#                build/mock-bench.json
#   make shell   a shell in the test VM
#   make lint    checkpatch --strict and a W=1 build of our kernel code
#   make qemu    QEMU 10.0.2 with our /dev/ioasid backend
#                (scripts/qemu-ioasid.sh), and the small kernel its
#                nested guest boots; `make check` and `make run` build both
#
# T=... limits `make check` to some test programs, e.g.
#   make check T=selftests/ioasid
#   make check T="selftests/ioasid:-t,alloc_free"
# Everything built or downloaded lives under build/.

SHELL := /bin/bash
S := scripts

.PHONY: all setup setup-bench kernel kernel-perf kernel-perf-mock userspace \
	userspace-perf kernel-l2 qemu \
	check run shell bench lint install clean distclean

all: userspace

setup:
	@$(S)/setup.sh

setup-bench:
	@$(S)/setup.sh bench

kernel: setup
	@$(S)/kernel.sh build test

kernel-perf: setup-bench
	@$(S)/kernel.sh build perf

kernel-perf-mock: setup-bench
	@$(S)/kernel.sh build perf-mock

userspace: kernel
	@$(S)/userspace.sh test

# The nested guest of the QEMU test boots a kernel of its own
# (configs/l2.config): the debug one is an order of magnitude slower under
# TCG in TCG, and the smaller it is, the sooner it boots and builds.
kernel-l2: setup
	@$(S)/kernel.sh build l2

qemu: kernel-l2
	@$(S)/qemu-ioasid.sh

userspace-perf: kernel-perf
	@$(S)/userspace.sh perf

check: userspace qemu
	@$(S)/check.sh "$(T)"

run: userspace qemu
	@$(S)/vm.sh run

shell: userspace
	@$(S)/vm.sh shell

# The fault benchmark's programs are the perf build's: one uAPI.
bench: userspace-perf kernel-perf-mock
	@$(S)/vm.sh bench
	@$(S)/vm.sh mock-bench

lint: kernel
	@$(S)/host-checks.sh

# The library ships its own copy of the uAPI header: no kernel build needed.
install:
	@$(MAKE) -s -C lib/libioasid O=$(CURDIR)/build/lib-install install

clean:
	rm -rf build/kobj-* build/user-* build/vm-* build/logs

distclean:
	rm -rf build
