"""A stub upstream DNS server for the networking tests: answers every A query with one address
(argv[2]), listening on argv[1]:53 (UDP). It runs in the test's "outside" namespace and stands in
for the host's resolvers, which the tests never ask."""
import socket
import struct
import sys


def answer(query, address):
    ident, _flags, qdcount = struct.unpack("!HHH", query[:6])
    i = 12
    while query[i] != 0:
        i += query[i] + 1
    question = query[12:i + 5]
    qtype = struct.unpack("!H", query[i + 1:i + 3])[0]
    header = struct.pack("!HHHHHH", ident, 0x8180, 1, 1 if qtype == 1 else 0, 0, 0)
    body = question
    if qtype == 1:
        body += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(address)
    return header + body


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], 53))
    while True:
        data, peer = s.recvfrom(4096)
        try:
            s.sendto(answer(data, sys.argv[2]), peer)
        except (IndexError, struct.error):
            pass


if __name__ == "__main__":
    main()
