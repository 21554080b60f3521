//! A resumable decimal parser with Redis's `string2ll` rules, fed one byte at a time.
//!
//! Accepted: `0`, or an optional `-` followed by a digit 1-9 and more digits, fitting an i64.
//! Rejected: the empty string, `-`, `-0`, leading zeros, `+`, spaces, overflow. This is what
//! redis-server accepts for `*<count>` and `$<len>` (and for `numkeys` arguments), so the proxy
//! frames requests exactly as the datastore behind it does.

/// State of a number being read; `Default` is the empty number.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Num {
    /// Bytes seen (saturating).
    len: u32,
    neg: bool,
    /// The number is exactly `0`; any further byte makes it invalid.
    zero: bool,
    bad: bool,
    mag: u64,
}

impl Num {
    /// Appends one byte of the number's text.
    #[inline]
    pub(crate) fn push(&mut self, b: u8) {
        let first = self.len == 0;
        let after_sign = self.len == 1 && self.neg;
        self.len = self.len.saturating_add(1);
        if self.bad {
            return;
        }
        if self.zero {
            self.bad = true;
            return;
        }
        match b {
            b'-' if first => self.neg = true,
            b'0' if first => self.zero = true,
            b'0' if after_sign => self.bad = true,
            b'0'..=b'9' => {
                match self
                    .mag
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(u64::from(b - b'0')))
                {
                    Some(m) => self.mag = m,
                    None => self.bad = true,
                }
            }
            _ => self.bad = true,
        }
    }

    /// Appends a run of bytes.
    pub(crate) fn push_all(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push(b);
        }
    }

    /// Whether the text so far can no longer become a valid number.
    #[inline]
    pub(crate) fn is_bad(&self) -> bool {
        self.bad
    }

    /// The value, if the text is a complete valid number.
    pub(crate) fn value(&self) -> Option<i64> {
        if self.bad || self.len == 0 || (self.neg && self.len == 1) {
            return None;
        }
        if self.neg {
            0i64.checked_sub_unsigned(self.mag)
        } else {
            i64::try_from(self.mag).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Num;

    fn parse(s: &str) -> Option<i64> {
        let mut n = Num::default();
        n.push_all(s.as_bytes());
        n.value()
    }

    #[test]
    fn string2ll_rules() {
        assert_eq!(parse("0"), Some(0));
        assert_eq!(parse("7"), Some(7));
        assert_eq!(parse("-1"), Some(-1));
        assert_eq!(parse("1024"), Some(1024));
        assert_eq!(parse("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse("-9223372036854775808"), Some(i64::MIN));
        for bad in [
            "",
            "-",
            "-0",
            "00",
            "01",
            "+1",
            " 1",
            "1 ",
            "1a",
            "9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999999",
            "1-",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
