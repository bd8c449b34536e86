"""Throwaway certificates for the TLS tests, made with the openssl command: a CA, a server
certificate for 127.0.0.1, a good client certificate, one from another CA, and an expired one
(signed by the right CA, valid in 2020 only)."""
import os
import subprocess

SCRIPT = r"""
set -e
q() { "$@" 2>/dev/null >/dev/null; }
q openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=berth-test-ca -keyout ca-key.pem -out ca.pem
q openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server-key.pem -out server.csr
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
q openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile server.ext -out server.pem
q openssl req -newkey rsa:2048 -nodes -subj /CN=client -keyout key.pem -out client.csr
printf 'extendedKeyUsage=clientAuth\n' > client.ext
q openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile client.ext -out cert.pem
# Another CA and a client certificate it signed.
q openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other-ca-key.pem -out other-ca.pem
q openssl req -newkey rsa:2048 -nodes -subj /CN=intruder -keyout other-key.pem -out other.csr
q openssl x509 -req -in other.csr -CA other-ca.pem -CAkey other-ca-key.pem -CAcreateserial -days 2 -extfile client.ext -out other-cert.pem
# An expired client certificate from the right CA: `openssl ca` is the one that takes dates.
mkdir -p db && : > db/index.txt && echo 1000 > db/serial
cat > ca.cnf <<'CNF'
[ca]
default_ca = c
[c]
database = db/index.txt
serial = db/serial
new_certs_dir = db
default_md = sha256
policy = p
x509_extensions = x
[p]
commonName = supplied
[x]
extendedKeyUsage = clientAuth
CNF
q openssl req -newkey rsa:2048 -nodes -subj /CN=expired -keyout expired-key.pem -out expired.csr
q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca-key.pem -in expired.csr -out expired-cert.pem \
  -startdate 20200101000000Z -enddate 20200102000000Z -notext
"""


def make(directory):
    os.makedirs(directory, exist_ok=True)
    r = subprocess.run(["/bin/sh", "-c", SCRIPT], cwd=directory, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("making test certificates failed:\n" + r.stdout + r.stderr)
    return directory
