package engine

import "strings"

// interner turns strings into dense ids at the boundary, so the models work
// on slices indexed by int32 instead of maps keyed by strings.
type interner struct {
	ids   map[string]int32
	names []string
	// last remembers the previous look-up: counts arrive grouped by entity.
	last   string
	lastID int32
}

func newInterner() *interner {
	return &interner{ids: make(map[string]int32), lastID: -1}
}

// id returns the id of s, creating it when new.
func (in *interner) id(s string) int32 {
	if in.lastID >= 0 && s == in.last {
		return in.lastID
	}
	id, ok := in.ids[s]
	if !ok {
		s = strings.Clone(s) // never pin the caller's buffer
		id = int32(len(in.names))
		in.ids[s] = id
		in.names = append(in.names, s)
	}
	in.last, in.lastID = in.names[id], id
	return id
}

func (in *interner) name(id int32) string { return in.names[id] }

func (in *interner) len() int { return len(in.names) }

// idTable maps global ids to a partition's local indices with open
// addressing: smaller and faster than a Go map for small int keys.
type idTable struct {
	keys []int32 // key+1; 0 marks an empty slot
	vals []int32
	n    int
}

func (t *idTable) get(k int32) (int32, bool) {
	if len(t.keys) == 0 {
		return 0, false
	}
	mask := uint32(len(t.keys) - 1)
	for i := hashID(k) & mask; ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k + 1:
			return t.vals[i], true
		case 0:
			return 0, false
		}
	}
}

func (t *idTable) put(k, v int32) {
	if 2*(t.n+1) > len(t.keys) {
		t.grow()
	}
	mask := uint32(len(t.keys) - 1)
	for i := hashID(k) & mask; ; i = (i + 1) & mask {
		if t.keys[i] == 0 {
			t.keys[i], t.vals[i] = k+1, v
			t.n++
			return
		}
		if t.keys[i] == k+1 {
			t.vals[i] = v
			return
		}
	}
}

func (t *idTable) grow() {
	size := 2 * len(t.keys)
	if size < 16 {
		size = 16
	}
	keys, vals := t.keys, t.vals
	t.keys, t.vals, t.n = make([]int32, size), make([]int32, size), 0
	for i, k := range keys {
		if k != 0 {
			t.put(k-1, vals[i])
		}
	}
}

func hashID(k int32) uint32 { return uint32(k) * 0x9E3779B1 >> 7 }

// strTable maps names to local indices by a 64-bit hash, checking the name
// on a hit; open addressing over parallel slices.
type strTable struct {
	hashes []uint64 // 0 marks an empty slot
	names  []string
	vals   []int32
	n      int
}

func (t *strTable) get(h uint64, s string) (int32, bool) {
	if len(t.hashes) == 0 {
		return 0, false
	}
	h |= 1
	mask := uint64(len(t.hashes) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch t.hashes[i] {
		case 0:
			return 0, false
		case h:
			if t.names[i] == s {
				return t.vals[i], true
			}
		}
	}
}

func (t *strTable) put(h uint64, s string, v int32) {
	if 2*(t.n+1) > len(t.hashes) {
		t.grow()
	}
	h |= 1
	mask := uint64(len(t.hashes) - 1)
	i := h & mask
	for t.hashes[i] != 0 {
		if t.hashes[i] == h && t.names[i] == s {
			t.vals[i] = v
			return
		}
		i = (i + 1) & mask
	}
	t.hashes[i], t.names[i], t.vals[i] = h, s, v
	t.n++
}

func (t *strTable) grow() {
	size := max(16, 2*len(t.hashes))
	hashes, names, vals := t.hashes, t.names, t.vals
	t.hashes, t.names, t.vals, t.n = make([]uint64, size), make([]string, size), make([]int32, size), 0
	for i, h := range hashes {
		if h != 0 {
			t.put(h, names[i], vals[i])
		}
	}
}
