// Command cndocicni is cnidoctor's ocicni differential driver: it hands a CNI config directory
// to the real cri-o/ocicni the way CRI-O does (cri-o/cri-o:internal/config/cnimgr/cnimgr.go@v1.33.13
// calls ocicni.InitCNI(cni_default_network, network_dir, plugin_dirs...)), lets ocicni load its
// networks once and prints, as one JSON object, which network ocicni made the default, the file
// it comes from, what Status() returns and every log line ocicni emitted while loading (the
// "Error loading CNI config list file ...", "Error validating CNI config file ...", "Ignored CNI
// network ..." texts CRI-O's journal shows).
//
// Written for cnidoctor (not taken from any upstream file). It runs no ADD, CHECK or DEL, so it
// needs no network namespace; ocicni's load only runs VERSION on each top-level plugin
// (libcni ValidateNetworkList) and Status() may run STATUS (ocicni >= v0.4.3 with libcni >= 1.2
// for cniVersion >= 1.1.0 lists), which is bounded by -status-timeout. The same source builds
// against each ocicni generation CRI-O vendored (docs/differential.md, "ocicni generations");
// tests/differential/record_ocicni.py runs it and writes tests/differential/recorded/ocicni-*.json.
//
// InitCNINoInotify instead of CRI-O's InitCNI: both run the same synchronous first load
// (initCNI -> syncNetworkConfig -> loadNetworks, cri-o/ocicni:pkg/ocicni/ocicni.go@v0.4.3); the
// inotify variant would also create missing watched directories (newWatcher's MkdirAll), which
// would change the fixture under test. libcni runs VERSION without a deadline, so a plugin that
// never answers blocks ocicni's load (and CRI-O's start) for good: after -timeout the driver
// reports "init": "hang" with the lines logged so far; the caller kills its process group.
//
// Output (all keys always present):
//
//	{"files": [the .conf/.conflist/.json files ocicni walks, libcni.ConfFiles order],
//	 "init": "ok"|"fail"|"hang", "init_error": null|text, "default": null|name, "default_file": null|path,
//	 "status": {"outcome": "ok"|"fail"|"hang", "error": null|text},
//	 "logs": [{"level": "error"|"warning"|"info"|"debug", "message": text}, ...]}
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/cri-o/ocicni/pkg/ocicni"
	"github.com/sirupsen/logrus"
)

type logLine struct {
	Level   string `json:"level"`
	Message string `json:"message"`
}

type status struct {
	Outcome string  `json:"outcome"`
	Error   *string `json:"error"`
}

type report struct {
	Files       []string  `json:"files"`
	Init        string    `json:"init"`
	InitError   *string   `json:"init_error"`
	Default     *string   `json:"default"`
	DefaultFile *string   `json:"default_file"`
	Status      *status   `json:"status"`
	Logs        []logLine `json:"logs"`
}

// capture is a logrus hook keeping every entry ocicni logs, in order.
type capture struct {
	sync.Mutex
	lines []logLine
}

func (c *capture) Levels() []logrus.Level { return logrus.AllLevels }

func (c *capture) Fire(entry *logrus.Entry) error {
	c.Lock()
	defer c.Unlock()
	c.lines = append(c.lines, logLine{Level: entry.Level.String(), Message: entry.Message})
	return nil
}

func (c *capture) snapshot() []logLine {
	c.Lock()
	defer c.Unlock()
	return append([]logLine{}, c.lines...)
}

func text(s string) *string { return &s }

// defaultFile is the file ocicni keeps for the default network: the first "Found CNI network
// <name> (type=...) at <file>" line for that name (loadNetworks keeps the first file of a name
// and logs "Ignored CNI network ..." for later ones; the API does not expose the path).
func defaultFile(name string, lines []logLine) *string {
	prefix := "Found CNI network " + name + " (type="
	for _, line := range lines {
		if strings.HasPrefix(line.Message, prefix) {
			if at := strings.LastIndex(line.Message, ") at "); at >= 0 {
				return text(line.Message[at+len(") at "):])
			}
		}
	}
	return nil
}

// boundedStatus runs Status() (which may exec STATUS on the plugins) with a deadline.
func boundedStatus(plugin ocicni.CNIPlugin, timeout time.Duration) *status {
	done := make(chan error, 1)
	go func() { done <- plugin.Status() }()
	select {
	case err := <-done:
		if err == nil {
			return &status{Outcome: "ok"}
		}
		return &status{Outcome: "fail", Error: text(err.Error())}
	case <-time.After(timeout):
		return &status{Outcome: "hang"}
	}
}

func main() {
	confDir := flag.String("confdir", "", "CRI-O's network_dir")
	binDirs := flag.String("bindirs", "", "CRI-O's plugin_dirs, colon-separated")
	defaultNet := flag.String("default", "", "CRI-O's cni_default_network (empty: the first valid file)")
	timeout := flag.Duration("timeout", 20*time.Second, "give up on ocicni's first load after this long")
	statusTimeout := flag.Duration("status-timeout", 10*time.Second, "give up on Status() after this long")
	flag.Parse()

	hook := &capture{}
	logrus.SetOutput(io.Discard)
	logrus.SetLevel(logrus.DebugLevel)
	logrus.AddHook(hook)

	out := report{Init: "hang", Files: []string{}}
	// the list loadNetworks walks (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.4.3), so a file it
	// skips without a log line (ENOENT: a dangling symlink) still shows up here
	if files, err := libcni.ConfFiles(*confDir, []string{".conf", ".conflist", ".json"}); err == nil {
		sort.Strings(files)
		out.Files = append(out.Files, files...)
	}
	type started struct {
		plugin ocicni.CNIPlugin
		err    error
	}
	done := make(chan started, 1)
	go func() {
		plugin, err := ocicni.InitCNINoInotify(*defaultNet, *confDir, "", strings.Split(*binDirs, ":")...)
		done <- started{plugin, err}
	}()
	select {
	case got := <-done:
		if got.err != nil {
			out.Init, out.InitError = "fail", text(got.err.Error())
			break
		}
		out.Init = "ok"
		if name := got.plugin.GetDefaultNetworkName(); name != "" {
			out.Default = text(name)
			out.DefaultFile = defaultFile(name, hook.snapshot())
		}
		out.Status = boundedStatus(got.plugin, *statusTimeout)
	case <-time.After(*timeout):
	}
	out.Logs = hook.snapshot()
	encoded, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(encoded))
}
