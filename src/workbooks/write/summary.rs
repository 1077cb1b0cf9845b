//! The ward's consolidated summary of results: one row per unit, by section and usage status,
//! with the physical quantities the form defines; the sent reports first and totalled, the
//! others apart. Inputs are plain structs the database layer fills in.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    ExportError, SheetHeader, UNCLASSIFIED,
    style::NumKind,
    table::{Block, Col, IN_DONG, Out, Table},
};
use crate::{
    forms::{FieldType, Form},
    tree::Level,
};

/// Count and values of a group of assets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Number of assets (records).
    pub count: u64,
    /// Sum of original cost, đồng.
    pub original_cost: i64,
    /// Sum of remaining value, đồng.
    pub remaining_value: i64,
}

/// One unit's line of the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitSummary {
    /// Budget-relationship code.
    pub unit_code: String,
    /// Unit name.
    pub unit_name: String,
    /// Figures by section code (`I`, `II`…); on a form without sections use any key
    /// (e.g. `""`): every entry adds to the total. On a sectioned form a key that is
    /// not a section (e.g. `""` for records without one) prints under "Chưa xác định phần".
    pub by_section: BTreeMap<String, Figures>,
    /// Asset count by usage-status code (`1`…`4`); other keys (e.g. `""`) print as "Chưa xác định".
    pub by_status: BTreeMap<String, u64>,
    /// The report's state as people read it (`Đang nhập`, `Đã gửi`, `Đã chấp nhận`…).
    pub state: String,
    /// Whether the report was sent (submitted or accepted): only these count in the total;
    /// the others are listed apart with their own subtotal.
    pub sent: bool,
    /// Physical quantities by [`Measure::key`], in thousandths (`1250500` = 1 250,5 m²).
    pub measures: BTreeMap<String, i64>,
}

/// A physical quantity the summary adds up beside the values, taken from the form
/// definition ([`measures`]): on a form with sections, the counted quantity of each section
/// that fixes its unit (`units = ["m²"]`: land and buildings in m², cars in chiếc); on a
/// form without sections, every area (m²) and length (km) column (road length, land area,
/// floor area…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    /// Key in [`UnitSummary::measures`]: `I/qty_counted` for a section's quantity, else the field key.
    pub key: String,
    /// The section whose records count, if any.
    pub section: Option<String>,
    /// The field added up.
    pub field: String,
    /// The unit of the sum; for a section's quantity, records in another unit are left out.
    pub unit: String,
    /// Column header, with the unit.
    pub header: String,
}

/// The physical quantities of `form`'s summary (see [`Measure`]).
pub fn measures(form: &Form) -> Vec<Measure> {
    if form.has_sections() {
        let qty = "qty_counted";
        form.sections
            .iter()
            .filter_map(|s| {
                // Only a section that fixes its unit can add its quantities up (others
                // count in cái, bộ, chiếc… at once).
                let [unit] = s.units.as_slice() else {
                    return None;
                };
                let unit = unit.clone();
                let what = if unit.ends_with('²') {
                    "Diện tích"
                } else {
                    "Số lượng"
                };
                Some(Measure {
                    key: format!("{}/{qty}", s.code),
                    section: Some(s.code.clone()),
                    field: qty.to_string(),
                    header: format!("{what} ({unit})"),
                    unit,
                })
            })
            .collect()
    } else {
        form.columns
            .iter()
            .filter_map(|def| {
                let f = form.field(&def.field)?;
                matches!(f.kind, FieldType::Area | FieldType::LengthKm).then(|| Measure {
                    key: f.key.clone(),
                    section: None,
                    field: f.key.clone(),
                    unit: f.unit.clone().unwrap_or_default(),
                    header: super::column_header(f, def),
                })
            })
            .collect()
    }
}

/// The consolidated summary of `form` across units: each unit's report state, physical
/// quantities and values; the units whose report was sent (submitted or accepted) first,
/// then the others apart, each with a subtotal; the total counts only the sent reports.
pub fn summary(
    form: &Form,
    header: &SheetHeader,
    units: &[UnitSummary],
) -> Result<Vec<u8>, ExportError> {
    write_summary(form, header, units, None)
}

/// The consolidated summary of `form` of a province (`level`: `Ward`) or of the installation
/// (`Province`): one row per area, the same columns as a unit's row, each holding the sums of
/// the area's units' **sent** reports (`UnitSummary::add` of each), its `state` cell saying how
/// many were sent (`2/3`); the total row is the node's total.
pub fn summary_of_areas(
    form: &Form,
    header: &SheetHeader,
    level: Level,
    areas: &[UnitSummary],
) -> Result<Vec<u8>, ExportError> {
    write_summary(form, header, areas, Some(level))
}

impl UnitSummary {
    /// Adds another summary's figures, statuses and quantities to this one's.
    pub fn add(&mut self, o: &UnitSummary) {
        for (k, f) in &o.by_section {
            let mine = self.by_section.entry(k.clone()).or_default();
            *mine = add(*mine, f);
        }
        for (k, n) in &o.by_status {
            *self.by_status.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &o.measures {
            *self.measures.entry(k.clone()).or_default() += n;
        }
    }
}

/// Heads of the roll-up summary's first columns.
pub const AREA_CODE: &str = "Mã địa bàn";
/// The reports sent out of those owed, on a roll-up row (`2/3`).
pub const AREA_SENT: &str = "Báo cáo đã gửi / phải gửi";
/// The roll-up summary's total row: the node's, of the sent reports.
pub const AREAS_TOTAL: &str = "TỔNG CỘNG (báo cáo đã gửi, đã chấp nhận)";

fn write_summary(
    form: &Form,
    header: &SheetHeader,
    units: &[UnitSummary],
    rollup: Option<Level>,
) -> Result<Vec<u8>, ExportError> {
    let known_section = |k: &String| form.sections.iter().any(|s| &s.code == k);
    let measures = measures(form);
    let mut groups: Vec<(String, Vec<String>, Option<&Measure>)> = form
        .sections
        .iter()
        .map(|s| {
            let m = measures
                .iter()
                .find(|m| m.section.as_ref() == Some(&s.code));
            (
                format!("{}. {}", s.code, s.name.vi),
                vec![s.code.clone()],
                m,
            )
        })
        .collect();
    let strays: Vec<String> = units
        .iter()
        .flat_map(|u| u.by_section.keys())
        .filter(|k| !known_section(k))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if form.has_sections() && !strays.is_empty() {
        groups.push((UNCLASSIFIED.to_string(), strays, None));
    }
    let statuses: Vec<(String, String)> = form
        .field("usage_status")
        .map(|f| {
            f.options
                .iter()
                .map(|o| (o.code.clone(), o.label.vi.clone()))
                .collect()
        })
        .unwrap_or_default();
    let stray_status = units
        .iter()
        .flat_map(|u| u.by_status.keys())
        .any(|k| !statuses.iter().any(|(c, _)| c == k));
    let scale = |m: &Measure| NumKind::Decimal(form.field(&m.field).map_or(2, |f| f.scale()));

    let mut cols: Vec<Col> = vec![
        match rollup {
            None => Col::text("Mã đơn vị", 12.0),
            Some(_) => Col::text(AREA_CODE, 10.0),
        },
        match rollup {
            None => Col::text("Tên đơn vị", 35.0),
            Some(Level::Ward) => Col::text("Tên xã, phường", 28.0),
            Some(Level::Province) => Col::text("Tên tỉnh, thành phố", 28.0),
        },
        match rollup {
            None => Col::text("Trạng thái báo cáo", 13.0),
            Some(_) => Col::text(AREA_SENT, 13.0),
        },
    ];
    let figure_heads = [
        ("Số tài sản", 9.0),
        ("Nguyên giá (đồng)", 18.0),
        ("Giá trị còn lại (đồng)", 18.0),
    ];
    if form.has_sections() {
        for (label, _, m) in &groups {
            if let Some(m) = m {
                cols.push(Col::measure(Some(label), &m.header, scale(m)));
            }
            for (h, w) in figure_heads {
                cols.push(Col::sum(Some(label), h, w));
            }
        }
    } else {
        for m in &measures {
            cols.push(Col::measure(Some("Quy mô"), &m.header, scale(m)));
        }
    }
    for (h, w) in figure_heads {
        cols.push(Col::sum(Some("Cộng"), h, w));
    }
    let status_group = "Tình trạng sử dụng (số tài sản)";
    for (_, label) in &statuses {
        cols.push(Col::sum(Some(status_group), label, 16.0));
    }
    if stray_status {
        cols.push(Col::sum(Some(status_group), "Chưa xác định", 12.0));
    }

    let line = |u: &UnitSummary| {
        let mut cells = vec![
            Out::Text(u.unit_code.clone()),
            Out::Text(u.unit_name.clone()),
            Out::Text(u.state.clone()),
        ];
        let measure = |m: &Measure| Out::Milli(u.measures.get(&m.key).copied().unwrap_or(0).into());
        let mut total = Figures::default();
        let mut parts: Vec<usize> = Vec::new();
        if form.has_sections() {
            for (_, keys, m) in &groups {
                if let Some(m) = m {
                    cells.push(measure(m));
                }
                let f = keys
                    .iter()
                    .filter_map(|k| u.by_section.get(k))
                    .fold(Figures::default(), add);
                parts.push(cells.len());
                cells.extend(figure_cells(f));
                total = add(total, &f);
            }
        } else {
            cells.extend(measures.iter().map(measure));
            total = u.by_section.values().fold(Figures::default(), add);
        }
        let totals = figure_cells(total);
        if parts.is_empty() {
            cells.extend(totals);
        } else {
            // "Cộng" adds up the unit's section columns, so it stays right when edited.
            for (k, t) in totals.into_iter().enumerate() {
                let Out::Whole(v) = t else { continue };
                cells.push(Out::RowSum(parts.iter().map(|p| p + k).collect(), v));
            }
        }
        for (code, _) in &statuses {
            cells.push(Out::Whole(
                u.by_status.get(code).copied().unwrap_or(0).into(),
            ));
        }
        if stray_status {
            let n: u64 = u
                .by_status
                .iter()
                .filter(|(k, _)| !statuses.iter().any(|(c, _)| c == *k))
                .map(|(_, n)| n)
                .sum();
            cells.push(Out::Whole(n.into()));
        }
        cells
    };
    let blocks = match rollup {
        // Every area in one block: its figures are its sent reports already.
        Some(_) => vec![Block {
            heading: None,
            rows: units.iter().map(line).collect(),
            subtotal: None,
            in_total: true,
        }],
        None => vec![
            Block {
                heading: Some(SENT_HEADING),
                rows: units.iter().filter(|u| u.sent).map(line).collect(),
                subtotal: Some(SENT_SUBTOTAL),
                in_total: true,
            },
            Block {
                heading: Some(UNSENT_HEADING),
                rows: units.iter().filter(|u| !u.sent).map(line).collect(),
                subtotal: Some(UNSENT_SUBTOTAL),
                in_total: false,
            },
        ],
    };
    let title = format!(
        "Báo cáo tổng hợp kết quả kiểm kê {}{}",
        form.asset_type.name.vi.to_lowercase(),
        match rollup {
            None => "",
            Some(Level::Ward) => " theo xã, phường",
            Some(Level::Province) => " theo tỉnh, thành phố",
        }
    );
    let table = Table {
        sheet: format!("tong_hop_{}", form.code),
        title: &title,
        cols: &cols,
        signature: true,
        total_label: match rollup {
            None => SUMMARY_TOTAL,
            Some(_) => AREAS_TOTAL,
        },
        unit_note: IN_DONG,
    };
    table.write(header, blocks)
}

/// The summary's two parts and their subtotals; the total counts the first only.
pub const SENT_HEADING: &str = "A. Báo cáo đã gửi, đã chấp nhận";
pub const SENT_SUBTOTAL: &str = "Cộng A (đã gửi, đã chấp nhận)";
pub const UNSENT_HEADING: &str =
    "B. Báo cáo chưa gửi (đang nhập, bị trả lại, chưa bắt đầu) — không cộng vào tổng";
pub const UNSENT_SUBTOTAL: &str = "Cộng B (chưa gửi)";
pub const SUMMARY_TOTAL: &str = "TỔNG CỘNG (= A: báo cáo đã gửi, đã chấp nhận)";

fn add(a: Figures, b: &Figures) -> Figures {
    Figures {
        count: a.count.saturating_add(b.count),
        original_cost: a.original_cost.saturating_add(b.original_cost),
        remaining_value: a.remaining_value.saturating_add(b.remaining_value),
    }
}

fn figure_cells(f: Figures) -> [Out; 3] {
    [
        Out::Whole(f.count.into()),
        Out::Whole(f.original_cost.into()),
        Out::Whole(f.remaining_value.into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workbooks::write::testutil::{at, find, form, formulas, num, values, ward_header};

    fn unit(
        code: &str,
        land: (u64, i64, i64),
        cars: (u64, i64, i64),
        statuses: &[(&str, u64)],
        sent: bool,
    ) -> UnitSummary {
        let fig = |(count, original_cost, remaining_value)| Figures {
            count,
            original_cost,
            remaining_value,
        };
        UnitSummary {
            unit_code: code.into(),
            unit_name: format!("Đơn vị {code}"),
            by_section: [("I".to_string(), fig(land)), ("III".to_string(), fig(cars))].into(),
            by_status: statuses.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
            state: if sent { "Đã gửi" } else { "Đang nhập" }.into(),
            sent,
            // 1 250,5 m² of land per land record; one car per car record.
            measures: [
                ("I/qty_counted".to_string(), land.0 as i64 * 1_250_500),
                ("III/qty_counted".to_string(), cars.0 as i64 * 1_000),
            ]
            .into(),
        }
    }

    #[test]
    fn the_physical_quantities_come_from_the_form_definition() {
        let keys = |code: &str| -> Vec<(String, String)> {
            measures(&form(code))
                .into_iter()
                .map(|m| (m.key, m.header))
                .collect()
        };
        let m01 = keys("01a");
        assert!(m01.contains(&("I/qty_counted".into(), "Diện tích (m²)".into())));
        assert!(m01.contains(&("II/qty_counted".into(), "Diện tích (m²)".into())));
        assert!(
            m01.contains(&("III/qty_counted".into(), "Số lượng (chiếc)".into())),
            "{m01:?}"
        );
        assert!(
            !m01.iter().any(|(k, _)| k == "IV/qty_counted"),
            "other fixed assets count in cái, bộ, chiếc… at once: no sum"
        );
        let m02 = keys("02a");
        assert!(
            m02.contains(&("length_km".into(), "Chiều dài (km)".into())),
            "{m02:?}"
        );
        assert!(m02.iter().any(|(k, _)| k == "land_area"));
        assert!(keys("18a").iter().any(|(k, _)| k == "floor_area"));
    }

    #[test]
    fn summary_totals_sent_reports_and_lists_drafts_apart_with_states_and_quantities() {
        let form = form("01a");
        let units = vec![
            unit(
                "1012345",
                (2, 5_000, 4_000),
                (1, 800, 400),
                &[("1", 2), ("4", 1)],
                true,
            ),
            unit(
                "1012346",
                (1, 1_000, 1_000),
                (0, 0, 0),
                &[("1", 1), ("", 1)],
                false,
            ),
            unit("1012347", (1, 700, 700), (2, 100, 50), &[("1", 3)], true),
        ];
        let bytes = summary(&form, &ward_header(), &units).unwrap();
        let v = values(&bytes, "tong_hop_01a");
        assert!(at(&v, 4, 0).starts_with("BÁO CÁO TỔNG HỢP KẾT QUẢ KIỂM KÊ TÀI SẢN CÔNG"));
        let (g, c_land) = find(&v, "I. Đất").unwrap();
        let (_, c_cars) = find(&v, "III. Xe ô tô").unwrap();
        let (_, c_sum) = find(&v, "Cộng").unwrap();
        let (_, c_status) = find(&v, "Tình trạng sử dụng (số tài sản)").unwrap();
        let (_, c_state) = find(&v, "Trạng thái báo cáo").unwrap();
        assert_eq!(at(&v, g + 1, c_land), "Diện tích (m²)");
        assert_eq!(at(&v, g + 1, c_land + 1), "Số tài sản");
        assert_eq!(at(&v, g + 1, c_cars), "Số lượng (chiếc)");
        assert_eq!(
            at(&v, g + 1, c_status),
            "Còn sử dụng được, đang sử dụng đúng mục đích"
        );
        assert!(
            find(&v, "Chưa xác định").is_some(),
            "a status outside the list gets a column"
        );
        // A: the two sent units, their subtotal; B: the draft apart; the total is A's.
        let a = g + 3;
        assert_eq!(at(&v, a, 0), SENT_HEADING);
        assert_eq!(
            (at(&v, a + 1, 1), at(&v, a + 1, c_state)),
            ("1012345".into(), "Đã gửi".into())
        );
        assert_eq!(at(&v, a + 2, 1), "1012347");
        assert_eq!(num(&v, a + 1, c_land), Some(2_501.0), "m² of land");
        assert_eq!(num(&v, a + 1, c_land + 1), Some(2.0));
        assert_eq!(num(&v, a + 1, c_cars + 2), Some(800.0));
        assert_eq!(num(&v, a + 2, c_cars), Some(2.0), "vehicles");
        assert_eq!(
            num(&v, a + 1, c_sum + 1),
            Some(5_800.0),
            "unit total across sections"
        );
        assert_eq!(num(&v, a + 1, c_status + 3), Some(1.0), "status 4");
        let sub_a = a + 3;
        assert_eq!(at(&v, sub_a, 0), SENT_SUBTOTAL);
        assert_eq!(num(&v, sub_a, c_sum + 1), Some(6_600.0));
        assert_eq!(num(&v, sub_a, c_land), Some(3_751.5));
        let b = sub_a + 1;
        assert_eq!(at(&v, b, 0), UNSENT_HEADING);
        assert_eq!(
            (at(&v, b + 1, 1), at(&v, b + 1, c_state)),
            ("1012346".into(), "Đang nhập".into())
        );
        assert_eq!(at(&v, b + 2, 0), UNSENT_SUBTOTAL);
        assert_eq!(num(&v, b + 2, c_sum + 1), Some(1_000.0));
        let total = b + 3;
        assert_eq!(at(&v, total, 0), SUMMARY_TOTAL);
        assert_eq!(num(&v, total, c_sum), Some(6.0), "assets of sent reports");
        assert_eq!(num(&v, total, c_sum + 1), Some(6_600.0), "drafts left out");
        assert_eq!(num(&v, total, c_land), Some(3_751.5));
        assert_eq!(num(&v, total, c_status), Some(5.0));
        let f = formulas(&bytes, "tong_hop_01a");
        assert!(f.get_value((a + 1, c_sum + 1)).unwrap().contains('+'));
        assert!(f.get_value((sub_a, c_sum + 1)).unwrap().starts_with("SUM("));
        let letter = rust_xlsxwriter::column_number_to_name((c_sum + 1) as u16);
        assert_eq!(
            f.get_value((total, c_sum + 1)).unwrap(),
            &format!("{letter}{}", sub_a + 1),
            "the total is the subtotal of A"
        );
        assert!(find(&v, "THỦ TRƯỞNG ĐƠN VỊ").is_some());
    }
}
