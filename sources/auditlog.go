package sources

import (
	"context"
	"errors"
)

func readAuditLog(ctx context.Context, in Input, opts Options, fn EventFunc) (Report, error) {
	return Report{}, errors.New("audit log reader: not written yet")
}
