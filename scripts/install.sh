#!/bin/sh
# Installs warden as a system service (README: "Run as a service"). POSIX sh; run it as root from a built
# checkout (`npm ci` done):
#
#   sh scripts/install.sh [--root DIR] [--prefix DIR] [--bindir DIR] [--source DIR] [--no-start]
#
# What it does, under DIR (default /):
#   PREFIX (/opt/warden)                     the package: dist/, package.json, production node_modules/, schema/,
#                                            config/, systemd/, README.md; root-owned, read-only to the service
#   BINDIR/warden (/usr/local/bin/warden)    a relative symlink to PREFIX/dist/cli/main.js (#!/usr/bin/env node)
#   /etc/systemd/system/warden.service       the unit (ExecStart=/usr/bin/env node PREFIX/dist/cli/main.js daemon …)
#   /usr/lib/sysusers.d/warden.conf          the users warden and warden-plugin
#   /etc/warden/warden.yaml                  the production config, only if there is none yet (else .dist beside it)
#   /var/lib/warden, /var/lib/warden/plugins, /var/log/warden    0750, owned by warden:warden
# then, only when DIR is /: creates the users (systemd-sysusers, else useradd), chowns those folders,
# `systemctl daemon-reload`, `systemctl enable warden` and `systemctl restart warden` (not with --no-start).
# With any other DIR nothing outside DIR is touched: those steps are printed as "would run: …".
#
# The unit and the `warden` command both run the first `node` on PATH (/usr/local/bin before /usr/bin, as in
# systemd's own PATH for services): that node must be >= 20.19, and the script refuses to install otherwise.
set -eu
umask 022

ROOT=/
PREFIX=/opt/warden
BINDIR=/usr/local/bin
SOURCE=
START=yes
MIN_MAJOR=20
MIN_MINOR=19

usage() {
  cat <<'EOF'
usage: sh scripts/install.sh [--root DIR] [--prefix DIR] [--bindir DIR] [--source DIR] [--no-start]

  --root DIR    install into DIR as if it were / (default /). Anything but /: no users are created, nothing
                is chowned, systemctl is not run; each of those steps is printed as "would run: …"
  --prefix DIR  where the package goes, inside the root (default /opt/warden)
  --bindir DIR  where the `warden` command is linked, inside the root (default /usr/local/bin)
  --source DIR  the built checkout to install (default: the folder above this script)
  --no-start    enable the service, but do not (re)start it
EOF
}

say() { printf '%s\n' "install.sh: $*"; }
die() {
  printf '%s\n' "install.sh: error: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case $1 in
    --root) [ $# -ge 2 ] || die "--root needs a folder"; ROOT=$2; shift 2 ;;
    --root=*) ROOT=${1#*=}; shift ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a folder"; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --bindir) [ $# -ge 2 ] || die "--bindir needs a folder"; BINDIR=$2; shift 2 ;;
    --bindir=*) BINDIR=${1#*=}; shift ;;
    --source) [ $# -ge 2 ] || die "--source needs a folder"; SOURCE=$2; shift 2 ;;
    --source=*) SOURCE=${1#*=}; shift ;;
    --no-start) START=no; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

# ---- the paths --------------------------------------------------------------------------------------
for p in "$PREFIX" "$BINDIR"; do
  case $p in
    /*) ;;
    *) die "$p: --prefix and --bindir are absolute paths inside the root" ;;
  esac
  # Written into the unit with sed, and compared below: keep them plain.
  case $p in
    *[!A-Za-z0-9._/+-]*) die "$p: only letters, digits and . _ / + - are supported in --prefix and --bindir" ;;
  esac
done
PREFIX=$(printf '%s' "$PREFIX" | sed 's#//*#/#g; s#/$##')
BINDIR=$(printf '%s' "$BINDIR" | sed 's#//*#/#g; s#/$##')
case $PREFIX in
  '' | /usr | /usr/local | /opt | /etc | /var | /var/lib | /home | /root | /tmp) die "--prefix $PREFIX: give warden a folder of its own (e.g. /opt/warden)" ;;
esac

[ -d "$ROOT" ] || die "--root $ROOT: no such folder"
ROOT=$(cd "$ROOT" && pwd -P)
if [ "$ROOT" = / ]; then R=; else R=$ROOT; fi
LIVE=no
[ -z "$R" ] && LIVE=yes

if [ -z "$SOURCE" ]; then SOURCE=$(dirname "$0")/..; fi
[ -d "$SOURCE" ] || die "--source $SOURCE: no such folder"
SOURCE=$(cd "$SOURCE" && pwd -P)
if ! grep -q '"name": *"warden"' "$SOURCE/package.json" 2>/dev/null; then
  die "$SOURCE is not a warden checkout (no package.json named warden)"
fi
[ -f "$SOURCE/dist/cli/main.js" ] || die "$SOURCE is not built: run \`npm ci\` there first (it builds dist/)"
[ -d "$SOURCE/node_modules" ] || die "$SOURCE has no node_modules: run \`npm ci\` there first"

if [ "$LIVE" = yes ] && [ "$(id -u)" != 0 ]; then
  die "installing into / needs root (sudo sh scripts/install.sh), or pass --root DIR"
fi

# Runs a command when installing into /, else prints it.
act() {
  if [ "$LIVE" = yes ]; then
    say "run: $*"
    "$@"
  else
    say "would run: $*"
  fi
}

# ---- node ---------------------------------------------------------------------------------------------
# The unit starts `/usr/bin/env node`, and systemd's PATH for services is /usr/local/sbin:/usr/local/bin:
# /usr/sbin:/usr/bin: so the node that runs warden is the first one there. Look where systemd will look
# (under the root), then, for a root that holds no node of its own, on this shell's PATH.
NODE=$(PATH="$R/usr/local/sbin:$R/usr/local/bin:$R/usr/sbin:$R/usr/bin:$PATH" command -v node || true)
[ -n "$NODE" ] || die "node not found. warden needs Node.js >= $MIN_MAJOR.$MIN_MINOR at /usr/local/bin/node or /usr/bin/node (see README: Run as a service)"
if [ "$LIVE" = yes ]; then
  case $NODE in
    /usr/local/sbin/node | /usr/local/bin/node | /usr/sbin/node | /usr/bin/node) ;;
    *) die "node is at $NODE, where the service does not look: install it into /usr/local (or link it: ln -s $NODE /usr/local/bin/node)" ;;
  esac
fi
NODE_VERSION=$("$NODE" -e 'process.stdout.write(process.versions.node)') || die "$NODE does not run"
major=${NODE_VERSION%%.*}
minor=${NODE_VERSION#*.}
minor=${minor%%.*}
if [ "$major" -lt "$MIN_MAJOR" ] || { [ "$major" -eq "$MIN_MAJOR" ] && [ "$minor" -lt "$MIN_MINOR" ]; }; then
  die "$NODE is Node.js $NODE_VERSION; warden needs >= $MIN_MAJOR.$MIN_MINOR (Debian 12 and Ubuntu 24.04 ship 18.x: install Node.js 22 from NodeSource or nodejs.org, see README: Run as a service)"
fi
say "node: $NODE (v$NODE_VERSION)"

# ---- the package --------------------------------------------------------------------------------------
DEST=$R$PREFIX
mkdir -p "$(dirname "$DEST")"
if [ -d "$DEST" ] && [ "$(cd "$DEST" && pwd -P)" = "$SOURCE" ]; then
  # Built in place: nothing to copy, and the dev dependencies stay (it is a checkout).
  say "package: $SOURCE is already $PREFIX; not copied"
else
  STAGE=$DEST.new.$$
  OLD=$DEST.old.$$
  trap 'rm -rf "$STAGE"' EXIT
  trap 'exit 130' INT TERM
  mkdir "$STAGE"
  for f in package.json package-lock.json README.md LICENSE dist schema config systemd node_modules; do
    if [ -e "$SOURCE/$f" ]; then cp -R "$SOURCE/$f" "$STAGE/"; fi
  done
  # Only what runs: the dev dependencies (typescript, vitest, …) go. Offline: nothing is downloaded.
  if command -v npm >/dev/null 2>&1; then
    (cd "$STAGE" && npm prune --omit=dev --ignore-scripts --offline --no-audit --no-fund --no-update-notifier --loglevel=error >/dev/null) ||
      die "npm prune --omit=dev failed in $STAGE"
    find "$STAGE/node_modules" -mindepth 1 -maxdepth 1 -type d -empty -exec rmdir {} + 2>/dev/null || true
  else
    say "npm not found: node_modules copied with its dev dependencies"
  fi
  chmod -R u+rwX,go+rX,go-w "$STAGE"
  # Swap: the running daemon keeps its open files; the next start uses the new tree.
  if [ -e "$DEST" ]; then mv "$DEST" "$OLD"; fi
  mv "$STAGE" "$DEST"
  trap - EXIT INT TERM
  rm -rf "$OLD"
  say "package: $SOURCE -> $DEST"
fi
chmod 0755 "$DEST/dist/cli/main.js"

# ---- the warden command -------------------------------------------------------------------------------
mkdir -p "$R$BINDIR"
# Relative, so it resolves the same inside the root and once the root is /: /usr/local/bin/warden ->
# ../../../opt/warden/dist/cli/main.js. Counted from the real folder, in case BINDIR is itself a symlink.
inner=$(cd "$R$BINDIR" && pwd -P)
if [ -n "$R" ]; then
  case $inner in
    "$ROOT"/*) inner=${inner#"$ROOT"} ;;
    *) inner= ;;
  esac
fi
if [ -n "$inner" ]; then
  up=
  rest=${inner#/}
  while [ -n "$rest" ]; do
    up=../$up
    case $rest in
      */*) rest=${rest#*/} ;;
      *) rest= ;;
    esac
  done
  TARGET=$up${PREFIX#/}/dist/cli/main.js
else
  TARGET=$PREFIX/dist/cli/main.js
fi
ln -sfn "$TARGET" "$R$BINDIR/warden"
say "command: $R$BINDIR/warden -> $TARGET"

# ---- the unit, the users, the config ------------------------------------------------------------------
mkdir -p "$R/etc/systemd/system" "$R/usr/lib/sysusers.d"
sed "s#/opt/warden#$PREFIX#g" "$SOURCE/systemd/warden.service" >"$R/etc/systemd/system/warden.service"
chmod 0644 "$R/etc/systemd/system/warden.service"
say "unit: $R/etc/systemd/system/warden.service"
cp "$SOURCE/systemd/warden.sysusers" "$R/usr/lib/sysusers.d/warden.conf"
chmod 0644 "$R/usr/lib/sysusers.d/warden.conf"
say "users: $R/usr/lib/sysusers.d/warden.conf"

mkdir -p "$R/etc/warden"
chmod 0755 "$R/etc/warden"
if [ -e "$R/etc/warden/warden.yaml" ]; then
  cp "$SOURCE/systemd/warden.yaml" "$R/etc/warden/warden.yaml.dist"
  chmod 0644 "$R/etc/warden/warden.yaml.dist"
  say "config: $R/etc/warden/warden.yaml kept; the shipped one is beside it as warden.yaml.dist"
else
  cp "$SOURCE/systemd/warden.yaml" "$R/etc/warden/warden.yaml"
  chmod 0644 "$R/etc/warden/warden.yaml"
  say "config: $R/etc/warden/warden.yaml"
fi

if [ "$LIVE" = yes ]; then
  if command -v systemd-sysusers >/dev/null 2>&1; then
    act systemd-sysusers /usr/lib/sysusers.d/warden.conf
  else
    if ! id -u warden >/dev/null 2>&1; then
      act useradd --system --user-group --home-dir /var/lib/warden --no-create-home --shell /usr/sbin/nologin warden
    fi
    if ! id -u warden-plugin >/dev/null 2>&1; then
      act useradd --system --user-group --no-create-home --home-dir / --shell /usr/sbin/nologin warden-plugin
    fi
  fi
else
  act systemd-sysusers /usr/lib/sysusers.d/warden.conf
fi

# ---- the folders --------------------------------------------------------------------------------------
# The unit's StateDirectory=/LogsDirectory= make them too, at the first start; made here so that plugins
# can be copied in before it. 0750: the daemon and the warden group (operators) only.
for d in /var/lib/warden /var/lib/warden/plugins /var/log/warden; do
  mkdir -p "$R$d"
  chmod 0750 "$R$d"
done
act chown warden:warden /var/lib/warden /var/lib/warden/plugins /var/log/warden
say "folders: $R/var/lib/warden, $R/var/lib/warden/plugins, $R/var/log/warden (0750, warden:warden)"

# ---- systemd ------------------------------------------------------------------------------------------
if [ "$LIVE" = yes ] && { ! command -v systemctl >/dev/null 2>&1 || [ ! -d /run/systemd/system ]; }; then
  say "systemd is not running here: start the daemon with: sudo -u warden warden daemon --config /etc/warden/warden.yaml"
else
  act systemctl daemon-reload
  act systemctl enable warden
  if [ "$START" = yes ]; then act systemctl restart warden; fi
fi

if [ "$LIVE" = yes ] && ! command -v bwrap >/dev/null 2>&1; then
  say "warning: bubblewrap is not installed (apt-get install bubblewrap): with sandbox.require: true no plugin starts without it"
fi

cat <<EOF
install.sh: done. Next:
  usermod -aG warden YOUR-USER      # operators in the warden group may use the control socket;
                                    # the membership counts from the next login (or run: newgrp warden)
  export WARDEN_SOCKET=/run/warden/warden.sock
  warden status
EOF
