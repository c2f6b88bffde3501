#!/bin/sh
# Regenerates the test-only key fixtures in this folder. These keys protect
# nothing: they exist so that tests parse what the real tools write.
# Needs ssh-keygen (OpenSSH < 9.8 for DSA), puttygen (putty-tools) and openssl.
# Afterwards, rerun the tests: fingerprints.txt records ssh-keygen -l output.
set -eu
cd "$(dirname "$0")"
rm -f dsa* rsa* ecdsa* ed25519* *.ppk *.rfc4716 fingerprints.txt authorized_keys
printf 'fixture' > pass.txt

# Private keys in OPENSSH format (ssh-keygen's default) and PEM forms.
ssh-keygen -q -t dsa -b 1024 -N '' -C 'dsa-fixture' -f dsa_openssh
ssh-keygen -q -t dsa -b 1024 -N '' -C 'dsa-fixture' -m PEM -f dsa_pem
ssh-keygen -q -t rsa -b 2048 -N '' -C 'rsa-fixture' -f rsa_openssh
ssh-keygen -q -t rsa -b 2048 -N '' -C 'rsa-fixture' -m PEM -f rsa_pem
ssh-keygen -q -t rsa -b 2048 -N '' -C 'rsa-fixture' -m PKCS8 -f rsa_pkcs8
ssh-keygen -q -t ecdsa -b 256 -N '' -C 'ecdsa-fixture' -f ecdsa256_openssh
ssh-keygen -q -t ecdsa -b 384 -N '' -C 'ecdsa-fixture' -m PEM -f ecdsa384_pem
ssh-keygen -q -t ecdsa -b 521 -N '' -C 'ecdsa-fixture' -m PKCS8 -f ecdsa521_pkcs8
ssh-keygen -q -t ed25519 -N '' -C 'ed25519-fixture' -f ed25519_openssh
openssl genpkey -algorithm ed25519 -out ed25519_pkcs8 2>/dev/null
chmod 600 ed25519_pkcs8
# ssh-keygen cannot read a PKCS#8 Ed25519 key: build its .pub from the raw key.
{ printf '\000\000\000\013ssh-ed25519\000\000\000\040'
  openssl pkey -in ed25519_pkcs8 -pubout -outform DER | tail -c 32; } |
	{ printf 'ssh-ed25519 '; base64 -w0; echo ' ed25519-pkcs8-fixture'; } > ed25519_pkcs8.pub

# Encrypted private keys, which the server must refuse with a clear message.
ssh-keygen -q -t ed25519 -N fixture -C 'encrypted-fixture' -f ed25519_openssh_encrypted
ssh-keygen -q -t rsa -b 2048 -N fixture -C 'encrypted-fixture' -m PEM -f rsa_pem_encrypted
rm -f ed25519_openssh_encrypted.pub rsa_pem_encrypted.pub

# PuTTY: .ppk v2 and v3 (one of them encrypted) and RFC 4716 exports. The RSA
# key gets a long comment so that PuTTYgen continues the Comment header.
puttygen rsa_openssh -C 'rsa-fixture exported by PuTTYgen with a comment long enough to be continued' \
	-O private -o rsa_v3.ppk
puttygen rsa_openssh --ppk-param version=2 -O private -o rsa_v2.ppk
puttygen dsa_pem -C 'dsa-fixture' -O private -o dsa_v2.ppk --ppk-param version=2
puttygen ed25519_openssh -O private -o ed25519_v3.ppk
puttygen ed25519_openssh -O private -o ed25519_v3_encrypted.ppk --new-passphrase pass.txt
puttygen ecdsa256_openssh -O private -o ecdsa256_v2.ppk --ppk-param version=2
puttygen rsa_v3.ppk -O public -o rsa.rfc4716
puttygen dsa_v2.ppk -O public -o dsa.rfc4716
puttygen ed25519_v3.ppk -O public -o ed25519.rfc4716
rm -f pass.txt

# RFC 4716 allows header lines continued with a backslash; PuTTYgen 0.78 does
# not write them, so this block is assembled by hand around its key.
{
	echo '---- BEGIN SSH2 PUBLIC KEY ----'
	echo 'Subject: rsa-fixture'
	echo 'x-private-use-header: a header that is long enough to be continued on the \'
	echo 'next line, as RFC 4716 allows'
	echo 'Comment: "rsa-fixture with a Comment header continued over \'
	echo 'two lines"'
	sed -n '/^[A-Za-z0-9+\/=]*$/p' rsa.rfc4716
	echo '---- END SSH2 PUBLIC KEY ----'
} > rsa_continued.rfc4716

# What ssh-keygen says about each key: the tests compare against these lines.
for f in *.pub; do printf '%s ' "$f"; ssh-keygen -l -f "$f"; done > fingerprints.txt

# An old server's authorized_keys, as key import meets it: CRLF line ends,
# options, and lines that must be reported rather than guessed.
pub() { cut -d' ' -f1,2 "$1"; }
{
	echo '# migrated from the old report host'
	echo "command=\"cat > /reports/acme/exch01.out\",no-pty,no-port-forwarding $(pub dsa_pem.pub) id_dsa acme exch01"
	echo ''
	echo "no-pty,command=\"cat >> '/reports/Globex Corp/file srv.out'\" $(pub rsa_openssh.pub) globex"
	echo "$(pub ed25519_openssh.pub) no command at all"
	echo "command=\"/usr/local/bin/receive initech\" $(pub ecdsa256_openssh.pub) other program"
	echo "from=\"10.0.0.0/8\",command=\"cat > /srv/other/x.out\" $(pub rsa_pem.pub) other folder"
	echo "command=\"cat > /reports/initech/../acme/x.out\" $(pub rsa_pkcs8.pub) traversal"
	echo 'ssh-rsa AAAAnot-base64 broken'
	echo "command=\"cat>/reports/initech/web01.out\" $(pub dsa_openssh.pub)"
	echo "   COMMAND=\"cat - > \\\"reports/umbrella/db 1.out\\\"\"	$(pub ecdsa384_pem.pub) escaped quotes, tab"
} | sed 's/$/\r/' > authorized_keys
