/* SPDX-License-Identifier: GPL-2.0 */
/* Signature probe of a block device through libblkid. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <blkid/blkid.h>

#include "target.h"

/* blkid's USAGE ("filesystem", "raid", "crypto", "other") as a noun. */
static const char *usage_noun(const char *usage)
{
	if (!usage)
		return "";
	if (!strcmp(usage, "filesystem"))
		return "filesystem ";
	if (!strcmp(usage, "raid"))
		return "RAID or LVM ";
	if (!strcmp(usage, "crypto"))
		return "encrypted volume ";
	return "";
}

int blkid_signature(const char *dev, char *what, size_t len)
{
	blkid_probe pr;
	const char *val = NULL, *usage = NULL;
	int ret;

	errno = 0;
	pr = blkid_new_probe_from_filename(dev);
	if (!pr)
		return errno ? -errno : -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
						      BLKID_SUBLKS_USAGE);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	ret = blkid_do_safeprobe(pr);
	if (ret == 0) {
		if (!blkid_probe_lookup_value(pr, "TYPE", &val, NULL)) {
			blkid_probe_lookup_value(pr, "USAGE", &usage, NULL);
			snprintf(what, len, "carries a %ssignature (%s)",
				 usage_noun(usage), val);
		} else if (!blkid_probe_lookup_value(pr, "PTTYPE", &val,
						     NULL)) {
			snprintf(what, len, "carries a partition table (%s)",
				 val);
		} else {
			snprintf(what, len, "carries a signature");
		}
		ret = 1;
	} else if (ret == 1) {
		ret = 0;
	} else if (ret == -2) {
		snprintf(what, len,
			 "carries several signatures (blkid: ambivalent)");
		ret = 1;
	} else {
		ret = -EIO;
	}
	blkid_free_probe(pr);
	return ret;
}
