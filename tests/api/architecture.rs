//! The architecture docs/ARCHITECTURE.md draws, checked against the source: the top-level
//! modules of `src/` import each other without cycles, and the layers depend only downwards.
//!
//! The graph is read from the source text: every `crate::name` path (in `use` lines, groups and
//! inline paths) in a file under `src/name/` or `src/name.rs` is an edge to the top-level module
//! `name`. Comments, doc comments and string literals are left out (a doc link is no import), and
//! so is test code (`#[cfg(test)]` items and files named `tests.rs`/`testutil.rs`): tests may
//! reach across.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where an edge is made: `src/…` path and line.
type Places = Vec<(String, usize)>;
/// Top-level module → the top-level modules it imports → where.
type Graph = BTreeMap<String, BTreeMap<String, Places>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source with comments, doc comments, string and character literals blanked out (newlines
/// kept, so line numbers stay true).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || (next == Some('#') && chars.get(i + 2) != Some(&'[')))
            && !chars[..i]
                .last()
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string: r"…", r#"…"#.
            let mut hashes = 0;
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                match chars.get(j) {
                    None => break,
                    Some('"') if (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    _ => j += 1,
                }
            }
            out.extend(chars[i..j.min(chars.len())].iter().map(|&c| blank(c)));
            i = j;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(chars.len());
            out.extend(chars[i..end].iter().map(|&c| blank(c)));
            i = end;
        } else if c == '\'' && (chars.get(i + 2) == Some(&'\'') || next == Some('\\')) {
            // A character literal ('x', '\n', '\u{…}'), not a lifetime.
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '\'' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(chars.len());
            out.extend(chars[i..end].iter().map(|&c| blank(c)));
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Code (comments already blanked) without its `#[cfg(test)]` items: the attribute and the item
/// after it, to its closing brace or semicolon, are blanked.
fn without_test_code(code: &str) -> String {
    let mut out: Vec<char> = code.chars().collect();
    let text: String = out.iter().collect();
    let mut from = 0;
    while let Some(at) = text[from..].find("#[cfg(test)]") {
        let start = from + at;
        // Byte offsets and char offsets agree only on ASCII; work on chars from here.
        let start_char = text[..start].chars().count();
        let mut depth = 0i32;
        let mut end = out.len();
        for (k, c) in out
            .iter()
            .enumerate()
            .skip(start_char + "#[cfg(test)]".len())
        {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = k + 1;
                    break;
                }
                _ => {}
            }
        }
        for c in &mut out[start_char..end] {
            if *c != '\n' {
                *c = ' ';
            }
        }
        from = start + "#[cfg(test)]".len();
    }
    out.into_iter().collect()
}

/// The top-level names a text reaches through `crate::…` paths, each with its line.
fn crate_paths(code: &str) -> Vec<(String, usize)> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let line_of = |offset: usize| code[..offset].matches('\n').count() + 1;
    let mut names = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::") {
        let at = from + at;
        from = at + "crate::".len();
        if code[..at]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            continue;
        }
        let tail = &code[from..];
        let skipped = tail.len() - tail.trim_start().len();
        let tail = tail.trim_start();
        if let Some(group) = tail.strip_prefix('{') {
            // The items of the group at depth one.
            let group_at = from + skipped + 1;
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        start = false;
                        let name = ident(&group[i..]);
                        if !name.is_empty() {
                            names.push((name, line_of(group_at + i)));
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(tail);
            if !name.is_empty() {
                names.push((name, line_of(at)));
            }
        }
    }
    names
}

/// The top-level module graph of the crate whose sources are in `src`.
fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let module_of = |file: &Path| -> Option<String> {
        let rel = file.strip_prefix(src).ok()?;
        let first = rel.components().next()?.as_os_str().to_str()?;
        Some(first.trim_end_matches(".rs").to_string())
    };
    let top_level: BTreeSet<String> = files
        .iter()
        .filter_map(|f| module_of(f))
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let mut graph = Graph::new();
    for file in &files {
        let Some(module) = module_of(file) else {
            continue;
        };
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if !top_level.contains(&module) || stem == "tests" || stem == "testutil" {
            continue;
        }
        let text =
            std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let shown = format!("src/{}", file.strip_prefix(src).unwrap_or(file).display());
        let edges = graph.entry(module.clone()).or_default();
        for (target, line) in crate_paths(&without_test_code(&code_only(&text))) {
            if target != module && top_level.contains(&target) {
                edges.entry(target).or_default().push((shown.clone(), line));
            }
        }
    }
    graph
}

/// Every cycle's modules: the strongly connected components of more than one module.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    // Kosaraju: order by finish time, then collect components on the reversed graph.
    fn visit<'a>(
        next: &dyn Fn(&'a str) -> Vec<&'a str>,
        n: &'a str,
        seen: &mut BTreeSet<&'a str>,
        order: &mut Vec<&'a str>,
    ) {
        if !seen.insert(n) {
            return;
        }
        for m in next(n) {
            visit(next, m, seen, order);
        }
        order.push(n);
    }
    let forward = |n: &str| -> Vec<&str> {
        graph
            .get(n)
            .map(|e| e.keys().map(String::as_str).collect())
            .unwrap_or_default()
    };
    let mut reversed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, tos) in graph {
        for to in tos.keys() {
            reversed.entry(to.as_str()).or_default().push(from.as_str());
        }
    }
    let backward = |n: &str| -> Vec<&str> { reversed.get(n).cloned().unwrap_or_default() };
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    for n in graph.keys() {
        visit(&forward, n, &mut seen, &mut order);
    }
    let mut assigned = BTreeSet::new();
    let mut found = Vec::new();
    for n in order.into_iter().rev() {
        let mut component = Vec::new();
        visit(&backward, n, &mut assigned, &mut component);
        if component.len() > 1 {
            let mut names: Vec<String> = component.iter().map(|s| s.to_string()).collect();
            names.sort();
            found.push(names);
        }
    }
    found
}

/// `from -> to` with the places that make the edge.
fn describe_edge(graph: &Graph, from: &str, to: &str) -> String {
    let places = &graph[from][to];
    let shown: Vec<String> = places
        .iter()
        .take(4)
        .map(|(file, line)| format!("{file}:{line}"))
        .collect();
    let more = if places.len() > 4 {
        format!(" and {} more", places.len() - 4)
    } else {
        String::new()
    };
    format!("    {from} -> {to}: {}{more}", shown.join(", "))
}

/// The shortest path from `from` to `to` through `members`, both ends included.
fn shortest_path(graph: &Graph, from: &str, to: &str, members: &[String]) -> Option<Vec<String>> {
    let mut came_from: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from.to_string()]);
    let mut seen = BTreeSet::from([from.to_string()]);
    while let Some(n) = queue.pop_front() {
        if n == to {
            let mut path = vec![n];
            while let Some(prev) = came_from.get(path.last()?) {
                path.push(prev.clone());
            }
            path.reverse();
            return Some(path);
        }
        for m in graph[&n].keys().filter(|m| members.contains(m)) {
            if seen.insert(m.clone()) {
                came_from.insert(m.clone(), n.clone());
                queue.push_back(m.clone());
            }
        }
    }
    None
}

/// Each cycle, named by its modules (the shortest cycle through each edge of a strongly connected
/// component, at most 12 a component), with the files and lines making each of its edges.
fn cycle_report(graph: &Graph) -> Vec<String> {
    let mut report = Vec::new();
    for members in cycles(graph) {
        let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
        for from in &members {
            for to in graph[from].keys().filter(|t| members.contains(t)) {
                let Some(back) = shortest_path(graph, to, from, &members) else {
                    continue;
                };
                // from -> to -> … -> from, turned to start at its smallest module.
                let mut cycle = vec![from.clone()];
                cycle.extend(back.into_iter().take_while(|m| m != from));
                let smallest = (0..cycle.len()).min_by_key(|&i| &cycle[i]).unwrap_or(0);
                cycle.rotate_left(smallest);
                found.insert(cycle);
            }
        }
        for cycle in found.iter().take(12) {
            let mut closed = cycle.clone();
            closed.push(cycle[0].clone());
            let mut lines = vec![format!("  cycle: {}", closed.join(" -> "))];
            for pair in closed.windows(2) {
                lines.push(describe_edge(graph, &pair[0], &pair[1]));
            }
            report.push(lines.join("\n"));
        }
        if found.len() > 12 {
            report.push(format!(
                "  and {} more cycles among {}",
                found.len() - 12,
                members.join(", ")
            ));
        }
    }
    report
}

/// The imports of `module` outside `allowed`, with where they are made.
fn imports_outside(graph: &Graph, module: &str, allowed: &[&str]) -> Vec<String> {
    graph
        .get(module)
        .into_iter()
        .flat_map(|edges| edges.keys())
        .filter(|to| !allowed.contains(&to.as_str()))
        .map(|to| describe_edge(graph, module, to))
        .collect()
}

/// The modules importing any of `targets` other than `allowed_importers`.
fn importers_of(graph: &Graph, targets: &[&str], allowed_importers: &[&str]) -> Vec<String> {
    graph
        .iter()
        .filter(|(from, _)| !allowed_importers.contains(&from.as_str()))
        .flat_map(|(from, edges)| {
            edges
                .keys()
                .filter(|to| targets.contains(&to.as_str()))
                .map(move |to| describe_edge(graph, from, to))
        })
        .collect()
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn the_top_level_modules_of_src_import_each_other_without_cycles() {
    let graph = module_graph(&src());
    assert!(graph.len() > 10, "the graph of src/ was read: {graph:?}");
    let found = cycle_report(&graph);
    assert!(
        found.is_empty(),
        "import cycles between the top-level modules of src/ (docs/ARCHITECTURE.md draws the \
         layers; break each cycle by moving the shared piece down):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_layers_of_src_depend_only_downwards() {
    let graph = module_graph(&src());
    let mut wrong = BTreeSet::new();
    // Generated table shapes and the foundations import nothing of the crate.
    for module in [
        "entities",
        "error",
        "clock",
        "numfmt",
        "search",
        "pagination",
        "db",
    ] {
        wrong.extend(imports_outside(&graph, module, &[]));
    }
    // Roles, actors, policy data, passwords, throttle, client address: no state, no audit.
    wrong.extend(imports_outside(&graph, "auth", &["error"]));
    // The shared state holds data only.
    wrong.extend(imports_outside(
        &graph,
        "state",
        &["auth", "clock", "config", "error", "forms"],
    ));
    wrong.extend(imports_outside(&graph, "config", &["auth"]));
    // Only the composition of the app sees the HTTP layers; only the CLI sees the app and tools.
    wrong.extend(importers_of(&graph, &["api", "web"], &["app"]));
    wrong.extend(importers_of(&graph, &["app", "tools"], &["cli"]));
    wrong.extend(importers_of(&graph, &["cli"], &[]));
    assert!(
        wrong.is_empty(),
        "imports against the layers of docs/ARCHITECTURE.md:\n{}",
        wrong.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_graph_reader_skips_comments_strings_and_test_code_but_sees_paths_and_groups() {
    let text = r##"
//! See [`crate::cli`].
/// Also [`crate::web::router`].
use crate::{auth::{Actor, client}, error::AppError,
    state::AppState};
/* crate::tools */
fn f() -> &'static str { let _ = crate::clock::now(); "crate::api" }
const C: char = '"';
fn g<'a>() { let _ = r#"crate::app"#; crate::units::x() }
#[cfg(test)]
mod tests {
    use crate::reports;
}
"##;
    let found: Vec<(String, usize)> = crate_paths(&without_test_code(&code_only(text)));
    let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["auth", "error", "state", "clock", "units"]);
    assert_eq!(found[2].1, 5, "a group item's line is its own line");
}

#[test]
fn a_cycle_is_named_with_the_files_and_lines_of_its_edges() {
    let mut graph = Graph::new();
    let edge = |g: &mut Graph, from: &str, to: &str, file: &str| {
        g.entry(from.into())
            .or_default()
            .insert(to.into(), vec![(file.into(), 3)]);
        g.entry(to.into()).or_default();
    };
    edge(&mut graph, "a", "b", "src/a.rs");
    edge(&mut graph, "b", "a", "src/b/x.rs");
    edge(&mut graph, "b", "c", "src/b/y.rs");
    edge(&mut graph, "c", "d", "src/c.rs");
    edge(&mut graph, "d", "b", "src/d.rs");
    assert_eq!(
        cycle_report(&graph),
        [
            "  cycle: a -> b -> a\n    a -> b: src/a.rs:3\n    b -> a: src/b/x.rs:3",
            "  cycle: b -> c -> d -> b\n    b -> c: src/b/y.rs:3\n    c -> d: src/c.rs:3\n    \
             d -> b: src/d.rs:3",
        ]
    );
}
