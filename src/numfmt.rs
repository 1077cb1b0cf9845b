//! Numbers as Vietnamese readers write them: "." between thousands, "," before decimals.

/// `1234567.5` → `1.234.567,5`.
pub fn vn_number(n: f64) -> String {
    let neg = n < 0.0;
    let s = format!("{:.3}", n.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let frac = frac.trim_end_matches('0');
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    let sign = if neg { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{frac}")
    }
}

/// Whole đồng with thousands dots: `44553000000` → `44.553.000.000`.
pub fn vn_money(n: i64) -> String {
    vn_number(n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_use_dots_for_thousands_and_a_comma_for_decimals() {
        assert_eq!(vn_number(44553.0), "44.553");
        assert_eq!(vn_number(3969.4), "3.969,4");
        assert_eq!(vn_money(10_000_000), "10.000.000");
        assert_eq!(vn_number(-1234.5), "-1.234,5");
        assert_eq!(vn_number(12.0), "12");
    }
}
