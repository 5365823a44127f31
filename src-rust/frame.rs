//! JSON frame scan: find the top-level discriminator and the raw payload span.
//!
//! PyO3-free so `cargo test` (and fuzzers) run without Python. The pure-Python
//! twin in `python/falcon_pachinko/_pure.py` is the specification; every error
//! kind and position here must match it byte for byte.
//!
//! The scanner validates the whole frame (strict RFC 8259 JSON) without
//! building values. Nesting is tracked on an explicit, bounded stack: no
//! recursion that input can drive.

use std::borrow::Cow;

/// Size and nesting limits applied to one frame.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted frame, in bytes of UTF-8.
    pub max_size: usize,
    /// Deepest accepted nesting; the top-level object is depth 1.
    pub max_depth: usize,
}

/// Why a frame was refused. `as_str` gives the `kind` Python sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    TooLarge,
    Utf8,
    Eof,
    Syntax,
    Depth,
    NotObject,
    Trailing,
    MissingTag,
    TagType,
    Escape,
}

impl ErrorKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Utf8 => "utf8",
            ErrorKind::Eof => "eof",
            ErrorKind::Syntax => "syntax",
            ErrorKind::Depth => "depth",
            ErrorKind::NotObject => "not_object",
            ErrorKind::Trailing => "trailing",
            ErrorKind::MissingTag => "missing_tag",
            ErrorKind::TagType => "tag_type",
            ErrorKind::Escape => "escape",
        }
    }
}

/// A refused frame: the kind and the byte offset where it was detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanError {
    pub kind: ErrorKind,
    pub position: usize,
}

/// A frame that passed: its tag and, when present and not `null`, the raw
/// bytes of the top-level `"payload"` value.
#[derive(Debug, PartialEq, Eq)]
pub struct Scanned<'a> {
    pub tag: Cow<'a, str>,
    pub payload: Option<&'a [u8]>,
}

const PAYLOAD_KEY: &[u8] = b"payload";

fn fail<T>(kind: ErrorKind, position: usize) -> Result<T, ScanError> {
    Err(ScanError { kind, position })
}

/// Scan a frame given as bytes (validated as UTF-8 first).
pub fn scan_bytes<'a>(buf: &'a [u8], key: &str, limits: Limits) -> Result<Scanned<'a>, ScanError> {
    if buf.len() > limits.max_size {
        return fail(ErrorKind::TooLarge, limits.max_size);
    }
    if let Err(err) = std::str::from_utf8(buf) {
        return fail(ErrorKind::Utf8, err.valid_up_to());
    }
    Scanner {
        buf,
        pos: 0,
        max_depth: limits.max_depth,
    }
    .frame(key.as_bytes())
}

/// Scan a frame already known to be valid UTF-8 (a Python `str`).
pub fn scan_str<'a>(text: &'a str, key: &str, limits: Limits) -> Result<Scanned<'a>, ScanError> {
    let buf = text.as_bytes();
    if buf.len() > limits.max_size {
        return fail(ErrorKind::TooLarge, limits.max_size);
    }
    Scanner {
        buf,
        pos: 0,
        max_depth: limits.max_depth,
    }
    .frame(key.as_bytes())
}

/// Expected closing bytes of the open containers: inline up to 32 levels
/// (no allocation for ordinary frames), spilling to the heap beyond.
#[derive(Default)]
struct Stack {
    inline: [u8; 32],
    len: usize,
    spill: Vec<u8>,
}

impl Stack {
    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, close: u8) {
        if let Some(slot) = self.inline.get_mut(self.len) {
            *slot = close;
        } else {
            self.spill.push(close);
        }
        self.len += 1;
    }

    fn pop(&mut self) {
        if self.len > self.inline.len() {
            self.spill.pop();
        }
        self.len = self.len.saturating_sub(1);
    }

    fn last(&self) -> Option<u8> {
        let top = self.len.checked_sub(1)?;
        match self.inline.get(top) {
            Some(&close) => Some(close),
            None => self.spill.last().copied(),
        }
    }
}

struct Scanner<'a> {
    buf: &'a [u8],
    pos: usize,
    max_depth: usize,
}

impl<'a> Scanner<'a> {
    fn skip_ws(&mut self) {
        while let Some(&c) = self.buf.get(self.pos) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn peek(&self) -> Result<u8, ScanError> {
        match self.buf.get(self.pos) {
            Some(&c) => Ok(c),
            None => fail(ErrorKind::Eof, self.buf.len()),
        }
    }

    fn expect(&mut self, want: u8) -> Result<(), ScanError> {
        if self.peek()? == want {
            self.pos += 1;
            Ok(())
        } else {
            fail(ErrorKind::Syntax, self.pos)
        }
    }

    fn frame(mut self, key: &[u8]) -> Result<Scanned<'a>, ScanError> {
        self.skip_ws();
        let start = self.pos;
        if self.peek()? != b'{' {
            return fail(ErrorKind::NotObject, start);
        }
        if self.max_depth < 1 {
            return fail(ErrorKind::Depth, start);
        }
        self.pos += 1;
        let mut tag: Option<(usize, usize)> = None;
        let mut payload: Option<(usize, usize)> = None;
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                if self.peek()? != b'"' {
                    return fail(ErrorKind::Syntax, self.pos);
                }
                let key_start = self.pos;
                let has_escape = self.string()?;
                let Some(raw_key) = self.buf.get(key_start + 1..self.pos.saturating_sub(1)) else {
                    return fail(ErrorKind::Syntax, key_start);
                };
                let name: Cow<'a, [u8]> = if has_escape {
                    match decode_escaped(raw_key) {
                        Some(s) => Cow::Owned(s.into_bytes()),
                        None => return fail(ErrorKind::Escape, key_start),
                    }
                } else {
                    Cow::Borrowed(raw_key)
                };
                self.skip_ws();
                self.expect(b':')?;
                self.skip_ws();
                let value_start = self.pos;
                self.value(1)?;
                let span = (value_start, self.pos);
                if *name == *key {
                    tag = Some(span);
                } else if *name == *PAYLOAD_KEY {
                    payload = Some(span);
                }
                self.skip_ws();
                match self.peek()? {
                    b',' => self.pos += 1,
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return fail(ErrorKind::Syntax, self.pos),
                }
            }
        }
        self.skip_ws();
        if self.pos < self.buf.len() {
            return fail(ErrorKind::Trailing, self.pos);
        }
        let Some((tag_start, tag_end)) = tag else {
            return fail(ErrorKind::MissingTag, start);
        };
        if self.buf.get(tag_start) != Some(&b'"') {
            return fail(ErrorKind::TagType, tag_start);
        }
        let Some(raw_tag) = self.buf.get(tag_start + 1..tag_end.saturating_sub(1)) else {
            return fail(ErrorKind::TagType, tag_start);
        };
        let tag = if raw_tag.contains(&b'\\') {
            match decode_escaped(raw_tag) {
                Some(s) => Cow::Owned(s),
                None => return fail(ErrorKind::Escape, tag_start),
            }
        } else {
            match std::str::from_utf8(raw_tag) {
                Ok(s) => Cow::Borrowed(s),
                // Unreachable for validated input; reported, never panicked on.
                Err(err) => return fail(ErrorKind::Utf8, tag_start + 1 + err.valid_up_to()),
            }
        };
        let payload = payload
            .and_then(|(s, e)| self.buf.get(s..e))
            .filter(|raw| *raw != b"null");
        Ok(Scanned { tag, payload })
    }

    /// Validate one value inside a container at `depth`, without recursion.
    fn value(&mut self, depth: usize) -> Result<(), ScanError> {
        // Each entry is the closing byte the open container expects.
        let mut stack = Stack::default();
        'value: loop {
            self.skip_ws();
            match self.peek()? {
                open @ (b'{' | b'[') => {
                    if depth + stack.len() + 1 > self.max_depth {
                        return fail(ErrorKind::Depth, self.pos);
                    }
                    self.pos += 1;
                    let close = if open == b'{' { b'}' } else { b']' };
                    stack.push(close);
                    self.skip_ws();
                    if self.peek()? == close {
                        self.pos += 1;
                        stack.pop();
                    } else {
                        if close == b'}' {
                            self.member_key()?;
                        }
                        continue 'value;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b'-' | b'0'..=b'9' => self.number()?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => return fail(ErrorKind::Syntax, self.pos),
            }
            // After a complete value: close containers or move to the next item.
            while let Some(close) = stack.last() {
                self.skip_ws();
                let c = self.peek()?;
                if c == b',' {
                    self.pos += 1;
                    if close == b'}' {
                        self.skip_ws();
                        self.member_key()?;
                    }
                    continue 'value;
                } else if c == close {
                    self.pos += 1;
                    stack.pop();
                } else {
                    return fail(ErrorKind::Syntax, self.pos);
                }
            }
            return Ok(());
        }
    }

    /// A nested object's `"key":` (keys below the top level are not decoded).
    fn member_key(&mut self) -> Result<(), ScanError> {
        if self.peek()? != b'"' {
            return fail(ErrorKind::Syntax, self.pos);
        }
        self.string()?;
        self.skip_ws();
        self.expect(b':')
    }

    /// Validate a string starting at `"`; returns whether it has escapes.
    fn string(&mut self) -> Result<bool, ScanError> {
        self.pos += 1;
        let mut escaped = false;
        loop {
            let rest = self.buf.get(self.pos..).unwrap_or_default();
            // PERF: keys, tags and most values are short: one table lookup
            // per byte finds the closing quote, an escape or a raw control
            // byte (JSON forbids those) in a single pass. A run longer than
            // SHORT_RUN is searched by memchr's SIMD for the quote or
            // backslash, and the skipped run checked for control bytes.
            let head = rest.get(..SHORT_RUN).unwrap_or(rest);
            let skip = match head.iter().position(|&c| stops_string(c)) {
                Some(skip) => skip,
                None => self.long_run(rest)?,
            };
            self.pos += skip;
            match self.buf.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {}
                // A raw control byte (the table's third kind); `None` is
                // unreachable (long_run reports the end of input itself).
                _ => return fail(ErrorKind::Syntax, self.pos),
            }
            escaped = true;
            self.pos += 1;
            match self.peek()? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 1,
                b'u' => {
                    self.pos += 1;
                    for _ in 0..4 {
                        if !self.peek()?.is_ascii_hexdigit() {
                            return fail(ErrorKind::Syntax, self.pos);
                        }
                        self.pos += 1;
                    }
                }
                _ => return fail(ErrorKind::Syntax, self.pos),
            }
        }
    }

    /// Where a string's run from `self.pos` (`rest`, longer than
    /// `SHORT_RUN` bytes without a stop byte) stops: the offset of its
    /// closing quote or backslash, or of the first raw control byte before
    /// it; the end of input is an `Eof` error (a `Syntax` error at the first
    /// control byte if there is one).
    fn long_run(&self, rest: &[u8]) -> Result<usize, ScanError> {
        let tail = rest.get(SHORT_RUN..).unwrap_or_default();
        let Some(found) = memchr::memchr2(b'"', b'\\', tail).map(|i| i + SHORT_RUN) else {
            if let Some(bad) = rest.iter().position(|&c| c < 0x20) {
                return fail(ErrorKind::Syntax, self.pos + bad);
            }
            return fail(ErrorKind::Eof, self.buf.len());
        };
        let run = rest.get(..found).unwrap_or(rest);
        if has_control(run) {
            if let Some(bad) = run.iter().position(|&c| c < 0x20) {
                return Ok(bad);
            }
        }
        Ok(found)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; optional parts are
    /// taken only when complete, so `1.` stops before the dot.
    fn number(&mut self) -> Result<(), ScanError> {
        if self.peek()? == b'-' {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return fail(ErrorKind::Syntax, self.pos),
        }
        if self.byte_at(0) == Some(b'.') && self.byte_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            self.digits();
        }
        if matches!(self.byte_at(0), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.byte_at(1), Some(b'+' | b'-')));
            if self.byte_at(1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1 + sign;
                self.digits();
            }
        }
        Ok(())
    }

    fn byte_at(&self, offset: usize) -> Option<u8> {
        self.buf.get(self.pos + offset).copied()
    }

    fn digits(&mut self) {
        while self.byte_at(0).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), ScanError> {
        for &want in word {
            if self.peek()? != want {
                return fail(ErrorKind::Syntax, self.pos);
            }
            self.pos += 1;
        }
        Ok(())
    }
}

/// Bytes searched by the table loop of `Scanner::string` before memchr.
const SHORT_RUN: usize = 32;

/// The bytes that stop a string's run: its closing quote, a backslash
/// (escape) and the raw control bytes JSON forbids inside strings.
// Built at compile time from constant indices below 256: it cannot panic.
#[allow(clippy::indexing_slicing)]
static STOPS_STRING: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        table[c] = true;
        c += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Whether `c` stops a string's run (`STOPS_STRING`; a `u8` always indexes it).
#[inline]
fn stops_string(c: u8) -> bool {
    STOPS_STRING.get(usize::from(c)).copied().unwrap_or(true)
}

/// Whether any byte is a raw control character; a branch-free minimum so
/// the compiler vectorises it (an early-exit search runs a byte at a time).
fn has_control(run: &[u8]) -> bool {
    run.iter().copied().min().is_some_and(|c| c < 0x20)
}

fn hex4(raw: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(raw.get(..4)?).ok()?;
    u32::from_str_radix(text, 16).ok()
}

/// Decode the body of a syntactically valid JSON string. `None` when it
/// holds an unpaired surrogate escape (not representable as UTF-8).
fn decode_escaped(raw: &[u8]) -> Option<String> {
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let esc = *raw.get(i + 1)?;
        i += 2;
        let simple = match esc {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            continue;
        }
        let unit = hex4(raw.get(i..)?)?;
        i += 4;
        let code = if (0xD800..0xDC00).contains(&unit) {
            if raw.get(i..i + 2) != Some(b"\\u") {
                return None;
            }
            let low = hex4(raw.get(i + 2..)?)?;
            if !(0xDC00..0xE000).contains(&low) {
                return None;
            }
            i += 6;
            0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..0xE000).contains(&unit) {
            return None;
        } else {
            unit
        };
        let ch = char::from_u32(code)?;
        let mut tmp = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        max_size: 1 << 20,
        max_depth: 32,
    };

    fn ok(frame: &str) -> (String, Option<String>) {
        let s = scan_bytes(frame.as_bytes(), "type", LIM).expect("valid frame");
        (
            s.tag.into_owned(),
            s.payload.map(|p| String::from_utf8_lossy(p).into_owned()),
        )
    }

    fn err(frame: &[u8]) -> (&'static str, usize) {
        let e = scan_bytes(frame, "type", LIM).expect_err("invalid frame");
        (e.kind.as_str(), e.position)
    }

    #[test]
    fn finds_tag_and_payload_in_any_order() {
        assert_eq!(
            ok(r#"{"type":"a","payload":{"x":1}}"#),
            ("a".into(), Some(r#"{"x":1}"#.into()))
        );
        assert_eq!(
            ok(r#" { "payload" : [1, 2] , "type" : "b" } "#),
            ("b".into(), Some("[1, 2]".into()))
        );
        assert_eq!(ok(r#"{"type":"c"}"#), ("c".into(), None));
        assert_eq!(ok(r#"{"type":"c","payload":null}"#), ("c".into(), None));
    }

    #[test]
    fn nested_type_keys_are_ignored_and_last_duplicate_wins() {
        assert_eq!(
            ok(r#"{"payload":{"type":"inner"},"type":"outer"}"#).0,
            "outer"
        );
        assert_eq!(ok(r#"{"type":"first","type":"second"}"#).0, "second");
        assert_eq!(err(br#"{"type":"first","type":2}"#), ("tag_type", 23));
    }

    #[test]
    fn escaped_keys_and_tags_are_decoded() {
        assert_eq!(ok(r#"{"\u0074ype":"x\u00e9\n"}"#).0, "x\u{e9}\n");
        assert_eq!(ok(r#"{"type":"\ud83d\ude00"}"#).0, "\u{1f600}");
        assert_eq!(err(br#"{"type":"\ud83d"}"#), ("escape", 8));
        assert_eq!(err(br#"{"\udc00":1,"type":"a"}"#), ("escape", 1));
    }

    #[test]
    fn refuses_bad_frames_with_kind_and_position() {
        assert_eq!(err(b""), ("eof", 0));
        assert_eq!(err(b"[1]"), ("not_object", 0));
        assert_eq!(err(b"{\"type\":\"a\"} x"), ("trailing", 13));
        assert_eq!(err(b"{}"), ("missing_tag", 0));
        assert_eq!(err(b"{\"type\":\"a\""), ("eof", 11));
        assert_eq!(err(b"{\"type\":tru}"), ("syntax", 11));
        assert_eq!(err(b"{\"type\":1.}"), ("syntax", 9));
        assert_eq!(err(b"{\"a\":\"\x01\"}"), ("syntax", 6));
        assert_eq!(err(b"{\"a\":[1,],\"type\":\"x\"}"), ("syntax", 8));
        assert_eq!(err(b"{\"type\":\"\xff\"}"), ("utf8", 9));
        assert_eq!(err(b"{,}"), ("syntax", 1));
    }

    #[test]
    fn string_runs_either_side_of_the_table_loop_limit() {
        // `string` searches SHORT_RUN bytes by table, then memchr: a stop byte
        // (quote, escape, control) just before, at and after that limit.
        for len in [0, 1, SHORT_RUN - 1, SHORT_RUN, SHORT_RUN + 1, 3 * SHORT_RUN] {
            let run = "a".repeat(len);
            let frame = format!(r#"{{"type":"{run}"}}"#);
            assert_eq!(ok(&frame).0, run);
            let escaped = format!(r#"{{"type":"{run}\n{run}"}}"#);
            assert_eq!(ok(&escaped).0, format!("{run}\n{run}"));
            // a raw control byte after `len` bytes: a syntax error right there
            let bad = format!("{{\"type\":\"{run}\u{1}{run}\"}}");
            assert_eq!(err(bad.as_bytes()), ("syntax", 9 + len));
            // unterminated, with and without a control byte further on
            assert_eq!(
                err(format!("{{\"type\":\"{run}").as_bytes()),
                ("eof", 9 + len)
            );
            let late = format!("{{\"type\":\"{run}{run}\u{1f}");
            assert_eq!(err(late.as_bytes()), ("syntax", 9 + 2 * len));
        }
    }

    #[test]
    fn depth_and_size_limits_hold_without_recursion() {
        let deep = format!(
            "{{\"type\":\"a\",\"payload\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(err(deep.as_bytes()), ("depth", 22 + 31));
        let limits = Limits {
            max_size: 4,
            max_depth: 8,
        };
        let e = scan_bytes(b"{\"type\":\"a\"}", "type", limits).expect_err("too large");
        assert_eq!((e.kind, e.position), (ErrorKind::TooLarge, 4));
    }

    #[test]
    fn custom_key_is_honoured() {
        let s = scan_str(r#"{"kind":"k","type":1}"#, "kind", LIM).expect("valid");
        assert_eq!(s.tag, "k");
    }
}

/// Differential check against `serde_json`, a trusted parser: on generated and
/// mutated inputs, the scanner accepts exactly the JSON objects `serde_json`
/// accepts (within the depth limit) and finds the same last `"type"` string.
#[cfg(test)]
mod differential {
    use super::*;

    /// xorshift64*: deterministic inputs without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % (n as u64)).unwrap_or(0)
        }
    }

    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        " ",
        "\"type\"",
        "\"payload\"",
        "\"a\"",
        "\"x\\u0041\"",
        "\"\\ud83d\\ude00\"",
        "1",
        "-0.5e+3",
        "true",
        "null",
        "\"t\"",
        "\"\\\"q\"",
        "0",
        "01",
        "1.",
    ];

    fn generate(rng: &mut Rng) -> Vec<u8> {
        let mut out = Vec::new();
        if rng.below(4) > 0 {
            // Mostly well-formed objects with a tag somewhere.
            out.extend_from_slice(b"{\"type\":\"t\"");
            for _ in 0..rng.below(4) {
                out.extend_from_slice(b",\"k\":");
                for _ in 0..rng.below(6) {
                    out.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
                }
                if rng.below(2) == 0 {
                    out.extend_from_slice(b"[1,{\"type\":2}]");
                }
            }
            out.push(b'}');
        } else {
            for _ in 0..rng.below(12) {
                out.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
            }
        }
        for _ in 0..rng.below(3) {
            if out.is_empty() {
                break;
            }
            let at = rng.below(out.len());
            match rng.below(3) {
                0 => {
                    out.remove(at);
                }
                1 => {
                    let noise = b"{}[],:\"\\ 0a\xff";
                    out.insert(at, noise[rng.below(noise.len())]);
                }
                _ => out.truncate(at),
            }
        }
        out
    }

    fn depth(value: &serde_json::Value) -> usize {
        match value {
            serde_json::Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            serde_json::Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    #[test]
    fn agrees_with_serde_json() {
        let limits = Limits {
            max_size: 1 << 20,
            max_depth: 64,
        };
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut accepted = 0;
        for _ in 0..50_000 {
            let input = generate(&mut rng);
            let ours = scan_bytes(&input, "type", limits);
            let theirs: Result<serde_json::Value, _> = serde_json::from_slice(&input);
            match (&ours, &theirs) {
                (Ok(scanned), Ok(value)) => {
                    accepted += 1;
                    assert_eq!(
                        value["type"].as_str(),
                        Some(scanned.tag.as_ref()),
                        "{input:?}"
                    );
                }
                // By design the scan validates escapes syntactically (RFC 8259
                // grammar) and decodes only keys and the tag, so a lone
                // surrogate escape elsewhere passes; serde_json refuses it.
                (Ok(_), Err(err)) if err.to_string().contains("surrogate") => {}
                (Ok(_), Err(err)) => panic!("accepted what serde_json refuses ({err}): {input:?}"),
                (Err(e), Ok(value)) => {
                    let explained = !value.is_object()
                        || !value["type"].is_string()
                        || depth(value) > limits.max_depth
                        || e.kind == ErrorKind::Escape;
                    assert!(explained, "refused valid JSON with {e:?}: {input:?}");
                }
                (Err(_), Err(_)) => {}
            }
        }
        assert!(
            accepted > 1_000,
            "generator produced too few valid frames: {accepted}"
        );
    }
}
