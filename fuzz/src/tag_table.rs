//! What a `TagTable` runs per frame, with an arbitrary key and limits.
//!
//! The first bytes choose the discriminator key, `max_size` and `max_depth`;
//! the rest is the frame. `scan_str` and `scan_bytes` agree on valid UTF-8,
//! an error never points past the frame, limits are honoured, and an
//! accepted tag is serde_json's value for the chosen key. (The slot lookup
//! itself holds Python strings, so it is covered by the hypothesis
//! differential tests, not here.)
use _native::frame::{scan_bytes, scan_str, ErrorKind, Limits};
use serde_json::Value;

const KEYS: [&str; 4] = ["type", "payload", "é", ""];

/// One input: panics on any violation (what the fuzzer reports).
pub fn check(data: &[u8]) {
    let [k, size, depth, frame @ ..] = data else {
        return;
    };
    let key = KEYS[usize::from(*k) % KEYS.len()];
    let limits = Limits {
        max_size: usize::from(*size) * 16,
        max_depth: usize::from(*depth % 80),
    };
    let by_bytes = scan_bytes(frame, key, limits);
    if let Ok(text) = std::str::from_utf8(frame) {
        assert_eq!(by_bytes, scan_str(text, key, limits));
    }
    match by_bytes {
        Err(e) if e.kind == ErrorKind::TooLarge => {
            assert!(frame.len() > limits.max_size);
            assert_eq!(e.position, limits.max_size);
        }
        Err(e) => assert!(e.position <= frame.len()),
        Ok(scanned) => {
            assert!(frame.len() <= limits.max_size && limits.max_depth >= 1);
            if let Ok(value) = serde_json::from_slice::<Value>(frame) {
                assert_eq!(value[key].as_str(), Some(scanned.tag.as_ref()));
            }
        }
    }
}
