//! The progress board as a sheet. A ward's: one row per unit, one group of columns per
//! registered form (state, deadline, days overdue, when sent, on time, count and values). A
//! province's (or the installation's): one row per ward (or province) with the board's own
//! roll-up counts ([`AreaRow`]), and the node's totals.

use std::collections::BTreeSet;

use super::{
    ExportError, GRAND_TOTAL, SheetHeader, state_label,
    style::NumKind,
    table::{Block, Col, IN_DONG, Out, Table, Total},
};
use crate::{
    progress::{AreaRow, UNPLACED},
    reports::ReportState,
    tree::Level,
};

/// One unit's line of the progress board.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgressRow {
    /// Budget-relationship code.
    pub unit_code: String,
    /// Unit name.
    pub unit_name: String,
    /// The asset types the unit registered.
    pub types: Vec<TypeProgress>,
}

/// Where one unit stands on one asset type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeProgress {
    /// Form code (`01a`).
    pub form_code: String,
    /// State as people read it (`Đang nhập`, `Đã gửi`, `Đã duyệt`…).
    pub state: String,
    /// Deadline in force (the campaign's, or the unit's extension), as printed: `31/03/2026`.
    pub deadline: String,
    /// Days past the deadline of a report not sent; `None` while not overdue or once sent.
    pub days_overdue: Option<i64>,
    /// When the report was sent, local time as printed (`28/03/2026 14:05`).
    pub submitted_at: Option<String>,
    /// Sent before the deadline; `None` while not sent.
    pub on_time: Option<bool>,
    /// Assets recorded.
    pub record_count: u64,
    /// Sum of original cost, đồng.
    pub original_cost: i64,
    /// Sum of remaining value, đồng.
    pub remaining_value: i64,
}

/// The progress board: one row per unit, one group of columns per registered form.
pub fn progress_sheet(header: &SheetHeader, rows: &[ProgressRow]) -> Result<Vec<u8>, ExportError> {
    let forms: Vec<String> = rows
        .iter()
        .flat_map(|r| r.types.iter().map(|t| t.form_code.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let groups: Vec<String> = forms.iter().map(|f| format!("Mẫu số {f}")).collect();
    let mut cols: Vec<Col> = vec![Col::text("Mã đơn vị", 12.0), Col::text("Tên đơn vị", 35.0)];
    for g in &groups {
        cols.push(Col {
            group: Some(g),
            header: "Trạng thái",
            width: 14.0,
            total: Total::None,
            kind: NumKind::Whole,
        });
        cols.push(Col {
            group: Some(g),
            header: "Hạn gửi",
            width: 11.0,
            total: Total::None,
            kind: NumKind::Whole,
        });
        cols.push(Col {
            group: Some(g),
            header: "Số ngày quá hạn",
            width: 9.0,
            total: Total::None,
            kind: NumKind::Whole,
        });
        cols.push(Col {
            group: Some(g),
            header: "Thời điểm gửi",
            width: 17.0,
            total: Total::None,
            kind: NumKind::Whole,
        });
        cols.push(Col {
            group: Some(g),
            header: "Đúng hạn",
            width: 9.0,
            total: Total::CountYes,
            kind: NumKind::Whole,
        });
        cols.push(Col::sum(Some(g), "Số tài sản", 10.0));
        cols.push(Col::sum(Some(g), "Nguyên giá (đồng)", 18.0));
        cols.push(Col::sum(Some(g), "Giá trị còn lại (đồng)", 18.0));
    }
    let lines = rows.iter().map(|r| {
        let mut cells = vec![
            Out::Text(r.unit_code.clone()),
            Out::Text(r.unit_name.clone()),
        ];
        for f in &forms {
            match r.types.iter().find(|t| &t.form_code == f) {
                Some(t) => cells.extend([
                    Out::Text(t.state.clone()),
                    Out::Text(t.deadline.clone()),
                    t.days_overdue.map_or(Out::Blank, |d| Out::Whole(d.into())),
                    Out::Text(t.submitted_at.clone().unwrap_or_default()),
                    Out::Yes(t.on_time),
                    Out::Whole(t.record_count.into()),
                    Out::Whole(t.original_cost.into()),
                    Out::Whole(t.remaining_value.into()),
                ]),
                // Not registered for this type: nothing to report.
                None => cells.extend(std::iter::repeat_n(Out::Blank, 8)),
            }
        }
        cells
    });
    let table = Table {
        sheet: "tien_do".to_string(),
        title: "Theo dõi tiến độ kiểm kê tài sản công",
        cols: &cols,
        signature: false,
        total_label: GRAND_TOTAL,
        unit_note: IN_DONG,
    };
    table.write(
        header,
        vec![Block {
            heading: None,
            rows: lines.collect(),
            subtotal: None,
            in_total: true,
        }],
    )
}

/// One column of the roll-up sheet: its head and how a row's cell is read from the board's
/// [`AreaRow`], side by side, so that a column cannot lose its figure.
struct AreaCol {
    group: Option<&'static str>,
    header: &'static str,
    width: f64,
    total: Total,
    cell: Box<dyn Fn(&AreaRow) -> Out>,
}

impl AreaCol {
    /// A count, summed in the total row.
    fn count(
        group: Option<&'static str>,
        header: &'static str,
        cell: impl Fn(&AreaRow) -> i64 + 'static,
    ) -> AreaCol {
        AreaCol {
            group,
            header,
            width: 9.0,
            total: Total::Sum,
            cell: Box::new(move |a| Out::Whole(cell(a).into())),
        }
    }
}

/// Group heads of the roll-up sheet.
const UNITS_GROUP: &str = "Đơn vị";
const REPORTS_GROUP: &str = "Báo cáo kiểm kê";
const SENT_GROUP: &str = "Báo cáo đã gửi";

/// The columns of the roll-up sheet after the area's code and name, in order: every count of
/// an [`AreaRow`] as the board states it.
fn area_columns() -> Vec<AreaCol> {
    let mut cols = vec![
        AreaCol::count(Some(UNITS_GROUP), "Số đơn vị", |a| a.units_total),
        AreaCol::count(
            Some(UNITS_GROUP),
            "Đã thành lập Tổ kiểm kê",
            |a| a.teams_established,
        ),
        AreaCol::count(Some(UNITS_GROUP), "Đăng ký đúng hạn", |a| {
            a.registered_on_time
        }),
        AreaCol::count(Some(UNITS_GROUP), "Đăng ký muộn", |a| {
            a.registered_late
        }),
        AreaCol::count(Some(UNITS_GROUP), "Chưa đăng ký", |a| a.not_registered),
        AreaCol::count(Some(UNITS_GROUP), "Đã gửi đủ báo cáo", |a| {
            a.units_fully_submitted
        }),
        AreaCol::count(Some(REPORTS_GROUP), "Phải gửi", |a| a.obligations),
    ];
    for s in ReportState::ALL {
        cols.push(AreaCol::count(
            Some(REPORTS_GROUP),
            state_label(s),
            move |a| a.reports_by_state.get(s.as_str()).copied().unwrap_or(0),
        ));
    }
    cols.extend([
        AreaCol::count(Some(SENT_GROUP), "Đúng hạn", |a| a.submitted_on_time),
        AreaCol::count(Some(SENT_GROUP), "Muộn", |a| a.submitted_late),
        AreaCol::count(None, "Quá hạn chưa gửi", |a| a.overdue),
        AreaCol {
            group: None,
            header: "Đã duyệt hết báo cáo",
            width: 10.0,
            total: Total::CountYes,
            cell: Box::new(|a| Out::Yes(Some(a.accepted_all))),
        },
    ]);
    cols
}

/// The head of the roll-up rows' name column.
fn area_name_header(level: Level) -> &'static str {
    match level {
        Level::Ward => "Tên xã, phường",
        Level::Province => "Tên tỉnh, thành phố",
    }
}

/// The progress board of a province (`level`: `Ward`) or of the installation (`Province`):
/// one row per area with the board's counts, and the node's totals (`TỔNG CỘNG`: the sums, and
/// the number of areas whose every report is accepted). The installation's row of the units
/// not yet placed (`node: None`) prints as "Chưa xếp địa bàn".
pub fn progress_areas_sheet(
    header: &SheetHeader,
    level: Level,
    areas: &[AreaRow],
) -> Result<Vec<u8>, ExportError> {
    let counts = area_columns();
    let mut cols: Vec<Col> = vec![
        Col::text("Mã địa bàn", 8.0),
        Col::text(area_name_header(level), 24.0),
    ];
    cols.extend(counts.iter().map(|c| Col {
        group: c.group,
        header: c.header,
        width: c.width,
        total: c.total,
        kind: NumKind::Whole,
    }));
    let rows = areas
        .iter()
        .map(|a| {
            let (code, name) = a
                .node
                .as_ref()
                .map_or((String::new(), UNPLACED.to_string()), |n| {
                    (n.code.clone(), n.name.clone())
                });
            let mut cells = vec![Out::Text(code), Out::Text(name)];
            cells.extend(counts.iter().map(|c| (c.cell)(a)));
            cells
        })
        .collect();
    let title = match level {
        Level::Ward => "Theo dõi tiến độ kiểm kê tài sản công theo xã, phường",
        Level::Province => "Theo dõi tiến độ kiểm kê tài sản công theo tỉnh, thành phố",
    };
    let table = Table {
        sheet: "tien_do".to_string(),
        title,
        cols: &cols,
        signature: false,
        total_label: GRAND_TOTAL,
        // Counts only: no money on this sheet.
        unit_note: None,
    };
    table.write(
        header,
        vec![Block {
            heading: None,
            rows,
            subtotal: None,
            in_total: true,
        }],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workbooks::write::testutil::{at, find, formulas, num, values, ward_header};

    #[test]
    fn progress_board_groups_columns_by_form_and_counts_units_on_time() {
        let t = |form: &str, state: &str, on_time: Option<bool>, n: u64| TypeProgress {
            form_code: form.into(),
            state: state.into(),
            deadline: "31/03/2026".into(),
            days_overdue: on_time.is_none().then_some(4),
            submitted_at: on_time.map(|_| "28/03/2026 14:05".into()),
            on_time,
            record_count: n,
            original_cost: n as i64 * 1_000,
            remaining_value: n as i64 * 500,
        };
        let rows = vec![
            ProgressRow {
                unit_code: "1012345".into(),
                unit_name: "UBND phường".into(),
                types: vec![
                    t("01a", "Đã gửi", Some(true), 10),
                    t("18a", "Đang nhập", None, 2),
                ],
            },
            ProgressRow {
                unit_code: "1012346".into(),
                unit_name: "Trường Mầm non".into(),
                types: vec![t("01a", "Đã gửi", Some(false), 5)],
            },
        ];
        let bytes = progress_sheet(&ward_header(), &rows).unwrap();
        let v = values(&bytes, "tien_do");
        let (g, c01) = find(&v, "Mẫu số 01a").unwrap();
        let (_, c18) = find(&v, "Mẫu số 18a").unwrap();
        assert!(c18 > c01);
        assert_eq!(at(&v, g + 1, c01), "Trạng thái");
        assert_eq!(at(&v, g + 1, c01 + 1), "Hạn gửi");
        assert_eq!(at(&v, g + 1, c01 + 2), "Số ngày quá hạn");
        let first = g + 3;
        assert_eq!(at(&v, first, c01), "Đã gửi");
        assert_eq!(at(&v, first, c01 + 1), "31/03/2026");
        assert_eq!(num(&v, first, c01 + 2), None, "sent: not overdue");
        assert_eq!(at(&v, first, c18), "Đang nhập");
        assert_eq!(num(&v, first, c18 + 2), Some(4.0), "4 days overdue");
        assert_eq!(at(&v, first, c01 + 3), "28/03/2026 14:05");
        assert_eq!(at(&v, first, c01 + 4), "Có");
        assert_eq!(at(&v, first + 1, c01 + 4), "Không");
        assert_eq!(at(&v, first + 1, c18), "", "not registered for 18a");
        let total = first + 2;
        assert_eq!(num(&v, total, c01 + 4), Some(1.0), "one unit on time");
        assert_eq!(num(&v, total, c01 + 5), Some(15.0));
        assert_eq!(num(&v, total, c01 + 6), Some(15_000.0));
        assert_eq!(num(&v, total, c18 + 5), Some(2.0));
        assert!(
            formulas(&bytes, "tien_do")
                .get_value((total, c01 + 4))
                .unwrap()
                .starts_with("COUNTIF(")
        );
        // The ward names itself once, not as its own superior body.
        let ward = SheetHeader {
            unit_name: "UBND phường Tam Thanh".into(),
            superior_body: "UBND PHƯỜNG TAM THANH".into(),
            ..ward_header()
        };
        let v = values(&progress_sheet(&ward, &rows).unwrap(), "tien_do");
        assert_eq!(at(&v, 0, 0), "UBND PHƯỜNG TAM THANH");
        assert_ne!(at(&v, 1, 0), "UBND phường Tam Thanh");
    }

    #[test]
    fn a_provinces_board_has_a_row_per_ward_with_every_count_and_the_provinces_totals() {
        use crate::progress::NodeRef;
        let ward = |id: i64, code: &str, name: &str| NodeRef {
            id,
            code: code.into(),
            name: name.into(),
            level: Level::Ward,
        };
        let row = |node: Option<NodeRef>, units: i64, sent: i64, accepted_all: bool| AreaRow {
            node,
            units_total: units,
            teams_established: units,
            registered_on_time: units - 1,
            registered_late: 1,
            not_registered: 0,
            obligations: units + 1,
            reports_by_state: [("submitted".to_string(), sent), ("draft".to_string(), 1)].into(),
            submitted_on_time: sent,
            submitted_late: 0,
            overdue: 1,
            units_fully_submitted: sent,
            accepted_all,
            accepted_at: None,
        };
        let areas = vec![
            row(Some(ward(1, "06553", "Phường Lương Văn Tri")), 3, 2, true),
            row(Some(ward(2, "06565", "Phường Tam Thanh")), 16, 5, false),
            row(None, 1, 0, false),
        ];
        let bytes = progress_areas_sheet(&ward_header(), Level::Ward, &areas).unwrap();
        let v = values(&bytes, "tien_do");
        let (g, units) = find(&v, "Đơn vị").unwrap();
        assert_eq!(at(&v, g + 1, units), "Số đơn vị");
        let (_, reports) = find(&v, "Báo cáo kiểm kê").unwrap();
        assert_eq!(at(&v, g + 1, reports), "Phải gửi");
        let heads: Vec<String> = (0..5).map(|i| at(&v, g + 1, reports + 1 + i)).collect();
        assert_eq!(
            heads,
            [
                "Chưa bắt đầu",
                "Đang nhập",
                "Đã gửi",
                "Bị trả lại",
                "Đã chấp nhận"
            ]
        );
        let (_, name) = find(&v, "Tên xã, phường").unwrap();
        let first = g + 3;
        assert_eq!(at(&v, first, name - 1), "06553");
        assert_eq!(at(&v, first, name), "Phường Lương Văn Tri");
        assert_eq!(at(&v, first + 2, name), UNPLACED);
        assert_eq!(num(&v, first + 1, units), Some(16.0));
        assert_eq!(num(&v, first + 1, reports), Some(17.0));
        assert_eq!(num(&v, first + 1, reports + 3), Some(5.0), "sent");
        assert_eq!(
            num(&v, first + 1, reports + 1),
            Some(0.0),
            "no state missing"
        );
        let (_, approval) = find(&v, "Đã duyệt hết báo cáo").unwrap();
        assert_eq!(at(&v, first, approval), "Có");
        assert_eq!(at(&v, first + 1, approval), "Không");
        let total = first + 3;
        assert_eq!(at(&v, total, 0), GRAND_TOTAL);
        assert_eq!(num(&v, total, units), Some(20.0));
        assert_eq!(num(&v, total, reports + 3), Some(7.0));
        assert_eq!(num(&v, total, approval), Some(1.0), "one ward accepted all");
        assert!(
            formulas(&bytes, "tien_do")
                .get_value((total, units))
                .unwrap()
                .starts_with("SUM(")
        );
        assert!(
            find(&v, "Đơn vị tính giá trị: đồng").is_none(),
            "no money here"
        );
    }
}
