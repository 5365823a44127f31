//! The frame scan on arbitrary bytes, differential against serde_json.
//!
//! Never panics; accepts exactly the JSON objects serde_json accepts (within
//! the depth limit, except lone surrogate escapes outside keys and the tag,
//! which the scan validates only syntactically); the tag it finds is
//! serde_json's last `"type"` string; the payload span is valid JSON.
use _native::frame::{scan_bytes, ErrorKind, Limits};
use serde_json::Value;

const LIMITS: Limits = Limits {
    max_size: 1 << 20,
    max_depth: 64,
};

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// One input: panics on any violation (what the fuzzer reports).
pub fn check(data: &[u8]) {
    let ours = scan_bytes(data, "type", LIMITS);
    // serde_json recurses (limit 128), so compare only below that nesting.
    let theirs: Result<Value, _> = serde_json::from_slice(data);
    match (&ours, &theirs) {
        (Ok(scanned), Ok(value)) => {
            assert_eq!(value["type"].as_str(), Some(scanned.tag.as_ref()));
            if let Some(raw) = scanned.payload {
                let payload: Value = serde_json::from_slice(raw).expect("payload span is JSON");
                assert_eq!(payload, value["payload"]);
            } else {
                assert!(value.get("payload").is_none_or(Value::is_null));
            }
        }
        (Ok(_), Err(err)) => assert!(
            err.to_string().contains("surrogate") || err.to_string().contains("recursion"),
            "accepted what serde_json refuses ({err})"
        ),
        (Err(e), Ok(value)) => assert!(
            !value.is_object()
                || !value["type"].is_string()
                || depth(value) > LIMITS.max_depth
                || e.kind == ErrorKind::Escape,
            "refused valid JSON with {e:?}"
        ),
        (Err(e), Err(_)) => assert!(e.position <= data.len()),
    }
}
