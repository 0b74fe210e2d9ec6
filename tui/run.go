package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/auditlens/auditlens/views/model"
	tea "github.com/charmbracelet/bubbletea"
)

// shutdownWait is how long Run waits, after the console closes, for backend
// calls to notice the cancel and return.
const shutdownWait = 10 * time.Second

// Run shows the console on the terminal until the analyst quits or ctx is
// cancelled, then cancels every backend call in flight and waits for it to
// return. It draws on the alternate screen, so the shell's scrollback is left
// as it was.
func Run(ctx context.Context, backend model.Backend, opts Options) error {
	m, err := New(ctx, backend, opts)
	if err != nil {
		return err
	}
	progOpts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(ctx)}
	if opts.Input != nil {
		progOpts = append(progOpts, tea.WithInput(opts.Input))
	}
	progOpts = append(progOpts, tea.WithOutput(m.out))
	_, runErr := tea.NewProgram(m, progOpts...).Run()
	stopErr := m.Shutdown(shutdownWait)
	if runErr != nil {
		if errors.Is(runErr, tea.ErrProgramKilled) && ctx.Err() != nil {
			return fmt.Errorf("console: %w", ctx.Err())
		}
		return fmt.Errorf("console: %w", runErr)
	}
	return stopErr
}
