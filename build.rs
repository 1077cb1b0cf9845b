//! Embeds every form definition in `forms/` and every export profile in `profiles/` into the
//! binary, so that adding a form or a profile is adding a file, never editing a list in the code.
use std::{env, fs, path::Path};

fn main() {
    // Without a test PostgreSQL, the PostgreSQL runs of the tests are reported as ignored rather
    // than as passed (tests/api/support.rs, `db_test!`).
    println!("cargo::rustc-check-cfg=cfg(kiemke_no_test_db)");
    println!("cargo:rerun-if-env-changed=TEST_DATABASE_URL");
    if env::var_os("TEST_DATABASE_URL").is_none_or(|v| v.is_empty()) {
        println!("cargo:rustc-cfg=kiemke_no_test_db");
    }
    embed(
        "forms",
        "EMBEDDED_FORMS",
        "Form definition files",
        "embedded_forms.rs",
    );
    embed(
        "profiles",
        "EMBEDDED_PROFILES",
        "Export profiles",
        "embedded_profiles.rs",
    );
}

/// Writes `OUT_DIR/<out>` with a static `name` of every `<dir>/*.toml`: (file name, contents).
fn embed(dir: &str, name: &str, what: &str, out_file: &str) {
    // The variable as cargo sets it for this run, not as it was when the script was compiled:
    // a build directory shared by several checkouts would embed another checkout's files.
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join(dir);
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = format!(
        "/// {what} embedded at build time: (file name, contents).\npub static {name}: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let file = f.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({file:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join(out_file);
    fs::write(dest, out).expect("write the embedded definitions");
}
