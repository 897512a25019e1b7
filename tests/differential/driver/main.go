// Command cnddriver is cnidoctor's differential-test driver: it loads a CNI config directory
// the way containerd's go-cni default loader does and runs the real libcni VERSION, ADD, CHECK
// and DEL against the selected network, printing one JSON object. tests/test_differential.py
// builds it against Debian's libcni 1.1.2 + go-cni 1.1.7 and compares it live with cnidoctor's
// `--runtime libcni@1.1.2`; the same source, built against libcni v1.2.3 + go-cni v1.1.12 and
// libcni v1.3.0 + go-cni v1.1.13, produced the recordings tests/test_differential_recorded.py
// compares with `--runtime libcni@1.2.3` / `@1.3.0` (docs/differential.md).
//
// Written for cnidoctor (not taken from any upstream file). It must only ever run inside the
// throwaway network namespace the test creates: the caller passes its own network namespace
// (-outside, the readlink of /proc/self/ns/net outside the sandbox) and the driver refuses to
// run ADD/CHECK/DEL when it is still in that namespace.
//
// Output (all keys always present; a step that did not run is null; outcome "ok", "fail" or
// "hang", see bounded):
//
//	{"files": [...], "gocni": {"outcome", "error"},
//	 "load": {"file", "outcome", "error", "name", "cniVersion", "plugins": [types]},
//	 "version": {"<type>": {"outcome", "error", "supported"}},
//	 "add": {"outcome", "error", "result"}, "check": {...}, "del": {...}}
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	gocni "github.com/containerd/go-cni"
	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/version"
)

// step is one verb's outcome: "ok" or "fail" plus libcni's error text, verbatim.
type step struct {
	Outcome string          `json:"outcome"`
	Error   *string         `json:"error"`
	Result  json.RawMessage `json:"result,omitempty"`
}

type loaded struct {
	File       string   `json:"file"`
	Outcome    string   `json:"outcome"`
	Error      *string  `json:"error"`
	Name       string   `json:"name"`
	CNIVersion string   `json:"cniVersion"`
	Plugins    []string `json:"plugins"`
}

type versionInfo struct {
	Outcome   string   `json:"outcome"`
	Error     *string  `json:"error"`
	Supported []string `json:"supported"`
}

type report struct {
	Files   []string               `json:"files"`
	GoCNI   step                   `json:"gocni"`
	Load    *loaded                `json:"load"`
	Version map[string]versionInfo `json:"version"`
	Add     *step                  `json:"add"`
	Check   *step                  `json:"check"`
	Del     *step                  `json:"del"`
}

func outcome(err error) step {
	if err == nil {
		return step{Outcome: "ok"}
	}
	text := err.Error()
	return step{Outcome: "fail", Error: &text}
}

// goCNILoad runs go-cni's own default loader (WithDefaultConf: the lexically first
// .conf/.conflist/.json file) so the test also sees go-cni's wrapper text.
func goCNILoad(confDir string, binDirs []string) step {
	_, err := gocni.New(gocni.WithPluginConfDir(confDir), gocni.WithPluginDir(binDirs), gocni.WithDefaultConf)
	return outcome(err)
}

// loadFirst mirrors go-cni's loadFromConfDir for its first file, returning libcni's bare
// error (what a plain libcni caller sees) and the list to run. go-cni's own checks on a
// .conf (empty type) and on an empty list have no libcni text; they are reported with
// go-cni's wording so that a mismatch with goCNILoad is visible.
func loadFirst(files []string) (*loaded, *libcni.NetworkConfigList) {
	if len(files) == 0 {
		return nil, nil
	}
	file := files[0]
	out := &loaded{File: file, Outcome: "ok"}
	fail := func(err error) (*loaded, *libcni.NetworkConfigList) {
		text := err.Error()
		out.Outcome, out.Error = "fail", &text
		return out, nil
	}
	var list *libcni.NetworkConfigList
	var err error
	if strings.HasSuffix(file, ".conflist") {
		if list, err = libcni.ConfListFromFile(file); err != nil {
			return fail(err)
		}
	} else {
		conf, err := libcni.ConfFromFile(file)
		if err != nil {
			return fail(err)
		}
		if conf.Network.Type == "" {
			return fail(fmt.Errorf("network type not found in %s", file))
		}
		if list, err = libcni.ConfListFromConf(conf); err != nil {
			return fail(err)
		}
	}
	if len(list.Plugins) == 0 {
		return fail(fmt.Errorf("CNI config list in config file %s has no networks", file))
	}
	out.Name, out.CNIVersion = list.Name, list.CNIVersion
	for _, p := range list.Plugins {
		out.Plugins = append(out.Plugins, p.Network.Type)
	}
	return out, list
}

func versions(ctx context.Context, timeout time.Duration, cni *libcni.CNIConfig, list *libcni.NetworkConfigList) map[string]versionInfo {
	out := map[string]versionInfo{}
	for _, p := range list.Plugins {
		kind := p.Network.Type
		if _, seen := out[kind]; seen {
			continue
		}
		var info version.PluginInfo
		s := bounded(ctx, timeout, func(c context.Context) error {
			var err error
			info, err = cni.GetVersionInfo(c, kind)
			return err
		})
		if s.Outcome != "ok" {
			out[kind] = versionInfo{Outcome: s.Outcome, Error: s.Error}
			continue
		}
		supported := info.SupportedVersions()
		sort.Strings(supported)
		out[kind] = versionInfo{Outcome: "ok", Supported: supported}
	}
	return out
}

// inNamespace is true unless this process provably runs in another network namespace than
// “outside“ (the caller's): the verbs are refused there.
func inNamespace(outside string) bool {
	self, err := os.Readlink("/proc/self/ns/net")
	return err != nil || outside == "" || self == outside
}

// bounded runs one libcni call with a deadline. libcni (Go 1.19 os/exec) keeps waiting for
// the plugin's stdout to close even after killing the plugin, so a child that inherited it
// blocks the call until that child exits (cni-facts §10.10). Such a call is reported as
// "hang" a few seconds after the deadline and abandoned; the caller kills the process group.
func bounded(ctx context.Context, timeout time.Duration, verb func(context.Context) error) *step {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan step, 1)
	go func() { done <- outcome(verb(ctx)) }()
	select {
	case s := <-done:
		return &s
	case <-time.After(timeout + hangGrace):
		text := fmt.Sprintf("still waiting %v after the deadline: a process holds the plugin's stdout", hangGrace)
		return &step{Outcome: "hang", Error: &text}
	}
}

const hangGrace = 2 * time.Second

func main() {
	confDir := flag.String("confdir", "", "CNI config directory (go-cni's pluginConfDir)")
	binDirs := flag.String("bindirs", "", "plugin directories, colon separated")
	cacheDir := flag.String("cachedir", "", "libcni cache directory (a temporary one)")
	netns := flag.String("netns", "", "path of the container's network namespace")
	id := flag.String("id", "", "container ID")
	timeout := flag.Duration("timeout", 5*time.Second, "timeout per ADD/CHECK/DEL")
	versionTimeout := flag.Duration("version-timeout", 3*time.Second, "timeout per VERSION call")
	outside := flag.String("outside", "", "the caller's network namespace (readlink /proc/self/ns/net)")
	loadOnly := flag.Bool("load-only", false, "stop after loading and VERSION")
	flag.Parse()
	if *confDir == "" || *binDirs == "" || *cacheDir == "" || (!*loadOnly && (*netns == "" || *id == "")) {
		fmt.Fprintln(os.Stderr, "usage: cnddriver -confdir D -bindirs A:B -cachedir C -netns P -id ID -outside NS [-load-only]")
		os.Exit(2)
	}
	bins := strings.Split(*binDirs, ":")
	ctx := context.Background()
	rep := report{Version: map[string]versionInfo{}}

	files, err := libcni.ConfFiles(*confDir, []string{".conf", ".conflist", ".json"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "reading conf dir:", err)
		os.Exit(2)
	}
	sort.Strings(files) // go-cni sorts lexically
	rep.Files = append([]string{}, files...)
	rep.GoCNI = goCNILoad(*confDir, bins)
	var list *libcni.NetworkConfigList
	rep.Load, list = loadFirst(files)

	if list != nil {
		cni := libcni.NewCNIConfigWithCacheDir(bins, *cacheDir, nil)
		rep.Version = versions(ctx, *versionTimeout, cni, list)
		if !*loadOnly {
			if inNamespace(*outside) {
				fmt.Fprintln(os.Stderr, "refusing ADD/CHECK/DEL: not inside a namespace other than -outside")
				os.Exit(3)
			}
			rt := &libcni.RuntimeConf{ContainerID: *id, NetNS: *netns, IfName: "eth0"}
			var result []byte
			rep.Add = bounded(ctx, *timeout, func(c context.Context) error {
				res, err := cni.AddNetworkList(c, list, rt)
				if err == nil && res != nil {
					result, _ = json.Marshal(res)
				}
				return err
			})
			if rep.Add.Outcome == "ok" {
				rep.Add.Result = result
			}
			rep.Check = bounded(ctx, *timeout, func(c context.Context) error { return cni.CheckNetworkList(c, list, rt) })
			rep.Del = bounded(ctx, *timeout, func(c context.Context) error { return cni.DelNetworkList(c, list, rt) })
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		os.Exit(2)
	}
}
