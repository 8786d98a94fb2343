package inventory

import (
	"fmt"
	"sort"
	"strings"
)

// ansibleInlinePasswords are Ansible vars that carry a login password in
// clear text. patchrun refuses them rather than quietly using them.
var ansibleInlinePasswords = map[string]bool{
	"ansible_password": true, "ansible_ssh_pass": true, "ansible_ssh_password": true,
	"ansible_winrm_password": true, "ansible_pass": true,
}

// ansibleBecomePasswords are ignored (patchrun runs no become step) and
// never kept in Vars.
var ansibleBecomePasswords = map[string]bool{
	"ansible_become_pass": true, "ansible_become_password": true, "ansible_sudo_pass": true,
	"ansible_sudo_password": true,
}

// ansibleDirect maps Ansible vars whose value carries over unchanged.
var ansibleDirect = map[string]string{
	"ansible_host": keyAddress, "ansible_ssh_host": keyAddress,
	"ansible_port": keyPort, "ansible_ssh_port": keyPort,
	"ansible_user": keyUser, "ansible_ssh_user": keyUser,
	"ansible_ssh_private_key_file": keySSHKey, "ansible_private_key_file": keySSHKey,
	"ansible_winrm_ca_trust_path": keyWinRMCACert,
	"ansible_winrm_server_name":   keyWinRMServerName,
}

// ansibleChoices are Ansible vars with a closed set of values, each mapped
// onto a patchrun key's value. Read-only.
var ansibleChoices = map[string]struct {
	key, what, hint string
	values          map[string]string
}{
	"ansible_winrm_scheme": {keyWinRMHTTPS, "scheme", "use http or https",
		map[string]string{"https": "true", "http": "false"}},
	"ansible_winrm_server_cert_validation": {keyWinRMInsecure, "value", "use validate or ignore",
		map[string]string{"ignore": "true", "validate": "false"}},
	"ansible_winrm_message_encryption": {keyWinRMEncryption, "value", "use auto, always or never",
		map[string]string{"auto": "auto", "always": "auto", "never": "never"}},
}

const ansiblePasswordHint = "remove it and set patchrun_password_env=VAR or patchrun_password_file=PATH, or run with --ask-pass"

// translateVars maps a list of Ansible vars onto patchrun settings (one
// layer) and the extra vars kept for display. Vars named patchrun_<key> set
// patchrun keys directly, which is how an Ansible inventory says
// password_env or host_key_policy.
func translateVars(vars []rawVar, p, warns *problems) (layer, map[string]string) {
	l := layer{}
	extra := map[string]string{}
	set := func(v rawVar, key, val string) {
		l[key] = setting{val: val, line: v.line, key: v.key}
	}
	for _, v := range vars {
		if v.null {
			continue
		}
		switch name := v.name; {
		case ansibleDirect[name] != "":
			set(v, ansibleDirect[name], v.val)
		case ansibleInlinePasswords[name]:
			p.add(v.line, v.key, "inline passwords are refused", ansiblePasswordHint)
		case ansibleBecomePasswords[name]:
			warns.add(v.line, v.key, "ignored: patchrun does not use become, and the value is not kept", "")
		case name == "ansible_connection":
			if t, ok := ansibleConnection(v, p); ok {
				set(v, keyTransport, t)
			}
		case name == "ansible_winrm_transport":
			if a, ok := ansibleWinRMTransport(v, p); ok {
				set(v, keyWinRMAuth, a)
			}
		case ansibleChoices[name].key != "":
			c := ansibleChoices[name]
			if val, ok := c.values[strings.ToLower(v.val)]; ok {
				set(v, c.key, val)
			} else {
				p.add(v.line, v.key, fmt.Sprintf("bad %s %q", c.what, v.val), c.hint)
			}
		case name == "ansible_winrm_kerberos_hostname_override":
			// pywinrm builds the SPN from it: service (HTTP) / this name.
			set(v, keyKerberosSPN, "HTTP/"+v.val)
		case name == "ansible_ssh_common_args" || name == "ansible_ssh_extra_args":
			// Not passed to an ssh binary (there is none); only a jump host
			// is understood. Kept in Vars for display.
			if jump := proxyJumpFromArgs(v.val); jump != "" {
				set(v, keyProxyJump, jump)
			}
			setVar(extra, name, v.val)
		case strings.HasPrefix(name, ansiblePatchrunPrefix):
			key := strings.TrimPrefix(name, ansiblePatchrunPrefix)
			if !settingKeys[key] {
				p.add(v.line, v.key, "unknown patchrun key", didYouMean(name, prefixed(settingKeys)))
				continue
			}
			set(v, key, v.val)
		default:
			setVar(extra, name, v.val)
		}
	}
	return l, extra
}

func ansibleConnection(v rawVar, p *problems) (string, bool) {
	switch strings.ToLower(v.val) {
	case "ssh", "smart", "paramiko", "paramiko_ssh":
		return TransportSSH, true
	case "winrm":
		return TransportWinRM, true
	case "psrp":
		p.add(v.line, v.key, `connection "psrp" is not supported`, "use ansible_connection=winrm (same WinRM listener)")
	case "local":
		p.add(v.line, v.key, `connection "local" is not supported`,
			"patchrun reaches every host over ssh or winrm; give this host an address and use ssh")
	default:
		p.add(v.line, v.key, fmt.Sprintf("connection %q is not supported", v.val), "use ssh or winrm")
	}
	return "", false
}

// ansibleWinRMTransport maps ansible_winrm_transport. Ansible accepts a
// list and tries each; patchrun takes the first one it supports.
func ansibleWinRMTransport(v rawVar, p *problems) (string, bool) {
	var unsupported []string
	for _, t := range strings.Split(v.val, ",") {
		switch t = strings.ToLower(strings.TrimSpace(t)); t {
		case "ntlm", "basic", "kerberos":
			return t, true
		case "plaintext":
			return "basic", true
		default:
			unsupported = append(unsupported, t)
		}
	}
	p.add(v.line, v.key, fmt.Sprintf("winrm transport %q is not supported", strings.Join(unsupported, ",")),
		"use ntlm (encrypted even over http), kerberos, or basic over https")
	return "", false
}

// proxyJumpFromArgs finds "-J host" or "-o ProxyJump=host" in ssh arguments.
func proxyJumpFromArgs(args string) string {
	f := strings.Fields(strings.NewReplacer(`"`, " ", `'`, " ").Replace(args))
	for i, a := range f {
		switch {
		case a == "-J" && i+1 < len(f):
			return f[i+1]
		case strings.HasPrefix(a, "-J") && len(a) > 2:
			return a[2:]
		case a == "-o" && i+1 < len(f):
			if k, val, ok := strings.Cut(f[i+1], "="); ok && strings.EqualFold(k, "ProxyJump") {
				return val
			}
		case strings.HasPrefix(a, "-oProxyJump="):
			return strings.TrimPrefix(a, "-oProxyJump=")
		}
	}
	return ""
}

func prefixed(keys map[string]bool) []string {
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, ansiblePatchrunPrefix+k)
	}
	sort.Strings(out) // the same hint every run
	return out
}
