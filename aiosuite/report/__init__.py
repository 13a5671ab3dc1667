# SPDX-License-Identifier: GPL-2.0
"""Description: the report over the results store (python3 -m aiosuite.report,
tools/report.py): collect reads the store, compare compares the columns,
charts draws, render writes Markdown, HTML and CSV, junit the JUnit XML;
synth writes synthetic runs with known answers for the tests.
"""
