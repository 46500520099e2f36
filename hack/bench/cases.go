package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The cases, in the order the report lists them.
const (
	caseCopy   = "copy"   // (a) registry → registry
	caseRerun  = "rerun"  // (d) the same copy again, nothing to copy
	caseExport = "export" // (b) registry → one bundle file
	caseImport = "import" // (c) that file → registry
)

// Tool names.
const (
	toolFerry       = "ferry"
	toolCrane       = "crane"
	toolCraneNames  = "crane+names"
	toolRegctl      = "regctl"
	toolSkopeo      = "skopeo"
	floorCopy       = "floor: cp blobs"
	floorTar        = "floor: tar blobs"
	floorUpload1    = "floor: upload (1 at a time)"
	floorUploadJobs = "floor: upload (%d at a time)"
	floorDownload   = "floor: download (%d at a time)"
	floorRelay      = "floor: relay (%d at a time)"
)

// image is one artifact of the corpus: repository path, tag and manifest digest.
type image struct{ Name, Tag, Digest string }

// flat is the image's name with "/" and ":" replaced, for layout ref names
// and file names ("bench-app-01-1.0").
func (im image) flat() string {
	return strings.NewReplacer("/", "-", ":", "-").Replace(im.Name + ":" + im.Tag)
}

// base is the last path element of the name, where skopeo sync puts it.
func (im image) base() string { return filepath.Base(im.Name) }

// setup is what the tools' commands are made of.
type setup struct {
	ferry, crane, regctl, skopeo string
	self                         string // this program, for the upload floor

	src     string // source registry host:port
	dst     string // the counting proxy in front of the target registry
	srcRoot string // the source registry's root (floors read its blobs)
	out     string // scratch directory for exported files
	comp    string // component name:version wrapping the corpus
	images  []image
	jobs    int
	policy  string // skopeo signature policy file
	sync    string // skopeo sync source file
}

// copySteps is case (a); run again on a full target it is case (d).
func (s *setup) copySteps(tool string) []step {
	var st []step
	switch tool {
	case toolFerry:
		st = append(st, cmdStep(s.ferry, "transfer", "--no-progress", "-o", "json",
			"http://"+s.src+"/ocm//"+s.comp, "http://"+s.dst+"/air"))
	case toolCrane:
		for _, im := range s.images {
			st = append(st, cmdStep(s.crane, "copy", "--insecure",
				s.src+"/"+im.Name+":"+im.Tag, s.dst+"/air/"+im.Name+":"+im.Tag))
		}
	case toolRegctl:
		for _, im := range s.images {
			st = append(st, cmdStep(s.regctl, "image", "copy",
				"--host", "reg="+s.src+",tls=disabled", "--host", "reg="+s.dst+",tls=disabled",
				s.src+"/"+im.Name+":"+im.Tag, s.dst+"/air/"+im.Name+":"+im.Tag))
		}
	case toolSkopeo:
		st = append(st, cmdStep(s.skopeo, "--policy", s.policy, "sync", "--all", "--preserve-digests",
			"--src", "yaml", "--dest", "docker", "--dest-tls-verify=false", s.sync, s.dst+"/air"))
	}
	return st
}

// exportFile is where tool writes its bundle.
func (s *setup) exportFile(tool string) string {
	return filepath.Join(s.out, strings.ReplaceAll(tool, "+", "-")+".tar")
}

// exportSteps is case (b): the corpus into one file, every image and
// platform in it.
func (s *setup) exportSteps(tool string) []step {
	layout := filepath.Join(s.out, tool+"-layout")
	file := s.exportFile(tool)
	tarUp := cmdStep("tar", "-cf", file, "-C", layout, ".")
	var st []step
	switch tool {
	case toolFerry:
		st = append(st, cmdStep(s.ferry, "bundle", "create", "--no-progress",
			"http://"+s.src+"/ocm//"+s.comp, "-o", file))
	case toolCrane:
		argv := []string{s.crane, "pull", "--insecure", "--format=oci", "--annotate-ref"}
		for _, im := range s.images {
			argv = append(argv, s.src+"/"+im.Name+":"+im.Tag)
		}
		st = append(st, cmdStep(append(argv, layout)...), tarUp)
	case toolRegctl:
		for _, im := range s.images {
			st = append(st, cmdStep(s.regctl, "image", "copy", "--host", "reg="+s.src+",tls=disabled",
				s.src+"/"+im.Name+":"+im.Tag, "ocidir://"+layout+":"+im.flat()))
		}
		st = append(st, tarUp)
	case toolSkopeo:
		for _, im := range s.images {
			st = append(st, cmdStep(s.skopeo, "--policy", s.policy, "copy", "--all", "--preserve-digests",
				"--src-tls-verify=false", "docker://"+s.src+"/"+im.Name+":"+im.Tag, "oci:"+layout+":"+im.flat()))
		}
		st = append(st, tarUp)
	}
	return st
}

// importSteps is case (c): the file tool's export wrote, into the target.
// The peers cannot read an OCI layout inside a tar, so their import
// unpacks it first, as a user would.
func (s *setup) importSteps(tool string) []step {
	file := s.exportFile(tool)
	if tool == toolCraneNames {
		file = s.exportFile(toolCrane)
	}
	dir := filepath.Join(s.out, tool+"-unpacked")
	unpack := []step{cmdStep("mkdir", "-p", dir), cmdStep("tar", "-xf", file, "-C", dir)}
	var st []step
	switch tool {
	case toolFerry:
		st = append(st, cmdStep(s.ferry, "bundle", "import", "--no-progress", "-o", "json", file, "http://"+s.dst+"/air"))
	case toolCrane, toolCraneNames:
		// crane pushes a layout as one index; the names come back only by
		// copying each image out of it again (the registry mounts the blobs).
		st = append(unpack, cmdStep(s.crane, "push", "--insecure", "--index", dir, s.dst+"/air/bench/layout:all"))
		if tool == toolCraneNames {
			for _, im := range s.images {
				st = append(st, cmdStep(s.crane, "copy", "--insecure",
					s.dst+"/air/bench/layout@"+im.Digest, s.dst+"/air/"+im.Name+":"+im.Tag))
			}
		}
	case toolRegctl:
		st = unpack
		for _, im := range s.images {
			st = append(st, cmdStep(s.regctl, "image", "copy", "--host", "reg="+s.dst+",tls=disabled",
				"ocidir://"+dir+":"+im.flat(), s.dst+"/air/"+im.Name+":"+im.Tag))
		}
	case toolSkopeo:
		st = unpack
		for _, im := range s.images {
			st = append(st, cmdStep(s.skopeo, "--policy", s.policy, "copy", "--all", "--preserve-digests",
				"--dest-tls-verify=false", "oci:"+dir+":"+im.flat(), "docker://"+s.dst+"/air/"+im.Name+":"+im.Tag))
		}
	}
	return st
}

// floorSteps are the floors: the disk's and loopback's own speed, and a
// plain client's.
func (s *setup) floorSteps(name string) []step {
	blobs := filepath.Join(s.srcRoot, "docker", "registry", "v2", "blobs")
	switch name {
	case floorCopy:
		return []step{cmdStep("cp", "-r", blobs, filepath.Join(s.out, "cp-blobs"))}
	case floorTar:
		return []step{cmdStep("tar", "-cf", filepath.Join(s.out, "blobs.tar"), "-C", blobs, ".")}
	case fmt.Sprintf(floorDownload, s.jobs):
		dir := filepath.Join(s.out, "download")
		return []step{cmdStep("mkdir", "-p", dir), cmdStep(s.self, "upload", "-download", dir, "-registry", s.src, "-jobs", fmt.Sprint(s.jobs), s.srcRoot)}
	case fmt.Sprintf(floorRelay, s.jobs):
		return []step{cmdStep(s.self, "upload", "-relay", s.src, "-registry", s.dst, "-jobs", fmt.Sprint(s.jobs), s.srcRoot)}
	case floorUpload1:
		return []step{cmdStep(s.self, "upload", "-registry", s.dst, "-jobs", "1", s.srcRoot)}
	default: // the upload with ferry's concurrency
		return []step{cmdStep(s.self, "upload", "-registry", s.dst, "-jobs", fmt.Sprint(s.jobs), s.srcRoot)}
	}
}

// writeSkopeoFiles writes the signature policy (accept anything: the bench
// verifies no signatures, as the other tools do not) and the sync source list.
func (s *setup) writeSkopeoFiles(dir string) error {
	s.policy = filepath.Join(dir, "policy.json")
	if err := os.WriteFile(s.policy, []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`+"\n"), 0o644); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  tls-verify: false\n  images:\n", s.src)
	for _, im := range s.images {
		fmt.Fprintf(&b, "    %s: [%q]\n", im.Name, im.Tag)
	}
	s.sync = filepath.Join(dir, "sync.yaml")
	return os.WriteFile(s.sync, []byte(b.String()), 0o644)
}
