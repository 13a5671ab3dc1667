#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report: list the runs in the results store and compare kernels and runs.

  report.py list                      the runs: host, kernel, run id, contents
  report.py [compare] [options]       compare every column with a baseline and
                                      write report.md, report.html (charts
                                      embedded), report.csv, conform-junit.xml
                                      and charts/ (PNG, SVG, .dat) into --out

A column is a kernel (its runs the unit of its comparisons; --pool-runs
pools their samples) or, with --by run, one run (its samples the unit,
with the between-run variance of the host's other runs of the kernel).
Per metric: mean, stddev, CV and % change against the baseline (default:
the oldest kernel, or the oldest run).  A change is significant with at
least 3 samples on each side, its test significant at --alpha (Welch's t,
Mann-Whitney's U where samples are many; a tail figure only with enough
samples; the Benjamini-Hochberg correction over all metrics of a column,
unless --no-fdr) and a change of at
least the noise floor: --noise percent, raised for a metric to the largest
change seen between two runs of one kernel (with --by run: two runs other
than the pair compared; --no-drift-floor keeps it at --noise), and for a
column to the change of its machine probes when the machine itself was
significantly slower or faster than the baseline's (machine.json, written
by make bench and tools/study.py; --no-machine-floor); it is a regression
or an improvement by the metric's direction.  A study metric (per
scenario and metric) whose samples spread less relative to the machine
probe of their round, in the baseline's own runs, is compared normalized
(docs/REPORT.md; --no-normalize: raw figures only).  Composites (the geometric
mean of the per-point ratios per scenario, per engine and over all points,
with a bootstrap interval) are judged the same way and count as
regressions; so does a point that became synchronous (inline ratio >= 0.95
or achieved depth below half the asked; docs/REPORT.md).  The runs of each
host and kernel in time order are a history: every metric of every point
and each scenario's composite is a series of run means, split at its
change points (E-Divisive, significant at --cp-alpha, at least --noise),
shown in a Change points section, changepoints.csv and a trend chart per
scenario (--no-history: none).  Conformance: new failures,
fixed tests and changed skips against the baseline.  Emulated (TCG) runs
count for conformance only.  Incomplete runs (summary.json or the
conformance JSON say complete false: killed, interrupted, bailed out) are
listed and left out of the comparison unless --include-incomplete.  A file
of the store that cannot be used (not a regular file, too big, not JSON,
a value of the wrong type or not finite) is named, on stderr and in the
report, and left out; the report goes on.

Exit status: 0; 1 with --fail-on-regression when a significant regression
(of a point or a composite, or a point that became synchronous) or a new
conformance failure was found or a conformance run bailed out (a
wedged kernel), or on an internal error; 2 on a usage error.
"""
from __future__ import annotations

import argparse
import datetime
import fnmatch
import sys
from pathlib import Path
from typing import NoReturn

from aiosuite import schemas, stats, store
from aiosuite.report import (changepoints, charts, collect, compare, composite, junit,
                             kcidb, render, synchronous, trends)

PROG = "report"
FORMATS = ("md", "html", "csv", "junit", "kcidb")
DEFAULT_FORMATS = ("md", "html", "csv", "junit")


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: "report: <what is wrong>", status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def parser() -> Parser:
    ap = Parser(prog=PROG, description=__doc__.split("\n\n")[0],
                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", nargs="?", default="compare", choices=("compare", "list"),
                    help="compare (default) or list")
    ap.add_argument("--results", metavar="DIR",
                    help="the results store (default $AIO_SUITE_RESULTS, else results/ in the "
                         "checkout, or installed ~/.local/share/aio-suite/results)")
    ap.add_argument("--out", metavar="DIR", help="where the report goes (default <results>/report/)")
    ap.add_argument("--by", choices=("kernel", "run"),
                    help="columns: kernels (default) or single runs")
    ap.add_argument("--baseline", metavar="RELEASE|RUN",
                    help="the column to compare with: a kernel release or a run id "
                         "(a run id implies --by run); default the oldest")
    ap.add_argument("--runs", metavar="GLOB", action="append", default=[],
                    help="only runs whose id, release or host/release/id matches (repeatable)")
    ap.add_argument("--noise", type=float, default=stats.DEFAULT_NOISE_PCT, metavar="PCT",
                    help=f"noise floor in percent (default {stats.DEFAULT_NOISE_PCT:g})")
    ap.add_argument("--no-drift-floor", action="store_true",
                    help="do not raise a metric's noise floor to the largest change seen "
                         "between two runs of one kernel")
    ap.add_argument("--no-machine-floor", action="store_true",
                    help="do not raise a column's noise floor to the change of its machine "
                         "probes (machine.json) when the machine itself moved")
    ap.add_argument("--no-normalize", action="store_true",
                    help="compare raw figures only (default: a study metric whose samples "
                         "spread less relative to the machine probe of their round, in the "
                         "baseline's own runs, is compared normalized; docs/REPORT.md)")
    ap.add_argument("--no-fdr", action="store_true",
                    help="test each metric at --alpha on its own, without the "
                         "Benjamini-Hochberg correction over all metrics of a column")
    ap.add_argument("--pool-runs", action="store_true",
                    help="pool the samples of a kernel's runs as if independent (the rule "
                         "before runs were the unit)")
    ap.add_argument("--resamples", type=int, default=stats.DEFAULT_RESAMPLES, metavar="N",
                    help="bootstrap resamples of a composite's interval (default "
                         f"{stats.DEFAULT_RESAMPLES}; 0: no composites)")
    ap.add_argument("--seed", default="1", metavar="S",
                    help="seed of the composites' bootstrap (default 1): the same store "
                         "gives the same report")
    ap.add_argument("--alpha", type=float, default=stats.DEFAULT_ALPHA, metavar="P",
                    help=f"significance level of Welch's t-test (default {stats.DEFAULT_ALPHA:g})")
    ap.add_argument("--cp-alpha", type=float, default=changepoints.DEFAULT_ALPHA, metavar="P",
                    help="significance level of a change point in the history of a host "
                         f"and kernel (default {changepoints.DEFAULT_ALPHA:g})")
    ap.add_argument("--cp-null", choices=changepoints.NULLS, default="normal",
                    help="what a change point is tested against: normal draws (default; "
                         "any number of runs) or permutations of the run means (no "
                         "assumption; needs about 10 runs to reach 0.01)")
    ap.add_argument("--no-history", action="store_true",
                    help="no change points and no trend charts")
    ap.add_argument("--formats", default=",".join(DEFAULT_FORMATS), metavar="LIST",
                    help=f"outputs to write, comma-separated, of {','.join(FORMATS)} "
                         f"(default {','.join(DEFAULT_FORMATS)}); kcidb: a KCIDB document "
                         "per run in kcidb/")
    ap.add_argument("--no-charts", action="store_true", help="write no charts")
    ap.add_argument("--cdf-depth", type=int, metavar="QD",
                    help="queue depth of the latency CDF (default 32 when measured)")
    ap.add_argument("--include-incomplete", action="store_true",
                    help="compare incomplete runs too (killed or interrupted runs, "
                         "conformance runs that bailed out)")
    ap.add_argument("--fail-on-regression", action="store_true",
                    help="exit 1 on a significant regression or a new conformance failure")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only the summary line")
    return ap


def select(runs: list[collect.Run], globs: list[str]) -> list[collect.Run]:
    if not globs:
        return runs
    return [r for r in runs if any(fnmatch.fnmatchcase(x, g) for g in globs
                                   for x in (r.run_id, r.release, r.name))]


def resolve_baseline(runs: list[collect.Run], want: str, by: str | None) -> tuple[str, str]:
    """(by, column id) for --baseline; raises UsageError when nothing matches."""
    releases = sorted({r.release for r in runs}, key=collect.version_key)
    hosts = {r.host for r in runs}
    kernel_ids = set(releases) | {f"{r.host}/{r.release}" for r in runs}
    if want in kernel_ids and by != "run":
        if len(hosts) > 1 and want in releases:
            hs = sorted(r.host for r in runs if r.release == want)
            if len(set(hs)) > 1:
                raise UsageError(f"--baseline '{want}': the release ran on several hosts "
                                 f"({', '.join(sorted(set(hs)))}); say HOST/{want}")
            want = f"{hs[0]}/{want}"
        return "kernel", want
    names = compare.run_ids(runs)
    matches = [r for r in runs if want in (r.run_id, r.name, names[id(r)])]
    if not matches:
        matches = [r for r in runs if r.run_id.startswith(want)]
    if len(matches) == 1:
        if by == "kernel":
            raise UsageError(f"--baseline '{want}' names a run; use --by run")
        return "run", names[id(matches[0])]
    if len(matches) > 1:
        raise UsageError(f"--baseline '{want}' matches {len(matches)} runs; give more of the "
                         "run id, or HOST/RELEASE/RUN")
    if want in kernel_ids:  # a release with --by run: its oldest run
        r = next(r for r in runs if r.release == want or f"{r.host}/{r.release}" == want)
        return "run", names[id(r)]
    known = ", ".join(releases[:8]) + (" ..." if len(releases) > 8 else "")
    raise UsageError(f"--baseline '{want}' matches no kernel or run (kernels: {known or 'none'})")


def check_baseline(want: str, runs: list[collect.Run], compared: list[collect.Run]) -> None:
    """A --baseline that names only incomplete runs says so."""
    ids = {r.release for r in compared} | {r.run_id for r in compared} | {
        f"{r.host}/{r.release}" for r in compared} | {r.name for r in compared}
    if want in ids:
        return
    left = [r for r in runs if r.incomplete and want in (
        r.release, r.run_id, f"{r.host}/{r.release}", r.name)]
    if left:
        raise UsageError(f"--baseline '{want}' names incomplete runs only ({left[0].name}: "
                         f"{left[0].incomplete[0]}); add --include-incomplete")


def cmd_list(runs: list[collect.Run], root: Path) -> int:
    if not runs:
        print(f"{PROG}: no runs in {schemas.printable(str(root))}")
        return 0
    print(f"{'host':<10} {'kernel':<24} {'run':<32} {'emulated':<8} {'complete':<8} contents")
    for r in sorted(runs, key=lambda r: (collect.version_key(r.release), r.run_id)):
        print(f"{r.host:<10} {r.release:<24} {r.run_id:<32} {'TCG' if r.emulated else 'no':<8} "
              f"{'no' if r.incomplete else 'yes':<8} {render.run_contents(r)}"
              + (f"; incomplete: {'; '.join(r.incomplete)}" if r.incomplete else ""))
    return 0


def warn_bad(runs: list[collect.Run], store_warnings: list[str]) -> list[str]:
    """Name every bad file and store problem on stderr, one line each;
    return them for the report."""
    bad = list(store_warnings) + [f"{r.name}/{w}" for r in runs for w in r.warnings]
    for w in bad:
        print(f"{PROG}: bad file: {w}", file=sys.stderr)
    return bad


def run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.noise < 0:
        raise UsageError(f"argument --noise: must be 0 or more, not '{args.noise:g}'")
    if not 0 < args.alpha < 1:
        raise UsageError(f"argument --alpha: must be between 0 and 1, not '{args.alpha:g}'")
    if not 0 < args.cp_alpha < 1:
        raise UsageError(f"argument --cp-alpha: must be between 0 and 1, not '{args.cp_alpha:g}'")
    formats = [f for f in args.formats.split(",") if f]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise UsageError(f"argument --formats: unknown format '{bad[0] if bad else ''}' "
                         f"(known: {', '.join(FORMATS)})")
    if args.resamples != 0 and not 100 <= args.resamples <= 100000:
        raise UsageError(f"argument --resamples: must be 0 or 100 to 100000, not "
                         f"'{args.resamples}'")
    if args.cdf_depth is not None and args.cdf_depth < 1:
        raise UsageError(f"argument --cdf-depth: must be 1 or more, not '{args.cdf_depth}'")
    root = Path(args.results) if args.results else store.results_root()
    if args.results and not root.is_dir():
        raise UsageError(f"argument --results: '{args.results}' is not a directory")
    out = Path(args.out) if args.out else root / "report"
    store_warnings: list[str] = []
    runs = select(collect.load_store(root, skip=out, warnings=store_warnings), args.runs)
    bad = warn_bad(runs, store_warnings)
    if args.command == "list":
        return cmd_list(runs, root)

    compared = runs if args.include_incomplete else [r for r in runs if not r.incomplete]
    by = args.by or "kernel"
    baseline = ""
    if args.baseline:
        check_baseline(args.baseline, runs, compared)
        if not compared:
            raise UsageError(f"--baseline '{args.baseline}' matches no kernel or run (no runs)")
        by, baseline = resolve_baseline(compared, args.baseline, args.by)
    cmp = compare.compare_runs(compared, by, baseline, args.noise, args.alpha,
                               drift=not args.no_drift_floor, fdr=not args.no_fdr,
                               use_machine=not args.no_machine_floor,
                               pool_runs=args.pool_runs, normalize=not args.no_normalize)
    comps = (composite.build(cmp, compared, args.resamples, args.seed) if args.resamples
             else composite.Composites())
    sync = synchronous.build(cmp)

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"{PROG}: cannot create {schemas.printable(str(out))}: {e.strerror}",
              file=sys.stderr)
        return 2
    ch, tch = charts.Charts(), charts.Charts()
    if args.no_charts:
        ch.notes.append("charts: none drawn (--no-charts)")
    else:
        ch = charts.draw_all(cmp, out / "charts", ("png", "svg"), args.cdf_depth)
    # The history: the runs of each host and kernel in time order.
    hist = changepoints.History([], 0, 0, args.cp_alpha, args.noise, args.cp_null,
                                ["history: not analysed (--no-history)"])
    if not args.no_history:
        hist = changepoints.analyse_store(compared, args.cp_alpha, args.noise, args.cp_null)
        if not args.no_charts:
            tch = charts.draw_trends(hist, out / "charts", ("png", "svg"))
        elif hist.trends:
            tch.notes.append("trend charts: none drawn (--no-charts)")
    meta = {"time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "root": schemas.printable(str(root))}
    # A conformance run that bailed out is left out of the comparison like
    # any incomplete run, but a wedged kernel is a failure of its own.
    wedged = [r for r in runs if r.bail_out]
    blocks = trends.dashboard(render.build(cmp, runs, ch, meta, bad, args.include_incomplete,
                                           comps, sync)
                              + trends.blocks(hist, tch))
    written = []
    if "md" in formats:
        (out / "report.md").write_text(render.to_markdown(blocks, out), encoding="utf-8")
        written.append("report.md")
    if "html" in formats:
        (out / "report.html").write_text(render.to_html(blocks), encoding="utf-8")
        written.append("report.html")
    if "csv" in formats:
        (out / "report.csv").write_text(render.to_csv(cmp, comps, sync), encoding="utf-8")
        (out / "changepoints.csv").write_text(trends.to_csv(hist), encoding="utf-8")
        written += ["report.csv", "changepoints.csv"]
    if "junit" in formats:
        (out / "conform-junit.xml").write_bytes(junit.junit_xml(cmp, wedged))
        written.append("conform-junit.xml")
    kcidb_notes: list[str] = []
    if "kcidb" in formats:
        try:
            ndocs, kcidb_notes = kcidb.write_all(runs, out / "kcidb", args.include_incomplete)
        except OSError as e:
            print(f"{PROG}: cannot write {schemas.printable(str(out / 'kcidb'))}: "
                  f"{e.strerror or e}", file=sys.stderr)
            return 1
        written.append(f"kcidb/ ({ndocs} documents)")

    regs, newf = cmp.regressions, cmp.new_failures
    in_cmp = {id(r) for r in compared}
    left_out = [r for r in runs if id(r) not in in_cmp]
    if not args.quiet:
        for run_ in runs:
            if run_.incomplete:
                print(f"{PROG}: incomplete run: {run_.name}: {'; '.join(run_.incomplete)}"
                      + ("" if id(run_) in in_cmp else "; left out (--include-incomplete)"))
        for r, cid in regs:
            c = r.cells[cid]
            assert c.cmp is not None
            print(f"{PROG}: regression: {r.title}: {r.metric} {render.fmt_pct(c.cmp.change_pct)} "
                  f"on {cid} (p={render.fmt_p(c.cmp.p)})")
        for cr in comps.regressions:
            assert cr.result is not None
            print(f"{PROG}: composite regression: {cr.name} "
                  f"{render.fmt_pct(cr.result.change_pct)} [{render.fmt_ci(cr)}] over "
                  f"{cr.result.points} points on {cr.column} (p={render.fmt_p(cr.result.p)})")
        for sr, cid in sync.regressions:
            bs = sr.states.get(cmp.baseline.id if cmp.baseline else "")
            print(f"{PROG}: became synchronous: {sr.point.title} on {cid} "
                  f"({bs.why if bs else '-'} -> {sr.states[cid].why})")
        for run_ in wedged:
            print(f"{PROG}: wedged kernel: {run_.name}: aio-conform bailed out: {run_.bail_out}")
        for d in cmp.conf_diffs:
            for t, was, now in d.new_failures:
                print(f"{PROG}: new conformance failure: {t} on {d.column} ({was} on {d.baseline})")
        for n in ch.notes + tch.notes:
            print(f"{PROG}: {n}")
        for tr in hist.shifted:
            cp = tr.cps[-1]
            if tr.series.composite:
                print(f"{PROG}: change point: {tr.series.host}/{tr.series.release}: "
                      f"{tr.series.point}: {render.fmt_pct(cp.change_pct)} from run {cp.run} "
                      f"({cp.index + 1} of {len(tr.series.obs)}, p={render.fmt_p(cp.p)})")
        if hist.trends:
            hk = "host and kernel" if hist.groups == 1 else "hosts and kernels"
            print(f"{PROG}: history: {len(hist.trends)} series of {hist.groups} {hk} "
                  f"({hist.runs} runs): {len(hist.shifted)} with a change point")
        for n in kcidb_notes:
            print(f"{PROG}: kcidb: {n}")
        print(f"{PROG}: {cmp.normalization.summary()}")
        for mc in cmp.machine.values():
            if mc.moved and mc.cmp is not None:
                print(f"{PROG}: machine: {mc.column}: probe {render.fmt_pct(mc.cmp.change_pct)} "
                      f"against {mc.baseline} (p={render.fmt_p(mc.cmp.p)})"
                      + (f": floor {mc.floor_pct:.1f}% in this column" if cmp.use_machine
                         else ""))
    print(f"{PROG}: {len(runs)} runs"
          + (f" ({len(left_out)} incomplete, left out)" if left_out else "")
          + f", {len(cmp.columns)} {by}s, baseline "
          f"{cmp.baseline.id if cmp.baseline else '-'}: {len(regs)} regressions, "
          f"{len(cmp.improvements)} improvements, {newf} new conformance failures"
          + (f", composites: {len(comps.regressions)} regressions, "
             f"{len(comps.improvements)} improvements" if comps.rows else "")
          + (f", {len(sync.regressions)} became synchronous" if sync.regressions else "")
          + (f", {len(wedged)} wedged kernel runs" if wedged else "") + "; "
          f"{len(ch.made) + len(tch.made)} charts; wrote {', '.join(written)} in "
          f"{schemas.printable(str(out))}")
    if args.fail_on_regression and (regs or newf or wedged or comps.regressions
                                    or sync.regressions):
        return 1
    return 0


def main(argv: list[str]) -> int:
    try:
        return run(argv)
    except UsageError as e:
        print(f"{PROG}: {schemas.printable(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: one line, not a traceback
        print(f"{PROG}: internal error: {type(e).__name__}: {schemas.printable(str(e))}",
              file=sys.stderr)
        return 1

