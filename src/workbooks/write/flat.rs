//! The flat sheet: one header row, then one row per asset. No merged cells, no totals.
//! Its shape comes from an export profile (`profiles/*.toml`, see [`Profile`]): the
//! `kiemke` profile writes the field keys of `form.flat_columns` in row 1, enums as our
//! codes, numbers as plain numeric cells, dates as date cells, booleans as boolean cells —
//! a machine format that round-trips through the importer. Other profiles add unit-level
//! columns, Vietnamese headers, crosswalked codes and documents split into number and date.

use std::sync::Arc;

use rust_xlsxwriter::{ColNum, Format, Worksheet};

use super::{
    ExportError,
    style::{NumKind, Styles, as_f64, base, cell_text, new_workbook, write_date},
};
use crate::forms::{
    DEFAULT_PROFILE, FieldDef, Form, LegalDoc, Profile, Profiles, Record, Value, profile::Source,
};

/// The unit a row belongs to, as the unit-level columns of a profile print it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitCells {
    /// Budget-relationship code (mã đơn vị quan hệ ngân sách).
    pub code: String,
    /// Registration code in the national software (may be empty).
    pub registration_code: String,
    /// Name.
    pub name: String,
}

/// Writes `records` in the flat layout of `form` under the built-in `kiemke` profile,
/// one row each, in the order given.
pub fn flat<I>(form: &Form, records: I) -> Result<Vec<u8>, ExportError>
where
    I: IntoIterator<Item = Record>,
{
    let profiles = Profiles::embedded().map_err(|e| ExportError::Profile(e.to_string()))?;
    let profile = profiles
        .get(DEFAULT_PROFILE)
        .ok_or_else(|| ExportError::Profile(DEFAULT_PROFILE.into()))?;
    let unit = Arc::new(UnitCells::default());
    flat_with(
        profile,
        form,
        false,
        records.into_iter().map(|r| (Arc::clone(&unit), r)),
    )
}

/// One column of the sheet.
enum Col<'a> {
    /// A unit-level (or form-level) value.
    Unit(Source),
    /// A field, one cell.
    Field(&'a FieldDef),
    /// Legal documents: their kinds, numbers or dates.
    Docs(&'a FieldDef, DocPart),
}

#[derive(Clone, Copy)]
enum DocPart {
    Kind,
    Number,
    Date,
}

/// Writes `rows` (each with the unit it belongs to) in the flat layout of `form` under
/// `profile`, one row each, in the order given. `ward`: the file holds several units'
/// rows, so the profile's `ward_only` columns are written too.
pub fn flat_with<I>(
    profile: &Profile,
    form: &Form,
    ward: bool,
    rows: I,
) -> Result<Vec<u8>, ExportError>
where
    I: IntoIterator<Item = (Arc<UnitCells>, Record)>,
{
    let mut bytes = Vec::new();
    flat_with_to(profile, form, ward, rows, &mut bytes)?;
    Ok(bytes)
}

/// [`flat_with`] written into `out` as the file is assembled (no whole file in memory).
pub fn flat_with_to<I, W>(
    profile: &Profile,
    form: &Form,
    ward: bool,
    rows: I,
    out: W,
) -> Result<(), ExportError>
where
    I: IntoIterator<Item = (Arc<UnitCells>, Record)>,
    W: std::io::Write + Send,
{
    let mut cols: Vec<(Col, String)> = Vec::new();
    for c in profile.columns.iter().filter(|c| ward || !c.ward_only) {
        if c.source != Source::Fields {
            cols.push((Col::Unit(c.source), c.header.clone()));
            continue;
        }
        for f in form.flat_columns.iter().filter_map(|k| form.field(k)) {
            let header = profile.field_header(form, &f.key);
            match (&profile.documents, f.kind) {
                (Some(d), crate::forms::FieldType::Documents) => {
                    let label = f.label.vi.as_str();
                    if let Some(kind) = &d.kind {
                        cols.push((Col::Docs(f, DocPart::Kind), kind.replace("{label}", label)));
                    }
                    cols.push((
                        Col::Docs(f, DocPart::Number),
                        d.number.replace("{label}", label),
                    ));
                    cols.push((
                        Col::Docs(f, DocPart::Date),
                        d.date.replace("{label}", label),
                    ));
                }
                _ => cols.push((Col::Field(f), header)),
            }
        }
    }
    let st = Styles::new();
    let date = base().set_num_format(NumKind::Date.pattern());
    let text = base();
    let mut wb = new_workbook()?;
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.set_name(profile.sheet_name(form))?;
    ws.set_freeze_panes(1, 0)?;
    for (c, (_, header)) in cols.iter().enumerate() {
        let width = (header.chars().count() + 2).clamp(12, 40) as f64;
        ws.set_column_width(c as ColNum, width)?;
        ws.write_string_with_format(0, c as ColNum, header, &st.key_header)?;
    }
    let mut row = 0u32;
    for (unit, record) in rows {
        row += 1;
        for (c, (col, _)) in cols.iter().enumerate() {
            let col_num = c as ColNum;
            match col {
                Col::Unit(source) => {
                    let v = match source {
                        Source::UnitCode => unit.code.as_str(),
                        Source::UnitRegistrationCode => unit.registration_code.as_str(),
                        Source::UnitName => unit.name.as_str(),
                        Source::AssetType => form.asset_type.code.as_str(),
                        Source::FormCode => form.code.as_str(),
                        Source::Fields => "",
                    };
                    if !v.is_empty() {
                        ws.write_string(row, col_num, cell_text(v))?;
                    }
                }
                Col::Field(f) => {
                    if let Some(value) = record.get(&f.key) {
                        write_value(ws, row, col_num, profile, f, value, &date, &text)?;
                    }
                }
                Col::Docs(f, part) => {
                    if let Some(Value::Docs(docs)) = record.get(&f.key) {
                        write_docs(ws, row, col_num, f, docs, *part, &date, &text)?;
                    }
                }
            }
        }
    }
    Ok(wb.save_to_writer(out)?)
}

#[allow(clippy::too_many_arguments)]
fn write_value(
    ws: &mut Worksheet,
    row: u32,
    col: ColNum,
    profile: &Profile,
    f: &FieldDef,
    value: &Value,
    date: &Format,
    text: &Format,
) -> Result<(), ExportError> {
    match value {
        Value::Int(_) | Value::Money(_) | Value::Milli(_) => {
            ws.write_number(row, col, as_f64(value).unwrap_or_default())?;
        }
        Value::Date(d) => write_date(ws, row, col, *d, date, text)?,
        Value::Bool(b) => {
            ws.write_boolean(row, col, *b)?;
        }
        Value::Code(s) => {
            ws.write_string(row, col, cell_text(profile.crosswalk(&f.key, s)))?;
        }
        Value::Text(s) => {
            ws.write_string(row, col, cell_text(s))?;
        }
        Value::Docs(_) => {
            ws.write_string(row, col, cell_text(&value.to_text(f)))?;
        }
    }
    Ok(())
}

/// One part of a list of documents: `; `-separated when there are several; a single
/// document's date is a date cell.
#[allow(clippy::too_many_arguments)]
fn write_docs(
    ws: &mut Worksheet,
    row: u32,
    col: ColNum,
    f: &FieldDef,
    docs: &[LegalDoc],
    part: DocPart,
    date: &Format,
    text: &Format,
) -> Result<(), ExportError> {
    if docs.is_empty() {
        return Ok(());
    }
    let joined = match part {
        DocPart::Kind => docs
            .iter()
            .map(|d| {
                f.option(&d.kind)
                    .map(|o| o.label.vi.as_str())
                    .unwrap_or(&d.kind)
            })
            .collect::<Vec<_>>()
            .join("; "),
        DocPart::Number => docs
            .iter()
            .map(|d| d.number.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        DocPart::Date => {
            if let [LegalDoc { date: Some(d), .. }] = docs {
                write_date(ws, row, col, *d, date, text)?;
                return Ok(());
            }
            docs.iter()
                .map(|d| {
                    d.date
                        .map(|d| d.format("%d/%m/%Y").to_string())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    if !joined.trim_matches([';', ' ']).is_empty() {
        ws.write_string(row, col, cell_text(&joined))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use calamine::Data;

    use super::*;
    use crate::forms::profile::EMBEDDED_PROFILES;
    use crate::workbooks::write::testutil::{
        at, form, num, records_01a, records_20a, sheet_names, test_form, values,
    };

    #[test]
    fn flat_sheet_has_keys_in_row_one_and_one_typed_row_per_record() {
        let form = form("01a");
        let bytes = flat(&form, records_01a()).unwrap();
        assert_eq!(sheet_names(&bytes), vec!["flat_01a"]);
        let v = values(&bytes, "flat_01a");
        for (c, key) in form.flat_columns.iter().enumerate() {
            assert_eq!(&at(&v, 0, c as u32), key);
        }
        let col = |k: &str| form.flat_columns.iter().position(|x| x == k).unwrap() as u32;
        assert_eq!(at(&v, 1, col("section")), "I");
        assert_eq!(at(&v, 1, col("code")), "DAT-01");
        assert_eq!(at(&v, 1, col("usage_status")), "1", "enums are codes");
        assert_eq!(at(&v, 1, col("origin")), "transferred_in");
        assert_eq!(num(&v, 1, col("qty_books")), Some(1250.5));
        assert_eq!(num(&v, 1, col("original_cost")), Some(4_500_000_000.0));
        assert_eq!(
            at(&v, 1, col("legal_documents")),
            "Giấy chứng nhận QSDĐ số BĐ 123456 ngày 12/05/2010"
        );
        assert_eq!(at(&v, 4, col("section")), "III");
        assert_eq!(at(&v, 5, col("code")), "", "no totals, no signature");
    }

    #[test]
    fn flat_dates_are_date_cells_and_booleans_boolean_cells() {
        let form = test_form();
        let bytes = flat(&form, records_20a()).unwrap();
        let v = values(&bytes, "flat_20a");
        let date = v.get_value((1, 2)).unwrap();
        assert!(matches!(date, Data::DateTime(_)), "{date:?}");
        assert_eq!(v.get_value((1, 3)), Some(&Data::Bool(true)));
        // Before 1900 Excel has no date: the date is written as text.
        assert_eq!(at(&v, 2, 2), "01/06/1899");
    }

    fn unit() -> Arc<UnitCells> {
        Arc::new(UnitCells {
            code: "1109301".into(),
            registration_code: "TT0001".into(),
            name: "UBND phường Tam Thanh".into(),
        })
    }

    fn checked_profiles(profiles: Profiles) -> crate::forms::Registry {
        crate::forms::Registry::embedded()
            .and_then(|r| r.with_profiles(profiles))
            .expect("the profiles fit the built-in forms")
    }

    #[test]
    fn the_national_draft_profile_writes_vietnamese_headers_unit_codes_and_split_documents() {
        let registry = checked_profiles(Profiles::embedded().unwrap());
        let profile = registry.profiles().get("national-draft").unwrap();
        assert!(
            profile.provisional,
            "marked provisional until the template is published"
        );
        let form = form("01a");
        let rows = records_01a().into_iter().map(|r| (unit(), r));
        let bytes = flat_with(profile, &form, false, rows).unwrap();
        assert_eq!(sheet_names(&bytes), vec!["Mau_01a"]);
        let v = values(&bytes, "Mau_01a");
        let col = |h: &str| {
            (0..80)
                .find(|&c| at(&v, 0, c) == h)
                .unwrap_or_else(|| panic!("no header {h:?}"))
        };
        assert_eq!(at(&v, 0, 0), "Mã đơn vị quan hệ ngân sách");
        assert_eq!(at(&v, 0, 1), "Mã đăng ký kiểm kê");
        assert_eq!(at(&v, 0, 2), "Tên đơn vị");
        assert_eq!(at(&v, 0, 3), "Mã loại tài sản");
        assert_eq!(at(&v, 0, 4), "Nhóm tài sản");
        for r in 1..=4 {
            assert_eq!(at(&v, r, 0), "1109301", "the unit's code on row {r}");
            assert_eq!(at(&v, r, 1), "TT0001");
            assert_eq!(at(&v, r, 3), "01");
        }
        assert_eq!(at(&v, 1, 4), "1", "section I crosswalked");
        assert_eq!(at(&v, 4, 4), "3", "section III crosswalked");
        assert_eq!(at(&v, 1, col("Mã tài sản")), "DAT-01");
        assert_eq!(at(&v, 1, col("Tình trạng sử dụng")), "1");
        assert_eq!(
            at(&v, 1, col("Nguồn gốc hình thành")),
            "3",
            "transferred_in"
        );
        assert_eq!(at(&v, 1, col("Cơ sở xác định giá")), "1", "actual");
        assert_eq!(
            num(&v, 1, col("Nguyên giá - Tổng cộng (đồng)")),
            Some(4_500_000_000.0)
        );
        assert_eq!(
            at(&v, 1, col("Hồ sơ pháp lý - Loại văn bản")),
            "Giấy chứng nhận QSDĐ"
        );
        assert_eq!(at(&v, 1, col("Hồ sơ pháp lý - Số")), "BĐ 123456");
        let date = v
            .get_value((1, col("Hồ sơ pháp lý - Ngày ban hành")))
            .unwrap();
        // 12/05/2010 is day 40310 of Excel's calendar.
        assert!(
            matches!(date, Data::DateTime(d) if d.as_f64() == 40310.0),
            "a date cell of 12/05/2010: {date:?}"
        );
        assert!(
            (0..80).all(|c| at(&v, 0, c) != "Hồ sơ pháp lý"),
            "no single documents column"
        );
    }

    #[test]
    fn the_kiemke_profile_adds_the_unit_code_only_to_a_ward_file() {
        let profiles = Profiles::embedded().unwrap();
        let kiemke = profiles.get(DEFAULT_PROFILE).unwrap();
        let form = form("01a");
        let rows = || records_01a().into_iter().map(|r| (unit(), r));
        let one = values(
            &flat_with(kiemke, &form, false, rows()).unwrap(),
            "flat_01a",
        );
        assert_eq!(at(&one, 0, 0), "section");
        let ward = values(&flat_with(kiemke, &form, true, rows()).unwrap(), "flat_01a");
        assert_eq!(at(&ward, 0, 0), "unit_code");
        assert_eq!(at(&ward, 0, 1), "section");
        assert_eq!(at(&ward, 4, 0), "1109301");
        assert_eq!(at(&ward, 4, 2), "XE-01");
    }

    #[test]
    fn a_profile_directory_changes_the_layout_without_a_code_change() {
        let dir = std::env::temp_dir().join(format!("kiemke-profiles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let kiemke = EMBEDDED_PROFILES
            .iter()
            .find(|(n, _)| *n == "kiemke.toml")
            .unwrap()
            .1;
        std::fs::write(dir.join("kiemke.toml"), kiemke).unwrap();
        std::fs::write(
            dir.join("tinh.toml"),
            r#"
code = "tinh"
name = { vi = "Mẫu của tỉnh", en = "Province template" }
sheet = "Tinh {form}"
field_headers = "label"
[[columns]]
source = "form_code"
header = "Mẫu số"
[[columns]]
source = "fields"
[headers]
code = "Mã TS"
[crosswalk.usage_status]
"1" = "DSD"
"#,
        )
        .unwrap();
        let registry = checked_profiles(Profiles::from_dir(&dir).unwrap());
        let profile = registry.profiles().get("tinh").unwrap();
        let form = form("01a");
        let rows = records_01a().into_iter().map(|r| (unit(), r));
        let v = values(&flat_with(profile, &form, false, rows).unwrap(), "Tinh 01a");
        assert_eq!(at(&v, 0, 0), "Mẫu số");
        assert_eq!(at(&v, 1, 0), "01a");
        assert_eq!(at(&v, 0, 1), "Phần");
        assert_eq!(at(&v, 0, 2), "Mã TS");
        assert_eq!(at(&v, 1, 2), "DAT-01");
        let status = (0..80)
            .find(|&c| at(&v, 0, c) == "Tình trạng sử dụng")
            .unwrap();
        assert_eq!(at(&v, 1, status), "DSD");
        assert_eq!(
            at(
                &v,
                1,
                (0..80).find(|&c| at(&v, 0, c) == "Hồ sơ pháp lý").unwrap()
            ),
            "Giấy chứng nhận QSDĐ số BĐ 123456 ngày 12/05/2010",
            "documents stay one cell without [documents]"
        );
        // A crosswalk naming a code no form has is refused at start-up, naming the profile.
        std::fs::write(
            dir.join("tinh.toml"),
            "code = \"tinh\"\nname = { vi = \"a\", en = \"a\" }\nsheet = \"T\"\nfield_headers = \"key\"\n\
             [[columns]]\nsource = \"fields\"\n[crosswalk.origin]\nstolen = \"9\"\n",
        )
        .unwrap();
        let err = crate::forms::Registry::embedded()
            .unwrap()
            .with_profiles(Profiles::from_dir(&dir).unwrap())
            .unwrap_err();
        assert_eq!(err.file, "profile tinh");
        assert!(err.reason.contains("stolen"), "{err}");
        // Without the kiemke profile the directory is refused.
        std::fs::remove_file(dir.join("kiemke.toml")).unwrap();
        let err = Profiles::from_dir(&dir).unwrap_err();
        assert!(err.reason.contains("kiemke"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
