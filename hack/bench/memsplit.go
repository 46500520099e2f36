package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// memSplit is a process's resident memory by kind, in KiB, as Linux shows
// it in /proc/<pid>/status: anonymous (heap, stacks), file-backed (the
// binary's text and other mapped files, which the page cache may or may not
// hold) and shared memory. RSS is their sum at the same moment.
type memSplit struct {
	RSS, Anon, File, Shmem int64
}

// parseMemSplit reads VmRSS, RssAnon, RssFile and RssShmem from the text of
// /proc/<pid>/status; ok is false when VmRSS is missing (a zombie has none).
func parseMemSplit(b []byte) (m memSplit, ok bool) {
	fields := map[string]*int64{"VmRSS": &m.RSS, "RssAnon": &m.Anon, "RssFile": &m.File, "RssShmem": &m.Shmem}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, found := strings.Cut(sc.Text(), ":")
		p := fields[key]
		if !found || p == nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return memSplit{}, false
		}
		*p = n
		ok = ok || key == "VmRSS"
	}
	return m, ok
}

// memPoll is how often watchChild samples the measured process.
const memPoll = 5 * time.Millisecond // splitNote states it

// watchChild samples the resident memory of the process that the process
// parent (GNU time) runs, until stop is closed or the process is gone, and
// returns the sample with the largest RSS: the split of the peak, as near
// as polling gets to it. Without a sample (a process shorter than the poll
// or a kernel without /proc/<pid>/task/<pid>/children) it is zero.
func watchChild(parent int, stop <-chan struct{}) memSplit {
	var best memSplit
	tick := time.NewTicker(memPoll)
	defer tick.Stop()
	child := 0
	for {
		if child == 0 {
			child = firstChild(parent)
		}
		if child != 0 {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", child))
			m, ok := parseMemSplit(b)
			if err != nil || !ok {
				return best
			}
			if m.RSS > best.RSS {
				best = m
			}
		}
		select {
		case <-stop:
			return best
		case <-tick.C:
		}
	}
}

// firstChild returns the first child process of pid, or 0 when it has none.
func firstChild(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// Split is resident memory at the largest sample of a run, in MiB, by kind:
// the anonymous part is what the tool itself allocated; the file-backed part
// is mostly its binary's text and varies with the page cache.
type Split struct {
	AnonMiB  float64 `json:"anonMiB"`
	FileMiB  float64 `json:"fileMiB"`
	ShmemMiB float64 `json:"shmemMiB"`
}

// mib returns m in MiB.
func (m memSplit) mib() Split {
	return Split{AnonMiB: float64(m.Anon) / 1024, FileMiB: float64(m.File) / 1024, ShmemMiB: float64(m.Shmem) / 1024}
}

func (s Split) total() float64 { return s.AnonMiB + s.FileMiB + s.ShmemMiB }

// String is "anon / file / shmem" for the tables, empty without a sample.
func (s Split) String() string {
	if s.total() == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f / %.1f / %.1f", s.AnonMiB, s.FileMiB, s.ShmemMiB)
}

// larger returns whichever of s and t has the larger total.
func (s Split) larger(t Split) Split {
	if t.total() > s.total() {
		return t
	}
	return s
}
