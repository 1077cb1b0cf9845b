//! The flat sheet: row 1 holds the field keys of `form.flat_columns`, then one row
//! per asset. Enums are codes, numbers plain numeric cells, dates date cells,
//! booleans boolean cells. No merged cells, no totals: a machine format that also
//! round-trips through the importer.

use rust_xlsxwriter::ColNum;

use super::{
    ExportError,
    style::{NumKind, Styles, as_f64, base, cell_text, new_workbook, write_date},
};
use crate::forms::{FieldDef, Form, Record, Value};

/// Writes `records` in the flat layout of `form`, one row each, in the order given.
pub fn flat<I>(form: &Form, records: I) -> Result<Vec<u8>, ExportError>
where
    I: IntoIterator<Item = Record>,
{
    let fields: Vec<&FieldDef> = form
        .flat_columns
        .iter()
        .filter_map(|k| form.field(k))
        .collect();
    let st = Styles::new();
    let date = base().set_num_format(NumKind::Date.pattern());
    let text = base();
    let mut wb = new_workbook()?;
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.set_name(format!("flat_{}", form.code))?;
    ws.set_freeze_panes(1, 0)?;
    for (c, f) in fields.iter().enumerate() {
        let width = (f.key.len() + 2).clamp(12, 40) as f64;
        ws.set_column_width(c as ColNum, width)?;
        ws.write_string_with_format(0, c as ColNum, &f.key, &st.key_header)?;
    }
    let mut row = 0u32;
    for record in records {
        row += 1;
        for (c, f) in fields.iter().enumerate() {
            let col = c as ColNum;
            let Some(value) = record.get(&f.key) else {
                continue;
            };
            match value {
                Value::Int(_) | Value::Money(_) | Value::Milli(_) => {
                    ws.write_number(row, col, as_f64(value).unwrap_or_default())?;
                }
                Value::Date(d) => write_date(ws, row, col, *d, &date, &text)?,
                Value::Bool(b) => {
                    ws.write_boolean(row, col, *b)?;
                }
                Value::Code(s) | Value::Text(s) => {
                    ws.write_string(row, col, cell_text(s))?;
                }
                Value::Docs(_) => {
                    ws.write_string(row, col, cell_text(&value.to_text(f)))?;
                }
            }
        }
    }
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use calamine::Data;

    use super::*;
    use crate::export::testutil::{
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
}
