package inventory

import (
	"fmt"
	"sort"
)

// Keys a patchrun host entry (or defaults) may carry. "name" and "vars" are
// handled by the YAML reader; the rest are resolved by resolveHost.
const (
	keyName               = "name"
	keyAddress            = "address"
	keyPort               = "port"
	keyTransport          = "transport"
	keyUser               = "user"
	keySSHKey             = "ssh_key"
	keyKnownHosts         = "known_hosts"
	keyHostKeyPolicy      = "host_key_policy"
	keyProxyJump          = "proxy_jump"
	keyPasswordEnv        = "password_env"
	keyPasswordFile       = "password_file"
	keyConnectTimeout     = "connect_timeout"
	keyRebootTimeout      = "reboot_timeout"
	keyRebootDelay        = "reboot_delay"
	keyReadyCommand       = "ready_command"
	keyPreCmd             = "pre_cmd"
	keyHealthCmd          = "health_cmd"
	keyPostCmd            = "post_cmd"
	keyMAC                = "mac"
	keyWOLBroadcast       = "wol_broadcast"
	keyWOLPort            = "wol_port"
	keyWinRMHTTPS         = "winrm_https"
	keyWinRMAuth          = "winrm_auth"
	keyWinRMCACert        = "winrm_ca_cert"
	keyWinRMServerName    = "winrm_server_name"
	keyWinRMInsecure      = "winrm_insecure_skip_verify"
	keyWinRMAllowBasic    = "winrm_allow_basic_http"
	keyWinRMEncryption    = "winrm_encryption"
	keyKerberosRealm      = "winrm_kerberos_realm"
	keyKrb5Conf           = "winrm_krb5_conf"
	keyKerberosCCache     = "winrm_kerberos_ccache"
	keyKerberosSPN        = "winrm_kerberos_spn"
	keyVars               = "vars"
	keyInlinePassword     = "password"
	ansiblePatchrunPrefix = "patchrun_"
)

// settingKeys are the keys resolveHost understands (everything but name/vars).
var settingKeys = map[string]bool{
	keyAddress: true, keyPort: true, keyTransport: true, keyUser: true,
	keySSHKey: true, keyKnownHosts: true, keyHostKeyPolicy: true, keyProxyJump: true,
	keyPasswordEnv: true, keyPasswordFile: true,
	keyConnectTimeout: true, keyRebootTimeout: true, keyRebootDelay: true, keyReadyCommand: true,
	keyPreCmd: true, keyHealthCmd: true, keyPostCmd: true,
	keyMAC: true, keyWOLBroadcast: true, keyWOLPort: true,
	keyWinRMHTTPS: true, keyWinRMAuth: true, keyWinRMCACert: true, keyWinRMServerName: true,
	keyWinRMInsecure: true, keyWinRMAllowBasic: true, keyWinRMEncryption: true,
	keyKerberosRealm: true, keyKrb5Conf: true, keyKerberosCCache: true, keyKerberosSPN: true,
}

// lookalikes maps names people reach for (from ssh_config, Ansible, habit)
// to the key they meant, so the did-you-mean hint lands on the right one.
var lookalikes = map[string]string{
	"password": keyPasswordEnv, "passwd": keyPasswordEnv, "pass": keyPasswordEnv,
	"host": keyAddress, "hostname": keyAddress, "ip": keyAddress, "addr": keyAddress,
	"username": keyUser, "login": keyUser,
	"key": keySSHKey, "identity_file": keySSHKey, "identityfile": keySSHKey, "private_key": keySSHKey,
	"jump": keyProxyJump, "proxyjump": keyProxyJump, "bastion": keyProxyJump,
	"timeout": keyConnectTimeout, "group": "groups",
	"realm": keyKerberosRealm, "krb5_conf": keyKrb5Conf, "krb5.conf": keyKrb5Conf, "ccache": keyKerberosCCache,
	"health_check": keyHealthCmd, "healthcheck": keyHealthCmd, "health": keyHealthCmd,
	"pre_hook": keyPreCmd, "post_hook": keyPostCmd,
	"spn": keyKerberosSPN, "mac_address": keyMAC, "macaddress": keyMAC, "hwaddr": keyMAC, "ether": keyMAC,
	"wol_mac": keyMAC, "wake_mac": keyMAC, "broadcast": keyWOLBroadcast, "wol_address": keyWOLBroadcast, "winrm_realm": keyKerberosRealm, "winrm_spn": keyKerberosSPN,
}

// hostKeys lists what a host entry may carry, for unknown-key hints.
func hostKeys() []string {
	keys := []string{keyName, keyVars}
	for k := range settingKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// didYouMean returns a hint naming the closest of candidates (or of the
// lookalikes that point at one of them), or "" when nothing is close.
func didYouMean(got string, candidates []string) string {
	allowed := map[string]bool{}
	for _, c := range candidates {
		allowed[c] = true
	}
	best, bestDist := "", -1
	consider := func(word, target string) {
		if !allowed[target] {
			return
		}
		d := editDistance(got, word)
		if bestDist < 0 || d < bestDist {
			best, bestDist = target, d
		}
	}
	for _, c := range candidates {
		consider(c, c)
	}
	words := make([]string, 0, len(lookalikes))
	for w := range lookalikes {
		words = append(words, w)
	}
	sort.Strings(words) // ties resolve the same way every run
	for _, w := range words {
		consider(w, lookalikes[w])
	}
	limit := max(2, len(got)/3)
	if best == "" || bestDist > limit {
		return ""
	}
	return fmt.Sprintf("did you mean %q?", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
