module coscope/bench/go

go 1.19
