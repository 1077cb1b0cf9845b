//! Charts drawn on the server as SVG: no script, no library, readable without colour (every
//! chart has a title, a text alternative, and its numbers in a table beside it on the page).

use std::fmt::Write;

use chrono::NaiveDate;

/// Escapes text for SVG/XML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One series of a stacked bar chart: its label and colour.
pub struct Series<'a> {
    pub label: &'a str,
    pub color: &'a str,
}

/// Horizontal stacked bars, one per category, each split by series (values in series order).
/// `id` prefixes the ids of the title and description the SVG is labelled by.
pub fn stacked_bars(
    id: &str,
    title: &str,
    desc: &str,
    series: &[Series<'_>],
    bars: &[(String, Vec<i64>)],
) -> String {
    let width = 640.0;
    let label_w = 120.0;
    let bar_h = 28.0;
    let gap = 14.0;
    let top = 10.0;
    let legend_h = 24.0 * series.len().div_ceil(3) as f64;
    let height = top + bars.len() as f64 * (bar_h + gap) + legend_h + 10.0;
    let max = bars
        .iter()
        .map(|(_, v)| v.iter().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let scale = (width - label_w - 50.0) / max;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height:.0}" role="img" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    for (i, (label, values)) in bars.iter().enumerate() {
        let y = top + i as f64 * (bar_h + gap);
        let _ = write!(
            s,
            r##"<text x="0" y="{:.1}" font-size="14" fill="#1f2328">{}</text>"##,
            y + bar_h * 0.68,
            esc(label)
        );
        let mut x = label_w;
        for (v, se) in values.iter().zip(series) {
            if *v <= 0 {
                continue;
            }
            let w = *v as f64 * scale;
            let _ = write!(
                s,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{bar_h}" fill="{}" stroke="#ffffff" stroke-width="1"><title>{}: {v}</title></rect>"##,
                se.color,
                esc(se.label)
            );
            x += w;
        }
        let total: i64 = values.iter().sum();
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="14" fill="#1f2328">{total}</text>"##,
            x + 6.0,
            y + bar_h * 0.68
        );
    }
    let ly = top + bars.len() as f64 * (bar_h + gap) + 4.0;
    for (i, se) in series.iter().enumerate() {
        let lx = (i % 3) as f64 * 210.0;
        let y = ly + (i / 3) as f64 * 24.0;
        let _ = write!(
            s,
            r##"<rect x="{lx}" y="{y:.1}" width="14" height="14" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="13" fill="#1f2328">{}</text>"##,
            se.color,
            lx + 20.0,
            y + 12.0,
            esc(se.label)
        );
    }
    s.push_str("</svg>");
    s
}

/// A vertical marker of a line chart (deadline, extension).
pub struct Marker<'a> {
    pub date: NaiveDate,
    pub label: &'a str,
    pub color: &'a str,
}

/// A cumulative step line over days, with the owed total as a ceiling and dated markers.
/// `points` are (day, cumulative) ascending; `today` closes the line.
#[allow(clippy::too_many_arguments)]
pub fn cumulative_line(
    id: &str,
    title: &str,
    desc: &str,
    empty_note: &str,
    points: &[(NaiveDate, i64)],
    owed: i64,
    owed_label: &str,
    markers: &[Marker<'_>],
    today: NaiveDate,
) -> String {
    let (width, height) = (640.0, 300.0);
    let (left, right, top, bottom) = (44.0, 20.0, 24.0, 40.0);
    let mut first = today;
    let mut last = today;
    for d in points
        .iter()
        .map(|p| p.0)
        .chain(markers.iter().map(|m| m.date))
    {
        first = first.min(d);
        last = last.max(d);
    }
    first -= chrono::Duration::days(1);
    last += chrono::Duration::days(1);
    let span = (last - first).num_days().max(1) as f64;
    let ymax = owed.max(points.last().map_or(0, |p| p.1)).max(1) as f64;
    let x = |d: NaiveDate| left + (d - first).num_days() as f64 / span * (width - left - right);
    let y = |v: i64| top + (1.0 - v as f64 / ymax) * (height - top - bottom);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    // Axes.
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#57606a"/><line x1="{left}" y1="{top}" x2="{left}" y2="{:.1}" stroke="#57606a"/>"##,
        height - bottom,
        width - right,
        height - bottom,
        height - bottom
    );
    for v in [0, owed] {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end" fill="#1f2328">{v}</text>"##,
            left - 6.0,
            y(v) + 4.0
        );
    }
    // The owed ceiling.
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#57606a" stroke-dasharray="2 4"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#1f2328">{}: {owed}</text>"##,
        y(owed),
        width - right,
        y(owed),
        left + 6.0,
        y(owed) - 6.0,
        esc(owed_label)
    );
    // Dates at both ends.
    for (d, anchor) in [(first, "start"), (last, "end")] {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="{anchor}" fill="#1f2328">{}</text>"##,
            x(d),
            height - bottom + 18.0,
            d.format("%d/%m/%Y")
        );
    }
    for (i, m) in markers.iter().enumerate() {
        let _ = write!(
            s,
            r##"<line x1="{0:.1}" y1="{top}" x2="{0:.1}" y2="{1:.1}" stroke="{2}" stroke-width="2" stroke-dasharray="6 3"/><text x="{3:.1}" y="{4:.1}" font-size="12" text-anchor="end" fill="{2}">{5} {6}</text>"##,
            x(m.date),
            height - bottom,
            m.color,
            x(m.date) - 4.0,
            top + 14.0 + 16.0 * i as f64,
            esc(m.label),
            m.date.format("%d/%m/%Y")
        );
    }
    if points.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="14" text-anchor="middle" fill="#1f2328">{}</text>"##,
            (left + width - right) / 2.0,
            (top + height - bottom) / 2.0,
            esc(empty_note)
        );
    } else {
        let mut path = format!("M{:.1},{:.1}", x(first), y(0));
        let mut prev = 0;
        for (d, v) in points {
            let _ = write!(
                path,
                " L{:.1},{:.1} L{:.1},{:.1}",
                x(*d),
                y(prev),
                x(*d),
                y(*v)
            );
            prev = *v;
        }
        let _ = write!(
            path,
            " L{:.1},{:.1}",
            x(today.max(points[points.len() - 1].0)),
            y(prev)
        );
        let _ = write!(
            s,
            r##"<path d="{path}" fill="none" stroke="#0a58ca" stroke-width="3"/>"##
        );
        for (d, v) in points {
            let _ = write!(
                s,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="#0a58ca"><title>{}: {v}</title></circle>"##,
                x(*d),
                y(*v),
                d.format("%d/%m/%Y")
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stacked_bar_chart_has_a_title_a_description_and_one_segment_per_nonzero_value() {
        let svg = stacked_bars(
            "c",
            "Trạng thái <báo cáo>",
            "Mô tả",
            &[
                Series {
                    label: "Đã gửi",
                    color: "#1a7f37",
                },
                Series {
                    label: "Chưa",
                    color: "#999999",
                },
            ],
            &[("01a".into(), vec![3, 0]), ("02a".into(), vec![1, 1])],
        );
        assert!(svg.contains(r#"role="img" aria-labelledby="c-title c-desc""#));
        assert!(svg.contains("<title id=\"c-title\">Trạng thái &lt;báo cáo&gt;</title>"));
        assert_eq!(svg.matches("<rect x=\"120.0\"").count(), 2, "{svg}");
        assert_eq!(svg.matches("<title>Chưa: 1</title>").count(), 1);
        assert!(!svg.contains("Chưa: 0"));
    }

    #[test]
    fn a_cumulative_line_marks_the_deadline_and_says_when_nothing_was_sent() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let markers = [Marker {
            date: d("2026-03-31"),
            label: "Thời hạn",
            color: "#a4161a",
        }];
        let empty = cumulative_line(
            "t",
            "T",
            "D",
            "Chưa gửi",
            &[],
            18,
            "Phải gửi",
            &markers,
            d("2026-02-10"),
        );
        assert!(empty.contains("Chưa gửi") && empty.contains("Thời hạn 31/03/2026"));
        let line = cumulative_line(
            "t",
            "T",
            "D",
            "Chưa gửi",
            &[(d("2026-02-01"), 2), (d("2026-02-05"), 5)],
            18,
            "Phải gửi",
            &markers,
            d("2026-02-10"),
        );
        assert!(!line.contains("Chưa gửi"));
        assert_eq!(line.matches("<circle").count(), 2);
        assert!(line.contains("<title>05/02/2026: 5</title>"));
    }
}
