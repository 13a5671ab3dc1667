# SPDX-License-Identifier: GPL-2.0
"""Description: python3 -m aiosuite.study: the scenario studies (cli.py)."""
import sys

from aiosuite.study.cli import main

sys.exit(main(sys.argv[1:]))
