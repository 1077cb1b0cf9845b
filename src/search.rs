//! Search keys: text folded so that a query matches however it was typed.
//!
//! Vietnamese is typed with precomposed letters (NFC) or with combining marks (NFD), with or
//! without capitals, and often without diacritics at all. [`fold`] maps every such spelling of
//! a text to one key: "Đảng", "ĐẢNG", "dang" and the NFD form of "Đảng" all fold to `dang`.
//! Units and assets keep the folded form of their searchable text in a `search` column, written
//! on every write path, and the API's `q` is folded the same way before it is compared.
//!
//! The migration that adds the columns includes this file to backfill them (`#[path]`), so
//! it uses nothing from the crate.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// The search key of `s`: decomposed, diacritics (every combining mark) removed, đ/Đ → d,
/// lower-cased. The result is plain ASCII for Vietnamese text, so SQLite's ASCII-only `LIKE`
/// and `lower()` treat it exactly like PostgreSQL does.
pub fn fold(s: &str) -> String {
    // Lower-cased first: a few letters outside Vietnamese (`İ`) lower-case into a letter and a
    // combining mark, which the decomposition then drops like any other.
    let lower: String = s.chars().flat_map(char::to_lowercase).collect();
    lower
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| if c == 'đ' { 'd' } else { c })
        .nfc()
        .collect()
}

/// The stored search key of a unit or an asset: its folded code and name, one per line (a
/// query, trimmed, does not span them). Kept in the `search` column on every write.
pub fn key(code: &str, name: &str) -> String {
    let mut k = fold(code);
    k.push('\n');
    k.push_str(&fold(name));
    k
}

/// The `LIKE` pattern matching keys that contain the folded `q`; `\` escapes `%`, `_` and
/// itself, so a query is always taken literally (use with `ESCAPE '\'`).
pub fn contains_pattern(q: &str) -> String {
    let mut pattern = String::from("%");
    for c in fold(q).chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vietnamese_word_folds_to_its_unaccented_lower_case_letters() {
        assert_eq!(fold("Đảng"), "dang");
        assert_eq!(fold("TRƯỜNG"), "truong");
        assert_eq!(
            fold("Trường Tiểu học Tam Thanh"),
            "truong tieu hoc tam thanh"
        );
        assert_eq!(fold("Ủy ban nhân dân phường"), "uy ban nhan dan phuong");
        assert_eq!(fold("Ô tô ĂN ơ ư đ"), "o to an o u d");
    }

    #[test]
    fn every_vietnamese_letter_with_every_tone_folds_to_its_plain_ascii_letter() {
        // The 12 vowels (the 5 tones: huyền, sắc, ngã, hỏi, nặng, and none), upper and lower case.
        let vowels = [
            ("a", 'a'),
            ("ă", 'a'),
            ("â", 'a'),
            ("e", 'e'),
            ("ê", 'e'),
            ("i", 'i'),
            ("o", 'o'),
            ("ô", 'o'),
            ("ơ", 'o'),
            ("u", 'u'),
            ("ư", 'u'),
            ("y", 'y'),
        ];
        for (vowel, plain) in vowels {
            for tone in ["", "\u{300}", "\u{301}", "\u{303}", "\u{309}", "\u{323}"] {
                let nfc: String = format!("{vowel}{tone}").nfc().collect();
                assert_eq!(nfc.chars().count(), 1, "{nfc} is one precomposed letter");
                for letter in [nfc.clone(), nfc.to_uppercase()] {
                    assert_eq!(fold(&letter), plain.to_string(), "{letter}");
                    assert_eq!(fold(&letter.nfd().collect::<String>()), plain.to_string());
                }
            }
        }
        assert_eq!(fold("đĐ"), "dd");
    }

    #[test]
    fn nfd_input_folds_like_nfc_input() {
        let nfd: String = "Trường Đảng Ủy ban".nfd().collect();
        assert_ne!(nfd, "Trường Đảng Ủy ban");
        assert_eq!(fold(&nfd), fold("Trường Đảng Ủy ban"));
        assert_eq!(fold(&nfd), "truong dang uy ban");
    }

    #[test]
    fn digits_and_punctuation_are_kept() {
        assert_eq!(fold("TS-2026/01 (Nhà A)"), "ts-2026/01 (nha a)");
        assert_eq!(fold(""), "");
        assert_eq!(fold("İ"), "i");
    }

    #[test]
    fn a_key_holds_the_folded_code_and_name() {
        assert_eq!(key("TS-Đ01", "Nhà Văn hóa"), "ts-d01\nnha van hoa");
    }

    #[test]
    fn a_like_pattern_takes_wildcards_literally() {
        assert_eq!(contains_pattern("Nhà_A 100%"), "%nha\\_a 100\\%%");
        assert_eq!(contains_pattern("a\\b"), "%a\\\\b%");
    }
}
