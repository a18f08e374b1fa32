package layering

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// pkg is one package of the module as the checks see it: its non-test
// files, parsed.
type pkg struct {
	rel     string   // path relative to the module root, "/"-separated
	imports []string // module-internal imports, relative
	files   []*ast.File
}

// tree is a module's source, parsed.
type tree struct {
	module string
	fset   *token.FileSet
	pkgs   map[string]*pkg
}

// load parses every non-test Go file below root (skipping testdata,
// hidden and underscore directories, as the go command does). Build
// constraints are ignored: a rule holds for every platform's files.
func load(root string) (*tree, error) {
	mod, err := modulePath(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	t := &tree{module: mod, fset: token.NewFileSet(), pkgs: map[string]*pkg{}}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(t.fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(dir)
		p := t.pkgs[rel]
		if p == nil {
			p = &pkg{rel: rel}
			t.pkgs[rel] = p
		}
		p.files = append(p.files, f)
		for _, im := range f.Imports {
			path, err := strconv.Unquote(im.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: import %s: %w", t.fset.Position(im.Pos()), im.Path.Value, err)
			}
			if r, ok := strings.CutPrefix(path, mod+"/"); ok && !contains(p.imports, r) {
				p.imports = append(p.imports, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", root, err)
	}
	return t, nil
}

func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// under reports whether package rel is one of roots or inside one.
func under(rel string, roots []string) bool {
	for _, r := range roots {
		if rel == r || strings.HasPrefix(rel, r+"/") {
			return true
		}
	}
	return false
}

// rule forbids the packages under From to depend, directly or not, on
// the packages under Not ("" stands for every package of the module).
type rule struct {
	From, Not []string
	Why       string
}

// rules are the module's dependency directions (see the package comment).
var rules = []rule{
	{[]string{"openflow", "ubpf"}, []string{"datapath", "ofproto", "switchd", "ctl", "netctl", "ofclient", "cmd"},
		"openflow and ubpf know nothing of the switch"},
	{[]string{"datapath", "ofproto", "ubpf", "openflow", "ofclient"}, []string{"switchd", "ctl", "netctl", "cmd", "tests", "bench"},
		"libraries import no daemon, command or test"},
	{[]string{"datapath"}, []string{"openflow", "ofproto", "switchd", "ctl", "netctl", "ofclient"},
		"datapath knows nothing of OpenFlow; it runs eBPF filters with ubpf, other filters through datapath.Filter"},
	{[]string{"ofproto"}, []string{"switchd", "ctl", "netctl", "ofclient"},
		"ofproto is handed ports and connections; it knows no daemon, client or CLI"},
	{[]string{"ofclient"}, []string{"datapath", "ofproto", "ubpf", "switchd", "ctl", "netctl"},
		"ofclient is an OpenFlow client: it knows only the protocol"},
	{[]string{"netctl", "cmd/netctl"}, []string{"ctl", "ubpf", "datapath", "ofproto", "switchd"},
		"netctl talks to switches through ofclient, not through the ofctl CLI package"},
	{[]string{"header"}, []string{""},
		"the header vocabulary is a leaf: ctl and the bench tools use it without the datapath"},
}

// checkImports returns one line per broken rule, naming the chain of
// imports that breaks it.
func checkImports(t *tree) []string {
	var bad []string
	rels := make([]string, 0, len(t.pkgs))
	for rel := range t.pkgs {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, r := range rules {
		for _, rel := range rels {
			if !under(rel, r.From) {
				continue
			}
			if chain := t.path(rel, func(dep string) bool { return r.Not[0] == "" || under(dep, r.Not) }); chain != nil {
				bad = append(bad, fmt.Sprintf("%s imports %s (%s): %s", rel, chain[len(chain)-1], strings.Join(chain, " -> "), r.Why))
			}
		}
	}
	return bad
}

// path returns the shortest chain of module-internal imports from package
// from to a package for which hit is true, or nil.
func (t *tree) path(from string, hit func(string) bool) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		p := t.pkgs[cur]
		if p == nil {
			continue
		}
		for _, dep := range p.imports {
			if _, seen := prev[dep]; seen {
				continue
			}
			prev[dep] = cur
			if hit(dep) {
				var chain []string
				for x := dep; x != ""; x = prev[x] {
					chain = append([]string{x}, chain...)
				}
				return chain
			}
			queue = append(queue, dep)
		}
	}
	return nil
}

// A site is a function of the module, "dir/file.go:Func" (methods as
// "dir/file.go:Type.Method").
type site = string

type invalidator struct {
	recv, method string // the method
	declared     site   // its one declaration
	callers      []site // everything allowed to call it
}

// invalidation is the one invalidation path: the methods that invalidate
// the datapath's caches and the only functions that may call them.
var invalidation = []invalidator{
	{"Datapath", "Revalidate", "datapath/datapath.go:Datapath.Revalidate",
		[]site{"ofproto/change.go:Bridge.update", "datapath/datapath.go:Datapath.Invalidate"}},
	{"Datapath", "Invalidate", "datapath/datapath.go:Datapath.Invalidate",
		// publish installs a new port set: cached actions name ports by
		// their place in it.
		[]site{"ofproto/change.go:Bridge.update", "datapath/datapath.go:Datapath.publish"}},
	{"flowCache", "flush", "datapath/cache.go:flowCache.flush",
		[]site{"datapath/pmd.go:pmd.poll", "datapath/pmd.go:pmd.revalidate", "datapath/datapath.go:Datapath.runPMD"}},
	{"flowCache", "dropIf", "datapath/cache.go:flowCache.dropIf",
		[]site{"datapath/pmd.go:pmd.revalidate"}},
}

// checkInvalidation returns one line per call of an invalidation method
// from a function not allowed to make it, and per declaration of a method
// of that name elsewhere: calls are found by name, so a name must stay
// unique to its owner, in the module for an exported method and in the
// owner's package (the only place it can be called from) for the others.
func checkInvalidation(t *tree) []string {
	var bad []string
	found := map[string]bool{}
	rels := make([]string, 0, len(t.pkgs))
	for rel := range t.pkgs {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		for _, f := range t.pkgs[rel].files {
			file := rel + "/" + filepath.Base(t.fset.Position(f.Pos()).Filename)
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok {
					continue
				}
				here := file + ":" + funcName(fd)
				for _, inv := range invalidation {
					if fd.Name.Name != inv.method || fd.Recv == nil || !inv.reaches(rel) {
						continue
					}
					if here == inv.declared {
						found[inv.declared] = true
					} else {
						bad = append(bad, fmt.Sprintf("%s: declares a method %s besides %s: rename one, the check finds calls by name",
							t.fset.Position(fd.Pos()), inv.method, inv.declared))
					}
				}
				if fd.Body == nil {
					continue
				}
				ast.Inspect(fd.Body, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					sel, ok := call.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					for _, inv := range invalidation {
						if sel.Sel.Name == inv.method && inv.reaches(rel) && !contains(inv.callers, here) {
							bad = append(bad, fmt.Sprintf("%s: %s calls %s.%s: invalidation goes through %s only",
								t.fset.Position(call.Pos()), funcName(fd), inv.recv, inv.method, strings.Join(inv.callers, ", ")))
						}
					}
					return true
				})
			}
		}
	}
	for _, inv := range invalidation {
		if !found[inv.declared] {
			bad = append(bad, fmt.Sprintf("%s is not declared where the check expects it: update the table in layering.go", inv.declared))
		}
	}
	return bad
}

// reaches reports whether code in package rel can call inv's method.
func (inv invalidator) reaches(rel string) bool {
	if ast.IsExported(inv.method) {
		return true
	}
	owner, _, _ := strings.Cut(inv.declared, ":")
	return path.Dir(owner) == rel
}

// funcName returns "Func" or "Type.Method".
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	typ := fd.Recv.List[0].Type
	for {
		switch x := typ.(type) {
		case *ast.StarExpr:
			typ = x.X
			continue
		case *ast.IndexExpr:
			typ = x.X
			continue
		case *ast.IndexListExpr:
			typ = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + fd.Name.Name
		}
		return fd.Name.Name
	}
}
