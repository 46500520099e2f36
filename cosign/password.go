package cosign

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// Password is the password of an encrypted cosign key, as cosign asks for
// it: $COSIGN_PASSWORD when set (even empty), else typed on the terminal
// after a prompt on stderr; without a terminal it is an error.
func Password() ([]byte, error) {
	if p, ok := os.LookupEnv("COSIGN_PASSWORD"); ok {
		return []byte(p), nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil, errors.New("the key is encrypted: set COSIGN_PASSWORD")
	}
	fmt.Fprint(os.Stderr, "Enter password for private key: ")
	p, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	return p, err
}
