#!/usr/bin/env bash
# Debian tools the tests use to check PDFs like a user's reader would: poppler-utils
# (pdftotext, pdftoppm, pdffonts, pdfsig), qpdf, zbar-tools (zbarimg decodes QR codes), unzip
# (tests the XLSX export's ZIP);
# chromium for the site's browser tests (test/browser, driven by playwright-core), and
# fonts-noto-cjk so that its screenshots show Chinese instead of empty boxes.
set -euo pipefail
need=()
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need+=(fonts-noto-cjk)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing Debian packages: ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
