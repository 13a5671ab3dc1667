# SPDX-License-Identifier: GPL-2.0
# Scenario engines: 4 KiB O_DIRECT random read per engine against queue
# depth.  Data: one block per engine, titled, columns QD, kIOPS,
# kIOPS per CPU-second, completion latency p50 (us), p99 (us).
#   gnuplot -e "data='engines.dat'; out='engines.png'" plots/engines.gp
set terminal pngcairo noenhanced size 1200,900 font "DejaVu Sans,10"
set output out
stats data using 1 nooutput
nb = STATS_blocks
set multiplot layout 2,2 title "libaio vs io_uring vs sync: 4 KiB O_DIRECT random read, one thread\n(CPU time is the process's: the SQPOLL kernel thread is not counted; sync latency is the time in pread)" font ",12"
set logscale x 2
set xrange [0.8:160]
set xtics (1,2,4,8,16,32,64,128)
set grid
set key top left opaque font ",9"
set xlabel "queue depth (requests in flight)"
set ylabel "IOPS (thousands)"
plot for [i=0:nb-1] data index i using 1:2 with linespoints lw 2 pt 7 title columnheader(1)
set logscale y 10
set key bottom right opaque font ",9"
set ylabel "IOPS per CPU-second (thousands)"
plot for [i=0:nb-1] data index i using 1:3 with linespoints lw 2 pt 7 title columnheader(1)
set logscale y 10
set key top left opaque font ",9"
set ylabel "completion latency p50 (µs)"
plot for [i=0:nb-1] data index i using 1:4 with linespoints lw 2 pt 7 title columnheader(1)
set ylabel "completion latency p99 (µs)"
plot for [i=0:nb-1] data index i using 1:5 with linespoints lw 2 pt 7 title columnheader(1)
unset multiplot
