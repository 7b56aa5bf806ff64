// portico-render renders one Helm chart for many values sets in one process,
// with `helm template` semantics (values merge and coalescing, values.schema.json
// validation, `fail`, Capabilities for a chosen Kubernetes version, hooks).
//
// Protocol: one JSON request per stdin line, one JSON response per stdout line,
// in completion order (match them by id). A request's "layers" are values maps
// merged in order like repeated `helm template -f` files.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"

	"helm.sh/helm/v4/pkg/action"
	ci "helm.sh/helm/v4/pkg/chart"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	release "helm.sh/helm/v4/pkg/release/v1"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

type request struct {
	ID          string           `json:"id"`
	Layers      []map[string]any `json:"layers"`
	KubeVersion string           `json:"kubeVersion"`
	APIVersions []string         `json:"apiVersions"`
	Release     string           `json:"release"`
	Namespace   string           `json:"namespace"`
}

// A response carries the manifest either whole or, when it repeats large
// documents sent before (CRDs, big ConfigMaps), as parts: literal text, or
// "\x00" + the key of a document in an earlier response's defs. Joined, the
// parts are the manifest byte for byte.
type response struct {
	ID       string            `json:"id"`
	Manifest string            `json:"manifest,omitempty"`
	Parts    []string          `json:"parts,omitempty"`
	Defs     map[string]string `json:"defs,omitempty"`
	Error    string            `json:"error,omitempty"`
	SHA256   string            `json:"sha256,omitempty"` // of the manifest, hex: the harness's plain render hash
}

const sharedPieceMin = 1024 // documents at least this long are sent once

// documentStarts are the offsets of lines starting with "---" (helm's separators), after offset 0.
func documentStarts(manifest string) []int {
	var starts []int
	for i := 0; i < len(manifest); {
		j := strings.Index(manifest[i:], "\n---")
		if j < 0 {
			break
		}
		starts = append(starts, i+j+1)
		i += j + 1
	}
	return starts
}

// shareRepeats turns a whole-manifest response into parts when that saves bytes. Single goroutine.
func shareRepeats(resp *response, sent map[string]bool) {
	if len(resp.Manifest) < 2*sharedPieceMin {
		return
	}
	bounds := append(append([]int{0}, documentStarts(resp.Manifest)...), len(resp.Manifest))
	var parts []string
	defs := map[string]string{}
	shared := false
	for k := 0; k+1 < len(bounds); k++ {
		piece := resp.Manifest[bounds[k]:bounds[k+1]]
		if len(piece) < sharedPieceMin {
			if n := len(parts); n > 0 && !strings.HasPrefix(parts[n-1], "\x00") {
				parts[n-1] += piece
			} else {
				parts = append(parts, piece)
			}
			continue
		}
		sum := sha256.Sum256([]byte(piece))
		key := hex.EncodeToString(sum[:16])
		if sent[key] {
			shared = true
		} else {
			sent[key] = true
			defs[key] = piece
		}
		parts = append(parts, "\x00"+key)
	}
	if !shared && len(defs) == 0 {
		return
	}
	resp.Manifest, resp.Parts = "", parts
	if len(defs) > 0 {
		resp.Defs = defs
	}
}

// mergeMaps mirrors helm's -f merging: maps merge recursively, anything else
// (lists included) is replaced by the later layer.
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]any); ok {
			if om, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(om, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// schemaCache holds one chart's compiled values.schema.json. Helm compiles the
// schema on every render (40% of a render's CPU); a worker compiles it once and
// validates exactly as helm's util.ValidateAgainstSchema does, same library,
// same error text. Charts with dependencies keep helm's own path, because helm
// processes dependencies (import-values) before it validates.
type schemaCache struct {
	validator *jsonschema.Schema
}

func newSchemaCache(ch *chart.Chart) (*schemaCache, error) {
	if len(ch.Dependencies()) > 0 || ch.Schema == nil {
		return nil, nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ch.Schema))
	if err != nil {
		return nil, err
	}
	compiler := jsonschema.NewCompiler()
	compiler.UseLoader(jsonschema.SchemeURLLoader{"file": jsonschema.FileLoader{}})
	if err := compiler.AddResource("file:///values.schema.json", doc); err != nil {
		return nil, err
	}
	validator, err := compiler.Compile("file:///values.schema.json")
	if err != nil {
		return nil, err
	}
	return &schemaCache{validator: validator}, nil
}

// schemaError is a values.schema.json rejection; it does not depend on the Kubernetes version.
type schemaError struct{ msg string }

func (e schemaError) Error() string { return e.msg }

// validate returns the error helm's ToRenderValuesWithSchemaValidation would.
func (s *schemaCache) validate(ch *chart.Chart, vals map[string]any) error {
	coalesced, err := util.CoalesceValues(ch, vals)
	if err != nil {
		return nil // let helm report its own coalescing error
	}
	if err := s.validator.Validate(coalesced.AsMap()); err != nil {
		detail := strings.TrimPrefix(err.Error(), "jsonschema validation failed with 'file:///values.schema.json#'\n")
		return schemaError{fmt.Sprintf("values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n%s\n",
			ch.Name(), detail)}
	}
	return nil
}

// versionReuse serves a render made for one Kubernetes version to requests that
// differ only in kubeVersion, when nothing can observe the difference: no chart
// file and no values layer mentions Capabilities. What still depends on the
// version, the chart's kubeVersion range, is checked with helm's own function,
// in helm's order (schema errors first). Any doubt, and it renders.
type versionReuse struct {
	enabled bool // the chart never mentions Capabilities and has no dependencies
	mu      sync.Mutex
	renders map[string]cachedRender
}

type cachedRender struct {
	manifest string
	err      error
}

func newVersionReuse(ch *chart.Chart, schemas *schemaCache) *versionReuse {
	enabled := schemas != nil
	for _, f := range ch.Raw {
		if bytes.Contains(f.Data, []byte("Capabilities")) {
			enabled = false
		}
	}
	return &versionReuse{enabled: enabled, renders: map[string]cachedRender{}}
}

func (r *versionReuse) key(req request) (string, bool) {
	if !r.enabled || req.KubeVersion == "" {
		return "", false
	}
	layers, err := json.Marshal(req.Layers) // map keys are sorted: a canonical form
	if err != nil || bytes.Contains(layers, []byte("Capabilities")) {
		return "", false
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%v\x00%s", req.Release, req.Namespace, req.APIVersions, layers)))
	return hex.EncodeToString(sum[:]), true
}

// render answers from a render of the same request at another version, or renders.
func (r *versionReuse) render(ch *chart.Chart, schemas *schemaCache, req request) (string, error) {
	key, ok := r.key(req)
	if !ok {
		return render(ch, schemas, req)
	}
	kv, err := common.ParseKubeVersion(req.KubeVersion)
	if err != nil {
		return render(ch, schemas, req)
	}
	compatible := ch.Metadata.KubeVersion == "" || chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, kv.String())
	r.mu.Lock()
	hit, found := r.renders[key]
	r.mu.Unlock()
	if found {
		var schemaErr schemaError
		if !compatible && !errors.As(hit.err, &schemaErr) {
			return "", fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s",
				ch.Metadata.KubeVersion, kv.Version)
		}
		return hit.manifest, hit.err
	}
	manifest, err := render(ch, schemas, req)
	if compatible { // an incompatible version never reached the templates: nothing to share
		r.mu.Lock()
		r.renders[key] = cachedRender{manifest, err}
		r.mu.Unlock()
	}
	return manifest, err
}

// installable is what `helm template` checks of a loaded chart before it renders anything: its type, and
// that every dependency Chart.yaml declares is in charts/. It depends on the chart alone, so it runs once.
func installable(ch *chart.Chart) error {
	switch ch.Metadata.Type {
	case "", "application":
	default:
		return fmt.Errorf("%s charts are not installable", ch.Metadata.Type)
	}
	if len(ch.Metadata.Dependencies) == 0 {
		return nil
	}
	reqs := make([]ci.Dependency, len(ch.Metadata.Dependencies))
	for i, d := range ch.Metadata.Dependencies {
		reqs[i] = d
	}
	if err := action.CheckDependencies(ch, reqs); err != nil {
		return fmt.Errorf("an error occurred while checking for chart dependencies. You may need to run "+
			"'helm dependency build' to fetch missing dependencies: %w", err)
	}
	return nil
}

// freshCopy is a copy of ch that one render may change. Helm's ProcessDependencies rewrites, in place and
// at every level, a chart's list of subcharts (dropping those disabled by a condition or tag), its
// Chart.yaml dependencies (enabled flags, alias names, import-values) and its values (import-values):
// a chart rendered twice keeps the first render's choices. `helm template` loads the chart anew for each
// render; this copies what the processing writes (the chart, its metadata and dependency entries, its
// values, its subchart list, recursively) and shares what it only reads (templates, files, schema).
func freshCopy(ch *chart.Chart) *chart.Chart {
	out := *ch
	if ch.Metadata != nil {
		md := *ch.Metadata
		md.Dependencies = make([]*chart.Dependency, len(ch.Metadata.Dependencies))
		for i, d := range ch.Metadata.Dependencies {
			if d != nil {
				dep := *d
				dep.Tags = slices.Clone(d.Tags)
				dep.ImportValues = deepCopy(d.ImportValues).([]any)
				d = &dep
			}
			md.Dependencies[i] = d
		}
		if ch.Metadata.Dependencies == nil {
			md.Dependencies = nil
		}
		out.Metadata = &md
	}
	out.Values, _ = deepCopy(ch.Values).(map[string]any)
	subcharts := make([]*chart.Chart, 0, len(ch.Dependencies()))
	for _, sub := range ch.Dependencies() {
		subcharts = append(subcharts, freshCopy(sub))
	}
	out.SetDependencies(subcharts...)
	return &out
}

// deepCopy copies the maps and lists of a values tree (what YAML and JSON decode to); scalars are shared.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if t == nil {
			return t
		}
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		if t == nil {
			return t
		}
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// render runs the same install action `helm template` runs, client-only, on a fresh copy of the chart
// when rendering can change it (see freshCopy).
func render(ch *chart.Chart, schemas *schemaCache, req request) (string, error) {
	if len(ch.Metadata.Dependencies) > 0 || len(ch.Dependencies()) > 0 {
		ch = freshCopy(ch)
	}
	client := action.NewInstall(action.NewConfiguration())
	client.DryRunStrategy = action.DryRunClient
	client.Replace = true
	client.ReleaseName = req.Release
	client.Namespace = req.Namespace
	client.IncludeCRDs = true
	client.APIVersions = common.VersionSet(req.APIVersions)
	if req.KubeVersion != "" {
		kv, err := common.ParseKubeVersion(req.KubeVersion)
		if err != nil {
			return "", fmt.Errorf("invalid kubeVersion %q: %w", req.KubeVersion, err)
		}
		client.KubeVersion = kv
	}
	vals := map[string]any{}
	for _, layer := range req.Layers {
		vals = mergeMaps(vals, layer)
	}
	if schemas != nil {
		if err := schemas.validate(ch, vals); err != nil {
			return "", err
		}
		client.SkipSchemaValidation = true
	}
	ri, err := client.Run(ch, vals)
	if err != nil {
		return "", err
	}
	rel, ok := ri.(*release.Release)
	if !ok {
		return "", errors.New("unexpected release type")
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(rel.Manifest))
	b.WriteString("\n")
	// Hooks in helm's order (SortManifests: by kind, weight, name), as `helm template` prints them.
	for _, h := range rel.Hooks {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
	return b.String(), nil
}

func main() {
	chartPath := flag.String("chart", "", "chart directory or .tgz")
	workers := flag.Int("workers", runtime.NumCPU(), "concurrent renders")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here (for performance work)")
	noReuse := flag.Bool("no-version-reuse", false, "render every Kubernetes version even when the chart cannot tell them apart")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "portico-render: %v\n", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "portico-render: %v\n", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	if *chartPath == "" {
		fmt.Fprintln(os.Stderr, "portico-render: -chart is required")
		os.Exit(2)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	// Each worker owns a chart copy: rendering processes dependencies in place.
	// Renders allocate heavily and live briefly; trade memory for less GC.
	debug.SetGCPercent(400)
	charts := make([]*chart.Chart, *workers)
	schemas := make([]*schemaCache, *workers)
	var reuse *versionReuse
	for i := range charts {
		ch, err := loader.Load(*chartPath)
		if err != nil {
			fmt.Fprintf(os.Stderr, "portico-render: loading chart %s: %v\n", *chartPath, err)
			os.Exit(2)
		}
		charts[i] = ch
		if schemas[i], err = newSchemaCache(ch); err != nil {
			schemas[i] = nil // helm will report the schema problem on each render
		}
	}
	// What `helm template` refuses before rendering, it refuses for every request.
	refused := installable(charts[0])
	reuse = newVersionReuse(charts[0], schemas[0])
	if *noReuse {
		reuse.enabled = false
	}

	requests := make(chan request)
	responses := make(chan response)
	var wg sync.WaitGroup
	for i := 0; i < *workers; i++ {
		wg.Add(1)
		go func(ch *chart.Chart, schemas *schemaCache) {
			defer wg.Done()
			for req := range requests {
				manifest, err := "", refused
				if refused == nil {
					manifest, err = reuse.render(ch, schemas, req)
				}
				sum := sha256.Sum256([]byte(manifest))
				resp := response{ID: req.ID, Manifest: manifest, SHA256: hex.EncodeToString(sum[:])}
				if err != nil {
					resp = response{ID: req.ID, Error: err.Error()}
				}
				responses <- resp
			}
		}(charts[i], schemas[i])
	}
	done := make(chan struct{})
	go func() {
		out := bufio.NewWriterSize(os.Stdout, 1<<20)
		enc := json.NewEncoder(out)
		sent := map[string]bool{}
		for resp := range responses {
			shareRepeats(&resp, sent)
			if err := enc.Encode(resp); err != nil {
				fmt.Fprintf(os.Stderr, "portico-render: writing response: %v\n", err)
				os.Exit(2)
			}
			out.Flush()
		}
		close(done)
	}()

	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	for scanner.Scan() {
		var req request
		if err := json.Unmarshal(scanner.Bytes(), &req); err != nil {
			fmt.Fprintf(os.Stderr, "portico-render: bad request: %v\n", err)
			os.Exit(2)
		}
		if req.Release == "" {
			req.Release = "release-name"
		}
		if req.Namespace == "" {
			req.Namespace = "default"
		}
		requests <- req
	}
	close(requests)
	wg.Wait()
	close(responses)
	<-done
}
