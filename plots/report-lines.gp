# SPDX-License-Identifier: GPL-2.0
#
# Lines, one per series: IOPS against queue depth, cost per iocb against
# batch size, the latency CDF.  Drawn by tools/charts.py; by hand:
#
#   gnuplot -e "data='x.dat'; out='x.png'; n=3; xl='queue depth'; yl='IOPS'" \
#       plots/report-lines.gp
#
# data: blocks separated by two blank lines, one per series; the first line
# of a block is its title ("title" -), then "x y [stddev]" lines.
# Variables: data, out, n (blocks), xl, yl, title, fmt, w, h,
# logx and logy (base, 0 for linear; default 2 and 0), err (1: error bars
# from the third column), ymin, ymax, yfmt (tic format, default SI prefixes),
# pts (0: lines without point marks, for dense curves such as a CDF).
if (!exists("lib")) { k = strlen(ARG0); while (k > 0 && ARG0[k:k] ne "/") { k = k - 1 }; lib = (k > 0 ? ARG0[1:k] : "")."report-common.gp" }
load lib
if (!exists("title")) title = ''
if (!exists("xl")) xl = 'x'
if (!exists("yl")) yl = 'y'
if (!exists("logx")) logx = 2
if (!exists("logy")) logy = 0
if (!exists("err")) err = 0
if (!exists("yfmt")) yfmt = '%.1s%c'
if (!exists("pts")) pts = 1
set title title font ',12'
set xlabel xl
set ylabel yl
if (logx > 0) { set logscale x logx }
if (logy > 0) { set logscale y logy }
set format y yfmt
if (exists("ymin")) { set yrange [ymin:] }
if (exists("ymax")) { set yrange [:ymax] }
if (!exists("ymin") && !exists("ymax") && logy == 0) { set yrange [0:*] }
set offsets graph 0.02, graph 0.02, graph 0.05, 0
set key below left Left reverse vertical maxcols 1 height 1.5
if (err) {
	plot for [i=0:n-1] data index i using 1:2:3 with yerrorlines lt (i+1) title columnheader(1)
} else {
	if (pts) {
		plot for [i=0:n-1] data index i using 1:2 with linespoints lt (i+1) title columnheader(1)
	} else {
		plot for [i=0:n-1] data index i using 1:2 with lines lt (i+1) title columnheader(1)
	}
}
