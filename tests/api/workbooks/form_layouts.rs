//! The form layouts as the service resolves them, pinned by snapshots: every form's
//! definition as the API serves it, and every form's official workbook and flat upload
//! sheets read back cell by cell (values, formulas, styles, column widths, merged ranges,
//! print settings). A change to `forms/*.toml` that moves a column, changes a label or a
//! width shows up here. Regenerate with `UPDATE_SNAPSHOTS=1 cargo test --test api form_layouts`
//! after reviewing the change; CI only compares.

use std::{
    collections::BTreeMap,
    io::{Cursor, Read},
    path::{Path, PathBuf},
};

use serde_json::json;

use crate::db_test;

/// Where the snapshots of this file live.
fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// Compares `text` with the stored snapshot `name` (rewriting it under `UPDATE_SNAPSHOTS=1`
/// outside CI) and returns a description of the difference, if any.
fn compare(name: &str, text: &str) -> Option<String> {
    let path = snapshot_dir().join(name);
    if std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "UPDATE_SNAPSHOTS=1 under CI=true: CI compares the snapshots, it never rewrites them"
        );
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("snapshot folder");
        std::fs::write(&path, text).expect("snapshot written");
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    if stored == text {
        return None;
    }
    let first = stored
        .lines()
        .zip(text.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| format!("line {}: snapshot «{a}», now «{b}»", i + 1))
        .unwrap_or_else(|| {
            format!(
                "{} lines in the snapshot, {} now",
                stored.lines().count(),
                text.lines().count()
            )
        });
    Some(format!("{name}: {first}"))
}

fn unzip(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).expect("an xlsx is a zip");
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).expect("zip entry");
            let mut data = String::new();
            f.read_to_string(&mut data).expect("xml part");
            (f.name().expect("entry name").to_string(), data)
        })
        .collect()
}

/// The elements of an XML text, one a line (`<a><b/></a>` → `<a>`, `<b/>`, `</a>`).
fn elements(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = xml.trim();
    while let Some(start) = rest.find('<') {
        let text = rest[..start].trim();
        if !text.is_empty() {
            out.push(text.to_string());
        }
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        out.push(rest[start..start + end + 1].to_string());
        rest = &rest[start + end + 1..];
    }
    out
}

/// The value of attribute `name` in a start tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')?;
    Some(tag[start..start + end].to_string())
}

/// The child elements of `parent` (`<fonts …>…</fonts>`) that start with `<child`, each
/// with its own children, as one line.
fn children(xml: &str, parent: &str, child: &str) -> Vec<String> {
    let Some(start) = xml.find(&format!("<{parent}")) else {
        return Vec::new();
    };
    let end = xml[start..]
        .find(&format!("</{parent}>"))
        .map_or(xml.len(), |e| start + e);
    let body = &xml[start..end];
    let mut out = Vec::new();
    let mut pos = body.find('>').map_or(body.len(), |p| p + 1);
    while let Some(off) = body[pos..].find(&format!("<{child}")) {
        let s = pos + off;
        let head_end = s + body[s..].find('>').expect("tag end");
        let e = if body[..=head_end].ends_with("/>") {
            head_end + 1
        } else {
            let close = format!("</{child}>");
            s + body[s..].find(&close).expect("closing tag") + close.len()
        };
        out.push(body[s..e].to_string());
        pos = e;
    }
    out
}

/// The texts of `<t>` elements inside `xml`, joined.
fn texts(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(s) = rest.find("<t") {
        let after = &rest[s + 2..];
        if !(after.starts_with('>') || after.starts_with(' ')) {
            rest = after;
            continue;
        }
        let open = s + rest[s..].find('>').expect("tag end") + 1;
        let close = open + rest[open..].find("</t>").unwrap_or(0);
        out.push_str(&rest[open..close]);
        rest = &rest[close..];
    }
    out
}

/// A workbook, read back part by part: the cell styles resolved to their number format,
/// font, fill, border and alignment; the workbook part (sheet names, print titles); and
/// each sheet's settings (columns and widths, views, merged ranges, page setup) with its
/// cells one a line, `A1 [xf 3] "text"`, `B9 [xf 5] =F9-G9 → 12`.
fn dump(bytes: &[u8]) -> String {
    let parts = unzip(bytes);
    let mut out = Vec::new();
    let shared: Vec<String> = parts
        .get("xl/sharedStrings.xml")
        .map(|x| children(x, "sst", "si").iter().map(|s| texts(s)).collect())
        .unwrap_or_default();

    out.push("# parts".to_string());
    // docProps/core.xml holds the time the file was written.
    out.extend(parts.keys().filter(|k| *k != "docProps/core.xml").cloned());

    let styles = parts.get("xl/styles.xml").cloned().unwrap_or_default();
    let formats: BTreeMap<String, String> = children(&styles, "numFmts", "numFmt")
        .iter()
        .filter_map(|f| Some((attr(f, "numFmtId")?, attr(f, "formatCode")?)))
        .collect();
    let fonts = children(&styles, "fonts", "font");
    let fills = children(&styles, "fills", "fill");
    let borders = children(&styles, "borders", "border");
    let pick = |list: &[String], id: Option<String>| -> String {
        id.and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| list.get(i).cloned())
            .unwrap_or_default()
    };
    out.push("# cell styles".to_string());
    for (i, xf) in children(&styles, "cellXfs", "xf").iter().enumerate() {
        let fmt = attr(xf, "numFmtId").unwrap_or_default();
        let code = formats.get(&fmt).cloned().unwrap_or_else(|| fmt.clone());
        let inner: String = elements(xf).into_iter().skip(1).collect();
        out.push(format!(
            "xf {i}: numFmt «{code}» font {} fill {} border {} {inner}",
            pick(&fonts, attr(xf, "fontId")),
            pick(&fills, attr(xf, "fillId")),
            pick(&borders, attr(xf, "borderId")),
        ));
    }

    out.push("# workbook".to_string());
    out.extend(elements(parts.get("xl/workbook.xml").map_or("", |s| s)));

    for (name, xml) in parts
        .iter()
        .filter(|(k, _)| k.starts_with("xl/worksheets/"))
    {
        out.push(format!("# {name}"));
        let (before, rest) = xml.split_once("<sheetData").unwrap_or((xml, ""));
        let (data, after) = rest.split_once("</sheetData>").unwrap_or(("", rest));
        out.extend(elements(before));
        for row in children(&format!("<sheetData{data}</sheetData>"), "sheetData", "row") {
            let head = &row[..=row.find('>').expect("row tag")];
            out.push(head.to_string());
            for c in children(&format!("{row}</row>"), "row", "c") {
                let r = attr(&c, "r").unwrap_or_default();
                let s = attr(&c, "s").unwrap_or_else(|| "0".into());
                let value = children(&format!("<x>{c}</x>"), "x", "v")
                    .first()
                    .map(|v| elements(v).get(1).cloned().unwrap_or_default())
                    .unwrap_or_default();
                let formula = children(&format!("<x>{c}</x>"), "x", "f")
                    .first()
                    .map(|f| elements(f).get(1).cloned().unwrap_or_default());
                let shown = match attr(&c, "t").as_deref() {
                    Some("s") => format!(
                        "{:?}",
                        value
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| shared.get(i).cloned())
                            .unwrap_or_default()
                    ),
                    Some("inlineStr") => format!("{:?}", texts(&c)),
                    Some("str") => format!("{value:?}"),
                    _ => value,
                };
                match formula {
                    Some(f) => out.push(format!("{r} [xf {s}] ={f} → {shown}")),
                    None => out.push(format!("{r} [xf {s}] {shown}")),
                }
            }
        }
        out.extend(elements(after));
    }
    for (name, xml) in parts.iter().filter(|(k, _)| {
        !k.starts_with("xl/worksheets/")
            && !matches!(
                k.as_str(),
                "docProps/core.xml" | "xl/styles.xml" | "xl/workbook.xml" | "xl/sharedStrings.xml"
            )
    }) {
        out.push(format!("# {name}"));
        out.extend(elements(xml));
    }
    out.join("\n") + "\n"
}

/// One asset of a form that has no demo records: the common fields only.
fn common_asset(type_code: &str) -> serde_json::Value {
    json!({"asset_type": type_code, "code": format!("TS-{type_code}"), "name": format!("Công trình loại {type_code}"),
        "location": "Khối 1, phường Tam Thanh", "unit_of_measure": "công trình", "qty_books": 2, "qty_counted": 1.5,
        "original_cost": 1_250_000_000_i64, "original_cost_budget": 1_000_000_000, "depreciation": 250_000_000,
        "usage_status": "1", "origin": "built", "year_in_use": 2015,
        "legal_documents": [{"kind": "investment_decision", "number": "12/QĐ-UBND", "date": "2014-03-05"}],
        "note": "Ghi chú"})
}

db_test!(
    the_definitions_and_workbooks_of_every_form_are_unchanged_cell_by_cell,
    |app| {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        let forms = app
            .call("GET", "/api/v1/forms")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        let forms: Vec<(String, String)> = forms
            .as_array()
            .expect("a list")
            .iter()
            .map(|f| {
                (
                    f["form_code"].as_str().expect("form code").to_string(),
                    f["code"].as_str().expect("type code").to_string(),
                )
            })
            .collect();
        assert_eq!(forms.len(), 19);

        // The demo ward records types 01, 02 and 18; one more unit records the others.
        let unit_of = |code: &'static str| {
            let app = app.clone();
            let admin = admin.clone();
            async move {
                app.call("GET", &format!("/api/v1/units?q={code}"))
                    .token(&admin)
                    .send()
                    .await
                    .json()["items"][0]["id"]
                    .as_i64()
                    .expect("demo unit")
            }
        };
        let others: Vec<&str> = forms
            .iter()
            .map(|(_, t)| t.as_str())
            .filter(|t| !["01", "02", "18"].contains(t))
            .collect();
        let works = app
            .unit(
                &admin,
                "1109399",
                "Ban Quản lý dự án phường Tam Thanh (minh họa)",
            )
            .await;
        app.register(&admin, campaign, works, &others).await;
        for t in &others {
            app.call(
                "POST",
                &format!("/api/v1/campaigns/{campaign}/units/{works}/assets"),
            )
            .token(&admin)
            .json(&common_asset(t))
            .send()
            .await
            .expect(201);
        }

        let mut failures = Vec::new();
        for (form, type_code) in &forms {
            let unit = match type_code.as_str() {
                "01" => unit_of("1109301").await,
                "02" => unit_of("1109302").await,
                "18" => unit_of("1109303").await,
                _ => works,
            };
            let definition = app
                .call("GET", &format!("/api/v1/forms/{form}"))
                .token(&admin)
                .send()
                .await
                .expect(200)
                .json();
            let text = serde_json::to_string_pretty(&definition).expect("json") + "\n";
            failures.extend(compare(&format!("forms/{form}.json"), &text));

            let base = format!("/api/v1/campaigns/{campaign}/units/{unit}/forms/{form}");
            for (path, snapshot) in [
                (
                    format!("{base}.xlsx"),
                    format!("workbooks/{form}.official.txt"),
                ),
                (
                    format!("{base}/flat.xlsx"),
                    format!("workbooks/{form}.flat.txt"),
                ),
                (
                    format!("{base}/flat.xlsx?profile=national-draft"),
                    format!("workbooks/{form}.flat-national-draft.txt"),
                ),
            ] {
                let body = app
                    .call("GET", &path)
                    .token(&admin)
                    .send()
                    .await
                    .expect(200)
                    .body;
                failures.extend(compare(&snapshot, &dump(&body)));
            }
        }
        assert!(
            failures.is_empty(),
            "the resolved forms or their workbooks changed; review, then run \
             UPDATE_SNAPSHOTS=1 cargo test --test api form_layouts:\n{}",
            failures.join("\n")
        );
    }
);
