package inventory

import (
	"fmt"
	"strings"
)

// Kerberos settings are resolved here so every problem is found at load,
// with a file:line, instead of at dial time from inside the Kerberos library.

const realmHint = "set winrm_kerberos_realm: EXAMPLE.COM (patchrun_winrm_kerberos_realm in an Ansible inventory), " +
	"or write the user as NAME@EXAMPLE.COM"

// kerberos fills h's Kerberos fields. Syntax is checked on every host (a
// typo in defaults is a typo wherever it lands); the realm, the files and
// the user's form only matter to Kerberos WinRM hosts, like ssh_key only
// to SSH hosts.
func (r *resolver) kerberos(v values, h *Host, w *WinRMSettings) {
	realm := r.realm(v)
	spn := r.spn(v)
	if h.Transport != TransportWinRM || w.Auth != "kerberos" {
		return
	}
	w.Krb5Conf = r.existingFile(v, keyKrb5Conf, "remove winrm_krb5_conf to use /etc/krb5.conf")
	w.KerberosCCache = r.ccache(v)
	w.KerberosSPN = spn
	_, _, realmSet := v.get(keyKerberosRealm)
	_, _, ccacheSet := v.get(keyKerberosCCache)
	var userHasRealm bool
	h.User, realm, userHasRealm = r.kerberosUser(v, h.User, realm)
	// A credential cache names its own principal; a password login needs
	// the realm to find the KDC. A realm written but bad is reported already.
	if !realmSet && !userHasRealm && !ccacheSet {
		r.probs.add(v.spec.line, v.spec.key+"."+keyKerberosRealm,
			fmt.Sprintf("host %q uses kerberos but no realm is set", h.Name), realmHint)
	}
	w.KerberosRealm = realm
	// The Kerberos client cannot seal messages, so over plain HTTP the
	// transport would refuse at dial; say so now, where winrm_auth was set.
	if !w.HTTPS && w.Encryption != "never" {
		st, _, _ := v.get(keyWinRMAuth)
		r.probs.add(st.line, st.key, "kerberos over plain HTTP cannot encrypt messages",
			"set winrm_https: true (better), or winrm_encryption: never to accept unencrypted traffic")
	}
}

// realm returns winrm_kerberos_realm upper-cased, or "" when unset or bad.
func (r *resolver) realm(v values) string {
	st, _, ok := v.get(keyKerberosRealm)
	if !ok {
		return ""
	}
	if msg := checkRealm(st.val); msg != "" {
		r.probs.add(st.line, st.key, msg, "write the realm alone, e.g. winrm_kerberos_realm: CORP.EXAMPLE.COM")
		return ""
	}
	return strings.ToUpper(st.val)
}

// checkRealm says what is wrong with a realm name, or "". AD realms are
// DNS domain names, so anything else is a slip (a user, an SPN, a space).
func checkRealm(realm string) string {
	if realm == "" {
		return "empty realm"
	}
	for _, c := range realm {
		ok := c == '.' || c == '-' || c == '_' ||
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !ok {
			return fmt.Sprintf("bad realm %q: only letters, digits, '.', '-' and '_' are allowed", realm)
		}
	}
	return ""
}

// kerberosUser splits user@REALM (how Ansible names a Kerberos user) into
// the login name and its realm. A realm in the user must agree with
// winrm_kerberos_realm when both are given.
// named reports whether the user carried a realm (even a bad one, already
// reported).
func (r *resolver) kerberosUser(v values, user, realm string) (login, userRealm string, named bool) {
	st, _, ok := v.get(keyUser)
	if !ok { // the current OS user: a bare name
		return user, realm, false
	}
	if strings.Contains(user, `\`) {
		r.probs.add(st.line, st.key, fmt.Sprintf("kerberos logs in as NAME@REALM, not DOMAIN\\NAME (%q)", user),
			"write the user as NAME@CORP.EXAMPLE.COM, or NAME with winrm_kerberos_realm")
		return user, realm, true // not worth a second error about the realm
	}
	i := strings.LastIndexByte(user, '@')
	if i < 0 {
		return user, realm, false
	}
	login, userRealm = user[:i], user[i+1:]
	if login == "" {
		r.probs.add(st.line, st.key, fmt.Sprintf("user %q has no name before @", user), "write the user as NAME@REALM")
		return user, realm, true
	}
	if msg := checkRealm(userRealm); msg != "" {
		r.probs.add(st.line, st.key, msg, "write the user as NAME@REALM")
		return login, realm, true
	}
	userRealm = strings.ToUpper(userRealm)
	if realmSt, _, set := v.get(keyKerberosRealm); set && realm != "" && realm != userRealm {
		r.probs.add(st.line, st.key,
			fmt.Sprintf("user names realm %s but %s (line %d) is %s", userRealm, keyKerberosRealm, realmSt.line, realm),
			"drop @"+userRealm+" from the user, or make the two agree")
		return login, realm, true
	}
	return login, userRealm, true
}

// ccache resolves winrm_kerberos_ccache. KRB5CCNAME-style values are
// accepted for file caches ("FILE:/tmp/krb5cc_1000"); the other cache types
// live in the kernel or a daemon, which the pure-Go client cannot read.
func (r *resolver) ccache(v values) string {
	st, _, ok := v.get(keyKerberosCCache)
	if !ok {
		return ""
	}
	if kind, rest, found := strings.Cut(st.val, ":"); found && len(kind) > 1 && isUpperWord(kind) {
		if kind != "FILE" {
			r.probs.add(st.line, st.key, fmt.Sprintf("credential cache type %s is not supported, only files", kind),
				"run kinit -c FILE:/path/to/cache and set winrm_kerberos_ccache to that path")
			return ""
		}
		st.val = rest
	}
	return r.fileAt(st, "run kinit -c PATH first, or remove the key to log in with the password")
}

// spn checks winrm_kerberos_spn: "service/host", no realm (that comes from
// krb5.conf's domain_realm), or "" when unset or bad.
func (r *resolver) spn(v values) string {
	st, _, ok := v.get(keyKerberosSPN)
	if !ok {
		return ""
	}
	service, host, found := strings.Cut(st.val, "/")
	switch {
	case !found || service == "" || host == "" || strings.ContainsAny(st.val, " \t"):
		r.probs.add(st.line, st.key, fmt.Sprintf("bad service principal %q", st.val), `write it as "HTTP/win1.corp.example.com"`)
		return ""
	case strings.Contains(st.val, "@"):
		r.probs.add(st.line, st.key, fmt.Sprintf("service principal %q names a realm", st.val),
			`write it as "HTTP/win1.corp.example.com"; the realm comes from krb5.conf's domain_realm`)
		return ""
	}
	return st.val
}

func isUpperWord(s string) bool {
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
