# SPDX-License-Identifier: GPL-2.0
"""Description: python3 -m aiosuite.calibrate."""
import sys

from aiosuite.calibrate.cli import main

sys.exit(main(sys.argv[1:]))
