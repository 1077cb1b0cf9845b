//! The frame around a table, as Vietnamese officials expect it: the reporting unit
//! top left, the form number and the national motto top right, the title, and the
//! signature block under the table.

use rust_xlsxwriter::{Format, Worksheet, XlsxError};

use super::{
    SheetHeader,
    style::{LINE, Styles, lines},
};

/// An inclusive range of sheet columns.
pub(crate) type Span = (u16, u16);

/// Column widths and the three blocks (left, middle, right) laid over them.
pub(crate) struct Frame {
    widths: Vec<f64>,
    /// Where each printed page starts (column), and the print scale: see [`pages`].
    starts: Vec<u16>,
    scale: u16,
    left: Span,
    middle: Span,
    right: Span,
}

/// Who signs a unit's sheet: (title, note) for the left, middle and right blocks.
pub(crate) const SIGNERS: [(&str, &str); 3] = [
    ("NGƯỜI LẬP BIỂU", "(Ký, ghi rõ họ tên)"),
    ("KẾ TOÁN TRƯỞNG", "(Ký, ghi rõ họ tên)"),
    ("THỦ TRƯỞNG ĐƠN VỊ", "(Ký, ghi rõ họ tên, đóng dấu)"),
];

/// Printable width of an A4 landscape page between 0.3-inch margins, in points.
const PRINTABLE_PT: f64 = 842.0 - 2.0 * 0.3 * 72.0;
/// Smallest print scale at which a sheet still goes on one page wide: the 11-pt
/// table text prints at 7.5 pt or more.
const ONE_PAGE_SCALE: f64 = 0.68;
/// Print scale a sheet too wide for one page is cut for: 8.8-pt table text.
const WIDE_SCALE: f64 = 0.80;
/// Columns repeated on the left of every page of a sheet printed several pages wide (STT, code, name).
const REPEATED: u16 = 3;

/// Printed width of a column `w` characters wide, in points: 7 px per character plus
/// 5 px padding as Excel counts, and 6 % more, as LibreOffice lays out Times New Roman.
fn column_pt(w: f64) -> f64 {
    (w * 7.4 + 5.0).round() * 0.75
}

/// How a table of these widths goes on A4 landscape: the column each page starts
/// at (the first page at 0) and the print scale in percent. One page wide when the
/// text stays at 7.5 pt or more; else cut between columns into pages at 8.8 pt, the
/// first [`REPEATED`] columns printed again on each page.
pub(crate) fn pages(widths: &[f64]) -> (Vec<u16>, u16) {
    let pt: Vec<f64> = widths.iter().map(|w| column_pt(*w)).collect();
    let total: f64 = pt.iter().sum();
    let percent = |widest: f64| ((PRINTABLE_PT / widest.max(1.0)) * 96.0).floor().min(100.0) as u16;
    if total * ONE_PAGE_SCALE <= PRINTABLE_PT || widths.len() <= REPEATED as usize + 1 {
        return (vec![0], percent(total).max(10));
    }
    let repeated: f64 = pt.iter().take(REPEATED as usize).sum();
    let room = PRINTABLE_PT / WIDE_SCALE;
    let mut starts = vec![0u16];
    let mut used = 0.0;
    let mut widest: f64 = 0.0;
    for (i, w) in pt.iter().enumerate() {
        if used + w > room && i > REPEATED as usize && used > repeated {
            widest = widest.max(used);
            starts.push(i as u16);
            used = repeated;
        }
        used += w;
    }
    widest = widest.max(used);
    (starts, percent(widest).max(10))
}

/// A4 landscape, centred, numbered pages; the scale and the page cuts of [`pages`].
pub(crate) fn print_setup(ws: &mut Worksheet, frame: &Frame) -> Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_scale(frame.scale);
    if frame.starts.len() > 1 {
        let breaks: Vec<u32> = frame.starts.iter().skip(1).map(|&c| u32::from(c)).collect();
        ws.set_vertical_page_breaks(&breaks)?;
        ws.set_repeat_columns(0, REPEATED - 1)?;
    } else {
        ws.set_print_center_horizontally(true);
    }
    ws.set_margins(0.3, 0.3, 0.5, 0.5, 0.3, 0.3);
    ws.set_footer("&CTrang &P/&N");
    Ok(())
}

/// Width a block should reach before it stops taking columns.
const BLOCK_WIDTH: f64 = 45.0;

impl Frame {
    /// A frame over columns of these widths (at least one column).
    pub(crate) fn new(widths: Vec<f64>) -> Frame {
        let (starts, scale) = pages(&widths);
        // The frame (unit block, motto, title, signatures) lies on the first page.
        let on_first = starts.get(1).map_or(widths.len(), |&c| c as usize);
        let n = on_first.clamp(1, u16::MAX as usize) as u16;
        let (left, middle, right) = if n < 9 {
            // Too few columns to measure: split in thirds.
            let a = (n / 3).max(1);
            let b = (2 * n / 3).max(a + 1).min(n);
            (
                (0, a - 1),
                (a, b.saturating_sub(1).max(a)),
                (b.min(n - 1), n - 1),
            )
        } else {
            let w = |c: u16| widths.get(c as usize).copied().unwrap_or(12.0);
            let mut le = 0;
            let mut acc = w(0);
            while acc < BLOCK_WIDTH && le + 1 < n / 3 {
                le += 1;
                acc += w(le);
            }
            if starts.len() > 1 {
                // The repeated columns print on every page: the unit block fits in them.
                le = REPEATED - 1;
            }
            let mut rs = n - 1;
            let mut acc = w(rs);
            while acc < BLOCK_WIDTH && rs > 2 * n / 3 {
                rs -= 1;
                acc += w(rs);
            }
            // The middle block: grow from the centre of what is left until wide enough.
            let (lo, hi) = (le + 1, rs - 1);
            let (mut a, mut b) = ((lo + hi) / 2, (lo + hi) / 2);
            let mut acc = w(a);
            while acc < BLOCK_WIDTH * 0.7 && (a > lo || b < hi) {
                if b < hi {
                    b += 1;
                    acc += w(b);
                }
                if acc < BLOCK_WIDTH * 0.7 && a > lo {
                    a -= 1;
                    acc += w(a);
                }
            }
            ((0, le), (a, b), (rs, n - 1))
        };
        Frame {
            widths,
            starts,
            scale,
            left,
            middle,
            right,
        }
    }

    /// The columns of the first printed page, where the title goes.
    pub(crate) fn all(&self) -> Span {
        (0, self.right.1)
    }

    pub(crate) fn width(&self, col: u16) -> f64 {
        self.widths.get(col as usize).copied().unwrap_or(12.0)
    }

    /// Width of a span in characters.
    pub(crate) fn span_width(&self, (a, b): Span) -> f64 {
        (a..=b).map(|c| self.width(c)).sum()
    }

    pub(crate) fn set_widths(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        for (c, w) in self.widths.iter().enumerate() {
            ws.set_column_width(c as u16, *w)?;
        }
        Ok(())
    }

    /// The unit block, the form number and the motto; the title and its lines.
    /// Returns the next free row.
    pub(crate) fn write_top(
        &self,
        ws: &mut Worksheet,
        st: &Styles,
        header: &SheetHeader,
        form_no: Option<&str>,
        title: &str,
        unit_note: Option<&str>,
    ) -> Result<u32, XlsxError> {
        let mut left: Vec<(String, &Format)> = vec![(header.superior_body.clone(), &st.block)];
        // The ward's own sheets name the ward as both: print it once.
        if header.unit_name.trim().to_lowercase() != header.superior_body.trim().to_lowercase() {
            left.push((header.unit_name.clone(), &st.block_bold));
        }
        if !header.unit_code.trim().is_empty() {
            left.push((format!("Mã đơn vị: {}", header.unit_code.trim()), &st.block));
        }
        if !header.unit_kind.trim().is_empty() {
            left.push((format!("Loại hình: {}", header.unit_kind.trim()), &st.block));
        }
        if !header.unit_address.trim().is_empty() {
            left.push((
                format!("Địa chỉ: {}", header.unit_address.trim()),
                &st.block,
            ));
        }
        let mut right: Vec<(String, &Format)> = Vec::new();
        if let Some(no) = form_no {
            right.push((no.to_string(), &st.form_no));
        }
        right.push(("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(), &st.motto));
        right.push(("Độc lập - Tự do - Hạnh phúc".into(), &st.tagline));
        let mut row = 0u32;
        for i in 0..left.len().max(right.len()) {
            let l = left.get(i);
            let r = right.get(i);
            let need = l
                .map(|(t, _)| lines(t, self.span_width(self.left)))
                .unwrap_or(1)
                .max(
                    r.map(|(t, _)| lines(t, self.span_width(self.right)))
                        .unwrap_or(1),
                );
            if need > 1 {
                ws.set_row_height(row, LINE * f64::from(need) + 3.0)?;
            }
            if let Some((t, f)) = l
                && !t.trim().is_empty()
            {
                put(ws, row, self.left, t, f)?;
            }
            if let Some((t, f)) = r {
                put(ws, row, self.right, t, f)?;
            }
            row += 1;
        }
        row += 1;
        let title = title.to_uppercase();
        let need = lines(&title, self.span_width(self.all()) * 0.75);
        ws.set_row_height(row, 20.0 * f64::from(need) + 4.0)?;
        put(ws, row, self.all(), &title, &st.title)?;
        row += 1;
        if !header.cutoff_label.trim().is_empty() {
            let text = format!("Thời điểm kiểm kê: {}", header.cutoff_label.trim());
            put(ws, row, self.all(), &text, &st.subtitle)?;
            row += 1;
        }
        if let Some(note) = unit_note {
            put(ws, row, self.right, note, &st.note_right)?;
            row += 1;
        }
        Ok(row)
    }

    /// The date line above the signatures, in the right block: "<place>, ngày … tháng … năm …"
    /// (an ellipsis for an empty place).
    fn write_date_line(
        &self,
        ws: &mut Worksheet,
        st: &Styles,
        row: u32,
        place: &str,
    ) -> Result<(), XlsxError> {
        let place = match place.trim() {
            "" => "…",
            p => p,
        };
        let text = format!("{place}, ngày … tháng … năm …");
        put(ws, row, self.right, &text, &st.sign_date)
    }

    /// The date line and the signatures under the table, starting at `row`.
    /// `signers` are (title, note) for the left, middle and right blocks.
    pub(crate) fn write_signature(
        &self,
        ws: &mut Worksheet,
        st: &Styles,
        row: u32,
        place: &str,
        signers: [(&str, &str); 3],
    ) -> Result<u32, XlsxError> {
        self.write_date_line(ws, st, row, place)?;
        let spans = [self.left, self.middle, self.right];
        for (span, (title, _)) in spans.iter().zip(signers) {
            put(ws, row + 1, *span, title, &st.sign_title)?;
        }
        for (span, (_, note)) in spans.iter().zip(signers) {
            put(ws, row + 2, *span, note, &st.sign_note)?;
        }
        Ok(row + 3)
    }
}

/// Who signs a unit's official form: [`SIGNERS`] with the inventory team's leader
/// before the head of the unit.
pub(crate) const TEAM_LEADER: (&str, &str) = ("TỔ TRƯỞNG TỔ KIỂM KÊ", "(Ký, ghi rõ họ tên)");

impl Frame {
    /// The inventory team (when the registration names one), then the date line and
    /// four signatures: the preparer, the chief accountant, the team's leader (with
    /// the name from the registration) and the head of the unit. Returns the next row.
    pub(crate) fn write_team_and_signature(
        &self,
        ws: &mut Worksheet,
        st: &Styles,
        mut row: u32,
        header: &SheetHeader,
    ) -> Result<u32, XlsxError> {
        let width = self.span_width(self.all());
        if !header.team.is_empty() {
            let decision = header.team_decision.trim();
            let title = if decision.is_empty() {
                "Tổ kiểm kê:".to_string()
            } else {
                format!("Tổ kiểm kê theo {decision}:")
            };
            put(ws, row, self.all(), &title, &st.team_title)?;
            row += 1;
            for (i, m) in header.team.iter().enumerate() {
                let mut line = format!("{}. {}", i + 1, m.name.trim());
                for part in [&m.position, &m.role] {
                    if !part.trim().is_empty() {
                        line.push_str(" – ");
                        line.push_str(part.trim());
                    }
                }
                let need = lines(&line, width);
                if need > 1 {
                    ws.set_row_height(row, LINE * f64::from(need) + 3.0)?;
                }
                put(ws, row, self.all(), &line, &st.team_line)?;
                row += 1;
            }
            row += 1;
        }
        self.write_date_line(ws, st, row, &header.place)?;
        // The middle block splits in two for the chief accountant and the team's leader.
        let (a, b) = self.middle;
        let (accountant, leader_span) = if b > a {
            let m = a + (b - a) / 2;
            ((a, m), Some((m + 1, b)))
        } else {
            ((a, b), None)
        };
        let [preparer, chief, head] = SIGNERS;
        let mut blocks = vec![(self.left, preparer), (accountant, chief)];
        if let Some(span) = leader_span {
            blocks.push((span, TEAM_LEADER));
        }
        blocks.push((self.right, head));
        // A narrow block wraps its title or note: the row gets the height of the longest.
        for (offset, pick) in [(1, 0), (2, 1)] {
            let need = blocks
                .iter()
                .map(|(span, t)| lines(if pick == 0 { t.0 } else { t.1 }, self.span_width(*span)))
                .max()
                .unwrap_or(1);
            if need > 1 {
                ws.set_row_height(row + offset, LINE * f64::from(need) + 3.0)?;
            }
        }
        // Row by row: the sheet streams, a row once left cannot be written again.
        for (span, (title, _)) in &blocks {
            put(ws, row + 1, *span, title, &st.sign_title)?;
        }
        for (span, (_, note)) in &blocks {
            put(ws, row + 2, *span, note, &st.sign_note)?;
        }
        let mut next = row + 3;
        if let Some(leader) = header.team_leader() {
            // Room to sign, then the name, under the leader's title.
            let span = leader_span.unwrap_or(self.left);
            let name_row = row + 6;
            if leader_span.is_none() {
                put(ws, row + 4, span, TEAM_LEADER.0, &st.sign_title)?;
                put(ws, row + 5, span, TEAM_LEADER.1, &st.sign_note)?;
            }
            put(ws, name_row, span, leader.name.trim(), &st.sign_title)?;
            next = name_row + 1;
        }
        Ok(next)
    }
}

/// One column of a table head: its group (merged over consecutive equal groups) and header.
pub(crate) struct Head<'a> {
    pub group: Option<&'a str>,
    pub header: &'a str,
}

impl Frame {
    /// The table head from `row`: group headers, column headers (a column without
    /// group spans both rows), and the (1) (2) (3)… numbering row; column 0 is STT.
    /// The three rows repeat on every printed page and panes freeze under them.
    /// Returns the first row after the head.
    pub(crate) fn write_table_head(
        &self,
        ws: &mut Worksheet,
        st: &Styles,
        row: u32,
        heads: &[Head],
        repeat: bool,
    ) -> Result<u32, XlsxError> {
        let (group, fields, numbers) = (row, row + 1, row + 2);
        if repeat {
            ws.set_repeat_rows(group, numbers)?;
            ws.set_freeze_panes(numbers + 1, 0)?;
        }
        let runs = group_runs(heads);
        // Heights: a group over its merged width, a grouped header in its column,
        // and a header without group over both rows together.
        let mut group_lines = 1;
        let mut field_lines = 1;
        let mut spanning_lines = lines("STT", self.width(0));
        for &(i, run) in &runs {
            let col = |j: usize| (j + 1) as u16;
            match heads.get(i).and_then(|h| h.group) {
                Some(g) => {
                    let width = self.span_width((col(i), col(i + run - 1)));
                    group_lines = group_lines.max(lines(g, width));
                    for (j, h) in heads.iter().enumerate().skip(i).take(run) {
                        field_lines = field_lines.max(lines(h.header, self.width(col(j))));
                    }
                }
                None => {
                    let header = heads.get(i).map_or("", |h| h.header);
                    spanning_lines = spanning_lines.max(lines(header, self.width(col(i))));
                }
            }
        }
        field_lines = field_lines.max(spanning_lines.saturating_sub(group_lines));
        ws.set_row_height(group, LINE * f64::from(group_lines) + 4.0)?;
        ws.set_row_height(fields, LINE * f64::from(field_lines) + 4.0)?;

        ws.merge_range(group, 0, fields, 0, "STT", &st.header)?;
        for &(i, run) in &runs {
            let first = (i + 1) as u16;
            let Some(h) = heads.get(i) else { continue };
            match h.group {
                Some(g) => put(ws, group, (first, (i + run) as u16), g, &st.header)?,
                None => {
                    ws.merge_range(group, first, fields, first, h.header, &st.header)?;
                }
            }
        }
        for (i, h) in heads.iter().enumerate() {
            if h.group.is_some() {
                ws.write_string_with_format(fields, (i + 1) as u16, h.header, &st.header)?;
            }
        }
        for col in 0..=heads.len() as u16 {
            ws.write_string_with_format(numbers, col, format!("({})", col + 1), &st.numbering)?;
        }
        Ok(numbers + 1)
    }
}

/// Consecutive heads sharing a group, as (first index, length); a head without
/// group is a run of one.
fn group_runs(heads: &[Head]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < heads.len() {
        let mut run = 1;
        if let Some(g) = heads.get(i).and_then(|h| h.group) {
            while heads.get(i + run).is_some_and(|h| h.group == Some(g)) {
                run += 1;
            }
        }
        runs.push((i, run));
        i += run;
    }
    runs
}

/// Writes `text` over a span: merged when it covers several columns.
pub(crate) fn put(
    ws: &mut Worksheet,
    row: u32,
    (a, b): Span,
    text: &str,
    fmt: &Format,
) -> Result<(), XlsxError> {
    if a >= b {
        ws.write_string_with_format(row, a, text, fmt)?;
    } else {
        ws.merge_range(row, a, row, b, text, fmt)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disjoint(f: &Frame) -> bool {
        f.left.0 == 0
            && f.left.1 < f.middle.0
            && f.middle.0 <= f.middle.1
            && f.middle.1 < f.right.0
            && f.right.1 == f.all().1
    }

    #[test]
    fn blocks_never_overlap_whatever_the_column_count() {
        for n in 3..60 {
            let f = Frame::new(vec![12.0; n]);
            assert!(
                disjoint(&f),
                "{n} columns: {:?} {:?} {:?}",
                f.left,
                f.middle,
                f.right
            );
        }
        let f = Frame::new(vec![
            6.0, 15.0, 30.0, 25.0, 9.0, 12.0, 12.0, 12.0, 16.0, 35.0, 20.0,
        ]);
        assert!(disjoint(&f));
        assert_eq!(f.left, (0, 2));
        assert_eq!(f.right, (9, 10));
    }
}
