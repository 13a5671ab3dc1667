# SPDX-License-Identifier: GPL-2.0
"""Description: the scenario studies (python3 -m aiosuite.study, tools/study.py):
cli runs the rounds, core is the context every scenario measures with,
targets and plot its targets and charts, fiojob the fio job files, and
scenarios/<name>.py one file per scenario, found by name.
"""
