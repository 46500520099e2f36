package mirror

// ParseFormats reads formats as users list them (see ParseFormat); none
// means every one (Formats).
func ParseFormats(ss []string) ([]Format, error) {
	if len(ss) == 0 {
		return Formats, nil
	}
	var out []Format
	for _, s := range ss {
		f, err := ParseFormat(s)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
