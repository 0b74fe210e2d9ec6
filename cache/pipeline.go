package cache

import (
	"context"
	"errors"

	"github.com/auditlens/auditlens/sources"
)

// pipeline stores records on its own goroutine while the reader goes on
// parsing, so that parsing and SQLite each keep a core busy.
type pipeline struct {
	w      *writer
	full   chan *batch   // batches to store
	free   chan *batch   // batches stored, to fill again
	failed chan struct{} // closed when the writer failed
	done   chan error    // the writer's result, once full is closed
	cur    *batch
	closed bool
}

// pipelineBatches is how many batches circulate: one being filled, some
// queued, one being stored.
const pipelineBatches = 4

var errWriterFailed = errors.New("the cache writer stopped")

func startPipeline(ctx context.Context, w *writer) *pipeline {
	p := &pipeline{
		w:      w,
		full:   make(chan *batch, pipelineBatches),
		free:   make(chan *batch, pipelineBatches),
		failed: make(chan struct{}),
		done:   make(chan error, 1),
	}
	for range pipelineBatches {
		p.free <- &batch{records: make([]record, 0, batchSize)}
	}
	p.cur = <-p.free
	go p.run(ctx)
	return p
}

func (p *pipeline) run(ctx context.Context) {
	var err error
	for b := range p.full {
		if err == nil {
			if err = p.w.writeBatch(ctx, b); err != nil {
				close(p.failed)
			}
		}
		b.reset()
		p.free <- b
	}
	p.done <- err
}

// add queues what the cache keeps of ev. An error means the writer failed;
// finish says why.
func (p *pipeline) add(ev *sources.Event, load *loadState) error {
	if err := p.cur.add(ev, load); err != nil {
		return err
	}
	if len(p.cur.records) < batchSize {
		return nil
	}
	select {
	case p.full <- p.cur:
	case <-p.failed:
		return errWriterFailed
	}
	select {
	case p.cur = <-p.free:
		return nil
	case <-p.failed:
		return errWriterFailed
	}
}

// finish stores what is queued and returns the writer's error.
func (p *pipeline) finish() error {
	if p.closed {
		return nil
	}
	if len(p.cur.records) > 0 {
		select {
		case p.full <- p.cur:
		case <-p.failed:
		}
	}
	p.closed = true
	close(p.full)
	return <-p.done
}

// stop ends the writer without storing what is still queued in the reader's
// batch; the transaction is being rolled back anyway.
func (p *pipeline) stop() {
	if !p.closed {
		p.closed = true
		close(p.full)
		<-p.done
	}
}
