// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault-injection sweeps: for N = 1, 2, ... make the Nth allocation of
 * one operation fail (failslab and fail_page_alloc through
 * /proc/thread-self/fail-nth) until the operation runs without meeting an
 * injected failure. Each run must either succeed or fail with a clean
 * errno, leave what it failed to change unchanged, and leak nothing: the
 * fixture checks pinned pages and VmPin after every run, and kmemleak
 * checks kernel memory after the suite.
 */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <linux/vfio.h>

#include "ioasid_utils.h"

#define BUF_PAGES 16
#define BUF_SIZE (BUF_PAGES * PAGE_SIZE)
#define IOVA_BASE 0x100000UL

static int fail_nth_fd = -1;

static void fail_nth_arm(unsigned int nth)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", nth);
	pwrite(fail_nth_fd, buf, strlen(buf), 0);
}

/* Disarm; true if the armed failure was injected. */
static bool fail_nth_disarm(void)
{
	char buf[16] = {};

	pread(fail_nth_fd, buf, sizeof(buf) - 1, 0);
	pwrite(fail_nth_fd, "0", 1, 0);
	return atoi(buf) == 0;
}

/* What a sweep works on; the fixture holds one. */
struct sweep_state {
	int fd;
	void *buf;
	long pin0;
	__u32 ref0[BUF_PAGES];
	__u32 ioasid;
	__u32 child;			/* nested on @ioasid, when a test makes one */
	__u32 dev;
	__u32 other_dev;
	int build_fd;
	char cdev[PATH_MAX];
	int vfio_fd;
	int inv_ret;			/* what an invalidation answered */
	__u8 dma_buf[64];
	/* Fault rings and page requests */
	int efd;			/* the eventfd of a ring being set up */
	__u32 ring_id;			/* and what the setup made */
	__u32 ring_size;
	__u64 ring_offset;
	struct fault_ring ring;		/* a ring the fault server serves */
	struct guest g;			/* the buffer, as a guest's RAM */
	pthread_t server;
	bool server_stop;
	int server_err;			/* what stopped the server, as -errno */
	unsigned int served;		/* groups it answered */
	int dma_ret;			/* what a page-requesting DMA answered */
	__u8 *fault_buf;		/* what that DMA writes */
	/* Runs whose page request went astray and still ended well */
	unsigned int dma_eio;		/* answered as failed: the DMA failed */
	unsigned int dma_regrouped;	/* a record lost: asked again */
	/* Dirty tracking */
	__u64 dirty_bitmap[1];		/* BUF_PAGES bits */
	/* An emulated device, and what it did before a failure stopped it */
	int em_fd;
	bool em_wrote;
	bool em_pinned;
};

/*
 * One operation to sweep: @setup makes the state it needs (unarmed),
 * @op runs with a failure armed, @check looks at what @op left given its
 * answer, and @undo puts things back for the next run.
 */
struct sweep_ops {
	void (*setup)(struct __test_metadata *_metadata, struct sweep_state *st);
	int (*op)(struct sweep_state *st);
	void (*check)(struct __test_metadata *_metadata,
		      struct sweep_state *st, int ret);
	void (*undo)(struct __test_metadata *_metadata, struct sweep_state *st,
		     int ret);
};

/* Nothing of the buffer is pinned or charged any more. */
static void check_released(struct __test_metadata *_metadata,
			   struct sweep_state *st)
{
	__u32 ref, pinned;
	unsigned int i;

	for (i = 0; i != BUF_PAGES; i++) {
		ASSERT_EQ(0, page_ref(st->fd, st->buf + i * PAGE_SIZE, &ref,
				      &pinned));
		ASSERT_EQ(st->ref0[i], ref);
		ASSERT_EQ(0, pinned);
	}
	ASSERT_EQ(st->pin0, vm_pinned_kb());
}

/*
 * Run the operation with the Nth allocation failing, for every N that
 * reaches an allocation, then once with nothing failing. Only 0, ENOMEM
 * and EFAULT (pinning that could not fault a page in) are fair answers.
 */
static void sweep(struct __test_metadata *_metadata, struct sweep_state *st,
		  const struct sweep_ops *ops)
{
	bool injected = true;
	unsigned int nth;

	for (nth = 1; injected; nth++) {
		int ret;

		if (ops->setup)
			ops->setup(_metadata, st);
		fail_nth_arm(nth);
		ret = ops->op(st);
		injected = fail_nth_disarm();
		if (ret && ret != -ENOMEM && ret != -EFAULT)
			TH_LOG("run %u answered %d", nth, ret);
		ASSERT_TRUE(!ret || ret == -ENOMEM || ret == -EFAULT);
		if (!injected)
			ASSERT_EQ(0, ret);
		if (ops->check)
			ops->check(_metadata, st, ret);
		if (ops->undo)
			ops->undo(_metadata, st, ret);
		check_released(_metadata, st);
	}
	/* The operation did allocate, so the sweep meant something. */
	ASSERT_LT(2, nth);
	TH_LOG("%u runs", nth - 1);
}

FIXTURE(fail_nth) {
	struct sweep_state st;
};

FIXTURE_SETUP(fail_nth)
{
	static const char * const knobs[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
	};
	struct sweep_state *st = &self->st;
	unsigned int i;

	st->fd = -1;
	for (i = 0; i != ARRAY_SIZE(knobs); i++)
		if (write_file(knobs[i][0], knobs[i][1]))
			SKIP(return, "fault injection not available: %s",
			     knobs[i][0]);
	fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fail_nth_fd < 0)
		SKIP(return, "no /proc/thread-self/fail-nth");

	st->fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, st->fd);
	st->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, st->buf);
	memset(st->buf, 1, BUF_SIZE);
	for (i = 0; i != BUF_PAGES; i++)
		ASSERT_EQ(0, page_ref(st->fd, st->buf + i * PAGE_SIZE,
				      &st->ref0[i], NULL));
	st->pin0 = vm_pinned_kb();
	test_ioctl_alloc(st->fd, &st->ioasid);
}

FIXTURE_TEARDOWN(fail_nth)
{
	if (self->st.fd >= 0)
		close(self->st.fd);
}

static int op_register(struct sweep_state *st)
{
	return _test_ioctl_register(st->fd, st->buf, BUF_SIZE,
				    IOASID_REGISTER_MEMORY);
}

static void check_register(struct __test_metadata *_metadata,
			   struct sweep_state *st, int ret)
{
	ASSERT_EQ(st->pin0 + (ret ? 0 : BUF_SIZE / 1024), vm_pinned_kb());
}

static void undo_register(struct __test_metadata *_metadata,
			  struct sweep_state *st, int ret)
{
	if (!ret)
		test_ioctl_unregister(st->fd, st->buf, BUF_SIZE);
}

TEST_F(fail_nth, register_memory)
{
	static const struct sweep_ops ops = {
		.op = op_register,
		.check = check_register,
		.undo = undo_register,
	};

	sweep(_metadata, &self->st, &ops);
}

static void attach_two_devices(struct __test_metadata *_metadata,
			       struct sweep_state *st)
{
	__u32 small;

	test_cmd_mock_device_add(st->fd, IOASID_MOCK_INSTANCE_LARGE, &st->dev);
	test_cmd_mock_device_add(st->fd, IOASID_MOCK_INSTANCE_SMALL, &small);
	test_cmd_attach(st->fd, st->dev, st->ioasid);
	test_cmd_attach(st->fd, small, st->ioasid);
}

static int op_map(struct sweep_state *st)
{
	return _test_ioctl_map(st->fd, st->ioasid, st->buf, IOVA_BASE,
			       BUF_SIZE, MAP_RW);
}

/* All of it mapped, or none of it. */
static void check_map(struct __test_metadata *_metadata,
		      struct sweep_state *st, int ret)
{
	if (ret) {
		test_cmd_check_unmapped(st->fd, st->dev, IOVA_BASE, BUF_SIZE);
		return;
	}
	test_cmd_check_map(st->fd, st->dev, IOVA_BASE, st->buf, BUF_SIZE,
			   MOCK_PROT_RW);
}

static void unmap_everything(struct __test_metadata *_metadata,
			     struct sweep_state *st, int ret)
{
	test_cmd(_test_ioctl_unmap(st->fd, st->ioasid, 0, 0,
				   IOASID_DMA_UNMAP_ALL, NULL));
}

TEST_F(fail_nth, map_unregistered)
{
	static const struct sweep_ops ops = {
		.op = op_map,
		.check = check_map,
		.undo = unmap_everything,
	};

	attach_two_devices(_metadata, &self->st);
	sweep(_metadata, &self->st, &ops);
}

static void setup_registered(struct __test_metadata *_metadata,
			     struct sweep_state *st)
{
	test_ioctl_register(st->fd, st->buf, BUF_SIZE);
}

static void undo_registered_map(struct __test_metadata *_metadata,
				struct sweep_state *st, int ret)
{
	/* Registered pages are charged once, mapped or not. */
	ASSERT_EQ(st->pin0 + BUF_SIZE / 1024, vm_pinned_kb());
	unmap_everything(_metadata, st, ret);
	test_ioctl_unregister(st->fd, st->buf, BUF_SIZE);
}

TEST_F(fail_nth, map_registered)
{
	static const struct sweep_ops ops = {
		.setup = setup_registered,
		.op = op_map,
		.check = check_map,
		.undo = undo_registered_map,
	};

	attach_two_devices(_metadata, &self->st);
	sweep(_metadata, &self->st, &ops);
}

static void setup_mapped(struct __test_metadata *_metadata,
			 struct sweep_state *st)
{
	test_ioctl_map(st->fd, st->ioasid, st->buf, IOVA_BASE, BUF_SIZE);
}

static int op_partial_unmap(struct sweep_state *st)
{
	return _test_ioctl_unmap(st->fd, st->ioasid, IOVA_BASE + 4 * PAGE_SIZE,
				 4 * PAGE_SIZE, 0, NULL);
}

/* Refused: every page still mapped. Done: exactly the middle is gone. */
static void check_partial_unmap(struct __test_metadata *_metadata,
				struct sweep_state *st, int ret)
{
	if (ret) {
		test_cmd_check_map(st->fd, st->dev, IOVA_BASE, st->buf,
				   BUF_SIZE, MOCK_PROT_RW);
		return;
	}
	test_cmd_check_map(st->fd, st->dev, IOVA_BASE, st->buf, 4 * PAGE_SIZE,
			   MOCK_PROT_RW);
	test_cmd_check_unmapped(st->fd, st->dev, IOVA_BASE + 4 * PAGE_SIZE,
				4 * PAGE_SIZE);
	test_cmd_check_map(st->fd, st->dev, IOVA_BASE + 8 * PAGE_SIZE,
			   st->buf + 8 * PAGE_SIZE, 8 * PAGE_SIZE,
			   MOCK_PROT_RW);
}

TEST_F(fail_nth, partial_unmap)
{
	static const struct sweep_ops ops = {
		.setup = setup_mapped,
		.op = op_partial_unmap,
		.check = check_partial_unmap,
		.undo = unmap_everything,
	};

	attach_two_devices(_metadata, &self->st);
	sweep(_metadata, &self->st, &ops);
}

static void setup_two_mappings(struct __test_metadata *_metadata,
			       struct sweep_state *st)
{
	test_ioctl_map(st->fd, st->ioasid, st->buf, IOVA_BASE, BUF_SIZE / 2);
	test_ioctl_map(st->fd, st->ioasid, st->buf + BUF_SIZE / 2,
		       4 * IOVA_BASE, BUF_SIZE / 2);
}

static int op_attach(struct sweep_state *st)
{
	return _test_cmd_attach(st->fd, st->dev, st->ioasid);
}

/* Both of setup_two_mappings()'s mappings, in @dev's page table. */
static void check_two_mappings(struct __test_metadata *_metadata,
			       struct sweep_state *st, __u32 dev)
{
	test_cmd_check_map(st->fd, dev, IOVA_BASE, st->buf, BUF_SIZE / 2,
			   MOCK_PROT_RW);
	test_cmd_check_map(st->fd, dev, 4 * IOVA_BASE,
			   st->buf + BUF_SIZE / 2, BUF_SIZE / 2, MOCK_PROT_RW);
}

/* Attached with every mapping replayed, or not attached at all. */
static void check_attach(struct __test_metadata *_metadata,
			 struct sweep_state *st, int ret)
{
	if (ret) {
		ASSERT_EQ(0, test_domain_of(st->fd, st->dev));
		return;
	}
	check_two_mappings(_metadata, st, st->dev);
}

static void undo_attach(struct __test_metadata *_metadata,
			struct sweep_state *st, int ret)
{
	if (!ret)
		test_cmd_detach(st->fd, st->dev);
	unmap_everything(_metadata, st, ret);
}

TEST_F(fail_nth, attach_with_replay)
{
	static const struct sweep_ops ops = {
		.setup = setup_two_mappings,
		.op = op_attach,
		.check = check_attach,
		.undo = undo_attach,
	};

	test_cmd_mock_device_add(self->st.fd, IOASID_MOCK_INSTANCE_SMALL,
				 &self->st.dev);
	sweep(_metadata, &self->st, &ops);
}

/*
 * A device of the other mock instance is attached already: the attach
 * makes a second domain and replays into it, and a failure anywhere in
 * that leaves the first domain exactly as it was.
 */
static void setup_other_instance(struct __test_metadata *_metadata,
				 struct sweep_state *st)
{
	setup_two_mappings(_metadata, st);
	test_cmd_attach(st->fd, st->other_dev, st->ioasid);
}

static void check_attach_other_instance(struct __test_metadata *_metadata,
					struct sweep_state *st, int ret)
{
	check_attach(_metadata, st, ret);
	check_two_mappings(_metadata, st, st->other_dev);
	ASSERT_NE(test_domain_of(st->fd, st->dev),
		  test_domain_of(st->fd, st->other_dev));
}

static void undo_attach_other_instance(struct __test_metadata *_metadata,
				       struct sweep_state *st, int ret)
{
	test_cmd_detach(st->fd, st->other_dev);
	undo_attach(_metadata, st, ret);
}

TEST_F(fail_nth, attach_with_replay_two_instances)
{
	static const struct sweep_ops ops = {
		.setup = setup_other_instance,
		.op = op_attach,
		.check = check_attach_other_instance,
		.undo = undo_attach_other_instance,
	};

	test_cmd_mock_device_add(self->st.fd, IOASID_MOCK_INSTANCE_SMALL,
				 &self->st.dev);
	test_cmd_mock_device_add(self->st.fd, IOASID_MOCK_INSTANCE_LARGE,
				 &self->st.other_dev);
	sweep(_metadata, &self->st, &ops);
}

static int op_create_nesting(struct sweep_state *st)
{
	return _test_ioctl_create_nesting(st->fd, st->ioasid,
					  IOASID_NESTING_SOFTWARE, &st->child);
}

/* A child made and counted, or neither. */
static void check_create_nesting(struct __test_metadata *_metadata,
				 struct sweep_state *st, int ret)
{
	struct ioasid_cmd_get_info info;

	test_ioctl_get_info(st->fd, st->ioasid, &info, NULL, 0);
	ASSERT_EQ(ret ? 0 : 1, info.out_num_children);
}

static void undo_create_nesting(struct __test_metadata *_metadata,
				struct sweep_state *st, int ret)
{
	if (!ret)
		test_ioctl_free(st->fd, st->child);
	/* Nothing of a failed one holds the parent. */
	test_cmd(_test_ioctl_create_nesting(st->fd, st->ioasid,
					    IOASID_NESTING_SOFTWARE,
					    &st->child));
	test_ioctl_free(st->fd, st->child);
}

TEST_F(fail_nth, create_nesting)
{
	static const struct sweep_ops ops = {
		.op = op_create_nesting,
		.check = check_create_nesting,
		.undo = undo_create_nesting,
	};

	sweep(_metadata, &self->st, &ops);
}

/*
 * A child with devices behind both mock instances (st->other_dev among
 * them), nested on the IOASID, where st->dev is attached.
 */
static void make_child(struct __test_metadata *_metadata,
		       struct sweep_state *st)
{
	__u32 small;

	test_ioctl_create_nesting(st->fd, st->ioasid, &st->child);
	test_cmd_mock_device_add(st->fd, IOASID_MOCK_INSTANCE_LARGE,
				 &st->other_dev);
	test_cmd_mock_device_add(st->fd, IOASID_MOCK_INSTANCE_SMALL, &small);
	test_cmd_attach(st->fd, st->other_dev, st->child);
	test_cmd_attach(st->fd, small, st->child);
	test_cmd_mock_device_add(st->fd, IOASID_MOCK_INSTANCE_LARGE, &st->dev);
	test_cmd_attach(st->fd, st->dev, st->ioasid);
}

/* The parent maps the buffer in two pieces, at consecutive IOVAs. */
static void setup_parent_halves(struct __test_metadata *_metadata,
				struct sweep_state *st)
{
	test_ioctl_map(st->fd, st->ioasid, st->buf, IOVA_BASE, BUF_SIZE / 2);
	test_ioctl_map(st->fd, st->ioasid, st->buf + BUF_SIZE / 2,
		       IOVA_BASE + BUF_SIZE / 2, BUF_SIZE / 2);
}

/* The whole buffer, across both of the parent's pieces. */
static int op_child_map(struct sweep_state *st)
{
	return _test_ioctl_map_from_parent(st->fd, st->child, IOVA_BASE,
					   4 * IOVA_BASE, BUF_SIZE, MAP_RW);
}

static void check_child_map(struct __test_metadata *_metadata,
			    struct sweep_state *st, int ret)
{
	ASSERT_EQ(st->pin0 + BUF_SIZE / 1024, vm_pinned_kb());
	if (ret) {
		test_cmd_check_unmapped(st->fd, st->other_dev, 4 * IOVA_BASE,
					BUF_SIZE);
		return;
	}
	test_cmd_check_map(st->fd, st->other_dev, 4 * IOVA_BASE, st->buf,
			   BUF_SIZE, MOCK_PROT_RW);
}

static void unmap_child_and_parent(struct __test_metadata *_metadata,
				   struct sweep_state *st, int ret)
{
	test_cmd(_test_ioctl_unmap(st->fd, st->child, 0, 0,
				   IOASID_DMA_UNMAP_ALL, NULL));
	unmap_everything(_metadata, st, ret);
}

TEST_F(fail_nth, child_map)
{
	static const struct sweep_ops ops = {
		.setup = setup_parent_halves,
		.op = op_child_map,
		.check = check_child_map,
		.undo = unmap_child_and_parent,
	};

	make_child(_metadata, &self->st);
	sweep(_metadata, &self->st, &ops);
}

static void setup_child_mapped(struct __test_metadata *_metadata,
			       struct sweep_state *st)
{
	setup_mapped(_metadata, st);
	test_cmd(op_child_map(st));
}

/*
 * A parent unmap that must cut its own mapping: a failed cut comes
 * before the child loses anything; once done, the child's mapping of the
 * range is gone whole and the parent's is cut.
 */
static void check_parent_unmap(struct __test_metadata *_metadata,
			       struct sweep_state *st, int ret)
{
	check_partial_unmap(_metadata, st, ret);
	if (ret) {
		test_cmd_check_map(st->fd, st->other_dev, 4 * IOVA_BASE,
				   st->buf, BUF_SIZE, MOCK_PROT_RW);
		return;
	}
	test_cmd_check_unmapped(st->fd, st->other_dev, 4 * IOVA_BASE,
				BUF_SIZE);
}

TEST_F(fail_nth, parent_unmap_with_child)
{
	static const struct sweep_ops ops = {
		.setup = setup_child_mapped,
		.op = op_partial_unmap,
		.check = check_parent_unmap,
		.undo = unmap_child_and_parent,
	};

	make_child(_metadata, &self->st);
	sweep(_metadata, &self->st, &ops);
}

/*
 * A hardware-nested child of the IOASID; st->dev can nest. Each run maps
 * the buffer into the parent (its first page, zeroed, is the guest's
 * root table) and unmaps it after, so every pin is checked released.
 */
static void make_hw_child(struct __test_metadata *_metadata,
			  struct sweep_state *st)
{
	memset(st->buf, 0, PAGE_SIZE);
	test_cmd(_test_ioctl_create_nesting(st->fd, st->ioasid,
					    IOASID_NESTING_HARDWARE,
					    &st->child));
	test_cmd_mock_device_add(st->fd, IOASID_MOCK_INSTANCE_LARGE, &st->dev);
}

static void setup_parent_mapped(struct __test_metadata *_metadata,
				struct sweep_state *st)
{
	test_ioctl_map(st->fd, st->ioasid, st->buf, IOVA_BASE, BUF_SIZE);
}

static int op_attach_hw_child(struct sweep_state *st)
{
	return _test_cmd_attach(st->fd, st->dev, st->child);
}

/* Attached, with a nest parent in the parent, or not at all. */
static void check_attach_hw_child(struct __test_metadata *_metadata,
				  struct sweep_state *st, int ret)
{
	struct ioasid_cmd_get_info info;

	test_ioctl_get_info(st->fd, st->child, &info, NULL, 0);
	ASSERT_EQ(ret ? 0 : 1, info.out_num_devices);
}

static void undo_attach_hw_child(struct __test_metadata *_metadata,
				 struct sweep_state *st, int ret)
{
	if (!ret)
		test_cmd_detach(st->fd, st->dev);
	unmap_everything(_metadata, st, ret);
}

TEST_F(fail_nth, attach_hw_nested)
{
	static const struct sweep_ops ops = {
		.setup = setup_parent_mapped,
		.op = op_attach_hw_child,
		.check = check_attach_hw_child,
		.undo = undo_attach_hw_child,
	};

	make_hw_child(_metadata, &self->st);
	sweep(_metadata, &self->st, &ops);
}

static int op_bind_pgtable(struct sweep_state *st)
{
	return _test_bind(st->fd, st->child, IOASID_PGTABLE_VTD_S1, IOVA_BASE,
			  48);
}

static void setup_hw_attached(struct __test_metadata *_metadata,
			      struct sweep_state *st)
{
	setup_parent_mapped(_metadata, st);
	test_cmd_attach(st->fd, st->dev, st->child);
}

/* Bound, or not at all: unbinding tells which, and must agree. */
static void undo_bind_pgtable(struct __test_metadata *_metadata,
			      struct sweep_state *st, int ret)
{
	ASSERT_EQ(ret ? -ENOENT : 0, _test_unbind(st->fd, st->child));
	test_cmd_detach(st->fd, st->dev);
	unmap_everything(_metadata, st, ret);
}

TEST_F(fail_nth, bind_pgtable)
{
	static const struct sweep_ops ops = {
		.setup = setup_hw_attached,
		.op = op_bind_pgtable,
		.undo = undo_bind_pgtable,
	};

	make_hw_child(_metadata, &self->st);
	sweep(_metadata, &self->st, &ops);
}

/* PASID 5 of a LARGE mock device, to the IOASID with two mappings. */
static int op_attach_pasid(struct sweep_state *st)
{
	return _test_cmd_attach_pasid(st->fd, st->dev, st->ioasid, 5);
}

/*
 * Attached, with DMA tagged with the PASID reaching both mappings; or
 * not at all, and nothing left that a detach would find.
 */
static void check_attach_pasid(struct __test_metadata *_metadata,
			       struct sweep_state *st, int ret)
{
	__u8 *in = st->dma_buf;

	if (ret) {
		test_err_cmd(EIO, _test_dma_pasid(st->fd, st->dev, 5,
						  IOVA_BASE, in, 64, false));
		test_err_cmd_detach_pasid(ENXIO, st->fd, st->dev, st->ioasid,
					  5);
		return;
	}
	test_cmd(_test_dma_pasid(st->fd, st->dev, 5, IOVA_BASE, in, 64,
				 false));
	ASSERT_EQ(0, memcmp(in, st->buf, 64));
	test_cmd(_test_dma_pasid(st->fd, st->dev, 5, 4 * IOVA_BASE, in, 64,
				 false));
	ASSERT_EQ(0, memcmp(in, st->buf + BUF_SIZE / 2, 64));
}

static void undo_attach_pasid(struct __test_metadata *_metadata,
			      struct sweep_state *st, int ret)
{
	if (!ret)
		test_cmd_detach_pasid(st->fd, st->dev, st->ioasid, 5);
	unmap_everything(_metadata, st, ret);
}

TEST_F(fail_nth, attach_pasid)
{
	static const struct sweep_ops ops = {
		.setup = setup_two_mappings,
		.op = op_attach_pasid,
		.check = check_attach_pasid,
		.undo = undo_attach_pasid,
	};

	test_cmd_mock_device_add(self->st.fd, IOASID_MOCK_INSTANCE_LARGE,
				 &self->st.dev);
	sweep(_metadata, &self->st, &ops);
}

/* The device's RID is on the IOASID already: the PASID shares its domain. */
static void setup_rid_attached(struct __test_metadata *_metadata,
			       struct sweep_state *st)
{
	setup_two_mappings(_metadata, st);
	test_cmd_attach(st->fd, st->dev, st->ioasid);
}

static void check_attach_pasid_beside_rid(struct __test_metadata *_metadata,
					  struct sweep_state *st, int ret)
{
	check_attach_pasid(_metadata, st, ret);
	check_two_mappings(_metadata, st, st->dev);
}

/* DETACH without a PASID: the RID and the PASID, if it was attached. */
static void undo_detach_all(struct __test_metadata *_metadata,
			    struct sweep_state *st, int ret)
{
	test_cmd_detach(st->fd, st->dev);
	test_err_cmd_detach_pasid(ENXIO, st->fd, st->dev, st->ioasid, 5);
	unmap_everything(_metadata, st, ret);
}

TEST_F(fail_nth, attach_pasid_beside_rid)
{
	static const struct sweep_ops ops = {
		.setup = setup_rid_attached,
		.op = op_attach_pasid,
		.check = check_attach_pasid_beside_rid,
		.undo = undo_detach_all,
	};

	test_cmd_mock_device_add(self->st.fd, IOASID_MOCK_INSTANCE_LARGE,
				 &self->st.dev);
	sweep(_metadata, &self->st, &ops);
}

static int op_attach_pasid_hw_child(struct sweep_state *st)
{
	return _test_cmd_attach_pasid(st->fd, st->dev, st->child, 5);
}

static void check_attach_pasid_hw_child(struct __test_metadata *_metadata,
					struct sweep_state *st, int ret)
{
	check_attach_hw_child(_metadata, st, ret);
	if (ret)
		test_err_cmd_detach_pasid(ENXIO, st->fd, st->dev, st->child,
					  5);
}

static void undo_attach_pasid_hw_child(struct __test_metadata *_metadata,
				       struct sweep_state *st, int ret)
{
	if (!ret)
		test_cmd_detach_pasid(st->fd, st->dev, st->child, 5);
	unmap_everything(_metadata, st, ret);
}

TEST_F(fail_nth, attach_pasid_hw_nested)
{
	static const struct sweep_ops ops = {
		.setup = setup_parent_mapped,
		.op = op_attach_pasid_hw_child,
		.check = check_attach_pasid_hw_child,
		.undo = undo_attach_pasid_hw_child,
	};

	make_hw_child(_metadata, &self->st);
	sweep(_metadata, &self->st, &ops);
}

/* The buffer's first page, zeroed, is the guest's PASID table. */
static int op_bind_pasid_table(struct sweep_state *st)
{
	return _test_bind_pasid_table(st->fd, st->child, IOVA_BASE, 4);
}

/* Bound: the RID's DMA goes through a nested domain. Or not at all. */
static void check_bind_pasid_table(struct __test_metadata *_metadata,
				   struct sweep_state *st, int ret)
{
	ASSERT_EQ(ret ? -ENXIO : 0, iotlb_entries(st->fd, st->dev));
}

static void undo_bind_pasid_table(struct __test_metadata *_metadata,
				  struct sweep_state *st, int ret)
{
	ASSERT_EQ(ret ? -ENOENT : 0, _test_unbind_pasid_table(st->fd,
							      st->child));
	test_cmd_detach(st->fd, st->dev);
	unmap_everything(_metadata, st, ret);
}

TEST_F(fail_nth, bind_pasid_table)
{
	static const struct sweep_ops ops = {
		.setup = setup_hw_attached,
		.op = op_bind_pasid_table,
		.check = check_bind_pasid_table,
		.undo = undo_bind_pasid_table,
	};

	make_hw_child(_metadata, &self->st);
	sweep(_metadata, &self->st, &ops);
}

/*
 * A bound PASID table in the buffer: page 0 the table, whose entry 0
 * (untagged DMA) points at a first stage in pages 1-4 that maps
 * FAIL_GIOVA to page 8. The IOMMU caches that; then the guest repoints
 * it to page 9.
 */
#define FAIL_GIOVA 0x7f0000000000UL

static void setup_stale_table(struct __test_metadata *_metadata,
			      struct sweep_state *st)
{
	struct guest g = { .ram = st->buf, .gpa = IOVA_BASE };
	__u64 table, root;

	table = guest_alloc_table(&g);
	root = guest_alloc_table(&g);
	guest_set_pasid(&g, table, 0, root);
	guest_map(&g, root, FAIL_GIOVA, IOVA_BASE + 8 * PAGE_SIZE, PTE_PWU);
	memset(st->buf + 8 * PAGE_SIZE, 0xa8, PAGE_SIZE);
	memset(st->buf + 9 * PAGE_SIZE, 0xa9, PAGE_SIZE);
	setup_hw_attached(_metadata, st);
	test_cmd(op_bind_pasid_table(st));
	test_cmd(_test_dma(st->fd, st->dev, FAIL_GIOVA, st->dma_buf, 64,
			   false));
	ASSERT_EQ(0xa8, st->dma_buf[0]);
	guest_map(&g, root, FAIL_GIOVA, IOVA_BASE + 9 * PAGE_SIZE, PTE_PWU);
}

/*
 * The guest invalidates entry 0 and its translations; the DMA after it
 * walks again and refills both caches, which may fail to remember, but
 * never to translate.
 */
static int op_invalidate_and_walk(struct sweep_state *st)
{
	struct ioasid_mock_pasid_table_invalidate inv[2] = {
		{ .type = IOASID_MOCK_INV_IOTLB, .addr = FAIL_GIOVA,
		  .npages = 1 },
		{ .type = IOASID_MOCK_INV_PASID_CACHE },
	};
	__u32 num = 2;

	memset(st->dma_buf, 0, sizeof(st->dma_buf));
	st->inv_ret = _test_invalidate_pasid(st->fd, st->child, inv, &num);
	if (st->inv_ret)
		return st->inv_ret;
	return _test_dma(st->fd, st->dev, FAIL_GIOVA, st->dma_buf, 64, false);
}

/* Invalidated, the new page is what every DMA sees from then on. */
static void check_invalidate(struct __test_metadata *_metadata,
			     struct sweep_state *st, int ret)
{
	__u8 in[64];

	if (!ret)
		ASSERT_EQ(0xa9, st->dma_buf[0]);
	test_cmd(_test_dma(st->fd, st->dev, FAIL_GIOVA, in, sizeof(in),
			   false));
	ASSERT_EQ(st->inv_ret ? 0xa8 : 0xa9, in[0]);
	/* Remembered now, whatever the armed walk managed to. */
	ASSERT_EQ(1, iotlb_entries(st->fd, st->dev));
}

static void undo_stale_table(struct __test_metadata *_metadata,
			     struct sweep_state *st, int ret)
{
	test_cmd(_test_unbind_pasid_table(st->fd, st->child));
	test_cmd_detach(st->fd, st->dev);
	unmap_everything(_metadata, st, ret);
}

TEST_F(fail_nth, invalidate_cache)
{
	static const struct sweep_ops ops = {
		.setup = setup_stale_table,
		.op = op_invalidate_and_walk,
		.check = check_invalidate,
		.undo = undo_stale_table,
	};

	make_hw_child(_metadata, &self->st);
	sweep(_metadata, &self->st, &ops);
}

/* The VFIO cdev of the first mock VFIO device, as the system lists it. */
static int find_mock_vfio_cdev(char *cdev, size_t len)
{
	const char *prefix = "ioasid-mock-vfio.";
	char path[PATH_MAX];
	struct dirent *de, *vde;
	DIR *dir, *vdir;
	int ret = -ENODEV;

	dir = opendir("/sys/bus/platform/devices");
	if (!dir)
		return -errno;
	while (ret && (de = readdir(dir))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/bus/platform/devices/%s/vfio-dev", de->d_name);
		vdir = opendir(path);
		if (!vdir)
			continue;
		while ((vde = readdir(vdir)))
			if (!strncmp(vde->d_name, "vfio", 4)) {
				snprintf(cdev, len, "/dev/vfio/devices/%s",
					 vde->d_name);
				ret = 0;
				break;
			}
		closedir(vdir);
	}
	closedir(dir);
	return ret;
}

static int vfio_bind_attach(int vfio_fd, int ioasid_fd, __u32 ioasid)
{
	struct vfio_device_bind_ioasid_fd bind = {
		.argsz = sizeof(bind),
		.ioasid_fd = ioasid_fd,
		.device_label = 0x5eed,
	};
	struct vfio_device_attach_ioasid attach = {
		.argsz = sizeof(attach),
		.ioasid = ioasid,
	};

	if (ioctl(vfio_fd, VFIO_BIND_IOASID_FD, &bind))
		return -errno;
	if (ioctl(vfio_fd, VFIO_ATTACH_IOASID, &attach))
		return -errno;
	return 0;
}

/* Open, bind and attach a VFIO device, all with a failure armed. */
static int op_vfio_bind_attach(struct sweep_state *st)
{
	st->vfio_fd = open(st->cdev, O_RDWR | O_CLOEXEC);
	if (st->vfio_fd < 0)
		return -errno;
	return vfio_bind_attach(st->vfio_fd, st->fd, st->ioasid);
}

/*
 * Whatever step failed, closing the device fd gives everything back: a
 * fresh open binds and attaches again at once, so no ownership, binding
 * or attachment was left behind.
 */
static void undo_vfio_bind_attach(struct __test_metadata *_metadata,
				  struct sweep_state *st, int ret)
{
	if (st->vfio_fd >= 0)
		close(st->vfio_fd);
	st->vfio_fd = open(st->cdev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, st->vfio_fd);
	ASSERT_EQ(0, vfio_bind_attach(st->vfio_fd, st->fd, st->ioasid));
	close(st->vfio_fd);
	st->vfio_fd = -1;
	unmap_everything(_metadata, st, ret);
}

TEST_F(fail_nth, vfio_bind_attach)
{
	static const struct sweep_ops ops = {
		.setup = setup_mapped,
		.op = op_vfio_bind_attach,
		.undo = undo_vfio_bind_attach,
	};

	if (find_mock_vfio_cdev(self->st.cdev, sizeof(self->st.cdev)))
		SKIP(return, "no mock VFIO device");
	self->st.vfio_fd = -1;
	sweep(_metadata, &self->st, &ops);
}

/*
 * A second fd, with a mock device made before arming: creating one is
 * the test's business, not the subsystem's.
 */
static void setup_build(struct __test_metadata *_metadata,
			struct sweep_state *st)
{
	st->build_fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, st->build_fd);
	test_cmd_mock_device_add(st->build_fd, IOASID_MOCK_INSTANCE_LARGE,
				 &st->dev);
}

/* Everything an fd can hold, stopping at the first failure. */
static int op_build(struct sweep_state *st)
{
	int fd = st->build_fd;
	__u32 id;
	int ret;

	ret = _test_ioctl_alloc(fd, &id);
	ret = ret ?: _test_cmd_attach(fd, st->dev, id);
	ret = ret ?: _test_ioctl_register(fd, st->buf, BUF_SIZE / 2,
					  IOASID_REGISTER_MEMORY);
	ret = ret ?: _test_ioctl_map(fd, id, st->buf, IOVA_BASE, BUF_SIZE,
				     MAP_RW);
	ret = ret ?: _test_ioctl_map(fd, id, st->buf, 2 * IOVA_BASE,
				     BUF_SIZE / 2, MAP_RW);
	return ret;
}

static void undo_build(struct __test_metadata *_metadata,
		       struct sweep_state *st, int ret)
{
	ASSERT_EQ(0, close(st->build_fd));
}

TEST_F(fail_nth, build_and_close)
{
	static const struct sweep_ops ops = {
		.setup = setup_build,
		.op = op_build,
		.undo = undo_build,
	};

	sweep(_metadata, &self->st, &ops);
}

static void setup_built(struct __test_metadata *_metadata,
			struct sweep_state *st)
{
	setup_build(_metadata, st);
	ASSERT_EQ(0, op_build(st));
}

/* close() cannot fail: whatever allocation fails, all must be released. */
static int op_close(struct sweep_state *st)
{
	return close(st->build_fd) ? -errno : 0;
}

TEST_F(fail_nth, close)
{
	static const struct sweep_ops ops = {
		.setup = setup_built,
		.op = op_close,
	};

	sweep(_metadata, &self->st, &ops);
}

/*
 * Fault delivery: st->dev, on the hardware-nested child, DMAs across
 * two GIOVA pages the guest has not mapped and asks for them (PRI). The
 * buffer is guest RAM at IOVA_BASE: page 0 the root of an empty first
 * stage, pages 1-3 the tables the guest makes on the way, pages 8 and 9
 * the ones it maps. A thread of its own plays the guest and the VMM:
 * it maps what each group asks for, invalidates, answers SUCCESS. The
 * allocations on the way of a page request (the core's fault group, the
 * ring's) are the armed thread's, since the DMA is: whichever fails,
 * the DMA must end, landed or failed, and the server must see nothing
 * it should not.
 */
#define FAULT_GIOVA 0x7f0000000000UL
#define FAULT_DATA_PAGE 8
/*
 * Small, so that the test's own buffers come from kmalloc, not from a
 * vmalloc fallback that would absorb the failures meant for the faults.
 */
#define FAULT_LEN 64
#define FAULT_IOVA (FAULT_GIOVA + PAGE_SIZE - FAULT_LEN / 2)
/* Where its bytes land: the end of data page 8, the start of page 9. */
#define FAULT_DATA(st) \
	((st)->buf + (FAULT_DATA_PAGE + 1) * PAGE_SIZE - FAULT_LEN / 2)
/* A run takes milliseconds; a DMA still waiting after this never ends. */
#define FAULT_WATCHDOG_S 10

static void *fault_server_fn(void *arg)
{
	struct sweep_state *st = arg;
	struct ioasid_fault_record rec[8];
	struct timespec t0, t;
	unsigned int page;
	__s32 result;
	int n, i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!__atomic_load_n(&st->server_stop, __ATOMIC_ACQUIRE)) {
		n = fault_ring_group(&st->ring, rec, ARRAY_SIZE(rec), 20);
		if (n == -ETIMEDOUT) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if (t.tv_sec - t0.tv_sec < FAULT_WATCHDOG_S)
				continue;
			/* Freeing the ring answers the DMA: no hang. */
			st->server_err = -ETIMEDOUT;
			_test_fault_ring_free(st->fd, st->ring.id);
			break;
		}
		if (n < 0) {
			st->server_err = n;
			break;
		}
		for (i = 0; i != n; i++) {
			page = (rec[i].addr - FAULT_GIOVA) / PAGE_SIZE;
			if (rec[i].ioasid != st->child ||
			    rec[i].label != st->dev ||
			    rec[i].access != IOASID_FAULT_WRITE ||
			    rec[i].cookie != rec[0].cookie || page > 1) {
				st->server_err = -EPROTO;
				return NULL;
			}
			guest_map(&st->g, IOVA_BASE, rec[i].addr,
				  IOVA_BASE + (FAULT_DATA_PAGE + page) *
				  PAGE_SIZE, PTE_PWU);
		}
		/* The kernel may have answered it: it failed on the way. */
		if (_test_invalidate_all(st->fd, st->child) ||
		    _test_page_respond(st->fd, st->ring.id, rec[0].cookie,
				       IOASID_PAGE_RESP_SUCCESS, &result) ||
		    (result && result != -EALREADY)) {
			st->server_err = -EPROTO;
			break;
		}
		st->served++;
	}
	return NULL;
}

static void setup_fault_dma(struct __test_metadata *_metadata,
			    struct sweep_state *st)
{
	unsigned int i;

	/* Guest RAM starts empty each run, the tables with it. */
	memset(st->buf, 0, BUF_SIZE);
	st->g = (struct guest){
		.ram = st->buf,
		.gpa = IOVA_BASE,
		.next_table = 1,
	};
	for (i = 0; i != FAULT_LEN; i++)
		st->fault_buf[i] = i * 7 + 3;
	st->server_err = 0;
	st->served = 0;
	st->server_stop = false;
	setup_parent_mapped(_metadata, st);
	test_cmd_attach(st->fd, st->dev, st->child);
	test_cmd(_test_bind(st->fd, st->child, IOASID_PGTABLE_VTD_S1,
			    IOVA_BASE, 48));
	test_cmd(fault_ring_open(st->fd, 16, &st->child, 1, &st->ring));
	ASSERT_EQ(0, pthread_create(&st->server, NULL, fault_server_fn, st));
}

/*
 * A group that could not be delivered is answered as failed, and the
 * device's DMA fails: for the sweep that is the allocation failure, as
 * ENOMEM would be for an ioctl; check_fault_dma() looks at the truth.
 */
static int op_fault_dma(struct sweep_state *st)
{
	st->dma_ret = _test_dma_flags(st->fd, st->dev, 0, FAULT_IOVA,
				      st->fault_buf, FAULT_LEN,
				      IOASID_TEST_DMA_WRITE |
				      IOASID_TEST_DMA_PRI);
	return st->dma_ret == -EIO ? -ENOMEM : st->dma_ret;
}

static void stop_fault_server(struct __test_metadata *_metadata,
			      struct sweep_state *st)
{
	__atomic_store_n(&st->server_stop, true, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(st->server, NULL));
}

/* Landed byte for byte, or failed with nothing written. */
static void check_fault_dma(struct __test_metadata *_metadata,
			    struct sweep_state *st, int ret)
{
	__u8 *data = FAULT_DATA(st);
	unsigned int i;

	stop_fault_server(_metadata, st);
	if (st->server_err)
		TH_LOG("the fault server stopped: %d", st->server_err);
	ASSERT_EQ(0, st->server_err);
	ASSERT_TRUE(!st->dma_ret || st->dma_ret == -EIO ||
		    st->dma_ret == -ENOMEM);
	if (!st->dma_ret) {
		ASSERT_LT(0, st->served);
		ASSERT_EQ(0, memcmp(data, st->fault_buf, FAULT_LEN));
		/* One group asks for both pages, unless one record failed. */
		st->dma_regrouped += st->served > 1;
		return;
	}
	st->dma_eio += st->dma_ret == -EIO;
	for (i = 0; i != FAULT_LEN; i++)
		ASSERT_EQ(0, data[i]);
}

static void undo_fault_dma(struct __test_metadata *_metadata,
			   struct sweep_state *st, int ret)
{
	/* The server is stopped already, unless a check failed first. */
	fault_ring_close(&st->ring, true);
	test_cmd(_test_unbind(st->fd, st->child));
	test_cmd_detach(st->fd, st->dev);
	unmap_everything(_metadata, st, ret);
}

TEST_F_TIMEOUT(fail_nth, fault_delivery, 120)
{
	static const struct sweep_ops ops = {
		.setup = setup_fault_dma,
		.op = op_fault_dma,
		.check = check_fault_dma,
		.undo = undo_fault_dma,
	};

	self->st.fault_buf = malloc(FAULT_LEN);
	ASSERT_NE(NULL, self->st.fault_buf);
	make_hw_child(_metadata, &self->st);
	sweep(_metadata, &self->st, &ops);
	TH_LOG("a page request failed on its way in %u runs, a record of it in %u",
	       self->st.dma_eio, self->st.dma_regrouped);
	/* The sweep did reach the fault path, not only the ioctl's. */
	ASSERT_LT(0, self->st.dma_eio + self->st.dma_regrouped);
	free(self->st.fault_buf);
}

/*
 * A fault ring over the IOASID and a second one; the eventfd is made
 * before arming, since making it is not the subsystem's business.
 */
static void setup_ring_eventfd(struct __test_metadata *_metadata,
			       struct sweep_state *st)
{
	st->efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, st->efd);
}

static int op_fault_ring_setup(struct sweep_state *st)
{
	__u32 ids[] = { st->ioasid, st->child };
	struct ioasid_cmd_fault_ring_setup cmd;
	int ret;

	ret = _test_fault_ring_setup(st->fd, 16, st->efd, ids, 2, &cmd);
	st->ring_id = ret ? 0 : cmd.out_ring_id;
	st->ring_size = cmd.out_mmap_size;
	st->ring_offset = cmd.out_mmap_offset;
	return ret;
}

/*
 * Set up, with a ring that maps and says it is empty; or not at all,
 * holding neither IOASID: a ring over both can be set up at once.
 */
static void check_fault_ring_setup(struct __test_metadata *_metadata,
				   struct sweep_state *st, int ret)
{
	struct ioasid_fault_ring_header *hdr;

	if (ret) {
		ASSERT_EQ(0, op_fault_ring_setup(st));
		test_cmd(_test_fault_ring_free(st->fd, st->ring_id));
		return;
	}
	hdr = mmap(NULL, st->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   st->fd, st->ring_offset);
	ASSERT_NE(MAP_FAILED, hdr);
	ASSERT_EQ(15, hdr->mask);
	ASSERT_EQ(0, hdr->head);
	ASSERT_EQ(0, hdr->tail);
	ASSERT_EQ(0, hdr->lost);
	ASSERT_EQ(0, munmap(hdr, st->ring_size));
}

static void undo_fault_ring_setup(struct __test_metadata *_metadata,
				  struct sweep_state *st, int ret)
{
	if (!ret)
		test_cmd(_test_fault_ring_free(st->fd, st->ring_id));
	close(st->efd);
	/* The ring let go of both. */
	test_ioctl_free(st->fd, st->child);
	test_ioctl_alloc(st->fd, &st->child);
}

TEST_F(fail_nth, fault_ring_setup)
{
	static const struct sweep_ops ops = {
		.setup = setup_ring_eventfd,
		.op = op_fault_ring_setup,
		.check = check_fault_ring_setup,
		.undo = undo_fault_ring_setup,
	};

	test_ioctl_alloc(self->st.fd, &self->st.child);
	sweep(_metadata, &self->st, &ops);
}

/*
 * Dirty tracking. The buffer is mapped for each run, dev writes pages 1
 * and 5, and the read is swept: one that fails has written no bit and
 * cleared no page, so the next read still finds both.
 */
static void setup_dirty(struct __test_metadata *_metadata,
			struct sweep_state *st)
{
	test_ioctl_map(st->fd, st->ioasid, st->buf, IOVA_BASE, BUF_SIZE);
	test_cmd(_test_dma(st->fd, st->dev, IOVA_BASE + PAGE_SIZE, st->dma_buf,
			   1, true));
	test_cmd(_test_dma(st->fd, st->dev, IOVA_BASE + 5 * PAGE_SIZE,
			   st->dma_buf, 1, true));
	memset(st->dirty_bitmap, 0xa5, sizeof(st->dirty_bitmap));
}

static int read_dirty(struct sweep_state *st, __u32 *report)
{
	return _test_get_dirty(st->fd, st->ioasid, 0, IOVA_BASE, BUF_SIZE,
			       PAGE_SIZE, st->dirty_bitmap, report, NULL);
}

static int op_get_dirty(struct sweep_state *st)
{
	return read_dirty(st, NULL);
}

static void check_get_dirty(struct __test_metadata *_metadata,
			    struct sweep_state *st, int ret)
{
	__u32 report = 0;

	if (ret) {
		ASSERT_EQ(0xa5a5a5a5a5a5a5a5ULL, st->dirty_bitmap[0]);
		test_cmd(read_dirty(st, &report));
	}
	ASSERT_EQ(1ULL << 1 | 1ULL << 5, st->dirty_bitmap[0]);
	test_cmd(read_dirty(st, &report));
	ASSERT_EQ(IOASID_DIRTY_REPORT_EXACT, report);
	ASSERT_EQ(0, st->dirty_bitmap[0]);
}

TEST_F(fail_nth, get_dirty_bitmap)
{
	static const struct sweep_ops ops = {
		.setup = setup_dirty,
		.op = op_get_dirty,
		.check = check_get_dirty,
		.undo = unmap_everything,
	};

	test_cmd_mock_device_add(self->st.fd, IOASID_MOCK_INSTANCE_LARGE,
				 &self->st.dev);
	test_cmd_attach(self->st.fd, self->st.dev, self->st.ioasid);
	test_cmd(_test_dirty_tracking(self->st.fd, self->st.ioasid, true,
				      NULL));
	sweep(_metadata, &self->st, &ops);
}

/*
 * The last device leaves while tracking: the detach cannot fail, and
 * whatever it could not record of what escaped, the next read still
 * reports: every writable page, as conservative.
 */
static void setup_dirty_detach(struct __test_metadata *_metadata,
			       struct sweep_state *st)
{
	test_ioctl_map(st->fd, st->ioasid, st->buf, IOVA_BASE, BUF_SIZE);
	test_cmd_attach(st->fd, st->dev, st->ioasid);
	test_cmd(_test_dma(st->fd, st->dev, IOVA_BASE, st->dma_buf, 1, true));
}

static int op_detach(struct sweep_state *st)
{
	return _test_cmd_detach(st->fd, st->dev);
}

static void check_dirty_detach(struct __test_metadata *_metadata,
			       struct sweep_state *st, int ret)
{
	__u32 report = 0;

	test_cmd(read_dirty(st, &report));
	ASSERT_EQ(IOASID_DIRTY_REPORT_CONSERVATIVE, report);
	ASSERT_EQ((1ULL << BUF_PAGES) - 1, st->dirty_bitmap[0]);
	test_cmd(read_dirty(st, &report));
	ASSERT_EQ(IOASID_DIRTY_REPORT_EXACT, report);
	ASSERT_EQ(0, st->dirty_bitmap[0]);
}

TEST_F(fail_nth, dirty_detach)
{
	static const struct sweep_ops ops = {
		.setup = setup_dirty_detach,
		.op = op_detach,
		.check = check_dirty_detach,
		.undo = unmap_everything,
	};

	test_cmd_mock_device_add(self->st.fd, IOASID_MOCK_INSTANCE_LARGE,
				 &self->st.dev);
	test_cmd(_test_dirty_tracking(self->st.fd, self->st.ioasid, true,
				      NULL));
	sweep(_metadata, &self->st, &ops);
}

/*
 * An emulated device comes, writes and pins for writing while tracking:
 * whatever failed, a read reports at least what it did, exactly if its
 * records could be kept, else every writable page as conservative.
 */
static void setup_emulated(struct __test_metadata *_metadata,
			   struct sweep_state *st)
{
	test_ioctl_map(st->fd, st->ioasid, st->buf, IOVA_BASE, BUF_SIZE);
	st->em_fd = -1;
	st->em_wrote = false;
	st->em_pinned = false;
}

static int op_emulated(struct sweep_state *st)
{
	__u8 byte = 3;
	int ret;

	ret = _test_emulated_add(st->fd, st->fd, st->ioasid, &st->em_fd);
	if (ret)
		return ret;
	ret = _test_emulated_dma(st->fd, st->em_fd, IOVA_BASE + 2 * PAGE_SIZE,
				 &byte, 1, true);
	if (ret)
		return ret;
	st->em_wrote = true;
	ret = _test_emulated_pin(st->fd, st->em_fd, IOVA_BASE + 4 * PAGE_SIZE,
				 NULL, PAGE_SIZE, true);
	st->em_pinned = !ret;
	return ret;
}

static void check_emulated(struct __test_metadata *_metadata,
			   struct sweep_state *st, int ret)
{
	__u64 done = (__u64)st->em_wrote << 2 | (__u64)st->em_pinned << 4;
	__u32 report = 0;

	test_cmd(read_dirty(st, &report));
	/* Conservative: every page, all of them mapped writable */
	ASSERT_EQ(report == IOASID_DIRTY_REPORT_CONSERVATIVE ?
		  (1ULL << BUF_PAGES) - 1 : done, st->dirty_bitmap[0]);
	/* Its pin goes with it, and counts once more. */
	if (st->em_fd >= 0)
		close(st->em_fd);
	test_cmd(read_dirty(st, &report));
	ASSERT_EQ(IOASID_DIRTY_REPORT_EXACT, report);
	ASSERT_EQ(done & 1ULL << 4, st->dirty_bitmap[0]);
	test_cmd(read_dirty(st, &report));
	ASSERT_EQ(0, st->dirty_bitmap[0]);
}

TEST_F(fail_nth, emulated_access)
{
	static const struct sweep_ops ops = {
		.setup = setup_emulated,
		.op = op_emulated,
		.check = check_emulated,
		.undo = unmap_everything,
	};

	test_cmd(_test_dirty_tracking(self->st.fd, self->st.ioasid, true,
				      NULL));
	sweep(_metadata, &self->st, &ops);
}

TEST_HARNESS_MAIN
