# The chart of `make bench`: scripts/vm.sh runs it with data= (the rows
# ioasid-bench wrote for it: a cell, then each backend's time over
# iommufd's, the median of the rounds' ratios) and png= (where to draw).
# Log scale, so that 2x faster and 2x slower look alike; iommufd sits at
# 1 and lower is faster.
set terminal pngcairo size 1280,640 font ",11"
set output png
set datafile separator "\t"
set datafile missing "-"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 2
set grid ytics
set ylabel "time / iommufd's, median of the rounds (lower is faster)"
set title "ioasid-bench: /dev/ioasid vs iommufd vs VFIO type1, edu behind the emulated VT-d"
set key top left
set xtics rotate by -25 nomirror
set rmargin 10
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2
plot for [i=2:5] data using i:xtic(1) title columnheader(i)
