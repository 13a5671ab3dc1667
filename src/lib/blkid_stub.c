/* SPDX-License-Identifier: GPL-2.0 */
/* Built without libblkid: signatures cannot be probed, so say so. */
#include <errno.h>
#include <stdio.h>

#include "target.h"

int blkid_signature(const char *dev, char *what, size_t len)
{
	snprintf(what, len, "could not be probed (built without libblkid)");
	return -EOPNOTSUPP;
}
