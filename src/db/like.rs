//! SQL LIKE patterns on SQLite: its LIKE ignores ASCII case, so a case-sensitive match (what
//! PostgreSQL's LIKE gives) is written as the equivalent GLOB.

/// Translates a LIKE pattern (`%` any run, `_` one character, `\` escapes the next one) into
/// a GLOB pattern with the same matches; GLOB's own wildcards are bracketed as literals.
pub fn like_to_glob(pattern: &str) -> String {
    let mut glob = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => glob.push('*'),
            '_' => glob.push('?'),
            '\\' => match chars.next() {
                Some(escaped) => push_literal(&mut glob, escaped),
                // Refused before any query (protocol::user_query); taken literally here.
                None => glob.push('\\'),
            },
            other => push_literal(&mut glob, other),
        }
    }
    glob
}

fn push_literal(glob: &mut String, c: char) {
    match c {
        '*' | '?' | '[' => {
            glob.push('[');
            glob.push(c);
            glob.push(']');
        }
        other => glob.push(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_wildcards_escapes_and_glob_specials() {
        assert_eq!(like_to_glob("dh%"), "dh*");
        assert_eq!(like_to_glob("dha_min"), "dha?min");
        assert_eq!(like_to_glob("dh\\_%"), "dh_*");
        assert_eq!(like_to_glob("a*b?[c]"), "a[*]b[?][[]c]");
        assert_eq!(like_to_glob("50\\%"), "50%");
        assert_eq!(like_to_glob("\\\\x"), "\\x");
    }
}
