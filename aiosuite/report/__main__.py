# SPDX-License-Identifier: GPL-2.0
"""Description: python3 -m aiosuite.report: the report (cli.py)."""
import signal
import sys

from aiosuite.report.cli import main

signal.signal(signal.SIGPIPE, signal.SIG_DFL)
sys.exit(main(sys.argv[1:]))
