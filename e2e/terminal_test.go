package e2e

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// terminal interprets what a program writes to a terminal of a fixed width,
// as a VT100-style terminal does: printable characters at the cursor,
// automatic wrap after the last column, carriage return, line feed,
// backspace, and CSI K (erase in line). Anything else is recorded in
// unknown, so that a test sees escape codes it did not expect.
type terminal struct {
	cols    int
	rows    [][]rune
	r, c    int
	pending bool // the last column was written: the next character wraps

	wraps   int      // automatic wraps that happened
	frames  []string // the cursor line's text at each carriage return
	escapes int      // escape sequences seen
	unknown []string // control sequences this terminal does not know
}

func newTerminal(cols int) *terminal { return &terminal{cols: cols, rows: [][]rune{nil}} }

func (t *terminal) line() []rune {
	for len(t.rows) <= t.r {
		t.rows = append(t.rows, nil)
	}
	return t.rows[t.r]
}

func (t *terminal) put(ch rune) {
	if t.pending {
		t.pending = false
		t.wraps++
		t.r, t.c = t.r+1, 0
	}
	l := t.line()
	for len(l) <= t.c {
		l = append(l, ' ')
	}
	l[t.c] = ch
	t.rows[t.r] = l
	if t.c == t.cols-1 {
		t.pending = true
	} else {
		t.c++
	}
}

// Write feeds the terminal.
func (t *terminal) Write(p []byte) (int, error) {
	s := string(p)
	for i := 0; i < len(s); {
		ch, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch ch {
		case '\r':
			t.frames = append(t.frames, strings.TrimRight(string(t.line()), " "))
			t.c, t.pending = 0, false
		case '\n':
			t.r++
			t.pending = false
			t.line()
		case '\b':
			if t.c > 0 {
				t.c--
			}
			t.pending = false
		case 0x1b:
			t.escapes++
			j := i
			if j < len(s) && s[j] == '[' {
				j++
				for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';') {
					j++
				}
				if j < len(s) && s[j] == 'K' {
					param := s[i+1 : j]
					l := t.line()
					switch param {
					case "", "0":
						if t.c < len(l) {
							t.rows[t.r] = l[:t.c]
						}
					case "2":
						t.rows[t.r] = nil
					default:
						t.unknown = append(t.unknown, fmt.Sprintf("ESC[%sK", param))
					}
					i = j + 1
					continue
				}
			}
			end := min(j+1, len(s))
			t.unknown = append(t.unknown, fmt.Sprintf("%q", "\x1b"+s[i:end]))
			i = end
		default:
			if ch < 0x20 || ch == 0x7f {
				t.unknown = append(t.unknown, fmt.Sprintf("control %#x", ch))
				continue
			}
			t.put(ch)
		}
	}
	return len(p), nil
}

// screen returns the rows with text, trailing blanks trimmed.
func (t *terminal) screen() []string {
	var out []string
	for _, r := range t.rows {
		if s := strings.TrimRight(string(r), " "); s != "" {
			out = append(out, s)
		}
	}
	return out
}
