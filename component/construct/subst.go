package construct

import (
	"errors"
	"fmt"
	"strings"
)

// substitute applies OCM's default "subst" templater (drone/envsubst, which
// OCM v1 runs over the whole file before parsing it) with vars:
//
//	${NAME}                    the value of NAME; an error when NAME has none
//	${NAME:-word} ${NAME:=word} the value, or word when NAME is unset or empty
//	${NAME=word}               the value, or word when NAME is unset
//	$$                         a literal $
//
// A '$' before anything else is kept. NAME is letters, digits, '_' and '-',
// as envsubst reads it. Differences from OCM, on purpose: an undefined
// variable is an error instead of an empty string, envsubst's string
// functions (${#NAME}, ${NAME/a/b}, …) are refused instead of applied, and
// backslashes are left alone (envsubst drops the first of "\\" and "\/").
// Substitution works on the text, so a ${NAME} in a YAML comment counts too.
func substitute(text string, vars map[string]string) (string, error) {
	if !strings.Contains(text, "$") {
		return text, nil
	}
	var b strings.Builder
	b.Grow(len(text))
	line := 1
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' {
			line++
		}
		if c != '$' || i+1 == len(text) {
			b.WriteByte(c)
			continue
		}
		switch text[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '{':
		default:
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(text[i+2:], '}')
		if end < 0 || strings.IndexByte(text[i+2:i+2+end], '\n') >= 0 {
			return "", &Error{Line: line, Err: invalid("unterminated ${ (write $$ for a literal $)")}
		}
		expr := text[i+2 : i+2+end]
		v, err := expand(expr, vars)
		if err != nil {
			return "", &Error{Line: line, Err: err}
		}
		b.WriteString(v)
		i += 2 + end
	}
	return b.String(), nil
}

func expand(expr string, vars map[string]string) (string, error) {
	n := 0
	for n < len(expr) && isNameByte(expr[n]) {
		n++
	}
	name, op := expr[:n], expr[n:]
	if name == "" {
		return "", invalid(fmt.Sprintf("bad substitution ${%s}", expr))
	}
	v, set := vars[name]
	switch {
	case op == "":
		if !set {
			return "", fmt.Errorf("%w %s (in ${%s}); pass it as a variable or use ${%s:-default}", ErrUndefinedVariable, name, expr, name)
		}
		return v, nil
	case strings.HasPrefix(op, ":-"), strings.HasPrefix(op, ":="):
		if !set || v == "" {
			return checkDefault(expr, op[2:])
		}
		return v, nil
	case strings.HasPrefix(op, "="):
		if !set {
			return checkDefault(expr, op[1:])
		}
		return v, nil
	}
	return "", invalid(fmt.Sprintf("unsupported substitution ${%s}: only ${NAME}, ${NAME:-default}, ${NAME:=default} and ${NAME=default}", expr))
}

func checkDefault(expr, word string) (string, error) {
	if strings.Contains(word, "${") || strings.Contains(word, "$$") {
		return "", invalid(fmt.Sprintf("unsupported substitution ${%s}: nested substitution in a default", expr))
	}
	return word, nil
}

func isNameByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// invalidError is a format error: errors.Is(err, ErrInvalid) holds, and
// the cause (e.g. ErrUnsupportedInput) stays reachable.
type invalidError struct{ err error }

func (e invalidError) Error() string        { return e.err.Error() }
func (e invalidError) Is(target error) bool { return target == ErrInvalid }
func (e invalidError) Unwrap() error        { return e.err }

func invalid(msg string) error { return invalidError{errors.New(msg)} }
