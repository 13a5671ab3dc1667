# SPDX-License-Identifier: GPL-2.0
# Scenario batching: io_submit cost per iocb and per call, CPU per I/O and
# IOPS against the batch size.  Data: one block per target, titled, columns
# batch, submit ns/iocb p50, submit ns/call p50, CPU ns/IO, kIOPS.
#   gnuplot -e "data='batching.dat'; out='batching.png'" plots/batching.gp
set terminal pngcairo noenhanced size 1200,900 font "DejaVu Sans,10"
set output out
stats data using 1 nooutput
nb = STATS_blocks
set multiplot layout 2,2 title "io_submit batch size at depth 128 (libaio, 4 KiB)" font ",13"
set logscale x 2
set xrange [0.8:160]
set xtics (1,2,3,4,8,16,32,64,128)
set grid
set key top right opaque font ",9"
set xlabel "iocbs per io_submit call (batch)"
set logscale y 10
set ylabel "io_submit time per iocb, p50 (ns)"
plot for [i=0:nb-1] data index i using 1:2 with linespoints lw 2 pt 7 title columnheader(1)
set ylabel "io_submit time per call, p50 (ns)"
plot for [i=0:nb-1] data index i using 1:3 with linespoints lw 2 pt 7 title columnheader(1)
set ylabel "CPU time per I/O (ns)"
plot for [i=0:nb-1] data index i using 1:4 with linespoints lw 2 pt 7 title columnheader(1)
set ylabel "IOPS (thousands)"
plot for [i=0:nb-1] data index i using 1:5 with linespoints lw 2 pt 7 title columnheader(1)
unset multiplot
