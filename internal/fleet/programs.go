package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// programFor returns the implementation of an external program by base
// name, or nil. Whether a host has it is decided by hasProgram.
func programFor(name string) program {
	switch name {
	case "cat":
		return progCat
	case "grep":
		return progGrep
	case "tail":
		return progTail
	case "sort":
		return progSort
	case "ip":
		return progIP
	case "ls":
		return progLs
	case "uname":
		return progUname
	case "id":
		return progID
	case "whoami":
		return func(_ context.Context, p *proc) int { p.outf("%s\n", p.h.f.cfg.User); return 0 }
	case "hostname":
		return progHostname
	case "uptime":
		return progUptime
	case "health-check":
		return progHealthCheck
	case "hook":
		return progHook
	case "who":
		return progWho
	case "date":
		return progDate
	case "sleep":
		return progSleep
	case "sudo":
		return progSudo
	case "sh", "bash":
		return progSh
	case "nohup":
		return progNohup
	case "env":
		return progEnv
	case "timeout":
		return progTimeout
	case "mkdir":
		return progMkdir
	case "rm":
		return progRm
	case "touch":
		return progTouch
	case "chmod":
		return func(context.Context, *proc) int { return 0 }
	case "systemctl":
		return progSystemctl
	case "systemd-run":
		return progSystemdRun
	case "reboot", "poweroff", "halt":
		return progReboot
	case "shutdown":
		return progShutdown
	case "apt-get", "apt":
		return progApt
	case "dpkg":
		return progDpkg
	case "dpkg-query":
		return progDpkgQuery
	case "dnf", "yum":
		return progDnf
	case "needs-restarting":
		return progNeedsRestarting
	case "rpm":
		return progRpm
	case "zypper":
		return progZypper
	case "apk":
		return progApk
	case "pacman":
		return progPacman
	case "stat":
		return progStat
	case "ln":
		return progLn
	}
	return nil
}

func progCat(_ context.Context, p *proc) int {
	files := p.args[1:]
	if len(files) == 0 {
		files = []string{"-"}
	}
	code := 0
	for _, f := range files {
		if f == "-" {
			_, _ = io.Copy(p.io.out, p.io.in)
			continue
		}
		p.h.mu.Lock()
		data, ok := p.h.readFileLocked(f)
		isDir := p.h.isDirLocked(f)
		p.h.mu.Unlock()
		switch {
		case isDir:
			p.errf("cat: %s: Is a directory\n", f)
			code = 1
		case !ok:
			p.errf("cat: %s: No such file or directory\n", f)
			code = 1
		default:
			p.outf("%s", data)
		}
	}
	return code
}

func progLs(_ context.Context, p *proc) int {
	var paths []string
	for _, a := range p.args[1:] {
		if !strings.HasPrefix(a, "-") {
			paths = append(paths, a)
		}
	}
	if len(paths) == 0 {
		paths = []string{p.sh.vars["PWD"]}
	}
	code := 0
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	for _, d := range paths {
		if _, isFile := p.h.files[cleanPath(d)]; isFile {
			p.outf("%s\n", d)
			continue
		}
		if !p.h.isDirLocked(d) {
			p.errf("ls: cannot access '%s': No such file or directory\n", d)
			code = 2
			continue
		}
		for _, n := range p.h.listDirLocked(d) {
			p.outf("%s\n", n)
		}
	}
	return code
}

func progUname(_ context.Context, p *proc) int {
	p.h.mu.Lock()
	kernel := p.h.kernel
	p.h.mu.Unlock()
	fields := map[byte]string{'s': "Linux", 'n': p.h.name, 'r': kernel, 'v': "#1 SMP PREEMPT_DYNAMIC",
		'm': "x86_64", 'p': "unknown", 'i': "unknown", 'o': "GNU/Linux"}
	var want []byte
	for _, a := range p.args[1:] {
		switch a {
		case "-a", "--all":
			want = []byte("snrvmo")
		case "--kernel-name":
			want = append(want, 's')
		case "--kernel-release":
			want = append(want, 'r')
		case "--nodename":
			want = append(want, 'n')
		case "--machine":
			want = append(want, 'm')
		default:
			if !strings.HasPrefix(a, "-") {
				p.errf("uname: extra operand '%s'\n", a)
				return 1
			}
			for i := 1; i < len(a); i++ {
				if _, ok := fields[a[i]]; !ok {
					p.errf("uname: invalid option -- '%c'\n", a[i])
					return 1
				}
				want = append(want, a[i])
			}
		}
	}
	if len(want) == 0 {
		want = []byte("s")
	}
	var out []string
	for _, c := range []byte("snrvmpio") { // uname prints in its own order
		if bytes.IndexByte(want, c) >= 0 {
			out = append(out, fields[c])
		}
	}
	p.outf("%s\n", strings.Join(out, " "))
	return 0
}

func progID(_ context.Context, p *proc) int {
	user := p.h.f.cfg.User
	uid := 0
	if user != "root" {
		uid = 1000
	}
	args := strings.Join(p.args[1:], " ")
	switch {
	case strings.Contains(args, "-u") && strings.Contains(args, "n"):
		p.outf("%s\n", user)
	case strings.Contains(args, "-u"), strings.Contains(args, "-g"):
		p.outf("%d\n", uid)
	default:
		p.outf("uid=%d(%s) gid=%d(%s) groups=%d(%s)\n", uid, user, uid, user, uid, user)
	}
	return 0
}

func progHostname(_ context.Context, p *proc) int {
	if len(p.args) > 1 && p.args[1] == "-I" {
		p.outf("127.0.0.1 \n")
		return 0
	}
	p.outf("%s\n", p.h.name)
	return 0
}

func (h *SimHost) bootedAtTime() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bootedAt
}

func progUptime(_ context.Context, p *proc) int {
	booted := p.h.bootedAtTime()
	up := time.Since(booted)
	mins := int(up.Minutes())
	switch {
	case len(p.args) > 1 && (p.args[1] == "-s" || p.args[1] == "--since"):
		p.outf("%s\n", booted.UTC().Format("2006-01-02 15:04:05"))
	case len(p.args) > 1 && (p.args[1] == "-p" || p.args[1] == "--pretty"):
		if mins == 1 {
			p.outf("up 1 minute\n")
		} else {
			p.outf("up %d minutes\n", mins)
		}
	default:
		dur := fmt.Sprintf("%d min", mins)
		if mins >= 60 {
			dur = fmt.Sprintf("%2d:%02d", mins/60, mins%60)
		}
		p.outf(" %s up %s,  1 user,  load average: 0.00, 0.01, 0.00\n", time.Now().UTC().Format("15:04:05"), dur)
	}
	return 0
}

func progWho(_ context.Context, p *proc) int {
	if len(p.args) > 1 && p.args[1] == "-b" {
		p.outf("         system boot  %s\n", p.h.bootedAtTime().UTC().Format("2006-01-02 15:04"))
		return 0
	}
	p.outf("%s    pts/0        %s (127.0.0.1)\n", p.h.f.cfg.User, time.Now().UTC().Format("2006-01-02 15:04"))
	return 0
}

func progDate(_ context.Context, p *proc) int {
	now := time.Now().UTC()
	for _, a := range p.args[1:] {
		if f, ok := strings.CutPrefix(a, "+"); ok {
			r := strings.NewReplacer("%s", strconv.FormatInt(now.Unix(), 10), "%Y", now.Format("2006"),
				"%m", now.Format("01"), "%d", now.Format("02"), "%H", now.Format("15"), "%M", now.Format("04"),
				"%S", now.Format("05"), "%F", now.Format("2006-01-02"), "%T", now.Format("15:04:05"), "%z", "+0000", "%%", "%")
			p.outf("%s\n", r.Replace(f))
			return 0
		}
	}
	p.outf("%s\n", now.Format("Mon Jan _2 15:04:05 MST 2006"))
	return 0
}

// parseDuration reads sleep/timeout durations: "5", "0.5", "5s", "2m", "1h".
func parseDuration(s string) (time.Duration, bool) {
	unit := time.Second
	switch {
	case strings.HasSuffix(s, "s"):
		s = strings.TrimSuffix(s, "s")
	case strings.HasSuffix(s, "m"):
		s, unit = strings.TrimSuffix(s, "m"), time.Minute
	case strings.HasSuffix(s, "h"):
		s, unit = strings.TrimSuffix(s, "h"), time.Hour
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return time.Duration(v * float64(unit)), true
}

// progSleep sleeps for the scaled duration.
func progSleep(ctx context.Context, p *proc) int {
	if len(p.args) < 2 {
		p.errf("sleep: missing operand\n")
		return 1
	}
	var total time.Duration
	for _, a := range p.args[1:] {
		d, ok := parseDuration(a)
		if !ok {
			p.errf("sleep: invalid time interval '%s'\n", a)
			return 1
		}
		total += d
	}
	if !sleepCtx(ctx, p.h.f.cfg.scale(total)) {
		return 130
	}
	return 0
}

// progSudo runs the command as root without a password (-n never prompts,
// and nothing here would).
func progSudo(ctx context.Context, p *proc) int {
	args := p.args[1:]
	env := copyEnv(p.env)
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "--":
			args = args[1:]
			goto run
		case "-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U":
			if len(args) > 1 {
				args = args[1:]
			}
		}
		args = args[1:]
	}
run:
	for len(args) > 0 { // sudo passes VAR=value words on to the command
		k, v, ok := strings.Cut(args[0], "=")
		if !ok || !validName(k) {
			break
		}
		env[k] = v
		args = args[1:]
	}
	if len(args) == 0 {
		p.errf("usage: sudo -h | -K | -k | -V\n")
		return 1
	}
	if p.h.lookupProgram(args[0]) == nil && builtinFor(args[0]) == nil {
		p.errf("sudo: %s: command not found\n", args[0])
		return 1
	}
	env["USER"], env["HOME"], env["LOGNAME"] = "root", "/root", "root"
	return p.run(ctx, args, env)
}

// progSh runs `sh -c 'script' [name args…]`, or a script from stdin.
func progSh(ctx context.Context, p *proc) int {
	if p.sh.depth >= maxShellDepth {
		p.errf("sh: 1: too deeply nested\n")
		return 2
	}
	if isJobScript(p.args) {
		return progJob(ctx, p, p.args[4:])
	}
	child := p.sh.clone()
	child.depth++
	child.vars = copyEnv(p.env)
	args := p.args[1:]
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-c" {
		args = args[1:] // -e, -x, -s, -l: accepted and ignored
	}
	var src string
	switch {
	case len(args) > 0 && args[0] == "-c":
		if len(args) < 2 {
			p.errf("sh: 0: -c requires an argument\n")
			return 2
		}
		src = args[1]
		child.pos = []string{"sh"}
		if len(args) > 2 {
			child.pos = append([]string(nil), args[2:]...)
		}
	case len(args) > 0:
		p.h.mu.Lock()
		data, ok := p.h.readFileLocked(args[0])
		p.h.mu.Unlock()
		if !ok {
			p.errf("sh: 0: cannot open %s: No such file\n", args[0])
			return 2
		}
		src = data
		child.pos = append([]string(nil), args...)
	default:
		data, _ := io.ReadAll(io.LimitReader(p.io.in, 1<<20))
		src = string(data)
	}
	return child.runLine(ctx, src, p.io)
}

func progNohup(ctx context.Context, p *proc) int {
	if len(p.args) < 2 {
		p.errf("nohup: missing operand\n")
		return 125
	}
	return p.run(ctx, p.args[1:], p.env)
}

func progEnv(ctx context.Context, p *proc) int {
	env := copyEnv(p.env)
	args := p.args[1:]
	for len(args) > 0 {
		if args[0] == "-i" {
			env = map[string]string{}
		} else if k, v, ok := strings.Cut(args[0], "="); ok && validName(k) {
			env[k] = v
		} else {
			break
		}
		args = args[1:]
	}
	if len(args) == 0 {
		for _, k := range sortedKeys(env) {
			p.outf("%s=%s\n", k, env[k])
		}
		return 0
	}
	return p.run(ctx, args, env)
}

// progTimeout runs a command with a (scaled) deadline; 124 when it fires.
func progTimeout(ctx context.Context, p *proc) int {
	args := p.args[1:]
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if (args[0] == "-s" || args[0] == "-k") && len(args) > 1 {
			args = args[1:]
		}
		args = args[1:]
	}
	if len(args) < 2 {
		p.errf("timeout: missing operand\n")
		return 125
	}
	d, ok := parseDuration(args[0])
	if !ok {
		p.errf("timeout: invalid time interval '%s'\n", args[0])
		return 125
	}
	tctx, cancel := context.WithTimeout(ctx, p.h.f.cfg.scale(d))
	defer cancel()
	code := p.run(tctx, args[1:], p.env)
	if errors.Is(tctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		return 124
	}
	return code
}

func progMkdir(_ context.Context, p *proc) int {
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	for _, a := range p.args[1:] {
		if strings.HasPrefix(a, "-") {
			continue
		}
		p.h.dirs[cleanPath(a)] = true
	}
	return 0
}

func progRm(_ context.Context, p *proc) int {
	recursive, force := false, false
	code := 0
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	for _, a := range p.args[1:] {
		if strings.HasPrefix(a, "-") {
			recursive = recursive || strings.ContainsAny(a, "rR")
			force = force || strings.Contains(a, "f")
			continue
		}
		if !p.h.removeLocked(a, recursive) && !force {
			p.errf("rm: cannot remove '%s': No such file or directory\n", a)
			code = 1
		}
	}
	return code
}

func progTouch(_ context.Context, p *proc) int {
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	code := 0
	for _, a := range p.args[1:] {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if _, ok := p.h.readFileLocked(a); ok {
			continue
		}
		if err := p.h.writeFileLocked(a, "", false); err != nil {
			p.errf("touch: cannot touch '%s': No such file or directory\n", a)
			code = 1
		}
	}
	return code
}

func copyEnv(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
