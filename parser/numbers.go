package parser

// parseNumber reads one number as rsync prints it in its summary lines:
// plain ("1083366"), grouped ("1,085,454" or, in a German locale,
// "1.085.489"), with two decimals ("2178580.00", "2.183.312,00"), or with
// an -h suffix ("1.08M", "726.19K"; K, M, G, T, P are taken as powers of
// 1000, which is what -h prints; -hh's powers of 1024 are off by at most
// 12.6%). A separator followed by one or two digits at the end is the
// decimal point; any other '.' or ',' groups digits. It returns the value
// and whether the text was a number.
func parseNumber(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	mult := 1.0
	switch b[len(b)-1] {
	case 'K', 'k':
		mult = 1e3
	case 'M':
		mult = 1e6
	case 'G':
		mult = 1e9
	case 'T':
		mult = 1e12
	case 'P':
		mult = 1e15
	}
	if mult != 1 {
		b = b[:len(b)-1]
	}
	// The decimal separator, if any: the last '.' or ',' with only one or
	// two digits after it.
	dec := -1
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		if b[i] == '.' || b[i] == ',' {
			if i < len(b)-1 {
				dec = i
			}
			break
		}
	}
	var whole, frac uint64
	var fracDiv float64 = 1
	digits := 0
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
			if dec >= 0 && i > dec {
				frac = frac*10 + uint64(c-'0')
				fracDiv *= 10
			} else {
				if whole > (1<<63)/10 {
					return 0, false
				}
				whole = whole*10 + uint64(c-'0')
			}
		case (c == '.' || c == ',') && i != dec:
			// A group separator: must sit between digits.
			if i == 0 || i == len(b)-1 {
				return 0, false
			}
		case i == dec:
		default:
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	return (float64(whole) + float64(frac)/fracDiv) * mult, true
}

// toInt64 rounds a parsed byte count to an integer, saturating instead of
// overflowing.
func toInt64(f float64) int64 {
	if f >= 9.2e18 {
		return 1<<63 - 1
	}
	return int64(f + 0.5)
}
