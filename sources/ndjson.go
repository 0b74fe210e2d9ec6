package sources

import (
	"context"
	"errors"
)

func readNDJSON(ctx context.Context, in Input, opts Options, fn EventFunc) (Report, error) {
	return Report{}, errors.New("NDJSON reader: not written yet")
}
