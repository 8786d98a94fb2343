package connect

import (
	"context"
	"fmt"

	"github.com/patchrun/patchrun/internal/fsread"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/transport"
	"github.com/patchrun/patchrun/transport/winrm"
)

// winrmConfig maps an inventory host to the WinRM client's config. The CA
// bundle is read here so a missing file is a clear per-host error.
func (d *Dialer) winrmConfig(h inventory.Host) (winrm.Config, error) {
	cfg := winrm.Config{
		Address:        h.Address,
		Port:           h.Port,
		HTTPS:          h.WinRMHTTPS,
		Auth:           h.WinRMAuth,
		User:           h.User,
		Password:       h.Password.Reveal(),
		ServerName:     h.WinRMServerName,
		Insecure:       h.WinRMInsecure,
		AllowBasicHTTP: h.WinRMAllowBasicHTTP,
		Encryption:     h.WinRMEncryption,
		ConnectTimeout: d.connectTimeout(h),
		Realm:          h.WinRMKerberosRealm,
		KrbConfig:      h.WinRMKrb5Conf,
		KrbCCache:      h.WinRMKerberosCCache,
		SPN:            h.WinRMKerberosSPN,
	}
	if h.WinRMCACert != "" {
		pem, err := fsread.ReadFile(h.WinRMCACert, fsread.LimitCABundle)
		if err != nil {
			return cfg, fmt.Errorf("host %s: winrm_ca_cert: %w", h.Name, err)
		}
		cfg.CACertPEM = pem
	}
	return cfg, nil
}

func (d *Dialer) dialWinRM(ctx context.Context, h inventory.Host) (transport.Transport, error) {
	cfg, err := d.winrmConfig(h)
	if err != nil {
		return nil, err
	}
	return winrm.Dial(ctx, cfg)
}
