package engine

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

func TestHunt(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		n := rng.IntN(400)
		if i%10 == 0 {
			n = rng.IntN(20000)
		}
		data := make([]byte, n)
		alphabet := []byte{0, 1, 5, 7, 8, 9, 0xff, 0xfe, 0xfb, 0x80, '0', 'a'}
		for j := range data {
			if i%3 == 0 {
				data[j] = alphabet[rng.IntN(len(alphabet))]
			} else {
				data[j] = byte(rng.IntN(256))
			}
		}
		start := time.Now()
		done := make(chan bool)
		go func() {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				fmt.Printf("HANG %q\n", data)
				os.Exit(3)
			}
		}()
		fuzzBody(t, data)
		close(done)
		if d := time.Since(start); d > 200*time.Millisecond {
			fmt.Printf("slow %v len %d\n", d, n)
		}
	}
}
