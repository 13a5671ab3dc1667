# SPDX-License-Identifier: GPL-2.0
# Scenario plug: latency of the first iocb of a batch of sequential 4 KiB
# O_DIRECT requests against the batch size, merging on (nomerges 0) and off
# (nomerges 2).  Data: one block per (op, nomerges), titled, columns batch,
# first-iocb latency p50 (us), mean latency (us), merged share, io_submit
# us per call.
#   gnuplot -e "data='plug.dat'; out='plug.png'" plots/plug.gp
set terminal pngcairo noenhanced size 1200,900 font "DejaVu Sans,10"
set output out
stats data using 1 nooutput
nb = STATS_blocks
set multiplot layout 2,2 title "The plug in io_submit: sequential 4 KiB O_DIRECT batches on a loop device (direct I/O)" font ",12"
set logscale x 2
set xrange [0.8:80]
set xtics (1,2,3,4,5,6,7,8,16,32,64)
set grid
set key top left font ",9"
set xlabel "requests per io_submit (batch)"
set ylabel "first iocb of the batch: latency p50 (µs)"
set yrange [0:*]
plot for [i=0:nb-1] data index i using 1:2 with linespoints lw 2 pt 7 title columnheader(1)
set ylabel "mean latency over every iocb (µs)"
plot for [i=0:nb-1] data index i using 1:3 with linespoints lw 2 pt 7 title columnheader(1)
set ylabel "share of requests merged (merges / (merges + requests))"
set yrange [0:1]
plot for [i=0:nb-1] data index i using 1:4 with linespoints lw 2 pt 7 title columnheader(1)
set yrange [0:*]
set ylabel "io_submit time per call, mean (µs)"
plot for [i=0:nb-1] data index i using 1:5 with linespoints lw 2 pt 7 title columnheader(1)
unset multiplot
