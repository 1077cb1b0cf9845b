//! Issue 8: bounded property tests of what reads human and administrator input — the form
//! definition loader and the cell/number/date parsers. Never a panic; a broken definition is
//! refused naming its file; what we print reads back as the same value.
//!
//! A small xorshift generator keeps them dependency-free and reproducible: each test prints
//! its seed, and `KIEMKE_PROP_SEED` / `KIEMKE_PROP_CASES` replay or widen a run.

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{Datelike, NaiveDate};
use kiemke::{
    forms::{
        EMBEDDED_FORMS, FieldDef, FieldType, Registry, Value,
        value::{decimal_to_milli, milli_to_json, parse_vn_date},
    },
    numfmt,
};

/// xorshift64*: tiny, fast, good enough to explore inputs.
struct Rng(u64);

impl Rng {
    fn new(salt: u64) -> (Rng, u64) {
        let seed = std::env::var("KIEMKE_PROP_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x6b69_656d_6b65_2026);
        (Rng((seed ^ salt).max(1)), seed)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn cases(default: usize) -> usize {
    std::env::var("KIEMKE_PROP_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Runs `f`, turning a panic into an `Err` that the test reports with its seed and input.
fn caught<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    catch_unwind(AssertUnwindSafe(f))
}

// ---------------------------------------------------------------- form definitions

const TOKENS: &[&str] = &[
    "\"\"",
    "0",
    "-1",
    "4",
    "99999999999999999999",
    "1e400",
    "nan",
    "inf",
    "true",
    "[]",
    "{}",
    "[[",
    "]]",
    "\"01\"",
    "\"01a\"",
    "\"IV\"",
    "\"money\"",
    "\"decimal\"",
    "\"enum\"",
    "\"sum\"",
    "\"difference\"",
    "\"(\"",
    "\"[a-\"",
    "\"section\"",
    "\"code\"",
    "\"original_cost\"",
    "{ vi = \"x\" }",
    "{ vi = \"Đ\", en = \"D\" }",
    "\"\\u0000\"",
    "'''",
    "\"🙂\"",
];

/// One random edit of a TOML text, described for the failure message.
fn mutate(rng: &mut Rng, text: &str) -> (String, String) {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let at = rng.below(lines.len());
    let what = match rng.below(12) {
        0 => {
            lines.remove(at);
            format!("deleted line {}", at + 1)
        }
        1 => {
            let l = lines[at].clone();
            lines.insert(at, l);
            format!("duplicated line {}", at + 1)
        }
        2 => {
            let other = rng.below(lines.len());
            lines.swap(at, other);
            format!("swapped lines {} and {}", at + 1, other + 1)
        }
        3 => {
            let l = &lines[at];
            let t = rng.pick(TOKENS);
            let new = match l.split_once('=') {
                Some((k, _)) => format!("{k}= {t}"),
                None => format!("{l}{t}"),
            };
            lines[at] = new;
            format!("line {} value → {t}", at + 1)
        }
        4 => {
            let t = rng.pick(TOKENS);
            let chars: Vec<char> = lines[at].chars().collect();
            let cut = rng.below(chars.len() + 1);
            let s: String = chars[..cut]
                .iter()
                .chain(t.chars().collect::<Vec<_>>().iter())
                .chain(chars[cut..].iter())
                .collect();
            lines[at] = s;
            format!("inserted {t} in line {}", at + 1)
        }
        5 => {
            lines.truncate(at);
            format!("truncated after line {at}")
        }
        6 => {
            // Another field's key: duplicates and dangling references.
            let keys: Vec<String> = text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("key = ").map(String::from))
                .collect();
            if keys.is_empty() {
                return (lines.join("\n"), "no key to copy".into());
            }
            let k = rng.pick(&keys).clone();
            let targets: Vec<usize> = (0..lines.len())
                .filter(|i| lines[*i].trim().starts_with("key = "))
                .collect();
            let i = *rng.pick(&targets);
            lines[i] = format!("key = {k}");
            format!("line {} key → {k}", i + 1)
        }
        7 => {
            let chars: Vec<char> = lines[at].chars().collect();
            let cut = rng.below(chars.len() + 1);
            lines[at] = chars[..cut].iter().collect();
            format!("cut line {} at {cut}", at + 1)
        }
        8 | 9 => {
            // Another line's value for the same key: the TOML and the types stay valid, the
            // meaning breaks (references, duplicates, sections, rule fields, codes).
            let keyed: Vec<(usize, String, String)> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| !l.contains("'''"))
                .filter_map(|(i, l)| {
                    l.split_once(" = ")
                        .map(|(k, v)| (i, k.to_string(), v.to_string()))
                })
                .collect();
            if keyed.is_empty() {
                return (lines.join("\n"), "no value to copy".into());
            }
            let (i, key, _) = rng.pick(&keyed).clone();
            let same: Vec<&(usize, String, String)> =
                keyed.iter().filter(|(_, k, _)| *k == key).collect();
            let (_, _, v) = rng.pick(&same);
            lines[i] = format!("{key} = {v}");
            format!("line {} {key} → {v}", i + 1)
        }
        _ => {
            // A whole table ([[fields]], [[rules]], [[sections]] …) gone.
            let heads: Vec<usize> = (0..lines.len())
                .filter(|i| lines[*i].starts_with("[["))
                .collect();
            if heads.is_empty() {
                return (lines.join("\n"), "no table to drop".into());
            }
            let start = *rng.pick(&heads);
            let end = (start + 1..lines.len())
                .find(|i| lines[*i].starts_with('['))
                .unwrap_or(lines.len());
            let head = lines[start].clone();
            lines.drain(start..end);
            format!("dropped the {head} at line {}", start + 1)
        }
    };
    (lines.join("\n"), what)
}

#[test]
fn a_mutated_form_definition_never_panics_the_loader_and_its_error_names_the_file() {
    let (mut rng, seed) = Rng::new(1);
    let n = cases(400);
    let files: Vec<(String, String)> = EMBEDDED_FORMS
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    let (mut refused, mut accepted, mut checked) = (0, 0, 0);
    for case in 0..n {
        let mut sources = files.clone();
        let mut edits = Vec::new();
        for _ in 0..=usize::from(rng.below(4) == 0) {
            let i = rng.below(sources.len());
            let (text, what) = mutate(&mut rng, &sources[i].1);
            edits.push(format!("{}: {what}", sources[i].0));
            sources[i].1 = text;
        }
        match rng.below(20) {
            0 => {
                let i = rng.below(sources.len());
                edits.push(format!("{} removed", sources[i].0));
                sources.remove(i);
            }
            1 => {
                let i = rng.below(sources.len());
                let copy = (format!("copy-of-{}", sources[i].0), sources[i].1.clone());
                edits.push(format!("{} copied", sources[i].0));
                sources.push(copy);
            }
            _ => {}
        }
        let names: Vec<String> = sources.iter().map(|(n, _)| n.clone()).collect();
        let outcome = caught(|| Registry::from_sources(sources));
        match outcome {
            Err(_) => panic!("seed {seed} case {case}: the loader panicked after {edits:?}"),
            Ok(Ok(_)) => accepted += 1,
            Ok(Err(e)) => {
                refused += 1;
                if !e.reason.contains("TOML parse error") {
                    checked += 1;
                    if std::env::var("KIEMKE_PROP_VERBOSE").is_ok() {
                        eprintln!("  {e}");
                    }
                }
                assert!(
                    names.contains(&e.file) || e.file == "common.toml",
                    "seed {seed} case {case}: the error names {:?}, not one of the files ({edits:?}): {e}",
                    e.file
                );
                assert!(
                    e.to_string()
                        .starts_with(&format!("form definition {}: ", e.file))
                );
            }
        }
    }
    eprintln!(
        "form loader: {n} mutated definition sets (seed {seed}): {refused} refused naming the file \
         ({checked} by the loader's own checks, the rest by the TOML parser), {accepted} still valid, 0 panics"
    );
    assert!(
        checked > n / 20,
        "the mutations reach past the TOML parser into the loader's checks"
    );
}

/// Fixed cases of the loader property: a copied file, a broken pattern and a cut-off
/// `common.toml` are each refused naming the file at fault.
#[test]
fn a_broken_definition_is_refused_naming_the_file_at_fault() {
    let base: Vec<(String, String)> = EMBEDDED_FORMS
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    let with = |name: &str, text: String| {
        let mut s = base.clone();
        match s.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = text,
            None => s.push((name.to_string(), text)),
        }
        s
    };
    let text = |name: &str| {
        base.iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
            .expect("embedded file")
    };
    let copied = Registry::from_sources(with("18a-copy.toml", text("18a.toml")))
        .expect_err("two files define 18a");
    assert_eq!(copied.file, "18a-copy.toml", "{copied}");
    let common = text("common.toml");
    let cut = Registry::from_sources(with("common.toml", common[..common.len() / 2].to_string()))
        .expect_err("half a common.toml");
    assert_eq!(cut.file, "common.toml", "{cut}");
    let pattern =
        text("02a.toml").replacen("type = \"text\"", "type = \"text\"\npattern = \"[a-\"", 1);
    let bad = Registry::from_sources(with("02a.toml", pattern)).expect_err("a broken pattern");
    assert_eq!(bad.file, "02a.toml", "{bad}");
}

// ---------------------------------------------------------------- values

fn field(kind: FieldType, scale: Option<u32>) -> FieldDef {
    let kind_name = serde_json::to_value(kind).expect("type");
    let mut text =
        format!("key = \"x\"\nlabel = {{ vi = \"X\", en = \"X\" }}\ntype = {kind_name}\n");
    if let Some(s) = scale {
        text.push_str(&format!("scale = {s}\n"));
    }
    if matches!(kind, FieldType::Enum | FieldType::Documents) {
        text.push_str(
            "options = [{ code = \"a\", label = { vi = \"Một\", en = \"One\" } }, { code = \"2\", label = { vi = \"Hai\", en = \"Two\" } }]\n",
        );
    }
    toml::from_str(&text).expect("field definition")
}

const ALL_TYPES: [FieldType; 11] = [
    FieldType::Text,
    FieldType::Integer,
    FieldType::Decimal,
    FieldType::Money,
    FieldType::Area,
    FieldType::LengthKm,
    FieldType::Date,
    FieldType::Year,
    FieldType::Enum,
    FieldType::Boolean,
    FieldType::Documents,
];

const PIECES: &[&str] = &[
    "0",
    "1",
    "2",
    "5",
    "9",
    "12",
    "000",
    "999",
    ".",
    ",",
    "-",
    "+",
    "e",
    "E",
    " ",
    "/",
    "--",
    "..",
    ",,",
    "1.234",
    "1.234.567",
    "12,5",
    "0.",
    ".5",
    "e9",
    "1e18",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "31",
    "02",
    "2026",
    "0000",
    "29/02",
    "Có",
    "không",
    "x",
    "số",
    " ngày ",
    ";",
    "đ",
    "NaN",
    "inf",
    "\u{a0}",
    "٣",
    "１",
];

fn junk(rng: &mut Rng) -> String {
    (0..rng.below(7)).map(|_| *rng.pick(PIECES)).collect()
}

#[test]
fn the_cell_parsers_never_panic_on_any_text() {
    let (mut rng, seed) = Rng::new(2);
    let n = cases(20_000);
    let fields: Vec<FieldDef> = ALL_TYPES
        .iter()
        .flat_map(|k| [field(*k, None), field(*k, Some(0)), field(*k, Some(3))])
        .collect();
    for case in 0..n {
        let s = junk(&mut rng);
        let f = rng.pick(&fields);
        let r = caught(|| {
            let _ = Value::from_text(f, &s);
            let _ = decimal_to_milli(&s, f);
            let _ = parse_vn_date(&s);
            let _ = Value::from_json(f, &serde_json::Value::String(s.clone()));
            if let Ok(j) = serde_json::from_str::<serde_json::Value>(&s) {
                let _ = Value::from_json(f, &j);
            }
        });
        assert!(
            r.is_ok(),
            "seed {seed} case {case}: a parser panicked on {s:?} for a {:?} field",
            f.kind
        );
    }
    eprintln!("cell parsers: {n} random texts (seed {seed}), 0 panics");
}

/// `n` thousandths as a plain decimal string (`-1234.5`).
fn plain(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    let (int, frac) = ((n / 1000).abs(), (n % 1000).abs());
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{}", format!("{frac:03}").trim_end_matches('0'))
    }
}

#[test]
fn numbers_and_dates_we_print_read_back_as_the_same_value() {
    let (mut rng, seed) = Rng::new(3);
    let n = cases(20_000);
    // Up to a trillion units: far beyond any asset, within f64's exact decimals.
    const LIMIT: i64 = 1_000_000_000_000_000;
    for case in 0..n {
        let ctx = format!("seed {seed} case {case}");
        // Money and whole numbers: plain digits and Vietnamese thousands dots.
        let m = rng.range(-LIMIT / 1000, LIMIT / 1000);
        let money = field(FieldType::Money, None);
        for text in [m.to_string(), numfmt::vn_money(m)] {
            assert_eq!(
                Value::from_text(&money, &text),
                Ok(Some(Value::Money(m))),
                "{ctx}: {text:?}"
            );
        }
        // Decimals at every scale: plain, Vietnamese and through JSON.
        let scale = rng.range(0, 3) as u32;
        let kind = *rng.pick(&[FieldType::Decimal, FieldType::Area, FieldType::LengthKm]);
        let f = field(kind, Some(scale));
        let step = 10_i64.pow(3 - scale);
        let milli = rng.range(-LIMIT / step, LIMIT / step) * step;
        assert_eq!(
            decimal_to_milli(&plain(milli), &f),
            Ok(milli),
            "{ctx}: {}",
            plain(milli)
        );
        let vn = numfmt::vn_number(milli as f64 / 1000.0);
        assert_eq!(
            Value::from_text(&f, &vn),
            Ok(Some(Value::Milli(milli))),
            "{ctx}: {vn:?} (scale {scale})"
        );
        assert_eq!(
            Value::from_json(&f, &milli_to_json(milli)),
            Ok(Some(Value::Milli(milli))),
            "{ctx}: JSON {}",
            milli_to_json(milli)
        );
        // One decimal too many is refused, never rounded.
        if scale < 3 {
            let finer = milli + step / 10 * if milli < 0 { -1 } else { 1 };
            if finer.abs() < LIMIT {
                assert_eq!(
                    decimal_to_milli(&plain(finer), &f).map_err(|e| e.code),
                    Err("scale"),
                    "{ctx}: {} at scale {scale}",
                    plain(finer)
                );
            }
        }
        // Dates in every way a sheet writes them.
        let d = NaiveDate::from_ymd_opt(1900, 1, 1)
            .expect("date")
            .checked_add_days(chrono::Days::new(rng.range(0, 73_000) as u64))
            .expect("date");
        for fmt in ["%d/%m/%Y", "%-d/%-m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"] {
            let text = d.format(fmt).to_string();
            assert_eq!(parse_vn_date(&text), Some(d), "{ctx}: {text}");
        }
        let date = field(FieldType::Date, None);
        assert_eq!(
            Value::from_text(&date, &Value::Date(d).to_text(&date)),
            Ok(Some(Value::Date(d))),
            "{ctx}"
        );
        let year = field(FieldType::Year, None);
        assert_eq!(
            Value::from_text(&year, &d.year().to_string()),
            Ok(Some(Value::Int(i64::from(d.year())))),
            "{ctx}"
        );
        let yes_no = field(FieldType::Boolean, None);
        let b = Value::Bool(rng.below(2) == 1);
        assert_eq!(
            Value::from_text(&yes_no, &b.to_text(&yes_no)),
            Ok(Some(b)),
            "{ctx}"
        );
    }
    eprintln!(
        "round trips: {n} cases (seed {seed}) of money, decimals at scales 0–3, dates, years, yes/no"
    );
}

// ---------------------------------------------------------------- the xlsx/CSV importer

fn sample_records(form: &kiemke::forms::Form, n: usize) -> Vec<kiemke::forms::Record> {
    use kiemke::forms::Value as V;
    (0..n)
        .map(|i| {
            let mut r = kiemke::forms::Record::new();
            if form.has_sections() {
                r.insert("section".into(), V::Code("IV".into()));
            }
            r.insert("code".into(), V::Text(format!("TS-{i:03}")));
            r.insert("name".into(), V::Text(format!("Máy tính số {i}")));
            r.insert("original_cost".into(), V::Money(15_000_000 + i as i64));
            r.insert("usage_status".into(), V::Code("1".into()));
            r.insert("qty_books".into(), V::Milli(1_500));
            r.insert("year_in_use".into(), V::Int(2020));
            r
        })
        .collect()
}

/// Byte-level damage: flips, truncations, insertions and swaps of random spans.
fn damage(rng: &mut Rng, bytes: &[u8]) -> (Vec<u8>, String) {
    let mut out = bytes.to_vec();
    let edits = 1 + rng.below(4);
    let mut what = Vec::new();
    for _ in 0..edits {
        if out.is_empty() {
            break;
        }
        let at = rng.below(out.len());
        match rng.below(5) {
            0 => {
                out[at] ^= 1 << rng.below(8);
                what.push(format!("flip@{at}"));
            }
            1 => {
                out.truncate(at);
                what.push(format!("truncate@{at}"));
            }
            2 => {
                let junk: Vec<u8> = (0..1 + rng.below(64)).map(|_| rng.next() as u8).collect();
                what.push(format!("insert {}@{at}", junk.len()));
                out.splice(at..at, junk);
            }
            3 => {
                let len = rng.below(256).min(out.len() - at);
                out.drain(at..at + len);
                what.push(format!("cut {len}@{at}"));
            }
            _ => {
                let b = rng.below(out.len());
                out.swap(at, b);
                what.push(format!("swap {at}<->{b}"));
            }
        }
    }
    (out, what.join(", "))
}

/// Damaged workbooks and CSV files never panic the importer: they read, or are refused with an error.
#[test]
fn a_damaged_upload_never_panics_the_importer() {
    let registry = Registry::embedded().expect("forms");
    let form = registry.form("01a").expect("01a");
    let records = sample_records(form, 30);
    let header = kiemke::workbooks::write::SheetHeader {
        superior_body: "UBND".into(),
        unit_name: "Đơn vị".into(),
        ..Default::default()
    };
    let flat = kiemke::workbooks::write::flat(form, records.clone()).expect("flat export");
    let official =
        kiemke::workbooks::write::official_form(form, &header, records).expect("official export");
    let csv = "section;code;name;original_cost;usage_status\nIV;A1;Máy tính;15.000.000;1\nIV;A2;Máy in;12.500.000;2\n".as_bytes().to_vec();
    let limits = kiemke::workbooks::read::Limits {
        max_rows: 1_000,
        ..Default::default()
    };
    let (mut rng, seed) = Rng::new(0x1f0e);
    let n = cases(600);
    let mut refused = 0;
    // Inputs that made third-party parsing code panic (the importer catches it) are kept as
    // regression fixtures when KIEMKE_SAVE_CRASHERS names a directory.
    let save = std::env::var("KIEMKE_SAVE_CRASHERS").ok();
    let panics = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    if save.is_some() {
        let count = panics.clone();
        std::panic::set_hook(Box::new(move |_| {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
    }
    for i in 0..n {
        let (name, source): (&str, &[u8]) = match i % 3 {
            0 => ("flat.xlsx", &flat),
            1 => ("form.xlsx", &official),
            _ => ("upload.csv", &csv),
        };
        let (bytes, what) = damage(&mut rng, source);
        let before = panics.load(std::sync::atomic::Ordering::SeqCst);
        let outcome = caught(|| kiemke::workbooks::read::read_with(form, &bytes, name, &limits));
        if let Some(dir) = &save
            && panics.load(std::sync::atomic::Ordering::SeqCst) != before
        {
            let _ = std::fs::write(format!("{dir}/case-{i}-{name}"), &bytes);
        }
        match outcome {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => refused += 1,
            Err(_) => panic!("seed {seed}, case {i} ({name}: {what}): the importer panicked"),
        }
    }
    eprintln!("importer: {n} damaged uploads (seed {seed}), {refused} refused, 0 panics");
}

/// Uploads that once made the xlsx parser panic inside calamine, kept as fixtures: each is refused cleanly.
#[test]
fn uploads_that_once_crashed_the_parser_are_refused_cleanly() {
    let registry = Registry::embedded().expect("forms");
    let form = registry.form("01a").expect("01a");
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/importer-crashers");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fixture directory") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("fixture");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("upload.xlsx")
            .to_string();
        match caught(|| kiemke::workbooks::read::read(form, &bytes, &name)) {
            Err(_) => panic!("{name}: the importer panicked"),
            Ok(Ok(parsed)) => panic!(
                "{name}: a workbook that crashed the parser was accepted ({} rows)",
                parsed.rows.len()
            ),
            // The parser's panic is caught and reported as an unreadable workbook.
            Ok(Err(e)) => assert_eq!(e.code(), "unreadable", "{name}: refused as {e}"),
        }
        seen += 1;
    }
    assert!(seen > 0, "the crasher corpus is empty");
}
