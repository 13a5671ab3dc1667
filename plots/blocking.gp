# SPDX-License-Identifier: GPL-2.0
# Scenario blocking: the io_submit blocking matrix as a heatmap.  Colour:
# the inline-completion ratio (1 = every iocb was complete when io_submit
# returned: the "asynchronous" call was synchronous); label: io_submit time
# per iocb, p50, in microseconds ("n/a": cell not applicable or skipped).
# Data: a header line, then x y inline_ratio p50_us target cell.
#   gnuplot -e "data='blocking.dat'; out='blocking.png'" plots/blocking.gp
stats data using 1:2 skip 1 nooutput
nx = STATS_max_x + 1
ny = STATS_max_y + 1
set terminal pngcairo noenhanced size (460 + 110 * nx), (160 + 26 * ny) font "DejaVu Sans,10"
set output out
set title "Does io_submit block? libaio, 4 KiB sequential, depth 32, batch 8\n(colour: inline-completion ratio; label: io_submit µs per iocb, p50)"
set palette defined (0 "#2c7bb6", 0.5 "#ffffbf", 1 "#d7191c")
set cbrange [0:1]
set cblabel "inline-completion ratio (share of iocbs done when io_submit returned)"
set xrange [-0.5:nx - 0.5]
set yrange [ny - 0.5:-0.5]
set xlabel "target filesystem"
set ylabel "mode, operation, file state, page cache"
set tics scale 0
set style fill solid 1.0 noborder
plot data using 1:2:(0.5):(0.5):3:xtic(5):ytic(6) skip 1 with boxxyerror fc palette notitle, \
     data using 1:2:4 skip 1 with labels font ",9" notitle
