# SPDX-License-Identifier: GPL-2.0
"""Description: make bench (python3 -m aiosuite.bench, tools/bench.py): the
main job on the running kernel, and overhead, make bench-overhead
(tools/bench_overhead.py).
"""
