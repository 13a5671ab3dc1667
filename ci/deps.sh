#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages aio-suite needs, or say which are missing.
#
#   ci/deps.sh            install what is missing (root), else print the
#                         apt-get line and carry on: what needs a missing
#                         package is skipped later with its reason
#   ci/deps.sh --list     print the package list
#   ci/deps.sh --missing  print the missing packages, exit 1 if any
set -u

prog=deps
# One line per package: the package, then what needs it.
packages="
gcc             build
make            build
clang           the clang build
clang-format    make format-check
mypy            make lint: the Python tools' types
pkg-config      build
libc6-dev       build
libaio-dev      fio's libaio engine and the libaio harness comparison
liburing-dev    the io_uring engine
libblkid-dev    the block-device signature check
fio             job files and the fio cross-checks
gnuplot-nox     charts
bats            the command tests
man-db          the man page tests: man -w, and groff (groff-base) renders them
python3         tools
e2fsprogs       ext4 variants
xfsprogs        xfs variants
btrfs-progs     btrfs variants
util-linux      losetup, mount, setpriv
kmod            modules in the guest kernels (depmod -b on an unpacked kernel)
qemu-system-x86 make kernels: boots the guest kernels
busybox-static  make kernels: the guest's shell and tools
xz-utils        make kernels: decompresses .ko.xz modules
zstd            make kernels: decompresses .ko.zst modules
python3-yaml    the YAML check of the CI workflow files
python3-scipy   the check of the report's statistics against SciPy's
debootstrap     make check-old-distro: the Debian 11 chroot
debhelper       make deb: the Debian package (with dh-python)
dh-python       make deb: byte-compiles the package's Python at install
lintian         make deb: checks the package
procps          ps, in the tests
strace          fault injection in the tests (-e inject=)
ansible-core    make fleet: the playbook ci/fleet/fleet.yml
openssh-server  the fleet test: an sshd on the loopback
openssh-client  the fleet test: Ansible's SSH connection
"

names() { printf '%s\n' "$packages" | awk 'NF { print $1 }'; }

missing() {
	local p
	for p in $(names); do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || printf '%s ' "$p"
	done
}

case "${1:-}" in
--list) names; exit 0 ;;
--missing)
	m=$(missing)
	[ -n "$m" ] && echo "$m"
	[ -z "$m" ]
	exit
	;;
-h|--help)
	sed -n '4,12p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
"") ;;
*) echo "$prog: unknown argument '$1'" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "$prog: not a Debian system (no dpkg-query): install the equivalents of: $(names | tr '\n' ' ')" >&2
	exit 0
fi

m=$(missing)
[ -z "$m" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "$prog: missing packages; as root run:"
	echo "  apt-get install -y $m"
	echo "$prog: carrying on: what needs them is skipped with the reason"
	exit 0
fi

echo "$prog: installing $m"
export DEBIAN_FRONTEND=noninteractive
# Another apt-get (unattended-upgrades on a fresh machine, a second make)
# holds dpkg's lock for a while: wait for it rather than fail.
lock="-o DPkg::Lock::Timeout=600"
if ! apt-get install $lock -y -q --no-install-recommends $m; then
	apt-get $lock update -q && apt-get install $lock -y -q --no-install-recommends $m || {
		echo "$prog: apt-get install failed for: $m" >&2
		exit 1
	}
fi
