// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests for the /dev/ioasid fd: the ioctl struct rules every ioctl
 * shares, and the IOASID object lifecycle.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ioasid_utils.h"

static int open_ioasid(void)
{
	return open("/dev/ioasid", O_RDWR | O_CLOEXEC);
}

FIXTURE(ioasid) {
	int fd;
};

FIXTURE_SETUP(ioasid)
{
	self->fd = open_ioasid();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(ioasid)
{
	close(self->fd);
}

TEST_F(ioasid, api_version)
{
	struct ioasid_cmd_get_api_version cmd = { .size = sizeof(cmd) };

	test_cmd(ioasid_ioctl(self->fd, IOASID_GET_API_VERSION, &cmd));
	ASSERT_EQ(IOASID_API_VERSION, cmd.out_version);
}

/* What works is claimed, and nothing else: unknown numbers answer 0. */
TEST_F(ioasid, check_extension)
{
	static const struct {
		__u32 ext;
		__u32 supported;
	} expect[] = {
		{ IOASID_EXT_NONE, 0 },
		{ IOASID_EXT_DMA_MAP, 1 },
		{ IOASID_EXT_PARTIAL_UNMAP, 1 },
		{ 1000, 0 },
		{ 0xffffffff, 0 },
	};
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(expect); i++) {
		__u32 supported = 7;

		test_ioctl_check_extension(self->fd, expect[i].ext, &supported);
		ASSERT_EQ(expect[i].supported, supported);
	}
}

TEST_F(ioasid, unknown_ioctl)
{
	struct ioasid_cmd_alloc cmd = { .size = sizeof(cmd) };

	/* Inside our range but unassigned, past it, and another type. */
	test_err_cmd(ENOTTY, ioasid_ioctl(self->fd, _IO(IOASID_TYPE, 0x3e),
					  &cmd));
	test_err_cmd(ENOTTY, ioasid_ioctl(self->fd, _IO(IOASID_TYPE, 0x64),
					  &cmd));
	test_err_cmd(ENOTTY, ioasid_ioctl(self->fd, _IO('x', IOASID_CMD_ALLOC),
					  &cmd));
	/* Our number with a size encoded is a different ioctl. */
	test_err_cmd(ENOTTY,
		     ioasid_ioctl(self->fd, _IOWR(IOASID_TYPE, IOASID_CMD_ALLOC,
						  struct ioasid_cmd_alloc), &cmd));
}

TEST_F(ioasid, alloc_free)
{
	struct ioasid_cmd_get_info info;
	__u32 id;

	test_ioctl_alloc(self->fd, &id);
	ASSERT_NE(0, id);
	test_ioctl_get_info(self->fd, id, &info, NULL, 0);
	test_ioctl_free(self->fd, id);
	test_err_ioctl_get_info(ENOENT, self->fd, id, &info, NULL, 0);
}

TEST_F(ioasid, double_free)
{
	__u32 id;

	test_ioctl_alloc(self->fd, &id);
	test_ioctl_free(self->fd, id);
	test_err_ioctl_free(ENOENT, self->fd, id);
}

TEST_F(ioasid, free_unknown_id)
{
	int other = open_ioasid();
	__u32 id;

	ASSERT_LE(0, other);
	test_err_ioctl_free(ENOENT, self->fd, 0);
	test_err_ioctl_free(ENOENT, self->fd, 1);
	test_err_ioctl_free(ENOENT, self->fd, 0x7fffffff);
	test_err_ioctl_free(ENOENT, self->fd, 0xffffffff);

	/* A live id of another fd is unknown here, and survives the try. */
	test_ioctl_alloc(other, &id);
	test_err_ioctl_free(ENOENT, self->fd, id);
	test_ioctl_free(other, id);
	close(other);
}

/* A stale id must not silently name a newer object. */
TEST_F(ioasid, ids_not_reused_at_once)
{
	__u32 first, second;

	test_ioctl_alloc(self->fd, &first);
	test_ioctl_free(self->fd, first);
	test_ioctl_alloc(self->fd, &second);
	ASSERT_NE(first, second);
}

#define MANY_IOASIDS 10000

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

TEST_F_TIMEOUT(ioasid, alloc_free_10000, 300)
{
	__u32 *ids = calloc(MANY_IOASIDS, sizeof(*ids));
	__u32 *sorted = calloc(MANY_IOASIDS, sizeof(*ids));
	int i;

	ASSERT_NE(NULL, ids);
	ASSERT_NE(NULL, sorted);
	for (i = 0; i != MANY_IOASIDS; i++) {
		test_ioctl_alloc(self->fd, &ids[i]);
		ASSERT_NE(0, ids[i]);
	}
	memcpy(sorted, ids, MANY_IOASIDS * sizeof(*ids));
	qsort(sorted, MANY_IOASIDS, sizeof(*ids), cmp_u32);
	for (i = 1; i != MANY_IOASIDS; i++)
		ASSERT_NE(sorted[i - 1], sorted[i]);

	/* Free in an order unlike allocation, then check each is gone. */
	for (i = 0; i != MANY_IOASIDS; i += 2)
		test_ioctl_free(self->fd, ids[i]);
	for (i = 1; i < MANY_IOASIDS; i += 2)
		test_ioctl_free(self->fd, ids[i]);
	for (i = 0; i != MANY_IOASIDS; i++)
		test_err_ioctl_free(ENOENT, self->fd, ids[i]);
	free(ids);
	free(sorted);
}

/*
 * Closing an fd that still holds IOASIDs frees them all; kmemleak, which
 * the test runner scans after the suite, proves nothing is left over.
 */
TEST(close_with_live_objects)
{
	int round, i;

	for (round = 0; round != 20; round++) {
		int fd = open_ioasid();

		ASSERT_LE(0, fd);
		for (i = 0; i != 100 * round; i++)
			test_ioctl_alloc(fd, NULL);
		ASSERT_EQ(0, close(fd));
	}
}

/* Two fds are two namespaces: neither sees the other's objects. */
TEST(fds_are_isolated)
{
	struct ioasid_cmd_get_info info;
	int a = open_ioasid(), b = open_ioasid();
	__u32 id_a, id_b;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	test_ioctl_alloc(a, &id_a);
	test_ioctl_alloc(b, &id_b);
	test_ioctl_free(b, id_b);
	test_ioctl_get_info(a, id_a, &info, NULL, 0);
	if (id_a != id_b)
		test_err_ioctl_get_info(ENOENT, b, id_a, &info, NULL, 0);
	close(b);
	test_ioctl_get_info(a, id_a, &info, NULL, 0);
	close(a);
}

TEST_F(ioasid, get_info_before_attach)
{
	struct ioasid_iova_range ranges[4];
	struct ioasid_cmd_get_info info;
	__u32 id;

	test_ioctl_alloc(self->fd, &id);

	/* Asking with no room reports the count and writes nothing. */
	test_ioctl_get_info(self->fd, id, &info, NULL, 0);
	ASSERT_EQ(1, info.num_iova_ranges);
	ASSERT_EQ(0, info.out_num_devices);
	ASSERT_EQ(PAGE_SIZE,
		  info.out_pgsize_bitmap & -info.out_pgsize_bitmap);

	memset(ranges, 0xa5, sizeof(ranges));
	test_ioctl_get_info(self->fd, id, &info, ranges, 4);
	ASSERT_EQ(1, info.num_iova_ranges);
	ASSERT_EQ(0, ranges[0].start);
	ASSERT_EQ(UINT64_MAX, ranges[0].last);
	/* Entries past the count are the caller's, untouched. */
	ASSERT_EQ(0xa5a5a5a5a5a5a5a5ULL, ranges[1].start);
}

TEST_F(ioasid, get_info_errors)
{
	struct ioasid_cmd_get_info info;
	__u32 id;

	test_err_ioctl_get_info(ENOENT, self->fd, 0, &info, NULL, 0);
	test_err_ioctl_get_info(ENOENT, self->fd, 4242, &info, NULL, 0);
	test_ioctl_alloc(self->fd, &id);
	test_err_ioctl_get_info(EFAULT, self->fd, id, &info,
				(struct ioasid_iova_range *)8, 1);
	/* The failed call left the IOASID intact. */
	test_ioctl_get_info(self->fd, id, &info, NULL, 0);
}

/* The struct itself unreachable: nothing happens, nothing is created. */
TEST_F(ioasid, bad_struct_pointer)
{
	void *ro;
	__u32 id, next;

	test_err_cmd(EFAULT, ioasid_ioctl(self->fd, IOASID_ALLOC, NULL));
	test_err_cmd(EFAULT, ioasid_ioctl(self->fd, IOASID_ALLOC,
					  (void *)16));

	/* Readable but not writable: the id can't be returned. */
	ro = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	*(struct ioasid_cmd_alloc *)ro = (struct ioasid_cmd_alloc){
		.size = sizeof(struct ioasid_cmd_alloc),
	};
	ASSERT_EQ(0, mprotect(ro, PAGE_SIZE, PROT_READ));
	test_ioctl_alloc(self->fd, &id);
	test_err_cmd(EFAULT, ioasid_ioctl(self->fd, IOASID_ALLOC, ro));
	/* The fd still works; kmemleak catches an orphaned object. */
	test_ioctl_alloc(self->fd, &next);
	ASSERT_NE(id, next);
	test_ioctl_free(self->fd, next);
	test_ioctl_free(self->fd, id);
	munmap(ro, PAGE_SIZE);
}

/*
 * The struct rules every ioctl shares ("General ioctl format" in
 * linux/ioasid.h), checked once per ioctl: one variant per ioctl.
 *
 * A variant says where its struct's __reserved is and how to make a valid
 * request: which fields take the fixture's IOASID, its page's address and
 * length, an IOVA and an op (each an offset, 0 for none: size is always
 * at 0), which flags to set, and which flags the ioctl knows.
 */
FIXTURE(ioctl_struct) {
	int fd;
	__u32 ioasid;
	void *page;
	unsigned char buf[256];
};

FIXTURE_VARIANT(ioctl_struct) {
	unsigned long ioctl;
	size_t size;
	size_t min_size;
	size_t reserved_off;
	size_t ioasid_off;
	size_t vaddr_off;
	size_t iova_off;
	size_t length_off;
	size_t op_off;
	__u32 op;
	__u32 flags;
	__u32 valid_flags;
};

#define AT(_s, _field) offsetof(struct ioasid_cmd_##_s, _field)

/*
 * What every variant has: @_ioctl, on struct ioasid_cmd_@_s. Every struct
 * is at its first version, so its minimum size is its size.
 */
#define IOCTL_STRUCT(_ioctl, _s)					\
	.ioctl = _ioctl,						\
	.size = sizeof(struct ioasid_cmd_##_s),				\
	.min_size = sizeof(struct ioasid_cmd_##_s)

FIXTURE_VARIANT_ADD(ioctl_struct, get_api_version) {
	IOCTL_STRUCT(IOASID_GET_API_VERSION, get_api_version),
	.reserved_off = AT(get_api_version, __reserved),
};

FIXTURE_VARIANT_ADD(ioctl_struct, check_extension) {
	IOCTL_STRUCT(IOASID_CHECK_EXTENSION, check_extension),
};

FIXTURE_VARIANT_ADD(ioctl_struct, alloc) {
	IOCTL_STRUCT(IOASID_ALLOC, alloc),
	.reserved_off = AT(alloc, __reserved),
};

FIXTURE_VARIANT_ADD(ioctl_struct, free) {
	IOCTL_STRUCT(IOASID_FREE, free),
	.reserved_off = AT(free, __reserved),
	.ioasid_off = AT(free, ioasid),
};

FIXTURE_VARIANT_ADD(ioctl_struct, get_info) {
	.ioctl = IOASID_GET_INFO,
	.size = sizeof(struct ioasid_cmd_get_info),
	/* Its first version ended where the nesting fields begin. */
	.min_size = offsetof(struct ioasid_cmd_get_info, out_parent),
	.reserved_off = AT(get_info, __reserved),
	.ioasid_off = AT(get_info, ioasid),
};

FIXTURE_VARIANT_ADD(ioctl_struct, register_memory) {
	IOCTL_STRUCT(IOASID_REGISTER_MEMORY, register_memory),
	.vaddr_off = AT(register_memory, vaddr),
	.length_off = AT(register_memory, length),
};

/* The fixture registers the page first, for this one. */
FIXTURE_VARIANT_ADD(ioctl_struct, unregister_memory) {
	IOCTL_STRUCT(IOASID_UNREGISTER_MEMORY, register_memory),
	.vaddr_off = AT(register_memory, vaddr),
	.length_off = AT(register_memory, length),
};

FIXTURE_VARIANT_ADD(ioctl_struct, dma_map) {
	IOCTL_STRUCT(IOASID_DMA_MAP, dma_map),
	.reserved_off = AT(dma_map, __reserved),
	.ioasid_off = AT(dma_map, ioasid),
	.vaddr_off = AT(dma_map, vaddr),
	.iova_off = AT(dma_map, iova),
	.length_off = AT(dma_map, length),
	.flags = IOASID_DMA_MAP_READ,
	.valid_flags = IOASID_DMA_MAP_READ | IOASID_DMA_MAP_WRITE |
		       IOASID_DMA_MAP_FROM_PARENT,
};

FIXTURE_VARIANT_ADD(ioctl_struct, dma_unmap) {
	.ioctl = IOASID_DMA_UNMAP,
	.size = sizeof(struct ioasid_cmd_dma_unmap),
	/* The first version ended there; the dirty bitmap fields came after. */
	.min_size = offsetof(struct ioasid_cmd_dma_unmap, dirty_page_size),
	.reserved_off = AT(dma_unmap, __reserved),
	.ioasid_off = AT(dma_unmap, ioasid),
	.iova_off = AT(dma_unmap, iova),
	.length_off = AT(dma_unmap, length),
	.valid_flags = IOASID_DMA_UNMAP_ALL | IOASID_DMA_UNMAP_GET_DIRTY,
};

/* The test-only ioctl follows the same rules; PAGE_REF needs no device. */
FIXTURE_VARIANT_ADD(ioctl_struct, test_ioctl) {
	IOCTL_STRUCT(IOASID_TEST, test),
	.op_off = AT(test, op),
	.op = IOASID_TEST_OP_PAGE_REF,
	.vaddr_off = AT(test, page_ref.vaddr),
};

static void put_field(unsigned char *buf, size_t off, const void *val,
		      size_t len)
{
	if (off)
		memcpy(buf + off, val, len);
}

/* A valid request that says it is @size bytes long; the rest of buf is 0. */
static unsigned char *prepare(FIXTURE_DATA(ioctl_struct) * self,
			      const FIXTURE_VARIANT(ioctl_struct) * variant,
			      __u32 size)
{
	__u64 vaddr = (uintptr_t)self->page, iova = 0x100000;
	__u64 length = PAGE_SIZE;
	unsigned char *buf = self->buf;

	memset(buf, 0, sizeof(self->buf));
	/* Every struct opens with __u32 size and __u32 flags. */
	memcpy(buf, &size, sizeof(size));
	memcpy(buf + sizeof(size), &variant->flags, sizeof(variant->flags));
	put_field(buf, variant->ioasid_off, &self->ioasid, sizeof(self->ioasid));
	put_field(buf, variant->op_off, &variant->op, sizeof(variant->op));
	put_field(buf, variant->vaddr_off, &vaddr, sizeof(vaddr));
	put_field(buf, variant->iova_off, &iova, sizeof(iova));
	put_field(buf, variant->length_off, &length, sizeof(length));
	return buf;
}

#define REQUEST(_size) prepare(self, variant, _size)
#define SEND(_cmd) ioasid_ioctl(self->fd, variant->ioctl, _cmd)

FIXTURE_SETUP(ioctl_struct)
{
	self->fd = open_ioasid();
	ASSERT_LE(0, self->fd);
	test_ioctl_alloc(self->fd, &self->ioasid);
	self->page = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->page);
	memset(self->page, 0, PAGE_SIZE);
	if (variant->ioctl == IOASID_UNREGISTER_MEMORY)
		test_ioctl_register(self->fd, self->page, PAGE_SIZE);
}

FIXTURE_TEARDOWN(ioctl_struct)
{
	close(self->fd);
	munmap(self->page, PAGE_SIZE);
}

/* The valid request itself, or the rules below would prove nothing. */
TEST_F(ioctl_struct, exact_size)
{
	test_cmd(SEND(REQUEST(variant->size)));
}

/* Shorter than the struct's first version, down to nothing. */
TEST_F(ioctl_struct, below_min_size)
{
	test_err_cmd(EINVAL, SEND(REQUEST(variant->min_size - 1)));
	test_err_cmd(EINVAL, SEND(REQUEST(0)));
}

/* A newer, longer struct is fine while the kernel-unknown tail is 0. */
TEST_F(ioctl_struct, oversize_zero_tail)
{
	test_cmd(SEND(REQUEST(variant->size + 16)));
}

TEST_F(ioctl_struct, oversize_nonzero_tail)
{
	unsigned char *cmd = REQUEST(variant->size + 16);

	cmd[variant->size + 15] = 1;
	test_err_cmd(E2BIG, SEND(cmd));
	cmd = REQUEST(variant->size + 16);
	cmd[variant->size] = 0x80;
	test_err_cmd(E2BIG, SEND(cmd));
}

/*
 * Each flag the ioctl does not know, next to the valid request's own, and
 * a non-zero __reserved where the struct has one: the uAPI gives both the
 * same answer, so a struct without one has nothing more to check here.
 */
TEST_F(ioctl_struct, unknown_flags_reserved)
{
	unsigned char *cmd;
	int bit;

	for (bit = 0; bit != 32; bit++) {
		__u32 flags = variant->flags | 1u << bit;

		if (1u << bit & variant->valid_flags)
			continue;
		cmd = REQUEST(variant->size);
		memcpy(cmd + sizeof(__u32), &flags, sizeof(flags));
		ASSERT_EQ(-EOPNOTSUPP, SEND(cmd))
			TH_LOG("flag bit %d", bit);
	}
	if (variant->reserved_off) {
		cmd = REQUEST(variant->size);
		cmd[variant->reserved_off] = 1;
		test_err_cmd(EOPNOTSUPP, SEND(cmd));
	}
}

/* Output is written back only up to the caller's size. */
TEST_F(ioctl_struct, no_write_past_size)
{
	unsigned char *cmd = REQUEST(variant->min_size);

	/* The 0xcc bytes are outside the struct as far as the kernel knows. */
	memset(cmd + variant->min_size, 0xcc, 16);
	test_cmd(SEND(cmd));
	ASSERT_EQ(0xcc, cmd[variant->min_size]);
	ASSERT_EQ(0xcc, cmd[variant->min_size + 15]);
}

/*
 * Many threads share one fd: each allocates, checks and frees its own
 * IOASIDs, while a spoiler thread frees ids at random. Every id one
 * thread got must stay unique, and every free answers 0 or ENOENT/EBUSY.
 */
#define RACE_THREADS 4
#define RACE_ROUNDS 500

struct race_arg {
	int fd;
	int failures;
	atomic_bool *stop;
};

static void *race_owner(void *p)
{
	struct race_arg *arg = p;
	struct ioasid_cmd_get_info info;
	__u32 id;
	int i, ret;

	for (i = 0; i != RACE_ROUNDS; i++) {
		if (_test_ioctl_alloc(arg->fd, &id) || !id) {
			arg->failures++;
			continue;
		}
		ret = _test_ioctl_get_info(arg->fd, id, &info, NULL, 0);
		if (ret && ret != -ENOENT)
			arg->failures++;
		ret = _test_ioctl_free(arg->fd, id);
		/* The spoiler may have won, or hold it for a moment. */
		while (ret == -EBUSY)
			ret = _test_ioctl_free(arg->fd, id);
		if (ret && ret != -ENOENT)
			arg->failures++;
	}
	return NULL;
}

static void *race_spoiler(void *p)
{
	struct race_arg *arg = p;
	struct ioasid_cmd_get_info info;
	unsigned int seed = 1;
	int ret;

	while (!atomic_load(arg->stop)) {
		__u32 id = rand_r(&seed) % (RACE_THREADS * RACE_ROUNDS) + 1;

		ret = _test_ioctl_get_info(arg->fd, id, &info, NULL, 0);
		if (ret && ret != -ENOENT)
			arg->failures++;
		ret = _test_ioctl_free(arg->fd, id);
		if (ret && ret != -ENOENT && ret != -EBUSY)
			arg->failures++;
	}
	return NULL;
}

TEST_F_TIMEOUT(ioasid, concurrent_alloc_free, 300)
{
	struct race_arg args[RACE_THREADS + 1];
	pthread_t threads[RACE_THREADS + 1];
	atomic_bool stop = false;
	int i;

	for (i = 0; i != RACE_THREADS + 1; i++) {
		args[i] = (struct race_arg){ .fd = self->fd, .stop = &stop };
		ASSERT_EQ(0, pthread_create(&threads[i], NULL,
					    i ? race_owner : race_spoiler,
					    &args[i]));
	}
	for (i = 1; i != RACE_THREADS + 1; i++)
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
	atomic_store(&stop, true);
	ASSERT_EQ(0, pthread_join(threads[0], NULL));
	for (i = 0; i != RACE_THREADS + 1; i++)
		ASSERT_EQ(0, args[i].failures);
}

/*
 * Two processes free the same id: exactly one of them wins. The timeout
 * is a hang guard only: 200 forks take a while on an emulated CPU.
 */
TEST_F_TIMEOUT(ioasid, concurrent_double_free, 180)
{
	int round;

	for (round = 0; round != 200; round++) {
		pid_t pid;
		int status, ret, wins = 0;
		__u32 id;

		test_ioctl_alloc(self->fd, &id);
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			_exit(_test_ioctl_free(self->fd, id) ? 1 : 0);
		ret = _test_ioctl_free(self->fd, id);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		wins = !ret + !WEXITSTATUS(status);
		ASSERT_EQ(1, wins);
	}
}

TEST_HARNESS_MAIN
