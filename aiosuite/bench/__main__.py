# SPDX-License-Identifier: GPL-2.0
"""Description: python3 -m aiosuite.bench: make bench's main job (cli.py)."""
import sys

from aiosuite.bench.cli import main

sys.exit(main(sys.argv[1:]))
