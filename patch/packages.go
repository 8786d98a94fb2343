package patch

import (
	"context"

	"github.com/patchrun/patchrun/transport"
)

// Package is one installed package, as the host's package database lists
// it.
type Package struct {
	Name    string // binary package name
	Version string // installed version ([epoch:]version-release)
	Arch    string
	// Source is the source package it was built from, and SourceVersion
	// that source's version (dpkg's ${source:Package} and
	// ${source:Version}; rpm's source RPM); empty when the database does not
	// say.
	Source        string
	SourceVersion string
}

// PackageLister is implemented by backends that can list a host's
// installed packages in one command; the runner asks only when advisory
// files are given (--advisories).
type PackageLister interface {
	InstalledPackages(ctx context.Context, t transport.Transport) ([]Package, error)
}

// Vulnerable is an installed package that known advisories say is
// vulnerable and that no pending update fixes.
type Vulnerable struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Source  string `json:"source,omitempty"` // when it differs from Name
	// Advisories and CVEs are the ids of the records that affect it, sorted.
	Advisories []string `json:"advisories,omitempty"`
	CVEs       []string `json:"cves,omitempty"`
	// Severity (normalised), VendorSeverity, KnownExploited, KEVDue and
	// EPSS are as for an Update.
	Severity       string  `json:"severity,omitempty"`
	VendorSeverity string  `json:"vendor_severity,omitempty"`
	KnownExploited bool    `json:"known_exploited,omitempty"`
	KEVDue         string  `json:"kev_due,omitempty"`
	EPSS           float64 `json:"epss,omitempty"`
}
