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
	w := h.WinRM
	if w == nil {
		w = &inventory.WinRMSettings{} // a Host built by hand: the client's defaults
	}
	cfg := winrm.Config{
		Address:        h.Address,
		Port:           h.Port,
		HTTPS:          w.HTTPS,
		Auth:           w.Auth,
		User:           h.User,
		Password:       h.Password.Reveal(),
		ServerName:     w.ServerName,
		Insecure:       w.Insecure,
		AllowBasicHTTP: w.AllowBasicHTTP,
		Encryption:     w.Encryption,
		ConnectTimeout: d.connectTimeout(h),
		Realm:          w.KerberosRealm,
		KrbConfig:      w.Krb5Conf,
		KrbCCache:      w.KerberosCCache,
		SPN:            w.KerberosSPN,
	}
	if w.CACert != "" {
		pem, err := fsread.ReadFile(w.CACert, fsread.LimitCABundle)
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
