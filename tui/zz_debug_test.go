package tui

import (
	"fmt"
	"os"
	"testing"
)

func TestZZDebugScreens(t *testing.T) {
	if os.Getenv("SHOW") == "" {
		t.Skip()
	}
	for _, sz := range [][2]int{{80, 24}, {120, 40}} {
		h := newHarness(t, sz[0], sz[1])
		h.press("tab", "enter")
		fmt.Println(h.view())
		h.press("enter")
		fmt.Println(h.view())
		h.press("/")
		h.typeText("nc")
		h.press("enter", "enter")
		fmt.Println(h.view())
		h2 := newHarness(t, sz[0], sz[1])
		h2.press("]", ":")
		h2.typeText("host web-02")
		h2.press("enter", "tab", "enter")
		fmt.Println(h2.view())
		h2.press("j", "enter")
		fmt.Println(h2.view())
	}
}
