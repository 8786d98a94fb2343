package inventory

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/patchrun/patchrun/internal/fsread"
)

// fileSecret is a password file read once per Load, however many hosts use it.
type fileSecret struct {
	secret Secret
	reason string // why it can't be used; "" when fine
}

// password resolves password_env / password_file. The more specific layer
// wins (a host's password_file beats password_env from defaults); both in
// the same place is an error, since which one is meant is unclear.
func (r *resolver) password(v values) Secret {
	envSt, envAt, hasEnv := v.get(keyPasswordEnv)
	fileSt, fileAt, hasFile := v.get(keyPasswordFile)
	switch {
	case hasEnv && hasFile && envAt == fileAt:
		r.probs.add(fileSt.line, fileSt.key, "both password_env and password_file are set", "keep only one")
		return Secret{}
	case hasEnv && (!hasFile || envAt > fileAt):
		return r.envPassword(envSt)
	case hasFile:
		return r.filePassword(fileSt)
	}
	return Secret{}
}

func (r *resolver) envPassword(st setting) Secret {
	name := st.val
	if name == "" || strings.ContainsAny(name, "= \t$") {
		r.probs.add(st.line, st.key, fmt.Sprintf("bad environment variable name %q", name),
			"name the variable, e.g. password_env: WIN_ADMIN_PASSWORD (no $)")
		return Secret{}
	}
	val := r.getenv(name)
	if val == "" {
		r.probs.add(st.line, st.key, fmt.Sprintf("environment variable %s is not set or empty", name),
			fmt.Sprintf("export %s before running patchrun, or use password_file / --ask-pass", name))
		return Secret{}
	}
	return NewSecret(val, "env:"+name)
}

func (r *resolver) filePassword(st setting) Secret {
	p, ok := r.path(st)
	if !ok {
		return Secret{}
	}
	fs, seen := r.secretFiles[p]
	if !seen {
		fs = r.readSecretFile(p, st)
		r.secretFiles[p] = fs
	}
	if fs.reason != "" {
		r.probs.add(st.line, st.key, fs.reason, "the file must hold the password on its first line; check the path and permissions")
		return Secret{}
	}
	return fs.secret
}

// readSecretFile reads a password file: the whole content minus one trailing
// newline (what `echo pw > file` writes). A file other users can read is
// allowed but warned about.
// A named pipe is accepted (password_file: <(pass show x)), capped like a
// file.
func (r *resolver) readSecretFile(p string, st setting) fileSecret {
	b, err := fsread.ReadFile(p, fsread.LimitSecret, fsread.Options{AllowFIFO: true})
	if err != nil {
		return fileSecret{reason: fileProblem("password file", p, err)}
	}
	val := string(b)
	if strings.HasSuffix(val, "\r\n") {
		val = strings.TrimSuffix(val, "\r\n")
	} else {
		val = strings.TrimSuffix(val, "\n")
	}
	if val == "" {
		return fileSecret{reason: "password file " + p + " is empty"}
	}
	// Windows has no meaningful mode bits here.
	if fi, err := os.Stat(p); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o004 != 0 {
		r.warns.add(st.line, st.key, "password file "+p+" is readable by every user on this machine", "chmod 600 "+p)
	}
	return fileSecret{secret: NewSecret(val, "file:"+p)}
}
