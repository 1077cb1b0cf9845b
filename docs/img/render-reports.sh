#!/usr/bin/env bash
# Renders the demo ward's consolidated summary (01a) and progress board as LibreOffice prints
# them, into docs/img/. The demo's reports are all drafts, so that the summary shows both of its
# parts, five units' 01a reports are marked sent first (three submitted, two accepted) in the
# throw-away database. Needs LibreOffice, pdftoppm (poppler-utils) and sqlite3.
#   bash docs/img/render-reports.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/img
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
db="sqlite://$work/demo.db?mode=rwc"
cargo build -q
bin=${CARGO_TARGET_DIR:-target}/debug/kiemke
KIEMKE_DEMO_PASSWORD=demo-password-1 KIEMKE_ADMIN_PASSWORD=admin-password-1 "$bin" --database-url "$db" demo >/dev/null 2>&1
sqlite3 "$work/demo.db" "
  UPDATE reports SET state = 'submitted', submitted_at = '2026-03-20T03:15:00+00:00',
    first_submitted_at = '2026-03-20T03:15:00+00:00' WHERE form_code = '01a' AND unit_id IN (1, 2, 3, 4, 5);
  UPDATE reports SET state = 'accepted', accepted_at = '2026-03-25T02:00:00+00:00'
    WHERE form_code = '01a' AND unit_id IN (4, 5);"
"$bin" --database-url "$db" export --campaign 1 --summary --form 01a --out "$work/summary.xlsx" >/dev/null
"$bin" --database-url "$db" export --campaign 1 --progress --out "$work/progress.xlsx" >/dev/null
for name in summary progress; do
  HOME="$work" libreoffice --headless --convert-to pdf --outdir "$work" "$work/$name.xlsx" >/dev/null 2>&1
  pdftoppm -png -r 110 -f 1 -l 1 -singlefile "$work/$name.pdf" "$out/$name"
  pdftoppm -png -r 220 -f 1 -l 1 -singlefile -x 0 -y 0 -W 1500 -H 900 "$work/$name.pdf" "$out/$name-detail"
done
ls -l "$out"/summary*.png "$out"/progress*.png
