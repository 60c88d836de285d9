//! The chat line parser against the `irc-parser-tests` msg-split vectors
//! (vendored in tests/data, CC0). The parser module is compiled in directly
//! because the server crate is a binary.

#[allow(dead_code)]
#[path = "../src/chat/parse.rs"]
mod parse;

use serde_json::Value;

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn msg_split_vectors() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/msg-split.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let tests = data["tests"].as_array().unwrap();
    assert!(tests.len() >= 30, "vendored data looks truncated");
    for t in tests {
        let input = t["input"].as_str().unwrap();
        let atoms = &t["atoms"];
        let m = parse::parse(input.as_bytes()).unwrap_or_else(|| panic!("no parse: {input:?}"));
        let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        assert_eq!(
            s(m.verb),
            atoms["verb"].as_str().unwrap(),
            "verb of {input:?}"
        );
        assert_eq!(
            m.source.map(s),
            atoms
                .get("source")
                .and_then(Value::as_str)
                .map(str::to_string),
            "source of {input:?}"
        );
        let params: Vec<String> = m.params.iter().map(|p| s(p)).collect();
        assert_eq!(params, strings(atoms.get("params")), "params of {input:?}");
        let mut tags: Vec<(String, String)> = m
            .tag_list()
            .into_iter()
            .map(|(k, v)| (s(&k), s(&v)))
            .collect();
        tags.sort();
        let mut want: Vec<(String, String)> = atoms
            .get("tags")
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        want.sort();
        assert_eq!(tags, want, "tags of {input:?}");
    }
}

#[test]
fn built_lines_parse_back() {
    let line = parse::LineBuilder::new(Some(b"n!u@h"), "PRIVMSG")
        .param("#c")
        .trailing(":x y");
    let body = &line[..line.len() - 2];
    let m = parse::parse(body).unwrap();
    assert_eq!(m.params, vec![&b"#c"[..], b":x y"]);
}
