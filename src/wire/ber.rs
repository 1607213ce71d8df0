//! The BER/DER rules SNMP, Kerberos and LDAP need: a writer for our requests and a reader for
//! hostile replies. The reader never allocates and never trusts a length beyond the bytes
//! actually present. Hand-written: the ASN.1 crates (rasn, der-parser) decode whole typed
//! structures into owned values; the probes read a handful of fields out of replies nobody
//! vouches for, and each extra crate family costs a fleet tool build time (see kerberos.rs).

/// Universal tags.
pub const BOOLEAN: u8 = 0x01;
pub const ENUMERATED: u8 = 0x0a;
pub const OID: u8 = 0x06;
pub const SET: u8 = 0x31;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const SEQUENCE: u8 = 0x30;
pub const GENERALIZED_TIME: u8 = 0x18;
pub const GENERAL_STRING: u8 = 0x1b;

/// A context-specific constructed tag `[n]`.
pub const fn context(n: u8) -> u8 {
    0xa0 | n
}

/// An application constructed tag `[APPLICATION n]` (n < 31).
pub const fn application(n: u8) -> u8 {
    0x60 | n
}

/// Tag, definite length, content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(bytes.get(skip..).unwrap_or_default());
}

/// A non-negative INTEGER in the fewest bytes, with a leading zero when the top bit is set.
pub fn uint(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    let mut content = Vec::with_capacity(9);
    let significant = bytes.get(skip..).unwrap_or_default();
    if significant.first().is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(significant);
    tlv(INTEGER, &content)
}

/// Concatenates already-encoded elements.
pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Why bytes are not the BER we expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BerError {
    #[error("truncated: {need} bytes announced, {have} present")]
    Truncated { need: usize, have: usize },
    #[error("indefinite lengths are not accepted")]
    Indefinite,
    #[error("multi-byte tags are not accepted")]
    LongTag,
    #[error("a length field of {0} bytes is too long")]
    LengthTooLong(usize),
    #[error("expected tag 0x{expected:02x}, found 0x{found:02x}")]
    UnexpectedTag { expected: u8, found: u8 },
    #[error("an integer of {0} bytes does not fit")]
    IntegerTooLarge(usize),
    #[error("empty integer")]
    EmptyInteger,
    #[error("unexpected end of data")]
    End,
}

/// One tag-length-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    /// The whole encoding, tag and length included (certificates compare raw names).
    pub raw: &'a [u8],
}

/// Reads TLVs one after the other from a slice.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The tag of the next TLV, without consuming it.
    pub fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    pub fn read(&mut self) -> Result<Tlv<'a>, BerError> {
        let (header, len) = header(self.data)?;
        let total = header.checked_add(len).ok_or(BerError::LengthTooLong(8))?;
        if self.data.len() < total {
            return Err(BerError::Truncated {
                need: total,
                have: self.data.len(),
            });
        }
        let (raw, rest) = self.data.split_at(total);
        self.data = rest;
        Ok(Tlv {
            tag: raw.first().copied().ok_or(BerError::End)?,
            content: raw.get(header..).ok_or(BerError::End)?,
            raw,
        })
    }

    /// Reads a TLV that must carry `tag`, returning its content.
    pub fn expect(&mut self, tag: u8) -> Result<&'a [u8], BerError> {
        let tlv = self.read()?;
        if tlv.tag != tag {
            return Err(BerError::UnexpectedTag {
                expected: tag,
                found: tlv.tag,
            });
        }
        Ok(tlv.content)
    }

    /// Reads the next TLV only when it carries `tag`.
    pub fn optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>, BerError> {
        if self.peek_tag() == Some(tag) {
            self.expect(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads a nested reader over the content of a TLV with `tag`.
    pub fn enter(&mut self, tag: u8) -> Result<Reader<'a>, BerError> {
        self.expect(tag).map(Reader::new)
    }
}

/// Header size and content length of the TLV at the start of `data`.
fn header(data: &[u8]) -> Result<(usize, usize), BerError> {
    let tag = *data.first().ok_or(BerError::End)?;
    if tag & 0x1f == 0x1f {
        return Err(BerError::LongTag);
    }
    let first = *data.get(1).ok_or(BerError::Truncated {
        need: 2,
        have: data.len(),
    })?;
    if first < 0x80 {
        return Ok((2, usize::from(first)));
    }
    let count = usize::from(first & 0x7f);
    if count == 0 {
        return Err(BerError::Indefinite);
    }
    if count > 4 {
        return Err(BerError::LengthTooLong(count));
    }
    let bytes = data.get(2..2 + count).ok_or(BerError::Truncated {
        need: 2 + count,
        have: data.len(),
    })?;
    let len = bytes
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    Ok((2 + count, len))
}

/// The full size of the TLV at the start of `data` once its header has arrived, for framing
/// a stream; `None` while the header is incomplete.
pub fn frame_len(data: &[u8]) -> Result<Option<usize>, BerError> {
    match header(data) {
        Ok((header, len)) => Ok(Some(header + len)),
        Err(BerError::End | BerError::Truncated { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}

/// A signed INTEGER of at most 8 bytes.
pub fn int(content: &[u8]) -> Result<i64, BerError> {
    if content.is_empty() {
        return Err(BerError::EmptyInteger);
    }
    if content.len() > 8 {
        return Err(BerError::IntegerTooLarge(content.len()));
    }
    let negative = content.first().is_some_and(|b| b & 0x80 != 0);
    let start: i64 = if negative { -1 } else { 0 };
    Ok(content
        .iter()
        .fold(start, |acc, &b| (acc << 8) | i64::from(b)))
}

/// An OBJECT IDENTIFIER in dotted form; at most 64 arcs, each within u64.
pub fn oid_text(content: &[u8]) -> Result<String, BerError> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    let mut bytes = 0;
    for &b in content {
        bytes += 1;
        if bytes > 9 || arcs.len() >= 64 {
            return Err(BerError::IntegerTooLarge(bytes));
        }
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
            bytes = 0;
        }
    }
    if bytes != 0 || arcs.is_empty() {
        return Err(BerError::End);
    }
    Ok(arcs
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_walks_nested_tlvs() {
        let data = tlv(SEQUENCE, &cat(&[&uint(5), &tlv(OCTET_STRING, b"hi")]));
        let mut outer = Reader::new(&data);
        let mut inner = outer.enter(SEQUENCE).unwrap();
        assert!(outer.is_empty());
        assert_eq!(int(inner.expect(INTEGER).unwrap()), Ok(5));
        assert_eq!(inner.optional(INTEGER), Ok(None));
        assert_eq!(inner.optional(OCTET_STRING), Ok(Some(&b"hi"[..])));
        assert_eq!(inner.read(), Err(BerError::End));
    }

    #[test]
    fn hostile_lengths_are_refused_without_allocating() {
        let rows: &[(&[u8], BerError)] = &[
            (
                &[0x30, 0x05, 1, 2],
                BerError::Truncated { need: 7, have: 4 },
            ),
            (&[0x30, 0x80, 0, 0], BerError::Indefinite),
            (&[0x30, 0x85, 1, 1, 1, 1, 1], BerError::LengthTooLong(5)),
            (
                &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
                BerError::Truncated {
                    need: 4_294_967_301,
                    have: 6,
                },
            ),
            (&[0x1f, 0x01, 0], BerError::LongTag),
            (&[0x30], BerError::Truncated { need: 2, have: 1 }),
        ];
        for (bytes, want) in rows {
            assert_eq!(Reader::new(bytes).read(), Err(*want), "{bytes:02x?}");
        }
    }

    #[test]
    fn integers_and_oids_decode() {
        assert_eq!(int(&[0xff]), Ok(-1));
        assert_eq!(int(&[0x00, 0x80]), Ok(128));
        assert_eq!(int(&[1; 9]), Err(BerError::IntegerTooLarge(9)));
        assert_eq!(int(&[]), Err(BerError::EmptyInteger));
        // 1.3.6.1.6.3.15.1.1.4.0: usmStatsUnknownEngineIDs.0
        let oid = [0x2b, 6, 1, 6, 3, 15, 1, 1, 4, 0];
        assert_eq!(oid_text(&oid).unwrap(), "1.3.6.1.6.3.15.1.1.4.0");
        assert_eq!(oid_text(&[0x2b, 0x86]), Err(BerError::End));
        assert!(oid_text(&[0xff; 20]).is_err());
    }

    #[test]
    fn frame_len_waits_for_the_header() {
        assert_eq!(frame_len(&[]), Ok(None));
        assert_eq!(frame_len(&[0x30]), Ok(None));
        assert_eq!(frame_len(&[0x30, 0x82, 0x01]), Ok(None));
        assert_eq!(frame_len(&[0x30, 0x82, 0x01, 0x00]), Ok(Some(260)));
        assert_eq!(frame_len(&[0x30, 0x80]), Err(BerError::Indefinite));
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        let rows: &[(u64, &[u8])] = &[
            (0, &[2, 1, 0]),
            (5, &[2, 1, 5]),
            (127, &[2, 1, 0x7f]),
            (128, &[2, 2, 0, 0x80]),
            (65507, &[2, 3, 0, 0xff, 0xe3]),
            (0xdead_beef, &[2, 5, 0, 0xde, 0xad, 0xbe, 0xef]),
        ];
        for (value, want) in rows {
            assert_eq!(uint(*value), *want, "{value}");
        }
    }

    #[test]
    fn long_lengths_use_the_long_form() {
        assert_eq!(&tlv(OCTET_STRING, &[0; 127])[..2], &[4, 127]);
        assert_eq!(&tlv(OCTET_STRING, &[0; 128])[..3], &[4, 0x81, 128]);
        assert_eq!(&tlv(OCTET_STRING, &[0; 300])[..4], &[4, 0x82, 1, 44]);
    }
}
