#!/bin/sh
# The SDK as a vendor meets it: install the BerthSDK package into a temporary prefix, build an
# out-of-tree plugin with find_package(BerthSDK) + berth_add_plugin(), then let a real berthd
# load it and list it as ok. Needs root (berthd's trust check wants root-owned plugins).
set -eu
build=${1:?usage: run.sh <berth build dir>}
# The README's "Writing a driver" example, as the README shows it.
example=$(cd "$(dirname "$0")/../../sdk/examples/network-acme" && pwd)
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"

cmake --install "$build" --prefix "$work/prefix" --component sdk >/dev/null
cmake -S "$example" -B "$work/vendor-build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/vendor-build" -j 2 >/dev/null
mkdir -p "$work/plugins"
cp "$work/vendor-build/berth-network-acme.so" "$work/plugins/"
chmod 644 "$work/plugins/berth-network-acme.so"
# Only the entry alias is exported, as berth_add_plugin promises.
exported=$(nm -D --defined-only "$work/plugins/berth-network-acme.so" | awk '{print $3}')
major=$(sed -n 's/^#define BERTH_SDK_ABI_MAJOR \([0-9]*\).*/\1/p' "$work/prefix/include/berth/sdk/version.h")
[ "$exported" = "berth_plugin_abi_v$major" ] || { echo "FAIL: plugin exports: $exported (ABI $major)"; exit 1; }

echo '{"bridge": "none"}' >"$work/none.json"
"$build/bin/berthd" --data-root "$work/data" --exec-root "$work/exec" --host "unix://$work/berth.sock" \
  --isolation-backend none --plugin-dir "$build/lib/berth/plugins" --plugin-dir "$work/plugins" \
  --config "$work/none.json" >"$work/berthd.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do [ -S "$work/berth.sock" ] && break; sleep 0.05; done
[ -S "$work/berth.sock" ] || { echo "FAIL: berthd did not start"; cat "$work/berthd.log"; exit 1; }
out=$("$build/bin/berth" -H "unix://$work/berth.sock" plugin ls --no-trunc)
echo "$out"
echo "$out" | grep -E '^network\.acme .* ok( |$)' >/dev/null || { echo "FAIL: network.acme not ok"; cat "$work/berthd.log"; exit 1; }
grep -q 'acme network driver ready' "$work/berthd.log" || { echo "FAIL: the plugin's log line did not reach berthd's log"; exit 1; }
# `network create -d acme` reaches the vendor's driver (issue 14: any loaded network driver).
b() { "$build/bin/berth" -H "unix://$work/berth.sock" "$@"; }
b network create -d acme --subnet 10.123.0.0/24 vendor-net >/dev/null || { echo "FAIL: network create -d acme"; cat "$work/berthd.log"; exit 1; }
b network ls --format '{{.Name}} {{.Driver}}' | grep -qx 'vendor-net acme' || { echo "FAIL: vendor-net is not listed with driver acme"; exit 1; }
b network rm vendor-net >/dev/null || { echo "FAIL: network rm of the acme network"; exit 1; }
echo "PASS: out-of-tree plugin built against the installed SDK and loaded"
