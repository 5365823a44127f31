//! Bus frames of the distributed backend: the PyO3-free codec core (the
//! binding is `bus_binding.rs`). The layout and every error (kind and position) are specified by
//! the pure twin, `python/falcon_pachinko/_pure_bus.py`.
//!
//! Every node decodes every frame on the channel, so the decoder treats its
//! input as hostile: each length is checked against what is left before it
//! is used (no allocation sized by an untrusted length), no recursion, no
//! panic on any input.

pub const KINDS: [&str; 5] = ["all", "room", "user", "conn", "control"];
const MAGIC: &[u8; 2] = b"PB";
const VERSION: u8 = 1;
const BINARY: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusErrorKind {
    TooLarge,
    Magic,
    Version,
    TargetKind,
    Flags,
    Eof,
    Utf8,
    Trailing,
}

impl BusErrorKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::Magic => "magic",
            Self::Version => "version",
            Self::TargetKind => "target_kind",
            Self::Flags => "flags",
            Self::Eof => "eof",
            Self::Utf8 => "utf8",
            Self::Trailing => "trailing",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusError {
    pub kind: BusErrorKind,
    pub position: usize,
}

fn err<T>(kind: BusErrorKind, position: usize) -> Result<T, BusError> {
    Err(BusError { kind, position })
}

/// The payload of a decoded frame, borrowed from the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

/// A decoded frame; every field borrows from the input buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct BusFrame<'a> {
    pub kind: usize,
    pub target: &'a str,
    pub exclude: Vec<&'a str>,
    pub origin: &'a str,
    pub payload: Payload<'a>,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BusError> {
        let start = self.pos;
        match start.checked_add(n) {
            Some(end) => match self.buf.get(start..end) {
                Some(bytes) => {
                    self.pos = end;
                    Ok(bytes)
                }
                None => err(BusErrorKind::Eof, start),
            },
            None => err(BusErrorKind::Eof, start),
        }
    }

    fn uint(&mut self, n: usize) -> Result<usize, BusError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b)))
    }

    fn text(&mut self, n: usize) -> Result<&'a str, BusError> {
        let start = self.pos;
        let raw = self.take(n)?;
        std::str::from_utf8(raw).map_err(|_| BusError {
            kind: BusErrorKind::Utf8,
            position: start,
        })
    }
}

/// Decode one frame (see the pure twin for the layout).
pub fn decode(buf: &[u8], max_size: usize) -> Result<BusFrame<'_>, BusError> {
    if buf.len() > max_size {
        return err(BusErrorKind::TooLarge, max_size);
    }
    let mut r = Reader { buf, pos: 0 };
    if r.take(2)? != MAGIC {
        return err(BusErrorKind::Magic, 0);
    }
    if r.uint(1)? != usize::from(VERSION) {
        return err(BusErrorKind::Version, 2);
    }
    let kind = r.uint(1)?;
    if kind >= KINDS.len() {
        return err(BusErrorKind::TargetKind, 3);
    }
    let flags = r.uint(1)?;
    if flags & !usize::from(BINARY) != 0 {
        return err(BusErrorKind::Flags, 4);
    }
    let n = r.uint(1)?;
    let origin = r.text(n)?;
    let n = r.uint(2)?;
    let target = r.text(n)?;
    let count = r.uint(2)?;
    // PERF: capacity bounded by what the remaining bytes can hold (each id
    // takes at least its 2-byte length), never by the untrusted count alone.
    let mut exclude = Vec::with_capacity(count.min((buf.len() - r.pos) / 2));
    for _ in 0..count {
        let n = r.uint(2)?;
        exclude.push(r.text(n)?);
    }
    let size = r.uint(4)?;
    let payload = if flags & usize::from(BINARY) != 0 {
        Payload::Binary(r.take(size)?)
    } else {
        Payload::Text(r.text(size)?)
    };
    if r.pos != buf.len() {
        return err(BusErrorKind::Trailing, r.pos);
    }
    Ok(BusFrame {
        kind,
        target,
        exclude,
        origin,
        payload,
    })
}

/// Encode one frame; `TooLarge` (position 0) when a field overflows its
/// length prefix.
pub fn encode(
    kind: usize,
    target: &str,
    exclude: &[&str],
    origin: &str,
    payload: Payload<'_>,
) -> Result<Vec<u8>, BusError> {
    let (flags, body) = match payload {
        Payload::Text(s) => (0u8, s.as_bytes()),
        Payload::Binary(b) => (BINARY, b),
    };
    let too_large = BusError {
        kind: BusErrorKind::TooLarge,
        position: 0,
    };
    let kind = u8::try_from(kind)
        .ok()
        .filter(|&k| usize::from(k) < KINDS.len())
        .ok_or(BusError {
            kind: BusErrorKind::TargetKind,
            position: 0,
        })?;
    let origin_len = u8::try_from(origin.len()).map_err(|_| too_large)?;
    let target_len = u16::try_from(target.len()).map_err(|_| too_large)?;
    let count = u16::try_from(exclude.len()).map_err(|_| too_large)?;
    let body_len = u32::try_from(body.len()).map_err(|_| too_large)?;
    let mut size = 2 + 4 + origin.len() + 2 + target.len() + 2 + 4 + body.len();
    for id in exclude {
        if id.len() > usize::from(u16::MAX) {
            return Err(too_large);
        }
        size += 2 + id.len();
    }
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[VERSION, kind, flags, origin_len]);
    out.extend_from_slice(origin.as_bytes());
    out.extend_from_slice(&target_len.to_be_bytes());
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    for id in exclude {
        // Checked above: every id fits its u16 length.
        out.extend_from_slice(
            &u16::try_from(id.len())
                .map_err(|_| too_large)?
                .to_be_bytes(),
        );
        out.extend_from_slice(id.as_bytes());
    }
    out.extend_from_slice(&body_len.to_be_bytes());
    out.extend_from_slice(body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let buf = encode(1, "lobby", &["a", "b"], "n1", Payload::Text("{\"x\":1}")).unwrap();
        let f = decode(&buf, 1 << 20).unwrap();
        assert_eq!(f.kind, 1);
        assert_eq!(f.target, "lobby");
        assert_eq!(f.exclude, vec!["a", "b"]);
        assert_eq!(f.origin, "n1");
        assert_eq!(f.payload, Payload::Text("{\"x\":1}"));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let buf = encode(
            3,
            "c1",
            &["x"; 3],
            "node",
            Payload::Binary(&[0, 159, 146, 150]),
        )
        .unwrap();
        for cut in 0..buf.len() {
            let e = decode(&buf[..cut], 1 << 20).unwrap_err();
            assert_eq!(e.kind, BusErrorKind::Eof, "cut at {cut}");
        }
        let mut longer = buf.clone();
        longer.push(0);
        assert_eq!(
            decode(&longer, 1 << 20).unwrap_err().kind,
            BusErrorKind::Trailing
        );
    }

    #[test]
    fn hostile_counts_do_not_allocate_by_claim() {
        // 65535 claimed exclusions in a 12-byte frame: eof, no huge Vec.
        let buf = [b'P', b'B', 1, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 1];
        assert_eq!(decode(&buf, 1 << 20).unwrap_err().kind, BusErrorKind::Eof);
    }
}
