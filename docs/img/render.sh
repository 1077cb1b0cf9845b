#!/usr/bin/env bash
# Renders the demo ward's 01a, 02a and 18a forms as LibreOffice prints them, into docs/img/.
# Needs LibreOffice (Debian: libreoffice-calc-nogui) and pdftoppm (poppler-utils).
#   bash docs/img/render.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/img
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
db="sqlite://$work/demo.db?mode=rwc"
cargo build -q
bin=${CARGO_TARGET_DIR:-target}/debug/kiemke
KIEMKE_DEMO_PASSWORD=demo-password-1 KIEMKE_ADMIN_PASSWORD=admin-password-1 "$bin" --database-url "$db" demo >/dev/null 2>&1
# unit ids of the demo: 1 = Văn phòng HĐND và UBND, 2 = Phòng Kinh tế, 3 = Phòng Văn hóa - Xã hội
for spec in 1:01a 2:02a 3:18a; do
  unit=${spec%%:*}; form=${spec##*:}
  "$bin" --database-url "$db" export --campaign 1 --unit "$unit" --form "$form" --out "$work/$form.xlsx" >/dev/null
  HOME="$work" libreoffice --headless --convert-to pdf --outdir "$work" "$work/$form.xlsx" >/dev/null 2>&1
  pdftoppm -png -r 110 -f 1 -l 1 -singlefile "$work/$form.pdf" "$out/form-$form"
  # A legible close-up of the top left corner (the header, the first sections).
  pdftoppm -png -r 220 -f 1 -l 1 -singlefile -x 0 -y 0 -W 1500 -H 900 "$work/$form.pdf" "$out/form-$form-detail"
done
ls -l "$out"
