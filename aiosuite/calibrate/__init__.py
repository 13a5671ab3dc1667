# SPDX-License-Identifier: GPL-2.0
"""Description: make calibrate: what this machine can detect, measured with
A/A pairs and with slowdowns the kernel itself imposes (a cpu cgroup quota,
block-layer throttling of a loop device); see cli.py."""
