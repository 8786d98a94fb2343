package fleet

import "strings"

// sourcePackage names the source package a simulated binary package is
// built from, as dpkg's ${source:Package} and rpm's %{SOURCERPM} tell it:
// the same names the real distributions use.
func sourcePackage(name string) string {
	switch {
	case strings.HasPrefix(name, "linux-image-"):
		if name == "linux-image-generic" {
			return "linux-meta" // Ubuntu's kernel metapackage
		}
		return "linux-signed-amd64"
	case strings.HasPrefix(name, "libssl3"), name == "openssl-libs":
		return "openssl"
	case name == "libcurl4":
		return "curl"
	case name == "openssh-server":
		return "openssh"
	case name == "kernel-core":
		return "kernel"
	case name == "libopenssl3":
		return "openssl-3"
	case name == "vim-minimal":
		return "vim"
	}
	return name
}
