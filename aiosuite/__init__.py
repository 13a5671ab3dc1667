# SPDX-License-Identifier: GPL-2.0
"""Description: aio-suite's Python package: the studies, make bench and the
report, over the results store.

Floors (a module imports only modules on the floors below it, and inside
study/ and report/ cli.py stands above the rest):
  1  stats, schemas, machine, features, interrupt, scratch,  no package imports
     cliparse (the commands' one-line usage errors)
  2  store                                                   the results store
  3  study/ (cli, core, targets, plot, fiojob, scenarios/<name>)
     report/ (cli, collect, compare, charts, render, junit, synth)
  4  bench/ (cli, overhead): runs the studies, then the report

  python3 -m aiosuite.study | aiosuite.report | aiosuite.bench [ARGS]
from the checkout's top; tools/study.py, tools/report.py and tools/bench.py
run the same from anywhere.
"""
