#!/usr/bin/env bash
# Fetch QEMU 10 from bookworm-backports beside the system QEMU, and print
# the command prefix that runs it.
#
#   read -ra qemu < <(scripts/qemu10.sh)   # then "${qemu[@]}" -machine ...
#
# The system qemu-system-x86 (7.2) stays installed and stays the default.
# This downloads the backports qemu-system-x86 and only the packages its
# dependencies need that the installed system cannot satisfy (today:
# qemu-system-common, qemu-system-data and seabios), into build/qemu10/debs,
# and unpacks them with dpkg -x into build/qemu10/root: nothing is
# installed. The one line on stdout is the prefix (env QEMU_MODULE_DIR=...,
# the binary, -L for its own firmware, -audio none: see the end for why);
# progress goes to stderr.
#
# Idempotent: silent (the prefix only) when build/qemu10 is up to date. It
# fetches again only when the backports package list has changed since and
# carries another version.
#
# It needs the bookworm-backports apt source that scripts/setup.sh enables
# (make setup); it names no mirror itself.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
Q=$TOP/build/qemu10
STAMP=$Q/stamp
SUITE=bookworm-backports

say() { echo "qemu10: $*" >&2; }
die() { say "$@"; exit 1; }

# The prefix is printed as plain words for the caller to split.
case $TOP in *[[:space:]]*) die "the repository path has whitespace: $TOP" ;; esac

# Is the backports package list newer than our tree?
lists_changed() {
	[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name "*_dists_${SUITE}_*Packages*" \
		-newer "$STAMP" 2>/dev/null)" ]
}

# What apt knows of the packages named, one call for all (apt-cache costs
# about a second a call here): "NAME cand VERSION" for the candidate, then
# "NAME ver VERSION" for each version, highest first, then "NAME SUITE
# VERSION" for each suite that has it.
apt_versions() {
	apt-cache policy "$@" 2>/dev/null | awk '
		/^[^ ].*:$/ { name = substr($0, 1, length($0) - 1); next }
		/^  Candidate:/ { print name, "cand", $2; next }
		/^( \*\*\* |     )[^ ]/ { v = ($1 == "***") ? $2 : $1; print name, "ver", v; next }
		/^        [0-9]+ / && NF >= 4 { split($3, s, "/"); print name, s[1], v }'
}

# The backports version of a package, empty if apt does not know it.
backports_version() {
	apt_versions "$1" | awk -v s="$SUITE" '$2 == s { print $3; exit }'
}

# The up-to-date check: stamp line 1 is the version, line 2 the prefix.
# Leaves what backports has in VERSION when it asked apt.
VERSION=""
up_to_date() {
	local have

	[ -f "$STAMP" ] && [ -x "$Q/root/usr/bin/qemu-system-x86_64" ] || return 1
	lists_changed || return 0
	have=$(sed -n 1p "$STAMP")
	VERSION=$(backports_version qemu-system-x86)
	if [ -z "$VERSION" ] || [ "$VERSION" = "$have" ]; then
		touch "$STAMP" 2>/dev/null || true
		return 0
	fi
	say "backports now has qemu-system-x86 $VERSION (we have $have)"
	return 1
}

# The quick path: no apt query unless the package lists changed.
if [ -f "$STAMP" ] && [ -x "$Q/root/usr/bin/qemu-system-x86_64" ] && ! lists_changed; then
	sed -n 2p "$STAMP"
	exit 0
fi

mkdir -p "$Q"
exec 9> "$Q/lock"
flock 9
if up_to_date; then
	sed -n 2p "$STAMP"
	exit 0
fi

if ! grep -rqsE "(^|[[:space:]])$SUITE([[:space:]]|\$)" \
		/etc/apt/sources.list /etc/apt/sources.list.d/; then
	die "no $SUITE apt source; run 'make setup' (scripts/setup.sh) as root first"
fi

[ -n "$VERSION" ] || VERSION=$(backports_version qemu-system-x86)
if [ -z "$VERSION" ]; then
	[ "$(id -u)" -eq 0 ] ||
		die "apt knows no $SUITE qemu-system-x86; run 'apt-get update' as root"
	say "updating the apt package lists"
	apt-get update -qq >&2
	VERSION=$(backports_version qemu-system-x86)
	[ -n "$VERSION" ] || die "$SUITE has no qemu-system-x86"
fi

# Does the installed system satisfy NAME [OP VER]?
installed_ok() {
	local name=$1 op=${2:-} ver=${3:-} v

	while read -r v; do
		[ -n "$v" ] || continue
		[ -z "$op" ] && return 0
		dpkg --compare-versions "$v" "$op" "$ver" && return 0
	done < <(dpkg-query -W -f='${db:Status-Abbrev}${Version}\n' "$name" 2>/dev/null |
		 sed -n 's/^ii *//p')
	# An unversioned dependency may be on a virtual package.
	[ -z "$op" ] && dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null |
		sed -n 's/^ii *|//p' | tr ',' '\n' | sed 's/ *(.*//; s/^ *//' |
		grep -qxF "$name"
}

DEBS=$Q/debs
NEW=$Q/root.new
rm -rf "$DEBS" "$NEW"
mkdir -p "$DEBS" "$NEW"
dep_re='^ *([a-z0-9.+-]+)(:[a-z0-9]+)? *(\(([<>=]+) *([^)]+)\))? *$'
declare -A GOT=()	# package -> version fetched
declare -A WHY=()	# package -> the dependency that brought it in
level=("qemu-system-x86=$VERSION")
WHY[qemu-system-x86]="the QEMU 10 binary"
: > "$Q/packages.new"

# Fetch level by level: the packages, then what they need that neither the
# system nor the packages already fetched satisfy.
say "fetching qemu-system-x86 $VERSION from $SUITE into ${DEBS#"$TOP"/}"
while [ ${#level[@]} -gt 0 ]; do
	(cd "$DEBS" && apt-get download -qq -o APT::Sandbox::User=root "${level[@]}" >&2)
	for spec in "${level[@]}"; do
		name=${spec%%=*}
		deb=$(echo "$DEBS/$name"_*.deb)
		[ -f "$deb" ] || die "apt-get download $spec left no .deb"
		GOT[$name]=${spec#*=}
		# What it provides counts as fetched too.
		while read -r pn pver; do
			[ -n "$pn" ] && [ -z "${GOT[$pn]:-}" ] && GOT[$pn]=${pver:-${spec#*=}}
		done < <(dpkg-deb -f "$deb" Provides | tr ',' '\n' |
			 sed -E 's/^ *([^ (]+) *(\(= *([^)]+)\))?.*/\1 \3/')
	done
	needs=()	# "NAME OP VERSION|WHY"
	for spec in "${level[@]}"; do
		name=${spec%%=*}
		deb=$(echo "$DEBS/$name"_*.deb)
		echo "$spec	${WHY[$name]}" >> "$Q/packages.new"
		dpkg -x "$deb" "$NEW"

		deps=$(for f in Pre-Depends Depends; do dpkg-deb -f "$deb" "$f"; done | tr '\n' ',')
		IFS=, read -ra items <<< "$deps"
		for item in "${items[@]}"; do
			item=$(echo "$item" | sed 's/^ *//; s/ *$//')
			[ -n "$item" ] || continue
			ok=0 first=""
			IFS='|' read -ra alts <<< "$item"
			for alt in "${alts[@]}"; do
				[[ $alt =~ $dep_re ]] ||
					die "$name: cannot parse dependency '$alt'"
				dn=${BASH_REMATCH[1]} dop=${BASH_REMATCH[4]} dver=${BASH_REMATCH[5]}
				[ -n "$first" ] || first="$dn $dop $dver"
				if [ -n "${GOT[$dn]:-}" ]; then
					[ -z "$dop" ] ||
						dpkg --compare-versions "${GOT[$dn]}" "$dop" "$dver" ||
						die "$name needs $alt; we fetched $dn ${GOT[$dn]}"
					ok=1
					break
				fi
				if installed_ok "$dn" "$dop" "$dver"; then
					ok=1
					break
				fi
			done
			[ $ok -eq 1 ] || needs+=("$first|$name: $item")
		done
	done

	# The version of each: the candidate if it does, else the highest.
	level=()
	[ ${#needs[@]} -gt 0 ] || break
	mapfile -t names < <(for n in "${needs[@]}"; do echo "${n%% *}"; done | sort -u)
	info=$(apt_versions "${names[@]}")
	for n in "${needs[@]}"; do
		read -r dn dop dver <<< "${n%%|*}"
		if [ -n "${GOT[$dn]:-}" ]; then
			[ -z "$dop" ] || dpkg --compare-versions "${GOT[$dn]}" "$dop" "$dver" ||
				die "${n#*|}, but ${GOT[$dn]} is needed too"
			continue
		fi
		v=""
		while read -r c; do
			if [ -z "$dop" ] || dpkg --compare-versions "$c" "$dop" "$dver"; then
				v=$c
				break
			fi
		done < <(awk -v n="$dn" '$1 == n && $2 == "cand" && $3 != "(none)" { print $3 }
					 $1 == n && $2 == "ver" { print $3 }' <<< "$info")
		[ -n "$v" ] || die "${n#*|}: neither the system nor apt has it"
		GOT[$dn]=$v
		WHY[$dn]=${n#*|}
		level+=("$dn=$v")
	done
done

# Every shared object must now resolve, with our libraries (if any) first.
libpath="" newlib=""
for d in usr/lib/x86_64-linux-gnu lib/x86_64-linux-gnu; do
	[ -n "$(find "$NEW/$d" -maxdepth 1 -name 'lib*.so*' 2>/dev/null)" ] || continue
	libpath+=${libpath:+:}$Q/root/$d
	newlib+=${newlib:+:}$NEW/$d
done
ldenv=()
[ -z "$newlib" ] || ldenv=("LD_LIBRARY_PATH=$newlib")
missing=$(find "$NEW/usr/bin" "$NEW/usr/lib" -type f \( -name 'qemu-system-*' -o -name '*.so' \) \
		-exec env "${ldenv[@]}" ldd {} + 2>/dev/null |
	  awk '/:$/ { f = $1 } / => not found/ { print f " " $1 }')
[ -z "$missing" ] || die "unresolved libraries:"$'\n'"$missing"

rm -rf "$Q/root"
mv "$NEW" "$Q/root"
mv "$Q/packages.new" "$Q/packages"

# Firmware: QEMU looks in fixed system paths (Debian builds it
# non-relocatable), so put ours first with -L wherever we unpacked one; the
# paths we did not unpack (e.g. ipxe) come from the system, which satisfies
# them. Modules: QEMU_MODULE_DIR makes it load its own; "-audio none" stops
# the default audio probe, which would otherwise try the system's 7.2
# ui-opengl module (this QEMU ships it in a package we do not need) and say
# it is from another build.
bin=$Q/root/usr/bin/qemu-system-x86_64
ldenv=()
[ -z "$libpath" ] || ldenv=("LD_LIBRARY_PATH=$libpath")
prefix="env QEMU_MODULE_DIR=$Q/root/usr/lib/x86_64-linux-gnu/qemu ${ldenv[*]} $bin"
prefix=${prefix//  / }
for d in $(env "${ldenv[@]}" "$bin" -L help); do
	[ -d "$Q/root$d" ] && prefix+=" -L $Q/root$d"
done
prefix+=" -audio none"

version=$($prefix --version 2>&1 | head -n 1) || true
[[ $version == "QEMU emulator version 10."* ]] ||
	die "the unpacked QEMU does not run: $version"
printf '%s\n%s\n' "$VERSION" "$prefix" > "$STAMP.new"
mv "$STAMP.new" "$STAMP"
say "ready: $(cut -f1 "$Q/packages" | paste -sd " ")"
echo "$prefix"
