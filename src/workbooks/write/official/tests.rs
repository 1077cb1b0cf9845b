use std::io::Read;

use rust_xlsxwriter::column_number_to_name;

use super::*;
use crate::workbooks::write::testutil::{
    at, find, form, formulas, header, num, records_01a, records_02a, records_18a, sheet_names,
    values,
};

/// Sheet column (0-based) of a field on the official form: STT comes first.
fn col(form: &Form, key: &str) -> u32 {
    form.columns
        .iter()
        .position(|c| c.field == key)
        .map(|i| i as u32 + 1)
        .expect("field is a column")
}

/// Sheet column (0-based) of a field in the table of `section` (01a: one table per section).
fn col_in(form: &Form, section: &str, key: &str) -> u32 {
    form.table_columns(Some(section))
        .iter()
        .position(|c| c.field == key)
        .map(|i| i as u32 + 1)
        .expect("field is a column of the section")
}

fn letter(form: &Form, key: &str) -> String {
    column_number_to_name(col(form, key) as u16)
}

fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("xlsx is a zip");
    let mut s = String::new();
    zip.by_name(name)
        .expect("part exists")
        .read_to_string(&mut s)
        .expect("part is text");
    s
}

// Fixed rows of the layout (0-based) with the test header: unit block 0–4 (superior body, unit,
// code, kind, address), title 6, cut-off 7, value unit 8, hidden keys 9, group headers 10,
// field headers 11, numbering 12, data from 13.
const TITLE: u32 = 6;
const MARKER: u32 = 9;
const GROUPS: u32 = 10;
const FIELDS: u32 = 11;
const NUMBERS: u32 = 12;
const DATA: u32 = 13;

#[test]
fn official_01a_reads_back_as_the_form_officials_expect() {
    let form = form("01a");
    let bytes = official_form(&form, &header(), records_01a()).unwrap();
    assert_eq!(sheet_names(&bytes), vec!["01a"]);
    let v = values(&bytes, "01a");
    let col = |section: &str, key: &str| col_in(&form, section, key);

    // Frame: unit block left, form number and motto right, title and cut-off across.
    assert_eq!(at(&v, 0, 0), "UBND PHƯỜNG TAM THANH");
    assert_eq!(at(&v, 1, 0), "Trường Tiểu học Tam Thanh");
    assert_eq!(at(&v, 2, 0), "Mã đơn vị: 1012345");
    let (r, c) = find(&v, "Mẫu số 01a").unwrap();
    assert_eq!(r, 0);
    assert!(c > 6, "form number sits on the right");
    assert_eq!(at(&v, 1, c), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    assert_eq!(at(&v, 2, c), "Độc lập - Tự do - Hạnh phúc");
    assert_eq!(at(&v, TITLE, 0), form.title.vi.to_uppercase());
    assert_eq!(
        at(&v, TITLE + 1, 0),
        "Thời điểm kiểm kê: 0 giờ ngày 01/01/2026"
    );
    assert_eq!(find(&v, "Đơn vị tính giá trị: đồng").unwrap().0, TITLE + 2);

    // Table I: its own key row, headers and numbering, with only land's columns.
    assert_eq!(at(&v, MARKER, 0), "kiemke:01a");
    assert_eq!(at(&v, MARKER, col("I", "original_cost")), "original_cost");
    assert_eq!(at(&v, MARKER, col("I", "area_office")), "area_office");
    let width_i = form.table_columns(Some("I")).len() as u32;
    assert_eq!(
        at(&v, MARKER, width_i + 1),
        "",
        "the table ends with its columns"
    );
    assert!(
        !(1..=width_i).any(|c| at(&v, MARKER, c) == "license_plate"),
        "no car column in the land table"
    );
    assert_eq!(at(&v, GROUPS, 0), "STT");
    for (row, key, title) in [
        (GROUPS, "code", "Mã tài sản"),
        (GROUPS, "name", "Tên tài sản"),
        (GROUPS, "qty_books", "Số lượng/diện tích"),
        (FIELDS, "qty_books", "Theo sổ kế toán"),
        (FIELDS, "qty_counted", "Theo kiểm kê"),
        (GROUPS, "original_cost", "Nguyên giá (đồng)"),
        (FIELDS, "original_cost", "Tổng cộng"),
        (GROUPS, "usage_status", "Tình trạng sử dụng"),
        (GROUPS, "depreciation", "Giá trị hao mòn lũy kế (đồng)"),
    ] {
        assert_eq!(at(&v, row, col("I", key)), title, "{key} in row {row}");
    }
    assert_eq!(at(&v, NUMBERS, 0), "(1)");
    assert_eq!(at(&v, NUMBERS, 2), "(3)");
    assert_eq!(at(&v, NUMBERS, width_i), format!("({})", width_i + 1));

    // Section I, its three plots, its subtotal.
    let sec1 = NUMBERS + 1;
    assert_eq!(at(&v, sec1, 0), "I. Đất (đơn vị tính: m²)");
    let d = sec1 + 1;
    assert_eq!(num(&v, d, 0), Some(1.0));
    assert_eq!(at(&v, d, col("I", "code")), "DAT-01");
    assert_eq!(num(&v, d, col("I", "qty_books")), Some(1250.5));
    assert_eq!(num(&v, d, col("I", "year_in_use")), Some(2005.0));
    assert_eq!(num(&v, d, col("I", "original_cost")), Some(4_500_000_000.0));
    assert_eq!(
        at(&v, d, col("I", "usage_status")),
        "Còn sử dụng được, đang sử dụng đúng mục đích"
    );
    assert_eq!(at(&v, d, col("I", "origin")), "Được giao, điều chuyển đến");
    assert_eq!(
        at(&v, d, col("I", "legal_documents")),
        "Giấy chứng nhận QSDĐ số BĐ 123456 ngày 12/05/2010"
    );
    assert_eq!(num(&v, d + 2, 0), Some(3.0));
    let sub1 = d + 3;
    assert_eq!(at(&v, sub1, 0), "Cộng phần I");
    assert_eq!(
        num(&v, sub1, col("I", "original_cost")),
        Some(5_700_000_001.0),
        "cached subtotal is the sum of the section"
    );
    assert_eq!(num(&v, sub1, col("I", "area_public_service")), Some(540.75));
    assert_eq!(
        num(&v, sub1, col("I", "area_housing")),
        None,
        "a summed column without values stays blank"
    );
    assert_eq!(
        num(&v, sub1, col("I", "qty_books")),
        None,
        "quantities are not summed"
    );
    let f = formulas(&bytes, "01a");
    let oc = column_number_to_name(col("I", "original_cost") as u16);
    assert_eq!(
        f.get_value((sub1, col("I", "original_cost"))).unwrap(),
        &format!("SUM({oc}{}:{oc}{})", d + 1, sub1)
    );

    // Section II prints its own table (a blank line, key row, three head rows), empty.
    let t2 = sub1 + 2;
    assert_eq!(at(&v, t2, 0), "kiemke:01a");
    assert_eq!(at(&v, t2, col("II", "floor_area")), "floor_area");
    assert_eq!(at(&v, t2 + 4, 0), "II. Nhà (đơn vị tính: m²)");
    assert_eq!(at(&v, t2 + 5, 0), "Cộng phần II");
    assert_eq!(num(&v, t2 + 5, col("II", "original_cost")), None);
    // Section III holds the car, under the car columns.
    let t3 = t2 + 7;
    assert_eq!(at(&v, t3, col("III", "license_plate")), "license_plate");
    assert_eq!(at(&v, t3 + 4, 0), "III. Xe ô tô (đơn vị tính: chiếc)");
    assert_eq!(
        num(&v, t3 + 5, 0),
        Some(1.0),
        "STT restarts in each section"
    );
    assert_eq!(
        at(&v, t3 + 5, col("III", "car_category")),
        "Xe phục vụ công tác chung"
    );
    let sub3 = t3 + 6;
    assert_eq!(at(&v, sub3, 0), "Cộng phần III");
    let t4 = sub3 + 2;
    assert_eq!(
        at(&v, t4 + 4, 0),
        "IV. Tài sản cố định khác (đơn vị tính: cái)"
    );
    let sub4 = t4 + 5;
    assert_eq!(at(&v, sub4, 0), "Cộng phần IV");

    // Grand total under the last table: the sum of the subtotal cells that hold one.
    let total = sub4 + 1;
    assert_eq!(at(&v, total, 0), "TỔNG CỘNG");
    assert_eq!(
        num(&v, total, col("IV", "original_cost")),
        Some(6_550_000_001.0)
    );
    assert_eq!(
        num(&v, total, col("IV", "remaining_value")),
        Some(6_125_000_001.0)
    );
    let refs = [
        (sub1, col("I", "original_cost")),
        (sub3, col("III", "original_cost")),
    ]
    .map(|(r, c)| format!("{}{}", column_number_to_name(c as u16), r + 1));
    assert_eq!(
        f.get_value((total, col("IV", "original_cost"))).unwrap(),
        &refs.join("+")
    );

    // The inventory team from the registration, then the signature block, where the
    // team's leader signs beside the chief accountant and writes their name.
    assert_eq!(
        at(&v, total + 2, 0),
        "Tổ kiểm kê theo Quyết định số 01/QĐ-TKK ngày 12/01/2026:"
    );
    assert_eq!(
        at(&v, total + 3, 0),
        "1. Nguyễn Văn An – Hiệu trưởng – Tổ trưởng"
    );
    assert_eq!(
        at(&v, total + 4, 0),
        "2. Trần Thị Bình – Kế toán – Thành viên"
    );
    let (r, c) = find(&v, "Tam Thanh, ngày … tháng … năm …").unwrap();
    assert_eq!(r, total + 6);
    let (r1, c1) = find(&v, "NGƯỜI LẬP BIỂU").unwrap();
    let (r2, c2) = find(&v, "KẾ TOÁN TRƯỞNG").unwrap();
    let (r4, c4) = find(&v, "TỔ TRƯỞNG TỔ KIỂM KÊ").unwrap();
    let (r3, c3) = find(&v, "THỦ TRƯỞNG ĐƠN VỊ").unwrap();
    assert_eq!((r1, r2, r3, r4), (r + 1, r + 1, r + 1, r + 1));
    assert!(c1 < c2 && c2 < c4 && c4 < c3 && c3 == c);
    assert_eq!(at(&v, r + 2, c1), "(Ký, ghi rõ họ tên)");
    assert_eq!(at(&v, r + 2, c4), "(Ký, ghi rõ họ tên)");
    assert_eq!(at(&v, r + 2, c3), "(Ký, ghi rõ họ tên, đóng dấu)");
    assert_eq!(at(&v, r + 6, c4), "Nguyễn Văn An");
}

#[test]
fn the_unit_block_prints_kind_and_address_and_the_difference_states_its_sign() {
    let form = form("01a");
    let bytes = official_form(&form, &header(), records_01a()).unwrap();
    let v = values(&bytes, "01a");
    assert_eq!(at(&v, 3, 0), "Loại hình: Trường học");
    assert_eq!(
        at(&v, 4, 0),
        "Địa chỉ: Số 5 đường Tam Thanh, phường Tam Thanh"
    );
    let (r, _) = find(&v, "Chênh lệch (+ thiếu, − thừa)").expect("the sign is printed");
    let (title, _) = find(&v, &form.title.vi.to_uppercase()).unwrap();
    assert!(r > title);
}

#[test]
fn official_02a_has_no_section_rows_and_totals_the_data_directly() {
    let form = form("02a");
    let bytes = official_form(&form, &header(), records_02a()).unwrap();
    let v = values(&bytes, "02a");
    assert!(find(&v, "Mẫu số 02a").is_some());
    assert_eq!(at(&v, TITLE, 0), form.title.vi.to_uppercase());
    assert_eq!(at(&v, MARKER, 0), "kiemke:02a");
    assert_eq!(at(&v, GROUPS, col(&form, "name")), "Tên tuyến đường");
    assert_eq!(at(&v, GROUPS, col(&form, "length_km")), "Chiều dài (km)");
    assert_eq!(
        at(&v, GROUPS, col(&form, "subgrade_width_m")),
        "Chiều rộng (m)"
    );
    assert_eq!(at(&v, FIELDS, col(&form, "subgrade_width_m")), "Nền đường");
    assert_eq!(at(&v, NUMBERS, 0), "(1)");
    assert_eq!(at(&v, DATA, col(&form, "code")), "DB-01");
    assert_eq!(
        at(&v, DATA, col(&form, "management_class")),
        "Đường xã/phường"
    );
    assert_eq!(num(&v, DATA, col(&form, "length_km")), Some(2.35));
    assert_eq!(at(&v, DATA + 1, col(&form, "code")), "DB-02");
    let total = DATA + 2;
    assert_eq!(at(&v, total, 0), "TỔNG CỘNG");
    assert_eq!(num(&v, total, col(&form, "length_km")), Some(2.7));
    assert_eq!(
        num(&v, total, col(&form, "original_cost")),
        Some(12_000_000_001.0)
    );
    assert_eq!(num(&v, total, col(&form, "bridge_count")), None);
    let l = letter(&form, "original_cost");
    assert_eq!(
        formulas(&bytes, "02a")
            .get_value((total, col(&form, "original_cost")))
            .unwrap(),
        &format!("SUM({l}{}:{l}{})", DATA + 1, DATA + 2)
    );
    assert!(find(&v, "THỦ TRƯỞNG ĐƠN VỊ").is_some());
}

#[test]
fn official_18a_prints_booleans_as_co_khong_and_totals_every_money_column() {
    let form = form("18a");
    let bytes = official_form(&form, &header(), records_18a()).unwrap();
    let v = values(&bytes, "18a");
    assert_eq!(at(&v, DATA, col(&form, "on_unit_books")), "Không");
    assert_eq!(at(&v, DATA + 1, col(&form, "on_unit_books")), "Có");
    assert_eq!(
        at(&v, DATA, col(&form, "facility_kind")),
        "Nhà văn hóa - khu thể thao tổ dân phố/thôn"
    );
    let total = DATA + 2;
    assert_eq!(at(&v, total, 0), "TỔNG CỘNG");
    assert_eq!(
        num(&v, total, col(&form, "cost_community")),
        Some(200_000_000.0)
    );
    assert_eq!(
        num(&v, total, col(&form, "sports_ground_area")),
        Some(5_000.0)
    );
    assert_eq!(
        num(&v, total, col(&form, "hall_seats")),
        None,
        "seats are not summed"
    );
}

#[test]
fn official_sheets_print_on_a4_landscape_at_a_legible_scale() {
    // 01a: one table per section, cut into pages between columns, STT, code and name repeated.
    let form = form("01a");
    let bytes = official_form(&form, &header(), records_01a()).unwrap();
    let sheet = part(&bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"orientation="landscape""#));
    assert!(sheet.contains(r#"paperSize="9""#));
    let scale: u32 = sheet
        .split(r#"scale=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .expect("a print scale");
    assert!(
        (68..=100).contains(&scale),
        "11-pt text prints at 7.5 pt or more: {scale} %"
    );
    assert!(sheet.contains("<colBreaks"), "too wide for one page: cut");
    let workbook = part(&bytes, "xl/workbook.xml");
    assert!(workbook.contains("_xlnm.Print_Titles") && workbook.contains("'01a'!$A:$C"));
    assert!(
        sheet.contains(r#"<mergeCell ref="A11:A12"/>"#),
        "STT spans both header rows"
    );
    let styles = part(&bytes, "xl/styles.xml");
    assert!(styles.contains(r#"<name val="Times New Roman"/>"#));
    assert!(!styles.contains("Calibri"), "no cell falls back to Calibri");
    assert!(styles.contains(r##"formatCode="#,##0.000""##));
    // 02a: one table, its head repeated on every page and frozen on screen.
    let form = crate::workbooks::write::testutil::form("02a");
    let bytes = official_form(&form, &header(), records_02a()).unwrap();
    let sheet = part(&bytes, "xl/worksheets/sheet1.xml");
    assert!(
        sheet.contains(r#"<pane ySplit="13" topLeftCell="A14""#),
        "panes freeze under the numbering row"
    );
    let workbook = part(&bytes, "xl/workbook.xml");
    assert!(workbook.contains("'02a'!$11:$13"));
}

#[test]
fn records_out_of_section_order_are_refused() {
    let form = form("01a");
    let mut records = records_01a();
    records.reverse();
    match official_form(&form, &header(), records) {
        Err(ExportError::Unordered {
            position,
            section,
            after,
        }) => {
            assert_eq!(
                (position, section.as_str(), after.as_str()),
                (2, "I", "III")
            );
        }
        other => panic!("expected Unordered, got {other:?}"),
    }
}

#[test]
fn records_without_a_section_print_last_in_an_unclassified_block() {
    let form = form("01a");
    let mut records = records_01a();
    let mut stray = records[2].clone();
    stray.remove("section");
    stray.insert("code".into(), Value::Text("X-1".into()));
    records.push(stray);
    let bytes = official_form(&form, &header(), records).unwrap();
    let v = values(&bytes, "01a");
    let (r, _) = find(&v, "Chưa xác định phần").unwrap();
    let (iv, _) = find(&v, "Cộng phần IV").unwrap();
    assert!(r > iv);
    let common = |key: &str| {
        form.table_columns(None)
            .iter()
            .position(|c| c.field == key)
            .map(|i| i as u32 + 1)
            .unwrap()
    };
    assert_eq!(at(&v, r + 1, common("code")), "X-1");
    assert_eq!(at(&v, r + 2, 0), "Cộng phần chưa xác định");
    assert_eq!(at(&v, r + 3, 0), "TỔNG CỘNG");
    assert_eq!(
        num(&v, r + 3, common("original_cost")),
        Some(6_550_000_002.0)
    );
}

#[test]
fn a_form_without_records_prints_every_section_with_blank_totals() {
    let form = form("01a");
    let bytes = official_form(&form, &header(), Vec::new()).unwrap();
    let v = values(&bytes, "01a");
    assert_eq!(at(&v, DATA, 0), "I. Đất (đơn vị tính: m²)");
    assert_eq!(at(&v, DATA + 1, 0), "Cộng phần I");
    let (iv, _) = find(&v, "Cộng phần IV").unwrap();
    assert_eq!(at(&v, iv + 1, 0), "TỔNG CỘNG");
    let oc = col_in(&form, "IV", "original_cost");
    assert_eq!(num(&v, iv + 1, oc), None, "nothing to add up: blank, not 0");
    let form = crate::workbooks::write::testutil::form("02a");
    let bytes = official_form(&form, &header(), Vec::new()).unwrap();
    let v = values(&bytes, "02a");
    assert_eq!(at(&v, DATA, 0), "TỔNG CỘNG");
    assert_eq!(num(&v, DATA, col(&form, "original_cost")), None);
}

#[test]
fn headers_add_the_unit_unless_the_header_or_group_names_it() {
    let form = form("18a");
    let header_of = |key: &str| {
        let def = form.columns.iter().find(|c| c.field == key).unwrap();
        column_header(form.field(key).unwrap(), def)
    };
    assert_eq!(header_of("land_area"), "Diện tích (m²)");
    assert_eq!(header_of("cost_community"), "Trong đó: cộng đồng đóng góp");
    assert_eq!(header_of("usage_status"), "Tình trạng sử dụng");
    let test = crate::workbooks::write::testutil::test_form();
    let def = test.columns.iter().find(|c| c.field == "weight").unwrap();
    assert_eq!(
        column_header(test.field("weight").unwrap(), def),
        "Khối lượng (tấn)"
    );
    assert_eq!(auto_width("Khối lượng (tấn)"), 12.0);
}

#[test]
fn sums_cache_the_shortest_decimal_text() {
    assert_eq!(milli_text(5_700_000_001_000), "5700000001");
    assert_eq!(milli_text(540_750), "540.75");
    assert_eq!(milli_text(-1_500), "-1.5");
    assert_eq!(milli_text(0), "0");
}

#[test]
fn derived_cells_are_formulas_over_their_inputs_with_the_stored_value_cached() {
    let form = form("01a");
    let bytes = official_form(&form, &header(), records_01a()).unwrap();
    let v = values(&bytes, "01a");
    let f = formulas(&bytes, "01a");
    let col = |key: &str| col_in(&form, "I", key);
    let l = |key: &str| column_number_to_name(col(key) as u16);
    // DAT-02: 300 m² on the books, 290.25 counted; cost 1.2 billion, of which 1 billion budget.
    let (r, _) = find(&v, "DAT-02").unwrap();
    let n = r + 1;
    assert_eq!(
        f.get_value((r, col("qty_difference"))).unwrap(),
        &format!("{}{n}-{}{n}", l("qty_books"), l("qty_counted"))
    );
    assert_eq!(num(&v, r, col("qty_difference")), Some(9.75), "cached");
    assert_eq!(
        f.get_value((r, col("remaining_value"))).unwrap(),
        &format!("{}{n}-{}{n}", l("original_cost"), l("depreciation"))
    );
    assert_eq!(num(&v, r, col("remaining_value")), Some(1_200_000_000.0));
    assert_eq!(
        f.get_value((r, col("original_cost_other"))).unwrap(),
        &format!("{}{n}-{}{n}", l("original_cost"), l("original_cost_budget")),
        "Nguồn khác is the total less the budget"
    );
    assert_eq!(num(&v, r, col("original_cost_other")), Some(200_000_000.0));
    // DAT-03 has no depreciation: its remaining value stays a plain number.
    let (r3, _) = find(&v, "DAT-03").unwrap();
    assert!(
        f.get_value((r3, col("remaining_value")))
            .is_none_or(|s| s.is_empty())
    );
    assert_eq!(num(&v, r3, col("remaining_value")), Some(1.0));
}
