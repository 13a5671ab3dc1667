# SPDX-License-Identifier: GPL-2.0
#
# Latency percentiles against queue depth: io_submit time per iocb (left)
# and completion latency (right), each series as p50 (solid), p99 (dashes)
# and p99.9 (dots).  Drawn by tools/charts.py.
#
# sub, clat: data files as for report-lines.gp, three blocks per series in
# the order p50, p99, p99.9 (latency in microseconds); ns, nc: how many
# blocks each holds (0 draws an empty panel with a note).
# Variables: sub, clat, ns, nc, out, title, fmt, w, h.
if (!exists("lib")) { k = strlen(ARG0); while (k > 0 && ARG0[k:k] ne "/") { k = k - 1 }; lib = (k > 0 ? ARG0[1:k] : "")."report-common.gp" }
load lib
if (!exists("title")) title = ''
set multiplot layout 1,2 title title font ',12'
set logscale x 2
set logscale y 10
set format y '%g'
set xlabel 'queue depth (iocbs in flight, log scale)'
set key below left Left reverse vertical maxcols 1 height 1.5
set offsets graph 0.02, graph 0.02, 0, 0
set title 'io_submit time per iocb' font ',11'
set ylabel 'time per iocb (µs, log scale)'
if (ns > 0) {
	plot for [i=0:ns-1] sub index i using 1:2 with linespoints lt (i/3+1) dt 1+i%3 title columnheader(1)
} else {
	unset logscale y
	set label 1 'no submit-time data' at graph 0.5, graph 0.5 center
	plot [1:2][0:1] NaN notitle
	unset label 1
	set logscale y 10
}
set title 'completion latency' font ',11'
set ylabel 'completion latency (µs, log scale)'
if (nc > 0) {
	plot for [i=0:nc-1] clat index i using 1:2 with linespoints lt (i/3+1) dt 1+i%3 title columnheader(1)
} else {
	unset logscale y
	set label 1 'no completion-latency data' at graph 0.5, graph 0.5 center
	plot [1:2][0:1] NaN notitle
}
unset multiplot
