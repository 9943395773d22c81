#!/usr/bin/env bash
# Makes the self-signed TLS fixtures the tests use, valid for 100 years; run it only to replace them (the
# committed ones are what the tests expect: the tests pin no fingerprint, so new ones work as well).
#   packages/http/test/fixtures:     localhost-cert.pem (RSA 2048, self-signed, SAN localhost + 127.0.0.1),
#                                    localhost-key.pem, localhost-key-encrypted.pem (passphrase "osp-test")
#   packages/upstream/test/fixtures: ca.pem (P-256 test CA), server.pem + server.key (P-256, signed by it,
#                                    SAN localhost + *.localhost)
# Usage: scripts/make-test-certs.sh   (needs openssl)
set -euo pipefail
cd "$(dirname "$0")/.."
days=36500

http=packages/http/test/fixtures
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" -subj "/CN=localhost" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$http/localhost-key.pem" -out "$http/localhost-cert.pem" 2>/dev/null
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:osp-test \
  -in "$http/localhost-key.pem" -out "$http/localhost-key-encrypted.pem"

up=packages/upstream/test/fixtures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ca.key"
openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days "$days" -subj "/CN=osp test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -out "$up/ca.pem"
openssl ecparam -name prime256v1 -genkey -noout -out "$up/server.key"
openssl req -new -key "$up/server.key" -subj "/CN=localhost" -out "$tmp/server.csr"
printf 'subjectAltName=DNS:localhost,DNS:*.localhost\nbasicConstraints=CA:FALSE\n' >"$tmp/ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$up/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
  -CAserial "$tmp/ca.srl" -days "$days" -sha256 -extfile "$tmp/ext" -out "$up/server.pem" 2>/dev/null
echo "made $http/{localhost-cert,localhost-key,localhost-key-encrypted}.pem and $up/{ca,server}.pem, server.key"
