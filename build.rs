//! Embeds every form definition in `forms/` into the binary, so that adding a
//! form is adding a file, never editing a list in the code.
use std::{env, fs, path::Path};

fn main() {
    // Without a test PostgreSQL, the PostgreSQL runs of the tests are reported as ignored rather
    // than as passed (tests/api/support.rs, `db_test!`).
    println!("cargo::rustc-check-cfg=cfg(kiemke_no_test_db)");
    println!("cargo:rerun-if-env-changed=TEST_DATABASE_URL");
    if env::var_os("TEST_DATABASE_URL").is_none_or(|v| v.is_empty()) {
        println!("cargo:rustc-cfg=kiemke_no_test_db");
    }
    // The variable as cargo sets it for this run, not as it was when the script was compiled:
    // a build directory shared by several checkouts would embed another checkout's forms.
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("forms");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("forms/ directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// Form definition files embedded at build time: (file name, contents).\npub static EMBEDDED_FORMS: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("embedded_forms.rs");
    fs::write(dest, out).expect("write embedded_forms.rs");
}
