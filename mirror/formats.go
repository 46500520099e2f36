package mirror

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// containerd writes one hosts.toml per upstream host (containerd's
// config_path layout: <config_path>/<host>/hosts.toml): the mirror root as
// a host with pull and resolve capabilities, a CA placeholder and a
// commented authorization header.
func containerd(pairs []Pair, o Options) ([]File, error) {
	var out []File
	for _, g := range groupByHost(pairs) {
		if g.root == "" {
			var lines []string
			for _, p := range g.pairs {
				lines = append(lines, p.Source+" -> "+p.Mirror)
			}
			return nil, fmt.Errorf("containerd, host %s: %w (%s); use --format crio, rke2 or idms, which map repositories", g.host, ErrNotHostWide, strings.Join(lines, ", "))
		}
		mhost, mpath := splitHost(g.root)
		url := o.scheme() + "://" + mhost
		if mpath != "" {
			url += "/v2/" + mpath
		}
		var b strings.Builder
		fmt.Fprintf(&b, "# containerd: pull the images of %s from their copies in %s.\n", g.host, g.root)
		fmt.Fprintf(&b, "# Written by ferry. Install as /etc/containerd/certs.d/%s/hosts.toml (the\n", g.host)
		b.WriteString("# registry config_path of containerd's CRI plugin); it applies to the next pull.\n")
		fmt.Fprintf(&b, "server = %s\n\n", tomlString(upstreamServer(g.host)))
		fmt.Fprintf(&b, "[host.%s]\n", tomlString(url))
		b.WriteString("  capabilities = [\"pull\", \"resolve\"]\n")
		if mpath != "" {
			b.WriteString("  # The URL holds the API root with the sub path the copies live under.\n")
			b.WriteString("  override_path = true\n")
		}
		if !o.PlainHTTP {
			b.WriteString("  # Placeholder: the CA that signed the private registry's certificate\n")
			b.WriteString("  # (remove the line when a publicly trusted CA signed it).\n")
			fmt.Fprintf(&b, "  ca = %s\n", tomlString("/etc/containerd/certs.d/"+mhost+"/ca.crt"))
		}
		b.WriteString("  # Credentials come with the pod's imagePullSecrets (ferry localize --pull-secret).\n")
		b.WriteString("  # For node-wide credentials instead, uncomment with base64 of USER:PASSWORD:\n")
		fmt.Fprintf(&b, "  # [host.%s.header]\n", tomlString(url))
		b.WriteString("  #   authorization = [\"Basic <BASE64 OF USER:PASSWORD>\"]\n")
		out = append(out, File{Path: g.host + "/hosts.toml", Data: []byte(b.String())})
	}
	return out, nil
}

// crio writes a containers-registries.conf(5) drop-in: a [[registry]] per
// upstream host (or per repository, when the host's copies share no root)
// with the copy as its mirror.
func crio(pairs []Pair, o Options) []byte {
	var b strings.Builder
	b.WriteString("# CRI-O and the containers tools (containers-registries.conf(5)): pull the\n")
	b.WriteString("# release's images from their copies. Written by ferry. Install as\n")
	b.WriteString("# /etc/containers/registries.conf.d/50-ferry.conf and restart CRI-O.\n")
	hosts := map[string]bool{}
	for _, p := range pairs {
		h, _ := splitHost(p.Mirror)
		hosts[h] = true
	}
	for _, h := range sortedKeys(hosts) {
		if !o.PlainHTTP {
			fmt.Fprintf(&b, "# Placeholder: the CA of %s goes to /etc/containers/certs.d/%s/ca.crt.\n", h, h)
		}
	}
	b.WriteString("# Credentials come with the pod's imagePullSecrets (ferry localize --pull-secret),\n")
	b.WriteString("# or node-wide from /etc/containers/auth.json (podman login --authfile).\n")
	entry := func(prefix, mirror string) {
		fmt.Fprintf(&b, "\n[[registry]]\nprefix = %s\nlocation = %s\n\n", tomlString(prefix), tomlString(prefix))
		fmt.Fprintf(&b, "[[registry.mirror]]\nlocation = %s\ninsecure = %t\n", tomlString(mirror), o.PlainHTTP)
	}
	for _, g := range groupByHost(pairs) {
		if g.root != "" {
			entry(g.host, g.root)
			continue
		}
		for _, p := range g.pairs {
			entry(p.Source, p.Mirror)
		}
	}
	return []byte(b.String())
}

// rke2 writes RKE2's (and k3s's) registries.yaml: the mirror host as the
// endpoint of each upstream host, a rewrite that puts the copies' sub path
// in front, and auth and CA placeholders for the mirror host.
func rke2(pairs []Pair, o Options) []byte {
	var b strings.Builder
	b.WriteString("# RKE2 (and k3s): pull the release's images from their copies. Written by\n")
	b.WriteString("# ferry. Install as /etc/rancher/rke2/registries.yaml (k3s:\n")
	b.WriteString("# /etc/rancher/k3s/registries.yaml) and restart the service.\n")
	b.WriteString("mirrors:\n")
	hosts := map[string]bool{}
	for _, g := range groupByHost(pairs) {
		rewrites := map[string]string{}
		mhosts := map[string]bool{}
		if g.root != "" {
			mh, mp := splitHost(g.root)
			mhosts[mh] = true
			if mp != "" {
				rewrites["^(.*)$"] = mp + "/$1"
			}
		} else {
			for _, p := range g.pairs {
				mh, mp := splitHost(p.Mirror)
				_, sp := splitHost(p.Source)
				mhosts[mh] = true
				rewrites["^"+regexp.QuoteMeta(sp)+"$"] = mp
			}
		}
		fmt.Fprintf(&b, "  %s:\n    endpoint:\n", yamlString(g.host))
		for _, mh := range sortedKeys(mhosts) {
			hosts[mh] = true
			fmt.Fprintf(&b, "      - %s\n", yamlString(o.scheme()+"://"+mh))
		}
		if len(rewrites) > 0 {
			b.WriteString("    rewrite:\n")
			for _, k := range sortedKeys(rewrites) {
				fmt.Fprintf(&b, "      %s: %s\n", yamlString(k), yamlString(rewrites[k]))
			}
		}
	}
	b.WriteString("configs:\n")
	for _, h := range sortedKeys(hosts) {
		fmt.Fprintf(&b, "  %s:\n", yamlString(h))
		b.WriteString("    # Placeholders: the private registry's credentials (or remove auth and\n")
		b.WriteString("    # give the pods imagePullSecrets: ferry localize --pull-secret).\n")
		b.WriteString("    auth:\n      username: \"<USERNAME>\"\n      password: \"<PASSWORD>\"\n")
		if !o.PlainHTTP {
			b.WriteString("    # Placeholder: the CA that signed its certificate.\n")
			fmt.Fprintf(&b, "    tls:\n      ca_file: %s\n", yamlString("/etc/rancher/rke2/certs/"+h+"/ca.crt"))
		}
	}
	return []byte(b.String())
}

// idms writes an OpenShift ImageDigestMirrorSet with one entry per
// original repository.
func idms(pairs []Pair, o Options) []byte {
	name := o.Name
	if name == "" {
		name = "ferry-mirrors"
	}
	var b strings.Builder
	b.WriteString("# OpenShift: pull the release's images from their copies when pods name them\n")
	b.WriteString("# by digest (ferry localize --pin-digest, or the operator's own digests).\n")
	b.WriteString("# Written by ferry. Apply with 'oc apply -f'; the Machine Config Operator\n")
	b.WriteString("# rolls it out to the nodes. Placeholders: add the private registry's CA to\n")
	b.WriteString("# image.config.openshift.io/cluster spec.additionalTrustedCA, and its\n")
	b.WriteString("# credentials to the global pull secret (openshift-config/pull-secret).\n")
	b.WriteString("apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata:\n")
	fmt.Fprintf(&b, "  name: %s\n", yamlString(name))
	b.WriteString("spec:\n  imageDigestMirrors:\n")
	for _, p := range pairs {
		fmt.Fprintf(&b, "  - source: %s\n    mirrors:\n    - %s\n", yamlString(p.Source), yamlString(p.Mirror))
	}
	return []byte(b.String())
}

// tomlString writes s as a TOML basic string.
func tomlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// plainYAML matches strings that YAML reads back as the same string
// without quotes.
var plainYAML = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9._/-]*$`)

// yamlString writes s plain when that reads back as s, else as a JSON
// string (a YAML double-quoted scalar).
func yamlString(s string) string {
	if plainYAML.MatchString(s) && !strings.Contains(s, ":") && s != "true" && s != "false" && s != "null" && s != "yes" && s != "no" {
		return s
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}
