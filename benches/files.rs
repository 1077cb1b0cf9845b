//! File benchmarks (issue 7): the export of a 100,000-asset form 01a and the import of a
//! 100,000-row flat 01a workbook, each measured beside its baselines in the same run.
//!
//! ```sh
//! cargo build --release
//! cargo bench --bench files -- --database-url 'sqlite://bench/out/files.db?mode=rwc' \
//!     --python bench/out/venv/bin/python
//! ```
//!
//! The database must be empty; `bench/run.sh` makes one per backend and the Python
//! environment with openpyxl. What it does:
//!
//! 1. Loads the demo ward into the database (`kiemke demo`) and writes the flat workbook:
//!    `--rows` records of form 01a from the generator (`generate::large_unit_records`), through
//!    the flat writer the service uses.
//! 2. **Import**, `--runs` times: `kiemke import` of that workbook into a demo unit whose report
//!    01 is open (a different unit each run): parse, check every rule, commit in one transaction.
//! 3. **Export**, `--runs` times: `kiemke export` of the official form 01a of the first of those
//!    units (its demo assets and the imported ones): query, layout, xlsx.
//! 4. **Limits**: the same cells as the exported form written by a bare rust_xlsxwriter loop
//!    (constant-memory worksheet, no formats); the **fair limit**, the same cells with the same
//!    formats, column widths, row heights and merged ranges (read back from the exported file's
//!    own parts), by a bare rust_xlsxwriter loop at the export's compression level; and the flat
//!    workbook read by a bare calamine loop (the streaming cell reader the importer uses), each in
//!    a child process of this program.
//! 5. **What users would otherwise use**: `bench/baselines/openpyxl_bench.py` writing the same
//!    values, writing the same cells with the same formats, and reading the same flat workbook
//!    with openpyxl (`--python`; skipped without it).
//! 6. **Ward scale**: a unit of `--ward-rows` records, its import (new records; every record changed)
//!    and its exports, `--ward-runs` requests each through the service's router in process.
//!
//! Ours are timed as whole processes (start, connection, work, exit): what a user waits for.
//! The baselines time only their loop, after loading their input: they are the stricter for it.
//! Peak memory is each child's peak resident set size (`VmHWM`). Times are medians over the
//! runs; peak memory is the worst run's, so a memory verdict holds for every run. The table, the ratios and the targets go to stdout and `<out-dir>/files.md`.

use std::{
    fmt::Write as _,
    fs::File,
    io::{BufRead, BufReader, BufWriter, Write},
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use calamine::{Data, DataRef, Reader, Xlsx};
use clap::Parser;
use kiemke::{
    db, demo,
    entities::{asset, campaign, report},
    forms::Registry,
    generate,
    workbooks::write,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

/// Options.
#[derive(Debug, Parser)]
#[command(
    name = "files",
    about = "kiemke file benchmarks: export and import of 100,000 assets beside their baselines"
)]
struct Args {
    /// An empty database (the demo ward is loaded into it).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Records in the workbook.
    #[arg(long, default_value_t = 100_000)]
    rows: u64,
    /// Timed runs of each of ours and of each Rust baseline (the median time and the worst memory are reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Timed runs of each openpyxl baseline.
    #[arg(long, default_value_t = 1)]
    python_runs: usize,
    /// Seed of the generated records.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The release binary of the service.
    #[arg(long, default_value = "target/release/kiemke")]
    kiemke: PathBuf,
    /// A Python with openpyxl installed (`bench/run.sh` makes one in `bench/out/venv`).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Where the workbooks, the logs and `files.md` go.
    #[arg(long, default_value = "bench/out/files")]
    out_dir: PathBuf,
    /// Records of the ward-scale unit (its import and export timed in process).
    #[arg(long, default_value_t = 500)]
    ward_rows: u64,
    /// Timed requests of each ward-scale figure (after 2 untimed ones); 0 skips them.
    #[arg(long, default_value_t = 20)]
    ward_runs: usize,
    /// Password of the first admin, made by `kiemke demo` (the ward-scale requests log in as it).
    #[arg(
        long,
        env = "KIEMKE_ADMIN_PASSWORD",
        default_value = "bench-admin-password"
    )]
    admin_password: String,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// What one child process took.
#[derive(Debug, Clone)]
struct Measured {
    /// Wall time of the whole process.
    wall: Duration,
    /// Time the child reported for its timed loop (`seconds <x>` on stdout), if it did.
    timed: Option<Duration>,
    /// Peak resident set size, bytes.
    peak_rss: u64,
}

impl Measured {
    /// The figure compared: the child's own timed loop when it reports one, else the wall time.
    fn time(&self) -> Duration {
        self.timed.unwrap_or(self.wall)
    }
}

/// Runs `cmd` to the end with its output in `log`: wall time, and peak memory read from the
/// child's own `VmHWM` while it runs. (`wait4`'s `ru_maxrss` would not do: Linux carries the
/// parent's high-water mark across fork and exec, so every child would report at least ours.)
fn measure(cmd: &mut Command, log: &Path) -> Result<Measured, String> {
    let out = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    cmd.stdout(out).stderr(err);
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("{:?}: {e}", cmd.get_program()))?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        // VmHWM only grows; the last reading before exit is the peak, give or take 2 ms.
        if let Some(kib) = std::fs::read_to_string(&status_file).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        }) {
            peak_kib = peak_kib.max(kib);
        }
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    };
    let wall = started.elapsed();
    let text = std::fs::read_to_string(log).unwrap_or_default();
    if !status.success() {
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        return Err(format!(
            "{} failed ({status}); the end of {}:\n{}",
            shown(cmd),
            log.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    let timed = text
        .lines()
        .find_map(|l| l.strip_prefix("seconds "))
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map(Duration::from_secs_f64);
    Ok(Measured {
        wall,
        timed,
        peak_rss: peak_kib * 1024,
    })
}

/// `runs` measurements of the same command: the median time, and the **worst** peak memory of
/// any run (a memory target holds only if every run kept to it).
fn median_of(
    runs: usize,
    log: &Path,
    mut make: impl FnMut(usize) -> Command,
) -> Result<Measured, String> {
    let mut all = Vec::with_capacity(runs);
    for i in 0..runs.max(1) {
        let m = measure(&mut make(i), log)?;
        eprintln!(
            "files:   run {}: {:.2} s ({:.2} s wall), {:.0} MB",
            i + 1,
            m.time().as_secs_f64(),
            m.wall.as_secs_f64(),
            mb(m.peak_rss)
        );
        all.push(m);
    }
    let worst_rss = all.iter().map(|m| m.peak_rss).max().unwrap_or(0);
    all.sort_by_key(Measured::time);
    let mut median = all.swap_remove(all.len() / 2);
    median.peak_rss = worst_rss;
    Ok(median)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// A command as one could paste it.
fn shown(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.contains([' ', '?', '&', '*']) {
            let _ = write!(s, " '{a}'");
        } else {
            let _ = write!(s, " {a}");
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// The cells of a sheet, as a plain text file both baselines load before their timed loop:
// one line per row, cells separated by tabs; `n<number>`, `s<text>` (with \\, \t, \n, \r
// escaped) or nothing for an empty cell.

fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\t' => o.push_str("\\t"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            c => o.push(c),
        }
    }
    o
}

fn unescape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            o.push(c);
            continue;
        }
        match it.next() {
            Some('t') => o.push('\t'),
            Some('n') => o.push('\n'),
            Some('r') => o.push('\r'),
            Some(c) => o.push(c),
            None => {}
        }
    }
    o
}

/// Writes every non-empty cell of the first sheet of `xlsx` to `out`; returns the cell count.
fn dump_cells(xlsx: &Path, out: &Path) -> Result<u64, String> {
    let mut wb: Xlsx<_> =
        calamine::open_workbook(xlsx).map_err(|e: calamine::XlsxError| e.to_string())?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or("the workbook has no sheet")?
        .map_err(|e| e.to_string())?;
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut w = BufWriter::new(File::create(out).map_err(|e| e.to_string())?);
    let mut cells = 0;
    let io = |e: std::io::Error| e.to_string();
    for _ in 0..r0 {
        writeln!(w).map_err(io)?;
    }
    for row in range.rows() {
        let mut line = "\t".repeat(c0 as usize);
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push('\t');
            }
            match cell {
                Data::Empty => continue,
                Data::Float(f) => {
                    let _ = write!(line, "n{f}");
                }
                Data::Int(n) => {
                    let _ = write!(line, "n{n}");
                }
                Data::String(s) => {
                    line.push('s');
                    line.push_str(&escape(s.as_str()));
                }
                other => {
                    line.push('s');
                    line.push_str(&escape(&other.to_string()));
                }
            }
            cells += 1;
        }
        writeln!(w, "{}", line.trim_end_matches('\t')).map_err(io)?;
    }
    w.flush().map_err(io)?;
    Ok(cells)
}

enum Cell {
    Empty,
    Number(f64),
    Text(String),
}

fn load_cells(path: &Path) -> Result<Vec<Vec<Cell>>, String> {
    let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for line in BufReader::new(f).lines() {
        let line = line.map_err(|e| e.to_string())?;
        let row = if line.is_empty() {
            Vec::new()
        } else {
            line.split('\t')
                .map(|c| match c.split_at_checked(1) {
                    Some(("n", n)) => n.parse().map(Cell::Number).unwrap_or(Cell::Empty),
                    Some(("s", s)) => Cell::Text(unescape(s)),
                    _ => Cell::Empty,
                })
                .collect()
        };
        rows.push(row);
    }
    Ok(rows)
}

/// The limit of writing: the same cells, a bare loop, nothing else. Prints `seconds <x>`.
fn bare_write(cells: &Path, out: &Path) -> Result<(), String> {
    let rows = load_cells(cells)?;
    let started = Instant::now();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb
        .add_worksheet_with_constant_memory()
        .map_err(|e| e.to_string())?;
    let mut written = 0u64;
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r).map_err(|e| e.to_string())?;
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(|e| e.to_string())?;
            match cell {
                Cell::Empty => continue,
                Cell::Number(n) => ws.write_number(r, c, *n),
                Cell::Text(s) => ws.write_string(r, c, s),
            }
            .map_err(|e| e.to_string())?;
            written += 1;
        }
    }
    wb.save(out).map_err(|e| e.to_string())?;
    println!(
        "seconds {:.4} cells {written}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The limit of reading: every cell of every sheet through calamine's streaming reader.
fn bare_read(path: &Path) -> Result<(), String> {
    let started = Instant::now();
    let mut wb: Xlsx<_> =
        calamine::open_workbook(path).map_err(|e: calamine::XlsxError| e.to_string())?;
    let (mut cells, mut sum, mut chars) = (0u64, 0f64, 0usize);
    for name in wb.sheet_names() {
        let mut reader = wb
            .worksheet_cells_reader(&name)
            .map_err(|e| e.to_string())?;
        while let Some(cell) = reader.next_cell().map_err(|e| e.to_string())? {
            match cell.get_value() {
                DataRef::Empty => continue,
                DataRef::Float(f) => sum += f,
                DataRef::Int(n) => sum += *n as f64,
                DataRef::String(s) => chars += s.len(),
                DataRef::SharedString(s) => chars += s.len(),
                _ => {}
            }
            cells += 1;
        }
    }
    println!(
        "seconds {:.4} cells {cells} sum {sum} chars {chars}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A cell of the flat workbook as the bulk-load limit stores it.
enum Plain {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

/// Most bind parameters of one SQLite statement (`SQLITE_MAX_VARIABLE_NUMBER` since 3.32).
const SQLITE_MAX_PARAMS: usize = 32_766;

/// The second limit of the import: the bare calamine read of the flat workbook (as in
/// [`bare_read`]) and the database's own bulk load of the same rows into a plain table of the
/// sheet's columns (typed by the first data row), in one transaction — `COPY … FROM STDIN` on
/// PostgreSQL, streamed as the rows are read; prepared multi-row `INSERT`s on SQLite, as many rows
/// a statement as the bind-parameter limit allows. Times from opening the workbook to the commit.
async fn bare_load(path: &Path, url: &str) -> Result<(), String> {
    use sea_orm::sqlx;
    let conn = db::connect(url).await.map_err(|e| e.to_string())?;
    let pg = url.starts_with("postgres");
    let table = "bench_bare_load";
    let drop = format!("DROP TABLE IF EXISTS {table}");
    let started = Instant::now();
    let mut wb: Xlsx<_> =
        calamine::open_workbook(path).map_err(|e: calamine::XlsxError| e.to_string())?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or("the workbook has no sheet")?;
    let mut reader = wb
        .worksheet_cells_reader(&sheet)
        .map_err(|e| e.to_string())?;
    // Rows in order: the header (row 0), then the data rows.
    let mut rows: Vec<Vec<Plain>> = Vec::new();
    let mut width = 0usize;
    let mut current: Option<(u32, Vec<Plain>)> = None;
    let mut columns: Option<Vec<&'static str>> = None;
    let mut loaded = 0u64;
    let (mut pg_tx, mut sq_tx) = (None, None);
    let mut pg_copy_buf = String::new();
    let flush = |row: Vec<Plain>, rows: &mut Vec<Vec<Plain>>| rows.push(row);
    loop {
        let cell = reader.next_cell().map_err(|e| e.to_string())?;
        let (r, c) = match &cell {
            Some(cell) => cell.get_position(),
            None => (u32::MAX, 0),
        };
        if current.as_ref().is_some_and(|(at, _)| *at != r)
            && let Some((_, row)) = current.take()
        {
            flush(row, &mut rows);
        }
        let Some(cell) = cell else { break };
        let value = match cell.get_value() {
            DataRef::Empty => Plain::Null,
            DataRef::Float(f) => Plain::Float(*f),
            DataRef::Int(n) => Plain::Int(*n),
            DataRef::String(s) => Plain::Text(s.clone()),
            DataRef::SharedString(s) => Plain::Text((*s).to_string()),
            DataRef::Bool(b) => Plain::Int(i64::from(*b)),
            other => Plain::Text(format!("{other:?}")),
        };
        let row = &mut current.get_or_insert_with(|| (r, Vec::new())).1;
        while row.len() < c as usize {
            row.push(Plain::Null);
        }
        row.push(value);
        width = width.max(row.len());
        // The table is made from the header and the first data row; then rows go in as read.
        if columns.is_none() && rows.len() >= 2 {
            let first = &rows[1];
            let kinds: Vec<&'static str> = (0..width)
                .map(|i| match first.get(i) {
                    Some(Plain::Int(_)) => "BIGINT",
                    Some(Plain::Float(_)) => {
                        if pg {
                            "DOUBLE PRECISION"
                        } else {
                            "REAL"
                        }
                    }
                    _ => "TEXT",
                })
                .collect();
            let defs: Vec<String> = kinds
                .iter()
                .enumerate()
                .map(|(i, k)| format!("c{i} {k}"))
                .collect();
            let create = format!("CREATE TABLE {table} ({})", defs.join(", "));
            if pg {
                let mut tx = conn
                    .get_postgres_connection_pool()
                    .begin()
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(drop.clone()))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(create))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| e.to_string())?;
                pg_tx = Some(tx);
            } else {
                let mut tx = conn
                    .get_sqlite_connection_pool()
                    .begin()
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(drop.clone()))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(create))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| e.to_string())?;
                sq_tx = Some(tx);
            }
            columns = Some(kinds);
            rows.remove(0);
        }
        if let Some(kinds) = &columns {
            let per_statement = SQLITE_MAX_PARAMS / kinds.len();
            if pg && rows.len() >= 1_000 {
                loaded += copy_rows(
                    pg_tx.as_mut(),
                    table,
                    kinds.len(),
                    &mut rows,
                    &mut pg_copy_buf,
                )
                .await?;
            } else if !pg && rows.len() >= per_statement {
                loaded += insert_rows(sq_tx.as_mut(), table, kinds.len(), &mut rows).await?;
            }
        }
    }
    let kinds = columns.ok_or("the workbook has fewer than two rows")?;
    if pg {
        loaded += copy_rows(
            pg_tx.as_mut(),
            table,
            kinds.len(),
            &mut rows,
            &mut pg_copy_buf,
        )
        .await?;
        pg_tx
            .ok_or("no transaction")?
            .commit()
            .await
            .map_err(|e| e.to_string())?;
    } else {
        loaded += insert_rows(sq_tx.as_mut(), table, kinds.len(), &mut rows).await?;
        sq_tx
            .ok_or("no transaction")?
            .commit()
            .await
            .map_err(|e| e.to_string())?;
    }
    let seconds = started.elapsed().as_secs_f64();
    conn.execute_unprepared(&drop)
        .await
        .map_err(|e| e.to_string())?;
    println!("seconds {seconds:.4} rows {loaded} columns {}", kinds.len());
    Ok(())
}

/// `COPY`s `rows` (then emptied) in one `COPY … FROM STDIN`.
async fn copy_rows(
    tx: Option<&mut sea_orm::sqlx::Transaction<'static, sea_orm::sqlx::Postgres>>,
    table: &str,
    width: usize,
    rows: &mut Vec<Vec<Plain>>,
    buf: &mut String,
) -> Result<u64, String> {
    let tx = tx.ok_or("no transaction")?;
    buf.clear();
    for row in rows.iter() {
        for i in 0..width {
            if i > 0 {
                buf.push('\t');
            }
            match row.get(i).unwrap_or(&Plain::Null) {
                Plain::Null => buf.push_str("\\N"),
                Plain::Int(n) => {
                    let _ = write!(buf, "{n}");
                }
                Plain::Float(f) => {
                    let _ = write!(buf, "{f}");
                }
                Plain::Text(t) => {
                    for ch in t.chars() {
                        match ch {
                            '\\' => buf.push_str("\\\\"),
                            '\t' => buf.push_str("\\t"),
                            '\n' => buf.push_str("\\n"),
                            '\r' => buf.push_str("\\r"),
                            c => buf.push(c),
                        }
                    }
                }
            }
        }
        buf.push('\n');
    }
    let mut copy = tx
        .copy_in_raw(&format!("COPY {table} FROM STDIN"))
        .await
        .map_err(|e| e.to_string())?;
    copy.send(buf.as_bytes()).await.map_err(|e| e.to_string())?;
    let n = copy.finish().await.map_err(|e| e.to_string())?;
    rows.clear();
    Ok(n)
}

/// Inserts `rows` (then emptied) with one prepared multi-row `INSERT`.
async fn insert_rows(
    tx: Option<&mut sea_orm::sqlx::Transaction<'static, sea_orm::sqlx::Sqlite>>,
    table: &str,
    width: usize,
    rows: &mut Vec<Vec<Plain>>,
) -> Result<u64, String> {
    use sea_orm::sqlx;
    let tx = tx.ok_or("no transaction")?;
    if rows.is_empty() {
        return Ok(0);
    }
    let tuple = format!("({})", vec!["?"; width].join(", "));
    let sql = format!(
        "INSERT INTO {table} VALUES {}",
        vec![tuple.as_str(); rows.len()].join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for row in rows.iter() {
        for i in 0..width {
            q = match row.get(i) {
                None | Some(Plain::Null) => q.bind(None::<String>),
                Some(Plain::Int(n)) => q.bind(*n),
                Some(Plain::Float(f)) => q.bind(*f),
                Some(Plain::Text(t)) => q.bind(t.clone()),
            };
        }
    }
    let done = q.execute(&mut **tx).await.map_err(|e| e.to_string())?;
    rows.clear();
    Ok(done.rows_affected())
}

// ---------------------------------------------------------------------------------------------
// The same cells **with their formats**, for the fair limit and the styled openpyxl baseline: the
// exported workbook's own parts read back (`xl/styles.xml`, `xl/worksheets/sheet1.xml`), so that
// the baselines write exactly what the export wrote. Tab-separated lines, escaped as above:
//
//   x <font> <size> <bold> <italic> <underline> <thin borders> <horizontal> <vertical> <wrap> <number format>
//                                                           one per cell format, in index order
//   w <column> <width as stored>                            column widths
//   m <first row> <first column> <last row> <last column>   merged ranges
//   r <row> <height or nothing> <hidden>                    each row, then its cells:
//   c <column> <format> <n|s|b|f> <value or cached result> <formula>

/// A cell format of the styles part: the properties our writers use.
#[derive(Default, Clone)]
struct Xf {
    font: String,
    size: String,
    bold: bool,
    italic: bool,
    underline: bool,
    border: bool,
    horizontal: String,
    vertical: String,
    wrap: bool,
    num: String,
}

fn attr(e: &quick_xml::events::BytesStart, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn part_reader(
    zip: &mut zip::ZipArchive<File>,
    name: &str,
) -> Result<quick_xml::Reader<BufReader<std::io::Cursor<Vec<u8>>>>, String> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut zip.by_name(name).map_err(|e| format!("{name}: {e}"))?,
        &mut bytes,
    )
    .map_err(|e| e.to_string())?;
    Ok(quick_xml::Reader::from_reader(BufReader::new(
        std::io::Cursor::new(bytes),
    )))
}

/// The code of a built-in number format (those rust_xlsxwriter maps ours to).
fn builtin_num(id: &str) -> &'static str {
    match id {
        "1" => "0",
        "2" => "0.00",
        "3" => "#,##0",
        "4" => "#,##0.00",
        "14" => "m/d/yyyy",
        _ => "",
    }
}

/// The cell formats of `xl/styles.xml`, in index order.
fn read_styles(zip: &mut zip::ZipArchive<File>) -> Result<Vec<Xf>, String> {
    use quick_xml::events::Event;
    let mut reader = part_reader(zip, "xl/styles.xml")?;
    let (mut nums, mut fonts, mut borders, mut xfs) = (
        std::collections::HashMap::new(),
        Vec::<Xf>::new(),
        Vec::<bool>::new(),
        Vec::<(Xf, usize, usize)>::new(),
    );
    let (mut section, mut buf) = (String::new(), Vec::new());
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| e.to_string())?;
        let (e, empty) = match &event {
            Event::Eof => break,
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                if matches!(e.local_name().as_ref(), "fonts" | "borders" | "cellXfs") {
                    section.clear();
                }
                buf.clear();
                continue;
            }
            _ => {
                buf.clear();
                continue;
            }
        };
        let name = e.local_name().as_ref().to_string();
        match (section.as_str(), name.as_str()) {
            (_, "fonts" | "borders" | "cellXfs") if !empty => section = name.clone(),
            (_, "numFmt") => {
                nums.insert(
                    attr(e, "numFmtId").unwrap_or_default(),
                    attr(e, "formatCode").unwrap_or_default(),
                );
            }
            ("fonts", "font") => fonts.push(Xf::default()),
            ("fonts", tag) => {
                if let Some(f) = fonts.last_mut() {
                    match tag {
                        "b" => f.bold = true,
                        "i" => f.italic = true,
                        "u" => f.underline = true,
                        "sz" => f.size = attr(e, "val").unwrap_or_default(),
                        "name" => f.font = attr(e, "val").unwrap_or_default(),
                        _ => {}
                    }
                }
            }
            ("borders", "border") => borders.push(false),
            ("borders", "left") => {
                if let Some(b) = borders.last_mut() {
                    *b = attr(e, "style").is_some();
                }
            }
            ("cellXfs", "xf") => {
                let font = attr(e, "fontId").and_then(|v| v.parse().ok()).unwrap_or(0);
                let border = attr(e, "borderId")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let id = attr(e, "numFmtId").unwrap_or_default();
                let num = nums
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| builtin_num(&id).to_string());
                xfs.push((
                    Xf {
                        num,
                        ..Xf::default()
                    },
                    font,
                    border,
                ));
            }
            ("cellXfs", "alignment") => {
                if let Some((x, _, _)) = xfs.last_mut() {
                    x.horizontal = attr(e, "horizontal").unwrap_or_default();
                    x.vertical = attr(e, "vertical").unwrap_or_default();
                    x.wrap = attr(e, "wrapText").is_some_and(|v| v == "1");
                }
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(xfs
        .into_iter()
        .map(|(x, font, border)| {
            let f = fonts.get(font).cloned().unwrap_or_default();
            Xf {
                font: f.font,
                size: f.size,
                bold: f.bold,
                italic: f.italic,
                underline: f.underline,
                border: borders.get(border).copied().unwrap_or(false),
                ..x
            }
        })
        .collect())
}

/// `A12` → (11, 0).
fn cell_ref(r: &str) -> Option<(u32, u16)> {
    let split = r.find(|c: char| c.is_ascii_digit())?;
    let col = r[..split].bytes().try_fold(0u32, |n, b| {
        Some(n * 26 + u32::from(b.checked_sub(b'A')?) + 1)
    })?;
    let row: u32 = r[split..].parse().ok()?;
    Some((
        row.checked_sub(1)?,
        u16::try_from(col.checked_sub(1)?).ok()?,
    ))
}

/// Writes the styled dump of the first sheet of `xlsx` to `out`; returns the cell count.
fn dump_styled(xlsx: &Path, out: &Path) -> Result<u64, String> {
    use quick_xml::events::Event;
    let file = File::open(xlsx).map_err(|e| format!("{}: {e}", xlsx.display()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
    let xfs = read_styles(&mut zip)?;
    let mut w = BufWriter::new(File::create(out).map_err(|e| e.to_string())?);
    let io = |e: std::io::Error| e.to_string();
    let b = |v: bool| if v { "1" } else { "0" };
    for x in &xfs {
        let line = [
            escape(&x.font),
            x.size.clone(),
            b(x.bold).into(),
            b(x.italic).into(),
            b(x.underline).into(),
            b(x.border).into(),
            x.horizontal.clone(),
            x.vertical.clone(),
            b(x.wrap).into(),
            escape(&x.num),
        ];
        writeln!(w, "x\t{}", line.join("\t")).map_err(io)?;
    }
    let mut reader = part_reader(&mut zip, "xl/worksheets/sheet1.xml")?;
    let mut buf = Vec::new();
    // The cell being read: where, its format, its type; then its text, value and formula.
    let (mut at, mut xf, mut kind) = ((0u32, 0u16), String::new(), String::new());
    let (mut text, mut value, mut formula) = (String::new(), String::new(), String::new());
    let mut into: Option<u8> = None;
    let mut cells = 0u64;
    let mut rows = String::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| e.to_string())?;
        match &event {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.local_name().as_ref() {
                    "col" => {
                        let min: u16 = attr(e, "min").and_then(|v| v.parse().ok()).unwrap_or(1);
                        let max: u16 = attr(e, "max").and_then(|v| v.parse().ok()).unwrap_or(min);
                        let width = attr(e, "width").unwrap_or_default();
                        for c in min..=max {
                            writeln!(w, "w\t{}\t{width}", c - 1).map_err(io)?;
                        }
                    }
                    "mergeCell" => {
                        let r = attr(e, "ref").unwrap_or_default();
                        let (a, z) = r.split_once(':').unwrap_or((&r, &r));
                        if let (Some(a), Some(z)) = (cell_ref(a), cell_ref(z)) {
                            writeln!(w, "m\t{}\t{}\t{}\t{}", a.0, a.1, z.0, z.1).map_err(io)?;
                        }
                    }
                    "row" => {
                        let r: u32 = attr(e, "r").and_then(|v| v.parse().ok()).unwrap_or(1);
                        let custom = attr(e, "customHeight").is_some_and(|v| v == "1");
                        let height = attr(e, "ht").filter(|_| custom).unwrap_or_default();
                        let hidden = attr(e, "hidden").is_some_and(|v| v == "1");
                        let _ = writeln!(rows, "r\t{}\t{height}\t{}", r - 1, b(hidden));
                    }
                    "c" => {
                        at = cell_ref(&attr(e, "r").unwrap_or_default()).unwrap_or((0, 0));
                        xf = attr(e, "s").unwrap_or_else(|| "0".into());
                        kind = attr(e, "t").unwrap_or_default();
                        (text, value, formula) = Default::default();
                        if empty {
                            let _ = writeln!(rows, "c\t{}\t{xf}\tb\t\t", at.1);
                            cells += 1;
                        }
                    }
                    "t" => into = Some(b't'),
                    "v" => into = Some(b'v'),
                    "f" => into = Some(b'f'),
                    _ => {}
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                match into {
                    Some(b't') => text.push_str(&s),
                    Some(b'v') => value.push_str(&s),
                    Some(b'f') => formula.push_str(&s),
                    _ => {}
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c,
                    None => match r.xml10_content().as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => '?',
                    },
                };
                match into {
                    Some(b't') => text.push(c),
                    Some(b'v') => value.push(c),
                    Some(b'f') => formula.push(c),
                    _ => {}
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "t" | "v" | "f" => into = None,
                "c" => {
                    let (k, v) = if !formula.is_empty() {
                        ("f", value.as_str())
                    } else if kind == "inlineStr" {
                        ("s", text.as_str())
                    } else if kind == "str" || kind == "s" {
                        ("s", value.as_str())
                    } else if value.is_empty() {
                        ("", "")
                    } else {
                        ("n", value.as_str())
                    };
                    let _ = writeln!(
                        rows,
                        "c\t{}\t{xf}\t{k}\t{}\t{}",
                        at.1,
                        escape(v),
                        escape(&formula)
                    );
                    cells += 1;
                }
                "row" => {
                    w.write_all(rows.as_bytes()).map_err(io)?;
                    rows.clear();
                }
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    w.write_all(rows.as_bytes()).map_err(io)?;
    w.flush().map_err(io)?;
    Ok(cells)
}

/// One row of the styled dump.
struct StyledRow {
    row: u32,
    height: Option<f64>,
    hidden: bool,
    cells: Vec<StyledCell>,
}

struct StyledCell {
    col: u16,
    xf: usize,
    /// `n`umber, `s`tring, `b`lank, `f`ormula, or `m`: the first cell of a merged range.
    kind: u8,
    value: String,
    /// The value of a number cell, parsed before the clock starts.
    number: f64,
    formula: String,
    /// The last cell of the merged range this cell starts.
    merge_to: (u32, u16),
}

/// The fair limit of writing: the same cells as the export with the same formats, column
/// widths, row heights and merged ranges, by a bare rust_xlsxwriter loop in constant-memory
/// mode at the export's compression level. Prints `seconds <x>`.
fn fair_write(styled: &Path, out: &Path) -> Result<(), String> {
    use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, FormatUnderline, Formula};
    let f = File::open(styled).map_err(|e| format!("{}: {e}", styled.display()))?;
    let (mut xfs, mut widths, mut merges, mut rows) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::<StyledRow>::new());
    for line in BufReader::new(f).lines() {
        let line = line.map_err(|e| e.to_string())?;
        let p: Vec<String> = line.split('\t').map(unescape).collect();
        let at = |i: usize| p.get(i).map(String::as_str).unwrap_or("");
        let num = |i: usize| at(i).parse::<u32>().unwrap_or(0);
        match at(0) {
            "x" => xfs.push(Xf {
                font: at(1).into(),
                size: at(2).into(),
                bold: at(3) == "1",
                italic: at(4) == "1",
                underline: at(5) == "1",
                border: at(6) == "1",
                horizontal: at(7).into(),
                vertical: at(8).into(),
                wrap: at(9) == "1",
                num: at(10).into(),
            }),
            "w" => widths.push((num(1) as u16, at(2).parse::<f64>().unwrap_or(8.43))),
            "m" => merges.push((num(1), num(2) as u16, num(3), num(4) as u16)),
            "r" => rows.push(StyledRow {
                row: num(1),
                height: at(2).parse().ok(),
                hidden: at(3) == "1",
                cells: Vec::new(),
            }),
            "c" => {
                if let Some(r) = rows.last_mut() {
                    r.cells.push(StyledCell {
                        col: num(1) as u16,
                        xf: num(2) as usize,
                        kind: at(3).bytes().next().unwrap_or(b'b'),
                        value: at(4).into(),
                        number: at(4).parse().unwrap_or(0.0),
                        formula: at(5).into(),
                        merge_to: (0, 0),
                    });
                }
            }
            _ => {}
        }
    }
    // Merged ranges, before the clock starts: merge_range writes the cells a range covers, and
    // is called at its first cell.
    for r in &mut rows {
        let row = r.row;
        r.cells.retain_mut(|c| {
            for &(r1, c1, r2, c2) in &merges {
                if (r1, c1) == (row, c.col) {
                    c.kind = b'm';
                    c.merge_to = (r2, c2);
                    return true;
                }
                if (r1..=r2).contains(&row) && (c1..=c2).contains(&c.col) {
                    return false;
                }
            }
            true
        });
    }
    let started = Instant::now();
    let formats: Vec<Format> = xfs
        .iter()
        .map(|x| {
            let mut f = Format::new()
                .set_font_name(&x.font)
                .set_font_size(x.size.parse::<f64>().unwrap_or(11.0));
            if x.bold {
                f = f.set_bold();
            }
            if x.italic {
                f = f.set_italic();
            }
            if x.underline {
                f = f.set_underline(FormatUnderline::Single);
            }
            if x.border {
                f = f.set_border(FormatBorder::Thin);
            }
            match x.horizontal.as_str() {
                "center" => f = f.set_align(FormatAlign::Center),
                "right" => f = f.set_align(FormatAlign::Right),
                "left" => f = f.set_align(FormatAlign::Left),
                _ => {}
            }
            match x.vertical.as_str() {
                "center" => f = f.set_align(FormatAlign::VerticalCenter),
                "top" => f = f.set_align(FormatAlign::Top),
                _ => {}
            }
            if x.wrap {
                f = f.set_text_wrap();
            }
            if !x.num.is_empty() && x.num != "General" {
                f = f.set_num_format(&x.num);
            }
            f
        })
        .collect();
    let default = formats.first().cloned().unwrap_or_default();
    let fmt = |i: usize| formats.get(i).unwrap_or(&default);
    let err = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.set_default_format(&default, 20, 64).map_err(err)?;
    wb.set_zip_compression_level(write::ZIP_LEVEL);
    let ws = wb.add_worksheet_with_constant_memory().map_err(err)?;
    for (c, w) in &widths {
        // Stored widths carry Excel's padding: 5 px over 7 px per character.
        ws.set_column_width(*c, ((w * 7.0 - 5.0) / 7.0 * 100.0).round() / 100.0)
            .map_err(err)?;
    }
    let mut written = 0u64;
    for r in &rows {
        if let Some(h) = r.height {
            ws.set_row_height(r.row, h).map_err(err)?;
        }
        if r.hidden {
            ws.set_row_hidden(r.row).map_err(err)?;
        }
        for c in &r.cells {
            let f = fmt(c.xf);
            match c.kind {
                b'n' => ws.write_number_with_format(r.row, c.col, c.number, f),
                b's' => ws.write_string_with_format(r.row, c.col, &c.value, f),
                b'f' => ws.write_formula_with_format(
                    r.row,
                    c.col,
                    Formula::new(&c.formula).set_result(&c.value),
                    f,
                ),
                b'm' => ws.merge_range(r.row, c.col, c.merge_to.0, c.merge_to.1, &c.value, f),
                _ => ws.write_blank(r.row, c.col, f),
            }
            .map_err(err)?;
            written += 1;
        }
    }
    wb.save(out).map_err(err)?;
    println!(
        "seconds {:.4} cells {written}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------

/// One line of the results table.
struct Line {
    what: String,
    command: String,
    m: Measured,
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

async fn setup(args: &Args) -> Result<(i64, Vec<i64>), String> {
    let mut demo = Command::new(&args.kiemke);
    demo.args(["--database-url", &args.database_url, "demo"])
        .env("KIEMKE_ADMIN_PASSWORD", &args.admin_password);
    measure(&mut demo, &args.out_dir.join("demo.log"))?;
    let conn = db::connect(&args.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let campaign = campaign::Entity::find()
        .filter(campaign::Column::Name.eq(demo::CAMPAIGN_NAME))
        .one(&conn)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the demo campaign was not loaded")?
        .id;
    let units: Vec<i64> = report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign))
        .filter(report::Column::FormCode.eq("01a"))
        .filter(report::Column::State.eq("open"))
        .order_by_asc(report::Column::UnitId)
        .all(&conn)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|r| r.unit_id)
        .collect();
    let taken = asset::Entity::find()
        .filter(asset::Column::CampaignId.eq(campaign))
        .filter(asset::Column::Code.eq("TS-0001"))
        .count(&conn)
        .await
        .map_err(|e| e.to_string())?;
    if taken > 0 {
        return Err("the database already holds a benchmark run: give an empty one".into());
    }
    // One more for the ward-scale figures.
    if units.len() <= args.runs {
        return Err(format!(
            "the demo has {} units with an open report 01; --runs {} needs one more",
            units.len(),
            args.runs
        ));
    }
    conn.close().await.map_err(|e| e.to_string())?;
    Ok((campaign, units))
}

async fn run(args: Args) -> Result<(), String> {
    if !args.kiemke.is_file() {
        return Err(format!(
            "{} not found: run `cargo build --release` first",
            args.kiemke.display()
        ));
    }
    std::fs::create_dir_all(&args.out_dir).map_err(|e| e.to_string())?;
    let dir = &args.out_dir;
    let backend = if args.database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let kiemke = args.kiemke.to_string_lossy().into_owned();
    let url = args.database_url.clone();
    let (campaign, units) = setup(&args).await?;

    eprintln!("files: writing {} generated 01a records", args.rows);
    let forms = Arc::new(Registry::embedded().map_err(|e| e.to_string())?);
    let form = forms.form("01a").ok_or("form 01a is not defined")?;
    let records = generate::large_unit_records(args.seed, args.rows);
    let flat = dir.join("flat-01a.xlsx");
    let bytes = write::flat(form, records).map_err(|e| e.to_string())?;
    std::fs::write(&flat, bytes).map_err(|e| e.to_string())?;
    let flat_s = flat.to_string_lossy().into_owned();

    let mut lines: Vec<Line> = Vec::new();
    let campaign_s = campaign.to_string();

    eprintln!("files: import, {} runs", args.runs);
    let import_cmd = |i: usize| {
        let mut c = Command::new(&kiemke);
        c.args(["--database-url", &url, "import", "--campaign", &campaign_s])
            .args(["--unit", &units[i].to_string(), "--form", "01a", &flat_s]);
        c
    };
    let m = median_of(args.runs, &dir.join("import.log"), import_cmd)?;
    let log = std::fs::read_to_string(dir.join("import.log")).unwrap_or_default();
    if !(log.contains(&format!("\"rows\": {},", args.rows)) && log.contains("\"errors\": []")) {
        return Err(format!(
            "the import did not take all {} rows; see {}",
            args.rows,
            dir.join("import.log").display()
        ));
    }
    lines.push(Line {
        what: format!(
            "ours: import {} rows (parse, check, commit; each run into another demo unit)",
            args.rows
        ),
        command: shown(&import_cmd(0)),
        m,
    });

    eprintln!("files: export, {} runs", args.runs);
    let official = dir.join("official-01a.xlsx");
    let official_s = official.to_string_lossy().into_owned();
    let export_cmd = |_| {
        let mut c = Command::new(&kiemke);
        c.args(["--database-url", &url, "export", "--campaign", &campaign_s])
            .args(["--unit", &units[0].to_string(), "--form", "01a"])
            .args(["--out", &official_s]);
        c
    };
    let m = median_of(args.runs, &dir.join("export.log"), export_cmd)?;
    lines.push(Line {
        what: "ours: export the official form 01a (query, layout, xlsx)".into(),
        command: shown(&export_cmd(0)),
        m,
    });

    let cells = dir.join("official-01a.cells");
    let count = dump_cells(&official, &cells)?;
    let cells_s = cells.to_string_lossy().into_owned();
    eprintln!("files: limits ({count} cells)");
    let bare_out = dir.join("bare.xlsx").to_string_lossy().into_owned();
    let bare_write_cmd = |_| {
        let mut c = Command::new(&me);
        c.args(["bare-write", &cells_s, &bare_out]);
        c
    };
    let m = median_of(args.runs, &dir.join("bare-write.log"), bare_write_cmd)?;
    lines.push(Line {
        what: format!("limit: bare rust_xlsxwriter loop, the same {count} cells"),
        command: format!("cargo bench --bench files -- bare-write {cells_s} {bare_out}"),
        m,
    });
    let styled = dir.join("official-01a.styled");
    let styled_count = dump_styled(&official, &styled)?;
    let styled_s = styled.to_string_lossy().into_owned();
    let fair_out = dir.join("fair.xlsx").to_string_lossy().into_owned();
    let fair_write_cmd = |_| {
        let mut c = Command::new(&me);
        c.args(["fair-write", &styled_s, &fair_out]);
        c
    };
    let m = median_of(args.runs, &dir.join("fair-write.log"), fair_write_cmd)?;
    lines.push(Line {
        what: format!(
            "fair limit: bare rust_xlsxwriter loop, the same {styled_count} cells with the same formats, widths, heights, merges"
        ),
        command: format!("cargo bench --bench files -- fair-write {styled_s} {fair_out}"),
        m,
    });
    let bare_read_cmd = |_| {
        let mut c = Command::new(&me);
        c.args(["bare-read", &flat_s]);
        c
    };
    let m = median_of(args.runs, &dir.join("bare-read.log"), bare_read_cmd)?;
    lines.push(Line {
        what: "limit: bare calamine read of the flat workbook".into(),
        command: format!("cargo bench --bench files -- bare-read {flat_s}"),
        m,
    });
    // The import's second limit needs the database empty of the import's runs' load: it writes
    // its own plain table and drops it.
    let bare_load_cmd = |_| {
        let mut c = Command::new(&me);
        c.args(["bare-load", &flat_s, &url]);
        c
    };
    let m = median_of(args.runs, &dir.join("bare-load.log"), bare_load_cmd)?;
    lines.push(Line {
        what: format!(
            "limit: bare calamine read + the database's own bulk load of the same rows ({})",
            if backend == "PostgreSQL" {
                "COPY"
            } else {
                "prepared multi-row INSERT, one transaction"
            }
        ),
        command: format!(
            "cargo bench --bench files -- bare-load {flat_s} {}",
            if url.contains('?') {
                format!("'{url}'")
            } else {
                url.clone()
            }
        ),
        m,
    });

    if let Some(py) = &args.python {
        let script = "bench/baselines/openpyxl_bench.py";
        let py_out = dir.join("openpyxl.xlsx").to_string_lossy().into_owned();
        eprintln!("files: openpyxl, {} runs", args.python_runs);
        let write_cmd = |_| {
            let mut c = Command::new(py);
            c.args([script, "write", &cells_s, &py_out]);
            c
        };
        let m = median_of(args.python_runs, &dir.join("openpyxl-write.log"), write_cmd)?;
        lines.push(Line {
            what: "users otherwise: openpyxl writes the same values (no formats)".into(),
            command: shown(&write_cmd(0)),
            m,
        });
        let styled_out = dir
            .join("openpyxl-styled.xlsx")
            .to_string_lossy()
            .into_owned();
        let styled_cmd = |_| {
            let mut c = Command::new(py);
            c.args([script, "write-styled", &styled_s, &styled_out]);
            c
        };
        let m = median_of(
            args.python_runs,
            &dir.join("openpyxl-write-styled.log"),
            styled_cmd,
        )?;
        lines.push(Line {
            what: "users otherwise: openpyxl writes the same cells with the same formats, widths, heights, merges"
                .into(),
            command: shown(&styled_cmd(0)),
            m,
        });
        let read_cmd = |_| {
            let mut c = Command::new(py);
            c.args([script, "read", &flat_s]);
            c
        };
        let m = median_of(args.python_runs, &dir.join("openpyxl-read.log"), read_cmd)?;
        lines.push(Line {
            what: "users otherwise: openpyxl reads the flat workbook".into(),
            command: shown(&read_cmd(0)),
            m,
        });
    }

    let mut report = table(&args, backend, &lines);
    if args.ward_runs > 0 {
        eprintln!("files: ward scale, {} requests each", args.ward_runs);
        report.push_str(&ward_scale(&args, backend, campaign, units[args.runs]).await?);
    }
    print!("{report}");
    std::fs::write(dir.join("files.md"), &report).map_err(|e| e.to_string())
}

/// The results table, the ratios and the targets.
fn table(args: &Args, backend: &str, lines: &[Line]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n### Files on {backend}: {} rows of form 01a (median time, worst memory of {} runs; openpyxl: {})\n",
        args.rows, args.runs, args.python_runs
    );
    let _ = writeln!(s, "| what | command | time s | peak memory MB |");
    let _ = writeln!(s, "|---|---|---|---|");
    for l in lines {
        let _ = writeln!(
            s,
            "| {} | `{}` | {}{} | {:.0} |",
            l.what,
            l.command,
            secs(l.m.time()),
            if l.m.timed.is_some() {
                format!(" (loop; process {})", secs(l.m.wall))
            } else {
                String::new()
            },
            mb(l.m.peak_rss)
        );
    }
    let find = |p: &str| lines.iter().find(|l| l.what.starts_with(p)).map(|l| &l.m);
    let ratio = |a: &Measured, b: &Measured| a.time().as_secs_f64() / b.time().as_secs_f64();
    let _ = writeln!(s, "\n| ratio | value | target | |\n|---|---|---|---|");
    if let Some(ours) = find("ours: export") {
        if let Some(fair) = find("fair limit:") {
            let r = ratio(ours, fair);
            let _ = writeln!(
                s,
                "| export ÷ fair limit (same cells, same formats) | {r:.2}× | ≤ 1.5× | {} |",
                verdict(r <= 1.5)
            );
        }
        if let Some(bare) = find("limit: bare rust") {
            let _ = writeln!(
                s,
                "| export ÷ bare writer (values, no formats) | {:.2}× | | |",
                ratio(ours, bare)
            );
        }
        let _ = writeln!(
            s,
            "| export peak memory | {:.0} MB | < 100 MB | {} |",
            mb(ours.peak_rss),
            verdict(ours.peak_rss < 100_000_000)
        );
        if let Some(py) = find("users otherwise: openpyxl writes the same cells with") {
            let _ = writeln!(
                s,
                "| openpyxl styled write ÷ export | {:.1}× | | |",
                ratio(py, ours)
            );
        }
        if let Some(py) = find("users otherwise: openpyxl writes the same values") {
            let _ = writeln!(
                s,
                "| openpyxl values-only write ÷ export | {:.1}× | | |",
                ratio(py, ours)
            );
        }
    }
    if let (Some(ours), Some(bare)) = (find("ours: import"), find("limit: bare calamine")) {
        let r = ratio(ours, bare);
        let _ = writeln!(
            s,
            "| import ÷ bare read | {r:.2}× | ≤ 3× | {} |",
            verdict(r <= 3.0)
        );
        let _ = writeln!(
            s,
            "| import peak memory | {:.0} MB | < 100 MB | {} |",
            mb(ours.peak_rss),
            verdict(ours.peak_rss < 100_000_000)
        );
        if let Some(load) = find("limit: bare calamine read + ") {
            let r = ratio(ours, load);
            let _ = writeln!(
                s,
                "| import ÷ (bare read + bulk load) | {r:.2}× | ≤ 2× | {} |",
                verdict(r <= 2.0)
            );
        }
        if let Some(py) = find("users otherwise: openpyxl reads") {
            let r = ratio(py, ours);
            let _ = writeln!(
                s,
                "| openpyxl read ÷ import | {r:.1}× faster | ≥ 10× | {} |",
                verdict(r >= 10.0)
            );
        }
    }
    let _ = writeln!(
        s,
        "\nOurs: whole `kiemke` processes, release build. Baselines: their timed loop only (input loaded first).\n\ncommand: `cargo bench --bench files -- --database-url {} --rows {} --runs {}{}`",
        if args.database_url.contains('?') {
            format!("'{}'", args.database_url)
        } else {
            args.database_url.clone()
        },
        args.rows,
        args.runs,
        args.python
            .as_ref()
            .map(|p| format!(" --python {}", p.display()))
            .unwrap_or_default()
    );
    s
}

/// Sends `req` through the router; the status and the whole body.
async fn send(
    router: &axum::Router,
    req: axum::http::Request<axum::body::Body>,
) -> Result<(axum::http::StatusCode, axum::body::Bytes), String> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let res = router
        .clone()
        .oneshot(req)
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}

/// The ward-scale figures (issue 17: "import and export of a 500-record unit < 100 ms server
/// time"): requests through the router the server uses, in process (every layer, a real bearer
/// token), one after another, each timed from the request to the last byte of the answer:
///
/// - **import of new records**: `POST …/imports` of a flat workbook of `--ward-rows` records
///   whose codes are new to the unit (the rows it created are deleted, untimed, after each);
/// - **import changing every record**: the unit then holds those records, and each request
///   imports the other of two versions of the file (every row's note differs): every row is an
///   update, the slowest path;
/// - **export of the official form** and **of the flat workbook** of the unit, then holding the
///   records and its demo assets.
async fn ward_scale(
    args: &Args,
    backend: &str,
    campaign: i64,
    unit: i64,
) -> Result<String, String> {
    use axum::{
        body::Body,
        http::{Request, StatusCode, header},
    };
    use kiemke::{clock::SystemClock, config::Settings, forms::Value};
    let conn = db::connect(&args.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let forms = Arc::new(Registry::embedded().map_err(|e| e.to_string())?);
    let form = forms.form("01a").ok_or("form 01a is not defined")?.clone();
    let state = kiemke::build_state(conn, forms, Arc::new(SystemClock), Settings::default())?;
    let router = kiemke::app::app(state.clone());
    let login = serde_json::json!({"username": "admin", "password": args.admin_password});
    let (status, body) = send(
        &router,
        Request::post("/api/v1/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(login.to_string()))
            .map_err(|e| e.to_string())?,
    )
    .await?;
    let token = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|j| j["token"].as_str().map(String::from))
        .ok_or_else(|| format!("login as admin failed ({status})"))?;
    let bearer = format!("Bearer {token}");
    // A workbook of the generated records, their codes prefixed and their notes marked.
    let workbook = |prefix: &str, note: &str| -> Result<Vec<u8>, String> {
        let records = generate::large_unit_records(args.seed, args.ward_rows)
            .into_iter()
            .map(|mut r| {
                if let Some(Value::Text(code)) = r.get_mut("code") {
                    *code = format!("{prefix}{code}");
                }
                r.insert("note".into(), Value::Text(note.into()));
                r
            });
        write::flat(&form, records).map_err(|e| e.to_string())
    };
    let imports = format!("/api/v1/campaigns/{campaign}/units/{unit}/imports?form_code=01a");
    let import = |bytes: Vec<u8>| {
        Request::post(&imports)
            .header(header::AUTHORIZATION, &bearer)
            .header(header::CONTENT_TYPE, XLSX)
            .body(Body::from(bytes))
            .map_err(|e| e.to_string())
    };
    let get = |uri: String| {
        Request::get(uri)
            .header(header::AUTHORIZATION, &bearer)
            .body(Body::empty())
            .map_err(|e| e.to_string())
    };
    let expect = |what: &str, status: StatusCode, body: &[u8], created: Option<u64>| {
        let ok = status == StatusCode::OK
            && created.is_none_or(|n| {
                let j: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
                j["created"].as_u64().unwrap_or(0) + j["updated"].as_u64().unwrap_or(0) == n
            });
        if ok {
            Ok(())
        } else {
            Err(format!(
                "ward scale, {what}: {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(600)])
            ))
        }
    };
    let total = args.ward_runs + 2;
    let mut figures: Vec<(String, Vec<Duration>)> = Vec::new();

    let fresh = workbook("M-", "")?;
    let mut samples = Vec::new();
    for i in 0..total {
        let t = Instant::now();
        let (status, body) = send(&router, import(fresh.clone())?).await?;
        let took = t.elapsed();
        expect("import of new records", status, &body, Some(args.ward_rows))?;
        if i >= 2 {
            samples.push(took);
        }
        asset::Entity::delete_many()
            .filter(asset::Column::CampaignId.eq(campaign))
            .filter(asset::Column::UnitId.eq(unit))
            .filter(asset::Column::Code.starts_with("M-"))
            .exec(&state.db)
            .await
            .map_err(|e| e.to_string())?;
    }
    figures.push((
        format!(
            "import of {} new records (`POST …/imports`)",
            args.ward_rows
        ),
        samples,
    ));

    let versions = [workbook("W-", "A")?, workbook("W-", "B")?];
    let (status, body) = send(&router, import(versions[0].clone())?).await?;
    expect("first import", status, &body, Some(args.ward_rows))?;
    let mut samples = Vec::new();
    for i in 0..total {
        let t = Instant::now();
        let (status, body) = send(&router, import(versions[(i + 1) % 2].clone())?).await?;
        let took = t.elapsed();
        expect(
            "import changing every record",
            status,
            &body,
            Some(args.ward_rows),
        )?;
        if i >= 2 {
            samples.push(took);
        }
    }
    figures.push((
        format!(
            "import changing every one of {} records (each row an update)",
            args.ward_rows
        ),
        samples,
    ));

    let base = format!("/api/v1/campaigns/{campaign}/units/{unit}/forms/01a");
    for (what, uri) in [
        (
            "export of the official form 01a (`GET …/forms/01a.xlsx`)",
            format!("{base}.xlsx"),
        ),
        (
            "export of the flat workbook (`GET …/forms/01a/flat.xlsx`)",
            format!("{base}/flat.xlsx"),
        ),
    ] {
        let mut samples = Vec::new();
        for i in 0..total {
            let t = Instant::now();
            let (status, body) = send(&router, get(uri.clone())?).await?;
            let took = t.elapsed();
            expect(what, status, &body, None)?;
            if i >= 2 {
                samples.push(took);
            }
        }
        figures.push((
            format!(
                "{what}, the unit's {} records and its demo assets",
                args.ward_rows
            ),
            samples,
        ));
    }

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n### Ward scale on {backend}: a unit of {} records, in process through the router ({} timed requests each, after 2 untimed)\n",
        args.ward_rows, args.ward_runs
    );
    let _ = writeln!(
        s,
        "| what | p50 ms | max ms | target | |\n|---|---|---|---|---|"
    );
    for (what, mut samples) in figures {
        samples.sort();
        let p50 = samples[(samples.len() - 1) / 2];
        let max = samples.last().copied().unwrap_or_default();
        let _ = writeln!(
            s,
            "| {what} | {:.1} | {:.1} | < 100 ms | {} |",
            ms(p50),
            ms(max),
            verdict(ms(p50) < 100.0)
        );
    }
    Ok(s)
}

/// The media type of an xlsx workbook.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let done = match argv.get(1).map(String::as_str) {
        Some("bare-write") if argv.len() >= 4 => {
            Some(bare_write(Path::new(&argv[2]), Path::new(&argv[3])))
        }
        Some("dump-styled") if argv.len() >= 4 => Some(
            dump_styled(Path::new(&argv[2]), Path::new(&argv[3])).map(|n| println!("cells {n}")),
        ),
        Some("fair-write") if argv.len() >= 4 => {
            Some(fair_write(Path::new(&argv[2]), Path::new(&argv[3])))
        }
        Some("bare-read") if argv.len() >= 3 => Some(bare_read(Path::new(&argv[2]))),
        Some("bare-load") if argv.len() >= 4 => Some(
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| rt.block_on(bare_load(Path::new(&argv[2]), &argv[3]))),
        ),
        _ => None,
    };
    let result = match done {
        Some(r) => r,
        None => {
            let args = Args::parse();
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| rt.block_on(run(args)))
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
