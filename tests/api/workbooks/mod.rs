//! Workbooks: standard forms out, accountants' workbooks in — read back and round-tripped —
//! and hostile files refused.

mod by_node;
mod export;
mod form_layouts;
mod hostile_files;
mod hostile_uploads;
mod import;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::support::*;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Every non-empty cell of the first sheet, as (row, col, text) with 0-based positions.
fn cells(bytes: &[u8]) -> Vec<(u32, u32, Data)> {
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an xlsx");
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).expect("sheet");
    let (r0, c0) = range.start().unwrap_or((0, 0));
    range
        .cells()
        .filter(|(_, _, d)| !matches!(d, Data::Empty))
        .map(|(r, c, d)| (r as u32 + r0, c as u32 + c0, d.clone()))
        .collect()
}

fn find<'a>(cells: &'a [(u32, u32, Data)], text: &str) -> Option<&'a (u32, u32, Data)> {
    cells
        .iter()
        .find(|(_, _, d)| matches!(d, Data::String(s) if s == text))
}

fn number_at(cells: &[(u32, u32, Data)], row: u32, col: u32) -> f64 {
    cells
        .iter()
        .find(|(r, c, _)| *r == row && *c == col)
        .and_then(|(_, _, d)| match d {
            Data::Float(f) => Some(*f),
            Data::Int(i) => Some(*i as f64),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no number at row {row}, col {col}"))
}

async fn demo_unit(app: &TestApp, admin: &str, code: &str) -> i64 {
    let units = app
        .call("GET", &format!("/api/v1/units?q={code}"))
        .token(admin)
        .send()
        .await
        .json();
    units["items"][0]["id"].as_i64().unwrap()
}
