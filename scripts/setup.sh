#!/usr/bin/env bash
# Brings a fresh Debian 12 machine (root, Node 20) to where the lab and the tests run, and does
# as little as possible when it already is: every step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  echo "setup: must run as root (the datapath needs the BPF syscall, netlink and network namespaces)" >&2
  exit 1
fi

# Debian packages: the BPF toolchain, libbpf for the addon, etcd for identities, and the tools
# tests and benchmarks use as peers and baselines.
packages=(
  clang llvm libbpf-dev libelf-dev zlib1g-dev pkg-config make g++ python3
  iproute2 iputils-ping netcat-openbsd iptables socat iperf3 bpftool
  etcd-server etcd-client prometheus
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts no services here, and we want none: tests and the lab start their own etcd.
if systemctl is-active --quiet etcd 2>/dev/null; then systemctl stop etcd || true; fi

# bpffs: pins of maps and programs live here.
if ! mountpoint -q /sys/fs/bpf; then
  say "mounting bpffs at /sys/fs/bpf"
  mkdir -p /sys/fs/bpf
  mount -t bpf bpf /sys/fs/bpf
fi

# npm packages, only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Builds: BPF objects, the addon, generated protobuf code and TypeScript; Nx skips what is cached.
say "building (nx run-many -t build)"
npx nx run-many -t build --outputStyle=static >/tmp/cilium-ts-build.log 2>&1 || {
  cat /tmp/cilium-ts-build.log >&2
  echo "setup: build failed (log above)" >&2
  exit 1
}
say "ready"
