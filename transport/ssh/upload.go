package ssh

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/patchrun/patchrun/transport"
)

// Upload writes size bytes from src to the remote path dst by streaming them
// into `cat > dst` (no sftp subsystem needed, so it works wherever a shell
// does). It fails when src ends early, on a non-zero exit, and with the
// usual transport error kinds when the connection fails.
func (c *Client) Upload(ctx context.Context, dst string, src io.Reader, size int64) error {
	counted := &countingReader{r: io.LimitReader(src, size)}
	res, err := c.Run(ctx, transport.Command{
		Line:      "cat > " + shellQuote(dst),
		Stdin:     counted,
		MaxOutput: 4096,
	})
	if err != nil {
		return fmt.Errorf("upload %s: %w", dst, err)
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("upload %s to %s: remote exit %d: %s", dst, c.name, res.ExitCode, res.Stderr)
	}
	if n := counted.n.Load(); n != size {
		return fmt.Errorf("upload %s to %s: source ended after %d of %d bytes", dst, c.name, n, size)
	}
	return nil
}

// countingReader counts bytes read. The library reads it from its own
// goroutine, which may outlive Run on failure paths, hence the atomic.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n.Add(int64(n))
	return n, err
}
