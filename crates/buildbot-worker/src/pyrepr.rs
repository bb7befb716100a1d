//! The few Python spellings the worker's log headers show, so a step's
//! header reads as the Python worker writes it: `repr` of str, bytes and
//! the dicts and lists made of them, `str` of a float, and `shlex.quote`.

use spread::Value;

use crate::bot::plain;

/// Python's `repr(value)` for the values a header shows.
pub(crate) fn repr(value: &Value) -> String {
    match plain(value) {
        Value::None => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(n) => n.to_string(),
        Value::Float(f) => float(*f),
        Value::Str(s) => str_repr(s),
        Value::Bytes(b) => bytes_repr(b),
        Value::List(items) => format!("[{}]", join(items)),
        Value::Tuple(items) if items.len() == 1 => format!("({},)", repr(&items[0])),
        Value::Tuple(items) => format!("({})", join(items)),
        Value::Dict(dict) => {
            let entries: Vec<String> = dict
                .iter()
                .map(|(k, v)| format!("{}: {}", repr(k), repr(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        other => format!("{other:?}"),
    }
}

fn join(items: &[Value]) -> String {
    items.iter().map(repr).collect::<Vec<_>>().join(", ")
}

/// Python's `str()` of a float: the shortest text that reads back the same,
/// with `.0` on whole numbers.
pub(crate) fn float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let text = format!("{f:?}");
    if text.contains('.') || text.contains('e') {
        text
    } else {
        format!("{text}.0")
    }
}

/// Python's `repr` of a str: single quotes unless the text has one and no
/// double quote.
pub(crate) fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr` of bytes.
pub(crate) fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::from("b");
    out.push(quote as char);
    for &byte in b {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(byte as char),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out.push(quote as char);
    out
}

/// Buildbot's `shell_quote` on POSIX: `shlex.quote` of each word, an empty
/// word as `""`.
pub(crate) fn shell_quote(words: &[String]) -> String {
    words
        .iter()
        .map(|word| {
            if word.is_empty() {
                "\"\"".to_owned()
            } else if word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c))
            {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', "'\"'\"'"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelled_as_python_does() {
        assert_eq!(float(1200.0), "1200.0");
        assert_eq!(float(0.5), "0.5");
        assert_eq!(bytes_repr(b"echo 'hi'\n"), "b\"echo 'hi'\\n\"");
        assert_eq!(str_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(
            shell_quote(&["echo".into(), "a b".into(), String::new(), "it's".into()]),
            "echo 'a b' \"\" 'it'\"'\"'s'"
        );
        let list = Value::List(vec![Value::from(&b"ls"[..]), Value::from(&b"-l"[..])]);
        assert_eq!(repr(&list), "[b'ls', b'-l']");
    }
}
