# SPDX-License-Identifier: GPL-2.0
#
# A labelled heatmap: the io_submit blocking matrix (filesystem x mode
# against op x file state), % change against the baseline, the conformance
# matrix.  Drawn by tools/charts.py.
#
# data: tab-separated "x y value label" (x, y: cell indices from 0; value
# picks the colour; label is printed in the cell, "" for none).
# marks (optional): "x y" cells to outline (significant changes).
# xtf, ytf: the tic labels of the columns and the rows, tab-separated
# "index label" lines (labels are data, never gnuplot code).
# Variables: data, out, xtf, ytf, nx, ny, cbl (colour bar label), cbmin,
# cbmax, pal (palette: 'heat' low white to high red, 'diverge'
# red-white-green, 'conform' discrete pass/xfail/skip/fail/hang), lm, bm
# (left and bottom margins in characters), xl, yl (axis labels), title,
# fmt, w, h.
if (!exists("lib")) { k = strlen(ARG0); while (k > 0 && ARG0[k:k] ne "/") { k = k - 1 }; lib = (k > 0 ? ARG0[1:k] : "")."report-common.gp" }
load lib
if (!exists("title")) title = ''
if (!exists("cbl")) cbl = ''
if (!exists("pal")) pal = 'heat'
if (!exists("lm")) lm = 20
if (!exists("bm")) bm = 6
if (!exists("xl")) xl = ''
if (!exists("yl")) yl = ''
set datafile separator "\t"
set title title font ',12'
unset grid
set border 0
set lmargin lm
set bmargin bm
set rmargin 16
set xrange [-0.5:nx-0.5]
set yrange [ny-0.5:-0.5]
set xtics rotate by 30 right scale 0 nomirror
set ytics scale 0 nomirror
set cblabel cbl
set xlabel xl
set ylabel yl
if (exists("cbmin") && exists("cbmax")) { set cbrange [cbmin:cbmax] }
if (pal eq 'heat') {
	set palette defined (0 '#ffffff', 0.5 '#fdae61', 1 '#b2182b')
}
if (pal eq 'diverge') {
	set palette defined (0 '#b2182b', 0.5 '#ffffff', 1 '#1a9850')
}
if (pal eq 'conform') {
	set palette defined (0 '#4caf50', 1 '#90caf9', 2 '#bdbdbd', 3 '#e53935', 4 '#6a1b9a')
	set palette maxcolors 5
	set cbrange [-0.5:4.5]
	set cbtics ("pass" 0, "xfail" 1, "skip" 2, "fail" 3, "hang/crash" 4) scale 0
}
set style fill solid 1.0 noborder
# The tic label files draw nothing (NaN) but their labels.
if (exists("marks")) {
	plot data using 1:2:(0.5):(0.5):3 with boxxyerror fc palette, \
	     data using 1:2:4 with labels font ',9', \
	     xtf using 1:(NaN):xticlabels(2), ytf using (NaN):1:yticlabels(2), \
	     marks using 1:2:(0.46):(0.46) with boxxyerror lc rgb 'black' lw 2 fs empty border -1
} else {
	plot data using 1:2:(0.5):(0.5):3 with boxxyerror fc palette, \
	     data using 1:2:4 with labels font ',9', \
	     xtf using 1:(NaN):xticlabels(2), ytf using (NaN):1:yticlabels(2)
}
