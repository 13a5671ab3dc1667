# SPDX-License-Identifier: GPL-2.0
#
# Description: a trend chart: each series' run means against the run's
# time, its noise band (one standard deviation of the run means of each
# segment between change points, around the segment's mean) and its
# change points (a dashed line at the first run after the shift, labelled
# with the change).  Drawn by aiosuite/report/charts.py through
# report-run.gp.
#
# data: blocks separated by two blank lines, one per series; the first
# line of a block is its title ("title" -), then "time y" lines (time in
# seconds since the epoch, UTC).
# band: the same blocks without titles: "time low high" lines, a blank
# line between segments.
# cps (when ncp > 0): "time y0 dy ylabel label linetype" lines.
# Variables: data, band, cps, n (series), ncp (change points), ymin, ymax,
# xfmt (time format of the x tics), xl, yl, title, out, fmt, w, h.
if (!exists("lib")) { k = strlen(ARG0); while (k > 0 && ARG0[k:k] ne "/") { k = k - 1 }; lib = (k > 0 ? ARG0[1:k] : "")."report-common.gp" }
load lib
if (!exists("title")) title = ''
if (!exists("xl")) xl = 'run time (UTC)'
if (!exists("yl")) yl = '% of the median run'
if (!exists("xfmt")) xfmt = '%m-%d %H:%M'
if (!exists("ncp")) ncp = 0
set title title font ',12'
set xlabel xl
set ylabel yl
set xdata time
set timefmt '%s'
set format x xfmt
set xtics rotate by 30 right
set yrange [ymin:ymax]
set offsets graph 0.03, graph 0.03, 0, 0
set key below left Left reverse vertical maxcols 1 height 1.5
set style fill transparent solid 0.15 noborder
if (ncp > 0) {
	plot for [i=0:n-1] band index i using 1:2:3 with filledcurves lt (i+1) notitle, \
	     for [i=0:n-1] data index i using 1:2 with linespoints lt (i+1) title columnheader(1), \
	     cps using 1:2:(0):3:6 with vectors nohead dt 2 lw 1.5 lc variable notitle, \
	     cps using 1:4:5 with labels left offset 0.7,0 font ',9' notitle
} else {
	plot for [i=0:n-1] band index i using 1:2:3 with filledcurves lt (i+1) notitle, \
	     for [i=0:n-1] data index i using 1:2 with linespoints lt (i+1) title columnheader(1)
}
