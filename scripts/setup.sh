#!/usr/bin/env bash
# Install what the build and the VM need, and nothing else.
#
# Idempotent: silent when everything is present; says what it installs.
# Enables bookworm-backports (for linux-source-6.12, and for QEMU 10, which
# `make check` fetches through scripts/qemu10.sh) by deriving the entry
# from the machine's own Debian apt source, so no mirror host is named here.
set -euo pipefail

PKGS=(build-essential bc flex bison libelf-dev libssl-dev cpio rsync
      xz-utils ccache qemu-system-x86 busybox-static liburing-dev
      pkg-config g++ linux-source-6.12)
# `setup.sh bench`: also what `make bench` draws its chart with.
[ "${1:-}" = bench ] && PKGS+=(gnuplot-nox)

# Derive a backports entry from the first Debian source that lists bookworm.
enable_backports() {
	local list=/etc/apt/sources.list.d/ioasid-backports.list uri=""
	grep -rqsE '(^|[[:space:]])bookworm-backports([[:space:]]|$)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ { print u; exit }' \
			/etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
	fi
	if [ -z "$uri" ]; then
		echo "setup: no Debian bookworm apt source found to derive backports from" >&2
		exit 1
	fi
	echo "setup: enabling bookworm-backports from $uri"
	echo "deb $uri bookworm-backports main" > "$list"
}

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	# QEMU 10 needs the backports entry even where linux-source-6.12 came
	# from elsewhere: as root, add it (scripts/qemu10.sh updates the lists).
	[ "$(id -u)" -ne 0 ] || (enable_backports) 2>/dev/null || true
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing Debian packages: ${missing[*]}" >&2
	echo "setup: run as root, or: sudo apt-get install ${missing[*]}" >&2
	echo "setup: (linux-source-6.12 comes from bookworm-backports, as does the QEMU 10" \
	     "make check fetches)" >&2
	exit 1
fi

enable_backports
echo "setup: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
