#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""JUnit XML of the conformance results, for CI systems.

One <testsuite> per column (kernel or run) with conformance results, one
<testcase> per test and variant: fail, timeout, crash and stuck are
<failure>s, skip and interrupted (the run was stopped in the test) are
<skipped> with the reason, xfail passes with the reason in <system-out>.
A run whose aio-conform bailed out (a wedged kernel) is one more
<testsuite> with a failing "bail_out" test, whether or not the run was
compared.
"""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

from aiosuite.report.collect import FAILING, Run
from aiosuite.report.compare import Comparison


def junit_xml(cmp: Comparison, wedged: list[Run] | None = None) -> bytes:
    root = ET.Element("testsuites", name="aio-conform")
    total = fails = skips = 0
    for w in wedged or []:
        suite = ET.SubElement(root, "testsuite", name=f"aio-conform {w.name}",
                              tests="1", failures="1", errors="0", skipped="0")
        tc = ET.SubElement(suite, "testcase", name="bail_out",
                           classname=f"aio-conform.{w.name}")
        ET.SubElement(tc, "failure", message=w.bail_out, type="bail_out")
        total, fails = total + 1, fails + 1
    for col in cmp.columns:
        results = cmp.conf.get(col.id)
        if results is None:
            continue
        run = col.conform_run()
        suite = ET.SubElement(root, "testsuite", name=f"aio-conform {col.id}")
        nf = ns = 0
        props = ET.SubElement(suite, "properties")
        if run is not None:
            ET.SubElement(props, "property", name="run", value=run.name)
            ET.SubElement(props, "property", name="emulated", value=str(run.emulated).lower())
        for test, r in results.items():
            tc = ET.SubElement(suite, "testcase", name=test,
                               classname=f"aio-conform.{col.id}.{r.name.split('.')[0]}")
            if r.result in FAILING:
                nf += 1
                ET.SubElement(tc, "failure", message=r.reason or r.result, type=r.result)
            elif r.result in ("skip", "interrupted"):
                ns += 1
                ET.SubElement(tc, "skipped", message=r.reason or r.result)
            elif r.result != "pass":
                ET.SubElement(tc, "system-out").text = f"{r.result}: {r.reason}"
        suite.set("tests", str(len(results)))
        suite.set("failures", str(nf))
        suite.set("errors", "0")
        suite.set("skipped", str(ns))
        total, fails, skips = total + len(results), fails + nf, skips + ns
    root.set("tests", str(total))
    root.set("failures", str(fails))
    root.set("errors", "0")
    root.set("skipped", str(skips))
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def main(argv: list[str]) -> int:
    print("junit.py is a module of tools/report.py", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
