package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestParseMemSplit(t *testing.T) {
	status := "Name:\tferry\nVmHWM:\t   90000 kB\nVmRSS:\t   81920 kB\nRssAnon:\t   20480 kB\nRssFile:\t   60416 kB\nRssShmem:\t    1024 kB\nThreads:\t8\n"
	m, ok := parseMemSplit([]byte(status))
	if want := (memSplit{RSS: 81920, Anon: 20480, File: 60416, Shmem: 1024}); !ok || m != want {
		t.Errorf("parseMemSplit = %+v, %v; want %+v", m, ok, want)
	}
	if s := m.mib().String(); s != "20.0 / 59.0 / 1.0" {
		t.Errorf("split in MiB = %q", s)
	}
	if _, ok := parseMemSplit([]byte("Name:\tferry\nState:\tZ (zombie)\n")); ok {
		t.Error("a zombie's status, without VmRSS, gave a split")
	}
}

func TestMeasureSplitsThePeak(t *testing.T) {
	if _, err := os.Stat(timeCmd); err != nil {
		t.Skipf("%s is not installed", timeCmd)
	}
	// The test binary, run again, holds 40 MiB it touched for 300 ms (see
	// TestMain): the sampled peak must show them as anonymous memory, and
	// its binary's text as file-backed.
	u, err := measure(context.Background(), append(os.Environ(), allocEnv+"=hold"), &bytes.Buffer{}, []step{
		cmdStep(os.Args[0], "-test.run=^$"),
		cmdStep("true"),
	})
	if err != nil {
		t.Fatal(err)
	}
	p := u.AtPeak
	if p.Anon < 38<<10 || p.File <= 0 || p.RSS != p.Anon+p.File+p.Shmem {
		t.Errorf("split at peak %+v (peak RSS %d KiB): want at least 38 MiB anonymous and some file-backed, summing to the RSS", p, u.PeakKiB)
	}
}

func TestSplitInReports(t *testing.T) {
	at := Split{AnonMiB: 12, FileMiB: 40.5, ShmemMiB: 0}
	r := &Result{Case: caseCopy, Tool: toolFerry, Median: 1, PeakMiB: 53, AtPeak: at,
		Samples: []Sample{{Seconds: 1, PeakMiB: 53, AtPeak: Split{AnonMiB: 5, FileMiB: 10}}, {Seconds: 1, PeakMiB: 53, AtPeak: at}}}
	md := renderMarkdown(&Report{Jobs: 8, Results: []*Result{r}})
	if !strings.Contains(md, "| peak RSS MiB | at peak: anon / file / shmem MiB |") || !strings.Contains(md, "| 53.0 | 12.0 / 40.5 / 0.0 |") {
		t.Errorf("markdown lacks the split:\n%s", md)
	}
	j, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(j), `"atPeak":{"anonMiB":12,"fileMiB":40.5,"shmemMiB":0}`) {
		t.Errorf("JSON %s, %v: lacks the split", j, err)
	}
	if got := (Split{AnonMiB: 5, FileMiB: 10}).larger(at); got != at {
		t.Errorf("larger = %+v, want %+v", got, at)
	}
}
