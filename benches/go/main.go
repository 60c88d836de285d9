// The Go side of `cargo bench -p uringo-benches --bench go`: the same cases
// as benches/benches/go.rs, one per run, printing "<value> <unit>" lines the
// Rust bench reads. GOMAXPROCS (set by the caller) picks one core or two.
//
//	go run main.go pingpong|stream|parked|waitgroup N
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

func pingPong(n int) time.Duration {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		if <-pong != i {
			panic("out of order")
		}
	}
	d := time.Since(start)
	close(ping)
	return d
}

func stream(n int) time.Duration {
	ch := make(chan int, 1024)
	start := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
		close(ch)
	}()
	expect := 0
	for v := range ch {
		if v != expect {
			panic("out of order")
		}
		expect++
	}
	return time.Since(start)
}

// rssBytes reads the resident set size from /proc/self/statm.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	pages, err := strconv.ParseInt(strings.Fields(string(b))[1], 10, 64)
	if err != nil {
		panic(err)
	}
	return pages * int64(os.Getpagesize())
}

// parked spawns n goroutines that block on one channel, and reports the
// time until all are parked and the resident memory they added.
func parked(n int) (time.Duration, float64, time.Duration) {
	before := rssBytes()
	gate := make(chan struct{})
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-gate
			finished.Done()
		}()
	}
	started.Wait()
	spawn := time.Since(start)
	perTask := float64(rssBytes()-before) / float64(n)
	start = time.Now()
	close(gate)
	finished.Wait()
	return spawn, perTask, time.Since(start)
}

func waitGroup(n int) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
	}
	wg.Wait()
	return time.Since(start)
}

func perSec(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: main pingpong|stream|parked|waitgroup N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		panic(err)
	}
	switch os.Args[1] {
	case "pingpong":
		fmt.Printf("%.0f round_trips/s\n", perSec(n, pingPong(n)))
	case "stream":
		fmt.Printf("%.0f messages/s\n", perSec(n, stream(n)))
	case "parked":
		spawn, perTask, wake := parked(n)
		fmt.Printf("%.0f spawned_and_parked/s\n%.0f bytes/task\n%.0f woken_and_finished/s\n",
			perSec(n, spawn), perTask, perSec(n, wake))
	case "waitgroup":
		fmt.Printf("%.0f tasks/s\n", perSec(n, waitGroup(n)))
	default:
		fmt.Fprintln(os.Stderr, "unknown case", os.Args[1])
		os.Exit(2)
	}
}
