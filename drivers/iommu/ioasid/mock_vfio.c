// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VFIO driver for mock devices, for test kernels only
 * (CONFIG_IOASID_TEST_VFIO). It is a VFIO driver, not part of /dev/ioasid:
 * it has its own object and reaches the mock IOMMU only through the
 * functions mock.c exports.
 *
 * When loaded it creates a few platform devices behind the mock IOMMU
 * instances and registers each as a VFIO device, so they appear as
 * /dev/vfio/devices/vfioN and selftests and benchmarks bind them with
 * VFIO_BIND_IOASID_FD exactly as they would a PCI device under vfio-pci.
 *
 * The device does DMA, two ways. IOASID_MOCK_VFIO_DMA, issued on its
 * VFIO device fd, reads or writes a range of IOVA, with or without a
 * PASID, through the mock IOMMU (ioasid_mock_device_dma()), as the
 * device's hardware would. And a DMA engine, programmed with
 * IOASID_MOCK_VFIO_ENGINE, keeps writing a ring of slots from a work
 * item while the device runs, so that there is device state and guest
 * memory that change under a live migration.
 *
 * The devices behind the mock IOMMU support VFIO migration (STOP_COPY
 * and PRE_COPY): the VFIO core's vfio_mig_get_next_state() picks each
 * arc, the engine stops (no DMA in flight) on every arc out of RUNNING
 * and PRE_COPY, and the stream is the register file in records
 * (ioasid_test.h). The saving states share one data file, the resuming
 * state has its own; either is cut off from the device when the state
 * leaves them, at reset and at close.
 *
 * Lock order (outer first): VFIO's dev_set lock (open, close), then
 * mv->state_mutex (the migration state and the data files), then a data
 * file's lock, then mv->engine_lock (a spinlock: the registers). The
 * engine's work takes only engine_lock, and never across a DMA, so
 * stopping it with cancel_delayed_work_sync() under any of the others
 * is safe.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/vfio.h>
#include <linux/workqueue.h>

#include "ioasid_private.h"
#include "ioasid_test.h"

#define IOASID_MOCK_VFIO_NAME	"ioasid-mock-vfio"
#define IOASID_MOCK_EMULATED_NAME	"ioasid-mock-emulated"
#define IOASID_MOCK_DMA_MAX	SZ_1M

/* The engine's registers, in CPU order; no padding, so memcmp() works. */
struct ioasid_mock_engine_regs {
	u64 base;
	u32 nslots;
	u32 slot_size;
	u64 seq;
	u64 seed;
	u32 ctrl;
	u32 status;			/* FAULTED only; ACTIVE is @engine_on */
	u64 faults;
};

/* Paced to a few hundred slots a second: enough to race a migration. */
#define IOASID_MOCK_ENGINE_PERIOD_MS	2

struct ioasid_mock_vfio_mig_file;

struct ioasid_mock_vfio {
	struct vfio_device vdev;

	struct mutex state_mutex;	/* the four fields below */
	enum vfio_device_mig_state mig_state;
	struct ioasid_mock_vfio_mig_file *saving;	/* holds its file */
	struct ioasid_mock_vfio_mig_file *resuming;	/* likewise */

	spinlock_t engine_lock;		/* @regs and @engine_on */
	struct ioasid_mock_engine_regs regs;
	bool engine_on;			/* the work may run and requeue */
	struct delayed_work engine_work;
	/* Only the work touches it, one run at a time. */
	__le64 slot[IOASID_MOCK_ENGINE_SLOT_MAX / 8];
};

#define IOASID_MOCK_MIG_REC	sizeof(struct ioasid_mock_vfio_mig_record)

/*
 * A migration data file. Saving, @buf holds what is left to read of the
 * newest record, and in STOP_COPY the final one after it; @snap is the
 * register file the newest record was made from, so a change since is
 * dirty state. Resuming, @buf gathers one record at a time.
 */
struct ioasid_mock_vfio_mig_file {
	struct file *filp;
	struct mutex lock;		/* every field below */
	struct ioasid_mock_vfio *mv;	/* NULL once cut off from the device */
	bool final;			/* saving: the final record is made */
	bool dirty_phase;		/* saving: the initial record is read */
	struct ioasid_mock_engine_regs snap;
	size_t pos, len;		/* saving: unread bytes of @buf */
	size_t have;			/* resuming: bytes of a record in @buf */
	int error;			/* resuming: a record was refused */
	bool got_final;			/* resuming: @loaded is from STOP_COPY */
	bool loaded_any;
	struct ioasid_mock_engine_regs loaded;
	u8 buf[2 * IOASID_MOCK_MIG_REC];
};

/*
 * The first version of the argument, and the PASID extension: a caller
 * built before it passes the shorter size and means no PASID.
 */
#define IOASID_MOCK_VFIO_DMA_MINSZ	\
	offsetofend(struct ioasid_mock_vfio_dma, uptr)
#define IOASID_MOCK_VFIO_DMA_PASIDSZ	\
	offsetofend(struct ioasid_mock_vfio_dma, __reserved)

static int ioasid_mock_vfio_dma(struct vfio_device *vdev,
				struct ioasid_mock_vfio_dma __user *arg)
{
	struct ioasid_mock_vfio_dma dma = {};
	bool write;
	u8 *bounce;
	u64 end;
	int ret;

	if (copy_from_user(&dma, arg, IOASID_MOCK_VFIO_DMA_MINSZ))
		return -EFAULT;
	if (dma.argsz < IOASID_MOCK_VFIO_DMA_MINSZ ||
	    dma.flags & ~(IOASID_MOCK_VFIO_DMA_WRITE |
			  IOASID_MOCK_VFIO_DMA_PASID |
			  IOASID_MOCK_VFIO_DMA_PRI))
		return -EINVAL;
	if (dma.argsz >= IOASID_MOCK_VFIO_DMA_PASIDSZ &&
	    copy_from_user(&dma.pasid, &arg->pasid,
			   IOASID_MOCK_VFIO_DMA_PASIDSZ -
			   IOASID_MOCK_VFIO_DMA_MINSZ))
		return -EFAULT;
	/* A PASID needs the flag, and the flag the extension. */
	if (dma.__reserved ||
	    (dma.pasid && !(dma.flags & IOASID_MOCK_VFIO_DMA_PASID)) ||
	    (dma.flags & IOASID_MOCK_VFIO_DMA_PASID &&
	     dma.argsz < IOASID_MOCK_VFIO_DMA_PASIDSZ))
		return -EINVAL;
	if (!dma.length || dma.length > IOASID_MOCK_DMA_MAX ||
	    check_add_overflow(dma.iova, dma.length, &end))
		return -EINVAL;
	write = dma.flags & IOASID_MOCK_VFIO_DMA_WRITE;

	bounce = kvmalloc(dma.length, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	if (write && copy_from_user(bounce, u64_to_user_ptr(dma.uptr),
				    dma.length)) {
		ret = -EFAULT;
		goto out_free;
	}
	ret = ioasid_mock_device_dma(vdev->dev,
				     dma.flags & IOASID_MOCK_VFIO_DMA_PASID ?
				     dma.pasid : IOMMU_NO_PASID,
				     dma.iova, bounce, dma.length, write,
				     dma.flags & IOASID_MOCK_VFIO_DMA_PRI);
	if (!ret && !write && copy_to_user(u64_to_user_ptr(dma.uptr), bounce,
					   dma.length))
		ret = -EFAULT;
out_free:
	kvfree(bounce);
	return ret;
}

static struct ioasid_mock_vfio *to_mock_vfio(struct vfio_device *vdev)
{
	return container_of(vdev, struct ioasid_mock_vfio, vdev);
}

static void ioasid_mock_engine_fill(__le64 *slot, u64 seq, u64 seed,
				    u32 slot_size)
{
	u64 word = seed ^ seq;
	unsigned int i;

	slot[0] = cpu_to_le64(seq);
	for (i = 1; i != slot_size / 8; i++) {
		slot[i] = cpu_to_le64(word);
		word = word * IOASID_MOCK_ENGINE_LCG_MUL +
		       IOASID_MOCK_ENGINE_LCG_ADD;
	}
}

/*
 * One slot per run. A fault (the device detached, unbound, or the ring
 * unmapped or read-only) disables the engine rather than retrying, as a
 * device that hit a bus error would wait for its driver.
 */
static void ioasid_mock_engine_work(struct work_struct *work)
{
	struct ioasid_mock_vfio *mv =
		container_of(to_delayed_work(work), struct ioasid_mock_vfio,
			     engine_work);
	struct ioasid_mock_engine_regs r;
	bool again;
	u64 quot;
	u32 slot;
	int ret;

	spin_lock(&mv->engine_lock);
	if (!mv->engine_on) {
		spin_unlock(&mv->engine_lock);
		return;
	}
	r = mv->regs;
	spin_unlock(&mv->engine_lock);

	quot = r.seq;
	slot = do_div(quot, r.nslots);
	ioasid_mock_engine_fill(mv->slot, r.seq, r.seed, r.slot_size);
	ret = ioasid_mock_device_dma(mv->vdev.dev, IOMMU_NO_PASID,
				     r.base + (u64)slot * r.slot_size, mv->slot,
				     r.slot_size, true, false);

	/* Nothing else writes the registers while the work may run. */
	spin_lock(&mv->engine_lock);
	if (ret) {
		mv->regs.faults++;
		mv->regs.ctrl &= ~IOASID_MOCK_ENGINE_ENABLE;
		mv->regs.status |= IOASID_MOCK_ENGINE_FAULTED;
		mv->engine_on = false;
	} else {
		mv->regs.seq = r.seq + 1;
	}
	again = mv->engine_on;
	spin_unlock(&mv->engine_lock);
	if (again)
		queue_delayed_work(system_wq, &mv->engine_work,
				   msecs_to_jiffies(IOASID_MOCK_ENGINE_PERIOD_MS));
}

/* Caller holds state_mutex. Starts the engine if the state lets it run. */
static void ioasid_mock_engine_start(struct ioasid_mock_vfio *mv)
{
	bool run;

	lockdep_assert_held(&mv->state_mutex);
	spin_lock(&mv->engine_lock);
	run = mv->regs.ctrl & IOASID_MOCK_ENGINE_ENABLE &&
	      (mv->mig_state == VFIO_DEVICE_STATE_RUNNING ||
	       mv->mig_state == VFIO_DEVICE_STATE_PRE_COPY);
	mv->engine_on = run;
	spin_unlock(&mv->engine_lock);
	if (run)
		mod_delayed_work(system_wq, &mv->engine_work, 0);
}

/* On return no DMA of the engine is in flight, and none will start. */
static void ioasid_mock_engine_stop(struct ioasid_mock_vfio *mv)
{
	spin_lock(&mv->engine_lock);
	mv->engine_on = false;
	spin_unlock(&mv->engine_lock);
	cancel_delayed_work_sync(&mv->engine_work);
}

static void ioasid_mock_engine_read(struct ioasid_mock_vfio *mv,
				    struct ioasid_mock_engine_regs *r,
				    bool *active)
{
	spin_lock(&mv->engine_lock);
	*r = mv->regs;
	if (active)
		*active = mv->engine_on;
	spin_unlock(&mv->engine_lock);
}

static int ioasid_mock_engine_check(const struct ioasid_mock_engine_regs *r)
{
	u64 end;

	if (r->ctrl & ~IOASID_MOCK_ENGINE_ENABLE ||
	    r->status & ~IOASID_MOCK_ENGINE_FAULTED)
		return -EINVAL;
	if (r->base % 8 || r->slot_size % 8 ||
	    r->slot_size > IOASID_MOCK_ENGINE_SLOT_MAX ||
	    r->nslots > IOASID_MOCK_ENGINE_SLOTS_MAX ||
	    check_add_overflow(r->base, (u64)r->nslots * r->slot_size, &end))
		return -EINVAL;
	if (r->ctrl & IOASID_MOCK_ENGINE_ENABLE && (!r->nslots || !r->slot_size))
		return -EINVAL;
	return 0;
}

static int ioasid_mock_vfio_engine(struct ioasid_mock_vfio *mv,
				   struct ioasid_mock_vfio_engine __user *arg)
{
	struct ioasid_mock_vfio_engine cmd;
	struct ioasid_mock_engine_regs r;
	bool active;
	int ret = 0;

	if (copy_from_user(&cmd, arg, sizeof(cmd)))
		return -EFAULT;
	if (cmd.argsz < sizeof(cmd) || cmd.flags & ~IOASID_MOCK_VFIO_ENGINE_SET)
		return -EINVAL;

	mutex_lock(&mv->state_mutex);
	if (cmd.flags & IOASID_MOCK_VFIO_ENGINE_SET) {
		r = (struct ioasid_mock_engine_regs){
			.base = cmd.base,
			.nslots = cmd.nslots,
			.slot_size = cmd.slot_size,
			.seq = cmd.seq,
			.seed = cmd.seed,
			.ctrl = cmd.ctrl,
		};
		if (mv->mig_state != VFIO_DEVICE_STATE_RUNNING &&
		    mv->mig_state != VFIO_DEVICE_STATE_STOP)
			ret = -EBUSY;
		else
			ret = ioasid_mock_engine_check(&r);
		if (ret)
			goto out_unlock;
		ioasid_mock_engine_stop(mv);
		spin_lock(&mv->engine_lock);
		r.faults = mv->regs.faults;
		mv->regs = r;
		spin_unlock(&mv->engine_lock);
		ioasid_mock_engine_start(mv);
	}
	ioasid_mock_engine_read(mv, &r, &active);
	cmd.base = r.base;
	cmd.nslots = r.nslots;
	cmd.slot_size = r.slot_size;
	cmd.seq = r.seq;
	cmd.seed = r.seed;
	cmd.ctrl = r.ctrl;
	cmd.status = r.status | (active ? IOASID_MOCK_ENGINE_ACTIVE : 0);
	cmd.faults = r.faults;
	if (copy_to_user(arg, &cmd, sizeof(cmd)))
		ret = -EFAULT;
out_unlock:
	mutex_unlock(&mv->state_mutex);
	return ret;
}

static void ioasid_mock_mig_pack(struct ioasid_mock_vfio_mig_record *rec,
				 const struct ioasid_mock_engine_regs *r,
				 bool final)
{
	*rec = (struct ioasid_mock_vfio_mig_record){
		.magic = cpu_to_le32(IOASID_MOCK_VFIO_MIG_MAGIC),
		.version = cpu_to_le16(IOASID_MOCK_VFIO_MIG_VERSION),
		.flags = cpu_to_le16(final ? IOASID_MOCK_VFIO_MIG_FINAL : 0),
		.length = cpu_to_le32(sizeof(rec->regs)),
		.regs = {
			.base = cpu_to_le64(r->base),
			.nslots = cpu_to_le32(r->nslots),
			.slot_size = cpu_to_le32(r->slot_size),
			.seq = cpu_to_le64(r->seq),
			.seed = cpu_to_le64(r->seed),
			.ctrl = cpu_to_le32(r->ctrl),
			.status = cpu_to_le32(r->status),
			.faults = cpu_to_le64(r->faults),
		},
	};
}

static void ioasid_mock_mig_unpack(const struct ioasid_mock_vfio_mig_record *rec,
				   struct ioasid_mock_engine_regs *r)
{
	*r = (struct ioasid_mock_engine_regs){
		.base = le64_to_cpu(rec->regs.base),
		.nslots = le32_to_cpu(rec->regs.nslots),
		.slot_size = le32_to_cpu(rec->regs.slot_size),
		.seq = le64_to_cpu(rec->regs.seq),
		.seed = le64_to_cpu(rec->regs.seed),
		.ctrl = le32_to_cpu(rec->regs.ctrl),
		.status = le32_to_cpu(rec->regs.status),
		.faults = le64_to_cpu(rec->regs.faults),
	};
}

/* Saving: append a record of the registers as they are now. */
static void ioasid_mock_mig_append(struct ioasid_mock_vfio_mig_file *migf,
				   bool final)
{
	lockdep_assert_held(&migf->lock);
	ioasid_mock_engine_read(migf->mv, &migf->snap, NULL);
	ioasid_mock_mig_pack((void *)(migf->buf + migf->len), &migf->snap,
			     final);
	migf->len += IOASID_MOCK_MIG_REC;
}

/* Saving: whether the registers moved since the newest record. */
static bool ioasid_mock_mig_changed(struct ioasid_mock_vfio_mig_file *migf)
{
	struct ioasid_mock_engine_regs now;

	ioasid_mock_engine_read(migf->mv, &now, NULL);
	return memcmp(&now, &migf->snap, sizeof(now));
}

static ssize_t ioasid_mock_mig_read(struct file *filp, char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct ioasid_mock_vfio_mig_file *migf = filp->private_data;
	size_t n;
	ssize_t ret;

	mutex_lock(&migf->lock);
	if (!migf->mv) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (migf->pos == migf->len) {
		if (migf->final) {
			ret = 0;
			goto out_unlock;
		}
		/* PRE_COPY: the end for now, unless the state moved since. */
		if (!ioasid_mock_mig_changed(migf)) {
			ret = -ENOMSG;
			goto out_unlock;
		}
		migf->pos = 0;
		migf->len = 0;
		migf->dirty_phase = true;
		ioasid_mock_mig_append(migf, false);
	}
	n = min(count, migf->len - migf->pos);
	if (copy_to_user(ubuf, migf->buf + migf->pos, n)) {
		ret = -EFAULT;
		goto out_unlock;
	}
	migf->pos += n;
	ret = n;
out_unlock:
	mutex_unlock(&migf->lock);
	return ret;
}

static long ioasid_mock_mig_precopy_info(struct ioasid_mock_vfio_mig_file *migf,
					 struct vfio_precopy_info __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vfio_precopy_info info;
	size_t left;
	long ret = 0;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&migf->lock);
	if (!migf->mv) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (migf->final) {
		ret = -EINVAL;
		goto out_unlock;
	}
	left = migf->len - migf->pos;
	info.initial_bytes = migf->dirty_phase ? 0 : left;
	info.dirty_bytes = (migf->dirty_phase ? left : 0) +
			   (ioasid_mock_mig_changed(migf) ?
			    IOASID_MOCK_MIG_REC : 0);
	info.flags = 0;
	if (copy_to_user(arg, &info, minsz))
		ret = -EFAULT;
out_unlock:
	mutex_unlock(&migf->lock);
	return ret;
}

static long ioasid_mock_mig_ioctl(struct file *filp, unsigned int cmd,
				  unsigned long arg)
{
	struct ioasid_mock_vfio_mig_file *migf = filp->private_data;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO || !(filp->f_mode & FMODE_READ))
		return -ENOTTY;
	return ioasid_mock_mig_precopy_info(migf, (void __user *)arg);
}

static int ioasid_mock_mig_check_header(const struct ioasid_mock_vfio_mig_record *rec)
{
	if (le32_to_cpu(rec->magic) != IOASID_MOCK_VFIO_MIG_MAGIC)
		return -EINVAL;
	if (le16_to_cpu(rec->version) != IOASID_MOCK_VFIO_MIG_VERSION)
		return -EOPNOTSUPP;
	if (le16_to_cpu(rec->flags) & ~IOASID_MOCK_VFIO_MIG_FINAL ||
	    le32_to_cpu(rec->length) != sizeof(rec->regs) || rec->reserved)
		return -EINVAL;
	return 0;
}

/*
 * Resuming: records are checked as they arrive, so a bad stream fails
 * the write that brings it, not only the arc out of RESUMING.
 */
static ssize_t ioasid_mock_mig_write(struct file *filp,
				     const char __user *ubuf, size_t count,
				     loff_t *ppos)
{
	const size_t hdr = offsetof(struct ioasid_mock_vfio_mig_record, regs);
	struct ioasid_mock_vfio_mig_file *migf = filp->private_data;
	struct ioasid_mock_vfio_mig_record *rec = (void *)migf->buf;
	size_t done = 0, n;
	ssize_t ret;

	mutex_lock(&migf->lock);
	if (!migf->mv) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (migf->error) {
		ret = migf->error;
		goto out_unlock;
	}
	while (done != count) {
		n = min(count - done, IOASID_MOCK_MIG_REC - migf->have);
		if (copy_from_user(migf->buf + migf->have, ubuf + done, n)) {
			ret = -EFAULT;
			goto out_unlock;
		}
		done += n;
		if (migf->have < hdr && migf->have + n >= hdr)
			migf->error = ioasid_mock_mig_check_header(rec);
		migf->have += n;
		if (!migf->error && migf->have == IOASID_MOCK_MIG_REC) {
			ioasid_mock_mig_unpack(rec, &migf->loaded);
			migf->error = ioasid_mock_engine_check(&migf->loaded);
			migf->got_final = le16_to_cpu(rec->flags) &
					  IOASID_MOCK_VFIO_MIG_FINAL;
			migf->loaded_any = true;
			migf->have = 0;
		}
		if (migf->error) {
			ret = migf->error;
			goto out_unlock;
		}
	}
	ret = done;
out_unlock:
	mutex_unlock(&migf->lock);
	return ret;
}

static int ioasid_mock_mig_release(struct inode *inode, struct file *filp)
{
	struct ioasid_mock_vfio_mig_file *migf = filp->private_data;

	mutex_destroy(&migf->lock);
	kfree(migf);
	return 0;
}

static const struct file_operations ioasid_mock_mig_fops = {
	.owner = THIS_MODULE,
	.read = ioasid_mock_mig_read,
	.write = ioasid_mock_mig_write,
	.unlocked_ioctl = ioasid_mock_mig_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = ioasid_mock_mig_release,
};

static struct ioasid_mock_vfio_mig_file *
ioasid_mock_mig_file_new(struct ioasid_mock_vfio *mv, int flags)
{
	struct ioasid_mock_vfio_mig_file *migf;
	struct file *filp;

	migf = kzalloc(sizeof(*migf), GFP_KERNEL_ACCOUNT);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	filp = anon_inode_getfile("ioasid_mock_mig", &ioasid_mock_mig_fops,
				  migf, flags);
	if (IS_ERR(filp)) {
		kfree(migf);
		return ERR_CAST(filp);
	}
	/* A stream: no offsets, no pread or pwrite. */
	stream_open(filp->f_inode, filp);
	mutex_init(&migf->lock);
	migf->filp = filp;
	migf->mv = mv;
	return migf;
}

/* Cut a data file off from the device and drop the device's hold on it. */
static void ioasid_mock_mig_file_put(struct ioasid_mock_vfio_mig_file **slot)
{
	struct ioasid_mock_vfio_mig_file *migf = *slot;

	if (!migf)
		return;
	mutex_lock(&migf->lock);
	migf->mv = NULL;
	mutex_unlock(&migf->lock);
	fput(migf->filp);
	*slot = NULL;
}

static void ioasid_mock_mig_reset(struct ioasid_mock_vfio *mv)
{
	lockdep_assert_held(&mv->state_mutex);
	ioasid_mock_engine_stop(mv);
	ioasid_mock_mig_file_put(&mv->saving);
	ioasid_mock_mig_file_put(&mv->resuming);
	spin_lock(&mv->engine_lock);
	memset(&mv->regs, 0, sizeof(mv->regs));
	spin_unlock(&mv->engine_lock);
	mv->mig_state = VFIO_DEVICE_STATE_RUNNING;
}

/* RESUMING -> STOP: the stream must have ended on a whole final record. */
static int ioasid_mock_mig_load(struct ioasid_mock_vfio *mv)
{
	struct ioasid_mock_vfio_mig_file *migf = mv->resuming;
	int ret = 0;

	mutex_lock(&migf->lock);
	if (migf->error || migf->have || !migf->loaded_any || !migf->got_final)
		ret = -EINVAL;
	if (!ret) {
		spin_lock(&mv->engine_lock);
		mv->regs = migf->loaded;	/* the engine is stopped */
		spin_unlock(&mv->engine_lock);
	}
	mutex_unlock(&migf->lock);
	return ret;
}

/* One arc, as vfio_mig_get_next_state() picked it. */
static struct file *ioasid_mock_mig_step(struct ioasid_mock_vfio *mv,
					 enum vfio_device_mig_state next)
{
	enum vfio_device_mig_state cur = mv->mig_state;
	struct ioasid_mock_vfio_mig_file *migf;
	struct file *ret = NULL;
	int err;

	if (cur == VFIO_DEVICE_STATE_RUNNING &&
	    next == VFIO_DEVICE_STATE_STOP) {
		ioasid_mock_engine_stop(mv);
	} else if (cur == VFIO_DEVICE_STATE_STOP &&
		   next == VFIO_DEVICE_STATE_RUNNING) {
		/* Started below, once the state says it may run. */
	} else if ((cur == VFIO_DEVICE_STATE_RUNNING &&
		    next == VFIO_DEVICE_STATE_PRE_COPY) ||
		   (cur == VFIO_DEVICE_STATE_STOP &&
		    next == VFIO_DEVICE_STATE_STOP_COPY)) {
		migf = ioasid_mock_mig_file_new(mv, O_RDONLY);
		if (IS_ERR(migf))
			return ERR_CAST(migf);
		mutex_lock(&migf->lock);
		migf->final = next == VFIO_DEVICE_STATE_STOP_COPY;
		ioasid_mock_mig_append(migf, migf->final);
		mutex_unlock(&migf->lock);
		mv->saving = migf;
		ret = get_file(migf->filp);
	} else if (cur == VFIO_DEVICE_STATE_PRE_COPY &&
		   next == VFIO_DEVICE_STATE_STOP_COPY) {
		ioasid_mock_engine_stop(mv);
		migf = mv->saving;
		mutex_lock(&migf->lock);
		/* Finish the record being read, then the final one. */
		memmove(migf->buf, migf->buf + migf->pos,
			migf->len - migf->pos);
		migf->len -= migf->pos;
		migf->pos = 0;
		migf->final = true;
		ioasid_mock_mig_append(migf, true);
		mutex_unlock(&migf->lock);
		ret = get_file(migf->filp);
	} else if ((cur == VFIO_DEVICE_STATE_PRE_COPY &&
		    next == VFIO_DEVICE_STATE_RUNNING) ||
		   (cur == VFIO_DEVICE_STATE_STOP_COPY &&
		    next == VFIO_DEVICE_STATE_STOP)) {
		ioasid_mock_mig_file_put(&mv->saving);
	} else if (cur == VFIO_DEVICE_STATE_STOP &&
		   next == VFIO_DEVICE_STATE_RESUMING) {
		migf = ioasid_mock_mig_file_new(mv, O_WRONLY);
		if (IS_ERR(migf))
			return ERR_CAST(migf);
		mv->resuming = migf;
		ret = get_file(migf->filp);
	} else if (cur == VFIO_DEVICE_STATE_RESUMING &&
		   next == VFIO_DEVICE_STATE_STOP) {
		err = ioasid_mock_mig_load(mv);
		if (err)
			return ERR_PTR(err);
		ioasid_mock_mig_file_put(&mv->resuming);
	} else {
		/* vfio_mig_get_next_state() hands out no other arc. */
		WARN_ON_ONCE(1);
		return ERR_PTR(-EINVAL);
	}
	mv->mig_state = next;
	ioasid_mock_engine_start(mv);
	return ret;
}

static struct file *
ioasid_mock_vfio_set_state(struct vfio_device *vdev,
			   enum vfio_device_mig_state new_state)
{
	struct ioasid_mock_vfio *mv = to_mock_vfio(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	int ret;

	mutex_lock(&mv->state_mutex);
	while (mv->mig_state != new_state) {
		ret = vfio_mig_get_next_state(vdev, mv->mig_state, new_state,
					      &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = ioasid_mock_mig_step(mv, next);
		if (IS_ERR(res))
			break;
		/* Only an arc into the final state may hand out a file. */
		if (WARN_ON(res && next != new_state)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	mutex_unlock(&mv->state_mutex);
	return res;
}

static int ioasid_mock_vfio_get_state(struct vfio_device *vdev,
				      enum vfio_device_mig_state *state)
{
	struct ioasid_mock_vfio *mv = to_mock_vfio(vdev);

	mutex_lock(&mv->state_mutex);
	*state = mv->mig_state;
	mutex_unlock(&mv->state_mutex);
	return 0;
}

static int ioasid_mock_vfio_get_data_size(struct vfio_device *vdev,
					  unsigned long *stop_copy_length)
{
	*stop_copy_length = IOASID_MOCK_MIG_REC;
	return 0;
}

static const struct vfio_migration_ops ioasid_mock_vfio_mig_ops = {
	.migration_set_state = ioasid_mock_vfio_set_state,
	.migration_get_state = ioasid_mock_vfio_get_state,
	.migration_get_data_size = ioasid_mock_vfio_get_data_size,
};

static void ioasid_mock_vfio_reset(struct vfio_device *vdev)
{
	struct ioasid_mock_vfio *mv = to_mock_vfio(vdev);

	mutex_lock(&mv->state_mutex);
	ioasid_mock_mig_reset(mv);
	mutex_unlock(&mv->state_mutex);
}

/* Every open starts from a device just out of reset. */
static int ioasid_mock_vfio_open(struct vfio_device *vdev)
{
	ioasid_mock_vfio_reset(vdev);
	return 0;
}

/* Before the core gives DMA ownership back: the engine must be quiet. */
static void ioasid_mock_vfio_close(struct vfio_device *vdev)
{
	ioasid_mock_vfio_reset(vdev);
}

static int ioasid_mock_vfio_init_dev(struct vfio_device *vdev)
{
	struct ioasid_mock_vfio *mv = to_mock_vfio(vdev);

	mutex_init(&mv->state_mutex);
	spin_lock_init(&mv->engine_lock);
	INIT_DELAYED_WORK(&mv->engine_work, ioasid_mock_engine_work);
	mv->mig_state = VFIO_DEVICE_STATE_RUNNING;
	vdev->migration_flags = VFIO_MIGRATION_STOP_COPY |
				VFIO_MIGRATION_PRE_COPY;
	vdev->mig_ops = &ioasid_mock_vfio_mig_ops;
	return 0;
}

static void ioasid_mock_vfio_release_dev(struct vfio_device *vdev)
{
	mutex_destroy(&to_mock_vfio(vdev)->state_mutex);
}

/* A platform device with no regions and no interrupts: DMA is all it does. */
static int ioasid_mock_vfio_get_info(struct vfio_device *vdev,
				     struct vfio_device_info __user *arg)
{
	struct vfio_device_info info;
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = VFIO_DEVICE_FLAGS_PLATFORM;
	if (vdev->mig_ops)
		info.flags |= VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = 0;
	info.num_irqs = 0;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long ioasid_mock_vfio_ioctl(struct vfio_device *vdev, unsigned int cmd,
				   unsigned long arg)
{
	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return ioasid_mock_vfio_get_info(vdev, (void __user *)arg);
	case IOASID_MOCK_VFIO_DMA:
		return ioasid_mock_vfio_dma(vdev, (void __user *)arg);
	}
	/* The engine, and so migration, is on devices with an IOMMU only. */
	if (!vdev->mig_ops)
		return -ENOTTY;
	switch (cmd) {
	case IOASID_MOCK_VFIO_ENGINE:
		return ioasid_mock_vfio_engine(to_mock_vfio(vdev),
					       (void __user *)arg);
	case VFIO_DEVICE_RESET:
		/* Also how a RESUMING session is aborted. */
		ioasid_mock_vfio_reset(vdev);
		return 0;
	default:
		return -ENOTTY;
	}
}

static const struct vfio_device_ops ioasid_mock_vfio_ops = {
	.name = IOASID_MOCK_VFIO_NAME,
	.init = ioasid_mock_vfio_init_dev,
	.release = ioasid_mock_vfio_release_dev,
	.open_device = ioasid_mock_vfio_open,
	.close_device = ioasid_mock_vfio_close,
	.ioctl = ioasid_mock_vfio_ioctl,
	.bind_iommufd = vfio_iommufd_physical_bind,
	.unbind_iommufd = vfio_iommufd_physical_unbind,
	.attach_ioas = vfio_iommufd_physical_attach_ioas,
	.detach_ioas = vfio_iommufd_physical_detach_ioas,
};

/*
 * An emulated device, as an mdev is: no IOMMU in front of it, a group
 * VFIO makes up, and iommufd's in-kernel access in place of DMA. It is
 * here to prove that /dev/ioasid refuses such devices cleanly.
 */
static const struct vfio_device_ops ioasid_mock_vfio_emulated_ops = {
	.name = IOASID_MOCK_EMULATED_NAME,
	.ioctl = ioasid_mock_vfio_ioctl,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

static int ioasid_mock_vfio_probe(struct platform_device *pdev)
{
	bool emulated = platform_get_device_id(pdev)->driver_data;
	struct ioasid_mock_vfio *mv;
	int ret;

	mv = vfio_alloc_device(ioasid_mock_vfio, vdev, &pdev->dev,
			       emulated ? &ioasid_mock_vfio_emulated_ops :
					  &ioasid_mock_vfio_ops);
	if (IS_ERR(mv))
		return PTR_ERR(mv);
	if (emulated)
		ret = vfio_register_emulated_iommu_dev(&mv->vdev);
	else
		ret = vfio_register_group_dev(&mv->vdev);
	if (ret) {
		vfio_put_device(&mv->vdev);
		return ret;
	}
	platform_set_drvdata(pdev, mv);
	return 0;
}

static void ioasid_mock_vfio_remove(struct platform_device *pdev)
{
	struct ioasid_mock_vfio *mv = platform_get_drvdata(pdev);

	vfio_unregister_group_dev(&mv->vdev);
	vfio_put_device(&mv->vdev);
}

static const struct platform_device_id ioasid_mock_vfio_ids[] = {
	{ .name = IOASID_MOCK_VFIO_NAME, .driver_data = false },
	{ .name = IOASID_MOCK_EMULATED_NAME, .driver_data = true },
	{ }
};

static struct platform_driver ioasid_mock_vfio_driver = {
	.driver.name = IOASID_MOCK_VFIO_NAME,
	.id_table = ioasid_mock_vfio_ids,
	/* DMA ownership goes to whoever VFIO binds the device to. */
	.driver_managed_dma = true,
	.probe = ioasid_mock_vfio_probe,
	.remove = ioasid_mock_vfio_remove,
};

static struct device *ioasid_mock_vfio_devs[IOASID_MOCK_VFIO_DEVICES];
static struct platform_device *ioasid_mock_vfio_emulated;

/* Built in, it must run after VFIO (a later initcall level). */
static int __init ioasid_mock_vfio_init(void)
{
	unsigned int i;
	int ret;

	ret = platform_driver_register(&ioasid_mock_vfio_driver);
	if (ret)
		return ret;
	/*
	 * Two behind each of the instances whose MSIs are isolated: enough
	 * to share and to differ, and bindable without unsafe interrupts.
	 */
	for (i = 0; i != ARRAY_SIZE(ioasid_mock_vfio_devs); i++) {
		unsigned int instance = i % 2 ? IOASID_MOCK_INSTANCE_SMALL :
						IOASID_MOCK_INSTANCE_LARGE;
		struct device *dev;

		dev = ioasid_mock_device_create(instance, 0,
						IOASID_MOCK_VFIO_NAME);
		if (IS_ERR(dev)) {
			ret = PTR_ERR(dev);
			goto err_destroy;
		}
		ioasid_mock_vfio_devs[i] = dev;
	}
	ioasid_mock_vfio_emulated =
		platform_device_register_simple(IOASID_MOCK_EMULATED_NAME,
						PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(ioasid_mock_vfio_emulated)) {
		ret = PTR_ERR(ioasid_mock_vfio_emulated);
		goto err_destroy;
	}
	return 0;

err_destroy:
	while (i--)
		ioasid_mock_device_destroy(ioasid_mock_vfio_devs[i]);
	platform_driver_unregister(&ioasid_mock_vfio_driver);
	return ret;
}
late_initcall(ioasid_mock_vfio_init);

static void __exit ioasid_mock_vfio_exit(void)
{
	unsigned int i;

	platform_device_unregister(ioasid_mock_vfio_emulated);
	for (i = 0; i != ARRAY_SIZE(ioasid_mock_vfio_devs); i++)
		ioasid_mock_device_destroy(ioasid_mock_vfio_devs[i]);
	platform_driver_unregister(&ioasid_mock_vfio_driver);
}
module_exit(ioasid_mock_vfio_exit);

MODULE_DESCRIPTION("VFIO driver for the /dev/ioasid mock IOMMU's devices");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(IOASID_TEST);
