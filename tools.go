//go:build tools

package tools

import (
	_ "github.com/NimbleMarkets/ntcharts/canvas"
	_ "github.com/charmbracelet/bubbles/help"
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/charmbracelet/x/exp/teatest"
	_ "github.com/elastic/go-elasticsearch/v8"
	_ "github.com/elastic/go-libaudit/v2/auparse"
	_ "github.com/mattn/go-sqlite3"
)
