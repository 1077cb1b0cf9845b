//! Test helpers shared by the export and import tests: the embedded forms, sample
//! records, and reading a written workbook back with calamine.

use std::{io::Cursor, sync::Arc};

use calamine::{Data, Range, Reader, Xlsx};
use chrono::NaiveDate;

use super::SheetHeader;
use crate::forms::{Form, LegalDoc, Record, Registry, Value};

pub(crate) fn form(code: &str) -> Arc<Form> {
    let registry = Registry::embedded().expect("embedded forms load");
    registry.form(code).expect("form exists").clone()
}

/// A form with a date, a boolean and a one-decimal field, for what the real forms lack.
pub(crate) fn test_form() -> Arc<Form> {
    let own = r#"
form_code = "20a"
version = "test"
provenance = "proposed"
title = { vi = "PHIẾU THỬ", en = "TEST FORM" }
flat_columns = ["code", "name", "inspected_on", "checked", "weight", "original_cost", "usage_status"]

[asset_type]
code = "20"
name = { vi = "Tài sản thử", en = "Test assets" }
group = "infrastructure"

[[fields]]
key = "inspected_on"
label = { vi = "Ngày kiểm tra", en = "Inspected on" }
type = "date"

[[fields]]
key = "checked"
label = { vi = "Đã kiểm tra", en = "Checked" }
type = "boolean"

[[fields]]
key = "weight"
label = { vi = "Khối lượng", en = "Weight" }
type = "decimal"
scale = 1
unit = "tấn"

[[columns]]
field = "code"

[[columns]]
field = "name"

[[columns]]
field = "inspected_on"

[[columns]]
field = "checked"

[[columns]]
field = "weight"

[[columns]]
field = "original_cost"

[[columns]]
field = "usage_status"
"#;
    let registry = Registry::from_sources([
        (
            "common.toml".to_string(),
            include_str!("../../../forms/common.toml").to_string(),
        ),
        ("20a.toml".to_string(), own.to_string()),
    ])
    .expect("test form loads");
    registry.form("20a").expect("test form").clone()
}

/// The ward's header, as the consolidated sheets get it: no unit kind, address or team.
pub(crate) fn ward_header() -> SheetHeader {
    SheetHeader {
        unit_kind: String::new(),
        unit_address: String::new(),
        team_decision: String::new(),
        team: Vec::new(),
        ..header()
    }
}

pub(crate) fn header() -> SheetHeader {
    SheetHeader {
        superior_body: "UBND PHƯỜNG TAM THANH".into(),
        unit_name: "Trường Tiểu học Tam Thanh".into(),
        unit_code: "1012345".into(),
        cutoff_label: "0 giờ ngày 01/01/2026".into(),
        place: "Tam Thanh".into(),
        unit_kind: "Trường học".into(),
        unit_address: "Số 5 đường Tam Thanh, phường Tam Thanh".into(),
        team_decision: "Quyết định số 01/QĐ-TKK ngày 12/01/2026".into(),
        team: vec![
            super::TeamLine {
                name: "Nguyễn Văn An".into(),
                position: "Hiệu trưởng".into(),
                role: "Tổ trưởng".into(),
            },
            super::TeamLine {
                name: "Trần Thị Bình".into(),
                position: "Kế toán".into(),
                role: "Thành viên".into(),
            },
        ],
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn rec(pairs: Vec<(&str, Value)>) -> Record {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn code(s: &str) -> Value {
    Value::Code(s.to_string())
}

/// Three land plots (I) and one car (III) of form 01a, ordered by section then code.
pub(crate) fn records_01a() -> Vec<Record> {
    vec![
        rec(vec![
            ("section", code("I")),
            ("code", text("DAT-01")),
            ("name", text("Khu đất trụ sở UBND phường")),
            ("location", text("Số 1 đường Tam Thanh")),
            ("unit_of_measure", text("m²")),
            ("qty_books", Value::Milli(1_250_500)),
            ("qty_counted", Value::Milli(1_250_500)),
            ("qty_difference", Value::Milli(0)),
            ("land_certificate_no", text("BĐ 123456")),
            ("area_office", Value::Milli(1_000_000)),
            ("area_public_service", Value::Milli(250_500)),
            ("original_cost", Value::Money(4_500_000_000)),
            ("original_cost_budget", Value::Money(4_500_000_000)),
            ("original_cost_other", Value::Money(0)),
            ("depreciation", Value::Money(0)),
            ("remaining_value", Value::Money(4_500_000_000)),
            ("price_basis", code("actual")),
            ("usage_status", code("1")),
            ("origin", code("transferred_in")),
            ("year_in_use", Value::Int(2005)),
            (
                "legal_documents",
                Value::Docs(vec![LegalDoc {
                    kind: "land_use_certificate".into(),
                    number: "BĐ 123456".into(),
                    date: Some(date(2010, 5, 12)),
                }]),
            ),
            ("note", text("Đất trụ sở")),
        ]),
        rec(vec![
            ("section", code("I")),
            ("code", text("DAT-02")),
            ("name", text("Khu đất nhà văn hóa")),
            ("unit_of_measure", text("m²")),
            ("qty_books", Value::Milli(300_000)),
            ("qty_counted", Value::Milli(290_250)),
            ("qty_difference", Value::Milli(9_750)),
            ("area_public_service", Value::Milli(290_250)),
            ("original_cost", Value::Money(1_200_000_000)),
            ("original_cost_budget", Value::Money(1_000_000_000)),
            ("original_cost_other", Value::Money(200_000_000)),
            ("depreciation", Value::Money(0)),
            ("remaining_value", Value::Money(1_200_000_000)),
            ("price_basis", code("actual")),
            ("usage_status", code("3")),
            ("year_in_use", Value::Int(2012)),
        ]),
        rec(vec![
            ("section", code("I")),
            ("code", text("DAT-03")),
            ("name", text("Đất bỏ trống")),
            ("original_cost", Value::Money(1)),
            ("remaining_value", Value::Money(1)),
            ("price_basis", code("conventional")),
            ("usage_status", code("4")),
        ]),
        rec(vec![
            ("section", code("III")),
            ("code", text("XE-01")),
            ("name", text("Xe ô tô 7 chỗ")),
            ("unit_of_measure", text("chiếc")),
            ("qty_books", Value::Milli(1_000)),
            ("qty_counted", Value::Milli(1_000)),
            ("qty_difference", Value::Milli(0)),
            ("make_model", text("Toyota Innova 2.0E")),
            ("license_plate", text("12A-345.67")),
            ("seats", Value::Int(7)),
            ("car_category", code("general")),
            ("year_of_manufacture", Value::Int(2018)),
            ("year_in_use", Value::Int(2018)),
            ("original_cost", Value::Money(850_000_000)),
            ("original_cost_budget", Value::Money(850_000_000)),
            ("original_cost_other", Value::Money(0)),
            ("depreciation", Value::Money(425_000_000)),
            ("remaining_value", Value::Money(425_000_000)),
            ("price_basis", code("actual")),
            ("usage_status", code("2")),
            ("origin", code("purchased")),
            (
                "legal_documents",
                Value::Docs(vec![LegalDoc {
                    kind: "vehicle_registration".into(),
                    number: "012345".into(),
                    date: None,
                }]),
            ),
        ]),
    ]
}

/// Two road sections of form 02a.
pub(crate) fn records_02a() -> Vec<Record> {
    vec![
        rec(vec![
            ("code", text("DB-01")),
            ("name", text("Đường Tam Thanh")),
            ("route_code", text("ĐP.01")),
            ("management_class", code("ward")),
            ("technical_grade", text("cấp V")),
            ("start_point", text("Km0")),
            ("end_point", text("Km2+350")),
            ("length_km", Value::Milli(2_350)),
            ("subgrade_width_m", Value::Milli(7_500)),
            ("surface_width_m", Value::Milli(5_500)),
            ("surface_type", code("asphalt_concrete")),
            ("bridge_count", Value::Int(1)),
            ("bridge_length_m", Value::Milli(24_000)),
            ("culvert_count", Value::Int(6)),
            ("land_area", Value::Milli(17_625_000)),
            ("year_in_use", Value::Int(2015)),
            ("original_cost", Value::Money(12_000_000_000)),
            ("original_cost_budget", Value::Money(12_000_000_000)),
            ("original_cost_other", Value::Money(0)),
            ("depreciation", Value::Money(3_300_000_000)),
            ("remaining_value", Value::Money(8_700_000_000)),
            ("price_basis", code("actual")),
            ("usage_status", code("1")),
            ("origin", code("built")),
            ("managing_unit", text("UBND phường Tam Thanh")),
        ]),
        rec(vec![
            ("code", text("DB-02")),
            ("name", text("Ngõ 12 Lê Lợi")),
            ("management_class", code("alley")),
            ("length_km", Value::Milli(350)),
            ("surface_type", code("cement_concrete")),
            ("original_cost", Value::Money(1)),
            ("original_cost_budget", Value::Money(1)),
            ("depreciation", Value::Money(0)),
            ("remaining_value", Value::Money(1)),
            ("price_basis", code("conventional")),
            ("usage_status", code("1")),
        ]),
    ]
}

/// Two facilities of form 18a, one already on a unit's books.
pub(crate) fn records_18a() -> Vec<Record> {
    vec![
        rec(vec![
            ("code", text("VH-01")),
            ("name", text("Nhà văn hóa khối 5")),
            ("facility_kind", code("group_house")),
            ("residential_group", text("Khối 5")),
            ("land_area", Value::Milli(450_000)),
            ("building_grade", code("IV")),
            ("year_built", Value::Int(2010)),
            ("floors", Value::Int(1)),
            ("floor_area", Value::Milli(120_500)),
            ("hall_seats", Value::Int(80)),
            ("original_cost", Value::Money(900_000_000)),
            ("original_cost_budget", Value::Money(600_000_000)),
            ("original_cost_other", Value::Money(300_000_000)),
            ("cost_community", Value::Money(200_000_000)),
            ("cost_private", Value::Money(100_000_000)),
            ("depreciation", Value::Money(270_000_000)),
            ("remaining_value", Value::Money(630_000_000)),
            ("price_basis", code("actual")),
            ("usage_status", code("1")),
            ("on_unit_books", Value::Bool(false)),
        ]),
        rec(vec![
            ("code", text("TT-01")),
            ("name", text("Sân thể thao phường")),
            ("facility_kind", code("stadium")),
            ("sports_ground_area", Value::Milli(5_000_000)),
            ("original_cost", Value::Money(2_000_000_000)),
            ("original_cost_budget", Value::Money(2_000_000_000)),
            ("depreciation", Value::Money(0)),
            ("remaining_value", Value::Money(2_000_000_000)),
            ("price_basis", code("actual")),
            ("usage_status", code("2")),
            ("on_unit_books", Value::Bool(true)),
        ]),
    ]
}

/// Two records of the test form, with a date, a boolean and a decimal.
pub(crate) fn records_20a() -> Vec<Record> {
    vec![
        rec(vec![
            ("code", text("T-1")),
            ("name", text("Thử một")),
            ("inspected_on", Value::Date(date(2025, 12, 31))),
            ("checked", Value::Bool(true)),
            ("weight", Value::Milli(12_500)),
            ("original_cost", Value::Money(15_000_000)),
            ("usage_status", code("1")),
        ]),
        rec(vec![
            ("code", text("T-2")),
            ("name", text("Thử hai")),
            ("inspected_on", Value::Date(date(1899, 6, 1))),
            ("checked", Value::Bool(false)),
            ("original_cost", Value::Money(20_000_000)),
        ]),
    ]
}

fn book(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    Xlsx::new(Cursor::new(bytes.to_vec())).expect("written workbook opens")
}

/// Cell values of a sheet (formula cells hold their cached result).
pub(crate) fn values(bytes: &[u8], sheet: &str) -> Range<Data> {
    book(bytes).worksheet_range(sheet).expect("sheet exists")
}

/// Formulas of a sheet.
pub(crate) fn formulas(bytes: &[u8], sheet: &str) -> Range<String> {
    book(bytes).worksheet_formula(sheet).expect("sheet exists")
}

/// Sheet names, in order.
pub(crate) fn sheet_names(bytes: &[u8]) -> Vec<String> {
    book(bytes).sheet_names()
}

/// A cell as text (`""` when empty), by 0-based position.
pub(crate) fn at(range: &Range<Data>, row: u32, col: u32) -> String {
    match range.get_value((row, col)) {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) => s.clone(),
        Some(Data::Float(f)) => f.to_string(),
        Some(Data::Int(n)) => n.to_string(),
        Some(other) => other.to_string(),
    }
}

/// A numeric cell, by 0-based position.
pub(crate) fn num(range: &Range<Data>, row: u32, col: u32) -> Option<f64> {
    match range.get_value((row, col)) {
        Some(Data::Float(f)) => Some(*f),
        Some(Data::Int(n)) => Some(*n as f64),
        Some(Data::DateTime(d)) => Some(d.as_f64()),
        _ => None,
    }
}

/// The 0-based position of the first cell whose text is exactly `text`.
pub(crate) fn find(range: &Range<Data>, text: &str) -> Option<(u32, u32)> {
    range.cells().find_map(|(r, c, v)| match v {
        Data::String(s) if s == text => {
            let (r0, c0) = range.start().unwrap_or((0, 0));
            Some((r0 + r as u32, c0 + c as u32))
        }
        _ => None,
    })
}
