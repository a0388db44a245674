#!/usr/bin/env bash
# CI tools: Debian's chromium + chromium-driver for tests/test_browser.py and gdal-bin (ogrinfo) for
# the GeoPackage check. Never fails CI: without apt the tests that need them skip and say why.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
[ ${#need[@]} -eq 0 ] && { echo "setup-browser: chromium, chromedriver, ogrinfo present"; exit 0; }
command -v apt-get >/dev/null 2>&1 || { echo "setup-browser: no apt-get; browser/ogrinfo tests will skip"; exit 0; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || echo "setup-browser: apt-get update failed, trying install anyway"
if apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; then
  echo "setup-browser: installed ${need[*]}"
else
  echo "setup-browser: could not install ${need[*]}; those tests will skip"
fi
exit 0
