// SPDX-License-Identifier: MIT
// The Go baseline of bench/run.sh: the workloads of bench/spawn_yield.c,
// pingpong.c and lock.c written as Go programs would, with GOMAXPROCS=1 (one
// thread runs goroutines, as coscope's loop runs tasks).  The clock covers
// spawn + run + wait; best of -reps (default 3) in one process (Go has no
// runtime to make afresh: the later repetitions find goroutine stacks cached).
//
// Usage: coscope-bench-go spawn_yield|pingpong|lock [-reps N] [-scale F]
// Prints seconds=S.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

func spawnYield(n int) float64 {
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			for j := 0; j < 10; j++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return time.Since(t0).Seconds()
}

func pingpong(rounds int) float64 {
	q1, q2 := make(chan int), make(chan int)
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // consumer
		for i := 0; i < rounds; i++ {
			q2 <- <-q1
		}
		wg.Done()
	}()
	go func() { // producer
		for i := 0; i < rounds; i++ {
			q1 <- i
			<-q2
		}
		wg.Done()
	}()
	wg.Wait()
	return time.Since(t0).Seconds()
}

func lock(n int) float64 {
	var mu sync.Mutex
	count := 0
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(100)
	for i := 0; i < 100; i++ {
		go func() {
			for j := 0; j < n; j++ {
				mu.Lock()
				runtime.Gosched()
				count++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	secs := time.Since(t0).Seconds()
	if count != 100*n {
		fmt.Fprintln(os.Stderr, "lock: wrong count")
		os.Exit(1)
	}
	return secs
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: coscope-bench-go spawn_yield|pingpong|lock [-reps N] [-scale F]")
		os.Exit(2)
	}
	which := os.Args[1]
	fs := flag.NewFlagSet(which, flag.ExitOnError)
	reps := fs.Int("reps", 3, "repetitions (best is printed)")
	scale := fs.Float64("scale", 1, "scale the workload")
	fs.Parse(os.Args[2:])
	runtime.GOMAXPROCS(1)
	scaled := func(n float64) int {
		if v := int(n * *scale); v > 1 {
			return v
		}
		return 1
	}
	best := 1e30
	for r := 0; r < *reps; r++ {
		var s float64
		switch which {
		case "spawn_yield":
			s = spawnYield(scaled(100000))
		case "pingpong":
			s = pingpong(scaled(1000000) / 2)
		case "lock":
			s = lock(scaled(10000))
		default:
			fmt.Fprintln(os.Stderr, "unknown workload", which)
			os.Exit(2)
		}
		if s < best {
			best = s
		}
	}
	fmt.Printf("seconds=%.6f\n", best)
}
